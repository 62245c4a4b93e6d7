#pragma once

// Small string helpers shared by every module. All are pure and thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter {

std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view TrimWhitespace(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::vector<std::string_view> SplitWords(std::string_view s);  // on runs of ASCII whitespace
// `dir` + "/" + `name`, without doubling a trailing slash of `dir`.
std::string JoinPath(std::string_view dir, std::string_view name);
// At most `max` bytes of `s`, cut at a UTF-8 character boundary.
std::string TruncateUtf8(std::string_view s, size_t max);

// Glob match with '*' (any run, including empty) and '?' (any one byte). Case-sensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Field `index` of an ARN "arn:partition:service:region:account:resource" (0 = "arn", 3 = region,
// 4 = account); "" when `arn` is not an ARN or the field is absent. The resource (5) is the rest,
// colons included.
std::string_view ArnField(std::string_view arn, size_t index);

// "250ms", "10s", "2m", "1h", "90d"; a bare number is seconds. Rejects negatives and overflow.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);

// "25MB", "512KiB", "1048576"; decimal (KB, MB, GB) and binary (KiB, MiB, GiB) units.
Result<uint64_t> ParseByteSize(std::string_view s);

// Percent-encodes everything outside RFC 3986 unreserved characters.
std::string UriEncode(std::string_view s);
// Decodes %XX escapes; fails on a malformed escape. '+' is left alone (paths, not forms).
Result<std::string> UriDecode(std::string_view s);

}  // namespace perimeter
