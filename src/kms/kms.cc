#include "kms/kms.h"

#include <algorithm>
#include <list>
#include <utility>

#include "common/strings.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "kms/ciphertext.h"

namespace perimeter::kms {
namespace {

using std::chrono::system_clock;

// Message fragments that KmsExceptionName recognizes; used where the messages are made.
constexpr std::string_view kDisabledFragment = " is disabled; enable it with";
constexpr std::string_view kIncorrectKeyFragment = ", not under the expected key ";
constexpr std::string_view kNotCiphertextFragment = "ciphertext";

constexpr std::string_view kTenantAliasPrefix = "alias/perimeter/tenant/";
constexpr std::string_view kEnvironmentAlias = "alias/perimeter/environment";
constexpr size_t kMaxDataKeyBytes = 1024;

std::string KeyArnFor(const KmsOptions& o, std::string_view key_id) {
  return "arn:aws:kms:" + o.region + ":" + o.account_id + ":key/" + std::string(key_id);
}

// A key's perimeter:tenant tag, "" for a key of no tenant.
std::string TenantTag(const KeyRecord& k) {
  auto t = k.tags.find("perimeter:tenant");
  return t == k.tags.end() ? std::string() : t->second;
}

std::string DateText(int64_t unix_seconds) {
  return FormatRfc3339Seconds(system_clock::time_point(std::chrono::seconds(unix_seconds)))
      .substr(0, 10);  // YYYY-MM-DD
}

std::string NewKeyId() {
  std::string h = crypto::RandomHex(16);
  h[12] = '4';                                                  // UUID version 4
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

bool IsValidAlias(std::string_view a) {
  if (!StartsWith(a, "alias/") || a.size() <= 6 || a.size() > kMaxAliasBytes) return false;
  if (StartsWith(a, "alias/aws/")) return false;
  return std::all_of(a.begin() + 6, a.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-';
  });
}

bool IsValidTenantId(std::string_view t) {
  if (t.empty() || t.size() > kMaxTenantIdBytes) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
    if (!ok) return false;
  }
  return true;
}

Status CheckContext(const EncryptionContext& context) {
  if (context.size() > kMaxContextPairs) {
    return InvalidArgument("the encryption context has " + std::to_string(context.size()) +
                           " pairs; the limit is " + std::to_string(kMaxContextPairs));
  }
  size_t bytes = 0;
  for (const auto& [k, v] : context) {
    if (k.empty()) return InvalidArgument("an encryption context key is empty");
    bytes += k.size() + v.size();
  }
  if (bytes > kMaxContextBytes) {
    return InvalidArgument("the encryption context is " + std::to_string(bytes) +
                           " bytes; the limit is " + std::to_string(kMaxContextBytes));
  }
  return Status::Ok();
}

Status CheckRotationPeriod(int64_t seconds) {
  if (seconds == 0) return Status::Ok();
  if (seconds < kMinRotationPeriodSeconds || seconds > kMaxRotationPeriodSeconds) {
    return InvalidArgument(
        "the rotation period must be between 90 and 2560 days (or 0 for no "
        "automatic rotation); got " +
        std::to_string(seconds / 86400) + " days");
  }
  return Status::Ok();
}

EncryptionContext MaterialContext(std::string_view key_id, uint32_t version) {
  return {{"perimeter:key-id", std::string(key_id)},
          {"perimeter:key-version", std::to_string(version)}};
}

// The AWS KMS exception a status corresponds to, recorded as the event outcome.
std::string OutcomeName(const Status& s, std::string_view failed_precondition_name) {
  switch (s.code()) {
    case StatusCode::kOk:
      return "Success";
    case StatusCode::kNotFound:
      return "NotFoundException";
    case StatusCode::kPermissionDenied:
      return "AccessDeniedException";
    case StatusCode::kUnauthenticated:
      return "InvalidCiphertextException";
    case StatusCode::kFailedPrecondition:
      return std::string(failed_precondition_name);
    case StatusCode::kInvalidArgument:
      return "ValidationException";
    case StatusCode::kAlreadyExists:
      return "AlreadyExistsException";
    case StatusCode::kUnavailable:
      return "DependencyTimeoutException";
    default:
      return "KMSInternalException";
  }
}

constexpr char kAdministratorPolicy[] =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"AccountRoot","Effect":"Allow",)"
    R"("Action":"*","Resource":"*"}]})";

}  // namespace

std::string KmsExceptionName(const Status& s) {
  const std::string& m = s.message();
  if (s.code() == StatusCode::kFailedPrecondition) {
    return m.find(kDisabledFragment) != std::string::npos ? "DisabledException"
                                                          : "KMSInvalidStateException";
  }
  if (s.code() == StatusCode::kInvalidArgument) {
    if (m.find(kIncorrectKeyFragment) != std::string::npos) return "IncorrectKeyException";
    if (StartsWith(m, "the ciphertext") && m.find(kNotCiphertextFragment) != std::string::npos)
      return "InvalidCiphertextException";
  }
  return OutcomeName(s, "KMSInvalidStateException");
}

policy::RequestContext CallerContext(const KeyCaller& caller,
                                     std::chrono::system_clock::time_point now) {
  policy::RequestContext ctx;
  ctx.Set("aws:PrincipalArn", {caller.principal_arn.empty() ? caller.arn : caller.principal_arn});
  if (!caller.account_id.empty()) ctx.Set("aws:PrincipalAccount", {caller.account_id});
  if (!caller.principal_type.empty()) ctx.Set("aws:PrincipalType", {caller.principal_type});
  std::vector<std::string> tag_keys;
  for (const auto& [k, v] : caller.tags) {
    ctx.Set("aws:PrincipalTag/" + k, {v});
    tag_keys.push_back(k);
  }
  if (!tag_keys.empty()) ctx.Set("aws:PrincipalTagKeys", std::move(tag_keys));
  ctx.Set("aws:CurrentTime", {FormatRfc3339Seconds(now)});
  ctx.Set("aws:EpochTime", {std::to_string(UnixSeconds(now))});
  return ctx;
}

EncryptionContext TenantContext(std::string_view tenant_id, std::string_view purpose) {
  return {{"tenant", std::string(tenant_id)}, {"purpose", std::string(purpose)}};
}

// ---- Impl --------------------------------------------------------------------------------------

struct Kms::Impl {
  struct CachedKey {
    KeyRecord record;
    std::shared_ptr<const policy::Policy> policy;  // null when the stored policy does not parse
  };
  struct EncryptEntry {
    std::shared_ptr<const crypto::SecretBytes> data_key;
    std::string wrapped;
    std::chrono::steady_clock::time_point created;
    uint64_t uses = 0;
  };
  struct DecryptEntry {
    std::shared_ptr<const crypto::SecretBytes> data_key;
    std::chrono::steady_clock::time_point created;
  };
  // What one operation needs, resolved.
  struct Resolved {
    KeyRecord record;
    std::shared_ptr<const policy::Policy> policy;
  };

