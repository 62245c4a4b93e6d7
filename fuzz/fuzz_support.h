#pragma once

// Helpers shared by the fuzz targets. A fuzz target checks invariants with PERIMETER_FUZZ_CHECK,
// which aborts (so libFuzzer records a crash and the regression runner fails) with the location
// and the failed condition.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define PERIMETER_FUZZ_CHECK(cond)                                                             \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace perimeter::fuzz {

// Consumes the fuzz input front to back to build structured values. Reading past the end
// yields zeros / short strings, never an error, so every input maps to some structure.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  uint8_t Byte() {
    if (data_.empty()) {
      return 0;
    }
    const auto b = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }

  // Up to `n` bytes (fewer when the input runs out).
  std::string Take(size_t n) {
    const std::string_view part = data_.substr(0, n);
    data_.remove_prefix(part.size());
    return std::string(part);
  }

  // `width` bytes big-endian (zeros past the end), sign-extended to 64 bits.
  int64_t Signed(int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v = (v << 8) | Byte();
    }
    const int shift = 64 - 8 * width;
    return static_cast<int64_t>(v << shift) >> shift;
  }

  std::string Rest() {
    std::string rest(data_);
    data_ = {};
    return rest;
  }

 private:
  std::string_view data_;
};

// A split point derived from the input, so the fuzzer controls where a stream is cut.
inline size_t SplitPoint(std::string_view data) {
  if (data.size() < 2) {
    return 0;
  }
  const size_t seed = static_cast<unsigned char>(data[0]) |
                      (static_cast<size_t>(static_cast<unsigned char>(data[data.size() - 1])) << 8);
  return seed % (data.size() + 1);
}

}  // namespace perimeter::fuzz
