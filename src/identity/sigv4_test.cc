// Unit tests for the SigV4 building blocks and SignRequest. Byte-for-byte agreement with AWS is
// established by sigv4_conformance_test.cc; these pin the individual rules and the cases the
// official suite does not cover (Bedrock-style paths, UNSIGNED-PAYLOAD, unsigned headers, ...).

#include "identity/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash.h"

namespace perimeter::identity {
namespace {

using std::chrono::system_clock;

constexpr char kAccessKeyId[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

system_clock::time_point SuiteTime() {
  Result<system_clock::time_point> t = ParseAmzDate("20150830T123600Z");
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : system_clock::time_point();
}

SigningScope BedrockScope() { return {"us-east-1", "bedrock", SuiteTime()}; }

AwsCredentials Credentials(std::string token = "") {
  return AwsCredentials{kAccessKeyId, crypto::SecretBytes(kSecret), std::move(token)};
}

HttpRequestToSign BedrockInvoke() {
  HttpRequestToSign request;
  request.method = "POST";
  request.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke";
  request.headers = {{"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
                     {"Content-Type", "application/json"}};
  request.payload_sha256_hex = crypto::Sha256Hex(R"({"prompt":"hi"})");
  return request;
}

std::string HeaderNamed(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return v;
    }
  }
  return "<absent>";
}

// Splits "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b, Signature=hex".
struct ParsedAuthorization {
  std::string credential;
  std::string signed_headers;
  std::string signature;
};

ParsedAuthorization ParseAuthorization(const std::string& value) {
  ParsedAuthorization out;
  const auto field = [&](const std::string& key) {
    const size_t start = value.find(key + "=");
    if (start == std::string::npos) {
      return std::string();
    }
    const size_t from = start + key.size() + 1;
    const size_t end = value.find(',', from);
    return value.substr(from, end == std::string::npos ? std::string::npos : end - from);
  };
  out.credential = field("Credential");
  out.signed_headers = field("SignedHeaders");
  out.signature = field("Signature");
  return out;
}

std::vector<std::string> SplitSemicolons(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(';', start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string::npos) {
      return out;
    }
    start = end + 1;
  }
}

// Verifies a SignRequest result the way the gateway's verifier will: canonicalize the request as
// received with the SignedHeaders the client declared, and recompute the signature.
std::string RecomputeSignature(const HttpRequestToSign& request,
                               const std::vector<std::pair<std::string, std::string>>& added,
                               const SigningScope& scope, const SigV4Options& options = {}) {
  HttpRequestToSign received = request;
  received.headers.insert(received.headers.end(), added.begin(), added.end());
  const ParsedAuthorization auth = ParseAuthorization(HeaderNamed(added, "Authorization"));
  const std::string canonical =
      CanonicalRequest(received, SplitSemicolons(auth.signed_headers), options);
  return Signature(Credentials(), scope, StringToSign(canonical, scope));
}

// --- Signing key and signature -------------------------------------------------------------------

TEST(DeriveSigningKeyTest, MatchesAwsDocumentationExample) {
  // From the AWS documentation's signing-key derivation example (IAM, us-east-1, 2012-02-15).
  Result<system_clock::time_point> t = ParseAmzDate("20120215T000000Z");
  ASSERT_TRUE(t.ok());
  const crypto::SecretBytes key =
      DeriveSigningKey(crypto::SecretBytes(kSecret), SigningScope{"us-east-1", "iam", *t});
  EXPECT_EQ(crypto::HexEncode(key.RevealSecretForUse()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(DeriveSigningKeyTest, DependsOnDateNotTimeOfDay) {
  const SigningScope morning{"us-east-1", "bedrock", SuiteTime() - std::chrono::hours(12)};
  const SigningScope evening{"us-east-1", "bedrock", SuiteTime() + std::chrono::hours(11)};
  const SigningScope next_day{"us-east-1", "bedrock", SuiteTime() + std::chrono::hours(12)};
  const crypto::SecretBytes secret(kSecret);
  EXPECT_EQ(DeriveSigningKey(secret, morning).RevealSecretForUse(),
            DeriveSigningKey(secret, evening).RevealSecretForUse());
  EXPECT_NE(DeriveSigningKey(secret, morning).RevealSecretForUse(),
            DeriveSigningKey(secret, next_day).RevealSecretForUse());
}

TEST(SignatureTest, EqualsSignatureWithDerivedKey) {
  const SigningScope scope = BedrockScope();
  const crypto::SecretBytes key = DeriveSigningKey(crypto::SecretBytes(kSecret), scope);
  EXPECT_EQ(Signature(Credentials(), scope, "string to sign"),
            SignatureWithSigningKey(key, "string to sign"));
  EXPECT_EQ(Signature(Credentials(), scope, "string to sign").size(), 64u);
}

TEST(StringToSignTest, HasAlgorithmDateScopeAndRequestHash) {
  EXPECT_EQ(StringToSign("canonical", BedrockScope()),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/bedrock/aws4_request\n" +
                crypto::Sha256Hex("canonical"));
}

TEST(CredentialScopeTest, UsesUtcDateRegionAndService) {
  EXPECT_EQ(CredentialScope(BedrockScope()), "20150830/us-east-1/bedrock/aws4_request");
}

// --- SignRequest ---------------------------------------------------------------------------------

TEST(SignRequestTest, AddsDateAndAuthorizationWithoutToken) {
  const auto added = SignRequest(BedrockInvoke(), Credentials(), BedrockScope());
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0].first, "X-Amz-Date");
  EXPECT_EQ(added[0].second, "20150830T123600Z");
  EXPECT_EQ(added[1].first, "Authorization");
  const ParsedAuthorization auth = ParseAuthorization(added[1].second);
  EXPECT_EQ(added[1].second.rfind("AWS4-HMAC-SHA256 Credential=", 0), 0u);
  EXPECT_EQ(auth.credential, "AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request");
  EXPECT_EQ(auth.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(auth.signature, RecomputeSignature(BedrockInvoke(), added, BedrockScope()));
}

TEST(SignRequestTest, SessionTokenIsAddedAndSigned) {
  const std::string token = "FQoGZXIvYXdzEXAMPLETOKEN//+=";
  const auto added = SignRequest(BedrockInvoke(), Credentials(token), BedrockScope());
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(HeaderNamed(added, "X-Amz-Security-Token"), token);
  const ParsedAuthorization auth = ParseAuthorization(HeaderNamed(added, "Authorization"));
  EXPECT_EQ(auth.signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(auth.signature, RecomputeSignature(BedrockInvoke(), added, BedrockScope()));

  // The token is covered by the signature: a different token gives a different signature.
  const auto other = SignRequest(BedrockInvoke(), Credentials(token + "x"), BedrockScope());
  EXPECT_NE(ParseAuthorization(HeaderNamed(other, "Authorization")).signature, auth.signature);
}

TEST(SignRequestTest, UnsignedPayloadIsSignedAsTheLiteral) {
  HttpRequestToSign request = BedrockInvoke();
  request.payload_sha256_hex = std::string(kUnsignedPayload);
  const auto added = SignRequest(request, Credentials(), BedrockScope());

  HttpRequestToSign received = request;
  received.headers.insert(received.headers.end(), added.begin(), added.end());
  const std::string canonical =
      CanonicalRequest(received, {"content-type", "host", "x-amz-date"}, {});
  EXPECT_TRUE(canonical.ends_with("\ncontent-type;host;x-amz-date\nUNSIGNED-PAYLOAD"));
  EXPECT_EQ(ParseAuthorization(HeaderNamed(added, "Authorization")).signature,
            Signature(Credentials(), BedrockScope(), StringToSign(canonical, BedrockScope())));

  const auto with_hash = SignRequest(BedrockInvoke(), Credentials(), BedrockScope());
  EXPECT_NE(HeaderNamed(with_hash, "Authorization"), HeaderNamed(added, "Authorization"));
}

TEST(SignRequestTest, BedrockModelPathIsDoubleEncoded) {
  HttpRequestToSign received = BedrockInvoke();
  const auto added = SignRequest(received, Credentials(), BedrockScope());
  received.headers.insert(received.headers.end(), added.begin(), added.end());
  const std::string canonical =
      CanonicalRequest(received, {"content-type", "host", "x-amz-date"}, {});
  EXPECT_TRUE(
      canonical.starts_with("POST\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/invoke\n\n"))
      << canonical;
}

TEST(SignRequestTest, LeavesProxyRewrittenAndHopByHopHeadersUnsigned) {
  HttpRequestToSign request = BedrockInvoke();
  request.headers.emplace_back("User-Agent", "aws-sdk-cpp/1.11");
  request.headers.emplace_back("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793");
  request.headers.emplace_back("Connection", "keep-alive");
  request.headers.emplace_back("Transfer-Encoding", "chunked");
  request.headers.emplace_back("Expect", "100-continue");
  const auto added = SignRequest(request, Credentials(), BedrockScope());
  EXPECT_EQ(ParseAuthorization(HeaderNamed(added, "Authorization")).signed_headers,
            "content-type;host;x-amz-date");
  // Changing an unsigned header does not change the signature.
  HttpRequestToSign changed = request;
  changed.headers[2].second = "aws-cli/2.0";
  EXPECT_EQ(HeaderNamed(SignRequest(changed, Credentials(), BedrockScope()), "Authorization"),
            HeaderNamed(added, "Authorization"));
}

TEST(SignRequestTest, IgnoresCallerSuppliedAuthorizationHeaders) {
  HttpRequestToSign request = BedrockInvoke();
  const auto clean = SignRequest(request, Credentials(), BedrockScope());
  request.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 stale");
  request.headers.emplace_back("X-Amz-Date", "20000101T000000Z");
  request.headers.emplace_back("x-amz-security-token", "stale-token");
  EXPECT_EQ(SignRequest(request, Credentials(), BedrockScope()), clean);
}

TEST(SignRequestTest, SignsAmzAndCustomHeadersInLowercaseSortedOrder) {
  HttpRequestToSign request = BedrockInvoke();
  request.headers.emplace_back("X-Amzn-Bedrock-GuardrailIdentifier", "gr-1");
  request.headers.emplace_back("Accept", "application/json");
  const auto added = SignRequest(request, Credentials(), BedrockScope());
  EXPECT_EQ(ParseAuthorization(HeaderNamed(added, "Authorization")).signed_headers,
            "accept;content-type;host;x-amz-date;x-amzn-bedrock-guardrailidentifier");
  EXPECT_EQ(ParseAuthorization(HeaderNamed(added, "Authorization")).signature,
            RecomputeSignature(request, added, BedrockScope()));
}

TEST(SignRequestTest, SignatureChangesWithEverySignedInput) {
  const std::string base =
      HeaderNamed(SignRequest(BedrockInvoke(), Credentials(), BedrockScope()), "Authorization");
  const auto sign = [](const HttpRequestToSign& r, const SigningScope& s) {
    return HeaderNamed(SignRequest(r, Credentials(), s), "Authorization");
  };
  HttpRequestToSign r = BedrockInvoke();
  r.method = "PUT";
  EXPECT_NE(sign(r, BedrockScope()), base);
  r = BedrockInvoke();
  r.path += "-with-response-stream";
  EXPECT_NE(sign(r, BedrockScope()), base);
  r = BedrockInvoke();
  r.query = "a=1";
  EXPECT_NE(sign(r, BedrockScope()), base);
  r = BedrockInvoke();
  r.headers[1].second = "text/plain";
  EXPECT_NE(sign(r, BedrockScope()), base);
  r = BedrockInvoke();
  r.payload_sha256_hex = crypto::Sha256Hex("other body");
  EXPECT_NE(sign(r, BedrockScope()), base);
  SigningScope s = BedrockScope();
  s.region = "eu-west-1";
  EXPECT_NE(sign(BedrockInvoke(), s), base);
  s = BedrockScope();
  s.time += std::chrono::seconds(1);
  EXPECT_NE(sign(BedrockInvoke(), s), base);
}

// --- Canonical headers ---------------------------------------------------------------------------

TEST(CanonicalHeaderValueTest, TrimsAndCollapsesSequentialSpaces) {
  EXPECT_EQ(CanonicalHeaderValue("  value1  "), "value1");
  EXPECT_EQ(CanonicalHeaderValue("\"a   b   c\""), "\"a b c\"");
  EXPECT_EQ(CanonicalHeaderValue("a \t\r\n b"), "a b");
  EXPECT_EQ(CanonicalHeaderValue("\ta\tb\t"), "a b");
  EXPECT_EQ(CanonicalHeaderValue("   "), "");
  EXPECT_EQ(CanonicalHeaderValue(""), "");
  EXPECT_EQ(CanonicalHeaderValue("VALUE1"), "VALUE1");
}

TEST(CanonicalRequestTest, RepeatedHeadersJoinWithCommaInReceivedOrder) {
  HttpRequestToSign request{
      "GET",
      "/",
      "",
      {{"Host", "h"}, {"My-Header", " b "}, {"my-header", "a"}, {"MY-HEADER", "c  d"}},
      std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(
      CanonicalRequest(request, {"host", "my-header"}, {}),
      "GET\n/\n\nhost:h\nmy-header:b,a,c d\n\nhost;my-header\n" + std::string(kEmptyPayloadSha256));
}

TEST(CanonicalRequestTest, SignedHeaderNamesAreLowercasedSortedAndDeduplicated) {
  HttpRequestToSign request{
      "GET", "/", "", {{"Host", "h"}, {"X-Amz-Date", "d"}, {"Zeta", "z"}}, "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(request, {"X-Amz-Date", "host", "HOST", "x-amz-date"}, {}),
            "GET\n/\n\nhost:h\nx-amz-date:d\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD");
}

TEST(CanonicalRequestTest, OnlySignedHeadersAreIncluded) {
  HttpRequestToSign request{"GET", "/", "", {{"Host", "h"}, {"Unsigned", "u"}}, "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(request, {"host"}, {}), "GET\n/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
}

TEST(CanonicalRequestTest, MissingSignedHeaderHasEmptyValue) {
  HttpRequestToSign request{"GET", "/", "", {{"Host", "h"}}, "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(request, {"host", "x-missing"}, {}),
            "GET\n/\n\nhost:h\nx-missing:\n\nhost;x-missing\nUNSIGNED-PAYLOAD");
}

// --- Canonical query -----------------------------------------------------------------------------

TEST(CanonicalQueryStringTest, SortsByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQueryString("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(CanonicalQueryString("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
  // Byte order: uppercase before lowercase.
  EXPECT_EQ(CanonicalQueryString("a=1&B=1&A=1"), "A=1&B=1&a=1");
  EXPECT_EQ(CanonicalQueryString(""), "");
}

TEST(CanonicalQueryStringTest, EncodesEverythingButUnreserved) {
  EXPECT_EQ(CanonicalQueryString("k=a b"), "k=a%20b");
  EXPECT_EQ(CanonicalQueryString("k=a/b:c"), "k=a%2Fb%3Ac");
  EXPECT_EQ(CanonicalQueryString("k=-._~AZaz09"), "k=-._~AZaz09");
  EXPECT_EQ(CanonicalQueryString("k=\xE1\x88\xB4"), "k=%E1%88%B4");
  EXPECT_EQ(CanonicalQueryString("k=a=b"), "k=a%3Db");
}

TEST(CanonicalQueryStringTest, PlusIsALiteralPlusNotASpace) {
  EXPECT_EQ(CanonicalQueryString("k=a+b"), "k=a%2Bb");
  EXPECT_EQ(CanonicalQueryString("k=a%2bb"), "k=a%2Bb");
}

TEST(CanonicalQueryStringTest, ReencodesEscapesCanonically) {
  EXPECT_EQ(CanonicalQueryString("k=%7e"), "k=~");
  EXPECT_EQ(CanonicalQueryString("k=%2f"), "k=%2F");
  EXPECT_EQ(CanonicalQueryString("%6B=v"), "k=v");
}

TEST(CanonicalQueryStringTest, MalformedEscapeIsALiteralPercent) {
  EXPECT_EQ(CanonicalQueryString("k=100%"), "k=100%25");
  EXPECT_EQ(CanonicalQueryString("k=%zz"), "k=%25zz");
  EXPECT_EQ(CanonicalQueryString("k=%4"), "k=%254");
}

TEST(CanonicalQueryStringTest, MissingValueIsEmptyAndEmptyPairsAreDropped) {
  EXPECT_EQ(CanonicalQueryString("flag"), "flag=");
  EXPECT_EQ(CanonicalQueryString("&&b=&a&"), "a=&b=");
}

// --- Canonical URI -------------------------------------------------------------------------------

TEST(CanonicalUriTest, NormalizesDotSegmentsAndEmptySegments) {
  const SigV4Options opts;
  EXPECT_EQ(CanonicalUri("/example/..", opts), "/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c", opts), "/a/c");
  EXPECT_EQ(CanonicalUri("//a//b//", opts), "/a/b/");
  EXPECT_EQ(CanonicalUri("/../../a", opts), "/a");
  EXPECT_EQ(CanonicalUri("/./", opts), "/");
  EXPECT_EQ(CanonicalUri("", opts), "/");
  EXPECT_EQ(CanonicalUri("/a/...", opts), "/a/...");
}

TEST(CanonicalUriTest, DoubleEncodesTheWirePath) {
  const SigV4Options opts;
  EXPECT_EQ(CanonicalUri("/model/m%3A0/invoke", opts), "/model/m%253A0/invoke");
  EXPECT_EQ(CanonicalUri("/example space/", opts), "/example%20space/");
  EXPECT_EQ(CanonicalUri("/-._~AZaz09", opts), "/-._~AZaz09");
}

TEST(CanonicalUriTest, S3OptionsUseThePathAsSent) {
  const SigV4Options s3{.normalize_path = false, .double_encode_path = false};
  EXPECT_EQ(CanonicalUri("/bucket//a/./b%3A", s3), "/bucket//a/./b%3A");
  EXPECT_EQ(CanonicalUri("", s3), "/");
}

TEST(SigV4UriEncodeTest, EncodesSlashOnlyWhenAsked) {
  EXPECT_EQ(SigV4UriEncode("a/b c", false), "a/b%20c");
  EXPECT_EQ(SigV4UriEncode("a/b c", true), "a%2Fb%20c");
  EXPECT_EQ(SigV4UriEncode(std::string_view("\x00\xff", 2), true), "%00%FF");
}

// --- Dates ---------------------------------------------------------------------------------------

TEST(AmzDateTest, FormatsUtcWholeSeconds) {
  EXPECT_EQ(FormatAmzDate(system_clock::from_time_t(1440938160)), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(system_clock::from_time_t(1440938160) + std::chrono::milliseconds(999)),
            "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(system_clock::from_time_t(0)), "19700101T000000Z");
}

TEST(AmzDateTest, ParseRoundTrips) {
  Result<system_clock::time_point> t = ParseAmzDate("20150830T123600Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, system_clock::from_time_t(1440938160));
  Result<system_clock::time_point> leap = ParseAmzDate("20240229T235959Z");
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(FormatAmzDate(*leap), "20240229T235959Z");
}

TEST(AmzDateTest, ParseRejectsAnythingElse) {
  for (const char* bad :
       {"", "20150830T123600", "2015-08-30T12:36:00Z", "20150830t123600Z", "20151330T123600Z",
        "20150230T123600Z", "20150830T253600Z", "20150830T126000Z", "2015083XT123600Z",
        "20150830T123600Z ", "+0150830T123600Z"}) {
    Result<system_clock::time_point> t = ParseAmzDate(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(t.status().message().find("YYYYMMDDTHHMMSSZ"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace perimeter::identity
