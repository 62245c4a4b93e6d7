#include "common/strings.h"

#include <gtest/gtest.h>

namespace perimeter {
namespace {

TEST(GlobMatchTest, MatchesStarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("anthropic.*", "anthropic.claude-3"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_FALSE(GlobMatch("anthropic.*", "meta.llama"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
  EXPECT_FALSE(GlobMatch("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

TEST(ParseDurationTest, AcceptsUnitsAndRejectsGarbage) {
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("10s")->count(), 10000);
  EXPECT_EQ(ParseDuration("2m")->count(), 120000);
  EXPECT_EQ(ParseDuration("1h")->count(), 3600000);
  EXPECT_EQ(ParseDuration("3")->count(), 3000);
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("10 parsecs").ok());
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
}

TEST(ParseByteSizeTest, AcceptsDecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("25MB"), 25'000'000u);
  EXPECT_EQ(*ParseByteSize("1KiB"), 1024u);
  EXPECT_EQ(*ParseByteSize("26214400"), 26214400u);
  EXPECT_FALSE(ParseByteSize("12 bananas").ok());
}

TEST(UriCodingTest, EncodesReservedAndDecodesBack) {
  EXPECT_EQ(UriEncode("anthropic.claude-3:0"), "anthropic.claude-3%3A0");
  EXPECT_EQ(UriEncode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(*UriDecode("anthropic.claude-3%3a0"), "anthropic.claude-3:0");
  EXPECT_FALSE(UriDecode("bad%2").ok());
  EXPECT_FALSE(UriDecode("bad%").ok());
  EXPECT_FALSE(UriDecode("bad%zz").ok());
}

TEST(SplitWordsTest, SplitsOnWhitespaceRuns) {
  auto w = SplitWords("  hello \t world\n ");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], "hello");
  EXPECT_EQ(w[1], "world");
  EXPECT_TRUE(SplitWords("   ").empty());
}

}  // namespace
}  // namespace perimeter

namespace perimeter {
namespace {

TEST(JoinPathTest, AddsOneSlash) {
  EXPECT_EQ(JoinPath("var", "audit"), "var/audit");
  EXPECT_EQ(JoinPath("var/", "audit"), "var/audit");
  EXPECT_EQ(JoinPath("", "audit"), "audit");
}

TEST(TruncateUtf8Test, CutsAtACharacterBoundary) {
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "abc");
  // "é" is two bytes: cutting inside it drops it whole.
  EXPECT_EQ(TruncateUtf8("a\xc3\xa9", 2), "a");
}

}  // namespace
}  // namespace perimeter
