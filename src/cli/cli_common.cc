#include "cli/cli_common.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/clock.h"

namespace perimeter::cli {

Result<config::Config> LoadConfig(const std::string& path) {
  if (path.empty()) return config::DefaultConfig();
  return config::LoadConfigFile(path);
}

Result<std::shared_ptr<iam::Directory>> OpenDirectory(const config::Config& cfg) {
  std::error_code ec;
  std::filesystem::create_directories(cfg.server.state_dir, ec);
  if (ec) {
    return Unavailable("cannot create state directory '" + cfg.server.state_dir +
                       "': " + ec.message());
  }
  ::chmod(cfg.server.state_dir.c_str(), 0700);
  return iam::Directory::Open(cfg, SystemClock());
}

Result<Opened> Open(const std::string& config_path) {
  auto cfg = LoadConfig(config_path);
  if (!cfg.ok()) return cfg.status();
  auto dir = OpenDirectory(*cfg);
  if (!dir.ok()) return dir.status();
  return Opened{std::move(*cfg), std::move(*dir)};
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > 1024 * 1024) return InvalidArgument("'" + path + "' is larger than 1MiB");
  return ss.str();
}

Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& items,
                                                          std::string_view what) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("expected " + std::string(what) + " as KEY=VALUE, got '" + item + "'");
    }
    if (!out.emplace(item.substr(0, eq), item.substr(eq + 1)).second) {
      return InvalidArgument(std::string(what) + " names '" + item.substr(0, eq) +
                             "' twice; give each key once");
    }
  }
  return out;
}

namespace {
Status& LastFailureSlot() {
  static Status last;
  return last;
}
}  // namespace

int Fail(const Status& s) {
  std::cerr << "perimeter: " << s.message() << "\n";
  LastFailureSlot() = s;
  return 2;
}

const Status& LastFailure() { return LastFailureSlot(); }

std::string Time(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return FormatRfc3339Millis(
      std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

}  // namespace perimeter::cli
