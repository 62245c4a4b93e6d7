#include "pipeline/filter.h"

#include <boost/json.hpp>

#include "iam/sts_protocol.h"

namespace perimeter::pipeline {

namespace json = boost::json;

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kUnknown:
      return "Unknown";
    case Operation::kInvokeModel:
      return "InvokeModel";
    case Operation::kInvokeModelWithResponseStream:
      return "InvokeModelWithResponseStream";
    case Operation::kConverse:
      return "Converse";
    case Operation::kConverseStream:
      return "ConverseStream";
    case Operation::kChatCompletions:
      return "ChatCompletions";
    case Operation::kEmbeddings:
      return "Embeddings";
    case Operation::kListModels:
      return "ListModels";
    case Operation::kHealth:
      return "Health";
    case Operation::kReady:
      return "Ready";
    case Operation::kMetrics:
      return "Metrics";
    case Operation::kStsAssumeRole:
      return "AssumeRole";
    case Operation::kStsGetCallerIdentity:
      return "GetCallerIdentity";
    case Operation::kStsUnknown:
      return "StsUnknown";
    case Operation::kKms:
      return "Kms";
    case Operation::kApplyGuardrail:
      return "ApplyGuardrail";
    case Operation::kAuditApi:
      return "AuditApi";
  }
  return "Unknown";
}

const std::string* IncomingRequest::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

namespace {

// The AWS Query protocol's error codes (STS).
ApiError StsErrorFromStatus(const Status& s) {
  ApiError e;
  e.message = s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPayloadTooLarge:
      e = {400, "ValidationError", "", s.message()};
      break;
    case StatusCode::kPermissionDenied:
      e = {403, "AccessDenied", "", s.message()};
      break;
    case StatusCode::kUnauthenticated:
      e = {403, "InvalidClientTokenId", "", s.message()};
      break;
    case StatusCode::kNotFound:
      e = {404, "NoSuchEntity", "", s.message()};
      break;
    case StatusCode::kResourceExhausted:
      e = {400, "Throttling", "", s.message()};
      break;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      e = {503, "ServiceUnavailable", "", s.message()};
      break;
    default:
      e = {500, "InternalFailure", "", s.message()};
      break;
  }
  return e;
}

}  // namespace

ApiError ErrorFromStatus(ApiFlavor flavor, const Status& s) {
  if (flavor == ApiFlavor::kSts) return StsErrorFromStatus(s);
  ApiError e;
  e.message = s.message();
  const bool oai = flavor == ApiFlavor::kOpenAi;
  switch (s.code()) {
    case StatusCode::kOk:
    case StatusCode::kInternal:
      e.http_status = 500;
      e.type = oai ? "server_error" : "InternalServerException";
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      e.http_status = 400;
      e.type = oai ? "invalid_request_error" : "ValidationException";
      break;
    case StatusCode::kPayloadTooLarge:
      e.http_status = 413;
      e.type = oai ? "invalid_request_error" : "ValidationException";
      e.code = oai ? "request_too_large" : "";
      break;
    case StatusCode::kNotFound:
      e.http_status = 404;
      e.type = oai ? "invalid_request_error" : "ResourceNotFoundException";
      e.code = oai ? "model_not_found" : "";
      break;
    case StatusCode::kPermissionDenied:
      e.http_status = 403;
      e.type = oai ? "permission_error" : "AccessDeniedException";
      break;
    case StatusCode::kUnauthenticated:
      e.http_status = oai ? 401 : 403;
      e.type = oai ? "invalid_request_error" : "UnrecognizedClientException";
      e.code = oai ? "invalid_api_key" : "";
      break;
    case StatusCode::kResourceExhausted:
      e.http_status = 429;
      e.type = oai ? "rate_limit_error" : "ThrottlingException";
      e.code = oai ? "rate_limit_exceeded" : "";
      break;
    case StatusCode::kUnavailable:
      e.http_status = 503;
      e.type = oai ? "server_error" : "ServiceUnavailableException";
      e.code = oai ? "upstream_unavailable" : "";
      break;
    case StatusCode::kDeadlineExceeded:
      e.http_status = oai ? 504 : 408;
      e.type = oai ? "timeout_error" : "ModelTimeoutException";
      e.code = oai ? "upstream_timeout" : "";
      break;
    case StatusCode::kAlreadyExists:
      e.http_status = 409;
      e.type = oai ? "invalid_request_error" : "ConflictException";
      break;
    case StatusCode::kCancelled:
      e.http_status = 499;  // nginx's "client closed request"; never reaches a client
      e.type = oai ? "server_error" : "InternalServerException";
      break;
  }
  return e;
}

