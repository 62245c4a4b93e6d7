#include "codec/event_stream.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "codec/crc32.h"

namespace perimeter::codec {
namespace {

using Type = EventStreamHeaderValue::Type;

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

uint32_t ReadU32(const std::string& s, size_t pos) {
  return (uint32_t{static_cast<unsigned char>(s[pos])} << 24) |
         (uint32_t{static_cast<unsigned char>(s[pos + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(s[pos + 2])} << 8) |
         uint32_t{static_cast<unsigned char>(s[pos + 3])};
}

void WriteU32(std::string& s, size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    s[pos + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  }
}

// Recomputes both CRCs of a frame after a test edited it, so the edit itself is what the decoder
// sees. The trailing CRC is placed at the frame's end (its last 4 bytes).
std::string WithValidCrcs(std::string frame) {
  WriteU32(frame, 8, Crc32(std::string_view(frame).substr(0, 8)));
  WriteU32(frame, frame.size() - 4, Crc32(std::string_view(frame).substr(0, frame.size() - 4)));
  return frame;
}

EventStreamHeader Header(std::string name, Type type, int64_t integer = 0, std::string bytes = "") {
  EventStreamHeader h;
  h.name = std::move(name);
  h.value.type = type;
  h.value.integer = integer;
  h.value.bytes = std::move(bytes);
  return h;
}

// One header of every type, with negative values for the signed ones, payload "{}".
EventStreamMessage AllTypesMessage() {
  EventStreamMessage m;
  m.headers = {
      Header("t", Type::kBoolTrue),
      Header("f", Type::kBoolFalse),
      Header("b", Type::kByte, -2),
      Header("s", Type::kShort, -300),
      Header("i", Type::kInt, 0x12345678),
      Header("l", Type::kLong, -1234567890123),
      Header("y", Type::kBytes, 0, Bytes({0x00, 0x01, 0xff})),
      Header("str", Type::kString, 0, "hi"),
      Header("ts", Type::kTimestamp, 1700000000123),
      Header("u", Type::kUuid, 0, FromHex("00112233445566778899aabbccddeeff")),
  };
  m.payload = "{}";
  return m;
}

// AllTypesMessage() encoded by hand from the format description with Python's struct and
// zlib.crc32 (an implementation independent of ours): total length 99, headers length 81,
// prelude CRC 0xa7dcb396, message CRC 0xb79b3a62.
constexpr std::string_view kAllTypesFrameHex =
    "0000006300000051a7dcb396"
    "017400"
    "016601"
    "016202fe"
    "017303fed4"
    "01690412345678"
    "016c05fffffee08e04fb35"
    "0179060003"
    "0001ff"
    "0373747207"
    "00026869"
    "027473080000018bcfe5687b"
    "01750900112233445566778899aabbccddeeff"
    "7b7d"
    "b79b3a62";

std::vector<EventStreamMessage> DecodeAll(const std::string& bytes, Status* status = nullptr) {
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  Status st = decoder.Feed(bytes, out);
  if (status != nullptr) {
    *status = st;
  } else {
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_FALSE(decoder.HasPartialMessage());
  }
  return out;
}

Status DecodeError(const std::string& bytes, size_t max = kEventStreamDefaultMaxMessageBytes) {
  EventStreamDecoder decoder(max);
  std::vector<EventStreamMessage> out;
  Status st = decoder.Feed(bytes, out);
  EXPECT_TRUE(out.empty());
  return st;
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  // zlib.crc32(b"The quick brown fox jumps over the lazy dog")
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(Crc32Test, ChainsAcrossPieces) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  for (size_t split = 0; split <= data.size(); ++split) {
    const std::string_view v(data);
    EXPECT_EQ(Crc32(v.substr(split), Crc32(v.substr(0, split))), 0x414FA339u) << split;
  }
}

TEST(EventStreamTest, EncodesEveryHeaderTypeToTheHandBuiltVector) {
  const std::string expected = FromHex(kAllTypesFrameHex);
  ASSERT_EQ(expected.size(), 99u);
  const std::string encoded = EncodeEventStreamMessage(AllTypesMessage());
  EXPECT_EQ(encoded, expected);
  EXPECT_EQ(ReadU32(encoded, 8), 0xa7dcb396u);
  EXPECT_EQ(ReadU32(encoded, encoded.size() - 4), 0xb79b3a62u);
}

TEST(EventStreamTest, DecodesEveryHeaderTypeFromTheHandBuiltVector) {
  const auto messages = DecodeAll(FromHex(kAllTypesFrameHex));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], AllTypesMessage());
  EXPECT_EQ(messages[0].headers[2].value.integer, -2);
  EXPECT_EQ(messages[0].headers[3].value.integer, -300);
  EXPECT_EQ(messages[0].headers[5].value.integer, -1234567890123);
  EXPECT_EQ(messages[0].headers[8].value.integer, 1700000000123);
}

TEST(EventStreamTest, EncodeEventMatchesTheBedrockChunkShape) {
  // Built by hand like kAllTypesFrameHex: prelude CRC 0x6ace012d, message CRC 0xbd9e5744.
  const std::string expected = FromHex(
      "0000006b0000004b6ace012d"
      "0b3a6576656e742d747970650700056368756e6b"
      "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
      "0d3a6d6573736167652d747970650700056576656e74"
      "7b226279746573223a2261476b3d227d"
      "bd9e5744");
  EXPECT_EQ(EncodeEvent("chunk", R"({"bytes":"aGk="})"), expected);
}

TEST(EventStreamTest, EncodeExceptionUsesExceptionHeaders) {
  const auto messages =
      DecodeAll(EncodeException("throttlingException", R"({"message":"slow down"})"));
  ASSERT_EQ(messages.size(), 1u);
  const EventStreamMessage& m = messages[0];
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[0].name, ":exception-type");
  EXPECT_EQ(m.headers[1].name, ":content-type");
  EXPECT_EQ(m.headers[2].name, ":message-type");
  EXPECT_EQ(*m.StringHeader(":exception-type"), "throttlingException");
  EXPECT_EQ(*m.StringHeader(":content-type"), "application/json");
  EXPECT_EQ(*m.StringHeader(":message-type"), "exception");
  EXPECT_EQ(m.StringHeader(":event-type"), nullptr);
  EXPECT_EQ(m.payload, R"({"message":"slow down"})");
}

// Vectors from the AWS SDK for JavaScript v3 event stream marshaller (TestVectors.fixture.ts),
// an independent implementation of the same format.
TEST(EventStreamTest, DecodesAndReencodesAwsSdkVectorsExactly) {
  const std::string empty_message =
      Bytes({0, 0, 0, 16, 0, 0, 0, 0, 5, 194, 72, 235, 125, 152, 200, 255});
  const std::string payload_no_headers =
      Bytes({0,   0,   0,  29, 0,  0,  0,  0,   253, 82,  140, 90,  123, 39, 102,
             111, 111, 39, 58, 39, 98, 97, 114, 39,  125, 195, 101, 57,  54});
  const std::string payload_one_str_header =
      Bytes({0,   0,   0,   61,  0,   0,   0,   32,  7,   253, 131, 150, 12,  99,  111, 110,
             116, 101, 110, 116, 45,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
             105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
             111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177});

  auto m = DecodeAll(empty_message);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].headers.empty());
  EXPECT_TRUE(m[0].payload.empty());
  EXPECT_EQ(EncodeEventStreamMessage(m[0]), empty_message);

  m = DecodeAll(payload_no_headers);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].payload, "{'foo':'bar'}");
  EXPECT_EQ(EncodeEventStreamMessage(m[0]), payload_no_headers);

  m = DecodeAll(payload_one_str_header);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_NE(m[0].StringHeader("content-type"), nullptr);
  EXPECT_EQ(*m[0].StringHeader("content-type"), "application/json");
  EXPECT_EQ(m[0].payload, "{'foo':'bar'}");
  EXPECT_EQ(EncodeEventStreamMessage(m[0]), payload_one_str_header);
}

