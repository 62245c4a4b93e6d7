// Tests for AwsKmsBackend against a mock AWS KMS on 127.0.0.1.
//
// The mock speaks the KMS JSON 1.1 protocol over HTTP/1.1 (plain or TLS). It verifies every
// request's SigV4 signature with the project's verifier (service "kms"), checks X-Amz-Target and
// Content-Type, and implements GenerateDataKey, Encrypt and Decrypt with AES-256-GCM under
// per-key mock master keys, binding the key and the EncryptionContext (CanonicalContext) as
// associated data, as AWS binds them. Errors come back as AWS sends them: a JSON body with
// "__type" and "message".
//
// The KmsRuntimeTest cases run OpenKmsRuntime (kms/runtime.h) against the same mock: a config
// with keys.backend aws-kms over a temporary state directory, credentials from the environment.

#include "kms/aws_backend.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codec/base64.h"
#include "common/clock.h"
#include "config/config.h"
#include "crypto/aead.h"
#include "crypto/constant_time.h"
#include "crypto/random.h"
#include "identity/sigv4_verifier.h"
#include "kms/kms.h"
#include "kms/runtime.h"

namespace perimeter::kms {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr char kAccessKey[] = "AKIDKMSTESTEXAMPLE";
constexpr char kSecret[] = "kmsSECRETkmsSECRETkmsSECRETkmsSECRET0000";
constexpr char kRegion[] = "us-east-1";
constexpr char kKeyArn[] = "arn:aws:kms:us-east-1:111122223333:key/1111-aaaa";
constexpr char kOtherKeyArn[] = "arn:aws:kms:us-east-1:111122223333:key/2222-bbbb";

// 2026-03-01T12:00:00Z
std::chrono::system_clock::time_point TestTime() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1772366400));
}

// --- TLS material
// ---------------------------------------------------------------------------------

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 certificate with one subjectAltName (e.g. "IP:127.0.0.1").
TestCert MakeSelfSignedCert(const std::string& subject_alt_name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365 * 20);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("perimeter mock kms"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, subject_alt_name.c_str());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert, key, EVP_sha256());

  TestCert out;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  out.cert_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(bio, &data);
  out.key_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// --- The mock AWS KMS
// -----------------------------------------------------------------------------

struct ForcedReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class MockKms {
 public:
  struct Options {
    std::optional<TestCert> tls;  // serve HTTPS with this certificate
    std::string session_token;    // the token the key requires; empty for a long-term key
  };

  MockKms(const Clock& clock, Options options)
      : clock_(clock), options_(std::move(options)), acceptor_(io_) {
    keys_[kKeyArn] = crypto::SecretBytes(*crypto::RandomBytes(32));
    keys_[kOtherKeyArn] = crypto::SecretBytes(*crypto::RandomBytes(32));
    if (options_.tls) {
      ssl_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      ssl_->use_certificate(asio::buffer(options_.tls->cert_pem), asio::ssl::context::pem);
      ssl_->use_private_key(asio::buffer(options_.tls->key_pem), asio::ssl::context::pem);
    }
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
  }

