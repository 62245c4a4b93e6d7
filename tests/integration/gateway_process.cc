#include "gateway_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "config/config.h"

namespace perimeter::testing {

namespace {

using Clock = std::chrono::steady_clock;

ProcessExit FromWaitStatus(int status) {
  ProcessExit e;
  if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  }
  return e;
}

// Starts argv in cwd with stdout/stderr on the given pipe ends. Everything the child does
// between fork and exec is async-signal-safe, because the test process has other threads.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& cwd, int out_w,
                    int err_w) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Internal(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(126);  // the test died before prctl took effect
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_w, 1) < 0 || ::dup2(err_w, 2) < 0) {
      ::_exit(126);
    }
    ::close_range(3, ~0U, 0);
    if (::chdir(cwd.c_str()) != 0) {
      const char msg[] = "integration test: chdir failed\n";
      (void)!::write(2, msg, sizeof(msg) - 1);
      ::_exit(126);
    }
    ::execvp(args[0], args.data());
    const char msg[] = "integration test: exec failed\n";
    (void)!::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  return pid;
}

struct Pipe {
  int r = -1;
  int w = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      r = fds[0];
      w = fds[1];
    }
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  void CloseRead() {
    if (r >= 0) {
      ::close(r);
    }
    r = -1;
  }
  void CloseWrite() {
    if (w >= 0) {
      ::close(w);
    }
    w = -1;
  }
};

// Reads whatever is available on fd into out; returns false at EOF or on an error.
bool ReadSome(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return false;
  }
}

// Waits for pid until `deadline`; kills it when the deadline passes.
ProcessExit WaitUntil(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return FromWaitStatus(status);
    }
    if (r < 0 && errno != EINTR) {
      ProcessExit e;
      e.code = -1;
      return e;
    }
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      ProcessExit e = FromWaitStatus(status);
      e.timed_out = true;
      return e;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

}  // namespace

std::string ProcessExit::Describe() const {
  std::string s;
  if (exited) {
    s = "exited with code " + std::to_string(code);
  } else if (signal != 0) {
    s = "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  } else {
    s = "ended in an unknown way";
  }
  if (timed_out) {
    s += " after the helper's timeout expired";
  }
  return s;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/perimeter-it-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    std::abort();  // nothing sensible can run without a directory
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::WriteFile(const std::string& name, const std::string& contents) const {
  const std::string p = path_ + "/" + name;
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << contents;
  return p;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& cwd,
                         milliseconds timeout) {
  CommandResult res;
  const auto deadline = Clock::now() + timeout;
  Pipe out, err;
  auto pid = Spawn(argv, cwd, out.w, err.w);
  out.CloseWrite();
  err.CloseWrite();
  if (!pid.ok()) {
    res.err = pid.status().message();
    return res;
  }
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && Clock::now() < deadline) {
    pollfd fds[2] = {{out.r, POLLIN, 0}, {err.r, POLLIN, 0}};
    if (!out_open) {
      fds[0].fd = -1;
    }
    if (!err_open) {
      fds[1].fd = -1;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    int n = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(left, 0)));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      out_open = ReadSome(out.r, res.out);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      err_open = ReadSome(err.r, res.err);
    }
  }
  res.exit = WaitUntil(*pid, deadline);
  return res;
}

GatewayProcess::GatewayProcess(std::string dir, std::string binary)
    : dir_(std::move(dir)), binary_(binary.empty() ? std::string(PERIMETER_BIN) : binary) {}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    Wait(milliseconds(5000));
  }
  if (reader_.joinable()) {
    reader_.join();
  }
}

Result<std::string> GatewayProcess::Start(const std::string& config_yaml) {
  if (pid_ > 0) {
    return FailedPrecondition("GatewayProcess::Start called twice");
  }
  {
    std::ofstream f(dir_ + "/perimeter.yaml", std::ios::binary | std::ios::trunc);
    f << config_yaml;
    if (!f) {
      return Internal("cannot write " + dir_ + "/perimeter.yaml");
    }
  }
  // One listening line per listener; a config the parser rejects still gets one chance, so the
  // gateway's own error message reaches the caller.
  size_t listeners = 1;
  if (auto parsed = config::ParseConfig(config_yaml, "perimeter.yaml"); parsed.ok()) {
    listeners = parsed->listeners.size();
  }

  Pipe out, err;
  auto pid = Spawn({binary_, "serve", "--config", "perimeter.yaml"}, dir_, out.w, err.w);
  out.CloseWrite();
  err.CloseWrite();
  if (!pid.ok()) {
    return pid.status();
  }
  pid_ = *pid;
  int out_r = out.r, err_r = err.r;
  out.r = err.r = -1;  // owned by the reader thread from here
  reader_ = std::thread([this, out_r, err_r] { ReadLoop(out_r, err_r); });

  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::unique_lock lock(mu_);
  for (;;) {
    size_t seen = 0;
    for (const auto& l : out_lines_) {
      seen += l.find("listening on ") != std::string::npos ? 1 : 0;
    }
    if (seen >= listeners) {
      break;
    }
    if (output_closed_) {
      return Unavailable("perimeter exited before listening; stderr:\n" + err_ + "\nstdout:\n" +
                         out_partial_);
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return DeadlineExceeded("perimeter printed no `listening on` line within 10 s; stderr:\n" +
                              err_);
    }
  }
  lock.unlock();
  auto all = urls();
  if (all.empty()) {
    return Internal("listening line without a URL");
  }
  return all.front();
}

