#include "kms/aws_backend.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "codec/base64.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace perimeter::kms {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kContentType = "application/x-amz-json-1.1";
constexpr std::string_view kTargetPrefix = "TrentService.";
constexpr size_t kMaxRegionBytes = 64;
// Read buffer: the response head plus room for body data in flight (the parser moves body bytes
// out of it as they arrive).
constexpr size_t kReadBufferBytes = kMaxAwsResponseHeaderBytes + kMaxAwsResponseBytes;
// Memory for the parsed JSON answer; wiped afterwards, since a Plaintext field lands in it.
constexpr size_t kJsonArenaBytes = 4 * kMaxAwsResponseBytes;
// AWS error messages are shown to operators: keep them short and printable.
constexpr size_t kMaxAwsMessageBytes = 300;

void WipeString(std::string* s) {
  if (!s->empty()) {
    OPENSSL_cleanse(s->data(), s->size());
  }
  s->clear();
}

// A std::string that is wiped when it goes out of scope (base64 plaintext, request bodies).
struct WipedString {
  std::string value;
  WipedString() = default;
  explicit WipedString(std::string v) : value(std::move(v)) {}
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  ~WipedString() { WipeString(&value); }
};

// --- Endpoint
// -------------------------------------------------------------------------------------

struct Endpoint {
  bool tls = true;
  std::string host;
  uint16_t port = 443;

  std::string HostHeader() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80)) {
      h += ":" + std::to_string(port);
    }
    return h;
  }
  std::string Origin() const { return std::string(tls ? "https://" : "http://") + HostHeader(); }
};

Result<Endpoint> ParseEndpoint(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("aws-kms endpoint_url '" + std::string(url) + "' " + std::string(why) +
                           ": use http(s)://host[:port], e.g. https://kms.eu-west-1.amazonaws.com");
  };
  Endpoint e;
  std::string_view rest;
  if (StartsWith(url, "https://")) {
    rest = url.substr(8);
  } else if (StartsWith(url, "http://")) {
    e.tls = false;
    e.port = 80;
    rest = url.substr(7);
  } else {
    return bad("does not start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  if (rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
    return bad("has a path, query, user or whitespace");
  }
  std::string_view host = rest;
  std::optional<std::string_view> port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return bad("has an unclosed IPv6 bracket");
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        return bad("has text after the IPv6 address");
      }
      port = rest.substr(close + 2);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    return bad("has no host");
  }
  if (port.has_value()) {
    unsigned p = 0;
    const auto [ptr, ec] = std::from_chars(port->data(), port->data() + port->size(), p);
    if (port->empty() || ec != std::errc() || ptr != port->data() + port->size() || p == 0 ||
        p > 65535) {
      return bad("has a bad port");
    }
    e.port = static_cast<uint16_t>(p);
  }
  e.host = std::string(host);
  return e;
}

// --- Request bodies
// -------------------------------------------------------------------------------

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (extra >= s.size() - i) {  // truncated sequence
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// A JSON string literal. Precondition: `s` is valid UTF-8.
std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// The EncryptionContext member (with its leading comma), or "" for an empty context, which AWS
// treats as no context.
Result<std::string> ContextMember(const EncryptionContext& context) {
  if (context.empty()) {
    return std::string();
  }
  if (context.size() > kMaxAwsContextPairs) {
    return InvalidArgument("encryption context has " + std::to_string(context.size()) +
                           " pairs; AWS KMS accepts at most " +
                           std::to_string(kMaxAwsContextPairs));
  }
  size_t total = 0;
  std::string out = ",\"EncryptionContext\":{";
  bool first = true;
  for (const auto& [key, value] : context) {
    if (key.empty()) {
      return InvalidArgument("encryption context has an empty key; AWS KMS requires names");
    }
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return InvalidArgument("encryption context pair '" + (IsValidUtf8(key) ? key : "?") +
                             "' is not valid UTF-8, which AWS KMS requires");
    }
    total += key.size() + value.size();
    if (total > kMaxAwsContextBytes) {
      return InvalidArgument("encryption context is larger than " +
                             std::to_string(kMaxAwsContextBytes) +
                             " bytes of keys and values; AWS KMS refuses it");
    }
    if (!first) {
      out += ',';
    }
    first = false;
    out += JsonString(key);
    out += ':';
    out += JsonString(value);
  }
  out += '}';
  return out;
}

