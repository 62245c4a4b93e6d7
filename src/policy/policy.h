#pragma once

// AWS IAM JSON policy documents: parsing, validation and compilation into an immutable form
// that evaluation walks without touching JSON again. A compiled Policy is safe to share
// between threads.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/status.h"
#include "policy/conditions.h"

namespace perimeter::policy {

// Where a policy is attached decides whether it names principals.
enum class PolicyKind {
  kIdentity,  // identity policy, permissions boundary, session policy, SCP: Principal forbidden
  kResource,  // resource-based, resource control and endpoint policies: Principal required
  kTrust,     // a role's trust policy: Principal required, no Resource (it is the role)
};

enum class Effect { kAllow, kDeny };

// Bounds on untrusted policy documents.
inline constexpr size_t kMaxPolicyBytes = 128 * 1024;
inline constexpr size_t kMaxStatements = 500;
inline constexpr size_t kMaxElementValues = 1000;

// The request as seen by one statement's Principal / Action / Resource / Condition matching.
struct MatchInput {
  std::string_view principal_arn;
  std::string_view principal_account;
  std::string_view action;
  std::string_view resource_arn;
  const RequestContext* context = nullptr;
};

// How a statement's Principal element matched the request principal.
enum class PrincipalMatch {
  kNone,           // did not match
  kNotApplicable,  // the statement has no Principal (identity-style policy)
  kExact,          // the principal's own ARN (user ARN or role-session ARN) was named
  kIndirect,       // matched through "*", NotPrincipal, or the role behind a role session
  kAccount,        // matched only through the account principal (123456789012 / ...:root)
};

class Statement {
 public:
  const std::string& sid() const { return sid_; }
  Effect effect() const { return effect_; }
  size_t index() const { return index_; }

  // Principal, Action, Resource and Condition all match.
  bool Matches(const MatchInput& in, PrincipalMatch* principal_match) const;

 private:
  friend class PolicyParser;
  struct PrincipalSet {
    bool any = false;                 // "*" or {"AWS": "*"}
    std::vector<std::string> aws;     // ARNs; 12-digit account ids become their root ARN
    std::vector<std::string> others;  // Service / Federated / CanonicalUser values
  };
  PrincipalMatch MatchPrincipal(std::string_view arn, std::string_view account) const;
  bool MatchAction(std::string_view action) const;
  bool MatchResource(std::string_view arn, const RequestContext& ctx) const;

  size_t index_ = 0;
  std::string sid_;
  Effect effect_ = Effect::kAllow;
  std::optional<PrincipalSet> principal_;
  bool not_principal_ = false;
  std::vector<std::string> actions_;  // lower-cased globs
  bool not_action_ = false;
  std::vector<ArnPattern> resources_;
  bool not_resource_ = false;
  std::vector<Condition> conditions_;  // all must hold (AND)
};

class Policy {
 public:
  // Parses and validates a JSON document. Errors name the statement index and field, e.g.
  // "Statement[1].Effect: expected \"Allow\" or \"Deny\", got \"allow\"".
  static Result<std::shared_ptr<const Policy>> Parse(std::string_view json, PolicyKind kind);
  static Result<std::shared_ptr<const Policy>> FromJson(const boost::json::value& doc,
                                                        PolicyKind kind);

  const std::string& version() const { return version_; }
  PolicyKind kind() const { return kind_; }
  const std::vector<Statement>& statements() const { return statements_; }

 private:
  friend class PolicyParser;
  std::string version_;
  PolicyKind kind_ = PolicyKind::kIdentity;
  std::vector<Statement> statements_;
};

}  // namespace perimeter::policy
