#pragma once

// Http2Connection: one HTTP/2 connection (h2 over TLS via ALPN, or h2c with prior knowledge, as
// the AWS SDK for JavaScript v3 speaks to Bedrock Runtime by default), served with nghttp2.
//
// Every stream becomes one RequestContext run through the same dispatch function as HTTP/1.1,
// with the same limits: header bytes and count (400), body bytes (413, the body is not kept),
// an idle timeout when no stream is active, and at most max_concurrent_streams at once (the
// SETTINGS we advertise; nghttp2 refuses more). A stream the client resets cancels its request,
// and with it the upstream call. Streamed responses apply back-pressure: a writer waits while
// more than kMaxBufferedPerStream bytes are queued for the peer.
//
// Single-threaded by construction: the connection and all its streams run on one worker's
// io_context, so no state here is locked.

#include <nghttp2/nghttp2.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/strings.h"
#include "pipeline/filter.h"

namespace perimeter::http {

namespace beast = boost::beast;

struct Http2Limits {
  uint64_t max_body_bytes = 25ull * 1024 * 1024;
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t max_header_count = 100;
  std::chrono::milliseconds idle_timeout{60000};
  uint32_t max_concurrent_streams = 100;
};

// The bytes every HTTP/2 client sends first (RFC 9113 §3.4).
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

template <class Stream>
class Http2Connection {
 public:
  using InitFn = std::function<void(pipeline::RequestContext&)>;
  using DispatchFn = std::function<boost::asio::awaitable<void>(pipeline::RequestContext&)>;
  static constexpr size_t kMaxBufferedPerStream = 256 * 1024;

  Http2Connection(Stream& s, Http2Limits limits, InitFn init, DispatchFn dispatch)
      : s_(s), limits_(limits), init_(std::move(init)), dispatch_(std::move(dispatch)) {}
  ~Http2Connection() {
    if (session_) nghttp2_session_del(session_);
  }

  // Serves the connection until the peer leaves, a protocol error, or idleness. `preread` holds
  // bytes already read from the socket (the preface, for h2c detection).
  boost::asio::awaitable<void> Run(std::string_view preread) {
    namespace asio = boost::asio;
    constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
    executor_ = co_await asio::this_coro::executor;
    if (!CreateSession()) co_return;
    beast::get_lowest_layer(s_).expires_never();
    last_activity_ = std::chrono::steady_clock::now();
    bool ok = true;
    if (!preread.empty()) ok = Receive(preread);
    ScheduleFlush();
    asio::co_spawn(executor_, Watchdog(), asio::detached);
    char buf[16 * 1024];
    while (ok && !closing_ &&
           (nghttp2_session_want_read(session_) || nghttp2_session_want_write(session_))) {
      auto [ec, n] = co_await s_.async_read_some(asio::buffer(buf), kNoThrow);
      if (ec) break;
      last_activity_ = std::chrono::steady_clock::now();
      ok = Receive(std::string_view(buf, n));
      ScheduleFlush();
    }
    closing_ = true;
    // Cancel what still runs and wait for it: handlers hold pointers into this object.
    for (auto& [id, st] : streams_) {
      if (st->running) st->cancel.emit(asio::cancellation_type::terminal);
    }
    asio::steady_timer t(executor_);
    while (running_handlers_ > 0 || writing_) {
      t.expires_after(std::chrono::milliseconds(5));
      (void)co_await t.async_wait(kNoThrow);
    }
    if (watchdog_) watchdog_->cancel();
  }

 private:
  struct H2Stream;

  class Writer final : public pipeline::ResponseWriter {
   public:
    Writer(Http2Connection& c, H2Stream& st) : c_(c), st_(st) {}
    boost::asio::awaitable<Status> Send(pipeline::HttpReply reply) override {
      committed_ = true;
      if (st_.closed || c_.closing_) co_return Cancelled("client reset the stream");
      st_.ctx.bytes_out += reply.body.size();
      st_.out = std::move(reply.body);
      st_.out_off = 0;
      st_.out_eof = true;
      reply.headers.emplace_back("content-length", std::to_string(st_.out.size()));
      co_return c_.SubmitResponse(st_, reply.status, reply.headers);
    }
    boost::asio::awaitable<Status> StartStream(int status, pipeline::Headers headers) override {
      committed_ = true;
      if (st_.closed || c_.closing_) co_return Cancelled("client reset the stream");
      co_return c_.SubmitResponse(st_, status, headers);
    }
    boost::asio::awaitable<Status> WriteChunk(std::string_view data) override {
      if (st_.closed || c_.closing_) co_return Cancelled("client reset the stream");
      st_.ctx.bytes_out += data.size();
      st_.out.append(data);
      nghttp2_session_resume_data(c_.session_, st_.id);
      c_.ScheduleFlush();
      // Back-pressure: wait while the peer has not taken what is queued.
      while (st_.out.size() - st_.out_off > kMaxBufferedPerStream && !st_.closed && !c_.closing_) {
        boost::asio::steady_timer& t = st_.drained;
        t.expires_at(std::chrono::steady_clock::time_point::max());
        (void)co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      if (st_.closed || c_.closing_) co_return Cancelled("client reset the stream");
      co_return Status::Ok();
    }
    boost::asio::awaitable<Status> EndStream() override {
      if (st_.closed || c_.closing_) co_return Cancelled("client reset the stream");
      st_.out_eof = true;
      nghttp2_session_resume_data(c_.session_, st_.id);
      c_.ScheduleFlush();
      co_return Status::Ok();
    }
    bool committed() const override { return committed_; }

   private:
    Http2Connection& c_;
    H2Stream& st_;
    bool committed_ = false;
  };