  std::shared_ptr<KeyStore> store;
  std::map<std::string, std::shared_ptr<KeyBackend>, std::less<>> backends;
  std::string default_backend;
  std::shared_ptr<KeyAuditSink> audit;
  const Clock& clock;
  KmsOptions options;
  std::shared_ptr<const policy::Policy> administrator_policy;

  std::mutex mu;  // guards everything below
  uint64_t seen_counter = ~uint64_t{0};
  std::map<std::string, CachedKey, std::less<>> keys;
  std::map<std::string, std::optional<TenantRecord>, std::less<>> tenants;
  std::map<std::pair<std::string, uint32_t>, std::shared_ptr<const crypto::SecretBytes>> material;
  std::map<std::string, EncryptEntry> encrypt_cache;  // key_id \0 version \0 canonical context
  std::map<std::string, DecryptEntry> decrypt_cache;  // header \0 wrapped \0 context
  uint64_t hits = 0;
  uint64_t misses = 0;

  Impl(const Clock& c) : clock(c) {}

  int64_t Now() const { return UnixSeconds(clock.Now()); }

  // Drops every cached record when another writer has committed. Requires mu.
  Status RefreshLocked() {
    auto counter = store->ChangeCounter();
    if (!counter.ok()) return counter.status();
    if (*counter != seen_counter) {
      keys.clear();
      tenants.clear();
      seen_counter = *counter;
    }
    return Status::Ok();
  }

  void ForgetMaterialLocked(std::string_view key_id) {
    for (auto it = material.begin(); it != material.end();) {
      it = it->first.first == key_id ? material.erase(it) : std::next(it);
    }
    for (auto it = encrypt_cache.begin(); it != encrypt_cache.end();) {
      it = StartsWith(it->first, std::string(key_id) + '\0') ? encrypt_cache.erase(it)
                                                             : std::next(it);
    }
    decrypt_cache.clear();
  }

  Result<Resolved> LookupLocked(std::string_view key_id) {
    PERIMETER_RETURN_IF_ERROR(RefreshLocked());
    auto it = keys.find(key_id);
    if (it == keys.end()) {
      auto rec = store->GetKey(key_id);
      if (!rec.ok()) return rec.status();
      if (!rec->has_value()) {
        return NotFound("key " + std::string(key_id.substr(0, kMaxKeyIdBytes)) +
                        " does not exist; list keys with `perimeter keys list`");
      }
      CachedKey c{std::move(**rec), nullptr};
      auto p = policy::Policy::Parse(c.record.policy, policy::PolicyKind::kResource);
      if (p.ok()) c.policy = std::move(*p);
      it = keys.emplace(c.record.key_id, std::move(c)).first;
      if (it->second.record.state != KeyState::kEnabled) ForgetMaterialLocked(key_id);
    }
    return Resolved{it->second.record, it->second.policy};
  }

  // A key id, key ARN, alias or alias ARN, resolved to its record.
  Result<Resolved> Resolve(std::string_view ref) {
    std::string id;
    std::string_view r = ref;
    if (StartsWith(r, "arn:")) {
      if (ArnField(r, 2) != "kms") {
        return InvalidArgument("'" + std::string(ref.substr(0, 256)) + "' is not a KMS key ARN");
      }
      r = ArnField(r, 5);
    }
    if (r.empty() || r.size() > kMaxAliasBytes) {
      return InvalidArgument("a key must be named by key id, key ARN, alias or alias ARN");
    }
    if (StartsWith(r, "alias/")) {
      auto rec = store->GetKeyByAlias(r);
      if (!rec.ok()) return rec.status();
      if (!rec->has_value()) {
        return NotFound("alias " + std::string(r) +
                        " does not exist; list keys with `perimeter keys list`");
      }
      id = (*rec)->key_id;
    } else {
      id = std::string(StartsWith(r, "key/") ? r.substr(4) : r);
    }
    std::lock_guard lock(mu);
    return LookupLocked(id);
  }

  // The key a ciphertext names: by key id only (never an alias, which may since point elsewhere).
  Result<Resolved> ResolveCiphertextKey(std::string_view key_id) {
    if (StartsWith(key_id, "alias/") || StartsWith(key_id, "arn:") || StartsWith(key_id, "key/")) {
      return InvalidArgument("the ciphertext names its key by '" +
                             std::string(key_id.substr(0, 64)) +
                             "' instead of a key id; it was not produced by this KMS");
    }
    std::lock_guard lock(mu);
    return LookupLocked(key_id);
  }

  std::string KeyNameForMessages(const KeyRecord& k) const {
    return k.alias.empty() ? k.key_id : k.key_id + " (" + k.alias + ")";
  }

  // Explains why a key in a state other than Enabled cannot be used.
  Status UnusableState(const KeyRecord& k) const {
    const std::string name = "key " + KeyNameForMessages(k);
    switch (k.state) {
      case KeyState::kEnabled:
        return Status::Ok();
      case KeyState::kDisabled:
        return FailedPrecondition(name + std::string(kDisabledFragment) +
                                  " `perimeter keys enable " + k.key_id + "`");
      case KeyState::kPendingDeletion:
        return FailedPrecondition(
            name + " is pending deletion (it will be destroyed on " + DateText(k.deletion_date) +
            "); cancel with `perimeter keys cancel-deletion " + k.key_id + "` to use it again");
      case KeyState::kDestroyed:
        return FailedPrecondition(
            name + " was destroyed on " + DateText(k.destroyed_at) +
            ": its key material no longer exists, so nothing encrypted under it can be decrypted "
            "(crypto-shredded)");
    }
    return Internal("unknown key state");
  }
  static std::string_view StateOutcome(const KeyRecord& k) {
    return k.state == KeyState::kDisabled ? "DisabledException" : "KMSInvalidStateException";
  }

  policy::RequestContext ContextFor(const KeyCaller& caller, const EncryptionContext& ec) const {
    policy::RequestContext ctx = CallerContext(caller, clock.Now());
    ctx.Set("kms:CallerAccount", {caller.account_id});
    std::vector<std::string> keys;
    for (const auto& [k, v] : ec) {
      ctx.Set("kms:EncryptionContext:" + k, {v});
      keys.push_back(k);
    }
    ctx.Set("kms:EncryptionContextKeys", std::move(keys));
    return ctx;
  }

