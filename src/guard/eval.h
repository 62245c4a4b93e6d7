#pragma once

// Scoring of sensitive-information detection against a labeled dataset.
//
// The dataset (tests/data/guard/labeled.jsonl, format in tests/data/guard/README.md) has one JSON
// object per line: {"text": "...", "spans": [{"type": "EMAIL", "start": 12, "end": 31}, ...]}
// with offsets in Unicode code points of `text`, end exclusive. An evaluation parses each line,
// runs the scanner on the text, converts its findings to code-point spans and calls ScoreSpans.
//
// Everything here is pure (no I/O, no global state) and safe to call from many threads at once.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter::guard {

// A typed span of a text, in code points, end exclusive.
struct LabeledSpan {
  std::string type;  // entity name, e.g. "CREDIT_DEBIT_CARD_NUMBER"
  size_t start = 0;
  size_t end = 0;
};

struct LabeledExample {
  std::string text;  // UTF-8
  std::vector<LabeledSpan> spans;
};

// Parses one line of the dataset. Accepts exactly the keys "text" (a string) and "spans" (an
// array) at the top level, and "type" (a non-empty string of A-Z, 0-9 and '_'), "start" and
// "end" (non-negative integers) in each span; any other key, a repeated key, a missing key or a
// value of the wrong kind is InvalidArgument. Also refused: end <= start (an empty span labels
// nothing) and end beyond the number of code points of the text. The type is not checked against
// the entity table, so the dataset may label types a build does not know yet.
// Error messages name the offending key and span index and never echo the line or the text.
Result<LabeledExample> ParseLabeledLine(std::string_view line);

// Counts and scores of one entity type over a dataset.
struct TypeScore {
  std::string type;
  size_t true_positives = 0;
  size_t false_positives = 0;
  size_t false_negatives = 0;
  double precision = 0;  // TP / (TP + FP); 1 when the type was never predicted
  double recall = 0;     // TP / (TP + FN); 1 when the type has no gold span
  double f2 = 0;         // F2(precision, recall)
};

// Per-type scores over a dataset: gold[i] is scored against predicted[i]. A predicted span is a
// true positive when it has the same type as a not yet matched gold span of the same example and
// they overlap by at least half of the longer of the two (2 * overlap >= max length); each gold
// span matches at most one prediction and each prediction at most one gold span. Within an
// example, candidate pairs are matched greedily by decreasing overlap (ties: earlier gold span,
// then earlier prediction), so the result does not depend on the order of either list beyond ties.
// Unmatched predictions are false positives, unmatched gold spans false negatives.
//
// A type with no predictions has precision 1 (nothing it claimed was wrong) and one with no gold
// spans has recall 1 (nothing was missed); since such a type also has TP = 0, its F2 is 0 (it has
// gold spans and found none, or it has only false positives). Types that appear in neither list
// are absent from the result. The result is sorted by type name.
//
// If the two lists differ in length, the shorter is treated as padded with empty lists (every span
// beyond it is then a miss or a false alarm).
std::vector<TypeScore> ScoreSpans(const std::vector<std::vector<LabeledSpan>>& gold,
                                  const std::vector<std::vector<LabeledSpan>>& predicted);

// F-beta with beta = 2 (recall weighs four times as much as precision):
// 5 * p * r / (4 * p + r), and 0 when p and r are both 0. Inputs are expected in [0, 1].
double F2(double precision, double recall);

}  // namespace perimeter::guard
