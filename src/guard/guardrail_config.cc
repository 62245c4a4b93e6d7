#include "guard/guardrail_config.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

#include "common/json_strict.h"
#include "guard/entity.h"
#include "guard/word_filter.h"

namespace perimeter::guard {
namespace {

namespace json = boost::json;

#define GC_CONCAT_INNER(a, b) a##b
#define GC_CONCAT(a, b) GC_CONCAT_INNER(a, b)
#define GC_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                             \
  if (!result.ok()) {                               \
    return result.status();                         \
  }                                                 \
  lhs = std::move(result).value()
// Assigns the value of a Result expression to `lhs`, or returns its error.
#define GC_ASSIGN_OR_RETURN(lhs, expr) \
  GC_ASSIGN_OR_RETURN_IMPL(GC_CONCAT(gc_result_, __LINE__), lhs, expr)

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<GuardAction> kBlockOrNone[] = {{"BLOCK", GuardAction::kBlock},
                                                  {"NONE", GuardAction::kNone}};
constexpr EnumName<GuardAction> kAnyAction[] = {{"BLOCK", GuardAction::kBlock},
                                                {"ANONYMIZE", GuardAction::kAnonymize},
                                                {"NONE", GuardAction::kNone}};
constexpr EnumName<GuardrailTier> kTiers[] = {{"CLASSIC", GuardrailTier::kClassic},
                                              {"STANDARD", GuardrailTier::kStandard}};
constexpr EnumName<ContentFilterType> kContentFilterTypes[] = {
    {"SEXUAL", ContentFilterType::kSexual},
    {"VIOLENCE", ContentFilterType::kViolence},
    {"HATE", ContentFilterType::kHate},
    {"INSULTS", ContentFilterType::kInsults},
    {"MISCONDUCT", ContentFilterType::kMisconduct},
    {"PROMPT_ATTACK", ContentFilterType::kPromptAttack}};
constexpr EnumName<FilterStrength> kStrengths[] = {{"NONE", FilterStrength::kNone},
                                                   {"LOW", FilterStrength::kLow},
                                                   {"MEDIUM", FilterStrength::kMedium},
                                                   {"HIGH", FilterStrength::kHigh}};
constexpr EnumName<Modality> kModalities[] = {{"TEXT", Modality::kText},
                                              {"IMAGE", Modality::kImage}};
constexpr EnumName<ManagedWordListType> kManagedLists[] = {
    {"PROFANITY", ManagedWordListType::kProfanity}};
constexpr EnumName<GroundingFilterType> kGroundingTypes[] = {
    {"GROUNDING", GroundingFilterType::kGrounding}, {"RELEVANCE", GroundingFilterType::kRelevance}};
constexpr EnumName<bool> kDenyOnly[] = {{"DENY", true}};  // topic type: DENY is the only value

template <typename E, size_t N>
std::string_view NameOf(const EnumName<E> (&table)[N], E value) {
  for (const auto& e : table) {
    if (e.value == value) {
      return e.name;
    }
  }
  return "?";
}

template <typename E>
std::string AllowedList(std::span<const EnumName<E>> table) {
  std::string out;
  for (const auto& e : table) {
    if (!out.empty()) {
      out += ", ";
    }
    out += e.name;
  }
  return out;
}

// A value from the document, quoted for a message: truncated, control characters escaped.
std::string Quote(std::string_view v) {
  constexpr size_t kMax = 64;
  size_t n = std::min(v.size(), kMax);
  while (n > 0 && n < v.size() && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) {
    --n;  // do not cut a UTF-8 sequence
  }
  std::string out = "'";
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7F) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < v.size()) {
    out += "...";
  }
  return out + "'";
}

std::string TypeOf(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
Status Error(const std::string& path, std::string what) {
  return InvalidArgument((path.empty() ? std::string("guardrail definition") : path) + ": " +
                         std::move(what));
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) {
    n += (ch & 0xC0) != 0x80;
  }
  return n;
}

// The members of one JSON object, with its path; refuses members it does not know.
class Fields {
 public:
  static Result<Fields> Open(const json::value& v, std::string path,
                             std::initializer_list<std::string_view> allowed) {
    if (!v.is_object()) {
      return Error(path, "must be an object, got " + TypeOf(v));
    }
    const json::object& o = v.as_object();
    for (const auto& member : o) {
      const std::string_view key(member.key().data(), member.key().size());
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) {
          list += list.empty() ? "" : ", ";
          list += a;
        }
        const std::string quoted = Quote(key);
        return Error(Join(path, quoted.substr(1, quoted.size() - 2)),
                     "unknown field; allowed fields here: " + list);
      }
    }
    return Fields(o, std::move(path));
  }

  // Null when absent or JSON null (AWS treats an explicit null as absent).
  const json::value* Get(std::string_view key) const {
    const json::value* v = o_->if_contains(key);
    return (v == nullptr || v->is_null()) ? nullptr : v;
  }
  std::string Path(std::string_view key) const { return Join(path_, key); }
  const std::string& path() const { return path_; }

 private:
  Fields(const json::object& o, std::string path) : o_(&o), path_(std::move(path)) {}
  const json::object* o_;
  std::string path_;
};

