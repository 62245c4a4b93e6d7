#include "upstream/bedrock_upstream.h"

#include <boost/json.hpp>

#include "codec/base64.h"
#include "codec/event_stream.h"
#include "common/clock.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "upstream/openai_upstream.h"

namespace perimeter::upstream {

namespace json = boost::json;

std::string BedrockRuntimeEndpoint(std::string_view region) {
  return "https://bedrock-runtime." + std::string(region) + ".amazonaws.com";
}

BedrockUpstream::BedrockUpstream(std::string name, std::string region,
                                 std::shared_ptr<http::HttpClient> client,
                                 identity::AwsCredentials credentials)
    : name_(std::move(name)),
      region_(std::move(region)),
      client_(std::move(client)),
      credentials_(std::move(credentials)) {}

namespace {

std::string ModelPath(const std::string& model, std::string_view op) {
  return "/model/" + UriEncode(model) + "/" + std::string(op);
}

Status StatusFromBedrock(const std::string& upstream, const http::ClientResponse& r) {
  std::string type;
  if (const std::string* t = r.Header("x-amzn-errortype")) type = t->substr(0, t->find(':'));
  std::string message;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    for (const char* k : {"message", "Message"}) {
      if (auto* m = o.if_contains(k); m && m->is_string()) message = std::string(m->as_string());
    }
  }
  std::string m = "Bedrock (upstream '" + upstream + "') answered " +
                  (type.empty() ? "HTTP " + std::to_string(r.status) : type);
  if (!message.empty()) m += ": " + message.substr(0, 1000);
  if (type == "ValidationException") return InvalidArgument(m);
  if (type == "ResourceNotFoundException") return NotFound(m);
  if (type == "ThrottlingException" || type == "ServiceQuotaExceededException")
    return ResourceExhausted(m);
  if (type == "ModelTimeoutException") return DeadlineExceeded(m);
  if (type == "ModelNotReadyException" || type == "ServiceUnavailableException")
    return Unavailable(m);
  // AccessDenied, InvalidSignature, UnrecognizedClient, ExpiredToken: the gateway's own
  // credentials or permissions are wrong. That is an operator problem, reported as unavailable.
  return StatusFromUpstreamHttp(upstream, r.status == 403 ? 503 : r.status,
                                message.empty() ? type : m);
}

Status StatusFromException(const std::string& upstream, const codec::EventStreamMessage& m) {
  http::ClientResponse r;
  r.status = 500;
  const std::string* t = m.StringHeader(":exception-type");
  if (t) r.headers.emplace_back("x-amzn-errortype", *t);
  r.body = m.payload;
  return StatusFromBedrock(upstream, r);
}

model::StopReason StopFromConverse(std::string_view s) {
  if (s == "max_tokens") return model::StopReason::kMaxTokens;
  if (s == "stop_sequence") return model::StopReason::kStopSequence;
  if (s == "content_filtered" || s == "guardrail_intervened")
    return model::StopReason::kContentFiltered;
  return model::StopReason::kEndTurn;
}

uint32_t U32(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v && v->is_uint64()) return static_cast<uint32_t>(v->as_uint64());
  if (v && v->is_int64() && v->as_int64() >= 0) return static_cast<uint32_t>(v->as_int64());
  return 0;
}

}  // namespace

pipeline::Headers BedrockUpstream::Sign(std::string_view method, const std::string& path,
                                        const std::string& body, const std::string& content_type,
                                        const std::string& accept) const {
  identity::HttpRequestToSign r;
  r.method = std::string(method);
  r.path = client_->url().base_path + path;
  r.headers = {
      {"host", client_->url().HostHeader()}, {"content-type", content_type}, {"accept", accept}};
  r.payload_sha256_hex = crypto::Sha256Hex(body);
  identity::SigningScope scope{region_, "bedrock", SystemClock().Now()};
  pipeline::Headers out{{"Content-Type", content_type}, {"Accept", accept}};
  for (auto& h : identity::SignRequest(r, credentials_, scope)) out.push_back(std::move(h));
  return out;
}

