#include "guard/guardrail_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace perimeter::guard {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace json = boost::json;

// Every section and field Bedrock documents for CreateGuardrail (automatedReasoningPolicyConfig
// aside: Perimeter refuses it).
constexpr std::string_view kFullBody = R"({
  "name": "support-bot_v2",
  "description": "Guardrail for the support assistant",
  "topicPolicyConfig": {
    "topicsConfig": [
      {"name": "Investment advice", "definition": "Recommendations about stocks or crypto.",
       "examples": ["Should I buy bitcoin?", "Which stock will go up?"], "type": "DENY",
       "inputAction": "BLOCK", "outputAction": "NONE", "inputEnabled": true,
       "outputEnabled": false},
      {"name": "Politics!", "definition": "Elections and parties.", "type": "DENY"}
    ],
    "tierConfig": {"tierName": "STANDARD"}
  },
  "contentPolicyConfig": {
    "filtersConfig": [
      {"type": "HATE", "inputStrength": "HIGH", "outputStrength": "MEDIUM",
       "inputModalities": ["IMAGE", "TEXT"], "outputModalities": ["TEXT"],
       "inputAction": "BLOCK", "outputAction": "NONE", "inputEnabled": true,
       "outputEnabled": true},
      {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"},
      {"type": "SEXUAL", "inputStrength": "LOW", "outputStrength": "LOW"}
    ],
    "tierConfig": {"tierName": "CLASSIC"}
  },
  "wordPolicyConfig": {
    "wordsConfig": [
      {"text": "Project Zeus"},
      {"text": "competitor", "inputAction": "NONE", "outputEnabled": false}
    ],
    "managedWordListsConfig": [{"type": "PROFANITY", "outputAction": "NONE"}]
  },
  "sensitiveInformationPolicyConfig": {
    "piiEntitiesConfig": [
      {"type": "EMAIL", "action": "ANONYMIZE"},
      {"type": "CREDIT_DEBIT_CARD_NUMBER", "action": "BLOCK", "outputAction": "ANONYMIZE"},
      {"type": "NG_BVN", "action": "ANONYMIZE", "inputEnabled": true},
      {"type": "SECRET_GITHUB_TOKEN", "action": "BLOCK"},
      {"type": "NAME", "action": "ANONYMIZE", "inputEnabled": false, "outputEnabled": false}
    ],
    "regexesConfig": [
      {"name": "ticket", "description": "Internal ticket ids", "pattern": "TCK-[0-9]{6}",
       "action": "ANONYMIZE", "inputAction": "NONE"},
      {"name": "employee id", "pattern": "E[0-9]{5}", "action": "BLOCK"}
    ]
  },
  "contextualGroundingPolicyConfig": {
    "filtersConfig": [
      {"type": "GROUNDING", "threshold": 0.85, "action": "BLOCK", "enabled": true},
      {"type": "RELEVANCE", "threshold": 0.5}
    ]
  },
  "crossRegionConfig": {"guardrailProfileIdentifier": "us.guardrail.v1:0"},
  "blockedInputMessaging": "Sorry, I cannot help with that.",
  "blockedOutputsMessaging": "Sorry, the answer was blocked.",
  "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  "tags": [{"key": "team", "value": "support"}, {"key": "cost-center", "value": ""}],
  "clientRequestToken": "req-2024-01-01-abc"
})";

constexpr std::string_view kMinimalBody =
    R"({"name":"g","blockedInputMessaging":"in","blockedOutputsMessaging":"out"})";

GuardrailDefinition MustParse(std::string_view body) {
  auto d = ParseGuardrailDefinition(body);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(d).value() : GuardrailDefinition{};
}

// The minimal body with `key` set to the JSON `value`.
std::string With(std::string_view key, std::string_view value) {
  json::object o = json::parse(kMinimalBody).as_object();
  o[key] = json::parse(value);
  return json::serialize(o);
}

