#pragma once

// The directory: who a request's credentials belong to, right now.
//
// It merges the principals declared in config with those created by the CLI (the SQLite store in
// the state directory), and resolves
//   - long-term access keys (AKIA...) to their user, giving SigV4 the secret to verify with;
//   - temporary credentials (ASIA... + session token) to a role session;
//   - bearer API keys to their principal.
// and issues role sessions (STS AssumeRole and the tenant session of every request).
//
// Revocation is immediate: every lookup first asks the store whether anything changed since the
// snapshot it holds (a cheap counter read) and reloads if so, so a key revoked or a principal
// deactivated by the CLI in another process is refused on its next request. Nothing is cached
// beyond that snapshot, and the snapshot is never older than the last committed change.
//
// Access-key secrets are stored envelope-encrypted by the KMS (kms/kms.h): under the tenant's
// CMK when the user is tagged perimeter:tenant, else under the environment key, with the
// encryption context {purpose: access-key-secret, access-key-id: <id>[, tenant: <id>]}. The
// gateway decrypts a key's secret on its first use after each snapshot load (one recorded key
// use) and keeps it in the snapshot; secrets sealed by earlier versions directly under the root
// key still open.
//
// Session tokens are self-contained: the session (role, name, tags, expiry, secret, and the
// principal and long-term key it descends from) sealed with AES-256-GCM under a key derived from
// the state directory's root key, bound to the ASIA access key id as associated data. Each use
// re-checks that the role, the originating principal and its key are still active, so revoking a
// user's key also ends every session obtained with it.
//
// Thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/config.h"
#include "crypto/secret.h"
#include "iam/records.h"
#include "iam/store.h"
#include "kms/runtime.h"
#include "policy/evaluator.h"

namespace perimeter::iam {

// A principal with its policies compiled.
struct Principal {
  PrincipalRecord record;
  std::vector<policy::NamedPolicy> policies;
  std::optional<policy::NamedPolicy> boundary;
  std::optional<policy::NamedPolicy> trust;  // roles
};

// Who made a request, as the policy engine sees them.
struct Caller {
  std::string arn;            // user ARN, or arn:aws:sts::<acct>:assumed-role/<role>/<session>
  std::string principal_arn;  // aws:PrincipalArn: the user ARN, or the role ARN of a session
  std::string account_id;
  std::string user_id;   // aws:userid: AIDA... or AROA...:<session>
  std::string username;  // aws:username: users only
  bool is_session = false;
  std::string role_session_name;
  std::string source_identity;
  std::map<std::string, std::string> tags;  // aws:PrincipalTag/*: session tags override role tags
  std::vector<policy::NamedPolicy> identity_policies;
  std::vector<policy::NamedPolicy> boundaries;
  std::optional<policy::NamedPolicy> session_policy;
  std::string credential_id;  // access key id or API key id (never the secret)
  std::chrono::system_clock::time_point session_expires{};
  // What a session descends from: revoking either ends the session.
  std::string origin_principal_arn;
  std::string origin_key_id;
  std::string origin_tenant;  // set for tenant sessions
};

// An issued role session.
struct SessionCredentials {
  std::string access_key_id;  // ASIA...
  crypto::SecretBytes secret_access_key;
  std::string session_token;
  std::chrono::system_clock::time_point expiration;
  std::string assumed_role_arn;
  std::string assumed_role_id;  // AROA...:<session name>
};

struct SessionRequest {
  std::string role_session_name;
  std::chrono::seconds duration{3600};
  std::map<std::string, std::string> tags;
  std::string source_identity;
  std::string session_policy_json;  // empty = none
  std::string tenant;               // the tenant this session runs for, if any
};

// Bounds of AssumeRole, as STS has them.
inline constexpr std::chrono::seconds kMinSessionDuration{900};
inline constexpr std::chrono::seconds kRoleChainingMaxDuration{3600};

class Directory {
 public:
  // Opens <state_dir>/identity.db, the root key and the KMS (kms/runtime.h), creating them on
  // first use, makes sure every tenant of the config has its CMK, and compiles the config's
  // principals. Fails if a CLI-created principal collides with a config one.
  static Result<std::shared_ptr<Directory>> Open(const config::Config& cfg, const Clock& clock);

  // For SigV4: the secret of a long-term key or of a session's ASIA key. Status codes follow
  // identity::SecretLookup: NotFound unknown key, PermissionDenied revoked / deactivated /
  // expired key, FailedPrecondition expired session, Unauthenticated token that is not valid
  // for the key (or a token sent with a long-term key, or none with an ASIA key).
  Result<crypto::SecretBytes> SecretFor(std::string_view access_key_id,
                                        std::string_view session_token);
  // The caller behind verified SigV4 credentials (call after the signature verified).
  Result<Caller> CallerForAccessKey(std::string_view access_key_id, std::string_view session_token);
  // The caller behind a bearer API key. Unauthenticated for any key that is not valid now
  // (unknown, wrong secret, revoked, expired, principal deactivated): the message says which
  // only where that reveals nothing about other keys.
  Result<Caller> CallerForApiKey(std::string_view bearer);

