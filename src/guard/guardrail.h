#pragma once

// Guardrail: one compiled guardrail version, and the one place a text is judged.
//
// Compile() turns a validated definition (guardrail_config.h, Bedrock's CreateGuardrail shape)
// into the objects that run per request, once per version: the sensitive-information Scanner
// (one Hyperscan database for every built-in type and the definition's regexes) and the
// WordFilter (custom words and the managed profanity list). Apply() then judges the text blocks
// of one request direction (INPUT: what the user sends; OUTPUT: what the model answers):
//
//   1. Every block is normalized once (normalize.h) and scanned for the entity types and regexes
//      the definition configures (only those: a type nobody asked about never competes with one
//      that was asked for); findings, regex matches and word matches each get the action
//      configured for the direction: BLOCK, ANONYMIZE (sensitive information only) or NONE.
//   2. OUTPUT only, the mission's rules (Perimeter's additions to Bedrock's semantics):
//      - a configured entity the definition lets through (action NONE) that did not appear in
//        the input (compared after normalization, letters and digits only, case-folded) gets
//        the definition's `piiNotInInputAction` (default BLOCK): the model must not bring
//        identifiers into the conversation that the user did not;
//      - a value of ANY detectable type that belongs to another tenant (CrossTenantIndex) is
//        blocked and reported as a cross-tenant incident, whatever the definition says.
//   3. If anything is BLOCKED, the request's answer is the configured blocked message; else
//      anonymized values are replaced by tokens (Anonymizer: vault tokens of the tenant, or
//      Bedrock's "{TYPE}" placeholder when the request runs in no tenant).
//
// Policies this version cannot enforce yet (denied topics, content filters with a strength
// above NONE, contextual grounding, automated reasoning, the NAME and ADDRESS entities) make
// Compile fail with FailedPrecondition: a guardrail is never accepted and then silently not
// applied.
//
// Thread-safety: a Guardrail is immutable and shared by all requests; Apply is const and
// thread-safe (per-thread scratch inside the scanner and word filter). The Anonymizer and
// CrossTenantIndex passed to Apply are used from the calling thread only.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/status.h"
#include "guard/guardrail_config.h"
#include "guard/normalize.h"

namespace perimeter::guard {

class Scanner;
class WordFilter;

enum class GuardSource { kInput, kOutput };
std::string_view GuardSourceName(GuardSource s);  // "INPUT" / "OUTPUT"

// One text block to judge. Qualifiers are Bedrock's: "guard_content", "query",
// "grounding_source". For an OUTPUT judgement, blocks qualified "query" or "grounding_source"
// are reference text (what the user asked, the documents given): they are not judged, but they
// count as the input for the not-in-input rule.
struct ContentBlock {
  std::string text;
  std::vector<std::string> qualifiers;
};

// Replaces a value with a token. The vault-backed one stores the value encrypted under the
// tenant's key (redact::Vault::Tokenize); PlaceholderAnonymizer drops it.
class Anonymizer {
 public:
  virtual ~Anonymizer() = default;
  // `entity` is an entity name or "CUSTOM_<REGEX NAME>".
  virtual Result<std::string> Token(std::string_view entity, std::string_view value) = 0;
};

// "{EMAIL}", as Bedrock anonymizes: the value is gone and stored nowhere.
class PlaceholderAnonymizer final : public Anonymizer {
 public:
  Result<std::string> Token(std::string_view entity, std::string_view value) override;
};

// Who else owns a value: the tenant (other than `current_tenant`) whose vault holds it, or
// nullopt. Errors fail the judgement (closed).
class CrossTenantIndex {
 public:
  virtual ~CrossTenantIndex() = default;
  virtual Result<std::optional<std::string>> OwnerOf(std::string_view entity,
                                                     std::string_view value,
                                                     std::string_view current_tenant) = 0;
};

struct ApplyOptions {
  Anonymizer* anonymizer = nullptr;          // null: PlaceholderAnonymizer
  CrossTenantIndex* cross_tenant = nullptr;  // null: no cross-tenant rule
  std::string tenant;                        // the request's tenant ("" = none)
  // OUTPUT: the request's input text (joined), for the not-in-input rule; nullopt = unknown
  // (the rule is then not applied, e.g. ApplyGuardrail OUTPUT without query blocks).
  std::optional<std::string> input_text;
  // Async streaming: nothing can be anonymized after release, so ANONYMIZE counts as BLOCK.
  bool anonymize_means_block = false;
};

// Bedrock's assessment entries; `action` is BLOCKED, ANONYMIZED or NONE.
struct PiiEntityAssessment {
  std::string type;
  std::string match;
  std::string action;
  bool detected = true;
  size_t block = 0;  // index of the content block
  OriginalSpan span;
  double score = 0;
  bool not_in_input = false;  // OUTPUT: the not-in-input rule decided the action
  std::string replacement;    // ANONYMIZED: the token that replaced the match
};
struct RegexAssessment {
  std::string name;
  std::string regex;
  std::string match;
  std::string action;
  bool detected = true;
  size_t block = 0;
  OriginalSpan span;
  std::string replacement;  // ANONYMIZED: the token that replaced the match
};
struct WordAssessment {
  std::string match;
  std::string action;
  bool detected = true;
  bool managed = false;  // the managed PROFANITY list
  size_t block = 0;
  OriginalSpan span;
};
// A value of another tenant in a model's answer. Never carries the value.
struct CrossTenantIncident {
  std::string type;
  std::string owner_tenant;
  size_t block = 0;
  OriginalSpan span;
};

struct GuardResult {
  bool intervened = false;  // Bedrock's GUARDRAIL_INTERVENED
  bool blocked = false;     // the answer is the blocked message
  // When intervened: the blocked message (one element), or every judged block with its
  // anonymized values replaced. When not: empty.
  std::vector<std::string> outputs;
  // The judged blocks after anonymization (== the input text when nothing was anonymized); the
  // request continues with these when not blocked.
  std::vector<std::string> texts;
  std::vector<PiiEntityAssessment> pii;
  std::vector<RegexAssessment> regexes;
  std::vector<WordAssessment> words;
  std::vector<CrossTenantIncident> incidents;
  uint64_t text_characters = 0;   // code points judged
  uint64_t total_characters = 0;  // code points received (reference blocks included)
  uint32_t word_units = 0;        // Bedrock text units: ceil(characters / 1000) per block
  uint32_t sensitive_units = 0;
  std::string action_reason;
};

// A finding with the action the definition configures for it (for `perimeter scan` and eval).
struct Detection {
  std::string type;     // entity name or custom regex name
  bool custom = false;  // a regexesConfig match
  OriginalSpan span;
  std::string text;
  double score = 0;
  GuardAction action = GuardAction::kNone;
};

class Guardrail {
 public:
  // InvalidArgument (a regex the engine cannot compile, named), FailedPrecondition (a policy
  // this version cannot enforce, named).
  static Result<std::shared_ptr<const Guardrail>> Compile(std::string id, std::string version,
                                                          const GuardrailDefinition& definition);
  ~Guardrail();

