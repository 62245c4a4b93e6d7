#pragma once

// Ed25519 signatures (RFC 8032, pure Ed25519 without context or prehash) over OpenSSL 3.
//
// Signing is deterministic: the same key and message always give the same 64-byte signature, so
// no nonce or randomness can be misused at signing time. Keys are the 32-byte RFC 8032 seed
// (private) and the 32-byte encoded point (public). Verification follows OpenSSL, which rejects
// non-canonical S values (RFC 8032 section 5.1.7).
//
// Ed25519PublicKeyPem exports a public key as an X.509 SubjectPublicKeyInfo PEM so an auditor can
// check a signature offline:
//   openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in message -sigfile signature
//
// All functions are thread-safe; an Ed25519PrivateKey may be used from many threads at once
// (Sign is const), but not while it is being moved or assigned.

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::crypto {

inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;
// Ed25519 hashes the whole message twice in one shot; what we sign (checkpoints, manifests,
// digests) is small, and a bound keeps a runaway caller from signing gigabytes.
inline constexpr size_t kEd25519MaxMessageBytes = size_t{16} << 20;

// An Ed25519 signing key. Move-only, never printable; the seed is wiped and the OpenSSL key freed
// when the object is destroyed. A moved-from key may only be destroyed or assigned to (Sign on it
// returns FailedPrecondition).
class Ed25519PrivateKey {
 public:
  // A fresh key from the CSPRNG (random.h). Internal if the CSPRNG or OpenSSL fails.
  static Result<Ed25519PrivateKey> Generate();
  // The key whose RFC 8032 private key is `seed32`. InvalidArgument unless it is exactly
  // kEd25519SeedBytes long; Internal if OpenSSL fails.
  static Result<Ed25519PrivateKey> FromSeed(const SecretBytes& seed32);

  ~Ed25519PrivateKey();
  Ed25519PrivateKey(Ed25519PrivateKey&& other) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&& other) noexcept;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;

  // The kEd25519SignatureBytes-byte signature of `message`. InvalidArgument if the message is
  // longer than kEd25519MaxMessageBytes; Internal if OpenSSL fails.
  Result<std::string> Sign(std::string_view message) const;

  // The kEd25519PublicKeyBytes raw public key (empty for a moved-from key).
  std::string PublicKey() const { return public_key_; }

  // The 32-byte seed, for sealing the key at rest (aead.h). Never log or print it.
  const SecretBytes& seed() const { return seed_; }

  friend std::ostream& operator<<(std::ostream&, const Ed25519PrivateKey&) = delete;

 private:
  struct Impl;  // holds the OpenSSL EVP_PKEY, keeping OpenSSL out of this header
  Ed25519PrivateKey(SecretBytes seed, std::string public_key, std::unique_ptr<Impl> impl);

  SecretBytes seed_;
  std::string public_key_;
  std::unique_ptr<Impl> impl_;
};

// Verifies `signature64` over `message` under `public_key32`.
// Ok if the signature is valid; Unauthenticated if it is not (wrong key, modified message or
// signature, or a public key that is not a valid curve point); InvalidArgument if the key or
// signature has the wrong size or the message is longer than kEd25519MaxMessageBytes; Internal if
// OpenSSL fails. Messages never contain any of the input bytes.
Status Ed25519Verify(std::string_view public_key32, std::string_view message,
                     std::string_view signature64);

// `public_key32` as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo, RFC 8410) block ending in a
// newline. InvalidArgument if the key is not kEd25519PublicKeyBytes long; Internal if OpenSSL
// fails.
Result<std::string> Ed25519PublicKeyPem(std::string_view public_key32);

// The raw 32-byte key of a PEM "PUBLIC KEY" block (the inverse of Ed25519PublicKeyPem).
// InvalidArgument for anything that is not an Ed25519 SubjectPublicKeyInfo PEM.
Result<std::string> Ed25519PublicKeyFromPem(std::string_view pem);

}  // namespace perimeter::crypto
