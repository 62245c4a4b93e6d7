#pragma once

// The KMS: customer master keys (CMKs) with key policies, versions, rotation, disable/enable and
// scheduled deletion, and the cryptographic operations of AWS KMS (GenerateDataKey, Encrypt,
// Decrypt, ReEncrypt) over Perimeter's self-describing ciphertexts (ciphertext.h).
//
// Authorization, as in AWS KMS: the key policy is the primary control. A request is allowed only
// when (1) no applicable policy denies it, (2) the key policy has an Allow statement matching the
// caller (by ARN, by the role behind a session, by service principal, or by the account, which
// delegates to IAM), and (3) when that statement names only the account, the caller's own
// identity policies (within their boundaries and session policy) allow the action too.
// Actions are "kms:<Operation>"; the resource is the key ARN; the context has kms:CallerAccount,
// kms:EncryptionContext:<key> for each context pair, kms:EncryptionContextKeys,
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/<key>,
// aws:CurrentTime and aws:EpochTime.
//
// Material: each CMK version's 32 bytes are wrapped by the key's backend (backend.h) and unwrapped
// into memory on first use; the unwrapped copy is wiped when the key is disabled, scheduled for
// deletion or destroyed. Encrypt wraps a fresh data key (or a cached one, see
// DataKeyCacheOptions) under the current version, and Decrypt uses whichever version the
// ciphertext names, so rotation never breaks old data; ReEncrypt moves it forward.
//
// Every operation, allowed or not, is recorded on the KeyAuditSink before any result is
// released; if the event cannot be recorded, the operation fails (Unavailable).
//
// Errors (the AWS KMS exception each corresponds to is recorded as the event's outcome):
//   NotFound (NotFoundException): no such key, alias or tenant;
//   PermissionDenied (AccessDeniedException): the key policy or the caller's policies refuse;
//   FailedPrecondition: the key is Disabled (DisabledException), PendingDeletion or Destroyed
//     (KMSInvalidStateException) — the message says which, since when, and what to do;
//   InvalidArgument: a malformed request, or a ciphertext that is not a Perimeter ciphertext
//     (InvalidCiphertextException);
//   Unauthenticated (InvalidCiphertextException): the ciphertext was altered, or the
//     encryption context differs from the one it was encrypted with;
//   AlreadyExists: an alias or tenant already in use;
//   Unavailable: the store, backend or audit sink cannot be written now.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "kms/audit.h"
#include "kms/backend.h"
#include "kms/records.h"
#include "kms/store.h"
#include "policy/evaluator.h"

namespace perimeter::kms {

// The service principal the gateway uses for its own key operations (e.g. reading an access-key
// secret to verify a signature, before any caller session exists). Key policies name it as
// {"Service": "perimeter.internal"}.
inline constexpr std::string_view kGatewayServicePrincipal = "perimeter.internal";

// Who asks. Build one from an iam::Caller, or use Kms::Gateway() / Kms::Administrator().
struct KeyCaller {
  std::string arn;            // the user ARN, the assumed-role session ARN, or a service principal
  std::string principal_arn;  // aws:PrincipalArn: the user ARN or the role ARN of a session
  std::string account_id;
  std::string principal_type;  // aws:PrincipalType: User, AssumedRole, Account, Service
  std::map<std::string, std::string> tags;
  std::vector<policy::NamedPolicy> identity_policies;
  std::vector<policy::NamedPolicy> boundaries;
  std::optional<policy::NamedPolicy> session_policy;
};

struct DataKeyCacheOptions {
  bool enabled = true;
  // A cached data key is used for at most this long and this many encryptions, then replaced
  // (as the AWS Encryption SDK's caching materials manager does).
  std::chrono::seconds max_age{300};
  uint64_t max_uses = 1000;
  size_t max_entries = 1024;  // distinct (key, version, context) entries; least recent evicted
};

struct KmsOptions {
  std::string region = "eu-west-1";
  std::string account_id = "000000000000";
  // Default automatic rotation period for new keys; zero turns automatic rotation off.
  // AWS's bounds: 90 to 2560 days.
  std::chrono::seconds default_rotation_period{std::chrono::hours(24 * 365)};
  DataKeyCacheOptions data_key_cache;
};

inline constexpr int64_t kMinRotationPeriodSeconds = int64_t{90} * 86400;
inline constexpr int64_t kMaxRotationPeriodSeconds = int64_t{2560} * 86400;
inline constexpr int kMinPendingWindowDays = 7;
inline constexpr int kMaxPendingWindowDays = 30;
inline constexpr size_t kMaxPlaintextBytes = size_t{4} << 20;
inline constexpr size_t kMaxContextPairs = 32;
inline constexpr size_t kMaxContextBytes = 8192;  // all keys and values together

struct CreateKeyRequest {
  std::string alias;  // optional: "alias/<name>", name of [A-Za-z0-9/_-], not "alias/aws/..."
  std::string description;
  std::map<std::string, std::string> tags;
  std::string policy;  // empty: the default key policy (the account root may do everything,
                       // delegating to IAM; the gateway may use it)
  std::optional<std::chrono::seconds> rotation_period;  // unset: KmsOptions default; 0 = off
};

struct DataKey {
  crypto::SecretBytes plaintext;
  std::string ciphertext;  // the data key under the CMK, in the ciphertext format
  std::string key_id;
  uint32_t key_version = 0;
};

struct Decrypted {
  crypto::SecretBytes plaintext;
  std::string key_id;
  uint32_t key_version = 0;
};

struct MaintenanceReport {
  std::vector<std::string> rotated;    // key ids rotated automatically
  std::vector<std::string> destroyed;  // key ids whose deletion date had passed
};

class Kms {
 public:
  // `backends`: every backend keys may use, by Name(); new keys use `default_backend`.
  Kms(std::shared_ptr<KeyStore> store, std::vector<std::shared_ptr<KeyBackend>> backends,
      std::string default_backend, std::shared_ptr<KeyAuditSink> audit, const Clock& clock,
      KmsOptions options);
  ~Kms();
  Kms(const Kms&) = delete;
  Kms& operator=(const Kms&) = delete;

