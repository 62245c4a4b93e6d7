#include "upstream/openai_upstream.h"

#include <boost/json.hpp>

#include "codec/sse.h"

namespace perimeter::upstream {

namespace json = boost::json;

OpenAiUpstream::OpenAiUpstream(std::string name, std::shared_ptr<http::HttpClient> client,
                               std::string api_key)
    : name_(std::move(name)), client_(std::move(client)), api_key_(std::move(api_key)) {}

Status StatusFromUpstreamHttp(const std::string& upstream, int s, std::string_view message) {
  std::string m = "upstream '" + upstream + "' answered HTTP " + std::to_string(s);
  if (!message.empty()) m += ": " + std::string(message.substr(0, 1000));
  if (s == 400 || s == 422) return InvalidArgument(m);
  if (s == 404) return NotFound(m);
  if (s == 408 || s == 504) return DeadlineExceeded(m);
  if (s == 413) return PayloadTooLarge(m);
  if (s == 429) return ResourceExhausted(m);
  // 401/403 from an upstream means the gateway's own credentials are wrong: an operator problem,
  // not the caller's, so it is reported as the service being unavailable.
  return Unavailable(m);
}

namespace {

std::string ErrorMessageFromBody(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string(body.substr(0, 200));
  const auto& o = v.as_object();
  if (auto* e = o.if_contains("error")) {
    if (e->is_object()) {
      if (auto* m = e->as_object().if_contains("message"); m && m->is_string())
        return std::string(m->as_string());
    }
    if (e->is_string()) return std::string(e->as_string());
  }
  if (auto* m = o.if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  return std::string(body.substr(0, 200));
}

model::StopReason StopFromFinish(std::string_view f) {
  if (f == "length") return model::StopReason::kMaxTokens;
  if (f == "content_filter") return model::StopReason::kContentFiltered;
  return model::StopReason::kEndTurn;  // "stop", "tool_calls" (not modelled) and unknown
}

uint32_t U32(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return static_cast<uint32_t>(v->as_uint64());
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<uint32_t>(v->as_int64());
  return 0;
}

}  // namespace

std::string OpenAiUpstream::ToChatCompletionsBody(const model::ChatRequest& req, bool stream) {
  json::array messages;
  for (const auto& s : req.system)
    messages.push_back(json::object{{"role", "system"}, {"content", s}});
  for (const auto& m : req.messages) {
    messages.push_back(
        json::object{{"role", std::string(model::RoleName(m.role))}, {"content", m.JoinedText()}});
  }
  json::object body{{"model", req.upstream_model}, {"messages", std::move(messages)}};
  if (req.max_tokens) body["max_tokens"] = *req.max_tokens;
  if (req.temperature) body["temperature"] = *req.temperature;
  if (req.top_p) body["top_p"] = *req.top_p;
  if (!req.stop_sequences.empty()) {
    json::array stop;
    for (const auto& s : req.stop_sequences) stop.push_back(json::string(s));
    body["stop"] = std::move(stop);
  }
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
  }
  return json::serialize(body);
}

Result<model::ChatResponse> OpenAiUpstream::FromChatCompletion(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    return Unavailable("upstream answered with a body that is not a JSON object");
  const auto& o = v.as_object();
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty() ||
      !choices->as_array()[0].is_object()) {
    return Unavailable("upstream answer has no choices[0]");
  }
  const auto& c0 = choices->as_array()[0].as_object();
  model::ChatResponse r;
  if (auto* id = o.if_contains("id"); id && id->is_string()) r.id = std::string(id->as_string());
  if (auto* msg = c0.if_contains("message"); msg && msg->is_object()) {
    if (auto* content = msg->as_object().if_contains("content"); content && content->is_string()) {
      r.text = std::string(content->as_string());
    }
  }
  if (auto* f = c0.if_contains("finish_reason"); f && f->is_string())
    r.stop_reason = StopFromFinish(f->as_string());
  if (auto* u = o.if_contains("usage"); u && u->is_object()) {
    r.usage.input_tokens = U32(u->as_object(), "prompt_tokens");
    r.usage.output_tokens = U32(u->as_object(), "completion_tokens");
  }
  return r;
}

