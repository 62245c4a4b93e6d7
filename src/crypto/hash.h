#pragma once

// SHA-256 and hex encoding.
//
// Sha256 / Sha256Hex hash a whole buffer; Sha256Hasher hashes a body that arrives in pieces
// (request bodies, audit segments) without holding it all in memory. All functions are pure and
// thread-safe; a Sha256Hasher object is not (one per thread or per stream).
//
// These functions cannot fail on valid input; if OpenSSL itself fails (out of memory, a broken
// provider) the process aborts with a message rather than returning a wrong digest.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace perimeter::crypto {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

Sha256Digest Sha256(std::string_view data);

// Lowercase hex of Sha256(data): 64 characters.
std::string Sha256Hex(std::string_view data);

// Lowercase hex of arbitrary bytes, two characters per byte.
std::string HexEncode(std::string_view bytes);
std::string HexEncode(const Sha256Digest& digest);

// Incremental SHA-256. Update any number of times, then Finish; Finish returns the digest of
// everything passed to Update since construction (or since the previous Finish) and resets the
// hasher to the empty state, so one object can hash a sequence of bodies. A moved-from hasher may
// only be destroyed or assigned to.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  Sha256Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace perimeter::crypto