bool IsPrintableAsciiToken(std::string_view s) {
  for (const char c : s) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

// --- Answers
// --------------------------------------------------------------------------------------

// The fields of a KMS JSON answer this backend reads; absent fields are empty.
struct KmsAnswer {
  std::string ciphertext_blob;  // base64
  std::string plaintext;        // base64; wiped
  std::string error_type;       // "__type" without its namespace
  std::string error_message;    // "message" or "Message", sanitized
  KmsAnswer() = default;
  KmsAnswer(const KmsAnswer&) = delete;
  KmsAnswer& operator=(const KmsAnswer&) = delete;
  ~KmsAnswer() { WipeString(&plaintext); }
};

std::string SanitizeMessage(std::string_view m) {
  std::string out;
  for (const char c : m) {
    if (out.size() >= kMaxAwsMessageBytes) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

// "com.amazonaws.kms#AccessDeniedException" and "AccessDeniedException:http://..." (the
// x-amzn-ErrorType header form) both give "AccessDeniedException".
std::string ErrorTypeName(std::string_view raw) {
  if (const size_t hash = raw.rfind('#'); hash != std::string_view::npos) {
    raw = raw.substr(hash + 1);
  }
  if (const size_t colon = raw.find(':'); colon != std::string_view::npos) {
    raw = raw.substr(0, colon);
  }
  return SanitizeMessage(TrimWhitespace(raw));
}

// Parses `body` (a JSON object) into `out`. All memory the parse uses for values comes from an
// arena that is wiped afterwards, and the Plaintext string is wiped in place once copied.
Status ParseAnswer(std::string_view body, KmsAnswer* out) {
  std::unique_ptr<unsigned char[]> arena(new unsigned char[kJsonArenaBytes]);
  unsigned char temp[4096];
  Status status;
  {
    json::monotonic_resource resource(arena.get(), kJsonArenaBytes);
    json::parse_options options;
    options.max_depth = 16;
    json::parser parser(json::storage_ptr(&resource), options, temp, sizeof(temp));
    json::error_code ec;
    parser.write(body.data(), body.size(), ec);
    if (ec) {
      status = Internal("answered with invalid JSON (" + ec.message() + ")");
    } else {
      json::value value = parser.release();
      if (json::object* obj = value.if_object()) {
        const auto field = [&](std::string_view name) -> json::string* {
          const auto it = obj->find(name);
          return it == obj->end() ? nullptr : it->value().if_string();
        };
        if (json::string* s = field("CiphertextBlob")) {
          out->ciphertext_blob.assign(s->data(), s->size());
        }
        if (json::string* s = field("Plaintext")) {
          out->plaintext.assign(s->data(), s->size());
          OPENSSL_cleanse(s->data(), s->size());
        }
        if (json::string* s = field("__type")) {
          out->error_type = ErrorTypeName(*s);
        }
        json::string* m = field("message");
        if (m == nullptr) {
          m = field("Message");
        }
        if (m != nullptr) {
          out->error_message = SanitizeMessage(*m);
        }
      } else {
        status = Internal("answered with JSON that is not an object");
      }
    }
  }
  OPENSSL_cleanse(arena.get(), kJsonArenaBytes);
  OPENSSL_cleanse(temp, sizeof(temp));
  return status;
}

Status MapAwsError(std::string_view operation, int http_status, std::string_view type,
                   std::string_view message) {
  std::string what = "AWS KMS " + std::string(operation) + " failed: " +
                     (type.empty() ? "HTTP " + std::to_string(http_status) : std::string(type));
  if (!message.empty()) {
    what += ": " + std::string(message);
  }
  if (type == "InvalidCiphertextException" || type == "IncorrectKeyException") {
    return Unauthenticated(what +
                           " (the wrapped material or its context was altered, or it "
                           "belongs to another AWS KMS key)");
  }
  if (type == "AccessDeniedException") {
    return PermissionDenied(what + " (grant the gateway's AWS principal kms:" +
                            std::string(operation) + " on the key)");
  }
  if (type == "NotFoundException") {
    return NotFound(what + " (check the aws-kms key_id and region)");
  }
  if (type == "DisabledException" || type == "KMSInvalidStateException" ||
      type == "KeyUnavailableException" || type == "InvalidKeyUsageException") {
    return FailedPrecondition(what +
                              " (the AWS KMS key must be an enabled symmetric "
                              "ENCRYPT_DECRYPT key)");
  }
  if (type == "InvalidSignatureException" || type == "UnrecognizedClientException" ||
      type == "ExpiredTokenException" || type == "IncompleteSignatureException" ||
      type == "MissingAuthenticationTokenException" || type == "InvalidClientTokenId" ||
      type == "SignatureDoesNotMatch") {
    return FailedPrecondition(what +
                              " (AWS refused the gateway's credentials: check the AWS "
                              "credentials configured for the aws-kms backend)");
  }
  if (type == "ThrottlingException" || type == "LimitExceededException" ||
      type == "ServiceUnavailableException" || http_status == 429 || http_status >= 500) {
    return Unavailable(what + " (retry later)");
  }
  return Internal(what);
}

// --- HTTP
// -----------------------------------------------------------------------------------------

struct HttpReply {
  int status = 0;
  std::string body;
  std::string error_type_header;  // x-amzn-ErrorType
};

struct Deadlines {
  std::chrono::steady_clock::time_point connect;
  std::chrono::steady_clock::time_point total;
};

Status NetworkError(std::string_view operation, const Endpoint& endpoint, std::string_view phase,
                    const beast::error_code& ec) {
  std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
  return Unavailable("AWS KMS " + std::string(operation) + " at " + endpoint.Origin() + " failed " +
                     std::string(phase) + ": " + why);
}

template <class Stream>
asio::awaitable<Result<HttpReply>> WriteAndRead(Stream& stream, beast::tcp_stream& lowest,
                                                bhttp::request<bhttp::string_body>& request,
                                                beast::flat_static_buffer_base& buffer,
                                                std::string_view operation,
                                                const Endpoint& endpoint,
                                                const Deadlines& deadlines) {
  lowest.expires_at(deadlines.total);
  auto [wec, written] = co_await bhttp::async_write(stream, request, kNoThrow);
  if (wec) {
    co_return NetworkError(operation, endpoint, "sending the request", wec);
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxAwsResponseHeaderBytes);
  parser.body_limit(kMaxAwsResponseBytes);
  auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  if (rec && !parser.is_done()) {
    if (rec == bhttp::error::body_limit || rec == bhttp::error::header_limit ||
        rec == bhttp::error::buffer_overflow) {
      co_return Internal("AWS KMS " + std::string(operation) + " at " + endpoint.Origin() +
                         " answered with more than " + std::to_string(kMaxAwsResponseBytes) +
                         " bytes; that is not an AWS KMS answer");
    }
    co_return NetworkError(operation, endpoint, "reading the answer", rec);
  }
  bhttp::response<bhttp::string_body> response = parser.release();
  HttpReply reply;
  reply.status = static_cast<int>(response.result_int());
  if (const auto it = response.find("x-amzn-ErrorType"); it != response.end()) {
    reply.error_type_header = std::string(it->value());
  }
  reply.body = std::move(response.body());
  co_return reply;
}

asio::awaitable<Result<HttpReply>> Exchange(const Endpoint& endpoint, asio::ssl::context* ssl,
                                            bhttp::request<bhttp::string_body>& request,
                                            beast::flat_static_buffer_base& buffer,
                                            std::string_view operation, Deadlines deadlines) {
  auto executor = co_await asio::this_coro::executor;
  // Resolution has no per-operation timeout in Asio; it is bounded by the OS resolver's own.
  tcp::resolver resolver(executor);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kNoThrow);
  if (rec) {
    co_return NetworkError(operation, endpoint, "resolving the host", rec);
  }
  if (ssl == nullptr) {
    beast::tcp_stream stream(executor);
    stream.expires_at(deadlines.connect);
    auto [cec, connected] = co_await stream.async_connect(endpoints, kNoThrow);
    if (cec) {
      co_return NetworkError(operation, endpoint, "connecting", cec);
    }
    co_return co_await WriteAndRead(stream, stream, request, buffer, operation, endpoint,
                                    deadlines);
  }
  beast::ssl_stream<beast::tcp_stream> stream(executor, *ssl);
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadlines.connect);
  auto [cec, connected] = co_await lowest.async_connect(endpoints, kNoThrow);
  if (cec) {
    co_return NetworkError(operation, endpoint, "connecting", cec);
  }
  boost::system::error_code ip_ec;
  asio::ip::make_address(endpoint.host, ip_ec);
  if (ip_ec) {  // SNI only for names, never for IP literals (RFC 6066)
    SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str());
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (hec) {
    co_return NetworkError(operation, endpoint,
                           "in the TLS handshake (is the server certificate trusted and issued for "
                           "this host? see ca_file)",
                           hec);
  }
  co_return co_await WriteAndRead(stream, lowest, request, buffer, operation, endpoint, deadlines);
}

// Runs Exchange and stores its result (co_spawn needs a default-constructible result type).
asio::awaitable<void> ExchangeInto(std::optional<Result<HttpReply>>* outcome,
                                   const Endpoint& endpoint, asio::ssl::context* ssl,
                                   bhttp::request<bhttp::string_body>& request,
                                   beast::flat_static_buffer_base& buffer,
                                   std::string_view operation, Deadlines deadlines) {
  outcome->emplace(co_await Exchange(endpoint, ssl, request, buffer, operation, deadlines));
}

}  // namespace

