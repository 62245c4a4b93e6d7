#pragma once

// Verification of incoming AWS Signature Version 4 requests, as AWS services do it.
//
// Two forms are accepted:
//   - Authorization header: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/
//     aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>", with the time in
//     X-Amz-Date (or, failing that, an IMF-fixdate Date header) and the session token, if any, in
//     X-Amz-Security-Token (the token need not be signed: the AWS SDKs' "sign then attach" mode
//     is valid on AWS, and the token is validated by the SecretLookup either way).
//   - Presigned query: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
//     X-Amz-SignedHeaders, X-Amz-Signature and optionally X-Amz-Security-Token. The canonical query
//     is the received query without X-Amz-Signature, so every other parameter (the token too) must
//     have been signed.
//
// Checks, in order (each failure is an AuthError with the type AWS would send):
//   1. exactly one form is present (neither: MissingAuthenticationTokenException; both or a
//      malformed one: IncompleteSignatureException);
//   2. the credential scope: 5 parts, terminator aws4_request, scope date equal to the request
//      date's YYYYMMDD, service == VerifyOptions::expected_service, region allowed;
//   3. SignedHeaders includes host, and every signed header is present in the request;
//   4. the time: within max_skew of the clock in both directions (header form); for presigned
//      requests not more than max_skew in the future and not past X-Amz-Date + X-Amz-Expires;
//   5. x-amz-content-sha256, when present, is UNSIGNED-PAYLOAD or the body's SHA-256;
//   6. the key and session token, through SecretLookup (called on every request);
//   7. the signature, recomputed with the looked-up secret and compared in constant time.
//
// The payload hash in the canonical request is x-amz-content-sha256 when present, else the SHA-256
// of the body. Derived signing keys are NOT cached: revocation takes effect on the next request,
// and the cost (5 HMACs per request) is small next to the TLS and JSON work around it.
//
// No message ever contains a secret, a signing key or a computed signature. Messages may contain
// what the client sent (access key id, scope, date), as AWS's do.
//
// Thread-safe: VerifySigV4 keeps no state; the SecretLookup must be safe to call concurrently.
// Sizes: the HTTP layer bounds the request line, headers and body; in addition the header form's
// Authorization value is limited to kMaxAuthorizationBytes and SignedHeaders to
// kMaxSignedHeaders names.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "identity/sigv4.h"

namespace perimeter::identity {

inline constexpr size_t kMaxAuthorizationBytes = 8192;
inline constexpr size_t kMaxSignedHeaders = 64;

struct ReceivedRequest {
  std::string method;
  std::string path;   // raw, as received (still percent-encoded), without the query
  std::string query;  // raw, without '?'
  // Names lower-cased by the HTTP layer (compared case-insensitively here anyway); order and
  // duplicates as received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct VerifiedCaller {
  std::string access_key_id;
  std::string session_token;  // empty for long-term keys
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point signed_at;
  std::vector<std::string> signed_headers;  // lower-case names, as listed in SignedHeaders
};

// Looks up the secret for an access key id (and validates the session token for temporary
// credentials; an empty token means none was sent). Must return NotFound for an unknown key,
// PermissionDenied for a revoked or deactivated key, FailedPrecondition for an expired session
// (and for a token that does not belong to the key, Unauthenticated). Any other error is treated
// as a server-side failure (Unavailable -> 503, else 500).
using SecretLookup = std::function<Result<crypto::SecretBytes>(std::string_view access_key_id,
                                                               std::string_view session_token)>;

struct VerifyOptions {
  std::chrono::seconds max_skew{300};
  std::string expected_service = "bedrock";
  std::vector<std::string> allowed_regions;  // empty = any
  size_t max_presign_expires_seconds = 604800;
  // Whether x-amz-content-sha256: UNSIGNED-PAYLOAD is accepted. It leaves the body outside the
  // signature, so a captured request could be replayed with another body within the skew
  // window: the gateway allows it only for Bedrock over TLS, never for STS (whose action is in
  // the body).
  bool allow_unsigned_payload = true;
  // How the path is canonicalized. The defaults are right for every AWS service except S3.
  SigV4Options canonicalization;
};

// A verification failure, ready for the front door: HTTP status, the AWS error type (the
// "__type" / x-amzn-ErrorType the Bedrock clients map to an exception class) and a message for
// the caller. Types used: MissingAuthenticationTokenException (403), IncompleteSignatureException
// (400), InvalidSignatureException (403: bad signature, scope, skew, expired presigned URL, body
// hash mismatch), UnrecognizedClientException (403: unknown or revoked key, invalid token),
// ExpiredTokenException (403), ServiceUnavailableException (503), InternalFailure (500).
// Bedrock is a JSON-protocol service, so a bad signature is InvalidSignatureException (what the
// AWS SDK for JavaScript surfaces for Bedrock), not S3's SignatureDoesNotMatch.
struct AuthError {
  int http_status = 0;
  std::string type;
  std::string message;
  // The same failure as a Status, for code that only speaks Status (the message is kept).
  Status ToStatus() const;
};

// The outcome of VerifySigV4: a VerifiedCaller or an AuthError. This is richer than
// Result<VerifiedCaller> because the front door needs the AWS error type, which a StatusCode does
// not determine (several distinct AWS errors are all "unauthenticated").
class [[nodiscard]] SigV4Verification {
 public:
  SigV4Verification(VerifiedCaller caller)  // NOLINT(google-explicit-constructor)
      : caller_(std::move(caller)) {}
  SigV4Verification(AuthError error)  // NOLINT(google-explicit-constructor)
      : error_(std::move(error)) {}

  bool ok() const { return caller_.has_value(); }
  // Preconditions: ok() for caller(), !ok() for error().
  const VerifiedCaller& caller() const { return *caller_; }
  const AuthError& error() const { return error_; }
  Status status() const { return ok() ? Status::Ok() : error_.ToStatus(); }

 private:
  std::optional<VerifiedCaller> caller_;
  AuthError error_;
};

SigV4Verification VerifySigV4(const ReceivedRequest& request, const SecretLookup& lookup,
                              const Clock& clock, const VerifyOptions& options);

// Maps a SecretLookup failure to what AWS sends: NotFound, PermissionDenied and Unauthenticated ->
// UnrecognizedClientException; FailedPrecondition -> ExpiredTokenException; Unavailable ->
// ServiceUnavailableException; anything else -> InternalFailure (without the internal message).
AuthError AuthErrorFrom(const Status& lookup_status);

}  // namespace perimeter::identity
