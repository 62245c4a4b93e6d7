#pragma once

// The identity records Perimeter keeps: principals (users and roles), their long-term access keys
// and their bearer API keys. Plain data; persistence is store.h, resolution of a request's caller
// is directory.h.
//
// Secrets never appear here in plain text: an access key's secret is sealed (AES-256-GCM under the
// state directory's root key, associated data = the access key id) and an API key is kept only as
// the SHA-256 of the whole key.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace perimeter::iam {

enum class PrincipalType { kUser, kRole };
std::string_view PrincipalTypeName(PrincipalType t);  // "user" / "role"

// Where a principal was declared. Config principals are re-read from the config on every start;
// the CLI may deactivate them (a leaver must be stoppable without a redeploy) but not edit them.
enum class PrincipalSource { kConfig, kCli };

struct PrincipalRecord {
  std::string arn;  // arn:aws:iam::<account>:user/<name> or ...:role/<name>
  PrincipalType type = PrincipalType::kUser;
  std::string account_id;  // 12 digits
  std::string name;
  std::string unique_id;  // AIDA... (users) / AROA... (roles): aws:userid
  std::map<std::string, std::string> tags;
  std::vector<std::string> policies;   // identity policy documents (JSON text)
  std::string permission_boundary;     // JSON text; empty = none
  std::string trust_policy;            // roles only: JSON text
  int64_t max_session_seconds = 3600;  // roles only: AssumeRole DurationSeconds cap
  bool active = true;
  PrincipalSource source = PrincipalSource::kCli;
  int64_t created_at = 0;  // unix seconds
};

struct AccessKeyRecord {
  std::string access_key_id;  // AKIA + 16 base32 characters
  std::string principal_arn;
  std::string sealed_secret;  // crypto::AeadSeal output, AAD = access_key_id
  std::string description;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0 = never
  int64_t revoked_at = 0;  // 0 = not revoked
};

struct ApiKeyRecord {
  std::string key_id;  // the public part of the key, e.g. "prm_3f9a..." (before the secret)
  std::string principal_arn;
  std::string secret_sha256_hex;  // SHA-256 of the whole key as the client sends it
  std::string description;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t revoked_at = 0;
};

}  // namespace perimeter::iam
