#include "guard/eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace perimeter::guard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- ParseLabeledLine -------------------------------------------------------------------------

TEST(ParseLabeledLineTest, ParsesTextAndSpans) {
  auto r = ParseLabeledLine(
      R"({"text": "mail a@b.ng or call 08031234567", "spans": [)"
      R"({"type": "EMAIL", "start": 5, "end": 11}, {"type": "PHONE", "start": 20, "end": 31}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, "mail a@b.ng or call 08031234567");
  ASSERT_EQ(r->spans.size(), 2u);
  EXPECT_EQ(r->spans[0].type, "EMAIL");
  EXPECT_EQ(r->spans[0].start, 5u);
  EXPECT_EQ(r->spans[0].end, 11u);
  EXPECT_EQ(r->spans[1].type, "PHONE");
  EXPECT_EQ(r->spans[1].start, 20u);
  EXPECT_EQ(r->spans[1].end, 31u);
}

TEST(ParseLabeledLineTest, AcceptsNegativeExampleWithNoSpans) {
  auto r = ParseLabeledLine(R"({"spans": [], "text": "How do I reset my password?"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->spans.empty());
  EXPECT_EQ(r->text, "How do I reset my password?");
}

TEST(ParseLabeledLineTest, OffsetsCountCodePointsNotBytes) {
  // "Ẹ jọ̀wọ́ ₦" is 10 code points (the tones are combining marks) but 20 bytes; the span is
  // the last code point (₦, 3 bytes).
  const std::string text = "\u1eb8 j\u1ecd\u0300w\u1ecd\u0301 \u20a6";
  ASSERT_EQ(text.size(), 20u);
  auto ok = ParseLabeledLine(R"({"text": ")" + text +
                             R"(", "spans": [{"type": "X", "start": 9, "end": 10}]})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->spans[0].end, 10u);

  // Within the bytes, beyond the code points: refused.
  auto beyond = ParseLabeledLine(R"({"text": ")" + text +
                                 R"(", "spans": [{"type": "X", "start": 9, "end": 11}]})");
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(beyond.status().message(), HasSubstr("spans[0].end (11)"));
  EXPECT_THAT(beyond.status().message(), HasSubstr("10 code points"));
}

TEST(ParseLabeledLineTest, AcceptsJsonEscapedText) {
  // \u escapes (including a surrogate pair for an emoji) decode to one code point each.
  auto r = ParseLabeledLine(
      R"({"text": "\ud83d\ude4f PIN 4821\u200b", "spans": [{"type": "PIN", "start": 6, "end": 10}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, "\U0001F64F PIN 4821\u200b");
  auto beyond = ParseLabeledLine(
      R"({"text": "\ud83d\ude4f PIN 4821", "spans": [{"type": "PIN", "start": 6, "end": 11}]})");
  EXPECT_FALSE(beyond.ok());
}

TEST(ParseLabeledLineTest, RefusesEndBeforeOrAtStart) {
  auto reversed =
      ParseLabeledLine(R"({"text": "abcdef", "spans": [{"type": "X", "start": 4, "end": 2}]})");
  ASSERT_FALSE(reversed.ok());
  EXPECT_THAT(reversed.status().message(), HasSubstr("end (2) must be greater than start (4)"));

  auto empty =
      ParseLabeledLine(R"({"text": "abcdef", "spans": [{"type": "X", "start": 3, "end": 3}]})");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("spans[0]"));
}

TEST(ParseLabeledLineTest, NamesTheSpanIndexInErrors) {
  auto r = ParseLabeledLine(R"({"text": "abcdef", "spans": [{"type": "X", "start": 0, "end": 1}, )"
                            R"({"type": "Y", "start": 0, "end": 7}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("spans[1].end"));
}

TEST(ParseLabeledLineTest, RefusesBadOffsets) {
  for (const char* span : {
           R"({"type": "X", "start": -1, "end": 2})",
           R"({"type": "X", "start": 0.5, "end": 2})",
           R"({"type": "X", "start": 1.0, "end": 2})",
           R"({"type": "X", "start": "0", "end": 2})",
           R"({"type": "X", "start": 0})",
           R"({"type": "X", "end": 2})",
           R"({"type": "X", "start": 0, "end": null})",
       }) {
    auto r = ParseLabeledLine(std::string(R"({"text": "abcdef", "spans": [)") + span + "]}");
    ASSERT_FALSE(r.ok()) << span;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("non-negative integer")) << span;
  }
}

