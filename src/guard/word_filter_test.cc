#include "guard/word_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "guard/normalize.h"

namespace perimeter::guard {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<const WordFilter> MustBuild(const std::vector<std::string>& words,
                                            bool profanity = false) {
  auto filter = WordFilter::Build(words, profanity);
  EXPECT_TRUE(filter.ok()) << filter.status().ToString();
  return filter.ok() ? std::move(filter).value() : nullptr;
}

std::vector<WordMatch> FindIn(const WordFilter& filter, std::string_view text) {
  auto normalized = Normalize(text);
  EXPECT_TRUE(normalized.ok());
  return filter.Find(*normalized, text);
}

std::vector<std::string> Matched(const WordFilter& filter, std::string_view text) {
  std::vector<std::string> out;
  for (const WordMatch& m : FindIn(filter, text)) {
    out.push_back(m.match);
  }
  return out;
}

TEST(WordFilterTest, MatchesCaseInsensitively) {
  auto filter = MustBuild({"Acme Corp", "globex"});
  EXPECT_THAT(Matched(*filter, "we compared ACME CORP with GlObEx today"),
              ::testing::ElementsAre("ACME CORP", "GlObEx"));
}

TEST(WordFilterTest, MatchesNonAsciiCaseInsensitively) {
  auto filter = MustBuild({"été"});
  EXPECT_THAT(Matched(*filter, "L'ÉTÉ arrive"), ::testing::ElementsAre("ÉTÉ"));
}

TEST(WordFilterTest, MatchesWholeWordsOnly) {
  auto filter = MustBuild({"cunt", "ass", "cat"});
  EXPECT_TRUE(FindIn(*filter, "Scunthorpe United").empty());
  EXPECT_TRUE(FindIn(*filter, "a class act, a passage, an assassin").empty());
  EXPECT_TRUE(FindIn(*filter, "concatenate cats_and_dogs cat9").empty());
  EXPECT_THAT(Matched(*filter, "cat, (cat) cat."), ::testing::ElementsAre("cat", "cat", "cat"));
  EXPECT_THAT(Matched(*filter, "ass"), ::testing::ElementsAre("ass"));
}

TEST(WordFilterTest, UnicodeLettersCountAsWordCharacters) {
  auto filter = MustBuild({"cat"});
  EXPECT_TRUE(FindIn(*filter, "écat caté 猫cat").empty());
  EXPECT_THAT(Matched(*filter, "«cat»"), ::testing::ElementsAre("cat"));
}

TEST(WordFilterTest, PunctuationAtAnEdgeNeedsNoBoundaryThere) {
  auto filter = MustBuild({"c++", "$$$"});
  EXPECT_THAT(Matched(*filter, "I like c++ and $$$money"), ::testing::ElementsAre("c++", "$$$"));
  EXPECT_TRUE(FindIn(*filter, "abc++").empty());  // starts with a word character: boundary
}

TEST(WordFilterTest, PhraseMatchesAnyRunOfWhiteSpace) {
  auto filter = MustBuild({"project  zeus"});  // configured with two spaces
  EXPECT_THAT(Matched(*filter, "about Project Zeus."), ::testing::ElementsAre("Project Zeus"));
  EXPECT_THAT(Matched(*filter, "project\n\t  zeus"), ::testing::ElementsAre("project\n\t  zeus"));
  EXPECT_THAT(Matched(*filter, "project\u00A0zeus"),  // NBSP
              ::testing::ElementsAre("project\u00A0zeus"));
  EXPECT_TRUE(FindIn(*filter, "projectzeus project-zeus project zeuss").empty());
}

TEST(WordFilterTest, ZeroWidthCharactersDoNotEvadeAndSpanCoversThem) {
  auto filter = MustBuild({"fuck"});
  const std::string text = "oh f\u200Buck!";
  auto matches = FindIn(*filter, text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].match, "f\u200Buck");
  EXPECT_EQ(matches[0].span.begin_code_point, 3u);
  EXPECT_EQ(matches[0].span.end_code_point, 8u);
}

