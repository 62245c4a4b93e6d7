#include "guard/word_filter.h"

#include <hs/hs.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <tuple>

namespace perimeter::guard {
namespace {

constexpr uint8_t kStartsWithWordChar = 1;
constexpr uint8_t kEndsWithWordChar = 2;

std::atomic<uint64_t> next_generation{1};

// Letters, digits, marks and connector punctuation ('_'): what "whole word" is measured against.
bool IsWordChar(UChar32 c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK | U_GC_PC_MASK)) != 0;
}

// ASCII case folding as a table (the hot loop of MatchView).
constexpr std::array<char, 128> kAsciiFold = [] {
  std::array<char, 128> t{};
  for (int c = 0; c < 128; ++c) {
    t[c] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
  }
  return t;
}();

UChar32 Fold(UChar32 c) {
  if (c < 0x80) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
  }
  return u_foldCase(c, U_FOLD_CASE_DEFAULT);
}

[[noreturn]] void HyperscanFailure(const char* what, hs_error_t err) {
  // Only out-of-memory or a broken invariant gets here; matching must not silently fail open.
  std::fprintf(stderr, "perimeter: word filter: %s failed (hyperscan error %d)\n", what,
               static_cast<int>(err));
  std::abort();
}

// One scratch space per thread, grown for every database it is used with. A scratch holds no
// pointer to a database, so it stays valid when filters are destroyed; generation ids are never
// reused, so a stale entry in `sized` is harmless.
struct ThreadScratch {
  hs_scratch_t* scratch = nullptr;
  std::array<uint64_t, 16> sized{};  // generations this scratch is known to fit
  size_t next_slot = 0;

  ~ThreadScratch() {
    if (scratch != nullptr) {
      hs_free_scratch(scratch);
    }
  }

  hs_scratch_t* For(const hs_database_t* db, uint64_t generation) {
    for (uint64_t g : sized) {
      if (g == generation) {
        return scratch;
      }
    }
    const hs_error_t err = hs_alloc_scratch(db, &scratch);  // grows, never shrinks
    if (err != HS_SUCCESS) {
      HyperscanFailure("hs_alloc_scratch", err);
    }
    sized[next_slot] = generation;
    next_slot = (next_slot + 1) % sized.size();
    return scratch;
  }
};

struct RawMatch {
  unsigned id;
  unsigned long long from;
  unsigned long long to;
};

int CollectMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
                 void* context) {
  static_cast<std::vector<RawMatch>*>(context)->push_back({id, from, to});
  return 0;
}

void AppendUtf8(std::string* out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out->append(buf, static_cast<size_t>(n));
}

// Code point before byte `pos` of valid UTF-8 `s` (pos > 0).
UChar32 CodePointBefore(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  auto i = static_cast<int32_t>(pos);
  UChar32 c = 0;
  U8_PREV(p, 0, i, c);
  return c;
}

UChar32 CodePointAt(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  auto i = static_cast<int32_t>(pos);
  UChar32 c = 0;
  U8_NEXT(p, i, static_cast<int32_t>(s.size()), c);
  return c;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) {
    n += (ch & 0xC0) != 0x80;
  }
  return n;
}

}  // namespace

