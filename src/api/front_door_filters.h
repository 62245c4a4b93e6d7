#pragma once

// The front doors as filters.
//
// RouteFilter (early in the chain): maps method + path to an Operation, decodes the model id
// and parses the body into the canonical ChatRequest, answering ValidationException / 400 with
// the field at fault when it cannot. Serves /healthz, /readyz and /metrics itself. After it,
// every filter can read ctx.operation, ctx.model_id and ctx.chat.
//
// UpstreamFilter (terminal): resolves the model's route, calls the provider and answers in the
// front door's own shapes, streaming included.

#include <memory>

#include "pipeline/filter.h"
#include "pipeline/metrics.h"
#include "upstream/model_router.h"

namespace perimeter::api {

// The front door a request belongs to, from its method and path alone (no body): plain
// (/healthz, /readyz, /metrics), OpenAI (/v1/...), STS (POST /) or Bedrock (everything else).
pipeline::ApiFlavor FlavorForRequest(const pipeline::IncomingRequest& req);

// The operation (and, for Bedrock paths, the model id) a request's method and path name, without
// reading its body: for records of requests refused before the route filter ran (an
// unauthenticated caller). Does nothing when ctx.operation is already set.
void ClassifyByPath(pipeline::RequestContext& ctx);

class RouteFilter final : public pipeline::Filter {
 public:
  explicit RouteFilter(std::shared_ptr<pipeline::Metrics> metrics) : metrics_(std::move(metrics)) {}
  std::string_view name() const override { return "route"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

 private:
  std::shared_ptr<pipeline::Metrics> metrics_;
};

class UpstreamFilter final : public pipeline::Filter {
 public:
  explicit UpstreamFilter(std::shared_ptr<const upstream::ModelRouter> router)
      : router_(std::move(router)) {}
  std::string_view name() const override { return "upstream"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

 private:
  std::shared_ptr<const upstream::ModelRouter> router_;
};

}  // namespace perimeter::api