HttpReply EncodeError(ApiFlavor flavor, const ApiError& e) {
  HttpReply r;
  r.status = e.http_status;
  r.headers.emplace_back("Content-Type", "application/json");
  if (flavor == ApiFlavor::kSts) {
    // The Query protocol's error document; the SDK reads Error/Code and Error/Message.
    r.headers.clear();
    r.headers.emplace_back("Content-Type", std::string(iam::kStsResponseContentType));
    const iam::StsError sts{e.http_status, e.type, e.message, e.http_status < 500};
    r.body = iam::EncodeStsError(sts, e.code);
    return r;
  }
  if (flavor == ApiFlavor::kOpenAi) {
    json::object err{{"message", e.message}, {"type", e.type}, {"param", nullptr}};
    err["code"] = e.code.empty() ? json::value(nullptr) : json::value(e.code);
    r.body = json::serialize(json::object{{"error", std::move(err)}});
  } else {
    // Bedrock (and plain endpoints) answer like AWS JSON protocols: the SDK reads the error
    // type from x-amzn-ErrorType and the message from the body.
    r.headers.emplace_back("x-amzn-ErrorType", e.type);
    json::object body{{"message", e.message}};
    if (flavor == ApiFlavor::kKms || flavor == ApiFlavor::kAudit) {
      r.headers.front().second = "application/x-amz-json-1.1";
      body["__type"] = e.type;
    }
    r.body = json::serialize(body);
  }
  return r;
}

boost::asio::awaitable<void> SendError(RequestContext& ctx, const ApiError& error) {
  ctx.status = error.http_status;
  ctx.error_type = error.type;
  if (ctx.writer->committed()) co_return;
  if (ctx.flavor == ApiFlavor::kSts) {
    ApiError with_id = error;  // the Query protocol carries the request id in the document
    with_id.code = ctx.request_id;
    HttpReply reply = EncodeError(ctx.flavor, with_id);
    (void)co_await ctx.writer->Send(std::move(reply));
    co_return;
  }
  (void)co_await ctx.writer->Send(EncodeError(ctx.flavor, error));
}

FilterChain::FilterChain(std::vector<std::unique_ptr<Filter>> filters)
    : filters_(std::move(filters)) {}

boost::asio::awaitable<void> FilterChain::Run(RequestContext& ctx) const {
  size_t ran = 0;
  for (; ran < filters_.size(); ++ran) {
    FilterStatus st = co_await filters_[ran]->OnRequest(ctx);
    if (st == FilterStatus::kStop) {
      ++ran;
      break;
    }
  }
  if (!ctx.writer->committed()) {
    // Either a filter stopped without answering or the chain ran out of filters: both are
    // defects in chain construction. Answer rather than leave the client waiting.
    // Named, not a braced temporary inside co_await: GCC 12 destroys such temporaries twice.
    const ApiError defect{
        500, ctx.flavor == ApiFlavor::kOpenAi ? "server_error" : "InternalServerException", "",
        "the request was not answered by any filter (request id " + ctx.request_id +
            "); this is a Perimeter defect"};
    co_await SendError(ctx, defect);
  }
  for (size_t i = ran; i-- > 0;) filters_[i]->OnComplete(ctx);
}

}  // namespace perimeter::pipeline
