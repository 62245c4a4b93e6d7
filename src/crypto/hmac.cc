#include "crypto/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>

namespace perimeter::crypto {

HmacSha256Tag HmacSha256(std::string_view key, std::string_view data) {
  // An empty string_view may have a null data(); OpenSSL wants a valid pointer even for length 0.
  static const unsigned char kEmpty[1] = {0};
  const auto* key_ptr = key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* data_ptr =
      data.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  HmacSha256Tag out{};
  unsigned int len = 0;
  if (key.size() > static_cast<size_t>(INT32_MAX) ||
      HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    // A MAC that silently fails would authenticate nothing; there is no safe way to continue.
    std::fprintf(stderr, "perimeter: fatal: OpenSSL HMAC-SHA256 failed\n");
    std::abort();
  }
  return out;
}

}  // namespace perimeter::crypto
