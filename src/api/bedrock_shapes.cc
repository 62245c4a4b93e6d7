#include "api/bedrock_shapes.h"

#include "api/json_fields.h"
#include "codec/base64.h"

namespace perimeter::api {

namespace {

Result<model::Message::Role> ParseRole(const json::object& m, const std::string& path) {
  auto role = RequiredString(m, "role", path);
  if (!role.ok()) return role.status();
  if (*role == "user") return model::Message::Role::kUser;
  if (*role == "assistant") return model::Message::Role::kAssistant;
  return InvalidArgument("field '" + Join(path, "role") + "' must be 'user' or 'assistant', got '" +
                         role->substr(0, 64) + "'");
}

// A guardContent block: {"text": {"text": "...", "qualifiers": [...]}}.
Status GuardContentBlock(const json::value& v, const std::string& path, std::string& text,
                         std::vector<std::string>& qualifiers) {
  if (!v.is_object()) return InvalidArgument("field '" + path + "' must be an object");
  const json::object& g = v.as_object();
  for (const auto& kv : g) {
    if (kv.key() != "text") {
      return InvalidArgument("field '" + Join(path, std::string(kv.key())) +
                             "' is not supported: a guardContent block holds {\"text\": "
                             "{\"text\": ..., \"qualifiers\": [...]}}");
    }
  }
  const json::value* t = g.if_contains("text");
  if (!t || !t->is_object())
    return InvalidArgument("field '" + Join(path, "text") + "' must be an object with 'text'");
  const std::string tp = Join(path, "text");
  auto body = RequiredString(t->as_object(), "text", tp);
  if (!body.ok()) return body.status();
  text = std::move(*body);
  for (const auto& kv : t->as_object()) {
    if (kv.key() != "text" && kv.key() != "qualifiers")
      return InvalidArgument("field '" + Join(tp, std::string(kv.key())) + "' is not known");
  }
  if (const json::value* q = t->as_object().if_contains("qualifiers")) {
    if (!q->is_array())
      return InvalidArgument("field '" + Join(tp, "qualifiers") + "' must be an array");
    for (size_t i = 0; i < q->as_array().size(); ++i) {
      const json::value& e = q->as_array()[i];
      if (!e.is_string() || (e.as_string() != "grounding_source" && e.as_string() != "query" &&
                             e.as_string() != "guard_content")) {
        return InvalidArgument("field '" + Join(Join(tp, "qualifiers"), i) +
                               "' must be one of grounding_source, query, guard_content");
      }
      qualifiers.emplace_back(e.as_string());
    }
  }
  return Status::Ok();
}

// Converse content blocks: {"text": ...} and {"guardContent": ...} are modelled; other block
// kinds are refused by name. Guard content is kept as text and recorded in `guard`.
Status ConverseBlocks(const json::array& blocks, const std::string& path, bool system,
                      size_t message, std::vector<std::string>& out,
                      std::vector<model::GuardContentRef>& guard) {
  if (blocks.empty())
    return InvalidArgument("field '" + path + "' must contain at least one content block");
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string p = Join(path, i);
    if (!blocks[i].is_object()) return InvalidArgument("field '" + p + "' must be an object");
    const auto& b = blocks[i].as_object();
    if (const json::value* t = b.if_contains("text")) {
      if (!t->is_string())
        return InvalidArgument("field '" + Join(p, "text") + "' must be a string");
      out.emplace_back(t->as_string());
      continue;
    }
    if (const json::value* g = b.if_contains("guardContent")) {
      model::GuardContentRef ref{system, message, out.size(), {}};
      std::string text;
      PERIMETER_RETURN_IF_ERROR(
          GuardContentBlock(*g, Join(p, "guardContent"), text, ref.qualifiers));
      out.push_back(std::move(text));
      guard.push_back(std::move(ref));
      continue;
    }
    std::string kind = b.empty() ? "empty" : std::string(b.begin()->key());
    return InvalidArgument("field '" + p + "' is a '" + kind +
                           "' content block; this gateway accepts text and guardContent blocks");
  }
  return Status::Ok();
}

Result<model::GuardrailRequest> ParseGuardrailConfig(const json::value& v) {
  if (!v.is_object()) return InvalidArgument("field 'guardrailConfig' must be an object");
  const json::object& g = v.as_object();
  for (const auto& kv : g) {
    const std::string_view k = kv.key();
    if (k != "guardrailIdentifier" && k != "guardrailVersion" && k != "trace" &&
        k != "streamProcessingMode") {
      return InvalidArgument("field 'guardrailConfig." + std::string(k.substr(0, 64)) +
                             "' is not known; expected guardrailIdentifier, guardrailVersion, "
                             "trace, streamProcessingMode");
    }
  }
  model::GuardrailRequest r;
  auto id = RequiredString(g, "guardrailIdentifier", "guardrailConfig");
  if (!id.ok()) return id.status();
  auto version = RequiredString(g, "guardrailVersion", "guardrailConfig");
  if (!version.ok()) return version.status();
  r.identifier = std::move(*id);
  r.version = std::move(*version);
  if (const json::value* t = g.if_contains("trace")) {
    if (!t->is_string() || (t->as_string() != "enabled" && t->as_string() != "disabled" &&
                            t->as_string() != "enabled_full")) {
      return InvalidArgument(
          "field 'guardrailConfig.trace' must be 'enabled', 'disabled' or 'enabled_full'");
    }
    r.trace = t->as_string();
  }
  if (const json::value* m = g.if_contains("streamProcessingMode")) {
    if (!m->is_string() || (m->as_string() != "sync" && m->as_string() != "async")) {
      return InvalidArgument(
          "field 'guardrailConfig.streamProcessingMode' must be 'sync' or 'async'");
    }
    r.stream_processing_mode = m->as_string();
  }
  return r;
}

}  // namespace

