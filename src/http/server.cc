#include "http/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <fstream>

#include "http/client.h"
#include "http/http2_connection.h"

#include "common/clock.h"
#include "common/strings.h"

namespace perimeter::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

struct Worker {
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ctx.get_executor()};
};

struct Listener {
  config::ListenerConfig cfg;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<unix_socket::acceptor> unix_acceptor;
  std::unique_ptr<asio::ssl::context> ssl;
};

template <class S>
auto& Lowest(S& s) {
  return beast::get_lowest_layer(s);
}

pipeline::ApiFlavor FlavorForPath(std::string_view path) {
  return StartsWith(path, "/v1/") ? pipeline::ApiFlavor::kOpenAi : pipeline::ApiFlavor::kBedrock;
}

// Native handle of the socket under any stream we use.
template <class S>
int NativeFd(S& s) {
  return Lowest(s).socket().native_handle();
}

}  // namespace

struct Server::Impl {
  config::Config cfg;
  std::shared_ptr<const pipeline::FilterChain> chain;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::atomic<size_t> next_worker{0};
  std::atomic<bool> draining{false};
  std::atomic<uint64_t>* in_flight = nullptr;

  Worker& NextWorker() { return *workers[next_worker++ % workers.size()]; }

  Status LoadTls(Listener& l) {
    const auto& t = *l.cfg.tls;
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    beast::error_code ec;
    ctx->use_certificate_chain_file(t.certificate, ec);
    if (ec) {
      return InvalidArgument("listener '" + l.cfg.name + "': cannot load tls.certificate '" +
                             t.certificate + "': " + ec.message() +
                             " (expected a PEM certificate chain)");
    }
    ctx->use_private_key_file(t.private_key, asio::ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("listener '" + l.cfg.name + "': cannot load tls.private_key '" +
                             t.private_key + "': " + ec.message() +
                             " (expected a PEM private key matching the certificate)");
    }
    if (!SSL_CTX_check_private_key(ctx->native_handle())) {
      return InvalidArgument("listener '" + l.cfg.name +
                             "': tls.private_key does not match tls.certificate");
    }
    if (!t.client_ca.empty()) {
      ctx->load_verify_file(t.client_ca, ec);
      if (ec) {
        return InvalidArgument("listener '" + l.cfg.name + "': cannot load tls.client_ca '" +
                               t.client_ca + "': " + ec.message());
      }
      ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
    // ALPN: h2 when the client offers it (the AWS SDK for JavaScript does), else HTTP/1.1.
    SSL_CTX_set_alpn_select_cb(
        ctx->native_handle(),
        [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void*) -> int {
          static const unsigned char kProtos[] = "\x02h2\x08http/1.1";
          unsigned char* selected = nullptr;
          if (SSL_select_next_proto(&selected, outlen, kProtos, sizeof(kProtos) - 1, in, inlen) !=
              OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;
          }
          *out = selected;
          return SSL_TLSEXT_ERR_OK;
        },
        nullptr);
    l.ssl = std::move(ctx);
    return Status::Ok();
  }

  // ---- the response writer over any stream ----
  template <class Stream>
  class Writer final : public pipeline::ResponseWriter {
   public:
    Writer(Stream& s, pipeline::RequestContext& ctx, bool keep_alive,
           std::chrono::milliseconds write_timeout)
        : s_(s), ctx_(ctx), keep_alive_(keep_alive), write_timeout_(write_timeout) {}

    asio::awaitable<Status> Send(pipeline::HttpReply reply) override {
      committed_ = true;
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
      SetCommon(res, reply.headers);
      res.body() = std::move(reply.body);
      res.prepare_payload();
      ctx_.bytes_out += res.body().size();
      Lowest(s_).expires_after(write_timeout_);
      auto [ec, n] = co_await bhttp::async_write(s_, res, kNoThrow);
      co_return Check(ec);
    }

    asio::awaitable<Status> StartStream(int status, pipeline::Headers headers) override {
      committed_ = true;
      streaming_ = true;
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), 11};
      SetCommon(res, headers);
      res.chunked(true);
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      Lowest(s_).expires_after(write_timeout_);
      auto [ec, n] = co_await bhttp::async_write_header(s_, sr, kNoThrow);
      co_return Check(ec);
    }

