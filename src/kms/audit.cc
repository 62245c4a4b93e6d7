#include "kms/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "common/clock.h"

namespace perimeter::kms {

namespace {
thread_local const KeyUseObserver* current_observer = nullptr;
}  // namespace

ScopedKeyUseObserver::ScopedKeyUseObserver(const KeyUseObserver* observer)
    : previous_(current_observer) {
  current_observer = observer;
}
ScopedKeyUseObserver::~ScopedKeyUseObserver() { current_observer = previous_; }
const KeyUseObserver* CurrentKeyUseObserver() { return current_observer; }

std::string KeyUseEventJson(const KeyUseEvent& e) {
  boost::json::object ctx;
  for (const auto& [k, v] : e.encryption_context) ctx[k] = v;
  boost::json::object o;
  o["eventTime"] = FormatRfc3339Millis(e.time);
  o["callerArn"] = e.caller_arn;
  o["operation"] = e.operation;
  o["keyId"] = e.key_id;
  o["keyVersion"] = e.key_version;
  o["encryptionContext"] = std::move(ctx);
  o["tenant"] = e.tenant;
  o["outcome"] = e.outcome;
  o["message"] = e.message;
  return boost::json::serialize(o);
}

Result<std::unique_ptr<JsonLinesKeyAuditSink>> JsonLinesKeyAuditSink::Open(const std::string& path,
                                                                           bool sync_each) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Unavailable("cannot open the key audit log " + path + ": " + std::strerror(errno) +
                       "; check that the state directory is writable");
  }
  return std::unique_ptr<JsonLinesKeyAuditSink>(new JsonLinesKeyAuditSink(fd, path, sync_each));
}

JsonLinesKeyAuditSink::~JsonLinesKeyAuditSink() { ::close(fd_); }

Status JsonLinesKeyAuditSink::Record(const KeyUseEvent& event) {
  std::string line = KeyUseEventJson(event);
  line.push_back('\n');
  // One write of the whole line: O_APPEND makes it atomic with respect to other appenders.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Unavailable("cannot append to the key audit log " + path_ + ": " +
                         std::strerror(errno) + "; the key operation was refused");
    }
    done += static_cast<size_t>(n);
  }
  if (sync_each_ && ::fdatasync(fd_) != 0) {
    return Unavailable("cannot sync the key audit log " + path_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status MemoryKeyAuditSink::Record(const KeyUseEvent& event) {
  std::lock_guard lock(mu_);
  if (failing_) return Unavailable("the key audit sink is failing (test)");
  events_.push_back(event);
  return Status::Ok();
}

std::vector<KeyUseEvent> MemoryKeyAuditSink::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

void MemoryKeyAuditSink::SetFailing(bool failing) {
  std::lock_guard lock(mu_);
  failing_ = failing;
}

}  // namespace perimeter::kms
