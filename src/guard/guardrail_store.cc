#include "guard/guardrail_store.h"

#include <sqlite3.h>

#include <functional>

#include "crypto/random.h"

namespace perimeter::guard {

using sqlite::ColumnText;
using sqlite::Statement;

namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS guardrails (
  id             TEXT PRIMARY KEY NOT NULL,
  name           TEXT NOT NULL UNIQUE,
  draft_json     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  latest_version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS guardrail_versions (
  id              TEXT NOT NULL REFERENCES guardrails (id) ON DELETE CASCADE,
  version         INTEGER NOT NULL CHECK (version >= 1),
  description     TEXT NOT NULL,
  definition_json TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (id, version)
) WITHOUT ROWID;
)sql";

constexpr char kSelectColumns[] =
    "SELECT id, name, draft_json, created_at, updated_at, latest_version FROM guardrails ";

GuardrailRecord ReadRecord(sqlite3_stmt* st) {
  GuardrailRecord r;
  r.id = ColumnText(st, 0);
  r.name = ColumnText(st, 1);
  r.draft_json = ColumnText(st, 2);
  r.created_at = sqlite3_column_int64(st, 3);
  r.updated_at = sqlite3_column_int64(st, 4);
  r.latest_version = static_cast<uint32_t>(sqlite3_column_int64(st, 5));
  return r;
}

Result<std::string> NewGuardrailId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  while (id.size() < 12) {
    auto bytes = crypto::RandomBytes(16);
    if (!bytes.ok()) return bytes.status();
    for (unsigned char b : *bytes) {
      if (b < 252 && id.size() < 12) id.push_back(kAlphabet[b % 36]);  // 252 = 7 * 36: unbiased
    }
  }
  return id;
}

std::string Shown(std::string_view s) { return std::string(s.substr(0, 128)); }

}  // namespace

