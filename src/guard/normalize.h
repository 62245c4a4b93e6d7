#pragma once

// Normalization layer of the guardrail scanner.
//
// Detection must not be evaded by text that looks the same to a reader but differs in bytes:
// full-width digits, ligatures, mathematical alphanumerics, zero-width characters spliced into a
// value, bidi controls, soft hyphens. Normalize() turns the original text into a canonical UTF-8
// string the scanner's patterns run on, and keeps a map back into the original so a finding can
// be reported (and redacted) at the place the user actually wrote it.
//
// What Normalize does, in order:
//   1. Decodes UTF-8. Invalid sequences never fail: each maximal invalid subpart (the ICU/WHATWG
//      rule) becomes one U+FFFD that maps to those original bytes.
//   2. Removes invisible characters (IsInvisible): they produce no output at all, so "4111<ZWSP>1"
//      scans as "41111".
//   3. Applies NFKC to what is left, segment by segment. A segment starts at every code point for
//      which Normalizer2::hasBoundaryBefore() is true, so concatenating the segments' NFKC is
//      exactly NFKC of the whole (invisible-free) text. Every output byte of a segment maps to the
//      whole source of the segment (e.g. both bytes of "fi" map to the ligature U+FB01; the "é" of
//      "e" U+0301 maps to both code points). Segments that NFKC leaves unchanged map byte for
//      byte. Exception, for denial-of-service safety: a run of more than kMaxSegmentCodePoints
//      code points with no boundary (only possible with long chains of combining marks) is cut
//      there, so NFKC is applied to bounded pieces; such text is not NFKC-stable anyway.
//   Case is kept; digit separators are left in place (the scanner's patterns handle them, see
//   IsDigitSeparator). NFKC already turns NBSP, thin space, ideographic space etc. into ' ' and
//   full-width / small hyphen-minus into '-'.
//
// Pure printable ASCII (plus tab, LF, VT, FF, CR) takes a fast path: one byte scan, the text is
// returned unchanged and the map is the identity without any per-byte storage.
//
// Offsets: the scanner matches on NormalizedText::text() and gets byte spans of it;
// ToOriginal() turns such a span into byte and code point offsets of the original text.
// Findings report code points.
//
// Thread safety: all functions are thread-safe; a NormalizedText is immutable after creation.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter::guard {

// A longer run of code points without an NFKC boundary is cut (see above). The Unicode
// Stream-Safe Text Format allows 30 non-starters in a row; one starter plus that fits.
inline constexpr size_t kMaxSegmentCodePoints = 32;

struct NormalizeOptions {
  // Larger inputs are rejected with InvalidArgument; the caller should have bounded the body.
  size_t max_input_bytes = 16u << 20;
  // NFKC can expand text (U+FDFA becomes 18 code points). Output above this is rejected with
  // InvalidArgument rather than allocated.
  size_t max_output_bytes = 64u << 20;
  // Also remove control characters (category Cc) that are not white space, e.g. NUL, BEL, ESC,
  // DEL and the C1 controls. Tab, LF, VT, FF, CR and NEL are always kept.
  bool remove_control_characters = true;
};

// A span of the original text, in bytes and in Unicode code points (invalid UTF-8 counted as
// Normalize decodes it: one code point per maximal invalid subpart).
struct OriginalSpan {
  uint32_t begin_byte = 0;
  uint32_t end_byte = 0;
  uint32_t begin_code_point = 0;
  uint32_t end_code_point = 0;

  bool operator==(const OriginalSpan&) const = default;
};

// Code point offsets of byte offsets in a UTF-8 string, for many lookups: O(n) to build
// (n / 64 words of memory), O(log n + 64) per lookup. Invalid UTF-8 counts one code point per
// maximal invalid subpart, the same rule Normalize uses.
class CodePointIndex {
 public:
  CodePointIndex() = default;
  // `utf8` must outlive the index.
  explicit CodePointIndex(std::string_view utf8);

  // Index of the code point that contains byte `byte`; for byte >= size of the text, the number
  // of code points. For a byte at a code point boundary this is the number of code points before.
  size_t CodePointAt(size_t byte) const;
  size_t code_points() const { return checkpoints_.code_points; }

