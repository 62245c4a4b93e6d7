// Fuzz target for guard::Normalize: every prompt and response the guardrails scan passes through
// it first, so it sees arbitrary bytes (invalid UTF-8 included).
//
// Invariants checked:
//  1. Normalize never fails on input within its bound, and its text is valid UTF-8 without any
//     invisible character left (NFKC never produces one).
//  2. Every byte span of the normalized text maps to a span of the original that lies within
//     it, on code point boundaries, with begin <= end; the mapping of successive single-byte
//     spans never goes backwards; code point offsets agree with CodePointIndex of the original.
//  3. Normalizing the normalized text again changes nothing (NFKC is idempotent and nothing
//     invisible is left).

#include <unicode/utf8.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "guard/normalize.h"

namespace {

namespace guard = perimeter::guard;

bool ValidUtf8WithoutInvisible(std::string_view s) {
  int32_t i = 0;
  const auto n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c = 0;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, c);
    if (c < 0 || guard::IsInvisible(static_cast<char32_t>(c))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view original(reinterpret_cast<const char*>(data), size);
  auto normalized = guard::Normalize(original);
  PERIMETER_FUZZ_CHECK(normalized.ok());  // 1
  const std::string_view text = normalized->text();
  PERIMETER_FUZZ_CHECK(ValidUtf8WithoutInvisible(text));

  const guard::CodePointIndex index(original);  // 2
  uint32_t last_begin = 0;
  for (size_t b = 0; b < text.size(); ++b) {
    const guard::OriginalSpan span = normalized->ToOriginal(b, b + 1);
    PERIMETER_FUZZ_CHECK(span.begin_byte <= span.end_byte && span.end_byte <= original.size());
    PERIMETER_FUZZ_CHECK(span.begin_byte >= last_begin);
    last_begin = span.begin_byte;
    PERIMETER_FUZZ_CHECK(span.begin_code_point == index.CodePointAt(span.begin_byte));
    PERIMETER_FUZZ_CHECK(span.end_code_point == index.CodePointAt(span.end_byte));
  }
  const guard::OriginalSpan whole = normalized->ToOriginal(0, text.size());
  PERIMETER_FUZZ_CHECK(whole.end_byte <= original.size());

  auto again = guard::Normalize(text);  // 3
  PERIMETER_FUZZ_CHECK(again.ok() && again->text() == text);
  return 0;
}
