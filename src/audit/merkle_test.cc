#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "crypto/hash.h"

namespace perimeter::audit {
namespace {

// --- An independent reference, written straight from RFC 9162 section 2.1 over raw records. ---

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

Hash RefSha(const std::string& s) { return crypto::Sha256(s); }

std::string Raw(const Hash& h) { return std::string(h.begin(), h.end()); }

// MTH(D[n]) as the RFC defines it: recursive, k = the largest power of two smaller than n.
Hash RefMth(const std::vector<std::string>& d, size_t lo, size_t hi) {
  const size_t n = hi - lo;
  if (n == 0) return RefSha("");
  if (n == 1) return RefSha(std::string(1, '\0') + d[lo]);
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return RefSha(std::string(1, '\1') + Raw(RefMth(d, lo, lo + k)) + Raw(RefMth(d, lo + k, hi)));
}

// PATH(m, D[lo:hi]).
std::vector<Hash> RefPath(const std::vector<std::string>& d, size_t m, size_t lo, size_t hi) {
  const size_t n = hi - lo;
  if (n == 1) return {};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Hash> out;
  if (m < k) {
    out = RefPath(d, m, lo, lo + k);
    out.push_back(RefMth(d, lo + k, hi));
  } else {
    out = RefPath(d, m - k, lo + k, hi);
    out.push_back(RefMth(d, lo, lo + k));
  }
  return out;
}

// SUBPROOF(m, D[lo:hi], b).
std::vector<Hash> RefSubproof(const std::vector<std::string>& d, size_t m, size_t lo, size_t hi,
                              bool b) {
  const size_t n = hi - lo;
  if (m == n) {
    if (b) return {};
    return {RefMth(d, lo, hi)};
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<Hash> out;
  if (m <= k) {
    out = RefSubproof(d, m, lo, lo + k, b);
    out.push_back(RefMth(d, lo + k, hi));
  } else {
    out = RefSubproof(d, m - k, lo + k, hi, false);
    out.push_back(RefMth(d, lo, lo + k));
  }
  return out;
}

// Records for the exhaustive tests: distinct, of varying length.
std::vector<std::string> Records(size_t n) {
  std::vector<std::string> d;
  for (size_t i = 0; i < n; ++i)
    d.push_back("record " + std::string(i % 7, 'x') + std::to_string(i));
  return d;
}

std::vector<Hash> LeafHashes(const std::vector<std::string>& d) {
  std::vector<Hash> out;
  for (const auto& r : d) out.push_back(LeafHash(r));
  return out;
}

Hash Flip(Hash h, size_t byte = 0) {
  h[byte] ^= 0x01;
  return h;
}

Hash FromHex(std::string_view hex) {
  auto h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash{};
}

// The RFC 6962 test data used by Certificate Transparency (certificate-transparency-go).
std::vector<std::string> CtLeaves() {
  return {
      "",
      Bytes({0x00}),
      Bytes({0x10}),
      Bytes({0x20, 0x21}),
      Bytes({0x30, 0x31}),
      Bytes({0x40, 0x41, 0x42, 0x43}),
      Bytes({0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57}),
      Bytes({0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
             0x6e, 0x6f}),
  };
}

// --- Known answers. ---

TEST(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HashHex(EmptyRootHash()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootFromLeafHashes({}), EmptyRootHash());
  EXPECT_EQ(CompactRange().Root(), EmptyRootHash());
}

TEST(MerkleTest, LeafAndNodeHashesUseTheRfcDomainSeparation) {
  EXPECT_EQ(LeafHash("abc"), crypto::Sha256(std::string("\0abc", 4)));
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  EXPECT_EQ(NodeHash(a, b), crypto::Sha256("\x01" + Raw(a) + Raw(b)));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  // A leaf can never be mistaken for a node: the prefixes differ.
  EXPECT_NE(LeafHash(Raw(a) + Raw(b)), NodeHash(a, b));
}

TEST(MerkleTest, MatchesCertificateTransparencyRoots) {
  const std::vector<std::string> leaves = CtLeaves();
  const std::vector<Hash> hashes = LeafHashes(leaves);
  const char* const kRoots[] = {
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  CompactRange range;
  for (size_t n = 0; n <= 8; ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(HashHex(RefMth(leaves, 0, n)), kRoots[n]);
    EXPECT_EQ(HashHex(RootFromLeafHashes(std::span(hashes).first(n))), kRoots[n]);
    EXPECT_EQ(HashHex(range.Root()), kRoots[n]);
    if (n < 8) range.Append(hashes[n]);
  }
}

TEST(MerkleTest, MatchesCertificateTransparencyInclusionProofs) {
  const std::vector<Hash> hashes = LeafHashes(CtLeaves());
  struct Case {
    uint64_t index, size;
    std::vector<const char*> path;
  };
  const Case kCases[] = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << c.index << " in " << c.size);
    auto proof = InclusionProof(hashes, c.index, c.size);
    ASSERT_TRUE(proof.ok()) << proof.status().message();
    std::vector<std::string> got;
    for (const Hash& h : *proof) got.push_back(HashHex(h));
    EXPECT_EQ(got, std::vector<std::string>(c.path.begin(), c.path.end()));
    const Hash root = RootFromLeafHashes(std::span(hashes).first(c.size));
    EXPECT_TRUE(VerifyInclusion(hashes[c.index], c.index, c.size, *proof, root).ok());
  }
}

TEST(MerkleTest, MatchesCertificateTransparencyConsistencyProofs) {
  const std::vector<Hash> hashes = LeafHashes(CtLeaves());
  struct Case {
    uint64_t from, to;
    std::vector<const char*> proof;
  };
  const Case kCases[] = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << c.from << " -> " << c.to);
    auto proof = ConsistencyProof(hashes, c.from, c.to);
    ASSERT_TRUE(proof.ok()) << proof.status().message();
    std::vector<std::string> got;
    for (const Hash& h : *proof) got.push_back(HashHex(h));
    EXPECT_EQ(got, std::vector<std::string>(c.proof.begin(), c.proof.end()));
    const Hash from_root = RootFromLeafHashes(std::span(hashes).first(c.from));
    const Hash to_root = RootFromLeafHashes(std::span(hashes).first(c.to));
    EXPECT_TRUE(VerifyConsistency(c.from, c.to, from_root, to_root, *proof).ok());
  }
}

