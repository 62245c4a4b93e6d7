#include "api/openai_shapes.h"

#include "api/json_fields.h"

namespace perimeter::api {

Result<model::ChatRequest> ParseChatCompletionsRequest(std::string_view body) {
  auto obj = ParseJsonObject(body);
  if (!obj.ok()) return obj.status();
  const json::object& o = *obj;
  model::ChatRequest req;
  auto model_id = RequiredString(o, "model", "");
  if (!model_id.ok()) return model_id.status();
  if (model_id->empty()) return InvalidArgument("field 'model' must not be empty");
  req.model = *model_id;
  for (const char* unsupported : {"tools", "functions", "tool_choice", "function_call"}) {
    if (o.contains(unsupported)) {
      return InvalidArgument(std::string("field '") + unsupported +
                             "' is not supported by this gateway yet");
    }
  }
  auto n = OptionalUInt(o, "n", "", 1, 1);
  if (!n.ok()) return InvalidArgument("field 'n' must be 1 (one choice per request)");
  auto msgs = RequiredArray(o, "messages", "");
  if (!msgs.ok()) return msgs.status();
  if ((*msgs)->empty())
    return InvalidArgument("field 'messages' must contain at least one message");
  for (size_t i = 0; i < (*msgs)->size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    const json::value& mv = (**msgs)[i];
    if (!mv.is_object()) return InvalidArgument("field '" + p + "' must be an object");
    const auto& mo = mv.as_object();
    auto role = RequiredString(mo, "role", p);
    if (!role.ok()) return role.status();
    std::vector<std::string> text;
    const json::value* c = mo.if_contains("content");
    if (!c || c->is_null()) return InvalidArgument("required field '" + p + ".content' is missing");
    if (c->is_string()) {
      text.emplace_back(c->as_string());
    } else if (c->is_array()) {
      for (size_t j = 0; j < c->as_array().size(); ++j) {
        const std::string bp = p + ".content[" + std::to_string(j) + "]";
        const auto& b = c->as_array()[j];
        if (!b.is_object()) return InvalidArgument("field '" + bp + "' must be an object");
        auto type = RequiredString(b.as_object(), "type", bp);
        if (!type.ok()) return type.status();
        if (*type != "text") {
          return InvalidArgument("field '" + bp + ".type' is '" + type->substr(0, 64) +
                                 "'; this gateway accepts text parts only");
        }
        auto t = RequiredString(b.as_object(), "text", bp);
        if (!t.ok()) return t.status();
        text.push_back(std::move(*t));
      }
    } else {
      return InvalidArgument("field '" + p +
                             ".content' must be a string or an array of text parts");
    }
    if (*role == "system" || *role == "developer") {
      for (auto& t : text) req.system.push_back(std::move(t));
    } else if (*role == "user" || *role == "assistant") {
      model::Message m;
      m.role = *role == "user" ? model::Message::Role::kUser : model::Message::Role::kAssistant;
      m.text = std::move(text);
      req.messages.push_back(std::move(m));
    } else {
      return InvalidArgument("field '" + p + ".role' is '" + role->substr(0, 64) +
                             "'; expected system, developer, user or assistant");
    }
  }
  if (req.messages.empty())
    return InvalidArgument("field 'messages' must contain at least one user or assistant message");
  auto mt = OptionalUInt(o, "max_completion_tokens", "", 1, 1'000'000);
  if (!mt.ok()) return mt.status();
  if (!*mt) {
    mt = OptionalUInt(o, "max_tokens", "", 1, 1'000'000);
    if (!mt.ok()) return mt.status();
  }
  req.max_tokens = *mt;
  auto t = OptionalNumber(o, "temperature", "", 0, 2);
  if (!t.ok()) return t.status();
  req.temperature = *t;
  auto tp = OptionalNumber(o, "top_p", "", 0, 1);
  if (!tp.ok()) return tp.status();
  req.top_p = *tp;
  if (const json::value* stop = o.if_contains("stop"); stop && !stop->is_null()) {
    if (stop->is_string()) {
      req.stop_sequences.emplace_back(stop->as_string());
    } else if (stop->is_array()) {
      for (size_t i = 0; i < stop->as_array().size(); ++i) {
        if (!stop->as_array()[i].is_string())
          return InvalidArgument("field 'stop[" + std::to_string(i) + "]' must be a string");
        req.stop_sequences.emplace_back(stop->as_array()[i].as_string());
      }
    } else {
      return InvalidArgument("field 'stop' must be a string or an array of strings");
    }
  }
  auto stream = OptionalBool(o, "stream", "");
  if (!stream.ok()) return stream.status();
  req.stream = stream->value_or(false);
  if (const json::value* so = o.if_contains("stream_options"); so && !so->is_null()) {
    if (!so->is_object()) return InvalidArgument("field 'stream_options' must be an object");
    auto iu = OptionalBool(so->as_object(), "include_usage", "stream_options");
    if (!iu.ok()) return iu.status();
    req.include_usage_in_stream = iu->value_or(false);
  }
  return req;
}

std::string_view OpenAiFinishReason(model::StopReason r) {
  switch (r) {
    case model::StopReason::kEndTurn:
    case model::StopReason::kStopSequence:
      return "stop";
    case model::StopReason::kMaxTokens:
      return "length";
    case model::StopReason::kContentFiltered:
    case model::StopReason::kGuardrailIntervened:
      return "content_filter";
  }
  return "stop";
}

static json::object UsageObject(const model::Usage& u) {
  return json::object{{"prompt_tokens", u.input_tokens},
                      {"completion_tokens", u.output_tokens},
                      {"total_tokens", u.input_tokens + u.output_tokens}};
}

std::string EncodeChatCompletion(const model::ChatResponse& r, std::string_view model_id,
                                 int64_t created) {
  json::object choice{
      {"index", 0},
      {"message", json::object{{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}}},
      {"logprobs", nullptr},
      {"finish_reason", OpenAiFinishReason(r.stop_reason)}};
  return json::serialize(json::object{{"id", r.id.empty() ? "chatcmpl-perimeter" : r.id},
                                      {"object", "chat.completion"},
                                      {"created", created},
                                      {"model", model_id},
                                      {"choices", json::array{std::move(choice)}},
                                      {"usage", UsageObject(r.usage)}});
}

std::string EncodeChatChunk(std::string_view id, std::string_view model_id, int64_t created,
                            std::string_view content, bool role_delta,
                            const model::StopReason* finish) {
  json::object delta;
  if (role_delta) delta["role"] = "assistant";
  if (!content.empty() || role_delta) delta["content"] = content;
  json::object choice{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
  choice["finish_reason"] =
      finish ? json::value(OpenAiFinishReason(*finish)) : json::value(nullptr);
  return json::serialize(json::object{{"id", id},
                                      {"object", "chat.completion.chunk"},
                                      {"created", created},
                                      {"model", model_id},
                                      {"choices", json::array{std::move(choice)}}});
}

std::string EncodeUsageChunk(std::string_view id, std::string_view model_id, int64_t created,
                             const model::Usage& u) {
  return json::serialize(json::object{{"id", id},
                                      {"object", "chat.completion.chunk"},
                                      {"created", created},
                                      {"model", model_id},
                                      {"choices", json::array{}},
                                      {"usage", UsageObject(u)}});
}

std::string EncodeModelList(const std::vector<std::string>& models, int64_t created) {
  json::array data;
  for (const auto& m : models) {
    data.push_back(json::object{
        {"id", m}, {"object", "model"}, {"created", created}, {"owned_by", "perimeter"}});
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

}  // namespace perimeter::api