std::vector<std::string> GatewayProcess::urls() const {
  static const std::regex kListening(R"(listening on (\S+))");
  std::vector<std::string> result;
  std::lock_guard lock(mu_);
  for (const auto& l : out_lines_) {
    std::smatch m;
    if (std::regex_search(l, m, kListening)) {
      result.push_back(m[1]);
    }
  }
  return result;
}

void GatewayProcess::ReadLoop(int out_fd, int err_fd) {
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);  // ends when the child (the only writer) exits
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    std::string got_out, got_err;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      out_open = ReadSome(out_fd, got_out);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      err_open = ReadSome(err_fd, got_err);
    }
    std::lock_guard lock(mu_);
    out_partial_ += got_out;
    size_t nl;
    while ((nl = out_partial_.find('\n')) != std::string::npos) {
      out_lines_.push_back(out_partial_.substr(0, nl));
      out_partial_.erase(0, nl + 1);
    }
    err_ += got_err;
    cv_.notify_all();
  }
  ::close(out_fd);
  ::close(err_fd);
  std::lock_guard lock(mu_);
  output_closed_ = true;
  cv_.notify_all();
}

std::optional<ProcessExit> GatewayProcess::Reap(bool block) {
  if (exit_) {
    return exit_;
  }
  if (pid_ <= 0) {
    return std::nullopt;
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_ = FromWaitStatus(status);
  }
  return exit_;
}

bool GatewayProcess::running() { return pid_ > 0 && !Reap(false).has_value(); }

void GatewayProcess::Signal(int signo) {
  if (running()) {
    ::kill(pid_, signo);
  }
}

ProcessExit GatewayProcess::Wait(milliseconds timeout) {
  if (pid_ <= 0) {
    return ProcessExit{};
  }
  if (!exit_) {
    exit_ = WaitUntil(pid_, Clock::now() + timeout);
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  return *exit_;
}

ProcessExit GatewayProcess::Stop(milliseconds timeout) {
  Signal(SIGTERM);
  return Wait(timeout);
}

std::vector<std::string> GatewayProcess::StdoutLines() const {
  std::lock_guard lock(mu_);
  return out_lines_;
}

std::string GatewayProcess::Stderr() const {
  std::lock_guard lock(mu_);
  return err_;
}

std::optional<std::string> GatewayProcess::WaitForStdoutLine(
    const std::function<bool(const std::string&)>& pred, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    for (const auto& l : out_lines_) {
      if (pred(l)) {
        return l;
      }
    }
    if (output_closed_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (const auto& l : out_lines_) {
        if (pred(l)) {
          return l;
        }
      }
      return std::nullopt;
    }
  }
}

bool GatewayProcess::WaitForStderr(const std::string& needle, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    if (err_.find(needle) != std::string::npos) {
      return true;
    }
    if (output_closed_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return err_.find(needle) != std::string::npos;
    }
  }
}

std::string GatewayProcess::Diagnostics() const {
  std::lock_guard lock(mu_);
  std::string s = "--- perimeter stderr ---\n" + err_ + "--- perimeter stdout ---\n";
  for (const auto& l : out_lines_) {
    s += l + "\n";
  }
  return s + out_partial_;
}

CommandResult GatewayProcess::RunCli(const std::vector<std::string>& args,
                                     milliseconds timeout) const {
  std::vector<std::string> argv = {binary_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir_, timeout);
}

Result<IssuedCredential> GatewayProcess::CreateCredential(const std::string& principal,
                                                          const std::string& type,
                                                          const std::string& expires_in) const {
  std::vector<std::string> args = {"credentials",    "create",      "--config",
                                   "perimeter.yaml", "--principal", principal,
                                   "--type",         type,          "--json"};
  if (!expires_in.empty()) {
    args.insert(args.end(), {"--expires-in", expires_in});
  }
  CommandResult r = RunCli(args);
  if (!r.exit.exited || r.exit.code != 0) {
    return Internal("`perimeter credentials create --principal " + principal + " --type " + type +
                    "` " + r.exit.Describe() + "; stderr: " + r.err);
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.out, ec);
  const bool access_key = type == "access-key";
  const char* id_field = access_key ? "accessKeyId" : "apiKeyId";
  const char* secret_field = access_key ? "secretAccessKey" : "apiKey";
  const boost::json::object* o = ec ? nullptr : v.if_object();
  auto text = [&](const char* field) -> std::string {
    const boost::json::value* f = o ? o->if_contains(field) : nullptr;
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  IssuedCredential c{text("principal"), text(id_field), text(secret_field), text("expiresAt")};
  if (c.principal_arn.empty() || c.id.empty() || c.secret.empty()) {
    // The output holds a secret; name only what is missing.
    return Internal("`perimeter credentials create --type " + type + " --json` printed no " +
                    id_field + "/" + secret_field + "/principal (" + std::to_string(r.out.size()) +
                    " bytes of output)");
  }
  return c;
}

}  // namespace perimeter::testing
