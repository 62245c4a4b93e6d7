#include "guard/normalize.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace perimeter::guard {

void PrintTo(const OriginalSpan& s, std::ostream* os) {
  *os << "bytes [" << s.begin_byte << ", " << s.end_byte << ") code points [" << s.begin_code_point
      << ", " << s.end_code_point << ")";
}

namespace {

NormalizedText MustNormalize(std::string_view in, const NormalizeOptions& options = {}) {
  auto result = Normalize(in, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(result).value();
}

OriginalSpan Span(uint32_t begin_byte, uint32_t end_byte, uint32_t begin_cp, uint32_t end_cp) {
  return {begin_byte, end_byte, begin_cp, end_cp};
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) {
      return false;
    }
  }
  return true;
}

std::string EncodeUtf8(char32_t c) {
  std::string out;
  icu::UnicodeString(static_cast<UChar32>(c)).toUTF8String(out);
  return out;
}

TEST(NormalizeTest, PrintableAsciiIsReturnedUnchangedWithIdentityMap) {
  const std::string in = "Card 4111 1111 1111 1111,\tmail ada@example.com\r\n";
  const NormalizedText out = MustNormalize(in);
  EXPECT_EQ(out.text(), in);
  EXPECT_TRUE(out.unchanged());
  EXPECT_EQ(out.original_size(), in.size());
  EXPECT_EQ(out.ToOriginal(5, 24), Span(5, 24, 5, 24));
  EXPECT_EQ(out.ToOriginal(0, in.size()), Span(0, in.size(), 0, in.size()));
}

TEST(NormalizeTest, EmptyInput) {
  const NormalizedText out = MustNormalize("");
  EXPECT_EQ(out.text(), "");
  EXPECT_EQ(out.ToOriginal(0, 0), Span(0, 0, 0, 0));
}

TEST(NormalizeTest, FullWidthDigitsBecomeAsciiAndMapToTheirCodePoints) {
  const std::string in = "４１１１ １１１１ １１１１ １１１１";
  const NormalizedText out = MustNormalize(in);
  ASSERT_EQ(out.text(), "4111 1111 1111 1111");
  EXPECT_FALSE(out.unchanged());
  // Output byte i came from original code point i; full-width digits are 3 bytes, spaces 1.
  for (uint32_t i = 0; i < out.text().size(); ++i) {
    const bool space = i % 5 == 4;
    const uint32_t byte = 3 * (i - i / 5) + i / 5;
    EXPECT_EQ(out.ToOriginal(i, i + 1), Span(byte, byte + (space ? 1 : 3), i, i + 1)) << i;
  }
  EXPECT_EQ(out.ToOriginal(0, out.text().size()), Span(0, in.size(), 0, 19));
  EXPECT_EQ(out.ToOriginal(5, 9), Span(13, 25, 5, 9));  // the second group
}

TEST(NormalizeTest, ZeroWidthCharactersInsideAnEmailAreRemoved) {
  const std::string in = "a\u200Bda@exa\u200Dmple.com";
  const NormalizedText out = MustNormalize(in);
  ASSERT_EQ(out.text(), "ada@example.com");
  EXPECT_EQ(out.ToOriginal(0, 15), Span(0, 21, 0, 17));
  // "example": starts at original "exa", spans the ZWJ inside, ends after "mple".
  EXPECT_EQ(out.ToOriginal(4, 11), Span(7, 17, 5, 13));
  // A span neither starts nor ends with removed characters next to it.
  EXPECT_EQ(out.ToOriginal(0, 1), Span(0, 1, 0, 1));
  EXPECT_EQ(out.ToOriginal(1, 3), Span(4, 6, 2, 4));
  EXPECT_EQ(out.ToOriginal(4, 7), Span(7, 10, 5, 8));
  EXPECT_EQ(out.ToOriginal(7, 11), Span(13, 17, 9, 13));
}

