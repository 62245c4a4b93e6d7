#pragma once

// HKDF with HMAC-SHA256 (RFC 5869): derives independent keys from one secret.
//
// Use it to turn a root or master secret into per-purpose keys: the `info` string names the
// purpose (and tenant, key version, ...) so that keys for different purposes are independent even
// though they come from the same input. `salt` is optional (empty means RFC 5869's default of
// HashLen zero bytes); a random or per-deployment salt strengthens extraction from inputs that are
// not uniformly random, but it is not secret.
//
// Pure and thread-safe.

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::crypto {

inline constexpr size_t kHkdfSha256HashBytes = 32;
// RFC 5869 section 2.3: L <= 255 * HashLen.
inline constexpr size_t kHkdfSha256MaxOutputBytes = 255 * kHkdfSha256HashBytes;
// Input bounds. Keys are short; the info bound is OpenSSL 3.0's own limit on the info buffer.
inline constexpr size_t kHkdfMaxInputKeyBytes = size_t{64} << 10;
inline constexpr size_t kHkdfMaxSaltBytes = 1024;
inline constexpr size_t kHkdfMaxInfoBytes = 1024;

// Extract-then-expand HKDF-SHA256 of `ikm`, returning `length` bytes of output keying material.
// Errors: InvalidArgument if `ikm` is empty (deriving from nothing yields public keys), if
// `length` is 0 or above kHkdfSha256MaxOutputBytes, or if an input exceeds its bound; Internal
// if OpenSSL fails. Intermediate buffers are wiped; messages never contain input bytes.
Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::string_view salt, std::string_view info,
                               size_t length);

}  // namespace perimeter::crypto
