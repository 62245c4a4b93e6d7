#include "identity/sigv4_verifier.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "crypto/constant_time.h"
#include "crypto/hash.h"

namespace perimeter::identity {
namespace {

constexpr std::string_view kTerminator = "aws4_request";
constexpr size_t kMaxAccessKeyIdBytes = 128;
constexpr size_t kMaxSessionTokenBytes = 8192;
constexpr size_t kSignatureHexChars = 64;

AuthError Missing(std::string message) {
  return {403, "MissingAuthenticationTokenException", std::move(message)};
}
AuthError Incomplete(std::string message) {
  return {400, "IncompleteSignatureException", std::move(message)};
}
AuthError Invalid(std::string message) {
  return {403, "InvalidSignatureException", std::move(message)};
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 9110 token characters, lowercase only (SignedHeaders lists canonical, lowercased names).
bool IsLowercaseHeaderName(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Access key ids are upper-case alphanumerics on AWS; we also allow lowercase, '_' and '-' for
// locally issued keys, and nothing that could confuse a log line.
bool IsValidAccessKeyId(std::string_view s) {
  return !s.empty() && s.size() <= kMaxAccessKeyIdBytes &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
         });
}

// Printable ASCII without quotes or whitespace: what may be echoed back in a message.
std::string Echo(std::string_view s) {
  constexpr size_t kMaxEcho = 64;
  std::string out;
  for (char c : s.substr(0, kMaxEcho)) {
    out.push_back((c > ' ' && c < 0x7f && c != '\'') ? c : '?');
  }
  if (s.size() > kMaxEcho) {
    out.append("...");
  }
  return out;
}

// HTTP/2's authority pseudo-header, which the AWS SDKs sign in place of Host over HTTP/2.
constexpr std::string_view kAuthority = ":authority";

std::vector<std::string_view> HeaderValues(const ReceivedRequest& request, std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : request.headers) {
    if (EqualsIgnoreCase(n, name)) {
      values.push_back(v);
    }
  }
  // The HTTP layer carries :authority as Host (an HTTP/2 request has one or the other).
  if (values.empty() && name == kAuthority) return HeaderValues(request, "host");
  return values;
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(separator, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

// What both forms carry once parsed.
struct ParsedAuth {
  std::string access_key_id;
  std::string scope_date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
  std::string session_token;
  std::string amz_date;  // as sent (header form with Date: the IMF-fixdate text)
  std::chrono::system_clock::time_point time;
  bool presigned = false;
  int64_t expires_seconds = 0;  // presigned only
  std::string query_to_sign;    // presigned: the raw query without X-Amz-Signature
};

std::optional<AuthError> ParseCredential(std::string_view credential, ParsedAuth* out) {
  const std::vector<std::string_view> parts = Split(credential, '/');
  if (parts.size() != 5) {
    return Incomplete(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/aws4_request, got '" +
        Echo(credential) + "'.");
  }
  if (!IsValidAccessKeyId(parts[0])) {
    return Incomplete("The access key id in Credential is empty or malformed: '" + Echo(parts[0]) +
                      "'.");
  }
  if (parts[1].size() != 8 || !IsDigits(parts[1])) {
    return Incomplete("The date in Credential must be YYYYMMDD, got '" + Echo(parts[1]) + "'.");
  }
  if (parts[2].empty()) {
    return Invalid("Credential should be scoped to a valid region, not ''.");
  }
  if (parts[3].empty()) {
    return Invalid("Credential should be scoped to correct service, not ''.");
  }
  if (parts[4] != kTerminator) {
    return Invalid("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                   Echo(parts[4]) + "'.");
  }
  out->access_key_id = std::string(parts[0]);
  out->scope_date = std::string(parts[1]);
  out->region = std::string(parts[2]);
  out->service = std::string(parts[3]);
  return std::nullopt;
}

std::optional<AuthError> ParseSignedHeaders(std::string_view list, ParsedAuth* out) {
  const std::vector<std::string_view> names = Split(list, ';');
  if (names.size() > kMaxSignedHeaders) {
    return Incomplete("SignedHeaders lists " + std::to_string(names.size()) + " headers; at most " +
                      std::to_string(kMaxSignedHeaders) + " are accepted.");
  }
  for (std::string_view name : names) {
    if (!IsLowercaseHeaderName(name) && name != kAuthority) {
      return Incomplete(
          "SignedHeaders must be a ';'-separated list of lowercase header names, got '" +
          Echo(list) + "'.");
    }
    out->signed_headers.emplace_back(name);
  }
  return std::nullopt;
}

std::optional<AuthError> CheckSignatureFormat(std::string_view signature, ParsedAuth* out) {
  if (signature.size() != kSignatureHexChars || !IsLowerHex(signature)) {
    return Incomplete("Signature must be 64 lowercase hexadecimal characters.");
  }
  out->signature = std::string(signature);
  return std::nullopt;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate, the only Date format we accept).
Result<std::chrono::system_clock::time_point> ParseImfFixdate(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return InvalidArgument("not an IMF-fixdate");
  }
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (s.substr(8, 3) == kMonths[i]) {
      month = i + 1;
    }
  }
  if (month == 0) {
    return InvalidArgument("not an IMF-fixdate");
  }
  std::string amz;
  amz.append(s.substr(12, 4));
  amz.append(month < 10 ? "0" : "").append(std::to_string(month));
  amz.append(s.substr(5, 2)).append("T");
  amz.append(s.substr(17, 2)).append(s.substr(20, 2)).append(s.substr(23, 2)).append("Z");
  return ParseAmzDate(amz);
}

// The three parts both forms carry (Credential, SignedHeaders, Signature), checked in order.
std::optional<AuthError> ParseCredentialParts(std::string_view credential,
                                              std::string_view signed_headers,
                                              std::string_view signature, ParsedAuth* out) {
  if (auto e = ParseCredential(credential, out)) {
    return e;
  }
  if (auto e = ParseSignedHeaders(signed_headers, out)) {
    return e;
  }
  return CheckSignatureFormat(signature, out);
}

std::optional<AuthError> ParseAuthorizationHeader(const ReceivedRequest& request,
                                                  std::string_view header, ParsedAuth* out) {
  if (header.size() > kMaxAuthorizationBytes) {
    return Incomplete("The Authorization header is longer than " +
                      std::to_string(kMaxAuthorizationBytes) + " bytes.");
  }
  header = TrimWhitespace(header);
  const size_t space = header.find(' ');
  const std::string_view algorithm = header.substr(0, space);
  if (algorithm != kSigV4Algorithm) {
    return Incomplete("Unsupported Authorization algorithm '" + Echo(algorithm) +
                      "'; sign the request with AWS Signature Version 4 (AWS4-HMAC-SHA256).");
  }
  const std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  for (std::string_view part : Split(rest, ',')) {
    part = TrimWhitespace(part);
    if (part.empty() && TrimWhitespace(rest).empty()) {
      break;  // "AWS4-HMAC-SHA256" alone: reported below as missing parameters
    }
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Incomplete("'" + Echo(part) +
                        "' not a valid key=value pair (missing equal-sign) in Authorization "
                        "header.");
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    std::optional<std::string_view>* slot = key == "Credential"      ? &credential
                                            : key == "SignedHeaders" ? &signed_headers
                                            : key == "Signature"     ? &signature
                                                                     : nullptr;
    if (slot == nullptr) {
      return Incomplete("Unknown parameter '" + Echo(key) +
                        "' in Authorization header; expected Credential, SignedHeaders and "
                        "Signature.");
    }
    if (slot->has_value()) {
      return Incomplete("Authorization header has more than one '" + std::string(key) +
                        "' parameter.");
    }
    if (value.empty()) {
      return Incomplete("Authorization header parameter '" + std::string(key) + "' is empty.");
    }
    *slot = value;
  }
  std::string missing;
  for (const auto& [slot, name] :
       {std::pair{&credential, "Credential"}, std::pair{&signature, "Signature"},
        std::pair{&signed_headers, "SignedHeaders"}}) {
    if (!slot->has_value()) {
      missing.append(missing.empty() ? "" : " ")
          .append("Authorization header requires '")
          .append(name)
          .append("' parameter.");
    }
  }
  if (!missing.empty()) {
    return Incomplete(missing);
  }
  if (auto e = ParseCredentialParts(*credential, *signed_headers, *signature, out)) {
    return e;
  }

  const std::vector<std::string_view> amz_dates = HeaderValues(request, "x-amz-date");
  const std::vector<std::string_view> dates = HeaderValues(request, "date");
  if (amz_dates.size() > 1 || (amz_dates.empty() && dates.size() > 1)) {
    return Incomplete("The request has more than one X-Amz-Date or Date header; send one.");
  }
  if (!amz_dates.empty()) {
    out->amz_date = std::string(TrimWhitespace(amz_dates[0]));
    Result<std::chrono::system_clock::time_point> time = ParseAmzDate(out->amz_date);
    if (!time.ok()) {
      return Incomplete("Date must be in ISO-8601 'basic format' (e.g. 20150830T123600Z). Got '" +
                        Echo(out->amz_date) + "'.");
    }
    out->time = *time;
  } else if (!dates.empty()) {
    out->amz_date = std::string(TrimWhitespace(dates[0]));
    Result<std::chrono::system_clock::time_point> time = ParseImfFixdate(out->amz_date);
    if (!time.ok()) {
      return Incomplete(
          "The Date header must be an IMF-fixdate (e.g. 'Sun, 30 Aug 2015 "
          "12:36:00 GMT'); got '" +
          Echo(out->amz_date) + "'. Or send X-Amz-Date.");
    }
    out->time = *time;
  } else {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }

  const std::vector<std::string_view> tokens = HeaderValues(request, "x-amz-security-token");
  if (tokens.size() > 1) {
    return Incomplete("The request has more than one X-Amz-Security-Token header; send one.");
  }
  if (!tokens.empty()) {
    out->session_token = std::string(TrimWhitespace(tokens[0]));
  }
  return std::nullopt;
}

std::optional<AuthError> ParsePresignedQuery(std::string_view query, size_t max_expires,
                                             ParsedAuth* out) {
  out->presigned = true;
  std::optional<std::string> algorithm, credential, date, expires, signed_headers, signature, token;
  for (std::string_view param : Split(query, '&')) {
    const size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    std::optional<std::string>* slot = name == "X-Amz-Algorithm"        ? &algorithm
                                       : name == "X-Amz-Credential"     ? &credential
                                       : name == "X-Amz-Date"           ? &date
                                       : name == "X-Amz-Expires"        ? &expires
                                       : name == "X-Amz-SignedHeaders"  ? &signed_headers
                                       : name == "X-Amz-Signature"      ? &signature
                                       : name == "X-Amz-Security-Token" ? &token
                                                                        : nullptr;
    if (slot != &signature && !param.empty()) {
      out->query_to_sign.append(out->query_to_sign.empty() ? "" : "&").append(param);
    }
    if (slot == nullptr) {
      continue;
    }
    if (slot->has_value()) {
      return Incomplete("The query has more than one '" + std::string(name) + "' parameter.");
    }
    Result<std::string> decoded =
        UriDecode(eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1));
    if (!decoded.ok()) {
      return Incomplete("The query parameter '" + std::string(name) +
                        "' has a malformed percent-escape.");
    }
    *slot = std::move(*decoded);
  }
  std::string missing;
  for (const auto& [slot, name] :
       {std::pair{&algorithm, "X-Amz-Algorithm"}, std::pair{&credential, "X-Amz-Credential"},
        std::pair{&date, "X-Amz-Date"}, std::pair{&expires, "X-Amz-Expires"},
        std::pair{&signed_headers, "X-Amz-SignedHeaders"},
        std::pair{&signature, "X-Amz-Signature"}}) {
    if (!slot->has_value() || (*slot)->empty()) {
      missing.append(missing.empty() ? "" : " ")
          .append("AWS query-string parameters must include '")
          .append(name)
          .append("'.");
    }
  }
  if (!missing.empty()) {
    return Incomplete(missing + " Re-examine the query-string parameters.");
  }
  if (*algorithm != kSigV4Algorithm) {
    return Incomplete("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256', got '" + Echo(*algorithm) +
                      "'.");
  }
  if (auto e = ParseCredentialParts(*credential, *signed_headers, *signature, out)) {
    return e;
  }
  out->amz_date = *date;
  Result<std::chrono::system_clock::time_point> time = ParseAmzDate(*date);
  if (!time.ok()) {
    return Incomplete(
        "X-Amz-Date must be in ISO-8601 'basic format' (e.g. 20150830T123600Z). "
        "Got '" +
        Echo(*date) + "'.");
  }
  out->time = *time;
  if (expires->size() > 9 || !IsDigits(*expires) || std::stoll(*expires) < 1 ||
      static_cast<size_t>(std::stoll(*expires)) > max_expires) {
    return Incomplete("X-Amz-Expires must be a whole number of seconds from 1 to " +
                      std::to_string(max_expires) + ", got '" + Echo(*expires) + "'.");
  }
  out->expires_seconds = std::stoll(*expires);
  if (token.has_value()) {
    out->session_token = std::move(*token);
  }
  return std::nullopt;
}

bool HasQueryParam(std::string_view query, std::string_view name) {
  for (std::string_view param : Split(query, '&')) {
    if (param.substr(0, param.find('=')) == name) {
      return true;
    }
  }
  return false;
}

std::string SkewAmount(std::chrono::seconds skew) {
  return skew.count() % 60 == 0 ? std::to_string(skew.count() / 60) + " min."
                                : std::to_string(skew.count()) + " sec.";
}

}  // namespace

