#pragma once

// Authorization: one question ("may this caller perform this action on this resource, here and
// now?") answered with AWS's policy evaluation logic over every policy that applies:
//   - the caller's identity policies, permissions boundary and session policy (iam::Caller);
//   - the resource's policy, when it has one (a role's trust policy for sts:AssumeRole);
//   - the deployment-wide caps (access.deployment_policies act as service control policies,
//     access.resource_control_policies as resource control policies);
//   - the listener's endpoint policy, a further required Allow.
// The request context carries the global condition keys AWS sets (aws:PrincipalArn,
// aws:PrincipalTag/*, aws:SourceIp, aws:CurrentTime, ...) plus the request's own keys.
//
// Denials read like AWS's ("User: arn:... is not authorized to perform: bedrock:InvokeModel on
// resource: arn:... because no identity-based policy allows the bedrock:InvokeModel action"), and
// every decision names the statements that decided it.
//
// Immutable after construction; thread-safe.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"
#include "config/config.h"
#include "iam/directory.h"
#include "policy/evaluator.h"

namespace perimeter::access {

using ContextKeys = std::map<std::string, std::vector<std::string>>;

// Facts about the request that become condition keys.
struct RequestFacts {
  std::optional<IpAddress> source_ip;
  bool secure_transport = false;
  std::string requested_region;
  std::chrono::system_clock::time_point now;
  std::string listener;  // endpoint policy of this listener applies
  std::string tenant;    // perimeter:TenantId
  bool mfa_known = false;
  ContextKeys extra;  // operation-specific keys, e.g. bedrock:GuardrailIdentifier
};

struct AccessDecision {
  policy::EvaluationResult result;
  bool allowed() const { return result.decision == policy::Decision::kAllowed; }
  std::string message;  // for denials: AWS's wording
  // "policy#statement(sid)" for each deciding statement, for logs and the CLI.
  std::vector<std::string> DecidingStatements() const;
};

class Authorizer {
 public:
  // Compiles the deployment-wide and endpoint policies (already validated by the config parser).
  static Result<std::shared_ptr<const Authorizer>> Build(const config::Config& cfg);

  // `resource_policy`: the resource's own policy (e.g. a role's trust policy), if any.
  AccessDecision Authorize(const iam::Caller& caller, std::string_view action,
                           std::string_view resource_arn, const RequestFacts& facts,
                           const std::optional<policy::NamedPolicy>& resource_policy = {}) const;

  // The global condition keys for `caller` and `facts` (exposed for `policy simulate`).
  static ContextKeys ContextFor(const iam::Caller& caller, const RequestFacts& facts);

  // The ARN of a model as Bedrock names it for authorization: model ids that are ARNs
  // (inference profiles, provisioned models) are used as they are, others become
  // arn:aws:bedrock:<region>::foundation-model/<id>.
  static std::string ModelArn(std::string_view model_id, std::string_view region);
  // The region field of an ARN ("" when absent or not an ARN).
  static std::string_view ArnRegion(std::string_view arn);

  const std::vector<policy::NamedPolicy>& deployment_policies() const { return scps_; }

 private:
  std::vector<policy::NamedPolicy> scps_;
  std::vector<policy::NamedPolicy> rcps_;
  std::map<std::string, policy::NamedPolicy> endpoint_policies_;  // by listener name
};

}  // namespace perimeter::access
