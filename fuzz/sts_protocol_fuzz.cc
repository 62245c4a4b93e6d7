// Fuzz target for iam::ParseStsRequest (the STS Query form bodies clients send to `POST /`) and
// the XML encoders that answer them.
//
// Invariants checked:
//  1. A refusal is one of the parse-time codes with status 400 (413 only for an oversized
//     body), Type Sender and a non-empty message, and its encoded ErrorResponse is well-formed
//     XML text (valid UTF-8, no character XML 1.0 forbids, '&' only in known entities).
//  2. An accepted AssumeRole satisfies the model constraints the parser promises (lengths,
//     character sets, ranges, list sizes, unique tag keys); GetCallerIdentity carries nothing.
//  3. An accepted request re-encoded canonically (every byte outside RFC 3986 unreserved
//     percent-encoded, members in order) parses back to the same request.
//  4. The success encoders stay well-formed with the parsed strings as field values.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "iam/sts_protocol.h"

namespace {

using perimeter::iam::AssumeRoleParams;
using perimeter::iam::StsAction;
using perimeter::iam::StsError;
using perimeter::iam::StsRequest;

// Returns the number of code points, or -1 if `s` is not strict UTF-8.
long Utf8Length(std::string_view s) {
  long n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80             ? 1
                 : (b & 0xE0) == 0xC0 ? 2
                 : (b & 0xF0) == 0xE0 ? 3
                 : (b & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (len == 0 || s.size() - i < len) {
      return -1;
    }
    uint32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        return -1;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return -1;
    }
    i += len;
  }
  return n;
}

// What a generic XML 1.0 reader needs from our output: UTF-8, no forbidden control
// characters, no U+FFFE/U+FFFF, and every '&' starting an entity we emit.
bool IsWellFormedXmlText(std::string_view xml) {
  if (Utf8Length(xml) < 0) {
    return false;
  }
  if (xml.find("\xEF\xBF\xBE") != std::string_view::npos ||
      xml.find("\xEF\xBF\xBF") != std::string_view::npos) {
    return false;
  }
  for (size_t i = 0; i < xml.size(); ++i) {
    const auto c = static_cast<unsigned char>(xml[i]);
    if (c < 0x20 && c != '\t' && c != '\n') {
      return false;  // CR is only ever sent as &#13;
    }
    if (c == '&') {
      const std::string_view rest = xml.substr(i);
      bool known = false;
      for (const std::string_view entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#13;"}) {
        known = known || rest.substr(0, entity.size()) == entity;
      }
      if (!known) {
        return false;
      }
    }
  }
  return true;
}

