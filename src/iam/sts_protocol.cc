#include "iam/sts_protocol.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace perimeter::iam {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8

constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// Decodes the code point starting at s[i] and advances i past it. Strict (RFC 3629): overlong
// forms, surrogates and values above U+10FFFF are invalid. On an invalid sequence returns
// kInvalidCodePoint and advances by one byte, so callers can resynchronise.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    ++i;
    return kInvalidCodePoint;
  }
  if (s.size() - i < len) {
    ++i;
    return kInvalidCodePoint;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalidCodePoint;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalidCodePoint;
  }
  i += len;
  return cp;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (NextCodePoint(s, i) == kInvalidCodePoint) {
      return false;
    }
  }
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The length AWS's (Java) validators see: UTF-16 code units. `s` must be valid UTF-8.
size_t JavaLength(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    n += NextCodePoint(s, i) >= 0x10000 ? 2 : 1;
  }
  return n;
}

// A value quoted into an error message: at most 256 characters (then "..."), control
// characters and bytes that are not UTF-8 as \xNN, so logs and XML stay readable.
std::string ForMessage(std::string_view s) {
  constexpr size_t kMaxChars = 256;
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    if (chars == kMaxChars) {
      out += "...";
      break;
    }
    const size_t start = i;
    const char32_t cp = NextCodePoint(s, i);
    if (cp < 0x20 || cp == 0x7F || cp == kInvalidCodePoint) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned char>(s[start]));
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
    ++chars;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Character classes of the STS model's patterns.

// \w in Java: [a-zA-Z_0-9].
bool IsWordChar(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// roleSessionNameType, sourceIdentityType: [\w+=,.@-]*
bool IsSessionNameChar(char32_t c) {
  return IsWordChar(c) || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

// externalIdType: [\w+=,.@:\/-]*
bool IsExternalIdChar(char32_t c) { return IsSessionNameChar(c) || c == ':' || c == '/'; }

// arnType: [\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+
bool IsArnChar(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

// sessionPolicyDocumentType: [\u0009\u000A\u000D\u0020-\u00FF]+
bool IsPolicyChar(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0xFF);
}

// tagKeyType / tagValueType: [\p{L}\p{Z}\p{N}_.:/=+\-@]. Exact below U+0100 (the Latin-1
// letters, numbers and the no-break space); above, an approximation (see the header).
bool IsTagChar(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' ||
           c == '@';
  }
  if (c < 0x100) {
    return c == 0xA0 || c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 ||
           c == 0xBA || (c >= 0xBC && c <= 0xBE) ||
           (c >= 0xC0 && c <= 0xFF && c != 0xD7 && c != 0xF7);
  }
  if (c >= 0x2000 && c <= 0x206F) {  // General Punctuation: only its spaces are \p{Z}
    return c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F;
  }
  if ((c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000 || (c >= 0xFFF0 && c <= 0xFFFF)) {
    return false;
  }
  return true;
}

// The pattern texts exactly as AWS prints them in validation messages.
constexpr std::string_view kArnPattern =
    "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-"
    "\\u10FFFF]+";
constexpr std::string_view kSessionNamePattern = "[\\w+=,.@-]*";
constexpr std::string_view kPolicyPattern = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+";
constexpr std::string_view kTagKeyPattern = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+";
constexpr std::string_view kTagValuePattern = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*";
constexpr std::string_view kExternalIdPattern = "[\\w+=,.@:\\/-]*";

constexpr int kMinDurationSeconds = 900;
constexpr int kMaxDurationSeconds = 43200;
constexpr size_t kMaxTags = 50;
constexpr size_t kMaxTransitiveTagKeys = 50;
// Larger list indices cannot be contiguous within kMaxStsParameters, so they are malformed.
constexpr int kMaxListIndex = 9999;

// ---------------------------------------------------------------------------------------------
// Validation messages in AWS's wording.

class Violations {
 public:
  void Add(std::optional<std::string_view> value, std::string_view path,
           std::string_view constraint) {
    std::string m = "Value ";
    if (value) {
      m += "'" + ForMessage(*value) + "'";
    } else {
      m += "null";
    }
    m += " at '";
    m += path;
    m += "' failed to satisfy constraint: ";
    m += constraint;
    items_.push_back(std::move(m));
  }
  void AddRaw(std::string message) { items_.push_back(std::move(message)); }

  bool empty() const { return items_.empty(); }

  std::string Message() const {
    std::string m = std::to_string(items_.size());
    m += items_.size() == 1 ? " validation error detected: " : " validation errors detected: ";
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) {
        m += "; ";
      }
      m += items_[i];
    }
    return m;
  }

 private:
  std::vector<std::string> items_;
};

