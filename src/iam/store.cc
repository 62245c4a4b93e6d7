#include "iam/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <utility>

namespace perimeter::iam {

using sqlite::ColumnBlob;
using sqlite::ColumnText;
using sqlite::Statement;

namespace {

constexpr size_t kSha256HexChars = 64;

// ---- Schema ------------------------------------------------------------------------------------
//
// Version 1. Changing a table means a new version and a migration in InitSchema, never an edit
// here: databases written by this version exist on disk.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE schema_version (
  version INTEGER NOT NULL
);
CREATE TABLE principals (
  arn                 TEXT PRIMARY KEY NOT NULL,
  type                TEXT NOT NULL CHECK (type IN ('user', 'role')),
  account_id          TEXT NOT NULL,
  name                TEXT NOT NULL,
  unique_id           TEXT NOT NULL,
  tags_json           TEXT NOT NULL,  -- {"key": "value", ...}
  policies_json       TEXT NOT NULL,  -- ["<policy document>", ...]
  permission_boundary TEXT NOT NULL,  -- '' = none
  trust_policy        TEXT NOT NULL,  -- '' = none (users)
  max_session_seconds INTEGER NOT NULL,
  created_at          INTEGER NOT NULL
) WITHOUT ROWID;
-- Activation state of any principal ARN, including config-declared principals that have no row
-- in principals; no row = active.
CREATE TABLE principal_state (
  arn        TEXT PRIMARY KEY NOT NULL,
  active     INTEGER NOT NULL CHECK (active IN (0, 1)),
  changed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE access_keys (
  access_key_id TEXT PRIMARY KEY NOT NULL,
  principal_arn TEXT NOT NULL,
  sealed_secret BLOB NOT NULL,
  description   TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,  -- 0 = never
  revoked_at    INTEGER NOT NULL   -- 0 = not revoked
) WITHOUT ROWID;
CREATE INDEX access_keys_by_principal ON access_keys (principal_arn);
CREATE TABLE api_keys (
  key_id            TEXT PRIMARY KEY NOT NULL,
  principal_arn     TEXT NOT NULL,
  secret_sha256_hex TEXT NOT NULL,
  description       TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  revoked_at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_keys_by_principal ON api_keys (principal_arn);
)sql";

// ---- Statements --------------------------------------------------------------------------------

constexpr char kInsertPrincipal[] =
    "INSERT INTO principals (arn, type, account_id, name, unique_id, tags_json, policies_json, "
    "permission_boundary, trust_policy, max_session_seconds, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr char kSelectPrincipalByArn[] =
    "SELECT p.arn, p.type, p.account_id, p.name, p.unique_id, p.tags_json, p.policies_json, "
    "p.permission_boundary, p.trust_policy, p.max_session_seconds, p.created_at, "
    "COALESCE(s.active, 1) FROM principals p LEFT JOIN principal_state s ON s.arn = p.arn "
    "WHERE p.arn = ?1";
constexpr char kSelectAllPrincipals[] =
    "SELECT p.arn, p.type, p.account_id, p.name, p.unique_id, p.tags_json, p.policies_json, "
    "p.permission_boundary, p.trust_policy, p.max_session_seconds, p.created_at, "
    "COALESCE(s.active, 1) FROM principals p LEFT JOIN principal_state s ON s.arn = p.arn "
    "ORDER BY p.arn";
constexpr char kUpdatePrincipalTags[] = "UPDATE principals SET tags_json = ?2 WHERE arn = ?1";
constexpr char kUpsertPrincipalState[] =
    "INSERT INTO principal_state (arn, active, changed_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (arn) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at";
constexpr char kSelectPrincipalStates[] = "SELECT arn, active FROM principal_state ORDER BY arn";

constexpr char kInsertAccessKey[] =
    "INSERT INTO access_keys (access_key_id, principal_arn, sealed_secret, description, "
    "created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kSelectAccessKeyById[] =
    "SELECT access_key_id, principal_arn, sealed_secret, description, created_at, expires_at, "
    "revoked_at FROM access_keys WHERE access_key_id = ?1";
constexpr char kSelectAccessKeysByPrincipal[] =
    "SELECT access_key_id, principal_arn, sealed_secret, description, created_at, expires_at, "
    "revoked_at FROM access_keys WHERE (?1 = '' OR principal_arn = ?1) "
    "ORDER BY created_at, access_key_id";
// Revoking twice keeps the first time: the audit trail must not move.
constexpr char kRevokeAccessKey[] =
    "UPDATE access_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ?2 ELSE revoked_at END "
    "WHERE access_key_id = ?1";

constexpr char kInsertApiKey[] =
    "INSERT INTO api_keys (key_id, principal_arn, secret_sha256_hex, description, created_at, "
    "expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kSelectApiKeyById[] =
    "SELECT key_id, principal_arn, secret_sha256_hex, description, created_at, expires_at, "
    "revoked_at FROM api_keys WHERE key_id = ?1";
constexpr char kSelectApiKeysByPrincipal[] =
    "SELECT key_id, principal_arn, secret_sha256_hex, description, created_at, expires_at, "
    "revoked_at FROM api_keys WHERE (?1 = '' OR principal_arn = ?1) "
    "ORDER BY created_at, key_id";
constexpr char kRevokeApiKey[] =
    "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ?2 ELSE revoked_at END "
    "WHERE key_id = ?1";

constexpr char kSelectSchemaVersion[] = "SELECT version FROM schema_version";
constexpr char kCountTables[] =
    "SELECT count(*), coalesce(sum(name = 'schema_version'), 0) FROM sqlite_master "
    "WHERE type = 'table'";
constexpr char kInsertSchemaVersion[] = "INSERT INTO schema_version (version) VALUES (?1)";

// ---- Helpers -----------------------------------------------------------------------------------

std::string_view TypeName(PrincipalType t) { return t == PrincipalType::kRole ? "role" : "user"; }

std::string Quoted(std::string_view id) { return "\"" + std::string(id) + "\""; }

Status CheckBytes(std::string_view value, size_t max, std::string_view what, bool required) {
  if (required && value.empty()) {
    return InvalidArgument(std::string(what) + " is empty; it is required");
  }
  if (value.size() > max) {
    return InvalidArgument(std::string(what) + " is " + std::to_string(value.size()) +
                           " bytes, more than the limit of " + std::to_string(max) + " bytes");
  }
  return Status::Ok();
}

Status CheckTime(int64_t t, std::string_view what) {
  if (t < 0) {
    return InvalidArgument(std::string(what) + " is negative; times are unix seconds, 0 = unset");
  }
  return Status::Ok();
}

// Boost.JSON refuses to parse invalid UTF-8, so a value that does not survive serialize + parse
// would make its record unreadable later; refuse it on the way in instead.
Status CheckRoundTrips(const std::string& json, std::string_view what) {
  boost::system::error_code ec;
  (void)boost::json::parse(json, ec);
  if (ec) {
    return InvalidArgument(std::string(what) + " must be valid UTF-8 text");
  }
  return Status::Ok();
}

Result<std::string> TagsToJson(const std::map<std::string, std::string>& tags) {
  if (tags.size() > kMaxTags) {
    return InvalidArgument("a principal may have at most " + std::to_string(kMaxTags) +
                           " tags; got " + std::to_string(tags.size()));
  }
  boost::json::object obj;
  for (const auto& [key, value] : tags) {
    PERIMETER_RETURN_IF_ERROR(CheckBytes(key, kMaxTagKeyBytes, "a tag key", /*required=*/true));
    PERIMETER_RETURN_IF_ERROR(CheckBytes(value, kMaxTagValueBytes, "the value of tag " + key,
                                         /*required=*/false));
    obj[key] = value;
  }
  std::string json = boost::json::serialize(obj);
  PERIMETER_RETURN_IF_ERROR(CheckRoundTrips(json, "tag keys and values"));
  return json;
}

Result<std::string> PoliciesToJson(const std::vector<std::string>& policies) {
  if (policies.size() > kMaxPolicies) {
    return InvalidArgument("a principal may have at most " + std::to_string(kMaxPolicies) +
                           " identity policies; got " + std::to_string(policies.size()));
  }
  boost::json::array arr;
  for (size_t i = 0; i < policies.size(); ++i) {
    PERIMETER_RETURN_IF_ERROR(CheckBytes(policies[i], kMaxPolicyDocumentBytes,
                                         "identity policy " + std::to_string(i + 1),
                                         /*required=*/true));
    arr.emplace_back(policies[i]);
  }
  std::string json = boost::json::serialize(arr);
  PERIMETER_RETURN_IF_ERROR(CheckRoundTrips(json, "policy documents"));
  return json;
}

Status Damaged(std::string_view what, std::string_view id) {
  return Internal("the identity store holds an unreadable " + std::string(what) + " for " +
                  Quoted(id) +
                  "; the database file was modified outside perimeter or is damaged. Restore it "
                  "from a backup");
}

Result<std::map<std::string, std::string>> TagsFromJson(const std::string& json,
                                                        std::string_view arn) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) {
    return Damaged("tag set", arn);
  }
  std::map<std::string, std::string> tags;
  for (const auto& kv : v.get_object()) {
    if (!kv.value().is_string()) {
      return Damaged("tag set", arn);
    }
    tags.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return tags;
}

Result<std::vector<std::string>> PoliciesFromJson(const std::string& json, std::string_view arn) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_array()) {
    return Damaged("policy list", arn);
  }
  std::vector<std::string> policies;
  for (const auto& p : v.get_array()) {
    if (!p.is_string()) {
      return Damaged("policy list", arn);
    }
    policies.emplace_back(p.get_string());
  }
  return policies;
}

