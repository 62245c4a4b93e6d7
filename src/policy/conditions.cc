#include "policy/conditions.h"

#include <array>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "common/strings.h"

namespace perimeter::policy {

namespace {

constexpr size_t kMaxConditionValues = 1000;

bool IsWild(const Template::Resolved& r, size_t i) { return r.wild[i]; }

char Fold(char c, bool ignore_case) {
  return (ignore_case && c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Base64 (standard alphabet, '=' padding optional). nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return std::nullopt;
  }
  return out;
}

std::optional<double> ParseNumber(std::string_view s) {
  s = TrimWhitespace(s);
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

std::string ScalarToString(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_double()) {
    double d = v.as_double();
    if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RequestContext

bool RequestContext::KeyLess::operator()(std::string_view a, std::string_view b) const {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char x = Fold(a[i], true), y = Fold(b[i], true);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

void RequestContext::Set(std::string_view key, std::vector<std::string> values) {
  auto it = values_.find(key);
  if (it != values_.end()) {
    it->second = std::move(values);
  } else {
    values_.emplace(std::string(key), std::move(values));
  }
}

const std::vector<std::string>* RequestContext::Find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------------------
// Template

Result<Template> Template::Compile(std::string_view text, bool variables, bool wildcards) {
  Template t;
  auto add_literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (!t.parts_.empty() && t.parts_.back().kind == Part::kLiteral) {
      t.parts_.back().text.append(s);
    } else {
      t.parts_.push_back(Part{Part::kLiteral, std::string(s), std::nullopt});
    }
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (variables && c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return InvalidArgument("policy variable starting at offset " + std::to_string(i) + " in '" +
                               std::string(text) + "' has no closing '}'");
      }
      std::string_view body = TrimWhitespace(text.substr(i + 2, close - i - 2));
      i = close + 1;
      if (body == "*" || body == "?" || body == "$") {
        add_literal(body);
        continue;
      }
      Part p{Part::kVariable, {}, std::nullopt};
      size_t comma = body.find(',');
      std::string_view key = TrimWhitespace(body.substr(0, comma));
      if (comma != std::string_view::npos) {
        std::string_view def = TrimWhitespace(body.substr(comma + 1));
        if (def.size() < 2 || def.front() != '\'' || def.back() != '\'') {
          return InvalidArgument("policy variable '${" + std::string(body) +
                                 "}' has a default that is not a single-quoted string; write "
                                 "${key, 'default'}");
        }
        p.default_value = std::string(def.substr(1, def.size() - 2));
      }
      if (key.empty()) {
        return InvalidArgument("empty policy variable '${}' in '" + std::string(text) +
                               "'; use ${*}, ${?} or ${$} for literal characters");
      }
      p.text = AsciiLower(key);
      t.parts_.push_back(std::move(p));
      t.has_variables_ = true;
      continue;
    }
    if (wildcards && c == '*') {
      t.parts_.push_back(Part{Part::kStar, {}, std::nullopt});
    } else if (wildcards && c == '?') {
      t.parts_.push_back(Part{Part::kQuestion, {}, std::nullopt});
    } else {
      add_literal(text.substr(i, 1));
    }
    ++i;
  }
  t.Freeze();
  return t;
}

std::optional<Template::Resolved> Template::Resolve(const RequestContext& ctx) const {
  Resolved r;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Part::kLiteral:
        r.text.append(p.text);
        r.wild.insert(r.wild.end(), p.text.size(), false);
        break;
      case Part::kStar:
        r.text.push_back('*');
        r.wild.push_back(true);
        break;
      case Part::kQuestion:
        r.text.push_back('?');
        r.wild.push_back(true);
        break;
      case Part::kVariable: {
        const std::vector<std::string>* v = ctx.Find(p.text);
        const std::string* value = nullptr;
        // Multi-valued keys cannot be substituted; they resolve like a missing key.
        if (v != nullptr && v->size() == 1) value = &v->front();
        if (value == nullptr && p.default_value) value = &*p.default_value;
        if (value == nullptr) return std::nullopt;
        r.text.append(*value);
        r.wild.insert(r.wild.end(), value->size(), false);
        break;
      }
    }
  }
  return r;
}

void Template::Freeze() {
  if (has_variables_) return;
  RequestContext empty;
  auto r = Resolve(empty);
  if (r) fixed_ = std::make_shared<const Resolved>(std::move(*r));
}

const Template::Resolved* Template::ResolveCached(const RequestContext& ctx,
                                                  std::optional<Resolved>& storage) const {
  if (fixed_) return fixed_.get();
  storage = Resolve(ctx);
  return storage ? &*storage : nullptr;
}

std::vector<Template> Template::SplitOnColons(size_t max_parts) const {
  std::vector<Template> out(1);
  for (const Part& p : parts_) {
    if (p.kind != Part::kLiteral) {
      out.back().parts_.push_back(p);
      out.back().has_variables_ |= p.kind == Part::kVariable;
      continue;
    }
    std::string_view rest = p.text;
    while (!rest.empty()) {
      size_t colon = out.size() < max_parts ? rest.find(':') : std::string_view::npos;
      std::string_view piece = rest.substr(0, colon);
      if (!piece.empty()) out.back().parts_.push_back(Part{Part::kLiteral, std::string(piece), {}});
      if (colon == std::string_view::npos) break;
      out.emplace_back();
      rest = rest.substr(colon + 1);
    }
  }
  for (Template& t : out) t.Freeze();
  return out;
}

bool MatchResolved(const Template::Resolved& pat, std::string_view text, bool ignore_case) {
  // Iterative glob with single-star backtracking, honouring per-byte wildcard flags so that
  // substituted variable values and ${*} escapes stay literal.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  const std::string& s = pat.text;
  while (t < text.size()) {
    if (p < s.size() && IsWild(pat, p) && s[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < s.size() &&
               ((IsWild(pat, p) && s[p] == '?') ||
                (!IsWild(pat, p) && Fold(s[p], ignore_case) == Fold(text[t], ignore_case)))) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < s.size() && IsWild(pat, p) && s[p] == '*') ++p;
  return p == s.size();
}

// ---------------------------------------------------------------------------------------------
// ArnPattern

Result<ArnPattern> ArnPattern::Compile(std::string_view text, bool variables) {
  auto t = Template::Compile(text, variables, /*wildcards=*/true);
  if (!t.ok()) return t.status();
  ArnPattern a;
  std::vector<Template> parts = t->SplitOnColons(6);
  if (parts.size() == 6) {
    a.parts_ = std::move(parts);
  } else {
    a.parts_.push_back(std::move(t).value());
  }
  return a;
}

ArnPattern::Match ArnPattern::Matches(std::string_view arn, const RequestContext& ctx) const {
  std::optional<Template::Resolved> storage;
  if (parts_.size() == 1) {
    const Template::Resolved* r = parts_[0].ResolveCached(ctx, storage);
    if (!r) return Match::kUnresolved;
    return MatchResolved(*r, arn, false) ? Match::kMatch : Match::kNoMatch;
  }
  std::array<std::string_view, 6> segs;
  std::string_view rest = arn;
  for (size_t i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return Match::kNoMatch;  // not an ARN
    segs[i] = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
  }
  segs[5] = rest;
  bool matched = true;
  for (size_t i = 0; i < 6; ++i) {
    const Template::Resolved* r = parts_[i].ResolveCached(ctx, storage);
    if (!r) return Match::kUnresolved;
    if (!MatchResolved(*r, segs[i], false)) matched = false;
  }
  return matched ? Match::kMatch : Match::kNoMatch;
}

// ---------------------------------------------------------------------------------------------
// Dates

std::optional<int64_t> ParseAwsDate(std::string_view s) {
  s = TrimWhitespace(s);
  if (s.empty() || s.size() > 40) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 12) return std::nullopt;  // epoch seconds; bounded to avoid overflow
    int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v * 1000;
  }
  size_t pos = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!ReadDigits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-' ||
      !ReadDigits(s, pos, 2, d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  int64_t offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't') return std::nullopt;
    ++pos;
    if (!ReadDigits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
        !ReadDigits(s, pos, 2, mi)) {
      return std::nullopt;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!ReadDigits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 3) {
            ms = ms * 10 + (s[pos] - '0');
            ++digits;
          }
          ++pos;
        }
        if (pos == start) return std::nullopt;
        while (digits < 3) {
          ms *= 10;
          ++digits;
        }
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (pos < s.size()) {
      char z = s[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        ++pos;
        int oh, om;
        if (!ReadDigits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (!ReadDigits(s, pos, 2, om)) return std::nullopt;
        offset_min = (oh * 60 + om) * (z == '+' ? 1 : -1);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  return secs * 1000 + ms;
}

// ---------------------------------------------------------------------------------------------
// Condition

namespace {

struct OperatorInfo {
  std::string_view name;
  Condition::Family family;
  Condition::Compare compare;
  bool negated;
};

constexpr OperatorInfo kOperators[] = {
    {"StringEquals", Condition::Family::kString, Condition::Compare::kEquals, false},
    {"StringNotEquals", Condition::Family::kString, Condition::Compare::kEquals, true},
    {"StringEqualsIgnoreCase", Condition::Family::kString, Condition::Compare::kEqualsIgnoreCase,
     false},
    {"StringNotEqualsIgnoreCase", Condition::Family::kString, Condition::Compare::kEqualsIgnoreCase,
     true},
    {"StringLike", Condition::Family::kString, Condition::Compare::kLike, false},
    {"StringNotLike", Condition::Family::kString, Condition::Compare::kLike, true},
    {"NumericEquals", Condition::Family::kNumeric, Condition::Compare::kEquals, false},
    {"NumericNotEquals", Condition::Family::kNumeric, Condition::Compare::kEquals, true},
    {"NumericLessThan", Condition::Family::kNumeric, Condition::Compare::kLessThan, false},
    {"NumericLessThanEquals", Condition::Family::kNumeric, Condition::Compare::kLessThanEquals,
     false},
    {"NumericGreaterThan", Condition::Family::kNumeric, Condition::Compare::kGreaterThan, false},
    {"NumericGreaterThanEquals", Condition::Family::kNumeric,
     Condition::Compare::kGreaterThanEquals, false},
    {"DateEquals", Condition::Family::kDate, Condition::Compare::kEquals, false},
    {"DateNotEquals", Condition::Family::kDate, Condition::Compare::kEquals, true},
    {"DateLessThan", Condition::Family::kDate, Condition::Compare::kLessThan, false},
    {"DateLessThanEquals", Condition::Family::kDate, Condition::Compare::kLessThanEquals, false},
    {"DateGreaterThan", Condition::Family::kDate, Condition::Compare::kGreaterThan, false},
    {"DateGreaterThanEquals", Condition::Family::kDate, Condition::Compare::kGreaterThanEquals,
     false},
    {"Bool", Condition::Family::kBool, Condition::Compare::kEquals, false},
    {"BinaryEquals", Condition::Family::kBinary, Condition::Compare::kEquals, false},
    {"IpAddress", Condition::Family::kIpAddress, Condition::Compare::kEquals, false},
    {"NotIpAddress", Condition::Family::kIpAddress, Condition::Compare::kEquals, true},
    {"ArnEquals", Condition::Family::kArn, Condition::Compare::kEquals, false},
    {"ArnLike", Condition::Family::kArn, Condition::Compare::kLike, false},
    {"ArnNotEquals", Condition::Family::kArn, Condition::Compare::kEquals, true},
    {"ArnNotLike", Condition::Family::kArn, Condition::Compare::kLike, true},
    {"Null", Condition::Family::kNull, Condition::Compare::kEquals, false},
};

template <typename T>
bool CompareOrdered(Condition::Compare c, T a, T b) {
  switch (c) {
    case Condition::Compare::kLessThan:
      return a < b;
    case Condition::Compare::kLessThanEquals:
      return a <= b;
    case Condition::Compare::kGreaterThan:
      return a > b;
    case Condition::Compare::kGreaterThanEquals:
      return a >= b;
    default:
      return a == b;
  }
}

}  // namespace

Result<Condition> Condition::Compile(std::string_view op, std::string_view key,
                                     const boost::json::value& value, bool variables) {
  Condition c;
  c.op_text_ = std::string(op);
  c.key_ = AsciiLower(key);
  if (key.empty())
    return InvalidArgument("condition operator '" + c.op_text_ + "' has an empty key");
  std::string_view base = op;
  if (StartsWith(AsciiLower(base.substr(0, 13)), "forallvalues:")) {
    c.set_ = SetQualifier::kForAllValues;
    base.remove_prefix(13);
  } else if (StartsWith(AsciiLower(base.substr(0, 12)), "foranyvalue:")) {
    c.set_ = SetQualifier::kForAnyValue;
    base.remove_prefix(12);
  }
  if (base.size() > 8 && EqualsIgnoreCase(base.substr(base.size() - 8), "IfExists")) {
    c.if_exists_ = true;
    base.remove_suffix(8);
  }
  const OperatorInfo* info = nullptr;
  for (const OperatorInfo& o : kOperators) {
    if (EqualsIgnoreCase(o.name, base)) info = &o;
  }
  if (info == nullptr) {
    return InvalidArgument("unknown condition operator '" + c.op_text_ +
                           "'; expected a String*, Numeric*, Date*, Bool, BinaryEquals, "
                           "IpAddress, NotIpAddress, Arn* or Null operator, optionally with "
                           "ForAllValues:/ForAnyValue: and an IfExists suffix");
  }
  c.family_ = info->family;
  c.compare_ = info->compare;
  c.negated_ = info->negated;
  if (c.family_ == Family::kNull && (c.if_exists_ || c.set_ != SetQualifier::kNone)) {
    return InvalidArgument("condition operator '" + c.op_text_ +
                           "': Null takes no IfExists suffix or set qualifier");
  }

  std::vector<const boost::json::value*> raw;
  if (value.is_array()) {
    for (const auto& v : value.as_array()) raw.push_back(&v);
  } else {
    raw.push_back(&value);
  }
  const std::string where = "condition '" + c.op_text_ + "' key '" + std::string(key) + "'";
  if (raw.empty()) return InvalidArgument(where + ": expected at least one value, got []");
  if (raw.size() > kMaxConditionValues) {
    return InvalidArgument(where + ": more than " + std::to_string(kMaxConditionValues) +
                           " values");
  }
  for (const boost::json::value* v : raw) {
    if (!(v->is_string() || v->is_number() || v->is_bool())) {
      return InvalidArgument(where + ": expected a string, number or boolean value");
    }
    std::string s = ScalarToString(*v);
    switch (c.family_) {
      case Family::kString: {
        auto t = Template::Compile(s, variables, c.compare_ == Compare::kLike);
        if (!t.ok()) return InvalidArgument(where + ": " + t.status().message());
        c.templates_.push_back(std::move(t).value());
        break;
      }
      case Family::kArn: {
        auto a = ArnPattern::Compile(s, variables);
        if (!a.ok()) return InvalidArgument(where + ": " + a.status().message());
        c.arns_.push_back(std::move(a).value());
        break;
      }
      case Family::kNumeric: {
        auto n = ParseNumber(s);
        if (!n) return InvalidArgument(where + ": '" + s + "' is not a number");
        c.numbers_.push_back(*n);
        break;
      }
      case Family::kDate: {
        auto d = ParseAwsDate(s);
        if (!d) {
          return InvalidArgument(where + ": '" + s +
                                 "' is not an ISO 8601 date (2026-01-02T03:04:05Z) or epoch "
                                 "seconds");
        }
        c.dates_ms_.push_back(*d);
        break;
      }
      case Family::kBool:
      case Family::kNull: {
        std::string l = AsciiLower(s);
        if (l != "true" && l != "false") {
          return InvalidArgument(where + ": expected \"true\" or \"false\", got '" + s + "'");
        }
        if (c.family_ == Family::kNull) {
          if (raw.size() != 1) return InvalidArgument(where + ": Null takes exactly one value");
          c.null_expect_absent_ = l == "true";
        } else {
          c.bools_.push_back(l == "true");
        }
        break;
      }
      case Family::kBinary: {
        auto b = DecodeBase64(s);
        if (!b) return InvalidArgument(where + ": '" + s + "' is not base64");
        c.binaries_.push_back(std::move(*b));
        break;
      }
      case Family::kIpAddress: {
        auto cidr = Cidr::Parse(s);
        if (!cidr.ok()) {
          return InvalidArgument(where + ": '" + s + "' is not an IP address or CIDR block");
        }
        c.cidrs_.push_back(std::move(cidr).value());
        break;
      }
    }
  }
  return c;
}

bool Condition::MatchPositive(std::string_view rv, size_t i, const RequestContext& ctx,
                              bool* unresolved) const {
  switch (family_) {
    case Family::kString: {
      std::optional<Template::Resolved> storage;
      const Template::Resolved* r = templates_[i].ResolveCached(ctx, storage);
      if (!r) {
        *unresolved = true;
        return false;
      }
      bool ignore = compare_ == Compare::kEqualsIgnoreCase;
      if (compare_ == Compare::kLike) return MatchResolved(*r, rv, false);
      if (r->text.size() != rv.size()) return false;
      return ignore ? EqualsIgnoreCase(r->text, rv) : r->text == rv;
    }
    case Family::kArn: {
      auto m = arns_[i].Matches(rv, ctx);
      if (m == ArnPattern::Match::kUnresolved) *unresolved = true;
      return m == ArnPattern::Match::kMatch;
    }
    case Family::kNumeric: {
      auto n = ParseNumber(rv);
      return n && CompareOrdered(compare_, *n, numbers_[i]);
    }
    case Family::kDate: {
      auto d = ParseAwsDate(rv);
      return d && CompareOrdered(compare_, *d, dates_ms_[i]);
    }
    case Family::kBool: {
      std::string l = AsciiLower(rv);
      return (l == "true" || l == "false") && (l == "true") == bools_[i];
    }
    case Family::kBinary: {
      auto b = DecodeBase64(rv);
      return b && *b == binaries_[i];
    }
    case Family::kIpAddress: {
      auto ip = IpAddress::Parse(rv);
      return ip.ok() && cidrs_[i].Contains(*ip);
    }
    case Family::kNull:
      return false;
  }
  return false;
}

// Whether one request value satisfies the operator against the whole policy value list:
// positive operators need any policy value to match; negated ones need none to match.
bool Condition::MatchOne(std::string_view rv, const RequestContext& ctx, bool* unresolved) const {
  size_t n = 0;
  switch (family_) {
    case Family::kString:
      n = templates_.size();
      break;
    case Family::kArn:
      n = arns_.size();
      break;
    case Family::kNumeric:
      n = numbers_.size();
      break;
    case Family::kDate:
      n = dates_ms_.size();
      break;
    case Family::kBool:
      n = bools_.size();
      break;
    case Family::kBinary:
      n = binaries_.size();
      break;
    case Family::kIpAddress:
      n = cidrs_.size();
      break;
    case Family::kNull:
      n = 0;
      break;
  }
  bool any = false;
  for (size_t i = 0; i < n && !any; ++i) any = MatchPositive(rv, i, ctx, unresolved);
  return negated_ ? !any : any;
}

bool Condition::Evaluate(const RequestContext& ctx) const {
  const std::vector<std::string>* values = ctx.Find(key_);
  if (family_ == Family::kNull) {
    bool absent = values == nullptr || values->empty();
    return absent == null_expect_absent_;
  }
  bool missing = values == nullptr || values->empty();
  if (missing) {
    if (if_exists_) return true;
    switch (set_) {
      case SetQualifier::kForAllValues:
        return true;  // vacuously true: every one of zero values matches
      case SetQualifier::kForAnyValue:
        return false;
      case SetQualifier::kNone:
        // AWS: a missing key does not match; negated operators therefore evaluate to true.
        return negated_;
    }
  }
  bool unresolved = false;
  bool result;
  if (set_ == SetQualifier::kForAllValues) {
    result = true;
    for (const std::string& v : *values) {
      if (!MatchOne(v, ctx, &unresolved)) {
        result = false;
        break;
      }
    }
  } else {
    // ForAnyValue, and a plain operator applied to a multi-valued key: any value may satisfy.
    result = false;
    for (const std::string& v : *values) {
      if (MatchOne(v, ctx, &unresolved)) {
        result = true;
        break;
      }
    }
  }
  // A policy variable with no value makes the condition fail, whatever the operator.
  if (unresolved) return false;
  return result;
}

}  // namespace perimeter::policy
