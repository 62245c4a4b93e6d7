#include "api/bedrock_shapes.h"
#include "api/front_door_filters.h"
#include "api/json_fields.h"
#include "api/openai_shapes.h"
#include "common/strings.h"

namespace perimeter::api {

using pipeline::ApiFlavor;
using pipeline::FilterStatus;
using pipeline::Operation;

namespace {

constexpr size_t kMaxModelIdBytes = 2048;

boost::asio::awaitable<FilterStatus> Refuse(pipeline::RequestContext& ctx, const Status& s) {
  co_await pipeline::SendError(ctx, pipeline::ErrorFromStatus(ctx.flavor, s));
  co_return FilterStatus::kStop;
}

boost::asio::awaitable<FilterStatus> Reply(pipeline::RequestContext& ctx, int status,
                                           std::string content_type, std::string body) {
  ctx.status = status;
  (void)co_await ctx.writer->Send(
      pipeline::MakeReply(status, std::move(content_type), std::move(body)));
  co_return FilterStatus::kStop;
}

constexpr size_t kMaxGuardrailIdBytes = 2048;

// InvokeModel's guardrail headers: X-Amzn-Bedrock-GuardrailIdentifier (id or ARN) with
// X-Amzn-Bedrock-GuardrailVersion, and optionally X-Amzn-Bedrock-Trace (ENABLED, DISABLED,
// ENABLED_FULL). Converse names its guardrail in the body instead.
Status GuardrailHeaders(pipeline::RequestContext& ctx) {
  const auto& req = ctx.request;
  const std::string* id = req.Header("x-amzn-bedrock-guardrailidentifier");
  const std::string* version = req.Header("x-amzn-bedrock-guardrailversion");
  const std::string* trace = req.Header("x-amzn-bedrock-trace");
  if (!id && !version) {
    if (trace) {
      return InvalidArgument(
          "X-Amzn-Bedrock-Trace asks for a guardrail trace, but the request names no guardrail "
          "(X-Amzn-Bedrock-GuardrailIdentifier)");
    }
    return Status::Ok();
  }
  if (ctx.operation == Operation::kConverse || ctx.operation == Operation::kConverseStream) {
    return InvalidArgument(
        "Converse names its guardrail in the body (guardrailConfig), not in "
        "X-Amzn-Bedrock-Guardrail* headers");
  }
  if (!id || id->empty() || id->size() > kMaxGuardrailIdBytes) {
    return InvalidArgument(
        "X-Amzn-Bedrock-GuardrailVersion needs X-Amzn-Bedrock-GuardrailIdentifier (1-2048 "
        "characters: a guardrail id or ARN)");
  }
  if (!version || version->empty()) {
    return InvalidArgument(
        "X-Amzn-Bedrock-GuardrailIdentifier needs X-Amzn-Bedrock-GuardrailVersion (DRAFT or a "
        "version number)");
  }
  model::GuardrailRequest g;
  g.identifier = *id;
  g.version = *version;
  if (trace) {
    if (*trace == "ENABLED") {
      g.trace = "enabled";
    } else if (*trace == "ENABLED_FULL") {
      g.trace = "enabled_full";
    } else if (*trace == "DISABLED") {
      g.trace = "disabled";
    } else {
      return InvalidArgument("X-Amzn-Bedrock-Trace must be ENABLED, ENABLED_FULL or DISABLED");
    }
  }
  ctx.guardrail = std::move(g);
  return Status::Ok();
}

Result<model::GuardrailRequest> ParseApplyGuardrailPath(std::string_view path) {
  // /guardrail/{id}/version/{version}/apply; the id may be an ARN, percent-encoded.
  std::string_view rest = path.substr(std::string_view("/guardrail/").size());
  constexpr std::string_view kApply = "/apply";
  const size_t v = rest.rfind("/version/");
  if (rest.size() < kApply.size() || rest.substr(rest.size() - kApply.size()) != kApply ||
      v == std::string_view::npos || v == 0) {
    return NotFound("no operation at " + std::string(path.substr(0, 256)) +
                    "; ApplyGuardrail is POST /guardrail/{guardrailIdentifier}/version/"
                    "{guardrailVersion}/apply");
  }
  auto id = UriDecode(rest.substr(0, v));
  const size_t vb = v + std::string_view("/version/").size();
  auto version = UriDecode(rest.substr(vb, rest.size() - kApply.size() - vb));
  if (!id.ok() || !version.ok()) {
    return InvalidArgument(
        "the guardrail identifier or version in the path is not validly "
        "percent-encoded");
  }
  if (id->empty() || id->size() > kMaxGuardrailIdBytes || version->empty()) {
    return InvalidArgument(
        "guardrailIdentifier must be 1-2048 characters and guardrailVersion non-empty");
  }
  model::GuardrailRequest g;
  g.identifier = std::move(*id);
  g.version = std::move(*version);
  return g;
}

}  // namespace

ApiFlavor FlavorForRequest(const pipeline::IncomingRequest& req) {
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return ApiFlavor::kPlain;
  if (StartsWith(path, "/v1/")) return ApiFlavor::kOpenAi;
  if (path == "/" && req.method == "POST") {
    const std::string* target = req.Header("x-amz-target");
    if (target != nullptr && StartsWith(*target, "TrentService.")) return ApiFlavor::kKms;
    if (target != nullptr && StartsWith(*target, "PerimeterAudit.")) return ApiFlavor::kAudit;
    return ApiFlavor::kSts;
  }
  return ApiFlavor::kBedrock;
}

void ClassifyByPath(pipeline::RequestContext& ctx) {
  if (ctx.operation != Operation::kUnknown) return;
  const auto& req = ctx.request;
  const std::string& path = req.path;
  const bool get = req.method == "GET", post = req.method == "POST";
  if (path == "/healthz") {
    ctx.operation = Operation::kHealth;
  } else if (path == "/readyz") {
    ctx.operation = Operation::kReady;
  } else if (path == "/metrics") {
    ctx.operation = Operation::kMetrics;
  } else if (path == "/v1/models" && get) {
    ctx.operation = Operation::kListModels;
  } else if (path == "/v1/chat/completions" && post) {
    ctx.operation = Operation::kChatCompletions;
  } else if (path == "/v1/embeddings" && post) {
    ctx.operation = Operation::kEmbeddings;
  } else if (path == "/" && post) {
    ctx.operation = ctx.flavor == ApiFlavor::kKms     ? Operation::kKms
                    : ctx.flavor == ApiFlavor::kAudit ? Operation::kAuditApi
                                                      : Operation::kStsUnknown;
  } else if (StartsWith(path, "/guardrail/") && post) {
    ctx.operation = Operation::kApplyGuardrail;
  } else if (StartsWith(path, "/model/") && post) {
    std::string_view rest = std::string_view(path).substr(7);
    const size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return;
    const std::string_view op = rest.substr(slash + 1);
    if (op == "invoke") {
      ctx.operation = Operation::kInvokeModel;
    } else if (op == "invoke-with-response-stream") {
      ctx.operation = Operation::kInvokeModelWithResponseStream;
    } else if (op == "converse") {
      ctx.operation = Operation::kConverse;
    } else if (op == "converse-stream") {
      ctx.operation = Operation::kConverseStream;
    } else {
      return;
    }
    auto id = UriDecode(rest.substr(0, slash));
    if (id.ok() && !id->empty() && id->size() <= kMaxModelIdBytes) ctx.model_id = *id;
  }
}

boost::asio::awaitable<FilterStatus> RouteFilter::OnRequest(pipeline::RequestContext& ctx) const {
  const auto& req = ctx.request;
  const std::string& path = req.path;
  const bool get = req.method == "GET", post = req.method == "POST";
  ctx.flavor = FlavorForRequest(req);

  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    ctx.operation = path == "/healthz"  ? Operation::kHealth
                    : path == "/readyz" ? Operation::kReady
                                        : Operation::kMetrics;
    if (!get) co_return co_await Refuse(ctx, InvalidArgument(path + " answers GET only"));
    if (ctx.operation == Operation::kMetrics) {
      co_return co_await Reply(ctx, 200, "text/plain; version=0.0.4; charset=utf-8",
                               metrics_->RenderPrometheus());
    }
    co_return co_await Reply(ctx, 200, "application/json", R"({"status":"ok"})");
  }

