#include "policy/evaluator.h"

#include "common/strings.h"

namespace perimeter::policy {

namespace {

std::string_view ArnAccount(std::string_view arn) { return ArnField(arn, 4); }

// Matching statements of one policy type.
struct TypeMatches {
  std::vector<DecidingStatement> allows;
  std::vector<DecidingStatement> denies;
  bool exact_allow = false;     // an Allow named the principal's own ARN
  bool granting_allow = false;  // an Allow that did not match only through the account principal
};

void Collect(const NamedPolicy& np, const MatchInput& in, TypeMatches& out) {
  if (!np.policy) return;
  for (const Statement& s : np.policy->statements()) {
    PrincipalMatch pm = PrincipalMatch::kNotApplicable;
    if (!s.Matches(in, &pm)) continue;
    DecidingStatement d{np.name, s.index(), s.sid()};
    if (s.effect() == Effect::kDeny) {
      out.denies.push_back(std::move(d));
    } else {
      out.allows.push_back(std::move(d));
      if (pm == PrincipalMatch::kExact) out.exact_allow = true;
      if (pm != PrincipalMatch::kAccount) out.granting_allow = true;
    }
  }
}

TypeMatches CollectAll(const std::vector<NamedPolicy>& list, const MatchInput& in) {
  TypeMatches m;
  for (const NamedPolicy& np : list) Collect(np, in, m);
  return m;
}

TypeMatches CollectOne(const std::optional<NamedPolicy>& p, const MatchInput& in) {
  TypeMatches m;
  if (p) Collect(*p, in, m);
  return m;
}

void Append(std::vector<DecidingStatement>& to, const std::vector<DecidingStatement>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllowed:
      return "Allowed";
    case Decision::kImplicitlyDenied:
      return "ImplicitlyDenied";
    case Decision::kExplicitlyDenied:
      return "ExplicitlyDenied";
  }
  return "ImplicitlyDenied";
}

EvaluationResult Evaluate(const Request& request, const PolicySet& ps) {
  RequestContext ctx;
  for (const auto& [k, v] : request.context) ctx.Set(k, v);
  return Evaluate(request, ps, std::move(ctx));
}

EvaluationResult Evaluate(const Request& request, const PolicySet& ps, RequestContext ctx) {
  std::string principal_account = request.principal_account.empty()
                                      ? std::string(ArnAccount(request.principal_arn))
                                      : request.principal_account;
  std::string resource_account = request.resource_account;
  if (resource_account.empty()) resource_account = std::string(ArnAccount(request.resource_arn));
  if (resource_account.empty()) resource_account = principal_account;

  // Global keys AWS always sets, unless the caller supplied them.
  if (!ctx.Find("aws:PrincipalArn")) ctx.Set("aws:PrincipalArn", {request.principal_arn});
  if (!ctx.Find("aws:PrincipalAccount") && !principal_account.empty()) {
    ctx.Set("aws:PrincipalAccount", {principal_account});
  }
  if (!ctx.Find("aws:ResourceAccount") && !resource_account.empty()) {
    ctx.Set("aws:ResourceAccount", {resource_account});
  }

  const std::string action_lower = AsciiLower(request.action);
  MatchInput in{request.principal_arn, principal_account, action_lower, request.resource_arn, &ctx};
  TypeMatches identity = CollectAll(ps.identity_policies, in);
  TypeMatches resource = CollectOne(ps.resource_policy, in);
  TypeMatches boundary = CollectAll(ps.permission_boundaries, in);
  TypeMatches session = CollectOne(ps.session_policy, in);
  TypeMatches scp = CollectAll(ps.service_control_policies, in);
  TypeMatches rcp = CollectAll(ps.resource_control_policies, in);
  TypeMatches endpoint = CollectAll(ps.endpoint_policies, in);

  EvaluationResult r;
  // 1. Explicit deny anywhere.
  const std::pair<const TypeMatches*, const char*> kinds[] = {
      {&scp, "a service control policy"},      {&rcp, "a resource control policy"},
      {&endpoint, "an endpoint policy"},       {&resource, "a resource-based policy"},
      {&identity, "an identity-based policy"}, {&boundary, "a permissions boundary"},
      {&session, "a session policy"}};
  for (const auto& [t, what] : kinds) {
    if (r.statements.empty() && !t->denies.empty()) {
      r.reason = std::string("with an explicit deny in ") + what;
    }
    Append(r.statements, t->denies);
  }
  if (!r.statements.empty()) {
    r.decision = Decision::kExplicitlyDenied;
    return r;
  }
  r.decision = Decision::kImplicitlyDenied;
  // 2. Organization and endpoint caps.
  if (!ps.service_control_policies.empty() && scp.allows.empty()) {
    r.reason = "no service control policy allows the action";
    return r;
  }
  if (!ps.resource_control_policies.empty() && rcp.allows.empty()) {
    r.reason = "no resource control policy allows the action";
    return r;
  }
  if (!ps.endpoint_policies.empty() && endpoint.allows.empty()) {
    r.reason = "no endpoint policy allows the action";
    return r;
  }
  std::vector<DecidingStatement> caps;
  Append(caps, scp.allows);
  Append(caps, rcp.allows);
  Append(caps, endpoint.allows);

  // A role's trust policy is the one resource-based policy that is always required: whoever
  // assumes the role, in any account, must be allowed by it (an identity policy alone is not
  // enough, unlike for other same-account resources).
  const bool trust_policy = ps.resource_policy && ps.resource_policy->policy &&
                            ps.resource_policy->policy->kind() == PolicyKind::kTrust;
  if (trust_policy && resource.allows.empty()) {
    r.reason = "no trust policy allows the principal to assume the role";
    return r;
  }

  const bool has_boundary = !ps.permission_boundaries.empty();
  const bool has_session = ps.session_policy.has_value();
  const bool boundary_allows = !has_boundary || !boundary.allows.empty();
  const bool session_allows = !has_session || !session.allows.empty();
  const bool identity_chain = !identity.allows.empty() && boundary_allows && session_allows;
  // A service principal (cloudtrail.amazonaws.com) has no identity policies of its own: the
  // resource-based policy that names it is what authorizes it, as within one account.
  const bool service_principal = request.principal_arn.rfind("arn:", 0) != 0;
  const bool same_account = service_principal || principal_account == resource_account;

  auto allow_with = [&](std::initializer_list<const TypeMatches*> types) {
    r.decision = Decision::kAllowed;
    r.reason.clear();
    r.statements = caps;
    for (const TypeMatches* t : types) Append(r.statements, t->allows);
    return r;
  };

  if (same_account) {
    // 3. A same-account resource policy grants on its own; naming the exact user or
    // role-session ARN also lifts the boundary and session-policy caps.
    if (resource.granting_allow) {
      bool uncapped = resource.exact_allow;
      if (uncapped || (boundary_allows && session_allows)) {
        return allow_with({&resource, &boundary, &session});
      }
    }
    if (identity_chain) return allow_with({&identity, &boundary, &session});
  } else {
    // 4. Cross-account: both sides must allow.
    if (identity_chain && !resource.allows.empty()) {
      return allow_with({&identity, &boundary, &session, &resource});
    }
    if (identity_chain) {
      r.reason = "cross-account request: the resource-based policy does not allow the principal";
      return r;
    }
  }
  if (identity.allows.empty()) {
    r.reason = "no identity-based policy allows the action";
  } else if (!boundary_allows) {
    r.reason = "the permissions boundary does not allow the action";
  } else {
    r.reason = "the session policy does not allow the action";
  }
  return r;
}

}  // namespace perimeter::policy