  ~MockKms() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }

  std::string Url() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }

  // The next answers are `reply` instead of the real operation (after signature checks).
  void Force(ForcedReply reply) {
    std::lock_guard lock(mu_);
    forced_ = std::move(reply);
  }
  // The next request is read and never answered (the connection stays open until the client
  // gives up).
  void HangNext() { hang_next_ = true; }
  // Back to real answers after Force.
  void Unforce() {
    std::lock_guard lock(mu_);
    forced_.reset();
  }

  int requests() const { return requests_; }
  int verified() const { return verified_; }
  // Verified requests whose SignedHeaders covered host, content-type, x-amz-target, x-amz-date.
  int fully_signed() const { return fully_signed_; }
  // Verified requests that carried the session token and had it signed.
  int token_signed() const { return token_signed_; }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }
  // How many signed requests named this operation ("GenerateDataKey", "Decrypt", ...).
  int count(std::string_view operation) const {
    std::lock_guard lock(mu_);
    const std::string target = "TrentService." + std::string(operation);
    return static_cast<int>(std::count(targets_.begin(), targets_.end(), target));
  }

 private:
  struct Reply {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  static Reply AwsError(int status, const std::string& type, const std::string& message) {
    json::object o;
    o["__type"] = type;
    o["message"] = message;
    return {status, json::serialize(o), {}};
  }

  void Run() {
    while (true) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) {
        return;
      }
      if (ec) {
        continue;
      }
      if (ssl_) {
        asio::ssl::stream<tcp::socket&> stream(socket, *ssl_);
        stream.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) {
          Serve(stream);
          stream.shutdown(ec);
        }
      } else {
        Serve(socket);
      }
      socket.close(ec);
    }
  }

  template <class Stream>
  void Serve(Stream& stream) {
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    boost::system::error_code ec;
    bhttp::read(stream, buffer, request, ec);
    if (ec) {
      return;
    }
    if (hang_next_.exchange(false)) {
      char byte;
      asio::read(stream, asio::buffer(&byte, 1), ec);  // until the client closes
      return;
    }
    const Reply reply = Handle(request);
    bhttp::response<bhttp::string_body> response;
    response.result(reply.status);
    response.version(11);
    response.set(bhttp::field::content_type, "application/x-amz-json-1.1");
    for (const auto& [name, value] : reply.headers) {
      response.set(name, value);
    }
    response.body() = reply.body;
    response.keep_alive(false);
    response.prepare_payload();
    bhttp::write(stream, response, ec);
  }

  Reply Handle(const bhttp::request<bhttp::string_body>& request) {
    ++requests_;
    identity::ReceivedRequest received;
    received.method = std::string(request.method_string());
    const std::string target(request.target());
    const size_t q = target.find('?');
    received.path = target.substr(0, q);
    received.query = q == std::string::npos ? "" : target.substr(q + 1);
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      received.headers.emplace_back(name, std::string(field.value()));
    }
    received.body = request.body();

    identity::VerifyOptions verify;
    verify.expected_service = "kms";
    verify.allowed_regions = {kRegion};
    verify.allow_unsigned_payload = false;
    const std::string expected_token = options_.session_token;
    const auto lookup = [&](std::string_view id,
                            std::string_view token) -> Result<crypto::SecretBytes> {
      if (id != kAccessKey) {
        return NotFound("unknown key");
      }
      if (token != expected_token) {
        return Unauthenticated("wrong session token");
      }
      return crypto::SecretBytes(kSecret);
    };
    const auto verification = identity::VerifySigV4(received, lookup, clock_, verify);
    if (!verification.ok()) {
      return AwsError(verification.error().http_status, verification.error().type,
                      verification.error().message);
    }
    ++verified_;
    const auto& signed_headers = verification.caller().signed_headers;
    const auto is_signed = [&](std::string_view name) {
      return std::find(signed_headers.begin(), signed_headers.end(), name) != signed_headers.end();
    };
    if (is_signed("host") && is_signed("content-type") && is_signed("x-amz-target") &&
        is_signed("x-amz-date")) {
      ++fully_signed_;
    }
    if (!expected_token.empty() && is_signed("x-amz-security-token") &&
        request["X-Amz-Security-Token"] == expected_token) {
      ++token_signed_;
    }

    if (request.method() != bhttp::verb::post || received.path != "/") {
      return AwsError(404, "UnknownOperationException", "POST / only");
    }
    if (request[bhttp::field::content_type] != "application/x-amz-json-1.1") {
      return AwsError(400, "SerializationException", "wrong content type");
    }
    const std::string amz_target(request["X-Amz-Target"]);
    {
      std::lock_guard lock(mu_);
      targets_.push_back(amz_target);
      if (forced_) {
        return {forced_->status, forced_->body, forced_->headers};
      }
    }
    boost::system::error_code ec;
    json::value body = json::parse(request.body(), ec);
    if (ec || !body.is_object()) {
      return AwsError(400, "SerializationException", "body is not a JSON object");
    }
    const json::object& args = body.as_object();
    EncryptionContext context;
    if (const json::value* c = args.if_contains("EncryptionContext")) {
      if (!c->is_object()) {
        return AwsError(400, "SerializationException", "EncryptionContext must be an object");
      }
      for (const auto& [k, v] : c->as_object()) {
        if (!v.is_string()) {
          return AwsError(400, "SerializationException", "context values must be strings");
        }
        context[std::string(k)] = std::string(v.as_string());
      }
    }
    const auto text = [&](std::string_view name) -> std::string {
      const json::value* v = args.if_contains(name);
      return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
    };

    if (amz_target == "TrentService.GenerateDataKey") {
      if (text("KeySpec") != "AES_256" || args.size() != (context.empty() ? 2u : 3u)) {
        return AwsError(400, "ValidationException", "expected KeyId, KeySpec AES_256, context");
      }
      auto key = ResolveKey(text("KeyId"));
      if (!key.ok()) {
        return Reply{400, key.status().message(), {}};
      }
      const std::string material = *crypto::RandomBytes(32);
      return SealReply(*key, material, context, /*with_plaintext=*/true);
    }
    if (amz_target == "TrentService.Encrypt") {
      auto key = ResolveKey(text("KeyId"));
      if (!key.ok()) {
        return Reply{400, key.status().message(), {}};
      }
      auto plaintext = codec::Base64Decode(text("Plaintext"));
      if (!plaintext.ok() || plaintext->empty()) {
        return AwsError(400, "ValidationException", "Plaintext must be base64");
      }
      return SealReply(*key, *plaintext, context, /*with_plaintext=*/false);
    }
    if (amz_target == "TrentService.Decrypt") {
      auto blob = codec::Base64Decode(text("CiphertextBlob"));
      if (!blob.ok() || blob->empty()) {
        return AwsError(400, "InvalidCiphertextException", "");
      }
      const size_t arn_len = static_cast<unsigned char>((*blob)[0]);
      if (blob->size() < 1 + arn_len) {
        return AwsError(400, "InvalidCiphertextException", "");
      }
      const std::string arn = blob->substr(1, arn_len);
      const auto master = keys_.find(arn);
      if (master == keys_.end()) {
        return AwsError(400, "InvalidCiphertextException", "");
      }
      if (!text("KeyId").empty()) {
        auto key = ResolveKey(text("KeyId"));
        if (!key.ok()) {
          return Reply{400, key.status().message(), {}};
        }
        if (*key != arn) {
          return AwsError(400, "IncorrectKeyException",
                          "The key ID in the request does not identify a CMK that can perform "
                          "this operation.");
        }
      }
      auto opened = crypto::AeadOpen(master->second, blob->substr(1 + arn_len),
                                     arn + CanonicalContext(context));
      if (!opened.ok()) {
        return AwsError(400, "InvalidCiphertextException", "");
      }
      json::object o;
      o["KeyId"] = arn;
      o["Plaintext"] = codec::Base64Encode(opened->RevealSecretForUse());
      o["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT";
      return {200, json::serialize(o), {}};
    }
    return AwsError(400, "UnknownOperationException", "unknown target");
  }

  // The key ARN for a KeyId, or an error whose message is the AWS error body.
  Result<std::string> ResolveKey(const std::string& key_id) {
    if (key_id == "alias/perimeter" || key_id == kKeyArn || key_id == "1111-aaaa") {
      return std::string(kKeyArn);
    }
    if (key_id == "alias/other" || key_id == kOtherKeyArn) {
      return std::string(kOtherKeyArn);
    }
    if (key_id == "alias/denied") {
      return Internal(AwsError(400, "AccessDeniedException",
                               "User: arn:aws:iam::111122223333:user/gw is not authorized to "
                               "perform: kms:GenerateDataKey")
                          .body);
    }
    if (key_id == "alias/disabled") {
      return Internal(AwsError(400, "DisabledException", "key is disabled").body);
    }
    return Internal(AwsError(400, "NotFoundException", "Alias " + key_id + " is not found.").body);
  }

  Reply SealReply(const std::string& arn, const std::string& plaintext,
                  const EncryptionContext& context, bool with_plaintext) {
    auto sealed = crypto::AeadSeal(keys_.at(arn), plaintext, arn + CanonicalContext(context));
    if (!sealed.ok()) {
      return AwsError(500, "KMSInternalException", "seal failed");
    }
    const std::string blob = std::string(1, static_cast<char>(arn.size())) + arn + *sealed;
    json::object o;
    o["CiphertextBlob"] = codec::Base64Encode(blob);
    if (with_plaintext) {
      o["Plaintext"] = codec::Base64Encode(plaintext);
    }
    o["KeyId"] = arn;
    return {200, json::serialize(o), {}};
  }

  const Clock& clock_;
  const Options options_;
  std::map<std::string, crypto::SecretBytes> keys_;
  std::unique_ptr<asio::ssl::context> ssl_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hang_next_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> verified_{0};
  std::atomic<int> fully_signed_{0};
  std::atomic<int> token_signed_{0};
  mutable std::mutex mu_;
  std::optional<ForcedReply> forced_;
  std::vector<std::string> targets_;
};

// --- Fixture
// --------------------------------------------------------------------------------------

