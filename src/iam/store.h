#pragma once

// IdentityStore: the persistent identity records (records.h) in one SQLite database file in the
// state directory, shared by the gateway and the CLI.
//
// What is stored:
//   - principals created through the CLI (config-declared principals live in the config and
//     are never rows here);
//   - the activation state of ANY principal ARN, in a separate table, so that the CLI can
//     deactivate a config-declared principal (a leaver) without a redeploy. A principal's
//     `active` flag as read from this store comes from that table (active when absent);
//   - access keys (secret sealed by the caller, see records.h) and API keys (SHA-256 only).
// Keys are not tied to principal rows by a foreign key: they may belong to config principals.
// Nothing is ever deleted; revocation and deactivation are timestamps and flags.
//
// Durability and sharing: WAL journal, synchronous=FULL (a committed revocation survives a power
// cut), busy timeout 5 s, foreign keys on. Several processes may open the same file; writers
// are serialized by SQLite. The file is created with mode 0600 and an existing file readable or
// writable by group or others is refused.
//
// Errors: InvalidArgument for inputs over the bounds below (nothing is written); AlreadyExists
// for a duplicate id; NotFound for a missing record on update; FailedPrecondition for a database
// file that is unusable (wrong mode, not a database, not an identity store, or written by a newer
// Perimeter); Unavailable when the database stayed locked by another process past the busy
// timeout, or the disk is full; Internal for other SQLite failures. Messages name the operation
// and the record id, never a secret.
//
// Thread-safe: one connection, guarded by a mutex.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "iam/records.h"
#include "sqlite/database.h"

namespace perimeter::iam {

// Input bounds (bytes unless stated).
inline constexpr size_t kMaxArnBytes = 2048;
inline constexpr size_t kMaxTags = 50;
inline constexpr size_t kMaxTagKeyBytes = 128;
inline constexpr size_t kMaxTagValueBytes = 256;
inline constexpr size_t kMaxPolicies = 20;
inline constexpr size_t kMaxPolicyDocumentBytes = 128 * 1024;  // each policy, boundary, trust
inline constexpr size_t kMaxIdentifierBytes = 128;             // account id, unique id, key ids
inline constexpr size_t kMaxPrincipalNameBytes = 512;
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr size_t kMaxSealedSecretBytes = 1024;
inline constexpr int64_t kMaxSessionSecondsLimit = 43200;  // AWS's 12-hour role session cap

// The schema this build writes. A database with a higher version is refused on Open.
inline constexpr int kIdentityStoreSchemaVersion = 1;

class IdentityStore {
 public:
  // Opens (creating if absent, mode 0600) the database at `path` and creates or checks the
  // schema. The directory must exist.
  static Result<std::unique_ptr<IdentityStore>> Open(const std::string& path);

  ~IdentityStore();
  IdentityStore(const IdentityStore&) = delete;
  IdentityStore& operator=(const IdentityStore&) = delete;

  // Principals (CLI-created). `p.source` must be kCli. `p.active == false` also records the
  // principal as inactive (at p.created_at). AlreadyExists if the ARN exists.
  Status CreatePrincipal(const PrincipalRecord& p);
  // nullopt when no principal row has this ARN (config principals are not rows).
  Result<std::optional<PrincipalRecord>> GetPrincipal(std::string_view arn);
  // All principal rows, ordered by ARN.
  Result<std::vector<PrincipalRecord>> ListPrincipals();
  // Replaces the tags of a principal row. NotFound if there is none.
  Status SetPrincipalTags(std::string_view arn, const std::map<std::string, std::string>& tags);

  // Activation state of any ARN (row or config principal). `now` is unix seconds.
  Status SetPrincipalActive(std::string_view arn, bool active, int64_t now);
  // ARN -> active, for every ARN whose state was ever set. ARNs absent are active.
  Result<std::map<std::string, bool>> ListPrincipalStates();

  // Access keys. AlreadyExists if the id exists.
  Status CreateAccessKey(const AccessKeyRecord& k);
  Result<std::optional<AccessKeyRecord>> GetAccessKey(std::string_view access_key_id);
  // Keys of one principal, or of all principals when `principal_arn` is empty; ordered by
  // creation time, then id.
  Result<std::vector<AccessKeyRecord>> ListAccessKeys(std::string_view principal_arn);
  // Sets revoked_at = now (> 0). NotFound if absent; revoking again keeps the first time and
  // returns Ok.
  Status RevokeAccessKey(std::string_view access_key_id, int64_t now);

  // API keys: the same contracts as access keys. `secret_sha256_hex` must be 64 lowercase hex.
  Status CreateApiKey(const ApiKeyRecord& k);
  Result<std::optional<ApiKeyRecord>> GetApiKey(std::string_view key_id);
  Result<std::vector<ApiKeyRecord>> ListApiKeys(std::string_view principal_arn);
  Status RevokeApiKey(std::string_view key_id, int64_t now);

  // A value that changes whenever any connection (this one, or another process such as the CLI)
  // has committed a change since the previous call, and stays the same otherwise. Callers keep
  // the value they built a snapshot from and rebuild when it differs. Costs one mutex and an
  // atomic load (sqlite::ChangeSignal); no disk I/O.
  Result<uint64_t> ChangeCounter();

 private:
  explicit IdentityStore(std::unique_ptr<sqlite::Connection> db);

  // All private members below require mu_ held.
  Status InitSchema();
  // Runs `body` in a transaction (sqlite::Connection::InTransaction) and notes the commit.
  Status InTransaction(std::string_view operation, const std::function<Status()>& body);
  Result<std::vector<PrincipalRecord>> QueryPrincipals(const char* sql, std::string_view arn);
  Status Revoke(const char* sql, std::string_view kind, std::string_view id, int64_t now);
  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> db_;
  std::unique_ptr<sqlite::ChangeSignal> changes_;  // <path>-version; see sqlite::ChangeSignal
};

}  // namespace perimeter::iam