  const KmsOptions& options() const { return options_; }

  // arn:aws:kms:<region>:<account>:key/<key_id>
  std::string KeyArn(std::string_view key_id) const;

  // The gateway's own identity (kGatewayServicePrincipal).
  KeyCaller Gateway() const;
  // The operator of the CLI: the account root (arn:aws:iam::<account>:root), whose identity
  // allows every action, as AWS's root user — so for key operations the key policy alone decides
  // (a tenant key's policy lets the root manage it but not use it).
  KeyCaller Administrator() const;

  // ---- Management ----------------------------------------------------------------------------
  // `key` everywhere below: a key id, key ARN, "alias/<name>" or alias ARN.
  Result<KeyRecord> CreateKey(const KeyCaller& caller, const CreateKeyRequest& request);
  Result<KeyRecord> DescribeKey(const KeyCaller& caller, std::string_view key);
  Result<std::vector<KeyRecord>> ListKeys(const KeyCaller& caller);
  Result<KeyRecord> EnableKey(const KeyCaller& caller, std::string_view key);
  Result<KeyRecord> DisableKey(const KeyCaller& caller, std::string_view key);
  // A new version becomes current; every older version still decrypts.
  Result<KeyRecord> RotateKeyOnDemand(const KeyCaller& caller, std::string_view key);
  // period 0 turns automatic rotation off; otherwise 90..2560 days.
  Result<KeyRecord> SetRotationPeriod(const KeyCaller& caller, std::string_view key,
                                      std::chrono::seconds period);
  // PendingDeletion for `pending_window_days` (7..30); destroyed by RunMaintenance after that.
  Result<KeyRecord> ScheduleKeyDeletion(const KeyCaller& caller, std::string_view key,
                                        int pending_window_days);
  // Back to Disabled, as in AWS (enable it explicitly).
  Result<KeyRecord> CancelKeyDeletion(const KeyCaller& caller, std::string_view key);
  Result<std::string> GetKeyPolicy(const KeyCaller& caller, std::string_view key);
  // The document must parse as a resource policy. Unless `bypass_lockout_check`, the new policy
  // must still let `caller` call PutKeyPolicy (AWS's lockout safety check).
  Result<KeyRecord> PutKeyPolicy(const KeyCaller& caller, std::string_view key,
                                 std::string_view policy, bool bypass_lockout_check = false);