  // AWS KMS's authorization: see kms.h. `key` null = an IAM-only action (CreateKey, ListKeys).
  Status Authorize(const KeyCaller& caller, std::string_view action, const Resolved* key,
                   const EncryptionContext& ec) const {
    policy::Request req;
    req.principal_arn = caller.arn;
    req.principal_account = caller.account_id;
    req.action = std::string(action);
    req.resource_arn = key ? key->record.arn : "*";
    req.resource_account = options.account_id;
    policy::PolicySet set;
    set.identity_policies = caller.identity_policies;
    set.permission_boundaries = caller.boundaries;
    set.session_policy = caller.session_policy;
    if (key) {
      if (!key->policy) {
        return PermissionDenied("the key policy of key " + key->record.key_id +
                                " does not parse; replace it with `perimeter keys put-policy`");
      }
      set.resource_policy = policy::NamedPolicy{"key policy", key->policy};
    }
    policy::RequestContext ctx = ContextFor(caller, ec);
    const auto result = policy::Evaluate(req, set, ctx);
    const std::string who = "User: " + caller.arn +
                            " is not authorized to perform: " + std::string(action) +
                            " on resource: " + req.resource_arn;
    if (result.decision == policy::Decision::kExplicitlyDenied) {
      return PermissionDenied(who + " with an explicit deny (" + result.reason + ")");
    }
    if (key) {
      // The key policy must itself allow: an identity policy alone never grants use of a key.
      policy::MatchInput in{caller.arn, caller.account_id, action, req.resource_arn, &ctx};
      bool granted = false;
      for (const auto& st : key->policy->statements()) {
        policy::PrincipalMatch pm = policy::PrincipalMatch::kNone;
        if (st.effect() == policy::Effect::kAllow && st.Matches(in, &pm) &&
            pm != policy::PrincipalMatch::kNone) {
          granted = true;
          break;
        }
      }
      if (!granted) {
        return PermissionDenied(who + " because no key policy statement allows the " +
                                std::string(action) + " action with this encryption context");
      }
    }
    if (result.decision != policy::Decision::kAllowed) {
      return PermissionDenied(
          who + " because " +
          (key ? "the key policy delegates to IAM and no identity-based "
                 "policy allows the action"
               : "no identity-based policy allows the " + std::string(action) + " action"));
    }
    return Status::Ok();
  }

  // Records the event; a failure to record turns success into Unavailable (fail closed).
  Status Record(KeyUseEvent e, const Status& outcome, std::string_view precondition_name) {
    e.time = clock.Now();
    e.outcome = OutcomeName(outcome, precondition_name);
    e.message = outcome.ok() ? "" : outcome.message();
    Status recorded = audit->Record(e);
    if (!recorded.ok()) {
      return Unavailable("the key operation " + e.operation +
                         " was refused because it could not be recorded: " + recorded.message());
    }
    return outcome;
  }

  static KeyUseEvent Event(const KeyCaller& caller, std::string_view op, const KeyRecord* key,
                           const EncryptionContext& ec = {}) {
    KeyUseEvent e;
    e.caller_arn = caller.arn;
    e.operation = std::string(op);
    e.encryption_context = ec;
    if (key) {
      e.key_id = key->key_id;
      e.key_version = key->current_version;
      e.tenant = TenantTag(*key);
    }
    return e;
  }

  Result<std::shared_ptr<KeyBackend>> BackendFor(const KeyRecord& k) {
    auto it = backends.find(k.backend);
    if (it == backends.end()) {
      return FailedPrecondition("key " + k.key_id + " is protected by the '" + k.backend +
                                "' key backend, which is not configured");
    }
    return it->second;
  }

  Result<std::shared_ptr<const crypto::SecretBytes>> Material(const KeyRecord& k,
                                                              uint32_t version) {
    {
      std::lock_guard lock(mu);
      auto it = material.find({k.key_id, version});
      if (it != material.end()) return it->second;
    }
    auto versions = store->ListVersions(k.key_id);
    if (!versions.ok()) return versions.status();
    auto v = std::find_if(versions->begin(), versions->end(),
                          [&](const KeyVersionRecord& r) { return r.version == version; });
    if (v == versions->end()) {
      return Unauthenticated("key " + k.key_id + " has no version " + std::to_string(version) +
                             "; the ciphertext was altered or does not belong to this deployment");
    }
    auto backend = BackendFor(k);
    if (!backend.ok()) return backend.status();
    auto m = (*backend)->Unwrap(v->wrapped_material, MaterialContext(k.key_id, version));
    if (!m.ok()) return m.status();
    auto shared = std::make_shared<const crypto::SecretBytes>(std::move(*m));
    std::lock_guard lock(mu);
    material[{k.key_id, version}] = shared;
    return shared;
  }

