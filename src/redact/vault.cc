#include "redact/vault.h"

#include <utility>

#include "policy/evaluator.h"
#include "redact/token.h"

namespace perimeter::redact {

namespace {

constexpr std::string_view kTokenFormat =
    "expected [<ENTITY>_<16 lowercase hex digits>], e.g. [EMAIL_3f9a0c1d2e4b5a69]";

std::string Rfc3339Seconds(int64_t unix_seconds) {
  return FormatRfc3339Seconds(
      std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

kms::EncryptionContext VaultContext(std::string_view tenant, std::string_view token) {
  return {{"tenant", std::string(tenant)},
          {"purpose", std::string(kVaultPurpose)},
          {"token", std::string(token)}};
}

// The outcome recorded for a failed call, in the AWS exception vocabulary the KMS uses.
std::string OutcomeName(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return "Success";
    case StatusCode::kPermissionDenied:
      return "AccessDeniedException";
    case StatusCode::kNotFound:
      return "NotFoundException";
    case StatusCode::kInvalidArgument:
      return "ValidationException";
    case StatusCode::kUnauthenticated:
      return "InvalidCiphertextException";
    case StatusCode::kFailedPrecondition:
      return "KMSInvalidStateException";
    case StatusCode::kUnavailable:
      return "ServiceUnavailableException";
    default:
      return "InternalException";
  }
}

// The same status with `prefix` in front of its message.
Status Prefixed(const Status& s, std::string_view prefix) {
  return Status(s.code(), std::string(prefix) + s.message());
}

Status InvalidTenant() {
  return InvalidArgument(
      "the tenant id is not valid: 1-63 of a-z 0-9 and '-', starting with a "
      "letter or digit");
}

Status InvalidToken() {
  return InvalidArgument("the token is not a redaction token: " + std::string(kTokenFormat));
}

}  // namespace

std::string TenantKeyAlias(std::string_view tenant) {
  return "alias/perimeter/tenant/" + std::string(tenant);
}

bool IsValidTenantId(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > kms::kMaxTenantIdBytes) {
    return false;
  }
  for (size_t i = 0; i < tenant.size(); ++i) {
    const char c = tenant[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || c != '-')) {
      return false;
    }
  }
  return true;
}

Vault::Vault(std::shared_ptr<kms::Kms> kms, std::shared_ptr<kms::KeyStore> store,
             std::shared_ptr<kms::KeyAuditSink> audit, const Clock& clock, std::string region,
             std::string account_id, VaultOptions options)
    : kms_(std::move(kms)),
      store_(std::move(store)),
      audit_(std::move(audit)),
      clock_(clock),
      region_(std::move(region)),
      account_id_(std::move(account_id)),
      options_(options) {}

Vault::~Vault() = default;

std::string Vault::VaultArn(std::string_view tenant) const {
  return "arn:aws:perimeter:" + region_ + ":" + account_id_ + ":vault/" + std::string(tenant);
}

// ---- Token keys ------------------------------------------------------------------------------

Result<std::shared_ptr<const crypto::SecretBytes>> Vault::TokenKey(const std::string& tenant) {
  const auto now = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = token_keys_.find(tenant);
    if (it != token_keys_.end()) {
      if (now - it->second.loaded_at < options_.token_key_cache_max_age) {
        return it->second.key;
      }
      token_keys_.erase(it);  // stale: wipe it now rather than when replaced
    }
  }
  auto loaded = LoadOrCreateTokenKey(tenant);
  if (!loaded.ok()) {
    return loaded.status();
  }
  auto key = std::make_shared<const crypto::SecretBytes>(std::move(*loaded));
  if (options_.token_key_cache_max_age.count() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    token_keys_[tenant] = CachedKey{key, now};
  }
  return key;
}

