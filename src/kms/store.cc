#include "kms/store.h"

#include <algorithm>
#include <utility>

namespace perimeter::kms {

std::string_view KeyStateName(KeyState s) {
  switch (s) {
    case KeyState::kEnabled:
      return "Enabled";
    case KeyState::kDisabled:
      return "Disabled";
    case KeyState::kPendingDeletion:
      return "PendingDeletion";
    case KeyState::kDestroyed:
      return "Destroyed";
  }
  return "Unknown";
}

std::optional<KeyState> ParseKeyState(std::string_view name) {
  for (KeyState s : {KeyState::kEnabled, KeyState::kDisabled, KeyState::kPendingDeletion,
                     KeyState::kDestroyed}) {
    if (KeyStateName(s) == name) return s;
  }
  return std::nullopt;
}

namespace {

Status TooLong(std::string_view what, std::string_view id, size_t size, size_t max) {
  return InvalidArgument(std::string(what) + " of " + std::string(id.substr(0, kMaxKeyIdBytes)) +
                         " is " + std::to_string(size) + " bytes; the limit is " +
                         std::to_string(max));
}

Status CheckId(std::string_view what, std::string_view id, size_t max) {
  if (id.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (id.size() > max) return TooLong(what, id.substr(0, 16), id.size(), max);
  return Status::Ok();
}

}  // namespace

Status CheckKeyRecord(const KeyRecord& k) {
  PERIMETER_RETURN_IF_ERROR(CheckId("key id", k.key_id, kMaxKeyIdBytes));
  if (k.arn.empty() || k.arn.size() > 2048) return InvalidArgument("key " + k.key_id + ": bad ARN");
  if (k.alias.size() > kMaxAliasBytes)
    return TooLong("the alias", k.key_id, k.alias.size(), kMaxAliasBytes);
  if (k.description.size() > kMaxKeyDescriptionBytes)
    return TooLong("the description", k.key_id, k.description.size(), kMaxKeyDescriptionBytes);
  if (k.policy.size() > kMaxKeyPolicyBytes)
    return TooLong("the key policy", k.key_id, k.policy.size(), kMaxKeyPolicyBytes);
  if (k.tags.size() > kMaxKeyTags) {
    return InvalidArgument("key " + k.key_id + " has " + std::to_string(k.tags.size()) +
                           " tags; the limit is " + std::to_string(kMaxKeyTags));
  }
  for (const auto& [tk, tv] : k.tags) {
    if (tk.empty() || tk.size() > kMaxKeyTagKeyBytes || tv.size() > kMaxKeyTagValueBytes) {
      return InvalidArgument("key " + k.key_id + ": a tag key must be 1-" +
                             std::to_string(kMaxKeyTagKeyBytes) + " bytes and a value at most " +
                             std::to_string(kMaxKeyTagValueBytes));
    }
  }
  if (k.current_version == 0) return InvalidArgument("key " + k.key_id + ": version 0");
  if (k.backend.empty() || k.backend.size() > 32)
    return InvalidArgument("key " + k.key_id + ": bad backend name");
  return Status::Ok();
}

Status CheckKeyVersionRecord(const KeyVersionRecord& v) {
  PERIMETER_RETURN_IF_ERROR(CheckId("key id", v.key_id, kMaxKeyIdBytes));
  if (v.version == 0) return InvalidArgument("key " + v.key_id + ": version 0");
  if (v.wrapped_material.empty() || v.wrapped_material.size() > kMaxWrappedMaterialBytes) {
    return InvalidArgument("key " + v.key_id + " version " + std::to_string(v.version) +
                           ": wrapped material must be 1-" +
                           std::to_string(kMaxWrappedMaterialBytes) + " bytes");
  }
  return Status::Ok();
}

Status CheckTenantRecord(const TenantRecord& t) {
  PERIMETER_RETURN_IF_ERROR(CheckId("tenant id", t.tenant_id, kMaxTenantIdBytes));
  PERIMETER_RETURN_IF_ERROR(CheckId("tenant key id", t.key_id, kMaxKeyIdBytes));
  if (t.role_arn.size() > 2048) return InvalidArgument("tenant " + t.tenant_id + ": role ARN");
  return Status::Ok();
}

Status CheckTenantSecretRecord(const TenantSecretRecord& s) {
  PERIMETER_RETURN_IF_ERROR(CheckId("tenant id", s.tenant_id, kMaxTenantIdBytes));
  PERIMETER_RETURN_IF_ERROR(CheckId("secret purpose", s.purpose, kMaxKeyIdBytes));
  if (s.ciphertext.empty() || s.ciphertext.size() > kMaxStoredCiphertextBytes)
    return TooLong("the secret", s.tenant_id, s.ciphertext.size(), kMaxStoredCiphertextBytes);
  return Status::Ok();
}

Status CheckVaultEntry(const VaultEntry& e) {
  PERIMETER_RETURN_IF_ERROR(CheckId("tenant id", e.tenant_id, kMaxTenantIdBytes));
  PERIMETER_RETURN_IF_ERROR(CheckId("token", e.token, kMaxTokenBytes));
  PERIMETER_RETURN_IF_ERROR(CheckId("entity", e.entity, kMaxTokenBytes));
  if (e.ciphertext.size() > kMaxStoredCiphertextBytes)
    return TooLong("the vault value", e.token, e.ciphertext.size(), kMaxStoredCiphertextBytes);
  return Status::Ok();
}

Status CheckVersionOfKey(const KeyRecord& key, const KeyVersionRecord& version) {
  if (version.key_id != key.key_id || version.version != key.current_version) {
    return InvalidArgument("key " + key.key_id +
                           ": the new version must be the key's current_version of the same key");
  }
  return Status::Ok();
}

// ---- MemoryKeyStore ----------------------------------------------------------------------------

Status MemoryKeyStore::CreateKey(const KeyRecord& key, const KeyVersionRecord& first) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(key));
  PERIMETER_RETURN_IF_ERROR(CheckKeyVersionRecord(first));
  PERIMETER_RETURN_IF_ERROR(CheckVersionOfKey(key, first));
  std::lock_guard lock(mu_);
  if (keys_.count(key.key_id) != 0) return AlreadyExists("key " + key.key_id + " exists");
  if (!key.alias.empty()) {
    for (const auto& [id, k] : keys_) {
      if (k.alias == key.alias) return AlreadyExists("alias " + key.alias + " is in use");
    }
  }
  keys_[key.key_id] = key;
  versions_[{key.key_id, first.version}] = first;
  ++counter_;
  return Status::Ok();
}

