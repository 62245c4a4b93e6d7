// Tests for VerifySigV4: every case of the official AWS SigV4 test suite verifies in both forms
// and fails when tampered with; requests signed by our own SignRequest round-trip; and each
// rejection carries the AWS error type the front door sends.
//
// The suite directory comes from PERIMETER_SHARED_DATA if set, else the PERIMETER_SHARED_DATA_DIR
// compile definition (see sigv4_conformance_test.cc for the suite's layout and flags).

#include "identity/sigv4_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "identity/aws_signing_suite.h"
#include "identity/sigv4.h"

#ifndef PERIMETER_SHARED_DATA_DIR
#error "Define PERIMETER_SHARED_DATA_DIR (the shared data directory); CMake does this for you."
#endif

namespace perimeter::identity {
namespace {

namespace fs = std::filesystem;
using namespace suite;  // NOLINT(google-build-using-namespace): test support
using std::chrono::seconds;

// --- A key store for tests -----------------------------------------------------------------------

struct FakeKey {
  std::string secret;
  std::string session_token;  // empty: long-term key, no token accepted
  bool revoked = false;
  bool session_expired = false;
};

class FakeKeyStore {
 public:
  void Add(const std::string& id, FakeKey key) { keys_[id] = std::move(key); }

  SecretLookup Lookup() {
    return [this](std::string_view id, std::string_view token) -> Result<crypto::SecretBytes> {
      ++calls_;
      const auto it = keys_.find(std::string(id));
      if (it == keys_.end()) {
        return NotFound("unknown access key");
      }
      if (it->second.revoked) {
        return PermissionDenied("access key is deactivated");
      }
      if (token != it->second.session_token) {
        return Unauthenticated("session token does not belong to this key");
      }
      if (it->second.session_expired) {
        return FailedPrecondition("expired");
      }
      return crypto::SecretBytes(it->second.secret);
    };
  }

  int calls() const { return calls_; }

 private:
  std::map<std::string, FakeKey> keys_;
  int calls_ = 0;
};

// --- The official suite --------------------------------------------------------------------------

// A received request that owns its body (ReceivedRequest only views it).
struct OwnedRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-cased names
  std::string body;

  ReceivedRequest View() const { return ReceivedRequest{method, path, query, headers, body}; }

  std::string* Header(std::string_view name) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        return &v;
      }
    }
    return nullptr;
  }
};

// The suite's raw HTTP/1.1 files (aws_signing_suite.h), with header names lower-cased as our
// HTTP layer delivers them.
std::optional<OwnedRequest> ParseOwnedRequest(std::string_view text) {
  std::optional<suite::ParsedRequest> parsed = suite::ParseRequest(text);
  if (!parsed) {
    return std::nullopt;
  }
  OwnedRequest out{std::move(parsed->method),
                   std::move(parsed->path),
                   std::move(parsed->query),
                   {},
                   std::move(parsed->body)};
  for (auto& [name, value] : parsed->headers) {
    out.headers.emplace_back(AsciiLower(name), std::move(value));
  }
  return out;
}

// Replaces the first occurrence of `from` in `*s`; false if absent.
bool ReplaceFirst(std::string* s, std::string_view from, std::string_view to) {
  const size_t at = s->find(from);
  if (at == std::string::npos) {
    return false;
  }
  s->replace(at, from.size(), to);
  return true;
}

// Flips one hex digit of the 64-hex signature that follows `marker` in `*s`.
bool FlipSignatureByte(std::string* s, std::string_view marker) {
  const size_t at = s->find(marker);
  if (at == std::string::npos || at + marker.size() >= s->size()) {
    return false;
  }
  char& c = (*s)[at + marker.size() + 10];
  c = c == '0' ? '1' : '0';
  return true;
}

