#pragma once

// A guardrail definition in the exact shape of the AWS Bedrock CreateGuardrail request body, so a
// body written for Bedrock (`aws bedrock create-guardrail --cli-input-json`) works here, and the
// typed, validated form the guardrail engine is built from.
//
// ParseGuardrailDefinition is strict: unknown fields anywhere, duplicate JSON keys, wrong types,
// values outside Bedrock's documented enums, lengths, patterns and array sizes, and duplicates
// within one guardrail (topic names, content filter types, words, managed lists, PII entity
// types, regex names, grounding filter types, tag keys) are refused with InvalidArgument. Every
// message starts with the JSON path of the offending value, e.g.
//   sensitiveInformationPolicyConfig.piiEntitiesConfig[2].action: 'DENY' is not allowed;
//   allowed values: BLOCK, ANONYMIZE, NONE
// Messages echo enum values and names (truncated) but never free text such as the blocked
// messages, topic definitions, words or regex patterns.
//
// Perimeter differences from Bedrock, each refused with a message that says so:
//  - automatedReasoningPolicyConfig: Automated Reasoning policies are AWS-hosted resources that
//    Perimeter cannot evaluate, so a guardrail that configures one is refused rather than
//    silently not enforcing it.
//  - piiEntitiesConfig[].type accepts every name in guard/entity.h (Bedrock's plus NG_* and
//    SECRET_*); a type without a detector yet (NAME, ADDRESS) is refused while it is enabled in
//    either direction.
//  - contextualGroundingPolicyConfig thresholds are limited to 0..0.99 (a threshold of 1 would
//    block every response) and kept to 6 decimal places so they round-trip exactly.
//
// Defaults (Bedrock's), made explicit by the parser: inputAction / outputAction equal `action`
// where there is one, else BLOCK; inputEnabled / outputEnabled / enabled are true;
// input/outputModalities are [TEXT]; tierConfig.tierName is CLASSIC.
//
// Thread safety: pure functions; the structs are plain values.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter::guard {

// Bedrock's BLOCK / ANONYMIZE / NONE.
enum class GuardAction { kBlock, kAnonymize, kNone };
std::string_view GuardActionName(GuardAction action);

enum class GuardrailTier { kClassic, kStandard };
enum class ContentFilterType { kSexual, kViolence, kHate, kInsults, kMisconduct, kPromptAttack };
enum class FilterStrength { kNone, kLow, kMedium, kHigh };
enum class Modality { kText, kImage };
enum class ManagedWordListType { kProfanity };
enum class GroundingFilterType { kGrounding, kRelevance };

std::string_view GuardrailTierName(GuardrailTier tier);
std::string_view ContentFilterTypeName(ContentFilterType type);
std::string_view FilterStrengthName(FilterStrength strength);
std::string_view ModalityName(Modality modality);
std::string_view GroundingFilterTypeName(GroundingFilterType type);

// Bedrock's limits.
inline constexpr size_t kMaxGuardrailDefinitionBytes = 1u << 20;
inline constexpr size_t kMaxTopics = 30;
inline constexpr size_t kMaxTopicExamples = 5;
inline constexpr size_t kMaxContentFilters = 6;
inline constexpr size_t kMaxWords = 10000;
inline constexpr size_t kMaxRegexes = 10;
inline constexpr size_t kMaxTags = 200;

// topicPolicyConfig.topicsConfig[] (type is always DENY).
struct TopicConfig {
  std::string name;                                // 1-100, [0-9a-zA-Z-_ !?.]+
  std::string definition;                          // 1-200
  std::vector<std::string> examples;               // 0-5, each 1-100
  GuardAction input_action = GuardAction::kBlock;  // BLOCK | NONE
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const TopicConfig&) const = default;
};

struct TopicPolicyConfig {
  std::vector<TopicConfig> topics;  // 1-30, unique names (case-insensitive)
  GuardrailTier tier = GuardrailTier::kClassic;

  bool operator==(const TopicPolicyConfig&) const = default;
};

// contentPolicyConfig.filtersConfig[].
struct ContentFilterConfig {
  ContentFilterType type = ContentFilterType::kSexual;
  FilterStrength input_strength = FilterStrength::kNone;
  FilterStrength output_strength = FilterStrength::kNone;      // NONE for PROMPT_ATTACK
  std::vector<Modality> input_modalities = {Modality::kText};  // unique, in enum order
  std::vector<Modality> output_modalities = {Modality::kText};
  GuardAction input_action = GuardAction::kBlock;  // BLOCK | NONE
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const ContentFilterConfig&) const = default;
};

struct ContentPolicyConfig {
  std::vector<ContentFilterConfig> filters;  // 1-6, unique types
  GuardrailTier tier = GuardrailTier::kClassic;

  bool operator==(const ContentPolicyConfig&) const = default;
};

