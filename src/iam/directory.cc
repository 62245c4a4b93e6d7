#include "iam/directory.h"

#include <openssl/crypto.h>

#include <cstdio>

#include <boost/json.hpp>

#include "codec/base64.h"
#include "common/strings.h"
#include "crypto/aead.h"
#include "crypto/constant_time.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/root_key.h"
#include "kms/ciphertext.h"

namespace perimeter::iam {

namespace json = boost::json;
using codec::Base64Decode;
using codec::Base64Encode;
using std::chrono::seconds;
using std::chrono::system_clock;

std::string_view PrincipalTypeName(PrincipalType t) {
  return t == PrincipalType::kRole ? "role" : "user";
}

namespace {

// Wipes a JSON string that held a secret (boost::json strings are not SecretBytes).
void WipeJsonString(json::object& o, std::string_view key) {
  if (json::value* v = o.if_contains(key); v && v->is_string()) {
    json::string& s = v->as_string();
    OPENSSL_cleanse(s.data(), s.size());
  }
}

constexpr std::string_view kSessionTokenPrefix = "PRMST1";
constexpr size_t kMaxSessionTokenBytes = 8192;
constexpr size_t kMaxApiKeyBytes = 256;

crypto::SecretBytes DeriveKey(const crypto::SecretBytes& root, std::string_view purpose) {
  auto tag = crypto::HmacSha256(root.RevealSecretForUse(), purpose);
  crypto::SecretBytes out(std::string_view(reinterpret_cast<const char*>(tag.data()), tag.size()));
  return out;
}

int64_t ToUnix(system_clock::time_point t) {
  return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

system_clock::time_point FromUnix(int64_t s) { return system_clock::time_point(seconds(s)); }

std::string Base32(std::string_view bytes, size_t chars) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5 && out.size() < chars) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;
}

std::string Base64Url(std::string_view bytes) {
  std::string b = Base64Encode(bytes);
  while (!b.empty() && b.back() == '=') b.pop_back();
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return b;
}

Result<policy::NamedPolicy> Compile(const std::string& name, const std::string& json_text,
                                    policy::PolicyKind kind) {
  auto p = policy::Policy::Parse(json_text, kind);
  if (!p.ok()) return InvalidArgument(name + ": " + p.status().message());
  return policy::NamedPolicy{name, *p};
}

PrincipalRecord RecordFromConfig(const config::AccessConfig& access,
                                 const config::PrincipalConfig& p) {
  PrincipalRecord r;
  r.arn = access.PrincipalArn(p);
  r.type = p.is_role ? PrincipalType::kRole : PrincipalType::kUser;
  r.account_id = p.account_id.empty() ? access.account_id : p.account_id;
  r.name = p.name;
  r.unique_id = Directory::UniqueIdFor(r.arn, r.type);
  r.tags = p.tags;
  for (const auto& d : p.policies) r.policies.push_back(d.json);
  if (p.permission_boundary) r.permission_boundary = p.permission_boundary->json;
  if (p.trust_policy) r.trust_policy = p.trust_policy->json;
  r.max_session_seconds = p.max_session_duration.count();
  r.source = PrincipalSource::kConfig;
  return r;
}

}  // namespace

Result<std::shared_ptr<const Principal>> CompilePrincipal(PrincipalRecord record) {
  auto out = std::make_shared<Principal>();
  for (size_t i = 0; i < record.policies.size(); ++i) {
    auto p = Compile(record.arn + " policies[" + std::to_string(i) + "]", record.policies[i],
                     policy::PolicyKind::kIdentity);
    if (!p.ok()) return p.status();
    out->policies.push_back(std::move(*p));
  }
  if (!record.permission_boundary.empty()) {
    auto p = Compile(record.arn + " permission boundary", record.permission_boundary,
                     policy::PolicyKind::kIdentity);
    if (!p.ok()) return p.status();
    out->boundary = std::move(*p);
  }
  if (record.type == PrincipalType::kRole && !record.trust_policy.empty()) {
    auto p = Compile(record.arn + " trust policy", record.trust_policy, policy::PolicyKind::kTrust);
    if (!p.ok()) return p.status();
    out->trust = std::move(*p);
  }
  out->record = std::move(record);
  return std::shared_ptr<const Principal>(std::move(out));
}

std::string Directory::UniqueIdFor(std::string_view arn, PrincipalType type) {
  auto digest = crypto::Sha256(arn);
  return std::string(type == PrincipalType::kRole ? "AROA" : "AIDA") +
         Base32(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()), 17);
}