TEST(NormalizeTest, SoftHyphenAndBidiControlsAreRemoved) {
  const std::string in = "41\u00AD11\u202E22\u202C\u2066x\u2069 \u200F33";
  const NormalizedText out = MustNormalize(in);
  EXPECT_EQ(out.text(), "411122x 33");
  // "33" after the RLM maps to its own bytes only.
  EXPECT_EQ(out.ToOriginal(8, 10), Span(in.size() - 2, in.size(), 14, 16));
}

TEST(NormalizeTest, EveryKindOfInvisibleCharacterIsRemovedBetweenDigits) {
  const std::vector<char32_t> invisible = {
      0x200B,  0x200C,  0x200D,  0x200E,  0x200F,  0x2060,  0x2061, 0x2062, 0x2063, 0x2064,
      0xFEFF,  0x00AD,  0x202A,  0x202B,  0x202C,  0x202D,  0x202E, 0x2066, 0x2067, 0x2068,
      0x2069,  0x034F,  0x115F,  0x1160,  0x3164,  0xFFA0,  0x180B, 0x180E, 0xFE00, 0xFE0F,
      0xE0001, 0xE0020, 0xE0041, 0xE007F, 0xE0100, 0xE01EF, 0x061C, 0x17B4};
  for (char32_t c : invisible) {
    EXPECT_TRUE(IsInvisible(c)) << std::hex << static_cast<uint32_t>(c);
    const std::string in = "1" + EncodeUtf8(c) + "2";
    const NormalizedText out = MustNormalize(in);
    EXPECT_EQ(out.text(), "12") << std::hex << static_cast<uint32_t>(c);
    EXPECT_EQ(out.ToOriginal(1, 2), Span(in.size() - 1, in.size(), 2, 3));
  }
  for (char32_t c : {U' ', U'\t', U'\n', U'a', char32_t{0x00A0}, char32_t{0x2009}, char32_t{0x3000},
                     char32_t{0x0301}, char32_t{0x4E2D}}) {
    EXPECT_FALSE(IsInvisible(c)) << std::hex << static_cast<uint32_t>(c);
  }
  EXPECT_FALSE(IsInvisible(0x110000));
}

TEST(NormalizeTest, ControlCharactersAreRemovedUnlessDisabled) {
  const std::string in = std::string("41\x00", 3) +
                         "11\x1B"
                         "22\x7F\xC2\x85"
                         "3\t4\n";
  EXPECT_EQ(MustNormalize(in).text(),
            "411122\xC2\x85"
            "3\t4\n");
  NormalizeOptions keep;
  keep.remove_control_characters = false;
  EXPECT_EQ(MustNormalize(in, keep).text(), in);
}

TEST(NormalizeTest, LigatureMapsBothBytesToTheLigature) {
  const NormalizedText out = MustNormalize("\uFB01le");
  ASSERT_EQ(out.text(), "file");
  EXPECT_EQ(out.ToOriginal(0, 1), Span(0, 3, 0, 1));
  EXPECT_EQ(out.ToOriginal(1, 2), Span(0, 3, 0, 1));
  EXPECT_EQ(out.ToOriginal(1, 3), Span(0, 4, 0, 2));
  EXPECT_EQ(out.ToOriginal(2, 4), Span(3, 5, 1, 3));
}

TEST(NormalizeTest, MathematicalAndOtherCompatibilityDigitsBecomeAscii) {
  const NormalizedText bold = MustNormalize("\U0001D7CF\U0001D7D0\U0001D7D1");  // 𝟏𝟐𝟑
  ASSERT_EQ(bold.text(), "123");
  EXPECT_EQ(bold.ToOriginal(1, 2), Span(4, 8, 1, 2));
  EXPECT_EQ(bold.ToOriginal(0, 3), Span(0, 12, 0, 3));
  EXPECT_EQ(MustNormalize("\U0001D7D8\U0001D7EC\U0001D7F6").text(), "000");  // double-struck etc.
  EXPECT_EQ(MustNormalize("\u00B2\u2460\u2081").text(), "211");   // superscript, circled, subscript
  EXPECT_EQ(MustNormalize("\uFF21\uFF22\uFF43").text(), "ABc");   // full-width letters, case kept
  EXPECT_EQ(MustNormalize("\U0001D400\U0001D41A").text(), "Aa");  // mathematical bold letters
}

