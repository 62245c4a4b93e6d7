#include "crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "crypto/hash.h"

namespace perimeter::crypto {

Result<std::string> RandomBytes(size_t n) {
  if (n > kMaxRandomBytes) {
    return InvalidArgument("requested " + std::to_string(n) + " random bytes; at most " +
                           std::to_string(kMaxRandomBytes) + " may be requested at once");
  }
  std::string out(n, '\0');
  if (n == 0) {
    return out;
  }
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return Internal(
        "the system random number generator (OpenSSL RAND_bytes) failed; check that the OS "
        "entropy source (getrandom, /dev/urandom) is available to this process");
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  Result<std::string> raw = RandomBytes(bytes);
  if (!raw.ok()) {
    std::fprintf(stderr, "perimeter: fatal: %s\n", raw.status().ToString().c_str());
    std::abort();
  }
  std::string hex = HexEncode(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  return hex;
}

}  // namespace perimeter::crypto