namespace internal {

MatchView::MatchView(std::string_view source) : source_(source) {
  view_.reserve(source.size());
  const auto* s = reinterpret_cast<const uint8_t*>(source.data());
  const auto length = static_cast<int32_t>(source.size());
  // From here on the view's bytes no longer sit at the source's offsets: materialize the map
  // for the `emitted` bytes so far.
  auto diverge = [this](size_t emitted) {
    if (identity_) {
      identity_ = false;
      map_.resize(emitted);
      for (size_t i = 0; i < map_.size(); ++i) {
        map_[i] = static_cast<uint32_t>(i);
      }
    }
  };
  int32_t i = 0;
  bool in_space = false;
  while (i < length) {
    const int32_t start = i;
    if (s[i] < 0x80) {
      // ASCII fast path (most prompt text): a run of ASCII bytes with the same folding and
      // white-space rules as below, without a Unicode property lookup per byte.
      int32_t j = i;
      // Write through a raw pointer into space reserved for the whole run (at most one byte out
      // per byte in), with locals only in the loop, so nothing is reloaded per byte.
      const size_t base = view_.size();
      view_.resize(base + static_cast<size_t>(length - i));
      char* const out = view_.data() + base;
      size_t n = 0;
      bool space_run = in_space;
      if (identity_) {
        // While the view keeps the source's offsets: stop at a second white-space byte in a row.
        while (j < length) {
          const uint8_t b = s[j];
          if (b >= 0x80) break;
          const bool space = b == ' ' || (b >= 0x09 && b <= 0x0D);
          if (space && space_run) break;
          space_run = space;
          out[n++] = space ? ' ' : kAsciiFold[b];
          ++j;
        }
        if (j < length && s[j] < 0x80) diverge(base + n);
      }
      while (j < length && s[j] < 0x80) {  // offsets diverged: keep the map
        const uint8_t b = s[j];
        const bool space = b == ' ' || (b >= 0x09 && b <= 0x0D);
        if (!(space && space_run)) {
          out[n++] = space ? ' ' : kAsciiFold[b];
          map_.push_back(static_cast<uint32_t>(j));
        }
        space_run = space;
        ++j;
      }
      in_space = space_run;
      view_.resize(base + n);
      i = j;
      continue;
    }
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    if (c < 0) {
      c = 0xFFFD;  // Normalize output is valid UTF-8; tolerate anything else
    }
    if (u_isUWhiteSpace(c)) {
      if (in_space) {
        diverge(view_.size());  // the run continues: nothing emitted
        continue;
      }
      in_space = true;
      if (i - start != 1) {
        diverge(view_.size());
      }
      view_.push_back(' ');
      if (!identity_) {
        map_.push_back(static_cast<uint32_t>(start));
      }
      continue;
    }
    in_space = false;
    const size_t before = view_.size();
    AppendUtf8(&view_, Fold(c));
    const size_t emitted = view_.size() - before;
    if (identity_ && (emitted != static_cast<size_t>(i - start) || before != size_t(start))) {
      view_.resize(before);
      diverge(view_.size());
      AppendUtf8(&view_, Fold(c));
    }
    if (!identity_) {
      for (size_t k = 0; k < emitted; ++k) {
        map_.push_back(static_cast<uint32_t>(start));
      }
    }
  }
}

size_t MatchView::SourceBegin(size_t view_byte) const {
  if (view_byte >= view_.size()) {
    return source_.size();
  }
  return identity_ ? view_byte : map_[view_byte];
}

size_t MatchView::SourceEnd(size_t view_byte) const {
  const size_t begin = SourceBegin(view_byte);
  if (begin >= source_.size()) {
    return source_.size();
  }
  const auto* p = reinterpret_cast<const uint8_t*>(source_.data());
  auto i = static_cast<int32_t>(begin);
  UChar32 c = 0;
  U8_NEXT(p, i, static_cast<int32_t>(source_.size()), c);
  return static_cast<size_t>(i);
}

std::string FoldWordForMatching(std::string_view word) {
  auto normalized = Normalize(word);
  if (!normalized.ok()) {
    return "";
  }
  MatchView view(normalized->text());
  std::string_view folded = view.text();
  while (!folded.empty() && folded.front() == ' ') {
    folded.remove_prefix(1);
  }
  while (!folded.empty() && folded.back() == ' ') {
    folded.remove_suffix(1);
  }
  return std::string(folded);
}

}  // namespace internal

