#pragma once

// Vault: the values behind redaction tokens (token.h), encrypted under each tenant's CMK, and
// the only way to get them back.
//
// Tokenize computes a value's token with the tenant's token key and, the first time it sees that
// token, stores the value encrypted by the KMS under the tenant's key
// (alias/perimeter/tenant/<tenant>) with the encryption context
// {"tenant": <tenant>, "purpose": "vault", "token": <token>}. The context binds the ciphertext to
// its tenant and token: a ciphertext copied into another tenant's vault, or under another token,
// does not decrypt.
//
// The token key: 32 random bytes from the KMS's GenerateDataKey under the tenant's key, stored
// once, wrapped, as the tenant secret "redaction-token-key" (when two processes race to create
// it, the store keeps the first and both use it). Its ciphertext names the CMK version, so the
// key, and with it every token, survives rotation of the CMK. Unwrapped keys are cached in
// memory per tenant for at most VaultOptions::token_key_cache_max_age, after which they are
// unwrapped again: so once the tenant's CMK is disabled or scheduled for deletion, tokenization
// stops within that time (ForgetTenantKey stops it at once).
//
// Reveal and Erase are authorized like an AWS API call: the caller's identity policies (within
// their permissions boundaries and session policy) must allow perimeter:RevealToken /
// perimeter:EraseToken on arn:aws:perimeter:<region>:<account>:vault/<tenant>, with the
// condition keys aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/*,
// aws:PrincipalTagKeys, aws:CurrentTime, aws:EpochTime and perimeter:TenantId. Every attempt,
// allowed or not, is recorded on the KeyAuditSink (operation RevealToken / EraseToken, context
// {"tenant", "token"}; never the value) before anything is released; if it cannot be recorded
// the call fails with Unavailable.
//
// Errors: InvalidArgument (malformed tenant id, entity, value or token), PermissionDenied (AWS
// wording: "User: <arn> is not authorized to perform: <action> on resource: <arn> because ..."),
// NotFound (no such token in the tenant's vault, or no such tenant), FailedPrecondition (the
// value was erased; the tenant's key is disabled, pending deletion or destroyed), Unauthenticated
// and others from the KMS when a ciphertext does not decrypt, Unavailable (store, KMS or audit
// sink). Messages never contain a value or key material.
// Thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "kms/audit.h"
#include "kms/kms.h"
#include "kms/records.h"
#include "kms/store.h"

namespace perimeter::redact {

inline constexpr std::string_view kRevealTokenAction = "perimeter:RevealToken";
inline constexpr std::string_view kEraseTokenAction = "perimeter:EraseToken";
inline constexpr std::string_view kTokenKeyPurpose = "redaction-token-key";
inline constexpr std::string_view kVaultPurpose = "vault";
inline constexpr size_t kTokenKeyBytes = 32;

// Authorizes `caller` for `action` on `resource_arn`, a resource of `tenant` (condition key
// perimeter:TenantId), at `now`, like an AWS API call: identity policies within boundaries and
// session policy. Empty when allowed; otherwise AWS's denial message ("User: <arn> is not
// authorized to perform: <action> on resource: <arn> because ...").
std::string AuthorizeTenantAction(const kms::KeyCaller& caller, std::string_view action,
                                  std::string_view resource_arn, std::string_view tenant,
                                  std::chrono::system_clock::time_point now);

struct VaultOptions {
  std::chrono::seconds token_key_cache_max_age{300};
};

// "alias/perimeter/tenant/<tenant>".
std::string TenantKeyAlias(std::string_view tenant);
// True iff `tenant` is a tenant id: [a-z0-9][a-z0-9-]{0,62}.
bool IsValidTenantId(std::string_view tenant);

class Vault {
 public:
  Vault(std::shared_ptr<kms::Kms> kms, std::shared_ptr<kms::KeyStore> store,
        std::shared_ptr<kms::KeyAuditSink> audit, const Clock& clock, std::string region,
        std::string account_id, VaultOptions options = {});
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // The token of `value` as an `entity` of `tenant`, storing the value encrypted the first time.
  // Creates the tenant's token key on first use. An erased entry stays erased: the same value
  // tokenizes to the same token, but is not stored again.
  Result<std::string> Tokenize(std::string_view tenant, std::string_view entity,
                               std::string_view value);