std::string BedrockUpstream::ToConverseBody(const model::ChatRequest& req) {
  json::array messages;
  for (const auto& m : req.messages) {
    json::array content;
    for (const auto& t : m.text) content.push_back(json::object{{"text", t}});
    messages.push_back(json::object{{"role", std::string(model::RoleName(m.role))},
                                    {"content", std::move(content)}});
  }
  json::object body{{"messages", std::move(messages)}};
  if (!req.system.empty()) {
    json::array system;
    for (const auto& s : req.system) system.push_back(json::object{{"text", s}});
    body["system"] = std::move(system);
  }
  json::object inf;
  if (req.max_tokens) inf["maxTokens"] = *req.max_tokens;
  if (req.temperature) inf["temperature"] = *req.temperature;
  if (req.top_p) inf["topP"] = *req.top_p;
  if (!req.stop_sequences.empty()) {
    json::array stop;
    for (const auto& s : req.stop_sequences) stop.push_back(json::string(s));
    inf["stopSequences"] = std::move(stop);
  }
  if (!inf.empty()) body["inferenceConfig"] = std::move(inf);
  return json::serialize(body);
}

Result<model::ChatResponse> BedrockUpstream::FromConverseResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    return Unavailable("Bedrock answered Converse with a body that is not a JSON object");
  const auto& o = v.as_object();
  model::ChatResponse r;
  const json::value* content = nullptr;
  if (auto* out = o.if_contains("output"); out && out->is_object()) {
    if (auto* msg = out->as_object().if_contains("message"); msg && msg->is_object()) {
      content = msg->as_object().if_contains("content");
    }
  }
  if (!content || !content->is_array())
    return Unavailable("Bedrock Converse answer has no output.message.content");
  for (const auto& b : content->as_array()) {
    if (b.is_object()) {
      if (auto* t = b.as_object().if_contains("text"); t && t->is_string())
        r.text += std::string(t->as_string());
    }
  }
  if (auto* s = o.if_contains("stopReason"); s && s->is_string())
    r.stop_reason = StopFromConverse(s->as_string());
  if (auto* u = o.if_contains("usage"); u && u->is_object()) {
    r.usage.input_tokens = U32(u->as_object(), "inputTokens");
    r.usage.output_tokens = U32(u->as_object(), "outputTokens");
  }
  return r;
}

boost::asio::awaitable<Result<model::ChatResponse>> BedrockUpstream::Chat(
    const model::ChatRequest& req) {
  const std::string path = ModelPath(req.upstream_model, "converse");
  std::string body = ToConverseBody(req);
  auto headers = Sign("POST", path, body, "application/json", "application/json");
  auto resp = co_await client_->Send("POST", path, std::move(headers), std::move(body));
  if (!resp.ok()) co_return resp.status();
  if (resp->status != 200) co_return StatusFromBedrock(name_, *resp);
  co_return FromConverseResponse(resp->body);
}

