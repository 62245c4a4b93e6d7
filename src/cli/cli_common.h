#pragma once

// What every administrative subcommand starts from: the config, the directory over its state
// directory (which also opens the KMS), and small input / output helpers.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "iam/directory.h"

namespace perimeter::cli {

// The config at `path`, or the embedded defaults when `path` is empty.
Result<config::Config> LoadConfig(const std::string& path);
// Creates the state directory (0700) if needed and opens the directory and KMS over it.
Result<std::shared_ptr<iam::Directory>> OpenDirectory(const config::Config& cfg);

struct Opened {
  config::Config cfg;
  std::shared_ptr<iam::Directory> dir;
};
Result<Opened> Open(const std::string& config_path);

// A file of at most 1 MiB.
Result<std::string> ReadFile(const std::string& path);
// KEY=VALUE items; `what` names them in errors ("--tag", "--context").
Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& items,
                                                          std::string_view what);
// Prints "perimeter: <message>" to stderr and returns exit code 2.
int Fail(const Status& s);
// The last Status given to Fail in this process (ok if none): the outcome the audit record of a
// failed administrative command carries.
const Status& LastFailure();
// RFC 3339 of unix seconds, "-" for 0.
std::string Time(int64_t unix_seconds);

}  // namespace perimeter::cli