  // The same lookup without a bound string, for owners that keep the text next to the index
  // (a string_view into a member would dangle when the owner moves).
  struct Checkpoints {
    bool ascii = true;             // every byte < 0x80: code point offset == byte offset
    std::vector<uint32_t> starts;  // byte offset of code point kStride * i
    size_t code_points = 0;
  };
  static constexpr size_t kStride = 64;
  static Checkpoints Build(std::string_view utf8);
  static size_t Lookup(const Checkpoints& checkpoints, std::string_view utf8, size_t byte);

 private:
  std::string_view utf8_;
  Checkpoints checkpoints_;
};

namespace internal {
class NormalizeBuilder;
}  // namespace internal

// The normalized text and its map back into the original.
class NormalizedText {
 public:
  // UTF-8 (always valid): NFKC, invisible characters removed, case kept.
  const std::string& text() const { return text_; }
  // True when the text is byte-identical to the original (fast path or nothing to change).
  bool unchanged() const { return pieces_.empty(); }
  size_t original_size() const { return original_size_; }

  // Maps the span [begin, end) of text() (byte offsets, clamped to its size) to the original.
  // The result covers every original character that contributed to the span: a span starting or
  // ending inside the output of a segment covers the whole segment's source, and one starting or
  // ending inside a multi-byte character covers that character. Invisible characters
  // removed between two segments belong to neither: a span never starts or ends with them.
  // An empty span maps to an empty span at the position of `begin`.
  OriginalSpan ToOriginal(size_t begin, size_t end) const;

 private:
  friend Result<NormalizedText> Normalize(std::string_view utf8, const NormalizeOptions& options);
  friend class internal::NormalizeBuilder;

  // A stretch of text() whose bytes do not map one to one: the output of a changed segment,
  // or (text_begin == text_end) invisible characters that were removed. Between two pieces, and
  // before the first, text and original are identical byte for byte.
  struct Piece {
    uint32_t text_begin;
    uint32_t text_end;
    uint32_t original_begin;
    uint32_t original_end;
    uint32_t original_cp_begin;
    uint32_t original_cp_end;
  };

  // Original byte and code point of text byte `pos`, which lies in the identical stretch after
  // `previous` (null: before the first piece), moved to a character boundary (down, or up when
  // `round_up`).
  void MapIdentical(const Piece* previous, size_t pos, bool round_up, uint32_t* byte,
                    uint32_t* cp) const;

  std::string text_;
  std::vector<Piece> pieces_;  // ordered by text_begin, then by original position
  CodePointIndex::Checkpoints text_index_;
  size_t original_size_ = 0;
};

// Normalizes `utf8` as described at the top of this file. Fails with InvalidArgument only when
// the input or output exceeds the bounds in `options`; invalid UTF-8 is not an error.
Result<NormalizedText> Normalize(std::string_view utf8, const NormalizeOptions& options = {});

// Characters that render as nothing and are removed before matching: general category Cf (ZWSP,
// ZWNJ, ZWJ, word joiner, BOM, soft hyphen, bidi embeddings/overrides/isolates, Arabic number
// signs, tag characters ...), every Default_Ignorable_Code_Point (variation selectors U+FE00-FE0F
// and U+E0100-E01EF, combining grapheme joiner U+034F, Hangul fillers U+115F, U+1160, U+3164,
// U+FFA0, Mongolian free variation selectors, the unassigned U+E0000-E0FFF block). White space is
// never invisible.
bool IsInvisible(char32_t c);

// Characters a value's digits may be split with ("4111 1111", "4111-1111", "4111.1111"):
// horizontal white space (tab and category Zs: space, NBSP U+00A0, thin space U+2009, narrow
// NBSP U+202F, ideographic space ...), every dash (category Pd) and U+2212 MINUS SIGN, and dots:
// '.', U+00B7 middle dot, U+2024 one dot leader, U+2027 hyphenation point, U+2219 bullet operator,
// U+22C5 dot operator, U+30FB katakana middle dot, U+FE52 small full stop, U+FF0E full-width full
// stop, U+FF65 half-width katakana middle dot. Line breaks are not separators.
bool IsDigitSeparator(char32_t c);

}  // namespace perimeter::guard
