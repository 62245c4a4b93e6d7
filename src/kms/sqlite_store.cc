#include "kms/sqlite_store.h"

#include <sqlite3.h>

#include <boost/json.hpp>
#include <map>
#include <utility>

namespace perimeter::kms {

using sqlite::ColumnBlob;
using sqlite::ColumnText;
using sqlite::Statement;

namespace {

// Ids in messages are cut to this many bytes (lookups take ids of any length).
constexpr size_t kMaxIdInMessageBytes = 160;

// ---- Schema ------------------------------------------------------------------------------------
//
// Version 1. Changing a table means a new version and a migration in InitSchema, never an edit
// here: databases written by this version exist on disk.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE schema_version (
  version INTEGER NOT NULL
);
CREATE TABLE keys (
  key_id                  TEXT PRIMARY KEY NOT NULL,
  arn                     TEXT NOT NULL,
  alias                   TEXT NOT NULL,  -- '' = none
  description             TEXT NOT NULL,
  tags_json               TEXT NOT NULL,  -- {"key": "value", ...}
  policy                  TEXT NOT NULL,
  state                   TEXT NOT NULL
                          CHECK (state IN ('Enabled', 'Disabled', 'PendingDeletion', 'Destroyed')),
  current_version         INTEGER NOT NULL CHECK (current_version >= 1),
  created_at              INTEGER NOT NULL,
  rotation_period_seconds INTEGER NOT NULL,  -- 0 = no automatic rotation
  next_rotation_at        INTEGER NOT NULL,  -- 0 = none scheduled
  last_rotated_at         INTEGER NOT NULL,  -- 0 = never
  deletion_date           INTEGER NOT NULL,  -- 0 = not pending deletion
  destroyed_at            INTEGER NOT NULL,  -- 0 = not destroyed
  backend                 TEXT NOT NULL
) WITHOUT ROWID;
-- An alias names at most one key; keys without one share ''.
CREATE UNIQUE INDEX keys_by_alias ON keys (alias) WHERE alias <> '';
-- Keys are never deleted (destruction leaves a tombstone), so versions always have their key.
CREATE TABLE key_versions (
  key_id           TEXT NOT NULL REFERENCES keys (key_id),
  version          INTEGER NOT NULL CHECK (version >= 1),
  wrapped_material BLOB NOT NULL,
  created_at       INTEGER NOT NULL,
  PRIMARY KEY (key_id, version)
) WITHOUT ROWID;
CREATE TABLE tenants (
  tenant_id  TEXT PRIMARY KEY NOT NULL,
  key_id     TEXT NOT NULL,
  role_arn   TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('Active', 'Deleted')),
  created_at INTEGER NOT NULL,
  deleted_at INTEGER NOT NULL  -- 0 = not deleted
) WITHOUT ROWID;
CREATE TABLE tenant_secrets (
  tenant_id  TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  ciphertext BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, purpose)
) WITHOUT ROWID;
-- A rowid table: values may be up to 1 MiB, too large for WITHOUT ROWID's in-index rows.
CREATE TABLE vault (
  tenant_id  TEXT NOT NULL,
  token      TEXT NOT NULL,
  entity     TEXT NOT NULL,
  ciphertext BLOB NOT NULL,  -- empty once erased
  created_at INTEGER NOT NULL,
  erased_at  INTEGER NOT NULL,  -- 0 = not erased
  PRIMARY KEY (tenant_id, token)
);
)sql";

// ---- Statements --------------------------------------------------------------------------------

#define PERIMETER_KEY_COLUMNS                                                                 \
  "key_id, arn, alias, description, tags_json, policy, state, current_version, created_at, "  \
  "rotation_period_seconds, next_rotation_at, last_rotated_at, deletion_date, destroyed_at, " \
  "backend"

constexpr char kInsertKey[] = "INSERT INTO keys (" PERIMETER_KEY_COLUMNS
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                              "?14, ?15)";
constexpr char kUpdateKey[] =
    "UPDATE keys SET arn = ?2, alias = ?3, description = ?4, tags_json = ?5, policy = ?6, "
    "state = ?7, current_version = ?8, created_at = ?9, rotation_period_seconds = ?10, "
    "next_rotation_at = ?11, last_rotated_at = ?12, deletion_date = ?13, destroyed_at = ?14, "
    "backend = ?15 WHERE key_id = ?1";