Result<std::string> StringValue(const json::value& v, const std::string& path, size_t min,
                                size_t max) {
  if (!v.is_string()) {
    return Error(path, "must be a string, got " + TypeOf(v));
  }
  std::string s(v.as_string().data(), v.as_string().size());
  const size_t n = CodePoints(s);
  if (n < min || n > max) {
    return Error(path, "must be " + std::to_string(min) + " to " + std::to_string(max) +
                           " characters long, got " + std::to_string(n));
  }
  return s;
}

Result<std::optional<std::string>> OptionalString(const Fields& f, std::string_view key, size_t min,
                                                  size_t max) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return std::optional<std::string>();
  }
  GC_ASSIGN_OR_RETURN(std::string s, StringValue(*v, f.Path(key), min, max));
  return std::optional<std::string>(std::move(s));
}

Result<std::string> RequiredString(const Fields& f, std::string_view key, size_t min, size_t max) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return Error(f.Path(key), "required field is missing");
  }
  return StringValue(*v, f.Path(key), min, max);
}

Result<std::optional<bool>> OptionalBool(const Fields& f, std::string_view key) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return std::optional<bool>();
  }
  if (!v->is_bool()) {
    return Error(f.Path(key), "must be true or false, got " + TypeOf(*v));
  }
  return std::optional<bool>(v->as_bool());
}

template <typename E>
Result<E> EnumValue(const json::value& v, const std::string& path,
                    std::span<const EnumName<E>> table) {
  if (!v.is_string()) {
    return Error(path,
                 "must be a string, got " + TypeOf(v) + "; allowed values: " + AllowedList(table));
  }
  const std::string_view s(v.as_string().data(), v.as_string().size());
  for (const auto& e : table) {
    if (e.name == s) {
      return e.value;
    }
  }
  return Error(path, Quote(s) + " is not allowed; allowed values: " + AllowedList(table));
}

template <typename E>
Result<std::optional<E>> OptionalEnum(const Fields& f, std::string_view key,
                                      std::span<const EnumName<E>> table) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return std::optional<E>();
  }
  GC_ASSIGN_OR_RETURN(E e, EnumValue(*v, f.Path(key), table));
  return std::optional<E>(e);
}

template <typename E>
Result<E> RequiredEnum(const Fields& f, std::string_view key, std::span<const EnumName<E>> table) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return Error(f.Path(key), "required field is missing; allowed values: " + AllowedList(table));
  }
  return EnumValue(*v, f.Path(key), table);
}

// Null when absent; an error when present with a size outside [min, max].
Result<const json::array*> OptionalArray(const Fields& f, std::string_view key, size_t min,
                                         size_t max) {
  const json::value* v = f.Get(key);
  if (v == nullptr) {
    return static_cast<const json::array*>(nullptr);
  }
  if (!v->is_array()) {
    return Error(f.Path(key), "must be an array, got " + TypeOf(*v));
  }
  const size_t n = v->as_array().size();
  if (n < min || n > max) {
    return Error(f.Path(key), "must have " + std::to_string(min) + " to " + std::to_string(max) +
                                  " items, got " + std::to_string(n));
  }
  return &v->as_array();
}

Result<const json::array*> RequiredArray(const Fields& f, std::string_view key, size_t min,
                                         size_t max) {
  if (f.Get(key) == nullptr) {
    return Error(f.Path(key), "required field is missing");
  }
  return OptionalArray(f, key, min, max);
}

bool AllChars(std::string_view s, const std::function<bool(char)>& ok) {
  return std::all_of(s.begin(), s.end(), ok);
}
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnumDash(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// "arn:aws[-partition]:<service>:<region>:<12-digit account>:" followed by the rest; returns the
// rest, or nullopt. `region_ok` checks the region.
std::optional<std::string_view> ArnRest(std::string_view s, std::string_view service,
                                        const std::function<bool(std::string_view)>& region_ok) {
  constexpr std::string_view kPrefix = "arn:aws";
  if (s.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  s.remove_prefix(kPrefix.size());
  if (!s.empty() && s.front() == '-') {  // (-[^:]+)?
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon < 2) {
      return std::nullopt;
    }
    s.remove_prefix(colon);
  }
  const std::string head = ":" + std::string(service) + ":";
  if (s.substr(0, head.size()) != head) {
    return std::nullopt;
  }
  s.remove_prefix(head.size());
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || !region_ok(s.substr(0, colon))) {
    return std::nullopt;
  }
  s.remove_prefix(colon + 1);
  if (s.size() < 13 || !AllChars(s.substr(0, 12), IsDigit) || s[12] != ':') {
    return std::nullopt;
  }
  return s.substr(13);
}

// [a-z0-9-]+[.]guardrail[.]v[0-9:]+
bool IsGuardrailProfileId(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == 0 || dot == std::string_view::npos || !AllChars(s.substr(0, dot), IsLowerAlnumDash)) {
    return false;
  }
  constexpr std::string_view kMiddle = ".guardrail.v";
  if (s.substr(dot, kMiddle.size()) != kMiddle) {
    return false;
  }
  const std::string_view version = s.substr(dot + kMiddle.size());
  return !version.empty() && AllChars(version, [](char c) { return IsDigit(c) || c == ':'; });
}

bool IsBedrockRegion(std::string_view r) {
  return !r.empty() && r.size() <= 20 && AllChars(r, IsLowerAlnumDash);
}

