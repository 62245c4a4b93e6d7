#include "api/access_filter.h"

#include "api/audit_filter.h"

#include "api/front_door_filters.h"

#include <algorithm>

#include "common/strings.h"
#include "identity/sigv4_verifier.h"

namespace perimeter::api {

using pipeline::ApiError;
using pipeline::ApiFlavor;
using pipeline::FilterStatus;
using pipeline::Operation;
using pipeline::RequestContext;

namespace {

constexpr size_t kMaxTenantHeaderBytes = 64;

ApiError Deny(const RequestContext& ctx, const std::string& message) {
  return pipeline::ErrorFromStatus(ctx.flavor, PermissionDenied(message));
}

// SigV4 failures in the STS front door's vocabulary (the Query protocol's error codes).
ApiError ForFlavor(ApiFlavor flavor, const identity::AuthError& e) {
  if (flavor != ApiFlavor::kSts) return ApiError{e.http_status, e.type, "", e.message};
  std::string code = e.type;
  if (e.type == "UnrecognizedClientException") code = "InvalidClientTokenId";
  if (e.type == "InvalidSignatureException") code = "SignatureDoesNotMatch";
  if (e.type == "ExpiredTokenException") code = "ExpiredToken";
  if (e.type == "MissingAuthenticationTokenException") code = "MissingAuthenticationToken";
  if (e.type == "IncompleteSignatureException") code = "IncompleteSignature";
  if (e.type == "ServiceUnavailableException") code = "ServiceUnavailable";
  return ApiError{e.http_status, code, "", e.message};
}

bool IsModelOperation(Operation op) {
  switch (op) {
    case Operation::kInvokeModel:
    case Operation::kInvokeModelWithResponseStream:
    case Operation::kConverse:
    case Operation::kConverseStream:
    case Operation::kChatCompletions:
    case Operation::kEmbeddings:
    case Operation::kListModels:
    case Operation::kApplyGuardrail:
      return true;
    default:
      return false;
  }
}

// The first binding of the config that matches the request (its API key or tenant), for a
// request that names no guardrail: OpenAI requests always, Bedrock ones when the binding says so.
const config::GuardrailBindingConfig* BindingFor(const config::GuardrailsSectionConfig& g,
                                                 const RequestContext& ctx) {
  if (ctx.operation == Operation::kApplyGuardrail || ctx.operation == Operation::kListModels ||
      ctx.operation == Operation::kEmbeddings) {
    return nullptr;
  }
  for (const auto& b : g.bindings) {
    if (b.openai_only && ctx.flavor != ApiFlavor::kOpenAi) continue;
    if (!b.tenant.empty() && (!ctx.tenant || *ctx.tenant != b.tenant)) continue;
    if (!b.api_key_id.empty() && ctx.credential_id != b.api_key_id) continue;
    return &b;
  }
  return nullptr;
}

}  // namespace

std::string GuardrailArn(std::string_view identifier, std::string_view region,
                         std::string_view account) {
  if (StartsWith(identifier, "arn:")) return std::string(identifier);
  return "arn:aws:bedrock:" + std::string(region) + ":" + std::string(account) + ":guardrail/" +
         std::string(identifier);
}

std::string_view ActionFor(const RequestContext& ctx) {
  switch (ctx.operation) {
    case Operation::kInvokeModel:
    case Operation::kConverse:
    case Operation::kEmbeddings:
      return "bedrock:InvokeModel";
    case Operation::kInvokeModelWithResponseStream:
    case Operation::kConverseStream:
      return "bedrock:InvokeModelWithResponseStream";
    case Operation::kChatCompletions:
      return ctx.chat && ctx.chat->stream ? "bedrock:InvokeModelWithResponseStream"
                                          : "bedrock:InvokeModel";
    case Operation::kListModels:
      return "bedrock:ListFoundationModels";
    case Operation::kApplyGuardrail:
      return "bedrock:ApplyGuardrail";
    default:
      return "";
  }
}

namespace {

// The decision is plain code; the coroutine only sends. (That also keeps temporaries out of
// co_await expressions, which GCC 12 destroys twice.)
boost::asio::awaitable<FilterStatus> SendIfRefused(RequestContext& ctx,
                                                   std::optional<ApiError> refusal) {
  if (!refusal) co_return FilterStatus::kContinue;
  co_await pipeline::SendError(ctx, *refusal);
  co_return FilterStatus::kStop;
}

}  // namespace

boost::asio::awaitable<FilterStatus> AuthenticationFilter::OnRequest(RequestContext& ctx) const {
  std::optional<ApiError> refusal = Check(ctx);
  co_return co_await SendIfRefused(ctx, std::move(refusal));
}

boost::asio::awaitable<FilterStatus> AuthorizationFilter::OnRequest(RequestContext& ctx) const {
  std::optional<ApiError> refusal = Check(ctx);
  co_return co_await SendIfRefused(ctx, std::move(refusal));
}

std::optional<ApiError> AuthenticationFilter::Check(RequestContext& ctx) const {
  // Decrypting a key's secret on its first use is a key use of this request.
  const RequestKeyUseScope key_uses(ctx);
  ctx.flavor = FlavorForRequest(ctx.request);
  if (ctx.flavor == ApiFlavor::kPlain) return std::nullopt;  // health, metrics
  const auto& req = ctx.request;
  const config::AccessConfig& access = directory_->config().access;
  std::shared_ptr<const iam::Caller> caller;
  if (ctx.flavor == ApiFlavor::kOpenAi) {
    const std::string* auth = req.Header("authorization");
    if (auth == nullptr || !StartsWith(*auth, "Bearer ") || auth->size() <= 7) {
      return ApiError{401, "invalid_request_error", "",
                      "You didn't provide an API key. You need to provide your API key in an "
                      "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                      "YOUR_KEY). Create one with `perimeter credentials create --type "
                      "api-key`."};
    }
    auto c = directory_->CallerForApiKey(TrimWhitespace(std::string_view(*auth).substr(7)));
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kUnavailable) {
        return pipeline::ErrorFromStatus(ctx.flavor, c.status());
      }
      return ApiError{401, "invalid_request_error", "invalid_api_key", c.status().message()};
    }
    caller = std::make_shared<const iam::Caller>(std::move(*c));
  } else {
    identity::ReceivedRequest rr{req.method, req.path, req.query, req.headers, req.body};
    identity::VerifyOptions opts;
    opts.max_skew = access.clock_skew;
    opts.expected_service = ctx.flavor == ApiFlavor::kSts     ? "sts"
                            : ctx.flavor == ApiFlavor::kKms   ? "kms"
                            : ctx.flavor == ApiFlavor::kAudit ? "perimeter"
                                                              : "bedrock";
    opts.allowed_regions = access.regions;
    opts.allow_unsigned_payload = ctx.flavor == ApiFlavor::kBedrock && ctx.secure_transport;
    auto lookup = [this](std::string_view akid, std::string_view token) {
      return directory_->SecretFor(akid, token);
    };
    identity::SigV4Verification v = identity::VerifySigV4(rr, lookup, directory_->clock(), opts);
    if (!v.ok()) return ForFlavor(ctx.flavor, v.error());
    auto c = directory_->CallerForAccessKey(v.caller().access_key_id, v.caller().session_token);
    if (!c.ok()) return ForFlavor(ctx.flavor, identity::AuthErrorFrom(c.status()));
    caller = std::make_shared<const iam::Caller>(std::move(*c));
    ctx.signed_region = v.caller().region;
    ctx.signed_headers = v.caller().signed_headers;
  }
  ctx.principal_arn = caller->arn;
  ctx.credential_id = caller->credential_id;
  ctx.caller = std::move(caller);
  return std::nullopt;
}

