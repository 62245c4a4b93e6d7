#pragma once

// KeyStore: where the KMS keeps keys, key versions, tenants, tenant secrets and vault entries.
//
// Three implementations:
//   - SqliteKeyStore (sqlite_store.h): <state_dir>/keys.db, WAL, synchronous=FULL, mode 0600;
//     every mutating call is one transaction, so a crash leaves the old state or the new;
//   - MemoryKeyStore (below): for tests and benchmarks;
//   - FaultInjectingKeyStore (below): wraps another store and fails chosen writes, so tests prove
//     that a failed write fails the operation and leaves nothing half-written.
//
// Contracts shared by all implementations:
//   - every mutating call is atomic: on error nothing of it is visible;
//   - AlreadyExists for a duplicate key id, alias, tenant, (tenant, purpose) secret or
//     (tenant, token) vault entry; NotFound when updating something absent;
//   - InvalidArgument for a record over the bounds below (nothing is written);
//   - Unavailable when the store cannot be written now (locked, disk full), Internal otherwise;
//   - messages name the operation and the record id, never key material or a vault value.
// Thread-safe.

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
#include "kms/records.h"

namespace perimeter::kms {

// Bounds (bytes unless stated), checked by every implementation.
inline constexpr size_t kMaxKeyIdBytes = 128;
inline constexpr size_t kMaxAliasBytes = 256;  // AWS's alias limit
inline constexpr size_t kMaxKeyDescriptionBytes = 8192;
inline constexpr size_t kMaxKeyPolicyBytes = 32768;  // AWS's key policy limit
inline constexpr size_t kMaxKeyTags = 50;
inline constexpr size_t kMaxKeyTagKeyBytes = 128;
inline constexpr size_t kMaxKeyTagValueBytes = 256;
inline constexpr size_t kMaxWrappedMaterialBytes = 8192;
inline constexpr size_t kMaxTenantIdBytes = 63;
inline constexpr size_t kMaxStoredCiphertextBytes = 1 << 20;
inline constexpr size_t kMaxTokenBytes = 128;

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Keys. CreateKey writes the key and its first version together.
  virtual Status CreateKey(const KeyRecord& key, const KeyVersionRecord& first_version) = 0;
  virtual Result<std::optional<KeyRecord>> GetKey(std::string_view key_id) = 0;
  virtual Result<std::optional<KeyRecord>> GetKeyByAlias(std::string_view alias) = 0;
  // Ordered by creation time, then key id.
  virtual Result<std::vector<KeyRecord>> ListKeys() = 0;
  // Replaces the key's metadata (everything but key_id). NotFound if absent.
  virtual Status UpdateKey(const KeyRecord& key) = 0;
  // Rotation: writes `updated` (whose current_version is `version.version`) and the new version
  // together. AlreadyExists if that version exists.
  virtual Status AddVersion(const KeyRecord& updated, const KeyVersionRecord& version) = 0;
  // Ordered by version.
  virtual Result<std::vector<KeyVersionRecord>> ListVersions(std::string_view key_id) = 0;
  // Destruction: writes `tombstone` (state Destroyed) and deletes every version of the key in
  // one transaction; the versions are gone from the file when this returns (SQLite: secure_delete).
  virtual Status DestroyKey(const KeyRecord& tombstone) = 0;

  // Tenants.
  virtual Status CreateTenant(const TenantRecord& tenant) = 0;
  virtual Result<std::optional<TenantRecord>> GetTenant(std::string_view tenant_id) = 0;
  virtual Result<std::vector<TenantRecord>> ListTenants() = 0;  // ordered by id
  virtual Status UpdateTenant(const TenantRecord& tenant) = 0;

  // Tenant secrets: written once. AlreadyExists if (tenant, purpose) exists, so two writers
  // racing to create a tenant's token key agree on the first one.
  virtual Status PutTenantSecret(const TenantSecretRecord& secret) = 0;
  virtual Result<std::optional<TenantSecretRecord>> GetTenantSecret(std::string_view tenant_id,
                                                                    std::string_view purpose) = 0;

  // Vault. PutVaultEntry: AlreadyExists if (tenant, token) exists.
  virtual Status PutVaultEntry(const VaultEntry& entry) = 0;
  virtual Result<std::optional<VaultEntry>> GetVaultEntry(std::string_view tenant_id,
                                                          std::string_view token) = 0;
  // Ordered by token.
  virtual Result<std::vector<VaultEntry>> ListVaultEntries(std::string_view tenant_id) = 0;
  // Deletes the ciphertext and sets erased_at = now (the token stays, so records that hold it
  // still say a value was there). NotFound if absent; erasing again keeps the first time.
  virtual Status EraseVaultEntry(std::string_view tenant_id, std::string_view token,
                                 int64_t now) = 0;

  // Changes whenever any writer (this process or another) has committed since the previous call;
  // the Kms drops its cached key records when it moves.
  virtual Result<uint64_t> ChangeCounter() = 0;
};

// Validates a record against the bounds above; every implementation calls these before writing.
Status CheckKeyRecord(const KeyRecord& key);
Status CheckKeyVersionRecord(const KeyVersionRecord& version);
Status CheckTenantRecord(const TenantRecord& tenant);
Status CheckTenantSecretRecord(const TenantSecretRecord& secret);
Status CheckVaultEntry(const VaultEntry& entry);
// A version written with a key (CreateKey, AddVersion) must be that key's current version.
Status CheckVersionOfKey(const KeyRecord& key, const KeyVersionRecord& version);

// In memory; lost at exit.
class MemoryKeyStore final : public KeyStore {
 public:
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
  Result<uint64_t> ChangeCounter() override;

 private:
  std::mutex mu_;
  uint64_t counter_ = 0;
  std::map<std::string, KeyRecord, std::less<>> keys_;
  std::map<std::pair<std::string, uint32_t>, KeyVersionRecord> versions_;
  std::map<std::string, TenantRecord, std::less<>> tenants_;
  std::map<std::pair<std::string, std::string>, TenantSecretRecord> secrets_;
  std::map<std::pair<std::string, std::string>, VaultEntry> vault_;
};

// Forwards to `inner`, except that the write chosen by FailNextWrite fails with Unavailable
// before reaching it (so, as with a real failed transaction, nothing is written). Reads are never
// failed. Thread-safe.
class FaultInjectingKeyStore final : public KeyStore {
 public:
  explicit FaultInjectingKeyStore(std::shared_ptr<KeyStore> inner) : inner_(std::move(inner)) {}

  // The write after `skip` more successful writes fails; -1 (the default) = never.
  void FailNextWrite(int skip = 0);
  // Every write fails until cleared.
  void FailAllWrites(bool fail);
  int failed_writes() const;

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
  Result<uint64_t> ChangeCounter() override;

 private:
  Status MaybeFail(std::string_view operation);

  std::shared_ptr<KeyStore> inner_;
  mutable std::mutex mu_;
  int countdown_ = -1;
  bool fail_all_ = false;
  int failed_ = 0;
};

}  // namespace perimeter::kms
