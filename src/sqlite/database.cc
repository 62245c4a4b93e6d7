#include "sqlite/database.h"

#include <sys/mman.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace perimeter::sqlite {
namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr char kDataVersion[] = "PRAGMA data_version";

}  // namespace

// ---- Free helpers ------------------------------------------------------------------------------

// Creates the file with mode 0600 before SQLite sees it (SQLite would create it with 0644 minus
// the umask, and gives its -wal and -shm files the main file's mode), or checks an existing one.
Status PrepareDatabaseFile(const std::string& path, std::string_view what) {
  const std::string kind(what);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    const bool ok = ::fchmod(fd, 0600) == 0;  // the umask can only have removed bits
    const int err = errno;
    ::close(fd);
    if (!ok) {
      return Internal("cannot set mode 0600 on new " + kind + " " + path + ": " +
                      std::strerror(err));
    }
    return Status::Ok();
  }
  const int err = errno;
  if (err != EEXIST) {
    return FailedPrecondition("cannot create " + kind + " " + path + ": " + std::strerror(err) +
                              "; check that the state directory exists and is writable by the "
                              "user running perimeter");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return FailedPrecondition("cannot stat " + kind + " " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition(kind + " " + path +
                              " is not a regular file (symbolic links are refused); move it "
                              "aside or point the state directory elsewhere");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(kind + " " + path + " has mode " + mode +
                              ", which lets group or others access it; run `chmod 600 " + path +
                              "` (and the same for its -wal and -shm files if present)");
  }
  return Status::Ok();
}

std::string ColumnText(sqlite3_stmt* stmt, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
}

std::string ColumnBlob(sqlite3_stmt* stmt, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
}

// ---- Statement ---------------------------------------------------------------------------------

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

void Statement::Bind(int index, std::string_view text) {
  // A null data pointer would bind SQL NULL; an empty string must stay an empty string.
  Remember(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  Remember(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                               SQLITE_TRANSIENT));
}

void Statement::Bind(int index, int64_t value) {
  Remember(sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value)));
}

int Statement::Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }

void Statement::Remember(int rc) {
  if (bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
  }
}

// ---- Connection --------------------------------------------------------------------------------

Connection::Connection(sqlite3* db, std::string path, std::string_view what)
    : db_(db), path_(std::move(path)), what_(what) {}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     std::string_view what) {
  const std::string kind(what);
  if (path.empty() || path.size() > kMaxPathBytes || path.find('\0') != std::string::npos) {
    return InvalidArgument("the " + kind + " path must be 1 to " + std::to_string(kMaxPathBytes) +
                           " bytes without NUL bytes");
  }
  PERIMETER_RETURN_IF_ERROR(PrepareDatabaseFile(path, what));

  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return FailedPrecondition("cannot open " + kind + " " + path + ": " + message);
  }
  std::unique_ptr<Connection> conn(new Connection(db, path, what));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  PERIMETER_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
  PERIMETER_RETURN_IF_ERROR(conn->Exec("PRAGMA trusted_schema = OFF", "distrust the schema"));
  // journal_mode answers with the mode now in effect; WAL can be refused (e.g. on a network file
  // system without shared memory), and silently running without it would change the concurrency
  // contract. Reading the mode is also the first read of the file: a file that is not a database
  // fails here.
  Result<std::string> mode = conn->QueryPragma("PRAGMA journal_mode = WAL", "enable WAL");
  if (!mode.ok()) {
    return mode.status();
  }
  if (*mode != "wal") {
    return FailedPrecondition(kind + " " + path +
                              " cannot use write-ahead logging (journal mode stayed " + *mode +
                              "); keep the state directory on a local file system");
  }
  PERIMETER_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = FULL", "set synchronous"));
  return conn;
}

Status Connection::Error(int rc, std::string_view operation) {
  const std::string where = what_ + " " + path_ + ": " + std::string(operation);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(where +
                         ": the database stayed locked by another connection for more "
                         "than " +
                         std::to_string(kBusyTimeoutMs / 1000) +
                         " s; retry, and check for a stuck perimeter process");
    case SQLITE_FULL:
      return Unavailable(where + ": the disk is full; free space in the state directory");
    case SQLITE_READONLY:
      return FailedPrecondition(where + ": the database is read-only (" + sqlite3_errmsg(db_) +
                                "); check the permissions of the file, its -wal and -shm files "
                                "and the state directory");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return FailedPrecondition(where + ": the file is not a usable SQLite database (" +
                                sqlite3_errmsg(db_) + "); restore it from a backup");
    default:
      return Internal(where + " failed: " + sqlite3_errmsg(db_) + " (SQLite code " +
                      std::to_string(rc) + ")");
  }
}