identity::AwsCredentials Credentials(const std::string& secret = kSecret, std::string token = "") {
  identity::AwsCredentials c;
  c.access_key_id = kAccessKey;
  c.secret_access_key = crypto::SecretBytes(secret);
  c.session_token = std::move(token);
  return c;
}

EncryptionContext VersionContext(const std::string& version) {
  return {{"perimeter:key-id", "6a1c2f0e-0000-4000-8000-000000000001"},
          {"perimeter:version", version}};
}

bool SameSecret(const crypto::SecretBytes& a, const crypto::SecretBytes& b) {
  return crypto::ConstantTimeEquals(a.RevealSecretForUse(), b.RevealSecretForUse());
}

class AwsKmsBackendTest : public testing::Test {
 protected:
  void StartMock(MockKms::Options options = {}) {
    mock_ = std::make_unique<MockKms>(clock_, std::move(options));
  }

  AwsKmsOptions Options(std::string key_id = "alias/perimeter") {
    AwsKmsOptions o;
    o.region = kRegion;
    o.key_id = std::move(key_id);
    o.endpoint_url = mock_ ? mock_->Url() : "";
    o.credentials = Credentials();
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.total_timeout = std::chrono::milliseconds(5000);
    o.clock = &clock_;
    return o;
  }

  std::unique_ptr<AwsKmsBackend> Backend(AwsKmsOptions options) {
    auto backend = AwsKmsBackend::Create(std::move(options));
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return backend.ok() ? std::move(backend.value()) : nullptr;
  }

  ManualClock clock_{TestTime()};
  std::unique_ptr<MockKms> mock_;
};

// --- Round trips
// ----------------------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, GeneratedMaterialUnwrapsWithTheSameContext) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->Name(), "aws-kms");

  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  EXPECT_EQ(generated->material.size(), kMaterialBytes);
  EXPECT_FALSE(generated->wrapped.empty());
  // The wrapped form is the raw CiphertextBlob (the mock's blob starts with the key ARN).
  EXPECT_NE(generated->wrapped.find(kKeyArn), std::string::npos);
  EXPECT_EQ(generated->wrapped.find(std::string(generated->material.RevealSecretForUse())),
            std::string::npos);

  auto unwrapped = backend->Unwrap(generated->wrapped, VersionContext("1"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(SameSecret(*unwrapped, generated->material));

  EXPECT_EQ(mock_->requests(), 2);
  EXPECT_EQ(mock_->verified(), 2);
  EXPECT_EQ(mock_->fully_signed(), 2);
  EXPECT_EQ(mock_->targets(),
            (std::vector<std::string>{"TrentService.GenerateDataKey", "TrentService.Decrypt"}));
}

TEST_F(AwsKmsBackendTest, EachGenerationIsNewMaterial) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  auto a = backend->GenerateMaterial(VersionContext("1"));
  auto b = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(SameSecret(a->material, b->material));
  EXPECT_NE(a->wrapped, b->wrapped);
}

TEST_F(AwsKmsBackendTest, EmptyContextRoundTrips) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial({});
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  auto unwrapped = backend->Unwrap(generated->wrapped, {});
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(SameSecret(*unwrapped, generated->material));
}

TEST_F(AwsKmsBackendTest, ContextWithJsonSpecialCharactersRoundTrips) {
  // The mock parses the JSON and uses the decoded strings as associated data, so any escaping
  // mistake makes Decrypt (or GenerateDataKey) disagree.
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  const EncryptionContext context = {
      {"quote\"key", "back\\slash"},
      {"ctl", std::string("tab\tnl\ncr\r\x01") + std::string(1, '\0')},
      {"utf8", "caf\xC3\xA9 \xF0\x9F\x94\x91"},
      {"slash/key", "</script>"}};
  auto generated = backend->GenerateMaterial(context);
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  auto unwrapped = backend->Unwrap(generated->wrapped, context);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(SameSecret(*unwrapped, generated->material));
}

TEST_F(AwsKmsBackendTest, EncryptedMaterialUnwraps) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  const crypto::SecretBytes material(*crypto::RandomBytes(kMaterialBytes));
  auto wrapped = backend->Encrypt(material, VersionContext("3"));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(wrapped->find(std::string(material.RevealSecretForUse())), std::string::npos);
  auto unwrapped = backend->Unwrap(*wrapped, VersionContext("3"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(SameSecret(*unwrapped, material));
  EXPECT_EQ(mock_->targets(),
            (std::vector<std::string>{"TrentService.Encrypt", "TrentService.Decrypt"}));
}

TEST_F(AwsKmsBackendTest, UnwrapRefusesPlaintextThatIsNotKeyMaterial) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  auto wrapped = backend->Encrypt(crypto::SecretBytes("sixteen bytes!!!"), VersionContext("1"));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  auto unwrapped = backend->Unwrap(*wrapped, VersionContext("1"));
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kInternal);
  EXPECT_NE(unwrapped.status().message().find("32-byte"), std::string::npos);
}

TEST_F(AwsKmsBackendTest, EncryptRefusesEmptyAndOversizedPlaintextWithoutCallingAws) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->Encrypt(crypto::SecretBytes(), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(backend->Encrypt(crypto::SecretBytes(std::string(kMaxAwsPlaintextBytes + 1, 'x')), {})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(mock_->requests(), 0);
}

// --- Binding
// --------------------------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, WrongContextIsUnauthenticated) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  for (const EncryptionContext& other :
       {VersionContext("2"), EncryptionContext{}, EncryptionContext{{"perimeter:version", "1"}}}) {
    auto unwrapped = backend->Unwrap(generated->wrapped, other);
    ASSERT_FALSE(unwrapped.ok());
    EXPECT_EQ(unwrapped.status().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(unwrapped.status().message().find("Decrypt"), std::string::npos);
    EXPECT_NE(unwrapped.status().message().find("InvalidCiphertextException"), std::string::npos);
  }
}

TEST_F(AwsKmsBackendTest, TamperedBlobIsUnauthenticated) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  std::string tampered = generated->wrapped;
  tampered.back() = static_cast<char>(tampered.back() ^ 0x01);
  auto unwrapped = backend->Unwrap(tampered, VersionContext("1"));
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(unwrapped.status().message().find("InvalidCiphertextException"), std::string::npos);
}

TEST_F(AwsKmsBackendTest, BlobOfAnotherAwsKeyIsUnauthenticated) {
  StartMock();
  auto other = Backend(Options("alias/other"));
  auto backend = Backend(Options("alias/perimeter"));
  ASSERT_NE(other, nullptr);
  ASSERT_NE(backend, nullptr);
  auto generated = other->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  auto unwrapped = backend->Unwrap(generated->wrapped, VersionContext("1"));
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(unwrapped.status().message().find("IncorrectKeyException"), std::string::npos);
}

