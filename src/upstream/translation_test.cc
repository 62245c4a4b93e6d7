#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "upstream/bedrock_upstream.h"
#include "upstream/openai_upstream.h"

namespace perimeter::upstream {
namespace {

namespace json = boost::json;

model::ChatRequest Sample() {
  model::ChatRequest r;
  r.upstream_model = "m-1";
  r.system = {"sys"};
  model::Message u;
  u.text = {"a", "b"};
  model::Message a;
  a.role = model::Message::Role::kAssistant;
  a.text = {"c"};
  r.messages = {u, a};
  r.max_tokens = 7;
  r.temperature = 0.5;
  r.stop_sequences = {"END"};
  return r;
}

TEST(OpenAiTranslationTest, ChatRequestBecomesChatCompletionsBody) {
  auto v = json::parse(OpenAiUpstream::ToChatCompletionsBody(Sample(), true)).as_object();
  EXPECT_EQ(v.at("model").as_string(), "m-1");
  const auto& msgs = v.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].at("role").as_string(), "system");
  EXPECT_EQ(msgs[1].at("content").as_string(), "a\nb");
  EXPECT_EQ(msgs[2].at("role").as_string(), "assistant");
  EXPECT_EQ(v.at("max_tokens").as_int64(), 7);
  EXPECT_EQ(v.at("stop").as_array()[0].as_string(), "END");
  EXPECT_TRUE(v.at("stream").as_bool());
  EXPECT_TRUE(v.at("stream_options").at("include_usage").as_bool());
}

TEST(OpenAiTranslationTest, ChatCompletionBecomesChatResponse) {
  auto r = OpenAiUpstream::FromChatCompletion(
      R"({"id":"x1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, "x1");
  EXPECT_EQ(r->text, "hi");
  EXPECT_EQ(r->stop_reason, model::StopReason::kMaxTokens);
  EXPECT_EQ(r->usage.input_tokens, 3u);
  EXPECT_FALSE(OpenAiUpstream::FromChatCompletion("{}").ok());
  EXPECT_FALSE(OpenAiUpstream::FromChatCompletion("not json").ok());
}

TEST(OpenAiTranslationTest, UpstreamHttpStatusesMapToCodes) {
  EXPECT_EQ(StatusFromUpstreamHttp("u", 400, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromUpstreamHttp("u", 404, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(StatusFromUpstreamHttp("u", 429, "").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromUpstreamHttp("u", 504, "").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromUpstreamHttp("u", 401, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromUpstreamHttp("u", 500, "boom").message(),
            "upstream 'u' answered HTTP 500: boom");
}

TEST(BedrockTranslationTest, ChatRequestBecomesConverseBody) {
  auto v = json::parse(BedrockUpstream::ToConverseBody(Sample())).as_object();
  EXPECT_EQ(v.at("system").as_array()[0].at("text").as_string(), "sys");
  EXPECT_EQ(v.at("messages").as_array()[0].at("content").as_array()[1].at("text").as_string(), "b");
  EXPECT_EQ(v.at("inferenceConfig").at("maxTokens").as_int64(), 7);
  EXPECT_EQ(v.at("inferenceConfig").at("stopSequences").as_array()[0].as_string(), "END");
}

TEST(BedrockTranslationTest, ConverseResponseBecomesChatResponse) {
  auto r = BedrockUpstream::FromConverseResponse(
      R"({"output":{"message":{"role":"assistant","content":[{"text":"he"},{"text":"llo"}]}},"stopReason":"max_tokens","usage":{"inputTokens":4,"outputTokens":2,"totalTokens":6}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "hello");
  EXPECT_EQ(r->stop_reason, model::StopReason::kMaxTokens);
  EXPECT_EQ(r->usage.output_tokens, 2u);
  EXPECT_FALSE(BedrockUpstream::FromConverseResponse(R"({"output":{}})").ok());
}

TEST(BedrockTranslationTest, DefaultEndpointIsRegional) {
  EXPECT_EQ(BedrockRuntimeEndpoint("eu-west-1"), "https://bedrock-runtime.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace perimeter::upstream