struct StringRule {
  size_t min_length;
  size_t max_length;
  bool (*allowed)(char32_t);
  std::string_view pattern;  // ends in '+' when the pattern itself rejects the empty string
};

void CheckString(Violations& v, const std::optional<std::string>& value, std::string_view path,
                 const StringRule& rule, bool required) {
  if (!value) {
    if (required) {
      v.Add(std::nullopt, path, "Member must not be null");
    }
    return;
  }
  const std::string_view s = *value;
  bool matches = !(s.empty() && rule.pattern.back() == '+');
  for (size_t i = 0; matches && i < s.size();) {
    matches = rule.allowed(NextCodePoint(s, i));
  }
  if (!matches) {
    v.Add(s, path, "Member must satisfy regular expression pattern: " + std::string(rule.pattern));
  }
  const size_t length = JavaLength(s);
  if (length < rule.min_length) {
    v.Add(s, path,
          "Member must have length greater than or equal to " + std::to_string(rule.min_length));
  }
  if (length > rule.max_length) {
    v.Add(s, path,
          "Member must have length less than or equal to " + std::to_string(rule.max_length));
  }
}

constexpr StringRule kRoleArnRule{20, 2048, IsArnChar, kArnPattern};
constexpr StringRule kSessionNameRule{2, 64, IsSessionNameChar, kSessionNamePattern};
constexpr StringRule kPolicyRule{1, 2048, IsPolicyChar, kPolicyPattern};
constexpr StringRule kTagKeyRule{1, 128, IsTagChar, kTagKeyPattern};
constexpr StringRule kTagValueRule{0, 256, IsTagChar, kTagValuePattern};
constexpr StringRule kExternalIdRule{2, 1224, IsExternalIdChar, kExternalIdPattern};
constexpr StringRule kSourceIdentityRule{2, 64, IsSessionNameChar, kSessionNamePattern};

// ---------------------------------------------------------------------------------------------
// Form decoding.

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

StsError Malformed(std::string message) {
  return MakeStsError(StsErrorCode::kMalformedQueryString, std::move(message));
}

// Decodes one component of an application/x-www-form-urlencoded body. `offset` is where the
// component starts in the body, for the error message.
std::variant<std::string, StsError> FormDecode(std::string_view in, size_t offset) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        const std::string seen(in.substr(i, std::min<size_t>(3, in.size() - i)));
        return Malformed("Malformed percent-escape '" + ForMessage(seen) + "' at byte " +
                         std::to_string(offset + i) +
                         " of the request body: '%' must be followed by two hex digits; send a "
                         "literal '%' as %25");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

using ParamMap = std::map<std::string, std::string, std::less<>>;

std::variant<ParamMap, StsError> ParseForm(std::string_view body) {
  ParamMap params;
  size_t count = 0;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t end = body.find('&', pos);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    const std::string_view segment = body.substr(pos, end - pos);
    const size_t segment_offset = pos;
    pos = end + 1;
    if (segment.empty()) {
      continue;
    }
    if (++count > kMaxStsParameters) {
      return Malformed("The request has more than " + std::to_string(kMaxStsParameters) +
                       " parameters; Perimeter accepts at most " +
                       std::to_string(kMaxStsParameters) + " in one STS request");
    }
    const size_t eq = segment.find('=');
    const std::string_view raw_name = segment.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
    auto name = FormDecode(raw_name, segment_offset);
    if (auto* e = std::get_if<StsError>(&name)) {
      return std::move(*e);
    }
    auto value = FormDecode(raw_value, segment_offset + raw_name.size() + 1);
    if (auto* e = std::get_if<StsError>(&value)) {
      return std::move(*e);
    }
    std::string& n = std::get<std::string>(name);
    std::string& v = std::get<std::string>(value);
    if (n.empty()) {
      return Malformed("Parameter #" + std::to_string(count) +
                       " of the request body has an empty name; send name=value pairs");
    }
    if (!IsValidUtf8(n)) {
      return Malformed("Parameter #" + std::to_string(count) +
                       " of the request body has a name that is not valid UTF-8 after "
                       "percent-decoding; percent-encode UTF-8 text");
    }
    if (!IsValidUtf8(v)) {
      return Malformed("The value of parameter " + ForMessage(n) +
                       " is not valid UTF-8 after percent-decoding; percent-encode UTF-8 text");
    }
    if (params.count(n) != 0) {
      return Malformed("The parameter " + ForMessage(n) +
                       " appears more than once in the request body; send each parameter once");
    }
    params.emplace(std::move(n), std::move(v));
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// AssumeRole parameters.

// Parses the N of a list member name: a decimal number from 1, without sign or leading zeros.
std::optional<int> ParseListIndex(std::string_view digits) {
  if (digits.empty() || digits.size() > 4 || digits[0] == '0') {
    return std::nullopt;
  }
  int n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + (c - '0');
  }
  if (n > kMaxListIndex) {
    return std::nullopt;
  }
  return n;
}