constexpr char kSelectKeyById[] = "SELECT " PERIMETER_KEY_COLUMNS " FROM keys WHERE key_id = ?1";
constexpr char kSelectKeyByAlias[] =
    "SELECT " PERIMETER_KEY_COLUMNS " FROM keys WHERE alias = ?1 AND alias <> ''";
constexpr char kSelectAllKeys[] =
    "SELECT " PERIMETER_KEY_COLUMNS " FROM keys ORDER BY created_at, key_id";

#undef PERIMETER_KEY_COLUMNS

constexpr char kInsertVersion[] =
    "INSERT INTO key_versions (key_id, version, wrapped_material, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr char kSelectVersions[] =
    "SELECT key_id, version, wrapped_material, created_at FROM key_versions WHERE key_id = ?1 "
    "ORDER BY version";
constexpr char kDeleteVersions[] = "DELETE FROM key_versions WHERE key_id = ?1";

constexpr char kInsertTenant[] =
    "INSERT INTO tenants (tenant_id, key_id, role_arn, state, created_at, deleted_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kUpdateTenant[] =
    "UPDATE tenants SET key_id = ?2, role_arn = ?3, state = ?4, created_at = ?5, deleted_at = ?6 "
    "WHERE tenant_id = ?1";
constexpr char kSelectTenant[] =
    "SELECT tenant_id, key_id, role_arn, state, created_at, deleted_at FROM tenants "
    "WHERE tenant_id = ?1";
constexpr char kSelectAllTenants[] =
    "SELECT tenant_id, key_id, role_arn, state, created_at, deleted_at FROM tenants "
    "ORDER BY tenant_id";

constexpr char kInsertSecret[] =
    "INSERT INTO tenant_secrets (tenant_id, purpose, ciphertext, created_at) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr char kSelectSecret[] =
    "SELECT tenant_id, purpose, ciphertext, created_at FROM tenant_secrets "
    "WHERE tenant_id = ?1 AND purpose = ?2";

constexpr char kInsertVaultEntry[] =
    "INSERT INTO vault (tenant_id, token, entity, ciphertext, created_at, erased_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kSelectVaultEntry[] =
    "SELECT tenant_id, token, entity, ciphertext, created_at, erased_at FROM vault "
    "WHERE tenant_id = ?1 AND token = ?2";
constexpr char kSelectVaultEntries[] =
    "SELECT tenant_id, token, entity, ciphertext, created_at, erased_at FROM vault "
    "WHERE tenant_id = ?1 ORDER BY token";
// Erasing twice keeps the first time: the record of when the value went must not move.
constexpr char kEraseVaultEntry[] =
    "UPDATE vault SET ciphertext = X'', "
    "erased_at = CASE WHEN erased_at = 0 THEN ?3 ELSE erased_at END "
    "WHERE tenant_id = ?1 AND token = ?2";

constexpr char kSelectSchemaVersion[] = "SELECT version FROM schema_version";
constexpr char kCountTables[] =
    "SELECT count(*), coalesce(sum(name = 'schema_version'), 0), "
    "coalesce(sum(name IN ('keys', 'key_versions', 'tenants', 'tenant_secrets', 'vault')), 0) "
    "FROM sqlite_master WHERE type = 'table'";
constexpr int64_t kKeyStoreTables = 5;  // the names in kCountTables' IN list
constexpr char kInsertSchemaVersion[] = "INSERT INTO schema_version (version) VALUES (?1)";

// ---- Helpers -----------------------------------------------------------------------------------

std::string Quoted(std::string_view id) {
  if (id.size() > kMaxIdInMessageBytes) {
    return "\"" + std::string(id.substr(0, kMaxIdInMessageBytes)) + "...\"";
  }
  return "\"" + std::string(id) + "\"";
}

std::string_view TenantStateName(TenantState s) {
  return s == TenantState::kDeleted ? "Deleted" : "Active";
}

bool IsDuplicate(int rc) {
  return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE;
}

Status Damaged(std::string_view what, std::string_view id) {
  return Internal("the key store holds an unreadable " + std::string(what) + " for " + Quoted(id) +
                  "; the database file was modified outside perimeter or is damaged. Restore it "
                  "from a backup");
}

