// Fuzz target for codec::Base64Encode / Base64Decode.
//
// Invariants checked:
//  1. Decode(Encode(x)) == x, and Encode's output has length 4 * ceil(n / 3).
//  2. Decoding is strict and canonical: whenever Decode(x) succeeds, Encode(Decode(x)) == x.
//     A failure is InvalidArgument.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/base64.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const std::string encoded = perimeter::codec::Base64Encode(input);
  PERIMETER_FUZZ_CHECK(encoded.size() == (size + 2) / 3 * 4);
  const auto round_trip = perimeter::codec::Base64Decode(encoded);
  PERIMETER_FUZZ_CHECK(round_trip.ok() && *round_trip == input);

  const auto decoded = perimeter::codec::Base64Decode(input);
  if (decoded.ok()) {
    PERIMETER_FUZZ_CHECK(perimeter::codec::Base64Encode(*decoded) == input);
  } else {
    PERIMETER_FUZZ_CHECK(decoded.status().code() == perimeter::StatusCode::kInvalidArgument);
  }
  return 0;
}
