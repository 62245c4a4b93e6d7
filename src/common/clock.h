#pragma once

// Clock: injected wherever time matters (expiry, skew, rotation, retention, latency), so tests
// control time instead of sleeping. Implementations must be safe to call from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace perimeter {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps that leave the process (logs, signatures, expiry).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time, for durations and timeouts.
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;
};

// The real clock. A process-wide instance; never null.
const Clock& SystemClock();

// A clock that only moves when told to. Not thread-safe: tests own it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point start) : now_(start) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::time_point(now_.time_since_epoch());
  }
  void Advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  std::chrono::system_clock::time_point now_;
};

// RFC 3339 UTC with milliseconds: 2026-11-27T05:52:23.123Z
std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t);
// RFC 3339 UTC with whole seconds (as aws:CurrentTime): 2026-11-27T05:52:23Z
std::string FormatRfc3339Seconds(std::chrono::system_clock::time_point t);
// Parses "YYYY-MM-DDTHH:MM:SSZ" or "...SS.fffZ" (UTC only, as the two functions above write);
// InvalidArgument naming the text otherwise (out-of-range fields included).
Result<std::chrono::system_clock::time_point> ParseRfc3339Utc(std::string_view text);
// Whole seconds since the Unix epoch.
int64_t UnixSeconds(std::chrono::system_clock::time_point t);

}  // namespace perimeter
