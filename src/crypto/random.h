#pragma once

// Cryptographically secure random bytes from OpenSSL's CSPRNG (RAND_bytes). Thread-safe.
//
// Use these for keys, nonces, request ids and tokens. Tests that need reproducible values should
// inject their own source instead of seeding this one.

#include <cstddef>
#include <string>

#include "common/status.h"

namespace perimeter::crypto {

// Largest request RandomBytes accepts; anything bigger is a bug, not a need.
inline constexpr size_t kMaxRandomBytes = 1 << 20;

// n random bytes. Fails closed: if the CSPRNG cannot deliver (not seeded, provider failure) the
// result is an Internal error, never weaker bytes. n > kMaxRandomBytes is InvalidArgument.
Result<std::string> RandomBytes(size_t n);

// Lowercase hex of `bytes` random bytes (2 * bytes characters), for ids and tokens. Aborts the
// process if the CSPRNG fails or bytes > kMaxRandomBytes: callers of this convenience have no
// safe fallback, and continuing with predictable ids would be worse than stopping.
std::string RandomHex(size_t bytes);

}  // namespace perimeter::crypto