TEST_F(AwsKmsBackendTest, BlobOfImpossibleSizeIsUnauthenticatedWithoutCallingAws) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->Unwrap("", {}).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(backend->Unwrap(std::string(kMaxAwsCiphertextBytes + 1, 'x'), {}).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(mock_->requests(), 0);
}

// --- Signing and credentials
// ----------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, WrongSecretKeyIsRefusedByAwsAndNamed) {
  StartMock();
  AwsKmsOptions options = Options();
  options.credentials = Credentials("wrongSECRETwrongSECRETwrongSECRETwrong00");
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(generated.status().message().find("GenerateDataKey"), std::string::npos);
  EXPECT_NE(generated.status().message().find("InvalidSignatureException"), std::string::npos);
  EXPECT_NE(generated.status().message().find("credentials"), std::string::npos);
  EXPECT_EQ(mock_->requests(), 1);
  EXPECT_EQ(mock_->verified(), 0);
}

TEST_F(AwsKmsBackendTest, SessionTokenIsSentAndSigned) {
  const std::string token = "FQoGZXIvYXdzEXAMPLETOKEN//+=";
  StartMock({.tls = std::nullopt, .session_token = token});
  AwsKmsOptions options = Options();
  options.credentials = Credentials(kSecret, token);
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  auto unwrapped = backend->Unwrap(generated->wrapped, VersionContext("1"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(mock_->requests(), 2);
  EXPECT_EQ(mock_->verified(), 2);
  EXPECT_EQ(mock_->token_signed(), 2);
}

TEST_F(AwsKmsBackendTest, MissingSessionTokenIsRefusedByAws) {
  StartMock({.tls = std::nullopt, .session_token = "required-token"});
  auto backend = Backend(Options());  // no token
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(generated.status().message().find("UnrecognizedClientException"), std::string::npos);
}

TEST_F(AwsKmsBackendTest, ProfileCredentialsAreUsed) {
  StartMock();
  std::string dir = (fs::path(testing::TempDir()) / "perimeter_awskms_XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const fs::path file = fs::path(dir) / "credentials";
  std::ofstream(file) << "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = x\n"
                      << "[kms]\naws_access_key_id = " << kAccessKey
                      << "\naws_secret_access_key = " << kSecret << "\n";
  const identity::EnvReader env = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_SHARED_CREDENTIALS_FILE") {
      return file.string();
    }
    if (name == "AWS_ACCESS_KEY_ID") {
      return "AKIDFROMENV";  // ignored: a named profile overrides the environment
    }
    if (name == "AWS_SECRET_ACCESS_KEY") {
      return "envsecret";
    }
    return std::nullopt;
  };
  AwsKmsOptions options = Options();
  options.credentials = {};
  auto backend = AwsKmsBackend::CreateWithProfile(std::move(options), "kms", env);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  auto generated = (*backend)->GenerateMaterial(VersionContext("1"));
  EXPECT_TRUE(generated.ok()) << generated.status().ToString();
  EXPECT_EQ(mock_->verified(), 1);

  auto missing = AwsKmsBackend::CreateWithProfile(Options(), "no-such-profile", env);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// --- Error mapping
// --------------------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, KeyErrorsFromAwsAreMapped) {
  StartMock();
  struct Case {
    std::string key_id;
    StatusCode code;
    std::string type;
  };
  for (const Case& c :
       {Case{"alias/denied", StatusCode::kPermissionDenied, "AccessDeniedException"},
        Case{"alias/disabled", StatusCode::kFailedPrecondition, "DisabledException"},
        Case{"alias/missing", StatusCode::kNotFound, "NotFoundException"}}) {
    auto backend = Backend(Options(c.key_id));
    ASSERT_NE(backend, nullptr);
    auto generated = backend->GenerateMaterial(VersionContext("1"));
    ASSERT_FALSE(generated.ok()) << c.key_id;
    EXPECT_EQ(generated.status().code(), c.code) << generated.status().ToString();
    EXPECT_NE(generated.status().message().find(c.type), std::string::npos)
        << generated.status().ToString();
    EXPECT_NE(generated.status().message().find("GenerateDataKey"), std::string::npos);
  }
}

TEST_F(AwsKmsBackendTest, ErrorAnswersAreMappedByType) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  struct Case {
    ForcedReply reply;
    StatusCode code;
    std::string named;  // must appear in the message
  };
  const std::vector<Case> cases = {
      {{400, R"({"__type":"com.amazonaws.kms#AccessDeniedException","Message":"no grant"})", {}},
       StatusCode::kPermissionDenied,
       "AccessDeniedException: no grant"},
      {{400, R"({"__type":"KMSInvalidStateException","message":"pending deletion"})", {}},
       StatusCode::kFailedPrecondition,
       "KMSInvalidStateException"},
      {{400, R"({"__type":"KeyUnavailableException"})", {}},
       StatusCode::kFailedPrecondition,
       "KeyUnavailableException"},
      {{400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})", {}},
       StatusCode::kUnavailable,
       "ThrottlingException"},
      {{500, R"({"__type":"KMSInternalException"})", {}}, StatusCode::kUnavailable, "KMSInternal"},
      {{503, "<html>Service Unavailable</html>", {}}, StatusCode::kUnavailable, "HTTP 503"},
      {{400, "", {{"x-amzn-ErrorType", "NotFoundException:http://internal.amazon.com/"}}},
       StatusCode::kNotFound,
       "NotFoundException"},
      {{400, R"({"__type":"ValidationException","message":"bad"})", {}},
       StatusCode::kInternal,
       "ValidationException"},
      {{403, R"({"__type":"ExpiredTokenException"})", {}},
       StatusCode::kFailedPrecondition,
       "ExpiredTokenException"},
  };
  for (const Case& c : cases) {
    mock_->Force(c.reply);
    auto unwrapped = backend->Unwrap("blob", VersionContext("1"));
    ASSERT_FALSE(unwrapped.ok()) << c.reply.body;
    EXPECT_EQ(unwrapped.status().code(), c.code) << unwrapped.status().ToString();
    EXPECT_NE(unwrapped.status().message().find(c.named), std::string::npos)
        << unwrapped.status().ToString();
    EXPECT_NE(unwrapped.status().message().find("Decrypt"), std::string::npos);
  }
}

