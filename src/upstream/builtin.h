#pragma once

// BuiltinUpstream: an embedded, deterministic test model, so the gateway answers with nothing
// else installed. It never pretends to be a language model: every answer says so.
//
// Answer text: "This is Perimeter's built-in test model (<model>), not a real language model.
// You said: <last user message text>". Tokens are whitespace-separated words. max_tokens
// truncates the answer to that many words (stop reason max tokens); a stop sequence cuts the
// answer before its first occurrence. Streaming sends one delta per word, the first bare and the
// rest with their leading space, so the deltas concatenate to the unstreamed text.

#include "upstream/upstream.h"

namespace perimeter::upstream {

class BuiltinUpstream final : public Upstream {
 public:
  static constexpr const char* kEchoModel = "perimeter.echo-v1";
  explicit BuiltinUpstream(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<Result<model::ChatResponse>> Chat(const model::ChatRequest& req) override;
  boost::asio::awaitable<Status> ChatStream(const model::ChatRequest& req,
                                            model::ChatStreamSink& sink) override;
  std::vector<std::string> KnownModels() const override { return {kEchoModel}; }

  // The full answer, before streaming (exposed for tests).
  static Result<model::ChatResponse> Answer(const model::ChatRequest& req);

 private:
  std::string name_;
};

}  // namespace perimeter::upstream