Result<model::ChatRequest> ParseConverseRequest(std::string_view body, std::string model_id) {
  auto obj = ParseJsonObject(body);
  if (!obj.ok()) return obj.status();
  const json::object& o = *obj;
  model::ChatRequest req;
  req.model = std::move(model_id);
  if (const json::value* g = o.if_contains("guardrailConfig")) {
    auto gr = ParseGuardrailConfig(*g);
    if (!gr.ok()) return gr.status();
    req.guardrail = std::move(*gr);
  }
  for (const char* unsupported : {"toolConfig", "promptVariables"}) {
    if (o.contains(unsupported)) {
      return InvalidArgument(std::string("field '") + unsupported +
                             "' is not supported by this gateway yet");
    }
  }
  auto msgs = RequiredArray(o, "messages", "");
  if (!msgs.ok()) return msgs.status();
  if ((*msgs)->empty())
    return InvalidArgument("field 'messages' must contain at least one message");
  for (size_t i = 0; i < (*msgs)->size(); ++i) {
    const std::string p = Join("messages", i);
    const json::value& mv = (**msgs)[i];
    if (!mv.is_object()) return InvalidArgument("field '" + p + "' must be an object");
    model::Message m;
    auto role = ParseRole(mv.as_object(), p);
    if (!role.ok()) return role.status();
    m.role = *role;
    auto content = RequiredArray(mv.as_object(), "content", p);
    if (!content.ok()) return content.status();
    PERIMETER_RETURN_IF_ERROR(ConverseBlocks(**content, Join(p, "content"), false,
                                             req.messages.size(), m.text, req.guard_content));
    req.messages.push_back(std::move(m));
  }
  if (const json::value* sys = o.if_contains("system")) {
    if (!sys->is_array())
      return InvalidArgument("field 'system' must be an array of {\"text\": ...} blocks");
    PERIMETER_RETURN_IF_ERROR(
        ConverseBlocks(sys->as_array(), "system", true, 0, req.system, req.guard_content));
  }
  if (const json::value* inf = o.if_contains("inferenceConfig")) {
    if (!inf->is_object()) return InvalidArgument("field 'inferenceConfig' must be an object");
    const auto& io = inf->as_object();
    auto mt = OptionalUInt(io, "maxTokens", "inferenceConfig", 1, 1'000'000);
    if (!mt.ok()) return mt.status();
    req.max_tokens = *mt;
    auto t = OptionalNumber(io, "temperature", "inferenceConfig", 0, 1);
    if (!t.ok()) return t.status();
    req.temperature = *t;
    auto tp = OptionalNumber(io, "topP", "inferenceConfig", 0, 1);
    if (!tp.ok()) return tp.status();
    req.top_p = *tp;
    if (const json::value* ss = io.if_contains("stopSequences")) {
      if (!ss->is_array())
        return InvalidArgument("field 'inferenceConfig.stopSequences' must be an array of strings");
      for (size_t i = 0; i < ss->as_array().size(); ++i) {
        const auto& s = ss->as_array()[i];
        if (!s.is_string())
          return InvalidArgument("field 'inferenceConfig.stopSequences." + std::to_string(i) +
                                 "' must be a string");
        req.stop_sequences.emplace_back(s.as_string());
      }
    }
  }
  return req;
}

