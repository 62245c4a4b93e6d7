#pragma once

// The sensitive-information entity types the guardrail engine knows, by the names a guardrail
// configuration uses (`sensitiveInformationPolicyConfig.piiEntitiesConfig[].type`).
//
// The Bedrock names are Bedrock's own, so a CreateGuardrail body written for Bedrock works here.
// Perimeter adds Nigerian identifiers (NG_*) and common secrets (SECRET_*). NAME and ADDRESS are
// statistical (no pattern decides them); they are known names, but a guardrail that turns them on
// is refused until the statistical detectors exist, rather than silently not detecting them.

#include <span>
#include <string_view>

namespace perimeter::guard {

enum class EntityCategory {
  kBedrock,  // a Bedrock piiEntitiesConfig type
  kNigeria,  // Perimeter's Nigerian identifiers
  kSecret,   // credentials and keys
};

struct EntityInfo {
  std::string_view name;  // e.g. "CREDIT_DEBIT_CARD_NUMBER"
  EntityCategory category;
  bool detectable;           // false: known name without a detector yet (NAME, ADDRESS)
  std::string_view summary;  // one line: what it detects and how
};

// Every known entity type, in a stable order (Bedrock's, then NG_*, then SECRET_*).
std::span<const EntityInfo> Entities();

// The entity named `name` (exact, upper case), or nullptr.
const EntityInfo* FindEntity(std::string_view name);

}  // namespace perimeter::guard
