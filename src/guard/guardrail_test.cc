// Tests for the compiled guardrail (guardrail.h) and the streamed output guard
// (stream_guard.h): actions per direction, anonymization through the Anonymizer, words and the
// managed list, the not-in-input and cross-tenant output rules, reference blocks, usage units,
// policies that cannot be enforced yet, and windows that catch a value split across chunks.

#include "guard/guardrail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "guard/registry.h"
#include "guard/stream_guard.h"

namespace perimeter::guard {
namespace {

using ::testing::HasSubstr;

constexpr const char* kCard = "4111 1111 1111 1111";

// A definition with the given sensitiveInformationPolicyConfig / wordPolicyConfig bodies (JSON
// fragments, may be empty) and Perimeter's extra fields.
std::string Definition(const std::string& sensitive, const std::string& words = "",
                       const std::string& extra = "") {
  std::string d = R"({"name":"test","blockedInputMessaging":"input blocked",)"
                  R"("blockedOutputsMessaging":"output blocked")";
  if (!sensitive.empty()) d += R"(,"sensitiveInformationPolicyConfig":)" + sensitive;
  if (!words.empty()) d += R"(,"wordPolicyConfig":)" + words;
  if (!extra.empty()) d += "," + extra;
  return d + "}";
}

std::shared_ptr<const Guardrail> MustCompile(const std::string& json) {
  auto g = CompileDefinition("gr1", "1", json);
  EXPECT_TRUE(g.ok()) << g.status().message() << "\n" << json;
  return g.ok() ? *g : nullptr;
}

std::vector<ContentBlock> Blocks(std::initializer_list<std::string> texts) {
  std::vector<ContentBlock> out;
  for (const auto& t : texts) out.push_back(ContentBlock{t, {}});
  return out;
}

// Records what it was asked to tokenize and answers "<TOKEN:ENTITY>".
class RecordingAnonymizer final : public Anonymizer {
 public:
  Result<std::string> Token(std::string_view entity, std::string_view value) override {
    if (fail) return Unavailable("vault down");
    seen.emplace_back(entity, value);
    return "<TOKEN:" + std::string(entity) + ">";
  }
  std::vector<std::pair<std::string, std::string>> seen;
  bool fail = false;
};

class FakeCrossTenant final : public CrossTenantIndex {
 public:
  Result<std::optional<std::string>> OwnerOf(std::string_view entity, std::string_view value,
                                             std::string_view current) override {
    ++calls;
    if (fail) return Unavailable("store down");
    auto it = owners.find(std::string(value));
    if (it == owners.end() || it->second == current) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> owners;
  int calls = 0;
  bool fail = false;
};

TEST(GuardrailTest, AnonymizesInputWithThePlaceholderWhenNoVaultIsGiven) {
  auto g =
      MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"ANONYMIZE"}]})"));
  ASSERT_TRUE(g);
  auto r = g->Apply(GuardSource::kInput, Blocks({"write to ada@example.com today"}), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->intervened);
  EXPECT_FALSE(r->blocked);
  ASSERT_EQ(r->texts.size(), 1u);
  EXPECT_EQ(r->texts[0], "write to {EMAIL} today");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0], "write to {EMAIL} today");
  ASSERT_EQ(r->pii.size(), 1u);
  EXPECT_EQ(r->pii[0].type, "EMAIL");
  EXPECT_EQ(r->pii[0].match, "ada@example.com");
  EXPECT_EQ(r->pii[0].action, "ANONYMIZED");
  EXPECT_EQ(r->action_reason, "Guardrail masked.");
}

TEST(GuardrailTest, AnonymizesThroughTheGivenAnonymizerAndFailsClosedWhenItFails) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"ANONYMIZE"}],)"
      R"("regexesConfig":[{"name":"order id","pattern":"ORD-[0-9]{6}","action":"ANONYMIZE"}]})"));
  ASSERT_TRUE(g);
  RecordingAnonymizer anonymizer;
  ApplyOptions options;
  options.anonymizer = &anonymizer;
  auto r = g->Apply(GuardSource::kInput, Blocks({"ada@example.com ordered ORD-123456"}), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->texts[0], "<TOKEN:EMAIL> ordered <TOKEN:CUSTOM_ORDER_ID>");
  ASSERT_EQ(anonymizer.seen.size(), 2u);
  EXPECT_EQ(anonymizer.seen[0].second, "ada@example.com");
  EXPECT_EQ(anonymizer.seen[1].second, "ORD-123456");
  ASSERT_EQ(r->regexes.size(), 1u);
  EXPECT_EQ(r->regexes[0].name, "order id");
  EXPECT_EQ(r->regexes[0].regex, "ORD-[0-9]{6}");
  EXPECT_EQ(r->regexes[0].action, "ANONYMIZED");

  anonymizer.fail = true;
  auto failed = g->Apply(GuardSource::kInput, Blocks({"ada@example.com"}), options);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
}

