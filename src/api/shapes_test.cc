#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/bedrock_shapes.h"
#include "api/openai_shapes.h"
#include "codec/base64.h"

namespace perimeter::api {
namespace {

namespace json = boost::json;

TEST(ConverseParseTest, ParsesMessagesSystemAndInferenceConfig) {
  auto r = ParseConverseRequest(
      R"({"messages":[{"role":"user","content":[{"text":"a"},{"text":"b"}]}],
          "system":[{"text":"s"}],
          "inferenceConfig":{"maxTokens":9,"temperature":0.2,"topP":0.9,"stopSequences":["x"]}})",
      "m");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "m");
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].text, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->system, std::vector<std::string>{"s"});
  EXPECT_EQ(*r->max_tokens, 9u);
  EXPECT_DOUBLE_EQ(*r->top_p, 0.9);
  EXPECT_EQ(r->stop_sequences, std::vector<std::string>{"x"});
}

struct Bad {
  const char* body;
  const char* expect;
};

class ConverseErrorTest : public ::testing::TestWithParam<Bad> {};
TEST_P(ConverseErrorTest, NamesTheField) {
  auto r = ParseConverseRequest(GetParam().body, "m");
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().expect), std::string::npos)
      << r.status().message();
}
INSTANTIATE_TEST_SUITE_P(
    Cases, ConverseErrorTest,
    ::testing::Values(
        Bad{"", "empty"}, Bad{"[]", "JSON object"}, Bad{"{", "not valid JSON"},
        Bad{"{}", "'messages' is missing"}, Bad{R"({"messages":[]})", "at least one message"},
        Bad{R"({"messages":[{"role":"system","content":[{"text":"a"}]}]})", "messages.0.role"},
        Bad{R"({"messages":[{"role":"user"}]})", "messages.0.content"},
        Bad{R"({"messages":[{"role":"user","content":[{"image":{}}]}]})", "'image' content block"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":5}]}]})",
            "messages.0.content.0.text"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"maxTokens":0}})",
            "inferenceConfig.maxTokens"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"temperature":3}})",
            "inferenceConfig.temperature"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"toolConfig":{}})",
            "toolConfig"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"guardrailConfig":{"guardrailIdentifier":"g"}})",
            "guardrailConfig.guardrailVersion"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1","trace":"on"}})",
            "guardrailConfig.trace"},
        Bad{R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1","extra":1}})",
            "guardrailConfig.extra"},
        Bad{R"({"messages":[{"role":"user","content":[{"guardContent":{"text":{"text":"a","qualifiers":["bogus"]}}}]}]})",
            "qualifiers"},
        Bad{R"({"messages":[{"role":"user","content":[{"guardContent":{"image":{}}}]}]})",
            "guardContent.image"}));

TEST(ConverseParseTest, ReadsGuardrailConfigAndGuardContent) {
  auto r = ParseConverseRequest(
      R"({"system":[{"guardContent":{"text":{"text":"sys"}}}],
          "messages":[{"role":"user","content":[{"text":"plain"},
            {"guardContent":{"text":{"text":"guarded","qualifiers":["guard_content","query"]}}}]}],
          "guardrailConfig":{"guardrailIdentifier":"gr1","guardrailVersion":"2","trace":"enabled",
                             "streamProcessingMode":"async"}})",
      "m");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->guardrail);
  EXPECT_EQ(r->guardrail->identifier, "gr1");
  EXPECT_EQ(r->guardrail->version, "2");
  EXPECT_EQ(r->guardrail->trace, "enabled");
  EXPECT_EQ(r->guardrail->stream_processing_mode, "async");
  // Guard content is also text the model sees, in place.
  ASSERT_EQ(r->messages[0].text.size(), 2u);
  EXPECT_EQ(r->messages[0].text[1], "guarded");
  ASSERT_EQ(r->guard_content.size(), 2u);  // messages are read before the system prompt
  EXPECT_FALSE(r->guard_content[0].system);
  EXPECT_EQ(r->guard_content[0].message, 0u);
  EXPECT_EQ(r->guard_content[0].block, 1u);
  EXPECT_EQ(r->guard_content[0].qualifiers, (std::vector<std::string>{"guard_content", "query"}));
  EXPECT_TRUE(r->guard_content[1].system);
  EXPECT_EQ(r->guard_content[1].block, 0u);
}

TEST(ConverseEncodeTest, GuardrailInterventionAndTrace) {
  model::ChatResponse r;
  r.text = "blocked";
  r.stop_reason = model::StopReason::kGuardrailIntervened;
  r.guardrail_trace_json = R"({"inputAssessment":{"gr1":{}}})";
  r.guardrail_ran = true;
  const std::string converse = EncodeConverseResponse(r, 1);
  EXPECT_NE(converse.find(R"("stopReason":"guardrail_intervened")"), std::string::npos) << converse;
  EXPECT_NE(converse.find(R"("trace":{"guardrail":{"inputAssessment")"), std::string::npos)
      << converse;
  const std::string anthropic = EncodeAnthropicResponse(r, "m");
  EXPECT_NE(anthropic.find(R"("amazon-bedrock-guardrailAction":"INTERVENED")"), std::string::npos)
      << anthropic;
  EXPECT_NE(anthropic.find(R"("amazon-bedrock-trace":{"guardrail")"), std::string::npos)
      << anthropic;
  r.stop_reason = model::StopReason::kEndTurn;
  r.guardrail_trace_json.clear();
  EXPECT_NE(EncodeAnthropicResponse(r, "m").find(R"("amazon-bedrock-guardrailAction":"NONE")"),
            std::string::npos);
  r.guardrail_ran = false;
  EXPECT_EQ(EncodeAnthropicResponse(r, "m").find("guardrailAction"), std::string::npos);
}