bool IsGuardrailProfileIdentifier(std::string_view s) {
  if (IsGuardrailProfileId(s)) {
    return true;
  }
  auto rest = ArnRest(s, "bedrock", IsBedrockRegion);
  constexpr std::string_view kResource = "guardrail-profile/";
  return rest && rest->substr(0, kResource.size()) == kResource &&
         IsGuardrailProfileId(rest->substr(kResource.size()));
}

bool IsKmsKeyUuid(std::string_view s) {
  return s.size() == 36 && AllChars(s, [](char c) { return IsAlnum(c) || c == '-'; });
}
bool IsKmsAlias(std::string_view s) {
  constexpr std::string_view kAlias = "alias/";
  if (s.substr(0, kAlias.size()) != kAlias || s.size() == kAlias.size()) {
    return false;
  }
  return AllChars(s.substr(kAlias.size()),
                  [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '/'; });
}
// Bedrock's kmsKeyId: key id, alias name, key ARN or alias ARN.
bool IsKmsKeyIdentifier(std::string_view s) {
  if (IsKmsKeyUuid(s) || IsKmsAlias(s)) {
    return true;
  }
  auto rest = ArnRest(s, "kms", [](std::string_view r) {
    return AllChars(r, [](char c) { return IsAlnum(c) || c == '-'; });
  });
  if (!rest) {
    return false;
  }
  constexpr std::string_view kKey = "key/";
  if (rest->substr(0, kKey.size()) == kKey) {
    return IsKmsKeyUuid(rest->substr(kKey.size()));
  }
  return IsKmsAlias(*rest);
}

// [a-zA-Z0-9](-*[a-zA-Z0-9])*
bool IsClientRequestToken(std::string_view s) {
  return !s.empty() && IsAlnum(s.front()) && IsAlnum(s.back()) &&
         AllChars(s, [](char c) { return IsAlnum(c) || c == '-'; });
}

// [a-zA-Z0-9\s._:/=+@-]*
bool IsTagText(std::string_view s) {
  return AllChars(s, [](char c) {
    return IsAlnum(c) || std::string_view(" \t\n\v\f\r._:/=+@-").find(c) != std::string_view::npos;
  });
}

struct Directions {
  GuardAction input_action;
  GuardAction output_action;
  bool input_enabled;
  bool output_enabled;
};

Result<Directions> ReadDirections(const Fields& f, std::span<const EnumName<GuardAction>> allowed,
                                  GuardAction default_action) {
  GC_ASSIGN_OR_RETURN(auto input_action, OptionalEnum(f, "inputAction", allowed));
  GC_ASSIGN_OR_RETURN(auto output_action, OptionalEnum(f, "outputAction", allowed));
  GC_ASSIGN_OR_RETURN(auto input_enabled, OptionalBool(f, "inputEnabled"));
  GC_ASSIGN_OR_RETURN(auto output_enabled, OptionalBool(f, "outputEnabled"));
  return Directions{input_action.value_or(default_action), output_action.value_or(default_action),
                    input_enabled.value_or(true), output_enabled.value_or(true)};
}

template <typename T>
void SetDirections(const Directions& d, T* out) {
  out->input_action = d.input_action;
  out->output_action = d.output_action;
  out->input_enabled = d.input_enabled;
  out->output_enabled = d.output_enabled;
}

#define GC_DIRECTION_FIELDS "inputAction", "outputAction", "inputEnabled", "outputEnabled"

Result<GuardrailTier> ReadTier(const Fields& parent) {
  const json::value* v = parent.Get("tierConfig");
  if (v == nullptr) {
    return GuardrailTier::kClassic;
  }
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(*v, parent.Path("tierConfig"), {"tierName"}));
  return RequiredEnum<GuardrailTier>(f, "tierName", kTiers);
}

Result<TopicPolicyConfig> ParseTopicPolicy(const json::value& v, const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"topicsConfig", "tierConfig"}));
  TopicPolicyConfig out;
  GC_ASSIGN_OR_RETURN(const json::array* topics, RequiredArray(f, "topicsConfig", 1, kMaxTopics));
  std::set<std::string> names;
  for (size_t i = 0; i < topics->size(); ++i) {
    const std::string tpath = Index(f.Path("topicsConfig"), i);
    GC_ASSIGN_OR_RETURN(
        Fields t, Fields::Open((*topics)[i], tpath,
                               {"name", "definition", "examples", "type", GC_DIRECTION_FIELDS}));
    TopicConfig topic;
    GC_ASSIGN_OR_RETURN(topic.name, RequiredString(t, "name", 1, 100));
    if (!AllChars(topic.name, [](char c) {
          return IsAlnum(c) || std::string_view("-_ !?.").find(c) != std::string_view::npos;
        })) {
      return Error(t.Path("name"),
                   "may contain only letters, digits, spaces and the characters - _ ! ? .");
    }
    if (!names.insert(AsciiLower(topic.name)).second) {
      return Error(t.Path("name"), "topic " + Quote(topic.name) +
                                       " is defined more than once; topic names must be unique");
    }
    GC_ASSIGN_OR_RETURN(topic.definition, RequiredString(t, "definition", 1, 200));
    GC_ASSIGN_OR_RETURN(const json::array* examples,
                        OptionalArray(t, "examples", 0, kMaxTopicExamples));
    if (examples != nullptr) {
      for (size_t k = 0; k < examples->size(); ++k) {
        GC_ASSIGN_OR_RETURN(std::string example,
                            StringValue((*examples)[k], Index(t.Path("examples"), k), 1, 100));
        topic.examples.push_back(std::move(example));
      }
    }
    PERIMETER_RETURN_IF_ERROR(RequiredEnum<bool>(t, "type", kDenyOnly).status());
    GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(t, kBlockOrNone, GuardAction::kBlock));
    SetDirections(d, &topic);
    out.topics.push_back(std::move(topic));
  }
  GC_ASSIGN_OR_RETURN(out.tier, ReadTier(f));
  return out;
}