TEST(WordFilterTest, FullWidthLettersDoNotEvade) {
  auto filter = MustBuild({"secret plan"});
  const std::string text =
      "the ＳＥＣＲＥＴ　ｐｌａｎ";  // full-width letters and ideographic space
  auto matches = FindIn(*filter, text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].match, "ＳＥＣＲＥＴ　ｐｌａｎ");
  EXPECT_EQ(matches[0].span.begin_code_point, 4u);
  EXPECT_EQ(matches[0].span.end_code_point, 15u);
}

TEST(WordFilterTest, ConfiguredFullWidthWordMatchesAsciiText) {
  auto filter = MustBuild({"ｂａｄ"});
  EXPECT_THAT(Matched(*filter, "so BAD"), ::testing::ElementsAre("BAD"));
}

TEST(WordFilterTest, OffsetsAreCodePointsAfterNonAsciiText) {
  auto filter = MustBuild({"target"});
  const std::string text = "Ẹ̀kọ́ ọmọ 🙂 target";
  auto matches = FindIn(*filter, text);
  ASSERT_EQ(matches.size(), 1u);
  const size_t byte = text.find("target");
  EXPECT_EQ(matches[0].span.begin_byte, byte);
  EXPECT_EQ(matches[0].span.end_byte, byte + 6);
  const CodePointIndex index(text);
  EXPECT_EQ(matches[0].span.begin_code_point, index.CodePointAt(byte));
  EXPECT_EQ(matches[0].span.end_code_point, index.CodePointAt(byte) + 6);
  EXPECT_EQ(matches[0].match, "target");
}

TEST(WordFilterTest, ReportsEveryOccurrenceWithIndex) {
  auto filter = MustBuild({"alpha", "beta"});
  auto matches = FindIn(*filter, "beta alpha beta");
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(matches[0].index, 1u);
  EXPECT_EQ(matches[1].index, 0u);
  EXPECT_EQ(matches[2].index, 1u);
  EXPECT_FALSE(matches[0].managed);
  EXPECT_EQ(matches[2].span.begin_byte, 11u);
}

TEST(WordFilterTest, ManagedListHitsAndScunthorpeNegatives) {
  auto filter = MustBuild({}, /*profanity=*/true);
  auto matches = FindIn(*filter, "You absolute FUCKING asshole, mumu!");
  ASSERT_EQ(matches.size(), 3u);
  for (const auto& m : matches) {
    EXPECT_TRUE(m.managed);
    EXPECT_LT(m.index, ManagedProfanityList().size());
    EXPECT_EQ(ManagedProfanityList()[m.index], internal::FoldWordForMatching(m.match));
  }
  EXPECT_EQ(matches[0].match, "FUCKING");
  EXPECT_EQ(matches[1].match, "asshole");
  EXPECT_EQ(matches[2].match, "mumu");
  for (const char* clean :
       {"Scunthorpe", "Penistone", "a class assignment", "the cockpit of a cocktail bar",
        "Charles Dickens", "an analysis of the passage", "Shitake mushrooms, assassin",
        "cumulative", "grape", "therapist", "Sussex", "Arsenal", "bassist"}) {
    EXPECT_TRUE(FindIn(*filter, clean).empty()) << clean;
  }
}

TEST(WordFilterTest, CustomAndManagedTogether) {
  auto filter = MustBuild({"widget"}, /*profanity=*/true);
  auto matches = FindIn(*filter, "shit widget");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_TRUE(matches[0].managed);
  EXPECT_FALSE(matches[1].managed);
  EXPECT_EQ(matches[1].index, 0u);
  EXPECT_EQ(filter->custom_word_count(), 1u);
  EXPECT_TRUE(filter->profanity());
}

