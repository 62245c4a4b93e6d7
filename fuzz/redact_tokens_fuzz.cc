// Fuzz target for redact::FindTokens and redact::ParseToken: text that reaches them comes from
// model responses and clients, so anything may look almost like a token.
//
// Invariants checked:
//  1. Every span FindTokens returns lies within the input, spans are in order and do not
//     overlap, and ParseToken of the span's text succeeds and gives the span's entity and hex
//     (a valid entity name and 16 lowercase hex characters).
//  2. FindTokens finds exactly the well-formed tokens: those of a simple quadratic reference
//     (a '[' followed, before any other bracket, by a ']' that closes a string ParseToken
//     accepts). Tokens cannot overlap, since no token contains a bracket inside.
//  3. ParseToken of the whole input, when it succeeds, rebuilds the input as "[" entity "_" hex
//     "]".
//  4. A token ComputeToken made, spliced anywhere into the input, is found at that offset,
//     whatever surrounds it, and parses back to its entity.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"
#include "fuzz_support.h"
#include "redact/token.h"

namespace {

namespace redact = perimeter::redact;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

void CheckParsedToken(const redact::ParsedToken& t) {
  PERIMETER_FUZZ_CHECK(redact::IsValidEntityName(t.entity));
  PERIMETER_FUZZ_CHECK(t.hex.size() == redact::kTokenHexChars);
  for (const char c : t.hex) {
    PERIMETER_FUZZ_CHECK(IsLowerHex(c));
  }
}

struct Found {
  size_t offset;
  size_t length;
};

std::vector<Found> ReferenceTokens(std::string_view text) {
  std::vector<Found> found;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '[') {
      continue;
    }
    const size_t close = text.find_first_of("[]", i + 1);
    if (close == std::string_view::npos || text[close] != ']') {
      continue;
    }
    const size_t length = close + 1 - i;
    if (length <= redact::kMaxTokenChars && redact::ParseToken(text.substr(i, length))) {
      found.push_back({i, length});
    }
  }
  return found;
}

// Invariants 1 and 2; returns the spans.
std::vector<redact::TokenSpan> CheckFindTokens(std::string_view text) {
  std::vector<redact::TokenSpan> spans = redact::FindTokens(text);
  size_t previous_end = 0;
  for (const auto& span : spans) {
    PERIMETER_FUZZ_CHECK(span.length > 0 && span.length <= redact::kMaxTokenChars);
    PERIMETER_FUZZ_CHECK(span.offset <= text.size() && span.length <= text.size() - span.offset);
    PERIMETER_FUZZ_CHECK(span.offset >= previous_end);
    previous_end = span.offset + span.length;
    const std::string_view token = text.substr(span.offset, span.length);
    const std::optional<redact::ParsedToken> parsed = redact::ParseToken(token);
    PERIMETER_FUZZ_CHECK(parsed.has_value());
    PERIMETER_FUZZ_CHECK(parsed->entity == span.token.entity && parsed->hex == span.token.hex);
    CheckParsedToken(span.token);
    PERIMETER_FUZZ_CHECK(span.length == span.token.entity.size() + span.token.hex.size() + 3);
  }
  const std::vector<Found> reference = ReferenceTokens(text);
  PERIMETER_FUZZ_CHECK(reference.size() == spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    PERIMETER_FUZZ_CHECK(reference[i].offset == spans[i].offset &&
                         reference[i].length == spans[i].length);
  }
  return spans;
}

const perimeter::crypto::SecretBytes& TokenKey() {
  static const perimeter::crypto::SecretBytes key(std::string(32, 'K'));
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  CheckFindTokens(text);

  // Invariant 3.
  if (const auto whole = redact::ParseToken(text)) {
    CheckParsedToken(*whole);
    PERIMETER_FUZZ_CHECK(text == "[" + whole->entity + "_" + whole->hex + "]");
  }

  // Invariant 4: the entity is the input's first line when that is a valid name, the value the
  // rest, and the token goes in at a point the input chooses.
  const size_t newline = text.find('\n');
  const std::string_view first_line = text.substr(0, newline);
  const std::string entity(redact::IsValidEntityName(first_line) ? first_line : "EMAIL");
  const std::string token = redact::ComputeToken(TokenKey(), entity, text);
  PERIMETER_FUZZ_CHECK(token == redact::ComputeToken(TokenKey(), entity, text));
  const auto parsed = redact::ParseToken(token);
  PERIMETER_FUZZ_CHECK(parsed.has_value() && parsed->entity == entity);
  CheckParsedToken(*parsed);

  const size_t at = perimeter::fuzz::SplitPoint(text);
  const std::string spliced =
      std::string(text.substr(0, at)) + token + std::string(text.substr(at));
  bool found = false;
  for (const auto& span : CheckFindTokens(spliced)) {
    found = found || (span.offset == at && span.length == token.size() &&
                      span.token.entity == entity && span.token.hex == parsed->hex);
  }
  PERIMETER_FUZZ_CHECK(found);
  return 0;
}
