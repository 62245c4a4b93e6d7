// Tampering and proofs: every way of altering a log is detected and located, and the proofs the
// reader gives verify with the RFC 9162 verifiers (merkle.h) and match merkle.h's prover.

#include "audit/reader.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "audit/audit_test_util.h"
#include "audit/log.h"

namespace perimeter::audit {
namespace {

using testing::JoinLines;
using testing::ReadFile;
using testing::SplitLines;
using testing::TempDir;
using testing::TestEvent;
using testing::TestSigner;
using testing::WriteFile;

const auto kStart = std::chrono::system_clock::time_point(std::chrono::seconds(1795759200));

// A log of 25 records in segments of about 8 records, with checkpoints at 8, 16 and 25.
class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions o;
    o.dir = dir_.Sub("audit");
    o.origin = "test";
    o.segment_max_bytes = 8 * (kLineBytes + 1);
    o.checkpoint_interval = std::chrono::hours(1);
    auto log = AuditLog::Open(o, clock_);
    ASSERT_TRUE(log.ok()) << log.status().message();
    (*log)->SetSigner(signer_);
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE((*log)->AppendSync(TestEvent(i)).ok());
      if (i == 7 || i == 15) ASSERT_TRUE((*log)->CheckpointNow().ok());
    }
    (*log)->Close();
    auto c = ReadLog(Dir());
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->checkpoints.size(), 3u);
    ASSERT_GE(c->segments.size(), 3u);
  }
  std::string Dir() const { return dir_.Sub("audit"); }
  std::string Seg(uint64_t first) const { return Dir() + "/" + SegmentFileName(first); }
  VerifyReport Verify() {
    auto r = VerifyLog(Dir(), signer_->PublicKey());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }
  // The segment holding record `index`, and the record's line number in it.
  std::pair<std::string, size_t> Locate(uint64_t index) {
    auto c = ReadLog(Dir());
    std::string name;
    uint64_t first = 0;
    for (const auto& [f, n] : c->segments) {
      if (f <= index) {
        first = f;
        name = n;
      }
    }
    return {Dir() + "/" + name, static_cast<size_t>(index - first)};
  }

  // Roughly the length of a record line (TestEvent + envelope), for segment sizing.
  static constexpr uint64_t kLineBytes = 200;

  TempDir dir_;
  ManualClock clock_{kStart};
  std::shared_ptr<TestSigner> signer_ = std::make_shared<TestSigner>();
};

TEST_F(TamperTest, TheUntouchedLogVerifies) {
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, 25u);
  EXPECT_EQ(rep.checkpoints, 3u);
}

TEST_F(TamperTest, AFlippedByteInARecordIsLocated) {
  auto [path, line] = Locate(5);
  auto lines = SplitLines(ReadFile(path));
  // Inside the event's tenant id: the line still parses, only its hash changes.
  const size_t at = lines[line].find("\"t2\"");
  ASSERT_NE(at, std::string::npos);
  lines[line][at + 2] = '9';
  WriteFile(path, JoinLines(lines));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, 5u) << rep.first_failure;
  EXPECT_NE(rep.first_failure.find("record 5"), std::string::npos) << rep.first_failure;
}

TEST_F(TamperTest, AFlippedByteInTheLastRecordIsCaughtByTheCheckpoint) {
  auto [path, line] = Locate(24);
  auto lines = SplitLines(ReadFile(path));
  const size_t at = lines[line].find("ev-24");
  ASSERT_NE(at, std::string::npos);
  lines[line][at + 3] = '7';
  WriteFile(path, JoinLines(lines));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, 24u) << rep.first_failure;
  ASSERT_TRUE(rep.bad_checkpoint.has_value());
  EXPECT_EQ(*rep.bad_checkpoint, 2u);
}

TEST_F(TamperTest, ADroppedRecordIsLocated) {
  auto [path, line] = Locate(10);
  auto lines = SplitLines(ReadFile(path));
  lines.erase(lines.begin() + static_cast<long>(line));
  WriteFile(path, JoinLines(lines));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, 10u) << rep.first_failure;
}

TEST_F(TamperTest, ReorderedRecordsAreLocated) {
  auto [path, line] = Locate(3);
  auto lines = SplitLines(ReadFile(path));
  std::swap(lines[line], lines[line + 1]);
  WriteFile(path, JoinLines(lines));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, 3u) << rep.first_failure;
}

TEST_F(TamperTest, TruncationIsDetectedAgainstTheLastCheckpoint) {
  auto [path, line] = Locate(20);
  auto lines = SplitLines(ReadFile(path));
  lines.resize(line);  // records 20.. are gone: the rest of this segment and every later one
  WriteFile(path, JoinLines(lines));
  auto c = ReadLog(Dir());
  for (const auto& [first, name] : c->segments) {
    if (*ParseSegmentFileName(name) > 20) std::filesystem::remove(Dir() + "/" + name);
  }
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, 20u) << rep.first_failure;
  EXPECT_NE(rep.first_failure.find("truncation"), std::string::npos) << rep.first_failure;
}

TEST_F(TamperTest, ADeletedSegmentIsLocated) {
  auto c = ReadLog(Dir());
  ASSERT_TRUE(c.ok());
  const auto [first, name] = c->segments[1];
  std::filesystem::remove(Dir() + "/" + name);
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_record.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_record, first) << rep.first_failure;
}

