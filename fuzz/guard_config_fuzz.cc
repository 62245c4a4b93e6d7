// Fuzz target for guard::ParseGuardrailDefinition: guardrail definitions come from operators and
// from tenants' CreateGuardrail-style API calls, so the parser sees arbitrary bytes.
//
// Invariants checked:
//  1. No crash on any input; a refusal is InvalidArgument with a message.
//  2. An accepted definition serializes to canonical JSON that parses again to an equal value,
//     and serializing that value gives the same text (the canonical form is a fixed point).
//  3. An accepted definition respects the documented bounds (name 1-50, both blocked messages
//     present, grounding thresholds in 0..0.99, at most 30 topics and 10000 words).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "guard/guardrail_config.h"

namespace {

namespace guard = perimeter::guard;

void CheckBounds(const guard::GuardrailDefinition& d) {
  PERIMETER_FUZZ_CHECK(!d.name.empty() && d.name.size() <= 50);
  PERIMETER_FUZZ_CHECK(!d.blocked_input_messaging.empty());
  PERIMETER_FUZZ_CHECK(!d.blocked_outputs_messaging.empty());
  if (d.topic_policy) {
    PERIMETER_FUZZ_CHECK(!d.topic_policy->topics.empty() &&
                         d.topic_policy->topics.size() <= guard::kMaxTopics);
  }
  if (d.word_policy) {
    PERIMETER_FUZZ_CHECK(d.word_policy->words.size() <= guard::kMaxWords);
    PERIMETER_FUZZ_CHECK(!d.word_policy->words.empty() ||
                         !d.word_policy->managed_word_lists.empty());
  }
  if (d.contextual_grounding_policy) {
    for (const auto& f : d.contextual_grounding_policy->filters) {
      PERIMETER_FUZZ_CHECK(f.threshold >= 0 && f.threshold <= 0.99);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = guard::ParseGuardrailDefinition(body);
  if (!parsed.ok()) {  // 1
    PERIMETER_FUZZ_CHECK(parsed.status().code() == perimeter::StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  CheckBounds(*parsed);  // 3

  const std::string canonical = guard::SerializeGuardrailDefinition(*parsed);  // 2
  auto again = guard::ParseGuardrailDefinition(canonical);
  PERIMETER_FUZZ_CHECK(again.ok());
  PERIMETER_FUZZ_CHECK(*again == *parsed);
  PERIMETER_FUZZ_CHECK(guard::SerializeGuardrailDefinition(*again) == canonical);
  return 0;
}
