#include "api/audit_api_filter.h"

#include <boost/json.hpp>

#include "api/audit_filter.h"
#include "api/kms_filter.h"
#include "audit/query.h"
#include "common/clock.h"
#include "common/strings.h"
#include "redact/vault.h"

namespace perimeter::api {

namespace json = boost::json;
using pipeline::FilterStatus;
using pipeline::RequestContext;

namespace {

constexpr std::string_view kContentType = "application/x-amz-json-1.1";
constexpr std::string_view kTargetPrefix = "PerimeterAudit.";
constexpr size_t kMaxBodyBytes = 16 * 1024;
constexpr int64_t kDefaultLimit = 1000;
constexpr int64_t kMaxLimit = 10000;

std::pair<int, std::string> Error(RequestContext& ctx, int status, std::string type,
                                  std::string message) {
  ctx.error_type = type;
  return {status, json::serialize(json::object{{"__type", type}, {"message", message}})};
}

std::pair<int, std::string> FromStatus(RequestContext& ctx, const Status& s) {
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
      return Error(ctx, 400, "AccessDeniedException", s.message());
    case StatusCode::kNotFound:
      return Error(ctx, 400, "NotFoundException", s.message());
    case StatusCode::kInvalidArgument:
      return Error(ctx, 400, "ValidationException", s.message());
    case StatusCode::kUnavailable:
      return Error(ctx, 503, "ServiceUnavailableException", s.message());
    case StatusCode::kFailedPrecondition:
      return Error(ctx, 400, "KMSInvalidStateException", s.message());
    default:
      return Error(ctx, 500, "InternalFailure", s.message());
  }
}

// A string member; nullopt when absent; `bad` names a member of the wrong type.
std::optional<std::string> Str(const json::object& o, std::string_view name, std::string* bad) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string() || v->as_string().size() > 2048) {
    *bad = std::string(name) + " must be a string of at most 2048 characters";
    return std::nullopt;
  }
  return std::string(v->as_string());
}

}  // namespace

boost::asio::awaitable<FilterStatus> AuditApiFilter::OnRequest(RequestContext& ctx) const {
  if (ctx.flavor != pipeline::ApiFlavor::kAudit) co_return FilterStatus::kContinue;
  std::pair<int, std::string> answer = Handle(ctx);
  ctx.status = answer.first;
  pipeline::HttpReply reply =
      pipeline::MakeReply(answer.first, std::string(kContentType), std::move(answer.second));
  (void)co_await ctx.writer->Send(std::move(reply));
  co_return FilterStatus::kStop;
}

