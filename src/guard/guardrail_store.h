#pragma once

// GuardrailStore: guardrails created with the CLI (`perimeter guardrails create|version`), kept
// in <state_dir>/guardrails.db, shared by the CLI and running gateways.
//
// A guardrail has an id (12 lower-case letters and digits, as Bedrock makes them), a unique name,
// a DRAFT (its working definition, replaced by `update`) and numbered versions 1, 2, ... Each
// version is an immutable copy of the DRAFT at the time it was made, so a request pinned to
// version 3 is guarded the same way tomorrow. Definitions are stored as the canonical JSON of a
// CreateGuardrail body; the store does not interpret them (the caller validates first).
//
// Durability: SQLite in WAL mode with synchronous=FULL, one transaction per change, file mode
// 0600. ChangeCounter() tells a gateway cheaply that another process committed (sqlite::
// ChangeSignal), so a new version or an updated DRAFT is seen by the next request.
//
// Errors: NotFound (no such guardrail or version), AlreadyExists (name taken), InvalidArgument
// (malformed id or version), and the sqlite library's errors. Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sqlite/database.h"

namespace perimeter::guard {

struct GuardrailRecord {
  std::string id;
  std::string name;
  std::string draft_json;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  uint32_t latest_version = 0;  // 0 = no numbered version yet
};

struct GuardrailVersionRecord {
  std::string id;
  uint32_t version = 0;
  std::string description;
  std::string definition_json;
  int64_t created_at = 0;
};

// True for "DRAFT" or a version number 1-99999999 without leading zeros.
bool IsGuardrailVersion(std::string_view version);

class GuardrailStore {
 public:
  static Result<std::unique_ptr<GuardrailStore>> Open(const std::string& path);
  ~GuardrailStore();

  // A new guardrail with a fresh random id; `name` must not be taken.
  Result<GuardrailRecord> Create(std::string_view name, std::string_view definition_json,
                                 int64_t now);
  // Replaces the DRAFT (and the name, which must stay unique).
  Status UpdateDraft(std::string_view id, std::string_view name, std::string_view definition_json,
                     int64_t now);
  // Copies the DRAFT into the next numbered version and returns its number.
  Result<uint32_t> CreateVersion(std::string_view id, std::string_view description, int64_t now);
  // By id or by name.
  Result<GuardrailRecord> Get(std::string_view id_or_name);
  Result<std::vector<GuardrailRecord>> List();
  Result<std::vector<GuardrailVersionRecord>> Versions(std::string_view id);
  // "DRAFT" answers the draft (version 0 in the record).
  Result<GuardrailVersionRecord> GetVersion(std::string_view id, std::string_view version);
  // Deletes the guardrail and all its versions.
  Status Delete(std::string_view id);

  // Changes whenever any process has committed to the store since the last call.
  Result<uint64_t> ChangeCounter();

 private:
  explicit GuardrailStore(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}
  Result<GuardrailRecord> GetLocked(std::string_view id_or_name);
  Status Commit(std::string_view operation, const std::function<Status()>& body);

  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> db_;  // guarded by mu_
  std::unique_ptr<sqlite::ChangeSignal> changes_;
};

}  // namespace perimeter::guard
