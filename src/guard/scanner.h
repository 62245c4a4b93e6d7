#pragma once

// The sensitive-information scanner of the guardrail engine.
//
// A Scanner is compiled once from a guardrail's configuration (entity types and custom regexes)
// and then scans any number of texts, from any number of threads. One scan is:
//   1. guard::Normalize (unless the caller hands over an already normalized text), so full-width
//      digits, zero-width characters and Unicode separators cannot hide a value;
//   2. ONE Hyperscan pass over the normalized text with a database holding, for the enabled types
//      only: a trigger pattern per value shape (the start of every group of digits, "@", "://",
//      "AKIA...", "eyJ", ...), the words that announce a value without digits ("password",
//      "username", "api_key", "Bearer", "SWIFT" ...: case-insensitive literals) and the custom
//      regexes. Every built-in trigger starts with a digit or a literal, never with a letter
//      class, so ordinary prose runs at Hyperscan's literal-scanning speed;
//   3. for every trigger, the candidate value around it is cut out by hand (no start-of-match
//      tracking for built-in patterns) and checked with the exact validators (validators.h) and
//      libphonenumber for PHONE. Context words (case-insensitive, whole words, tables in
//      scanner.cc) are looked up lazily, only around candidates: within kContextBefore code
//      points before and kContextAfter after a value; the nearest word wins between types, and a
//      reference word ("order", "invoice", "ref") nearer than a type's word cancels it. Values
//      that only context identifies (passwords, PINs, CVVs, ages, driver ids, plates ...) are
//      read after their word, or for a few phrasings just before it ("34 years old");
//   4. overlapping findings are resolved and spans are mapped back to the original text.
//
// Scores (Finding::score) are a confidence in [0, 1]:
//   0.99  self-identifying secrets (private key blocks, JWT, GitHub/Slack/Stripe tokens, AWS key
//         ids) and card numbers with a card word nearby
//   ~0.95 validated values (cards, IBAN 0.98, e-mail, a NUBAN whose check digit matches the bank
//         named nearby 0.97) and values confirmed by their context word, minus 0.004 per byte
//         between word and value (so the nearest word decides between two types)
//   0.9   custom regexes (not validated; see below), URL, IP and MAC addresses, SWIFT codes
//   ~0.8-0.88 values read after a context word (password, PIN, CVV, expiry, username, age,
//         plate, driver id), phones in international form
//   0.5-0.7 weak evidence a caller may want to threshold away: a bare 9-digit SSN/ITIN/ABA or
//         10-digit NHS shape that passes its check without any context word (0.45-0.55), a NUBAN
//         with account words but no bank (0.6), a national-format phone without a phone word
//         (0.7).
// SWIFT codes are only looked for near their words ("SWIFT", "BIC", "intermediary bank"):
// eight capital letters are too often a word. A capitalised word of BIC shape next to such a word
// ("SWIFT ... CUSTOMER") can still be reported.
//
// Overlap rule: when two findings overlap (in the normalized text or in the original), the one
// with the higher score is kept; on equal scores the longer one; then the earlier one; then the
// one whose type comes first in guard::Entities(). The other is dropped entirely (never trimmed).
// A custom regex therefore loses against a validated value or a value right next to its context
// word, and wins against values read after a context word (0.88 and below).
//
// Custom regexes use Hyperscan syntax (PCRE without backreferences or lookaround), are compiled
// with HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST and run on the normalized text.
// Overlapping or touching matches of the same custom pattern are merged into one finding.
// Their score is 0.9: an explicit operator rule, but unvalidated.
//
// Bounds: inputs larger than NormalizeOptions::max_input_bytes fail with InvalidArgument; a text
// that produces more than kMaxMatchesPerScan raw pattern matches fails with ResourceExhausted
// (only an adversarial text or a custom regex matching nearly everywhere gets there). Candidate
// extraction reads a bounded neighbourhood of each trigger (a run of digits, once, whatever its
// length), so a scan is linear in the text; texts made of little but digits, colons or e-mail
// addresses are the slow case (tens of MB/s instead of hundreds).
//
// Thread safety: Compile is thread-safe. A Scanner is immutable; Scan is const and may be called
// concurrently from any number of threads. Each thread keeps one Hyperscan scratch space, grown
// to fit every database it has scanned with and freed when the thread exits, so the hot path
// takes no lock and Scanners may be created and destroyed freely on any thread.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "guard/normalize.h"

namespace perimeter::guard {

// A regexesConfig entry: the finding type is `name`.
struct CustomPattern {
  std::string name;
  std::string pattern;
};

struct ScannerOptions {
  // Entity names from guard/entity.h (detectable ones). Empty: no built-in type.
  std::vector<std::string> types;
  // Compiled into the same Hyperscan database as the built-in patterns.
  std::vector<CustomPattern> regexes;
};

struct Finding {
  std::string type;     // entity name, or the custom pattern's name
  bool custom = false;  // from ScannerOptions::regexes
  OriginalSpan span;    // in the ORIGINAL text (bytes and code points)
  std::string text;     // the original bytes of the span
  double score = 0;     // confidence in [0, 1], see the table above

  bool operator==(const Finding&) const = default;
};

// Context window around a candidate, in code points of the normalized text.
inline constexpr size_t kContextBefore = 40;
inline constexpr size_t kContextAfter = 24;
// Raw pattern matches allowed per scan (after merging consecutive matches of a trigger).
inline constexpr size_t kMaxMatchesPerScan = 4u << 20;

class Scanner {
 public:
  // InvalidArgument for an unknown or not-detectable type name, an empty custom pattern name, or a
  // custom pattern Hyperscan cannot compile (the message names the pattern and quotes
  // Hyperscan's error). Compiling takes milliseconds: do it once per configuration.
  static Result<std::unique_ptr<const Scanner>> Compile(const ScannerOptions& options);

  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Normalizes `text` (guard::Normalize with default options) and scans it. Findings are sorted
  // by start and never overlap; spans refer to `text`.
  Result<std::vector<Finding>> Scan(std::string_view text) const;

  // The same on a text the caller already normalized; `original` must be the text `normalized`
  // was made from (InvalidArgument if its size differs).
  Result<std::vector<Finding>> Scan(const NormalizedText& normalized,
                                    std::string_view original) const;

  struct Impl;

 private:
  explicit Scanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::guard