TEST_F(AwsKmsBackendTest, MalformedSuccessAnswersAreInternal) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  const std::string short_plaintext = codec::Base64Encode(std::string(16, 'k'));
  for (const std::string& body :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"CiphertextBlob":"AAAA"})"),
        R"({"CiphertextBlob":"AAAA","Plaintext":")" + short_plaintext + "\"}",
        std::string(R"({"CiphertextBlob":"!!","Plaintext":"not base64"})")}) {
    mock_->Force({200, body, {}});
    auto generated = backend->GenerateMaterial(VersionContext("1"));
    ASSERT_FALSE(generated.ok()) << body;
    EXPECT_EQ(generated.status().code(), StatusCode::kInternal) << body;
    EXPECT_NE(generated.status().message().find("GenerateDataKey"), std::string::npos)
        << generated.status().ToString();
  }
}

TEST_F(AwsKmsBackendTest, OversizedAnswerIsRefused) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  mock_->Force({200, R"({"pad":")" + std::string(kMaxAwsResponseBytes, 'a') + "\"}", {}});
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.status().code(), StatusCode::kInternal);
  EXPECT_NE(generated.status().message().find("more than"), std::string::npos)
      << generated.status().ToString();
}

// --- Network
// --------------------------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, UnreachableServerIsUnavailable) {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = probe.local_endpoint().port();
  probe.close();  // nothing listens there now
  AwsKmsOptions options = Options();
  options.endpoint_url = "http://127.0.0.1:" + std::to_string(port);
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  auto unwrapped = backend->Unwrap("blob", VersionContext("1"));
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unwrapped.status().message().find("127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << unwrapped.status().ToString();
}

TEST_F(AwsKmsBackendTest, SilentServerTimesOutAsUnavailable) {
  StartMock();
  AwsKmsOptions options = Options();
  options.total_timeout = std::chrono::milliseconds(200);
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  mock_->HangNext();
  auto unwrapped = backend->Unwrap("blob", VersionContext("1"));
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unwrapped.status().message().find("timed out"), std::string::npos)
      << unwrapped.status().ToString();
}

class AwsKmsBackendTlsTest : public AwsKmsBackendTest {
 protected:
  void SetUp() override {
    std::string dir = (fs::path(testing::TempDir()) / "perimeter_awskms_tls_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    mock_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string WriteCa(const TestCert& cert) {
    const fs::path path = dir_ / "ca.pem";
    std::ofstream(path) << cert.cert_pem;
    return path.string();
  }
  fs::path dir_;
};

TEST_F(AwsKmsBackendTlsTest, TrustedCertificateRoundTrips) {
  const TestCert cert = MakeSelfSignedCert("IP:127.0.0.1");
  StartMock({.tls = cert, .session_token = ""});
  AwsKmsOptions options = Options();
  options.ca_file = WriteCa(cert);
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->endpoint(), mock_->Url());
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  auto unwrapped = backend->Unwrap(generated->wrapped, VersionContext("1"));
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_TRUE(SameSecret(*unwrapped, generated->material));
  EXPECT_EQ(mock_->verified(), 2);
}

TEST_F(AwsKmsBackendTlsTest, UntrustedCertificateIsRefused) {
  const TestCert cert = MakeSelfSignedCert("IP:127.0.0.1");
  StartMock({.tls = cert, .session_token = ""});
  auto backend = Backend(Options());  // no ca_file: the self-signed certificate is not trusted
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(generated.status().message().find("TLS"), std::string::npos)
      << generated.status().ToString();
  EXPECT_EQ(mock_->requests(), 0);
}

TEST_F(AwsKmsBackendTlsTest, CertificateForAnotherHostIsRefused) {
  const TestCert cert = MakeSelfSignedCert("DNS:kms.example.test");
  StartMock({.tls = cert, .session_token = ""});
  AwsKmsOptions options = Options();
  options.ca_file = WriteCa(cert);  // trusted, but not issued for 127.0.0.1
  auto backend = Backend(std::move(options));
  ASSERT_NE(backend, nullptr);
  auto generated = backend->GenerateMaterial(VersionContext("1"));
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(mock_->requests(), 0);
}

TEST_F(AwsKmsBackendTlsTest, UnreadableCaFileIsRefusedAtCreation) {
  AwsKmsOptions options = Options();
  options.endpoint_url = "https://127.0.0.1:1";
  options.ca_file = (dir_ / "missing.pem").string();
  auto backend = AwsKmsBackend::Create(std::move(options));
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(backend.status().message().find("missing.pem"), std::string::npos);
}

// --- Input bounds and options
// ---------------------------------------------------------------------

TEST_F(AwsKmsBackendTest, ContextsAwsWouldRefuseAreRefusedWithoutCallingAws) {
  StartMock();
  auto backend = Backend(Options());
  ASSERT_NE(backend, nullptr);
  EncryptionContext too_many;
  for (size_t i = 0; i <= kMaxAwsContextPairs; ++i) {
    too_many["k" + std::to_string(i)] = "v";
  }
  const EncryptionContext too_big = {{"k", std::string(kMaxAwsContextBytes, 'v')}};
  const EncryptionContext empty_key = {{"", "v"}};
  const EncryptionContext bad_utf8 = {{"k", "\xC3\x28"}};
  const EncryptionContext overlong = {{"k", "\xC0\xAF"}};
  const EncryptionContext truncated = {{"k", "ok\xE2\x82"}};
  for (const EncryptionContext* context : std::vector<const EncryptionContext*>{
           &too_many, &too_big, &empty_key, &bad_utf8, &overlong, &truncated}) {
    EXPECT_EQ(backend->GenerateMaterial(*context).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend->Unwrap("blob", *context).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(backend->Encrypt(crypto::SecretBytes("x"), *context).status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(mock_->requests(), 0);
}

TEST_F(AwsKmsBackendTest, CreateValidatesOptions) {
  const auto refused = [&](const std::function<void(AwsKmsOptions&)>& change) {
    AwsKmsOptions options = Options();
    change(options);
    auto backend = AwsKmsBackend::Create(std::move(options));
    return !backend.ok() && backend.status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.region = ""; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.region = "us-east-1.evil.example/"; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.key_id = ""; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.key_id = "alias/with space"; }));
  EXPECT_TRUE(
      refused([](AwsKmsOptions& o) { o.key_id = std::string(kMaxAwsKeyIdBytes + 1, 'k'); }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.credentials = {}; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.credentials.session_token = "tok\r\nX-Evil: 1"; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.credentials.access_key_id = "AKID\n"; }));
  EXPECT_TRUE(refused([](AwsKmsOptions& o) { o.total_timeout = std::chrono::milliseconds(0); }));
  for (const char* url : {"ftp://kms", "https://", "https://h/path", "https://u@h", "https://h:0",
                          "https://h:99999", "https://h:", "https://[::1"}) {
    EXPECT_TRUE(refused([&](AwsKmsOptions& o) { o.endpoint_url = url; })) << url;
  }

  AwsKmsOptions defaults = Options();
  defaults.region = "eu-west-1";
  defaults.endpoint_url = "";
  auto backend = AwsKmsBackend::Create(std::move(defaults));
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  EXPECT_EQ((*backend)->endpoint(), "https://kms.eu-west-1.amazonaws.com");

  AwsKmsOptions v6 = Options();
  v6.endpoint_url = "http://[::1]:4566/";
  auto v6_backend = AwsKmsBackend::Create(std::move(v6));
  ASSERT_TRUE(v6_backend.ok()) << v6_backend.status().ToString();
  EXPECT_EQ((*v6_backend)->endpoint(), "http://[::1]:4566");
}

