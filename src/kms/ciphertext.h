#pragma once

// The KMS ciphertext format: self-describing and versioned, so any holder can tell which key and
// key version it needs, and so a blob moved to another key, version or context fails to open.
//
// Layout (integers big-endian, lengths in bytes):
//   4   magic and format version: "PKC" 0x01
//   1   n, the key id length (1..kMaxKeyIdBytes), then n bytes of key id
//   4   the CMK version
//   2   m, the wrapped data key length (kMinWrappedDataKeyBytes..kMaxWrappedDataKeyBytes), then
//       m bytes: crypto::AeadSeal(CMK version material, 32-byte data key, aad)
//   ... the payload: crypto::AeadSeal(data key, plaintext, aad) (version byte, 12-byte nonce,
//       ciphertext, 16-byte tag)
// where aad = the header bytes (magic through version) followed by CanonicalContext(context).
// The encryption context is not stored: the decrypter supplies it, and it must match exactly.
//
// Parsing is pure and bounded (a fuzz target covers it); it checks structure only, the
// cryptography is checked when the Kms opens the parts.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace perimeter::kms {

inline constexpr std::string_view kCiphertextMagic{"PKC\x01", 4};
inline constexpr size_t kMaxCiphertextKeyIdBytes = 128;
inline constexpr size_t kMinWrappedDataKeyBytes = 1 + 12 + 32 + 16;  // AeadSeal of a 32-byte key
inline constexpr size_t kMaxWrappedDataKeyBytes = 1024;
inline constexpr size_t kMinPayloadBytes = 1 + 12 + 16;  // AeadSeal of nothing

struct ParsedCiphertext {
  std::string_view key_id;
  uint32_t key_version = 0;
  std::string_view header;  // magic through key version: the start of the associated data
  std::string_view wrapped_data_key;
  std::string_view payload;
};

// Errors: InvalidArgument naming what is wrong (not a Perimeter ciphertext, unknown format
// version, truncated, a length out of bounds). Views point into `blob`.
Result<ParsedCiphertext> ParseCiphertext(std::string_view blob);

// The header bytes for a key id (1..kMaxCiphertextKeyIdBytes) and version.
std::string EncodeCiphertextHeader(std::string_view key_id, uint32_t key_version);

// header || u16 wrapped length || wrapped || payload.
std::string AssembleCiphertext(std::string_view header, std::string_view wrapped_data_key,
                               std::string_view payload);

}  // namespace perimeter::kms
