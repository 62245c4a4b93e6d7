#include "audit/merkle.h"

#include <bit>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace perimeter::audit {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The largest power of two strictly less than n (n >= 2): RFC 9162's split point k.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// PATH(m, D[begin:end]) of RFC 9162 2.1.3.1, appended deepest first.
Status AppendPath(const SubtreeRoot& mth, uint64_t begin, uint64_t end, uint64_t m,
                  std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (n <= 1) return Status::Ok();
  const uint64_t k = SplitPoint(n);
  const bool left = m < k;
  PERIMETER_RETURN_IF_ERROR(left ? AppendPath(mth, begin, begin + k, m, out)
                                 : AppendPath(mth, begin + k, end, m - k, out));
  auto sibling = left ? mth(begin + k, end) : mth(begin, begin + k);
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::Ok();
}

// SUBPROOF(m, D[begin:end], b) of RFC 9162 2.1.4.1, for 0 < m <= n.
Status AppendSubproof(const SubtreeRoot& mth, uint64_t begin, uint64_t end, uint64_t m, bool b,
                      std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return Status::Ok();
    auto whole = mth(begin, end);
    if (!whole.ok()) return whole.status();
    out->push_back(*whole);
    return Status::Ok();
  }
  const uint64_t k = SplitPoint(n);
  const bool left = m <= k;
  PERIMETER_RETURN_IF_ERROR(left ? AppendSubproof(mth, begin, begin + k, m, b, out)
                                 : AppendSubproof(mth, begin + k, end, m - k, false, out));
  auto sibling = left ? mth(begin + k, end) : mth(begin, begin + k);
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::Ok();
}

SubtreeRoot OverLeaves(std::span<const Hash> leaves) {
  return [leaves](uint64_t begin, uint64_t end) -> Result<Hash> {
    return RootFromLeafHashes(leaves.subspan(begin, end - begin));
  };
}

}  // namespace

Hash LeafHash(std::string_view record) {
  // One hasher per thread: records can be up to 64 KiB, so prefixing by copying is avoided.
  thread_local crypto::Sha256Hasher hasher;
  const char prefix = static_cast<char>(kLeafPrefix);
  hasher.Update(std::string_view(&prefix, 1));
  hasher.Update(record);
  return hasher.Finish();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  char buf[1 + 2 * crypto::kSha256Bytes];
  buf[0] = static_cast<char>(kNodePrefix);
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return crypto::Sha256(std::string_view(buf, sizeof(buf)));
}

Hash EmptyRootHash() {
  static const Hash kEmpty = crypto::Sha256("");
  return kEmpty;
}

Hash RootFromLeafHashes(std::span<const Hash> leaves) {
  // Appending to a compact range keeps at most one hash per bit of the size.
  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf);
  return range.Root();
}

Result<std::vector<Hash>> InclusionProof(std::span<const Hash> leaves, uint64_t index,
                                         uint64_t tree_size) {
  if (tree_size > leaves.size()) {
    return InvalidArgument(
        fmt::format("inclusion proof: tree size {} is larger than the {} leaves available",
                    tree_size, leaves.size()));
  }
  if (index >= tree_size) {
    return InvalidArgument(fmt::format("inclusion proof: leaf index {} is not in a tree of size {}",
                                       index, tree_size));
  }
  return InclusionProof(OverLeaves(leaves), index, tree_size);
}