Result<std::optional<KeyRecord>> MemoryKeyStore::GetKey(std::string_view key_id) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::optional<KeyRecord>();
  return std::optional<KeyRecord>(it->second);
}

Result<std::optional<KeyRecord>> MemoryKeyStore::GetKeyByAlias(std::string_view alias) {
  std::lock_guard lock(mu_);
  for (const auto& [id, k] : keys_) {
    if (!alias.empty() && k.alias == alias) return std::optional<KeyRecord>(k);
  }
  return std::optional<KeyRecord>();
}

Result<std::vector<KeyRecord>> MemoryKeyStore::ListKeys() {
  std::lock_guard lock(mu_);
  std::vector<KeyRecord> out;
  for (const auto& [id, k] : keys_) out.push_back(k);
  std::stable_sort(out.begin(), out.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return std::tie(a.created_at, a.key_id) < std::tie(b.created_at, b.key_id);
  });
  return out;
}

Status MemoryKeyStore::UpdateKey(const KeyRecord& key) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(key));
  std::lock_guard lock(mu_);
  auto it = keys_.find(key.key_id);
  if (it == keys_.end()) return NotFound("key " + key.key_id + " does not exist");
  if (!key.alias.empty()) {
    for (const auto& [id, k] : keys_) {
      if (id != key.key_id && k.alias == key.alias)
        return AlreadyExists("alias " + key.alias + " is in use");
    }
  }
  it->second = key;
  ++counter_;
  return Status::Ok();
}

Status MemoryKeyStore::AddVersion(const KeyRecord& updated, const KeyVersionRecord& version) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(updated));
  PERIMETER_RETURN_IF_ERROR(CheckKeyVersionRecord(version));
  PERIMETER_RETURN_IF_ERROR(CheckVersionOfKey(updated, version));
  std::lock_guard lock(mu_);
  auto it = keys_.find(updated.key_id);
  if (it == keys_.end()) return NotFound("key " + updated.key_id + " does not exist");
  if (versions_.count({version.key_id, version.version}) != 0) {
    return AlreadyExists("key " + version.key_id + " already has version " +
                         std::to_string(version.version));
  }
  it->second = updated;
  versions_[{version.key_id, version.version}] = version;
  ++counter_;
  return Status::Ok();
}