// Boost.JSON refuses to parse invalid UTF-8, so a tag set that does not survive serialize + parse
// would make its key unreadable later; refuse it on the way in instead.
Result<std::string> TagsToJson(const KeyRecord& key) {
  boost::json::object obj;
  for (const auto& [k, v] : key.tags) {
    obj[k] = v;
  }
  std::string json = boost::json::serialize(obj);
  boost::system::error_code ec;
  (void)boost::json::parse(json, ec);
  if (ec) {
    return InvalidArgument("the tag keys and values of key " + Quoted(key.key_id) +
                           " must be valid UTF-8 text");
  }
  return json;
}

Result<std::map<std::string, std::string>> TagsFromJson(const std::string& json,
                                                        std::string_view key_id) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) {
    return Damaged("tag set", key_id);
  }
  std::map<std::string, std::string> tags;
  for (const auto& kv : v.get_object()) {
    if (!kv.value().is_string()) {
      return Damaged("tag set", key_id);
    }
    tags.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return tags;
}

// A version belongs to the key record written with it, and is its current version.
Status CheckVersionMatchesKey(const KeyRecord& key, const KeyVersionRecord& version,
                              std::string_view operation) {
  if (version.key_id != key.key_id) {
    return InvalidArgument(std::string(operation) + ": the version's key id " +
                           Quoted(version.key_id) + " differs from the key's");
  }
  if (version.version != key.current_version) {
    return InvalidArgument(std::string(operation) + ": the key's current_version " +
                           std::to_string(key.current_version) + " is not the new version " +
                           std::to_string(version.version) + "; set it to the version written");
  }
  return Status::Ok();
}

Result<KeyRecord> KeyFromRow(sqlite3_stmt* s) {
  KeyRecord k;
  k.key_id = ColumnText(s, 0);
  k.arn = ColumnText(s, 1);
  k.alias = ColumnText(s, 2);
  k.description = ColumnText(s, 3);
  Result<std::map<std::string, std::string>> tags = TagsFromJson(ColumnText(s, 4), k.key_id);
  if (!tags.ok()) {
    return tags.status();
  }
  k.tags = std::move(*tags);
  k.policy = ColumnText(s, 5);
  std::optional<KeyState> state = ParseKeyState(ColumnText(s, 6));
  if (!state.has_value()) {
    return Damaged("key state", k.key_id);
  }
  k.state = *state;
  const int64_t current = sqlite3_column_int64(s, 7);
  if (current < 1 || current > int64_t{UINT32_MAX}) {
    return Damaged("current version", k.key_id);
  }
  k.current_version = static_cast<uint32_t>(current);
  k.created_at = sqlite3_column_int64(s, 8);
  k.rotation_period_seconds = sqlite3_column_int64(s, 9);
  k.next_rotation_at = sqlite3_column_int64(s, 10);
  k.last_rotated_at = sqlite3_column_int64(s, 11);
  k.deletion_date = sqlite3_column_int64(s, 12);
  k.destroyed_at = sqlite3_column_int64(s, 13);
  k.backend = ColumnText(s, 14);
  return k;
}

Result<KeyVersionRecord> VersionFromRow(sqlite3_stmt* s) {
  KeyVersionRecord v;
  v.key_id = ColumnText(s, 0);
  const int64_t version = sqlite3_column_int64(s, 1);
  if (version < 1 || version > int64_t{UINT32_MAX}) {
    return Damaged("key version number", v.key_id);
  }
  v.version = static_cast<uint32_t>(version);
  v.wrapped_material = ColumnBlob(s, 2);
  v.created_at = sqlite3_column_int64(s, 3);
  return v;
}

Result<TenantRecord> TenantFromRow(sqlite3_stmt* s) {
  TenantRecord t;
  t.tenant_id = ColumnText(s, 0);
  t.key_id = ColumnText(s, 1);
  t.role_arn = ColumnText(s, 2);
  const std::string state = ColumnText(s, 3);
  if (state == TenantStateName(TenantState::kActive)) {
    t.state = TenantState::kActive;
  } else if (state == TenantStateName(TenantState::kDeleted)) {
    t.state = TenantState::kDeleted;
  } else {
    return Damaged("tenant state", t.tenant_id);
  }
  t.created_at = sqlite3_column_int64(s, 4);
  t.deleted_at = sqlite3_column_int64(s, 5);
  return t;
}