std::string_view ConverseStopReason(model::StopReason r) {
  switch (r) {
    case model::StopReason::kEndTurn:
      return "end_turn";
    case model::StopReason::kMaxTokens:
      return "max_tokens";
    case model::StopReason::kStopSequence:
      return "stop_sequence";
    case model::StopReason::kContentFiltered:
      return "content_filtered";
    case model::StopReason::kGuardrailIntervened:
      return "guardrail_intervened";
  }
  return "end_turn";
}

static json::object UsageObject(const model::Usage& u) {
  return json::object{{"inputTokens", u.input_tokens},
                      {"outputTokens", u.output_tokens},
                      {"totalTokens", u.input_tokens + u.output_tokens}};
}

std::string EncodeConverseResponse(const model::ChatResponse& r, int64_t latency_ms) {
  json::object msg{{"role", "assistant"}, {"content", json::array{json::object{{"text", r.text}}}}};
  json::object o{{"output", json::object{{"message", std::move(msg)}}},
                 {"stopReason", ConverseStopReason(r.stop_reason)},
                 {"usage", UsageObject(r.usage)},
                 {"metrics", json::object{{"latencyMs", latency_ms}}}};
  if (!r.guardrail_trace_json.empty()) {
    o["trace"] = json::object{{"guardrail", json::parse(r.guardrail_trace_json)}};
  }
  return json::serialize(o);
}

std::string ConverseMessageStartEvent() { return R"({"role":"assistant"})"; }
std::string ConverseDeltaEvent(std::string_view text) {
  return json::serialize(
      json::object{{"contentBlockIndex", 0}, {"delta", json::object{{"text", text}}}});
}
std::string ConverseBlockStopEvent() { return R"({"contentBlockIndex":0})"; }
std::string ConverseMessageStopEvent(model::StopReason r) {
  return json::serialize(json::object{{"stopReason", ConverseStopReason(r)}});
}
std::string ConverseMetadataEvent(const model::Usage& u, int64_t latency_ms,
                                  std::string_view guardrail_trace_json) {
  json::object o{{"usage", UsageObject(u)}, {"metrics", json::object{{"latencyMs", latency_ms}}}};
  if (!guardrail_trace_json.empty()) {
    o["trace"] = json::object{{"guardrail", json::parse(guardrail_trace_json)}};
  }
  return json::serialize(o);
}

// ---- Anthropic messages ----

namespace {
Status AnthropicContent(const json::value& v, const std::string& path,
                        std::vector<std::string>& out) {
  if (v.is_string()) {
    out.emplace_back(v.as_string());
    return Status::Ok();
  }
  if (!v.is_array())
    return InvalidArgument("field '" + path + "' must be a string or an array of content blocks");
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const std::string p = Join(path, i);
    const auto& b = v.as_array()[i];
    if (!b.is_object()) return InvalidArgument("field '" + p + "' must be an object");
    auto type = RequiredString(b.as_object(), "type", p);
    if (!type.ok()) return type.status();
    if (*type != "text") {
      return InvalidArgument("field '" + Join(p, "type") + "' is '" + type->substr(0, 64) +
                             "'; this gateway accepts text blocks only");
    }
    auto text = RequiredString(b.as_object(), "text", p);
    if (!text.ok()) return text.status();
    out.push_back(std::move(*text));
  }
  return Status::Ok();
}
}  // namespace