TEST(GuardrailTest, BlockAnswersWithTheBlockedMessageOfTheDirection) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"CREDIT_DEBIT_CARD_NUMBER","action":"BLOCK"}]})"));
  ASSERT_TRUE(g);
  auto in = g->Apply(GuardSource::kInput, Blocks({std::string("my card is ") + kCard}), {});
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_TRUE(in->blocked);
  EXPECT_TRUE(in->intervened);
  ASSERT_EQ(in->outputs.size(), 1u);
  EXPECT_EQ(in->outputs[0], "input blocked");
  EXPECT_EQ(in->pii.at(0).action, "BLOCKED");
  auto out = g->Apply(GuardSource::kOutput, Blocks({std::string("card ") + kCard}), {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->outputs.at(0), "output blocked");
}

TEST(GuardrailTest, NoneReportsWithoutIntervening) {
  auto g = MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})"));
  ASSERT_TRUE(g);
  auto r = g->Apply(GuardSource::kInput, Blocks({"ada@example.com"}), {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->intervened);
  EXPECT_TRUE(r->outputs.empty());
  ASSERT_EQ(r->pii.size(), 1u);
  EXPECT_EQ(r->pii[0].action, "NONE");
  EXPECT_EQ(r->texts[0], "ada@example.com");
  EXPECT_EQ(r->action_reason, "No action.");
}

TEST(GuardrailTest, InputAndOutputActionsAndEnablementAreSeparate) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"BLOCK","inputAction":"NONE",)"
      R"("outputAction":"ANONYMIZE"},{"type":"US_SOCIAL_SECURITY_NUMBER","action":"BLOCK",)"
      R"("inputEnabled":false}]})"));
  ASSERT_TRUE(g);
  auto in = g->Apply(GuardSource::kInput, Blocks({"ada@example.com ssn 123-45-6789"}), {});
  ASSERT_TRUE(in.ok()) << in.status().message();
  EXPECT_FALSE(in->intervened);
  ASSERT_EQ(in->pii.size(), 1u);  // the SSN is not judged on input
  EXPECT_EQ(in->pii[0].type, "EMAIL");
  EXPECT_EQ(in->pii[0].action, "NONE");
  ApplyOptions options;
  options.input_text = "ada@example.com";
  auto out = g->Apply(GuardSource::kOutput, Blocks({"ada@example.com"}), options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->texts[0], "{EMAIL}");
  auto ssn = g->Apply(GuardSource::kOutput, Blocks({"ssn 123-45-6789"}), {});
  ASSERT_TRUE(ssn.ok());
  EXPECT_TRUE(ssn->blocked);
}

TEST(GuardrailTest, NormalizationDoesNotHideAValueAndSpansPointIntoTheOriginal) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"CREDIT_DEBIT_CARD_NUMBER","action":"ANONYMIZE"}]})"));
  ASSERT_TRUE(g);
  // Full-width digits with a zero-width space inside, after non-ASCII text.
  const std::string card = "４１１１\u200b １１１１ １１１１ １１１１";
  auto r = g->Apply(GuardSource::kInput, Blocks({"Ẹ jọ̀wọ́: " + card + "!"}), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->pii.size(), 1u);
  EXPECT_EQ(r->pii[0].match, card);
  EXPECT_EQ(r->texts[0], "Ẹ jọ̀wọ́: {CREDIT_DEBIT_CARD_NUMBER}!");
}