// The full body with the value at `path` (keys and array indices) replaced, or removed when
// `value` is empty.
std::string FullWith(std::initializer_list<json::string_view> path, std::string_view value) {
  json::value root = json::parse(kFullBody);
  json::value* v = &root;
  std::vector<json::string_view> keys(path);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (v->is_array()) {
      v = &v->as_array().at(std::stoul(std::string(keys[i])));
    } else {
      v = &v->as_object().at(keys[i]);
    }
  }
  if (v->is_array()) {
    v->as_array().at(std::stoul(std::string(keys.back()))) = json::parse(value);
  } else if (value.empty()) {
    v->as_object().erase(keys.back());
  } else {
    v->as_object()[keys.back()] = json::parse(value);
  }
  return json::serialize(root);
}

std::string ErrorOf(std::string_view body) {
  auto d = ParseGuardrailDefinition(body);
  EXPECT_FALSE(d.ok()) << "parsed: " << body;
  if (d.ok()) {
    return "";
  }
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  return d.status().message();
}

TEST(GuardrailConfigTest, ParsesFullBody) {
  GuardrailDefinition d = MustParse(kFullBody);
  EXPECT_EQ(d.name, "support-bot_v2");
  EXPECT_EQ(d.description, "Guardrail for the support assistant");

  ASSERT_TRUE(d.topic_policy);
  ASSERT_EQ(d.topic_policy->topics.size(), 2u);
  EXPECT_EQ(d.topic_policy->tier, GuardrailTier::kStandard);
  const TopicConfig& t0 = d.topic_policy->topics[0];
  EXPECT_EQ(t0.name, "Investment advice");
  EXPECT_EQ(t0.examples.size(), 2u);
  EXPECT_EQ(t0.input_action, GuardAction::kBlock);
  EXPECT_EQ(t0.output_action, GuardAction::kNone);
  EXPECT_TRUE(t0.input_enabled);
  EXPECT_FALSE(t0.output_enabled);

  ASSERT_TRUE(d.content_policy);
  ASSERT_EQ(d.content_policy->filters.size(), 3u);
  const ContentFilterConfig& hate = d.content_policy->filters[0];
  EXPECT_EQ(hate.type, ContentFilterType::kHate);
  EXPECT_EQ(hate.input_strength, FilterStrength::kHigh);
  EXPECT_EQ(hate.output_strength, FilterStrength::kMedium);
  EXPECT_EQ(hate.input_modalities, (std::vector<Modality>{Modality::kText, Modality::kImage}));
  EXPECT_EQ(hate.output_action, GuardAction::kNone);
  EXPECT_EQ(d.content_policy->filters[1].type, ContentFilterType::kPromptAttack);

  ASSERT_TRUE(d.word_policy);
  ASSERT_EQ(d.word_policy->words.size(), 2u);
  EXPECT_EQ(d.word_policy->words[1].input_action, GuardAction::kNone);
  EXPECT_FALSE(d.word_policy->words[1].output_enabled);
  ASSERT_EQ(d.word_policy->managed_word_lists.size(), 1u);
  EXPECT_EQ(d.word_policy->managed_word_lists[0].output_action, GuardAction::kNone);

  ASSERT_TRUE(d.sensitive_information_policy);
  const auto& pii = d.sensitive_information_policy->pii_entities;
  ASSERT_EQ(pii.size(), 5u);
  EXPECT_EQ(pii[0].type, "EMAIL");
  EXPECT_EQ(pii[0].input_action, GuardAction::kAnonymize);  // from action
  EXPECT_EQ(pii[1].input_action, GuardAction::kBlock);
  EXPECT_EQ(pii[1].output_action, GuardAction::kAnonymize);
  EXPECT_EQ(pii[2].type, "NG_BVN");
  const auto& regexes = d.sensitive_information_policy->regexes;
  ASSERT_EQ(regexes.size(), 2u);
  EXPECT_EQ(regexes[0].description, "Internal ticket ids");
  EXPECT_EQ(regexes[0].input_action, GuardAction::kNone);
  EXPECT_EQ(regexes[0].output_action, GuardAction::kAnonymize);
  EXPECT_FALSE(regexes[1].description);

  ASSERT_TRUE(d.contextual_grounding_policy);
  ASSERT_EQ(d.contextual_grounding_policy->filters.size(), 2u);
  EXPECT_DOUBLE_EQ(d.contextual_grounding_policy->filters[0].threshold, 0.85);
  EXPECT_EQ(d.contextual_grounding_policy->filters[1].type, GroundingFilterType::kRelevance);

  ASSERT_TRUE(d.cross_region);
  EXPECT_EQ(d.cross_region->guardrail_profile_identifier, "us.guardrail.v1:0");
  EXPECT_EQ(d.blocked_input_messaging, "Sorry, I cannot help with that.");
  EXPECT_EQ(d.blocked_outputs_messaging, "Sorry, the answer was blocked.");
  EXPECT_TRUE(d.kms_key_id);
  ASSERT_EQ(d.tags.size(), 2u);
  EXPECT_EQ(d.tags[1].value, "");
  EXPECT_EQ(d.client_request_token, "req-2024-01-01-abc");
}

