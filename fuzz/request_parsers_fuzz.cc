// Fuzzes the JSON parsers of untrusted bodies: the front doors' request parsers (Converse,
// Anthropic messages, OpenAI chat completions) and the providers' readers of upstream answers
// (an upstream is a network peer too). Invariants: no crash on any bytes; an accepted request is
// well-formed (non-empty messages, every message has at least one text block, bounded numeric
// fields).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/bedrock_shapes.h"
#include "api/openai_shapes.h"
#include "fuzz_support.h"
#include "upstream/bedrock_upstream.h"
#include "upstream/openai_upstream.h"

namespace {
void CheckRequest(const perimeter::model::ChatRequest& r) {
  PERIMETER_FUZZ_CHECK(!r.messages.empty());
  for (const auto& m : r.messages) PERIMETER_FUZZ_CHECK(!m.text.empty());
  if (r.max_tokens) PERIMETER_FUZZ_CHECK(*r.max_tokens >= 1 && *r.max_tokens <= 1'000'000);
  if (r.temperature) PERIMETER_FUZZ_CHECK(*r.temperature >= 0 && *r.temperature <= 2);
  // Every guardContent block points at a text block that exists.
  for (const auto& g : r.guard_content) {
    if (g.system) {
      PERIMETER_FUZZ_CHECK(g.block < r.system.size());
    } else {
      PERIMETER_FUZZ_CHECK(g.message < r.messages.size());
      PERIMETER_FUZZ_CHECK(g.block < r.messages[g.message].text.size());
    }
  }
  if (r.guardrail) PERIMETER_FUZZ_CHECK(!r.guardrail->identifier.empty());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto r = perimeter::api::ParseConverseRequest(body, "m"); r.ok()) CheckRequest(*r);
  if (auto r = perimeter::api::ParseAnthropicRequest(body, "m"); r.ok()) CheckRequest(*r);
  if (auto r = perimeter::api::ParseChatCompletionsRequest(body); r.ok()) {
    CheckRequest(*r);
    PERIMETER_FUZZ_CHECK(!r->model.empty());
  }
  (void)perimeter::upstream::OpenAiUpstream::FromChatCompletion(body);
  (void)perimeter::upstream::BedrockUpstream::FromConverseResponse(body);
  return 0;
}
