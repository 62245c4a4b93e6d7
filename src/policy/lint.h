#pragma once

// `perimeter policy lint`: findings about policies that parse but are risky, redundant or
// mistaken (a wildcard model grant, an action that does not exist, a statement that can never
// matter). Lint never changes a decision; it tells the author what to fix and how.
//
// LintPolicy is pure and safe to call from many threads. Its cost is bounded: the document is
// limited by Policy::Parse (kMaxPolicyBytes), at most kMaxLintFindings findings are reported,
// and the pairwise statement comparisons stop after a fixed budget (reported as a finding).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

namespace perimeter::policy {

enum class Severity { kError, kWarning, kInfo };
std::string_view SeverityName(Severity severity);  // "error", "warning", "info"

struct LintFinding {
  Severity severity = Severity::kInfo;
  std::string code;      // stable id, e.g. "invoke-resource-wildcard"
  std::string location;  // e.g. "Statement[1] (Sid \"AllowInvoke\")", or "Version"
  std::string message;   // what is wrong and why it matters
  std::string fix;       // a concrete change that resolves it; never empty
};

// Where the policy is attached; decides how it is parsed and which checks apply.
enum class LintPolicyKind {
  kIdentity,       // identity policy, boundary or session policy: no Principal
  kTrust,          // a role's trust policy (who may assume it): Principal required
  kResource,       // resource-based policy: Principal required
  kEndpoint,       // a listener's endpoint policy: Principal required (usually "*")
  kDeploymentCap,  // an SCP-like cap over a whole deployment: no Principal
};

inline constexpr size_t kMaxLintFindings = 200;

// Lints one policy document. A document that Policy::Parse rejects yields exactly one finding,
// an error with code "parse-error" carrying the parser's message. Otherwise the findings are
// ordered by statement (policy-level findings such as the Version first), then by code.
//
// Codes (severity):
//   parse-error (error)                 the document is not a valid policy of this kind
//   old-policy-version (warning)        Version missing or "2008-10-17": no policy variables
//   unknown-action (error)              a bedrock: action (or wildcard) that names no action
//   not-action-allow (warning)          Allow with NotAction grants everything not listed
//   invoke-resource-wildcard (warning)  invoke allowed on every model (not for deployment caps)
//   invoke-no-region-condition (warning) invoke allowed with no region pinned
//   wildcard-principal (error/warning)  trust/resource Allow to "*": error without a Condition
//   statement-never-used (info)         only actions of services Perimeter never authorizes
//   resource-service-mismatch (warning) bedrock actions on ARNs of another service only
//   shadowed-by-deny (warning)          an Allow fully covered by an unconditional Deny
//   duplicate-statement (warning)       a statement identical to an earlier one
//   analysis-incomplete (info)          the shadowing comparison budget ran out
//   findings-truncated (info)           more than kMaxLintFindings findings
std::vector<LintFinding> LintPolicy(std::string_view json, LintPolicyKind kind);

// True when any finding is an error (the CLI's exit status).
bool HasErrors(const std::vector<LintFinding>& findings);

// One line per finding: "file: severity: code: location: message (fix: ...)\n".
// Empty when there are no findings.
std::string FormatFindingsText(std::string_view file, const std::vector<LintFinding>& findings);

// For --format json: [{"file", "severity", "code", "location", "message", "fix"}, ...].
boost::json::array FindingsToJson(std::string_view file, const std::vector<LintFinding>& findings);

}  // namespace perimeter::policy