TEST(GuardrailConfigTest, RoundTripsThroughCanonicalJson) {
  for (std::string_view body : {kFullBody, kMinimalBody}) {
    GuardrailDefinition d = MustParse(body);
    const std::string canonical = SerializeGuardrailDefinition(d);
    GuardrailDefinition again = MustParse(canonical);
    EXPECT_EQ(again, d);
    EXPECT_EQ(SerializeGuardrailDefinition(again), canonical);  // stable
  }
}

TEST(GuardrailConfigTest, CanonicalJsonMakesDefaultsExplicit) {
  const std::string body = With("wordPolicyConfig", R"({"wordsConfig":[{"text":"x"}]})");
  const std::string canonical = SerializeGuardrailDefinition(MustParse(body));
  EXPECT_EQ(canonical,
            R"({"name":"g","wordPolicyConfig":{"wordsConfig":[{"text":"x","inputAction":"BLOCK",)"
            R"("outputAction":"BLOCK","inputEnabled":true,"outputEnabled":true}]},)"
            R"("blockedInputMessaging":"in","blockedOutputsMessaging":"out"})");
}

TEST(GuardrailConfigTest, AppliesBedrockDefaults) {
  GuardrailDefinition d = MustParse(kMinimalBody);
  EXPECT_FALSE(d.description);
  EXPECT_FALSE(d.topic_policy);
  EXPECT_FALSE(d.content_policy);
  EXPECT_FALSE(d.word_policy);
  EXPECT_FALSE(d.sensitive_information_policy);
  EXPECT_FALSE(d.contextual_grounding_policy);
  EXPECT_TRUE(d.tags.empty());

  d = MustParse(With("contentPolicyConfig",
                     R"({"filtersConfig":[{"type":"VIOLENCE","inputStrength":"HIGH",
                         "outputStrength":"HIGH"}]})"));
  const ContentFilterConfig& c = d.content_policy->filters[0];
  EXPECT_EQ(c.input_modalities, std::vector<Modality>{Modality::kText});
  EXPECT_EQ(c.output_modalities, std::vector<Modality>{Modality::kText});
  EXPECT_EQ(c.input_action, GuardAction::kBlock);
  EXPECT_TRUE(c.input_enabled && c.output_enabled);
  EXPECT_EQ(d.content_policy->tier, GuardrailTier::kClassic);

  d = MustParse(With("sensitiveInformationPolicyConfig",
                     R"({"piiEntitiesConfig":[{"type":"PHONE","action":"NONE"}]})"));
  const PiiEntityConfig& p = d.sensitive_information_policy->pii_entities[0];
  EXPECT_EQ(p.input_action, GuardAction::kNone);
  EXPECT_EQ(p.output_action, GuardAction::kNone);

  d = MustParse(With("contextualGroundingPolicyConfig",
                     R"({"filtersConfig":[{"type":"GROUNDING","threshold":0}]})"));
  EXPECT_EQ(d.contextual_grounding_policy->filters[0].action, GuardAction::kBlock);
  EXPECT_TRUE(d.contextual_grounding_policy->filters[0].enabled);

  // An explicit null is the same as an absent field.
  d = MustParse(With("description", "null"));
  EXPECT_FALSE(d.description);
}

