#include "identity/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cassert>
#include <ctime>

#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"

namespace perimeter::identity {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// The whitespace set of C isspace() in the "C" locale; the AWS SDKs trim and collapse exactly
// these (aws-c-auth uses aws_isspace, botocore str.split()).
bool IsSigV4Space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; a '%' not followed by two hex digits stays a literal '%'. Lenient on
// purpose: the canonical form must be computable for any query a client signed.
std::string LenientPercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// RFC 3986 section 5.2.4 as the SDKs apply it: "." and empty segments vanish, ".." removes the
// previous segment (never climbing above the root), a trailing '/' survives.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  const bool ends_with_slash = !path.empty() && path.back() == '/';
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    out.append(segments[i]);
    if (i + 1 < segments.size() || ends_with_slash) {
      out.push_back('/');
    }
  }
  return out;
}

// Lowercased, sorted, unique: the canonical SignedHeaders list.
std::vector<std::string> NormalizeSignedHeaderNames(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    out.push_back(AsciiLower(name));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out.push_back(separator);
    }
    out.append(parts[i]);
  }
  return out;
}

void WipeString(std::string* s) {
  if (!s->empty()) {
    OPENSSL_cleanse(s->data(), s->size());
  }
}

}  // namespace

std::string SigV4UriEncode(std::string_view bytes, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view path, const SigV4Options& options) {
  std::string uri = options.normalize_path ? NormalizePath(path) : std::string(path);
  if (uri.empty()) {
    uri = "/";
  }
  return options.double_encode_path ? SigV4UriEncode(uri, /*encode_slash=*/false) : uri;
}

std::string CanonicalQueryString(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) {
      end = raw_query.size();
    }
    const std::string_view pair = raw_query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      const std::string_view name = pair.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      params.emplace_back(SigV4UriEncode(LenientPercentDecode(name), /*encode_slash=*/true),
                          SigV4UriEncode(LenientPercentDecode(value), /*encode_slash=*/true));
    }
    start = end + 1;
  }
  // Encoded names and values are ASCII, so std::string's ordering is the byte order AWS uses.
  std::sort(params.begin(), params.end());
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) {
      out.push_back('&');
    }
    out.append(params[i].first);
    out.push_back('=');
    out.append(params[i].second);
  }
  return out;
}