bool IsSessionNameChars(std::string_view s) {
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' ||
                    c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// Lengths are in UTF-16 units in the parser; code points bound them from below and
// 2 * code points from above, which is all this check needs.
bool LengthWithin(std::string_view s, long min, long max) {
  const long n = Utf8Length(s);
  return n >= 0 && 2 * n >= min && n <= max;
}

void CheckAssumeRole(const AssumeRoleParams& p) {
  PERIMETER_FUZZ_CHECK(LengthWithin(p.role_arn, 20, 2048));
  PERIMETER_FUZZ_CHECK(p.role_session_name.size() >= 2 && p.role_session_name.size() <= 64);
  PERIMETER_FUZZ_CHECK(IsSessionNameChars(p.role_session_name));
  if (p.duration_seconds) {
    PERIMETER_FUZZ_CHECK(*p.duration_seconds >= 900 && *p.duration_seconds <= 43200);
  }
  PERIMETER_FUZZ_CHECK(p.policy.empty() || LengthWithin(p.policy, 1, 2048));
  PERIMETER_FUZZ_CHECK(p.tags.size() <= 50);
  std::set<std::string> keys;
  for (const auto& tag : p.tags) {
    PERIMETER_FUZZ_CHECK(LengthWithin(tag.key, 1, 128));
    PERIMETER_FUZZ_CHECK(tag.value.empty() || LengthWithin(tag.value, 0, 256));
    PERIMETER_FUZZ_CHECK(keys.insert(Lower(tag.key)).second);
  }
  PERIMETER_FUZZ_CHECK(p.transitive_tag_keys.size() <= 50);
  for (const auto& key : p.transitive_tag_keys) {
    PERIMETER_FUZZ_CHECK(LengthWithin(key, 1, 128));
  }
  PERIMETER_FUZZ_CHECK(p.source_identity.empty() ||
                       (p.source_identity.size() >= 2 && p.source_identity.size() <= 64 &&
                        IsSessionNameChars(p.source_identity)));
  PERIMETER_FUZZ_CHECK(p.external_id.empty() ||
                       (p.external_id.size() >= 2 && p.external_id.size() <= 1224));
}

std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string Canonical(const StsRequest& r) {
  std::string body = "Action=" + std::string(perimeter::iam::StsActionName(r.action)) +
                     "&Version=" + std::string(perimeter::iam::kStsApiVersion);
  if (r.action != StsAction::kAssumeRole) {
    return body;
  }
  const AssumeRoleParams& p = r.assume_role;
  const auto add = [&](std::string_view name, std::string_view value) {
    body += "&";
    body += name;
    body += "=";
    body += FormEncode(value);
  };
  add("RoleArn", p.role_arn);
  add("RoleSessionName", p.role_session_name);
  if (p.duration_seconds) {
    add("DurationSeconds", std::to_string(*p.duration_seconds));
  }
  if (!p.policy.empty()) {
    add("Policy", p.policy);
  }
  for (size_t i = 0; i < p.tags.size(); ++i) {
    const std::string prefix = "Tags.member." + std::to_string(i + 1);
    add(prefix + ".Key", p.tags[i].key);
    add(prefix + ".Value", p.tags[i].value);
  }
  for (size_t i = 0; i < p.transitive_tag_keys.size(); ++i) {
    add("TransitiveTagKeys.member." + std::to_string(i + 1), p.transitive_tag_keys[i]);
  }
  if (!p.external_id.empty()) {
    add("ExternalId", p.external_id);
  }
  if (!p.source_identity.empty()) {
    add("SourceIdentity", p.source_identity);
  }
  return body;
}

bool SameRequest(const StsRequest& a, const StsRequest& b) {
  const AssumeRoleParams& x = a.assume_role;
  const AssumeRoleParams& y = b.assume_role;
  if (a.action != b.action || x.role_arn != y.role_arn ||
      x.role_session_name != y.role_session_name || x.duration_seconds != y.duration_seconds ||
      x.policy != y.policy || x.tags.size() != y.tags.size() ||
      x.transitive_tag_keys != y.transitive_tag_keys || x.external_id != y.external_id ||
      x.source_identity != y.source_identity) {
    return false;
  }
  for (size_t i = 0; i < x.tags.size(); ++i) {
    if (x.tags[i].key != y.tags[i].key || x.tags[i].value != y.tags[i].value) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = perimeter::iam::ParseStsRequest(body);

  if (const auto* e = std::get_if<StsError>(&parsed)) {
    static const std::set<std::string> kParseCodes = {"MalformedQueryString",  "MissingAction",
                                                      "MissingParameter",      "InvalidAction",
                                                      "InvalidParameterValue", "ValidationError"};
    PERIMETER_FUZZ_CHECK(kParseCodes.count(e->code) == 1);
    PERIMETER_FUZZ_CHECK(e->http_status == 400 ||
                         (e->http_status == 413 && size > perimeter::iam::kMaxStsBodyBytes));
    PERIMETER_FUZZ_CHECK(e->sender && !e->message.empty());
    PERIMETER_FUZZ_CHECK(IsWellFormedXmlText(perimeter::iam::EncodeStsError(*e, "request-id")));
    return 0;
  }

  const StsRequest& request = std::get<StsRequest>(parsed);
  PERIMETER_FUZZ_CHECK(size <= perimeter::iam::kMaxStsBodyBytes);
  if (request.action == StsAction::kGetCallerIdentity) {
    PERIMETER_FUZZ_CHECK(request.assume_role.role_arn.empty() && request.assume_role.tags.empty());
  } else {
    CheckAssumeRole(request.assume_role);
  }

  const std::string canonical = Canonical(request);
  if (canonical.size() <= perimeter::iam::kMaxStsBodyBytes) {
    const auto reparsed = perimeter::iam::ParseStsRequest(canonical);
    PERIMETER_FUZZ_CHECK(std::holds_alternative<StsRequest>(reparsed));
    PERIMETER_FUZZ_CHECK(SameRequest(request, std::get<StsRequest>(reparsed)));
  }

  const AssumeRoleParams& p = request.assume_role;
  perimeter::iam::AssumeRoleResult result;
  result.access_key_id = p.external_id;
  result.secret_access_key = p.policy;
  result.session_token = p.tags.empty() ? "" : p.tags[0].value;
  result.assumed_role_id = p.role_session_name;
  result.assumed_role_arn = p.role_arn;
  result.source_identity = p.source_identity;
  result.packed_policy_size = static_cast<int>(p.tags.size());
  PERIMETER_FUZZ_CHECK(
      IsWellFormedXmlText(perimeter::iam::EncodeAssumeRoleResponse(result, p.role_arn)));
  PERIMETER_FUZZ_CHECK(IsWellFormedXmlText(perimeter::iam::EncodeGetCallerIdentityResponse(
      p.role_session_name, p.external_id, p.role_arn, p.policy)));
  return 0;
}