// Checks that a list's member indices are exactly 1..size.
template <typename T>
std::optional<StsError> CheckContiguous(const std::map<int, T>& members, std::string_view list) {
  int expected = 1;
  for (const auto& [index, unused] : members) {
    if (index != expected) {
      return Malformed(std::string(list) + ".member." + std::to_string(index) + " is present but " +
                       std::string(list) + ".member." + std::to_string(expected) +
                       " is not; number list members from 1 without gaps");
    }
    ++expected;
  }
  return std::nullopt;
}

struct RawTag {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

struct RawAssumeRole {
  std::optional<std::string> role_arn;
  std::optional<std::string> role_session_name;
  std::optional<std::string> policy;
  std::optional<std::string> duration_seconds;
  std::optional<std::string> external_id;
  std::optional<std::string> source_identity;
  bool tags_empty_list = false;
  bool transitive_empty_list = false;
  std::map<int, RawTag> tags;
  std::map<int, std::string> transitive_tag_keys;
};

// Why Perimeter refuses a parameter that STS defines; empty when the name is not one of them.
std::string_view UnsupportedReason(std::string_view name) {
  const auto is = [&](std::string_view p) { return name == p || name.substr(0, p.size()) == p; };
  if (is("PolicyArns.")) {
    return "managed session policies are not supported; pass the session policy inline in "
           "Policy";
  }
  if (is("ProvidedContexts.")) {
    return "trusted context assertions are not supported; remove ProvidedContexts";
  }
  if (name == "SerialNumber" || name == "TokenCode") {
    return "MFA codes are not supported at Perimeter's STS endpoint; remove SerialNumber and "
           "TokenCode";
  }
  if (name == "MinimumSessionTokenSize") {
    return "session token padding is not supported; remove MinimumSessionTokenSize";
  }
  return {};
}

StsError RefuseParameter(std::string_view name, StsAction action) {
  const std::string_view reason = UnsupportedReason(name);
  std::string message = "The parameter " + ForMessage(name) + " is not supported for " +
                        std::string(StsActionName(action)) + " by Perimeter: ";
  if (!reason.empty()) {
    message += reason;
  } else if (action == StsAction::kGetCallerIdentity) {
    message += "GetCallerIdentity takes no parameters besides Action and Version";
  } else {
    message +=
        "it is not an AssumeRole parameter; Perimeter accepts RoleArn, RoleSessionName, "
        "DurationSeconds, Policy, Tags.member.N.Key/Value, TransitiveTagKeys.member.N, "
        "ExternalId and SourceIdentity";
  }
  return MakeStsError(StsErrorCode::kInvalidParameterValue, std::move(message));
}

// Sorts one parameter into `raw`. Returns an error for names that are malformed or refused.
std::optional<StsError> AddAssumeRoleParam(RawAssumeRole& raw, const std::string& name,
                                           const std::string& value) {
  static const std::map<std::string_view, std::optional<std::string> RawAssumeRole::*, std::less<>>
      kScalars = {
          {"RoleArn", &RawAssumeRole::role_arn},
          {"RoleSessionName", &RawAssumeRole::role_session_name},
          {"Policy", &RawAssumeRole::policy},
          {"DurationSeconds", &RawAssumeRole::duration_seconds},
          {"ExternalId", &RawAssumeRole::external_id},
          {"SourceIdentity", &RawAssumeRole::source_identity},
      };
  if (auto it = kScalars.find(name); it != kScalars.end()) {
    raw.*(it->second) = value;
    return std::nullopt;
  }

  // The empty-list forms the SDK sends for [] ("Tags=").
  const auto empty_list = [&](bool* flag) -> std::optional<StsError> {
    if (!value.empty()) {
      return Malformed("The parameter " + name + " must have an empty value (\"" + name +
                       "=\" means an empty list); send its members as " + name +
                       ".member.N parameters");
    }
    if (flag != nullptr) {
      *flag = true;
    }
    return std::nullopt;
  };
  if (name == "Tags") {
    return empty_list(&raw.tags_empty_list);
  }
  if (name == "TransitiveTagKeys") {
    return empty_list(&raw.transitive_empty_list);
  }
  if (name == "PolicyArns" || name == "ProvidedContexts") {
    return empty_list(nullptr);  // an empty list asks for nothing: safe to accept
  }

  constexpr std::string_view kTagsPrefix = "Tags.";
  constexpr std::string_view kTagsMemberPrefix = "Tags.member.";
  if (name.compare(0, kTagsPrefix.size(), kTagsPrefix) == 0) {
    const auto bad = [&] {
      return Malformed("The parameter " + ForMessage(name) +
                       " is not a valid Tags parameter; send tags as Tags.member.N.Key and "
                       "Tags.member.N.Value with N counting from 1");
    };
    if (name.compare(0, kTagsMemberPrefix.size(), kTagsMemberPrefix) != 0) {
      return bad();
    }
    const std::string_view rest = std::string_view(name).substr(kTagsMemberPrefix.size());
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos) {
      return bad();
    }
    const std::optional<int> index = ParseListIndex(rest.substr(0, dot));
    const std::string_view field = rest.substr(dot + 1);
    if (!index || (field != "Key" && field != "Value")) {
      return bad();
    }
    RawTag& tag = raw.tags[*index];
    (field == "Key" ? tag.key : tag.value) = value;
    return std::nullopt;
  }

