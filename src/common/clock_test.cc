#include "common/clock.h"

#include <gtest/gtest.h>

namespace perimeter {
namespace {

TEST(ParseRfc3339UtcTest, RoundTripsWhatTheFormattersWrite) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795759943)) +
                 std::chrono::milliseconds(123);
  auto secs = ParseRfc3339Utc(FormatRfc3339Seconds(t));
  ASSERT_TRUE(secs.ok()) << secs.status().message();
  EXPECT_EQ(UnixSeconds(*secs), 1795759943);
  auto millis = ParseRfc3339Utc(FormatRfc3339Millis(t));
  ASSERT_TRUE(millis.ok()) << millis.status().message();
  EXPECT_EQ(*millis, t);
  EXPECT_EQ(FormatRfc3339Seconds(*ParseRfc3339Utc("2026-02-28T23:59:59Z")), "2026-02-28T23:59:59Z");
}

TEST(ParseRfc3339UtcTest, RefusesOtherShapesAndOutOfRangeFields) {
  for (const char* bad :
       {"", "2026-11-27", "2026-11-27T05:52:23", "2026-11-27T05:52:23+01:00",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-27T25:00:00Z",
        "2026-11-27T05:52:23.Z", "2026-11-27 05:52:23Z", "2026-11-27T05:5a:23Z"}) {
    auto r = ParseRfc3339Utc(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace perimeter