TEST(EventStreamTest, RejectsAwsSdkCorruptedVectors) {
  std::string good =
      Bytes({0,   0,   0,   61,  0,   0,   0,   32,  7,   253, 131, 150, 12,  99,  111, 110,
             116, 101, 110, 116, 45,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
             105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
             111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177});
  std::string corrupted_headers = good;
  corrupted_headers[20] = 43;  // '-' -> '+' inside the header name
  EXPECT_NE(DecodeError(corrupted_headers).message().find("message CRC mismatch"),
            std::string::npos);
  std::string corrupted_header_len = good;
  corrupted_header_len[6] = 1;
  EXPECT_NE(DecodeError(corrupted_header_len).message().find("prelude CRC mismatch"),
            std::string::npos);
  std::string corrupted_length = good;
  corrupted_length[0] = 1;
  EXPECT_NE(DecodeError(corrupted_length).message().find("prelude CRC mismatch"),
            std::string::npos);
}

TEST(EventStreamTest, DecodeThenEncodeReproducesTheOriginalBytes) {
  std::vector<EventStreamMessage> originals = {AllTypesMessage(), EventStreamMessage{}};
  EventStreamMessage big;
  big.headers.push_back(Header(std::string(255, 'n'), Type::kString, 0, std::string(65535, 'v')));
  big.headers.push_back(Header("dup", Type::kInt, -1));
  big.headers.push_back(Header("dup", Type::kString, 0, "second"));
  big.headers.push_back(Header("min", Type::kLong, INT64_MIN));
  big.headers.push_back(Header("max", Type::kLong, INT64_MAX));
  big.headers.push_back(Header("bmin", Type::kByte, -128));
  big.headers.push_back(Header("smax", Type::kShort, 32767));
  big.headers.push_back(Header("imin", Type::kInt, INT32_MIN));
  big.headers.push_back(Header("empty", Type::kBytes));
  big.payload = std::string(100000, '\0');
  originals.push_back(big);

  std::string stream;
  for (const auto& m : originals) {
    stream += EncodeEventStreamMessage(m);
  }
  const auto decoded = DecodeAll(stream);
  ASSERT_EQ(decoded, originals);
  std::string reencoded;
  for (const auto& m : decoded) {
    reencoded += EncodeEventStreamMessage(m);
  }
  EXPECT_EQ(reencoded, stream);
}