Result<std::vector<KeyVersionRecord>> MemoryKeyStore::ListVersions(std::string_view key_id) {
  std::lock_guard lock(mu_);
  std::vector<KeyVersionRecord> out;
  for (auto it = versions_.lower_bound({std::string(key_id), 0});
       it != versions_.end() && it->first.first == key_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status MemoryKeyStore::DestroyKey(const KeyRecord& tombstone) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(tombstone));
  if (tombstone.state != KeyState::kDestroyed)
    return InvalidArgument("key " + tombstone.key_id + ": the tombstone's state must be Destroyed");
  std::lock_guard lock(mu_);
  auto it = keys_.find(tombstone.key_id);
  if (it == keys_.end()) return NotFound("key " + tombstone.key_id + " does not exist");
  it->second = tombstone;
  for (auto v = versions_.lower_bound({tombstone.key_id, 0});
       v != versions_.end() && v->first.first == tombstone.key_id;) {
    v = versions_.erase(v);
  }
  ++counter_;
  return Status::Ok();
}

Status MemoryKeyStore::CreateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantRecord(tenant));
  std::lock_guard lock(mu_);
  if (!tenants_.emplace(tenant.tenant_id, tenant).second)
    return AlreadyExists("tenant " + tenant.tenant_id + " exists");
  ++counter_;
  return Status::Ok();
}

Result<std::optional<TenantRecord>> MemoryKeyStore::GetTenant(std::string_view tenant_id) {
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant_id);
  if (it == tenants_.end()) return std::optional<TenantRecord>();
  return std::optional<TenantRecord>(it->second);
}

Result<std::vector<TenantRecord>> MemoryKeyStore::ListTenants() {
  std::lock_guard lock(mu_);
  std::vector<TenantRecord> out;
  for (const auto& [id, t] : tenants_) out.push_back(t);
  return out;
}

Status MemoryKeyStore::UpdateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantRecord(tenant));
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant.tenant_id);
  if (it == tenants_.end()) return NotFound("tenant " + tenant.tenant_id + " does not exist");
  it->second = tenant;
  ++counter_;
  return Status::Ok();
}

Status MemoryKeyStore::PutTenantSecret(const TenantSecretRecord& secret) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantSecretRecord(secret));
  std::lock_guard lock(mu_);
  if (!secrets_.emplace(std::pair(secret.tenant_id, secret.purpose), secret).second) {
    return AlreadyExists("tenant " + secret.tenant_id + " already has a " + secret.purpose);
  }
  ++counter_;
  return Status::Ok();
}

Result<std::optional<TenantSecretRecord>> MemoryKeyStore::GetTenantSecret(
    std::string_view tenant_id, std::string_view purpose) {
  std::lock_guard lock(mu_);
  auto it = secrets_.find({std::string(tenant_id), std::string(purpose)});
  if (it == secrets_.end()) return std::optional<TenantSecretRecord>();
  return std::optional<TenantSecretRecord>(it->second);
}

Status MemoryKeyStore::PutVaultEntry(const VaultEntry& entry) {
  PERIMETER_RETURN_IF_ERROR(CheckVaultEntry(entry));
  std::lock_guard lock(mu_);
  if (!vault_.emplace(std::pair(entry.tenant_id, entry.token), entry).second)
    return AlreadyExists("tenant " + entry.tenant_id + " already has vault entry " + entry.token);
  ++counter_;
  return Status::Ok();
}

Result<std::optional<VaultEntry>> MemoryKeyStore::GetVaultEntry(std::string_view tenant_id,
                                                                std::string_view token) {
  std::lock_guard lock(mu_);
  auto it = vault_.find({std::string(tenant_id), std::string(token)});
  if (it == vault_.end()) return std::optional<VaultEntry>();
  return std::optional<VaultEntry>(it->second);
}

Result<std::vector<VaultEntry>> MemoryKeyStore::ListVaultEntries(std::string_view tenant_id) {
  std::lock_guard lock(mu_);
  std::vector<VaultEntry> out;
  for (const auto& [k, e] : vault_) {
    if (k.first == tenant_id) out.push_back(e);
  }
  return out;
}

Status MemoryKeyStore::EraseVaultEntry(std::string_view tenant_id, std::string_view token,
                                       int64_t now) {
  if (now <= 0) return InvalidArgument("the erasure time must be positive unix seconds");
  std::lock_guard lock(mu_);
  auto it = vault_.find({std::string(tenant_id), std::string(token)});
  if (it == vault_.end()) {
    return NotFound("tenant " + std::string(tenant_id) + " has no vault entry " +
                    std::string(token.substr(0, kMaxTokenBytes)));
  }
  it->second.ciphertext.clear();
  if (it->second.erased_at == 0) it->second.erased_at = now;
  ++counter_;
  return Status::Ok();
}