  // The value behind `token` in `tenant`'s vault, for a caller allowed perimeter:RevealToken.
  Result<crypto::SecretBytes> Reveal(const kms::KeyCaller& caller, std::string_view tenant,
                                     std::string_view token);

  // Deletes the value behind `token` (right to erasure); the token stays, marked erased, so
  // Reveal can say when. Erasing an erased entry succeeds and keeps the first date. If the event
  // cannot be recorded after the erasure, the result is Unavailable although the value is gone:
  // retrying is harmless and records it.
  Status Erase(const kms::KeyCaller& caller, std::string_view tenant, std::string_view token);

  // The tenant other than `except_tenant` whose vault holds `value` as an `entity` (erased
  // entries included: the identifier still is theirs), or nullopt. For the guardrail's
  // cross-tenant rule. Tenants whose vault is empty (no token key) are skipped without creating
  // a key; a tenant whose key is disabled or destroyed cannot be matched. Cost per tenant: one
  // HMAC and two indexed reads. Errors: Unavailable and the store's errors (fail closed).
  Result<std::optional<std::string>> FindOwner(std::string_view entity, std::string_view value,
                                               std::string_view except_tenant);

  // The token under which `tenant`'s vault holds `value` as an `entity` (erased entries
  // included), or nullopt; never stores anything or creates a token key. For subject access
  // requests: a subject's identifiers are hashed into tokens and looked up.
  Result<std::optional<std::string>> FindToken(std::string_view tenant, std::string_view entity,
                                               std::string_view value);

  // The tenant's vault entries, ordered by token, without their ciphertexts (metadata only:
  // token, entity, created_at, erased_at).
  Result<std::vector<kms::VaultEntry>> List(std::string_view tenant);

  // Drops the tenant's cached token key (e.g. when the tenant is deleted); the next Tokenize
  // unwraps it again through the KMS.
  void ForgetTenantKey(std::string_view tenant);

  // arn:aws:perimeter:<region>:<account>:vault/<tenant>
  std::string VaultArn(std::string_view tenant) const;

 private:
  struct CachedKey {
    std::shared_ptr<const crypto::SecretBytes> key;
    std::chrono::system_clock::time_point loaded_at;
  };

  Result<std::shared_ptr<const crypto::SecretBytes>> TokenKey(const std::string& tenant);
  Result<crypto::SecretBytes> LoadOrCreateTokenKey(const std::string& tenant);
  Result<crypto::SecretBytes> UnwrapTokenKey(const std::string& tenant,
                                             const std::string& ciphertext);
  // Empty when allowed; otherwise the AWS-style denial message.
  std::string Authorize(const kms::KeyCaller& caller, std::string_view action,
                        std::string_view tenant) const;
  // Records the event of one Reveal / Erase attempt; outcome_name overrides the exception
  // name derived from `outcome`. Unavailable (with the sink's message) when the sink refuses it.
  Status RecordEvent(const kms::KeyCaller& caller, std::string_view operation,
                     std::string_view tenant, std::string_view token, std::string_view key_id,
                     uint32_t key_version, const Status& outcome,
                     std::string_view outcome_name = {});

  std::shared_ptr<kms::Kms> kms_;
  std::shared_ptr<kms::KeyStore> store_;
  std::shared_ptr<kms::KeyAuditSink> audit_;
  const Clock& clock_;
  std::string region_;
  std::string account_id_;
  VaultOptions options_;

  std::mutex mu_;
  std::map<std::string, CachedKey, std::less<>> token_keys_;  // guarded by mu_
};

}  // namespace perimeter::redact
