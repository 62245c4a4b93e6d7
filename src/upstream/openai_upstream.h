#pragma once

// OpenAiUpstream: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, another
// Perimeter). Canonical requests are translated to POST {base_url}/chat/completions and the
// answers (plain or server-sent events) back; embeddings are passed through.

#include <memory>

#include "http/client.h"
#include "upstream/upstream.h"

namespace perimeter::upstream {

class OpenAiUpstream final : public Upstream {
 public:
  // api_key may be empty (no Authorization header is sent).
  OpenAiUpstream(std::string name, std::shared_ptr<http::HttpClient> client, std::string api_key);
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<Result<model::ChatResponse>> Chat(const model::ChatRequest& req) override;
  boost::asio::awaitable<Status> ChatStream(const model::ChatRequest& req,
                                            model::ChatStreamSink& sink) override;
  boost::asio::awaitable<Result<std::string>> Embeddings(const std::string& upstream_model,
                                                         const std::string& body_json) override;

  // Translation, exposed for tests.
  static std::string ToChatCompletionsBody(const model::ChatRequest& req, bool stream);
  static Result<model::ChatResponse> FromChatCompletion(std::string_view body);

 private:
  pipeline::Headers RequestHeaders() const;
  std::string name_;
  std::shared_ptr<http::HttpClient> client_;
  std::string api_key_;
};

// Maps a non-2xx answer from an upstream to a Status, keeping the upstream's own message when it
// sent one (servers' messages never contain our secrets; they may echo the model id).
Status StatusFromUpstreamHttp(const std::string& upstream, int http_status,
                              std::string_view message);

}  // namespace perimeter::upstream