TEST(NormalizeTest, CombiningSequencesCompose) {
  const NormalizedText out = MustNormalize("cafe\u0301 ok");
  ASSERT_EQ(out.text(), "caf\u00E9 ok");
  EXPECT_EQ(out.ToOriginal(3, 5), Span(3, 6, 3, 5));  // é covers e + U+0301
  EXPECT_EQ(out.ToOriginal(6, 8), Span(7, 9, 6, 8));  // "ok"
  // An invisible character between base and mark does not stop composition; it is inside.
  const NormalizedText split = MustNormalize("e\u200B\u0301");
  EXPECT_EQ(split.text(), "\u00E9");
  EXPECT_EQ(split.ToOriginal(0, 2), Span(0, 6, 0, 3));
  // Conjoining jamo compose into a syllable.
  EXPECT_EQ(MustNormalize("\u1100\u1161").text(), "\uAC00");
}

TEST(NormalizeTest, InvalidUtf8BecomesReplacementCharactersMappedToTheBadBytes) {
  const std::string in =
      "ab\xFF"
      "cd\xE2\x82"
      "x\xC0\xAF";
  const NormalizedText out = MustNormalize(in);
  ASSERT_EQ(out.text(), "ab\uFFFDcd\uFFFDx\uFFFD\uFFFD");
  EXPECT_EQ(out.ToOriginal(2, 5), Span(2, 3, 2, 3));
  EXPECT_EQ(out.ToOriginal(5, 7), Span(3, 5, 3, 5));
  EXPECT_EQ(out.ToOriginal(7, 10), Span(5, 7, 5, 6));  // truncated E2 82 is one U+FFFD
  EXPECT_EQ(out.ToOriginal(10, 11), Span(7, 8, 6, 7));
  EXPECT_EQ(out.ToOriginal(11, 14), Span(8, 9, 7, 8));
  EXPECT_EQ(out.ToOriginal(14, 17), Span(9, 10, 8, 9));
  // Encoded surrogates, overlong forms, truncation at the end: no crash, valid output.
  for (std::string bad :
       {std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"), std::string("\xE0\x80\xAF"),
        std::string("1\xF0\x9F"), std::string("\x80\x80\x80"), std::string("\xFE\xFF")}) {
    const NormalizedText n = MustNormalize(bad);
    EXPECT_TRUE(IsValidUtf8(n.text()));
    EXPECT_EQ(n.ToOriginal(0, n.text().size()).end_byte, bad.size());
  }
}

TEST(NormalizeTest, CodePointOffsetsWithMultiByteCharacters) {
  const std::string in = "a\u00E9\u4E2D\U0001F600b";  // 1 + 2 + 3 + 4 + 1 bytes
  const CodePointIndex index(in);
  EXPECT_EQ(index.code_points(), 5u);
  EXPECT_EQ(index.CodePointAt(0), 0u);
  EXPECT_EQ(index.CodePointAt(1), 1u);
  EXPECT_EQ(index.CodePointAt(2), 1u);  // inside é: the containing code point
  EXPECT_EQ(index.CodePointAt(3), 2u);
  EXPECT_EQ(index.CodePointAt(6), 3u);
  EXPECT_EQ(index.CodePointAt(8), 3u);
  EXPECT_EQ(index.CodePointAt(10), 4u);
  EXPECT_EQ(index.CodePointAt(11), 5u);
  EXPECT_EQ(index.CodePointAt(100), 5u);

  // Spans of normalized text with 2-, 3- and 4-byte characters around them.
  const std::string text = "\u4E2D\u200B\u6587 \uFF14\uFF12 \U0001F600 card \u00E9";
  const NormalizedText out = MustNormalize(text);
  ASSERT_EQ(out.text(), "\u4E2D\u6587 42 \U0001F600 card \u00E9");
  EXPECT_EQ(out.ToOriginal(7, 9), Span(10, 16, 4, 6));      // "42"
  EXPECT_EQ(out.ToOriginal(15, 19), Span(22, 26, 9, 13));   // "card"
  EXPECT_EQ(out.ToOriginal(20, 22), Span(27, 29, 14, 15));  // "é"
}

