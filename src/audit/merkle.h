#pragma once

// The Merkle tree of RFC 6962 / RFC 9162 (section 2.1) over the audit log's records.
//
//   leaf hash  = SHA-256(0x00 || record bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256("")
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n
//
// Proofs are RFC 9162's: an inclusion proof (2.1.3) is the audit path of one leaf in a tree of a
// given size; a consistency proof (2.1.4) shows that the tree of size m is a prefix of the tree
// of size n. Verification follows RFC 9162's algorithms (2.1.3.2, 2.1.4.2) exactly, so any
// RFC-conformant verifier (the test suite has an independent one in JavaScript) checks them.
//
// CompactRange is what an appender keeps: the roots of the perfect subtrees that make up
// [0, size) (at most 64 hashes), enough to append and compute the root without the leaves.
// Everything here is pure and thread-compatible.

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/hash.h"

namespace perimeter::audit {

using Hash = crypto::Sha256Digest;

Hash LeafHash(std::string_view record);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRootHash();  // SHA-256 of the empty string

// MTH over `leaves` (leaf hashes, not records). O(n) time, O(log n) extra space.
Hash RootFromLeafHashes(std::span<const Hash> leaves);

// MTH(D[begin:end]) of some log, for proofs over logs whose leaves are not all at hand (a
// pruned prefix is kept only as the roots of its perfect subtrees). An error when that subtree
// cannot be computed.
using SubtreeRoot = std::function<Result<Hash>(uint64_t begin, uint64_t end)>;

// RFC 9162 2.1.3.1 / 2.1.4.1 over any log: the subtrees the proof needs come from `mth`.
// InvalidArgument unless index < tree_size (inclusion) or from <= to (consistency); otherwise
// the errors `mth` returns.
Result<std::vector<Hash>> InclusionProof(const SubtreeRoot& mth, uint64_t index,
                                         uint64_t tree_size);
Result<std::vector<Hash>> ConsistencyProof(const SubtreeRoot& mth, uint64_t from, uint64_t to);

// The inclusion proof of leaf `index` in the tree of the first `tree_size` leaves.
// InvalidArgument unless index < tree_size <= leaves.size().
Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaves, uint64_t index,
                                         uint64_t tree_size);

// The consistency proof between the trees of sizes `from` and `to` (RFC 9162 2.1.4.1; empty when
// from == to or from == 0). InvalidArgument unless from <= to <= leaves.size().
Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaves, uint64_t from,
                                           uint64_t to);

// RFC 9162 2.1.3.2. Ok when `proof` shows `leaf_hash` at `index` in the tree of `tree_size`
// whose root is `root`; Unauthenticated (naming the reason) otherwise; InvalidArgument when
// index >= tree_size.
Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root);

// RFC 9162 2.1.4.2. Ok when `proof` shows that the tree of size `from` with root `from_root` is a
// prefix of the tree of size `to` with root `to_root`; Unauthenticated otherwise; InvalidArgument
// when from > to. from == to needs an empty proof and equal roots; from == 0 needs an empty proof
// (the empty tree is a prefix of every tree).
Status VerifyConsistency(uint64_t from, uint64_t to, const Hash& from_root, const Hash& to_root,
                         std::span<const Hash> proof);

// The perfect subtrees covering [0, size), largest (leftmost) first: subtree i has 2^k leaves for
// each bit k set in size, from the highest bit down.
class CompactRange {
 public:
  CompactRange() = default;
  // InvalidArgument unless hashes.size() == popcount(size).
  static Result<CompactRange> FromParts(uint64_t size, std::vector<Hash> hashes);

  void Append(const Hash& leaf_hash);
  uint64_t size() const { return size_; }
  const std::vector<Hash>& hashes() const { return hashes_; }
  // MTH of the leaves appended so far (EmptyRootHash() when size is 0).
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

// Hex (lowercase, 64 characters) and back; InvalidArgument for anything else.
std::string HashHex(const Hash& h);
Result<Hash> HashFromHex(std::string_view hex);

}  // namespace perimeter::audit