Result<std::vector<Hash>> InclusionProof(const SubtreeRoot& mth, uint64_t index,
                                         uint64_t tree_size) {
  if (index >= tree_size) {
    return InvalidArgument(fmt::format("inclusion proof: leaf index {} is not in a tree of size {}",
                                       index, tree_size));
  }
  std::vector<Hash> proof;
  PERIMETER_RETURN_IF_ERROR(AppendPath(mth, 0, tree_size, index, &proof));
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(std::span<const Hash> leaves, uint64_t from,
                                           uint64_t to) {
  if (from > to) {
    return InvalidArgument(fmt::format(
        "consistency proof: the old tree size {} is larger than the new tree size {}", from, to));
  }
  if (to > leaves.size()) {
    return InvalidArgument(
        fmt::format("consistency proof: tree size {} is larger than the {} leaves available", to,
                    leaves.size()));
  }
  return ConsistencyProof(OverLeaves(leaves), from, to);
}

Result<std::vector<Hash>> ConsistencyProof(const SubtreeRoot& mth, uint64_t from, uint64_t to) {
  if (from > to) {
    return InvalidArgument(fmt::format(
        "consistency proof: the old tree size {} is larger than the new tree size {}", from, to));
  }
  std::vector<Hash> proof;
  if (from == 0 || from == to) return proof;
  PERIMETER_RETURN_IF_ERROR(AppendSubproof(mth, 0, to, from, true, &proof));
  return proof;
}

Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                       std::span<const Hash> proof, const Hash& root) {
  // RFC 9162 2.1.3.2, step by step.
  if (index >= tree_size) {
    return InvalidArgument(fmt::format("inclusion proof: leaf index {} is not in a tree of size {}",
                                       index, tree_size));
  }
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return Unauthenticated(fmt::format(
          "inclusion proof has {} hashes, more than the path of leaf {} in a tree of size {}",
          proof.size(), index, tree_size));
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Unauthenticated(fmt::format(
        "inclusion proof has {} hashes, fewer than the path of leaf {} in a tree of size {}",
        proof.size(), index, tree_size));
  }
  if (r != root) {
    return Unauthenticated(fmt::format(
        "inclusion proof for leaf {} in a tree of size {} does not lead to the expected root "
        "hash: the leaf, the proof or the root was altered",
        index, tree_size));
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t from, uint64_t to, const Hash& from_root, const Hash& to_root,
                         std::span<const Hash> proof) {
  if (from > to) {
    return InvalidArgument(fmt::format(
        "consistency proof: the old tree size {} is larger than the new tree size {}", from, to));
  }
  if (from == to) {
    if (!proof.empty()) {
      return Unauthenticated(fmt::format(
          "consistency proof between equal tree sizes {} must be empty, but has {} hashes", from,
          proof.size()));
    }
    if (from_root != to_root) {
      return Unauthenticated(fmt::format(
          "two trees of the same size {} have different root hashes: the log was rewritten", from));
    }
    return Status::Ok();
  }
  if (from == 0) {
    if (!proof.empty()) {
      return Unauthenticated(fmt::format(
          "consistency proof from the empty tree must be empty, but has {} hashes", proof.size()));
    }
    if (from_root != EmptyRootHash()) {
      return Unauthenticated(
          "the root hash given for the empty tree is not the empty tree's root (SHA-256 of \"\")");
    }
    return Status::Ok();
  }

  // RFC 9162 2.1.4.2, step by step (0 < from < to).
  const auto too_long = [&] {
    return Unauthenticated(
        fmt::format("consistency proof from tree size {} to {} has {} hashes, more than it should",
                    from, to, proof.size()));
  };
  // 1. An empty proof fails.
  if (proof.empty()) {
    return Unauthenticated(
        fmt::format("consistency proof from tree size {} to {} is empty", from, to));
  }
  // 2. If first is an exact power of 2, the path starts with first_hash.
  size_t next = 0;
  Hash fr;
  if (std::has_single_bit(from)) {
    fr = from_root;
  } else {
    fr = proof[0];
    next = 1;
  }
  // 3.
  uint64_t fn = from - 1;
  uint64_t sn = to - 1;
  // 4.
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // 5.
  Hash sr = fr;
  // 6.
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return too_long();
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // 7.
  if (sn != 0) {
    return Unauthenticated(
        fmt::format("consistency proof from tree size {} to {} has {} hashes, fewer than it should",
                    from, to, proof.size()));
  }
  if (fr != from_root) {
    return Unauthenticated(fmt::format(
        "consistency proof does not lead to the root hash of the tree of size {}: the proof or "
        "that root was altered",
        from));
  }
  if (sr != to_root) {
    return Unauthenticated(fmt::format(
        "the tree of size {} is not an extension of the tree of size {}: the proof or the new "
        "root was altered, or the log was rewritten",
        to, from));
  }
  return Status::Ok();
}

Result<CompactRange> CompactRange::FromParts(uint64_t size, std::vector<Hash> hashes) {
  const auto want = static_cast<size_t>(std::popcount(size));
  if (hashes.size() != want) {
    return InvalidArgument(
        fmt::format("compact range of size {} needs {} subtree hashes (one per set bit), not {}",
                    size, want, hashes.size()));
  }
  CompactRange range;
  range.size_ = size;
  range.hashes_ = std::move(hashes);
  return range;
}

void CompactRange::Append(const Hash& leaf_hash) {
  // Each trailing one bit of the old size is a perfect subtree as large as the one being built:
  // merge them, smallest first.
  Hash h = leaf_hash;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = NodeHash(hashes_.back(), h);
    hashes_.pop_back();
  }
  hashes_.push_back(h);
  ++size_;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRootHash();
  // MTH splits off the largest power of two on the left, so the root folds right to left.
  Hash r = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) r = NodeHash(hashes_[i], r);
  return r;
}

std::string HashHex(const Hash& h) { return crypto::HexEncode(h); }

Result<Hash> HashFromHex(std::string_view hex) {
  const auto bad = [] {
    return InvalidArgument("a hash must be 64 lowercase hex characters (SHA-256)");
  };
  if (hex.size() != 2 * crypto::kSha256Bytes) return bad();
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Hash out{};
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace perimeter::audit