  if (StartsWith(path, "/v1/")) {
    if (path == "/v1/models" && get) {
      ctx.operation = Operation::kListModels;
      co_return FilterStatus::kContinue;
    }
    if (path == "/v1/chat/completions" && post) {
      ctx.operation = Operation::kChatCompletions;
      auto chat = ParseChatCompletionsRequest(req.body);
      if (!chat.ok()) co_return co_await Refuse(ctx, chat.status());
      ctx.model_id = chat->model.substr(0, kMaxModelIdBytes);
      ctx.chat = std::move(*chat);
      co_return FilterStatus::kContinue;
    }
    if (path == "/v1/embeddings" && post) {
      ctx.operation = Operation::kEmbeddings;
      auto obj = ParseJsonObject(req.body);
      if (!obj.ok()) co_return co_await Refuse(ctx, obj.status());
      auto m = RequiredString(*obj, "model", "");
      if (!m.ok()) co_return co_await Refuse(ctx, m.status());
      if (!obj->contains("input"))
        co_return co_await Refuse(ctx, InvalidArgument("required field 'input' is missing"));
      ctx.model_id = m->substr(0, kMaxModelIdBytes);
      co_return FilterStatus::kContinue;
    }
    // OpenAI's own code for a path it does not serve; NotFound alone would say model_not_found.
    const pipeline::ApiError unknown_url{
        404, "invalid_request_error", "unknown_url",
        "no OpenAI operation at " + req.method + " " + path.substr(0, 256) +
            "; this gateway serves POST /v1/chat/completions, POST /v1/embeddings and "
            "GET /v1/models"};
    co_await pipeline::SendError(ctx, unknown_url);
    co_return FilterStatus::kStop;
  }