  // The Caller a principal would be, for simulation: a user as itself, a role as a session named
  // `session_name`. NotFound for an unknown principal; deactivated principals are returned
  // (callers decide; the gateway never reaches here for them).
  Result<Caller> CallerForPrincipal(std::string_view arn,
                                    std::string_view session_name = "simulated");

  // The role with this ARN, if it exists and is active.
  std::shared_ptr<const Principal> FindRole(std::string_view role_arn);
  std::shared_ptr<const Principal> FindPrincipal(std::string_view arn);
  // All principals (config and CLI), active or not, ordered by ARN.
  // Fails when the store cannot be read (never an empty answer in place of an error).
  Result<std::vector<std::shared_ptr<const Principal>>> AllPrincipals();

  // A role session for `caller` (authorization of sts:AssumeRole is the caller's job). Issues
  // credentials sealed as described above.
  Result<SessionCredentials> IssueSession(const Caller& parent, const Principal& role,
                                          const SessionRequest& req);
  // The Caller of a role session without credentials (the tenant session inside a request).
  Result<Caller> SessionCaller(const Caller& parent, const Principal& role,
                               const SessionRequest& req);

  const config::Config& config() const { return *cfg_; }
  const Clock& clock() const { return clock_; }
  IdentityStore& store() { return *store_; }
  const kms::KmsRuntime& keys() const { return keys_; }

  // Encrypts a new access key's secret for storage under the key of `principal`'s tenant (its
  // perimeter:tenant tag) or the environment key. FailedPrecondition when the tenant has no key.
  Result<std::string> SealAccessKeySecret(const Principal& principal,
                                          std::string_view access_key_id,
                                          const crypto::SecretBytes& secret);

  // Deterministic unique ids for principals: AIDA/AROA + 17 base32 characters of SHA-256(arn).
  static std::string UniqueIdFor(std::string_view arn, PrincipalType type);

 private:
  struct Snapshot {
    uint64_t version = 0;
    std::map<std::string, std::shared_ptr<const Principal>, std::less<>> principals;
    std::map<std::string, AccessKeyRecord, std::less<>> access_keys;
    std::map<std::string, ApiKeyRecord, std::less<>> api_keys;
    // Access-key secrets decrypted since this snapshot was loaded (the first use of each),
    // valid while the key store's change counter stays at secrets_keys_version: disabling or
    // deleting a key (in any process) makes the next use decrypt again, and fail.
    mutable std::mutex secrets_mu;
    mutable uint64_t secrets_keys_version = 0;
    mutable std::map<std::string, std::shared_ptr<const crypto::SecretBytes>, std::less<>> secrets;
  };
  Directory(std::shared_ptr<const config::Config> cfg, const Clock& clock,
            std::unique_ptr<IdentityStore> store, crypto::SecretBytes root_key,
            kms::KmsRuntime keys);
  Result<crypto::SecretBytes> UnsealAccessKeySecret(const Snapshot& snap, const AccessKeyRecord& k);
  Result<std::shared_ptr<const Snapshot>> Current();
  Result<std::shared_ptr<const Snapshot>> Load(uint64_t version);
  Result<Caller> CallerForSession(const Snapshot& snap, std::string_view akid,
                                  std::string_view token, crypto::SecretBytes* secret_out);
  Status CheckOrigin(const Snapshot& snap, const Caller& c) const;

  std::shared_ptr<const config::Config> cfg_;
  const Clock& clock_;
  std::unique_ptr<IdentityStore> store_;
  kms::KmsRuntime keys_;
  crypto::SecretBytes access_key_seal_key_;  // secrets sealed before the KMS (legacy format)
  crypto::SecretBytes session_seal_key_;
  std::vector<std::shared_ptr<const Principal>> config_principals_;

  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by mu_
};

// Compiles a principal record's policies ("<arn> policy[0]", "... permission boundary").
Result<std::shared_ptr<const Principal>> CompilePrincipal(PrincipalRecord record);

// "AKIA" + 16 characters of [A-Z2-7] and a 40-character secret, from the CSPRNG.
std::string NewAccessKeyId(std::string_view prefix = "AKIA");
crypto::SecretBytes NewSecretAccessKey();
// The encryption context of an access key's stored secret.
kms::EncryptionContext AccessKeySecretContext(std::string_view access_key_id,
                                              std::string_view tenant);

// API keys: "prm_" + 16 hex (the key id, public) + "_" + 43 base64url characters (secret).
struct NewApiKey {
  std::string key_id;
  crypto::SecretBytes full_key;  // shown once
  std::string sha256_hex;
};
NewApiKey GenerateApiKey();

}  // namespace perimeter::iam