class SigV4VerifierSuiteTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = SuiteDir() / GetParam();
    std::optional<std::string> context_text = ReadFile(dir_ / "context.json");
    ASSERT_TRUE(context_text.has_value()) << "cannot read " << (dir_ / "context.json");
    std::string error;
    std::optional<SuiteContext> ctx = ParseContext(*context_text, &error);
    ASSERT_TRUE(ctx.has_value()) << dir_ << ": " << error;
    ctx_ = std::move(*ctx);
    keys_.Add(ctx_.access_key_id, FakeKey{ctx_.secret_access_key, ctx_.token});
    options_.expected_service = ctx_.service;
    options_.allowed_regions = {ctx_.region};
    options_.canonicalization.normalize_path = ctx_.normalize;
  }

  OwnedRequest Load(const char* file) {
    std::optional<std::string> text = ReadFile(dir_ / file);
    EXPECT_TRUE(text.has_value()) << "cannot read " << (dir_ / file);
    std::optional<OwnedRequest> request = ParseOwnedRequest(text.value_or(""));
    EXPECT_TRUE(request.has_value()) << (dir_ / file) << " is not a parsable HTTP request";
    return request.value_or(OwnedRequest{});
  }

  // query-signed-request.txt as signed: in the omit_session_token cases the suite appended
  // X-Amz-Security-Token after signing, so it is removed (and the key store expects no token).
  OwnedRequest LoadPresignedAsSigned() {
    OwnedRequest request = Load("query-signed-request.txt");
    if (ctx_.omit_session_token && !ctx_.token.empty()) {
      const size_t at = request.query.find("&X-Amz-Security-Token=");
      EXPECT_NE(at, std::string::npos);
      if (at != std::string::npos) {
        const size_t end = request.query.find('&', at + 1);
        request.query.erase(at, end == std::string::npos ? std::string::npos : end - at);
      }
      keys_.Add(ctx_.access_key_id, FakeKey{ctx_.secret_access_key, ""});
    }
    return request;
  }

  SigV4Verification Verify(const OwnedRequest& request) {
    const ManualClock clock(ctx_.time);
    return VerifySigV4(request.View(), keys_.Lookup(), clock, options_);
  }

  void ExpectRejectedAsBadSignature(const OwnedRequest& request, const char* what) {
    const SigV4Verification v = Verify(request);
    ASSERT_FALSE(v.ok()) << what;
    EXPECT_EQ(v.error().type, "InvalidSignatureException") << what << ": " << v.error().message;
    EXPECT_EQ(v.error().http_status, 403) << what;
  }

  fs::path dir_;
  SuiteContext ctx_;
  FakeKeyStore keys_;
  VerifyOptions options_;
};

TEST_P(SigV4VerifierSuiteTest, HeaderFormVerifiesAndIdentifiesTheCaller) {
  const OwnedRequest request = Load("header-signed-request.txt");
  const SigV4Verification v = Verify(request);
  ASSERT_TRUE(v.ok()) << v.error().type << ": " << v.error().message;
  EXPECT_EQ(v.caller().access_key_id, ctx_.access_key_id);
  EXPECT_EQ(v.caller().session_token, ctx_.token);
  EXPECT_EQ(v.caller().region, ctx_.region);
  EXPECT_EQ(v.caller().service, ctx_.service);
  EXPECT_EQ(v.caller().signed_at, ctx_.time);
}

TEST_P(SigV4VerifierSuiteTest, HeaderFormFailsWhenAnySignedByteChanges) {
  const OwnedRequest original = Load("header-signed-request.txt");
  ASSERT_TRUE(Verify(original).ok());

  OwnedRequest bad_signature = original;
  ASSERT_TRUE(FlipSignatureByte(bad_signature.Header("authorization"), "Signature="));
  ExpectRejectedAsBadSignature(bad_signature, "signature byte flipped");

  OwnedRequest bad_host = original;
  bad_host.Header("host")->append("x");
  ExpectRejectedAsBadSignature(bad_host, "signed host header changed");

  OwnedRequest bad_body = original;
  bad_body.body.append("!");
  ExpectRejectedAsBadSignature(bad_body, "body changed");

  OwnedRequest bad_date = original;
  ASSERT_TRUE(ReplaceFirst(bad_date.Header("x-amz-date"), "123600Z", "123601Z"));
  ExpectRejectedAsBadSignature(bad_date, "x-amz-date changed by one second");
}