Status ValidatePrincipal(const PrincipalRecord& p) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(p.arn, kMaxArnBytes, "the principal ARN", true));
  if (p.type != PrincipalType::kUser && p.type != PrincipalType::kRole) {
    return InvalidArgument("principal " + Quoted(p.arn) + " has an unknown type");
  }
  if (p.source != PrincipalSource::kCli) {
    return InvalidArgument("principal " + Quoted(p.arn) +
                           " is declared in the config; config principals are read from the "
                           "config on every start and are not stored (only their activation "
                           "state is, with SetPrincipalActive)");
  }
  PERIMETER_RETURN_IF_ERROR(CheckBytes(p.account_id, kMaxIdentifierBytes, "the account id", true));
  PERIMETER_RETURN_IF_ERROR(CheckBytes(p.name, kMaxPrincipalNameBytes, "the principal name", true));
  PERIMETER_RETURN_IF_ERROR(CheckBytes(p.unique_id, kMaxIdentifierBytes, "the unique id", true));
  PERIMETER_RETURN_IF_ERROR(
      CheckBytes(p.permission_boundary, kMaxPolicyDocumentBytes, "the permission boundary", false));
  PERIMETER_RETURN_IF_ERROR(
      CheckBytes(p.trust_policy, kMaxPolicyDocumentBytes, "the trust policy", false));
  if (p.max_session_seconds < 0 || p.max_session_seconds > kMaxSessionSecondsLimit) {
    return InvalidArgument("max session duration " + std::to_string(p.max_session_seconds) +
                           " s is outside 0.." + std::to_string(kMaxSessionSecondsLimit) + " s");
  }
  return CheckTime(p.created_at, "created_at");
}