TEST(GuardrailTest, WordsAndTheManagedListBlockWholeWordsOnly) {
  auto g = MustCompile(Definition(
      "", R"({"wordsConfig":[{"text":"project falcon"},{"text":"ledger","inputAction":"NONE"}],)"
          R"("managedWordListsConfig":[{"type":"PROFANITY"}]})"));
  ASSERT_TRUE(g);
  auto phrase = g->Apply(GuardSource::kInput, Blocks({"Tell me about Project   Falcon."}), {});
  ASSERT_TRUE(phrase.ok()) << phrase.status().message();
  EXPECT_TRUE(phrase->blocked);
  ASSERT_EQ(phrase->words.size(), 1u);
  EXPECT_EQ(phrase->words[0].match, "Project   Falcon");
  EXPECT_FALSE(phrase->words[0].managed);
  auto none = g->Apply(GuardSource::kInput, Blocks({"the ledger"}), {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->intervened);
  ASSERT_EQ(none->words.size(), 1u);
  EXPECT_EQ(none->words[0].action, "NONE");
  auto rude = g->Apply(GuardSource::kInput, Blocks({"this is shit"}), {});
  ASSERT_TRUE(rude.ok());
  EXPECT_TRUE(rude->blocked);
  ASSERT_EQ(rude->words.size(), 1u);
  EXPECT_TRUE(rude->words[0].managed);
  auto clean = g->Apply(GuardSource::kInput, Blocks({"Scunthorpe classes"}), {});
  ASSERT_TRUE(clean.ok());
  EXPECT_FALSE(clean->intervened);
  EXPECT_TRUE(clean->words.empty());
  // The assessment names the list.
  boost::json::object a = g->Assessment(*rude, 3);
  EXPECT_EQ(a.at("wordPolicy").at("managedWordLists").at(0).at("type"), "PROFANITY");
  EXPECT_EQ(a.at("invocationMetrics").at("guardrailProcessingLatency"), 3);
}

TEST(GuardrailTest, OutputIdentifiersThatWereNotInTheInputAreBlocked) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"},{"type":"PHONE","action":"NONE"}]})"));
  ASSERT_TRUE(g);
  ApplyOptions options;
  options.input_text = "my address is Ada@Example.com and my phone is 0803 123 4567";
  // Present in the input (case and separators differ): allowed.
  auto same = g->Apply(GuardSource::kOutput,
                       Blocks({"I will write to ada@example.com or call 08031234567"}), options);
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_FALSE(same->intervened);
  EXPECT_EQ(same->pii.size(), 2u);
  // A new one: blocked, and the assessment says why.
  auto novel = g->Apply(GuardSource::kOutput, Blocks({"write to bola@example.org"}), options);
  ASSERT_TRUE(novel.ok());
  EXPECT_TRUE(novel->blocked);
  ASSERT_EQ(novel->pii.size(), 1u);
  EXPECT_TRUE(novel->pii[0].not_in_input);
  EXPECT_EQ(novel->pii[0].action, "BLOCKED");
  // Without a known input (ApplyGuardrail OUTPUT without reference blocks) the rule is off.
  auto unknown = g->Apply(GuardSource::kOutput, Blocks({"write to bola@example.org"}), {});
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->intervened);
}

TEST(GuardrailTest, TheNotInInputActionIsConfigurable) {
  auto g = MustCompile(
      Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})", "",
                 R"("perimeterOutputPolicyConfig":{"piiNotInInputAction":"ANONYMIZE"})"));
  ASSERT_TRUE(g);
  ApplyOptions options;
  options.input_text = "hello";
  auto r = g->Apply(GuardSource::kOutput, Blocks({"write to bola@example.org"}), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->blocked);
  EXPECT_EQ(r->texts[0], "write to {EMAIL}");
  auto off =
      MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})", "",
                             R"("perimeterOutputPolicyConfig":{"piiNotInInputAction":"NONE"})"));
  ASSERT_TRUE(off);
  auto r2 = off->Apply(GuardSource::kOutput, Blocks({"write to bola@example.org"}), options);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->intervened);
}

TEST(GuardrailTest, ReferenceBlocksAreNotJudgedButCountAsTheInput) {
  auto g = MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})"));
  ASSERT_TRUE(g);
  std::vector<ContentBlock> blocks{
      ContentBlock{"contact ada@example.com", {"query"}},
      ContentBlock{"I emailed ada@example.com", {"guard_content"}},
  };
  auto r = g->Apply(GuardSource::kOutput, blocks, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->intervened);
  ASSERT_EQ(r->pii.size(), 1u);
  EXPECT_EQ(r->pii[0].block, 1u);
  EXPECT_EQ(r->total_characters, 23u + 25u);
  EXPECT_EQ(r->text_characters, 25u);
}

