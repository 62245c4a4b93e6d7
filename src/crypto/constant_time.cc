#include "crypto/constant_time.h"

#include <openssl/crypto.h>

namespace perimeter::crypto {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const bool same_length = a.size() == b.size();
  // When the lengths differ, compare a with itself: same amount of work, result ignored.
  const std::string_view other = same_length ? b : a;
  const int diff = a.empty() ? 0 : CRYPTO_memcmp(a.data(), other.data(), a.size());
  return same_length & (diff == 0);
}

}  // namespace perimeter::crypto