TEST(GuardrailConfigTest, GuardActionNames) {
  EXPECT_EQ(GuardActionName(GuardAction::kBlock), "BLOCK");
  EXPECT_EQ(GuardActionName(GuardAction::kAnonymize), "ANONYMIZE");
  EXPECT_EQ(GuardActionName(GuardAction::kNone), "NONE");
}

TEST(GuardrailConfigTest, RefusesUnknownFieldsWithPathAndAllowedFields) {
  EXPECT_THAT(ErrorOf(With("guardrailName", R"("x")")),
              AllOf(HasSubstr("guardrailName: unknown field"), HasSubstr("blockedInputMessaging")));
  EXPECT_THAT(ErrorOf(FullWith(
                  {"sensitiveInformationPolicyConfig", "piiEntitiesConfig", "2", "mask"}, "true")),
              AllOf(HasSubstr("sensitiveInformationPolicyConfig.piiEntitiesConfig[2].mask: "
                              "unknown field"),
                    HasSubstr("type, action, inputAction")));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "tierConfig", "tier"}, R"("X")")),
              HasSubstr("topicPolicyConfig.tierConfig.tier: unknown field; allowed fields here: "
                        "tierName"));
}

TEST(GuardrailConfigTest, RefusesBadEnumValuesWithPathAndAllowedValues) {
  EXPECT_THAT(
      ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "piiEntitiesConfig", "2", "action"},
                       R"("DENY")")),
      HasSubstr("sensitiveInformationPolicyConfig.piiEntitiesConfig[2].action: 'DENY' is "
                "not allowed; allowed values: BLOCK, ANONYMIZE, NONE"));
  // Topics, content filters and words cannot anonymize.
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "1", "inputAction"},
                               R"("ANONYMIZE")")),
              HasSubstr("topicPolicyConfig.topicsConfig[1].inputAction: 'ANONYMIZE' is not "
                        "allowed; allowed values: BLOCK, NONE"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "0", "inputStrength"},
                               R"("EXTREME")")),
              HasSubstr("contentPolicyConfig.filtersConfig[0].inputStrength: 'EXTREME' is not "
                        "allowed; allowed values: NONE, LOW, MEDIUM, HIGH"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "0", "type"}, R"("SPAM")")),
              HasSubstr("allowed values: SEXUAL, VIOLENCE, HATE, INSULTS, MISCONDUCT, "
                        "PROMPT_ATTACK"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "0", "inputModalities"},
                               R"(["TEXT","AUDIO"])")),
              HasSubstr("contentPolicyConfig.filtersConfig[0].inputModalities[1]: 'AUDIO' is not "
                        "allowed; allowed values: TEXT, IMAGE"));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "tierConfig", "tierName"}, R"("GOLD")")),
              HasSubstr("topicPolicyConfig.tierConfig.tierName: 'GOLD' is not allowed; allowed "
                        "values: CLASSIC, STANDARD"));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "0", "type"}, R"("ALLOW")")),
              HasSubstr("allowed values: DENY"));
  EXPECT_THAT(
      ErrorOf(FullWith({"wordPolicyConfig", "managedWordListsConfig", "0", "type"}, R"("SLURS")")),
      HasSubstr("allowed values: PROFANITY"));
  EXPECT_THAT(ErrorOf(FullWith({"contextualGroundingPolicyConfig", "filtersConfig", "1", "type"},
                               R"("TRUTH")")),
              HasSubstr("allowed values: GROUNDING, RELEVANCE"));
}