std::string NewAccessKeyId(std::string_view prefix) {
  auto bytes = crypto::RandomBytes(10);
  if (!bytes.ok()) std::abort();  // no safe fallback for key ids (see RandomHex)
  return std::string(prefix) + Base32(*bytes, 16);
}

crypto::SecretBytes NewSecretAccessKey() {
  auto bytes = crypto::RandomBytes(30);
  if (!bytes.ok()) std::abort();
  std::string encoded = Base64Encode(*bytes);  // 40 characters, as AWS secrets are
  crypto::SecretBytes s = crypto::SecretBytes::FromAndWipe(&encoded);
  crypto::SecretBytes wipe_raw = crypto::SecretBytes::FromAndWipe(&*bytes);
  return s;
}

kms::EncryptionContext AccessKeySecretContext(std::string_view access_key_id,
                                              std::string_view tenant) {
  kms::EncryptionContext c{{"purpose", "access-key-secret"},
                           {"access-key-id", std::string(access_key_id)}};
  if (!tenant.empty()) c["tenant"] = std::string(tenant);
  return c;
}

NewApiKey GenerateApiKey() {
  NewApiKey k;
  k.key_id = "prm_" + crypto::RandomHex(8);
  auto bytes = crypto::RandomBytes(32);
  if (!bytes.ok()) std::abort();
  std::string full = k.key_id + "_" + Base64Url(*bytes);
  crypto::SecretBytes wipe_raw = crypto::SecretBytes::FromAndWipe(&*bytes);
  k.sha256_hex = crypto::Sha256Hex(full);
  k.full_key = crypto::SecretBytes::FromAndWipe(&full);
  return k;
}

Directory::Directory(std::shared_ptr<const config::Config> cfg, const Clock& clock,
                     std::unique_ptr<IdentityStore> store, crypto::SecretBytes root_key,
                     kms::KmsRuntime keys)
    : cfg_(std::move(cfg)),
      clock_(clock),
      store_(std::move(store)),
      keys_(std::move(keys)),
      access_key_seal_key_(DeriveKey(root_key, "perimeter/access-key-secret/v1")),
      session_seal_key_(DeriveKey(root_key, "perimeter/sts-session/v1")) {}

Result<std::shared_ptr<Directory>> Directory::Open(const config::Config& cfg, const Clock& clock) {
  auto root = crypto::LoadOrCreateRootKey(cfg.server.state_dir);
  if (!root.ok()) return root.status();
  auto store = IdentityStore::Open(cfg.server.state_dir + "/identity.db");
  if (!store.ok()) return store.status();
  auto keys = kms::OpenKmsRuntime(cfg, clock);
  if (!keys.ok()) return keys.status();
  for (const auto& t : cfg.access.tenants) {
    auto ensured = keys->kms->EnsureTenant(t.id, t.role_arn);
    if (!ensured.ok()) {
      return Status(ensured.status().code(),
                    "tenant " + t.id + ": its key cannot be set up: " + ensured.status().message());
    }
  }
  std::shared_ptr<Directory> d(new Directory(std::make_shared<const config::Config>(cfg), clock,
                                             std::move(*store), std::move(*root),
                                             std::move(*keys)));
  for (const auto& p : cfg.access.principals) {
    auto compiled = CompilePrincipal(RecordFromConfig(cfg.access, p));
    if (!compiled.ok()) return compiled.status();
    d->config_principals_.push_back(std::move(*compiled));
  }
  auto snap = d->Current();
  if (!snap.ok()) return snap.status();
  return d;
}