Status ValidateKeyCommon(std::string_view id, std::string_view principal_arn,
                         std::string_view description, int64_t created_at, int64_t expires_at,
                         int64_t revoked_at) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(id, kMaxIdentifierBytes, "the key id", true));
  PERIMETER_RETURN_IF_ERROR(CheckBytes(principal_arn, kMaxArnBytes, "the principal ARN", true));
  PERIMETER_RETURN_IF_ERROR(
      CheckBytes(description, kMaxDescriptionBytes, "the key description", false));
  PERIMETER_RETURN_IF_ERROR(CheckTime(created_at, "created_at"));
  PERIMETER_RETURN_IF_ERROR(CheckTime(expires_at, "expires_at"));
  return CheckTime(revoked_at, "revoked_at");
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool IsDuplicateKey(int rc) {
  return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE;
}

PrincipalRecord PrincipalFromRowWithoutJson(sqlite3_stmt* s) {
  PrincipalRecord p;
  p.arn = ColumnText(s, 0);
  p.account_id = ColumnText(s, 2);
  p.name = ColumnText(s, 3);
  p.unique_id = ColumnText(s, 4);
  p.permission_boundary = ColumnText(s, 7);
  p.trust_policy = ColumnText(s, 8);
  p.max_session_seconds = sqlite3_column_int64(s, 9);
  p.created_at = sqlite3_column_int64(s, 10);
  p.active = sqlite3_column_int64(s, 11) != 0;
  p.source = PrincipalSource::kCli;
  return p;
}