Result<model::ChatRequest> ParseAnthropicRequest(std::string_view body, std::string model_id) {
  auto obj = ParseJsonObject(body);
  if (!obj.ok()) return obj.status();
  const json::object& o = *obj;
  model::ChatRequest req;
  req.model = std::move(model_id);
  auto version = RequiredString(o, "anthropic_version", "");
  if (!version.ok()) {
    return InvalidArgument(
        version.status().message() +
        " (an Anthropic messages body needs \"anthropic_version\": \"bedrock-2023-05-31\")");
  }
  auto mt = OptionalUInt(o, "max_tokens", "", 1, 1'000'000);
  if (!mt.ok()) return mt.status();
  if (!*mt) return InvalidArgument("required field 'max_tokens' is missing");
  req.max_tokens = *mt;
  auto msgs = RequiredArray(o, "messages", "");
  if (!msgs.ok()) return msgs.status();
  if ((*msgs)->empty())
    return InvalidArgument("field 'messages' must contain at least one message");
  for (size_t i = 0; i < (*msgs)->size(); ++i) {
    const std::string p = Join("messages", i);
    const json::value& mv = (**msgs)[i];
    if (!mv.is_object()) return InvalidArgument("field '" + p + "' must be an object");
    model::Message m;
    auto role = ParseRole(mv.as_object(), p);
    if (!role.ok()) return role.status();
    m.role = *role;
    const json::value* c = mv.as_object().if_contains("content");
    if (!c) return InvalidArgument("required field '" + Join(p, "content") + "' is missing");
    PERIMETER_RETURN_IF_ERROR(AnthropicContent(*c, Join(p, "content"), m.text));
    req.messages.push_back(std::move(m));
  }
  if (const json::value* sys = o.if_contains("system"))
    PERIMETER_RETURN_IF_ERROR(AnthropicContent(*sys, "system", req.system));
  auto t = OptionalNumber(o, "temperature", "", 0, 1);
  if (!t.ok()) return t.status();
  req.temperature = *t;
  auto tp = OptionalNumber(o, "top_p", "", 0, 1);
  if (!tp.ok()) return tp.status();
  req.top_p = *tp;
  if (const json::value* ss = o.if_contains("stop_sequences")) {
    if (!ss->is_array())
      return InvalidArgument("field 'stop_sequences' must be an array of strings");
    for (size_t i = 0; i < ss->as_array().size(); ++i) {
      if (!ss->as_array()[i].is_string())
        return InvalidArgument("field 'stop_sequences." + std::to_string(i) + "' must be a string");
      req.stop_sequences.emplace_back(ss->as_array()[i].as_string());
    }
  }
  if (o.contains("tools"))
    return InvalidArgument("field 'tools' is not supported by this gateway yet");
  if (const json::value* g = o.if_contains("amazon-bedrock-guardrailConfig")) {
    if (!g->is_object())
      return InvalidArgument("field 'amazon-bedrock-guardrailConfig' must be an object");
    for (const auto& kv : g->as_object()) {
      const std::string_view k = kv.key();
      if (k == "tagSuffix") {
        if (!kv.value().is_string())
          return InvalidArgument(
              "field 'amazon-bedrock-guardrailConfig.tagSuffix' must be a string");
      } else if (k == "streamProcessingMode") {
        if (!kv.value().is_string() ||
            (kv.value().as_string() != "SYNCHRONOUS" && kv.value().as_string() != "ASYNCHRONOUS")) {
          return InvalidArgument(
              "field 'amazon-bedrock-guardrailConfig.streamProcessingMode' must be SYNCHRONOUS or "
              "ASYNCHRONOUS");
        }
        req.body_stream_processing_mode =
            kv.value().as_string() == "ASYNCHRONOUS" ? "async" : "sync";
      } else {
        return InvalidArgument("field 'amazon-bedrock-guardrailConfig." +
                               std::string(k.substr(0, 64)) +
                               "' is not known; expected tagSuffix and streamProcessingMode");
      }
    }
    req.body_guardrail_config = true;
  }
  return req;
}

