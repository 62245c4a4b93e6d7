// Fuzz target for the audit log's file formats (audit/format.h, audit/event.h) and the reader
// that verifies them (audit/reader.h). The verifier's input is the log directory, and anyone who
// can write to the disk can edit it: every parser of those files, and ReadLog / VerifyLog over a
// whole directory, must handle any bytes without crashing, and must never report a damaged log
// as sound for a reason that does not exist.
//
// The input is used twice:
//  - whole, as one record line, checkpoint line, pruned.json, event JSON and segment file name;
//  - as a small log directory: split on NUL bytes into up to 3 pieces (the last piece keeps any
//    further NULs), written to a fresh temporary directory as the segment, checkpoints.jsonl and
//    pruned.json (pieces that are absent are not written). The segment is named
//    segment-00000000000000000000.jsonl, or after prunedSize when pruned.json parses (so the
//    reader reaches the records after a pruned prefix). Each line of each piece is also fed to
//    the parser of its file. The directory is removed after each input.
//
// Invariants checked:
//  1. A record line that parses formats back (FormatRecordLine) to exactly the input bytes: the
//     leaf hash covers those bytes, so the parser must accept only the writer's encoding.
//  2. A checkpoint line or pruned.json that parses formats to a line that parses to the same
//     value and formats to itself again. (Not byte for byte: ParseCheckpointLine and
//     ParsePrunedState accept any JSON spelling of the fields, such as spaces or "\u0061"
//     escapes; the signature covers CheckpointMessage, not the line.)
//  3. An event that parses serializes (EventJson) to one line that parses again to the same
//     serialization, and that line is accepted as a record's event (FormatRecordLine).
//  4. A segment file name that parses is SegmentFileName of its index; other names are NotFound.
//  5. ReadLog returns (FailedPrecondition only for a pruned.json that does not parse), its leaf
//     hashes are the hashes of its lines, and the checkpoints it parsed are those of its lines.
//  6. VerifyLog returns, with a public key of 32 zero bytes and with the public key of a fixed
//     key that signed the seed corpus's checkpoints (so that mutated records reach the comparison
//     with signed roots). A report that is not ok names its first failure; a report that is ok
//     counted every record, every record parses at its index and chains to the one before, and
//     every checkpoint is signed by the key, within the records, and (from the pruned size on)
//     equal to the root recomputed here with RootAt.

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "audit/event.h"
#include "audit/format.h"
#include "audit/merkle.h"
#include "audit/reader.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "fuzz_support.h"