TEST(EventStreamTest, StringHeaderReturnsFirstMatchOnlyIfString) {
  EventStreamMessage m;
  m.headers = {Header("a", Type::kInt, 5), Header("a", Type::kString, 0, "x"),
               Header("b", Type::kString, 0, "y"), Header("b", Type::kString, 0, "z")};
  EXPECT_EQ(m.StringHeader("a"), nullptr);
  ASSERT_NE(m.StringHeader("b"), nullptr);
  EXPECT_EQ(*m.StringHeader("b"), "y");
  EXPECT_EQ(m.StringHeader("c"), nullptr);
}

TEST(EventStreamTest, FeedingOneByteAtATimeGivesTheSameMessages) {
  const std::string stream = EncodeEvent("chunk", R"({"bytes":"aGk="})") +
                             EncodeEventStreamMessage(AllTypesMessage()) +
                             EncodeEventStreamMessage(EventStreamMessage{}) +
                             EncodeException("modelStreamErrorException", "{}");
  const auto expected = DecodeAll(stream);
  ASSERT_EQ(expected.size(), 4u);

  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  for (size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(i, 1), out).ok()) << i;
  }
  EXPECT_EQ(out, expected);
  EXPECT_FALSE(decoder.HasPartialMessage());
  EXPECT_EQ(decoder.consumed_bytes(), stream.size());
}

TEST(EventStreamTest, EverySplitIntoTwoOrThreeFeedsGivesTheSameMessages) {
  const std::string stream =
      EncodeEventStreamMessage(AllTypesMessage()) + EncodeEvent("chunk", R"({"bytes":""})");
  const auto expected = DecodeAll(stream);
  const std::string_view v(stream);
  for (size_t a = 0; a <= v.size(); ++a) {
    for (size_t b = a; b <= v.size(); b += 7) {
      EventStreamDecoder decoder;
      std::vector<EventStreamMessage> out;
      ASSERT_TRUE(decoder.Feed(v.substr(0, a), out).ok());
      ASSERT_TRUE(decoder.Feed(v.substr(a, b - a), out).ok());
      ASSERT_TRUE(decoder.Feed(v.substr(b), out).ok());
      ASSERT_EQ(out, expected) << a << " " << b;
    }
  }
}

TEST(EventStreamTest, ReportsPartialMessageUntilItCompletes) {
  const std::string frame = EncodeEvent("chunk", "{}");
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  EXPECT_FALSE(decoder.HasPartialMessage());
  ASSERT_TRUE(decoder.Feed(std::string_view(frame).substr(0, 5), out).ok());
  EXPECT_TRUE(decoder.HasPartialMessage());
  ASSERT_TRUE(decoder.Feed(std::string_view(frame).substr(5, frame.size() - 6), out).ok());
  EXPECT_TRUE(decoder.HasPartialMessage());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(decoder.Feed(std::string_view(frame).substr(frame.size() - 1), out).ok());
  EXPECT_FALSE(decoder.HasPartialMessage());
  EXPECT_EQ(out.size(), 1u);
}

