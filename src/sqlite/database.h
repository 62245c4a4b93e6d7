#pragma once

// SQLite plumbing shared by the stores that keep their state in one SQLite database file in the
// state directory (iam::IdentityStore, kms::SqliteKeyStore): opening and configuring the file,
// prepared statements, transactions, and the mapping of SQLite result codes to Status.
//
// Each store keeps its own schema, statements and record mapping; this library knows none of
// them. Messages name the kind of store given to Open (`what`, e.g. "identity store") and the
// file's path, never a bound value.
//
// Errors (Connection::Error): Unavailable when the database stayed locked by another connection
// past the busy timeout (5 s) or the disk is full; FailedPrecondition when the database is
// read-only, not a database or corrupt; Internal for other SQLite failures.
//
// Not thread-safe: a Connection and the Statements it hands out must be used by one thread at a
// time; the stores guard theirs with a mutex.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace perimeter::sqlite {

// How long a connection waits for another connection's lock before failing with Unavailable.
inline constexpr int kBusyTimeoutMs = 5000;

// Creates the file at `path` with mode 0600 (O_EXCL, no symbolic link followed), or checks an
// existing one: it must be a regular file that group and others cannot access. FailedPrecondition
// otherwise, with a message naming `what` and saying how to fix it.
Status PrepareDatabaseFile(const std::string& path, std::string_view what);

// Column `i` of the current row as text or as bytes; empty for NULL.
std::string ColumnText(sqlite3_stmt* stmt, int i);
std::string ColumnBlob(sqlite3_stmt* stmt, int i);

// A cached prepared statement in use: binds parameters, steps, and on destruction resets it (and
// clears its bindings) so the next user starts clean and no read transaction stays open. Bind
// failures are remembered and returned by the first Step, so call sites check one result.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds text; an empty string stays an empty string (not NULL).
  void Bind(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void Bind(int index, int64_t value);

  // SQLITE_ROW, SQLITE_DONE or an (extended) error code.
  int Step();
  sqlite3_stmt* get() const { return stmt_; }

 private:
  void Remember(int rc);

  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // SQLITE_OK
};

// One open database connection with its prepared-statement cache.
class Connection {
 public:
  // Checks `path` (1 to 4096 bytes, no NUL), prepares the file (PrepareDatabaseFile), opens it
  // read-write without following symbolic links, and configures it: busy timeout, foreign keys
  // on, trusted_schema off, WAL journal (FailedPrecondition if SQLite keeps another mode, e.g. on
  // a network file system) and synchronous=FULL. `what` names the store in every message.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, std::string_view what);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The SQLite result code `rc` of `operation` as a Status (see the header comment).
  Status Error(int rc, std::string_view operation);
  // Runs SQL that returns no rows (one or several statements).
  Status Exec(const char* sql, std::string_view operation);
  // Runs a pragma that answers with one value and returns that value as text.
  Result<std::string> QueryPragma(const char* sql, std::string_view operation);
  // The prepared statement for `sql`, prepared on first use and cached for the connection's
  // lifetime. `sql` must be one statement.
  Result<Statement> Prepare(const char* sql, std::string_view operation);
  // `PRAGMA data_version`: changes when another connection has committed.
  Result<int64_t> ReadDataVersion();
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back if the body or the commit fails.
  // Ok means the transaction committed.
  Status InTransaction(std::string_view operation, const std::function<Status()>& body);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes();

  const std::string& path() const { return path_; }
  // For store-specific SQLite calls.
  sqlite3* handle() const { return db_; }

 private:
  Connection(sqlite3* db, std::string path, std::string_view what);

  sqlite3* db_;
  const std::string path_;
  const std::string what_;
  // Prepared once and reused; keyed by the statement's own copy of its SQL text.
  std::unordered_map<std::string_view, sqlite3_stmt*> statements_;
};

// Tells a store, cheaply, whether anybody has committed to its database since it last asked.
//
// Every writer increments an 8-byte counter in <db path>-version, mapped shared by every process,
// after it commits (NoteOwnWrite); reading it is an atomic load, so a store can ask on every
// request. SQLite's data_version is still read at least once a second, so a writer that bypasses
// the counter (a crash between commit and increment, an operator with `sqlite3`) is seen within
// a second. Without the file (it cannot be created or mapped), data_version is read every time.
// Not thread-safe: the owning store calls it under its own mutex.
class ChangeSignal {
 public:
  // Maps the counter file of `db` and reads its data_version. `db` must outlive this object.
  static Result<std::unique_ptr<ChangeSignal>> Open(Connection& db);
  ~ChangeSignal();
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;

  // After each commit of this connection: counts it and signals it to every other process.
  void NoteOwnWrite();
  // A value that changes whenever any connection has committed since the previous call (strictly
  // increasing), and stays the same otherwise.
  Result<uint64_t> Counter();

 private:
  explicit ChangeSignal(Connection& db) : db_(db) {}
  Connection& db_;
  int64_t last_data_version_ = 0;
  uint64_t generation_ = 0;
  uint64_t* shared_counter_ = nullptr;  // mmap of the version file, or null if unavailable
  uint64_t last_shared_ = 0;
  std::chrono::steady_clock::time_point next_data_version_check_{};
};

}  // namespace perimeter::sqlite
