#pragma once

// AWS policy evaluation logic for one request against every policy type that applies to it,
// following AWS's documented flowchart ("Policy evaluation logic"):
//   1. an explicit Deny in any applicable policy wins;
//   2. service control policies (principal's organization), resource control policies
//      (resource's organization) and endpoint policies, when present, must each contain an
//      Allow;
//   3. same account: a resource-based policy Allow grants on its own, unless it names the
//      principal only through the account (delegation to IAM), and permissions boundaries and
//      session policies still cap it unless it names the exact user / role-session ARN;
//      otherwise identity ∩ permissions boundary ∩ session policy must allow;
//      A service principal (not an ARN, e.g. "cloudtrail.amazonaws.com") is treated like a
//      same-account principal: a resource-based policy naming it is sufficient.
//   4. cross-account: identity ∩ boundary ∩ session must allow AND the resource policy must
//      allow.
//   A role's trust policy (a resource policy of PolicyKind::kTrust) must allow in every case;
//   within the account, naming the principal in it is then sufficient, while naming only the
//   account also needs the caller's identity policies to allow sts:AssumeRole.
// Evaluate is pure and thread-safe; policies are compiled once (policy.h) and shared.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace perimeter::policy {

struct Request {
  std::string principal_arn;      // e.g. arn:aws:iam::111122223333:user/alice, or a service
                                  // principal such as cloudtrail.amazonaws.com
  std::string principal_account;  // empty: taken from principal_arn's account field
  std::string action;             // e.g. bedrock:InvokeModel
  std::string resource_arn;
  std::string resource_account;  // empty: taken from resource_arn, else same as principal
  // Condition keys (case-insensitive) to values; one value for single-valued keys.
  std::map<std::string, std::vector<std::string>> context;
};

struct NamedPolicy {
  std::string name;  // reported in decisions, e.g. "identityPolicies[0]"
  std::shared_ptr<const Policy> policy;
};

// Each list is the union of its policies' statements (any Allow in the list counts).
struct PolicySet {
  std::vector<NamedPolicy> identity_policies;
  std::optional<NamedPolicy> resource_policy;
  std::vector<NamedPolicy> permission_boundaries;
  std::optional<NamedPolicy> session_policy;
  std::vector<NamedPolicy> service_control_policies;
  std::vector<NamedPolicy> resource_control_policies;
  std::vector<NamedPolicy> endpoint_policies;
};

enum class Decision { kAllowed, kImplicitlyDenied, kExplicitlyDenied };
std::string_view DecisionName(Decision d);  // "Allowed", "ImplicitlyDenied", "ExplicitlyDenied"

struct DecidingStatement {
  std::string policy_name;
  size_t statement_index = 0;
  std::string sid;
};

struct EvaluationResult {
  Decision decision = Decision::kImplicitlyDenied;
  // Explicit deny: every matching Deny statement. Allowed: the Allow statements that granted
  // (and those of each capping policy type). Implicit deny: empty; `reason` says what was missing.
  std::vector<DecidingStatement> statements;
  std::string reason;
};

EvaluationResult Evaluate(const Request& request, const PolicySet& policies);
// The same with the condition keys already in a RequestContext (request.context is ignored):
// saves building the map twice on the request path.
EvaluationResult Evaluate(const Request& request, const PolicySet& policies,
                          RequestContext context);

}  // namespace perimeter::policy