TEST_P(SigV4VerifierSuiteTest, PresignedFormVerifiesUnlessTheTokenWasAttachedAfterSigning) {
  const OwnedRequest request = Load("query-signed-request.txt");
  const SigV4Verification v = Verify(request);
  if (ctx_.omit_session_token && !ctx_.token.empty()) {
    // The suite attached X-Amz-Security-Token to the URL after signing. In a presigned URL every
    // query parameter except X-Amz-Signature is signed, so an unsigned token must not verify.
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().type, "InvalidSignatureException");
    return;
  }
  ASSERT_TRUE(v.ok()) << v.error().type << ": " << v.error().message;
  EXPECT_EQ(v.caller().access_key_id, ctx_.access_key_id);
  EXPECT_EQ(v.caller().session_token, ctx_.token);
  EXPECT_EQ(v.caller().signed_at, ctx_.time);
}

TEST_P(SigV4VerifierSuiteTest, PresignedFormFailsWhenAnySignedByteChanges) {
  const OwnedRequest original = LoadPresignedAsSigned();
  ASSERT_TRUE(Verify(original).ok()) << Verify(original).error().message;

  OwnedRequest bad_signature = original;
  ASSERT_TRUE(FlipSignatureByte(&bad_signature.query, "X-Amz-Signature="));
  ExpectRejectedAsBadSignature(bad_signature, "signature byte flipped");

  OwnedRequest bad_host = original;
  bad_host.Header("host")->append("x");
  ExpectRejectedAsBadSignature(bad_host, "signed host header changed");

  OwnedRequest bad_body = original;
  bad_body.body.append("!");
  ExpectRejectedAsBadSignature(bad_body, "body changed");

  OwnedRequest bad_date = original;
  ASSERT_TRUE(
      ReplaceFirst(&bad_date.query, "X-Amz-Date=20150830T123600Z", "X-Amz-Date=20150830T123601Z"));
  ExpectRejectedAsBadSignature(bad_date, "X-Amz-Date changed by one second");
}

TEST_P(SigV4VerifierSuiteTest, PresignedFormExpiresAfterXAmzExpires) {
  const OwnedRequest request = LoadPresignedAsSigned();
  ASSERT_NE(request.query.find("X-Amz-Expires=3600"), std::string::npos);
  ManualClock clock(ctx_.time + seconds(3600));
  EXPECT_TRUE(VerifySigV4(request.View(), keys_.Lookup(), clock, options_).ok())
      << "valid for exactly X-Amz-Expires seconds";
  clock.Advance(seconds(1));
  const SigV4Verification v = VerifySigV4(request.View(), keys_.Lookup(), clock, options_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().type, "InvalidSignatureException");
  EXPECT_NE(v.error().message.find("expired"), std::string::npos) << v.error().message;
}

TEST_P(SigV4VerifierSuiteTest, PresignedFormIsRejectedWhenSignedTooFarInTheFuture) {
  const OwnedRequest request = LoadPresignedAsSigned();
  ManualClock clock(ctx_.time - seconds(300));
  const SigV4Verification within = VerifySigV4(request.View(), keys_.Lookup(), clock, options_);
  EXPECT_TRUE(within.ok()) << within.error().message;
  clock.Advance(-seconds(1));
  const SigV4Verification v = VerifySigV4(request.View(), keys_.Lookup(), clock, options_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().type, "InvalidSignatureException");
  EXPECT_NE(v.error().message.find("Signature not yet current"), std::string::npos)
      << v.error().message;
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuiteV4, SigV4VerifierSuiteTest,
                         testing::ValuesIn(CaseNames()), CaseTestName);

TEST(SigV4VerifierSuitePresenceTest, SuiteIsPresent) {
  ASSERT_TRUE(fs::is_directory(SuiteDir())) << "AWS SigV4 test suite not found at " << SuiteDir();
  EXPECT_GE(CaseNames().size(), 30u);
}

// --- Requests signed by our own SignRequest ------------------------------------------------------

