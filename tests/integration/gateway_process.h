#pragma once

// Test support for running the real `perimeter` binary and other programs (curl, openssl) as
// child processes.
//
// Contracts:
//  - Every wait is bounded: a child that does not print, exit or answer within the given time
//    is reported as a failure (and killed), never waited on forever.
//  - Children run with stdin from /dev/null, in the given working directory, and inherit no
//    descriptor of the test but their own stdout/stderr pipes.
//  - A child is sent SIGKILL if the test process dies (PR_SET_PDEATHSIG), so a crashed test
//    leaves no gateway behind.
// Not thread-safe unless stated: one test thread drives one GatewayProcess.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace perimeter::testing {

using std::chrono::milliseconds;

// How a child process ended.
struct ProcessExit {
  bool exited = false;     // true: it called exit(code)
  int code = -1;           // the exit code when `exited`
  int signal = 0;          // the terminating signal when not `exited`
  bool timed_out = false;  // it did not end in time and was killed by the helper
  std::string Describe() const;
};

// A fresh directory from mkdtemp under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::string WriteFile(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

// The result of RunCommand.
struct CommandResult {
  ProcessExit exit;
  std::string out;  // everything the command wrote to stdout
  std::string err;  // everything it wrote to stderr
};

// Runs argv[0] (looked up in PATH) with the arguments, in `cwd`, and waits for it to finish and
// close its output, at most `timeout` (then it is killed and exit.timed_out is set).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& cwd,
                         milliseconds timeout = milliseconds(10000));

// A credential issued by `perimeter credentials create ... --json`. The secret is shown once by
// the CLI; tests keep it only for the life of the test.
struct IssuedCredential {
  std::string principal_arn;
  std::string id;          // accessKeyId (AKIA...) or apiKeyId (prm_...)
  std::string secret;      // secretAccessKey, or the whole API key (prm_<id>_<secret>)
  std::string expires_at;  // RFC 3339 as printed, empty when it never expires
};

// One run of `perimeter serve --config perimeter.yaml` in a working directory.
//
// Start() writes the config to <dir>/perimeter.yaml, starts the binary with that directory as
// its working directory, and waits (at most 10 s) until it has printed one
// `listening on <url>` line per listener. Its stdout and stderr are read continuously by a
// background thread, so a chatty gateway never blocks on a full pipe.
class GatewayProcess {
 public:
  // `binary` defaults to the build's perimeter (PERIMETER_BIN).
  explicit GatewayProcess(std::string dir, std::string binary = "");
  // Kills the process (SIGKILL) if it still runs, and reaps it.
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Returns the first listener's URL (http://127.0.0.1:PORT, https://..., unix:/path). On
  // failure (the process exited, or printed no listening line in time) the Status message holds
  // what it wrote to stderr; the process may then be reaped with Wait().
  Result<std::string> Start(const std::string& config_yaml);
  // Every URL printed so far, in listener order.
  std::vector<std::string> urls() const;

  pid_t pid() const { return pid_; }
  bool running();  // started and not yet reaped (reaps it if it has exited)
  void Signal(int signo);
  // Waits for the process to exit (at most `timeout`, then SIGKILL) and for its output to be
  // fully read. Idempotent: later calls return the first result.
  ProcessExit Wait(milliseconds timeout = milliseconds(15000));
  // Sends SIGTERM and waits as Wait() does.
  ProcessExit Stop(milliseconds timeout = milliseconds(15000));

  // Complete stdout lines so far (the listening lines and the access log).
  std::vector<std::string> StdoutLines() const;
  std::string Stderr() const;
  // Waits until a complete stdout line satisfies `pred`; returns it, or nullopt after `timeout`.
  std::optional<std::string> WaitForStdoutLine(const std::function<bool(const std::string&)>& pred,
                                               milliseconds timeout);
  // Waits until stderr contains `needle`; false after `timeout`.
  bool WaitForStderr(const std::string& needle, milliseconds timeout);
  // stdout and stderr, for failure messages.
  std::string Diagnostics() const;

  // Runs the same binary as `perimeter <args...>` in this gateway's directory, so relative paths
  // (perimeter.yaml, the state_dir ./var) are the gateway's. Usable before and after Start()
  // (commands that take --config need the perimeter.yaml that Start() writes).
  CommandResult RunCli(const std::vector<std::string>& args,
                       milliseconds timeout = milliseconds(10000)) const;
  // `perimeter credentials create --config perimeter.yaml --principal <principal> --type <type>
  // --json [--expires-in <expires_in>]`; `type` is "access-key" or "api-key". Fails with the
  // CLI's exit and stderr when it does not exit 0 or prints no credential.
  Result<IssuedCredential> CreateCredential(const std::string& principal, const std::string& type,
                                            const std::string& expires_in = "") const;

 private:
  void ReadLoop(int out_fd, int err_fd);
  std::optional<ProcessExit> Reap(bool block);

  std::string dir_;
  std::string binary_;
  pid_t pid_ = -1;
  std::optional<ProcessExit> exit_;
  std::thread reader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_partial_;  // stdout bytes after the last newline
  std::vector<std::string> out_lines_;
  std::string err_;
  bool output_closed_ = false;
};

}  // namespace perimeter::testing