Result<crypto::SecretBytes> Vault::LoadOrCreateTokenKey(const std::string& tenant) {
  const std::string prefix = "cannot load the redaction token key of tenant " + tenant + ": ";
  auto stored = store_->GetTenantSecret(tenant, kTokenKeyPurpose);
  if (!stored.ok()) {
    return Prefixed(stored.status(), prefix);
  }
  if (stored->has_value()) {
    return UnwrapTokenKey(tenant, (*stored)->ciphertext);
  }

  auto generated =
      kms_->GenerateDataKey(kms_->Gateway(), TenantKeyAlias(tenant),
                            kms::TenantContext(tenant, kTokenKeyPurpose), kTokenKeyBytes);
  if (!generated.ok()) {
    return Prefixed(generated.status(),
                    "cannot create the redaction token key of tenant " + tenant + ": ");
  }
  kms::TenantSecretRecord record{tenant, std::string(kTokenKeyPurpose), generated->ciphertext,
                                 UnixSeconds(clock_.Now())};
  Status put = store_->PutTenantSecret(record);
  if (put.ok()) {
    return std::move(generated->plaintext);
  }
  if (put.code() != StatusCode::kAlreadyExists) {
    return Prefixed(put, "cannot store the redaction token key of tenant " + tenant + ": ");
  }
  // Another process created the key first; everyone must use the stored one. (Ours is wiped
  // when `generated` goes out of scope.)
  auto winner = store_->GetTenantSecret(tenant, kTokenKeyPurpose);
  if (!winner.ok()) {
    return Prefixed(winner.status(), prefix);
  }
  if (!winner->has_value()) {
    return Internal(prefix + "the store reported the key as existing but returns none");
  }
  return UnwrapTokenKey(tenant, (*winner)->ciphertext);
}

Result<crypto::SecretBytes> Vault::UnwrapTokenKey(const std::string& tenant,
                                                  const std::string& ciphertext) {
  auto decrypted =
      kms_->Decrypt(kms_->Gateway(), ciphertext, kms::TenantContext(tenant, kTokenKeyPurpose),
                    TenantKeyAlias(tenant));
  if (!decrypted.ok()) {
    return Prefixed(decrypted.status(),
                    "cannot unwrap the redaction token key of tenant " + tenant + ": ");
  }
  if (decrypted->plaintext.size() != kTokenKeyBytes) {
    return Internal("the stored redaction token key of tenant " + tenant + " is " +
                    std::to_string(decrypted->plaintext.size()) + " bytes, not " +
                    std::to_string(kTokenKeyBytes));
  }
  return std::move(decrypted->plaintext);
}

void Vault::ForgetTenantKey(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = token_keys_.find(tenant);
  if (it != token_keys_.end()) {
    token_keys_.erase(it);
  }
}

// ---- Tokenize --------------------------------------------------------------------------------

Result<std::string> Vault::Tokenize(std::string_view tenant, std::string_view entity,
                                    std::string_view value) {
  if (!IsValidTenantId(tenant)) {
    return InvalidTenant();
  }
  if (!IsValidEntityName(entity)) {
    return InvalidArgument("'" + std::string(entity.substr(0, kMaxEntityNameBytes + 1)) +
                           "' is not an entity name: 1-64 of A-Z 0-9 and '_', starting with a "
                           "letter, e.g. EMAIL");
  }
  if (value.empty()) {
    return InvalidArgument("the value to tokenize is empty: there is nothing to redact");
  }
  if (value.size() > kms::kMaxPlaintextBytes) {
    return InvalidArgument("the value to tokenize is " + std::to_string(value.size()) +
                           " bytes; the vault holds values of at most " +
                           std::to_string(kms::kMaxPlaintextBytes) + " bytes");
  }
  const std::string tenant_id(tenant);
  auto key = TokenKey(tenant_id);
  if (!key.ok()) {
    return key.status();
  }
  std::string token = ComputeToken(**key, entity, value);

  auto existing = store_->GetVaultEntry(tenant_id, token);
  if (!existing.ok()) {
    return Prefixed(existing.status(), "cannot read the vault of tenant " + tenant_id + ": ");
  }
  if (existing->has_value()) {
    return token;  // the same token stands for the same value (or for an erased one)
  }
  auto ciphertext = kms_->Encrypt(kms_->Gateway(), TenantKeyAlias(tenant_id), value,
                                  VaultContext(tenant_id, token));
  if (!ciphertext.ok()) {
    return Prefixed(ciphertext.status(),
                    "cannot encrypt the value of " + token + " for tenant " + tenant_id + ": ");
  }
  kms::VaultEntry entry{
      tenant_id, token, std::string(entity), std::move(*ciphertext), UnixSeconds(clock_.Now()), 0};
  Status put = store_->PutVaultEntry(entry);
  if (!put.ok() && put.code() != StatusCode::kAlreadyExists) {
    // AlreadyExists: another writer stored the same token first, hence the same value.
    return Prefixed(put, "cannot store " + token + " in the vault of tenant " + tenant_id + ": ");
  }
  return token;
}