// --- The runtime: OpenKmsRuntime with keys.backend aws-kms
// ------------------------------------------------------

// Sets or unsets process environment variables, and restores every one it touched when destroyed.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }
  void Set(const std::string& name, const std::string& value) {
    Save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Save(name);
    unsetenv(name.c_str());
  }

 private:
  void Save(const std::string& name) {
    for (const auto& saved : saved_) {
      if (saved.first == name) {
        return;
      }
    }
    const char* value = std::getenv(name.c_str());
    saved_.emplace_back(name, value != nullptr ? std::optional<std::string>(value) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

constexpr char kPlaintext[] = "the quarterly numbers, unreleased";
constexpr char kWrongSecret[] = "wrongSECRETwrongSECRETwrongSECRETwrong00";

EncryptionContext AppContext(const std::string& object) {
  return {{"tenant", "acme"}, {"object", object}};
}

// The runtime as `perimeter serve` builds it from the config, over a fresh state directory, with
// the gateway's AWS credentials in the process environment (as an operator would export them).
// Every variable ResolveAwsCredentials reads is pinned, so the machine's own ~/.aws and
// AWS_* variables are never used; the local root key is <state_dir>/root.key.
class KmsRuntimeTest : public AwsKmsBackendTest {
 protected:
  void SetUp() override {
    std::string dir = (fs::path(testing::TempDir()) / "perimeter_kms_runtime_XXXXXX").string();
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    env_.Set("AWS_ACCESS_KEY_ID", kAccessKey);
    env_.Set("AWS_SECRET_ACCESS_KEY", kSecret);
    env_.Unset("AWS_SESSION_TOKEN");
    env_.Unset("AWS_PROFILE");
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "absent" / "credentials").string());
    env_.Set("AWS_CONFIG_FILE", (dir_ / "absent" / "config").string());
    env_.Unset("PERIMETER_ROOT_KEY_FILE");
  }

  void TearDown() override {
    mock_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  config::Config AwsConfig(std::string key_id = "alias/perimeter") const {
    config::Config cfg = config::DefaultConfig();
    cfg.server.state_dir = dir_.string();
    cfg.keys.backend = "aws-kms";
    cfg.keys.aws_kms.region = kRegion;
    cfg.keys.aws_kms.key_id = std::move(key_id);
    // Never the default (real AWS) endpoint: without a mock, a port where nothing listens.
    cfg.keys.aws_kms.endpoint_url = mock_ ? mock_->Url() : "http://127.0.0.1:1";
    return cfg;
  }

  config::Config LocalConfig() const {
    config::Config cfg = AwsConfig();  // the aws_kms section stays, as after a one-line switch
    cfg.keys.backend = "local";
    return cfg;
  }

  // The runtime, or one with null members (and a test failure) when it does not open.
  KmsRuntime Open(const config::Config& cfg) {
    auto runtime = OpenKmsRuntime(cfg, clock_);
    EXPECT_TRUE(runtime.ok()) << runtime.status().ToString();
    return runtime.ok() ? std::move(runtime.value()) : KmsRuntime{};
  }

  static Result<KeyRecord> CreateKey(Kms& kms, const std::string& alias) {
    CreateKeyRequest request;
    request.alias = alias;
    return kms.CreateKey(kms.Administrator(), request);
  }

  // Creates alias/app with the aws-kms runtime and encrypts kPlaintext under it, then closes the
  // runtime (as a process exit would). Returns the ciphertext.
  std::string CiphertextFromEarlierRun(const std::string& object = "report-1") {
    KmsRuntime runtime = Open(AwsConfig());
    EXPECT_NE(runtime.kms, nullptr);
    if (runtime.kms == nullptr) {
      return "";
    }
    auto key = CreateKey(*runtime.kms, "alias/app");
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    auto ciphertext = runtime.kms->Encrypt(runtime.kms->Administrator(), "alias/app", kPlaintext,
                                           AppContext(object));
    EXPECT_TRUE(ciphertext.ok()) << ciphertext.status().ToString();
    return ciphertext.ok() ? *ciphertext : "";
  }

  static bool IsPlaintext(const crypto::SecretBytes& bytes) {
    return bytes.RevealSecretForUse() == std::string_view(kPlaintext);
  }

  fs::path dir_;
  ScopedEnv env_;
};

TEST_F(KmsRuntimeTest, AwsBackendWrapsNewKeysThroughAws) {
  StartMock();
  const config::Config cfg = AwsConfig();
  KmsRuntime runtime = Open(cfg);
  ASSERT_NE(runtime.kms, nullptr);
  ASSERT_NE(runtime.store, nullptr);
  EXPECT_EQ(KeyStorePath(cfg), (dir_ / "keys.db").string());
  EXPECT_TRUE(fs::exists(dir_ / "keys.db"));
  EXPECT_EQ(mock_->requests(), 0);  // opening makes no call to AWS

  Kms& kms = *runtime.kms;
  auto key = CreateKey(kms, "alias/app");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->backend, "aws-kms");
  EXPECT_EQ(mock_->targets(), std::vector<std::string>{"TrentService.GenerateDataKey"});
  EXPECT_EQ(mock_->verified(), 1);
  EXPECT_EQ(mock_->fully_signed(), 1);

  // The stored record names the backend, and the stored material is AWS's CiphertextBlob (the
  // mock's blobs carry the ARN of the AWS key that wrapped them).
  auto stored = runtime.store->GetKey(key->key_id);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status().ToString();
  EXPECT_EQ((*stored)->backend, "aws-kms");
  auto versions = runtime.store->ListVersions(key->key_id);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_NE(versions->front().wrapped_material.find(kKeyArn), std::string::npos);

  auto ciphertext = kms.Encrypt(kms.Administrator(), "alias/app", kPlaintext, AppContext("a"));
  ASSERT_TRUE(ciphertext.ok()) << ciphertext.status().ToString();
  EXPECT_EQ(ciphertext->find(kPlaintext), std::string::npos);
  auto decrypted = kms.Decrypt(kms.Administrator(), *ciphertext, AppContext("a"));
  ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
  EXPECT_TRUE(IsPlaintext(decrypted->plaintext));
  EXPECT_EQ(decrypted->key_id, key->key_id);

  // No second key was generated; the material was unwrapped at most once, and every call to AWS
  // was signed with the environment's credentials.
  EXPECT_EQ(mock_->count("GenerateDataKey"), 1);
  EXPECT_LE(mock_->count("Decrypt"), 1);
  EXPECT_EQ(mock_->verified(), mock_->requests());
  EXPECT_EQ(mock_->fully_signed(), mock_->requests());
}

