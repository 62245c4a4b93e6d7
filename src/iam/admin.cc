#include "iam/admin.h"

#include "common/strings.h"
#include "crypto/root_key.h"

namespace perimeter::iam {

using config::IsAccountId;
using config::IsIamName;

namespace {

int64_t Now(const Directory& dir) {
  return std::chrono::duration_cast<std::chrono::seconds>(dir.clock().Now().time_since_epoch())
      .count();
}

}  // namespace

Result<PrincipalRecord> CreatePrincipal(Directory& dir, const CreatePrincipalRequest& req) {
  if (!IsIamName(req.name)) {
    return InvalidArgument("'" + req.name +
                           "' is not a valid IAM name: 1-64 characters of A-Z a-z 0-9 +=,.@_-");
  }
  std::string account = req.account_id.empty() ? dir.config().access.account_id : req.account_id;
  if (!IsAccountId(account)) return InvalidArgument("--account must be 12 digits");
  if (req.type == PrincipalType::kRole && req.trust_policy.empty()) {
    return InvalidArgument(
        "a role needs a trust policy (--trust-policy FILE) saying who may assume it");
  }
  if (req.type == PrincipalType::kUser && !req.trust_policy.empty())
    return InvalidArgument("only roles have a trust policy");
  if (req.max_session_duration < std::chrono::hours(1) ||
      req.max_session_duration > std::chrono::hours(12)) {
    return InvalidArgument("--max-session-duration must be between 1h and 12h");
  }
  PrincipalRecord r;
  r.type = req.type;
  r.account_id = account;
  r.name = req.name;
  r.arn =
      "arn:aws:iam::" + account + ":" + std::string(PrincipalTypeName(req.type)) + "/" + req.name;
  r.unique_id = Directory::UniqueIdFor(r.arn, r.type);
  r.tags = req.tags;
  r.policies = req.policies;
  r.permission_boundary = req.permission_boundary;
  r.trust_policy = req.trust_policy;
  r.max_session_seconds = req.max_session_duration.count();
  r.source = PrincipalSource::kCli;
  r.created_at = Now(dir);
  // Validates every document with the same compiler the gateway uses.
  auto compiled = CompilePrincipal(r);
  if (!compiled.ok()) return compiled.status();
  if (dir.FindPrincipal(r.arn)) return AlreadyExists("principal " + r.arn + " already exists");
  PERIMETER_RETURN_IF_ERROR(dir.store().CreatePrincipal(r));
  return r;
}

Result<std::string> ResolvePrincipal(Directory& dir, std::string_view name_or_arn) {
  if (StartsWith(name_or_arn, "arn:")) {
    if (!dir.FindPrincipal(name_or_arn))
      return NotFound("no principal " + std::string(name_or_arn));
    return std::string(name_or_arn);
  }
  for (const char* kind : {"user/", "role/"}) {
    std::string arn =
        "arn:aws:iam::" + dir.config().access.account_id + ":" + kind + std::string(name_or_arn);
    if (dir.FindPrincipal(arn)) return arn;
  }
  return NotFound("no user or role named '" + std::string(name_or_arn) + "' in account " +
                  dir.config().access.account_id + "; see `perimeter principals list`");
}

Status TagPrincipal(Directory& dir, std::string_view arn,
                    const std::map<std::string, std::string>& set,
                    const std::vector<std::string>& remove) {
  auto p = dir.FindPrincipal(arn);
  if (!p) return NotFound("no principal " + std::string(arn));
  if (p->record.source == PrincipalSource::kConfig) {
    return FailedPrecondition(std::string(arn) +
                              " is declared in the config; change its tags there");
  }
  std::map<std::string, std::string> tags = p->record.tags;
  for (const auto& k : remove) tags.erase(k);
  for (const auto& [k, v] : set) {
    if (k.empty() || k.size() > 128 || v.size() > 256)
      return InvalidArgument("tag keys are 1-128 characters and values at most 256");
    tags[k] = v;
  }
  if (tags.size() > 50) return InvalidArgument("a principal has at most 50 tags");
  return dir.store().SetPrincipalTags(arn, tags);
}

Status SetPrincipalActive(Directory& dir, std::string_view arn, bool active) {
  if (!dir.FindPrincipal(arn)) return NotFound("no principal " + std::string(arn));
  return dir.store().SetPrincipalActive(arn, active, Now(dir));
}

Result<CreatedCredential> CreateCredential(Directory& dir, std::string_view principal_arn,
                                           CredentialType type,
                                           std::optional<std::chrono::seconds> expires_in,
                                           std::string description) {
  auto p = dir.FindPrincipal(principal_arn);
  if (!p) return NotFound("no principal " + std::string(principal_arn));
  if (p->record.type != PrincipalType::kUser) {
    return InvalidArgument(std::string(principal_arn) +
                           " is a role: roles have no long-term credentials; assume it with STS "
                           "AssumeRole from a user that its trust policy allows");
  }
  if (!p->record.active) return FailedPrecondition(std::string(principal_arn) + " is deactivated");
  if (description.size() > 256) return InvalidArgument("--description is at most 256 characters");
  const int64_t now = Now(dir);
  CreatedCredential out;
  out.type = type;
  if (expires_in) {
    if (expires_in->count() <= 0) return InvalidArgument("--expires-in must be positive");
    out.expires_at = now + expires_in->count();
  }
  if (type == CredentialType::kAccessKey) {
    AccessKeyRecord k;
    k.access_key_id = NewAccessKeyId();
    out.secret = NewSecretAccessKey();
    auto sealed = dir.SealAccessKeySecret(*p, k.access_key_id, out.secret);
    if (!sealed.ok()) return sealed.status();
    k.sealed_secret = std::move(*sealed);
    k.principal_arn = std::string(principal_arn);
    k.description = std::move(description);
    k.created_at = now;
    k.expires_at = out.expires_at;
    PERIMETER_RETURN_IF_ERROR(dir.store().CreateAccessKey(k));
    out.id = k.access_key_id;
  } else {
    NewApiKey key = GenerateApiKey();
    ApiKeyRecord k;
    k.key_id = key.key_id;
    k.principal_arn = std::string(principal_arn);
    k.secret_sha256_hex = key.sha256_hex;
    k.description = std::move(description);
    k.created_at = now;
    k.expires_at = out.expires_at;
    PERIMETER_RETURN_IF_ERROR(dir.store().CreateApiKey(k));
    out.id = key.key_id;
    out.secret = std::move(key.full_key);
  }
  return out;
}

Result<std::vector<CredentialInfo>> ListCredentials(Directory& dir,
                                                    std::string_view principal_arn) {
  std::vector<CredentialInfo> out;
  auto keys = dir.store().ListAccessKeys(principal_arn);
  if (!keys.ok()) return keys.status();
  for (const auto& k : *keys) {
    out.push_back({CredentialType::kAccessKey, k.access_key_id, k.principal_arn, k.description,
                   k.created_at, k.expires_at, k.revoked_at});
  }
  auto api = dir.store().ListApiKeys(principal_arn);
  if (!api.ok()) return api.status();
  for (const auto& k : *api) {
    out.push_back({CredentialType::kApiKey, k.key_id, k.principal_arn, k.description, k.created_at,
                   k.expires_at, k.revoked_at});
  }
  return out;
}

Status RevokeCredential(Directory& dir, std::string_view id) {
  if (StartsWith(id, "prm_")) return dir.store().RevokeApiKey(id, Now(dir));
  if (StartsWith(id, "AKIA")) return dir.store().RevokeAccessKey(id, Now(dir));
  return InvalidArgument("'" + std::string(id) +
                         "' is not a credential id: access keys start with AKIA, API keys with "
                         "prm_ (sessions end by expiry, or by revoking the key they came from)");
}

}  // namespace perimeter::iam