  constexpr std::string_view kTransitivePrefix = "TransitiveTagKeys.";
  constexpr std::string_view kTransitiveMemberPrefix = "TransitiveTagKeys.member.";
  if (name.compare(0, kTransitivePrefix.size(), kTransitivePrefix) == 0) {
    std::optional<int> index;
    if (name.compare(0, kTransitiveMemberPrefix.size(), kTransitiveMemberPrefix) == 0) {
      index = ParseListIndex(std::string_view(name).substr(kTransitiveMemberPrefix.size()));
    }
    if (!index) {
      return Malformed("The parameter " + ForMessage(name) +
                       " is not a valid TransitiveTagKeys parameter; send keys as "
                       "TransitiveTagKeys.member.N with N counting from 1");
    }
    raw.transitive_tag_keys[*index] = value;
    return std::nullopt;
  }

  return RefuseParameter(name, StsAction::kAssumeRole);
}

// Java Integer.parseInt: optional sign, decimal digits, 32-bit range.
std::optional<int32_t> ParseInt32(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
    if (v > static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1) {
      return std::nullopt;
    }
  }
  v = negative ? -v : v;
  if (v > std::numeric_limits<int32_t>::max() || v < std::numeric_limits<int32_t>::min()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(v);
}

std::variant<AssumeRoleParams, StsError> BuildAssumeRole(RawAssumeRole raw) {
  if (raw.tags_empty_list && !raw.tags.empty()) {
    return Malformed("Tags is sent both as an empty list (Tags=) and with members; send one");
  }
  if (raw.transitive_empty_list && !raw.transitive_tag_keys.empty()) {
    return Malformed(
        "TransitiveTagKeys is sent both as an empty list (TransitiveTagKeys=) and with "
        "members; send one");
  }
  if (auto e = CheckContiguous(raw.tags, "Tags")) {
    return std::move(*e);
  }
  if (auto e = CheckContiguous(raw.transitive_tag_keys, "TransitiveTagKeys")) {
    return std::move(*e);
  }

  std::optional<int32_t> duration;
  if (raw.duration_seconds) {
    duration = ParseInt32(*raw.duration_seconds);
    if (!duration) {
      return MakeStsError(StsErrorCode::kInvalidParameterValue,
                          "Value '" + ForMessage(*raw.duration_seconds) +
                              "' for parameter DurationSeconds is not an integer; send whole "
                              "seconds from " +
                              std::to_string(kMinDurationSeconds) + " to " +
                              std::to_string(kMaxDurationSeconds));
    }
  }

  // Model constraints, in the order of the AssumeRoleRequest members.
  Violations v;
  CheckString(v, raw.role_arn, "roleArn", kRoleArnRule, /*required=*/true);
  CheckString(v, raw.role_session_name, "roleSessionName", kSessionNameRule, /*required=*/true);
  CheckString(v, raw.policy, "policy", kPolicyRule, /*required=*/false);
  if (duration) {
    const std::string shown = std::to_string(*duration);
    if (*duration < kMinDurationSeconds) {
      v.Add(
          shown, "durationSeconds",
          "Member must have value greater than or equal to " + std::to_string(kMinDurationSeconds));
    }
    if (*duration > kMaxDurationSeconds) {
      v.Add(shown, "durationSeconds",
            "Member must have value less than or equal to " + std::to_string(kMaxDurationSeconds));
    }
  }
  if (raw.tags.size() > kMaxTags) {
    v.AddRaw("Value with " + std::to_string(raw.tags.size()) +
             " members at 'tags' failed to satisfy constraint: Member must have length less "
             "than or equal to " +
             std::to_string(kMaxTags));
  }
  for (const auto& [index, tag] : raw.tags) {
    const std::string path = "tags." + std::to_string(index) + ".member.";
    CheckString(v, tag.key, path + "key", kTagKeyRule, /*required=*/true);
    CheckString(v, tag.value, path + "value", kTagValueRule, /*required=*/true);
  }
  if (raw.transitive_tag_keys.size() > kMaxTransitiveTagKeys) {
    v.AddRaw("Value with " + std::to_string(raw.transitive_tag_keys.size()) +
             " members at 'transitiveTagKeys' failed to satisfy constraint: Member must have "
             "length less than or equal to " +
             std::to_string(kMaxTransitiveTagKeys));
  }
  for (const auto& [index, key] : raw.transitive_tag_keys) {
    CheckString(v, key, "transitiveTagKeys." + std::to_string(index) + ".member", kTagKeyRule,
                /*required=*/true);
  }
  CheckString(v, raw.external_id, "externalId", kExternalIdRule, /*required=*/false);
  CheckString(v, raw.source_identity, "sourceIdentity", kSourceIdentityRule, /*required=*/false);
  if (!v.empty()) {
    return MakeStsError(StsErrorCode::kValidationError, v.Message());
  }

  AssumeRoleParams p;
  p.role_arn = std::move(*raw.role_arn);
  p.role_session_name = std::move(*raw.role_session_name);
  if (duration) {
    p.duration_seconds = *duration;
  }
  p.policy = std::move(raw.policy).value_or("");
  std::set<std::string> seen_keys;
  for (auto& [index, tag] : raw.tags) {
    std::string folded = *tag.key;
    for (char& c : folded) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    if (!seen_keys.insert(std::move(folded)).second) {
      return MakeStsError(StsErrorCode::kInvalidParameterValue,
                          "Duplicate tag keys found. Please note that Tag keys are case "
                          "insensitive. (key '" +
                              ForMessage(*tag.key) + "' at Tags.member." + std::to_string(index) +
                              ")");
    }
    p.tags.push_back({std::move(*tag.key), std::move(*tag.value)});
  }
  for (auto& [index, key] : raw.transitive_tag_keys) {
    p.transitive_tag_keys.push_back(std::move(key));
  }
  p.external_id = std::move(raw.external_id).value_or("");
  p.source_identity = std::move(raw.source_identity).value_or("");
  return p;
}

