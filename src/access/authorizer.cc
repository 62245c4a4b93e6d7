#include "access/authorizer.h"

#include "common/strings.h"

namespace perimeter::access {

namespace {

Result<policy::NamedPolicy> Compile(const std::string& name, const config::PolicyDocument& d,
                                    policy::PolicyKind kind) {
  auto p = policy::Policy::Parse(d.json, kind);
  if (!p.ok()) return InvalidArgument(name + " (" + d.origin + "): " + p.status().message());
  return policy::NamedPolicy{name + " (" + d.origin + ")", *p};
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

}  // namespace

std::vector<std::string> AccessDecision::DecidingStatements() const {
  std::vector<std::string> out;
  for (const auto& s : result.statements) {
    std::string d = s.policy_name + "#Statement[" + std::to_string(s.statement_index) + "]";
    if (!s.sid.empty()) d += "(" + s.sid + ")";
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::shared_ptr<const Authorizer>> Authorizer::Build(const config::Config& cfg) {
  auto a = std::make_shared<Authorizer>();
  for (size_t i = 0; i < cfg.access.deployment_policies.size(); ++i) {
    auto p = Compile("deployment policy[" + std::to_string(i) + "]",
                     cfg.access.deployment_policies[i], policy::PolicyKind::kIdentity);
    if (!p.ok()) return p.status();
    a->scps_.push_back(std::move(*p));
  }
  for (size_t i = 0; i < cfg.access.resource_control_policies.size(); ++i) {
    auto p = Compile("resource control policy[" + std::to_string(i) + "]",
                     cfg.access.resource_control_policies[i], policy::PolicyKind::kResource);
    if (!p.ok()) return p.status();
    a->rcps_.push_back(std::move(*p));
  }
  for (const auto& l : cfg.listeners) {
    if (!l.endpoint_policy) continue;
    auto p = Compile("endpoint policy of listener " + l.name, *l.endpoint_policy,
                     policy::PolicyKind::kResource);
    if (!p.ok()) return p.status();
    a->endpoint_policies_.emplace(l.name, std::move(*p));
  }
  return std::shared_ptr<const Authorizer>(std::move(a));
}

namespace {

// aws:CurrentTime as ISO 8601 UTC with whole seconds, formatted once per second per thread.
const std::string& CurrentTimeText(std::chrono::system_clock::time_point now) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;
  const int64_t second = UnixSeconds(now);
  if (second != cached_second) {
    cached = FormatRfc3339Seconds(now);
    cached_second = second;
  }
  return cached;
}

// Calls set(key, values) for every global condition key of `caller` and `facts`.
template <typename Set>
void VisitContext(const iam::Caller& caller, const RequestFacts& facts, Set&& set) {
  for (const auto& [k, v] : facts.extra) set(k, v);
  set("aws:PrincipalArn", std::vector<std::string>{caller.principal_arn});
  set("aws:PrincipalAccount", std::vector<std::string>{caller.account_id});
  set("aws:PrincipalType", std::vector<std::string>{caller.is_session ? "AssumedRole" : "User"});
  set("aws:userid", std::vector<std::string>{caller.user_id});
  if (!caller.username.empty()) set("aws:username", std::vector<std::string>{caller.username});
  for (const auto& [k, v] : caller.tags) {
    set("aws:PrincipalTag/" + k, std::vector<std::string>{v});
  }
  if (!caller.tags.empty()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : caller.tags) keys.push_back(k);
    set("aws:PrincipalTagKeys", std::move(keys));
  }
  if (!caller.source_identity.empty()) {
    set("aws:SourceIdentity", std::vector<std::string>{caller.source_identity});
  }
  if (facts.source_ip) set("aws:SourceIp", std::vector<std::string>{facts.source_ip->ToString()});
  set("aws:SecureTransport", std::vector<std::string>{facts.secure_transport ? "true" : "false"});
  if (!facts.requested_region.empty()) {
    set("aws:RequestedRegion", std::vector<std::string>{facts.requested_region});
  }
  set("aws:CurrentTime", std::vector<std::string>{CurrentTimeText(facts.now)});
  set("aws:EpochTime",
      std::vector<std::string>{std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(facts.now.time_since_epoch()).count())});
  // AWS sets MultiFactorAuthPresent only for temporary credentials; Perimeter's sessions never
  // carry MFA, so it is "false" for them and absent for long-term keys.
  if (caller.is_session) set("aws:MultiFactorAuthPresent", std::vector<std::string>{"false"});
  if (!facts.tenant.empty()) set("perimeter:TenantId", std::vector<std::string>{facts.tenant});
}

}  // namespace

ContextKeys Authorizer::ContextFor(const iam::Caller& caller, const RequestFacts& facts) {
  ContextKeys ctx;
  VisitContext(caller, facts,
               [&](const std::string& k, std::vector<std::string> v) { ctx[k] = std::move(v); });
  return ctx;
}

std::string Authorizer::ModelArn(std::string_view model_id, std::string_view region) {
  if (StartsWith(model_id, "arn:")) return std::string(model_id);
  return "arn:aws:bedrock:" + std::string(region) + "::foundation-model/" + std::string(model_id);
}

std::string_view Authorizer::ArnRegion(std::string_view arn) { return ArnField(arn, 3); }

AccessDecision Authorizer::Authorize(
    const iam::Caller& caller, std::string_view action, std::string_view resource_arn,
    const RequestFacts& facts, const std::optional<policy::NamedPolicy>& resource_policy) const {
  policy::Request req;
  req.principal_arn = caller.arn;
  req.principal_account = caller.account_id;
  req.action = std::string(action);
  req.resource_arn = std::string(resource_arn);
  policy::RequestContext context;
  VisitContext(caller, facts, [&](const std::string& k, std::vector<std::string> v) {
    context.Set(k, std::move(v));
  });

  policy::PolicySet ps;
  ps.identity_policies = caller.identity_policies;
  ps.permission_boundaries = caller.boundaries;
  ps.session_policy = caller.session_policy;
  ps.resource_policy = resource_policy;
  ps.service_control_policies = scps_;
  ps.resource_control_policies = rcps_;
  if (auto it = endpoint_policies_.find(facts.listener); it != endpoint_policies_.end()) {
    ps.endpoint_policies.push_back(it->second);
  }

  AccessDecision d;
  d.result = policy::Evaluate(req, ps, std::move(context));
  if (!d.allowed()) {
    // AWS says "User:" for assumed-role sessions too.
    const std::string who = "User: " + caller.arn;
    std::string why = d.result.decision == policy::Decision::kExplicitlyDenied
                          ? d.result.reason
                          : "because " + ReplaceAll(d.result.reason, "the action",
                                                    "the " + std::string(action) + " action");
    d.message = who + " is not authorized to perform: " + std::string(action) +
                " on resource: " + std::string(resource_arn) + " " + why;
  }
  return d;
}

}  // namespace perimeter::access
