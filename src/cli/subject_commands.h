#pragma once

// Data-subject requests: `perimeter subject export|erase`.
//
// A subject is named by identifiers (an e-mail address, a phone number, an account number...).
// Each identifier is hashed into the tenant's vault tokens, one per entity type the guardrail
// engine knows (Vault::FindToken; also the identifier trimmed, and what the engine's scanner
// finds in it), and only the tokens that exist are kept. Identifiers themselves are never
// printed, recorded or put in an error message: only tokens and entity types are.
//
//   export  writes what is held about the subject: the tokens (with entity, creation and erasure
//           dates), the values behind them (revealed through the vault: authorized and recorded),
//           the access-log lines and the invocation records of the tenant that contain a token.
//           Audit events never hold content or tokens, so none are listed. The document is the
//           subject's data: write it with --out (mode 0600).
//   erase   erases the value behind every token found (the tokens remain, marked erased).
//
// Both are recorded in the audit log (SubjectExport / SubjectErase, with the tokens, never the
// values) before anything is printed; a request that cannot be recorded fails. Exit codes: 0
// success, 1 erase found nothing to erase, 2 bad input or an operation that failed.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace perimeter::cli {

class SubjectCommands {
 public:
  void Register(CLI::App& app);
  std::optional<int> Run();

 private:
  int Export();
  int Erase();

  std::string config_path_;
  std::string tenant_;
  std::vector<std::string> identifiers_;
  std::string out_;

  CLI::App* export_ = nullptr;
  CLI::App* erase_ = nullptr;
};

}  // namespace perimeter::cli
