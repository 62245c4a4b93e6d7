#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdio>
#include <cstdlib>

namespace perimeter::crypto {

namespace {

[[noreturn]] void DieOnHmacFailure() {
  // A MAC that silently fails would authenticate nothing; there is no safe way to continue.
  std::fprintf(stderr, "perimeter: fatal: OpenSSL HMAC-SHA256 failed\n");
  std::abort();
}

// One HMAC-SHA256 context per thread, with the algorithm and digest fetched once: the one-shot
// HMAC() looks both up in the provider on every call, which costs more than the MAC itself for
// the short inputs SigV4 key derivation uses (five MACs per request).
EVP_MAC_CTX* ThreadHmacContext() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) DieOnHmacFailure();
    return m;
  }();
  struct Holder {
    EVP_MAC_CTX* ctx = nullptr;
    ~Holder() { EVP_MAC_CTX_free(ctx); }
  };
  thread_local Holder holder;
  if (holder.ctx == nullptr) {
    holder.ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA2-256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (holder.ctx == nullptr || EVP_MAC_CTX_set_params(holder.ctx, params) != 1) {
      DieOnHmacFailure();
    }
  }
  return holder.ctx;
}

}  // namespace

HmacSha256Tag HmacSha256(std::string_view key, std::string_view data) {
  // An empty string_view may have a null data(); OpenSSL wants a valid pointer even for length 0.
  static const unsigned char kEmpty[1] = {0};
  const auto* key_ptr = key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* data_ptr =
      data.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  EVP_MAC_CTX* ctx = ThreadHmacContext();
  HmacSha256Tag out{};
  size_t len = 0;
  // Re-initialising with a new key keeps the digest set above. (OpenSSL treats a zero-length
  // key like any other HMAC key.)
  if (EVP_MAC_init(ctx, key_ptr, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, data_ptr, data.size()) != 1 ||
      EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1 || len != out.size()) {
    DieOnHmacFailure();
  }
  return out;
}

}  // namespace perimeter::crypto