  // The KMS JSON API: POST / with X-Amz-Target: TrentService.<Operation>; the KMS filter
  // answers after authentication.
  if (ctx.flavor == ApiFlavor::kKms) {
    ctx.operation = Operation::kKms;
    co_return FilterStatus::kContinue;
  }
  // Perimeter's audit API, the same way (audit_api_filter.h).
  if (ctx.flavor == ApiFlavor::kAudit) {
    ctx.operation = Operation::kAuditApi;
    co_return FilterStatus::kContinue;
  }

  // The STS Query API: POST / with a form body naming the Action.
  if (path == "/" && post) {
    ctx.operation = Operation::kStsUnknown;
    std::string_view body = req.body;
    while (!body.empty()) {
      size_t amp = body.find('&');
      std::string_view param = body.substr(0, amp);
      if (param == "Action=AssumeRole") ctx.operation = Operation::kStsAssumeRole;
      if (param == "Action=GetCallerIdentity") ctx.operation = Operation::kStsGetCallerIdentity;
      if (amp == std::string_view::npos) break;
      body.remove_prefix(amp + 1);
    }
    co_return FilterStatus::kContinue;  // authenticated next; the STS filter answers
  }

  // Bedrock Runtime ApplyGuardrail:
  // /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply
  if (StartsWith(path, "/guardrail/")) {
    auto g = ParseApplyGuardrailPath(path);
    if (!g.ok()) co_return co_await Refuse(ctx, g.status());
    ctx.operation = Operation::kApplyGuardrail;
    if (!post) co_return co_await Refuse(ctx, InvalidArgument("ApplyGuardrail takes POST"));
    ctx.guardrail = std::move(*g);
    co_return FilterStatus::kContinue;  // the guardrail filter answers after authorization
  }