Result<std::vector<Modality>> ReadModalities(const Fields& f, std::string_view key) {
  GC_ASSIGN_OR_RETURN(const json::array* a, OptionalArray(f, key, 1, std::size(kModalities)));
  if (a == nullptr) {
    return std::vector<Modality>{Modality::kText};
  }
  std::vector<Modality> out;
  for (size_t i = 0; i < a->size(); ++i) {
    GC_ASSIGN_OR_RETURN(Modality m,
                        EnumValue<Modality>((*a)[i], Index(f.Path(key), i), kModalities));
    if (std::find(out.begin(), out.end(), m) != out.end()) {
      return Error(Index(f.Path(key), i),
                   std::string(ModalityName(m)) + " is listed more than once");
    }
    out.push_back(m);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ContentPolicyConfig> ParseContentPolicy(const json::value& v, const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"filtersConfig", "tierConfig"}));
  ContentPolicyConfig out;
  GC_ASSIGN_OR_RETURN(const json::array* filters,
                      RequiredArray(f, "filtersConfig", 1, kMaxContentFilters));
  for (size_t i = 0; i < filters->size(); ++i) {
    GC_ASSIGN_OR_RETURN(Fields c,
                        Fields::Open((*filters)[i], Index(f.Path("filtersConfig"), i),
                                     {"type", "inputStrength", "outputStrength", "inputModalities",
                                      "outputModalities", GC_DIRECTION_FIELDS}));
    ContentFilterConfig filter;
    GC_ASSIGN_OR_RETURN(filter.type,
                        RequiredEnum<ContentFilterType>(c, "type", kContentFilterTypes));
    for (const auto& other : out.filters) {
      if (other.type == filter.type) {
        return Error(c.Path("type"), std::string(ContentFilterTypeName(filter.type)) +
                                         " is configured more than once; each content filter "
                                         "type may appear once");
      }
    }
    GC_ASSIGN_OR_RETURN(filter.input_strength,
                        RequiredEnum<FilterStrength>(c, "inputStrength", kStrengths));
    GC_ASSIGN_OR_RETURN(filter.output_strength,
                        RequiredEnum<FilterStrength>(c, "outputStrength", kStrengths));
    if (filter.type == ContentFilterType::kPromptAttack &&
        filter.output_strength != FilterStrength::kNone) {
      return Error(c.Path("outputStrength"),
                   "must be NONE for PROMPT_ATTACK (prompt attacks are detected in inputs only)");
    }
    GC_ASSIGN_OR_RETURN(filter.input_modalities, ReadModalities(c, "inputModalities"));
    GC_ASSIGN_OR_RETURN(filter.output_modalities, ReadModalities(c, "outputModalities"));
    GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(c, kBlockOrNone, GuardAction::kBlock));
    SetDirections(d, &filter);
    out.filters.push_back(std::move(filter));
  }
  GC_ASSIGN_OR_RETURN(out.tier, ReadTier(f));
  return out;
}

Result<WordPolicyConfig> ParseWordPolicy(const json::value& v, const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"wordsConfig", "managedWordListsConfig"}));
  WordPolicyConfig out;
  GC_ASSIGN_OR_RETURN(const json::array* words, OptionalArray(f, "wordsConfig", 1, kMaxWords));
  GC_ASSIGN_OR_RETURN(const json::array* lists,
                      OptionalArray(f, "managedWordListsConfig", 1, std::size(kManagedLists)));
  if (words == nullptr && lists == nullptr) {
    return Error(path, "needs wordsConfig, managedWordListsConfig or both");
  }
  if (words != nullptr) {
    std::unordered_map<std::string, size_t> seen;
    seen.reserve(words->size());
    for (size_t i = 0; i < words->size(); ++i) {
      const std::string wpath = Index(f.Path("wordsConfig"), i);
      GC_ASSIGN_OR_RETURN(Fields w,
                          Fields::Open((*words)[i], wpath, {"text", GC_DIRECTION_FIELDS}));
      WordConfig word;
      GC_ASSIGN_OR_RETURN(word.text, RequiredString(w, "text", 1, kMaxWordCodePoints));
      std::string folded = internal::FoldWordForMatching(word.text);
      if (folded.empty()) {
        return Error(w.Path("text"), "has no visible character; give a word or phrase to match");
      }
      auto [it, inserted] = seen.emplace(std::move(folded), i);
      if (!inserted) {
        return Error(w.Path("text"), "is the same word as wordsConfig[" +
                                         std::to_string(it->second) +
                                         "] (words match case-insensitively, after Unicode "
                                         "normalization, with any white space between words)");
      }
      GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(w, kBlockOrNone, GuardAction::kBlock));
      SetDirections(d, &word);
      out.words.push_back(std::move(word));
    }
  }
  if (lists != nullptr) {
    for (size_t i = 0; i < lists->size(); ++i) {
      GC_ASSIGN_OR_RETURN(Fields m,
                          Fields::Open((*lists)[i], Index(f.Path("managedWordListsConfig"), i),
                                       {"type", GC_DIRECTION_FIELDS}));
      ManagedWordListConfig list;
      GC_ASSIGN_OR_RETURN(list.type, RequiredEnum<ManagedWordListType>(m, "type", kManagedLists));
      for (const auto& other : out.managed_word_lists) {
        if (other.type == list.type) {
          return Error(m.Path("type"), "PROFANITY is configured more than once");
        }
      }
      GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(m, kBlockOrNone, GuardAction::kBlock));
      SetDirections(d, &list);
      out.managed_word_lists.push_back(list);
    }
  }
  return out;
}