TEST(AnthropicParseTest, AcceptsStringAndBlockContent) {
  auto r = ParseAnthropicRequest(
      R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"system":"sys",
          "messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"}]}]})",
      "m");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[1].text[0], "yo");
  EXPECT_EQ(r->system[0], "sys");
  EXPECT_EQ(*r->max_tokens, 5u);
}

TEST(AnthropicParseTest, RequiresVersionAndMaxTokens) {
  EXPECT_NE(
      ParseAnthropicRequest(R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}]})", "m")
          .status()
          .message()
          .find("anthropic_version"),
      std::string::npos);
  EXPECT_NE(ParseAnthropicRequest(
                R"({"anthropic_version":"v","messages":[{"role":"user","content":"x"}]})", "m")
                .status()
                .message()
                .find("max_tokens"),
            std::string::npos);
  EXPECT_NE(
      ParseAnthropicRequest(
          R"({"anthropic_version":"v","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]})",
          "m")
          .status()
          .message()
          .find("messages.0.content.0.type"),
      std::string::npos);
}

TEST(ConverseEncodeTest, ResponseHasBedrockShape) {
  model::ChatResponse r;
  r.text = "hello";
  r.stop_reason = model::StopReason::kMaxTokens;
  r.usage = {3, 1};
  auto v = json::parse(EncodeConverseResponse(r, 12)).as_object();
  EXPECT_EQ(v.at("output").at("message").at("content").as_array()[0].at("text").as_string(),
            "hello");
  EXPECT_EQ(v.at("stopReason").as_string(), "max_tokens");
  EXPECT_EQ(v.at("usage").at("totalTokens").as_int64(), 4);
  EXPECT_EQ(v.at("metrics").at("latencyMs").as_int64(), 12);
}

TEST(AnthropicEncodeTest, ResponseAndStreamEventsHaveAnthropicShape) {
  model::ChatResponse r;
  r.id = "msg_1";
  r.text = "hi";
  r.usage = {2, 1};
  auto v = json::parse(EncodeAnthropicResponse(r, "m")).as_object();
  EXPECT_EQ(v.at("type").as_string(), "message");
  EXPECT_EQ(v.at("content").as_array()[0].at("text").as_string(), "hi");
  EXPECT_EQ(v.at("stop_reason").as_string(), "end_turn");
  EXPECT_TRUE(v.at("stop_sequence").is_null());
  EXPECT_EQ(v.at("usage").at("input_tokens").as_int64(), 2);
  auto d = json::parse(AnthropicTextDelta("x")).as_object();
  EXPECT_EQ(d.at("delta").at("type").as_string(), "text_delta");
  auto stop = json::parse(AnthropicMessageStop({2, 1}, 5, 1)).as_object();
  EXPECT_EQ(stop.at("amazon-bedrock-invocationMetrics").at("outputTokenCount").as_int64(), 1);
  auto chunk = json::parse(ChunkPayload("{\"a\":1}")).as_object();
  EXPECT_EQ(*codec::Base64Decode(chunk.at("bytes").as_string()), "{\"a\":1}");
}

TEST(OpenAiParseTest, ParsesSystemRolesStopAndStreamOptions) {
  auto r = ParseChatCompletionsRequest(
      R"({"model":"m","messages":[{"role":"developer","content":"d"},{"role":"user","content":[{"type":"text","text":"u"}]}],
          "max_completion_tokens":4,"stop":"S","stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->system, std::vector<std::string>{"d"});
  EXPECT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(*r->max_tokens, 4u);
  EXPECT_EQ(r->stop_sequences, std::vector<std::string>{"S"});
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage_in_stream);
}

TEST(OpenAiParseTest, ErrorsNameTheField) {
  EXPECT_NE(ParseChatCompletionsRequest(R"({"messages":[]})").status().message().find("'model'"),
            std::string::npos);
  EXPECT_NE(
      ParseChatCompletionsRequest(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})")
          .status()
          .message()
          .find("messages[0].role"),
      std::string::npos);
  EXPECT_NE(ParseChatCompletionsRequest(
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":2})")
                .status()
                .message()
                .find("'n'"),
            std::string::npos);
  EXPECT_NE(ParseChatCompletionsRequest(
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[]})")
                .status()
                .message()
                .find("tools"),
            std::string::npos);
  EXPECT_NE(ParseChatCompletionsRequest(
                R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})")
                .status()
                .message()
                .find("messages[0].content[0].type"),
            std::string::npos);
}

TEST(OpenAiEncodeTest, CompletionChunkAndModelList) {
  model::ChatResponse r;
  r.id = "c1";
  r.text = "t";
  r.stop_reason = model::StopReason::kMaxTokens;
  auto v = json::parse(EncodeChatCompletion(r, "m", 100)).as_object();
  EXPECT_EQ(v.at("object").as_string(), "chat.completion");
  EXPECT_EQ(v.at("choices").as_array()[0].at("finish_reason").as_string(), "length");
  model::StopReason stop = model::StopReason::kEndTurn;
  auto c = json::parse(EncodeChatChunk("c1", "m", 100, "", false, &stop)).as_object();
  EXPECT_EQ(c.at("choices").as_array()[0].at("finish_reason").as_string(), "stop");
  EXPECT_TRUE(c.at("choices").as_array()[0].at("delta").as_object().empty());
  auto l = json::parse(EncodeModelList({"a", "b"}, 1)).as_object();
  EXPECT_EQ(l.at("data").as_array().size(), 2u);
}

}  // namespace
}  // namespace perimeter::api
