#pragma once

// BedrockUpstream: real AWS Bedrock Runtime. Every request is re-signed with SigV4 using the
// gateway's own credentials (never the caller's), for service "bedrock" in the upstream's
// region, and sent over verified TLS to https://bedrock-runtime.<region>.amazonaws.com or a
// configured (VPC) endpoint. InvokeModel bodies pass through untouched; Converse is sent as
// Converse; streams are decoded frame by frame and handed on as they arrive.

#include <memory>

#include "http/client.h"
#include "identity/sigv4.h"
#include "upstream/upstream.h"

namespace perimeter::upstream {

class BedrockUpstream final : public Upstream {
 public:
  BedrockUpstream(std::string name, std::string region, std::shared_ptr<http::HttpClient> client,
                  identity::AwsCredentials credentials);
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<Result<model::ChatResponse>> Chat(const model::ChatRequest& req) override;
  boost::asio::awaitable<Status> ChatStream(const model::ChatRequest& req,
                                            model::ChatStreamSink& sink) override;
  bool SupportsRawInvoke() const override { return true; }
  boost::asio::awaitable<Result<model::RawInvokeResponse>> InvokeRaw(
      const model::RawInvokeRequest& req) override;
  boost::asio::awaitable<Status> InvokeRawStream(const model::RawInvokeRequest& req,
                                                 model::RawChunkSink& sink) override;

  static std::string ToConverseBody(const model::ChatRequest& req);
  static Result<model::ChatResponse> FromConverseResponse(std::string_view body);

 private:
  pipeline::Headers Sign(std::string_view method, const std::string& path, const std::string& body,
                         const std::string& content_type, const std::string& accept) const;
  std::string name_;
  std::string region_;
  std::shared_ptr<http::HttpClient> client_;
  identity::AwsCredentials credentials_;
};

// The default Bedrock Runtime endpoint for a region.
std::string BedrockRuntimeEndpoint(std::string_view region);

}  // namespace perimeter::upstream
