#pragma once

// The KMS's persistent records: customer master keys (CMKs), their versions, tenants, and the
// vault's entries. Plain data; the stores (store.h) keep them and the Kms (kms.h) gives them
// meaning. Times are unix seconds.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace perimeter::kms {

// AWS KMS's key states, as far as Perimeter has them.
enum class KeyState {
  kEnabled,
  kDisabled,
  kPendingDeletion,
  kDestroyed,  // the material of every version is gone; the metadata stays, so errors can say why
};
std::string_view KeyStateName(KeyState s);  // "Enabled", "Disabled", "PendingDeletion", "Destroyed"
std::optional<KeyState> ParseKeyState(std::string_view name);

struct KeyRecord {
  std::string key_id;  // a UUID, e.g. 1234abcd-12ab-34cd-56ef-1234567890ab
  std::string arn;     // arn:aws:kms:<region>:<account>:key/<key_id>
  std::string alias;   // "alias/..." or empty; unique among keys
  std::string description;
  // Tags, among them the ones Perimeter reads: perimeter:tenant, perimeter:environment,
  // perimeter:purpose.
  std::map<std::string, std::string> tags;
  std::string policy;  // the key policy, IAM JSON (a resource policy)
  KeyState state = KeyState::kEnabled;
  uint32_t current_version = 1;
  int64_t created_at = 0;
  int64_t rotation_period_seconds = 0;  // 0 = no automatic rotation
  int64_t next_rotation_at = 0;         // 0 = none scheduled
  int64_t last_rotated_at = 0;          // 0 = never rotated
  int64_t deletion_date = 0;            // PendingDeletion: when it will be destroyed
  int64_t destroyed_at = 0;             // Destroyed: when
  std::string backend;  // the KeyBackend that wraps its material: "local", "aws-kms"
};

// One version of a key's material, wrapped by the key's backend. Destroying a key deletes these.
struct KeyVersionRecord {
  std::string key_id;
  uint32_t version = 0;
  std::string wrapped_material;  // the backend's ciphertext of the 32-byte AES-256 key
  int64_t created_at = 0;
};

// A tenant known to the KMS: its CMK. (The tenant's role and who may act for it are config.)
enum class TenantState { kActive, kDeleted };
struct TenantRecord {
  std::string tenant_id;
  std::string key_id;
  std::string role_arn;  // the role the key policy grants use to
  TenantState state = TenantState::kActive;
  int64_t created_at = 0;
  int64_t deleted_at = 0;
};

// A per-tenant secret wrapped under the tenant's CMK, e.g. the redaction token key. Written once;
// stable across rotation of the CMK (the ciphertext names its key version).
struct TenantSecretRecord {
  std::string tenant_id;
  std::string purpose;     // e.g. "redaction-token-key"
  std::string ciphertext;  // a Kms ciphertext (ciphertext.h)
  int64_t created_at = 0;
};

// A vault value: what a redaction token stands for, encrypted under the tenant's CMK.
struct VaultEntry {
  std::string tenant_id;
  std::string token;       // e.g. [EMAIL_3f9a0c1d2e4b5a69]
  std::string entity;      // e.g. EMAIL
  std::string ciphertext;  // a Kms ciphertext; empty once erased
  int64_t created_at = 0;
  int64_t erased_at = 0;  // 0 = not erased
};

}  // namespace perimeter::kms
