#pragma once

// The word filter of a guardrail: Bedrock's `wordPolicyConfig` (custom words and phrases, and the
// managed PROFANITY list).
//
// Matching rules:
//  - Case-insensitive (Unicode simple case folding of both the words and the text).
//  - Whole word: a match that starts with a word character (letter, digit, mark, connector
//    punctuation such as '_') must not be preceded by one, and a match that ends with a word
//    character must not be followed by one. So "Scunthorpe" does not match "cunt" and "class"
//    does not match "ass"; a word that starts or ends with punctuation ("c++", "$$$") has no
//    boundary requirement on that side.
//  - Phrases: words of a phrase are separated in the configuration by white space; any run of
//    white space (spaces, tabs, line breaks, NBSP, ...) in the text matches there.
//  - Evasion: Find() runs on guard::Normalize() output (NFKC, invisible characters removed), so
//    "f<ZWSP>uck" and full-width letters match; the words are normalized the same way.
//  Every occurrence is reported (overlapping ones too, e.g. a custom word that is also on the
//  managed list gives two matches).
//
// Implementation: the text is turned into a "match view" (case folded, every white-space run
// collapsed to one space, with a byte map back into the normalized text) and all words are
// matched as literals by one Hyperscan database with leftmost start of match; word boundaries
// are checked on the view afterwards. (Hyperscan's \b is unsupported in UCP mode and `\s+`
// between words makes compilation of thousands of phrases take minutes; literals compile 10000
// words in about half a second.)
//
// Thread safety: a WordFilter is immutable after Build(); Find() may be called from any number
// of threads at once. Each thread keeps one Hyperscan scratch space, grown on first use with a
// filter, so filters may be created and destroyed at any time without coordination.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "guard/normalize.h"

struct hs_database;

namespace perimeter::guard {

// Bedrock's limits for wordsConfig.
inline constexpr size_t kMaxCustomWords = 10000;
inline constexpr size_t kMaxWordCodePoints = 100;

struct WordMatch {
  std::string match;     // the original text matched
  OriginalSpan span;     // in the original text (see normalize.h)
  bool managed = false;  // from the managed PROFANITY list
  size_t index = 0;      // index into the custom words (when !managed), else into
                         // ManagedProfanityList()

  bool operator==(const WordMatch&) const = default;
};

class WordFilter {
 public:
  // words: custom words/phrases (each 1-100 code points, at least one visible character; at most
  // kMaxCustomWords). profanity: include the shipped managed list. InvalidArgument names the
  // offending word by index ("words[3]"), never its text.
  static Result<std::unique_ptr<const WordFilter>> Build(const std::vector<std::string>& words,
                                                         bool profanity);

  ~WordFilter();
  WordFilter(const WordFilter&) = delete;
  WordFilter& operator=(const WordFilter&) = delete;

  // Thread-safe. `normalized` is guard::Normalize(original); spans point into `original`.
  // Matches are ordered by start, then end, custom before managed, then index.
  std::vector<WordMatch> Find(const NormalizedText& normalized, std::string_view original) const;

  size_t custom_word_count() const { return custom_count_; }
  bool profanity() const { return profanity_; }

 private:
  WordFilter() = default;

  hs_database* db_ = nullptr;  // null when there is nothing to match
  uint64_t generation_ = 0;    // unique per filter, keys the per-thread scratch
  size_t custom_count_ = 0;
  bool profanity_ = false;
  // Per pattern id: whether the folded word starts / ends with a word character.
  std::vector<uint8_t> boundary_flags_;
};

// The managed PROFANITY list (see profanity_list.cc): lower case, no duplicates, stable order.
std::span<const std::string_view> ManagedProfanityList();

namespace internal {

// The text a word filter matches on: case folded, white-space runs collapsed to one ' '.
// map(i) is the byte offset in the source of the character that produced view byte i;
// source_end(i) the end of that character in the source. Exposed for tests.
class MatchView {
 public:
  explicit MatchView(std::string_view source);
  const std::string& text() const { return view_; }
  size_t SourceBegin(size_t view_byte) const;
  size_t SourceEnd(size_t view_byte) const;  // end of the character holding view_byte

 private:
  std::string_view source_;
  std::string view_;
  bool identity_ = true;       // view byte i comes from source byte i
  std::vector<uint32_t> map_;  // when !identity_: source offset per view byte
};

// The word as the filter matches it (Normalize, fold, collapse, trim); empty when the word has
// no visible character.
std::string FoldWordForMatching(std::string_view word);

}  // namespace internal

}  // namespace perimeter::guard