  // Bedrock Runtime: /model/{modelId}/{operation}
  if (StartsWith(path, "/model/")) {
    std::string_view rest = std::string_view(path).substr(7);
    size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos && slash > 0) {
      std::string_view op = rest.substr(slash + 1);
      if (op == "invoke")
        ctx.operation = Operation::kInvokeModel;
      else if (op == "invoke-with-response-stream")
        ctx.operation = Operation::kInvokeModelWithResponseStream;
      else if (op == "converse")
        ctx.operation = Operation::kConverse;
      else if (op == "converse-stream")
        ctx.operation = Operation::kConverseStream;
      if (ctx.operation != Operation::kUnknown) {
        if (!post) {
          co_return co_await Refuse(
              ctx,
              InvalidArgument(std::string(pipeline::OperationName(ctx.operation)) + " takes POST"));
        }
        auto id = UriDecode(rest.substr(0, slash));
        if (!id.ok())
          co_return co_await Refuse(
              ctx, InvalidArgument("the model id in the path is not validly percent-encoded"));
        if (id->empty() || id->size() > kMaxModelIdBytes) {
          co_return co_await Refuse(
              ctx, InvalidArgument("the model id must be 1 to 2048 characters long"));
        }
        ctx.model_id = *id;
        if (Status g = GuardrailHeaders(ctx); !g.ok()) co_return co_await Refuse(ctx, g);
        const bool stream = ctx.operation == Operation::kConverseStream ||
                            ctx.operation == Operation::kInvokeModelWithResponseStream;
        if (ctx.operation == Operation::kConverse || ctx.operation == Operation::kConverseStream) {
          auto chat = ParseConverseRequest(req.body, ctx.model_id);
          if (!chat.ok()) co_return co_await Refuse(ctx, chat.status());
          chat->stream = stream;
          if (chat->guardrail) {
            if (ctx.guardrail) {
              co_return co_await Refuse(
                  ctx, InvalidArgument("the request names a guardrail both in guardrailConfig and "
                                       "in X-Amzn-Bedrock-Guardrail* headers; use one"));
            }
            ctx.guardrail = chat->guardrail;
          }
          ctx.chat = std::move(*chat);
        } else {
          const std::string* ct = req.Header("content-type");
          const std::string* accept = req.Header("accept");
          ctx.raw_body_content_type = ct ? *ct : "application/json";
          ctx.raw_accept = accept ? *accept : "application/json";
          // The canonical form is needed by every provider but Bedrock, and by the controls;
          // Bedrock can still take bodies of other model families raw.
          auto chat = ParseAnthropicRequest(req.body, ctx.model_id);
          if (chat.ok()) {
            chat->stream = stream;
            // Bedrock refuses a body that configures a guardrail the request does not name;
            // answering it unguarded would hide the client's mistake.
            if (chat->body_guardrail_config && !ctx.guardrail) {
              co_return co_await Refuse(
                  ctx, InvalidArgument(
                           "the body has amazon-bedrock-guardrailConfig, but the request names no "
                           "guardrail: send X-Amzn-Bedrock-GuardrailIdentifier and "
                           "X-Amzn-Bedrock-GuardrailVersion"));
            }
            if (ctx.guardrail && !chat->body_stream_processing_mode.empty()) {
              ctx.guardrail->stream_processing_mode = chat->body_stream_processing_mode;
            }
            ctx.chat = std::move(*chat);
          } else {
            ctx.chat_parse_failed = true;
            ctx.chat_parse_error = chat.status().message();
          }
        }
        co_return FilterStatus::kContinue;
      }
    }
  }
  ctx.status = 404;
  ctx.error_type = "UnknownOperationException";
  const pipeline::ApiError unknown{404, "UnknownOperationException", "",
                                   "no operation at " + req.method + " " + path.substr(0, 256)};
  co_await pipeline::SendError(ctx, unknown);
  co_return FilterStatus::kStop;
}

}  // namespace perimeter::api