  // The data key for an encryption under (key, version, aad): cached or new.
  Result<std::pair<std::shared_ptr<const crypto::SecretBytes>, std::string>> DataKeyFor(
      const KeyRecord& k, const crypto::SecretBytes& material, const std::string& aad) {
    const auto& opt = options.data_key_cache;
    const auto now = clock.MonotonicNow();
    std::string cache_key = k.key_id + '\0' + std::to_string(k.current_version) + '\0' + aad;
    if (opt.enabled) {
      std::lock_guard lock(mu);
      auto it = encrypt_cache.find(cache_key);
      if (it != encrypt_cache.end()) {
        if (now - it->second.created < opt.max_age && it->second.uses < opt.max_uses) {
          ++it->second.uses;
          ++hits;
          return std::pair(it->second.data_key, it->second.wrapped);
        }
        encrypt_cache.erase(it);
      }
      ++misses;
    }
    auto raw = crypto::RandomBytes(32);
    if (!raw.ok()) return raw.status();
    auto dk = std::make_shared<const crypto::SecretBytes>(crypto::SecretBytes::FromAndWipe(&*raw));
    auto wrapped = crypto::AeadSeal(material, dk->RevealSecretForUse(), aad);
    if (!wrapped.ok()) return wrapped.status();
    if (opt.enabled) {
      std::lock_guard lock(mu);
      if (encrypt_cache.size() >= opt.max_entries) {
        auto oldest = std::min_element(
            encrypt_cache.begin(), encrypt_cache.end(),
            [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
        encrypt_cache.erase(oldest);
      }
      encrypt_cache[cache_key] = EncryptEntry{dk, *wrapped, now, 1};
    }
    return std::pair(dk, std::move(*wrapped));
  }

  Result<std::shared_ptr<const crypto::SecretBytes>> UnwrapDataKey(
      const crypto::SecretBytes& material, const ParsedCiphertext& c, const std::string& aad) {
    const auto& opt = options.data_key_cache;
    const auto now = clock.MonotonicNow();
    std::string cache_key = std::string(c.wrapped_data_key) + '\0' + aad;
    if (opt.enabled) {
      std::lock_guard lock(mu);
      auto it = decrypt_cache.find(cache_key);
      if (it != decrypt_cache.end()) {
        if (now - it->second.created < opt.max_age) {
          ++hits;
          return it->second.data_key;
        }
        decrypt_cache.erase(it);
      }
      ++misses;
    }
    auto dk = crypto::AeadOpen(material, c.wrapped_data_key, aad);
    if (!dk.ok()) {
      return Unauthenticated(
          "the ciphertext does not decrypt: it was altered, or the encryption context differs "
          "from the one it was encrypted with (it must match exactly)");
    }
    auto shared = std::make_shared<const crypto::SecretBytes>(std::move(*dk));
    if (opt.enabled) {
      std::lock_guard lock(mu);
      if (decrypt_cache.size() >= opt.max_entries) {
        auto oldest = std::min_element(
            decrypt_cache.begin(), decrypt_cache.end(),
            [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
        decrypt_cache.erase(oldest);
      }
      decrypt_cache[cache_key] = DecryptEntry{shared, now};
    }
    return shared;
  }

  // Encrypts under the current version of an authorized, Enabled key. No audit.
  Result<std::string> Seal(const KeyRecord& k, std::string_view plaintext,
                           const EncryptionContext& ec) {
    auto material = Material(k, k.current_version);
    if (!material.ok()) return material.status();
    const std::string header = EncodeCiphertextHeader(k.key_id, k.current_version);
    const std::string aad = header + CanonicalContext(ec);
    auto dk = DataKeyFor(k, **material, aad);
    if (!dk.ok()) return dk.status();
    auto payload = crypto::AeadSeal(*dk->first, plaintext, aad);
    if (!payload.ok()) return payload.status();
    return AssembleCiphertext(header, dk->second, *payload);
  }

  Result<crypto::SecretBytes> Open(const KeyRecord& k, const ParsedCiphertext& c,
                                   const EncryptionContext& ec) {
    auto material = Material(k, c.key_version);
    if (!material.ok()) return material.status();
    const std::string aad = std::string(c.header) + CanonicalContext(ec);
    auto dk = UnwrapDataKey(**material, c, aad);
    if (!dk.ok()) return dk.status();
    auto pt = crypto::AeadOpen(**dk, c.payload, aad);
    if (!pt.ok()) {
      return Unauthenticated(
          "the ciphertext does not decrypt: it was altered, or the encryption context differs "
          "from the one it was encrypted with (it must match exactly)");
    }
    return std::move(*pt);
  }

  // Creates a key without authorization (the caller decided it may).
  Result<KeyRecord> CreateKeyUnchecked(const KeyCaller& caller, const CreateKeyRequest& r) {
    KeyRecord k;
    k.key_id = NewKeyId();
    k.arn = KeyArnFor(options, k.key_id);
    k.alias = r.alias;
    k.description = r.description;
    k.tags = r.tags;
    k.policy = r.policy;
    k.state = KeyState::kEnabled;
    k.current_version = 1;
    k.created_at = Now();
    k.rotation_period_seconds =
        (r.rotation_period ? *r.rotation_period : options.default_rotation_period).count();
    k.next_rotation_at = k.rotation_period_seconds ? k.created_at + k.rotation_period_seconds : 0;
    k.backend = default_backend;
    KeyUseEvent e = Event(caller, "CreateKey", &k);
    auto backend = BackendFor(k);
    if (!backend.ok()) return Record(e, backend.status(), "KMSInvalidStateException");
    auto gen = (*backend)->GenerateMaterial(MaterialContext(k.key_id, 1));
    if (!gen.ok()) return Record(e, gen.status(), "KMSInvalidStateException");
    KeyVersionRecord v{k.key_id, 1, gen->wrapped, k.created_at};
    Status written = store->CreateKey(k, v);
    PERIMETER_RETURN_IF_ERROR(Record(e, written, "KMSInvalidStateException"));
    std::lock_guard lock(mu);
    material[{k.key_id, 1}] = std::make_shared<const crypto::SecretBytes>(std::move(gen->material));
    return k;
  }

  Status CheckCreateRequest(const CreateKeyRequest& r) const {
    if (!r.alias.empty() && !IsValidAlias(r.alias)) {
      return InvalidArgument("alias '" + r.alias.substr(0, kMaxAliasBytes) +
                             "' is invalid: use alias/<name> with letters, digits, '/', '_' and "
                             "'-' (not alias/aws/...)");
    }
    if (r.rotation_period)
      PERIMETER_RETURN_IF_ERROR(CheckRotationPeriod(r.rotation_period->count()));
    if (r.description.size() > kMaxKeyDescriptionBytes)
      return InvalidArgument("the description is longer than 8192 bytes");
    if (!r.policy.empty()) {
      if (r.policy.size() > kMaxKeyPolicyBytes)
        return InvalidArgument("the key policy is longer than 32768 bytes");
      auto p = policy::Policy::Parse(r.policy, policy::PolicyKind::kResource);
      if (!p.ok()) return InvalidArgument("the key policy is invalid: " + p.status().message());
    }
    return Status::Ok();
  }

  Status DestroyLocked(const KeyRecord& k, int64_t now) {
    KeyRecord t = k;
    t.state = KeyState::kDestroyed;
    t.destroyed_at = now;
    t.next_rotation_at = 0;
    PERIMETER_RETURN_IF_ERROR(store->DestroyKey(t));
    std::lock_guard lock(mu);
    ForgetMaterialLocked(k.key_id);
    keys.erase(k.key_id);
    return Status::Ok();
  }

  Result<KeyRecord> Rotate(const KeyRecord& k, int64_t now) {
    auto backend = BackendFor(k);
    if (!backend.ok()) return backend.status();
    KeyRecord u = k;
    u.current_version = k.current_version + 1;
    u.last_rotated_at = now;
    u.next_rotation_at = u.rotation_period_seconds ? now + u.rotation_period_seconds : 0;
    auto gen = (*backend)->GenerateMaterial(MaterialContext(k.key_id, u.current_version));
    if (!gen.ok()) return gen.status();
    PERIMETER_RETURN_IF_ERROR(
        store->AddVersion(u, KeyVersionRecord{k.key_id, u.current_version, gen->wrapped, now}));
    std::lock_guard lock(mu);
    keys.erase(k.key_id);
    material[{k.key_id, u.current_version}] =
        std::make_shared<const crypto::SecretBytes>(std::move(gen->material));
    return u;
  }
};

// ---- Kms ---------------------------------------------------------------------------------------

Kms::Kms(std::shared_ptr<KeyStore> store, std::vector<std::shared_ptr<KeyBackend>> backends,
         std::string default_backend, std::shared_ptr<KeyAuditSink> audit, const Clock& clock,
         KmsOptions options)
    : impl_(std::make_unique<Impl>(clock)), options_(std::move(options)) {
  impl_->store = std::move(store);
  for (auto& b : backends) impl_->backends[std::string(b->Name())] = b;
  impl_->default_backend = std::move(default_backend);
  impl_->audit = std::move(audit);
  impl_->options = options_;
  auto admin = policy::Policy::Parse(kAdministratorPolicy, policy::PolicyKind::kIdentity);
  if (admin.ok()) impl_->administrator_policy = std::move(*admin);
}

Kms::~Kms() = default;

std::string Kms::KeyArn(std::string_view key_id) const { return KeyArnFor(options_, key_id); }

KeyCaller Kms::Gateway() const {
  KeyCaller c;
  c.arn = std::string(kGatewayServicePrincipal);
  c.principal_arn = c.arn;
  c.account_id = options_.account_id;
  c.principal_type = "Service";
  return c;
}

KeyCaller Kms::Administrator() const {
  KeyCaller c;
  c.arn = "arn:aws:iam::" + options_.account_id + ":root";
  c.principal_arn = c.arn;
  c.account_id = options_.account_id;
  c.principal_type = "Account";
  if (impl_->administrator_policy) {
    c.identity_policies.push_back({"account root", impl_->administrator_policy});
  }
  return c;
}

Result<KeyRecord> Kms::CreateKey(const KeyCaller& caller, const CreateKeyRequest& request) {
  KeyUseEvent e = Impl::Event(caller, "CreateKey", nullptr);
  Status ok = impl_->CheckCreateRequest(request);
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:CreateKey", nullptr, {});
  if (!ok.ok()) return impl_->Record(e, ok, "KMSInvalidStateException");
  CreateKeyRequest r = request;
  if (r.policy.empty()) {
    r.policy =
        R"({"Version":"2012-10-17","Statement":[{"Sid":"EnableIAMPolicies","Effect":"Allow",)"
        R"("Principal":{"AWS":"arn:aws:iam::)" +
        options_.account_id +
        R"(:root"},"Action":"kms:*","Resource":"*"},{"Sid":"GatewayUse","Effect":"Allow",)"
        R"("Principal":{"Service":")" +
        std::string(kGatewayServicePrincipal) +
        R"("},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*",)"
        R"("kms:DescribeKey"],"Resource":"*"}]})";
  }
  return impl_->CreateKeyUnchecked(caller, r);
}