TEST_F(TamperTest, ARewrittenChainIsCaughtByTheSignedCheckpoints) {
  // The attacker alters record 2 and recomputes every later prev, so the chain is intact; only
  // the signed roots can tell.
  auto c = ReadLog(Dir());
  ASSERT_TRUE(c.ok());
  std::vector<std::string> lines = c->lines;
  auto rec = ParseRecordLine(lines[2]);
  ASSERT_TRUE(rec.ok());
  rec->event_json = TestEvent(99);
  lines[2] = *FormatRecordLine(*rec);
  for (size_t i = 3; i < lines.size(); ++i) {
    auto r = ParseRecordLine(lines[i]);
    r->prev = LeafHash(lines[i - 1]);
    lines[i] = *FormatRecordLine(*r);
  }
  for (size_t s = 0; s < c->segments.size(); ++s) {
    const uint64_t from = c->segments[s].first;
    const uint64_t to = s + 1 < c->segments.size() ? c->segments[s + 1].first : lines.size();
    WriteFile(Dir() + "/" + c->segments[s].second,
              JoinLines(std::vector<std::string>(lines.begin() + static_cast<long>(from),
                                                 lines.begin() + static_cast<long>(to))));
  }
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_TRUE(rep.bad_checkpoint.has_value()) << rep.first_failure;
  EXPECT_EQ(*rep.bad_checkpoint, 0u) << rep.first_failure;  // the first checkpoint covering it
}

TEST_F(TamperTest, AlteredOrForeignCheckpointsAreLocated) {
  const std::string path = Dir() + "/" + std::string(kCheckpointsFile);
  const std::string original = ReadFile(path);
  {
    // A changed tree size breaks the signature.
    auto lines = SplitLines(original);
    auto cp = ParseCheckpointLine(lines[1]);
    ASSERT_TRUE(cp.ok());
    cp->tree_size = 9;
    lines[1] = FormatCheckpointLine(*cp);
    WriteFile(path, JoinLines(lines));
    VerifyReport rep = Verify();
    EXPECT_FALSE(rep.ok);
    ASSERT_TRUE(rep.bad_checkpoint.has_value());
    EXPECT_EQ(*rep.bad_checkpoint, 1u) << rep.first_failure;
  }
  {
    // A checkpoint signed by another key over a forged root.
    auto lines = SplitLines(original);
    auto cp = ParseCheckpointLine(lines[2]);
    TestSigner other;
    cp->root = LeafHash("forged");
    cp->key_id = KeyIdOf(other.PublicKey());
    cp->signature = *other.Sign(CheckpointMessage(*cp));
    lines[2] = FormatCheckpointLine(*cp);
    WriteFile(path, JoinLines(lines));
    VerifyReport rep = Verify();
    EXPECT_FALSE(rep.ok);
    ASSERT_TRUE(rep.bad_checkpoint.has_value());
    EXPECT_EQ(*rep.bad_checkpoint, 2u) << rep.first_failure;
  }
  {
    // A dropped checkpoint line is not an error by itself (the others still verify)...
    auto lines = SplitLines(original);
    lines.erase(lines.begin());
    WriteFile(path, JoinLines(lines));
    VerifyReport rep = Verify();
    EXPECT_TRUE(rep.ok) << rep.first_failure;
    EXPECT_EQ(rep.checkpoints, 2u);
  }
  {
    // ...but swapping two makes the sizes go backwards.
    auto lines = SplitLines(original);
    std::swap(lines[0], lines[1]);
    WriteFile(path, JoinLines(lines));
    VerifyReport rep = Verify();
    EXPECT_FALSE(rep.ok);
    ASSERT_TRUE(rep.bad_checkpoint.has_value());
    EXPECT_EQ(*rep.bad_checkpoint, 1u) << rep.first_failure;
  }
}

TEST_F(TamperTest, ProofsVerifyAndMatchTheMerkleModule) {
  auto c = ReadLog(Dir());
  ASSERT_TRUE(c.ok());
  for (const auto& cp : c->checkpoints) {
    for (uint64_t i = 0; i < cp.tree_size; ++i) {
      auto p = ProveInclusion(*c, i, cp.tree_size);
      ASSERT_TRUE(p.ok()) << p.status().message();
      EXPECT_TRUE(VerifyInclusion(p->leaf_hash, i, cp.tree_size, p->path, cp.root).ok());
      auto direct = InclusionProof(c->leaf_hashes, i, cp.tree_size);
      ASSERT_TRUE(direct.ok());
      EXPECT_EQ(p->path, *direct);
      ASSERT_TRUE(p->checkpoint.has_value());
      EXPECT_EQ(p->checkpoint->tree_size, cp.tree_size);
    }
  }
  for (uint64_t from = 0; from <= 25; ++from) {
    for (uint64_t to = from; to <= 25; ++to) {
      auto p = ProveConsistency(*c, from, to);
      ASSERT_TRUE(p.ok()) << p.status().message();
      EXPECT_EQ(p->to_root, RootFromLeafHashes(std::span<const Hash>(c->leaf_hashes).first(to)));
      EXPECT_TRUE(VerifyConsistency(from, to, p->from_root, p->to_root, p->path).ok())
          << from << ".." << to;
      auto direct = ConsistencyProof(c->leaf_hashes, from, to);
      ASSERT_TRUE(direct.ok());
      EXPECT_EQ(p->path, *direct) << from << ".." << to;
    }
  }
  // The default tree for a record is the first checkpoint that covers it.
  auto p = ProveInclusion(*c, 9);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tree_size, 16u);
  auto idx = FindEventIndex(*c, "ev-9");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(*idx, 9u);
  EXPECT_EQ(FindEventIndex(*c, "ev-99").status().code(), StatusCode::kNotFound);
  // A proof does not verify against another tree's root.
  EXPECT_FALSE(VerifyInclusion(p->leaf_hash, 9, 16, p->path, c->checkpoints[2].root).ok());
}

}  // namespace
}  // namespace perimeter::audit