constexpr char kKeyId[] = "AKIAPERIMETERTEST01";
constexpr char kSecret[] = "perimeter/TEST+secret/key/0123456789abcdef";
constexpr char kBody[] = R"({"messages":[{"role":"user","content":[{"text":"hi"}]}]})";

class SigV4VerifierTest : public testing::Test {
 protected:
  SigV4VerifierTest() : clock_(*ParseAmzDate("20261127T073000Z")) {
    keys_.Add(kKeyId, FakeKey{kSecret, ""});
    options_.allowed_regions = {"us-east-1", "eu-west-1"};
  }

  // A Bedrock Converse request signed by SignRequest at `at` (default: the clock's time).
  OwnedRequest Signed(const std::string& secret = kSecret, const std::string& key_id = kKeyId,
                      const std::string& token = "", const std::string& region = "us-east-1",
                      const std::string& service = "bedrock",
                      std::optional<std::chrono::system_clock::time_point> at = std::nullopt,
                      std::vector<std::pair<std::string, std::string>> extra_headers = {}) {
    OwnedRequest r;
    r.method = "POST";
    r.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    r.body = kBody;
    r.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"},
                 {"content-type", "application/json"}};
    r.headers.insert(r.headers.end(), extra_headers.begin(), extra_headers.end());
    std::string payload_hash = crypto::Sha256Hex(r.body);
    for (const auto& [n, v] : r.headers) {
      if (n == "x-amz-content-sha256") {
        payload_hash = v;
      }
    }
    const HttpRequestToSign to_sign{r.method, r.path, r.query, r.headers, payload_hash};
    const AwsCredentials creds{key_id, crypto::SecretBytes(secret), token};
    for (auto& [n, v] :
         SignRequest(to_sign, creds, SigningScope{region, service, at.value_or(clock_.Now())})) {
      r.headers.emplace_back(AsciiLower(n), v);
    }
    return r;
  }

  SigV4Verification Verify(const OwnedRequest& r) {
    return VerifySigV4(r.View(), keys_.Lookup(), clock_, options_);
  }

  void ExpectError(const OwnedRequest& r, std::string_view type, std::string_view message_part) {
    const SigV4Verification v = Verify(r);
    ASSERT_FALSE(v.ok()) << "expected " << type;
    EXPECT_EQ(v.error().type, type) << v.error().message;
    EXPECT_NE(v.error().message.find(message_part), std::string::npos) << v.error().message;
    EXPECT_EQ(v.error().message.find(kSecret), std::string::npos);
  }

  ManualClock clock_;
  FakeKeyStore keys_;
  VerifyOptions options_;
};

TEST_F(SigV4VerifierTest, RequestSignedBySignRequestRoundTrips) {
  const SigV4Verification v = Verify(Signed());
  ASSERT_TRUE(v.ok()) << v.error().type << ": " << v.error().message;
  EXPECT_EQ(v.caller().access_key_id, kKeyId);
  EXPECT_EQ(v.caller().session_token, "");
  EXPECT_EQ(v.caller().region, "us-east-1");
  EXPECT_EQ(v.caller().service, "bedrock");
  EXPECT_EQ(v.caller().signed_at, clock_.Now());
}