TEST_F(KmsRuntimeTest, RestartedRuntimeUnwrapsThroughAwsOnce) {
  StartMock();
  const std::string first = CiphertextFromEarlierRun("report-1");
  ASSERT_FALSE(first.empty());
  const int generated = mock_->count("GenerateDataKey");
  const int decrypts_before = mock_->count("Decrypt");
  EXPECT_EQ(generated, 1);

  KmsRuntime runtime = Open(AwsConfig());  // a new process over the same state directory
  ASSERT_NE(runtime.kms, nullptr);
  Kms& kms = *runtime.kms;
  auto described = kms.DescribeKey(kms.Administrator(), "alias/app");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->backend, "aws-kms");
  EXPECT_EQ(mock_->count("Decrypt"), decrypts_before);  // metadata needs no material

  for (int i = 0; i < 3; ++i) {
    auto decrypted = kms.Decrypt(kms.Administrator(), first, AppContext("report-1"));
    ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
    EXPECT_TRUE(IsPlaintext(decrypted->plaintext));
    EXPECT_EQ(decrypted->key_id, described->key_id);
  }
  // New data under the same key version uses the material already in memory too.
  auto second = kms.Encrypt(kms.Administrator(), "alias/app", kPlaintext, AppContext("report-2"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto decrypted = kms.Decrypt(kms.Administrator(), *second, AppContext("report-2"));
  ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
  EXPECT_TRUE(IsPlaintext(decrypted->plaintext));

  EXPECT_EQ(mock_->count("Decrypt") - decrypts_before, 1);
  EXPECT_EQ(mock_->count("GenerateDataKey"), generated);
  EXPECT_EQ(mock_->verified(), mock_->requests());
}

TEST_F(KmsRuntimeTest, WrongSecretInEnvironmentFailsDecryptAndCreateKey) {
  StartMock();
  const std::string ciphertext = CiphertextFromEarlierRun();
  ASSERT_FALSE(ciphertext.empty());
  const int verified_before = mock_->verified();

  env_.Set("AWS_SECRET_ACCESS_KEY", kWrongSecret);
  KmsRuntime runtime = Open(AwsConfig());  // credentials are only checked by AWS, on first use
  ASSERT_NE(runtime.kms, nullptr);
  Kms& kms = *runtime.kms;

  auto decrypted = kms.Decrypt(kms.Administrator(), ciphertext, AppContext("report-1"));
  ASSERT_FALSE(decrypted.ok());
  EXPECT_EQ(decrypted.status().code(), StatusCode::kFailedPrecondition)
      << decrypted.status().ToString();
  const std::string& message = decrypted.status().message();
  EXPECT_NE(message.find("Decrypt"), std::string::npos) << message;
  EXPECT_NE(message.find("InvalidSignatureException"), std::string::npos) << message;
  EXPECT_NE(message.find("credentials"), std::string::npos) << message;
  EXPECT_EQ(message.find(kPlaintext), std::string::npos);
  EXPECT_EQ(message.find(kWrongSecret), std::string::npos);
  EXPECT_EQ(message.find(kSecret), std::string::npos);

  auto created = CreateKey(kms, "alias/app2");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition)
      << created.status().ToString();
  EXPECT_NE(created.status().message().find("GenerateDataKey"), std::string::npos)
      << created.status().ToString();
  EXPECT_EQ(created.status().message().find(kWrongSecret), std::string::npos);
  // Nothing half-made: the alias is free and only the earlier key exists.
  EXPECT_EQ(kms.DescribeKey(kms.Administrator(), "alias/app2").status().code(),
            StatusCode::kNotFound);
  auto keys = runtime.store->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);

  EXPECT_EQ(mock_->verified(), verified_before);  // AWS accepted none of these calls
}