std::string EntityNames() {
  std::string out;
  for (const EntityInfo& e : Entities()) {
    out += out.empty() ? "" : ", ";
    out += e.name;
  }
  return out;
}

Result<SensitiveInformationPolicyConfig> ParseSensitiveInformationPolicy(const json::value& v,
                                                                         const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"piiEntitiesConfig", "regexesConfig"}));
  SensitiveInformationPolicyConfig out;
  GC_ASSIGN_OR_RETURN(const json::array* entities,
                      OptionalArray(f, "piiEntitiesConfig", 1, Entities().size()));
  GC_ASSIGN_OR_RETURN(const json::array* regexes,
                      OptionalArray(f, "regexesConfig", 1, kMaxRegexes));
  if (entities == nullptr && regexes == nullptr) {
    return Error(path, "needs piiEntitiesConfig, regexesConfig or both");
  }
  if (entities != nullptr) {
    for (size_t i = 0; i < entities->size(); ++i) {
      GC_ASSIGN_OR_RETURN(Fields e,
                          Fields::Open((*entities)[i], Index(f.Path("piiEntitiesConfig"), i),
                                       {"type", "action", GC_DIRECTION_FIELDS}));
      PiiEntityConfig entity;
      const json::value* type = e.Get("type");
      if (type == nullptr) {
        return Error(e.Path("type"), "required field is missing; allowed values: " + EntityNames());
      }
      if (!type->is_string()) {
        return Error(e.Path("type"), "must be a string, got " + TypeOf(*type));
      }
      entity.type = std::string(type->as_string().data(), type->as_string().size());
      const EntityInfo* info = FindEntity(entity.type);
      if (info == nullptr) {
        return Error(
            e.Path("type"),
            Quote(entity.type) + " is not a known entity type; allowed values: " + EntityNames());
      }
      for (const auto& other : out.pii_entities) {
        if (other.type == entity.type) {
          return Error(e.Path("type"), entity.type +
                                           " is configured more than once; each entity type "
                                           "may appear once");
        }
      }
      GC_ASSIGN_OR_RETURN(entity.action, RequiredEnum<GuardAction>(e, "action", kAnyAction));
      GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(e, kAnyAction, entity.action));
      SetDirections(d, &entity);
      if (!info->detectable && (entity.input_enabled || entity.output_enabled)) {
        return Error(e.Path("type"),
                     entity.type +
                         " is a Bedrock type that Perimeter cannot detect yet (it needs a "
                         "statistical detector); remove it, or set inputEnabled and "
                         "outputEnabled to false");
      }
      out.pii_entities.push_back(std::move(entity));
    }
  }
  if (regexes != nullptr) {
    std::set<std::string> names;
    for (size_t i = 0; i < regexes->size(); ++i) {
      GC_ASSIGN_OR_RETURN(Fields r, Fields::Open((*regexes)[i], Index(f.Path("regexesConfig"), i),
                                                 {"name", "description", "pattern", "action",
                                                  GC_DIRECTION_FIELDS}));
      RegexConfig regex;
      GC_ASSIGN_OR_RETURN(regex.name, RequiredString(r, "name", 1, 100));
      if (!names.insert(AsciiLower(regex.name)).second) {
        return Error(r.Path("name"), "regex " + Quote(regex.name) +
                                         " is defined more than once; regex names must be unique");
      }
      GC_ASSIGN_OR_RETURN(regex.description, OptionalString(r, "description", 1, 1000));
      GC_ASSIGN_OR_RETURN(regex.pattern, RequiredString(r, "pattern", 1, 500));
      GC_ASSIGN_OR_RETURN(regex.action, RequiredEnum<GuardAction>(r, "action", kAnyAction));
      GC_ASSIGN_OR_RETURN(Directions d, ReadDirections(r, kAnyAction, regex.action));
      SetDirections(d, &regex);
      out.regexes.push_back(std::move(regex));
    }
  }
  return out;
}

// Thresholds are kept to 6 decimal places so that Parse(Serialize(x)) is exact whatever the
// JSON library's decimal conversion does in the last bit.
double QuantizeThreshold(double x) { return std::round(x * 1e6) / 1e6 + 0.0; }