// Over HTTP/2 the AWS SDKs sign the :authority pseudo-header instead of Host; the HTTP layer
// hands the authority on as Host.
TEST_F(SigV4VerifierTest, AcceptsAuthorityPseudoHeaderSignedInPlaceOfHost) {
  OwnedRequest r;
  r.method = "POST";
  r.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
  r.body = kBody;
  const std::string amz_date = FormatAmzDate(clock_.Now());
  const std::string host = "127.0.0.1:8443";
  HttpRequestToSign to_sign{
      r.method,
      r.path,
      "",
      {{":authority", host}, {"content-type", "application/json"}, {"x-amz-date", amz_date}},
      crypto::Sha256Hex(r.body)};
  const SigningScope scope{"eu-west-1", "bedrock", clock_.Now()};
  const std::vector<std::string> names{":authority", "content-type", "x-amz-date"};
  const AwsCredentials creds{kKeyId, crypto::SecretBytes(kSecret), ""};
  const std::string signature =
      Signature(creds, scope, StringToSign(CanonicalRequest(to_sign, names, {}), scope));
  r.headers = {{"host", host},
               {"content-type", "application/json"},
               {"x-amz-date", amz_date},
               {"authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) + "/" +
                                     amz_date.substr(0, 8) +
                                     "/eu-west-1/bedrock/aws4_request, "
                                     "SignedHeaders=:authority;content-type;x-amz-date, "
                                     "Signature=" +
                                     signature}};
  const SigV4Verification v = Verify(r);
  ASSERT_TRUE(v.ok()) << v.error().message;
  // The authority is signed: a different Host breaks the signature.
  r.headers[0].second = "127.0.0.1:9999";
  EXPECT_FALSE(Verify(r).ok());
  // Other pseudo-headers are not header names.
  r.headers[0].second = host;
  r.headers[3].second.replace(r.headers[3].second.find(":authority"), 10, ":path");
  const SigV4Verification bad = Verify(r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().type, "IncompleteSignatureException");
}

TEST_F(SigV4VerifierTest, TemporaryCredentialsWithSignedSessionTokenRoundTrip) {
  keys_.Add("ASIATEMP", FakeKey{"temp-secret", "session-token-1"});
  const SigV4Verification v = Verify(Signed("temp-secret", "ASIATEMP", "session-token-1"));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v.caller().session_token, "session-token-1");
}

TEST_F(SigV4VerifierTest, RejectsWrongSecretWithoutRevealingIt) {
  ExpectError(Signed("not-the-secret"), "InvalidSignatureException",
              "does not match the signature you provided");
}

TEST_F(SigV4VerifierTest, RejectsUnknownKey) {
  ExpectError(Signed(kSecret, "AKIAUNKNOWN"), "UnrecognizedClientException",
              "security token included in the request is invalid");
}

TEST_F(SigV4VerifierTest, RejectsRevokedKeyOnTheVeryNextRequest) {
  const OwnedRequest r = Signed();
  ASSERT_TRUE(Verify(r).ok());
  keys_.Add(kKeyId, FakeKey{kSecret, "", /*revoked=*/true});
  ExpectError(r, "UnrecognizedClientException", "invalid");
}

TEST_F(SigV4VerifierTest, RejectsExpiredSessionToken) {
  keys_.Add("ASIATEMP", FakeKey{"temp-secret", "tok", false, /*session_expired=*/true});
  const OwnedRequest r = Signed("temp-secret", "ASIATEMP", "tok");
  ExpectError(r, "ExpiredTokenException", "expired");
  EXPECT_EQ(Verify(r).error().http_status, 403);
}

TEST_F(SigV4VerifierTest, RejectsSessionTokenOfAnotherKey) {
  keys_.Add("ASIATEMP", FakeKey{"temp-secret", "tok"});
  ExpectError(Signed("temp-secret", "ASIATEMP", "someone-elses-token"),
              "UnrecognizedClientException", "invalid");
}