// --- Roots and compact ranges against the reference. ---

TEST(MerkleTest, RootsMatchTheReferenceForEverySizeUpTo130) {
  const std::vector<std::string> d = Records(130);
  const std::vector<Hash> leaves = LeafHashes(d);
  CompactRange range;
  for (size_t n = 0; n <= 130; ++n) {
    SCOPED_TRACE(n);
    const Hash want = RefMth(d, 0, n);
    EXPECT_EQ(RootFromLeafHashes(std::span(leaves).first(n)), want);
    ASSERT_EQ(range.size(), n);
    EXPECT_EQ(range.Root(), want);

    // The parts are the perfect subtrees for the set bits of n, largest first.
    ASSERT_EQ(range.hashes().size(), static_cast<size_t>(std::popcount(n)));
    size_t start = 0;
    size_t part = 0;
    for (int bit = 63; bit >= 0; --bit) {
      const size_t width = size_t{1} << bit;
      if ((n & width) == 0) continue;
      EXPECT_EQ(range.hashes()[part], RefMth(d, start, start + width)) << "bit " << bit;
      start += width;
      ++part;
    }

    // A range rebuilt from its parts behaves like the original.
    auto rebuilt = CompactRange::FromParts(range.size(), range.hashes());
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().message();
    EXPECT_EQ(rebuilt->Root(), want);
    if (n < 130) {
      rebuilt->Append(leaves[n]);
      EXPECT_EQ(rebuilt->Root(), RefMth(d, 0, n + 1));
      range.Append(leaves[n]);
    }
  }
}