Result<ContextualGroundingPolicyConfig> ParseContextualGroundingPolicy(const json::value& v,
                                                                       const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"filtersConfig"}));
  ContextualGroundingPolicyConfig out;
  GC_ASSIGN_OR_RETURN(const json::array* filters,
                      RequiredArray(f, "filtersConfig", 1, std::size(kGroundingTypes)));
  for (size_t i = 0; i < filters->size(); ++i) {
    GC_ASSIGN_OR_RETURN(Fields g, Fields::Open((*filters)[i], Index(f.Path("filtersConfig"), i),
                                               {"type", "threshold", "action", "enabled"}));
    GroundingFilterConfig filter;
    GC_ASSIGN_OR_RETURN(filter.type, RequiredEnum<GroundingFilterType>(g, "type", kGroundingTypes));
    for (const auto& other : out.filters) {
      if (other.type == filter.type) {
        return Error(g.Path("type"), std::string(GroundingFilterTypeName(filter.type)) +
                                         " is configured more than once");
      }
    }
    const json::value* threshold = g.Get("threshold");
    if (threshold == nullptr) {
      return Error(g.Path("threshold"), "required field is missing; give a number from 0 to 0.99");
    }
    if (!threshold->is_number()) {
      return Error(g.Path("threshold"),
                   "must be a number from 0 to 0.99, got " + TypeOf(*threshold));
    }
    const double t = threshold->to_number<double>();
    if (!(t >= 0 && t <= 0.99)) {
      return Error(g.Path("threshold"),
                   "must be from 0 to 0.99, got " + json::serialize(*threshold));
    }
    filter.threshold = QuantizeThreshold(t);
    GC_ASSIGN_OR_RETURN(auto action, OptionalEnum<GuardAction>(g, "action", kBlockOrNone));
    filter.action = action.value_or(GuardAction::kBlock);
    GC_ASSIGN_OR_RETURN(auto enabled, OptionalBool(g, "enabled"));
    filter.enabled = enabled.value_or(true);
    out.filters.push_back(filter);
  }
  return out;
}

Result<CrossRegionConfig> ParseCrossRegion(const json::value& v, const std::string& path) {
  GC_ASSIGN_OR_RETURN(Fields f, Fields::Open(v, path, {"guardrailProfileIdentifier"}));
  CrossRegionConfig out;
  GC_ASSIGN_OR_RETURN(out.guardrail_profile_identifier,
                      RequiredString(f, "guardrailProfileIdentifier", 15, 2048));
  if (!IsGuardrailProfileIdentifier(out.guardrail_profile_identifier)) {
    return Error(f.Path("guardrailProfileIdentifier"),
                 Quote(out.guardrail_profile_identifier) +
                     " is not a guardrail profile id (e.g. 'us.guardrail.v1:0') or a "
                     "guardrail-profile ARN");
  }
  return out;
}

Result<std::vector<GuardrailTag>> ParseTags(const Fields& f) {
  GC_ASSIGN_OR_RETURN(const json::array* tags, OptionalArray(f, "tags", 0, kMaxTags));
  std::vector<GuardrailTag> out;
  if (tags == nullptr) {
    return out;
  }
  for (size_t i = 0; i < tags->size(); ++i) {
    GC_ASSIGN_OR_RETURN(Fields t,
                        Fields::Open((*tags)[i], Index(f.Path("tags"), i), {"key", "value"}));
    GuardrailTag tag;
    GC_ASSIGN_OR_RETURN(tag.key, RequiredString(t, "key", 1, 128));
    GC_ASSIGN_OR_RETURN(tag.value, RequiredString(t, "value", 0, 256));
    constexpr std::string_view kAllowed =
        "may contain only letters, digits, white space and the characters . _ : / = + @ -";
    if (!IsTagText(tag.key)) {
      return Error(t.Path("key"), std::string(kAllowed));
    }
    if (!IsTagText(tag.value)) {
      return Error(t.Path("value"), std::string(kAllowed));
    }
    for (const auto& other : out) {
      if (other.key == tag.key) {
        return Error(t.Path("key"), "tag " + Quote(tag.key) + " is given more than once");
      }
    }
    out.push_back(std::move(tag));
  }
  return out;
}

// Serialization helpers.
template <typename T>
void PutDirections(json::object& o, const T& c) {
  o["inputAction"] = GuardActionName(c.input_action);
  o["outputAction"] = GuardActionName(c.output_action);
  o["inputEnabled"] = c.input_enabled;
  o["outputEnabled"] = c.output_enabled;
}

json::object TierObject(GuardrailTier tier) {
  json::object o;
  o["tierName"] = GuardrailTierName(tier);
  return o;
}

// json::serialize writes doubles in exponent form ("7E-1"); thresholds read better as "0.7".
// std::to_chars gives the shortest text that reads back to the same double.
void Write(const json::value& v, std::string* out) {
  switch (v.kind()) {
    case json::kind::double_: {
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof(buf), v.get_double());
      out->append(buf, r.ptr);
      return;
    }
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) {
          out->push_back(',');
        }
        first = false;
        Write(e, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& member : v.get_object()) {
        if (!first) {
          out->push_back(',');
        }
        first = false;
        *out += json::serialize(json::string(member.key()));
        out->push_back(':');
        Write(member.value(), out);
      }
      out->push_back('}');
      return;
    }
    default:
      *out += json::serialize(v);
  }
}