Result<PrincipalRecord> PrincipalFromRow(sqlite3_stmt* s) {
  PrincipalRecord p = PrincipalFromRowWithoutJson(s);
  const std::string type = ColumnText(s, 1);
  if (type == "user") {
    p.type = PrincipalType::kUser;
  } else if (type == "role") {
    p.type = PrincipalType::kRole;
  } else {
    return Damaged("principal type", p.arn);
  }
  Result<std::map<std::string, std::string>> tags = TagsFromJson(ColumnText(s, 5), p.arn);
  if (!tags.ok()) {
    return tags.status();
  }
  p.tags = std::move(*tags);
  Result<std::vector<std::string>> policies = PoliciesFromJson(ColumnText(s, 6), p.arn);
  if (!policies.ok()) {
    return policies.status();
  }
  p.policies = std::move(*policies);
  return p;
}

AccessKeyRecord AccessKeyFromRow(sqlite3_stmt* s) {
  AccessKeyRecord k;
  k.access_key_id = ColumnText(s, 0);
  k.principal_arn = ColumnText(s, 1);
  k.sealed_secret = ColumnBlob(s, 2);
  k.description = ColumnText(s, 3);
  k.created_at = sqlite3_column_int64(s, 4);
  k.expires_at = sqlite3_column_int64(s, 5);
  k.revoked_at = sqlite3_column_int64(s, 6);
  return k;
}

ApiKeyRecord ApiKeyFromRow(sqlite3_stmt* s) {
  ApiKeyRecord k;
  k.key_id = ColumnText(s, 0);
  k.principal_arn = ColumnText(s, 1);
  k.secret_sha256_hex = ColumnText(s, 2);
  k.description = ColumnText(s, 3);
  k.created_at = sqlite3_column_int64(s, 4);
  k.expires_at = sqlite3_column_int64(s, 5);
  k.revoked_at = sqlite3_column_int64(s, 6);
  return k;
}

}  // namespace

// ---- IdentityStore -----------------------------------------------------------------------------

IdentityStore::IdentityStore(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}

IdentityStore::~IdentityStore() = default;

Result<std::unique_ptr<IdentityStore>> IdentityStore::Open(const std::string& path) {
  Result<std::unique_ptr<sqlite::Connection>> db = sqlite::Connection::Open(path, "identity store");
  if (!db.ok()) {
    return db.status();
  }
  std::unique_ptr<IdentityStore> store(new IdentityStore(std::move(*db)));
  std::lock_guard<std::mutex> lock(store->mu_);
  PERIMETER_RETURN_IF_ERROR(store->InitSchema());
  Result<std::unique_ptr<sqlite::ChangeSignal>> changes = sqlite::ChangeSignal::Open(*store->db_);
  if (!changes.ok()) {
    return changes.status();
  }
  store->changes_ = std::move(*changes);
  return store;
}

Status IdentityStore::InTransaction(std::string_view operation,
                                    const std::function<Status()>& body) {
  PERIMETER_RETURN_IF_ERROR(db_->InTransaction(operation, body));
  if (changes_) {  // null only while Open creates the schema, before the signal is mapped
    changes_->NoteOwnWrite();
  }
  return Status::Ok();
}