Status Connection::Exec(const char* sql, std::string_view operation) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : Error(rc, operation);
}

Result<std::string> Connection::QueryPragma(const char* sql, std::string_view operation) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
  }
  if (rc != SQLITE_ROW) {
    Status st = Error(rc == SQLITE_DONE ? SQLITE_ERROR : rc, operation);
    sqlite3_finalize(stmt);
    return st;
  }
  std::string value = ColumnText(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

Result<Statement> Connection::Prepare(const char* sql, std::string_view operation) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    return Statement(it->second);
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, operation);
  }
  // Key by the statement's own copy of the text, which lives as long as the statement.
  statements_.emplace(std::string_view(sqlite3_sql(stmt)), stmt);
  return Statement(stmt);
}

Result<int64_t> Connection::ReadDataVersion() {
  Result<Statement> stmt = Prepare(kDataVersion, "read the data version");
  if (!stmt.ok()) {
    return stmt.status();
  }
  const int rc = stmt->Step();
  if (rc != SQLITE_ROW) {
    return Error(rc, "read the data version");
  }
  return static_cast<int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

Status Connection::InTransaction(std::string_view operation, const std::function<Status()>& body) {
  // IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so the body cannot
  // fail half-way with SQLITE_BUSY when upgrading from a read.
  PERIMETER_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", operation));
  Status st = body();
  if (st.ok()) {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      return Status::Ok();
    }
    st = Error(rc, operation);
  }
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return st;
}

int64_t Connection::Changes() { return sqlite3_changes(db_); }

Result<std::unique_ptr<ChangeSignal>> ChangeSignal::Open(Connection& db) {
  std::unique_ptr<ChangeSignal> signal(new ChangeSignal(db));
  Result<int64_t> version = db.ReadDataVersion();
  if (!version.ok()) {
    return version.status();
  }
  signal->last_data_version_ = *version;
  const std::string file = db.path() + "-version";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 &&
        (st.st_size >= static_cast<off_t>(sizeof(uint64_t)) ||
         ::ftruncate(fd, sizeof(uint64_t)) == 0)) {
      map = ::mmap(nullptr, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    ::close(fd);
    if (map != MAP_FAILED) {
      signal->shared_counter_ = static_cast<uint64_t*>(map);
      signal->last_shared_ = __atomic_load_n(signal->shared_counter_, __ATOMIC_SEQ_CST);
    }
  }
  signal->next_data_version_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  return signal;
}

ChangeSignal::~ChangeSignal() {
  if (shared_counter_ != nullptr) {
    ::munmap(shared_counter_, sizeof(uint64_t));
  }
}

void ChangeSignal::NoteOwnWrite() {
  ++generation_;  // this connection's commits do not move its own data_version
  if (shared_counter_ != nullptr) {
    __atomic_add_fetch(shared_counter_, 1, __ATOMIC_SEQ_CST);
  }
}

Result<uint64_t> ChangeSignal::Counter() {
  if (shared_counter_ != nullptr) {
    // Fast path: another process's commit is announced through the shared counter; the
    // database itself is read only when it moved, or once a second as a safety net.
    const uint64_t shared = __atomic_load_n(shared_counter_, __ATOMIC_SEQ_CST);
    const auto now = std::chrono::steady_clock::now();
    if (shared == last_shared_ && now < next_data_version_check_) {
      return generation_;
    }
    if (shared != last_shared_) {
      last_shared_ = shared;
      ++generation_;
    }
    next_data_version_check_ = now + std::chrono::seconds(1);
  }
  // data_version changes when another connection commits; own commits are counted by
  // NoteOwnWrite. Folding both into one generation keeps the result strictly increasing.
  Result<int64_t> version = db_.ReadDataVersion();
  if (!version.ok()) {
    return version.status();
  }
  if (*version != last_data_version_) {
    last_data_version_ = *version;
    ++generation_;
  }
  return generation_;
}

}  // namespace perimeter::sqlite