Result<KeyRecord> Kms::DescribeKey(const KeyCaller& caller, std::string_view key) {
  auto k = impl_->Resolve(key);
  KeyUseEvent e = Impl::Event(caller, "DescribeKey", k.ok() ? &k->record : nullptr);
  if (!k.ok()) return impl_->Record(e, k.status(), "");
  Status ok = impl_->Authorize(caller, "kms:DescribeKey", &*k, {});
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, ok, ""));
  return k->record;
}

Result<std::vector<KeyRecord>> Kms::ListKeys(const KeyCaller& caller) {
  KeyUseEvent e = Impl::Event(caller, "ListKeys", nullptr);
  Status ok = impl_->Authorize(caller, "kms:ListKeys", nullptr, {});
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, ok, ""));
  return impl_->store->ListKeys();
}

namespace {

// The common shape of a state-changing management operation.
template <typename Change>
Result<KeyRecord> Manage(Kms::Impl& impl, const KeyCaller& caller, std::string_view key,
                         std::string_view operation, Change&& change) {
  auto k = impl.Resolve(key);
  KeyUseEvent e = Kms::Impl::Event(caller, operation, k.ok() ? &k->record : nullptr);
  if (!k.ok()) return impl.Record(e, k.status(), "");
  Status ok = impl.Authorize(caller, "kms:" + std::string(operation), &*k, {});
  if (!ok.ok()) return impl.Record(e, ok, "");
  Result<KeyRecord> updated = change(k->record);
  if (!updated.ok()) {
    return impl.Record(e, updated.status(), Kms::Impl::StateOutcome(k->record));
  }
  e.key_version = updated->current_version;
  PERIMETER_RETURN_IF_ERROR(impl.Record(e, Status::Ok(), ""));
  return updated;
}

}  // namespace

Result<KeyRecord> Kms::EnableKey(const KeyCaller& caller, std::string_view key) {
  return Manage(*impl_, caller, key, "EnableKey", [&](const KeyRecord& k) -> Result<KeyRecord> {
    if (k.state == KeyState::kPendingDeletion || k.state == KeyState::kDestroyed)
      return impl_->UnusableState(k);
    KeyRecord u = k;
    u.state = KeyState::kEnabled;
    PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
    std::lock_guard lock(impl_->mu);
    impl_->keys.erase(k.key_id);
    return u;
  });
}

Result<KeyRecord> Kms::DisableKey(const KeyCaller& caller, std::string_view key) {
  return Manage(*impl_, caller, key, "DisableKey", [&](const KeyRecord& k) -> Result<KeyRecord> {
    if (k.state == KeyState::kPendingDeletion || k.state == KeyState::kDestroyed)
      return impl_->UnusableState(k);
    KeyRecord u = k;
    u.state = KeyState::kDisabled;
    PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
    std::lock_guard lock(impl_->mu);
    impl_->ForgetMaterialLocked(k.key_id);
    impl_->keys.erase(k.key_id);
    return u;
  });
}

Result<KeyRecord> Kms::RotateKeyOnDemand(const KeyCaller& caller, std::string_view key) {
  return Manage(*impl_, caller, key, "RotateKeyOnDemand",
                [&](const KeyRecord& k) -> Result<KeyRecord> {
                  PERIMETER_RETURN_IF_ERROR(impl_->UnusableState(k));
                  return impl_->Rotate(k, impl_->Now());
                });
}

Result<KeyRecord> Kms::SetRotationPeriod(const KeyCaller& caller, std::string_view key,
                                         std::chrono::seconds period) {
  return Manage(*impl_, caller, key, "EnableKeyRotation",
                [&](const KeyRecord& k) -> Result<KeyRecord> {
                  PERIMETER_RETURN_IF_ERROR(CheckRotationPeriod(period.count()));
                  PERIMETER_RETURN_IF_ERROR(impl_->UnusableState(k));
                  KeyRecord u = k;
                  u.rotation_period_seconds = period.count();
                  const int64_t base = k.last_rotated_at ? k.last_rotated_at : k.created_at;
                  u.next_rotation_at = period.count() ? base + period.count() : 0;
                  PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
                  std::lock_guard lock(impl_->mu);
                  impl_->keys.erase(k.key_id);
                  return u;
                });
}

Result<KeyRecord> Kms::ScheduleKeyDeletion(const KeyCaller& caller, std::string_view key,
                                           int pending_window_days) {
  return Manage(*impl_, caller, key, "ScheduleKeyDeletion",
                [&](const KeyRecord& k) -> Result<KeyRecord> {
                  if (pending_window_days < kMinPendingWindowDays ||
                      pending_window_days > kMaxPendingWindowDays) {
                    return InvalidArgument("the pending window must be 7 to 30 days; got " +
                                           std::to_string(pending_window_days));
                  }
                  if (k.state == KeyState::kPendingDeletion || k.state == KeyState::kDestroyed)
                    return impl_->UnusableState(k);
                  KeyRecord u = k;
                  u.state = KeyState::kPendingDeletion;
                  u.deletion_date = impl_->Now() + int64_t{pending_window_days} * 86400;
                  PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
                  std::lock_guard lock(impl_->mu);
                  impl_->ForgetMaterialLocked(k.key_id);
                  impl_->keys.erase(k.key_id);
                  return u;
                });
}

