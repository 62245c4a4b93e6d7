// perimeter: the gateway binary and its administrative CLI.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "api/gateway.h"
#include "cli/admin_audit.h"
#include "cli/admin_commands.h"
#include "cli/audit_commands.h"
#include "cli/guard_commands.h"
#include "cli/key_commands.h"
#include "cli/subject_commands.h"
#include "config/config.h"
#include "http/server.h"
#include "policy/eval_cases.h"

namespace {

using perimeter::Result;
using perimeter::Status;
namespace config = perimeter::config;

constexpr const char* kVersion = "0.1.0";

Result<config::Config> Load(const std::string& path) {
  if (path.empty()) return config::DefaultConfig();
  return config::LoadConfigFile(path);
}

Status EnsureStateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return perimeter::Unavailable("cannot create state directory '" + dir + "': " + ec.message() +
                                  "; set server.state_dir to a writable path");
  }
  ::chmod(dir.c_str(), 0700);  // state is the tenant data of later issues: owner only
  return Status::Ok();
}

// `program`: how this binary was invoked (argv[0]), so the printed example runs as shown.
int Serve(const std::string& config_path, const std::string& program) {
  auto cfg = Load(config_path);
  if (!cfg.ok()) {
    std::cerr << "perimeter: " << cfg.status().message() << "\n";
    return 2;
  }
  if (Status s = EnsureStateDir(cfg->server.state_dir); !s.ok()) {
    std::cerr << "perimeter: " << s.message() << "\n";
    return 2;
  }
  auto gw = perimeter::api::BuildGateway(*cfg, perimeter::identity::ProcessEnvReader());
  if (!gw.ok()) {
    std::cerr << "perimeter: " << gw.status().message() << "\n";
    return 2;
  }
  // SIGPIPE would kill the process on a write to a closed socket; errors are handled instead.
  std::signal(SIGPIPE, SIG_IGN);
  // Exceeding a file size limit must fail the write (and so, closed, the request whose audit
  // record it was), not kill the gateway with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  perimeter::http::Server server(*cfg, gw->chain);
  auto bound = server.Start();
  if (!bound.ok()) {
    std::cerr << "perimeter: " << bound.status().message() << "\n";
    return 2;
  }
  for (const auto& b : *bound) {
    std::cout << "perimeter: listening on " << b.url << " (listener \"" << b.name << "\")\n";
  }
  std::cout << "perimeter: config " << cfg->source << ", state in " << cfg->server.state_dir
            << "\n";
  // A first request to try, with credentials of the first user the config declares.
  const config::PrincipalConfig* user = nullptr;
  for (const auto& p : cfg->access.principals) {
    if (!p.is_role) {
      user = &p;
      break;
    }
  }
  if (user == nullptr) {
    std::cout << "perimeter: no users are declared (access.principals), so every model request is "
                 "refused; create one with `perimeter principals create`\n";
  } else if (!bound->empty() && bound->front().url.rfind("http", 0) == 0) {
    const std::string cfg_flag = config_path.empty() ? "" : " --config " + config_path;
    std::cout << "perimeter: every model request needs credentials. Try it:\n"
              << "  KEY=$(" << program << " credentials create" << cfg_flag << " --principal "
              << user->name << " --type api-key | tail -1)\n"
              << "  curl -s " << bound->front().url
              << "/v1/chat/completions -H \"Authorization: Bearer $KEY\" -H 'Content-Type: "
                 "application/json' -d "
                 "'{\"model\":\"perimeter.echo-v1\",\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"Hello\"}]}'\n";
  }
  std::cout.flush();

  // Signals are taken on a dedicated context so a busy worker cannot delay the drain.
  boost::asio::io_context sig_ctx;
  boost::asio::signal_set signals(sig_ctx, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    std::cerr << "perimeter: received " << (signo == SIGTERM ? "SIGTERM" : "SIGINT")
              << ", draining in-flight requests\n";
    server.Drain();
  });
  // Key maintenance (automatic rotations, destruction of keys past their deletion date) runs at
  // start and then every minute on the same context: rare, short, and off the request path.
  std::shared_ptr<perimeter::kms::Kms> kms = gw->directory->keys().kms;
  boost::asio::steady_timer maintenance(sig_ctx);
  std::function<void()> maintain = [&] {
    auto report = kms->RunMaintenance();
    if (!report.ok()) {
      std::cerr << "perimeter: key maintenance failed: " << report.status().message() << "\n";
    } else {
      for (const auto& id : report->rotated) std::cerr << "perimeter: rotated key " << id << "\n";
      for (const auto& id : report->destroyed) {
        std::cerr << "perimeter: destroyed key " << id << " (its deletion date had passed)\n";
      }
    }
    maintenance.expires_after(std::chrono::minutes(1));
    maintenance.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) maintain();
    });
  };
  maintain();
  std::thread sig_thread([&] { sig_ctx.run(); });
  server.Run();
  sig_ctx.stop();
  sig_thread.join();
  std::cerr << "perimeter: stopped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Perimeter: a security perimeter for LLM workloads"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  std::string serve_config;
  auto* serve = app.add_subcommand("serve", "Run the gateway (embedded defaults without --config)");
  serve->add_option("--config", serve_config, "YAML config file")->check(CLI::ExistingFile);

  auto* cfg_cmd = app.add_subcommand("config", "Work with configuration files");
  cfg_cmd->require_subcommand(1);
  std::string check_file;
  auto* check =
      cfg_cmd->add_subcommand("check", "Validate a config file; errors name file, line and field");
  check->add_option("FILE", check_file, "YAML config file")->required();
  auto* example = cfg_cmd->add_subcommand("defaults", "Print the embedded default config");

  auto* policy_cmd = app.add_subcommand("policy", "Work with IAM-language policies");
  policy_cmd->require_subcommand(1);
  std::string cases_file;
  auto* eval = policy_cmd->add_subcommand(
      "eval", "Evaluate a JSON array of cases; prints one JSON line per case");
  eval->add_option("--cases", cases_file, "JSON file of cases ('-' for standard input)")
      ->required();

  perimeter::cli::AdminCommands admin;
  admin.Register(app, policy_cmd);
  perimeter::cli::KeyCommands key_commands;
  key_commands.Register(app);
  perimeter::cli::GuardCommands guard_commands;
  guard_commands.Register(app);
  perimeter::cli::AuditCommands audit_commands;
  audit_commands.Register(app);
  perimeter::cli::SubjectCommands subject_commands;
  subject_commands.Register(app);

  CLI11_PARSE(app, argc, argv);

  // Administrative actions are recorded in the audit trail (admin_audit.h).
  if (auto rc = admin.Run()) return perimeter::cli::RecordAdministrativeCommand(app, *rc);
  if (auto rc = key_commands.Run()) return perimeter::cli::RecordAdministrativeCommand(app, *rc);
  if (auto rc = guard_commands.Run()) return perimeter::cli::RecordAdministrativeCommand(app, *rc);
  if (auto rc = audit_commands.Run()) return *rc;
  if (auto rc = subject_commands.Run()) return *rc;

  if (eval->parsed()) {
    if (cases_file == "-")
      return perimeter::policy::RunPolicyEvalCases(std::cin, std::cout, std::cerr);
    std::ifstream in(cases_file, std::ios::binary);
    if (!in) {
      std::cerr << "perimeter: cannot read cases file '" << cases_file << "'\n";
      return 2;
    }
    return perimeter::policy::RunPolicyEvalCases(in, std::cout, std::cerr);
  }

  if (serve->parsed()) return Serve(serve_config, argv[0]);
  if (check->parsed()) {
    auto c = config::LoadConfigFile(check_file);
    if (!c.ok()) {
      std::cerr << c.status().message() << "\n";
      return 1;
    }
    // Also checks what the parser cannot (URLs, CA files, upstream credentials), without
    // touching the state directory.
    if (Status s = perimeter::api::CheckGateway(*c, perimeter::identity::ProcessEnvReader());
        !s.ok()) {
      std::cerr << check_file << ": " << s.message() << "\n";
      return 1;
    }
    std::cout << check_file << ": OK (" << c->listeners.size() << " listener(s), "
              << c->upstreams.size() << " upstream(s), " << c->routes.size() << " route(s))\n";
    return 0;
  }
  if (example->parsed()) {
    std::cout << config::DefaultConfigYaml();
    return 0;
  }
  return 1;
}
