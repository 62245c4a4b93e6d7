#pragma once

// Test-only: hex test vectors to bytes. A malformed vector is a test failure (ADD_FAILURE), not a
// silent wrong value.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace perimeter::crypto::test_support {

inline std::string HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    ADD_FAILURE() << "bad hex digit in test vector: " << c;
    return 0;
  };
  EXPECT_EQ(hex.size() % 2, 0u);
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

}  // namespace perimeter::crypto::test_support