Result<KeyRecord> Kms::CancelKeyDeletion(const KeyCaller& caller, std::string_view key) {
  return Manage(
      *impl_, caller, key, "CancelKeyDeletion", [&](const KeyRecord& k) -> Result<KeyRecord> {
        if (k.state != KeyState::kPendingDeletion) {
          if (k.state == KeyState::kDestroyed) return impl_->UnusableState(k);
          return FailedPrecondition("key " + k.key_id + " is not pending deletion (it is " +
                                    std::string(KeyStateName(k.state)) + ")");
        }
        KeyRecord u = k;
        u.state = KeyState::kDisabled;
        u.deletion_date = 0;
        PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
        std::lock_guard lock(impl_->mu);
        impl_->keys.erase(k.key_id);
        return u;
      });
}

Result<std::string> Kms::GetKeyPolicy(const KeyCaller& caller, std::string_view key) {
  auto k = impl_->Resolve(key);
  KeyUseEvent e = Impl::Event(caller, "GetKeyPolicy", k.ok() ? &k->record : nullptr);
  if (!k.ok()) return impl_->Record(e, k.status(), "");
  Status ok = impl_->Authorize(caller, "kms:GetKeyPolicy", &*k, {});
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, ok, ""));
  return k->record.policy;
}

Result<KeyRecord> Kms::PutKeyPolicy(const KeyCaller& caller, std::string_view key,
                                    std::string_view policy_json, bool bypass_lockout_check) {
  return Manage(*impl_, caller, key, "PutKeyPolicy", [&](const KeyRecord& k) -> Result<KeyRecord> {
    if (k.state == KeyState::kDestroyed) return impl_->UnusableState(k);
    if (policy_json.size() > kMaxKeyPolicyBytes)
      return InvalidArgument("the key policy is longer than 32768 bytes");
    auto p = policy::Policy::Parse(policy_json, policy::PolicyKind::kResource);
    if (!p.ok()) return InvalidArgument("the key policy is invalid: " + p.status().message());
    if (!bypass_lockout_check) {
      Impl::Resolved next{k, *p};
      Status still = impl_->Authorize(caller, "kms:PutKeyPolicy", &next, {});
      if (!still.ok()) {
        return InvalidArgument(
            "the new key policy would not let you (" + caller.arn +
            ") change it again, which could make the key unmanageable; add a statement that "
            "allows kms:PutKeyPolicy, or pass --bypass-policy-lockout-safety-check");
      }
    }
    KeyRecord u = k;
    u.policy = std::string(policy_json);
    PERIMETER_RETURN_IF_ERROR(impl_->store->UpdateKey(u));
    std::lock_guard lock(impl_->mu);
    impl_->keys.erase(k.key_id);
    return u;
  });
}

Result<std::string> Kms::Encrypt(const KeyCaller& caller, std::string_view key,
                                 std::string_view plaintext, const EncryptionContext& context) {
  auto k = impl_->Resolve(key);
  KeyUseEvent e = Impl::Event(caller, "Encrypt", k.ok() ? &k->record : nullptr, context);
  if (!k.ok()) return impl_->Record(e, k.status(), "");
  Status ok = CheckContext(context);
  if (ok.ok() && plaintext.size() > kMaxPlaintextBytes) {
    ok = InvalidArgument("the plaintext is " + std::to_string(plaintext.size()) +
                         " bytes; the limit is " + std::to_string(kMaxPlaintextBytes));
  }
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:Encrypt", &*k, context);
  if (ok.ok()) ok = impl_->UnusableState(k->record);
  if (!ok.ok()) return impl_->Record(e, ok, Impl::StateOutcome(k->record));
  auto sealed = impl_->Seal(k->record, plaintext, context);
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, sealed.status(), ""));
  return sealed;
}

Result<DataKey> Kms::GenerateDataKey(const KeyCaller& caller, std::string_view key,
                                     const EncryptionContext& context, size_t bytes) {
  auto k = impl_->Resolve(key);
  KeyUseEvent e = Impl::Event(caller, "GenerateDataKey", k.ok() ? &k->record : nullptr, context);
  if (!k.ok()) return impl_->Record(e, k.status(), "");
  Status ok = CheckContext(context);
  if (ok.ok() && (bytes == 0 || bytes > kMaxDataKeyBytes))
    ok = InvalidArgument("a data key must be 1 to 1024 bytes; got " + std::to_string(bytes));
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:GenerateDataKey", &*k, context);
  if (ok.ok()) ok = impl_->UnusableState(k->record);
  if (!ok.ok()) return impl_->Record(e, ok, Impl::StateOutcome(k->record));
  auto raw = crypto::RandomBytes(bytes);
  if (!raw.ok()) return impl_->Record(e, raw.status(), "");
  DataKey out;
  out.plaintext = crypto::SecretBytes::FromAndWipe(&*raw);
  auto sealed = impl_->Seal(k->record, out.plaintext.RevealSecretForUse(), context);
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, sealed.status(), ""));
  out.ciphertext = std::move(*sealed);
  out.key_id = k->record.key_id;
  out.key_version = k->record.current_version;
  return out;
}

Result<Decrypted> Kms::Decrypt(const KeyCaller& caller, std::string_view ciphertext,
                               const EncryptionContext& context, std::string_view expected_key) {
  KeyUseEvent e = Impl::Event(caller, "Decrypt", nullptr, context);
  auto parsed = ParseCiphertext(ciphertext);
  if (!parsed.ok()) return impl_->Record(e, parsed.status(), "");
  e.key_id = std::string(parsed->key_id);
  e.key_version = parsed->key_version;
  auto k = impl_->ResolveCiphertextKey(parsed->key_id);
  if (!k.ok()) return impl_->Record(e, k.status(), "");
  e.tenant = TenantTag(k->record);
  Status ok = CheckContext(context);
  if (ok.ok() && !expected_key.empty()) {
    auto want = impl_->Resolve(expected_key);
    if (!want.ok()) return impl_->Record(e, want.status(), "");
    if (want->record.key_id != k->record.key_id) {
      KeyUseEvent incorrect = e;
      Status s = InvalidArgument("the ciphertext was encrypted under key " + k->record.key_id +
                                 std::string(kIncorrectKeyFragment) + want->record.key_id);
      incorrect.time = impl_->clock.Now();
      incorrect.outcome = "IncorrectKeyException";
      incorrect.message = s.message();
      Status recorded = impl_->audit->Record(incorrect);
      if (!recorded.ok()) return Unavailable("the key operation Decrypt could not be recorded");
      return s;
    }
  }
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:Decrypt", &*k, context);
  if (ok.ok()) ok = impl_->UnusableState(k->record);
  if (!ok.ok()) return impl_->Record(e, ok, Impl::StateOutcome(k->record));
  auto pt = impl_->Open(k->record, *parsed, context);
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, pt.status(), ""));
  return Decrypted{std::move(*pt), k->record.key_id, parsed->key_version};
}