TenantSecretRecord SecretFromRow(sqlite3_stmt* s) {
  TenantSecretRecord r;
  r.tenant_id = ColumnText(s, 0);
  r.purpose = ColumnText(s, 1);
  r.ciphertext = ColumnBlob(s, 2);
  r.created_at = sqlite3_column_int64(s, 3);
  return r;
}

VaultEntry VaultEntryFromRow(sqlite3_stmt* s) {
  VaultEntry e;
  e.tenant_id = ColumnText(s, 0);
  e.token = ColumnText(s, 1);
  e.entity = ColumnText(s, 2);
  e.ciphertext = ColumnBlob(s, 3);
  e.created_at = sqlite3_column_int64(s, 4);
  e.erased_at = sqlite3_column_int64(s, 5);
  return e;
}

}  // namespace

// ---- Opening -----------------------------------------------------------------------------------

SqliteKeyStore::SqliteKeyStore(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}

SqliteKeyStore::~SqliteKeyStore() = default;

Result<std::unique_ptr<SqliteKeyStore>> SqliteKeyStore::Open(const std::string& path) {
  Result<std::unique_ptr<sqlite::Connection>> db = sqlite::Connection::Open(path, "key store");
  if (!db.ok()) {
    return db.status();
  }
  std::unique_ptr<SqliteKeyStore> store(new SqliteKeyStore(std::move(*db)));
  std::lock_guard<std::mutex> lock(store->mu_);
  PERIMETER_RETURN_IF_ERROR(store->Configure());
  PERIMETER_RETURN_IF_ERROR(store->InitSchema());
  Result<std::unique_ptr<sqlite::ChangeSignal>> changes = sqlite::ChangeSignal::Open(*store->db_);
  if (!changes.ok()) {
    return changes.status();
  }
  store->changes_ = std::move(*changes);
  return store;
}

Status SqliteKeyStore::Configure() {
  // Deleted and overwritten content (destroyed key versions, erased vault values) is zeroed in
  // the file instead of lingering in free space.
  Result<std::string> secure =
      db_->QueryPragma("PRAGMA secure_delete = ON", "enable secure delete");
  if (!secure.ok()) {
    return secure.status();
  }
  if (*secure != "1") {
    return Internal("key store " + db_->path() + ": SQLite refused secure_delete (it answered " +
                    *secure + "); perimeter needs a SQLite built with secure delete available");
  }
  return Status::Ok();
}

Status SqliteKeyStore::InitSchema() {
  return InTransaction("create or check the schema", [&]() -> Status {
    int64_t tables = 0;
    bool has_version_table = false;
    int64_t own_tables = 0;
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
      own_tables = sqlite3_column_int64(count->get(), 2);
    }
    if (tables == 0) {
      PERIMETER_RETURN_IF_ERROR(db_->Exec(kSchemaV1, "create the schema"));
      Result<Statement> insert = db_->Prepare(kInsertSchemaVersion, "record the schema version");
      if (!insert.ok()) {
        return insert.status();
      }
      insert->Bind(1, int64_t{kKeyStoreSchemaVersion});
      const int rc = insert->Step();
      return rc == SQLITE_DONE ? Status::Ok() : db_->Error(rc, "record the schema version");
    }
    const std::string foreign = "key store " + db_->path() +
                                " is a SQLite database but not a perimeter key store (it has no "
                                "schema_version table and KMS tables); point perimeter at its "
                                "own state directory";
    if (!has_version_table) {
      return FailedPrecondition(foreign);
    }
    Result<Statement> select = db_->Prepare(kSelectSchemaVersion, "read the schema version");
    if (!select.ok()) {
      return select.status();
    }
    const int rc = select->Step();
    if (rc != SQLITE_ROW) {
      return rc == SQLITE_DONE ? FailedPrecondition("key store " + db_->path() +
                                                    " has an empty schema_version table; restore "
                                                    "the database from a backup")
                               : db_->Error(rc, "read the schema version");
    }
    const int64_t version = sqlite3_column_int64(select->get(), 0);
    if (version > kKeyStoreSchemaVersion) {
      return FailedPrecondition(
          "key store " + db_->path() + " has schema version " + std::to_string(version) +
          ", newer than version " + std::to_string(kKeyStoreSchemaVersion) +
          " that this perimeter build understands; it was written by a newer perimeter. Run that "
          "version, or restore a backup taken before the upgrade");
    }
    if (version < 1) {
      return FailedPrecondition("key store " + db_->path() + " has invalid schema version " +
                                std::to_string(version) + "; restore the database from a backup");
    }
    // Another perimeter store (e.g. the identity store) also has a schema_version table.
    if (own_tables != kKeyStoreTables) {
      return FailedPrecondition(foreign);
    }
    // Version 1 is current: nothing to migrate yet.
    return Status::Ok();
  });
}