Status IdentityStore::InitSchema() {
  return InTransaction("create or check the schema", [&]() -> Status {
    int64_t tables = 0;
    bool has_version_table = false;
    {
      Result<Statement> count = db_->Prepare(kCountTables, "inspect the schema");
      if (!count.ok()) {
        return count.status();
      }
      const int rc = count->Step();
      if (rc != SQLITE_ROW) {
        return db_->Error(rc, "inspect the schema");
      }
      tables = sqlite3_column_int64(count->get(), 0);
      has_version_table = sqlite3_column_int64(count->get(), 1) != 0;
    }
    if (tables == 0) {
      PERIMETER_RETURN_IF_ERROR(db_->Exec(kSchemaV1, "create the schema"));
      Result<Statement> insert = db_->Prepare(kInsertSchemaVersion, "record the schema version");
      if (!insert.ok()) {
        return insert.status();
      }
      insert->Bind(1, int64_t{kIdentityStoreSchemaVersion});
      const int rc = insert->Step();
      return rc == SQLITE_DONE ? Status::Ok() : db_->Error(rc, "record the schema version");
    }
    if (!has_version_table) {
      return FailedPrecondition("identity store " + db_->path() +
                                " is a SQLite database but not a perimeter identity store (it has "
                                "no schema_version table); point perimeter at its own state "
                                "directory");
    }
    Result<Statement> select = db_->Prepare(kSelectSchemaVersion, "read the schema version");
    if (!select.ok()) {
      return select.status();
    }
    const int rc = select->Step();
    if (rc != SQLITE_ROW) {
      return rc == SQLITE_DONE ? FailedPrecondition("identity store " + db_->path() +
                                                    " has an empty schema_version table; restore "
                                                    "the database from a backup")
                               : db_->Error(rc, "read the schema version");
    }
    const int64_t version = sqlite3_column_int64(select->get(), 0);
    if (version > kIdentityStoreSchemaVersion) {
      return FailedPrecondition(
          "identity store " + db_->path() + " has schema version " + std::to_string(version) +
          ", newer than version " + std::to_string(kIdentityStoreSchemaVersion) +
          " that this perimeter build understands; it was written by a newer perimeter. Run that "
          "version, or restore a backup taken before the upgrade");
    }
    if (version < 1) {
      return FailedPrecondition("identity store " + db_->path() + " has invalid schema version " +
                                std::to_string(version) + "; restore the database from a backup");
    }
    // Version 1 is current: nothing to migrate yet.
    return Status::Ok();
  });
}

Status IdentityStore::CreatePrincipal(const PrincipalRecord& p) {
  PERIMETER_RETURN_IF_ERROR(ValidatePrincipal(p));
  Result<std::string> tags = TagsToJson(p.tags);
  if (!tags.ok()) {
    return tags.status();
  }
  Result<std::string> policies = PoliciesToJson(p.policies);
  if (!policies.ok()) {
    return policies.status();
  }
  const std::string op = "create principal " + Quoted(p.arn);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    {
      Result<Statement> insert = db_->Prepare(kInsertPrincipal, op);
      if (!insert.ok()) {
        return insert.status();
      }
      insert->Bind(1, p.arn);
      insert->Bind(2, TypeName(p.type));
      insert->Bind(3, p.account_id);
      insert->Bind(4, p.name);
      insert->Bind(5, p.unique_id);
      insert->Bind(6, *tags);
      insert->Bind(7, *policies);
      insert->Bind(8, p.permission_boundary);
      insert->Bind(9, p.trust_policy);
      insert->Bind(10, p.max_session_seconds);
      insert->Bind(11, p.created_at);
      const int rc = insert->Step();
      if (IsDuplicateKey(rc)) {
        return AlreadyExists("principal " + Quoted(p.arn) +
                             " already exists in the identity store; choose another name");
      }
      if (rc != SQLITE_DONE) {
        return db_->Error(rc, op);
      }
    }
    if (p.active) {
      return Status::Ok();
    }
    Result<Statement> state = db_->Prepare(kUpsertPrincipalState, op);
    if (!state.ok()) {
      return state.status();
    }
    state->Bind(1, p.arn);
    state->Bind(2, int64_t{0});
    state->Bind(3, p.created_at);
    const int rc = state->Step();
    return rc == SQLITE_DONE ? Status::Ok() : db_->Error(rc, op);
  });
}

Result<std::vector<PrincipalRecord>> IdentityStore::QueryPrincipals(const char* sql,
                                                                    std::string_view arn) {
  const std::string op = arn.empty() ? "list principals" : "read principal " + Quoted(arn);
  Result<Statement> select = db_->Prepare(sql, op);
  if (!select.ok()) {
    return select.status();
  }
  if (!arn.empty()) {
    select->Bind(1, arn);
  }
  std::vector<PrincipalRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, op);
    }
    Result<PrincipalRecord> p = PrincipalFromRow(select->get());
    if (!p.ok()) {
      return p.status();
    }
    out.push_back(std::move(*p));
  }
}

