#pragma once

// The audit log's files, byte for byte. docs/audit.md describes the same format for auditors;
// an independent verifier (tests/audit/verify.mjs) reads only what is written here.
//
// A log is a directory (`<state_dir>/audit/` by default):
//
//   segment-<first index, 20 digits>.jsonl   records, one per line ('\n'-terminated)
//   checkpoints.jsonl                        signed checkpoints, one per line
//   checkpoint-key.pem                       the Ed25519 public key (SubjectPublicKeyInfo PEM)
//   checkpoint-key.sealed                    its private seed, encrypted by the KMS
//   pruned.json                              present after pruning: where the kept log starts
//   lock                                     flock(2) held by whichever process is appending
//
// Record line (leaf i of the Merkle tree is exactly the bytes of line i without its '\n'):
//   {"index":<i>,"prev":"<hex leaf hash of record i-1; 64 zeros for i = 0>",
//    "retainUntil":"<RFC 3339 UTC, seconds>","event":{<CloudTrail-shaped event>}}
// Keys in that order; the writer never emits '\n' inside a line. "index" and "prev" let a
// verifier name the first record that was altered, dropped or moved even before it reaches a
// checkpoint; the signed checkpoints are what an attacker who rewrites the chain cannot forge.
//
// Checkpoint line:
//   {"origin":"<origin>","treeSize":<n>,"rootHash":"<hex>","time":"<RFC 3339 UTC>",
//    "keyId":"<hex of the first 8 bytes of SHA-256(raw public key)>",
//    "signature":"<base64 Ed25519 signature of CheckpointMessage>",
//    "compactRange":["<hex>",...]}
// The signature covers CheckpointMessage (below); compactRange (the perfect-subtree roots of
// [0, n), see merkle.h) is unsigned: readers check that it hashes to rootHash before using it.
//
// pruned.json (written by rename, never edited in place):
//   {"prunedSize":<p>,"lastLeafHash":"<hex leaf hash of record p-1>",
//    "compactRange":["<hex>",...]}
// Records [0, p) were deleted after their retention dates; the compact range of [0, p) lets
// every later root, inclusion and consistency proof be recomputed without them.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "common/status.h"

namespace perimeter::audit {

inline constexpr std::string_view kSegmentPrefix = "segment-";
inline constexpr std::string_view kSegmentSuffix = ".jsonl";
inline constexpr std::string_view kCheckpointsFile = "checkpoints.jsonl";
inline constexpr std::string_view kPublicKeyFile = "checkpoint-key.pem";
inline constexpr std::string_view kSealedKeyFile = "checkpoint-key.sealed";
inline constexpr std::string_view kPrunedFile = "pruned.json";
inline constexpr std::string_view kLockFile = "lock";
inline constexpr std::string_view kCheckpointHeader = "perimeter-audit-checkpoint/v1";
// A record line is bounded: an event is small (no content, ever).
inline constexpr size_t kMaxRecordBytes = 64 * 1024;

// "segment-00000000000000000042.jsonl" for first index 42.
std::string SegmentFileName(uint64_t first_index);
// The first index a segment file name encodes; NotFound for a name that is not a segment's.
Result<uint64_t> ParseSegmentFileName(std::string_view name);

struct Record {
  uint64_t index = 0;
  Hash prev{};  // leaf hash of record index-1 (zeros for index 0)
  std::chrono::system_clock::time_point retain_until;
  std::string event_json;  // the "event" object, serialized
};

// The line for a record, without the trailing '\n'. `event_json` must be one JSON object with no
// newline (InvalidArgument otherwise, or when the line would exceed kMaxRecordBytes).
Result<std::string> FormatRecordLine(const Record& record);
// Parses a line (without '\n'). InvalidArgument naming what is wrong.
Result<Record> ParseRecordLine(std::string_view line);

struct Checkpoint {
  std::string origin;  // arn:aws:perimeter:<region>:<account>:audit
  uint64_t tree_size = 0;
  Hash root{};
  std::chrono::system_clock::time_point time;  // whole seconds
  std::string key_id;                          // 16 hex characters
  std::string signature;                       // 64 raw bytes
  std::vector<Hash> compact_range;             // of [0, tree_size)
};

// The exact bytes a checkpoint's signature covers:
//   "perimeter-audit-checkpoint/v1\n<origin>\n<treeSize>\n<rootHash hex>\n<time>\n"
std::string CheckpointMessage(const Checkpoint& cp);
std::string FormatCheckpointLine(const Checkpoint& cp);
Result<Checkpoint> ParseCheckpointLine(std::string_view line);
// Ok if the signature verifies under `public_key32` and key_id matches it; Unauthenticated
// otherwise.
Status VerifyCheckpointSignature(const Checkpoint& cp, std::string_view public_key32);
std::string KeyIdOf(std::string_view public_key32);

struct PrunedState {
  uint64_t pruned_size = 0;
  Hash last_leaf_hash{};
  std::vector<Hash> compact_range;
};
std::string FormatPrunedState(const PrunedState& p);
Result<PrunedState> ParsePrunedState(std::string_view text);

}  // namespace perimeter::audit