// ---- SQLite plumbing ---------------------------------------------------------------------------

Status SqliteKeyStore::InTransaction(std::string_view operation,
                                     const std::function<Status()>& body) {
  PERIMETER_RETURN_IF_ERROR(db_->InTransaction(operation, body));
  if (changes_) {  // null only while Open creates the schema, before the signal is mapped
    changes_->NoteOwnWrite();
  }
  return Status::Ok();
}

void SqliteKeyStore::CheckpointAndTruncateLog() {
  // secure_delete zeroes the rewritten pages, but until a checkpoint the previous page images
  // (holding the deleted bytes) stay in the -wal file and in the database file. TRUNCATE copies
  // every committed page into the database file and empties the log. It waits (busy timeout) for
  // readers of older snapshots; if one outlasts it, the next checkpoint finishes the job, and the
  // committed change stands either way.
  (void)sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                  nullptr);
}

Status SqliteKeyStore::StepWrite(Statement& stmt, std::string_view operation,
                                 const Status& duplicate) {
  const int rc = stmt.Step();
  if (IsDuplicate(rc)) {
    return duplicate;
  }
  return rc == SQLITE_DONE ? Status::Ok() : db_->Error(rc, operation);
}

// ---- Keys --------------------------------------------------------------------------------------

void SqliteKeyStore::BindKey(Statement& stmt, const KeyRecord& key, const std::string& tags_json) {
  stmt.Bind(1, key.key_id);
  stmt.Bind(2, key.arn);
  stmt.Bind(3, key.alias);
  stmt.Bind(4, key.description);
  stmt.Bind(5, tags_json);
  stmt.Bind(6, key.policy);
  stmt.Bind(7, KeyStateName(key.state));
  stmt.Bind(8, int64_t{key.current_version});
  stmt.Bind(9, key.created_at);
  stmt.Bind(10, key.rotation_period_seconds);
  stmt.Bind(11, key.next_rotation_at);
  stmt.Bind(12, key.last_rotated_at);
  stmt.Bind(13, key.deletion_date);
  stmt.Bind(14, key.destroyed_at);
  stmt.Bind(15, key.backend);
}

Status SqliteKeyStore::UpdateKeyRow(const KeyRecord& key, const std::string& tags_json,
                                    std::string_view operation) {
  Result<Statement> update = db_->Prepare(kUpdateKey, operation);
  if (!update.ok()) {
    return update.status();
  }
  BindKey(*update, key, tags_json);
  PERIMETER_RETURN_IF_ERROR(StepWrite(
      *update, operation,
      AlreadyExists(std::string(operation) + ": alias " + Quoted(key.alias) +
                    " already names another key; choose another alias or remove it from that "
                    "key first")));
  if (db_->Changes() == 0) {
    return NotFound(std::string(operation) + ": key " + Quoted(key.key_id) +
                    " is not in the key store");
  }
  return Status::Ok();
}

Status SqliteKeyStore::InsertVersion(const KeyVersionRecord& version, std::string_view operation) {
  Result<Statement> insert = db_->Prepare(kInsertVersion, operation);
  if (!insert.ok()) {
    return insert.status();
  }
  insert->Bind(1, version.key_id);
  insert->Bind(2, int64_t{version.version});
  insert->BindBlob(3, version.wrapped_material);
  insert->Bind(4, version.created_at);
  return StepWrite(*insert, operation,
                   AlreadyExists(std::string(operation) + ": key " + Quoted(version.key_id) +
                                 " already has version " + std::to_string(version.version) +
                                 "; reread the key and rotate from its current version"));
}