TEST(GuardrailTest, AnotherTenantsIdentifierIsBlockedWhateverTheDefinitionSays) {
  // The definition does not even configure IBANs.
  auto g = MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})"));
  ASSERT_TRUE(g);
  FakeCrossTenant index;
  index.owners["GB82WEST12345698765432"] = "tenant-b";
  index.owners["own@example.com"] = "tenant-a";
  ApplyOptions options;
  options.cross_tenant = &index;
  options.tenant = "tenant-a";
  options.input_text = "own@example.com";
  auto r = g->Apply(GuardSource::kOutput,
                    Blocks({"own@example.com pays into GB82WEST12345698765432"}), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->blocked);
  ASSERT_EQ(r->incidents.size(), 1u);
  EXPECT_EQ(r->incidents[0].type, "INTERNATIONAL_BANK_ACCOUNT_NUMBER");
  EXPECT_EQ(r->incidents[0].owner_tenant, "tenant-b");
  EXPECT_EQ(r->outputs.at(0), "output blocked");
  // The caller is told the type, never the owner or the value.
  const std::string assessment = boost::json::serialize(g->Assessment(*r, 0));
  EXPECT_THAT(assessment, HasSubstr("crossTenantPolicy"));
  EXPECT_EQ(assessment.find("tenant-b"), std::string::npos) << assessment;
  EXPECT_EQ(assessment.find("GB82WEST"), std::string::npos) << assessment;
  // Input is never checked against other tenants (the user may write their own data).
  const int calls = index.calls;
  ASSERT_TRUE(g->Apply(GuardSource::kInput, Blocks({"GB82WEST12345698765432"}), options).ok());
  EXPECT_EQ(index.calls, calls);
  // An index that cannot answer fails the judgement.
  index.fail = true;
  EXPECT_EQ(
      g->Apply(GuardSource::kOutput, Blocks({"GB82WEST12345698765432"}), options).status().code(),
      StatusCode::kUnavailable);
}

TEST(GuardrailTest, UsageCountsTextUnitsPerPolicy) {
  auto g = MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"NONE"}]})"));
  ASSERT_TRUE(g);
  auto r = g->Apply(GuardSource::kInput, Blocks({std::string(2500, 'a'), "b"}), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sensitive_units, 4u);  // ceil(2500/1000) + ceil(1/1000)
  EXPECT_EQ(r->word_units, 0u);       // no word policy
  boost::json::object u = g->Usage(*r);
  EXPECT_EQ(u.at("sensitiveInformationPolicyUnits"), 4);
}

TEST(GuardrailTest, PoliciesWithoutADetectorAreRefusedNotIgnored) {
  struct Case {
    std::string extra;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {R"("topicPolicyConfig":{"topicsConfig":[{"name":"investment","definition":"advice","type":"DENY"}]})",
       "topicPolicyConfig"},
      {R"("contentPolicyConfig":{"filtersConfig":[{"type":"PROMPT_ATTACK","inputStrength":"HIGH","outputStrength":"NONE"}]})",
       "PROMPT_ATTACK"},
      {R"("contextualGroundingPolicyConfig":{"filtersConfig":[{"type":"GROUNDING","threshold":0.5}]})",
       "contextualGroundingPolicyConfig"},
  };
  for (const auto& c : cases) {
    auto g = CompileDefinition("gr1", "1", Definition("", "", c.extra));
    ASSERT_FALSE(g.ok()) << c.extra;
    EXPECT_EQ(g.status().code(), StatusCode::kFailedPrecondition) << g.status().message();
    EXPECT_THAT(g.status().message(), HasSubstr(c.expect));
  }
  auto name = CompileDefinition(
      "gr1", "1", Definition(R"({"piiEntitiesConfig":[{"type":"NAME","action":"ANONYMIZE"}]})"));
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(name.status().message(), HasSubstr("NAME"));
  // A content filter at strength NONE does nothing, so it is accepted.
  EXPECT_TRUE(
      CompileDefinition(
          "gr1", "1",
          Definition(
              "", "",
              R"("contentPolicyConfig":{"filtersConfig":[{"type":"HATE","inputStrength":"NONE","outputStrength":"NONE"}]})"))
          .ok());
}

TEST(GuardrailTest, ABadCustomRegexIsNamed) {
  auto g = CompileDefinition(
      "gr1", "1",
      Definition(R"({"regexesConfig":[{"name":"broken","pattern":"(a","action":"BLOCK"}]})"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("broken"));
}

TEST(GuardrailTest, DetectReportsConfiguredTypesWithTheirActions) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"ANONYMIZE","outputAction":"BLOCK"}]})"));
  ASSERT_TRUE(g);
  auto d = g->Detect("ada@example.com 123-45-6789", GuardSource::kInput);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);  // the SSN is found by the scanner but not configured
  EXPECT_EQ((*d)[0].type, "EMAIL");
  EXPECT_EQ((*d)[0].action, GuardAction::kAnonymize);
  EXPECT_EQ((*d)[0].span.begin_code_point, 0u);
  EXPECT_EQ((*d)[0].span.end_code_point, 15u);
  auto out = g->Detect("ada@example.com", GuardSource::kOutput);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->at(0).action, GuardAction::kBlock);
}

// ---- streamed output ---------------------------------------------------------------------------