TEST_F(KmsRuntimeTest, AccessDeniedByAwsFailsDecryptAndCreateKeyUntilGranted) {
  StartMock();
  const std::string ciphertext = CiphertextFromEarlierRun();
  ASSERT_FALSE(ciphertext.empty());

  KmsRuntime runtime = Open(AwsConfig());
  ASSERT_NE(runtime.kms, nullptr);
  Kms& kms = *runtime.kms;
  // The AWS key policy no longer lets the gateway use the key.
  mock_->Force({400,
                R"({"__type":"AccessDeniedException","message":"User: )"
                R"(arn:aws:iam::111122223333:user/gw is not authorized to perform: kms:Decrypt"})",
                {}});

  auto decrypted = kms.Decrypt(kms.Administrator(), ciphertext, AppContext("report-1"));
  ASSERT_FALSE(decrypted.ok());
  EXPECT_EQ(decrypted.status().code(), StatusCode::kPermissionDenied)
      << decrypted.status().ToString();
  EXPECT_NE(decrypted.status().message().find("AccessDeniedException"), std::string::npos)
      << decrypted.status().ToString();
  EXPECT_EQ(decrypted.status().message().find(kPlaintext), std::string::npos);

  auto created = CreateKey(kms, "alias/app2");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kPermissionDenied) << created.status().ToString();
  EXPECT_NE(created.status().message().find("AccessDeniedException"), std::string::npos)
      << created.status().ToString();
  EXPECT_EQ(kms.DescribeKey(kms.Administrator(), "alias/app2").status().code(),
            StatusCode::kNotFound);

  // The refusal is not remembered: once AWS allows it again, the same runtime decrypts.
  mock_->Unforce();
  auto retried = kms.Decrypt(kms.Administrator(), ciphertext, AppContext("report-1"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_TRUE(IsPlaintext(retried->plaintext));
}

TEST_F(KmsRuntimeTest, LocalBackendConfigOpensButAwsKeysStillNeedTheAwsBackend) {
  StartMock();
  const std::string aws_ciphertext = CiphertextFromEarlierRun();
  ASSERT_FALSE(aws_ciphertext.empty());
  std::string local_ciphertext;
  std::string aws_key_id;
  {
    // The local backend needs no AWS credentials: with none, backend local still opens.
    env_.Unset("AWS_ACCESS_KEY_ID");
    env_.Unset("AWS_SECRET_ACCESS_KEY");
    const int requests_before = mock_->requests();
    KmsRuntime runtime = Open(LocalConfig());
    ASSERT_NE(runtime.kms, nullptr);
    Kms& kms = *runtime.kms;
    auto aws_key = kms.DescribeKey(kms.Administrator(), "alias/app");
    ASSERT_TRUE(aws_key.ok()) << aws_key.status().ToString();
    aws_key_id = aws_key->key_id;

    auto decrypted = kms.Decrypt(kms.Administrator(), aws_ciphertext, AppContext("report-1"));
    ASSERT_FALSE(decrypted.ok());
    EXPECT_EQ(decrypted.status().code(), StatusCode::kFailedPrecondition)
        << decrypted.status().ToString();
    EXPECT_NE(decrypted.status().message().find("'aws-kms' key backend"), std::string::npos)
        << decrypted.status().ToString();
    EXPECT_NE(decrypted.status().message().find("not configured"), std::string::npos)
        << decrypted.status().ToString();
    EXPECT_NE(decrypted.status().message().find(aws_key_id), std::string::npos)
        << decrypted.status().ToString();
    auto encrypted = kms.Encrypt(kms.Administrator(), "alias/app", kPlaintext, AppContext("x"));
    ASSERT_FALSE(encrypted.ok());
    EXPECT_EQ(encrypted.status().code(), StatusCode::kFailedPrecondition)
        << encrypted.status().ToString();

    // New keys are local ones, and work.
    auto local_key = CreateKey(kms, "alias/local");
    ASSERT_TRUE(local_key.ok()) << local_key.status().ToString();
    EXPECT_EQ(local_key->backend, "local");
    auto sealed = kms.Encrypt(kms.Administrator(), "alias/local", kPlaintext, AppContext("l"));
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    local_ciphertext = *sealed;
    EXPECT_EQ(mock_->requests(), requests_before);  // AWS was never called
  }

  // Switching back to aws-kms: keys of both backends decrypt (local is always registered).
  env_.Set("AWS_ACCESS_KEY_ID", kAccessKey);
  env_.Set("AWS_SECRET_ACCESS_KEY", kSecret);
  KmsRuntime runtime = Open(AwsConfig());
  ASSERT_NE(runtime.kms, nullptr);
  Kms& kms = *runtime.kms;
  auto from_aws = kms.Decrypt(kms.Administrator(), aws_ciphertext, AppContext("report-1"));
  ASSERT_TRUE(from_aws.ok()) << from_aws.status().ToString();
  EXPECT_TRUE(IsPlaintext(from_aws->plaintext));
  EXPECT_EQ(from_aws->key_id, aws_key_id);
  const int requests_before = mock_->requests();
  auto from_local = kms.Decrypt(kms.Administrator(), local_ciphertext, AppContext("l"));
  ASSERT_TRUE(from_local.ok()) << from_local.status().ToString();
  EXPECT_TRUE(IsPlaintext(from_local->plaintext));
  EXPECT_EQ(mock_->requests(), requests_before);  // a local key never goes to AWS
}

TEST_F(KmsRuntimeTest, AwsBackendWithoutCredentialsDoesNotOpen) {
  StartMock();
  env_.Unset("AWS_ACCESS_KEY_ID");
  env_.Unset("AWS_SECRET_ACCESS_KEY");  // and the credentials file does not exist
  auto missing = OpenKmsRuntime(AwsConfig(), clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_EQ(missing.status().message().rfind("keys.aws_kms: ", 0), 0u)
      << missing.status().ToString();

  env_.Set("AWS_ACCESS_KEY_ID", kAccessKey);  // half-configured
  auto half = OpenKmsRuntime(AwsConfig(), clock_);
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument) << half.status().ToString();
  EXPECT_NE(half.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos)
      << half.status().ToString();
  EXPECT_EQ(mock_->requests(), 0);
}

TEST_F(KmsRuntimeTest, ProfileFromConfigIsUsed) {
  StartMock();
  const fs::path file = dir_ / "credentials";
  std::ofstream(file) << "[kms]\naws_access_key_id = " << kAccessKey
                      << "\naws_secret_access_key = " << kSecret << "\n";
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", file.string());
  env_.Set("AWS_SECRET_ACCESS_KEY", kWrongSecret);  // ignored: a named profile wins
  config::Config cfg = AwsConfig();
  cfg.keys.aws_kms.profile = "kms";
  KmsRuntime runtime = Open(cfg);
  ASSERT_NE(runtime.kms, nullptr);
  auto key = CreateKey(*runtime.kms, "alias/app");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(mock_->verified(), 1);

  cfg.keys.aws_kms.profile = "no-such-profile";
  auto missing = OpenKmsRuntime(cfg, clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("no-such-profile"), std::string::npos)
      << missing.status().ToString();
}

TEST_F(KmsRuntimeTest, CaFileFromConfigIsTrusted) {
  const TestCert cert = MakeSelfSignedCert("IP:127.0.0.1");
  StartMock({.tls = cert, .session_token = ""});
  const fs::path ca = dir_ / "kms-ca.pem";
  std::ofstream(ca) << cert.cert_pem;
  config::Config cfg = AwsConfig();
  ASSERT_EQ(cfg.keys.aws_kms.endpoint_url.rfind("https://", 0), 0u);

  {
    KmsRuntime untrusted = Open(cfg);  // no ca_file: the handshake fails, nothing is created
    ASSERT_NE(untrusted.kms, nullptr);
    auto refused = CreateKey(*untrusted.kms, "alias/app");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
    EXPECT_EQ(mock_->requests(), 0);
  }

  cfg.keys.aws_kms.ca_file = ca.string();
  KmsRuntime runtime = Open(cfg);
  ASSERT_NE(runtime.kms, nullptr);
  auto key = CreateKey(*runtime.kms, "alias/app");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->backend, "aws-kms");
  EXPECT_EQ(mock_->verified(), 1);

  cfg.keys.aws_kms.ca_file = (dir_ / "missing.pem").string();
  auto unreadable = OpenKmsRuntime(cfg, clock_);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unreadable.status().message().rfind("keys.aws_kms: ", 0), 0u)
      << unreadable.status().ToString();
}

}  // namespace
}  // namespace perimeter::kms
