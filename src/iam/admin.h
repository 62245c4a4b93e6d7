#pragma once

// Administration of principals and credentials: what `perimeter principals ...` and
// `perimeter credentials ...` do, as functions over the Directory (and so over the same store and
// root key the gateway uses). Secrets are returned once, to be shown once; only their sealed form
// (access keys) or hash (API keys) is stored.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/secret.h"
#include "iam/directory.h"

namespace perimeter::iam {

struct CreatePrincipalRequest {
  PrincipalType type = PrincipalType::kUser;
  std::string name;
  std::string account_id;  // empty = the deployment's
  std::map<std::string, std::string> tags;
  std::vector<std::string> policies;  // JSON documents
  std::string permission_boundary;
  std::string trust_policy;  // roles: required
  std::chrono::seconds max_session_duration{3600};
};

Result<PrincipalRecord> CreatePrincipal(Directory& dir, const CreatePrincipalRequest& req);

// "alice" -> the user (or, failing that, the role) of that name in the deployment's account; an
// ARN is used as it is. NotFound when no such principal exists.
Result<std::string> ResolvePrincipal(Directory& dir, std::string_view name_or_arn);

// CLI-created principals only: config principals are edited in the config.
Status TagPrincipal(Directory& dir, std::string_view arn,
                    const std::map<std::string, std::string>& set,
                    const std::vector<std::string>& remove);
// Any principal, config ones included: a leaver is stopped without a redeploy.
Status SetPrincipalActive(Directory& dir, std::string_view arn, bool active);

enum class CredentialType { kAccessKey, kApiKey };

struct CreatedCredential {
  CredentialType type = CredentialType::kAccessKey;
  std::string id;              // access key id or API key id
  crypto::SecretBytes secret;  // the secret access key, or the whole API key
  int64_t expires_at = 0;
};

Result<CreatedCredential> CreateCredential(Directory& dir, std::string_view principal_arn,
                                           CredentialType type,
                                           std::optional<std::chrono::seconds> expires_in,
                                           std::string description);

struct CredentialInfo {
  CredentialType type = CredentialType::kAccessKey;
  std::string id;
  std::string principal_arn;
  std::string description;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t revoked_at = 0;
};
Result<std::vector<CredentialInfo>> ListCredentials(Directory& dir, std::string_view principal_arn);
// AKIA... revokes an access key, prm_... an API key. Takes effect on the next request.
Status RevokeCredential(Directory& dir, std::string_view id);

}  // namespace perimeter::iam
