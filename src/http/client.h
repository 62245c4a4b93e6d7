#pragma once

// HttpClient: HTTP/1.1 client for one upstream origin, with keep-alive pooling, TLS
// verification, timeouts and bounded retries.
//
// Contract:
//  - Connections are pooled per thread (each worker thread runs its own io_context), so a
//    request never waits on another thread's lock. A pooled connection is only ever used by
//    coroutines running on the thread that created it.
//  - Timeouts: `connect` bounds resolve+connect+TLS handshake; `first_byte` bounds the wait for
//    the response head after the request was written; `total` bounds the whole exchange,
//    streaming included. Exceeding one returns DeadlineExceeded naming which.
//  - Retries happen only when the upstream cannot have acted on the request: a failed connect
//    (up to max_retries more attempts) or a reused keep-alive connection that the server had
//    already closed (write failed, or EOF before any response byte; one extra attempt).
//  - Cancellation (the caller's cancellation slot, e.g. the client went away) closes the
//    connection and returns Cancelled.
//  - TLS: peer verification against the system store plus an optional extra CA file, with host
//    name (or IP SAN) checks. There is no switch to turn verification off.
//  - Response bodies are bounded (max_response_bytes); exceeding it is Unavailable.
// Thread-safe: one HttpClient may be shared by all workers.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/status.h"
#include "pipeline/response_writer.h"

namespace perimeter::http {

struct UpstreamUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 80;
  std::string base_path;  // without trailing '/', e.g. "/v1" or ""
  // http(s)://host[:port][/base]; no user-info, query or fragment.
  static Result<UpstreamUrl> Parse(std::string_view url);
  std::string HostHeader() const;  // host, plus :port when not the scheme default
  std::string Origin() const;      // scheme://host:port, for messages
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds first_byte_timeout{60000};
  std::chrono::milliseconds total_timeout{300000};
  int max_retries = 1;
  std::string ca_file;  // extra trust anchor for TLS
  uint64_t max_response_bytes = 64ull * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  pipeline::Headers headers;  // names lower-cased
  std::string body;
  const std::string* Header(std::string_view lower_name) const;
};

class HttpClient {
 public:
  static Result<std::shared_ptr<HttpClient>> Create(UpstreamUrl url, ClientOptions options);
  ~HttpClient();

  // Sends one request and reads the whole response (any status).
  boost::asio::awaitable<Result<ClientResponse>> Send(std::string_view method, std::string target,
                                                      pipeline::Headers headers, std::string body);

  // Sends one request; for a 2xx answer calls on_data with each piece of the body as it arrives
  // (chunked encoding removed) and returns the head with an empty body. For any other status the
  // body is read whole (bounded) into the result and on_data is not called. If on_data returns
  // non-ok, the exchange stops, the connection is closed and that Status is returned.
  using DataFn = std::function<boost::asio::awaitable<Status>(std::string_view)>;
  boost::asio::awaitable<Result<ClientResponse>> SendStreaming(std::string_view method,
                                                               std::string target,
                                                               pipeline::Headers headers,
                                                               std::string body, DataFn on_data);

  const UpstreamUrl& url() const { return url_; }
  struct Conn;  // a pooled connection (defined in client.cc)

  // Drops this thread's pooled connections for every client. Worker threads call it before
  // their io_context is destroyed.
  static void ClearThreadPool();

 private:
  HttpClient(UpstreamUrl url, ClientOptions options);
  boost::asio::awaitable<Result<ClientResponse>> Exchange(std::string_view method,
                                                          std::string target,
                                                          pipeline::Headers headers,
                                                          std::string body, DataFn* on_data);

  UpstreamUrl url_;
  ClientOptions options_;
  std::unique_ptr<boost::asio::ssl::context> ssl_ctx_;
  uint64_t id_;  // pool key; never reused, so a dead client's pooled connections are never picked
  static std::atomic<uint64_t> next_id_;
};

}  // namespace perimeter::http
