#pragma once

// ResponseWriter: how a filter answers the client, without knowing the transport.
//
// Implemented by the HTTP layer (plain or TLS, TCP or Unix socket). Exactly one of
// Send() or StartStream()...EndStream() is used per request; a second response is a programming
// error. Every call completes when the bytes were written (back-pressure) and returns a non-ok
// Status if the client is gone, after which callers stop producing output. Not thread-safe:
// a request runs on one strand.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace perimeter::pipeline {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 200;
  Headers headers;  // Content-Type etc.; Content-Length is set by the writer
  std::string body;
};

inline HttpReply MakeReply(int status, std::string content_type, std::string body) {
  HttpReply r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual boost::asio::awaitable<Status> Send(HttpReply reply) = 0;
  virtual boost::asio::awaitable<Status> StartStream(int status, Headers headers) = 0;
  virtual boost::asio::awaitable<Status> WriteChunk(std::string_view data) = 0;
  virtual boost::asio::awaitable<Status> EndStream() = 0;
  // True once Send or StartStream was called: the status line is committed.
  virtual bool committed() const = 0;
};

}  // namespace perimeter::pipeline
