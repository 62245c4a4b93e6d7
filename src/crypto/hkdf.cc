#include "crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <string>

namespace perimeter::crypto {
namespace {

struct KdfCtxDeleter {
  // EVP_KDF_CTX_free wipes the copies of key, salt and info the context holds.
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter>;

// Fetched once, like Sha256Md() in hash.cc: a fetch is a locked provider lookup. Null if the
// provider does not offer HKDF; callers report that as Internal.
EVP_KDF* HkdfKdf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

// OSSL_PARAM takes non-const pointers but only reads octet-string inputs.
OSSL_PARAM OctetParam(const char* key, std::string_view bytes) {
  return OSSL_PARAM_construct_octet_string(key, const_cast<char*>(bytes.data()), bytes.size());
}

Status TooLong(std::string_view what, size_t got, size_t limit) {
  return InvalidArgument("HKDF " + std::string(what) + " of " + std::to_string(got) +
                         " bytes is longer than the " + std::to_string(limit) +
                         "-byte limit; pass a short identifier or key, not bulk data");
}

}  // namespace

Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view salt, std::string_view info,
                               size_t length) {
  if (ikm.empty()) {
    return InvalidArgument(
        "HKDF input key material is empty; derive keys from a real secret (a root key)");
  }
  if (ikm.size() > kHkdfMaxInputKeyBytes) {
    return TooLong("input key material", ikm.size(), kHkdfMaxInputKeyBytes);
  }
  if (salt.size() > kHkdfMaxSaltBytes) {
    return TooLong("salt", salt.size(), kHkdfMaxSaltBytes);
  }
  if (info.size() > kHkdfMaxInfoBytes) {
    return TooLong("info", info.size(), kHkdfMaxInfoBytes);
  }
  if (length == 0 || length > kHkdfSha256MaxOutputBytes) {
    return InvalidArgument("HKDF-SHA256 output length must be 1.." +
                           std::to_string(kHkdfSha256MaxOutputBytes) + " bytes (RFC 5869), got " +
                           std::to_string(length) + "; derive several keys with distinct info");
  }

  EVP_KDF* kdf = HkdfKdf();
  KdfCtx ctx(kdf == nullptr ? nullptr : EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) {
    ERR_clear_error();
    return Internal(
        "HKDF is unavailable in OpenSSL; check the OpenSSL installation and that the default "
        "provider is available");
  }

  char digest_name[] = "SHA2-256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
  params[n++] = OctetParam(OSSL_KDF_PARAM_KEY, ikm.RevealSecretForUse());
  // An absent salt is RFC 5869's default (HashLen zeros); info defaults to empty.
  if (!salt.empty()) {
    params[n++] = OctetParam(OSSL_KDF_PARAM_SALT, salt);
  }
  if (!info.empty()) {
    params[n++] = OctetParam(OSSL_KDF_PARAM_INFO, info);
  }
  params[n] = OSSL_PARAM_construct_end();

  std::string okm(length, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(okm.data()), okm.size(), params) !=
      1) {
    OPENSSL_cleanse(okm.data(), okm.size());
    ERR_clear_error();
    return Internal(
        "HKDF-SHA256 derivation failed inside OpenSSL; check the OpenSSL installation and that "
        "the default provider is available");
  }
  return SecretBytes::FromAndWipe(&okm);
}

}  // namespace perimeter::crypto