Result<std::string> Kms::ReEncrypt(const KeyCaller& caller, std::string_view ciphertext,
                                   const EncryptionContext& source_context,
                                   std::string_view destination_key,
                                   const EncryptionContext& destination_context) {
  KeyUseEvent e = Impl::Event(caller, "ReEncrypt", nullptr, source_context);
  auto parsed = ParseCiphertext(ciphertext);
  if (!parsed.ok()) return impl_->Record(e, parsed.status(), "");
  e.key_id = std::string(parsed->key_id);
  e.key_version = parsed->key_version;
  auto src = impl_->ResolveCiphertextKey(parsed->key_id);
  if (!src.ok()) return impl_->Record(e, src.status(), "");
  auto dst = impl_->Resolve(destination_key);
  if (!dst.ok()) return impl_->Record(e, dst.status(), "");
  Status ok = CheckContext(source_context);
  if (ok.ok()) ok = CheckContext(destination_context);
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:ReEncryptFrom", &*src, source_context);
  if (ok.ok()) ok = impl_->UnusableState(src->record);
  if (!ok.ok()) return impl_->Record(e, ok, Impl::StateOutcome(src->record));
  KeyUseEvent to = Impl::Event(caller, "ReEncrypt", &dst->record, destination_context);
  ok = impl_->Authorize(caller, "kms:ReEncryptTo", &*dst, destination_context);
  if (ok.ok()) ok = impl_->UnusableState(dst->record);
  if (!ok.ok()) return impl_->Record(to, ok, Impl::StateOutcome(dst->record));
  auto pt = impl_->Open(src->record, *parsed, source_context);
  if (!pt.ok()) return impl_->Record(e, pt.status(), "");
  auto sealed = impl_->Seal(dst->record, pt->RevealSecretForUse(), destination_context);
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, sealed.status(), ""));
  PERIMETER_RETURN_IF_ERROR(impl_->Record(to, sealed.status(), ""));
  return sealed;
}

Result<MaintenanceReport> Kms::RunMaintenance() {
  auto keys = impl_->store->ListKeys();
  if (!keys.ok()) return keys.status();
  MaintenanceReport report;
  const int64_t now = impl_->Now();
  const KeyCaller service = Gateway();
  for (const KeyRecord& k : *keys) {
    if (k.state == KeyState::kPendingDeletion && k.deletion_date <= now) {
      KeyUseEvent e = Impl::Event(service, "DeleteKey", &k);
      PERIMETER_RETURN_IF_ERROR(impl_->Record(e, impl_->DestroyLocked(k, now), ""));
      report.destroyed.push_back(k.key_id);
    } else if (k.state == KeyState::kEnabled && k.next_rotation_at != 0 &&
               k.next_rotation_at <= now) {
      KeyUseEvent e = Impl::Event(service, "RotateKey", &k);
      auto rotated = impl_->Rotate(k, now);
      if (rotated.ok()) e.key_version = rotated->current_version;
      PERIMETER_RETURN_IF_ERROR(impl_->Record(e, rotated.status(), ""));
      report.rotated.push_back(k.key_id);
    }
  }
  return report;
}

namespace {

constexpr std::string_view kUseActions =
    R"(["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"])";

// The statement that lets the account root manage a key without using it.
std::string ManageWithoutDecrypt(const std::string& account_id) {
  return R"({"Sid":"AdministratorsManageWithoutDecrypt","Effect":"Allow",)"
         R"("Principal":{"AWS":"arn:aws:iam::)" +
         account_id +
         R"(:root"},"Action":["kms:Describe*","kms:List*","kms:Get*","kms:Put*","kms:Enable*",)"
         R"("kms:Disable*","kms:Rotate*","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion",)"
         R"("kms:TagResource","kms:UntagResource"],"Resource":"*"})";
}

}  // namespace

std::string Kms::TenantKeyPolicy(std::string_view tenant_id, std::string_view role_arn) const {
  const std::string condition =
      R"({"StringEquals":{"kms:EncryptionContext:tenant":")" + std::string(tenant_id) + R"("}})";
  return R"({"Version":"2012-10-17","Statement":[)"
         R"({"Sid":"TenantRoleUse","Effect":"Allow","Principal":{"AWS":")" +
         std::string(role_arn) + R"("},"Action":)" + std::string(kUseActions) +
         R"(,"Resource":"*","Condition":)" + condition +
         R"(},{"Sid":"GatewayUseForTenant","Effect":"Allow","Principal":{"Service":")" +
         std::string(kGatewayServicePrincipal) + R"("},"Action":)" + std::string(kUseActions) +
         R"(,"Resource":"*","Condition":)" + condition + "}," +
         ManageWithoutDecrypt(options_.account_id) + "]}";
}

std::string Kms::EnvironmentKeyPolicy() const {
  return R"({"Version":"2012-10-17","Statement":[)"
         R"({"Sid":"GatewayUse","Effect":"Allow","Principal":{"Service":")" +
         std::string(kGatewayServicePrincipal) + R"("},"Action":)" + std::string(kUseActions) +
         R"(,"Resource":"*"},)" + ManageWithoutDecrypt(options_.account_id) + "]}";
}