Status SqliteKeyStore::CreateKey(const KeyRecord& key, const KeyVersionRecord& first_version) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(key));
  PERIMETER_RETURN_IF_ERROR(CheckKeyVersionRecord(first_version));
  const std::string op = "create key " + Quoted(key.key_id);
  PERIMETER_RETURN_IF_ERROR(CheckVersionMatchesKey(key, first_version, op));
  Result<std::string> tags = TagsToJson(key);
  if (!tags.ok()) {
    return tags.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    {
      Result<Statement> insert = db_->Prepare(kInsertKey, op);
      if (!insert.ok()) {
        return insert.status();
      }
      BindKey(*insert, key, *tags);
      const int rc = insert->Step();
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists("key " + Quoted(key.key_id) +
                             " already exists in the key store; generate a new key id");
      }
      if (rc == SQLITE_CONSTRAINT_UNIQUE) {
        return AlreadyExists(op + ": alias " + Quoted(key.alias) +
                             " already names another key; choose another alias");
      }
      if (rc != SQLITE_DONE) {
        return db_->Error(rc, op);
      }
    }
    return InsertVersion(first_version, op);
  });
}

Result<std::vector<KeyRecord>> SqliteKeyStore::QueryKeys(const char* sql,
                                                         std::optional<std::string_view> arg,
                                                         std::string_view operation) {
  Result<Statement> select = db_->Prepare(sql, operation);
  if (!select.ok()) {
    return select.status();
  }
  if (arg.has_value()) {
    select->Bind(1, *arg);
  }
  std::vector<KeyRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, operation);
    }
    Result<KeyRecord> key = KeyFromRow(select->get());
    if (!key.ok()) {
      return key.status();
    }
    out.push_back(std::move(*key));
  }
}

Result<std::optional<KeyRecord>> SqliteKeyStore::GetKey(std::string_view key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<KeyRecord>> rows =
      QueryKeys(kSelectKeyById, key_id, "read key " + Quoted(key_id));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<KeyRecord>();
  }
  return std::optional<KeyRecord>(std::move(rows->front()));
}

Result<std::optional<KeyRecord>> SqliteKeyStore::GetKeyByAlias(std::string_view alias) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<KeyRecord>> rows =
      QueryKeys(kSelectKeyByAlias, alias, "read key by alias " + Quoted(alias));
  if (!rows.ok()) {
    return rows.status();
  }
  if (rows->empty()) {
    return std::optional<KeyRecord>();
  }
  return std::optional<KeyRecord>(std::move(rows->front()));
}

Result<std::vector<KeyRecord>> SqliteKeyStore::ListKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  return QueryKeys(kSelectAllKeys, std::nullopt, "list keys");
}

Status SqliteKeyStore::UpdateKey(const KeyRecord& key) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(key));
  Result<std::string> tags = TagsToJson(key);
  if (!tags.ok()) {
    return tags.status();
  }
  const std::string op = "update key " + Quoted(key.key_id);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status { return UpdateKeyRow(key, *tags, op); });
}

Status SqliteKeyStore::AddVersion(const KeyRecord& updated, const KeyVersionRecord& version) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(updated));
  PERIMETER_RETURN_IF_ERROR(CheckKeyVersionRecord(version));
  const std::string op =
      "add version " + std::to_string(version.version) + " to key " + Quoted(updated.key_id);
  PERIMETER_RETURN_IF_ERROR(CheckVersionMatchesKey(updated, version, op));
  Result<std::string> tags = TagsToJson(updated);
  if (!tags.ok()) {
    return tags.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    // The key first: an absent key is NotFound rather than a foreign-key failure.
    PERIMETER_RETURN_IF_ERROR(UpdateKeyRow(updated, *tags, op));
    return InsertVersion(version, op);
  });
}

Result<std::vector<KeyVersionRecord>> SqliteKeyStore::ListVersions(std::string_view key_id) {
  const std::string op = "list versions of key " + Quoted(key_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectVersions, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, key_id);
  std::vector<KeyVersionRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, op);
    }
    Result<KeyVersionRecord> version = VersionFromRow(select->get());
    if (!version.ok()) {
      return version.status();
    }
    out.push_back(std::move(*version));
  }
}

