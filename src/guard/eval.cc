#include "guard/eval.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <tuple>

#include "common/json_strict.h"

namespace perimeter::guard {
namespace {

namespace json = boost::json;

// Keys are quoted in messages, cut to this many bytes (they come from the line itself).
constexpr size_t kMaxKeyInMessage = 32;

std::string Quoted(std::string_view key) {
  std::string out = "'";
  out.append(key.substr(0, kMaxKeyInMessage));
  if (key.size() > kMaxKeyInMessage) {
    out.append("...");
  }
  out.append("'");
  return out;
}

// Code points of valid UTF-8 (Boost.JSON has already refused invalid UTF-8 in strings).
size_t CodePointCount(std::string_view utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool IsTypeName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A non-negative integer JSON value, or nullopt (negative, fractional, not a number).
std::optional<size_t> Offset(const json::value& v) {
  if (v.is_uint64()) {
    return static_cast<size_t>(v.get_uint64());
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    return static_cast<size_t>(v.get_int64());
  }
  return std::nullopt;
}

Result<LabeledSpan> ParseSpan(const json::value& v, size_t index, size_t text_code_points) {
  const std::string where = "spans[" + std::to_string(index) + "]";
  if (!v.is_object()) {
    return InvalidArgument(where + " must be an object with \"type\", \"start\" and \"end\"");
  }
  const json::object& obj = v.as_object();
  for (const auto& kv : obj) {
    if (kv.key() != "type" && kv.key() != "start" && kv.key() != "end") {
      return InvalidArgument(where + " has unknown key " + Quoted(kv.key()) +
                             "; allowed: \"type\", \"start\", \"end\"");
    }
  }
  LabeledSpan span;
  const json::value* type = obj.if_contains("type");
  if (type == nullptr || !type->is_string()) {
    return InvalidArgument(where + ".type must be a string (an entity name such as \"EMAIL\")");
  }
  span.type = std::string(type->get_string());
  if (!IsTypeName(span.type)) {
    return InvalidArgument(where + ".type must be a non-empty entity name of A-Z, 0-9 and '_'");
  }
  for (const char* key : {"start", "end"}) {
    const json::value* off = obj.if_contains(key);
    std::optional<size_t> value = off == nullptr ? std::nullopt : Offset(*off);
    if (!value) {
      return InvalidArgument(where + "." + key + " must be a non-negative integer (a code-point " +
                             "offset into text)");
    }
    (std::string_view(key) == "start" ? span.start : span.end) = *value;
  }
  if (span.end <= span.start) {
    return InvalidArgument(where + " is empty or reversed: end (" + std::to_string(span.end) +
                           ") must be greater than start (" + std::to_string(span.start) + ")");
  }
  if (span.end > text_code_points) {
    return InvalidArgument(where + ".end (" + std::to_string(span.end) +
                           ") is beyond the text, which has " + std::to_string(text_code_points) +
                           " code points (offsets count code points, not bytes)");
  }
  return span;
}

}  // namespace

Result<LabeledExample> ParseLabeledLine(std::string_view line) {
  json::error_code ec;
  json::value doc = json::parse(line, ec);
  if (ec) {
    return InvalidArgument("labeled line (" + std::to_string(line.size()) +
                           " bytes) is not valid JSON: " + ec.message());
  }
  if (!doc.is_object()) {
    return InvalidArgument("labeled line must be a JSON object with \"text\" and \"spans\"");
  }
  // Boost.JSON keeps the last of repeated keys; a repeated key in a label is a mistake to surface.
  Status unique = CheckNoDuplicateJsonKeys(line);
  if (!unique.ok()) {
    return InvalidArgument("labeled line repeats a key: " + unique.message());
  }
  const json::object& obj = doc.as_object();
  for (const auto& kv : obj) {
    if (kv.key() != "text" && kv.key() != "spans") {
      return InvalidArgument("labeled line has unknown key " + Quoted(kv.key()) +
                             "; allowed: \"text\", \"spans\"");
    }
  }
  const json::value* text = obj.if_contains("text");
  if (text == nullptr || !text->is_string()) {
    return InvalidArgument("labeled line needs \"text\", a string");
  }
  const json::value* spans = obj.if_contains("spans");
  if (spans == nullptr || !spans->is_array()) {
    return InvalidArgument("labeled line needs \"spans\", an array (empty for a negative example)");
  }
  LabeledExample example;
  example.text = std::string(text->get_string());
  const size_t code_points = CodePointCount(example.text);
  const json::array& array = spans->get_array();
  example.spans.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    Result<LabeledSpan> span = ParseSpan(array[i], i, code_points);
    if (!span.ok()) {
      return span.status();
    }
    example.spans.push_back(std::move(span).value());
  }
  return example;
}

double F2(double precision, double recall) {
  const double denominator = 4 * precision + recall;
  return denominator > 0 ? 5 * precision * recall / denominator : 0;
}

std::vector<TypeScore> ScoreSpans(const std::vector<std::vector<LabeledSpan>>& gold,
                                  const std::vector<std::vector<LabeledSpan>>& predicted) {
  std::map<std::string, TypeScore> by_type;
  const std::vector<LabeledSpan> kNone;
  const size_t n = std::max(gold.size(), predicted.size());
  for (size_t i = 0; i < n; ++i) {
    const std::vector<LabeledSpan>& g = i < gold.size() ? gold[i] : kNone;
    const std::vector<LabeledSpan>& p = i < predicted.size() ? predicted[i] : kNone;

    // Candidate pairs: same type, overlap at least half of the longer span.
    struct Pair {
      size_t overlap, gi, pi;
    };
    std::vector<Pair> pairs;
    for (size_t gi = 0; gi < g.size(); ++gi) {
      for (size_t pi = 0; pi < p.size(); ++pi) {
        if (g[gi].type != p[pi].type) {
          continue;
        }
        const size_t lo = std::max(g[gi].start, p[pi].start);
        const size_t hi = std::min(g[gi].end, p[pi].end);
        if (hi <= lo) {
          continue;
        }
        const size_t overlap = hi - lo;
        const size_t longer = std::max(g[gi].end - g[gi].start, p[pi].end - p[pi].start);
        if (2 * overlap >= longer) {
          pairs.push_back({overlap, gi, pi});
        }
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
      return std::make_tuple(b.overlap, a.gi, a.pi) < std::make_tuple(a.overlap, b.gi, b.pi);
    });
    std::vector<bool> gold_matched(g.size(), false);
    std::vector<bool> pred_matched(p.size(), false);
    for (const Pair& pair : pairs) {
      if (gold_matched[pair.gi] || pred_matched[pair.pi]) {
        continue;
      }
      gold_matched[pair.gi] = pred_matched[pair.pi] = true;
      TypeScore& s = by_type[g[pair.gi].type];
      ++s.true_positives;
    }
    for (size_t gi = 0; gi < g.size(); ++gi) {
      if (!gold_matched[gi]) {
        ++by_type[g[gi].type].false_negatives;
      }
    }
    for (size_t pi = 0; pi < p.size(); ++pi) {
      if (!pred_matched[pi]) {
        ++by_type[p[pi].type].false_positives;
      }
    }
  }

  std::vector<TypeScore> out;
  out.reserve(by_type.size());
  for (auto& [type, s] : by_type) {
    s.type = type;
    const size_t predicted_count = s.true_positives + s.false_positives;
    const size_t gold_count = s.true_positives + s.false_negatives;
    s.precision = predicted_count == 0 ? 1.0
                                       : static_cast<double>(s.true_positives) /
                                             static_cast<double>(predicted_count);
    s.recall = gold_count == 0
                   ? 1.0
                   : static_cast<double>(s.true_positives) / static_cast<double>(gold_count);
    s.f2 = F2(s.precision, s.recall);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace perimeter::guard