// --- AwsKmsBackend
// --------------------------------------------------------------------------------

struct AwsKmsBackend::Impl {
  AwsKmsOptions options;
  Endpoint endpoint;
  std::string origin;
  std::unique_ptr<asio::ssl::context> ssl;  // null for http://
  const Clock* clock = nullptr;

  // Signs and sends one KMS call with `*body` (wiped afterwards) and parses the answer into
  // `*answer`. A non-200 answer is mapped to its Status.
  Status Call(std::string_view operation, std::string* body, KmsAnswer* answer) const;
};

Status AwsKmsBackend::Impl::Call(std::string_view operation, std::string* body,
                                 KmsAnswer* answer) const {
  const std::string target = std::string(kTargetPrefix) + std::string(operation);
  const std::string host = endpoint.HostHeader();

  identity::HttpRequestToSign to_sign;
  to_sign.method = "POST";
  to_sign.path = "/";
  to_sign.headers = {
      {"Host", host}, {"Content-Type", std::string(kContentType)}, {"X-Amz-Target", target}};
  to_sign.payload_sha256_hex = crypto::Sha256Hex(*body);
  const identity::SigningScope scope{options.region, "kms", clock->Now()};
  const auto signature = identity::SignRequest(to_sign, options.credentials, scope);

  bhttp::request<bhttp::string_body> request;
  request.method(bhttp::verb::post);
  request.target("/");
  request.version(11);
  for (const auto& [name, value] : to_sign.headers) {
    request.set(name, value);
  }
  for (const auto& [name, value] : signature) {
    request.set(name, value);
  }
  request.set(bhttp::field::user_agent, "perimeter-kms");
  request.set(bhttp::field::accept_encoding, "identity");
  request.keep_alive(false);
  request.body() = std::move(*body);
  body->clear();
  request.prepare_payload();

  std::unique_ptr<char[]> read_storage(new char[kReadBufferBytes]);
  beast::flat_static_buffer_base read_buffer(read_storage.get(), kReadBufferBytes);

  const auto now = std::chrono::steady_clock::now();
  Deadlines deadlines;
  deadlines.total = now + options.total_timeout;
  deadlines.connect = std::min(deadlines.total, now + options.connect_timeout);

  std::optional<Result<HttpReply>> outcome;
  {
    asio::io_context io;
    asio::co_spawn(
        io, ExchangeInto(&outcome, endpoint, ssl.get(), request, read_buffer, operation, deadlines),
        [&outcome, operation](const std::exception_ptr& error) {
          if (error) {
            outcome.emplace(Internal("AWS KMS " + std::string(operation) +
                                     ": unexpected failure in the HTTP exchange"));
          }
        });
    try {
      io.run();
    } catch (const std::exception&) {
      outcome.emplace(Internal("AWS KMS " + std::string(operation) +
                               ": unexpected failure in the HTTP exchange"));
    }
  }
  WipeString(&request.body());
  OPENSSL_cleanse(read_storage.get(), kReadBufferBytes);

  if (!outcome.has_value()) {
    return Internal("AWS KMS " + std::string(operation) + ": the HTTP exchange did not finish");
  }
  if (!outcome->ok()) {
    return outcome->status();
  }
  HttpReply& reply = outcome->value();
  Status parsed = reply.body.empty() ? Internal("answered with an empty body")
                                     : ParseAnswer(reply.body, answer);
  WipeString(&reply.body);
  if (reply.status != 200) {
    std::string type = answer->error_type;
    if (type.empty() && !reply.error_type_header.empty()) {
      type = ErrorTypeName(reply.error_type_header);
    }
    return MapAwsError(operation, reply.status, type, answer->error_message);
  }
  if (!parsed.ok()) {
    return Status(parsed.code(), "AWS KMS " + std::string(operation) + " " + parsed.message());
  }
  return Status::Ok();
}

