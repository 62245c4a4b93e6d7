// Fuzz target for guard::Scanner: every prompt and response a guardrail checks for sensitive
// information is scanned, so it sees arbitrary bytes (invalid UTF-8 included).
//
// The first input byte selects the configuration (every detectable type, or a single type, plus
// two custom regexes); the rest is the text.
//
// Invariants checked:
//  1. Scan never fails on input within the Normalize bound.
//  2. Findings are sorted by start, never overlap, and lie within the input; each span's code
//     point offsets agree with CodePointIndex of the input; `text` is exactly the original bytes
//     of the span and is not empty; the score is in (0, 1].
//  3. Every type is an enabled entity name or a custom pattern name, and `custom` says which.
//  4. Scanning the same text again (now with a warm per-thread scratch) gives the same result.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "guard/entity.h"
#include "guard/normalize.h"
#include "guard/scanner.h"

namespace {

namespace guard = perimeter::guard;

struct Config {
  std::unique_ptr<const guard::Scanner> scanner;
  std::vector<std::string> types;
};

guard::ScannerOptions Options(const std::vector<std::string>& types) {
  guard::ScannerOptions options;
  options.types = types;
  options.regexes = {{"EMPLOYEE_ID", "EMP-[0-9]{4,8}"}, {"OLA", "(?i)ọlá\\w*"}};
  return options;
}

// Config 0: every detectable type; config i > 0: the i-th detectable type alone.
const std::vector<Config>& Configs() {
  static const std::vector<Config> configs = [] {
    std::vector<std::string> all;
    for (const guard::EntityInfo& e : guard::Entities()) {
      if (e.detectable) {
        all.emplace_back(e.name);
      }
    }
    std::vector<Config> out;
    std::vector<std::vector<std::string>> sets = {all};
    for (const std::string& t : all) {
      sets.push_back({t});
    }
    for (auto& types : sets) {
      auto scanner = guard::Scanner::Compile(Options(types));
      PERIMETER_FUZZ_CHECK(scanner.ok());
      out.push_back({std::move(scanner).value(), types});
    }
    return out;
  }();
  return configs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::vector<Config>& configs = Configs();
  // Most inputs run with every type (the production shape); one in four with a single type.
  const Config& config = data[0] % 4 != 0 ? configs[0] : configs[(data[0] / 4) % configs.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  auto findings = config.scanner->Scan(text);
  PERIMETER_FUZZ_CHECK(findings.ok());  // 1

  const guard::CodePointIndex index(text);
  uint32_t previous_end = 0;
  for (const guard::Finding& f : *findings) {  // 2
    PERIMETER_FUZZ_CHECK(f.span.begin_byte < f.span.end_byte);
    PERIMETER_FUZZ_CHECK(f.span.end_byte <= text.size());
    PERIMETER_FUZZ_CHECK(f.span.begin_byte >= previous_end);
    previous_end = f.span.end_byte;
    PERIMETER_FUZZ_CHECK(f.span.begin_code_point == index.CodePointAt(f.span.begin_byte));
    PERIMETER_FUZZ_CHECK(f.span.end_code_point == index.CodePointAt(f.span.end_byte));
    PERIMETER_FUZZ_CHECK(f.text ==
                         text.substr(f.span.begin_byte, f.span.end_byte - f.span.begin_byte));
    PERIMETER_FUZZ_CHECK(f.score > 0 && f.score <= 1);
    bool known = false;  // 3
    if (f.custom) {
      known = f.type == "EMPLOYEE_ID" || f.type == "OLA";
    } else {
      for (const std::string& t : config.types) {
        known |= t == f.type;
      }
    }
    PERIMETER_FUZZ_CHECK(known);
  }

  auto again = config.scanner->Scan(text);  // 4
  PERIMETER_FUZZ_CHECK(again.ok() && *again == *findings);
  return 0;
}