json::array ModalityArray(const std::vector<Modality>& modalities) {
  json::array a;
  for (Modality m : modalities) {
    a.emplace_back(ModalityName(m));
  }
  return a;
}

}  // namespace

std::string_view GuardActionName(GuardAction action) { return NameOf(kAnyAction, action); }
std::string_view GuardrailTierName(GuardrailTier tier) { return NameOf(kTiers, tier); }
std::string_view ContentFilterTypeName(ContentFilterType type) {
  return NameOf(kContentFilterTypes, type);
}
std::string_view FilterStrengthName(FilterStrength strength) {
  return NameOf(kStrengths, strength);
}
std::string_view ModalityName(Modality modality) { return NameOf(kModalities, modality); }
std::string_view GroundingFilterTypeName(GroundingFilterType type) {
  return NameOf(kGroundingTypes, type);
}

Result<GuardrailDefinition> ParseGuardrailDefinition(std::string_view text) {
  if (text.size() > kMaxGuardrailDefinitionBytes) {
    return InvalidArgument("guardrail definition is " + std::to_string(text.size()) +
                           " bytes; at most " + std::to_string(kMaxGuardrailDefinitionBytes) +
                           " are allowed");
  }
  PERIMETER_RETURN_IF_ERROR(CheckNoDuplicateJsonKeys(text));
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  const json::value root =
      json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) {
    return InvalidArgument("guardrail definition is not valid JSON: " + ec.message());
  }
  GC_ASSIGN_OR_RETURN(
      Fields f,
      Fields::Open(root, "",
                   {"name", "description", "topicPolicyConfig", "contentPolicyConfig",
                    "wordPolicyConfig", "sensitiveInformationPolicyConfig",
                    "contextualGroundingPolicyConfig", "automatedReasoningPolicyConfig",
                    "crossRegionConfig", "blockedInputMessaging", "blockedOutputsMessaging",
                    "kmsKeyId", "tags", "clientRequestToken", "perimeterOutputPolicyConfig"}));
  GuardrailDefinition d;
  GC_ASSIGN_OR_RETURN(d.name, RequiredString(f, "name", 1, 50));
  if (!AllChars(d.name, [](char c) { return IsAlnum(c) || c == '-' || c == '_'; })) {
    return Error("name", "may contain only letters, digits, '-' and '_'");
  }
  GC_ASSIGN_OR_RETURN(d.description, OptionalString(f, "description", 1, 200));
  if (const json::value* v = f.Get("topicPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(d.topic_policy, ParseTopicPolicy(*v, "topicPolicyConfig"));
  }
  if (const json::value* v = f.Get("contentPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(d.content_policy, ParseContentPolicy(*v, "contentPolicyConfig"));
  }
  if (const json::value* v = f.Get("wordPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(d.word_policy, ParseWordPolicy(*v, "wordPolicyConfig"));
  }
  if (const json::value* v = f.Get("sensitiveInformationPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(d.sensitive_information_policy,
                        ParseSensitiveInformationPolicy(*v, "sensitiveInformationPolicyConfig"));
  }
  if (const json::value* v = f.Get("contextualGroundingPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(d.contextual_grounding_policy,
                        ParseContextualGroundingPolicy(*v, "contextualGroundingPolicyConfig"));
  }
  if (f.Get("automatedReasoningPolicyConfig") != nullptr) {
    return Error("automatedReasoningPolicyConfig",
                 "is not supported by Perimeter: Automated Reasoning policies are AWS-hosted "
                 "resources that Perimeter cannot evaluate; remove the field");
  }
  if (const json::value* v = f.Get("crossRegionConfig")) {
    GC_ASSIGN_OR_RETURN(d.cross_region, ParseCrossRegion(*v, "crossRegionConfig"));
  }
  GC_ASSIGN_OR_RETURN(d.blocked_input_messaging,
                      RequiredString(f, "blockedInputMessaging", 1, 500));
  GC_ASSIGN_OR_RETURN(d.blocked_outputs_messaging,
                      RequiredString(f, "blockedOutputsMessaging", 1, 500));
  GC_ASSIGN_OR_RETURN(d.kms_key_id, OptionalString(f, "kmsKeyId", 1, 2048));
  if (d.kms_key_id && !IsKmsKeyIdentifier(*d.kms_key_id)) {
    return Error("kmsKeyId", Quote(*d.kms_key_id) +
                                 " is not a KMS key id, key ARN, alias name ('alias/...') or "
                                 "alias ARN");
  }
  GC_ASSIGN_OR_RETURN(d.tags, ParseTags(f));
  if (const json::value* v = f.Get("perimeterOutputPolicyConfig")) {
    GC_ASSIGN_OR_RETURN(Fields p,
                        Fields::Open(*v, "perimeterOutputPolicyConfig", {"piiNotInInputAction"}));
    GC_ASSIGN_OR_RETURN(
        d.pii_not_in_input_action,
        OptionalEnum(p, "piiNotInInputAction", std::span<const EnumName<GuardAction>>(kAnyAction)));
  }
  GC_ASSIGN_OR_RETURN(d.client_request_token, OptionalString(f, "clientRequestToken", 1, 256));
  if (d.client_request_token && !IsClientRequestToken(*d.client_request_token)) {
    return Error("clientRequestToken",
                 "may contain only letters, digits and '-', and must start and end with a letter "
                 "or digit");
  }
  return d;
}

std::string SerializeGuardrailDefinition(const GuardrailDefinition& d) {
  json::object root;
  root["name"] = d.name;
  if (d.description) {
    root["description"] = *d.description;
  }
  if (d.topic_policy) {
    json::array topics;
    for (const TopicConfig& t : d.topic_policy->topics) {
      json::object o;
      o["name"] = t.name;
      o["definition"] = t.definition;
      json::array examples;
      for (const std::string& e : t.examples) {
        examples.emplace_back(e);
      }
      o["examples"] = std::move(examples);
      o["type"] = "DENY";
      PutDirections(o, t);
      topics.emplace_back(std::move(o));
    }
    json::object policy;
    policy["topicsConfig"] = std::move(topics);
    policy["tierConfig"] = TierObject(d.topic_policy->tier);
    root["topicPolicyConfig"] = std::move(policy);
  }
  if (d.content_policy) {
    json::array filters;
    for (const ContentFilterConfig& c : d.content_policy->filters) {
      json::object o;
      o["type"] = ContentFilterTypeName(c.type);
      o["inputStrength"] = FilterStrengthName(c.input_strength);
      o["outputStrength"] = FilterStrengthName(c.output_strength);
      o["inputModalities"] = ModalityArray(c.input_modalities);
      o["outputModalities"] = ModalityArray(c.output_modalities);
      PutDirections(o, c);
      filters.emplace_back(std::move(o));
    }
    json::object policy;
    policy["filtersConfig"] = std::move(filters);
    policy["tierConfig"] = TierObject(d.content_policy->tier);
    root["contentPolicyConfig"] = std::move(policy);
  }
  if (d.word_policy) {
    json::object policy;
    if (!d.word_policy->words.empty()) {
      json::array words;
      for (const WordConfig& w : d.word_policy->words) {
        json::object o;
        o["text"] = w.text;
        PutDirections(o, w);
        words.emplace_back(std::move(o));
      }
      policy["wordsConfig"] = std::move(words);
    }
    if (!d.word_policy->managed_word_lists.empty()) {
      json::array lists;
      for (const ManagedWordListConfig& m : d.word_policy->managed_word_lists) {
        json::object o;
        o["type"] = NameOf(kManagedLists, m.type);
        PutDirections(o, m);
        lists.emplace_back(std::move(o));
      }
      policy["managedWordListsConfig"] = std::move(lists);
    }
    root["wordPolicyConfig"] = std::move(policy);
  }
  if (d.sensitive_information_policy) {
    json::object policy;
    if (!d.sensitive_information_policy->pii_entities.empty()) {
      json::array entities;
      for (const PiiEntityConfig& e : d.sensitive_information_policy->pii_entities) {
        json::object o;
        o["type"] = e.type;
        o["action"] = GuardActionName(e.action);
        PutDirections(o, e);
        entities.emplace_back(std::move(o));
      }
      policy["piiEntitiesConfig"] = std::move(entities);
    }
    if (!d.sensitive_information_policy->regexes.empty()) {
      json::array regexes;
      for (const RegexConfig& r : d.sensitive_information_policy->regexes) {
        json::object o;
        o["name"] = r.name;
        if (r.description) {
          o["description"] = *r.description;
        }
        o["pattern"] = r.pattern;
        o["action"] = GuardActionName(r.action);
        PutDirections(o, r);
        regexes.emplace_back(std::move(o));
      }
      policy["regexesConfig"] = std::move(regexes);
    }
    root["sensitiveInformationPolicyConfig"] = std::move(policy);
  }
  if (d.contextual_grounding_policy) {
    json::array filters;
    for (const GroundingFilterConfig& g : d.contextual_grounding_policy->filters) {
      json::object o;
      o["type"] = GroundingFilterTypeName(g.type);
      o["threshold"] = g.threshold;
      o["action"] = GuardActionName(g.action);
      o["enabled"] = g.enabled;
      filters.emplace_back(std::move(o));
    }
    json::object policy;
    policy["filtersConfig"] = std::move(filters);
    root["contextualGroundingPolicyConfig"] = std::move(policy);
  }
  if (d.cross_region) {
    json::object o;
    o["guardrailProfileIdentifier"] = d.cross_region->guardrail_profile_identifier;
    root["crossRegionConfig"] = std::move(o);
  }
  root["blockedInputMessaging"] = d.blocked_input_messaging;
  root["blockedOutputsMessaging"] = d.blocked_outputs_messaging;
  if (d.kms_key_id) {
    root["kmsKeyId"] = *d.kms_key_id;
  }
  if (!d.tags.empty()) {
    json::array tags;
    for (const GuardrailTag& t : d.tags) {
      json::object o;
      o["key"] = t.key;
      o["value"] = t.value;
      tags.emplace_back(std::move(o));
    }
    root["tags"] = std::move(tags);
  }
  if (d.client_request_token) {
    root["clientRequestToken"] = *d.client_request_token;
  }
  if (d.pii_not_in_input_action) {
    root["perimeterOutputPolicyConfig"] =
        json::object{{"piiNotInInputAction", GuardActionName(*d.pii_not_in_input_action)}};
  }
  std::string out;
  Write(root, &out);
  return out;
}

}  // namespace perimeter::guard