TEST(MerkleTest, CompactRangeFromPartsChecksTheNumberOfHashes) {
  const Hash h = LeafHash("x");
  EXPECT_TRUE(CompactRange::FromParts(0, {}).ok());
  EXPECT_EQ(CompactRange::FromParts(0, {h}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::FromParts(5, {h}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CompactRange::FromParts(4, {h, h}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CompactRange::FromParts(4, {h}).ok());
}

TEST(MerkleTest, CompactRangeWorksAtHugeSizes) {
  // 2^63 + (2^62 - 1): 63 parts; one append merges the 62 trailing ones with the new leaf.
  const uint64_t size = (uint64_t{1} << 63) + ((uint64_t{1} << 62) - 1);
  std::vector<Hash> parts;
  for (int i = 0; i < 63; ++i) parts.push_back(LeafHash(std::to_string(i)));
  auto range = CompactRange::FromParts(size, parts);
  ASSERT_TRUE(range.ok()) << range.status().message();
  Hash want = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) want = NodeHash(parts[i], want);
  EXPECT_EQ(range->Root(), want);

  const Hash leaf = LeafHash("new");
  Hash merged = leaf;
  for (size_t i = parts.size(); i-- > 1;) merged = NodeHash(parts[i], merged);
  range->Append(leaf);
  EXPECT_EQ(range->size(), size + 1);
  ASSERT_EQ(range->hashes().size(), 2u);
  EXPECT_EQ(range->hashes()[0], parts[0]);
  EXPECT_EQ(range->hashes()[1], merged);
  EXPECT_EQ(range->Root(), NodeHash(parts[0], merged));
}

// --- Inclusion proofs. ---

TEST(MerkleTest, EveryInclusionProofUpTo70VerifiesAndEveryTamperingFails) {
  const std::vector<std::string> d = Records(72);
  const std::vector<Hash> leaves = LeafHashes(d);
  std::vector<Hash> roots;
  for (size_t n = 0; n <= 72; ++n) roots.push_back(RefMth(d, 0, n));

  for (uint64_t n = 1; n <= 70; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE(testing::Message() << "leaf " << i << " of " << n);
      auto proof = InclusionProof(leaves, i, n);
      ASSERT_TRUE(proof.ok()) << proof.status().message();
      ASSERT_EQ(*proof, RefPath(d, i, 0, n));
      const Hash& leaf = leaves[i];
      ASSERT_TRUE(VerifyInclusion(leaf, i, n, *proof, roots[n]).ok());

      auto fails = [&](const Status& s) {
        return !s.ok() && s.code() == StatusCode::kUnauthenticated;
      };
      EXPECT_TRUE(fails(VerifyInclusion(Flip(leaf), i, n, *proof, roots[n])));
      EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, *proof, Flip(roots[n], 31))));
      for (size_t j = 0; j < proof->size(); ++j) {
        std::vector<Hash> bad = *proof;
        bad[j] = Flip(bad[j], j % 32);
        EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, bad, roots[n]))) << "hash " << j;
      }
      for (uint64_t j = 0; j < n; ++j) {
        if (j != i) {
          EXPECT_TRUE(fails(VerifyInclusion(leaf, j, n, *proof, roots[n]))) << j;
        }
      }
      // A different size, with that size's genuine root. (With the root of n, a size whose path
      // has the same shape would verify: the checkpoint signs size and root together.)
      for (uint64_t m = i + 1; m <= 72; ++m) {
        if (m != n) {
          EXPECT_TRUE(fails(VerifyInclusion(leaf, i, m, *proof, roots[m]))) << m;
        }
      }
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, shorter, roots[n])));
        std::vector<Hash> no_first(proof->begin() + 1, proof->end());
        EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, no_first, roots[n])));
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(leaf);
      EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, longer, roots[n])));
      std::vector<Hash> longer_front = *proof;
      longer_front.insert(longer_front.begin(), leaf);
      EXPECT_TRUE(fails(VerifyInclusion(leaf, i, n, longer_front, roots[n])));
    }
  }
}