Status AuthError::ToStatus() const {
  switch (http_status) {
    case 400:
      return InvalidArgument(type + ": " + message);
    case 403:
      return Unauthenticated(type + ": " + message);
    case 503:
      return Unavailable(type + ": " + message);
    default:
      return Internal(type + ": " + message);
  }
}

AuthError AuthErrorFrom(const Status& lookup_status) {
  switch (lookup_status.code()) {
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      // AWS does not say whether a key is unknown or deactivated; neither do we.
      return {403, "UnrecognizedClientException",
              "The security token included in the request is invalid."};
    case StatusCode::kFailedPrecondition:
      return {403, "ExpiredTokenException",
              "The security token included in the request is expired"};
    case StatusCode::kUnavailable:
      return {503, "ServiceUnavailableException",
              "The credential store is unavailable; retry the request."};
    default:
      return {500, "InternalFailure",
              "The request could not be authenticated because of an internal error; retry the "
              "request."};
  }
}

SigV4Verification VerifySigV4(const ReceivedRequest& request, const SecretLookup& lookup,
                              const Clock& clock, const VerifyOptions& options) {
  const std::vector<std::string_view> authorizations = HeaderValues(request, "authorization");
  const bool presigned = HasQueryParam(request.query, "X-Amz-Algorithm") ||
                         HasQueryParam(request.query, "X-Amz-Credential") ||
                         HasQueryParam(request.query, "X-Amz-Signature");
  if (authorizations.empty() && !presigned) {
    return Missing("Missing Authentication Token");
  }
  if (!authorizations.empty() && presigned) {
    return Incomplete(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
        "Authorization header should be specified.");
  }
  if (authorizations.size() > 1) {
    return Incomplete("The request has more than one Authorization header; send one.");
  }

  ParsedAuth auth;
  if (std::optional<AuthError> e =
          presigned ? ParsePresignedQuery(request.query, options.max_presign_expires_seconds, &auth)
                    : ParseAuthorizationHeader(request, authorizations[0], &auth)) {
    return *e;
  }

  // The scope.
  const std::string request_date = FormatAmzDate(auth.time);
  if (auth.scope_date != std::string_view(request_date).substr(0, 8)) {
    return Invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        auth.scope_date + "' != '" + request_date.substr(0, 8) + "', from '" + request_date + "'.");
  }
  if (auth.service != options.expected_service) {
    return Invalid("Credential should be scoped to correct service: '" + options.expected_service +
                   "', not '" + Echo(auth.service) + "'.");
  }
  if (!options.allowed_regions.empty() &&
      std::find(options.allowed_regions.begin(), options.allowed_regions.end(), auth.region) ==
          options.allowed_regions.end()) {
    std::string allowed;
    for (const std::string& r : options.allowed_regions) {
      allowed.append(allowed.empty() ? "" : ", ").append(r);
    }
    return Invalid("Credential should be scoped to a valid region, not '" + Echo(auth.region) +
                   "'. This endpoint accepts: " + allowed + ".");
  }

  // The signed headers.
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
          auth.signed_headers.end() &&
      std::find(auth.signed_headers.begin(), auth.signed_headers.end(), kAuthority) ==
          auth.signed_headers.end()) {
    return Invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  for (const std::string& name : auth.signed_headers) {
    if (HeaderValues(request, name).empty()) {
      return Invalid("SignedHeaders lists '" + name +
                     "' but the request has no such header; sign only headers you send.");
    }
  }

  // The time.
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock.Now());
  const auto signed_at = std::chrono::time_point_cast<std::chrono::seconds>(auth.time);
  if (auth.presigned) {
    if (signed_at - now > options.max_skew) {
      return Invalid("Signature not yet current: " + request_date + " is still later than " +
                     FormatAmzDate(now + options.max_skew) + " (" + FormatAmzDate(now) + " + " +
                     SkewAmount(options.max_skew) + ")");
    }
    const auto expires_at = signed_at + std::chrono::seconds(auth.expires_seconds);
    if (now > expires_at) {
      return Invalid("Signature expired: the presigned URL signed at " + request_date +
                     " with X-Amz-Expires=" + std::to_string(auth.expires_seconds) +
                     " expired at " + FormatAmzDate(expires_at) + "; it is now " +
                     FormatAmzDate(now) + ". Create a new presigned URL.");
    }
  } else {
    if (now - signed_at > options.max_skew) {
      return Invalid("Signature expired: " + request_date + " is now earlier than " +
                     FormatAmzDate(now - options.max_skew) + " (" + FormatAmzDate(now) + " - " +
                     SkewAmount(options.max_skew) + ")");
    }
    if (signed_at - now > options.max_skew) {
      return Invalid("Signature not yet current: " + request_date + " is still later than " +
                     FormatAmzDate(now + options.max_skew) + " (" + FormatAmzDate(now) + " + " +
                     SkewAmount(options.max_skew) + ")");
    }
  }

  // The payload hash.
  const std::vector<std::string_view> content_hashes =
      HeaderValues(request, "x-amz-content-sha256");
  if (content_hashes.size() > 1) {
    return Incomplete("The request has more than one x-amz-content-sha256 header; send one.");
  }
  std::string payload_hash;
  if (!content_hashes.empty()) {
    const std::string_view claimed = TrimWhitespace(content_hashes[0]);
    if (claimed == kUnsignedPayload) {
      if (!options.allow_unsigned_payload) {
        return Invalid(
            "x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted here: sign the body (send "
            "its lowercase hex SHA-256), or use a TLS listener for Bedrock requests.");
      }
      payload_hash = std::string(kUnsignedPayload);
    } else {
      const std::string actual = crypto::Sha256Hex(request.body);
      if (claimed.size() != kSignatureHexChars || !IsLowerHex(claimed) ||
          !crypto::ConstantTimeEquals(actual, claimed)) {
        return Invalid(
            "The provided 'x-amz-content-sha256' header does not match what was computed: send "
            "the lowercase hex SHA-256 of the body, or UNSIGNED-PAYLOAD (chunked "
            "STREAMING-* payload signing is not supported).");
      }
      payload_hash = actual;
    }
  } else {
    payload_hash = crypto::Sha256Hex(request.body);
  }

  // The caller's secret. Bounded before it reaches the store.
  if (auth.session_token.size() > kMaxSessionTokenBytes) {
    return AuthErrorFrom(NotFound("session token too long"));
  }
  Result<crypto::SecretBytes> secret = lookup(auth.access_key_id, auth.session_token);
  if (!secret.ok()) {
    return AuthErrorFrom(secret.status());
  }

  // The signature.
  HttpRequestToSign to_sign{request.method, request.path,
                            auth.presigned ? auth.query_to_sign : request.query, request.headers,
                            std::move(payload_hash)};
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), kAuthority) !=
      auth.signed_headers.end()) {
    bool present = false;
    for (const auto& [n, v] : request.headers) present = present || n == kAuthority;
    if (!present) {
      for (std::string_view host : HeaderValues(request, "host")) {
        to_sign.headers.emplace_back(std::string(kAuthority), std::string(host));
      }
    }
  }
  const SigningScope scope{auth.region, auth.service, auth.time};
  const std::string canonical =
      CanonicalRequest(to_sign, auth.signed_headers, options.canonicalization);
  const crypto::SecretBytes signing_key = DeriveSigningKey(*secret, scope);
  const std::string expected = SignatureWithSigningKey(signing_key, StringToSign(canonical, scope));
  if (!crypto::ConstantTimeEquals(expected, auth.signature)) {
    return Invalid(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.");
  }
  return VerifiedCaller{std::move(auth.access_key_id),
                        std::move(auth.session_token),
                        std::move(auth.region),
                        std::move(auth.service),
                        auth.time,
                        std::move(auth.signed_headers)};
}

}  // namespace perimeter::identity
