#pragma once

// AuditLog: the append side of the tamper-evident log (format.h).
//
// Group commit: a writer thread takes every queued record, writes the batch with one write(2),
// fsyncs it (FsyncPolicy::kBatch) and only then completes the appends; records that arrive while
// a batch is being flushed form the next batch, so under load many appends share one flush and
// the wait is bounded by two flushes. With FsyncPolicy::kNone a caller that queues a record while
// nothing is being written writes the batch itself (leader/follower), saving the two thread
// hand-offs; a flush is never done on the caller's thread. Several processes (the gateway and CLI
// commands) may append to one log: each batch is written under flock(2) on `lock`, and a writer
// that finds records it did not write first folds them into its tree. A torn last line (a crash in
// the middle of a write, never acknowledged) is cut off by the next writer.
//
// Fail closed: if a batch cannot be written or flushed, its appends fail with Unavailable and
// the log refuses every later append until the process restarts (a gap or a half-written batch
// must be repaired by the recovery at open, not papered over).
//
// Checkpoints: when a signer is set, the writer signs a checkpoint (tree size, root, time) every
// `checkpoint_interval` if the tree grew, and on Close.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include "audit/format.h"
#include "common/clock.h"
#include "common/status.h"

namespace perimeter::audit {

enum class FsyncPolicy {
  kBatch,  // fdatasync every batch before acknowledging it (default; survives power loss)
  kNone,   // acknowledge after write(2): survives a crash of the process, not of the machine
};

struct LogOptions {
  std::string dir;                   // created 0700 if missing
  std::string origin = "perimeter";  // arn:aws:perimeter:<region>:<account>:audit
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  std::chrono::seconds retention{std::chrono::hours(24 * 365)};  // each record's retainUntil
  std::chrono::seconds checkpoint_interval{60};
  uint64_t segment_max_bytes = uint64_t{64} << 20;  // also a new segment each UTC day
  size_t max_batch = 4096;                          // records per write
  size_t max_queue = 1 << 16;  // appends waiting; beyond this Append fails (Unavailable)
};

// Signs checkpoints. Implemented over the KMS-held Ed25519 key (audit/signer.h).
class CheckpointSigner {
 public:
  virtual ~CheckpointSigner() = default;
  virtual std::string PublicKey() const = 0;  // 32 raw bytes
  virtual Result<std::string> Sign(std::string_view message) const = 0;
};

class AuditLog {
 public:
  // Opens (creating) the log, recovers the tree from the last checkpoint's compact range (or
  // pruned.json, or the start) plus the records after it, cuts a torn tail, and starts the
  // writer thread. `clock` must outlive the log.
  static Result<std::shared_ptr<AuditLog>> Open(LogOptions options, const Clock& clock);
  ~AuditLog();  // Close()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // The signer used for later checkpoints (may be set once, after Open, because the KMS that
  // holds the key records its own key uses in this log).
  void SetSigner(std::shared_ptr<const CheckpointSigner> signer);

  // Queues `event_json` (one JSON object, see event.h); `done` is called with the record's index
  // once it is durable (per FsyncPolicy), or with an error: on the writer thread, or (kNone) on
  // this thread before Enqueue returns when this call wrote the batch itself (so Enqueue may
  // block for one write(2)). A record queued before another is always written before it.
  using Callback = std::function<void(Result<uint64_t>)>;
  void Enqueue(std::string event_json, Callback done);

  // Queues and waits (blocks the calling thread): for the CLI and for tests.
  Result<uint64_t> AppendSync(std::string event_json);

  // Queues and suspends the calling coroutine until durable; completes on `executor` with
  // (status, index). (Two arguments rather than a Result, which has no default state.)
  template <typename CompletionToken>
  auto AsyncAppend(std::string event_json, boost::asio::any_io_executor executor,
                   CompletionToken&& token);

  // Signs a checkpoint of the current tree now (if a signer is set and the tree grew since the
  // last one); waits for it. FailedPrecondition without a signer.
  Status CheckpointNow();

  // Flushes the queue, writes a final checkpoint (when a signer is set), stops the writer.
  void Close();

  uint64_t size() const;  // records durable so far (including other processes' as last seen)
  const LogOptions& options() const { return options_; }
  // False once a write failed: every Enqueue fails until the process restarts.
  bool healthy() const;

  struct Impl;

 private:
  AuditLog(LogOptions options, const Clock& clock);
  LogOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Out of line so the header does not pull Asio's coroutine machinery into every includer.
template <typename CompletionToken>
auto AuditLog::AsyncAppend(std::string event_json, boost::asio::any_io_executor executor,
                           CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(Status, uint64_t)>(
      [this, executor](auto handler, std::string json) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        Enqueue(std::move(json), [shared, executor](Result<uint64_t> r) mutable {
          Status status = r.status();
          const uint64_t index = r.ok() ? *r : 0;
          boost::asio::post(executor, [shared, status = std::move(status), index]() mutable {
            (*shared)(std::move(status), index);
          });
        });
      },
      token, std::move(event_json));
}

}  // namespace perimeter::audit
