#pragma once

// The administrative subcommands: principals, credentials, policy simulate / lint, access
// who-can. Register() adds them to the app; Run() executes whichever was parsed and returns its
// exit code (nullopt when none of them was). Exit codes: 0 success, 1 the answer is "no" or a
// finding of severity error, 2 bad input or an operation that failed.

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace perimeter::cli {

class AdminCommands {
 public:
  void Register(CLI::App& app, CLI::App* policy_cmd);
  std::optional<int> Run();

 private:
  int PrincipalsCreate();
  int PrincipalsList();
  int PrincipalsShow();
  int PrincipalsTag();
  int PrincipalsSetActive(bool active);
  int CredentialsCreate();
  int CredentialsList();
  int CredentialsRevoke();
  int PolicySimulate();
  int PolicyLint();
  int WhoCan();

  std::string config_path_;
  bool json_ = false;

  CLI::App* p_create_ = nullptr;
  CLI::App* p_list_ = nullptr;
  CLI::App* p_show_ = nullptr;
  CLI::App* p_tag_ = nullptr;
  CLI::App* p_deactivate_ = nullptr;
  CLI::App* p_activate_ = nullptr;
  CLI::App* c_create_ = nullptr;
  CLI::App* c_list_ = nullptr;
  CLI::App* c_revoke_ = nullptr;
  CLI::App* simulate_ = nullptr;
  CLI::App* lint_ = nullptr;
  CLI::App* who_can_ = nullptr;

  // principals
  std::string user_, role_, account_, boundary_file_, trust_file_, max_session_ = "1h";
  std::vector<std::string> tags_, policy_files_, remove_tags_;
  std::string principal_;  // name or ARN
  // credentials
  std::string cred_type_ = "access-key", expires_in_, description_, cred_id_;
  // simulate / who-can
  std::string action_, resource_, tenant_, listener_, region_, source_ip_;
  std::vector<std::string> context_;
  bool insecure_ = false;
  // lint
  std::vector<std::string> lint_files_;
  std::string lint_kind_ = "auto";
};

}  // namespace perimeter::cli
