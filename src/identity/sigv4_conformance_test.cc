// Byte-for-byte conformance with the official AWS Signature Version 4 test suite.
//
// The suite (awslabs/aws-c-auth tests/aws-signing-test-suite/v4, Apache-2.0) lives outside the
// project in <shared data>/aws-signing-test-suite/v4, one directory per case:
//   context.json                 credentials, region, service, timestamp, normalize, sign_body,
//                                omit_session_token
//   request.txt                  the request before signing
//   header-canonical-request.txt, header-string-to-sign.txt, header-signature.txt,
//   header-signed-request.txt    expected results of Authorization-header signing
//   query-canonical-request.txt, query-string-to-sign.txt, query-signature.txt,
//   query-signed-request.txt     expected results of presigned-URL (query) signing
//
// How the suite's flags map to our options (documented by the suite's own harness,
// aws-c-auth tests/sigv4_signing_tests.c):
//   - normalize -> SigV4Options::normalize_path. The "-normalized" / "-unnormalized" case pairs
//     differ only in this flag.
//   - the harness always sets use_double_uri_encode = true, i.e. the non-S3 behaviour, so
//     double_encode_path is always true here. The request paths in request.txt are raw (e.g.
//     "/example space/"), which that one encoding pass turns into "/example%20space/".
//   - sign_body -> the signer adds an x-amz-content-sha256 header holding the body hash and signs
//     it (S3 style). SignRequest leaves that to its caller, so this test adds the header itself.
//   - omit_session_token -> the token is attached after signing and is not signed. SignRequest
//     always signs a token, so this test signs without one and attaches it afterwards.
//
// Three checks per case, each comparing with the suite byte for byte:
//   1. Signer: SignRequest(request.txt) yields exactly the headers of header-signed-request.txt,
//      and the canonical request / string to sign it signed equal the expected files.
//   2. Header verifier: header-signed-request.txt, canonicalized with the SignedHeaders of its own
//      Authorization header, gives the expected canonical request, string to sign and signature.
//   3. Presigned-URL verifier: query-signed-request.txt without X-Amz-Signature, canonicalized
//      with its X-Amz-SignedHeaders, gives the expected query-* canonical request, string to sign
//      and signature.
//
// The suite directory comes from the PERIMETER_SHARED_DATA environment variable if set, else the
// PERIMETER_SHARED_DATA_DIR compile definition. A missing or empty suite is a test failure.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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

std::optional<std::string> HeaderValue(const ParsedRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (EqualsIgnoreCase(n, name)) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Split(std::string_view s, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(separator, start);
    out.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

// "%2F" -> "/" etc.; the suite's query values are well-formed.
std::string PercentDecode(std::string_view s) {
  Result<std::string> decoded = UriDecode(s);
  return decoded.ok() ? *decoded : std::string(s);
}

class SigV4ConformanceTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = SuiteDir() / GetParam();
    std::string error;
    std::optional<std::string> context_text = ReadFile(dir_ / "context.json");
    ASSERT_TRUE(context_text.has_value()) << "cannot read " << (dir_ / "context.json");
    std::optional<SuiteContext> ctx = ParseContext(*context_text, &error);
    ASSERT_TRUE(ctx.has_value()) << dir_ << ": " << error;
    ctx_ = std::move(*ctx);
    options_.normalize_path = ctx_.normalize;
    options_.double_encode_path = true;
    scope_ = SigningScope{ctx_.region, ctx_.service, ctx_.time};
  }

  std::string Expected(const char* file) {
    std::optional<std::string> text = ReadFile(dir_ / file);
    EXPECT_TRUE(text.has_value()) << "cannot read " << (dir_ / file);
    return text.value_or("<missing " + std::string(file) + ">");
  }

  std::optional<ParsedRequest> Request(const char* file) {
    std::optional<ParsedRequest> request = ParseRequest(Expected(file));
    EXPECT_TRUE(request.has_value()) << (dir_ / file) << " is not a parsable HTTP request";
    return request;
  }

  AwsCredentials Credentials(bool with_token) const {
    return AwsCredentials{ctx_.access_key_id, crypto::SecretBytes(ctx_.secret_access_key),
                          with_token ? ctx_.token : std::string()};
  }

  static HttpRequestToSign ToSign(const ParsedRequest& request) {
    return HttpRequestToSign{request.method, request.path, request.query, request.headers,
                             crypto::Sha256Hex(request.body)};
  }

  fs::path dir_;
  SuiteContext ctx_;
  SigV4Options options_;
  SigningScope scope_;
};

TEST_P(SigV4ConformanceTest, SignerProducesTheSignedRequestHeaders) {
  std::optional<ParsedRequest> unsigned_request = Request("request.txt");
  std::optional<ParsedRequest> signed_request = Request("header-signed-request.txt");
  ASSERT_TRUE(unsigned_request && signed_request);

  HttpRequestToSign to_sign = ToSign(*unsigned_request);
  if (ctx_.sign_body) {
    to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_sha256_hex);
  }
  const bool sign_token = !ctx_.token.empty() && !ctx_.omit_session_token;
  std::vector<std::pair<std::string, std::string>> added =
      SignRequest(to_sign, Credentials(sign_token), scope_, options_);
  if (!ctx_.token.empty() && ctx_.omit_session_token) {
    added.emplace_back("X-Amz-Security-Token", ctx_.token);
  }

  // Every header of the expected signed request is either an original one or one we added, and
  // vice versa, with identical values.
  std::vector<std::pair<std::string, std::string>> ours = to_sign.headers;
  ours.insert(ours.end(), added.begin(), added.end());
  const auto lower_sorted = [](std::vector<std::pair<std::string, std::string>> headers) {
    for (auto& h : headers) {
      h.first = AsciiLower(h.first);
    }
    std::sort(headers.begin(), headers.end());
    return headers;
  };
  EXPECT_EQ(lower_sorted(ours), lower_sorted(signed_request->headers));

  // The intermediate values, for a readable diff when the Authorization differs.
  std::vector<std::string> signed_names;
  for (const auto& [name, value] : to_sign.headers) {
    signed_names.push_back(name);
  }
  signed_names.push_back("x-amz-date");
  if (sign_token) {
    signed_names.push_back("x-amz-security-token");
  }
  HttpRequestToSign with_added = to_sign;
  with_added.headers.insert(with_added.headers.end(), added.begin(), added.end());
  const std::string canonical = CanonicalRequest(with_added, signed_names, options_);
  EXPECT_EQ(canonical, Expected("header-canonical-request.txt"));
  EXPECT_EQ(StringToSign(canonical, scope_), Expected("header-string-to-sign.txt"));
}