// wordPolicyConfig.wordsConfig[].
struct WordConfig {
  std::string text;                                // 1-100 characters, at least one visible
  GuardAction input_action = GuardAction::kBlock;  // BLOCK | NONE
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const WordConfig&) const = default;
};

// wordPolicyConfig.managedWordListsConfig[].
struct ManagedWordListConfig {
  ManagedWordListType type = ManagedWordListType::kProfanity;
  GuardAction input_action = GuardAction::kBlock;  // BLOCK | NONE
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const ManagedWordListConfig&) const = default;
};

struct WordPolicyConfig {
  // At least one of the two is non-empty. Words are unique as the word filter matches them
  // (case-insensitive, after NFKC, white space collapsed).
  std::vector<WordConfig> words;                          // 0 or 1-10000
  std::vector<ManagedWordListConfig> managed_word_lists;  // 0 or 1

  bool operator==(const WordPolicyConfig&) const = default;
};

// sensitiveInformationPolicyConfig.piiEntitiesConfig[].
struct PiiEntityConfig {
  std::string type;  // a name from guard/entity.h (FindEntity)
  GuardAction action = GuardAction::kBlock;
  GuardAction input_action = GuardAction::kBlock;  // default: action
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const PiiEntityConfig&) const = default;
};

// sensitiveInformationPolicyConfig.regexesConfig[].
struct RegexConfig {
  std::string name;                        // 1-100, unique (case-insensitive)
  std::optional<std::string> description;  // 1-1000
  std::string pattern;                     // 1-500; compiled by the scanner, not here
  GuardAction action = GuardAction::kBlock;
  GuardAction input_action = GuardAction::kBlock;  // default: action
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;

  bool operator==(const RegexConfig&) const = default;
};

struct SensitiveInformationPolicyConfig {
  // At least one of the two is non-empty.
  std::vector<PiiEntityConfig> pii_entities;  // 0 or 1.., unique types
  std::vector<RegexConfig> regexes;           // 0 or 1-10

  bool operator==(const SensitiveInformationPolicyConfig&) const = default;
};

// contextualGroundingPolicyConfig.filtersConfig[].
struct GroundingFilterConfig {
  GroundingFilterType type = GroundingFilterType::kGrounding;
  double threshold = 0;                      // 0..0.99
  GuardAction action = GuardAction::kBlock;  // BLOCK | NONE
  bool enabled = true;

  bool operator==(const GroundingFilterConfig&) const = default;
};

struct ContextualGroundingPolicyConfig {
  std::vector<GroundingFilterConfig> filters;  // 1-2, unique types

  bool operator==(const ContextualGroundingPolicyConfig&) const = default;
};

struct CrossRegionConfig {
  std::string guardrail_profile_identifier;  // profile id or ARN, 15-2048

  bool operator==(const CrossRegionConfig&) const = default;
};

struct GuardrailTag {
  std::string key;    // 1-128, [a-zA-Z0-9\s._:/=+@-]*
  std::string value;  // 0-256, same characters

  bool operator==(const GuardrailTag&) const = default;
};

struct GuardrailDefinition {
  std::string name;                        // 1-50, [0-9a-zA-Z-_]+
  std::optional<std::string> description;  // 1-200
  std::optional<TopicPolicyConfig> topic_policy;
  std::optional<ContentPolicyConfig> content_policy;
  std::optional<WordPolicyConfig> word_policy;
  std::optional<SensitiveInformationPolicyConfig> sensitive_information_policy;
  std::optional<ContextualGroundingPolicyConfig> contextual_grounding_policy;
  std::optional<CrossRegionConfig> cross_region;
  std::string blocked_input_messaging;              // 1-500
  std::string blocked_outputs_messaging;            // 1-500
  std::optional<std::string> kms_key_id;            // KMS key id, key ARN, alias name or alias ARN
  std::vector<GuardrailTag> tags;                   // 0-200, unique keys
  std::optional<std::string> client_request_token;  // 1-256, [a-zA-Z0-9](-*[a-zA-Z0-9])*
  // Perimeter's extension (not in Bedrock): `perimeterOutputPolicyConfig.piiNotInInputAction`,
  // what happens to an identifier of a configured type in a model's answer that was not in the
  // input, when its own output action would let it through. Absent: BLOCK (guardrail.h).
  std::optional<GuardAction> pii_not_in_input_action;

  bool operator==(const GuardrailDefinition&) const = default;
};

// Parses and validates a CreateGuardrail request body (at most kMaxGuardrailDefinitionBytes).
Result<GuardrailDefinition> ParseGuardrailDefinition(std::string_view json);

// Canonical JSON in the same CreateGuardrail shape: defaults explicit, absent optional fields
// omitted, keys in a fixed order, compact. Parse(Serialize(d)) == d for every parsed d.
std::string SerializeGuardrailDefinition(const GuardrailDefinition& d);

}  // namespace perimeter::guard