TEST(ParseLabeledLineTest, RefusesBadTypes) {
  for (const char* span : {
           R"({"start": 0, "end": 2})",
           R"({"type": "", "start": 0, "end": 2})",
           R"({"type": 7, "start": 0, "end": 2})",
           R"({"type": "email", "start": 0, "end": 2})",
           R"({"type": "CREDIT CARD", "start": 0, "end": 2})",
       }) {
    auto r = ParseLabeledLine(std::string(R"({"text": "abcdef", "spans": [)") + span + "]}");
    ASSERT_FALSE(r.ok()) << span;
    EXPECT_THAT(r.status().message(), HasSubstr("spans[0].type")) << span;
  }
}

TEST(ParseLabeledLineTest, RefusesMalformedStructure) {
  struct Case {
    const char* line;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"text": "a", "spans": [})", "not valid JSON"},
           Case{"", "not valid JSON"},
           Case{R"(["text", "spans"])", "must be a JSON object"},
           Case{R"({"spans": []})", "needs \"text\""},
           Case{R"({"text": 5, "spans": []})", "needs \"text\""},
           Case{R"({"text": "a"})", "needs \"spans\""},
           Case{R"({"text": "a", "spans": {}})", "needs \"spans\""},
           Case{R"({"text": "a", "spans": [3]})", "spans[0] must be an object"},
           Case{R"({"text": "a", "spans": [], "label": "x"})", "unknown key 'label'"},
           Case{R"({"text": "a", "spans": [{"type": "X", "start": 0, "end": 1, "score": 1}]})",
                "spans[0] has unknown key 'score'"},
           Case{R"({"text": "a", "text": "b", "spans": []})", "repeats a key"},
           Case{R"({"text": "a", "spans": [{"type": "X", "type": "Y", "start": 0, "end": 1}]})",
                "repeats a key"},
       }) {
    auto r = ParseLabeledLine(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.line;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.line;
  }
}

TEST(ParseLabeledLineTest, RefusesInvalidUtf8) {
  auto r = ParseLabeledLine("{\"text\": \"card \xff\xfe\", \"spans\": []}");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not valid JSON"));
}

TEST(ParseLabeledLineTest, ErrorsNeverEchoTheLine) {
  const std::string secret = "4111111111111111";
  const std::string long_key(500, 'k');
  for (const std::string& line : {
           R"({"text": ")" + secret + R"(", "spans": [{"type": "X", "start": 0, "end": 99}]})",
           R"({"text": ")" + secret + R"(", "spans": [)",
           R"({"text": ")" + secret + R"(", "spans": [], ")" + long_key + R"(": 1})",
       }) {
    auto r = ParseLabeledLine(line);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), Not(HasSubstr(secret)));
    EXPECT_LT(r.status().message().size(), 200u) << r.status().message();
  }
}

// ---- F2 -----------------------------------------------------------------------------------------