TEST_F(SigV4VerifierTest, AcceptsSkewUpToFiveMinutesEitherWay) {
  EXPECT_TRUE(
      Verify(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", clock_.Now() - seconds(300)))
          .ok());
  EXPECT_TRUE(
      Verify(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", clock_.Now() + seconds(300)))
          .ok());
}

TEST_F(SigV4VerifierTest, RejectsRequestSignedMoreThanFiveMinutesAgo) {
  ExpectError(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", clock_.Now() - seconds(301)),
              "InvalidSignatureException",
              "Signature expired: 20261127T072459Z is now earlier than 20261127T072500Z "
              "(20261127T073000Z - 5 min.)");
}

TEST_F(SigV4VerifierTest, RejectsRequestSignedMoreThanFiveMinutesAhead) {
  ExpectError(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", clock_.Now() + seconds(301)),
              "InvalidSignatureException",
              "Signature not yet current: 20261127T073501Z is still later than 20261127T073500Z");
}

TEST_F(SigV4VerifierTest, SkewWindowIsConfigurable) {
  options_.max_skew = seconds(60);
  ExpectError(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", clock_.Now() - seconds(61)),
              "InvalidSignatureException", "Signature expired");
}

TEST_F(SigV4VerifierTest, RejectsScopeDateThatDiffersFromXAmzDate) {
  OwnedRequest r = Signed();
  ASSERT_TRUE(ReplaceFirst(r.Header("authorization"), "/20261127/", "/20261126/"));
  ExpectError(r, "InvalidSignatureException",
              "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
              "from HTTP: '20261126' != '20261127'");
}

TEST_F(SigV4VerifierTest, RejectsWrongService) {
  ExpectError(Signed(kSecret, kKeyId, "", "us-east-1", "s3"), "InvalidSignatureException",
              "Credential should be scoped to correct service: 'bedrock'");
}

TEST_F(SigV4VerifierTest, RejectsDisallowedRegion) {
  ExpectError(Signed(kSecret, kKeyId, "", "ap-south-1"), "InvalidSignatureException",
              "Credential should be scoped to a valid region, not 'ap-south-1'");
  options_.allowed_regions.clear();
  EXPECT_TRUE(Verify(Signed(kSecret, kKeyId, "", "ap-south-1")).ok()) << "empty list = any";
}

TEST_F(SigV4VerifierTest, RejectsSignedHeadersWithoutHost) {
  OwnedRequest r = Signed();
  ASSERT_TRUE(ReplaceFirst(r.Header("authorization"), "SignedHeaders=content-type;host;",
                           "SignedHeaders=content-type;"));
  ExpectError(r, "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader'");
}

TEST_F(SigV4VerifierTest, RejectsSignedHeaderThatIsNotInTheRequest) {
  OwnedRequest r = Signed();
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.first == "content-type"; }),
                  r.headers.end());
  ExpectError(r, "InvalidSignatureException", "SignedHeaders lists 'content-type'");
}

TEST_F(SigV4VerifierTest, ContentSha256HeaderMustMatchTheBody) {
  const std::string body_hash = crypto::Sha256Hex(kBody);
  EXPECT_TRUE(Verify(Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", std::nullopt,
                            {{"x-amz-content-sha256", body_hash}}))
                  .ok());
  OwnedRequest r = Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", std::nullopt,
                          {{"x-amz-content-sha256", body_hash}});
  r.body = "{}";
  ExpectError(r, "InvalidSignatureException", "'x-amz-content-sha256' header does not match");
}

TEST_F(SigV4VerifierTest, UnsignedPayloadIsSignedAsTheLiteralAndAllowsAnyBody) {
  OwnedRequest r = Signed(kSecret, kKeyId, "", "us-east-1", "bedrock", std::nullopt,
                          {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}});
  ASSERT_TRUE(Verify(r).ok()) << Verify(r).error().message;
  r.body = "{}";
  EXPECT_TRUE(Verify(r).ok());
  // Where the caller does not allow it (STS, Bedrock without TLS), it is refused.
  options_.allow_unsigned_payload = false;
  ExpectError(r, "InvalidSignatureException", "UNSIGNED-PAYLOAD is not accepted here");
}

TEST_F(SigV4VerifierTest, RejectsRequestWithoutAnyAuthentication) {
  OwnedRequest r = Signed();
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.first == "authorization"; }),
                  r.headers.end());
  ExpectError(r, "MissingAuthenticationTokenException", "Missing Authentication Token");
  EXPECT_EQ(keys_.calls(), 0);
}

TEST_F(SigV4VerifierTest, RejectsBothHeaderAndPresignedForms) {
  OwnedRequest r = Signed();
  r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
  ExpectError(r, "IncompleteSignatureException", "Only one auth mechanism allowed");
}

TEST_F(SigV4VerifierTest, RejectsMissingDate) {
  OwnedRequest r = Signed();
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) { return h.first == "x-amz-date"; }),
                  r.headers.end());
  ExpectError(r, "IncompleteSignatureException",
              "requires existence of either a 'X-Amz-Date' or a 'Date' header");
}