Result<std::unique_ptr<const WordFilter>> WordFilter::Build(const std::vector<std::string>& words,
                                                            bool profanity) {
  if (words.size() > kMaxCustomWords) {
    return InvalidArgument("too many custom words: " + std::to_string(words.size()) + "; at most " +
                           std::to_string(kMaxCustomWords) + " are allowed");
  }
  std::vector<std::string> patterns;
  patterns.reserve(words.size() + (profanity ? ManagedProfanityList().size() : 0));
  for (size_t i = 0; i < words.size(); ++i) {
    const size_t code_points = CountCodePoints(words[i]);
    if (code_points == 0 || code_points > kMaxWordCodePoints) {
      return InvalidArgument("words[" + std::to_string(i) + "] has " + std::to_string(code_points) +
                             " characters; a word or phrase must " + "have 1 to " +
                             std::to_string(kMaxWordCodePoints));
    }
    std::string folded = internal::FoldWordForMatching(words[i]);
    if (folded.empty()) {
      return InvalidArgument("words[" + std::to_string(i) +
                             "] has no visible character; give a word or phrase to match");
    }
    patterns.push_back(std::move(folded));
  }
  if (profanity) {
    for (std::string_view w : ManagedProfanityList()) {
      patterns.push_back(internal::FoldWordForMatching(w));
    }
  }

  std::unique_ptr<WordFilter> filter(new WordFilter());
  filter->custom_count_ = words.size();
  filter->profanity_ = profanity;
  filter->generation_ = next_generation.fetch_add(1, std::memory_order_relaxed);
  if (patterns.empty()) {
    return std::unique_ptr<const WordFilter>(std::move(filter));
  }

  std::vector<const char*> expressions;
  std::vector<size_t> lengths;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  filter->boundary_flags_.reserve(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i) {
    const std::string& p = patterns[i];
    expressions.push_back(p.data());
    lengths.push_back(p.size());
    flags.push_back(HS_FLAG_SOM_LEFTMOST);
    ids.push_back(static_cast<unsigned>(i));
    uint8_t b = 0;
    if (IsWordChar(CodePointAt(p, 0))) {
      b |= kStartsWithWordChar;
    }
    if (IsWordChar(CodePointBefore(p, p.size()))) {
      b |= kEndsWithWordChar;
    }
    filter->boundary_flags_.push_back(b);
  }
  hs_compile_error_t* error = nullptr;
  const hs_error_t err = hs_compile_lit_multi(
      expressions.data(), flags.data(), ids.data(), lengths.data(),
      static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &filter->db_, &error);
  if (err != HS_SUCCESS) {
    std::string message = error != nullptr ? error->message : "unknown error";
    const int expression = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    std::string which = expression < 0 ? std::string("the word list")
                        : static_cast<size_t>(expression) < words.size()
                            ? "words[" + std::to_string(expression) + "]"
                            : "the managed profanity list";
    return InvalidArgument("cannot compile " + which + " for matching: " + message);
  }
  return std::unique_ptr<const WordFilter>(std::move(filter));
}

WordFilter::~WordFilter() {
  if (db_ != nullptr) {
    hs_free_database(db_);
  }
}

std::vector<WordMatch> WordFilter::Find(const NormalizedText& normalized,
                                        std::string_view original) const {
  std::vector<WordMatch> out;
  if (db_ == nullptr || normalized.text().empty()) {
    return out;
  }
  const internal::MatchView view(normalized.text());
  const std::string& text = view.text();

  thread_local ThreadScratch thread_scratch;
  hs_scratch_t* scratch = thread_scratch.For(db_, generation_);
  std::vector<RawMatch> raw;
  const hs_error_t err =
      hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0, scratch, CollectMatch, &raw);
  if (err != HS_SUCCESS) {
    HyperscanFailure("hs_scan", err);
  }

  for (const RawMatch& m : raw) {
    const uint8_t b = boundary_flags_[m.id];
    if ((b & kStartsWithWordChar) && m.from > 0 && IsWordChar(CodePointBefore(text, m.from))) {
      continue;
    }
    if ((b & kEndsWithWordChar) && m.to < text.size() && IsWordChar(CodePointAt(text, m.to))) {
      continue;
    }
    const size_t begin = view.SourceBegin(m.from);
    const size_t end = m.to > m.from ? view.SourceEnd(m.to - 1) : begin;
    WordMatch match;
    match.span = normalized.ToOriginal(begin, end);
    match.match = std::string(original.substr(
        match.span.begin_byte,
        match.span.end_byte - std::min(match.span.begin_byte, match.span.end_byte)));
    match.managed = m.id >= custom_count_;
    match.index = match.managed ? m.id - custom_count_ : m.id;
    out.push_back(std::move(match));
  }
  std::sort(out.begin(), out.end(), [](const WordMatch& a, const WordMatch& b) {
    return std::tie(a.span.begin_byte, a.span.end_byte, a.managed, a.index) <
           std::tie(b.span.begin_byte, b.span.end_byte, b.managed, b.index);
  });
  return out;
}

}  // namespace perimeter::guard