Result<std::optional<PrincipalRecord>> IdentityStore::GetPrincipal(std::string_view arn) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(arn, kMaxArnBytes, "the principal ARN", true));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<PrincipalRecord>> rows = QueryPrincipals(kSelectPrincipalByArn, arn);
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<PrincipalRecord>();
  }
  return std::optional<PrincipalRecord>(std::move(rows->front()));
}

Result<std::vector<PrincipalRecord>> IdentityStore::ListPrincipals() {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryPrincipals(kSelectAllPrincipals, "");
}

Status IdentityStore::SetPrincipalTags(std::string_view arn,
                                       const std::map<std::string, std::string>& tags) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(arn, kMaxArnBytes, "the principal ARN", true));
  Result<std::string> json = TagsToJson(tags);
  if (!json.ok()) {
    return json.status();
  }
  const std::string op = "set tags of principal " + Quoted(arn);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> update = db_->Prepare(kUpdatePrincipalTags, op);
  if (!update.ok()) {
    return update.status();
  }
  update->Bind(1, arn);
  update->Bind(2, *json);
  const int rc = update->Step();
  if (rc != SQLITE_DONE) {
    return db_->Error(rc, op);
  }
  if (db_->Changes() == 0) {
    return NotFound("principal " + Quoted(arn) +
                    " is not in the identity store; config-declared principals get their tags "
                    "from the config");
  }
  changes_->NoteOwnWrite();
  return Status::Ok();
}

Status IdentityStore::SetPrincipalActive(std::string_view arn, bool active, int64_t now) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(arn, kMaxArnBytes, "the principal ARN", true));
  PERIMETER_RETURN_IF_ERROR(CheckTime(now, "the change time"));
  const std::string op =
      std::string(active ? "activate" : "deactivate") + " principal " + Quoted(arn);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> upsert = db_->Prepare(kUpsertPrincipalState, op);
  if (!upsert.ok()) {
    return upsert.status();
  }
  upsert->Bind(1, arn);
  upsert->Bind(2, int64_t{active ? 1 : 0});
  upsert->Bind(3, now);
  const int rc = upsert->Step();
  if (rc != SQLITE_DONE) {
    return db_->Error(rc, op);
  }
  changes_->NoteOwnWrite();
  return Status::Ok();
}

Result<std::map<std::string, bool>> IdentityStore::ListPrincipalStates() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectPrincipalStates, "list principal states");
  if (!select.ok()) {
    return select.status();
  }
  std::map<std::string, bool> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, "list principal states");
    }
    out.emplace(ColumnText(select->get(), 0), sqlite3_column_int64(select->get(), 1) != 0);
  }
}

Status IdentityStore::Revoke(const char* sql, std::string_view kind, std::string_view id,
                             int64_t now) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(id, kMaxIdentifierBytes, "the key id", true));
  if (now <= 0) {
    return InvalidArgument(
        "the revocation time must be positive unix seconds (0 means not "
        "revoked)");
  }
  const std::string op = "revoke " + std::string(kind) + " " + Quoted(id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> update = db_->Prepare(sql, op);
  if (!update.ok()) {
    return update.status();
  }
  update->Bind(1, id);
  update->Bind(2, now);
  const int rc = update->Step();
  if (rc != SQLITE_DONE) {
    return db_->Error(rc, op);
  }
  if (db_->Changes() == 0) {
    return NotFound(std::string(kind) + " " + Quoted(id) + " does not exist");
  }
  changes_->NoteOwnWrite();
  return Status::Ok();
}

