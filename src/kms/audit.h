#pragma once

// Key-use audit events: every KMS operation (cryptographic or administrative), allowed or denied,
// is recorded with who asked, which key and version, the encryption context and the outcome.
//
// KeyAuditSink is the interface the audit-trail issue will back with the tamper-evident log;
// until then JsonLinesKeyAuditSink appends one JSON object per line to a file. The KMS fails
// closed: when an event cannot be recorded, the operation fails and releases nothing.
//
// Events never contain key material, plaintext or ciphertext; the encryption context is
// recorded, which is why contexts must never hold personal data (they name tenant and purpose).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace perimeter::kms {

struct KeyUseEvent {
  std::chrono::system_clock::time_point time;
  std::string caller_arn;    // the session / user ARN, a service principal, or the CLI operator
  std::string operation;     // AWS KMS API names: Encrypt, Decrypt, GenerateDataKey, ReEncrypt,
                             // CreateKey, EnableKey, DisableKey, RotateKeyOnDemand, ...
  std::string key_id;        // empty when the key could not be resolved
  uint32_t key_version = 0;  // 0 when not applicable
  std::map<std::string, std::string> encryption_context;
  std::string tenant;   // the key's perimeter:tenant tag, if any
  std::string outcome;  // "Success", or the AWS KMS error name (AccessDeniedException, ...)
  std::string message;  // why it failed; empty on success
};

// The event as one JSON object (no trailing newline), fields in a fixed order:
// {"eventTime","callerArn","operation","keyId","keyVersion","encryptionContext","tenant",
//  "outcome","message"}.
std::string KeyUseEventJson(const KeyUseEvent& event);

class KeyAuditSink {
 public:
  virtual ~KeyAuditSink() = default;
  // Records the event durably enough that it survives the process (see implementations), or
  // returns an error (Unavailable) and the caller fails its operation.
  virtual Status Record(const KeyUseEvent& event) = 0;
};

// Appends to a file (created mode 0600, O_APPEND so concurrent writers never interleave within a
// line). Each event is one write(2) of a whole line, so an acknowledged event survives a crash of
// the process; with `sync_each` every write is also fdatasync'ed (survives power loss; costs a
// disk flush per key operation, which is why the default is off until the audit log's group
// commit takes over).
class JsonLinesKeyAuditSink final : public KeyAuditSink {
 public:
  static Result<std::unique_ptr<JsonLinesKeyAuditSink>> Open(const std::string& path,
                                                             bool sync_each);
  ~JsonLinesKeyAuditSink() override;
  Status Record(const KeyUseEvent& event) override;

 private:
  JsonLinesKeyAuditSink(int fd, std::string path, bool sync_each)
      : fd_(fd), path_(std::move(path)), sync_each_(sync_each) {}
  int fd_;
  std::string path_;
  bool sync_each_;
};

// Which request a key use belongs to. A filter that calls the KMS for a request installs an
// observer on its thread for the duration of that synchronous call (never across a co_await):
// the audit sink then stamps the event with the request id, tells the request (which lists the
// keys it used in its own audit record) and need not wait for the event to be durable, because
// the request's own record, appended after it and awaited before the response is released,
// covers it (the log is written in order).
struct KeyUseObserver {
  std::string request_id;
  std::function<void(const KeyUseEvent&)> on_use;
};
class ScopedKeyUseObserver {
 public:
  explicit ScopedKeyUseObserver(const KeyUseObserver* observer);
  ~ScopedKeyUseObserver();
  ScopedKeyUseObserver(const ScopedKeyUseObserver&) = delete;
  ScopedKeyUseObserver& operator=(const ScopedKeyUseObserver&) = delete;

 private:
  const KeyUseObserver* previous_;
};
// The observer installed on this thread, or null.
const KeyUseObserver* CurrentKeyUseObserver();

// Keeps events in memory (tests), optionally failing every Record to test fail-closed paths.
class MemoryKeyAuditSink final : public KeyAuditSink {
 public:
  Status Record(const KeyUseEvent& event) override;
  std::vector<KeyUseEvent> events() const;
  void SetFailing(bool failing);

 private:
  mutable std::mutex mu_;
  std::vector<KeyUseEvent> events_;
  bool failing_ = false;
};

}  // namespace perimeter::kms
