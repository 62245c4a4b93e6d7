#pragma once

// Authenticated encryption with associated data: AES-256-GCM (OpenSSL 3 EVP), in the Tink style.
//
// Callers never choose nonces: every seal draws a fresh 96-bit nonce from the CSPRNG and stores
// it in the output. Random 96-bit nonces keep the collision probability below 2^-32 for up to
// 2^32 seals under one key (NIST SP 800-38D, 8.3); keys that could see more seals than that must
// be rotated (the KMS layer does this with data keys).
//
// Sealed format (all lengths in bytes):
//   1 version (0x01) || 12 nonce || ciphertext (same length as the plaintext) || 16 tag
//
// The associated data is authenticated but not stored: the opener must supply the same bytes.
// Bind it to what the ciphertext is for (an access key id, a tenant and purpose) so that a
// ciphertext moved to another record or tenant fails to open.
//
// All functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr uint8_t kAeadFormatVersion = 0x01;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;
// Sealed size = plaintext size + kAeadOverheadBytes.
inline constexpr size_t kAeadOverheadBytes = 1 + kAeadNonceBytes + kAeadTagBytes;
// Larger plaintexts are refused: the callers seal keys and records, never bulk data, and a bound
// keeps every length comfortably inside OpenSSL's int-sized arguments.
inline constexpr size_t kAeadMaxPlaintextBytes = size_t{64} << 20;
inline constexpr size_t kAeadMaxAssociatedDataBytes = size_t{64} << 10;

// Encrypts and authenticates `plaintext`, and authenticates `aad`.
// Errors: InvalidArgument if the key is not kAeadKeyBytes long or an input exceeds its bound;
// Internal if the CSPRNG or OpenSSL fails (never a weaker ciphertext).
Result<std::string> AeadSeal(const SecretBytes& key, std::string_view plaintext,
                             std::string_view aad);

// Verifies and decrypts the output of AeadSeal. No plaintext is released unless the tag verifies.
// Errors: InvalidArgument for a wrong key size, an oversized input, or sealed data that is
// truncated or carries an unknown version byte; Unauthenticated when the tag does not verify
// (the data was modified, or the key or `aad` differ from those used to seal). Error messages
// never contain any of the input bytes.
Result<SecretBytes> AeadOpen(const SecretBytes& key, std::string_view sealed, std::string_view aad);

namespace internal {

// AES-256-GCM with a caller-chosen 12-byte nonce, returning ciphertext || 16-byte tag. Exists only
// for known-answer tests against published vectors: reusing a nonce under one key destroys both
// confidentiality and authenticity, which is why production code must use AeadSeal.
Result<std::string> AesGcmEncryptWithNonceForTest(const SecretBytes& key, std::string_view nonce,
                                                  std::string_view plaintext, std::string_view aad);

}  // namespace internal

}  // namespace perimeter::crypto