Result<std::shared_ptr<const Directory::Snapshot>> Directory::Load(uint64_t version) {
  auto snap = std::make_shared<Snapshot>();
  snap->version = version;
  auto states = store_->ListPrincipalStates();
  if (!states.ok()) return states.status();
  for (const auto& p : config_principals_) {
    auto it = states->find(p->record.arn);
    if (it != states->end() && !it->second) {
      auto copy = std::make_shared<Principal>(*p);
      copy->record.active = false;
      snap->principals[p->record.arn] = std::move(copy);
    } else {
      snap->principals[p->record.arn] = p;
    }
  }
  auto stored = store_->ListPrincipals();
  if (!stored.ok()) return stored.status();
  for (auto& rec : *stored) {
    if (snap->principals.count(rec.arn)) {
      // The config's principal wins; the stored one is ignored and reported, rather than
      // failing every request (a CLI run against another config can create such a twin).
      std::fprintf(stderr,
                   "perimeter: principal %s is declared in the config and was also created with "
                   "the CLI; the config's declaration is used\n",
                   rec.arn.c_str());
      continue;
    }
    auto it = states->find(rec.arn);
    if (it != states->end()) rec.active = rec.active && it->second;
    auto compiled = CompilePrincipal(rec);
    if (!compiled.ok()) return compiled.status();
    snap->principals[compiled.value()->record.arn] = std::move(*compiled);
  }
  auto keys = store_->ListAccessKeys("");
  if (!keys.ok()) return keys.status();
  for (auto& k : *keys) snap->access_keys[k.access_key_id] = std::move(k);
  auto api = store_->ListApiKeys("");
  if (!api.ok()) return api.status();
  for (auto& k : *api) snap->api_keys[k.key_id] = std::move(k);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

Result<std::shared_ptr<const Directory::Snapshot>> Directory::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  auto version = store_->ChangeCounter();
  if (!version.ok()) return version.status();
  if (snapshot_ && snapshot_->version == *version) return snapshot_;
  auto snap = Load(*version);
  if (!snap.ok()) return snap.status();
  snapshot_ = *snap;
  return snapshot_;
}

std::shared_ptr<const Principal> Directory::FindPrincipal(std::string_view arn) {
  auto snap = Current();
  if (!snap.ok()) return nullptr;
  auto it = snap.value()->principals.find(arn);
  return it == snap.value()->principals.end() ? nullptr : it->second;
}

std::shared_ptr<const Principal> Directory::FindRole(std::string_view role_arn) {
  auto p = FindPrincipal(role_arn);
  // A role no trust policy allows cannot be assumed (as in IAM); without one it is not a role
  // anybody can use, whatever their own policies say.
  if (!p || p->record.type != PrincipalType::kRole || !p->record.active || !p->trust) {
    return nullptr;
  }
  return p;
}

Result<std::vector<std::shared_ptr<const Principal>>> Directory::AllPrincipals() {
  std::vector<std::shared_ptr<const Principal>> out;
  auto snap = Current();
  if (!snap.ok()) return snap.status();
  for (const auto& [arn, p] : snap.value()->principals) out.push_back(p);
  return out;
}

namespace {

Caller CallerForUser(const Principal& p, std::string credential_id) {
  Caller c;
  c.arn = p.record.arn;
  c.principal_arn = p.record.arn;
  c.account_id = p.record.account_id;
  c.user_id = p.record.unique_id;
  c.username = p.record.name;
  c.tags = p.record.tags;
  c.identity_policies = p.policies;
  if (p.boundary) c.boundaries.push_back(*p.boundary);
  c.credential_id = std::move(credential_id);
  c.origin_principal_arn = p.record.arn;
  c.origin_key_id = c.credential_id;
  return c;
}

// Why a long-term credential of `p` is unusable now, or Ok.
Status CheckCredential(const Principal* p, int64_t revoked_at, int64_t expires_at, int64_t now,
                       std::string_view what) {
  if (revoked_at != 0) return PermissionDenied(std::string(what) + " has been revoked");
  if (expires_at != 0 && now >= expires_at)
    return PermissionDenied(std::string(what) + " has expired");
  if (p == nullptr) return PermissionDenied(std::string(what) + " belongs to no principal");
  if (!p->record.active)
    return PermissionDenied(std::string(what) + " belongs to a deactivated principal");
  return Status::Ok();
}

}  // namespace

Status Directory::CheckOrigin(const Snapshot& snap, const Caller& c) const {
  auto p = snap.principals.find(c.origin_principal_arn);
  if (p == snap.principals.end() || !p->second->record.active) {
    return PermissionDenied("the principal this session was issued to is no longer active");
  }
  if (StartsWith(c.origin_key_id, "prm_")) {
    auto k = snap.api_keys.find(c.origin_key_id);
    if (k == snap.api_keys.end() || k->second.revoked_at != 0)
      return PermissionDenied("the API key this session was issued with has been revoked");
  } else if (!c.origin_key_id.empty()) {
    auto k = snap.access_keys.find(c.origin_key_id);
    if (k == snap.access_keys.end() || k->second.revoked_at != 0)
      return PermissionDenied("the access key this session was issued with has been revoked");
  }
  return Status::Ok();
}

