// Fuzz target for identity::VerifySigV4: the parsers of the Authorization header, the presigned
// query (X-Amz-*), X-Amz-Date and x-amz-content-sha256, which every unauthenticated caller
// reaches.
//
// Input layout (ByteReader): one byte selecting which parts come from the input, then the
// Authorization value, the query, the X-Amz-Date value and the content hash value, each
// length-prefixed by one byte (up to 255), and the rest as the body.
//
// Invariants checked:
//  1. Verification never succeeds: the secret lookup returns a secret the input cannot know,
//     so any "ok" would be a signature accepted without the key.
//  2. A failure is an AuthError with an HTTP status of 400 or 403 and a known AWS error type,
//     and its message never contains the secret.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "fuzz_support.h"
#include "identity/sigv4_verifier.h"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-the-input-cannot-know-7f3a9c";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perimeter;
  fuzz::ByteReader in(std::string_view(reinterpret_cast<const char*>(data), size));
  const uint8_t parts = in.Byte();
  const std::string authorization = in.Take(in.Byte());
  const std::string query = in.Take(in.Byte());
  const std::string amz_date = in.Take(in.Byte());
  const std::string content_hash = in.Take(in.Byte());
  const std::string body = in.Rest();

  identity::ReceivedRequest request;
  request.method = "POST";
  request.path = "/model/anthropic.claude/converse";
  request.query = (parts & 1) ? query : "";
  request.headers = {{"host", "127.0.0.1:8080"}, {"content-type", "application/json"}};
  if (parts & 2) request.headers.emplace_back("authorization", authorization);
  if (parts & 4) request.headers.emplace_back("x-amz-date", amz_date);
  if (parts & 8) request.headers.emplace_back("x-amz-content-sha256", content_hash);
  if (parts & 16) request.headers.emplace_back("x-amz-security-token", query);
  request.body = body;

  static const ManualClock clock(*identity::ParseAmzDate("20261127T073000Z"));
  identity::VerifyOptions options;
  options.allowed_regions = {"eu-west-1"};
  options.allow_unsigned_payload = (parts & 32) != 0;
  const identity::SecretLookup lookup = [](std::string_view,
                                           std::string_view) -> Result<crypto::SecretBytes> {
    return crypto::SecretBytes(kSecret);
  };
  const identity::SigV4Verification v = identity::VerifySigV4(request, lookup, clock, options);
  PERIMETER_FUZZ_CHECK(!v.ok());
  const identity::AuthError& e = v.error();
  PERIMETER_FUZZ_CHECK(e.http_status == 400 || e.http_status == 403);
  PERIMETER_FUZZ_CHECK(e.type == "MissingAuthenticationTokenException" ||
                       e.type == "IncompleteSignatureException" ||
                       e.type == "InvalidSignatureException");
  PERIMETER_FUZZ_CHECK(e.message.find(kSecret) == std::string::npos);
  return 0;
}