Status SqliteKeyStore::DestroyKey(const KeyRecord& tombstone) {
  PERIMETER_RETURN_IF_ERROR(CheckKeyRecord(tombstone));
  const std::string op = "destroy key " + Quoted(tombstone.key_id);
  if (tombstone.state != KeyState::kDestroyed) {
    return InvalidArgument(op + ": the tombstone's state is " +
                           std::string(KeyStateName(tombstone.state)) + "; it must be Destroyed");
  }
  Result<std::string> tags = TagsToJson(tombstone);
  if (!tags.ok()) {
    return tags.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(InTransaction(op, [&]() -> Status {
    PERIMETER_RETURN_IF_ERROR(UpdateKeyRow(tombstone, *tags, op));
    Result<Statement> del = db_->Prepare(kDeleteVersions, op);
    if (!del.ok()) {
      return del.status();
    }
    del->Bind(1, tombstone.key_id);
    const int rc = del->Step();
    return rc == SQLITE_DONE ? Status::Ok() : db_->Error(rc, op);
  }));
  CheckpointAndTruncateLog();
  return Status::Ok();
}

// ---- Tenants -----------------------------------------------------------------------------------

Status SqliteKeyStore::CreateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantRecord(tenant));
  const std::string op = "create tenant " + Quoted(tenant.tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    Result<Statement> insert = db_->Prepare(kInsertTenant, op);
    if (!insert.ok()) {
      return insert.status();
    }
    insert->Bind(1, tenant.tenant_id);
    insert->Bind(2, tenant.key_id);
    insert->Bind(3, tenant.role_arn);
    insert->Bind(4, TenantStateName(tenant.state));
    insert->Bind(5, tenant.created_at);
    insert->Bind(6, tenant.deleted_at);
    return StepWrite(
        *insert, op,
        AlreadyExists("tenant " + Quoted(tenant.tenant_id) + " already exists in the key store"));
  });
}

Result<std::optional<TenantRecord>> SqliteKeyStore::GetTenant(std::string_view tenant_id) {
  const std::string op = "read tenant " + Quoted(tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectTenant, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, tenant_id);
  const int rc = select->Step();
  if (rc == SQLITE_DONE) {
    return std::optional<TenantRecord>();
  }
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, op);
  }
  Result<TenantRecord> tenant = TenantFromRow(select->get());
  if (!tenant.ok()) {
    return tenant.status();
  }
  return std::optional<TenantRecord>(std::move(*tenant));
}

Result<std::vector<TenantRecord>> SqliteKeyStore::ListTenants() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectAllTenants, "list tenants");
  if (!select.ok()) {
    return select.status();
  }
  std::vector<TenantRecord> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, "list tenants");
    }
    Result<TenantRecord> tenant = TenantFromRow(select->get());
    if (!tenant.ok()) {
      return tenant.status();
    }
    out.push_back(std::move(*tenant));
  }
}

Status SqliteKeyStore::UpdateTenant(const TenantRecord& tenant) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantRecord(tenant));
  const std::string op = "update tenant " + Quoted(tenant.tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    Result<Statement> update = db_->Prepare(kUpdateTenant, op);
    if (!update.ok()) {
      return update.status();
    }
    update->Bind(1, tenant.tenant_id);
    update->Bind(2, tenant.key_id);
    update->Bind(3, tenant.role_arn);
    update->Bind(4, TenantStateName(tenant.state));
    update->Bind(5, tenant.created_at);
    update->Bind(6, tenant.deleted_at);
    const int rc = update->Step();
    if (rc != SQLITE_DONE) {
      return db_->Error(rc, op);
    }
    if (db_->Changes() == 0) {
      return NotFound(op + ": tenant " + Quoted(tenant.tenant_id) + " is not in the key store");
    }
    return Status::Ok();
  });
}

// ---- Tenant secrets ----------------------------------------------------------------------------

Status SqliteKeyStore::PutTenantSecret(const TenantSecretRecord& secret) {
  PERIMETER_RETURN_IF_ERROR(CheckTenantSecretRecord(secret));
  const std::string op =
      "store the " + Quoted(secret.purpose) + " secret of tenant " + Quoted(secret.tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    Result<Statement> insert = db_->Prepare(kInsertSecret, op);
    if (!insert.ok()) {
      return insert.status();
    }
    insert->Bind(1, secret.tenant_id);
    insert->Bind(2, secret.purpose);
    insert->BindBlob(3, secret.ciphertext);
    insert->Bind(4, secret.created_at);
    return StepWrite(*insert, op,
                     AlreadyExists("tenant " + Quoted(secret.tenant_id) + " already has a " +
                                   Quoted(secret.purpose) +
                                   " secret; secrets are written once, read the stored one"));
  });
}