TEST(EventStreamTest, RejectsFrameWithBadPreludeCrc) {
  std::string frame = EncodeEvent("chunk", "{}");
  frame[9] ^= 0x01;
  const Status st = DecodeError(frame);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("prelude CRC mismatch"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("byte offset 0"), std::string::npos) << st.message();
}

TEST(EventStreamTest, RejectsFrameWithBadMessageCrc) {
  for (size_t pos : {size_t{12}, size_t{40}}) {
    std::string frame = EncodeEvent("chunk", "{}");
    frame[pos] ^= 0x20;
    const Status st = DecodeError(frame);
    EXPECT_NE(st.message().find("message CRC mismatch"), std::string::npos) << st.message();
  }
  std::string frame = EncodeEvent("chunk", "{}");
  frame.back() ^= 0x01;
  EXPECT_NE(DecodeError(frame).message().find("message CRC mismatch"), std::string::npos);
}

TEST(EventStreamTest, RejectsTotalLengthBelowMinimum) {
  for (uint32_t total : {0u, 12u, 15u}) {
    std::string prelude(12, '\0');
    WriteU32(prelude, 0, total);
    WriteU32(prelude, 8, Crc32(std::string_view(prelude).substr(0, 8)));
    const Status st = DecodeError(prelude + std::string(16, '\0'));
    EXPECT_NE(st.message().find("below the 16-byte minimum"), std::string::npos) << st.message();
  }
}

TEST(EventStreamTest, RejectsTotalLengthAboveLimitAsSoonAsThePreludeArrives) {
  const std::string frame = EncodeEvent("chunk", std::string(100, 'x'));
  {
    EventStreamDecoder decoder(frame.size());
    std::vector<EventStreamMessage> out;
    EXPECT_TRUE(decoder.Feed(frame, out).ok());
    EXPECT_EQ(out.size(), 1u);
  }
  EventStreamDecoder decoder(frame.size() - 1);
  std::vector<EventStreamMessage> out;
  ASSERT_TRUE(decoder.Feed(std::string_view(frame).substr(0, 11), out).ok());
  const Status st = decoder.Feed(std::string_view(frame).substr(11, 1), out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("exceeds the limit of " + std::to_string(frame.size() - 1)),
            std::string::npos)
      << st.message();
  EXPECT_TRUE(out.empty());
}

TEST(EventStreamTest, RejectsHeadersLengthThatDoesNotFitTheTotal) {
  std::string frame = EncodeEvent("chunk", "");  // no payload: headers end at total - 4
  WriteU32(frame, 4, ReadU32(frame, 4) + 1);
  const Status st = DecodeError(WithValidCrcs(frame));
  EXPECT_NE(st.message().find("does not fit in total length"), std::string::npos) << st.message();
}

