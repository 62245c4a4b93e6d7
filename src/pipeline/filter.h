#pragma once

// The filter chain: the one control protocol every request passes through.
//
// A Filter is built once from validated config (immutable, shared by all requests and threads,
// so OnRequest must not mutate the filter) and runs per request:
//   - OnRequest is called in chain order. It returns kContinue to pass the request on, or
//     kStop after it has answered through ctx.writer (a refusal, an error, or — for the terminal
//     filter — the response itself). A filter that returns kStop without having committed a
//     response is a defect; the chain then answers 500 so the client is never left hanging.
//   - OnComplete is called for every filter whose OnRequest ran, in reverse order, after the
//     response is finished or abandoned (client gone). It observes; it cannot change the answer.
// Filters never throw. Adding a control means adding a filter, not editing the server.

#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "pipeline/request_context.h"

namespace perimeter::pipeline {

enum class FilterStatus { kContinue, kStop };

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual boost::asio::awaitable<FilterStatus> OnRequest(RequestContext& ctx) const = 0;
  virtual void OnComplete(RequestContext& ctx) const {}
};

// Encodes ApiError in the request's flavor and sends it. Filters use this to refuse.
boost::asio::awaitable<void> SendError(RequestContext& ctx, const ApiError& error);
// Serialises an ApiError for the flavor (used for replies and by the listener for errors found
// before a chain runs, such as an oversized body).
HttpReply EncodeError(ApiFlavor flavor, const ApiError& error);
// Maps a Status to the flavor's error (Bedrock exception names, OpenAI types).
ApiError ErrorFromStatus(ApiFlavor flavor, const Status& status);

class FilterChain {
 public:
  explicit FilterChain(std::vector<std::unique_ptr<Filter>> filters);
  // Runs the chain for one request. Always leaves a committed response (or a gone client).
  boost::asio::awaitable<void> Run(RequestContext& ctx) const;
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
};

}  // namespace perimeter::pipeline