Result<std::optional<TenantSecretRecord>> SqliteKeyStore::GetTenantSecret(
    std::string_view tenant_id, std::string_view purpose) {
  const std::string op = "read the " + Quoted(purpose) + " secret of tenant " + Quoted(tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectSecret, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, tenant_id);
  select->Bind(2, purpose);
  const int rc = select->Step();
  if (rc == SQLITE_DONE) {
    return std::optional<TenantSecretRecord>();
  }
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, op);
  }
  return std::optional<TenantSecretRecord>(SecretFromRow(select->get()));
}

// ---- Vault -------------------------------------------------------------------------------------

Status SqliteKeyStore::PutVaultEntry(const VaultEntry& entry) {
  PERIMETER_RETURN_IF_ERROR(CheckVaultEntry(entry));
  const std::string op =
      "store vault entry " + Quoted(entry.token) + " of tenant " + Quoted(entry.tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(op, [&]() -> Status {
    Result<Statement> insert = db_->Prepare(kInsertVaultEntry, op);
    if (!insert.ok()) {
      return insert.status();
    }
    insert->Bind(1, entry.tenant_id);
    insert->Bind(2, entry.token);
    insert->Bind(3, entry.entity);
    insert->BindBlob(4, entry.ciphertext);
    insert->Bind(5, entry.created_at);
    insert->Bind(6, entry.erased_at);
    return StepWrite(*insert, op,
                     AlreadyExists("tenant " + Quoted(entry.tenant_id) +
                                   " already has vault entry " + Quoted(entry.token)));
  });
}

Result<std::optional<VaultEntry>> SqliteKeyStore::GetVaultEntry(std::string_view tenant_id,
                                                                std::string_view token) {
  const std::string op = "read vault entry " + Quoted(token) + " of tenant " + Quoted(tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectVaultEntry, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, tenant_id);
  select->Bind(2, token);
  const int rc = select->Step();
  if (rc == SQLITE_DONE) {
    return std::optional<VaultEntry>();
  }
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, op);
  }
  return std::optional<VaultEntry>(VaultEntryFromRow(select->get()));
}

Result<std::vector<VaultEntry>> SqliteKeyStore::ListVaultEntries(std::string_view tenant_id) {
  const std::string op = "list vault entries of tenant " + Quoted(tenant_id);
  std::lock_guard<std::mutex> lock(mu_);
  Result<Statement> select = db_->Prepare(kSelectVaultEntries, op);
  if (!select.ok()) {
    return select.status();
  }
  select->Bind(1, tenant_id);
  std::vector<VaultEntry> out;
  for (;;) {
    const int rc = select->Step();
    if (rc == SQLITE_DONE) {
      return out;
    }
    if (rc != SQLITE_ROW) {
      return db_->Error(rc, op);
    }
    out.push_back(VaultEntryFromRow(select->get()));
  }
}

Status SqliteKeyStore::EraseVaultEntry(std::string_view tenant_id, std::string_view token,
                                       int64_t now) {
  const std::string op = "erase vault entry " + Quoted(token) + " of tenant " + Quoted(tenant_id);
  if (now <= 0) {
    return InvalidArgument(op +
                           ": the erasure time must be positive unix seconds (0 means not "
                           "erased)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(InTransaction(op, [&]() -> Status {
    Result<Statement> update = db_->Prepare(kEraseVaultEntry, op);
    if (!update.ok()) {
      return update.status();
    }
    update->Bind(1, tenant_id);
    update->Bind(2, token);
    update->Bind(3, now);
    const int rc = update->Step();
    if (rc != SQLITE_DONE) {
      return db_->Error(rc, op);
    }
    if (db_->Changes() == 0) {
      return NotFound(op + ": tenant " + Quoted(tenant_id) + " has no vault entry " +
                      Quoted(token));
    }
    return Status::Ok();
  }));
  CheckpointAndTruncateLog();
  return Status::Ok();
}

// ---- Change counter ----------------------------------------------------------------------------

Result<uint64_t> SqliteKeyStore::ChangeCounter() {
  std::lock_guard<std::mutex> lock(mu_);
  return changes_->Counter();
}

}  // namespace perimeter::kms
