#pragma once

// "Who can invoke this model?" — the review question, answered by evaluating every principal
// (config and CLI, active ones) against the same Authorizer the gateway uses:
//   - each user, as itself;
//   - each role, as a session of it, listing the principals whose sts:AssumeRole on it is
//     allowed (trust policy and, within the account, their own policies);
//   - with tenants configured, in each tenant the principal can run in (its perimeter:tenant
//     tag, or any tenant whose role trusts it to assert it): the tenant role must allow too.
// Request facts that depend on the individual request (source IP, time) are evaluated as
// `facts` gives them; conditions on keys that are absent behave as AWS documents.

#include <string>
#include <vector>

#include "access/authorizer.h"
#include "iam/directory.h"

namespace perimeter::access {

struct WhoCanEntry {
  std::string principal_arn;
  std::string kind;                       // "user" or "role"
  std::string tenant;                     // "" when no tenants are configured
  std::vector<std::string> assumable_by;  // roles: who may assume it
  std::vector<std::string> statements;    // the deciding statements
};

Result<std::vector<WhoCanEntry>> WhoCan(iam::Directory& dir, const Authorizer& authz,
                                        std::string_view action, std::string_view resource,
                                        const RequestFacts& facts);

}  // namespace perimeter::access
