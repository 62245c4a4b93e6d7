#pragma once

// Reading a log directory (format.h) without the process that writes it: verification, proofs,
// queries, pruning. Needs only the files and, to check signatures, the public key; never the KMS
// or the state directory. This is what `perimeter audit verify|prove|consistency|query|export|
// prune` run.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/format.h"
#include "audit/merkle.h"
#include "common/status.h"

namespace perimeter::audit {

// Every record of the log in order, with its leaf hash; read in one pass.
struct LogContents {
  std::optional<PrunedState> pruned;          // records before pruned->pruned_size are gone
  uint64_t first_index = 0;                   // == pruned_size, or 0
  std::vector<std::string> lines;             // record lines (without '\n'), index first_index + i
  std::vector<Hash> leaf_hashes;              // LeafHash(lines[i])
  std::vector<Checkpoint> checkpoints;        // the lines of checkpoints.jsonl that parse
  std::vector<std::string> checkpoint_lines;  // every complete line, for the verifier
  // Segments in order: (index of its first line in this reading, file name).
  std::vector<std::pair<uint64_t, std::string>> segments;
  // A segment whose name does not match where it falls (records missing or renamed files).
  struct Gap {
    uint64_t named_first;  // what its name says
    uint64_t expected;     // where it actually starts
    std::string name;
  };
  std::vector<Gap> segment_gaps;
  uint64_t torn_tail = 0;                 // bytes of an unfinished last line, if any
  std::vector<std::string> unterminated;  // segments other than the last ending mid-line
  uint64_t size() const { return first_index + lines.size(); }
};

// Reads the directory. A line that does not end in '\n' at the end of the last segment (a torn
// write) is ignored and reported in `torn_tail`. Errors: Unavailable for I/O, FailedPrecondition
// when a file cannot be parsed at all (the verifier reports those as findings instead).
struct ReadOptions {
  bool keep_lines = true;
};
Result<LogContents> ReadLog(const std::string& dir, const ReadOptions& options = {});

// The root of the tree of the first `size` records (size >= first_index): uses the pruned
// compact range for the prefix that is gone.
Result<Hash> RootAt(const LogContents& log, uint64_t size);

// The result of `perimeter audit verify`.
struct VerifyReport {
  bool ok = false;
  uint64_t records = 0;      // records checked
  uint64_t checkpoints = 0;  // checkpoints whose signature and root verified
  uint64_t pruned = 0;       // records pruned before the first kept one
  // The first problem found, located: "record 42 (segment-...jsonl line 3): prev does not match
  // the leaf hash of record 41", "checkpoint 7 (treeSize 120): root does not match the records".
  std::string first_failure;
  std::optional<uint64_t> bad_record;      // index of the first bad record, if a record
  std::optional<uint64_t> bad_checkpoint;  // position in checkpoints.jsonl, if a checkpoint
  std::vector<std::string> warnings;       // e.g. a torn tail that was never acknowledged
};

// Recomputes everything: each record parses, its index is its position, its prev is the leaf
// hash of the record before it, segments are contiguous and named by their first index; each
// checkpoint's signature verifies under `public_key32`, its root equals the recomputed root of
// its size, its compact range hashes to its root, sizes and times never decrease, and the
// records reach the last checkpoint's size (records missing at the end are truncation).
// Returns Ok with report.ok == false when the log does not verify; an error only for I/O.
Result<VerifyReport> VerifyLog(const std::string& dir, std::string_view public_key32);

// Reads a public key from a PEM file (checkpoint-key.pem) into 32 raw bytes.
Result<std::string> ReadPublicKeyPem(const std::string& path);

// Inclusion proof of record `index` against the tree of `tree_size` (default: the last
// checkpoint's size, which must cover the record).
struct InclusionProofResult {
  uint64_t index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  Hash root{};
  std::vector<Hash> path;
  std::optional<Checkpoint> checkpoint;  // the signed checkpoint of tree_size, if there is one
  std::string record_line;
};
Result<InclusionProofResult> ProveInclusion(const LogContents& log, uint64_t index,
                                            std::optional<uint64_t> tree_size = std::nullopt);
// The index of the record whose event has eventID `event_id`; NotFound otherwise.
Result<uint64_t> FindEventIndex(const LogContents& log, std::string_view event_id);

struct ConsistencyProofResult {
  uint64_t from = 0;
  uint64_t to = 0;
  Hash from_root{};
  Hash to_root{};
  std::vector<Hash> path;
};
// Needs from >= first_index (a pruned prefix can only be proved from its compact range onward).
Result<ConsistencyProofResult> ProveConsistency(const LogContents& log, uint64_t from, uint64_t to);

// Deletes whole segments all of whose records' retention dates have passed (`now`) and that lie
// before the last checkpoint, writing pruned.json first. Returns how many records were pruned.
// Nothing is deleted before its retention date.
Result<uint64_t> Prune(const std::string& dir, std::chrono::system_clock::time_point now);

}  // namespace perimeter::audit
