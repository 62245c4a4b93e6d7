#pragma once

// Compiled pieces of the AWS IAM policy language that are evaluated against a request:
// string templates with policy variables, ARN patterns, and Condition operators.
// Everything here is immutable after compilation and safe to share between threads.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "common/cidr.h"
#include "common/status.h"

namespace perimeter::policy {

// The request context: condition keys (looked up case-insensitively) to one or more values.
class RequestContext {
 public:
  RequestContext() = default;
  // Keys are folded to lower case; a later duplicate key (differing only in case) replaces.
  void Set(std::string_view key, std::vector<std::string> values);
  // nullptr when the key is absent. An empty vector is a present-but-empty multi-valued key.
  const std::vector<std::string>* Find(std::string_view key) const;

 private:
  // ASCII case-insensitive ordering, transparent so lookups need no lower-cased copy.
  struct KeyLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  std::map<std::string, std::vector<std::string>, KeyLess> values_;
};

// A string from a policy with ${...} variables and (optionally) '*' / '?' wildcards, split once
// at compile time. Variables: ${aws:username}, ${aws:PrincipalTag/team}, ${key, 'default'};
// escapes ${*} ${?} ${$} produce the literal character.
class Template {
 public:
  // `variables` false (policy Version 2008-10-17) treats "${...}" as literal text.
  // `wildcards` false (StringEquals etc.) makes '*' and '?' literal.
  static Result<Template> Compile(std::string_view text, bool variables, bool wildcards);

  // Resolves variables against `ctx`. Returns nullopt when a variable has no single value in the
  // context and no default: AWS then treats the element as not matching.
  // The result is a pattern string plus, per byte, whether it is a wildcard.
  struct Resolved {
    std::string text;
    std::vector<bool> wild;
  };
  std::optional<Resolved> Resolve(const RequestContext& ctx) const;
  // The same, without work for a template that has no variables (resolved once at compile
  // time): returns a pointer to the resolved form, or null when unresolved. `storage` holds the
  // result for templates with variables.
  const Resolved* ResolveCached(const RequestContext& ctx, std::optional<Resolved>& storage) const;

  // Splits at the first `max_parts - 1` literal ':' characters (never inside a variable).
  std::vector<Template> SplitOnColons(size_t max_parts) const;

  bool has_variables() const { return has_variables_; }

 private:
  struct Part {
    enum Kind { kLiteral, kStar, kQuestion, kVariable } kind;
    std::string text;  // literal text, or lower-cased variable key
    std::optional<std::string> default_value;
  };
  void Freeze();  // precomputes fixed_ when there are no variables

  std::vector<Part> parts_;
  bool has_variables_ = false;
  std::shared_ptr<const Resolved> fixed_;
};

// Glob match of a resolved pattern: wildcard '*' matches any run, '?' one byte.
bool MatchResolved(const Template::Resolved& pattern, std::string_view text, bool ignore_case);

// An ARN pattern as used by Resource / NotResource and the Arn* operators: when the pattern has
// all six colon-separated components each is matched separately, so a wildcard never crosses a
// ':' between components (the last component, the resource id, may itself contain ':').
// A pattern with fewer components ("*") is matched as a whole string.
class ArnPattern {
 public:
  static Result<ArnPattern> Compile(std::string_view text, bool variables);
  enum class Match { kMatch, kNoMatch, kUnresolved };
  Match Matches(std::string_view arn, const RequestContext& ctx) const;

 private:
  std::vector<Template> parts_;  // 6 parts, or 1 whole-string part
};

// One Condition block entry: operator + key + values, e.g.
// "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}.
class Condition {
 public:
  enum class Family { kString, kNumeric, kDate, kBool, kBinary, kIpAddress, kArn, kNull };
  enum class Compare {
    kEquals,
    kEqualsIgnoreCase,
    kLike,
    kLessThan,
    kLessThanEquals,
    kGreaterThan,
    kGreaterThanEquals
  };
  enum class SetQualifier { kNone, kForAllValues, kForAnyValue };

  // `op` as written in the policy; `value` is a string, number, bool or an array of them.
  static Result<Condition> Compile(std::string_view op, std::string_view key,
                                   const boost::json::value& value, bool variables);

  // AWS semantics: multiple values are OR-ed (negated operators: none may match); a missing
  // key fails positive operators and satisfies negated ones; ...IfExists makes a missing key
  // pass; ForAllValues passes on a missing/empty key, ForAnyValue fails on one.
  bool Evaluate(const RequestContext& ctx) const;

  const std::string& op_text() const { return op_text_; }
  const std::string& key() const { return key_; }

 private:
  bool MatchOne(std::string_view request_value, const RequestContext& ctx, bool* unresolved) const;
  bool MatchPositive(std::string_view request_value, size_t i, const RequestContext& ctx,
                     bool* unresolved) const;

  std::string op_text_;
  std::string key_;  // lower-cased
  Family family_ = Family::kString;
  Compare compare_ = Compare::kEquals;
  bool negated_ = false;
  bool if_exists_ = false;
  SetQualifier set_ = SetQualifier::kNone;
  bool null_expect_absent_ = false;  // Null: "true" means the key must be absent

  // Per policy value, the compiled form for this family (only the relevant vector is filled).
  std::vector<Template> templates_;    // String
  std::vector<ArnPattern> arns_;       // Arn
  std::vector<double> numbers_;        // Numeric
  std::vector<int64_t> dates_ms_;      // Date
  std::vector<bool> bools_;            // Bool
  std::vector<std::string> binaries_;  // Binary (decoded bytes)
  std::vector<Cidr> cidrs_;            // IpAddress
};

// Parses an AWS date condition value: ISO 8601 ("2026-01-02", "2026-01-02T03:04:05Z",
// "...05.123+01:00") or epoch seconds. Returns milliseconds since the epoch.
std::optional<int64_t> ParseAwsDate(std::string_view text);

}  // namespace perimeter::policy