// ---------------------------------------------------------------------------------------------
// XML output.

// Appends `s` as XML character data (also safe inside attribute values). See the header for
// how invalid input is replaced.
void AppendXmlText(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = NextCodePoint(s, i);
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";  // a raw CR would be normalised away by the reader
        break;
      default:
        if (cp == kInvalidCodePoint || (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE ||
            cp == 0xFFFF) {
          AppendUtf8(out, 0xFFFD);
        } else {
          AppendUtf8(out, cp);
        }
    }
  }
}

void AppendElement(std::string& out, std::string_view name, std::string_view text) {
  out += '<';
  out += name;
  out += '>';
  AppendXmlText(out, text);
  out += "</";
  out += name;
  out += '>';
}

void OpenResponse(std::string& out, std::string_view element) {
  out += '<';
  out += element;
  out += " xmlns=\"";
  out += kStsXmlNamespace;
  out += "\">";
}

void AppendResponseMetadata(std::string& out, std::string_view request_id) {
  out += "<ResponseMetadata>";
  AppendElement(out, "RequestId", request_id);
  out += "</ResponseMetadata>";
}

}  // namespace

std::string_view StsActionName(StsAction action) {
  switch (action) {
    case StsAction::kAssumeRole:
      return "AssumeRole";
    case StsAction::kGetCallerIdentity:
      return "GetCallerIdentity";
  }
  return "Unknown";
}