TEST(GuardrailConfigTest, RefusesUnknownAndUndetectableEntityTypes) {
  EXPECT_THAT(
      ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "piiEntitiesConfig", "0", "type"},
                       R"("email")")),
      AllOf(HasSubstr("sensitiveInformationPolicyConfig.piiEntitiesConfig[0].type: "
                      "'email' is not a known entity type"),
            HasSubstr("EMAIL"), HasSubstr("NG_NIN"), HasSubstr("SECRET_JWT")));
  EXPECT_THAT(
      ErrorOf(FullWith(
          {"sensitiveInformationPolicyConfig", "piiEntitiesConfig", "4", "outputEnabled"}, "true")),
      AllOf(HasSubstr("piiEntitiesConfig[4].type: NAME"), HasSubstr("cannot detect yet")));
}

TEST(GuardrailConfigTest, RefusesWrongTypesAndMissingFields) {
  EXPECT_THAT(ErrorOf(With("name", "42")), HasSubstr("name: must be a string, got a number"));
  EXPECT_THAT(
      ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "0", "inputEnabled"}, R"("yes")")),
      HasSubstr("topicPolicyConfig.topicsConfig[0].inputEnabled: must be true or false, "
                "got a string"));
  EXPECT_THAT(ErrorOf(FullWith({"blockedInputMessaging"}, "")),
              HasSubstr("blockedInputMessaging: required field is missing"));
  EXPECT_THAT(
      ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "regexesConfig", "1", "action"}, "")),
      HasSubstr("sensitiveInformationPolicyConfig.regexesConfig[1].action: required field "
                "is missing; allowed values: BLOCK, ANONYMIZE, NONE"));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig"}, "[]")),
              HasSubstr("topicPolicyConfig: must be an object, got an array"));
  EXPECT_THAT(ErrorOf("[1,2]"), HasSubstr("must be an object"));
  EXPECT_THAT(ErrorOf("{\"name\": "), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf(With("wordPolicyConfig", "{}")),
              HasSubstr("wordPolicyConfig: needs wordsConfig, managedWordListsConfig or both"));
  EXPECT_THAT(ErrorOf(With("sensitiveInformationPolicyConfig", "{}")),
              HasSubstr("needs piiEntitiesConfig, regexesConfig or both"));
}