TEST_P(SigV4ConformanceTest, HeaderVerifierReproducesCanonicalRequestAndSignature) {
  std::optional<ParsedRequest> received = Request("header-signed-request.txt");
  ASSERT_TRUE(received);
  const std::optional<std::string> authorization = HeaderValue(*received, "Authorization");
  ASSERT_TRUE(authorization.has_value());

  // "AWS4-HMAC-SHA256 Credential=.../aws4_request, SignedHeaders=a;b, Signature=hex"
  const std::string kSignedHeaders = "SignedHeaders=";
  const std::string kSignature = "Signature=";
  const size_t sh = authorization->find(kSignedHeaders);
  const size_t sig = authorization->find(kSignature);
  ASSERT_NE(sh, std::string::npos);
  ASSERT_NE(sig, std::string::npos);
  const size_t sh_end = authorization->find(',', sh);
  const std::vector<std::string> signed_names =
      Split(std::string_view(*authorization)
                .substr(sh + kSignedHeaders.size(), sh_end - sh - kSignedHeaders.size()),
            ';');
  const std::string client_signature = authorization->substr(sig + kSignature.size());

  const std::string canonical = CanonicalRequest(ToSign(*received), signed_names, options_);
  EXPECT_EQ(canonical, Expected("header-canonical-request.txt"));
  const std::string string_to_sign = StringToSign(canonical, scope_);
  EXPECT_EQ(string_to_sign, Expected("header-string-to-sign.txt"));
  const std::string signature = Signature(Credentials(false), scope_, string_to_sign);
  EXPECT_EQ(signature, Expected("header-signature.txt"));
  EXPECT_EQ(signature, client_signature);
}

TEST_P(SigV4ConformanceTest, PresignedUrlVerifierReproducesCanonicalRequestAndSignature) {
  std::optional<ParsedRequest> received = Request("query-signed-request.txt");
  ASSERT_TRUE(received);

  // What was signed is the query without X-Amz-Signature (and without the token when the suite
  // attached it after signing).
  std::vector<std::string> kept;
  std::string client_signature;
  std::string signed_headers_param;
  for (const std::string& param : Split(received->query, '&')) {
    const std::string name = param.substr(0, param.find('='));
    const std::string value =
        param.find('=') == std::string::npos ? std::string() : param.substr(param.find('=') + 1);
    if (name == "X-Amz-Signature") {
      client_signature = value;
      continue;
    }
    if (name == "X-Amz-Security-Token" && ctx_.omit_session_token) {
      continue;
    }
    if (name == "X-Amz-SignedHeaders") {
      signed_headers_param = PercentDecode(value);
    }
    kept.push_back(param);
  }
  ASSERT_FALSE(client_signature.empty()) << "no X-Amz-Signature in query-signed-request.txt";
  ASSERT_FALSE(signed_headers_param.empty());

  HttpRequestToSign to_verify = ToSign(*received);
  to_verify.query.clear();
  for (size_t i = 0; i < kept.size(); ++i) {
    to_verify.query.append(i == 0 ? "" : "&").append(kept[i]);
  }
  const std::string canonical =
      CanonicalRequest(to_verify, Split(signed_headers_param, ';'), options_);
  EXPECT_EQ(canonical, Expected("query-canonical-request.txt"));
  const std::string string_to_sign = StringToSign(canonical, scope_);
  EXPECT_EQ(string_to_sign, Expected("query-string-to-sign.txt"));
  const std::string signature = Signature(Credentials(false), scope_, string_to_sign);
  EXPECT_EQ(signature, Expected("query-signature.txt"));
  EXPECT_EQ(signature, client_signature);
}

INSTANTIATE_TEST_SUITE_P(AwsSigningTestSuiteV4, SigV4ConformanceTest,
                         testing::ValuesIn(CaseNames()), CaseTestName);

// Without this, a missing suite would silently run zero cases.
TEST(SigV4ConformanceSuiteTest, SuiteIsPresentAndEveryCaseIsComplete) {
  const fs::path dir = SuiteDir();
  ASSERT_TRUE(fs::is_directory(dir))
      << "AWS SigV4 test suite not found at " << dir
      << "; set PERIMETER_SHARED_DATA to the directory that holds aws-signing-test-suite/v4";
  const std::vector<std::string> cases = CaseNames();
  ASSERT_FALSE(cases.empty()) << "no case directories in " << dir;
  for (const std::string& name : cases) {
    for (const char* file :
         {"context.json", "request.txt", "header-canonical-request.txt",
          "header-string-to-sign.txt", "header-signature.txt", "header-signed-request.txt",
          "query-canonical-request.txt", "query-string-to-sign.txt", "query-signature.txt",
          "query-signed-request.txt"}) {
      EXPECT_TRUE(fs::is_regular_file(dir / name / file)) << "missing " << (dir / name / file);
    }
  }
}

}  // namespace
}  // namespace perimeter::identity