TEST(WordFilterTest, ManagedListIsLowerCaseUniqueAndNonEmpty) {
  auto list = ManagedProfanityList();
  EXPECT_GT(list.size(), 200u);
  std::set<std::string> seen;
  for (std::string_view w : list) {
    EXPECT_FALSE(w.empty());
    EXPECT_EQ(internal::FoldWordForMatching(w), w) << w;  // lower case, single spaces, trimmed
    EXPECT_TRUE(seen.insert(std::string(w)).second) << "duplicate: " << w;
  }
}

TEST(WordFilterTest, EveryManagedEntryMatchesItself) {
  auto filter = MustBuild({}, /*profanity=*/true);
  auto list = ManagedProfanityList();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string text = "x " + std::string(list[i]) + " y";
    bool found = false;
    for (const auto& m : FindIn(*filter, text)) {
      found |= m.managed && m.index == i;
    }
    EXPECT_TRUE(found) << list[i];
  }
}

TEST(WordFilterTest, EmptyFilterMatchesNothing) {
  auto filter = MustBuild({});
  EXPECT_TRUE(FindIn(*filter, "fuck anything").empty());
}

TEST(WordFilterTest, RejectsBadWordsByIndex) {
  auto too_long = WordFilter::Build({"ok", std::string(101, 'a')}, false);
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.status().message(), HasSubstr("words[1]"));
  EXPECT_THAT(too_long.status().message(), HasSubstr("1 to 100"));

  auto empty = WordFilter::Build({""}, false);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("words[0]"));

  auto invisible = WordFilter::Build({"  \u200B\t"}, false);
  ASSERT_FALSE(invisible.ok());
  EXPECT_THAT(invisible.status().message(), HasSubstr("no visible character"));

  // 100 code points of multi-byte text are fine.
  std::string hundred;
  for (int i = 0; i < 100; ++i) {
    hundred += "é";
  }
  EXPECT_TRUE(WordFilter::Build({hundred}, false).ok());
}

TEST(WordFilterTest, EnforcesBedrockWordCountLimit) {
  std::vector<std::string> words;
  for (size_t i = 0; i < kMaxCustomWords; ++i) {
    words.push_back("w" + std::to_string(i));
  }
  auto filter = MustBuild(words);
  ASSERT_NE(filter, nullptr);
  auto matches = FindIn(*filter, "w9999 w10000 w0");
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0].index, 9999u);
  EXPECT_EQ(matches[1].index, 0u);

  words.push_back("one too many");
  auto too_many = WordFilter::Build(words, false);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("at most 10000"));
}

TEST(WordFilterTest, ConcurrentFindAndFilterChurn) {
  auto shared = MustBuild({"needle"}, /*profanity=*/true);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (Matched(*shared, "a needle and shit") != std::vector<std::string>{"needle", "shit"}) {
          ++failures;
        }
        // Filters created and destroyed while others scan, on the same threads.
        auto own =
            WordFilter::Build({"thread" + std::to_string(t), "x" + std::to_string(i)}, false);
        if (!own.ok() || Matched(**own, "thread" + std::to_string(t)).size() != 1) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST(MatchViewTest, FoldsCollapsesAndMapsBack) {
  const std::string source = "A  B\n\tÉ";
  internal::MatchView view(source);
  EXPECT_EQ(view.text(), "a b é");
  EXPECT_EQ(view.SourceBegin(0), 0u);
  EXPECT_EQ(view.SourceBegin(2), 3u);  // 'b'
  EXPECT_EQ(view.SourceBegin(4), 6u);  // first byte of 'é'
  EXPECT_EQ(view.SourceEnd(5), 8u);
  EXPECT_EQ(view.SourceBegin(view.text().size()), source.size());
}

TEST(MatchViewTest, AsciiWithSingleSpacesIsIdentity) {
  internal::MatchView view("Hello World");
  EXPECT_EQ(view.text(), "hello world");
  EXPECT_EQ(view.SourceBegin(6), 6u);
  EXPECT_EQ(view.SourceEnd(6), 7u);
}

}  // namespace
}  // namespace perimeter::guard
