#include "http/client.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <unordered_map>
#include <vector>

#include "common/strings.h"

namespace perimeter::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::atomic<uint64_t> HttpClient::next_id_{1};

Result<UpstreamUrl> UpstreamUrl::Parse(std::string_view url) {
  UpstreamUrl u;
  std::string_view rest;
  if (StartsWith(url, "https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return InvalidArgument("'" + std::string(url) + "' must start with http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (hostport.empty() || hostport.find('@') != std::string_view::npos ||
      path.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("'" + std::string(url) +
                           "' must be scheme://host[:port][/path] with no user, query or fragment");
  }
  std::string_view host = hostport, port;
  if (hostport.front() == '[') {  // [v6]:port
    size_t close = hostport.find(']');
    if (close == std::string_view::npos)
      return InvalidArgument("'" + std::string(url) + "' has an unclosed IPv6 bracket");
    host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':')
        return InvalidArgument("'" + std::string(url) + "' has junk after the IPv6 address");
      port = hostport.substr(close + 2);
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (!port.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
      return InvalidArgument("'" + std::string(url) + "' has a bad port");
    }
    u.port = static_cast<uint16_t>(p);
  }
  if (host.empty()) return InvalidArgument("'" + std::string(url) + "' has no host");
  u.host = std::string(host);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.base_path = std::string(path);
  return u;
}

std::string UpstreamUrl::HostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string UpstreamUrl::Origin() const {
  return std::string(tls ? "https://" : "http://") + HostHeader();
}

const std::string* ClientResponse::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

struct HttpClient::Conn {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
  // A pooled connection the server closed while idle shows as readable (EOF or stray bytes).
  bool LooksAlive() {
    if (buffer.size() != 0) return false;
    char b;
    ssize_t n = ::recv(lowest().socket().native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

namespace {

using ConnPtr = std::unique_ptr<HttpClient::Conn>;
constexpr size_t kMaxIdlePerThread = 64;

std::unordered_map<uint64_t, std::vector<ConnPtr>>& ThreadPool() {
  thread_local std::unordered_map<uint64_t, std::vector<ConnPtr>> pool;
  return pool;
}

Status MapError(const beast::error_code& ec, std::string_view phase, const UpstreamUrl& url) {
  if (ec == asio::error::operation_aborted) {
    return Cancelled("upstream call cancelled (the client went away)");
  }
  if (ec == beast::error::timeout) {
    return DeadlineExceeded("upstream " + url.Origin() + " did not answer in time (" +
                            std::string(phase) + " timeout)");
  }
  return Unavailable("upstream " + url.Origin() + " failed during " + std::string(phase) + ": " +
                     ec.message());
}

}  // namespace

void HttpClient::ClearThreadPool() { ThreadPool().clear(); }

HttpClient::HttpClient(UpstreamUrl url, ClientOptions options)
    : url_(std::move(url)), options_(std::move(options)), id_(next_id_++) {}

HttpClient::~HttpClient() = default;

Result<std::shared_ptr<HttpClient>> HttpClient::Create(UpstreamUrl url, ClientOptions options) {
  std::shared_ptr<HttpClient> c(new HttpClient(std::move(url), std::move(options)));
  if (c->url_.tls) {
    c->ssl_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    c->ssl_ctx_->set_options(asio::ssl::context::default_workarounds |
                             asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                             asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    c->ssl_ctx_->set_default_verify_paths(ec);
    if (!c->options_.ca_file.empty()) {
      c->ssl_ctx_->load_verify_file(c->options_.ca_file, ec);
      if (ec) {
        return InvalidArgument("cannot load CA file '" + c->options_.ca_file +
                               "': " + ec.message());
      }
    }
    c->ssl_ctx_->set_verify_mode(asio::ssl::verify_peer);
  }
  return c;
}

boost::asio::awaitable<Result<ClientResponse>> HttpClient::Send(std::string_view method,
                                                                std::string target,
                                                                pipeline::Headers headers,
                                                                std::string body) {
  co_return co_await Exchange(method, std::move(target), std::move(headers), std::move(body),
                              nullptr);
}

boost::asio::awaitable<Result<ClientResponse>> HttpClient::SendStreaming(std::string_view method,
                                                                         std::string target,
                                                                         pipeline::Headers headers,
                                                                         std::string body,
                                                                         DataFn on_data) {
  co_return co_await Exchange(method, std::move(target), std::move(headers), std::move(body),
                              &on_data);
}

namespace {

template <class Stream>
asio::awaitable<beast::error_code> WriteRequest(Stream& s,
                                                bhttp::request<bhttp::string_body>& req) {
  auto [ec, n] = co_await bhttp::async_write(s, req, kNoThrow);
  co_return ec;
}

}  // namespace

boost::asio::awaitable<Result<ClientResponse>> HttpClient::Exchange(std::string_view method,
                                                                    std::string target,
                                                                    pipeline::Headers headers,
                                                                    std::string body,
                                                                    DataFn* on_data) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + options_.total_timeout;

  bhttp::request<bhttp::string_body> req;
  req.method(bhttp::string_to_verb(method));
  req.target(url_.base_path + target);
  req.version(11);
  req.set(bhttp::field::host, url_.HostHeader());
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();

  int connect_attempts = 0;
  bool stale_retry_used = false;
  Status last_error = Unavailable("no attempt made");
  while (true) {
    ConnPtr conn;
    bool reused = false;
    auto& pool = ThreadPool()[id_];
    while (!pool.empty() && !conn) {
      ConnPtr c = std::move(pool.back());
      pool.pop_back();
      if (c->LooksAlive()) {
        conn = std::move(c);
        reused = true;
      }
    }
    if (!conn) {
      conn = std::make_unique<Conn>();
      const auto connect_deadline =
          std::min(deadline, std::chrono::steady_clock::now() + options_.connect_timeout);
      tcp::resolver resolver(executor);
      // Resolution has no per-op timeout in Asio; bounded by the OS resolver's own timeouts.
      auto [rec, results] =
          co_await resolver.async_resolve(url_.host, std::to_string(url_.port), kNoThrow);
      beast::error_code ec = rec;
      if (!ec) {
        if (url_.tls) {
          conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, *ssl_ctx_);
        } else {
          conn->plain = std::make_unique<beast::tcp_stream>(executor);
        }
        conn->lowest().expires_at(connect_deadline);
        auto [cec, ep] = co_await conn->lowest().async_connect(results, kNoThrow);
        ec = cec;
        if (!ec) {
          conn->lowest().socket().set_option(tcp::no_delay(true));
        }
        if (!ec && url_.tls) {
          boost::system::error_code ip_ec;
          asio::ip::make_address(url_.host, ip_ec);
          if (ip_ec) {  // SNI only for names, never for IP literals (RFC 6066)
            SSL_set_tlsext_host_name(conn->tls->native_handle(), url_.host.c_str());
          }
          conn->tls->set_verify_callback(asio::ssl::host_name_verification(url_.host));
          auto [hec] =
              co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kNoThrow);
          ec = hec;
        }
      }
      if (ec) {
        last_error = MapError(ec, "connect", url_);
        if (last_error.code() == StatusCode::kCancelled) co_return last_error;
        if (ec == beast::error::timeout) {
          last_error = DeadlineExceeded("could not connect to upstream " + url_.Origin() +
                                        " within the connect timeout");
        }
        if (connect_attempts++ < options_.max_retries &&
            std::chrono::steady_clock::now() < deadline) {
          continue;  // nothing was sent: safe to retry
        }
        co_return last_error;
      }
    }

    conn->lowest().expires_at(
        std::min(deadline, std::chrono::steady_clock::now() + options_.first_byte_timeout));
    beast::error_code wec = conn->plain ? co_await WriteRequest(*conn->plain, req)
                                        : co_await WriteRequest(*conn->tls, req);
    if (wec) {
      if (reused && !stale_retry_used && wec != asio::error::operation_aborted) {
        stale_retry_used = true;
        continue;
      }
      co_return MapError(wec, "sending the request", url_);
    }

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(boost::none);
    beast::error_code hec;
    if (conn->plain) {
      auto [e, n] = co_await bhttp::async_read_header(*conn->plain, conn->buffer, parser, kNoThrow);
      hec = e;
    } else {
      auto [e, n] = co_await bhttp::async_read_header(*conn->tls, conn->buffer, parser, kNoThrow);
      hec = e;
    }
    if (hec) {
      if (reused && !stale_retry_used && hec == bhttp::error::end_of_stream) {
        stale_retry_used = true;  // closed while idle: the request was never read
        continue;
      }
      co_return MapError(
          hec, hec == beast::error::timeout ? "first byte" : "reading the response head", url_);
    }

    ClientResponse resp;
    const auto& head = parser.get();
    resp.status = static_cast<int>(head.result_int());
    for (const auto& f : head)
      resp.headers.emplace_back(AsciiLower(f.name_string()), std::string(f.value()));
    const bool stream_body = on_data != nullptr && resp.status >= 200 && resp.status < 300;

    conn->lowest().expires_at(deadline);
    char buf[16 * 1024];
    uint64_t total = 0;
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof(buf);
      beast::error_code rec;
      if (conn->plain) {
        // read_some, not read: hand each piece on as it arrives instead of waiting to fill buf.
        auto [e, n] = co_await bhttp::async_read_some(*conn->plain, conn->buffer, parser, kNoThrow);
        rec = e;
      } else {
        auto [e, n] = co_await bhttp::async_read_some(*conn->tls, conn->buffer, parser, kNoThrow);
        rec = e;
      }
      if (rec == bhttp::error::need_buffer) rec = {};
      if (rec) co_return MapError(rec, "reading the response body", url_);
      const size_t got = sizeof(buf) - parser.get().body().size;
      total += got;
      if (total > options_.max_response_bytes) {
        co_return Unavailable("upstream " + url_.Origin() + " sent a response larger than " +
                              std::to_string(options_.max_response_bytes) + " bytes");
      }
      if (got == 0) continue;
      if (stream_body) {
        conn->lowest().expires_at(deadline);
        Status st = co_await (*on_data)(std::string_view(buf, got));
        if (!st.ok()) co_return st;  // connection dropped with conn: the upstream sees a close
      } else {
        resp.body.append(buf, got);
      }
    }
    if (parser.keep_alive()) {
      conn->lowest().expires_never();
      auto& p = ThreadPool()[id_];
      if (p.size() < kMaxIdlePerThread) p.push_back(std::move(conn));
    }
    co_return resp;
  }
}

}  // namespace perimeter::http
