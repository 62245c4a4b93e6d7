#pragma once

// The key-management subcommands: `perimeter keys ...`, `perimeter tenants ...` and
// `perimeter vault ...`. They run as the account's administrator (the account root): the holder
// of the state directory. Key policies still apply to them, so a tenant's key can be managed
// here but never used to decrypt. Every command first runs the KMS's due maintenance (automatic
// rotations, destruction of keys whose deletion date passed). Exit codes: 0 success, 2 bad input
// or an operation that failed.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

namespace perimeter::cli {

class KeyCommands {
 public:
  void Register(CLI::App& app);
  std::optional<int> Run();

 private:
  int Keys(CLI::App* which);
  int Tenants(CLI::App* which);
  int Vault(CLI::App* which);

  std::string config_path_;
  bool json_ = false;

  CLI::App* k_create_ = nullptr;
  CLI::App* k_list_ = nullptr;
  CLI::App* k_describe_ = nullptr;
  CLI::App* k_rotate_ = nullptr;
  CLI::App* k_disable_ = nullptr;
  CLI::App* k_enable_ = nullptr;
  CLI::App* k_schedule_ = nullptr;
  CLI::App* k_cancel_ = nullptr;
  CLI::App* k_get_policy_ = nullptr;
  CLI::App* k_put_policy_ = nullptr;
  CLI::App* k_encrypt_ = nullptr;
  CLI::App* k_decrypt_ = nullptr;
  CLI::App* t_create_ = nullptr;
  CLI::App* t_list_ = nullptr;
  CLI::App* t_delete_ = nullptr;
  CLI::App* v_tokenize_ = nullptr;
  CLI::App* v_reveal_ = nullptr;
  CLI::App* v_erase_ = nullptr;
  CLI::App* v_list_ = nullptr;

  std::string key_, alias_, description_, policy_file_, rotation_period_, input_file_;
  std::vector<std::string> tags_, context_;
  int pending_days_ = 30;
  bool bypass_lockout_ = false;
  std::string tenant_, role_, entity_, token_;
};

}  // namespace perimeter::cli
