#pragma once

// SqliteKeyStore: the KeyStore (store.h) in one SQLite database file, <state_dir>/keys.db,
// shared by the gateway and the CLI.
//
// Durability and sharing: WAL journal, synchronous=FULL (a committed rotation or destruction
// survives a power cut), busy timeout 5 s, foreign keys on. Every mutating call is one
// BEGIN IMMEDIATE transaction, rolled back on any failure, so a crash (or a kill -9) leaves either
// the old state or the new one: never a key whose current_version has no version row. Several
// processes may open the same file; writers are serialized by SQLite. The file is created with
// mode 0600 and an existing file readable or writable by group or others is refused.
//
// Erasure: secure_delete is on, so the bytes of a deleted key version or an erased vault value
// are overwritten with zeros in the pages SQLite rewrites. DestroyKey and EraseVaultEntry then
// checkpoint the write-ahead log into the database file and truncate the log, so the old page
// images holding the material leave the log too. If another connection's read keeps the
// checkpoint from finishing, the call still succeeds (the change is committed) and the next
// checkpoint completes the overwrite.
//
// Beyond the contracts of store.h: CreateKey and AddVersion refuse (InvalidArgument) a version
// whose key id differs from the key record's, or whose number is not the record's
// current_version; DestroyKey refuses a tombstone whose state is not Destroyed; EraseVaultEntry
// refuses a time that is not positive (erased_at = 0 means "not erased"). Lookups by an empty
// alias find nothing (empty = no alias).
//
// Errors on Open: FailedPrecondition for a file that is unusable (wrong mode, not a database, not
// a perimeter key store, or written by a newer perimeter); InvalidArgument for a bad path.
//
// Thread-safe: one connection, guarded by a mutex.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kms/records.h"
#include "kms/store.h"
#include "sqlite/database.h"

namespace perimeter::kms {

// The schema this build writes. A database with a higher version is refused on Open.
inline constexpr int kKeyStoreSchemaVersion = 1;

class SqliteKeyStore final : public KeyStore {
 public:
  // Opens (creating if absent, mode 0600) the database at `path` and creates or checks the
  // schema. The directory must exist.
  static Result<std::unique_ptr<SqliteKeyStore>> Open(const std::string& path);

  ~SqliteKeyStore() override;
  SqliteKeyStore(const SqliteKeyStore&) = delete;
  SqliteKeyStore& operator=(const SqliteKeyStore&) = delete;

  Status CreateKey(const KeyRecord& key, const KeyVersionRecord& first_version) override;
  Result<std::optional<KeyRecord>> GetKey(std::string_view key_id) override;
  Result<std::optional<KeyRecord>> GetKeyByAlias(std::string_view alias) override;
  Result<std::vector<KeyRecord>> ListKeys() override;
  Status UpdateKey(const KeyRecord& key) override;
  Status AddVersion(const KeyRecord& updated, const KeyVersionRecord& version) override;
  Result<std::vector<KeyVersionRecord>> ListVersions(std::string_view key_id) override;
  Status DestroyKey(const KeyRecord& tombstone) override;
  Status CreateTenant(const TenantRecord& tenant) override;
  Result<std::optional<TenantRecord>> GetTenant(std::string_view tenant_id) override;
  Result<std::vector<TenantRecord>> ListTenants() override;
  Status UpdateTenant(const TenantRecord& tenant) override;
  Status PutTenantSecret(const TenantSecretRecord& secret) override;
  Result<std::optional<TenantSecretRecord>> GetTenantSecret(std::string_view tenant_id,
                                                            std::string_view purpose) override;
  Status PutVaultEntry(const VaultEntry& entry) override;
  Result<std::optional<VaultEntry>> GetVaultEntry(std::string_view tenant_id,
                                                  std::string_view token) override;
  Result<std::vector<VaultEntry>> ListVaultEntries(std::string_view tenant_id) override;
  Status EraseVaultEntry(std::string_view tenant_id, std::string_view token, int64_t now) override;
  // A generation number that moves when this connection commits, or when another connection
  // (another process, e.g. the CLI) has committed since the previous call; it stays the same
  // otherwise. Costs one mutex and an atomic load (sqlite::ChangeSignal).
  Result<uint64_t> ChangeCounter() override;

 private:
  explicit SqliteKeyStore(std::unique_ptr<sqlite::Connection> db);

  // All private members below require mu_ held.
  // Enables secure_delete (the rest of the configuration is sqlite::Connection::Open's).
  Status Configure();
  Status InitSchema();
  // Runs `body` in a transaction (sqlite::Connection::InTransaction) and counts the commit.
  Status InTransaction(std::string_view operation, const std::function<Status()>& body);
  // Moves committed pages from the log into the database file and truncates the log; best effort.
  void CheckpointAndTruncateLog();
  // Steps an INSERT or UPDATE and maps its result: a duplicate becomes `duplicate`.
  Status StepWrite(sqlite::Statement& stmt, std::string_view operation, const Status& duplicate);
  // Binds the key's columns (?1 = key_id ... ?15) to `stmt`.
  static void BindKey(sqlite::Statement& stmt, const KeyRecord& key, const std::string& tags_json);
  // Writes every column of an existing key; NotFound if absent, AlreadyExists for a taken alias.
  Status UpdateKeyRow(const KeyRecord& key, const std::string& tags_json,
                      std::string_view operation);
  Status InsertVersion(const KeyVersionRecord& version, std::string_view operation);
  // Runs a SELECT of whole key rows, binding `arg` (if any) to ?1.
  Result<std::vector<KeyRecord>> QueryKeys(const char* sql, std::optional<std::string_view> arg,
                                           std::string_view operation);

  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> db_;
  std::unique_ptr<sqlite::ChangeSignal> changes_;  // <path>-version; see sqlite::ChangeSignal
};

}  // namespace perimeter::kms