TEST(GuardrailConfigTest, RefusesLengthAndPatternViolations) {
  EXPECT_THAT(ErrorOf(With("name", '"' + std::string(51, 'a') + '"')),
              HasSubstr("name: must be 1 to 50 characters long, got 51"));
  EXPECT_THAT(ErrorOf(With("name", R"("my guardrail")")),
              HasSubstr("name: may contain only letters, digits, '-' and '_'"));
  EXPECT_THAT(ErrorOf(With("description", R"("")")),
              HasSubstr("description: must be 1 to 200 characters long, got 0"));
  EXPECT_THAT(ErrorOf(FullWith({"blockedOutputsMessaging"}, '"' + std::string(501, 'x') + '"')),
              HasSubstr("blockedOutputsMessaging: must be 1 to 500 characters long, got 501"));
  // Lengths count characters, not bytes.
  std::string fifty_e;
  for (int i = 0; i < 200; ++i) {
    fifty_e += "é";
  }
  MustParse(With("description", '"' + fifty_e + '"'));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "0", "name"},
                               R"("Investment/advice")")),
              HasSubstr("topicPolicyConfig.topicsConfig[0].name: may contain only"));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "0", "examples"},
                               R"(["a","b","c","d","e","f"])")),
              HasSubstr("topicPolicyConfig.topicsConfig[0].examples: must have 0 to 5 items, got "
                        "6"));
  EXPECT_THAT(
      ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "0", "examples"}, R"(["ok", ""])")),
      HasSubstr("topicPolicyConfig.topicsConfig[0].examples[1]: must be 1 to 100"));
  EXPECT_THAT(
      ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "regexesConfig", "0", "pattern"},
                       '"' + std::string(501, 'a') + '"')),
      HasSubstr("regexesConfig[0].pattern: must be 1 to 500 characters long, got 501"));
  EXPECT_THAT(ErrorOf(FullWith({"wordPolicyConfig", "wordsConfig", "1", "text"},
                               '"' + std::string(101, 'w') + '"')),
              HasSubstr("wordPolicyConfig.wordsConfig[1].text: must be 1 to 100 characters long"));
  EXPECT_THAT(ErrorOf(FullWith({"wordPolicyConfig", "wordsConfig", "1", "text"}, R"(" \u200b ")")),
              HasSubstr("wordPolicyConfig.wordsConfig[1].text: has no visible character"));
  EXPECT_THAT(ErrorOf(FullWith({"kmsKeyId"}, R"("my-key")")),
              HasSubstr("kmsKeyId: 'my-key' is not a KMS key id"));
  MustParse(FullWith({"kmsKeyId"}, R"("alias/guardrails")"));
  MustParse(FullWith({"kmsKeyId"}, R"("1234abcd-12ab-34cd-56ef-1234567890ab")"));
  MustParse(FullWith({"kmsKeyId"}, R"("arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/g")"));
  EXPECT_THAT(ErrorOf(FullWith({"crossRegionConfig", "guardrailProfileIdentifier"},
                               R"("us-east-1-profile")")),
              HasSubstr("crossRegionConfig.guardrailProfileIdentifier: 'us-east-1-profile' is "
                        "not a guardrail profile id"));
  MustParse(
      FullWith({"crossRegionConfig", "guardrailProfileIdentifier"},
               R"("arn:aws:bedrock:us-east-1:123456789012:guardrail-profile/us.guardrail.v1:0")"));
  EXPECT_THAT(ErrorOf(FullWith({"clientRequestToken"}, R"("-abc")")),
              HasSubstr("clientRequestToken: may contain only letters, digits and '-'"));
  EXPECT_THAT(ErrorOf(FullWith({"tags", "0", "key"}, R"("team#1")")),
              HasSubstr("tags[0].key: may contain only"));
}

TEST(GuardrailConfigTest, RefusesOutOfRangeNumbersAndArraySizes) {
  EXPECT_THAT(ErrorOf(FullWith(
                  {"contextualGroundingPolicyConfig", "filtersConfig", "0", "threshold"}, "1")),
              HasSubstr("contextualGroundingPolicyConfig.filtersConfig[0].threshold: must be from "
                        "0 to 0.99"));
  EXPECT_THAT(ErrorOf(FullWith(
                  {"contextualGroundingPolicyConfig", "filtersConfig", "0", "threshold"}, "-0.1")),
              HasSubstr("must be from 0 to 0.99"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig"}, "[]")),
              HasSubstr("contentPolicyConfig.filtersConfig: must have 1 to 6 items, got 0"));
  json::array topics;
  for (int i = 0; i < 31; ++i) {
    topics.push_back(
        json::parse(R"({"name":"t)" + std::to_string(i) + R"(","definition":"d","type":"DENY"})"));
  }
  json::object policy;
  policy["topicsConfig"] = topics;
  EXPECT_THAT(ErrorOf(With("topicPolicyConfig", json::serialize(policy))),
              HasSubstr("topicPolicyConfig.topicsConfig: must have 1 to 30 items, got 31"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "1", "outputStrength"},
                               R"("HIGH")")),
              HasSubstr("contentPolicyConfig.filtersConfig[1].outputStrength: must be NONE for "
                        "PROMPT_ATTACK"));
}