  // ---- Cryptography --------------------------------------------------------------------------
  Result<std::string> Encrypt(const KeyCaller& caller, std::string_view key,
                              std::string_view plaintext, const EncryptionContext& context);
  // A fresh 1..1024-byte data key (32 by default) and its ciphertext under the key.
  Result<DataKey> GenerateDataKey(const KeyCaller& caller, std::string_view key,
                                  const EncryptionContext& context, size_t bytes = 32);
  // `expected_key`: when not empty, the ciphertext must be under that key (IncorrectKeyException
  // otherwise, as AWS's KeyId parameter).
  Result<Decrypted> Decrypt(const KeyCaller& caller, std::string_view ciphertext,
                            const EncryptionContext& context, std::string_view expected_key = {});
  // Decrypts under the source key (kms:ReEncryptFrom) and encrypts under the current version of
  // `destination_key` (kms:ReEncryptTo); the plaintext never leaves the KMS.
  Result<std::string> ReEncrypt(const KeyCaller& caller, std::string_view ciphertext,
                                const EncryptionContext& source_context,
                                std::string_view destination_key,
                                const EncryptionContext& destination_context);

  // ---- Lifecycle -----------------------------------------------------------------------------
  // Rotates every Enabled key whose rotation is due and destroys every PendingDeletion key whose
  // date has passed (recorded as RotateKey / DeleteKey by the gateway service). The gateway calls
  // it periodically; the CLI before each command.
  Result<MaintenanceReport> RunMaintenance();

  // ---- Tenants -------------------------------------------------------------------------------
  // Creates the tenant's CMK (alias/perimeter/tenant/<id>, tags perimeter:tenant and
  // perimeter:purpose=tenant-data) with TenantKeyPolicy, then the tenant record. AlreadyExists
  // if the tenant exists (and is not deleted).
  Result<TenantRecord> CreateTenant(const KeyCaller& caller, std::string_view tenant_id,
                                    std::string_view role_arn);
  // CreateTenant unless it exists with the same role (config-declared tenants at startup).
  Result<TenantRecord> EnsureTenant(std::string_view tenant_id, std::string_view role_arn);
  Result<std::optional<TenantRecord>> GetTenant(std::string_view tenant_id);
  Result<std::vector<TenantRecord>> ListTenants();
  // Schedules the deletion of the tenant's key (crypto-shredding after the window) and marks the
  // tenant deleted.
  Result<TenantRecord> DeleteTenant(const KeyCaller& caller, std::string_view tenant_id,
                                    int pending_window_days);
  // The key policy of a tenant's CMK: the tenant's role (and its sessions) and the gateway may
  // use it, only with an encryption context whose "tenant" is this tenant; the account root may
  // manage it but not use it.
  std::string TenantKeyPolicy(std::string_view tenant_id, std::string_view role_arn) const;
  // The environment key (alias/perimeter/environment), created on first use with
  // EnvironmentKeyPolicy: for data that belongs to no tenant (access-key secrets of users of no
  // tenant).
  Result<KeyRecord> EnvironmentKey();
  // Only the gateway may use the environment key; the account root may manage it.
  std::string EnvironmentKeyPolicy() const;

  // The perimeter:tenant tag of the key a ciphertext names ("" for a key of no tenant): which
  // tenant context to decrypt a stored secret with. Reads metadata only; not a key use.
  // InvalidArgument for a blob that is not a ciphertext, NotFound for an unknown key.
  Result<std::string> TenantOfCiphertext(std::string_view ciphertext);

  // For tests and benchmarks: data-key cache hits and misses since construction.
  uint64_t cache_hits() const;
  uint64_t cache_misses() const;

  // Implementation detail, public only so that kms.cc's helpers can name it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  KmsOptions options_;
};

// The global condition keys of a caller at `now`: aws:PrincipalArn (the principal ARN, else the
// caller ARN), aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/<key>,
// aws:PrincipalTagKeys, aws:CurrentTime, aws:EpochTime. Shared by the key policies here and the
// vault's IAM actions.
policy::RequestContext CallerContext(const KeyCaller& caller,
                                     std::chrono::system_clock::time_point now);

// The AWS KMS exception name for a status returned by a Kms operation (what the audit event's
// outcome says): AccessDeniedException, NotFoundException, DisabledException,
// KMSInvalidStateException, InvalidCiphertextException, IncorrectKeyException,
// ValidationException, AlreadyExistsException, DependencyTimeoutException, KMSInternalException.
std::string KmsExceptionName(const Status& s);

// The usual encryption context of stored tenant data: {"tenant": <id>, "purpose": <purpose>}.
EncryptionContext TenantContext(std::string_view tenant_id, std::string_view purpose);

}  // namespace perimeter::kms