TEST(EventStreamTest, RejectsHeaderRunningPastTheHeadersSection) {
  // Frames with one header "ab" of the given type and value bytes, whose headers length is cut
  // by `cut` bytes so the header is truncated at different places.
  struct Case {
    std::string header;
    size_t cut;
    std::string part;
  };
  const std::string str_header = Bytes({2, 'a', 'b', 7, 0, 3, 'x', 'y', 'z'});
  const std::vector<Case> cases = {
      {str_header, 8, "name"},                            // only the name length byte remains
      {str_header, 6, "value type"},                      // name complete, type byte missing
      {str_header, 5, "value length"},                    // type present, length missing
      {str_header, 4, "value length"},                    // one byte of the length
      {str_header, 1, "value"},                           // string value one byte short
      {Bytes({2, 'a', 'b', 4, 0, 0, 0, 1}), 1, "value"},  // int value one byte short
      {Bytes({2, 'a', 'b', 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), 3, "value"},
  };
  for (const auto& c : cases) {
    // The cut bytes become payload, so the frame stays self-consistent apart from the headers.
    std::string frame(12, '\0');
    WriteU32(frame, 0, static_cast<uint32_t>(16 + c.header.size()));
    WriteU32(frame, 4, static_cast<uint32_t>(c.header.size() - c.cut));
    frame += c.header + std::string(4, '\0');
    const Status st = DecodeError(WithValidCrcs(frame));
    EXPECT_NE(
        st.message().find("header #0: the headers section ends inside the header's " + c.part),
        std::string::npos)
        << st.message();
  }
}

TEST(EventStreamTest, RejectsUnknownHeaderType) {
  std::string frame(12, '\0');
  const std::string header = Bytes({2, 'a', 'b', 10});
  WriteU32(frame, 0, static_cast<uint32_t>(16 + header.size()));
  WriteU32(frame, 4, static_cast<uint32_t>(header.size()));
  frame += header + std::string(4, '\0');
  const Status st = DecodeError(WithValidCrcs(frame));
  EXPECT_NE(st.message().find("('ab'): unknown value type 10"), std::string::npos) << st.message();
}

TEST(EventStreamTest, EscapesHeaderNameInErrorMessage) {
  std::string frame(12, '\0');
  const std::string header = Bytes({3, 'a', '\n', 0xff, 42});
  WriteU32(frame, 0, static_cast<uint32_t>(16 + header.size()));
  WriteU32(frame, 4, static_cast<uint32_t>(header.size()));
  frame += header + std::string(4, '\0');
  const Status st = DecodeError(WithValidCrcs(frame));
  EXPECT_NE(st.message().find("('a\\x0a\\xff'): unknown value type 42"), std::string::npos)
      << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
}

TEST(EventStreamTest, RejectsEmptyHeaderName) {
  std::string frame(12, '\0');
  const std::string header = Bytes({0, 0});
  WriteU32(frame, 0, static_cast<uint32_t>(16 + header.size()));
  WriteU32(frame, 4, static_cast<uint32_t>(header.size()));
  frame += header + std::string(4, '\0');
  const Status st = DecodeError(WithValidCrcs(frame));
  EXPECT_NE(st.message().find("empty header name"), std::string::npos) << st.message();
}

TEST(EventStreamTest, DeliversMessagesBeforeACorruptOneAndNamesItsOffset) {
  const std::string first = EncodeEvent("chunk", "{}");
  std::string second = EncodeEvent("chunk", "{}");
  second[second.size() - 1] ^= 0x01;
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  const Status st = decoder.Feed(first + second, out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_NE(st.message().find("byte offset " + std::to_string(first.size())), std::string::npos)
      << st.message();
}

TEST(EventStreamTest, StaysFailedAfterAnError) {
  std::string bad = EncodeEvent("chunk", "{}");
  bad[9] ^= 0x01;
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  const Status first = decoder.Feed(bad, out);
  ASSERT_FALSE(first.ok());
  EXPECT_FALSE(decoder.HasPartialMessage());
  const Status again = decoder.Feed(EncodeEvent("chunk", "{}"), out);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.message(), first.message());
  EXPECT_TRUE(out.empty());
}

TEST(EventStreamTest, ValidateRejectsWhatCannotBeEncoded) {
  auto with = [](EventStreamHeader h) {
    EventStreamMessage m;
    m.headers.push_back(std::move(h));
    return ValidateEventStreamMessage(m);
  };
  EXPECT_TRUE(with(Header("ok", Type::kString, 0, std::string(65535, 'x'))).ok());
  EXPECT_NE(with(Header("", Type::kBoolTrue)).message().find("1 to 255"), std::string::npos);
  EXPECT_NE(with(Header(std::string(256, 'n'), Type::kBoolTrue)).message().find("1 to 255"),
            std::string::npos);
  EXPECT_NE(with(Header("v", Type::kString, 0, std::string(65536, 'x'))).message().find("65535"),
            std::string::npos);
  EXPECT_NE(with(Header("v", Type::kBytes, 0, std::string(65536, 'x'))).message().find("65535"),
            std::string::npos);
  EXPECT_NE(with(Header("u", Type::kUuid, 0, "short")).message().find("exactly 16"),
            std::string::npos);
  EXPECT_NE(with(Header("b", Type::kByte, 128)).message().find("does not fit"), std::string::npos);
  EXPECT_NE(with(Header("b", Type::kByte, -129)).message().find("does not fit"), std::string::npos);
  EXPECT_NE(with(Header("s", Type::kShort, 32768)).message().find("does not fit"),
            std::string::npos);
  EXPECT_NE(with(Header("i", Type::kInt, int64_t{1} << 31)).message().find("does not fit"),
            std::string::npos);
  EXPECT_NE(with(Header("x", static_cast<Type>(10))).message().find("unknown value type 10"),
            std::string::npos);
}

TEST(EventStreamDeathTest, EncodeAbortsOnInvalidMessage) {
  EventStreamMessage m;
  m.headers.push_back(Header("u", Type::kUuid, 0, "not sixteen"));
  EXPECT_DEATH(EncodeEventStreamMessage(m), "precondition violated");
}

}  // namespace
}  // namespace perimeter::codec