TEST_F(SigV4VerifierTest, AcceptsImfFixdateDateHeaderInsteadOfXAmzDate) {
  // Signed with the building blocks, as an SDK that uses the Date header would: the string to
  // sign carries the instant in ISO 8601 basic format whichever header conveyed it.
  OwnedRequest r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"},
               {"date", "Fri, 27 Nov 2026 07:30:00 GMT"}};
  const SigningScope scope{"us-east-1", "bedrock", clock_.Now()};
  const std::string canonical = CanonicalRequest(
      HttpRequestToSign{r.method, r.path, r.query, r.headers, std::string(kEmptyPayloadSha256)},
      {"date", "host"}, SigV4Options{});
  const std::string signature = Signature(AwsCredentials{kKeyId, crypto::SecretBytes(kSecret), ""},
                                          scope, StringToSign(canonical, scope));
  r.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                              "/20261127/us-east-1/bedrock/aws4_request, "
                                              "SignedHeaders=date;host, Signature=" +
                                              signature);
  const SigV4Verification v = Verify(r);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v.caller().signed_at, clock_.Now());

  *r.Header("date") = "Fri, 27 Nov 2026 07:30:01 GMT";
  ExpectError(r, "InvalidSignatureException", "does not match the signature you provided");
  *r.Header("date") = "Friday, 27-Nov-26 07:30:00 GMT";
  ExpectError(r, "IncompleteSignatureException", "must be an IMF-fixdate");
}

struct MalformedCase {
  const char* name;
  std::string authorization;
  const char* type;
  const char* message_part;
};

