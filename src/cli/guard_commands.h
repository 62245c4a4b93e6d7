#pragma once

// The guardrail subcommands:
//   perimeter guardrails create|update|version|list|get|delete   (guardrails.db, as Bedrock's
//                                                                 CreateGuardrail & co.)
//   perimeter guardrails eval --dataset FILE                      (precision / recall / F2)
//   perimeter scan [--guardrail ID[:VERSION]] [--types T1,T2]     (JSON lines in, findings out)
// Definitions are validated and compiled before they are stored, so a stored guardrail always
// compiles. Exit codes: 0 success, 2 bad input or a failed operation.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace perimeter::cli {

class GuardCommands {
 public:
  void Register(CLI::App& app);
  std::optional<int> Run();

 private:
  int Guardrails(CLI::App* which);
  int Scan();
  int Eval();

  std::string config_path_;
  bool json_ = false;

  CLI::App* g_create_ = nullptr;
  CLI::App* g_update_ = nullptr;
  CLI::App* g_version_ = nullptr;
  CLI::App* g_list_ = nullptr;
  CLI::App* g_get_ = nullptr;
  CLI::App* g_delete_ = nullptr;
  CLI::App* g_eval_ = nullptr;
  CLI::App* scan_ = nullptr;

  std::string id_, file_, description_, version_ = "DRAFT", guardrail_, types_, dataset_;
};

}  // namespace perimeter::cli