  struct H2Stream {
    H2Stream(int32_t i, const boost::asio::any_io_executor& ex) : id(i), drained(ex) {}
    int32_t id;
    pipeline::RequestContext ctx;
    std::string method, path, authority;
    uint64_t header_bytes = 0;
    uint32_t header_count = 0;
    bool too_large = false, bad_headers = false;
    bool running = false, closed = false, dispatched = false;
    std::string out;
    size_t out_off = 0;
    bool out_eof = false;
    boost::asio::steady_timer drained;
    boost::asio::cancellation_signal cancel;
    std::unique_ptr<Writer> writer;
  };

  bool CreateSession() {
    nghttp2_session_callbacks* cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(cb, &OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &OnDataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &OnFrameRecv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, &OnStreamClose);
    nghttp2_option* opt;
    nghttp2_option_new(&opt);
    // Bound what nghttp2 itself will buffer for a header block.
    nghttp2_option_set_max_send_header_block_length(opt, 64 * 1024);
    int rv = nghttp2_session_server_new2(&session_, cb, this, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) return false;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_bytes},
    };
    return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 2) == 0;
  }

  bool Receive(std::string_view bytes) {
    ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                          bytes.size());
    return rv >= 0;
  }

  void ScheduleFlush() {
    if (writing_ || !session_) return;
    writing_ = true;
    boost::asio::co_spawn(executor_, WriteLoop(), boost::asio::detached);
  }

  // The only writer: drains nghttp2's output until it has nothing more to say.
  boost::asio::awaitable<void> WriteLoop() {
    std::string out;
    for (;;) {
      out.clear();
      while (out.size() < 64 * 1024) {
        const uint8_t* data = nullptr;
        ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          closing_ = true;
          break;
        }
        if (n == 0) break;
        out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      if (out.empty()) break;
      auto [ec, n] = co_await boost::asio::async_write(
          s_, boost::asio::buffer(out), boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) {
        closing_ = true;
        boost::beast::error_code ignored;
        boost::beast::get_lowest_layer(s_).socket().close(ignored);
        break;
      }
      last_activity_ = std::chrono::steady_clock::now();
    }
    writing_ = false;
  }

  // Closes a connection that has had no active stream and no traffic for idle_timeout.
  boost::asio::awaitable<void> Watchdog() {
    boost::asio::steady_timer t(executor_);
    watchdog_ = &t;
    while (!closing_) {
      t.expires_after(limits_.idle_timeout / 4 + std::chrono::milliseconds(1));
      auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec || closing_) break;
      if (running_handlers_ == 0 &&
          std::chrono::steady_clock::now() - last_activity_ > limits_.idle_timeout) {
        closing_ = true;
        boost::beast::error_code ignored;
        boost::beast::get_lowest_layer(s_).socket().close(ignored);
        break;
      }
    }
    watchdog_ = nullptr;
  }

  Status SubmitResponse(H2Stream& st, int status, const pipeline::Headers& headers) {
    std::vector<std::string> storage;
    storage.reserve(headers.size() * 2 + 2);
    storage.push_back(":status");
    storage.push_back(std::to_string(status));
    for (const auto& [k, v] : headers) {
      std::string name = AsciiLower(k);
      // Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2).
      if (name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
          name == "upgrade" || name == "proxy-connection") {
        continue;
      }
      storage.push_back(std::move(name));
      storage.push_back(v);
    }
    storage.push_back("x-amzn-requestid");
    storage.push_back(st.ctx.request_id);
    storage.push_back("x-request-id");
    storage.push_back(st.ctx.request_id);
    std::vector<nghttp2_nv> nva;
    for (size_t i = 0; i + 1 < storage.size(); i += 2) {
      nva.push_back({reinterpret_cast<uint8_t*>(storage[i].data()),
                     reinterpret_cast<uint8_t*>(storage[i + 1].data()), storage[i].size(),
                     storage[i + 1].size(), NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider prd;
    prd.source.ptr = &st;
    prd.read_callback = &ReadBody;
    if (nghttp2_submit_response(session_, st.id, nva.data(), nva.size(), &prd) != 0) {
      return Cancelled("could not submit the response on the HTTP/2 stream");
    }
    ScheduleFlush();
    return Status::Ok();
  }

  void Dispatch(H2Stream& st) {
    if (st.dispatched) return;
    st.dispatched = true;
    auto& req = st.ctx.request;
    init_(st.ctx);
    req.method = st.method;
    req.target = st.path;
    req.path = st.path.substr(0, st.path.find('?'));
    req.query = req.path.size() < st.path.size() ? st.path.substr(req.path.size() + 1) : "";
    if (!req.Header("host") && !st.authority.empty())
      req.headers.emplace_back("host", st.authority);
    st.ctx.flavor =
        StartsWith(req.path, "/v1/") ? pipeline::ApiFlavor::kOpenAi : pipeline::ApiFlavor::kBedrock;
    st.writer = std::make_unique<Writer>(*this, st);
    st.ctx.writer = st.writer.get();
    st.running = true;
    ++running_handlers_;
    boost::asio::co_spawn(
        executor_, RunStream(st),
        boost::asio::bind_cancellation_slot(st.cancel.slot(), boost::asio::detached));
  }

  boost::asio::awaitable<void> RunStream(H2Stream& st) {
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    if (st.bad_headers || st.too_large || st.method.empty() || st.path.empty()) {
      const Status s =
          st.too_large
              ? PayloadTooLarge("request body exceeds the limit of " +
                                std::to_string(limits_.max_body_bytes) +
                                " bytes (limits.max_body_bytes)")
              : InvalidArgument(st.bad_headers ? "request headers exceed limits.max_header_count "
                                                 "or limits.max_header_bytes"
                                               : "request lacks :method or :path");
      const pipeline::ApiError e = pipeline::ErrorFromStatus(st.ctx.flavor, s);
      co_await pipeline::SendError(st.ctx, e);
    } else {
      try {
        co_await dispatch_(st.ctx);
      } catch (const std::exception&) {
        if (st.ctx.status == 0) st.ctx.status = 500;
      }
    }
    st.running = false;
    --running_handlers_;
    // Not erased here: this coroutine's completion still touches st.cancel. Closed, finished
    // streams are swept when the next stream opens, and with the connection.
    ScheduleFlush();
  }

  static Http2Connection* Self(void* user_data) { return static_cast<Http2Connection*>(user_data); }

  static int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* c = Self(user_data);
    std::erase_if(c->streams_,
                  [](const auto& kv) { return kv.second->closed && !kv.second->running; });
    auto st = std::make_unique<H2Stream>(frame->hd.stream_id, c->executor_);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st.get());
    c->streams_[frame->hd.stream_id] = std::move(st);
    return 0;
  }

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* st =
        static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (!st) return 0;
    auto* c = Self(user_data);
    st->header_bytes += namelen + valuelen;
    if (++st->header_count > c->limits_.max_header_count ||
        st->header_bytes > c->limits_.max_header_bytes) {
      st->bad_headers = true;
      return 0;
    }
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method")
      st->method = std::move(v);
    else if (n == ":path")
      st->path = std::move(v);
    else if (n == ":authority")
      st->authority = std::move(v);
    else if (!n.empty() && n[0] != ':')
      st->ctx.request.headers.emplace_back(std::string(n), std::move(v));
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    auto* st = static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (!st || st->too_large) return 0;
    auto* c = Self(user_data);
    if (st->ctx.request.body.size() + len > c->limits_.max_body_bytes) {
      st->too_large = true;
      std::string().swap(st->ctx.request.body);  // do not keep what we will refuse
      return 0;
    }
    st->ctx.request.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      auto* st = static_cast<H2Stream*>(
          nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
      if (st) Self(user_data)->Dispatch(*st);
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t, void* user_data) {
    auto* c = Self(user_data);
    auto it = c->streams_.find(stream_id);
    if (it == c->streams_.end()) return 0;
    H2Stream& st = *it->second;
    st.closed = true;
    st.drained.cancel();
    if (st.running) {
      // The client reset the stream (or the response finished while the handler still runs
      // its OnComplete work): cancel, and let RunStream free it.
      st.cancel.emit(boost::asio::cancellation_type::terminal);
    } else {
      c->streams_.erase(it);
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void*) {
    auto* st = static_cast<H2Stream*>(source->ptr);
    const size_t avail = st->out.size() - st->out_off;
    if (avail == 0) {
      if (st->out_eof) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
      }
      return NGHTTP2_ERR_DEFERRED;
    }
    const size_t n = std::min(avail, length);
    std::memcpy(buf, st->out.data() + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out.size()) {
      st->out.clear();
      st->out_off = 0;
      if (st->out_eof) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (st->out_off > kMaxBufferedPerStream) {
      st->out.erase(0, st->out_off);  // keep the buffer from growing with consumed bytes
      st->out_off = 0;
    }
    if (st->out.size() - st->out_off <= kMaxBufferedPerStream) st->drained.cancel();
    return static_cast<ssize_t>(n);
  }

  Stream& s_;
  Http2Limits limits_;
  InitFn init_;
  DispatchFn dispatch_;
  boost::asio::any_io_executor executor_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<H2Stream>> streams_;
  int running_handlers_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  boost::asio::steady_timer* watchdog_ = nullptr;
  std::chrono::steady_clock::time_point last_activity_;
};

}  // namespace perimeter::http