namespace {

Status CheckTenantArgs(std::string_view tenant_id, std::string_view role_arn) {
  if (!IsValidTenantId(tenant_id)) {
    return InvalidArgument("tenant id '" + std::string(tenant_id.substr(0, 80)) +
                           "' is invalid: use 1-63 of a-z, 0-9 and '-', starting with a letter or "
                           "digit");
  }
  if (!StartsWith(role_arn, "arn:aws:iam::") || role_arn.find(":role/") == std::string_view::npos ||
      role_arn.size() > 2048) {
    return InvalidArgument(
        "the tenant's role must be an IAM role ARN "
        "(arn:aws:iam::<account>:role/<name>); got '" +
        std::string(role_arn.substr(0, 256)) + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<TenantRecord> Kms::CreateTenant(const KeyCaller& caller, std::string_view tenant_id,
                                       std::string_view role_arn) {
  KeyUseEvent e =
      Impl::Event(caller, "CreateTenant", nullptr, {{"tenant", std::string(tenant_id)}});
  Status ok = CheckTenantArgs(tenant_id, role_arn);
  if (ok.ok()) ok = impl_->Authorize(caller, "kms:CreateKey", nullptr, {});
  if (!ok.ok()) return impl_->Record(e, ok, "");
  auto existing = impl_->store->GetTenant(tenant_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    const TenantRecord& t = **existing;
    Status s =
        t.state == TenantState::kDeleted
            ? AlreadyExists("tenant " + t.tenant_id + " was deleted on " + DateText(t.deleted_at) +
                            " and its key is scheduled for destruction; a tenant id is "
                            "never reused, choose another")
            : AlreadyExists("tenant " + t.tenant_id + " already exists (key " + t.key_id + ")");
    return impl_->Record(e, s, "");
  }
  return EnsureTenant(tenant_id, role_arn);
}

Result<TenantRecord> Kms::EnsureTenant(std::string_view tenant_id, std::string_view role_arn) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantArgs(tenant_id, role_arn));
  auto existing = impl_->store->GetTenant(tenant_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    if ((*existing)->role_arn == role_arn || (*existing)->state != TenantState::kActive) {
      return **existing;
    }
    // The config now names another role for the tenant: the key policy follows it (the config
    // is the operator's statement of who the tenant is), then the record. A failure between the
    // two is completed by the next call.
    TenantRecord updated = **existing;
    updated.role_arn = std::string(role_arn);
    auto key = impl_->Resolve(updated.key_id);
    if (!key.ok()) return key.status();
    KeyRecord k = key->record;
    k.policy = TenantKeyPolicy(tenant_id, role_arn);
    KeyUseEvent e = Impl::Event(Gateway(), "UpdateTenantRole", &k, {{"tenant", updated.tenant_id}});
    Status written = impl_->store->UpdateKey(k);
    if (written.ok()) written = impl_->store->UpdateTenant(updated);
    {
      std::lock_guard lock(impl_->mu);
      impl_->keys.erase(k.key_id);
    }
    PERIMETER_RETURN_IF_ERROR(impl_->Record(e, written, ""));
    return updated;
  }
  const std::string alias = std::string(kTenantAliasPrefix) + std::string(tenant_id);
  // A key left by an earlier attempt that failed before writing the tenant record is reused, so
  // a retry completes the tenant instead of failing on the alias.
  auto orphan = impl_->store->GetKeyByAlias(alias);
  if (!orphan.ok()) return orphan.status();
  std::string key_id;
  const KeyCaller service = Gateway();
  if (orphan->has_value()) {
    if (TenantTag(**orphan) != tenant_id) {
      return AlreadyExists("alias " + alias + " belongs to a key that is not tenant " +
                           std::string(tenant_id) + "'s");
    }
    key_id = (*orphan)->key_id;
  } else {
    CreateKeyRequest r;
    r.alias = alias;
    r.description = "Tenant " + std::string(tenant_id) + ": every record Perimeter stores for it";
    r.tags = {{"perimeter:tenant", std::string(tenant_id)}, {"perimeter:purpose", "tenant-data"}};
    r.policy = TenantKeyPolicy(tenant_id, role_arn);
    auto k = impl_->CreateKeyUnchecked(service, r);
    if (!k.ok()) return k.status();
    key_id = k->key_id;
  }
  TenantRecord t{std::string(tenant_id), key_id,       std::string(role_arn),
                 TenantState::kActive,   impl_->Now(), 0};
  KeyUseEvent e = Impl::Event(service, "CreateTenant", nullptr, {{"tenant", t.tenant_id}});
  e.key_id = key_id;
  e.tenant = t.tenant_id;
  Status written = impl_->store->CreateTenant(t);
  if (written.code() == StatusCode::kAlreadyExists) {  // another process won the race
    auto again = impl_->store->GetTenant(tenant_id);
    if (again.ok() && again->has_value()) return **again;
  }
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, written, ""));
  return t;
}

Result<std::optional<TenantRecord>> Kms::GetTenant(std::string_view tenant_id) {
  // Cached until any writer commits (the gateway asks on every tenant request).
  std::lock_guard lock(impl_->mu);
  PERIMETER_RETURN_IF_ERROR(impl_->RefreshLocked());
  if (auto it = impl_->tenants.find(tenant_id); it != impl_->tenants.end()) return it->second;
  auto t = impl_->store->GetTenant(tenant_id);
  if (!t.ok()) return t.status();
  if (impl_->tenants.size() >= 4096) impl_->tenants.clear();  // bounded: ids come from requests
  impl_->tenants.emplace(std::string(tenant_id), *t);
  return std::move(*t);
}

Result<std::vector<TenantRecord>> Kms::ListTenants() { return impl_->store->ListTenants(); }

Result<TenantRecord> Kms::DeleteTenant(const KeyCaller& caller, std::string_view tenant_id,
                                       int pending_window_days) {
  auto t = impl_->store->GetTenant(tenant_id);
  if (!t.ok()) return t.status();
  if (!t->has_value()) {
    return NotFound("tenant " + std::string(tenant_id.substr(0, kMaxTenantIdBytes)) +
                    " does not exist; list tenants with `perimeter tenants list`");
  }
  TenantRecord rec = **t;
  if (rec.state == TenantState::kDeleted) {
    return FailedPrecondition("tenant " + rec.tenant_id + " was already deleted on " +
                              DateText(rec.deleted_at));
  }
  auto k = ScheduleKeyDeletion(caller, rec.key_id, pending_window_days);
  if (!k.ok()) return k.status();
  rec.state = TenantState::kDeleted;
  rec.deleted_at = impl_->Now();
  KeyUseEvent e = Impl::Event(caller, "DeleteTenant", &*k, {{"tenant", rec.tenant_id}});
  PERIMETER_RETURN_IF_ERROR(impl_->Record(e, impl_->store->UpdateTenant(rec), ""));
  return rec;
}

Result<KeyRecord> Kms::EnvironmentKey() {
  auto k = impl_->store->GetKeyByAlias(kEnvironmentAlias);
  if (!k.ok()) return k.status();
  if (k->has_value()) return **k;
  CreateKeyRequest r;
  r.alias = std::string(kEnvironmentAlias);
  r.description = "This environment's data that belongs to no tenant";
  r.tags = {{"perimeter:environment", options_.region}, {"perimeter:purpose", "environment"}};
  r.policy = EnvironmentKeyPolicy();
  auto created = CreateKey(Administrator(), r);
  if (created.status().code() == StatusCode::kAlreadyExists) {  // created by another process
    auto again = impl_->store->GetKeyByAlias(kEnvironmentAlias);
    if (again.ok() && again->has_value()) return **again;
  }
  return created;
}

Result<std::string> Kms::TenantOfCiphertext(std::string_view ciphertext) {
  auto parsed = ParseCiphertext(ciphertext);
  if (!parsed.ok()) return parsed.status();
  auto k = impl_->ResolveCiphertextKey(parsed->key_id);
  if (!k.ok()) return k.status();
  return TenantTag(k->record);
}

uint64_t Kms::cache_hits() const {
  std::lock_guard lock(impl_->mu);
  return impl_->hits;
}

uint64_t Kms::cache_misses() const {
  std::lock_guard lock(impl_->mu);
  return impl_->misses;
}

}  // namespace perimeter::kms