TEST(MerkleTest, InclusionEdgeCases) {
  const std::vector<Hash> leaves = LeafHashes(Records(4));
  // A tree of one leaf: the root is the leaf hash and the proof is empty.
  auto one = InclusionProof(leaves, 0, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->empty());
  EXPECT_TRUE(VerifyInclusion(leaves[0], 0, 1, {}, leaves[0]).ok());
  EXPECT_EQ(VerifyInclusion(leaves[0], 0, 1, std::vector<Hash>{leaves[1]}, leaves[0]).code(),
            StatusCode::kUnauthenticated);

  EXPECT_EQ(InclusionProof(leaves, 4, 4).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 0, 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 0, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(leaves[0], 0, 0, {}, EmptyRootHash()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(leaves[0], 4, 4, {}, leaves[0]).code(), StatusCode::kInvalidArgument);

  // The reason is named.
  const Hash root = RootFromLeafHashes(leaves);
  auto proof = InclusionProof(leaves, 1, 4);
  ASSERT_TRUE(proof.ok());
  std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
  EXPECT_NE(VerifyInclusion(leaves[1], 1, 4, shorter, root).message().find("fewer"),
            std::string::npos);
  std::vector<Hash> longer = *proof;
  longer.push_back(root);
  EXPECT_NE(VerifyInclusion(leaves[1], 1, 4, longer, root).message().find("more"),
            std::string::npos);
}

TEST(MerkleTest, InclusionWorksAtHugeTreeSizes) {
  // The last leaf of a tree of 2^64 - 1 leaves: the path has 63 hashes (one per part to its left).
  const uint64_t size = ~uint64_t{0};
  std::vector<Hash> path;
  for (int i = 0; i < 63; ++i) path.push_back(LeafHash("p" + std::to_string(i)));
  const Hash leaf = LeafHash("last");
  Hash root = leaf;
  for (const Hash& p : path) root = NodeHash(p, root);
  EXPECT_TRUE(VerifyInclusion(leaf, size - 1, size, path, root).ok());
  EXPECT_FALSE(VerifyInclusion(leaf, size - 2, size, path, root).ok());
}

// --- Consistency proofs. ---

TEST(MerkleTest, EveryConsistencyProofUpTo70VerifiesAndEveryTamperingFails) {
  const std::vector<std::string> d = Records(70);
  const std::vector<Hash> leaves = LeafHashes(d);
  std::vector<Hash> roots;
  for (size_t n = 0; n <= 70; ++n) roots.push_back(RefMth(d, 0, n));
  auto fails = [](const Status& s) { return !s.ok() && s.code() == StatusCode::kUnauthenticated; };

  for (uint64_t n = 0; n <= 70; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      SCOPED_TRACE(testing::Message() << m << " -> " << n);
      auto proof = ConsistencyProof(leaves, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status().message();
      if (m == 0 || m == n) {
        EXPECT_TRUE(proof->empty());
      } else {
        ASSERT_EQ(*proof, RefSubproof(d, m, 0, n, true));
      }
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof).ok());

      // Wrong roots. (From the empty tree every tree is an extension, whatever its root.)
      EXPECT_TRUE(fails(VerifyConsistency(m, n, Flip(roots[m]), roots[n], *proof)));
      if (m != 0) {
        EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], Flip(roots[n], 17), *proof)));
      }
      for (size_t j = 0; j < proof->size(); ++j) {
        std::vector<Hash> bad = *proof;
        bad[j] = Flip(bad[j], (j * 5) % 32);
        EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], roots[n], bad))) << "hash " << j;
      }
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], roots[n], shorter)));
        std::vector<Hash> no_first(proof->begin() + 1, proof->end());
        EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], roots[n], no_first)));
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(roots[n]);
      EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], roots[n], longer)));
      std::vector<Hash> longer_front = *proof;
      longer_front.insert(longer_front.begin(), roots[m]);
      EXPECT_TRUE(fails(VerifyConsistency(m, n, roots[m], roots[n], longer_front)));

      // Other sizes with their genuine roots.
      if (m != 0 && m != n) {
        for (uint64_t m2 = 1; m2 < n; ++m2) {
          if (m2 != m) {
            EXPECT_TRUE(fails(VerifyConsistency(m2, n, roots[m2], roots[n], *proof))) << m2;
          }
        }
        for (uint64_t n2 = m + 1; n2 <= 70; ++n2) {
          if (n2 != n) {
            EXPECT_TRUE(fails(VerifyConsistency(m, n2, roots[m], roots[n2], *proof))) << n2;
          }
        }
      }
    }
  }
}

TEST(MerkleTest, ConsistencyEdgeCases) {
  const std::vector<std::string> d = Records(8);
  const std::vector<Hash> leaves = LeafHashes(d);
  const Hash r3 = RefMth(d, 0, 3);
  const Hash r8 = RefMth(d, 0, 8);

  EXPECT_EQ(ConsistencyProof(leaves, 4, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 3, 9).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(4, 3, r8, r3, {}).code(), StatusCode::kInvalidArgument);

  // from == to: an empty proof and equal roots.
  EXPECT_TRUE(VerifyConsistency(3, 3, r3, r3, {}).ok());
  EXPECT_EQ(VerifyConsistency(3, 3, r3, r8, {}).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyConsistency(3, 3, r3, r3, std::vector<Hash>{r3}).code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRootHash(), EmptyRootHash(), {}).ok());

  // from == 0: an empty proof and the empty tree's root.
  EXPECT_TRUE(VerifyConsistency(0, 8, EmptyRootHash(), r8, {}).ok());
  EXPECT_EQ(VerifyConsistency(0, 8, EmptyRootHash(), r8, std::vector<Hash>{r8}).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyConsistency(0, 8, r3, r8, {}).code(), StatusCode::kUnauthenticated);

  // 0 < from < to never accepts an empty proof, even when the roots are equal.
  EXPECT_EQ(VerifyConsistency(3, 8, r3, r8, {}).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyConsistency(4, 8, r8, r8, {}).code(), StatusCode::kUnauthenticated);

  // A rewritten log: same size-3 prefix claimed, different history.
  std::vector<std::string> other = d;
  other[1] = "rewritten";
  auto proof = ConsistencyProof(LeafHashes(other), 3, 8);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(VerifyConsistency(3, 8, r3, RefMth(other, 0, 8), *proof).code(),
            StatusCode::kUnauthenticated);
}

// --- Hex. ---

TEST(MerkleTest, HashHexRoundTripsAndIsStrict) {
  const Hash h = LeafHash("x");
  const std::string hex = HashHex(h);
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(FromHex(hex), h);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != hex) {
    EXPECT_EQ(HashFromHex(upper).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(HashFromHex(hex.substr(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(hex + "0").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(63, '0') + "g").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(std::string(63, '0') + "A").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromHex(" " + hex.substr(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashHex(FromHex(std::string(64, 'f'))), std::string(64, 'f'));
}

}  // namespace
}  // namespace perimeter::audit
