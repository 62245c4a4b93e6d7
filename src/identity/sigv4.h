#pragma once

// AWS Signature Version 4 (AWS4-HMAC-SHA256), as the AWS SDKs compute it.
//
// Two users:
//   - the Bedrock upstream signs outgoing requests with the gateway's own credentials
//     (SignRequest);
//   - the SigV4 verifier re-computes the signature of a received request from the signed-header
//     list and date the client sent, with the caller's secret (CanonicalRequest, StringToSign,
//     Signature), and compares with crypto::ConstantTimeEquals.
//
// Canonical form (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
//   METHOD \n CanonicalUri \n CanonicalQueryString \n CanonicalHeaders \n \n SignedHeaders \n
//   HexPayloadHash
// Byte-for-byte conformance is tested against the official AWS SigV4 test suite
// (sigv4_conformance_test.cc), which pins the choices below to what aws-c-auth does:
//   - path: optional RFC 3986 dot-segment removal plus empty-segment collapse ("//a/./b/.." ->
//     "/a/"), keeping a trailing slash; then, when double-encoding, every byte except unreserved
//     characters and '/' is percent-encoded (so an on-the-wire "%3A" becomes "%253A").
//   - query: split on '&', then on the first '='; %XX escapes decoded and every byte re-encoded
//     (unreserved characters left alone, everything else %XX with uppercase hex, '+' encoded as
//     %2B and never read as a space); sorted by encoded name, then encoded value.
//   - headers: names lowercased; values trimmed, runs of ASCII whitespace (space, tab, CR, LF,
//     VT, FF) collapsed to one space; repeated headers joined with ',' in the order received.
//
// All functions are pure and thread-safe. Inputs are not size-limited here: the HTTP layer bounds
// request line, header and query sizes before anything reaches this module.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::identity {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct HttpRequestToSign {
  std::string method;
  // As sent on the wire, e.g. "/model/anthropic.claude-3%3A0/invoke" (already percent-encoded),
  // without the query. An empty path is treated as "/".
  std::string path;
  // The raw query string without '?'; may be empty. For presigned-URL verification the caller
  // removes X-Amz-Signature first (it is not part of what was signed).
  std::string query;
  // As sent: any case, duplicates allowed, order preserved. Must include Host.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256_hex;
};

struct AwsCredentials {
  std::string access_key_id;
  crypto::SecretBytes secret_access_key;
  std::string session_token;  // empty if none (long-term keys)
};

struct SigningScope {
  std::string region;                          // e.g. "us-east-1"
  std::string service;                         // e.g. "bedrock"
  std::chrono::system_clock::time_point time;  // the request time; sub-second part is ignored
};

struct SigV4Options {
  // Remove "." / ".." segments and empty segments from the path. AWS does this for every service
  // except S3 (where "a//b" and "a/./b" are distinct keys).
  bool normalize_path = true;
  // Percent-encode the (already encoded) path once more. AWS does this for every service except
  // S3, which signs the path exactly as sent.
  bool double_encode_path = true;
};

// --- Building blocks (shared by signer and verifier) ---------------------------------------------

// SigV4 URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) as is, every other byte as %XX
// with uppercase hex. '/' is kept when encode_slash is false (paths), encoded otherwise.
std::string SigV4UriEncode(std::string_view bytes, bool encode_slash);

// The canonical URI line for `path` (see the file comment).
std::string CanonicalUri(std::string_view path, const SigV4Options& options);

// The canonical query string line for a raw query string (see the file comment). A '%' that does
// not start a valid %XX escape is taken literally (and so encoded as %25); empty '&&' segments are
// dropped; a parameter without '=' has an empty value.
std::string CanonicalQueryString(std::string_view raw_query);

// A header value as it appears in the canonical headers: trimmed, whitespace runs collapsed.
std::string CanonicalHeaderValue(std::string_view value);

// "20150830/us-east-1/service/aws4_request"
std::string CredentialScope(const SigningScope& scope);

// The complete canonical request. `signed_header_names` selects which of request.headers are
// signed; it is lowercased, sorted and de-duplicated here, so the SignedHeaders line is canonical
// whatever order the caller passes. Each signed header's value is the canonical values of all
// request headers with that name (case-insensitive) joined with ','. A signed name with no
// matching header contributes "name:" with an empty value (a verifier should have rejected the
// request before getting here: a missing signed header cannot match the client's signature).
std::string CanonicalRequest(const HttpRequestToSign& request,
                             const std::vector<std::string>& signed_header_names,
                             const SigV4Options& options);

// "AWS4-HMAC-SHA256\n<amz-date>\n<credential scope>\n<hex sha256(canonical request)>"
std::string StringToSign(std::string_view canonical_request, const SigningScope& scope);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request").
// Depends only on the secret, the UTC date, region and service, so a verifier may cache it per
// (access key, date, region, service). Intermediate keys are wiped.
crypto::SecretBytes DeriveSigningKey(const crypto::SecretBytes& secret_access_key,
                                     const SigningScope& scope);

// Lowercase hex HMAC(signing key, string_to_sign).
std::string SignatureWithSigningKey(const crypto::SecretBytes& signing_key,
                                    std::string_view string_to_sign);

// Lowercase hex signature of `string_to_sign` with the credentials' secret for `scope`.
std::string Signature(const AwsCredentials& credentials, const SigningScope& scope,
                      std::string_view string_to_sign);

// --- Signing ------------------------------------------------------------------------------------

// True for headers that SignRequest leaves unsigned because proxies and HTTP stacks legitimately
// change or drop them in transit (the AWS SDKs skip the same ones): user-agent, x-amzn-trace-id,
// expect, and the hop-by-hop headers (connection, keep-alive, proxy-connection, te, trailer,
// transfer-encoding, upgrade). Also true for the headers SignRequest itself produces
// (authorization, x-amz-date, x-amz-security-token), which it replaces. Takes a lowercase name.
bool IsHeaderLeftUnsignedBySigner(std::string_view lowercase_name);

// Signs `request` and returns the headers to add to it, in this order: "X-Amz-Date",
// "X-Amz-Security-Token" (only when credentials.session_token is not empty) and "Authorization".
// The security token is added before signing and is itself signed. Signed headers are every
// header of `request` (lowercased, sorted) except those IsHeaderLeftUnsignedBySigner names, plus
// x-amz-date (and x-amz-security-token).
//
// Preconditions (programming errors, asserted in debug builds): request.headers contains Host.
// The caller must not send any Authorization / X-Amz-Date / X-Amz-Security-Token headers of its
// own alongside the returned ones; they are ignored for signing.
std::vector<std::pair<std::string, std::string>> SignRequest(const HttpRequestToSign& request,
                                                             const AwsCredentials& credentials,
                                                             const SigningScope& scope,
                                                             const SigV4Options& options = {});

// --- Dates --------------------------------------------------------------------------------------

// ISO 8601 basic format in UTC, whole seconds: "20150830T123600Z".
std::string FormatAmzDate(std::chrono::system_clock::time_point time);

// Parses exactly the FormatAmzDate format (as sent in X-Amz-Date); anything else, including
// out-of-range fields such as month 13 or February 30, is InvalidArgument.
Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text);

}  // namespace perimeter::identity
