#include "upstream/builtin.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace perimeter::upstream {
namespace {

model::ChatRequest Req(std::string text) {
  model::ChatRequest r;
  r.model = r.upstream_model = BuiltinUpstream::kEchoModel;
  r.system = {"be brief"};
  model::Message m;
  m.text = {std::move(text)};
  r.messages.push_back(m);
  return r;
}

TEST(BuiltinUpstreamTest, AnswerSaysItIsATestModelAndEchoesLastUserMessage) {
  auto a = BuiltinUpstream::Answer(Req("hello world"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(
      a->text,
      "This is Perimeter's built-in test model (perimeter.echo-v1), not a real language model. "
      "You said: hello world");
  EXPECT_EQ(a->stop_reason, model::StopReason::kEndTurn);
  EXPECT_EQ(a->usage.input_tokens, 4u);  // "be brief" + "hello world"
  EXPECT_EQ(a->usage.output_tokens, 16u);
}

TEST(BuiltinUpstreamTest, MaxTokensTruncatesToWords) {
  auto r = Req("x");
  r.max_tokens = 3;
  auto a = BuiltinUpstream::Answer(r);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, "This is Perimeter's");
  EXPECT_EQ(a->stop_reason, model::StopReason::kMaxTokens);
  EXPECT_EQ(a->usage.output_tokens, 3u);
}

TEST(BuiltinUpstreamTest, StopSequenceCutsBeforeFirstOccurrence) {
  auto r = Req("x");
  r.stop_sequences = {"test", "built"};
  auto a = BuiltinUpstream::Answer(r);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, "This is Perimeter's");
  EXPECT_EQ(a->stop_reason, model::StopReason::kStopSequence);
  EXPECT_EQ(a->stop_sequence, "built");
}

TEST(BuiltinUpstreamTest, UnknownModelIsNotFound) {
  auto r = Req("x");
  r.upstream_model = "perimeter.other";
  EXPECT_EQ(BuiltinUpstream::Answer(r).status().code(), StatusCode::kNotFound);
}

class CollectingSink : public model::ChatStreamSink {
 public:
  boost::asio::awaitable<Status> OnStart(std::string_view) override {
    events.push_back("start");
    co_return Status::Ok();
  }
  boost::asio::awaitable<Status> OnTextDelta(std::string_view t) override {
    text += t;
    ++deltas;
    if (fail_after && deltas >= fail_after) co_return Cancelled("client gone");
    co_return Status::Ok();
  }
  boost::asio::awaitable<Status> OnStop(model::StopReason, std::string_view,
                                        const model::Usage& u) override {
    events.push_back("stop");
    usage = u;
    co_return Status::Ok();
  }
  std::vector<std::string> events;
  std::string text;
  int deltas = 0;
  int fail_after = 0;
  model::Usage usage;
};

Status RunStream(BuiltinUpstream& b, const model::ChatRequest& r, CollectingSink& sink) {
  boost::asio::io_context io;
  Status result;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { result = co_await b.ChatStream(r, sink); },
      boost::asio::detached);
  io.run();
  return result;
}

TEST(BuiltinUpstreamTest, StreamDeltasConcatenateToTheUnstreamedAnswer) {
  BuiltinUpstream b("builtin");
  CollectingSink sink;
  auto r = Req("stream me");
  ASSERT_TRUE(RunStream(b, r, sink).ok());
  EXPECT_EQ(sink.text, BuiltinUpstream::Answer(r)->text);
  EXPECT_EQ(sink.deltas, 16);
  EXPECT_EQ(sink.events, (std::vector<std::string>{"start", "stop"}));
  EXPECT_EQ(sink.usage.output_tokens, 16u);
}

TEST(BuiltinUpstreamTest, StreamStopsWhenSinkRefuses) {
  BuiltinUpstream b("builtin");
  CollectingSink sink;
  sink.fail_after = 2;
  Status s = RunStream(b, Req("x"), sink);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(sink.deltas, 2);
  EXPECT_EQ(sink.events, std::vector<std::string>{"start"});
}

}  // namespace
}  // namespace perimeter::upstream