std::string_view StsErrorCodeName(StsErrorCode code) {
  switch (code) {
    case StsErrorCode::kAccessDenied:
      return "AccessDenied";
    case StsErrorCode::kExpiredToken:
      return "ExpiredToken";
    case StsErrorCode::kExpiredTokenException:
      return "ExpiredTokenException";
    case StsErrorCode::kIncompleteSignature:
      return "IncompleteSignature";
    case StsErrorCode::kInternalFailure:
      return "InternalFailure";
    case StsErrorCode::kInvalidAction:
      return "InvalidAction";
    case StsErrorCode::kInvalidClientTokenId:
      return "InvalidClientTokenId";
    case StsErrorCode::kInvalidParameterValue:
      return "InvalidParameterValue";
    case StsErrorCode::kMalformedPolicyDocument:
      return "MalformedPolicyDocument";
    case StsErrorCode::kMalformedQueryString:
      return "MalformedQueryString";
    case StsErrorCode::kMissingAction:
      return "MissingAction";
    case StsErrorCode::kMissingAuthenticationToken:
      return "MissingAuthenticationToken";
    case StsErrorCode::kMissingParameter:
      return "MissingParameter";
    case StsErrorCode::kPackedPolicyTooLarge:
      return "PackedPolicyTooLarge";
    case StsErrorCode::kRegionDisabledException:
      return "RegionDisabledException";
    case StsErrorCode::kRequestExpired:
      return "RequestExpired";
    case StsErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case StsErrorCode::kSignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case StsErrorCode::kThrottling:
      return "Throttling";
    case StsErrorCode::kValidationError:
      return "ValidationError";
  }
  return "InternalFailure";
}

StsError MakeStsError(StsErrorCode code, std::string message) {
  StsError e;
  e.code = std::string(StsErrorCodeName(code));
  e.message = std::move(message);
  switch (code) {
    case StsErrorCode::kAccessDenied:
    case StsErrorCode::kExpiredToken:
    case StsErrorCode::kInvalidClientTokenId:
    case StsErrorCode::kMissingAuthenticationToken:
    case StsErrorCode::kRegionDisabledException:
    case StsErrorCode::kSignatureDoesNotMatch:
      e.http_status = 403;
      break;
    case StsErrorCode::kInternalFailure:
      e.http_status = 500;
      e.sender = false;
      break;
    case StsErrorCode::kServiceUnavailable:
      e.http_status = 503;
      e.sender = false;
      break;
    default:
      // Includes MalformedQueryString, which AWS's common-errors page lists as 404. A syntax
      // error is the client's bad request, and the SDKs dispatch on <Code>, not the status.
      e.http_status = 400;
      break;
  }
  return e;
}