bool IsGuardrailVersion(std::string_view v) {
  if (v == "DRAFT") return true;
  if (v.empty() || v.size() > 8 || v[0] == '0') return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

GuardrailStore::~GuardrailStore() = default;

Result<std::unique_ptr<GuardrailStore>> GuardrailStore::Open(const std::string& path) {
  auto db = sqlite::Connection::Open(path, "guardrail store");
  if (!db.ok()) return db.status();
  std::unique_ptr<GuardrailStore> store(new GuardrailStore(std::move(*db)));
  PERIMETER_RETURN_IF_ERROR(store->db_->Exec(kSchema, "create the schema"));
  auto changes = sqlite::ChangeSignal::Open(*store->db_);
  if (!changes.ok()) return changes.status();
  store->changes_ = std::move(*changes);
  return store;
}

Status GuardrailStore::Commit(std::string_view operation, const std::function<Status()>& body) {
  Status s = db_->InTransaction(operation, body);
  if (s.ok()) changes_->NoteOwnWrite();
  return s;
}

Result<GuardrailRecord> GuardrailStore::Create(std::string_view name,
                                               std::string_view definition_json, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  GuardrailRecord r;
  auto id = NewGuardrailId();
  if (!id.ok()) return id.status();
  r.id = *id;
  r.name = std::string(name);
  r.draft_json = std::string(definition_json);
  r.created_at = r.updated_at = now;
  Status s = Commit("create a guardrail", [&]() -> Status {
    auto taken = GetLocked(name);
    if (taken.ok()) {
      return AlreadyExists("a guardrail named '" + Shown(name) + "' already exists (id " +
                           taken->id + "); choose another name or update that one");
    }
    if (taken.status().code() != StatusCode::kNotFound) return taken.status();
    auto st = db_->Prepare(
        "INSERT INTO guardrails (id, name, draft_json, created_at, updated_at, latest_version) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        "create a guardrail");
    if (!st.ok()) return st.status();
    st->Bind(1, r.id);
    st->Bind(2, r.name);
    st->Bind(3, r.draft_json);
    st->Bind(4, now);
    st->Bind(5, now);
    int rc = st->Step();
    if (rc != SQLITE_DONE) return db_->Error(rc, "create a guardrail");
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return r;
}

Status GuardrailStore::UpdateDraft(std::string_view id, std::string_view name,
                                   std::string_view definition_json, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  return Commit("update a guardrail", [&]() -> Status {
    auto current = GetLocked(id);
    if (!current.ok()) return current.status();
    if (current->id != id) return NotFound("no guardrail with id '" + Shown(id) + "'");
    auto other = GetLocked(name);
    if (other.ok() && other->id != current->id) {
      return AlreadyExists("a guardrail named '" + Shown(name) + "' already exists (id " +
                           other->id + ")");
    }
    auto st = db_->Prepare(
        "UPDATE guardrails SET name = ?, draft_json = ?, updated_at = ? "
        "WHERE id = ?",
        "update a guardrail");
    if (!st.ok()) return st.status();
    st->Bind(1, name);
    st->Bind(2, definition_json);
    st->Bind(3, now);
    st->Bind(4, id);
    int rc = st->Step();
    if (rc != SQLITE_DONE) return db_->Error(rc, "update a guardrail");
    return Status::Ok();
  });
}

Result<uint32_t> GuardrailStore::CreateVersion(std::string_view id, std::string_view description,
                                               int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t version = 0;
  Status s = Commit("create a guardrail version", [&]() -> Status {
    auto current = GetLocked(id);
    if (!current.ok()) return current.status();
    if (current->id != id) return NotFound("no guardrail with id '" + Shown(id) + "'");
    version = current->latest_version + 1;
    auto ins = db_->Prepare(
        "INSERT INTO guardrail_versions (id, version, description, definition_json, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        "create a guardrail version");
    if (!ins.ok()) return ins.status();
    ins->Bind(1, id);
    ins->Bind(2, static_cast<int64_t>(version));
    ins->Bind(3, description);
    ins->Bind(4, current->draft_json);
    ins->Bind(5, now);
    int rc = ins->Step();
    if (rc != SQLITE_DONE) return db_->Error(rc, "create a guardrail version");
    auto up = db_->Prepare("UPDATE guardrails SET latest_version = ? WHERE id = ?",
                           "create a guardrail version");
    if (!up.ok()) return up.status();
    up->Bind(1, static_cast<int64_t>(version));
    up->Bind(2, id);
    rc = up->Step();
    if (rc != SQLITE_DONE) return db_->Error(rc, "create a guardrail version");
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return version;
}

Result<GuardrailRecord> GuardrailStore::GetLocked(std::string_view id_or_name) {
  static const std::string kSql = std::string(kSelectColumns) + "WHERE id = ? OR name = ?";
  auto st = db_->Prepare(kSql.c_str(), "read a guardrail");
  if (!st.ok()) return st.status();
  st->Bind(1, id_or_name);
  st->Bind(2, id_or_name);
  int rc = st->Step();
  if (rc == SQLITE_DONE) {
    return NotFound("no guardrail with id or name '" + Shown(id_or_name) +
                    "'; `perimeter guardrails list` shows them");
  }
  if (rc != SQLITE_ROW) return db_->Error(rc, "read a guardrail");
  return ReadRecord(st->get());
}

Result<GuardrailRecord> GuardrailStore::Get(std::string_view id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetLocked(id_or_name);
}

Result<std::vector<GuardrailRecord>> GuardrailStore::List() {
  std::lock_guard<std::mutex> lock(mu_);
  static const std::string kSql = std::string(kSelectColumns) + "ORDER BY name";
  auto st = db_->Prepare(kSql.c_str(), "list guardrails");
  if (!st.ok()) return st.status();
  std::vector<GuardrailRecord> out;
  for (;;) {
    int rc = st->Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return db_->Error(rc, "list guardrails");
    out.push_back(ReadRecord(st->get()));
  }
  return out;
}

Result<std::vector<GuardrailVersionRecord>> GuardrailStore::Versions(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = db_->Prepare(
      "SELECT id, version, description, definition_json, created_at FROM guardrail_versions "
      "WHERE id = ? ORDER BY version",
      "list guardrail versions");
  if (!st.ok()) return st.status();
  st->Bind(1, id);
  std::vector<GuardrailVersionRecord> out;
  for (;;) {
    int rc = st->Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return db_->Error(rc, "list guardrail versions");
    GuardrailVersionRecord v;
    v.id = ColumnText(st->get(), 0);
    v.version = static_cast<uint32_t>(sqlite3_column_int64(st->get(), 1));
    v.description = ColumnText(st->get(), 2);
    v.definition_json = ColumnText(st->get(), 3);
    v.created_at = sqlite3_column_int64(st->get(), 4);
    out.push_back(std::move(v));
  }
  return out;
}

Result<GuardrailVersionRecord> GuardrailStore::GetVersion(std::string_view id,
                                                          std::string_view version) {
  if (!IsGuardrailVersion(version)) {
    return InvalidArgument("'" + Shown(version) +
                           "' is not a guardrail version: DRAFT or a number such as 1");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto g = GetLocked(id);
  if (!g.ok()) return g.status();
  GuardrailVersionRecord v;
  v.id = g->id;
  if (version == "DRAFT") {
    v.definition_json = g->draft_json;
    v.created_at = g->updated_at;
    return v;
  }
  auto st = db_->Prepare(
      "SELECT description, definition_json, created_at FROM guardrail_versions "
      "WHERE id = ? AND version = ?",
      "read a guardrail version");
  if (!st.ok()) return st.status();
  st->Bind(1, g->id);
  st->Bind(2, static_cast<int64_t>(std::stoul(std::string(version))));
  int rc = st->Step();
  if (rc == SQLITE_DONE) {
    return NotFound(
        "guardrail " + g->id + " has no version " + std::string(version) + " (latest: " +
        (g->latest_version ? std::to_string(g->latest_version) : "none, only DRAFT") + ")");
  }
  if (rc != SQLITE_ROW) return db_->Error(rc, "read a guardrail version");
  v.version = static_cast<uint32_t>(std::stoul(std::string(version)));
  v.description = ColumnText(st->get(), 0);
  v.definition_json = ColumnText(st->get(), 1);
  v.created_at = sqlite3_column_int64(st->get(), 2);
  return v;
}

Status GuardrailStore::Delete(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Commit("delete a guardrail", [&]() -> Status {
    auto g = GetLocked(id);
    if (!g.ok()) return g.status();
    auto st = db_->Prepare("DELETE FROM guardrails WHERE id = ?", "delete a guardrail");
    if (!st.ok()) return st.status();
    st->Bind(1, g->id);
    int rc = st->Step();
    if (rc != SQLITE_DONE) return db_->Error(rc, "delete a guardrail");
    return Status::Ok();
  });
}

Result<uint64_t> GuardrailStore::ChangeCounter() {
  std::lock_guard<std::mutex> lock(mu_);
  return changes_->Counter();
}

}  // namespace perimeter::guard