pipeline::Headers OpenAiUpstream::RequestHeaders() const {
  pipeline::Headers h{{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!api_key_.empty()) h.emplace_back("Authorization", "Bearer " + api_key_);
  return h;
}

boost::asio::awaitable<Result<model::ChatResponse>> OpenAiUpstream::Chat(
    const model::ChatRequest& req) {
  auto resp = co_await client_->Send("POST", "/chat/completions", RequestHeaders(),
                                     ToChatCompletionsBody(req, false));
  if (!resp.ok()) co_return resp.status();
  if (resp->status < 200 || resp->status >= 300) {
    co_return StatusFromUpstreamHttp(name_, resp->status, ErrorMessageFromBody(resp->body));
  }
  co_return FromChatCompletion(resp->body);
}

boost::asio::awaitable<Status> OpenAiUpstream::ChatStream(const model::ChatRequest& req,
                                                          model::ChatStreamSink& sink) {
  codec::SseDecoder decoder;
  bool started = false, stopped = false, done = false;
  model::StopReason stop = model::StopReason::kEndTurn;
  model::Usage usage;
  std::vector<codec::SseEvent> events;

  http::HttpClient::DataFn on_data = [&](std::string_view bytes) -> boost::asio::awaitable<Status> {
    events.clear();
    PERIMETER_CO_RETURN_IF_ERROR(decoder.Feed(bytes, events));
    for (const auto& ev : events) {
      if (done) break;
      if (ev.data == "[DONE]") {
        done = true;
        break;
      }
      boost::system::error_code ec;
      json::value v = json::parse(ev.data, ec);
      if (ec || !v.is_object())
        co_return Unavailable("upstream '" + name_ + "' sent a stream event that is not JSON");
      const auto& o = v.as_object();
      if (auto* err = o.if_contains("error")) {
        co_return Unavailable("upstream '" + name_ +
                              "' reported an error mid-stream: " + ErrorMessageFromBody(ev.data));
      }
      if (!started) {
        std::string id;
        if (auto* i = o.if_contains("id"); i && i->is_string()) id = std::string(i->as_string());
        PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(id));
        started = true;
      }
      if (auto* u = o.if_contains("usage"); u && u->is_object()) {
        usage.input_tokens = U32(u->as_object(), "prompt_tokens");
        usage.output_tokens = U32(u->as_object(), "completion_tokens");
      }
      auto* choices = o.if_contains("choices");
      if (!choices || !choices->is_array()) continue;
      for (const auto& c : choices->as_array()) {
        if (!c.is_object()) continue;
        const auto& co = c.as_object();
        if (auto* d = co.if_contains("delta"); d && d->is_object()) {
          if (auto* t = d->as_object().if_contains("content");
              t && t->is_string() && !t->as_string().empty()) {
            PERIMETER_CO_RETURN_IF_ERROR(
                co_await sink.OnTextDelta(std::string_view(t->as_string())));
          }
        }
        if (auto* f = co.if_contains("finish_reason"); f && f->is_string()) {
          stop = StopFromFinish(f->as_string());
          stopped = true;
        }
      }
    }
    co_return Status::Ok();
  };

  auto resp = co_await client_->SendStreaming("POST", "/chat/completions", RequestHeaders(),
                                              ToChatCompletionsBody(req, true), on_data);
  if (!resp.ok()) co_return resp.status();
  if (resp->status < 200 || resp->status >= 300) {
    co_return StatusFromUpstreamHttp(name_, resp->status, ErrorMessageFromBody(resp->body));
  }
  if (!started) {
    PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(""));
  }
  if (!done && !stopped) {
    co_return Unavailable("upstream '" + name_ +
                          "' ended the stream before it finished the answer");
  }
  co_return co_await sink.OnStop(stop, "", usage);
}

boost::asio::awaitable<Result<std::string>> OpenAiUpstream::Embeddings(
    const std::string& upstream_model, const std::string& body_json) {
  boost::system::error_code ec;
  json::value v = json::parse(body_json, ec);
  if (ec || !v.is_object()) co_return InvalidArgument("request body is not a JSON object");
  v.as_object()["model"] = upstream_model;
  auto resp = co_await client_->Send("POST", "/embeddings", RequestHeaders(), json::serialize(v));
  if (!resp.ok()) co_return resp.status();
  if (resp->status < 200 || resp->status >= 300) {
    co_return StatusFromUpstreamHttp(name_, resp->status, ErrorMessageFromBody(resp->body));
  }
  co_return resp->body;
}

}  // namespace perimeter::upstream