Result<std::optional<std::string>> Vault::FindOwner(std::string_view entity, std::string_view value,
                                                    std::string_view except_tenant) {
  if (!IsValidEntityName(entity) || value.empty() || value.size() > kms::kMaxPlaintextBytes) {
    return std::optional<std::string>();
  }
  auto tenants = store_->ListTenants();
  if (!tenants.ok()) return Prefixed(tenants.status(), "cannot list tenants: ");
  for (const kms::TenantRecord& t : *tenants) {
    if (t.tenant_id == except_tenant) continue;
    // A tenant without a token key has an empty vault; do not create a key for it here.
    auto stored = store_->GetTenantSecret(t.tenant_id, kTokenKeyPurpose);
    if (!stored.ok()) return Prefixed(stored.status(), "cannot read tenant " + t.tenant_id + ": ");
    if (!stored->has_value()) continue;
    auto key = TokenKey(t.tenant_id);
    if (!key.ok()) {
      // A destroyed or disabled key: its values cannot be matched any more (crypto-shredded or
      // suspended). Only an unreachable store or KMS fails the check.
      if (key.status().code() == StatusCode::kUnavailable) return key.status();
      continue;
    }
    const std::string token = ComputeToken(**key, entity, value);
    auto entry = store_->GetVaultEntry(t.tenant_id, token);
    if (!entry.ok()) {
      return Prefixed(entry.status(), "cannot read the vault of tenant " + t.tenant_id + ": ");
    }
    if (entry->has_value()) return std::optional<std::string>(t.tenant_id);
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> Vault::FindToken(std::string_view tenant,
                                                    std::string_view entity,
                                                    std::string_view value) {
  if (!IsValidTenantId(tenant)) return InvalidTenant();
  if (!IsValidEntityName(entity) || value.empty() || value.size() > kms::kMaxPlaintextBytes) {
    return std::optional<std::string>();
  }
  const std::string tenant_id(tenant);
  auto stored = store_->GetTenantSecret(tenant_id, kTokenKeyPurpose);
  if (!stored.ok()) return Prefixed(stored.status(), "cannot read tenant " + tenant_id + ": ");
  if (!stored->has_value()) return std::optional<std::string>();  // an empty vault
  auto key = TokenKey(tenant_id);
  if (!key.ok()) return key.status();
  std::string token = ComputeToken(**key, entity, value);
  auto entry = store_->GetVaultEntry(tenant_id, token);
  if (!entry.ok()) {
    return Prefixed(entry.status(), "cannot read the vault of tenant " + tenant_id + ": ");
  }
  if (!entry->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(token));
}

// ---- Authorization and audit -----------------------------------------------------------------

std::string AuthorizeTenantAction(const kms::KeyCaller& caller, std::string_view action,
                                  std::string_view resource_arn, std::string_view tenant,
                                  std::chrono::system_clock::time_point now) {
  policy::Request request;
  request.principal_arn = caller.arn;
  request.principal_account = caller.account_id;
  request.action = std::string(action);
  request.resource_arn = std::string(resource_arn);

  policy::RequestContext context = kms::CallerContext(caller, now);
  context.Set("perimeter:TenantId", {std::string(tenant)});

  policy::PolicySet policies;
  policies.identity_policies = caller.identity_policies;
  policies.permission_boundaries = caller.boundaries;
  policies.session_policy = caller.session_policy;

  const policy::EvaluationResult result = policy::Evaluate(request, policies, std::move(context));
  if (result.decision == policy::Decision::kAllowed) {
    return {};
  }
  std::string why;
  if (result.decision == policy::Decision::kExplicitlyDenied) {
    why = result.reason;  // "with an explicit deny in ..."
  } else {
    why = result.reason;
    const std::string_view generic = "the action";
    if (size_t pos = why.find(generic); pos != std::string::npos) {
      why.replace(pos, generic.size(), "the " + std::string(action) + " action");
    }
    why = "because " + why;
  }
  // AWS says "User:" for assumed-role sessions too.
  return "User: " + caller.arn + " is not authorized to perform: " + std::string(action) +
         " on resource: " + request.resource_arn + " " + why;
}

std::string Vault::Authorize(const kms::KeyCaller& caller, std::string_view action,
                             std::string_view tenant) const {
  return AuthorizeTenantAction(caller, action, VaultArn(tenant), tenant, clock_.Now());
}

Status Vault::RecordEvent(const kms::KeyCaller& caller, std::string_view operation,
                          std::string_view tenant, std::string_view token, std::string_view key_id,
                          uint32_t key_version, const Status& outcome,
                          std::string_view outcome_name) {
  kms::KeyUseEvent event;
  event.time = clock_.Now();
  event.caller_arn = caller.arn;
  event.operation = std::string(operation);
  event.key_id = std::string(key_id);
  event.key_version = key_version;
  // Only what was validated goes into the log: a malformed "token" may be the very value a
  // caller pasted by mistake.
  if (IsValidTenantId(tenant)) {
    event.encryption_context["tenant"] = std::string(tenant);
    event.tenant = std::string(tenant);
  }
  if (ParseToken(token)) {
    event.encryption_context["token"] = std::string(token);
  }
  event.outcome = outcome_name.empty() ? OutcomeName(outcome) : std::string(outcome_name);
  event.message = outcome.message();
  Status recorded = audit_->Record(event);
  if (!recorded.ok()) {
    return Unavailable(recorded.message());
  }
  return Status::Ok();
}

// ---- Reveal, Erase, List ---------------------------------------------------------------------

Result<crypto::SecretBytes> Vault::Reveal(const kms::KeyCaller& caller, std::string_view tenant,
                                          std::string_view token) {
  constexpr std::string_view kOperation = "RevealToken";
  const auto unrecorded = [](const Status& recorded) {
    return Unavailable(
        "the RevealToken event could not be recorded on the key audit log, so nothing is "
        "released; retry when the audit log is writable (" +
        recorded.message() + ")");
  };
  // Records a failure and returns it (or Unavailable when even that cannot be recorded).
  const auto fail = [&](const Status& failure, std::string_view outcome_name = {}) -> Status {
    Status recorded = RecordEvent(caller, kOperation, tenant, token, {}, 0, failure, outcome_name);
    return recorded.ok() ? failure : unrecorded(recorded);
  };
  if (!IsValidTenantId(tenant)) {
    return fail(InvalidTenant());
  }
  if (!ParseToken(token)) {
    return fail(InvalidToken());
  }
  if (std::string denial = Authorize(caller, kRevealTokenAction, tenant); !denial.empty()) {
    return fail(PermissionDenied(std::move(denial)));
  }

  const std::string tenant_id(tenant);
  const std::string token_text(token);
  auto entry = store_->GetVaultEntry(tenant_id, token_text);
  if (!entry.ok()) {
    return fail(Prefixed(entry.status(), "cannot read the vault of tenant " + tenant_id + ": "));
  }
  if (!entry->has_value()) {
    return fail(NotFound("no token " + token_text + " in the vault of tenant " + tenant_id +
                         ": it was never stored there (tokens of one tenant are not valid in "
                         "another)"));
  }
  const kms::VaultEntry& stored = **entry;
  if (stored.erased_at != 0 || stored.ciphertext.empty()) {
    return fail(FailedPrecondition("the value behind " + token_text + " of tenant " + tenant_id +
                                   " was erased on " + Rfc3339Seconds(stored.erased_at) +
                                   "; only the token remains"),
                "ValueErasedException");
  }
  auto decrypted = kms_->Decrypt(kms_->Gateway(), stored.ciphertext,
                                 VaultContext(tenant_id, token_text), TenantKeyAlias(tenant_id));
  if (!decrypted.ok()) {
    // The KMS's InvalidArgument here means a ciphertext it does not accept: not its format, or
    // under another key (e.g. copied from another tenant's vault).
    return fail(Prefixed(decrypted.status(), "cannot decrypt the value behind " + token_text +
                                                 " of tenant " + tenant_id + ": "),
                decrypted.status().code() == StatusCode::kInvalidArgument
                    ? "InvalidCiphertextException"
                    : "");
  }
  Status recorded = RecordEvent(caller, kOperation, tenant, token, decrypted->key_id,
                                decrypted->key_version, Status::Ok());
  if (!recorded.ok()) {
    return unrecorded(recorded);  // `decrypted` wipes the value on the way out
  }
  return std::move(decrypted->plaintext);
}

Status Vault::Erase(const kms::KeyCaller& caller, std::string_view tenant, std::string_view token) {
  constexpr std::string_view kOperation = "EraseToken";
  const auto finish = [&](const Status& result) -> Status {
    Status recorded = RecordEvent(caller, kOperation, tenant, token, {}, 0, result);
    if (recorded.ok()) {
      return result;
    }
    return Unavailable(
        std::string(result.ok() ? "the value was erased, but " : "") +
        "the EraseToken event could not be recorded on the key audit log; retry when the audit "
        "log is writable (erasing again is harmless) (" +
        recorded.message() + ")");
  };
  if (!IsValidTenantId(tenant)) {
    return finish(InvalidTenant());
  }
  if (!ParseToken(token)) {
    return finish(InvalidToken());
  }
  if (std::string denial = Authorize(caller, kEraseTokenAction, tenant); !denial.empty()) {
    return finish(PermissionDenied(std::move(denial)));
  }
  const std::string tenant_id(tenant);
  const std::string token_text(token);
  Status erased = store_->EraseVaultEntry(tenant_id, token_text, UnixSeconds(clock_.Now()));
  if (erased.code() == StatusCode::kNotFound) {
    erased = NotFound("no token " + token_text + " in the vault of tenant " + tenant_id +
                      ": nothing to erase");
  } else if (!erased.ok()) {
    erased = Prefixed(erased, "cannot erase " + token_text + " of tenant " + tenant_id + ": ");
  }
  return finish(erased);
}

Result<std::vector<kms::VaultEntry>> Vault::List(std::string_view tenant) {
  if (!IsValidTenantId(tenant)) {
    return InvalidTenant();
  }
  auto entries = store_->ListVaultEntries(tenant);
  if (!entries.ok()) {
    return Prefixed(entries.status(),
                    "cannot list the vault of tenant " + std::string(tenant) + ": ");
  }
  for (auto& e : *entries) {
    e.ciphertext.clear();
  }
  return std::move(*entries);
}

}  // namespace perimeter::redact
