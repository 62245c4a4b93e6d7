// The STS front door: AssumeRole and GetCallerIdentity over the Query protocol, for callers
// already authenticated by the access filter (SigV4 with service "sts").

#include <algorithm>
#include <variant>

#include "api/access_filter.h"
#include "common/strings.h"
#include "iam/sts_protocol.h"

namespace perimeter::api {

using pipeline::FilterStatus;
using pipeline::RequestContext;

namespace {

std::pair<int, std::string> StsErrorReply(RequestContext& ctx, const iam::StsError& e) {
  ctx.error_type = e.code;
  return {e.http_status, iam::EncodeStsError(e, ctx.request_id)};
}

}  // namespace

boost::asio::awaitable<FilterStatus> StsFilter::OnRequest(RequestContext& ctx) const {
  if (ctx.flavor != pipeline::ApiFlavor::kSts) co_return FilterStatus::kContinue;
  std::pair<int, std::string> answer = Handle(ctx);
  ctx.status = answer.first;
  pipeline::HttpReply reply = pipeline::MakeReply(
      answer.first, std::string(iam::kStsResponseContentType), std::move(answer.second));
  (void)co_await ctx.writer->Send(std::move(reply));
  co_return FilterStatus::kStop;
}

std::pair<int, std::string> StsFilter::Handle(RequestContext& ctx) const {
  if (!ctx.caller) {
    // The access filter runs first and authenticates every STS request; reaching here without a
    // caller is a chain defect. Refuse rather than serve anonymously.
    iam::StsError e = iam::MakeStsError(iam::StsErrorCode::kMissingAuthenticationToken,
                                        "Request is missing Authentication Token");
    return StsErrorReply(ctx, e);
  }
  auto parsed = iam::ParseStsRequest(ctx.request.body);
  if (auto* err = std::get_if<iam::StsError>(&parsed)) return StsErrorReply(ctx, *err);
  const iam::StsRequest& sts = std::get<iam::StsRequest>(parsed);
  const iam::Caller& caller = *ctx.caller;

  if (sts.action == iam::StsAction::kGetCallerIdentity) {
    // Like STS: no permission is needed to ask who you are.
    std::string body = iam::EncodeGetCallerIdentityResponse(caller.user_id, caller.account_id,
                                                            caller.arn, ctx.request_id);
    return {200, std::move(body)};
  }

  const iam::AssumeRoleParams& p = sts.assume_role;
  if (!p.transitive_tag_keys.empty()) {
    return StsErrorReply(
        ctx, iam::MakeStsError(iam::StsErrorCode::kInvalidParameterValue,
                               "TransitiveTagKeys is not supported by this STS endpoint: session "
                               "tags do not pass on to chained sessions; omit it"));
  }
  access::RequestFacts facts;
  facts.source_ip = ctx.source_ip;
  facts.secure_transport = ctx.secure_transport;
  facts.requested_region = ctx.signed_region;
  facts.now = directory_->clock().Now();
  facts.listener = ctx.listener_name;
  facts.extra["sts:RoleSessionName"] = {p.role_session_name};
  // A source identity, once set, follows the session through role chaining; each role in the
  // chain must allow it (sts:SetSourceIdentity), as in AWS.
  const std::string& source_identity =
      p.source_identity.empty() ? caller.source_identity : p.source_identity;
  if (!source_identity.empty()) facts.extra["sts:SourceIdentity"] = {source_identity};
  if (!p.external_id.empty()) facts.extra["sts:ExternalId"] = {p.external_id};
  std::vector<std::string> tag_keys;
  for (const auto& t : p.tags) {
    facts.extra["aws:RequestTag/" + t.key] = {t.value};
    tag_keys.push_back(t.key);
  }
  if (!tag_keys.empty()) facts.extra["aws:TagKeys"] = tag_keys;

  const auto denied = [&](std::string_view action) {
    return "User: " + caller.arn + " is not authorized to perform: " + std::string(action) +
           " on resource: " + p.role_arn;
  };
  // A missing role is reported like a denial, as STS does, so callers cannot probe for roles.
  auto role = directory_->FindRole(p.role_arn);
  if (!role) {
    return StsErrorReply(
        ctx, iam::MakeStsError(iam::StsErrorCode::kAccessDenied, denied("sts:AssumeRole")));
  }
  // sts:AssumeRole, plus sts:TagSession when tags are passed and sts:SetSourceIdentity when a
  // source identity is: each must be allowed by the trust policy (and, within the account, by
  // the caller's policies unless the trust policy names the caller), as in AWS.
  std::vector<std::string> actions{"sts:AssumeRole"};
  if (!p.tags.empty()) actions.emplace_back("sts:TagSession");
  if (!source_identity.empty()) actions.emplace_back("sts:SetSourceIdentity");
  for (const auto& action : actions) {
    access::AccessDecision d =
        authorizer_->Authorize(caller, action, p.role_arn, facts, role->trust);
    if (!d.allowed()) {
      return StsErrorReply(ctx, iam::MakeStsError(iam::StsErrorCode::kAccessDenied, d.message));
    }
    for (auto& s : d.DecidingStatements()) ctx.deciding_statements.push_back(std::move(s));
  }
  if (!caller.source_identity.empty() && !p.source_identity.empty() &&
      caller.source_identity != p.source_identity) {
    return StsErrorReply(
        ctx, iam::MakeStsError(iam::StsErrorCode::kValidationError,
                               "SourceIdentity cannot be changed once set: this session's source "
                               "identity is " +
                                   caller.source_identity));
  }

  const std::chrono::seconds max_duration =
      caller.is_session ? iam::kRoleChainingMaxDuration
                        : std::chrono::seconds(role->record.max_session_seconds);
  std::chrono::seconds duration{p.duration_seconds.value_or(3600)};
  if (duration > max_duration) {
    return StsErrorReply(
        ctx, iam::MakeStsError(
                 iam::StsErrorCode::kValidationError,
                 "The requested DurationSeconds exceeds the MaxSessionDuration set for this role" +
                     std::string(caller.is_session ? " (1 hour when chaining roles)" : "") +
                     ": at most " + std::to_string(max_duration.count()) + " seconds"));
  }
  iam::SessionRequest sr;
  sr.role_session_name = p.role_session_name;
  sr.duration = duration;
  // Session tags are the request's own. Transitive tags are not supported: a request that
  // names TransitiveTagKeys is refused above rather than silently given a narrower session.
  for (const auto& t : p.tags) sr.tags[t.key] = t.value;
  sr.source_identity = source_identity;
  sr.session_policy_json = p.policy;
  if (!sr.session_policy_json.empty()) {
    auto pol = policy::Policy::Parse(sr.session_policy_json, policy::PolicyKind::kIdentity);
    if (!pol.ok()) {
      return StsErrorReply(
          ctx, iam::MakeStsError(iam::StsErrorCode::kMalformedPolicyDocument,
                                 "The session policy is not valid: " + pol.status().message()));
    }
  }
  const auto& tenants = directory_->config().access.tenants;
  auto t = std::find_if(tenants.begin(), tenants.end(), [&](const config::TenantConfig& tc) {
    return tc.role_arn == role->record.arn;
  });
  if (t != tenants.end()) sr.tenant = t->id;
  auto creds = directory_->IssueSession(caller, *role, sr);
  if (!creds.ok()) {
    return StsErrorReply(
        ctx, iam::MakeStsError(iam::StsErrorCode::kInternalFailure,
                               "the session could not be issued; see the gateway's log"));
  }
  iam::AssumeRoleResult r;
  r.access_key_id = creds->access_key_id;
  r.secret_access_key = std::string(creds->secret_access_key.RevealSecretForUse());
  r.session_token = creds->session_token;
  r.expiration = creds->expiration;
  r.assumed_role_id = creds->assumed_role_id;
  r.assumed_role_arn = creds->assumed_role_arn;
  r.source_identity = sr.source_identity;
  if (!p.policy.empty() || !p.tags.empty()) {
    r.packed_policy_size = static_cast<int>(
        std::min<size_t>(100, (p.policy.size() + 64 * p.tags.size()) * 100 / 2048));
  }
  std::string body = iam::EncodeAssumeRoleResponse(r, ctx.request_id);
  crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&r.secret_access_key);
  return {200, std::move(body)};
}

}  // namespace perimeter::api