AwsKmsBackend::AwsKmsBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AwsKmsBackend::~AwsKmsBackend() = default;

const std::string& AwsKmsBackend::endpoint() const { return impl_->origin; }

Result<std::unique_ptr<AwsKmsBackend>> AwsKmsBackend::Create(AwsKmsOptions options) {
  const std::string& region = options.region;
  if (region.empty() || region.size() > kMaxRegionBytes ||
      region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return InvalidArgument("aws-kms region '" + SanitizeMessage(region) +
                           "' is not an AWS region name such as eu-west-1");
  }
  if (options.key_id.empty() || options.key_id.size() > kMaxAwsKeyIdBytes ||
      !IsPrintableAsciiToken(options.key_id)) {
    return InvalidArgument(
        "aws-kms key_id must be an AWS KMS key id, key ARN, alias (alias/name) or alias ARN of "
        "at most " +
        std::to_string(kMaxAwsKeyIdBytes) + " printable characters");
  }
  const auto& credentials = options.credentials;
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgument(
        "aws-kms needs AWS credentials (an access key id and a secret access key)");
  }
  // These go into HTTP headers: refuse anything that could split or corrupt one.
  if (!IsPrintableAsciiToken(credentials.access_key_id) ||
      credentials.access_key_id.find_first_of("/,=") != std::string::npos ||
      !IsPrintableAsciiToken(credentials.session_token)) {
    return InvalidArgument(
        "aws-kms credentials: the access key id or session token has characters AWS never "
        "issues (whitespace, control characters or separators)");
  }
  if (options.connect_timeout.count() <= 0 || options.total_timeout.count() <= 0) {
    return InvalidArgument("aws-kms timeouts must be positive");
  }
  const std::string url = options.endpoint_url.empty() ? "https://kms." + region + ".amazonaws.com"
                                                       : options.endpoint_url;
  auto endpoint = ParseEndpoint(url);
  if (!endpoint.ok()) {
    return endpoint.status();
  }

  auto impl = std::make_unique<Impl>();
  impl->endpoint = std::move(endpoint.value());
  impl->origin = impl->endpoint.Origin();
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock();
  if (impl->endpoint.tls) {
    impl->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    impl->ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    impl->ssl->set_default_verify_paths(ec);  // a missing system store is not fatal with ca_file
    if (!options.ca_file.empty()) {
      impl->ssl->load_verify_file(options.ca_file, ec);
      if (ec) {
        return InvalidArgument("aws-kms ca_file '" + options.ca_file +
                               "' cannot be loaded: " + ec.message());
      }
    }
    impl->ssl->set_verify_mode(asio::ssl::verify_peer);
  }
  impl->options = std::move(options);
  return std::unique_ptr<AwsKmsBackend>(new AwsKmsBackend(std::move(impl)));
}