namespace {

using perimeter::StatusCode;
namespace audit = perimeter::audit;

constexpr char kSeparator = '\0';
constexpr size_t kMaxPieces = 3;  // segment, checkpoints.jsonl, pruned.json
constexpr std::string_view kFixedKeySeed = "perimeter audit format fuzz key.";  // 32 bytes

std::vector<std::string_view> SplitPieces(std::string_view input) {
  std::vector<std::string_view> pieces;
  while (pieces.size() + 1 < kMaxPieces) {
    const size_t sep = input.find(kSeparator);
    if (sep == std::string_view::npos) {
      break;
    }
    pieces.push_back(input.substr(0, sep));
    input.remove_prefix(sep + 1);
  }
  pieces.push_back(input);
  return pieces;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool SameHashes(const std::vector<audit::Hash>& a, const std::vector<audit::Hash>& b) {
  return a == b;
}

// Invariant 1.
void CheckRecordLine(std::string_view line) {
  auto record = audit::ParseRecordLine(line);
  if (!record.ok()) {
    PERIMETER_FUZZ_CHECK(record.status().code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!record.status().message().empty());
    return;
  }
  PERIMETER_FUZZ_CHECK(line.size() <= audit::kMaxRecordBytes);
  auto formatted = audit::FormatRecordLine(*record);
  PERIMETER_FUZZ_CHECK(formatted.ok());
  PERIMETER_FUZZ_CHECK(*formatted == line);
}

bool SameCheckpoint(const audit::Checkpoint& a, const audit::Checkpoint& b) {
  return a.origin == b.origin && a.tree_size == b.tree_size && a.root == b.root &&
         a.time == b.time && a.key_id == b.key_id && a.signature == b.signature &&
         SameHashes(a.compact_range, b.compact_range);
}

// Invariant 2 for a checkpoint line.
void CheckCheckpointLine(std::string_view line) {
  auto cp = audit::ParseCheckpointLine(line);
  if (!cp.ok()) {
    PERIMETER_FUZZ_CHECK(cp.status().code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!cp.status().message().empty());
    return;
  }
  const std::string formatted = audit::FormatCheckpointLine(*cp);
  PERIMETER_FUZZ_CHECK(formatted.find('\n') == std::string::npos);
  auto again = audit::ParseCheckpointLine(formatted);
  PERIMETER_FUZZ_CHECK(again.ok());
  PERIMETER_FUZZ_CHECK(SameCheckpoint(*cp, *again));
  PERIMETER_FUZZ_CHECK(audit::FormatCheckpointLine(*again) == formatted);
  // The signed message is unambiguous: exactly the header and four fields, one per line.
  const std::string message = audit::CheckpointMessage(*cp);
  size_t newlines = 0;
  for (const char c : message) {
    newlines += c == '\n' ? 1 : 0;
  }
  PERIMETER_FUZZ_CHECK(newlines == 5);
}

// Invariant 2 for pruned.json.
void CheckPrunedState(std::string_view text) {
  auto pruned = audit::ParsePrunedState(text);
  if (!pruned.ok()) {
    PERIMETER_FUZZ_CHECK(pruned.status().code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!pruned.status().message().empty());
    return;
  }
  const std::string formatted = audit::FormatPrunedState(*pruned);
  auto again = audit::ParsePrunedState(formatted);
  PERIMETER_FUZZ_CHECK(again.ok());
  PERIMETER_FUZZ_CHECK(again->pruned_size == pruned->pruned_size);
  PERIMETER_FUZZ_CHECK(again->last_leaf_hash == pruned->last_leaf_hash);
  PERIMETER_FUZZ_CHECK(SameHashes(again->compact_range, pruned->compact_range));
  PERIMETER_FUZZ_CHECK(audit::FormatPrunedState(*again) == formatted);
}

// Invariant 3.
void CheckEvent(std::string_view text) {
  auto event = audit::ParseEventJson(text);
  if (!event.ok()) {
    PERIMETER_FUZZ_CHECK(event.status().code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!event.status().message().empty());
    return;
  }
  const std::string json = audit::EventJson(*event);
  PERIMETER_FUZZ_CHECK(json.find_first_of("\r\n") == std::string::npos);
  auto again = audit::ParseEventJson(json);
  PERIMETER_FUZZ_CHECK(again.ok());
  PERIMETER_FUZZ_CHECK(audit::EventJson(*again) == json);

  // What EventJson writes is a record's event; only the size limit may refuse it.
  audit::Record record;
  record.event_json = "{}";
  const size_t overhead = audit::FormatRecordLine(record).value().size() - record.event_json.size();
  record.event_json = json;
  auto line = audit::FormatRecordLine(record);
  if (!line.ok()) {
    PERIMETER_FUZZ_CHECK(json.size() + overhead > audit::kMaxRecordBytes);
    return;
  }
  auto parsed = audit::ParseRecordLine(*line);
  PERIMETER_FUZZ_CHECK(parsed.ok());
  PERIMETER_FUZZ_CHECK(parsed->event_json == json);
}

// Invariant 4.
void CheckSegmentFileName(std::string_view name) {
  auto first = audit::ParseSegmentFileName(name);
  if (!first.ok()) {
    PERIMETER_FUZZ_CHECK(first.status().code() == StatusCode::kNotFound);
    return;
  }
  PERIMETER_FUZZ_CHECK(audit::SegmentFileName(*first) == name);
}

// A directory that is removed when the input is done.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "perimeter-audit-fuzz-XXXXXX").string();
    PERIMETER_FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  void Write(std::string_view name, std::string_view data) const {
    std::ofstream out(path_ + "/" + std::string(name), std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    PERIMETER_FUZZ_CHECK(out.good());
  }

 private:
  std::string path_;
};

// The key the seed corpus's checkpoints are signed with (a fixed seed, so seeds made once keep
// verifying): with it, VerifyLog gets past the signatures to compare the records with the signed
// roots, which is what a forger has to defeat.
const perimeter::crypto::Ed25519PrivateKey& FixedKey() {
  static const auto* const key = new perimeter::crypto::Ed25519PrivateKey(
      perimeter::crypto::Ed25519PrivateKey::FromSeed(
          perimeter::crypto::SecretBytes(std::string(kFixedKeySeed)))
          .value());
  return *key;
}

// Invariant 6 for one public key.
void CheckVerify(const std::string& dir, std::string_view public_key,
                 const perimeter::Result<audit::LogContents>& log, bool pruned_written_and_bad) {
  auto report = audit::VerifyLog(dir, public_key);
  if (!report.ok()) {
    PERIMETER_FUZZ_CHECK(pruned_written_and_bad);
    PERIMETER_FUZZ_CHECK(report.status().code() == StatusCode::kFailedPrecondition);
    return;
  }
  PERIMETER_FUZZ_CHECK(log.ok());
  if (!report->ok) {
    PERIMETER_FUZZ_CHECK(!report->first_failure.empty());
    return;
  }
  PERIMETER_FUZZ_CHECK(report->first_failure.empty());
  PERIMETER_FUZZ_CHECK(!report->bad_record && !report->bad_checkpoint);
  PERIMETER_FUZZ_CHECK(report->records == log->lines.size());
  PERIMETER_FUZZ_CHECK(report->pruned == log->first_index);
  // Every record of a sound log parses, sits at its index and chains to the one before it.
  audit::Hash prev = log->pruned ? log->pruned->last_leaf_hash : audit::Hash{};
  for (size_t i = 0; i < log->lines.size(); ++i) {
    auto record = audit::ParseRecordLine(log->lines[i]);
    PERIMETER_FUZZ_CHECK(record.ok());
    PERIMETER_FUZZ_CHECK(record->index == log->first_index + i);
    PERIMETER_FUZZ_CHECK(record->prev == prev);
    prev = log->leaf_hashes[i];
  }
  // Every checkpoint is signed by the key, the records reach it, and those its root covers hash
  // to it (computed here independently of VerifyLog's incremental compact range).
  PERIMETER_FUZZ_CHECK(log->checkpoints.size() == log->checkpoint_lines.size());
  uint64_t compared = 0;
  for (const audit::Checkpoint& cp : log->checkpoints) {
    PERIMETER_FUZZ_CHECK(audit::VerifyCheckpointSignature(cp, public_key).ok());
    PERIMETER_FUZZ_CHECK(cp.tree_size <= log->size());
    if (cp.tree_size < log->first_index) {
      continue;
    }
    auto root = audit::RootAt(*log, cp.tree_size);
    PERIMETER_FUZZ_CHECK(root.ok());
    PERIMETER_FUZZ_CHECK(*root == cp.root);
    ++compared;
  }
  PERIMETER_FUZZ_CHECK(report->checkpoints == compared);
}

// Invariants 5 and 6.
void CheckDirectory(const std::vector<std::string_view>& pieces) {
  std::optional<audit::PrunedState> pruned;
  if (pieces.size() > 2) {
    if (auto p = audit::ParsePrunedState(pieces[2]); p.ok()) {
      pruned = std::move(*p);
    }
  }
  const ScratchDir dir;
  dir.Write(audit::SegmentFileName(pruned ? pruned->pruned_size : 0), pieces[0]);
  if (pieces.size() > 1) {
    dir.Write(audit::kCheckpointsFile, pieces[1]);
  }
  if (pieces.size() > 2) {
    dir.Write(audit::kPrunedFile, pieces[2]);
  }
  const bool pruned_written_and_bad = pieces.size() > 2 && !pruned;

  auto log = audit::ReadLog(dir.path());
  if (!log.ok()) {
    PERIMETER_FUZZ_CHECK(pruned_written_and_bad);
    PERIMETER_FUZZ_CHECK(log.status().code() == StatusCode::kFailedPrecondition);
  } else {
    PERIMETER_FUZZ_CHECK(!pruned_written_and_bad);
    PERIMETER_FUZZ_CHECK(log->first_index == (pruned ? pruned->pruned_size : 0));
    PERIMETER_FUZZ_CHECK(log->lines.size() == log->leaf_hashes.size());
    for (size_t i = 0; i < log->lines.size(); ++i) {
      PERIMETER_FUZZ_CHECK(log->lines[i].find('\n') == std::string::npos);
      PERIMETER_FUZZ_CHECK(log->leaf_hashes[i] == audit::LeafHash(log->lines[i]));
    }
    size_t parsed_checkpoints = 0;
    for (const auto& line : log->checkpoint_lines) {
      parsed_checkpoints += audit::ParseCheckpointLine(line).ok() ? 1 : 0;
    }
    PERIMETER_FUZZ_CHECK(parsed_checkpoints == log->checkpoints.size());
    PERIMETER_FUZZ_CHECK(log->segments.size() == 1);
    PERIMETER_FUZZ_CHECK(log->segment_gaps.empty());
    PERIMETER_FUZZ_CHECK(log->unterminated.empty());
  }

  CheckVerify(dir.path(), std::string(32, '\0'), log, pruned_written_and_bad);
  CheckVerify(dir.path(), FixedKey().PublicKey(), log, pruned_written_and_bad);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  CheckRecordLine(input);
  CheckCheckpointLine(input);
  CheckPrunedState(input);
  CheckEvent(input);
  CheckSegmentFileName(input);

  const std::vector<std::string_view> pieces = SplitPieces(input);
  if (pieces.size() > 1) {
    for (const std::string_view line : Lines(pieces[0])) {
      CheckRecordLine(line);
      if (auto record = audit::ParseRecordLine(line); record.ok()) {
        CheckEvent(record->event_json);
      }
    }
    for (const std::string_view line : Lines(pieces[1])) {
      CheckCheckpointLine(line);
    }
    if (pieces.size() > 2) {
      CheckPrunedState(pieces[2]);
    }
  }
  CheckDirectory(pieces);
  return 0;
}
