#include "codec/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace perimeter::codec {
namespace {

std::vector<SseEvent> DecodeAll(std::string_view stream) {
  SseDecoder decoder;
  std::vector<SseEvent> out;
  const Status st = decoder.Feed(stream, out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::vector<SseEvent> DecodeByteByByte(std::string_view stream) {
  SseDecoder decoder;
  std::vector<SseEvent> out;
  for (size_t i = 0; i < stream.size(); ++i) {
    const Status st = decoder.Feed(stream.substr(i, 1), out);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return out;
}

SseEvent Event(std::string event, std::string data, std::string id = "") {
  return SseEvent{std::move(event), std::move(data), std::move(id)};
}

TEST(SseDecoderTest, DecodesOpenAiStyleChunks) {
  const auto events = DecodeAll(
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: [DONE]\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], Event("", R"({"choices":[{"delta":{"content":"Hi"}}]})"));
  EXPECT_EQ(events[1], Event("", "[DONE]"));
}

TEST(SseDecoderTest, JoinsMultiLineDataWithNewline) {
  EXPECT_EQ(DecodeAll("data: a\ndata: b\ndata:\ndata: c\n\n"),
            std::vector<SseEvent>{Event("", "a\nb\n\nc")});
}

TEST(SseDecoderTest, AcceptsLfCrLfAndCrLineEndings) {
  const std::vector<SseEvent> expected = {Event("update", "a\nb"), Event("", "c")};
  EXPECT_EQ(DecodeAll("event: update\ndata: a\ndata: b\n\ndata: c\n\n"), expected);
  EXPECT_EQ(DecodeAll("event: update\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
  EXPECT_EQ(DecodeAll("event: update\rdata: a\rdata: b\r\rdata: c\r\r"), expected);
  EXPECT_EQ(DecodeAll("event: update\rdata: a\r\ndata: b\n\r\ndata: c\r\n\n"), expected);
}

TEST(SseDecoderTest, CrLfSplitAcrossFeedsIsOneLineEnd) {
  // If "\r" and "\n" were two line ends, the empty line between them would dispatch "a" alone.
  SseDecoder decoder;
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("data: a\r", out).ok());
  ASSERT_TRUE(decoder.Feed("\ndata: b\r", out).ok());
  ASSERT_TRUE(decoder.Feed("\n", out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(decoder.Feed("\r", out).ok());
  EXPECT_EQ(out, std::vector<SseEvent>{Event("", "a\nb")});
  ASSERT_TRUE(decoder.Feed("\n", out).ok());  // the LF of the CRLF: no second dispatch
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseDecoderTest, IgnoresComments) {
  EXPECT_EQ(DecodeAll(": keep-alive\n\n:\ndata: x\n: inside\n\n"),
            std::vector<SseEvent>{Event("", "x")});
}

TEST(SseDecoderTest, StripsExactlyOneLeadingSpace) {
  EXPECT_EQ(DecodeAll("data:x\n\n"), std::vector<SseEvent>{Event("", "x")});
  EXPECT_EQ(DecodeAll("data:  x\n\n"), std::vector<SseEvent>{Event("", " x")});
  EXPECT_EQ(DecodeAll("data:\tx\n\n"), std::vector<SseEvent>{Event("", "\tx")});
  EXPECT_EQ(DecodeAll("data: a: b\n\n"), std::vector<SseEvent>{Event("", "a: b")});
}

TEST(SseDecoderTest, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(DecodeAll("data\n\n"), std::vector<SseEvent>{Event("", "")});
  EXPECT_EQ(DecodeAll("data\ndata\n\n"), std::vector<SseEvent>{Event("", "\n")});
  EXPECT_EQ(DecodeAll("event: x\nevent\ndata: d\n\n"), std::vector<SseEvent>{Event("", "d")});
}

TEST(SseDecoderTest, DoesNotDispatchEventWithoutData) {
  // The event type is also reset, so it does not leak into the next event.
  EXPECT_EQ(DecodeAll("event: ping\n\n\n\ndata: x\n\n"), std::vector<SseEvent>{Event("", "x")});
  EXPECT_TRUE(DecodeAll("event: ping\nid: 1\nretry: 10\n\n").empty());
}

TEST(SseDecoderTest, EventIdPersistsAndIgnoresValuesWithNul) {
  std::string stream = "id: 1\ndata: a\n\ndata: b\n\n";
  stream += std::string("id: 2\0x\ndata: c\n\n", 17);  // NUL in the id: the id stays "1"
  stream += "id\ndata: d\n\n";                         // an empty id resets it
  EXPECT_EQ(DecodeAll(stream), (std::vector<SseEvent>{Event("", "a", "1"), Event("", "b", "1"),
                                                      Event("", "c", "1"), Event("", "d", "")}));
}

TEST(SseDecoderTest, IgnoresUnknownFieldsAndRetry) {
  EXPECT_EQ(DecodeAll("retry: 1000\nfoo: bar\nData: no\ndata: yes\n\n"),
            std::vector<SseEvent>{Event("", "yes")});
}

TEST(SseDecoderTest, StripsOneLeadingByteOrderMarkEvenWhenSplit) {
  EXPECT_EQ(DecodeAll("\xEF\xBB\xBF"
                      "data: x\n\n"),
            std::vector<SseEvent>{Event("", "x")});
  EXPECT_EQ(DecodeByteByByte("\xEF\xBB\xBF"
                             "data: x\n\n"),
            std::vector<SseEvent>{Event("", "x")});
  // A second BOM is part of the first line, which then is not a "data" field.
  EXPECT_TRUE(DecodeAll("\xEF\xBB\xBF\xEF\xBB\xBF"
                        "data: x\n\n")
                  .empty());
}

TEST(SseDecoderTest, KeepsBytesThatOnlyBeginLikeAByteOrderMark) {
  SseDecoder decoder;
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("\xEF", out).ok());
  ASSERT_TRUE(decoder.Feed("\xBB", out).ok());
  EXPECT_TRUE(decoder.HasPendingData());
  ASSERT_TRUE(decoder.Feed("X: 1\ndata: y\n\n", out).ok());
  EXPECT_EQ(out, std::vector<SseEvent>{Event("", "y")});
  // The held-back bytes became the start of the first line's field name.
  std::vector<SseEvent> direct;
  SseDecoder d2;
  ASSERT_TRUE(d2.Feed("\xEF\xBBX: 1\ndata: y\n\n", direct).ok());
  EXPECT_EQ(direct, out);
  SseDecoder d3;
  std::vector<SseEvent> out3;
  ASSERT_TRUE(d3.Feed("\xEF\xBB", out3).ok());
  ASSERT_TRUE(d3.Feed("data: z\n\n", out3).ok());
  EXPECT_TRUE(out3.empty()) << "field name is \"\\xEF\\xBBdata\", not \"data\"";
}

TEST(SseDecoderTest, FeedingOneByteAtATimeGivesTheSameEvents) {
  const std::string stream =
      ": hello\r\n"
      "event: a\r\ndata: 1\r\ndata:2\r\n\r\n"
      "id: 7\rdata\r\r"
      "data:  spaced\n\n"
      "event: ignored\n\n"
      "data: tail";
  const auto whole = DecodeAll(stream);
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0], Event("a", "1\n2"));
  EXPECT_EQ(whole[1], Event("", "", "7"));
  EXPECT_EQ(whole[2], Event("", " spaced", "7"));
  EXPECT_EQ(DecodeByteByByte(stream), whole);
  for (size_t split = 0; split <= stream.size(); ++split) {
    SseDecoder decoder;
    std::vector<SseEvent> out;
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(0, split), out).ok());
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(split), out).ok());
    EXPECT_EQ(out, whole) << split;
    EXPECT_TRUE(decoder.HasPendingData());  // "data: tail" never ended
  }
}

