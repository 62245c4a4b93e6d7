#pragma once

// Upstream: a model provider behind one interface. Providers are built once from config and
// shared by all worker threads; every method is safe to call concurrently.
//
// Failures come back as Status with the code the front doors map onto their error types:
// NotFound (unknown model upstream), InvalidArgument (the upstream refused the input),
// ResourceExhausted (upstream throttling), DeadlineExceeded (timeouts), Unavailable (cannot
// reach or bad answer), Cancelled (the client went away; nothing will be sent).

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"
#include "model/chat.h"

namespace perimeter::upstream {

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual const std::string& name() const = 0;

  virtual boost::asio::awaitable<Result<model::ChatResponse>> Chat(
      const model::ChatRequest& req) = 0;
  virtual boost::asio::awaitable<Status> ChatStream(const model::ChatRequest& req,
                                                    model::ChatStreamSink& sink) = 0;

  // Providers that accept model-native InvokeModel bodies (Bedrock) pass them through untouched;
  // the others are reached through the canonical ChatRequest.
  virtual bool SupportsRawInvoke() const { return false; }
  virtual boost::asio::awaitable<Result<model::RawInvokeResponse>> InvokeRaw(
      const model::RawInvokeRequest& req) {
    co_return Internal("this upstream does not take raw InvokeModel bodies");
  }
  virtual boost::asio::awaitable<Status> InvokeRawStream(const model::RawInvokeRequest& req,
                                                         model::RawChunkSink& sink) {
    co_return Internal("this upstream does not take raw InvokeModel bodies");
  }

  // OpenAI-shaped embeddings; the body is passed through with the model replaced. Providers
  // without embeddings answer InvalidArgument saying so.
  virtual boost::asio::awaitable<Result<std::string>> Embeddings(const std::string& upstream_model,
                                                                 const std::string& body_json) {
    co_return InvalidArgument("the '" + name() + "' upstream does not offer embeddings");
  }

  // Model ids this upstream knows it serves (for GET /v1/models). May be empty.
  virtual std::vector<std::string> KnownModels() const { return {}; }
};

}  // namespace perimeter::upstream
