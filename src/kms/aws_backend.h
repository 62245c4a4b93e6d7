#pragma once

// AwsKmsBackend: a KeyBackend whose root of trust is a key in AWS KMS.
//
// Each CMK version's material comes from AWS (GenerateDataKey, AES_256) and is stored only in
// its wrapped form, the KMS CiphertextBlob; Unwrap calls Decrypt. The EncryptionContext of every
// call is the KeyBackend context, so AWS binds the blob to the CMK version (a blob moved to
// another version fails with InvalidCiphertextException) and records it in CloudTrail.
//
// Wire: the AWS KMS JSON 1.1 protocol ("POST /" with X-Amz-Target: TrentService.<Operation> and
// Content-Type: application/x-amz-json-1.1), signed with SigV4 for service "kms". One connection
// per call, closed afterwards: unwrapping is rare (the KMS keeps unwrapped material in memory),
// and a connection that no other call shares keeps the backend trivially thread-safe.
//
// HTTPS verifies the server's certificate against the system store plus an optional extra CA
// file, with host name (or IP SAN) checks and SNI; there is no switch to turn verification off.
// Plain http:// is accepted for endpoint_url so tests and local KMS emulators can be used.
//
// Errors (messages name the operation and, for an AWS answer, its error type and message; never
// key material):
//   InvalidCiphertextException, IncorrectKeyException        -> Unauthenticated
//   AccessDeniedException                                     -> PermissionDenied
//   NotFoundException                                         -> NotFound
//   DisabledException, KMSInvalidStateException, KeyUnavailableException, InvalidKeyUsageException
//                                                             -> FailedPrecondition
//   the gateway's own credentials refused (InvalidSignatureException, UnrecognizedClientException,
//   ExpiredTokenException, IncompleteSignatureException, MissingAuthenticationTokenException)
//                                                             -> FailedPrecondition
//   ThrottlingException, LimitExceededException, any 5xx, connection failure, timeout
//                                                             -> Unavailable
//   anything else (a malformed or oversized answer, another AWS error) -> Internal
//
// Credentials are fixed at creation: long-term keys, or a session that the operator renews by
// restarting the gateway (there is no refresh). Thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "identity/aws_credentials.h"
#include "identity/sigv4.h"
#include "kms/backend.h"

namespace perimeter::kms {

// Bounds on what is sent, as AWS KMS enforces them (so a request AWS would refuse is refused here
// with a clearer message), and on what is read back.
inline constexpr size_t kMaxAwsKeyIdBytes = 2048;
inline constexpr size_t kMaxAwsContextPairs = 64;
inline constexpr size_t kMaxAwsContextBytes = 8192;  // all keys and values together
inline constexpr size_t kMaxAwsPlaintextBytes = 4096;
inline constexpr size_t kMaxAwsCiphertextBytes = 6144;
inline constexpr size_t kMaxAwsResponseBytes = size_t{64} << 10;  // body
inline constexpr size_t kMaxAwsResponseHeaderBytes = size_t{16} << 10;

struct AwsKmsOptions {
  std::string region;  // e.g. "eu-west-1"; required
  // The AWS KMS key: key id, key ARN, alias name ("alias/x") or alias ARN. Decrypt passes it as
  // KeyId, so AWS refuses a blob made under another key (IncorrectKeyException).
  std::string key_id;
  // Empty: https://kms.<region>.amazonaws.com. Otherwise http(s)://host[:port], no path.
  std::string endpoint_url;
  std::string ca_file;  // extra trust anchor for HTTPS (PEM); optional
  identity::AwsCredentials credentials;
  // `connect` bounds resolution, connection and the TLS handshake; `total` the whole call.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  // The time used to sign requests. Not owned; must outlive the backend. Null: SystemClock().
  const Clock* clock = nullptr;
};

class AwsKmsBackend final : public KeyBackend {
 public:
  // Validates the options (region, key id, endpoint, credentials present, CA file loadable):
  // InvalidArgument naming what is wrong. Makes no network call.
  static Result<std::unique_ptr<AwsKmsBackend>> Create(AwsKmsOptions options);
  // The same, with options.credentials replaced by ResolveAwsCredentials(profile, env): `profile`
  // empty means the environment, then AWS_PROFILE or "default". Errors are those of
  // ResolveAwsCredentials and of Create.
  static Result<std::unique_ptr<AwsKmsBackend>> CreateWithProfile(
      AwsKmsOptions options, std::string_view profile,
      const identity::EnvReader& env = identity::ProcessEnvReader());

  ~AwsKmsBackend() override;

  std::string_view Name() const override { return "aws-kms"; }

  // GenerateDataKey (KeySpec AES_256): the 32-byte Plaintext and the raw CiphertextBlob bytes.
  Result<Generated> GenerateMaterial(const EncryptionContext& context) override;
  // Decrypt of a CiphertextBlob from GenerateMaterial or Encrypt; the plaintext must be
  // kMaterialBytes long (anything else is Internal).
  Result<crypto::SecretBytes> Unwrap(std::string_view wrapped,
                                     const EncryptionContext& context) override;
  // Encrypt of up to kMaxAwsPlaintextBytes (at least 1) under the key: the raw CiphertextBlob
  // bytes, which Unwrap opens when `plaintext` is kMaterialBytes long (importing existing
  // material).
  Result<std::string> Encrypt(const crypto::SecretBytes& plaintext,
                              const EncryptionContext& context);

  // The endpoint the backend talks to, e.g. "https://kms.eu-west-1.amazonaws.com" (for logs).
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit AwsKmsBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::kms