std::string Stream(OutputStreamGuard& guard, const std::vector<std::string>& deltas,
                   bool* blocked) {
  std::string released;
  *blocked = false;
  for (const auto& d : deltas) {
    auto step = guard.Push(d);
    EXPECT_TRUE(step.ok()) << step.status().message();
    if (!step.ok()) return released;
    released += step->release;
    if (step->blocked) {
      *blocked = true;
      return released;
    }
  }
  auto last = guard.Finish();
  EXPECT_TRUE(last.ok());
  if (last.ok()) {
    released += last->release;
    *blocked = last->blocked;
  }
  return released;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t sp = text.find(' ', start + 1);
    out.push_back(text.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp;
  }
  return out;
}

TEST(OutputStreamGuardTest, SyncModeNeverReleasesAValueSplitAcrossChunks) {
  auto g = MustCompile(Definition(
      R"({"piiEntitiesConfig":[{"type":"CREDIT_DEBIT_CARD_NUMBER","action":"BLOCK"}]})"));
  ASSERT_TRUE(g);
  std::string text(300, 'x');
  text += " here is the card " + std::string(kCard) + " and more text after it";
  // Small windows so the card straddles several of them.
  OutputStreamGuard guard(g, {}, OutputStreamGuard::Mode::kSync, 16, 40);
  bool blocked = false;
  std::string released = Stream(guard, Words(text), &blocked);
  EXPECT_TRUE(blocked);
  EXPECT_EQ(released.find("4111"), std::string::npos) << released;
  EXPECT_EQ(released.find("1111"), std::string::npos) << released;
  EXPECT_TRUE(guard.blocked());
}

TEST(OutputStreamGuardTest, SyncModeAnonymizesAcrossChunksAndReleasesEverythingElse) {
  auto g =
      MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"ANONYMIZE"}]})"));
  ASSERT_TRUE(g);
  const std::string text =
      "Dear customer, we have updated the record and will write to ada.lovelace@example.com "
      "with the new statement within two working days. Thank you.";
  std::vector<std::string> deltas;
  for (size_t i = 0; i < text.size(); i += 7) deltas.push_back(text.substr(i, 7));
  OutputStreamGuard guard(g, {}, OutputStreamGuard::Mode::kSync, 20, 48);
  bool blocked = false;
  std::string released = Stream(guard, deltas, &blocked);
  EXPECT_FALSE(blocked);
  EXPECT_EQ(released,
            "Dear customer, we have updated the record and will write to {EMAIL} with the new "
            "statement within two working days. Thank you.");
}

TEST(OutputStreamGuardTest, AsyncModeReleasesAtOnceAndStopsOnAViolation) {
  auto g =
      MustCompile(Definition(R"({"piiEntitiesConfig":[{"type":"EMAIL","action":"ANONYMIZE"}]})"));
  ASSERT_TRUE(g);
  OutputStreamGuard guard(g, {}, OutputStreamGuard::Mode::kAsync, 16, 48);
  auto a = guard.Push("Hello there, my friend. ");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->release, "Hello there, my friend. ");  // released before judging
  EXPECT_FALSE(a->blocked);
  auto b = guard.Push("write to ada@exam");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->blocked);
  auto c = guard.Push("ple.com now");  // below the window: released, judged at the end
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->release, "ple.com now");
  EXPECT_FALSE(c->blocked);
  // Anonymizing is impossible after release, so the stream stops.
  auto end = guard.Finish();
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->blocked);
  auto d = guard.Push("more");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->blocked);
  EXPECT_TRUE(d->release.empty());
}

TEST(OutputStreamGuardTest, APrivateKeyBlockIsHeldUntilItEnds) {
  auto g = MustCompile(
      Definition(R"({"piiEntitiesConfig":[{"type":"SECRET_PRIVATE_KEY","action":"BLOCK"}]})"));
  ASSERT_TRUE(g);
  std::string body;
  for (int i = 0; i < 20; ++i) body += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
  const std::string pem = "-----BEGIN PRIVATE KEY-----\n" + body + "-----END PRIVATE KEY-----\n";
  std::vector<std::string> deltas{"Here it is:\n"};
  for (size_t i = 0; i < pem.size(); i += 50) deltas.push_back(pem.substr(i, 50));
  OutputStreamGuard guard(g, {}, OutputStreamGuard::Mode::kSync, 64, 32);
  bool blocked = false;
  std::string released = Stream(guard, deltas, &blocked);
  EXPECT_TRUE(blocked);
  EXPECT_EQ(released.find("BEGIN"), std::string::npos) << released;
  EXPECT_EQ(released.find("MIIE"), std::string::npos) << released;
}

}  // namespace
}  // namespace perimeter::guard