TEST(GuardrailConfigTest, RefusesDuplicatesWithinOneGuardrail) {
  EXPECT_THAT(
      ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "piiEntitiesConfig", "1", "type"},
                       R"("EMAIL")")),
      HasSubstr("sensitiveInformationPolicyConfig.piiEntitiesConfig[1].type: EMAIL is "
                "configured more than once"));
  EXPECT_THAT(ErrorOf(FullWith({"sensitiveInformationPolicyConfig", "regexesConfig", "1", "name"},
                               R"("Ticket")")),
              HasSubstr("sensitiveInformationPolicyConfig.regexesConfig[1].name: regex 'Ticket' "
                        "is defined more than once"));
  // Words are duplicates when they would match the same text.
  EXPECT_THAT(
      ErrorOf(FullWith({"wordPolicyConfig", "wordsConfig", "1", "text"}, R"("project   ZEUS")")),
      HasSubstr("wordPolicyConfig.wordsConfig[1].text: is the same word as "
                "wordsConfig[0]"));
  EXPECT_THAT(ErrorOf(FullWith({"topicPolicyConfig", "topicsConfig", "1", "name"},
                               R"("investment ADVICE")")),
              HasSubstr("topicPolicyConfig.topicsConfig[1].name: topic 'investment ADVICE' is "
                        "defined more than once"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "2", "type"}, R"("HATE")")),
              HasSubstr("contentPolicyConfig.filtersConfig[2].type: HATE is configured more than "
                        "once"));
  EXPECT_THAT(ErrorOf(FullWith({"contextualGroundingPolicyConfig", "filtersConfig", "1", "type"},
                               R"("GROUNDING")")),
              HasSubstr("filtersConfig[1].type: GROUNDING is configured more than once"));
  EXPECT_THAT(ErrorOf(FullWith({"contentPolicyConfig", "filtersConfig", "0", "inputModalities"},
                               R"(["TEXT","TEXT"])")),
              HasSubstr("inputModalities[1]: TEXT is listed more than once"));
  EXPECT_THAT(ErrorOf(FullWith({"tags", "1", "key"}, R"("team")")),
              HasSubstr("tags[1].key: tag 'team' is given more than once"));
}

TEST(GuardrailConfigTest, RefusesDuplicateJsonKeys) {
  EXPECT_THAT(ErrorOf(R"({"name":"a","name":"b","blockedInputMessaging":"i",
                          "blockedOutputsMessaging":"o"})"),
              HasSubstr("duplicate key 'name'"));
  EXPECT_THAT(ErrorOf(R"({"name":"a","blockedInputMessaging":"i","blockedOutputsMessaging":"o",
      "sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[
        {"type":"EMAIL","action":"ANONYMIZE","action":"NONE"}]}})"),
              AllOf(HasSubstr("duplicate sensitiveInformationPolicyConfig.piiEntitiesConfig[0]: "
                              "key 'action'")));
}

TEST(GuardrailConfigTest, RefusesAutomatedReasoningClearly) {
  EXPECT_THAT(ErrorOf(With("automatedReasoningPolicyConfig",
                           R"({"policies":["arn:aws:bedrock:us-east-1:123456789012:)"
                           R"(automated-reasoning-policy/abcdefghijkl"]})")),
              AllOf(HasSubstr("automatedReasoningPolicyConfig: is not supported by Perimeter"),
                    HasSubstr("remove the field")));
}

TEST(GuardrailConfigTest, RefusesOversizedInput) {
  std::string body(kMaxGuardrailDefinitionBytes + 1, ' ');
  EXPECT_THAT(ErrorOf(body), HasSubstr("at most 1048576"));
}

TEST(GuardrailConfigTest, MessagesDoNotEchoFreeText) {
  const std::string message =
      ErrorOf(FullWith({"blockedOutputsMessaging"}, '"' + std::string(600, 's') + '"'));
  EXPECT_THAT(message, Not(HasSubstr("sss")));
  EXPECT_THAT(
      ErrorOf(FullWith({"wordPolicyConfig", "wordsConfig", "1", "text"}, R"("PROJECT zeus")")),
      Not(HasSubstr("zeus")));
}

TEST(GuardrailConfigTest, ThresholdsRoundTripExactly) {
  for (const char* t : {"0", "0.1", "0.33", "0.7", "0.85", "0.99", "0.123456", "0.3333333333"}) {
    GuardrailDefinition d = MustParse(
        With("contextualGroundingPolicyConfig",
             std::string(R"({"filtersConfig":[{"type":"GROUNDING","threshold":)") + t + "}]}"));
    EXPECT_EQ(MustParse(SerializeGuardrailDefinition(d)), d) << t;
  }
}

}  // namespace
}  // namespace perimeter::guard