Result<std::unique_ptr<AwsKmsBackend>> AwsKmsBackend::CreateWithProfile(
    AwsKmsOptions options, std::string_view profile, const identity::EnvReader& env) {
  auto credentials = identity::ResolveAwsCredentials(profile, env);
  if (!credentials.ok()) {
    return credentials.status();
  }
  options.credentials = std::move(credentials.value());
  return Create(std::move(options));
}

Result<KeyBackend::Generated> AwsKmsBackend::GenerateMaterial(const EncryptionContext& context) {
  auto context_member = ContextMember(context);
  if (!context_member.ok()) {
    return context_member.status();
  }
  std::string body = "{\"KeyId\":" + JsonString(impl_->options.key_id) +
                     ",\"KeySpec\":\"AES_256\"" + *context_member + "}";
  KmsAnswer answer;
  PERIMETER_RETURN_IF_ERROR(impl_->Call("GenerateDataKey", &body, &answer));

  auto plaintext = codec::Base64Decode(answer.plaintext);
  if (!plaintext.ok() || plaintext->size() != kMaterialBytes) {
    if (plaintext.ok()) {
      WipeString(&plaintext.value());
    }
    return Internal("AWS KMS GenerateDataKey answered without a valid 32-byte Plaintext");
  }
  auto wrapped = codec::Base64Decode(answer.ciphertext_blob);
  if (!wrapped.ok() || wrapped->empty() || wrapped->size() > kMaxAwsCiphertextBytes) {
    WipeString(&plaintext.value());
    return Internal("AWS KMS GenerateDataKey answered without a valid CiphertextBlob");
  }
  Generated generated;
  generated.material = crypto::SecretBytes::FromAndWipe(&plaintext.value());
  generated.wrapped = std::move(wrapped.value());
  return generated;
}