TEST(NormalizeTest, CodePointIndexMatchesACountFromTheStartOnLongText) {
  std::string in;
  for (int i = 0; i < 100; ++i) {
    in += "x\u00E9\u4E2D\U0001F600";
  }
  in += "\xFF\xE2\x82z";  // invalid tail counts as the decoder sees it: FFFD, FFFD, z
  const CodePointIndex index(in);
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const auto n = static_cast<int32_t>(in.size());
  size_t count = 0;
  for (int32_t i = 0; i < n; ++count) {
    ASSERT_EQ(index.CodePointAt(i), count) << i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
  }
  EXPECT_EQ(count, 403u);
  EXPECT_EQ(index.code_points(), 403u);
}

TEST(NormalizeTest, InputOverTheBoundIsRejected) {
  NormalizeOptions small;
  small.max_input_bytes = 10;
  EXPECT_TRUE(Normalize("0123456789", small).ok());
  const auto over = Normalize("0123456789a", small);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);

  const std::string big((16u << 20) + 1, 'a');
  const auto too_big = Normalize(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
}

TEST(NormalizeTest, OutputExpansionOverTheBoundIsRejected) {
  std::string in;
  for (int i = 0; i < 100; ++i) {
    in += "\uFDFA";  // one code point, 18 after NFKC
  }
  NormalizeOptions options;
  options.max_output_bytes = 1000;
  const auto result = Normalize(in, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Normalize(in).ok());
}

TEST(NormalizeTest, SeparatorVariantsComeOutAsAsciiWhereNfkcMapsThem) {
  EXPECT_EQ(MustNormalize("4111\u00A01111\u20091111\u202F1111\u30001").text(),
            "4111 1111 1111 1111 1");
  EXPECT_EQ(MustNormalize("1\uFF0D2\uFE633").text(), "1-2-3");
  EXPECT_EQ(MustNormalize("1\uFF0E2").text(), "1.2");
  // Real dashes stay dashes (NFKC keeps them); the scanner treats them as separators.
  EXPECT_EQ(MustNormalize("1\u20132").text(), "1\u20132");
}

TEST(NormalizeTest, DigitSeparators) {
  for (char32_t c : {U' ', U'\t', U'-', U'.', char32_t{0x00A0}, char32_t{0x202F}, char32_t{0x2009},
                     char32_t{0x3000}, char32_t{0x2010}, char32_t{0x2011}, char32_t{0x2013},
                     char32_t{0x2014}, char32_t{0x2212}, char32_t{0xFE63}, char32_t{0xFF0D},
                     char32_t{0x00B7}, char32_t{0x30FB}, char32_t{0xFF0E}, char32_t{0x2027}}) {
    EXPECT_TRUE(IsDigitSeparator(c)) << std::hex << static_cast<uint32_t>(c);
  }
  for (char32_t c :
       {U'0', U'a', U'\n', U'/', U'_', char32_t{0x200B}, char32_t{0xFF10}, char32_t{0x110000}}) {
    EXPECT_FALSE(IsDigitSeparator(c)) << std::hex << static_cast<uint32_t>(c);
  }
}