    asio::awaitable<Status> WriteChunk(std::string_view data) override {
      if (data.empty()) co_return Status::Ok();  // an empty chunk would end the body
      if (broken_) co_return Cancelled("client connection is closed");
      ctx_.bytes_out += data.size();
      Lowest(s_).expires_after(write_timeout_);
      auto [ec, n] = co_await asio::async_write(
          s_, bhttp::make_chunk(asio::buffer(data.data(), data.size())), kNoThrow);
      co_return Check(ec);
    }

    asio::awaitable<Status> EndStream() override {
      if (broken_) co_return Cancelled("client connection is closed");
      Lowest(s_).expires_after(write_timeout_);
      auto [ec, n] = co_await asio::async_write(s_, bhttp::make_chunk_last(), kNoThrow);
      streaming_ = false;
      co_return Check(ec);
    }

    bool committed() const override { return committed_; }
    bool broken() const {
      return broken_ || streaming_;
    }  // an unfinished chunked body cannot be reused

   private:
    template <class Msg>
    void SetCommon(Msg& res, const pipeline::Headers& headers) {
      for (const auto& [k, v] : headers) res.set(k, v);
      res.set("x-amzn-RequestId", ctx_.request_id);
      res.set("x-request-id", ctx_.request_id);
      res.keep_alive(keep_alive_);
    }
    Status Check(const beast::error_code& ec) {
      if (!ec) return Status::Ok();
      broken_ = true;
      return Cancelled("client connection failed while writing: " + ec.message());
    }
    Stream& s_;
    pipeline::RequestContext& ctx_;
    bool keep_alive_;
    std::chrono::milliseconds write_timeout_;
    bool committed_ = false;
    bool streaming_ = false;
    bool broken_ = false;
  };

  // Completes only when the peer has closed its side while a request runs. Pipelined bytes
  // (a next request) are not a disconnect: then it waits until cancelled.
  template <class Stream>
  asio::awaitable<void> WatchDisconnect(Stream& s) {
    auto [ec] = co_await Lowest(s).socket().async_wait(tcp::socket::wait_read, kNoThrow);
    if (ec) co_return;  // cancelled: the request finished first
    char b;
    ssize_t n = ::recv(NativeFd(s), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) co_return;  // peer gone
    asio::steady_timer forever(co_await asio::this_coro::executor,
                               std::chrono::steady_clock::time_point::max());
    (void)co_await forever.async_wait(kNoThrow);
  }

  asio::awaitable<void> RunChain(pipeline::RequestContext& ctx) {
    co_await asio::this_coro::throw_if_cancelled(false);
    try {
      co_await chain->Run(ctx);
    } catch (const std::exception&) {
      // Filters do not throw by contract; a throw here is a defect we contain to one request.
      if (ctx.status == 0) ctx.status = 500;
    }
  }

  template <class Stream>
  asio::awaitable<void> SendEarlyError(Stream& s, pipeline::ApiFlavor flavor, const Status& st) {
    pipeline::RequestContext ctx;
    ctx.request_id = "-";
    pipeline::HttpReply r = pipeline::EncodeError(flavor, pipeline::ErrorFromStatus(flavor, st));
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = r.body;
    res.keep_alive(false);
    res.prepare_payload();
    Lowest(s).expires_after(cfg.limits.idle_timeout);
    auto [wec, wn] = co_await bhttp::async_write(s, res, kNoThrow);
    if (wec) co_return;
    // Lingering close: read and discard what the client is still sending (the body we refused)
    // for a bounded time, so closing with unread data does not reset the connection before the
    // client has read the error.
    Lowest(s).expires_after(std::chrono::seconds(1));
    char discard[16 * 1024];
    for (size_t total = 0; total < (8u << 20);) {
      auto [rec, rn] = co_await s.async_read_some(asio::buffer(discard), kNoThrow);
      if (rec) break;
      total += rn;
    }
  }

  void InitContext(pipeline::RequestContext& ctx, const Listener& l, const IpAddress& peer,
                   bool secure) {
    ctx.listener_name = l.cfg.name;
    ctx.source_ip = peer;
    ctx.secure_transport = secure;
    ctx.received_at = SystemClock().Now();
    ctx.received_mono = std::chrono::steady_clock::now();
  }

  asio::awaitable<void> Dispatch(pipeline::RequestContext& ctx) {
    in_flight->fetch_add(1);
    co_await RunChain(ctx);
    in_flight->fetch_sub(1);
  }

  template <class Stream>
  asio::awaitable<void> ServeHttp2(Stream& s, std::string_view preread, const Listener& l,
                                   IpAddress peer, bool secure) {
    Http2Limits lim{cfg.limits.max_body_bytes, cfg.limits.max_header_bytes,
                    cfg.limits.max_header_count, cfg.limits.idle_timeout};
    Http2Connection<Stream> conn(
        s, lim,
        [this, &l, peer, secure](pipeline::RequestContext& ctx) {
          InitContext(ctx, l, peer, secure);
        },
        [this](pipeline::RequestContext& ctx) { return Dispatch(ctx); });
    co_await conn.Run(preread);
  }

  template <class Stream>
  asio::awaitable<void> Session(Stream s, const Listener& l, IpAddress peer, bool secure,
                                beast::flat_buffer buffer = {}) {
    const auto& lim = cfg.limits;
    for (;;) {
      // Between requests a connection may idle for idle_timeout; from the first byte of a
      // request, the whole request (head and body) must arrive within request_timeout, so a
      // client cannot hold a connection by trickling header bytes.
      if (buffer.size() == 0) {
        Lowest(s).expires_after(lim.idle_timeout);
        auto [fec, fn] = co_await s.async_read_some(buffer.prepare(4096), kNoThrow);
        if (fec) break;
        buffer.commit(fn);
      }
      Lowest(s).expires_after(lim.request_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(lim.max_header_bytes);
      parser.body_limit(lim.max_body_bytes);
      auto [hec, hn] = co_await bhttp::async_read_header(s, buffer, parser, kNoThrow);
      if (hec == bhttp::error::header_limit) {
        co_await SendEarlyError(s, pipeline::ApiFlavor::kBedrock,
                                InvalidArgument("request headers exceed " +
                                                std::to_string(lim.max_header_bytes) + " bytes"));
        break;
      }
      if (hec == bhttp::error::body_limit) {
        // Beast checks Content-Length against the body limit while parsing the head.
        std::string target(parser.get().target());
        co_await SendEarlyError(
            s, FlavorForPath(target.substr(0, target.find('?'))),
            PayloadTooLarge("request body exceeds the limit of " +
                            std::to_string(lim.max_body_bytes) + " bytes (limits.max_body_bytes)"));
        break;
      }
      if (hec) break;  // closed, request timeout, or garbage: nothing to answer
      const auto& head = parser.get();
      std::string target(head.target());
      std::string path = target.substr(0, target.find('?'));
      const auto flavor = FlavorForPath(path);
      size_t header_count = std::distance(head.begin(), head.end());
      if (header_count > lim.max_header_count) {
        co_await SendEarlyError(
            s, flavor,
            InvalidArgument("request has " + std::to_string(header_count) +
                            " headers; the limit is " + std::to_string(lim.max_header_count)));
        break;
      }
      if (head.has_content_length() && parser.content_length() &&
          *parser.content_length() > lim.max_body_bytes) {
        co_await SendEarlyError(
            s, flavor,
            PayloadTooLarge("request body of " + std::to_string(*parser.content_length()) +
                            " bytes exceeds the limit of " + std::to_string(lim.max_body_bytes) +
                            " bytes (limits.max_body_bytes)"));
        break;
      }
      if (EqualsIgnoreCase(head[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        (void)co_await bhttp::async_write(s, cont, kNoThrow);
      }
      auto [bec, bn] = co_await bhttp::async_read(s, buffer, parser, kNoThrow);
      if (bec == bhttp::error::body_limit) {
        co_await SendEarlyError(
            s, flavor,
            PayloadTooLarge("request body exceeds the limit of " +
                            std::to_string(lim.max_body_bytes) + " bytes (limits.max_body_bytes)"));
        break;
      }
      if (bec == beast::error::timeout) {
        co_await SendEarlyError(
            s, flavor,
            DeadlineExceeded("the request did not arrive within limits.request_timeout"));
        break;
      }
      if (bec) break;
      Lowest(s).expires_never();

      auto req = parser.release();
      pipeline::RequestContext ctx;
      InitContext(ctx, l, peer, secure);
      ctx.flavor = flavor;
      ctx.request.method = std::string(req.method_string());
      ctx.request.target = target;
      ctx.request.path = path;
      ctx.request.query = path.size() < target.size() ? target.substr(path.size() + 1) : "";
      for (const auto& f : req)
        ctx.request.headers.emplace_back(AsciiLower(f.name_string()), std::string(f.value()));
      ctx.request.body = std::move(req.body());
      const bool keep_alive = req.keep_alive() && !draining.load();
      Writer<Stream> writer(s, ctx, keep_alive, lim.idle_timeout);
      ctx.writer = &writer;

      in_flight->fetch_add(1);
      co_await (RunChain(ctx) || WatchDisconnect(s));
      in_flight->fetch_sub(1);
      if (!keep_alive || writer.broken()) break;
    }
    co_await Close(s);
  }

  asio::awaitable<void> Close(beast::tcp_stream& s) {
    beast::error_code ec;
    s.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
  asio::awaitable<void> Close(beast::basic_stream<unix_socket>& s) {
    beast::error_code ec;
    s.socket().shutdown(unix_socket::socket::shutdown_send, ec);
    co_return;
  }
  template <class Next>
  asio::awaitable<void> Close(beast::ssl_stream<Next>& s) {
    Lowest(s).expires_after(std::chrono::seconds(2));
    (void)co_await s.async_shutdown(kNoThrow);
  }

  template <class Plain>
  asio::awaitable<void> StartSession(Plain plain, const Listener& l, IpAddress peer) {
    if (!l.ssl) {
      // h2c with prior knowledge starts with the HTTP/2 preface; anything else is HTTP/1.1.
      beast::flat_buffer buffer;
      Lowest(plain).expires_after(cfg.limits.idle_timeout);
      while (buffer.size() < kHttp2Preface.size()) {
        auto [ec, n] = co_await plain.async_read_some(
            buffer.prepare(kHttp2Preface.size() - buffer.size()), kNoThrow);
        if (ec) co_return;
        buffer.commit(n);
        std::string_view got(static_cast<const char*>(buffer.data().data()), buffer.size());
        if (kHttp2Preface.substr(0, got.size()) != got) break;
      }
      std::string_view got(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (got == kHttp2Preface) {
        std::string preread(got);
        co_await ServeHttp2(plain, preread, l, peer, false);
        co_await Close(plain);
        co_return;
      }
      co_await Session(std::move(plain), l, peer, false, std::move(buffer));
      co_return;
    }
    beast::ssl_stream<Plain> tls(std::move(plain), *l.ssl);
    Lowest(tls).expires_after(cfg.limits.request_timeout);
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    if (ec) co_return;  // bad client certificate, wrong protocol, timeout: drop
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(tls.native_handle(), &alpn, &alpn_len);
    if (alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0) {
      co_await ServeHttp2(tls, "", l, peer, true);
      co_await Close(tls);
      co_return;
    }
    co_await Session(std::move(tls), l, peer, true);
  }

  asio::awaitable<void> AcceptTcp(Listener& l) {
    for (;;) {
      Worker& w = NextWorker();
      auto [ec, sock] = co_await l.tcp_acceptor->async_accept(w.ctx, kNoThrow);
      if (ec == asio::error::operation_aborted || !l.tcp_acceptor->is_open()) co_return;
      if (ec) {
        // Out of descriptors and similar: back off briefly instead of spinning.
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        (void)co_await t.async_wait(kNoThrow);
        continue;
      }
      beast::error_code pec;
      auto ep = sock.remote_endpoint(pec);
      if (pec) continue;
      auto peer = IpAddress::Parse(ep.address().to_string());
      if (!peer.ok()) continue;
      if (!l.cfg.allowed_cidrs.empty()) {
        bool allowed = false;
        for (const auto& c : l.cfg.allowed_cidrs) allowed = allowed || c.Contains(*peer);
        if (!allowed) continue;  // sock closes on scope exit: refused before any byte is read
      }
      sock.set_option(tcp::no_delay(true), pec);
      asio::co_spawn(w.ctx, StartSession(beast::tcp_stream(std::move(sock)), l, *peer),
                     asio::detached);
    }
  }

  asio::awaitable<void> AcceptUnix(Listener& l) {
    for (;;) {
      Worker& w = NextWorker();
      auto [ec, sock] = co_await l.unix_acceptor->async_accept(w.ctx, kNoThrow);
      if (ec == asio::error::operation_aborted || !l.unix_acceptor->is_open()) co_return;
      if (ec) continue;
      IpAddress local = *IpAddress::Parse("127.0.0.1");  // a Unix peer is local by definition
      asio::co_spawn(w.ctx,
                     StartSession(beast::basic_stream<unix_socket>(std::move(sock)), l, local),
                     asio::detached);
    }
  }
};

Server::Server(config::Config config, std::shared_ptr<const pipeline::FilterChain> chain)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->chain = std::move(chain);
  impl_->in_flight = &in_flight_;
  unsigned n = impl_->cfg.server.threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

Server::~Server() = default;

Result<std::vector<BoundListener>> Server::Start() {
  std::vector<BoundListener> bound;
  auto& acceptor_ctx = impl_->workers[0]->ctx;
  for (const auto& lc : impl_->cfg.listeners) {
    auto l = std::make_unique<Listener>();
    l->cfg = lc;
    if (lc.tls) PERIMETER_RETURN_IF_ERROR(impl_->LoadTls(*l));
    const std::string scheme = lc.tls ? "https" : "http";
    beast::error_code ec;
    if (!lc.unix_socket.empty()) {
      struct stat st {};
      if (::lstat(lc.unix_socket.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
          return FailedPrecondition("listener '" + lc.name + "': '" + lc.unix_socket +
                                    "' exists and is not a socket; refusing to replace it");
        }
        ::unlink(lc.unix_socket.c_str());  // a stale socket from an earlier run
      }
      l->unix_acceptor = std::make_unique<unix_socket::acceptor>(acceptor_ctx);
      l->unix_acceptor->open(unix_socket(), ec);
      if (!ec) l->unix_acceptor->bind(unix_socket::endpoint(lc.unix_socket), ec);
      if (!ec) l->unix_acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec)
        return Unavailable("listener '" + lc.name + "': cannot listen on unix socket '" +
                           lc.unix_socket + "': " + ec.message());
      bound.push_back({lc.name, (lc.tls ? "unix+tls:" : "unix:") + lc.unix_socket});
    } else {
      auto addr = asio::ip::make_address(lc.address, ec);
      if (ec)
        return InvalidArgument("listener '" + lc.name + "': bad address '" + lc.address + "'");
      tcp::endpoint ep(addr, lc.port);
      l->tcp_acceptor = std::make_unique<tcp::acceptor>(acceptor_ctx);
      l->tcp_acceptor->open(ep.protocol(), ec);
      if (!ec) l->tcp_acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) l->tcp_acceptor->bind(ep, ec);
      if (!ec) l->tcp_acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        return Unavailable("listener '" + lc.name + "': cannot listen on " + lc.address + ":" +
                           std::to_string(lc.port) + ": " + ec.message() +
                           (ec == asio::error::address_in_use
                                ? " (another process holds this port; pick another or stop it)"
                                : ""));
      }
      auto local = l->tcp_acceptor->local_endpoint();
      std::string host = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                                 : local.address().to_string();
      bound.push_back({lc.name, scheme + "://" + host + ":" + std::to_string(local.port())});
    }
    impl_->listeners.push_back(std::move(l));
  }
  for (auto& l : impl_->listeners) {
    if (l->tcp_acceptor) asio::co_spawn(acceptor_ctx, impl_->AcceptTcp(*l), asio::detached);
    if (l->unix_acceptor) asio::co_spawn(acceptor_ctx, impl_->AcceptUnix(*l), asio::detached);
  }
  return bound;
}

void Server::Run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->workers.size(); ++i) {
    threads.emplace_back([w = impl_->workers[i].get()] {
      w->ctx.run();
      HttpClient::ClearThreadPool();
    });
  }
  impl_->workers[0]->ctx.run();
  HttpClient::ClearThreadPool();
  for (auto& t : threads) t.join();
}

void Server::Drain() {
  if (impl_->draining.exchange(true)) return;
  auto& ctx0 = impl_->workers[0]->ctx;
  asio::co_spawn(
      ctx0,
      [impl = impl_.get()]() -> asio::awaitable<void> {
        for (auto& l : impl->listeners) {
          beast::error_code ec;
          if (l->tcp_acceptor) l->tcp_acceptor->close(ec);
          if (l->unix_acceptor) {
            l->unix_acceptor->close(ec);
            ::unlink(l->cfg.unix_socket.c_str());
          }
        }
        const auto deadline = std::chrono::steady_clock::now() + impl->cfg.server.drain_timeout;
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (impl->in_flight->load() > 0 && std::chrono::steady_clock::now() < deadline) {
          t.expires_after(std::chrono::milliseconds(10));
          (void)co_await t.async_wait(kNoThrow);
        }
        for (auto& w : impl->workers) {
          w->guard.reset();
          w->ctx.stop();
        }
      },
      asio::detached);
}

}  // namespace perimeter::http