Result<Caller> Directory::CallerForSession(const Snapshot& snap, std::string_view akid,
                                           std::string_view token,
                                           crypto::SecretBytes* secret_out) {
  const auto invalid = [] {
    return Unauthenticated("The security token included in the request is invalid");
  };
  if (token.empty()) return invalid();
  if (token.size() > kMaxSessionTokenBytes || !StartsWith(token, kSessionTokenPrefix))
    return invalid();
  auto sealed = Base64Decode(token.substr(kSessionTokenPrefix.size()));
  if (!sealed.ok()) return invalid();
  auto opened = crypto::AeadOpen(session_seal_key_, *sealed, akid);
  if (!opened.ok()) return invalid();
  json::value doc;
  {
    boost::system::error_code ec;
    doc = json::parse(opened->RevealSecretForUse(), ec);
    if (ec || !doc.is_object()) return invalid();
  }
  struct Wiper {
    json::value& d;
    ~Wiper() { WipeJsonString(d.as_object(), "secret"); }
  } wiper{doc};
  const json::object& o = doc.as_object();
  auto str = [&](const char* k) -> std::string {
    const json::value* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto num = [&](const char* k) -> int64_t {
    const json::value* v = o.if_contains(k);
    return v && v->is_int64() ? v->as_int64() : 0;
  };
  const int64_t exp = num("exp");
  if (ToUnix(clock_.Now()) >= exp)
    return FailedPrecondition("The security token included in the request is expired");
  auto role_it = snap.principals.find(str("role"));
  if (role_it == snap.principals.end() || !role_it->second->record.active ||
      role_it->second->record.type != PrincipalType::kRole) {
    return PermissionDenied("the role of this session no longer exists or is deactivated");
  }
  const Principal& role = *role_it->second;
  Caller c;
  c.is_session = true;
  c.role_session_name = str("session");
  c.arn = "arn:aws:sts::" + role.record.account_id + ":assumed-role/" + role.record.name + "/" +
          c.role_session_name;
  c.principal_arn = role.record.arn;
  c.account_id = role.record.account_id;
  c.user_id = role.record.unique_id + ":" + c.role_session_name;
  c.source_identity = str("src");
  c.tags = role.record.tags;
  if (const json::value* t = o.if_contains("tags"); t && t->is_object()) {
    for (const auto& kv : t->as_object()) {
      if (kv.value().is_string()) c.tags[std::string(kv.key())] = kv.value().as_string().c_str();
    }
  }
  c.identity_policies = role.policies;
  if (role.boundary) c.boundaries.push_back(*role.boundary);
  if (std::string sp = str("policy"); !sp.empty()) {
    auto p = Compile("session policy", sp, policy::PolicyKind::kIdentity);
    if (!p.ok()) return invalid();
    c.session_policy = std::move(*p);
  }
  c.credential_id = std::string(akid);
  c.session_expires = FromUnix(exp);
  c.origin_principal_arn = str("origin");
  c.origin_key_id = str("origin_key");
  c.origin_tenant = str("tenant");
  PERIMETER_RETURN_IF_ERROR(CheckOrigin(snap, c));
  if (secret_out) {
    std::string secret = str("secret");
    *secret_out = crypto::SecretBytes::FromAndWipe(&secret);
  }
  return c;
}

Result<crypto::SecretBytes> Directory::SecretFor(std::string_view akid,
                                                 std::string_view session_token) {
  auto snap = Current();
  if (!snap.ok())
    return Unavailable("the identity store cannot be read: " + snap.status().message());
  if (StartsWith(akid, "ASIA")) {
    crypto::SecretBytes secret;
    auto c = CallerForSession(**snap, akid, session_token, &secret);
    if (!c.ok()) return c.status();
    return secret;
  }
  auto it = snap.value()->access_keys.find(akid);
  if (it == snap.value()->access_keys.end())
    return NotFound("The security token included in the request is invalid.");
  if (!session_token.empty())
    return Unauthenticated("The security token included in the request is invalid");
  const AccessKeyRecord& k = it->second;
  auto p = snap.value()->principals.find(k.principal_arn);
  PERIMETER_RETURN_IF_ERROR(
      CheckCredential(p == snap.value()->principals.end() ? nullptr : p->second.get(), k.revoked_at,
                      k.expires_at, ToUnix(clock_.Now()), "The access key"));
  return UnsealAccessKeySecret(**snap, k);
}

Result<std::string> Directory::SealAccessKeySecret(const Principal& principal,
                                                   std::string_view access_key_id,
                                                   const crypto::SecretBytes& secret) {
  std::string tenant;
  if (auto t = principal.record.tags.find("perimeter:tenant"); t != principal.record.tags.end())
    tenant = t->second;
  std::string key;
  if (tenant.empty()) {
    auto env = keys_.kms->EnvironmentKey();
    if (!env.ok()) return env.status();
    key = env->key_id;
  } else {
    auto t = keys_.kms->GetTenant(tenant);
    if (!t.ok()) return t.status();
    if (!t->has_value()) {
      return FailedPrecondition(principal.record.arn + " is tagged perimeter:tenant=" + tenant +
                                ", but tenant " + tenant +
                                " has no key: declare the tenant under access.tenants or run "
                                "`perimeter tenants create " +
                                tenant + " --role <role ARN>`");
    }
    key = (*t)->key_id;
  }
  return keys_.kms->Encrypt(keys_.kms->Gateway(), key, secret.RevealSecretForUse(),
                            AccessKeySecretContext(access_key_id, tenant));
}

Result<crypto::SecretBytes> Directory::UnsealAccessKeySecret(const Snapshot& snap,
                                                             const AccessKeyRecord& k) {
  auto keys_version = keys_.store->ChangeCounter();
  if (!keys_version.ok()) {
    return Unavailable("the key store cannot be read: " + keys_version.status().message());
  }
  {
    std::lock_guard lock(snap.secrets_mu);
    if (snap.secrets_keys_version != *keys_version) {
      snap.secrets.clear();
      snap.secrets_keys_version = *keys_version;
    }
    if (auto it = snap.secrets.find(k.access_key_id); it != snap.secrets.end())
      return it->second->Clone();
  }
  Result<crypto::SecretBytes> secret = Internal("unreachable");
  if (StartsWith(k.sealed_secret, kms::kCiphertextMagic.substr(0, 3))) {
    auto tenant = keys_.kms->TenantOfCiphertext(k.sealed_secret);
    if (!tenant.ok()) return tenant.status();
    auto opened = keys_.kms->Decrypt(keys_.kms->Gateway(), k.sealed_secret,
                                     AccessKeySecretContext(k.access_key_id, *tenant));
    if (!opened.ok()) {
      // A key that is disabled, pending deletion or destroyed makes the credential unusable (a
      // denial); anything else means the record or the key store is damaged (internal).
      const StatusCode code = opened.status().code();
      return Status(code == StatusCode::kUnavailable          ? StatusCode::kUnavailable
                    : code == StatusCode::kFailedPrecondition ? StatusCode::kPermissionDenied
                                                              : StatusCode::kInternal,
                    "the stored secret of access key " + k.access_key_id +
                        " cannot be decrypted: " + opened.status().message());
    }
    secret = std::move(opened->plaintext);
  } else {
    auto opened = crypto::AeadOpen(access_key_seal_key_, k.sealed_secret, k.access_key_id);
    if (!opened.ok()) {
      return Internal("the stored secret of access key " + k.access_key_id +
                      " cannot be unsealed with this state directory's root key");
    }
    secret = std::move(*opened);
  }
  std::lock_guard lock(snap.secrets_mu);
  snap.secrets[k.access_key_id] = std::make_shared<const crypto::SecretBytes>(secret->Clone());
  return secret;
}

Result<Caller> Directory::CallerForAccessKey(std::string_view akid,
                                             std::string_view session_token) {
  auto snap = Current();
  if (!snap.ok())
    return Unavailable("the identity store cannot be read: " + snap.status().message());
  if (StartsWith(akid, "ASIA")) return CallerForSession(**snap, akid, session_token, nullptr);
  auto it = snap.value()->access_keys.find(akid);
  if (it == snap.value()->access_keys.end())
    return NotFound("The security token included in the request is invalid.");
  auto p = snap.value()->principals.find(it->second.principal_arn);
  const Principal* principal = p == snap.value()->principals.end() ? nullptr : p->second.get();
  PERIMETER_RETURN_IF_ERROR(CheckCredential(principal, it->second.revoked_at, it->second.expires_at,
                                            ToUnix(clock_.Now()), "The access key"));
  if (principal->record.type != PrincipalType::kUser)
    return PermissionDenied("access keys belong to users; roles are used through sessions");
  return CallerForUser(*principal, std::string(akid));
}

Result<Caller> Directory::CallerForApiKey(std::string_view bearer) {
  const auto invalid = [] {
    return Unauthenticated(
        "Incorrect API key provided. Create one with `perimeter credentials create --type "
        "api-key`.");
  };
  if (bearer.size() > kMaxApiKeyBytes || !StartsWith(bearer, "prm_")) return invalid();
  size_t sep = bearer.find('_', 4);
  if (sep == std::string_view::npos) return invalid();
  std::string_view key_id = bearer.substr(0, sep);
  auto snap = Current();
  if (!snap.ok())
    return Unavailable("the identity store cannot be read: " + snap.status().message());
  auto it = snap.value()->api_keys.find(key_id);
  if (it == snap.value()->api_keys.end()) return invalid();
  const std::string presented = crypto::Sha256Hex(bearer);
  if (!crypto::ConstantTimeEquals(presented, it->second.secret_sha256_hex)) return invalid();
  auto p = snap.value()->principals.find(it->second.principal_arn);
  const Principal* principal = p == snap.value()->principals.end() ? nullptr : p->second.get();
  Status usable = CheckCredential(principal, it->second.revoked_at, it->second.expires_at,
                                  ToUnix(clock_.Now()), "This API key");
  if (!usable.ok()) return Unauthenticated(usable.message());
  if (principal->record.type != PrincipalType::kUser)
    return Unauthenticated("API keys belong to users; roles are used through sessions");
  return CallerForUser(*principal, std::string(key_id));
}

Result<Caller> Directory::CallerForPrincipal(std::string_view arn, std::string_view session_name) {
  auto p = FindPrincipal(arn);
  if (!p) return NotFound("no principal " + std::string(arn));
  if (p->record.type == PrincipalType::kUser) return CallerForUser(*p, "");
  Caller parent;
  parent.principal_arn = p->record.arn;
  SessionRequest req;
  req.role_session_name = std::string(session_name);
  return SessionCaller(parent, *p, req);
}

Result<Caller> Directory::SessionCaller(const Caller& parent, const Principal& role,
                                        const SessionRequest& req) {
  Caller c;
  c.is_session = true;
  c.role_session_name = req.role_session_name;
  c.arn = "arn:aws:sts::" + role.record.account_id + ":assumed-role/" + role.record.name + "/" +
          req.role_session_name;
  c.principal_arn = role.record.arn;
  c.account_id = role.record.account_id;
  c.user_id = role.record.unique_id + ":" + req.role_session_name;
  c.source_identity = req.source_identity.empty() ? parent.source_identity : req.source_identity;
  c.tags = role.record.tags;
  for (const auto& [k, v] : req.tags) c.tags[k] = v;
  c.identity_policies = role.policies;
  if (role.boundary) c.boundaries.push_back(*role.boundary);
  if (!req.session_policy_json.empty()) {
    auto p = Compile("session policy", req.session_policy_json, policy::PolicyKind::kIdentity);
    if (!p.ok()) return p.status();
    c.session_policy = std::move(*p);
  }
  c.credential_id = parent.credential_id;
  c.session_expires = clock_.Now() + req.duration;
  c.origin_principal_arn =
      parent.origin_principal_arn.empty() ? parent.principal_arn : parent.origin_principal_arn;
  c.origin_key_id = parent.origin_key_id;
  c.origin_tenant = req.tenant;
  return c;
}

Result<SessionCredentials> Directory::IssueSession(const Caller& parent, const Principal& role,
                                                   const SessionRequest& req) {
  auto caller = SessionCaller(parent, role, req);
  if (!caller.ok()) return caller.status();
  SessionCredentials out;
  out.access_key_id = NewAccessKeyId("ASIA");
  out.secret_access_key = NewSecretAccessKey();
  out.expiration = caller->session_expires;
  out.assumed_role_arn = caller->arn;
  out.assumed_role_id = caller->user_id;
  json::object o;
  o["v"] = 1;
  o["role"] = role.record.arn;
  o["session"] = req.role_session_name;
  o["exp"] = ToUnix(out.expiration);
  o["iat"] = ToUnix(clock_.Now());
  json::object tags;
  for (const auto& [k, v] : req.tags) tags[k] = v;
  o["tags"] = std::move(tags);
  o["src"] = caller->source_identity;
  o["policy"] = req.session_policy_json;
  o["origin"] = caller->origin_principal_arn;
  o["origin_key"] = caller->origin_key_id;
  o["tenant"] = req.tenant;
  o["secret"] = out.secret_access_key.RevealSecretForUse();
  std::string plain = json::serialize(o);
  WipeJsonString(o, "secret");
  auto sealed = crypto::AeadSeal(session_seal_key_, plain, out.access_key_id);
  crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&plain);
  if (!sealed.ok()) return sealed.status();
  out.session_token = std::string(kSessionTokenPrefix) + Base64Encode(*sealed);
  return out;
}

}  // namespace perimeter::iam