TEST(NormalizeTest, LongRunsOfCombiningMarksAreCutIntoBoundedSegments) {
  std::string in = "a";
  for (int i = 0; i < 200000; ++i) {
    in += "\u0301\u0323";  // alternating combining classes: worst case for reordering
  }
  in += "b";
  const NormalizedText out = MustNormalize(in);
  EXPECT_TRUE(IsValidUtf8(out.text()));
  EXPECT_EQ(out.text().back(), 'b');
  EXPECT_EQ(out.ToOriginal(out.text().size() - 1, out.text().size()),
            Span(in.size() - 1, in.size(), 400001, 400002));
}

// Random mixes of ASCII, full-width, invisible, composing and multi-byte characters.
TEST(NormalizeTest, PropertyMappingIsSaneAndMatchesWholeStringNfkc) {
  const std::vector<std::string> pool = {
      "a",      "Z",      "4",      "0",          " ",
      "-",      "@",      ".",      "\n",         "\uFF14",
      "\uFF10", "\uFF21", "\uFF0D", "\u3000",  // full-width
      "\u200B", "\u200C", "\u200D", "\u2060",     "\uFEFF",
      "\u00AD",  // invisible
      "\u202E", "\u2066", "\uFE0F", "\U000E0041", "\u034F",
      "\u3164", "\u00E9", "\u4E2D", "\U0001F600", "\U0001D7CF",
      "\uFB01", "\u2460", "\u00B2", "\u0301",     "\u0323",
      "\u1100", "\u1161", "\u11A8", "\uAC00",     "\uFDFA",
      "\u00A0", "\u1E9B", "\u212B", "\u0958",  // singletons and composition exclusions
  };
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(error);
  ASSERT_TRUE(U_SUCCESS(error));

  std::mt19937 rng(20240611);
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> length(0, 40);
  for (int round = 0; round < 1000; ++round) {
    std::string in;
    std::u32string visible;
    const int n = length(rng);
    for (int i = 0; i < n; ++i) {
      in += pool[pick(rng)];
    }
    const NormalizedText out = MustNormalize(in);
    const std::string& text = out.text();
    ASSERT_TRUE(IsValidUtf8(text)) << in;

    // Reference: drop the invisible characters, then NFKC the whole string at once.
    icu::UnicodeString stripped;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const auto len = static_cast<int32_t>(in.size());
    std::vector<bool> boundary(in.size() + 1, false);
    for (int32_t i = 0; i < len;) {
      boundary[i] = true;
      UChar32 c;
      U8_NEXT(p, i, len, c);
      if (!IsInvisible(static_cast<char32_t>(c))) {
        stripped.append(c);
      }
    }
    boundary[in.size()] = true;
    std::string expected;
    nfkc->normalize(stripped, error).toUTF8String(expected);
    ASSERT_TRUE(U_SUCCESS(error));
    ASSERT_EQ(text, expected) << "input: " << in;

    const CodePointIndex index(in);
    OriginalSpan previous;
    for (size_t b = 0; b < text.size(); ++b) {
      const OriginalSpan span = out.ToOriginal(b, b + 1);
      ASSERT_LT(span.begin_byte, span.end_byte) << in << " @" << b;
      ASSERT_LE(span.end_byte, in.size());
      ASSERT_TRUE(boundary[span.begin_byte]) << in << " @" << b;
      ASSERT_TRUE(boundary[span.end_byte]) << in << " @" << b;
      ASSERT_EQ(span.begin_code_point, index.CodePointAt(span.begin_byte));
      ASSERT_EQ(span.end_code_point, index.CodePointAt(span.end_byte));
      if (b > 0) {
        ASSERT_GE(span.begin_byte, previous.begin_byte) << in << " @" << b;
        ASSERT_GE(span.end_byte, previous.end_byte) << in << " @" << b;
      }
      previous = span;
    }
    const OriginalSpan whole = out.ToOriginal(0, text.size());
    ASSERT_LE(whole.end_byte, in.size());
    ASSERT_LE(whole.end_code_point, index.code_points());
  }
}

}  // namespace
}  // namespace perimeter::guard