std::string_view AnthropicStopReason(model::StopReason r) {
  switch (r) {
    case model::StopReason::kEndTurn:
      return "end_turn";
    case model::StopReason::kMaxTokens:
      return "max_tokens";
    case model::StopReason::kStopSequence:
      return "stop_sequence";
    case model::StopReason::kContentFiltered:
    case model::StopReason::kGuardrailIntervened:
      return "end_turn";
  }
  return "end_turn";
}

std::string EncodeAnthropicResponse(const model::ChatResponse& r, std::string_view model_id) {
  json::object o{{"id", r.id},
                 {"type", "message"},
                 {"role", "assistant"},
                 {"model", model_id},
                 {"content", json::array{json::object{{"type", "text"}, {"text", r.text}}}},
                 {"stop_reason", AnthropicStopReason(r.stop_reason)}};
  o["stop_sequence"] =
      r.stop_sequence.empty() ? json::value(nullptr) : json::value(r.stop_sequence);
  o["usage"] = json::object{{"input_tokens", r.usage.input_tokens},
                            {"output_tokens", r.usage.output_tokens}};
  // Bedrock adds these to the model's body when a guardrail ran.
  if (r.guardrail_ran) {
    o["amazon-bedrock-guardrailAction"] =
        r.guardrail_intervened || r.stop_reason == model::StopReason::kGuardrailIntervened
            ? "INTERVENED"
            : "NONE";
  }
  if (!r.guardrail_trace_json.empty()) {
    o["amazon-bedrock-trace"] = json::object{{"guardrail", json::parse(r.guardrail_trace_json)}};
  }
  return json::serialize(o);
}

std::string AnthropicMessageStart(std::string_view id, std::string_view model_id,
                                  uint32_t input_tokens) {
  json::object msg{{"id", id},
                   {"type", "message"},
                   {"role", "assistant"},
                   {"model", model_id},
                   {"content", json::array{}},
                   {"stop_reason", nullptr},
                   {"stop_sequence", nullptr},
                   {"usage", json::object{{"input_tokens", input_tokens}, {"output_tokens", 0}}}};
  return json::serialize(json::object{{"type", "message_start"}, {"message", std::move(msg)}});
}
std::string AnthropicBlockStart() {
  return R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
}
std::string AnthropicTextDelta(std::string_view text) {
  return json::serialize(
      json::object{{"type", "content_block_delta"},
                   {"index", 0},
                   {"delta", json::object{{"type", "text_delta"}, {"text", text}}}});
}
std::string AnthropicBlockStop() { return R"({"type":"content_block_stop","index":0})"; }
std::string AnthropicMessageDelta(model::StopReason r, std::string_view stop_sequence,
                                  uint32_t output_tokens) {
  json::object delta{{"stop_reason", AnthropicStopReason(r)}};
  delta["stop_sequence"] =
      stop_sequence.empty() ? json::value(nullptr) : json::value(stop_sequence);
  return json::serialize(json::object{{"type", "message_delta"},
                                      {"delta", std::move(delta)},
                                      {"usage", json::object{{"output_tokens", output_tokens}}}});
}
std::string AnthropicMessageStop(const model::Usage& u, int64_t latency_ms, int64_t first_byte_ms) {
  return json::serialize(json::object{
      {"type", "message_stop"},
      {"amazon-bedrock-invocationMetrics", json::object{{"inputTokenCount", u.input_tokens},
                                                        {"outputTokenCount", u.output_tokens},
                                                        {"invocationLatency", latency_ms},
                                                        {"firstByteLatency", first_byte_ms}}}});
}

std::string ChunkPayload(std::string_view bytes) {
  return json::serialize(json::object{{"bytes", codec::Base64Encode(bytes)}});
}

}  // namespace perimeter::api
