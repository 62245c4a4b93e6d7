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

}  // namespace

ApiFlavor FlavorForRequest(const pipeline::IncomingRequest& req) {
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return ApiFlavor::kPlain;
  if (StartsWith(path, "/v1/")) return ApiFlavor::kOpenAi;
  if (path == "/" && req.method == "POST") {
    const std::string* target = req.Header("x-amz-target");
    return target != nullptr && StartsWith(*target, "TrentService.") ? ApiFlavor::kKms
                                                                     : ApiFlavor::kSts;
  }
  return ApiFlavor::kBedrock;
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
        // Guardrails are not in this gateway yet. A caller that asks for one must not get an
        // unguarded answer: refuse rather than ignore (fail closed).
        if (req.Header("x-amzn-bedrock-guardrailidentifier") ||
            req.Header("x-amzn-bedrock-guardrailversion")) {
          co_return co_await Refuse(
              ctx, InvalidArgument("this gateway does not apply guardrails yet, so a request "
                                   "naming one (X-Amzn-Bedrock-GuardrailIdentifier) is refused "
                                   "rather than answered unguarded; remove the header"));
        }
        const bool stream = ctx.operation == Operation::kConverseStream ||
                            ctx.operation == Operation::kInvokeModelWithResponseStream;
        if (ctx.operation == Operation::kConverse || ctx.operation == Operation::kConverseStream) {
          auto chat = ParseConverseRequest(req.body, ctx.model_id);
          if (!chat.ok()) co_return co_await Refuse(ctx, chat.status());
          chat->stream = stream;
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