boost::asio::awaitable<Status> BedrockUpstream::ChatStream(const model::ChatRequest& req,
                                                           model::ChatStreamSink& sink) {
  const std::string path = ModelPath(req.upstream_model, "converse-stream");
  std::string body = ToConverseBody(req);
  auto headers = Sign("POST", path, body, "application/json", "application/vnd.amazon.eventstream");
  codec::EventStreamDecoder decoder;
  std::vector<codec::EventStreamMessage> frames;
  bool started = false, stopped = false;
  model::StopReason stop = model::StopReason::kEndTurn;
  model::Usage usage;

  http::HttpClient::DataFn on_data = [&](std::string_view bytes) -> boost::asio::awaitable<Status> {
    frames.clear();
    PERIMETER_CO_RETURN_IF_ERROR(decoder.Feed(bytes, frames));
    for (const auto& f : frames) {
      const std::string* mt = f.StringHeader(":message-type");
      if (mt && *mt == "exception") co_return StatusFromException(name_, f);
      const std::string* et = f.StringHeader(":event-type");
      if (!et) continue;
      boost::system::error_code ec;
      json::value v = json::parse(f.payload, ec);
      if (ec || !v.is_object())
        co_return Unavailable("Bedrock sent a ConverseStream event that is not JSON");
      const auto& o = v.as_object();
      if (!started && (*et == "messageStart" || *et == "contentBlockDelta")) {
        PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(""));
        started = true;
      }
      if (*et == "contentBlockDelta") {
        if (auto* d = o.if_contains("delta"); d && d->is_object()) {
          if (auto* t = d->as_object().if_contains("text"); t && t->is_string()) {
            PERIMETER_CO_RETURN_IF_ERROR(
                co_await sink.OnTextDelta(std::string_view(t->as_string())));
          }
        }
      } else if (*et == "messageStop") {
        if (auto* s = o.if_contains("stopReason"); s && s->is_string())
          stop = StopFromConverse(s->as_string());
        stopped = true;
      } else if (*et == "metadata") {
        if (auto* u = o.if_contains("usage"); u && u->is_object()) {
          usage.input_tokens = U32(u->as_object(), "inputTokens");
          usage.output_tokens = U32(u->as_object(), "outputTokens");
        }
      }
    }
    co_return Status::Ok();
  };
  auto resp =
      co_await client_->SendStreaming("POST", path, std::move(headers), std::move(body), on_data);
  if (!resp.ok()) co_return resp.status();
  if (resp->status != 200) co_return StatusFromBedrock(name_, *resp);
  if (decoder.HasPartialMessage() || !stopped) {
    co_return Unavailable("Bedrock ended the ConverseStream before messageStop");
  }
  if (!started) PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(""));
  co_return co_await sink.OnStop(stop, "", usage);
}

boost::asio::awaitable<Result<model::RawInvokeResponse>> BedrockUpstream::InvokeRaw(
    const model::RawInvokeRequest& req) {
  const std::string path = ModelPath(req.model, "invoke");
  auto headers = Sign("POST", path, req.body, req.content_type, req.accept);
  auto resp = co_await client_->Send("POST", path, std::move(headers), req.body);
  if (!resp.ok()) co_return resp.status();
  if (resp->status != 200) co_return StatusFromBedrock(name_, *resp);
  model::RawInvokeResponse out;
  out.body = std::move(resp->body);
  if (const std::string* ct = resp->Header("content-type")) out.content_type = *ct;
  co_return out;
}

boost::asio::awaitable<Status> BedrockUpstream::InvokeRawStream(const model::RawInvokeRequest& req,
                                                                model::RawChunkSink& sink) {
  const std::string path = ModelPath(req.model, "invoke-with-response-stream");
  auto headers =
      Sign("POST", path, req.body, req.content_type, "application/vnd.amazon.eventstream");
  codec::EventStreamDecoder decoder;
  std::vector<codec::EventStreamMessage> frames;
  http::HttpClient::DataFn on_data = [&](std::string_view bytes) -> boost::asio::awaitable<Status> {
    frames.clear();
    PERIMETER_CO_RETURN_IF_ERROR(decoder.Feed(bytes, frames));
    for (const auto& f : frames) {
      const std::string* mt = f.StringHeader(":message-type");
      if (mt && *mt == "exception") co_return StatusFromException(name_, f);
      const std::string* et = f.StringHeader(":event-type");
      if (!et || *et != "chunk") continue;
      boost::system::error_code ec;
      json::value v = json::parse(f.payload, ec);
      const json::value* b = (!ec && v.is_object()) ? v.as_object().if_contains("bytes") : nullptr;
      if (!b || !b->is_string())
        co_return Unavailable("Bedrock sent a chunk event without base64 'bytes'");
      auto decoded = codec::Base64Decode(b->as_string());
      if (!decoded.ok())
        co_return Unavailable("Bedrock sent a chunk whose 'bytes' is not valid base64");
      PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnChunk(*decoded));
    }
    co_return Status::Ok();
  };
  auto resp = co_await client_->SendStreaming("POST", path, std::move(headers), req.body, on_data);
  if (!resp.ok()) co_return resp.status();
  if (resp->status != 200) co_return StatusFromBedrock(name_, *resp);
  if (decoder.HasPartialMessage())
    co_return Unavailable("Bedrock ended the stream in the middle of a frame");
  co_return Status::Ok();
}

}  // namespace perimeter::upstream