  // Judges `blocks` (see the file comment). Errors: InvalidArgument for oversized input,
  // Unavailable / others from the anonymizer or cross-tenant index (fail closed).
  Result<GuardResult> Apply(GuardSource source, std::span<const ContentBlock> blocks,
                            const ApplyOptions& options) const;

  // The sensitive-information findings of the types (and regexes) the definition enables for
  // `source`, with their configured actions; no rule, anonymization or vault is involved.
  Result<std::vector<Detection>> Detect(std::string_view text, GuardSource source) const;

  const std::string& id() const { return id_; }
  const std::string& version() const { return version_; }
  const std::string& name() const { return definition_.name; }
  const GuardrailDefinition& definition() const { return definition_; }
  const std::string& blocked_input_messaging() const { return definition_.blocked_input_messaging; }
  const std::string& blocked_outputs_messaging() const {
    return definition_.blocked_outputs_messaging;
  }
  // The Bedrock assessment of `result` (one element of ApplyGuardrail's "assessments", and of
  // trace.guardrail's input/output assessments). `latency_ms` goes into invocationMetrics.
  // Perimeter adds "crossTenantPolicy" when it found incidents (their types only: neither the
  // value nor the tenant it belongs to is told to the caller).
  // With `redact_matches`, a match that was blocked or anonymized (every match, when the result
  // is blocked) is shown as its token or "{TYPE}" instead of the value: traces of model requests
  // go back with the answer, and must not carry a value the guardrail withheld from it.
  // ApplyGuardrail shows matches, as Bedrock does: the caller sent that text.
  boost::json::object Assessment(const GuardResult& result, int64_t latency_ms,
                                 bool redact_matches = false) const;
  // Bedrock's usage object (text units per policy) for `result`.
  boost::json::object Usage(const GuardResult& result) const;

 private:
  struct EntityRule;
  struct RegexRule;
  struct WordRule;

  Guardrail() = default;

  std::string id_;
  std::string version_;
  GuardrailDefinition definition_;
  std::unique_ptr<const Scanner> scanner_;  // configured types and regexes; null if none
  std::unique_ptr<const WordFilter> words_;
  std::vector<EntityRule> entity_rules_;
  std::vector<RegexRule> regex_rules_;
  std::vector<WordRule> word_rules_;
  std::unique_ptr<WordRule> managed_rule_;  // null: no managed list
  GuardAction pii_not_in_input_action_ = GuardAction::kBlock;
};

// A process-wide scanner of every detectable type (compiled on first use), for rules that look
// beyond what a guardrail configures.
Result<const Scanner*> AllTypesScanner();

// "{EMAIL}" / "CUSTOM_<NAME>" helpers, exposed for tests.
std::string CustomEntityName(std::string_view regex_name);

}  // namespace perimeter::guard
