// Fuzzes the ApplyGuardrail front door: the request body parser, then a judgement of the parsed
// content by a guardrail that anonymizes every built-in type on input and blocks on output.
// Invariants: no crash on any bytes; an accepted request has 1-100 text blocks and a known
// source; a judgement returns one text per block, anonymized spans lie inside their block, and
// a block with nothing anonymized comes back unchanged.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/guardrail_filter.h"
#include "fuzz_support.h"
#include "guard/entity.h"
#include "guard/registry.h"

namespace {

const perimeter::guard::Guardrail& TheGuardrail() {
  static const std::shared_ptr<const perimeter::guard::Guardrail> g = [] {
    std::string entities;
    for (const auto& e : perimeter::guard::Entities()) {
      if (!e.detectable) continue;
      if (!entities.empty()) entities += ",";
      entities += R"({"type":")" + std::string(e.name) +
                  R"(","action":"ANONYMIZE","outputAction":"BLOCK"})";
    }
    const std::string json =
        R"({"name":"fuzz","blockedInputMessaging":"in","blockedOutputsMessaging":"out",)"
        R"("sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[)" +
        entities + R"(]},"wordPolicyConfig":{"managedWordListsConfig":[{"type":"PROFANITY"}]}})";
    auto compiled = perimeter::guard::CompileDefinition("fuzz", "1", json);
    if (!compiled.ok()) std::abort();
    return *compiled;
  }();
  return *g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto req = perimeter::api::ParseApplyGuardrailRequest(body);
  if (!req.ok()) return 0;
  PERIMETER_FUZZ_CHECK(!req->content.empty() && req->content.size() <= 100);
  PERIMETER_FUZZ_CHECK(req->source == "INPUT" || req->source == "OUTPUT");
  const auto source = req->source == "INPUT" ? perimeter::guard::GuardSource::kInput
                                             : perimeter::guard::GuardSource::kOutput;
  auto r = TheGuardrail().Apply(source, req->content, {});
  if (!r.ok()) return 0;  // oversized input is refused, not judged
  PERIMETER_FUZZ_CHECK(r->texts.size() == req->content.size());
  for (const auto& p : r->pii) {
    PERIMETER_FUZZ_CHECK(p.block < req->content.size());
    PERIMETER_FUZZ_CHECK(p.span.begin_byte <= p.span.end_byte);
    PERIMETER_FUZZ_CHECK(p.span.end_byte <= req->content[p.block].text.size());
  }
  for (size_t i = 0; i < req->content.size(); ++i) {
    bool anonymized = false;
    for (const auto& p : r->pii)
      anonymized = anonymized || (p.block == i && !p.replacement.empty());
    if (!anonymized) PERIMETER_FUZZ_CHECK(r->texts[i] == req->content[i].text);
  }
  if (r->blocked) PERIMETER_FUZZ_CHECK(r->outputs.size() == 1);
  return 0;
}
