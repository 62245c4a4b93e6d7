#pragma once

// The audit-log subcommands: `perimeter audit ...`.
//
// verify, prove and consistency read only the log's files (and the checkpoint public key), so an
// auditor can run them on a copy of the directory (--dir) without the state directory or the
// KMS. query reads the files too. checkpoint, public-key, prune, export and attest open the
// deployment (its KMS holds the checkpoint key); prune, export and attest are recorded in the
// log as admin actions before they take effect or release anything, and fail when the record
// cannot be written.
//
// Output is JSON (attest can also write Markdown). Exit codes: 0 success (verify: the log
// verifies; attest: every key use was the tenant's own), 1 a negative finding (verify: the log
// does not verify; attest: a foreign key use), 2 bad input or an operation that failed.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace perimeter::kms {
struct KmsRuntime;
}

namespace perimeter::cli {

// Appends the admin event of a CLI action (api::AdminEvent: the operator as the account root,
// `parameters_json` a JSON object of ids and settings, never secrets or personal data) to the
// deployment's audit log and waits until it is durable. Unavailable when it cannot be written:
// the caller must then not act (or, if it already did, fail and say so).
Status RecordAdminAction(const kms::KmsRuntime& rt, std::string_view event_name,
                         std::string_view resource_arn, std::string parameters_json,
                         const Status& outcome, std::string_view tenant);

// `text` to standard output, or to the file `out` (created or truncated, mode 0600, fsynced).
Status EmitOutput(const std::string& out, std::string_view text);

class AuditCommands {
 public:
  void Register(CLI::App& app);
  std::optional<int> Run();

 private:
  int Verify();
  int Prove();
  int Consistency();
  int PublicKey();
  int Checkpoint();
  int Prune();
  int QueryOrExport(bool do_export);
  int Attest();

  std::string config_path_;
  std::string dir_;
  std::string public_key_;
  std::string event_id_;
  uint64_t tree_size_ = 0;
  CLI::Option* tree_size_opt_ = nullptr;
  uint64_t from_ = 0;
  uint64_t to_ = 0;
  std::string tenant_, principal_, event_name_, model_, decision_, request_id_, since_, until_;
  size_t limit_ = 0;
  std::string out_;
  std::string format_ = "json";

  CLI::App* verify_ = nullptr;
  CLI::App* prove_ = nullptr;
  CLI::App* consistency_ = nullptr;
  CLI::App* public_key_cmd_ = nullptr;
  CLI::App* checkpoint_ = nullptr;
  CLI::App* prune_ = nullptr;
  CLI::App* query_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* attest_ = nullptr;
};

}  // namespace perimeter::cli