std::string CanonicalHeaderValue(std::string_view value) {
  while (!value.empty() && IsSigV4Space(value.front())) {
    value.remove_prefix(1);
  }
  while (!value.empty() && IsSigV4Space(value.back())) {
    value.remove_suffix(1);
  }
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (const char c : value) {
    if (IsSigV4Space(c)) {
      if (!in_space) {
        out.push_back(' ');
      }
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

std::string CredentialScope(const SigningScope& scope) {
  return FormatAmzDate(scope.time).substr(0, 8) + "/" + scope.region + "/" + scope.service +
         "/aws4_request";
}

std::string CanonicalRequest(const HttpRequestToSign& request,
                             const std::vector<std::string>& signed_header_names,
                             const SigV4Options& options) {
  const std::vector<std::string> names = NormalizeSignedHeaderNames(signed_header_names);

  std::string out;
  out.append(request.method).push_back('\n');
  out.append(CanonicalUri(request.path, options)).push_back('\n');
  out.append(CanonicalQueryString(request.query)).push_back('\n');
  for (const std::string& name : names) {
    out.append(name).push_back(':');
    bool first = true;
    for (const auto& [header_name, header_value] : request.headers) {
      if (EqualsIgnoreCase(header_name, name)) {
        if (!first) {
          out.push_back(',');
        }
        out.append(CanonicalHeaderValue(header_value));
        first = false;
      }
    }
    out.push_back('\n');
  }
  out.push_back('\n');
  out.append(Join(names, ';')).push_back('\n');
  out.append(request.payload_sha256_hex);
  return out;
}

std::string StringToSign(std::string_view canonical_request, const SigningScope& scope) {
  std::string out(kSigV4Algorithm);
  out.push_back('\n');
  out.append(FormatAmzDate(scope.time)).push_back('\n');
  out.append(CredentialScope(scope)).push_back('\n');
  out.append(crypto::Sha256Hex(canonical_request));
  return out;
}

crypto::SecretBytes DeriveSigningKey(const crypto::SecretBytes& secret_access_key,
                                     const SigningScope& scope) {
  // Reserved up front so that no reallocation leaves an unwiped copy of the secret behind.
  std::string k_secret;
  k_secret.reserve(4 + secret_access_key.size());
  k_secret.append("AWS4").append(secret_access_key.RevealSecretForUse());
  const std::string date = FormatAmzDate(scope.time).substr(0, 8);
  crypto::HmacSha256Tag k_date = crypto::HmacSha256(k_secret, date);
  crypto::HmacSha256Tag k_region = crypto::HmacSha256(crypto::TagBytes(k_date), scope.region);
  crypto::HmacSha256Tag k_service = crypto::HmacSha256(crypto::TagBytes(k_region), scope.service);
  crypto::HmacSha256Tag k_signing = crypto::HmacSha256(crypto::TagBytes(k_service), "aws4_request");
  crypto::SecretBytes signing_key(crypto::TagBytes(k_signing));
  WipeString(&k_secret);
  for (crypto::HmacSha256Tag* tag : {&k_date, &k_region, &k_service, &k_signing}) {
    OPENSSL_cleanse(tag->data(), tag->size());
  }
  return signing_key;
}

std::string SignatureWithSigningKey(const crypto::SecretBytes& signing_key,
                                    std::string_view string_to_sign) {
  return crypto::HexEncode(
      crypto::TagBytes(crypto::HmacSha256(signing_key.RevealSecretForUse(), string_to_sign)));
}

std::string Signature(const AwsCredentials& credentials, const SigningScope& scope,
                      std::string_view string_to_sign) {
  const crypto::SecretBytes signing_key = DeriveSigningKey(credentials.secret_access_key, scope);
  return SignatureWithSigningKey(signing_key, string_to_sign);
}

bool IsHeaderLeftUnsignedBySigner(std::string_view lowercase_name) {
  static constexpr std::string_view kUnsigned[] = {
      // Produced by SignRequest itself.
      "authorization", "x-amz-date", "x-amz-security-token",
      // Rewritten by proxies, tracing and HTTP client stacks.
      "user-agent", "x-amzn-trace-id", "expect",
      // Hop-by-hop (RFC 9110 section 7.6.1): not forwarded as sent.
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
      "upgrade"};
  return std::find(std::begin(kUnsigned), std::end(kUnsigned), lowercase_name) !=
         std::end(kUnsigned);
}

std::vector<std::pair<std::string, std::string>> SignRequest(const HttpRequestToSign& request,
                                                             const AwsCredentials& credentials,
                                                             const SigningScope& scope,
                                                             const SigV4Options& options) {
  HttpRequestToSign to_sign;
  to_sign.method = request.method;
  to_sign.path = request.path;
  to_sign.query = request.query;
  to_sign.payload_sha256_hex = request.payload_sha256_hex;
  std::vector<std::string> names;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    has_host = has_host || lower == "host";
    if (IsHeaderLeftUnsignedBySigner(lower)) {
      continue;
    }
    to_sign.headers.emplace_back(name, value);
    names.push_back(std::move(lower));
  }
  assert(has_host && "SignRequest: the request must carry a Host header");
  (void)has_host;

  std::vector<std::pair<std::string, std::string>> added;
  added.emplace_back("X-Amz-Date", FormatAmzDate(scope.time));
  if (!credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  for (const auto& [name, value] : added) {
    to_sign.headers.emplace_back(name, value);
    names.push_back(AsciiLower(name));
  }

  const std::string canonical_request = CanonicalRequest(to_sign, names, options);
  const std::string signature =
      Signature(credentials, scope, StringToSign(canonical_request, scope));
  std::string authorization(kSigV4Algorithm);
  authorization.append(" Credential=")
      .append(credentials.access_key_id)
      .append("/")
      .append(CredentialScope(scope))
      .append(", SignedHeaders=")
      .append(Join(NormalizeSignedHeaderNames(names), ';'))
      .append(", Signature=")
      .append(signature);
  added.emplace_back("Authorization", std::move(authorization));
  return added;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count();
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgument(
        "X-Amz-Date must be UTC in the form YYYYMMDDTHHMMSSZ (e.g. "
        "20150830T123600Z); got a value of " +
        std::to_string(text.size()) + " characters that is not");
  };
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return bad();
  }
  int fields[6] = {};
  const size_t starts[6] = {0, 4, 6, 9, 11, 13};
  const size_t widths[6] = {4, 2, 2, 2, 2, 2};
  for (int f = 0; f < 6; ++f) {
    for (size_t i = starts[f]; i < starts[f] + widths[f]; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return bad();
      }
      fields[f] = fields[f] * 10 + (text[i] - '0');
    }
  }
  std::tm tm{};
  tm.tm_year = fields[0] - 1900;
  tm.tm_mon = fields[1] - 1;
  tm.tm_mday = fields[2];
  tm.tm_hour = fields[3];
  tm.tm_min = fields[4];
  tm.tm_sec = fields[5];
  const std::time_t t = timegm(&tm);
  const auto time = std::chrono::system_clock::from_time_t(t);
  // timegm normalizes out-of-range fields (month 13, Feb 30, 25:00); a round trip that changes
  // the text exposes them.
  if (FormatAmzDate(time) != text) {
    return bad();
  }
  return time;
}

}  // namespace perimeter::identity