std::optional<ApiError> AuthorizationFilter::Check(RequestContext& ctx) const {
  if (!IsModelOperation(ctx.operation)) return std::nullopt;  // STS runs its own checks
  if (!ctx.caller) {
    // Authentication runs first for every request that reaches here; no caller is a chain
    // defect, and the answer to a defect is no.
    return Deny(ctx, "the request was not authenticated");
  }
  const auto& req = ctx.request;
  const config::AccessConfig& access = directory_->config().access;
  std::shared_ptr<const iam::Caller> caller = ctx.caller;
  const bool bearer = ctx.flavor == ApiFlavor::kOpenAi;
  const std::vector<std::string>& signed_headers = ctx.signed_headers;

  // 2. Region and resource.
  access::RequestFacts facts;
  facts.source_ip = ctx.source_ip;
  facts.secure_transport = ctx.secure_transport;
  facts.requested_region = bearer ? access.regions.front() : ctx.signed_region;
  facts.now = directory_->clock().Now();
  facts.listener = ctx.listener_name;
  const std::string action(ActionFor(ctx));
  std::string resource;
  if (ctx.operation == Operation::kListModels) {
    resource = "*";
  } else if (ctx.operation == Operation::kApplyGuardrail) {
    resource = GuardrailArn(ctx.guardrail->identifier, facts.requested_region, access.account_id);
  } else {
    resource = access::Authorizer::ModelArn(ctx.model_id, facts.requested_region);
  }
  if (std::string_view r = access::Authorizer::ArnRegion(resource);
      !r.empty() &&
      std::find(access.regions.begin(), access.regions.end(), r) == access.regions.end()) {
    return Deny(ctx, "User: " + caller->arn + " is not authorized to perform: " + action +
                         " on resource: " + resource + " because region " + std::string(r) +
                         " is outside this deployment's regions");
  }

  // 3. Tenant. A principal tagged perimeter:tenant (or a session issued for a tenant) is bound
  // to that tenant: a header may repeat it but not name another. Untagged principals name their
  // tenant with the header, and the tenant role's trust policy decides whether they may.
  size_t tenant_headers = 0;
  for (const auto& [name, value] : req.headers) tenant_headers += name == "x-perimeter-tenant";
  if (tenant_headers > 1) {
    return Deny(ctx, "the request has " + std::to_string(tenant_headers) +
                         " x-perimeter-tenant headers; send exactly one");
  }
  std::string bound = caller->origin_tenant;
  if (auto t = caller->tags.find("perimeter:tenant"); t != caller->tags.end()) bound = t->second;
  std::string tenant_id = bound;
  if (const std::string* h = req.Header("x-perimeter-tenant")) {
    if (!bearer && std::find(signed_headers.begin(), signed_headers.end(), "x-perimeter-tenant") ==
                       signed_headers.end()) {
      return Deny(ctx,
                  "the x-perimeter-tenant header must be signed (listed in "
                  "SignedHeaders) to name the request's tenant");
    }
    tenant_id = h->substr(0, kMaxTenantHeaderBytes);
    if (!bound.empty() && tenant_id != bound) {
      return Deny(ctx, "User: " + caller->arn + " is bound to tenant '" + bound +
                           "' and cannot act for tenant '" + tenant_id + "'");
    }
  }
  std::shared_ptr<const iam::Caller> session;
  if (!tenant_id.empty() || !access.tenants.empty()) {
    if (tenant_id.empty()) {
      return Deny(ctx,
                  "User: " + caller->arn +
                      " has no tenant: this deployment serves tenants, so a request must name one "
                      "with a signed x-perimeter-tenant header or come from a principal tagged "
                      "perimeter:tenant");
    }
    auto t = std::find_if(access.tenants.begin(), access.tenants.end(),
                          [&](const config::TenantConfig& tc) { return tc.id == tenant_id; });
    if (t == access.tenants.end()) {
      return Deny(ctx, "User: " + caller->arn + " named tenant '" + tenant_id +
                           "', which this deployment does not serve");
    }
    // A deleted tenant (its key scheduled for destruction) is served no more; if its state cannot
    // be read, fail closed.
    auto record = directory_->keys().kms->GetTenant(tenant_id);
    if (!record.ok()) {
      return pipeline::ErrorFromStatus(
          ctx.flavor, Unavailable("the state of tenant '" + tenant_id +
                                  "' cannot be read: " + record.status().message()));
    }
    if (record->has_value() && (*record)->state == kms::TenantState::kDeleted) {
      return Deny(ctx, "tenant '" + tenant_id +
                           "' was deleted: its key is scheduled for destruction and no request "
                           "runs in it any more");
    }
    facts.tenant = tenant_id;
    if (caller->is_session && caller->principal_arn == t->role_arn) {
      session = caller;  // already running in the tenant's role
    } else {
      auto role = directory_->FindRole(t->role_arn);
      if (!role) {
        return Deny(ctx, "the role of tenant '" + tenant_id +
                             "' is deactivated or missing, so no request can run in it");
      }
      access::RequestFacts assume = facts;
      assume.extra["sts:RoleSessionName"] = {"perimeter-" + tenant_id};
      access::AccessDecision d =
          authorizer_->Authorize(*caller, "sts:AssumeRole", t->role_arn, assume, role->trust);
      if (!d.allowed()) return Deny(ctx, d.message);
      iam::SessionRequest sr;
      sr.role_session_name = "perimeter-" + tenant_id;
      sr.duration = iam::kMinSessionDuration;
      sr.tenant = tenant_id;
      auto s = directory_->SessionCaller(*caller, *role, sr);
      if (!s.ok()) return pipeline::ErrorFromStatus(ctx.flavor, s.status());
      session = std::make_shared<const iam::Caller>(std::move(*s));
    }
    ctx.tenant = tenant_id;
  }

  // 4. The guardrail: the one the request names, else a binding's. Its ARN (with ":<version>"
  // for a numbered version) is the bedrock:GuardrailIdentifier condition key, so a policy can
  // require one; a request with none has no such key.
  if (!ctx.guardrail) {
    if (const config::GuardrailBindingConfig* b =
            BindingFor(directory_->config().guardrails, ctx)) {
      model::GuardrailRequest g;
      g.identifier = b->guardrail;
      g.version = b->version;
      g.stream_processing_mode = b->stream_processing_mode;
      ctx.guardrail = std::move(g);
      ctx.guardrail_from_binding = true;
    }
  }
  std::string guardrail_arn;
  if (ctx.guardrail) {
    guardrail_arn =
        GuardrailArn(ctx.guardrail->identifier, facts.requested_region, access.account_id);
    ctx.guardrail_arn = ctx.guardrail->version == "DRAFT"
                            ? guardrail_arn
                            : guardrail_arn + ":" + ctx.guardrail->version;
    if (ctx.operation != Operation::kApplyGuardrail)
      facts.extra["bedrock:GuardrailIdentifier"] = {ctx.guardrail_arn};
  }

  // 5. Authorization: the caller, and the tenant session it runs in. A guardrail the caller
  // names is used on its behalf, so (as in Bedrock) it also needs bedrock:ApplyGuardrail on it;
  // a binding's guardrail is the deployment's, and needs no permission of the caller.
  std::vector<std::pair<std::string, std::string>> checks{{action, resource}};
  if (ctx.guardrail && !ctx.guardrail_from_binding && ctx.operation != Operation::kApplyGuardrail)
    checks.emplace_back("bedrock:ApplyGuardrail", guardrail_arn);
  ctx.deciding_statements.clear();
  for (const auto& [act, res] : checks) {
    access::AccessDecision d = authorizer_->Authorize(*caller, act, res, facts);
    if (!d.allowed()) return Deny(ctx, d.message);
    for (auto& s : d.DecidingStatements()) ctx.deciding_statements.push_back(std::move(s));
    if (session && session != caller) {
      access::AccessDecision ds = authorizer_->Authorize(*session, act, res, facts);
      if (!ds.allowed()) return Deny(ctx, ds.message);
      for (auto& s : ds.DecidingStatements()) ctx.deciding_statements.push_back(std::move(s));
    }
  }
  if (session) ctx.caller = session;
  return std::nullopt;
}

}  // namespace perimeter::api