Result<crypto::SecretBytes> AwsKmsBackend::Unwrap(std::string_view wrapped,
                                                  const EncryptionContext& context) {
  if (wrapped.empty() || wrapped.size() > kMaxAwsCiphertextBytes) {
    return Unauthenticated("wrapped material of " + std::to_string(wrapped.size()) +
                           " bytes is not an AWS KMS ciphertext blob (1 to " +
                           std::to_string(kMaxAwsCiphertextBytes) + " bytes)");
  }
  auto context_member = ContextMember(context);
  if (!context_member.ok()) {
    return context_member.status();
  }
  std::string body = "{\"CiphertextBlob\":\"" + codec::Base64Encode(wrapped) + "\"" +
                     *context_member + ",\"KeyId\":" + JsonString(impl_->options.key_id) + "}";
  KmsAnswer answer;
  PERIMETER_RETURN_IF_ERROR(impl_->Call("Decrypt", &body, &answer));

  auto plaintext = codec::Base64Decode(answer.plaintext);
  if (!plaintext.ok() || plaintext->size() != kMaterialBytes) {
    if (plaintext.ok()) {
      WipeString(&plaintext.value());
    }
    return Internal("AWS KMS Decrypt answered without a valid 32-byte Plaintext");
  }
  return crypto::SecretBytes::FromAndWipe(&plaintext.value());
}

Result<std::string> AwsKmsBackend::Encrypt(const crypto::SecretBytes& plaintext,
                                           const EncryptionContext& context) {
  if (plaintext.empty() || plaintext.size() > kMaxAwsPlaintextBytes) {
    return InvalidArgument("AWS KMS Encrypt takes 1 to " + std::to_string(kMaxAwsPlaintextBytes) +
                           " bytes; got " + std::to_string(plaintext.size()));
  }
  auto context_member = ContextMember(context);
  if (!context_member.ok()) {
    return context_member.status();
  }
  WipedString encoded(codec::Base64Encode(plaintext.RevealSecretForUse()));
  std::string body;
  body.reserve(encoded.value.size() + context_member->size() + 2 * impl_->options.key_id.size() +
               64);
  body += "{\"KeyId\":" + JsonString(impl_->options.key_id) + ",\"Plaintext\":\"";
  body += encoded.value;
  body += "\"";
  body += *context_member;
  body += "}";
  KmsAnswer answer;
  const Status called = impl_->Call("Encrypt", &body, &answer);
  WipeString(&body);  // Call wipes what it sent; this covers a failure before sending
  PERIMETER_RETURN_IF_ERROR(called);

  auto wrapped = codec::Base64Decode(answer.ciphertext_blob);
  if (!wrapped.ok() || wrapped->empty() || wrapped->size() > kMaxAwsCiphertextBytes) {
    return Internal("AWS KMS Encrypt answered without a valid CiphertextBlob");
  }
  return std::move(wrapped.value());
}

}  // namespace perimeter::kms
