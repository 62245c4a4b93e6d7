#pragma once

// Batch evaluation for `perimeter policy eval --cases FILE`.

#include <iosfwd>
#include <string>

#include <boost/json/value.hpp>

#include "common/status.h"
#include "policy/evaluator.h"

namespace perimeter::policy {

inline constexpr size_t kMaxCasesInputBytes = 64 * 1024 * 1024;

// Reads a JSON array of cases:
//   {"name": "...",
//    "request": {"action": "s3:GetObject",
//                "resource": {"resource": "arn:...", "accountId": "111122223333"},
//                "principal": "arn:aws:iam::111122223333:user/alice",
//                "context": {"aws:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"]}},
//    "identityPolicies": [{...}], "resourcePolicy": {...}, "permissionBoundaries": [{...}],
//    "sessionPolicy": {...}, "serviceControlPolicies": [...], "resourceControlPolicies": [...],
//    "endpointPolicies": [...]}
// and writes one JSON line per case to `out`:
//   {"name": "...", "response": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"}
// or {"name": "...", "error": "<what is wrong>"} for an invalid case or policy. Other fields of a
// case (such as "expected") are ignored.
// Returns 0 when every case was evaluated, 1 when some case had an error line, 2 when the
// input is not a JSON array (reported on `err`).
int RunPolicyEvalCases(std::istream& in, std::ostream& out, std::ostream& err);

// One case, already parsed as JSON: the decision or an InvalidArgument status.
Result<EvaluationResult> EvaluateCase(const boost::json::value& test_case);

}  // namespace perimeter::policy
