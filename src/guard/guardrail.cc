#include "guard/guardrail.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "guard/entity.h"
#include "guard/scanner.h"
#include "guard/word_filter.h"

namespace perimeter::guard {

namespace json = boost::json;

struct Guardrail::EntityRule {
  std::string type;
  GuardAction input_action = GuardAction::kNone;
  GuardAction output_action = GuardAction::kNone;
  bool input_enabled = true;
  bool output_enabled = true;
};

struct Guardrail::RegexRule {
  std::string name;
  std::string pattern;
  GuardAction input_action = GuardAction::kNone;
  GuardAction output_action = GuardAction::kNone;
  bool input_enabled = true;
  bool output_enabled = true;
};

struct Guardrail::WordRule {
  std::string text;
  GuardAction input_action = GuardAction::kBlock;
  GuardAction output_action = GuardAction::kBlock;
  bool input_enabled = true;
  bool output_enabled = true;
};

namespace {

constexpr size_t kMaxBlockBytes = 1u << 20;        // one content block
constexpr size_t kMaxTotalBytes = 4u << 20;        // all blocks of one judgement
constexpr uint32_t kCharactersPerTextUnit = 1000;  // Bedrock's text unit

std::string_view AssessedAction(GuardAction a) {
  switch (a) {
    case GuardAction::kBlock:
      return "BLOCKED";
    case GuardAction::kAnonymize:
      return "ANONYMIZED";
    case GuardAction::kNone:
      return "NONE";
  }
  return "NONE";
}

// Letters and digits only, lower-cased (ASCII; other code points kept as they are): the form in
// which an output value is looked for in the input.
std::string Canonical(std::string_view s) {
  // 0: dropped; otherwise the byte to keep (ASCII letters folded to lower case).
  static constexpr std::array<char, 256> kKeep = [] {
    std::array<char, 256> t{};
    for (int c = 0; c < 256; ++c) {
      if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
        t[c] = static_cast<char>(c);
      } else if (c >= 'A' && c <= 'Z') {
        t[c] = static_cast<char>(c - 'A' + 'a');
      }
    }
    return t;
  }();
  std::string out(s.size(), '\0');
  size_t n = 0;
  for (unsigned char c : s) {
    const char k = kKeep[c];
    out[n] = k;
    n += k != 0;
  }
  out.resize(n);
  return out;
}

bool ActiveFor(GuardSource source, bool input_enabled, bool output_enabled) {
  return source == GuardSource::kInput ? input_enabled : output_enabled;
}

GuardAction ActionFor(GuardSource source, GuardAction input, GuardAction output) {
  return source == GuardSource::kInput ? input : output;
}

uint32_t Units(uint64_t characters) {
  return static_cast<uint32_t>((characters + kCharactersPerTextUnit - 1) / kCharactersPerTextUnit);
}

bool HasQualifier(const ContentBlock& b, std::string_view q) {
  return std::find(b.qualifiers.begin(), b.qualifiers.end(), q) != b.qualifiers.end();
}

// A span of a block to replace (anonymize) and with what.
struct Replacement {
  uint32_t begin = 0;
  uint32_t end = 0;
  std::string token;
};

// Policies with no detector in this version are refused by name: a guardrail is never accepted
// and then silently not applied.
Status CheckEnforceable(const GuardrailDefinition& d) {
  if (d.topic_policy && !d.topic_policy->topics.empty()) {
    return FailedPrecondition(
        "topicPolicyConfig (denied topics) is not enforced by this version of Perimeter; the "
        "guardrail is refused rather than accepted and not applied. Remove topicPolicyConfig");
  }
  if (d.content_policy) {
    for (const auto& f : d.content_policy->filters) {
      const bool input = f.input_enabled && f.input_strength != FilterStrength::kNone;
      const bool output = f.output_enabled && f.output_strength != FilterStrength::kNone;
      if (input || output) {
        return FailedPrecondition(
            "contentPolicyConfig filter " + std::string(ContentFilterTypeName(f.type)) +
            " at a strength above NONE is not enforced by this version of Perimeter; the "
            "guardrail is refused rather than accepted and not applied. Set its strengths to "
            "NONE or remove it");
      }
    }
  }
  if (d.contextual_grounding_policy && !d.contextual_grounding_policy->filters.empty()) {
    return FailedPrecondition(
        "contextualGroundingPolicyConfig is not enforced by this version of Perimeter; the "
        "guardrail is refused rather than accepted and not applied. Remove it");
  }
  if (d.sensitive_information_policy) {
    for (const auto& e : d.sensitive_information_policy->pii_entities) {
      const EntityInfo* info = FindEntity(e.type);
      if (info && !info->detectable && (e.input_enabled || e.output_enabled)) {
        return FailedPrecondition(
            "piiEntitiesConfig type " + e.type +
            " needs a statistical detector that this version of Perimeter does not have; the "
            "guardrail is refused rather than accepted and not applied. Remove " +
            e.type);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view GuardSourceName(GuardSource s) {
  return s == GuardSource::kInput ? "INPUT" : "OUTPUT";
}

Result<std::string> PlaceholderAnonymizer::Token(std::string_view entity, std::string_view) {
  return "{" + std::string(entity) + "}";
}

std::string CustomEntityName(std::string_view regex_name) {
  std::string out = "CUSTOM_";
  for (char c : regex_name) {
    if (out.size() >= 64) break;
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_');
  }
  return out;
}

Guardrail::~Guardrail() = default;

Result<std::shared_ptr<const Guardrail>> Guardrail::Compile(std::string id, std::string version,
                                                            const GuardrailDefinition& d) {
  std::shared_ptr<Guardrail> g(new Guardrail());
  g->id_ = std::move(id);
  g->version_ = std::move(version);
  g->definition_ = d;

  // Policies with no detector yet are refused by name rather than accepted and ignored.
  PERIMETER_RETURN_IF_ERROR(CheckEnforceable(d));

  if (d.sensitive_information_policy) {
    for (const auto& e : d.sensitive_information_policy->pii_entities) {
      g->entity_rules_.push_back(
          EntityRule{e.type, e.input_action, e.output_action, e.input_enabled, e.output_enabled});
    }
    for (const auto& r : d.sensitive_information_policy->regexes) {
      g->regex_rules_.push_back(RegexRule{r.name, r.pattern, r.input_action, r.output_action,
                                          r.input_enabled, r.output_enabled});
    }
  }
  bool profanity = false;
  std::vector<std::string> words;
  if (d.word_policy) {
    for (const auto& w : d.word_policy->words) {
      g->word_rules_.push_back(
          WordRule{w.text, w.input_action, w.output_action, w.input_enabled, w.output_enabled});
      words.push_back(w.text);
    }
    for (const auto& m : d.word_policy->managed_word_lists) {
      profanity = true;
      g->managed_rule_ = std::make_unique<WordRule>(WordRule{
          "PROFANITY", m.input_action, m.output_action, m.input_enabled, m.output_enabled});
    }
  }
  g->pii_not_in_input_action_ = d.pii_not_in_input_action.value_or(GuardAction::kBlock);

  // The enforcing scanner looks for the configured types and regexes only, so a finding of a
  // type nobody asked about can never hide (by overlapping) one that was asked for. The
  // cross-tenant rule uses a second scanner over every type (AllTypesScanner).
  ScannerOptions options;
  for (const auto& e : g->entity_rules_) {
    if (e.input_enabled || e.output_enabled) options.types.push_back(e.type);
  }
  for (const auto& r : g->regex_rules_) {
    if (r.input_enabled || r.output_enabled) options.regexes.push_back({r.name, r.pattern});
  }
  if (!options.types.empty() || !options.regexes.empty()) {
    auto scanner = Scanner::Compile(options);
    if (!scanner.ok()) return scanner.status();
    g->scanner_ = std::move(*scanner);
  }
  if (!words.empty() || profanity) {
    auto filter = WordFilter::Build(words, profanity);
    if (!filter.ok()) return filter.status();
    g->words_ = std::move(*filter);
  }
  return std::shared_ptr<const Guardrail>(std::move(g));
}

Result<const Scanner*> AllTypesScanner() {
  static const Result<std::unique_ptr<const Scanner>> scanner = [] {
    ScannerOptions options;
    for (const EntityInfo& e : Entities()) {
      if (e.detectable) options.types.emplace_back(e.name);
    }
    return Scanner::Compile(options);
  }();
  if (!scanner.ok()) return scanner.status();
  return scanner->get();
}

Result<std::vector<Detection>> Guardrail::Detect(std::string_view text, GuardSource source) const {
  if (!scanner_) return std::vector<Detection>();
  auto findings = scanner_->Scan(text);
  if (!findings.ok()) return findings.status();
  std::vector<Detection> out;
  for (auto& f : *findings) {
    if (f.custom) {
      for (const auto& r : regex_rules_) {
        if (r.name == f.type && ActiveFor(source, r.input_enabled, r.output_enabled)) {
          out.push_back(Detection{f.type, true, f.span, f.text, f.score,
                                  ActionFor(source, r.input_action, r.output_action)});
          break;
        }
      }
      continue;
    }
    for (const auto& e : entity_rules_) {
      if (e.type == f.type && ActiveFor(source, e.input_enabled, e.output_enabled)) {
        out.push_back(Detection{f.type, false, f.span, f.text, f.score,
                                ActionFor(source, e.input_action, e.output_action)});
        break;
      }
    }
  }
  return out;
}

Result<GuardResult> Guardrail::Apply(GuardSource source, std::span<const ContentBlock> blocks,
                                     const ApplyOptions& options) const {
  GuardResult result;
  PlaceholderAnonymizer placeholder;
  Anonymizer* anonymizer = options.anonymizer ? options.anonymizer : &placeholder;
  size_t total = 0;
  for (const auto& b : blocks) {
    if (b.text.size() > kMaxBlockBytes) {
      return InvalidArgument("a content block is " + std::to_string(b.text.size()) +
                             " bytes; a guardrail judges blocks of at most 1 MiB");
    }
    total += b.text.size();
  }
  if (total > kMaxTotalBytes)
    return InvalidArgument("the content to judge is larger than 4 MiB in total");

  // OUTPUT: reference blocks (query, grounding source) are not judged but are the "input". Its
  // canonical form is built only when a finding needs it (most answers have none).
  std::optional<std::string> canonical_input;
  bool have_input = false;
  if (source == GuardSource::kOutput) {
    have_input = options.input_text.has_value();
    for (const auto& b : blocks) {
      have_input = have_input || HasQualifier(b, "query") || HasQualifier(b, "grounding_source");
    }
  }
  auto input_contains = [&](std::string_view value) {
    if (!canonical_input) {
      std::string reference = options.input_text.value_or("");
      for (const auto& b : blocks) {
        if (HasQualifier(b, "query") || HasQualifier(b, "grounding_source")) {
          reference += '\n';
          reference += b.text;
        }
      }
      canonical_input = Canonical(reference);
    }
    return canonical_input->find(value) != std::string::npos;
  };

  const bool has_sensitive = !entity_rules_.empty() || !regex_rules_.empty();
  bool blocked = false;
  bool anonymized = false;
  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    const ContentBlock& block = blocks[bi];
    const uint64_t characters = CodePointIndex(block.text).code_points();
    result.total_characters += characters;
    const bool reference =
        source == GuardSource::kOutput &&
        (HasQualifier(block, "query") || HasQualifier(block, "grounding_source"));
    if (reference) {
      result.texts.push_back(block.text);
      continue;
    }
    result.text_characters += characters;
    if (words_) result.word_units += Units(characters);
    if (has_sensitive) result.sensitive_units += Units(characters);

    auto normalized = Normalize(block.text);
    if (!normalized.ok()) return normalized.status();
    std::vector<Replacement> replacements;

    // Cross-tenant rule: a value of another tenant never reaches the client, whatever the
    // definition configures.
    if (source == GuardSource::kOutput && options.cross_tenant) {
      auto all = AllTypesScanner();
      if (!all.ok()) return all.status();
      auto every = (*all)->Scan(*normalized, block.text);
      if (!every.ok()) return every.status();
      for (const Finding& f : *every) {
        auto owner = options.cross_tenant->OwnerOf(f.type, f.text, options.tenant);
        if (!owner.ok()) return owner.status();
        if (owner->has_value()) {
          result.incidents.push_back(CrossTenantIncident{f.type, **owner, bi, f.span});
          blocked = true;
        }
      }
    }

    std::vector<Finding> findings;
    if (scanner_) {
      auto scanned = scanner_->Scan(*normalized, block.text);
      if (!scanned.ok()) return scanned.status();
      findings = std::move(*scanned);
    }
    for (const Finding& f : findings) {
      GuardAction action = GuardAction::kNone;
      bool configured = false;
      bool not_in_input = false;
      std::string regex;
      if (f.custom) {
        for (const auto& r : regex_rules_) {
          if (r.name == f.type && ActiveFor(source, r.input_enabled, r.output_enabled)) {
            action = ActionFor(source, r.input_action, r.output_action);
            regex = r.pattern;
            configured = true;
            break;
          }
        }
      } else {
        for (const auto& e : entity_rules_) {
          if (e.type == f.type && ActiveFor(source, e.input_enabled, e.output_enabled)) {
            action = ActionFor(source, e.input_action, e.output_action);
            configured = true;
            break;
          }
        }
        // Not-in-input rule: an identifier the model brings into the conversation.
        if (configured && action == GuardAction::kNone && have_input &&
            pii_not_in_input_action_ != GuardAction::kNone) {
          const std::string value = Canonical(f.text);
          if (!value.empty() && !input_contains(value)) {
            action = pii_not_in_input_action_;
            not_in_input = true;
          }
        }
      }
      if (!configured) continue;
      if (action == GuardAction::kAnonymize && options.anonymize_means_block) {
        action = GuardAction::kBlock;
      }
      std::string token;
      if (action == GuardAction::kAnonymize) {
        auto t = anonymizer->Token(f.custom ? CustomEntityName(f.type) : f.type, f.text);
        if (!t.ok()) return t.status();
        token = *t;
        replacements.push_back(Replacement{f.span.begin_byte, f.span.end_byte, token});
        anonymized = true;
      }
      blocked = blocked || action == GuardAction::kBlock;
      if (f.custom) {
        result.regexes.push_back(RegexAssessment{
            f.type, regex, f.text, std::string(AssessedAction(action)), true, bi, f.span, token});
      } else {
        PiiEntityAssessment a;
        a.type = f.type;
        a.match = f.text;
        a.action = AssessedAction(action);
        a.block = bi;
        a.span = f.span;
        a.score = f.score;
        a.not_in_input = not_in_input;
        a.replacement = token;
        result.pii.push_back(std::move(a));
      }
    }

    if (words_) {
      for (const WordMatch& m : words_->Find(*normalized, block.text)) {
        const WordRule* rule = m.managed                      ? managed_rule_.get()
                               : m.index < word_rules_.size() ? &word_rules_[m.index]
                                                              : nullptr;
        if (!rule || !ActiveFor(source, rule->input_enabled, rule->output_enabled)) continue;
        GuardAction action = ActionFor(source, rule->input_action, rule->output_action);
        if (action == GuardAction::kAnonymize) action = GuardAction::kBlock;  // words: BLOCK|NONE
        blocked = blocked || action == GuardAction::kBlock;
        result.words.push_back(WordAssessment{m.match, std::string(AssessedAction(action)), true,
                                              m.managed, bi, m.span});
      }
    }

    // The block with its anonymized values replaced (spans never overlap: the scanner resolves
    // overlaps).
    std::sort(replacements.begin(), replacements.end(),
              [](const Replacement& a, const Replacement& b) { return a.begin < b.begin; });
    std::string text;
    size_t pos = 0;
    for (const Replacement& r : replacements) {
      if (r.begin < pos) continue;
      text.append(block.text, pos, r.begin - pos);
      text.append(r.token);
      pos = r.end;
    }
    text.append(block.text, pos, std::string::npos);
    result.texts.push_back(std::move(text));
  }

  result.blocked = blocked;
  result.intervened = blocked || anonymized;
  if (blocked) {
    result.outputs.push_back(source == GuardSource::kInput ? definition_.blocked_input_messaging
                                                           : definition_.blocked_outputs_messaging);
    result.action_reason = !result.incidents.empty()
                               ? "Guardrail blocked: the answer holds another tenant's identifier."
                               : "Guardrail blocked.";
  } else if (anonymized) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      const bool reference =
          source == GuardSource::kOutput &&
          (HasQualifier(blocks[i], "query") || HasQualifier(blocks[i], "grounding_source"));
      if (!reference) result.outputs.push_back(result.texts[i]);
    }
    result.action_reason = "Guardrail masked.";
  } else {
    result.action_reason = "No action.";
  }
  return result;
}

json::object Guardrail::Usage(const GuardResult& r) const {
  return json::object{{"topicPolicyUnits", 0},
                      {"contentPolicyUnits", 0},
                      {"wordPolicyUnits", r.word_units},
                      {"sensitiveInformationPolicyUnits", r.sensitive_units},
                      {"sensitiveInformationPolicyFreeUnits", 0},
                      {"contextualGroundingPolicyUnits", 0},
                      {"contentPolicyImageUnits", 0}};
}

json::object Guardrail::Assessment(const GuardResult& r, int64_t latency_ms,
                                   bool redact_matches) const {
  // When the answer was withheld, no match may come back in its place (a value let through
  // with NONE is still part of the withheld text); otherwise only acted-on matches are hidden.
  auto shown = [&](const std::string& match, const std::string& action,
                   const std::string& replacement, const std::string& type) -> std::string {
    if (!redact_matches || (action == "NONE" && !r.blocked)) return match;
    return replacement.empty() ? "{" + type + "}" : replacement;
  };
  json::object a;
  if (!r.pii.empty() || !r.regexes.empty()) {
    json::array pii, regexes;
    for (const auto& p : r.pii) {
      pii.push_back(json::object{{"match", shown(p.match, p.action, p.replacement, p.type)},
                                 {"type", p.type},
                                 {"action", p.action},
                                 {"detected", p.detected}});
    }
    for (const auto& x : r.regexes) {
      regexes.push_back(
          json::object{{"name", x.name},
                       {"match", shown(x.match, x.action, x.replacement, CustomEntityName(x.name))},
                       {"regex", x.regex},
                       {"action", x.action},
                       {"detected", x.detected}});
    }
    a["sensitiveInformationPolicy"] =
        json::object{{"piiEntities", std::move(pii)}, {"regexes", std::move(regexes)}};
  }
  if (!r.words.empty()) {
    json::array custom, managed;
    for (const auto& w : r.words) {
      if (w.managed) {
        managed.push_back(json::object{{"match", shown(w.match, w.action, "", "PROFANITY")},
                                       {"type", "PROFANITY"},
                                       {"action", w.action},
                                       {"detected", w.detected}});
      } else {
        custom.push_back(json::object{{"match", shown(w.match, w.action, "", "WORD")},
                                      {"action", w.action},
                                      {"detected", w.detected}});
      }
    }
    a["wordPolicy"] =
        json::object{{"customWords", std::move(custom)}, {"managedWordLists", std::move(managed)}};
  }
  if (!r.incidents.empty()) {
    json::array incidents;
    // The owner is never named to the caller: that would disclose another tenant (it goes to
    // the gateway's log and the audit trail instead).
    for (const auto& i : r.incidents) {
      incidents.push_back(json::object{{"type", i.type}, {"action", "BLOCKED"}});
    }
    a["crossTenantPolicy"] = json::object{{"incidents", std::move(incidents)}};
  }
  a["invocationMetrics"] =
      json::object{{"guardrailProcessingLatency", latency_ms},
                   {"usage", Usage(r)},
                   {"guardrailCoverage",
                    json::object{{"textCharacters", json::object{{"guarded", r.text_characters},
                                                                 {"total", r.total_characters}}}}}};
  return a;
}

}  // namespace perimeter::guard