TEST(SseDecoderTest, DiscardsUnterminatedEventAndReportsPendingData) {
  SseDecoder decoder;
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("data: a\n", out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(decoder.HasPendingData());
  ASSERT_TRUE(decoder.Feed("\n", out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(decoder.HasPendingData());
}

TEST(SseDecoderTest, AcceptsLineAndEventExactlyAtTheLimit) {
  // "data: " + 4 bytes = a 10-byte line; the buffered data is 4 + "\n" = 5 bytes.
  SseDecoder decoder(10);
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("data: abcd\n\n", out).ok());
  EXPECT_EQ(out, std::vector<SseEvent>{Event("", "abcd")});
}

TEST(SseDecoderTest, RejectsOverLongLineAndStaysFailed) {
  SseDecoder decoder(10);
  std::vector<SseEvent> out;
  Status st = decoder.Feed("data: abcde\n\n", out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("a line exceeds the limit of 10 bytes"), std::string::npos)
      << st.message();
  EXPECT_TRUE(out.empty());
  const Status again = decoder.Feed("data: x\n\n", out);
  EXPECT_EQ(again.message(), st.message());
  EXPECT_TRUE(out.empty());
}

TEST(SseDecoderTest, RejectsOverLongUnterminatedLineWithoutWaitingForItsEnd) {
  SseDecoder decoder(10);
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("data: abcd", out).ok());  // 10 bytes: still allowed
  EXPECT_FALSE(decoder.Feed("e", out).ok());
}

TEST(SseDecoderTest, RejectsEventWhoseDataGrowsPastTheLimit) {
  SseDecoder decoder(10);
  std::vector<SseEvent> out;
  ASSERT_TRUE(decoder.Feed("data: 1234\n", out).ok());  // 5 buffered
  ASSERT_TRUE(decoder.Feed("data: 1234\n", out).ok());  // 10 buffered
  const Status st = decoder.Feed("data:\n", out);       // 11
  EXPECT_NE(st.message().find("an event exceeds the limit of 10 bytes"), std::string::npos)
      << st.message();
}

TEST(SseDecoderTest, EventsBeforeAnOverLongLineAreDelivered) {
  SseDecoder decoder(10);
  std::vector<SseEvent> out;
  EXPECT_FALSE(decoder.Feed("data: ok\n\ndata: far too long\n\n", out).ok());
  EXPECT_EQ(out, std::vector<SseEvent>{Event("", "ok")});
}

TEST(SseEncoderTest, EncodesDataLines) {
  EXPECT_EQ(EncodeSseData("{\"a\":1}"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(EncodeSseData("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(EncodeSseData("a\r\nb\rc\n"), "data: a\ndata: b\ndata: c\ndata: \n\n");
  EXPECT_EQ(EncodeSseData(""), "data: \n\n");
  EXPECT_EQ(EncodeSseEvent("delta", "x\ny"), "event: delta\ndata: x\ndata: y\n\n");
}

TEST(SseEncoderTest, DecoderReturnsWhatWasEncoded) {
  for (const std::string data :
       {"", "x", " leading space", "a\nb", "\n", "\n\n", "a:b", ":c", "trailing\n",
        "\xEF\xBB\xBF"
        "bom"}) {
    EXPECT_EQ(DecodeAll(EncodeSseData(data)), std::vector<SseEvent>{Event("", data)}) << data;
    EXPECT_EQ(DecodeAll(EncodeSseEvent("e", data)), std::vector<SseEvent>{Event("e", data)});
  }
  // "\r" cannot travel in SSE: it comes back as "\n".
  EXPECT_EQ(DecodeAll(EncodeSseData("a\r\nb\rc")), std::vector<SseEvent>{Event("", "a\nb\nc")});
}

TEST(SseEncoderDeathTest, AbortsOnLineBreakInEventName) {
  EXPECT_DEATH(EncodeSseEvent("a\ndata: injected", "x"), "precondition violated");
  EXPECT_DEATH(EncodeSseEvent("a\r", "x"), "precondition violated");
}

}  // namespace
}  // namespace perimeter::codec