Result<uint64_t> MemoryKeyStore::ChangeCounter() {
  std::lock_guard lock(mu_);
  return counter_;
}

// ---- FaultInjectingKeyStore --------------------------------------------------------------------

void FaultInjectingKeyStore::FailNextWrite(int skip) {
  std::lock_guard lock(mu_);
  countdown_ = skip;
}

void FaultInjectingKeyStore::FailAllWrites(bool fail) {
  std::lock_guard lock(mu_);
  fail_all_ = fail;
}

int FaultInjectingKeyStore::failed_writes() const {
  std::lock_guard lock(mu_);
  return failed_;
}

Status FaultInjectingKeyStore::MaybeFail(std::string_view operation) {
  std::lock_guard lock(mu_);
  bool fail = fail_all_;
  if (countdown_ == 0) {
    fail = true;
    countdown_ = -1;
  } else if (countdown_ > 0) {
    --countdown_;
  }
  if (!fail) return Status::Ok();
  ++failed_;
  return Unavailable("injected fault: the key store could not write (" + std::string(operation) +
                     ")");
}

Status FaultInjectingKeyStore::CreateKey(const KeyRecord& key, const KeyVersionRecord& first) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("CreateKey"));
  return inner_->CreateKey(key, first);
}
Result<std::optional<KeyRecord>> FaultInjectingKeyStore::GetKey(std::string_view key_id) {
  return inner_->GetKey(key_id);
}
Result<std::optional<KeyRecord>> FaultInjectingKeyStore::GetKeyByAlias(std::string_view alias) {
  return inner_->GetKeyByAlias(alias);
}
Result<std::vector<KeyRecord>> FaultInjectingKeyStore::ListKeys() { return inner_->ListKeys(); }
Status FaultInjectingKeyStore::UpdateKey(const KeyRecord& key) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("UpdateKey"));
  return inner_->UpdateKey(key);
}
Status FaultInjectingKeyStore::AddVersion(const KeyRecord& updated,
                                          const KeyVersionRecord& version) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("AddVersion"));
  return inner_->AddVersion(updated, version);
}
Result<std::vector<KeyVersionRecord>> FaultInjectingKeyStore::ListVersions(
    std::string_view key_id) {
  return inner_->ListVersions(key_id);
}
Status FaultInjectingKeyStore::DestroyKey(const KeyRecord& tombstone) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("DestroyKey"));
  return inner_->DestroyKey(tombstone);
}
Status FaultInjectingKeyStore::CreateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("CreateTenant"));
  return inner_->CreateTenant(tenant);
}
Result<std::optional<TenantRecord>> FaultInjectingKeyStore::GetTenant(std::string_view id) {
  return inner_->GetTenant(id);
}
Result<std::vector<TenantRecord>> FaultInjectingKeyStore::ListTenants() {
  return inner_->ListTenants();
}
Status FaultInjectingKeyStore::UpdateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("UpdateTenant"));
  return inner_->UpdateTenant(tenant);
}
Status FaultInjectingKeyStore::PutTenantSecret(const TenantSecretRecord& secret) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("PutTenantSecret"));
  return inner_->PutTenantSecret(secret);
}
Result<std::optional<TenantSecretRecord>> FaultInjectingKeyStore::GetTenantSecret(
    std::string_view tenant_id, std::string_view purpose) {
  return inner_->GetTenantSecret(tenant_id, purpose);
}
Status FaultInjectingKeyStore::PutVaultEntry(const VaultEntry& entry) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("PutVaultEntry"));
  return inner_->PutVaultEntry(entry);
}
Result<std::optional<VaultEntry>> FaultInjectingKeyStore::GetVaultEntry(std::string_view tenant_id,
                                                                        std::string_view token) {
  return inner_->GetVaultEntry(tenant_id, token);
}
Result<std::vector<VaultEntry>> FaultInjectingKeyStore::ListVaultEntries(
    std::string_view tenant_id) {
  return inner_->ListVaultEntries(tenant_id);
}
Status FaultInjectingKeyStore::EraseVaultEntry(std::string_view tenant_id, std::string_view token,
                                               int64_t now) {
  PERIMETER_RETURN_IF_ERROR(MaybeFail("EraseVaultEntry"));
  return inner_->EraseVaultEntry(tenant_id, token, now);
}
Result<uint64_t> FaultInjectingKeyStore::ChangeCounter() { return inner_->ChangeCounter(); }

}  // namespace perimeter::kms
