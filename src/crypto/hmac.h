#pragma once

// HMAC-SHA256 (RFC 2104 with SHA-256). Pure and thread-safe.
//
// Any key length is accepted (keys longer than the block size are hashed, as RFC 2104 says).
// Compare MACs with ConstantTimeEquals (constant_time.h), never with ==.

#include <array>
#include <cstdint>
#include <string_view>

namespace perimeter::crypto {

inline constexpr size_t kHmacSha256Bytes = 32;
using HmacSha256Tag = std::array<uint8_t, kHmacSha256Bytes>;

// Aborts the process if OpenSSL fails (it cannot on valid input): a wrong MAC is never returned.
HmacSha256Tag HmacSha256(std::string_view key, std::string_view data);

// The tag as bytes in a string_view-compatible form, for chaining HMACs (e.g. SigV4 key
// derivation) without copying through hex.
inline std::string_view TagBytes(const HmacSha256Tag& tag) {
  return {reinterpret_cast<const char*>(tag.data()), tag.size()};
}

}  // namespace perimeter::crypto
