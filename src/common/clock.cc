#include "common/clock.h"

#include <ctime>
#include <string>

#include <fmt/format.h>

namespace perimeter {
namespace {
class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::now();
  }
};
}  // namespace

const Clock& SystemClock() {
  static const RealClock kClock;
  return kClock;
}

std::string FormatRfc3339Millis(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string FormatRfc3339Seconds(std::chrono::system_clock::time_point t) {
  std::time_t secs = static_cast<std::time_t>(UnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<std::chrono::system_clock::time_point> ParseRfc3339Utc(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("'" + std::string(text.substr(0, 40)) +
                           "' is not an RFC 3339 UTC time such as 2026-11-27T05:52:23Z");
  };
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
  if (text.size() < 20 || text.size() > 30 || text.back() != 'Z') return bad();
  auto digits = [&](size_t pos, size_t n, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, &y) || text[4] != '-' || !digits(5, 2, &mo) || text[7] != '-' ||
      !digits(8, 2, &d) || text[10] != 'T' || !digits(11, 2, &h) || text[13] != ':' ||
      !digits(14, 2, &mi) || text[16] != ':' || !digits(17, 2, &s)) {
    return bad();
  }
  int64_t nanos = 0;
  if (text.size() > 20) {
    if (text[19] != '.' || text.size() == 21) return bad();
    int64_t scale = 100000000;
    for (size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return bad();
      nanos += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t t = timegm(&tm);
  // timegm normalizes out-of-range fields; a round trip that changes them means they were bad.
  if (tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d || tm.tm_hour != h ||
      tm.tm_min != mi || tm.tm_sec != s) {
    return bad();
  }
  // system_clock counts nanoseconds: about +-292 years around 1970.
  constexpr int64_t kMaxSecs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max())
          .count() -
      1;
  if (t > kMaxSecs || t < -kMaxSecs) return bad();
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(t) + std::chrono::nanoseconds(nanos)));
}

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace perimeter