Status IdentityStore::CreateAccessKey(const AccessKeyRecord& k) {
  PERIMETER_RETURN_IF_ERROR(ValidateKeyCommon(k.access_key_id, k.principal_arn, k.description,
                                              k.created_at, k.expires_at, k.revoked_at));
  PERIMETER_RETURN_IF_ERROR(
      CheckBytes(k.sealed_secret, kMaxSealedSecretBytes, "the sealed secret", true));
  const std::string op = "create access key " + Quoted(k.access_key_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> insert = db_->Prepare(kInsertAccessKey, op);
  if (!insert.ok()) {
    return insert.status();
  }
  insert->Bind(1, k.access_key_id);
  insert->Bind(2, k.principal_arn);
  insert->BindBlob(3, k.sealed_secret);
  insert->Bind(4, k.description);
  insert->Bind(5, k.created_at);
  insert->Bind(6, k.expires_at);
  insert->Bind(7, k.revoked_at);
  const int rc = insert->Step();
  if (IsDuplicateKey(rc)) {
    return AlreadyExists("access key " + Quoted(k.access_key_id) +
                         " already exists; generate a new key id");
  }
  if (rc != SQLITE_DONE) {
    return db_->Error(rc, op);
  }
  changes_->NoteOwnWrite();
  return Status::Ok();
}

Result<std::optional<AccessKeyRecord>> IdentityStore::GetAccessKey(std::string_view access_key_id) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(access_key_id, kMaxIdentifierBytes, "the key id", true));
  const std::string op = "read access key " + Quoted(access_key_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectAccessKeyById, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, access_key_id);
  const int rc = select->Step();
  if (rc == SQLITE_DONE) {
    return std::optional<AccessKeyRecord>();
  }
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, op);
  }
  return std::optional<AccessKeyRecord>(AccessKeyFromRow(select->get()));
}

Result<std::vector<AccessKeyRecord>> IdentityStore::ListAccessKeys(std::string_view principal_arn) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(principal_arn, kMaxArnBytes, "the principal ARN", false));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectAccessKeysByPrincipal, "list access keys");
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, principal_arn);
  std::vector<AccessKeyRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, "list access keys");
    }
    out.push_back(AccessKeyFromRow(select->get()));
  }
}

Status IdentityStore::RevokeAccessKey(std::string_view access_key_id, int64_t now) {
  return Revoke(kRevokeAccessKey, "access key", access_key_id, now);
}

Status IdentityStore::CreateApiKey(const ApiKeyRecord& k) {
  PERIMETER_RETURN_IF_ERROR(ValidateKeyCommon(k.key_id, k.principal_arn, k.description,
                                              k.created_at, k.expires_at, k.revoked_at));
  if (k.secret_sha256_hex.size() != kSha256HexChars || !IsLowerHex(k.secret_sha256_hex)) {
    return InvalidArgument("the API key hash must be " + std::to_string(kSha256HexChars) +
                           " lowercase hex characters (the SHA-256 of the whole key)");
  }
  const std::string op = "create API key " + Quoted(k.key_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> insert = db_->Prepare(kInsertApiKey, op);
  if (!insert.ok()) {
    return insert.status();
  }
  insert->Bind(1, k.key_id);
  insert->Bind(2, k.principal_arn);
  insert->Bind(3, k.secret_sha256_hex);
  insert->Bind(4, k.description);
  insert->Bind(5, k.created_at);
  insert->Bind(6, k.expires_at);
  insert->Bind(7, k.revoked_at);
  const int rc = insert->Step();
  if (IsDuplicateKey(rc)) {
    return AlreadyExists("API key " + Quoted(k.key_id) + " already exists; generate a new key id");
  }
  if (rc != SQLITE_DONE) {
    return db_->Error(rc, op);
  }
  changes_->NoteOwnWrite();
  return Status::Ok();
}

Result<std::optional<ApiKeyRecord>> IdentityStore::GetApiKey(std::string_view key_id) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(key_id, kMaxIdentifierBytes, "the key id", true));
  const std::string op = "read API key " + Quoted(key_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectApiKeyById, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, key_id);
  const int rc = select->Step();
  if (rc == SQLITE_DONE) {
    return std::optional<ApiKeyRecord>();
  }
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, op);
  }
  return std::optional<ApiKeyRecord>(ApiKeyFromRow(select->get()));
}

Result<std::vector<ApiKeyRecord>> IdentityStore::ListApiKeys(std::string_view principal_arn) {
  PERIMETER_RETURN_IF_ERROR(CheckBytes(principal_arn, kMaxArnBytes, "the principal ARN", false));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectApiKeysByPrincipal, "list API keys");
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, principal_arn);
  std::vector<ApiKeyRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, "list API keys");
    }
    out.push_back(ApiKeyFromRow(select->get()));
  }
}

Status IdentityStore::RevokeApiKey(std::string_view key_id, int64_t now) {
  return Revoke(kRevokeApiKey, "API key", key_id, now);
}

Result<uint64_t> IdentityStore::ChangeCounter() {
  std::lock_guard<std::mutex> lock(mu_);
  return changes_->Counter();
}

}  // namespace perimeter::iam
