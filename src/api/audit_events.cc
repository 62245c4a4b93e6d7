#include "api/audit_events.h"

#include <algorithm>
#include <utility>
#include <variant>

#include <boost/json.hpp>

#include "access/authorizer.h"
#include "api/access_filter.h"
#include "common/strings.h"
#include "iam/directory.h"
#include "iam/sts_protocol.h"
#include "kms/kms.h"

namespace perimeter::api {

namespace json = boost::json;

using pipeline::ApiFlavor;
using pipeline::Operation;
using pipeline::RequestContext;

namespace {

constexpr size_t kMaxUserAgentBytes = 256;
constexpr size_t kMaxHostHeaderBytes = 256;
constexpr size_t kMaxNameBytes = 64;  // operation names taken from the request
constexpr size_t kMaxErrorCodeBytes = 128;
constexpr size_t kMaxParsedBodyBytes = 64 * 1024;  // KMS and STS bodies are bounded so

constexpr std::string_view kBedrockSource = "bedrock.amazonaws.com";
constexpr std::string_view kStsSource = "sts.amazonaws.com";
constexpr std::string_view kKmsSource = "kms.amazonaws.com";
constexpr std::string_view kAuditApiSource = "perimeter.audit";
constexpr std::string_view kGatewaySource = "perimeter.gateway";  // health, readiness, metrics

// A name that came from the request (an X-Amz-Target operation, an STS Action) or from an
// upstream (an error type), kept only if it looks like one: letters, digits and "_.:-".
std::string NameOrEmpty(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return "";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return "";
  }
  return std::string(s);
}

bool IsInvocation(Operation op) {
  switch (op) {
    case Operation::kInvokeModel:
    case Operation::kInvokeModelWithResponseStream:
    case Operation::kConverse:
    case Operation::kConverseStream:
    case Operation::kChatCompletions:
    case Operation::kEmbeddings:
      return true;
    default:
      return false;
  }
}

std::string_view EventSourceFor(const RequestContext& ctx) {
  switch (ctx.operation) {
    case Operation::kInvokeModel:
    case Operation::kInvokeModelWithResponseStream:
    case Operation::kConverse:
    case Operation::kConverseStream:
    case Operation::kApplyGuardrail:
      return kBedrockSource;
    case Operation::kChatCompletions:
    case Operation::kEmbeddings:
      return kOpenAiEventSource;
    case Operation::kListModels:
      return ctx.flavor == ApiFlavor::kBedrock ? kBedrockSource : kOpenAiEventSource;
    case Operation::kStsAssumeRole:
    case Operation::kStsGetCallerIdentity:
    case Operation::kStsUnknown:
      return kStsSource;
    case Operation::kKms:
      return kKmsSource;
    case Operation::kAuditApi:
      return kAuditApiSource;
    default:
      break;
  }
  switch (ctx.flavor) {
    case ApiFlavor::kBedrock:
      return kBedrockSource;
    case ApiFlavor::kOpenAi:
      return kOpenAiEventSource;
    case ApiFlavor::kSts:
      return kStsSource;
    case ApiFlavor::kKms:
      return kKmsSource;
    case ApiFlavor::kAudit:
      return kAuditApiSource;
    case ApiFlavor::kPlain:
      break;
  }
  return kGatewaySource;
}

// The value of `name` in a form body ("Action=AssumeRole&..."), raw; "" when absent.
std::string_view FormValue(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view param = body.substr(0, amp);
    if (param.size() > name.size() && StartsWith(param, name) && param[name.size()] == '=') {
      return param.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return {};
}

std::string KmsOperation(const RequestContext& ctx) {
  constexpr std::string_view kPrefix = "TrentService.";
  const std::string* target = ctx.request.Header("x-amz-target");
  if (target == nullptr || !StartsWith(*target, kPrefix)) return "";
  return NameOrEmpty(std::string_view(*target).substr(kPrefix.size()), kMaxNameBytes);
}

std::string EventNameFor(const RequestContext& ctx) {
  switch (ctx.operation) {
    case Operation::kListModels:
      return ctx.flavor == ApiFlavor::kBedrock ? "ListFoundationModels" : "ListModels";
    case Operation::kKms: {
      std::string op = KmsOperation(ctx);
      return op.empty() ? "Unknown" : op;
    }
    case Operation::kAuditApi: {
      const std::string* target = ctx.request.Header("x-amz-target");
      constexpr std::string_view kPrefix = "PerimeterAudit.";
      std::string op;
      if (target != nullptr && StartsWith(*target, kPrefix)) {
        op = NameOrEmpty(std::string_view(*target).substr(kPrefix.size()), kMaxNameBytes);
      }
      return op.empty() ? "Unknown" : op;
    }
    case Operation::kStsUnknown: {
      std::string op;
      if (ctx.request.body.size() <= kMaxParsedBodyBytes) {
        op = NameOrEmpty(FormValue(ctx.request.body, "Action"), kMaxNameBytes);
      }
      if (op.empty()) op = NameOrEmpty(FormValue(ctx.request.query, "Action"), kMaxNameBytes);
      return op.empty() ? "Unknown" : op;
    }
    default:
      return std::string(pipeline::OperationName(ctx.operation));
  }
}

// The region model and guardrail ARNs are in: the one the request was signed for, else the
// deployment's (as the access filter resolves them).
std::string_view RequestRegion(const RequestContext& ctx, std::string_view region) {
  return ctx.signed_region.empty() ? region : std::string_view(ctx.signed_region);
}

std::string GuardrailArnOf(const RequestContext& ctx, std::string_view region,
                           std::string_view account_id) {
  if (!ctx.guardrail_arn.empty()) return ctx.guardrail_arn;
  if (!ctx.guardrail || ctx.guardrail->identifier.empty()) return "";
  std::string arn = GuardrailArn(ctx.guardrail->identifier, RequestRegion(ctx, region), account_id);
  if (!ctx.guardrail->version.empty() && ctx.guardrail->version != "DRAFT") {
    arn += ":" + ctx.guardrail->version;
  }
  return arn;
}

// The identity of the request: its caller (the tenant session once it runs in one).
audit::UserIdentity IdentityOf(const RequestContext& ctx) {
  audit::UserIdentity u;
  u.access_key_id = ctx.credential_id;
  if (!ctx.caller) {
    u.type = "Unknown";
    return u;
  }
  const iam::Caller& c = *ctx.caller;
  u.principal_id = c.user_id;
  u.arn = c.arn;
  u.account_id = c.account_id;
  if (u.access_key_id.empty()) u.access_key_id = c.credential_id;
  if (c.is_session) {
    u.type = "AssumedRole";
    audit::SessionContext s;
    s.session_issuer_arn = c.principal_arn;
    s.source_identity = c.source_identity;
    u.session_context = std::move(s);
  } else if (ctx.flavor == ApiFlavor::kOpenAi || StartsWith(u.access_key_id, "prm_")) {
    u.type = "APIKey";
  } else {
    u.type = "IAMUser";
  }
  return u;
}

// What every event of a request shares: who, when, from where, over what.
audit::Event RequestBase(const RequestContext& ctx, std::string_view region,
                         std::string_view account_id) {
  audit::Event e;
  e.event_time = ctx.received_at;
  e.event_source = std::string(EventSourceFor(ctx));
  e.aws_region = std::string(region);
  e.source_ip_address = ctx.source_ip.ToString();
  if (const std::string* ua = ctx.request.Header("user-agent")) {
    e.user_agent = TruncateUtf8(*ua, kMaxUserAgentBytes);
  }
  e.user_identity = IdentityOf(ctx);
  e.request_id = ctx.request_id;
  e.event_id = audit::NewEventId();
  e.recipient_account_id = std::string(account_id);
  if (!ctx.tls_version.empty()) {
    audit::TlsDetails tls;
    tls.tls_version = ctx.tls_version;
    tls.cipher_suite = ctx.tls_cipher;
    if (const std::string* host = ctx.request.Header("host")) {
      tls.client_provided_host_header = TruncateUtf8(*host, kMaxHostHeaderBytes);
    }
    e.tls_details = std::move(tls);
  }
  if (ctx.tenant) e.tenant_id = *ctx.tenant;
  return e;
}

// Model and guardrail resources of a Bedrock or OpenAI request.
void AddModelResources(const RequestContext& ctx, std::string_view region,
                       std::string_view account_id, audit::Event& e) {
  if (!ctx.model_id.empty() && ctx.operation != Operation::kApplyGuardrail) {
    e.resources.push_back(
        {{"ARN", access::Authorizer::ModelArn(ctx.model_id, RequestRegion(ctx, region))},
         {"type", "AWS::Bedrock::Model"}});
  }
  const std::string guardrail = GuardrailArnOf(ctx, region, account_id);
  if (!guardrail.empty()) {
    e.resources.push_back({{"ARN", guardrail}, {"type", "AWS::Bedrock::Guardrail"}});
  }
}

std::optional<audit::GuardrailAudit> GuardrailOf(const RequestContext& ctx, std::string_view region,
                                                 std::string_view account_id) {
  if (!ctx.guardrail_outcome) return std::nullopt;
  const pipeline::GuardrailOutcome& o = *ctx.guardrail_outcome;
  audit::GuardrailAudit g;
  g.id = GuardrailArnOf(ctx, region, account_id);
  if (ctx.guardrail) g.version = ctx.guardrail->version;
  g.input_action = o.input;
  g.output_action = o.output;
  g.policies = o.policies;
  g.entity_types = o.types;
  for (const auto& i : o.cross_tenant_incidents) {
    g.cross_tenant_incidents.push_back({i.type, i.owner_tenant});
  }
  return g;
}

bool IsAccessDenied(std::string_view error_type) {
  return error_type == "AccessDeniedException" || error_type == "AccessDenied" ||
         error_type == "permission_error";
}

// Deny when the request was refused for want of permission; Allow when it was authorized (the
// access filter recorded deciding statements) or went through with a caller; none otherwise
// (never authenticated, or refused before authorization, e.g. a malformed body).
std::optional<audit::Decision> DecisionOf(const RequestContext& ctx) {
  if (IsAccessDenied(ctx.error_type)) return audit::Decision{"Deny", ctx.deciding_statements};
  if (!ctx.caller || ctx.status == 401 || ctx.status == 403) return std::nullopt;
  const bool succeeded = ctx.status > 0 && ctx.status < 400 && ctx.error_type.empty();
  if (ctx.deciding_statements.empty() && !succeeded) return std::nullopt;
  return audit::Decision{"Allow", ctx.deciding_statements};
}

std::string RequestParametersOf(const RequestContext& ctx) {
  json::object p;
  switch (ctx.operation) {
    case Operation::kStsAssumeRole: {
      if (ctx.request.body.size() > kMaxParsedBodyBytes) break;
      auto parsed = iam::ParseStsRequest(ctx.request.body);
      if (const auto* sts = std::get_if<iam::StsRequest>(&parsed)) {
        const iam::AssumeRoleParams& a = sts->assume_role;
        p["roleArn"] = a.role_arn;
        p["roleSessionName"] = a.role_session_name;
        if (a.duration_seconds) p["durationSeconds"] = *a.duration_seconds;
        if (!a.source_identity.empty()) p["sourceIdentity"] = a.source_identity;
      }
      break;
    }
    case Operation::kKms: {
      // Only the key id: the body also holds plaintext, ciphertext and contexts.
      if (ctx.request.body.size() > kMaxParsedBodyBytes) break;
      boost::system::error_code ec;
      json::value body = json::parse(ctx.request.body, ec);
      if (ec || !body.is_object()) break;
      if (const json::value* k = body.as_object().if_contains("KeyId"); k && k->is_string()) {
        p["keyId"] = TruncateUtf8(k->get_string(), 2048);
      }
      break;
    }
    case Operation::kAuditApi: {
      // Which tenant and record were asked for; filters are ids and times, never content.
      if (ctx.request.body.size() > kMaxParsedBodyBytes) break;
      boost::system::error_code ec;
      json::value body = json::parse(ctx.request.body, ec);
      if (ec || !body.is_object()) break;
      for (const char* name : {"Tenant", "RequestId", "EventName", "Principal", "ModelId",
                               "Decision", "StartTime", "EndTime"}) {
        const json::value* v = body.as_object().if_contains(name);
        if (v != nullptr && v->is_string()) {
          std::string key(name);
          key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
          p[key] = TruncateUtf8(v->get_string(), 256);
        }
      }
      break;
    }
    default:
      if (!ctx.model_id.empty() && ctx.operation != Operation::kApplyGuardrail) {
        p["modelId"] = ctx.model_id;
      }
      if (ctx.guardrail) {
        p["guardrailIdentifier"] = ctx.guardrail->identifier;
        p["guardrailVersion"] = ctx.guardrail->version;
      }
      break;
  }
  return p.empty() ? "null" : json::serialize(p);
}

std::string ResponseElementsOf(const RequestContext& ctx) {
  const bool succeeded = ctx.status > 0 && ctx.status < 400 && ctx.error_type.empty();
  if (!succeeded) return "null";
  if (IsInvocation(ctx.operation)) {
    return json::serialize(json::object{{"inputTokens", ctx.usage.input_tokens},
                                        {"outputTokens", ctx.usage.output_tokens}});
  }
  if (ctx.operation == Operation::kApplyGuardrail && ctx.guardrail_outcome) {
    const bool intervened =
        ctx.guardrail_outcome->input != "NONE" || ctx.guardrail_outcome->output != "NONE";
    return json::serialize(json::object{{"action", intervened ? "GUARDRAIL_INTERVENED" : "NONE"}});
  }
  return "null";
}

// The CloudTrail resource type of an ARN Perimeter names in admin events.
std::string ResourceTypeOf(std::string_view arn) {
  const std::string_view service = ArnField(arn, 2);
  const std::string_view resource = ArnField(arn, 5);
  if (service == "iam" && StartsWith(resource, "user/")) return "AWS::IAM::User";
  if (service == "iam" && StartsWith(resource, "role/")) return "AWS::IAM::Role";
  if (service == "kms" && StartsWith(resource, "key/")) return "AWS::KMS::Key";
  if (service == "kms" && StartsWith(resource, "alias/")) return "AWS::KMS::Alias";
  if (service == "bedrock" && StartsWith(resource, "guardrail/")) return "AWS::Bedrock::Guardrail";
  if (service == "bedrock" && StartsWith(resource, "foundation-model/")) {
    return "AWS::Bedrock::Model";
  }
  return "Perimeter::Resource";
}

}  // namespace

audit::Event InvocationEvent(const RequestContext& ctx, std::string_view region,
                             std::string_view account_id) {
  audit::Event e = RequestBase(ctx, region, account_id);
  e.event_name = EventNameFor(ctx);
  e.request_parameters_json = RequestParametersOf(ctx);
  e.response_elements_json = ResponseElementsOf(ctx);
  if (!ctx.error_type.empty() || ctx.status >= 400) {
    e.error_code = NameOrEmpty(ctx.error_type, kMaxErrorCodeBytes);
    if (e.error_code.empty()) e.error_code = "HTTP" + std::to_string(ctx.status);
    // A fixed description: the reply's message may quote the request, so it is not copied.
    e.error_message = ctx.status > 0 ? "HTTP " + std::to_string(ctx.status)
                                     : "the request ended before a response was sent";
  }

  switch (ctx.operation) {
    case Operation::kStsAssumeRole:
    case Operation::kStsGetCallerIdentity:
    case Operation::kStsUnknown:
      e.management_event = true;
      e.event_category = "Management";
      e.read_only = ctx.operation == Operation::kStsGetCallerIdentity;
      if (ctx.operation == Operation::kStsAssumeRole) {
        boost::system::error_code ec;
        json::value p = json::parse(e.request_parameters_json, ec);
        if (!ec && p.is_object()) {
          if (const json::value* role = p.as_object().if_contains("roleArn");
              role && role->is_string()) {
            e.resources.push_back(
                {{"ARN", std::string(role->get_string())}, {"type", "AWS::IAM::Role"}});
          }
        }
      }
      break;
    case Operation::kAuditApi:
      e.management_event = true;
      e.event_category = "Management";
      e.read_only = true;
      break;
    case Operation::kKms: {
      e.management_event = true;
      e.event_category = "Management";
      e.read_only = kms::KmsOperationIsReadOnly(e.event_name);
      std::vector<std::string> seen;
      for (const auto& k : ctx.key_uses) {
        if (k.key_id.empty()) continue;
        std::string arn = kms::KeyArnIn(k.key_id, region, account_id);
        if (std::find(seen.begin(), seen.end(), arn) != seen.end()) continue;
        seen.push_back(arn);
        e.resources.push_back(
            {{"ARN", arn}, {"type", "AWS::KMS::Key"}, {"accountId", std::string(account_id)}});
      }
      break;
    }
    case Operation::kListModels:
      e.management_event = true;
      e.event_category = "Management";
      e.read_only = true;
      break;
    default:
      e.management_event = false;
      e.event_category = "Data";
      AddModelResources(ctx, region, account_id, e);
      break;
  }

  e.decision = DecisionOf(ctx);
  e.guardrail = GuardrailOf(ctx, region, account_id);
  for (const auto& k : ctx.key_uses) {
    e.keys.push_back({k.key_id, k.key_version, k.operation, k.purpose});
  }
  e.http_status = ctx.status;
  return e;
}

audit::Event AdminEvent(std::string_view event_name, std::string_view resource_arn,
                        std::string request_parameters_json, const Status& outcome,
                        std::string_view region, std::string_view account_id, const Clock& clock) {
  audit::Event e;
  e.event_time = clock.Now();
  e.event_source = std::string(kAdminEventSource);
  e.event_name = std::string(event_name);
  e.aws_region = std::string(region);
  e.source_ip_address = "perimeter-cli";
  e.user_agent = "perimeter-cli";
  e.user_identity.type = "Operator";
  e.user_identity.arn = "arn:aws:iam::" + std::string(account_id) + ":root";
  e.user_identity.account_id = std::string(account_id);
  e.request_parameters_json =
      request_parameters_json.empty() ? "null" : std::move(request_parameters_json);
  if (!outcome.ok()) {
    e.error_code = std::string(StatusCodeName(outcome.code()));
    e.error_message = outcome.message();
  }
  e.event_id = audit::NewEventId();
  e.read_only = false;
  e.event_type = "PerimeterAdminAction";
  e.management_event = true;
  e.recipient_account_id = std::string(account_id);
  e.event_category = "Management";
  if (!resource_arn.empty()) {
    e.resources.push_back(
        {{"ARN", std::string(resource_arn)}, {"type", ResourceTypeOf(resource_arn)}});
  }
  return e;
}

audit::Event CrossTenantIncidentEvent(const RequestContext& ctx,
                                      const pipeline::GuardrailOutcome::Incident& i,
                                      std::string_view region, std::string_view account_id) {
  audit::Event e = RequestBase(ctx, region, account_id);
  e.event_name = "CrossTenantIdentifierBlocked";
  e.event_type = "AwsServiceEvent";
  e.request_parameters_json = RequestParametersOf(ctx);
  e.response_elements_json =
      json::serialize(json::object{{"entityType", i.type}, {"ownerTenant", i.owner_tenant}});
  e.management_event = false;
  e.event_category = "Data";
  AddModelResources(ctx, region, account_id, e);
  e.guardrail = GuardrailOf(ctx, region, account_id);
  return e;
}

}  // namespace perimeter::api