std::pair<int, std::string> AuditApiFilter::Handle(RequestContext& ctx) const {
  const RequestKeyUseScope key_uses(ctx);
  if (!ctx.caller) {
    return Error(ctx, 400, "MissingAuthenticationTokenException",
                 "Request is missing Authentication Token");
  }
  const std::string* target = ctx.request.Header("x-amz-target");
  const std::string op = target != nullptr && StartsWith(*target, kTargetPrefix)
                             ? target->substr(kTargetPrefix.size())
                             : "";
  // An unknown target is refused before the body is read, as AWS JSON services do.
  if (op != "QueryEvents" && op != "GetInvocationRecord") {
    return Error(ctx, 400, "UnknownOperationException",
                 "unknown operation '" + op.substr(0, 64) +
                     "'; the audit API serves PerimeterAudit.QueryEvents and "
                     "PerimeterAudit.GetInvocationRecord");
  }
  if (ctx.request.body.size() > kMaxBodyBytes) {
    return Error(ctx, 400, "ValidationException", "the request body is larger than 16 KiB");
  }
  boost::system::error_code ec;
  json::value doc = json::parse(ctx.request.body, ec);
  if (ec || !doc.is_object()) {
    return Error(ctx, 400, "SerializationException",
                 "the request body must be a JSON object (application/x-amz-json-1.1)");
  }
  const json::object& o = doc.as_object();
  std::string bad;
  auto tenant = Str(o, "Tenant", &bad);
  if (!bad.empty()) return Error(ctx, 400, "ValidationException", bad);
  if (!tenant || !redact::IsValidTenantId(*tenant)) {
    return Error(ctx, 400, "ValidationException",
                 "Tenant is required: the tenant whose records to read (1-63 of a-z 0-9 '-')");
  }
  const kms::KeyCaller caller = KeyCallerFor(*ctx.caller);
  const auto& kms_options = directory_->keys().kms->options();

  if (op == "QueryEvents") {
    const std::string resource = "arn:aws:perimeter:" + kms_options.region + ":" +
                                 kms_options.account_id + ":audit/" + *tenant;
    const std::string denial = redact::AuthorizeTenantAction(
        caller, kQueryAuditEventsAction, resource, *tenant, directory_->clock().Now());
    if (!denial.empty()) return Error(ctx, 400, "AccessDeniedException", denial);
    audit::QueryFilter f;
    f.tenant = *tenant;  // never widened: the grant is on this tenant's audit log
    f.event_name = Str(o, "EventName", &bad);
    f.principal = Str(o, "Principal", &bad);
    f.model = Str(o, "ModelId", &bad);
    f.decision = Str(o, "Decision", &bad);
    f.request_id = Str(o, "RequestId", &bad);
    auto start = Str(o, "StartTime", &bad);
    auto end = Str(o, "EndTime", &bad);
    if (!bad.empty()) return Error(ctx, 400, "ValidationException", bad);
    for (auto [value, field, name] :
         {std::tuple{&start, &f.since, "StartTime"}, std::tuple{&end, &f.until, "EndTime"}}) {
      if (!*value) continue;
      auto t = ParseRfc3339Utc(**value);
      if (!t.ok()) {
        return Error(ctx, 400, "ValidationException",
                     std::string(name) + ": " + t.status().message());
      }
      *field = *t;
    }
    int64_t limit = kDefaultLimit;
    if (const json::value* l = o.if_contains("Limit")) {
      if (!l->is_int64() || l->as_int64() < 1 || l->as_int64() > kMaxLimit) {
        return Error(ctx, 400, "ValidationException", "Limit must be an integer from 1 to 10000");
      }
      limit = l->as_int64();
    }
    f.limit = static_cast<size_t>(limit);
    auto log = audit::ReadLog(audit_dir_);
    if (!log.ok()) return FromStatus(ctx, log.status());
    auto hits = audit::Query(*log, f);
    if (!hits.ok()) return FromStatus(ctx, hits.status());
    std::string body = "{\"Events\":[";
    for (size_t i = 0; i < hits->size(); ++i) {
      if (i > 0) body += ",";
      body += (*hits)[i].event_json;
    }
    body += "]}";
    return {200, std::move(body)};
  }

  // GetInvocationRecord (the only other operation; unknown ones were refused above).
  {
    auto request_id = Str(o, "RequestId", &bad);
    if (!bad.empty()) return Error(ctx, 400, "ValidationException", bad);
    if (!request_id) return Error(ctx, 400, "ValidationException", "RequestId is required");
    if (!invocations_) {
      // Still an authorization question first: an unauthorized caller learns nothing.
      const std::string resource = "arn:aws:perimeter:" + kms_options.region + ":" +
                                   kms_options.account_id + ":invocation-log/" + *tenant;
      const std::string denial =
          redact::AuthorizeTenantAction(caller, redact::kReadInvocationRecordAction, resource,
                                        *tenant, directory_->clock().Now());
      if (!denial.empty()) return Error(ctx, 400, "AccessDeniedException", denial);
      return Error(ctx, 400, "NotFoundException",
                   "no tenant of this gateway keeps invocation records (set "
                   "access.tenants[].invocation_records)");
    }
    auto doc_text = invocations_->Read(caller, *tenant, *request_id);
    if (!doc_text.ok()) return FromStatus(ctx, doc_text.status());
    return {200, "{\"Record\":" + *doc_text + "}"};
  }
}

}  // namespace perimeter::api