TEST_F(SigV4VerifierTest, RejectsMalformedAuthorizationHeaders) {
  const std::string cred = "Credential=AKIAPERIMETERTEST01/20261127/us-east-1/bedrock/aws4_request";
  const std::string sh = "SignedHeaders=content-type;host;x-amz-date";
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::vector<MalformedCase> cases = {
      {"empty", "", "IncompleteSignatureException", "Unsupported Authorization algorithm"},
      {"other algorithm", "AWS4-HMAC-SHA1 " + cred + ", " + sh + ", " + sig,
       "IncompleteSignatureException", "Unsupported Authorization algorithm 'AWS4-HMAC-SHA1'"},
      {"algorithm only", "AWS4-HMAC-SHA256", "IncompleteSignatureException",
       "Authorization header requires 'Credential' parameter. Authorization header requires "
       "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
      {"no credential", "AWS4-HMAC-SHA256 " + sh + ", " + sig, "IncompleteSignatureException",
       "requires 'Credential' parameter"},
      {"no signed headers", "AWS4-HMAC-SHA256 " + cred + ", " + sig, "IncompleteSignatureException",
       "requires 'SignedHeaders' parameter"},
      {"no signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh, "IncompleteSignatureException",
       "requires 'Signature' parameter"},
      {"duplicate credential", "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sh + ", " + sig,
       "IncompleteSignatureException", "more than one 'Credential'"},
      {"duplicate signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", " + sig,
       "IncompleteSignatureException", "more than one 'Signature'"},
      {"missing equal sign", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders, " + sig,
       "IncompleteSignatureException", "missing equal-sign"},
      {"unknown parameter", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Foo=bar",
       "IncompleteSignatureException", "Unknown parameter 'Foo'"},
      {"empty value", "AWS4-HMAC-SHA256 Credential=, " + sh + ", " + sig,
       "IncompleteSignatureException", "'Credential' is empty"},
      {"four credential parts",
       "AWS4-HMAC-SHA256 Credential=AKIAPERIMETERTEST01/20261127/us-east-1/aws4_request, " + sh +
           ", " + sig,
       "IncompleteSignatureException", "exactly 5 slash-delimited elements"},
      {"bad scope date",
       "AWS4-HMAC-SHA256 Credential=AKIAPERIMETERTEST01/2026-11-27/us-east-1/bedrock/"
       "aws4_request, " +
           sh + ", " + sig,
       "IncompleteSignatureException", "must be YYYYMMDD"},
      {"bad terminator",
       "AWS4-HMAC-SHA256 Credential=AKIAPERIMETERTEST01/20261127/us-east-1/bedrock/aws5_request, " +
           sh + ", " + sig,
       "InvalidSignatureException", "valid terminator"},
      {"bad key id",
       "AWS4-HMAC-SHA256 Credential=AKIA PERIMETER/20261127/us-east-1/bedrock/aws4_request, " + sh +
           ", " + sig,
       "IncompleteSignatureException", "access key id in Credential"},
      {"uppercase signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host, " + sig,
       "IncompleteSignatureException", "lowercase header names"},
      {"empty signed header name", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, " + sig,
       "IncompleteSignatureException", "lowercase header names"},
      {"short signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=abc",
       "IncompleteSignatureException", "64 lowercase hexadecimal"},
      {"uppercase signature",
       "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + std::string(64, 'A'),
       "IncompleteSignatureException", "64 lowercase hexadecimal"},
      {"oversized", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + std::string(9000, ' '),
       "IncompleteSignatureException", "longer than 8192"},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    OwnedRequest r = Signed();
    *r.Header("authorization") = c.authorization;
    ExpectError(r, c.type, c.message_part);
    EXPECT_EQ(Verify(r).error().http_status,
              std::string_view(c.type) == "IncompleteSignatureException" ? 400 : 403);
  }
  EXPECT_EQ(keys_.calls(), 0) << "malformed requests never reach the key store";
}

TEST_F(SigV4VerifierTest, RejectsDuplicateAuthorizationAndDateHeaders) {
  OwnedRequest r = Signed();
  r.headers.emplace_back("authorization", *r.Header("authorization"));
  ExpectError(r, "IncompleteSignatureException", "more than one Authorization header");
  OwnedRequest d = Signed();
  d.headers.emplace_back("x-amz-date", *d.Header("x-amz-date"));
  ExpectError(d, "IncompleteSignatureException", "more than one X-Amz-Date");
}

TEST_F(SigV4VerifierTest, RejectsMalformedPresignedQueries) {
  const std::string base =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAPERIMETERTEST01%2F20261127%2F"
      "us-east-1%2Fbedrock%2Faws4_request&X-Amz-Date=20261127T073000Z&X-Amz-SignedHeaders=host";
  const std::string sig = "&X-Amz-Signature=" + std::string(64, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {base + sig, "must include 'X-Amz-Expires'"},
      {base + "&X-Amz-Expires=0" + sig, "X-Amz-Expires must be a whole number"},
      {base + "&X-Amz-Expires=604801" + sig, "X-Amz-Expires must be a whole number"},
      {base + "&X-Amz-Expires=-5" + sig, "X-Amz-Expires must be a whole number"},
      {base + "&X-Amz-Expires=60" + sig + sig, "more than one 'X-Amz-Signature'"},
      {base + "&X-Amz-Expires=60", "must include 'X-Amz-Signature'"},
      {base + "&X-Amz-Expires=60&X-Amz-Security-Token=%zz" + sig, "malformed percent-escape"},
  };
  for (const auto& [query, message_part] : cases) {
    SCOPED_TRACE(query);
    OwnedRequest r;
    r.method = "GET";
    r.path = "/";
    r.query = query;
    r.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}};
    ExpectError(r, "IncompleteSignatureException", message_part);
  }
}

TEST(AuthErrorFromTest, MapsLookupFailuresToAwsErrorTypes) {
  EXPECT_EQ(AuthErrorFrom(NotFound("x")).type, "UnrecognizedClientException");
  EXPECT_EQ(AuthErrorFrom(PermissionDenied("x")).type, "UnrecognizedClientException");
  EXPECT_EQ(AuthErrorFrom(FailedPrecondition("expired")).type, "ExpiredTokenException");
  EXPECT_EQ(AuthErrorFrom(Unavailable("db down")).http_status, 503);
  const AuthError internal = AuthErrorFrom(Internal("sqlite: disk I/O error at /var/keys"));
  EXPECT_EQ(internal.http_status, 500);
  EXPECT_EQ(internal.message.find("sqlite"), std::string::npos) << "internal detail leaked";
}

}  // namespace
}  // namespace perimeter::identity
