#pragma once

// KeyBackend: the root of trust that protects the material of every CMK version.
//
// The KMS never stores a CMK's material in the clear: each version's 32 bytes are wrapped by a
// backend, and unwrapped into memory only while the key is in use. Two backends:
//   - LocalKeyBackend: AES-256-GCM under the state directory's root key (crypto/root_key.h, or a
//     key file named by path or by the PERIMETER_ROOT_KEY_FILE environment variable);
//   - AwsKmsBackend (aws_backend.h): an AWS KMS key, over the KMS JSON 1.1 protocol with SigV4,
//     so the material is only ever unwrapped by a call that AWS authorizes and logs.
//
// `context` binds the wrapped bytes to the CMK version they belong to (key id and version): the
// backend passes it as associated data (local) or as the KMS EncryptionContext (AWS), so wrapped
// material moved to another key or version does not unwrap. Context values are not secret and
// may be logged; never put key material or personal data in them.
// Implementations are thread-safe.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::kms {

using EncryptionContext = std::map<std::string, std::string>;

// The canonical byte form of a context, used as associated data: for each pair in key order,
// the 4-byte big-endian length and bytes of the key, then of the value. Unambiguous, so two
// different contexts never give the same bytes.
std::string CanonicalContext(const EncryptionContext& context);

inline constexpr size_t kMaterialBytes = 32;  // AES-256

class KeyBackend {
 public:
  virtual ~KeyBackend() = default;
  // "local" or "aws-kms": stored with each key, so a key is always unwrapped by the backend
  // that wrapped it.
  virtual std::string_view Name() const = 0;

  struct Generated {
    crypto::SecretBytes material;  // kMaterialBytes
    std::string wrapped;
  };
  // New random key material and its wrapped form.
  virtual Result<Generated> GenerateMaterial(const EncryptionContext& context) = 0;
  // Unwraps what GenerateMaterial returned. Errors: Unauthenticated when the bytes or the
  // context were altered, or the backend's key is not the one that wrapped them;
  // Unavailable when the backend cannot be reached; Internal otherwise.
  virtual Result<crypto::SecretBytes> Unwrap(std::string_view wrapped,
                                             const EncryptionContext& context) = 0;
};

class LocalKeyBackend final : public KeyBackend {
 public:
  // `root_key` must be crypto::kRootKeyBytes long.
  static Result<std::unique_ptr<LocalKeyBackend>> Create(crypto::SecretBytes root_key);
  // The root key from `root_key_file` when set (the same checks as root_key.h: mode 0600, a
  // regular file, 32 bytes; it is never created there), else from the PERIMETER_ROOT_KEY_FILE
  // environment variable when set, else <state_dir>/root.key, created on first use.
  static Result<std::unique_ptr<LocalKeyBackend>> Open(const std::string& state_dir,
                                                       const std::string& root_key_file);

  std::string_view Name() const override { return "local"; }
  Result<Generated> GenerateMaterial(const EncryptionContext& context) override;
  Result<crypto::SecretBytes> Unwrap(std::string_view wrapped,
                                     const EncryptionContext& context) override;

 private:
  explicit LocalKeyBackend(crypto::SecretBytes wrapping_key) : key_(std::move(wrapping_key)) {}
  crypto::SecretBytes key_;  // derived from the root key for this purpose only
};

}  // namespace perimeter::kms
