#include "crypto/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace perimeter::crypto {
namespace {

[[noreturn]] void DieOnOpenSslFailure(const char* what) {
  // A digest that silently fails would produce wrong signatures or unverifiable audit records;
  // there is no safe way to continue.
  std::fprintf(stderr, "perimeter: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

// SHA-256 fetched once: EVP_sha256() makes every digest fetch the algorithm from the provider
// again (a locked lookup), which cost more than hashing a short input.
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (m == nullptr) DieOnOpenSslFailure("EVP_MD_fetch(SHA2-256)");
    return m;
  }();
  return md;
}

}  // namespace

struct Sha256Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256Digest Sha256(std::string_view data) {
  // One context per thread, reset for each digest.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  Sha256Digest out{};
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    DieOnOpenSslFailure("SHA-256");
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0f];
  }
  return out;
}

std::string HexEncode(const Sha256Digest& digest) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (ctx_->md == nullptr || EVP_DigestInit_ex2(ctx_->md, Sha256Md(), nullptr) != 1) {
    DieOnOpenSslFailure("EVP_DigestInit_ex(SHA-256)");
  }
}

Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_->md, data.data(), data.size()) != 1) {
    DieOnOpenSslFailure("EVP_DigestUpdate");
  }
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out.data(), &len) != 1 || len != out.size()) {
    DieOnOpenSslFailure("EVP_DigestFinal_ex");
  }
  if (EVP_DigestInit_ex2(ctx_->md, Sha256Md(), nullptr) != 1) {
    DieOnOpenSslFailure("EVP_DigestInit_ex(SHA-256)");
  }
  return out;
}

}  // namespace perimeter::crypto