TEST(F2Test, MatchesHandComputedValues) {
  EXPECT_DOUBLE_EQ(F2(1.0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(F2(0.5, 1.0), 2.5 / 3.0);        // 5*.5*1 / (2 + 1)
  EXPECT_DOUBLE_EQ(F2(1.0, 0.5), 2.5 / 4.5);        // 5*1*.5 / (4 + .5)
  EXPECT_DOUBLE_EQ(F2(0.8, 0.6), 2.4 / 3.8);        // 5*.48 / (3.2 + .6)
  EXPECT_DOUBLE_EQ(F2(0.25, 0.75), 0.9375 / 1.75);  // 5*.1875 / (1 + .75)
  EXPECT_DOUBLE_EQ(F2(0.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(F2(1.0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(F2(0.0, 0.0), 0.0);
}

TEST(F2Test, WeighsRecallAbovePrecision) { EXPECT_GT(F2(0.5, 0.9), F2(0.9, 0.5)); }

// ---- ScoreSpans ---------------------------------------------------------------------------------

LabeledSpan S(std::string type, size_t start, size_t end) { return {std::move(type), start, end}; }

const TypeScore* Find(const std::vector<TypeScore>& scores, std::string_view type) {
  for (const TypeScore& s : scores) {
    if (s.type == type) {
      return &s;
    }
  }
  return nullptr;
}

TEST(ScoreSpansTest, ExactMatchIsTruePositive) {
  auto scores = ScoreSpans({{S("EMAIL", 5, 20)}}, {{S("EMAIL", 5, 20)}});
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].type, "EMAIL");
  EXPECT_EQ(scores[0].true_positives, 1u);
  EXPECT_EQ(scores[0].false_positives, 0u);
  EXPECT_EQ(scores[0].false_negatives, 0u);
  EXPECT_DOUBLE_EQ(scores[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(scores[0].recall, 1.0);
  EXPECT_DOUBLE_EQ(scores[0].f2, 1.0);
}

TEST(ScoreSpansTest, OverlapOfHalfTheLongerSpanMatches) {
  // Gold 0-10, prediction 5-12: overlap 5, longer 10 -> 2*5 >= 10, a match.
  auto half = ScoreSpans({{S("PHONE", 0, 10)}}, {{S("PHONE", 5, 12)}});
  EXPECT_EQ(half[0].true_positives, 1u);
  // Gold 0-10, prediction 6-12: overlap 4 < 5: a miss and a false alarm.
  auto less = ScoreSpans({{S("PHONE", 0, 10)}}, {{S("PHONE", 6, 12)}});
  EXPECT_EQ(less[0].true_positives, 0u);
  EXPECT_EQ(less[0].false_positives, 1u);
  EXPECT_EQ(less[0].false_negatives, 1u);
  // A prediction containing the gold span but more than twice as long does not match.
  auto wide = ScoreSpans({{S("PIN", 10, 14)}}, {{S("PIN", 5, 14)}});
  EXPECT_EQ(wide[0].true_positives, 0u);
  auto fits = ScoreSpans({{S("PIN", 10, 14)}}, {{S("PIN", 6, 14)}});
  EXPECT_EQ(fits[0].true_positives, 1u);
  // Touching spans do not overlap.
  auto touch = ScoreSpans({{S("PIN", 0, 1)}}, {{S("PIN", 1, 2)}});
  EXPECT_EQ(touch[0].true_positives, 0u);
}

TEST(ScoreSpansTest, WrongTypeIsFalsePositiveAndFalseNegative) {
  auto scores = ScoreSpans({{S("NG_BVN", 10, 21)}}, {{S("NG_NIN", 10, 21)}});
  ASSERT_EQ(scores.size(), 2u);
  // Sorted by type name.
  EXPECT_EQ(scores[0].type, "NG_BVN");
  EXPECT_EQ(scores[1].type, "NG_NIN");
  EXPECT_EQ(scores[0].true_positives, 0u);
  EXPECT_EQ(scores[0].false_negatives, 1u);
  EXPECT_EQ(scores[0].false_positives, 0u);
  EXPECT_DOUBLE_EQ(scores[0].precision, 1.0);  // never predicted
  EXPECT_DOUBLE_EQ(scores[0].recall, 0.0);
  EXPECT_DOUBLE_EQ(scores[0].f2, 0.0);
  EXPECT_EQ(scores[1].false_positives, 1u);
  EXPECT_EQ(scores[1].false_negatives, 0u);
  EXPECT_DOUBLE_EQ(scores[1].precision, 0.0);
  EXPECT_DOUBLE_EQ(scores[1].recall, 1.0);  // nothing to find
  EXPECT_DOUBLE_EQ(scores[1].f2, 0.0);
}

TEST(ScoreSpansTest, GoldSpanMatchesAtMostOnePrediction) {
  auto scores = ScoreSpans({{S("URL", 0, 20)}}, {{S("URL", 0, 20), S("URL", 1, 20)}});
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].true_positives, 1u);
  EXPECT_EQ(scores[0].false_positives, 1u);
  EXPECT_EQ(scores[0].false_negatives, 0u);
  EXPECT_DOUBLE_EQ(scores[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(scores[0].recall, 1.0);
}

TEST(ScoreSpansTest, PredictionMatchesAtMostOneGoldSpan) {
  // Prediction 0-4 overlaps gold 0-2 and 2-4 by exactly half of itself: it may take only one.
  auto scores = ScoreSpans({{S("PIN", 0, 2), S("PIN", 2, 4)}}, {{S("PIN", 0, 4)}});
  EXPECT_EQ(scores[0].true_positives, 1u);
  EXPECT_EQ(scores[0].false_negatives, 1u);
  EXPECT_EQ(scores[0].false_positives, 0u);
}

TEST(ScoreSpansTest, PrefersTheLargerOverlapWhenMatching) {
  // Prediction A (0-10) fits gold X (0-10) exactly and gold Y (4-14) well enough; prediction B
  // (6-14) fits only Y. Matching by largest overlap pairs A-X and B-Y: two hits, whatever the
  // order of the predictions.
  std::vector<LabeledSpan> gold = {S("IP_ADDRESS", 4, 14), S("IP_ADDRESS", 0, 10)};
  for (const auto& pred :
       std::vector<std::vector<LabeledSpan>>{{S("IP_ADDRESS", 0, 10), S("IP_ADDRESS", 6, 14)},
                                             {S("IP_ADDRESS", 6, 14), S("IP_ADDRESS", 0, 10)}}) {
    auto scores = ScoreSpans({gold}, {pred});
    EXPECT_EQ(scores[0].true_positives, 2u);
    EXPECT_EQ(scores[0].false_positives, 0u);
    EXPECT_EQ(scores[0].false_negatives, 0u);
  }
}

TEST(ScoreSpansTest, SpansOnlyMatchWithinTheirOwnExample) {
  auto scores = ScoreSpans({{S("EMAIL", 0, 10)}, {}}, {{}, {S("EMAIL", 0, 10)}});
  EXPECT_EQ(scores[0].true_positives, 0u);
  EXPECT_EQ(scores[0].false_positives, 1u);
  EXPECT_EQ(scores[0].false_negatives, 1u);
}

TEST(ScoreSpansTest, AggregatesOverTheDatasetWithHandComputedScores) {
  // CARD: 3 gold, predictions hit 2 and add 2 false alarms -> P = 2/4, R = 2/3.
  // SSN: 1 gold, 1 exact hit -> P = R = 1.
  std::vector<std::vector<LabeledSpan>> gold = {
      {S("CARD", 0, 16), S("SSN", 20, 31)},
      {S("CARD", 3, 22)},
      {S("CARD", 0, 19)},
      {},
  };
  std::vector<std::vector<LabeledSpan>> predicted = {
      {S("CARD", 0, 16), S("SSN", 20, 31)},
      {S("CARD", 3, 22), S("CARD", 30, 46)},
      {},
      {S("CARD", 5, 21)},
  };
  auto scores = ScoreSpans(gold, predicted);
  ASSERT_EQ(scores.size(), 2u);
  const TypeScore* card = Find(scores, "CARD");
  ASSERT_NE(card, nullptr);
  EXPECT_EQ(card->true_positives, 2u);
  EXPECT_EQ(card->false_positives, 2u);
  EXPECT_EQ(card->false_negatives, 1u);
  EXPECT_DOUBLE_EQ(card->precision, 0.5);
  EXPECT_DOUBLE_EQ(card->recall, 2.0 / 3.0);
  // F2 = 5 * (1/2) * (2/3) / (4 * (1/2) + 2/3) = (5/3) / (8/3) = 0.625.
  EXPECT_DOUBLE_EQ(card->f2, 0.625);
  const TypeScore* ssn = Find(scores, "SSN");
  ASSERT_NE(ssn, nullptr);
  EXPECT_DOUBLE_EQ(ssn->f2, 1.0);
}

TEST(ScoreSpansTest, TypesInNeitherListAreAbsent) {
  EXPECT_TRUE(ScoreSpans({}, {}).empty());
  EXPECT_TRUE(ScoreSpans({{}, {}}, {{}, {}}).empty());
  auto scores = ScoreSpans({{S("PIN", 0, 4)}}, {{}});
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].type, "PIN");
}

TEST(ScoreSpansTest, ShorterListIsPaddedWithEmptyExamples) {
  auto missing_predictions = ScoreSpans({{S("PIN", 0, 4)}, {S("PIN", 0, 4)}}, {{S("PIN", 0, 4)}});
  EXPECT_EQ(missing_predictions[0].true_positives, 1u);
  EXPECT_EQ(missing_predictions[0].false_negatives, 1u);
  auto missing_gold = ScoreSpans({}, {{S("AGE", 3, 5)}});
  EXPECT_EQ(missing_gold[0].false_positives, 1u);
}

}  // namespace
}  // namespace perimeter::guard