std::variant<StsRequest, StsError> ParseStsRequest(std::string_view form_body) {
  if (form_body.size() > kMaxStsBodyBytes) {
    StsError e = Malformed("The request body is " + std::to_string(form_body.size()) +
                           " bytes; Perimeter accepts STS request bodies of at most " +
                           std::to_string(kMaxStsBodyBytes) + " bytes");
    e.http_status = 413;
    return e;
  }
  auto parsed = ParseForm(form_body);
  if (auto* e = std::get_if<StsError>(&parsed)) {
    return std::move(*e);
  }
  ParamMap& params = std::get<ParamMap>(parsed);

  const auto action_it = params.find("Action");
  if (action_it == params.end()) {
    return MakeStsError(StsErrorCode::kMissingAction,
                        "The request must contain the parameter Action (AssumeRole or "
                        "GetCallerIdentity)");
  }
  const auto version_it = params.find("Version");
  if (version_it == params.end()) {
    return MakeStsError(StsErrorCode::kMissingParameter,
                        "The request must contain the parameter Version; send Version=" +
                            std::string(kStsApiVersion));
  }
  const std::string& action_name = action_it->second;
  const std::string& version = version_it->second;
  if (version != kStsApiVersion) {
    return MakeStsError(StsErrorCode::kInvalidAction,
                        "Could not find operation " + ForMessage(action_name) + " for version " +
                            ForMessage(version) + "; Perimeter serves STS version " +
                            std::string(kStsApiVersion));
  }
  StsRequest request;
  if (action_name == "AssumeRole") {
    request.action = StsAction::kAssumeRole;
  } else if (action_name == "GetCallerIdentity") {
    request.action = StsAction::kGetCallerIdentity;
  } else {
    return MakeStsError(StsErrorCode::kInvalidAction,
                        "Could not find operation " + ForMessage(action_name) + " for version " +
                            std::string(kStsApiVersion) +
                            "; Perimeter implements AssumeRole and GetCallerIdentity");
  }

  RawAssumeRole raw;
  for (const auto& [name, value] : params) {
    if (name == "Action" || name == "Version") {
      continue;
    }
    if (request.action == StsAction::kGetCallerIdentity) {
      return RefuseParameter(name, request.action);
    }
    if (auto e = AddAssumeRoleParam(raw, name, value)) {
      return std::move(*e);
    }
  }
  if (request.action == StsAction::kAssumeRole) {
    auto built = BuildAssumeRole(std::move(raw));
    if (auto* e = std::get_if<StsError>(&built)) {
      return std::move(*e);
    }
    request.assume_role = std::move(std::get<AssumeRoleParams>(built));
  }
  return request;
}

std::string FormatStsTimestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(secs - day);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string EncodeAssumeRoleResponse(const AssumeRoleResult& result, std::string_view request_id) {
  std::string out;
  out.reserve(1024 + result.session_token.size());
  OpenResponse(out, "AssumeRoleResponse");
  out += "<AssumeRoleResult><Credentials>";
  AppendElement(out, "AccessKeyId", result.access_key_id);
  AppendElement(out, "SecretAccessKey", result.secret_access_key);
  AppendElement(out, "SessionToken", result.session_token);
  AppendElement(out, "Expiration", FormatStsTimestamp(result.expiration));
  out += "</Credentials><AssumedRoleUser>";
  AppendElement(out, "AssumedRoleId", result.assumed_role_id);
  AppendElement(out, "Arn", result.assumed_role_arn);
  out += "</AssumedRoleUser>";
  if (result.packed_policy_size) {
    AppendElement(out, "PackedPolicySize", std::to_string(*result.packed_policy_size));
  }
  if (!result.source_identity.empty()) {
    AppendElement(out, "SourceIdentity", result.source_identity);
  }
  out += "</AssumeRoleResult>";
  AppendResponseMetadata(out, request_id);
  out += "</AssumeRoleResponse>";
  return out;
}

std::string EncodeGetCallerIdentityResponse(std::string_view user_id, std::string_view account,
                                            std::string_view arn, std::string_view request_id) {
  std::string out;
  OpenResponse(out, "GetCallerIdentityResponse");
  out += "<GetCallerIdentityResult>";
  AppendElement(out, "UserId", user_id);
  AppendElement(out, "Account", account);
  AppendElement(out, "Arn", arn);
  out += "</GetCallerIdentityResult>";
  AppendResponseMetadata(out, request_id);
  out += "</GetCallerIdentityResponse>";
  return out;
}

std::string EncodeStsError(const StsError& error, std::string_view request_id) {
  std::string out;
  OpenResponse(out, "ErrorResponse");
  out += "<Error>";
  AppendElement(out, "Type", error.sender ? "Sender" : "Receiver");
  AppendElement(out, "Code", error.code);
  AppendElement(out, "Message", error.message);
  out += "</Error>";
  AppendElement(out, "RequestId", request_id);
  out += "</ErrorResponse>";
  return out;
}

}  // namespace perimeter::iam
