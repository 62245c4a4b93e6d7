#include "audit/log.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "audit/audit_test_util.h"
#include "audit/reader.h"

namespace perimeter::audit {
namespace {

using testing::ReadFile;
using testing::SplitLines;
using testing::TempDir;
using testing::TestEvent;
using testing::TestSigner;
using testing::WriteFile;

const auto kStart = std::chrono::system_clock::time_point(std::chrono::seconds(1795759200));

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest() : clock_(kStart), signer_(std::make_shared<TestSigner>()) {}

  LogOptions Options() {
    LogOptions o;
    o.dir = dir_.Sub("audit");
    o.origin = "arn:aws:perimeter:eu-west-1:123456789012:audit";
    o.checkpoint_interval = std::chrono::hours(1);  // tests checkpoint explicitly
    return o;
  }
  std::shared_ptr<AuditLog> Open(LogOptions o) {
    auto log = AuditLog::Open(std::move(o), clock_);
    EXPECT_TRUE(log.ok()) << log.status().message();
    if (!log.ok()) return nullptr;
    (*log)->SetSigner(signer_);
    return *log;
  }
  std::shared_ptr<AuditLog> Open() { return Open(Options()); }
  VerifyReport Verify() {
    auto r = VerifyLog(Options().dir, signer_->PublicKey());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : VerifyReport{};
  }

  TempDir dir_;
  ManualClock clock_;
  std::shared_ptr<TestSigner> signer_;
};

TEST_F(AuditLogTest, AppendsAreNumberedInOrderAndTheLogVerifies) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 20; ++i) {
    auto idx = log->AppendSync(TestEvent(i));
    ASSERT_TRUE(idx.ok()) << idx.status().message();
    EXPECT_EQ(*idx, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(log->size(), 20u);
  ASSERT_TRUE(log->CheckpointNow().ok());
  log->Close();
  auto contents = ReadLog(Options().dir);
  ASSERT_TRUE(contents.ok());
  ASSERT_EQ(contents->lines.size(), 20u);
  auto rec = ParseRecordLine(contents->lines[7]);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->event_json, TestEvent(7));
  EXPECT_EQ(rec->retain_until, kStart + std::chrono::hours(24 * 365));
  ASSERT_EQ(contents->checkpoints.size(), 1u);
  EXPECT_EQ(contents->checkpoints[0].tree_size, 20u);
  EXPECT_EQ(contents->checkpoints[0].root, RootFromLeafHashes(contents->leaf_hashes));
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, 20u);
  EXPECT_EQ(rep.checkpoints, 1u);
}

TEST_F(AuditLogTest, RefusesAnEventThatIsNotOneJsonObjectButKeepsGoing) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->AppendSync("not json").ok());
  EXPECT_FALSE(log->AppendSync("{\"a\":\n1}").ok());
  EXPECT_FALSE(log->AppendSync("{\"big\":\"" + std::string(kMaxRecordBytes, 'x') + "\"}").ok());
  auto idx = log->AppendSync(TestEvent(1));
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  EXPECT_EQ(*idx, 0u);
  EXPECT_TRUE(log->healthy());
}

TEST_F(AuditLogTest, ConcurrentAppendersGetDistinctIndexesAndBatchesShareFlushes) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<uint64_t> seen;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto idx = log->AppendSync(TestEvent(t * kEach + i));
        ASSERT_TRUE(idx.ok());
        std::lock_guard<std::mutex> g(mu);
        EXPECT_TRUE(seen.insert(*idx).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*seen.rbegin(), static_cast<uint64_t>(kThreads * kEach - 1));
  log->Close();  // final checkpoint
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(rep.checkpoints, 1u);
}

TEST_F(AuditLogTest, WithoutFsyncAnIdleLogIsWrittenByTheCallerAndConcurrencyKeepsOrder) {
  LogOptions o = Options();
  o.fsync = FsyncPolicy::kNone;
  auto log = Open(o);
  ASSERT_NE(log, nullptr);
  // Nothing is being written: the caller writes its own record (leader), and the callback runs
  // on the caller's thread before Enqueue returns.
  std::thread::id ran_on;
  bool done = false;
  log->Enqueue(TestEvent(0), [&](Result<uint64_t> r) {
    ASSERT_TRUE(r.ok());
    ran_on = std::this_thread::get_id();
    done = true;
  });
  EXPECT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  // Many callers at once: some lead, the rest go to the writer thread; every index once.
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<uint64_t> seen;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto idx = log->AppendSync(TestEvent(1 + t * kEach + i));
        ASSERT_TRUE(idx.ok());
        std::lock_guard<std::mutex> g(mu);
        EXPECT_TRUE(seen.insert(*idx).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
  log->Close();
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, static_cast<uint64_t>(kThreads * kEach + 1));
}

TEST_F(AuditLogTest, EnqueueCompletesAfterTheRecordIsOnDisk) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  std::promise<Result<uint64_t>> p;
  log->Enqueue(TestEvent(0), [&](Result<uint64_t> r) {
    // When the callback runs, the record is already in the segment file.
    auto contents = ReadLog(Options().dir);
    EXPECT_TRUE(contents.ok() && contents->lines.size() == 1);
    p.set_value(std::move(r));
  });
  auto r = p.get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
}

TEST_F(AuditLogTest, ReopeningContinuesTheTreeFromTheLastCheckpoint) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(i)).ok());
    ASSERT_TRUE(log->CheckpointNow().ok());
    for (int i = 10; i < 15; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(i)).ok());
    log->SetSigner(nullptr);  // close without a final checkpoint: 5 records after the last one
    log->Close();
  }
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->size(), 15u);
    auto idx = log->AppendSync(TestEvent(15));
    ASSERT_TRUE(idx.ok());
    EXPECT_EQ(*idx, 15u);
    ASSERT_TRUE(log->CheckpointNow().ok());
  }
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, 16u);
  EXPECT_EQ(rep.checkpoints, 2u);
}

TEST_F(AuditLogTest, ATornLastLineIsCutOnOpenAndNeverCounted) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(i)).ok());
  }
  const std::string seg = Options().dir + "/" + SegmentFileName(0);
  std::ofstream(seg, std::ios::app) << "{\"index\":3,\"prev\":\"00";  // a crash mid-write
  auto before = Verify();
  EXPECT_TRUE(before.ok) << before.first_failure;
  ASSERT_EQ(before.warnings.size(), 1u);
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 3u);
  auto idx = log->AppendSync(TestEvent(3));
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(*idx, 3u);
  log->Close();
  auto after = Verify();
  EXPECT_TRUE(after.ok) << after.first_failure;
  EXPECT_TRUE(after.warnings.empty());
  EXPECT_EQ(after.records, 4u);
}

TEST_F(AuditLogTest, TwoWritersOnOneDirectoryInterleaveIntoOneChain) {
  // flock(2) locks belong to open file descriptions, so two logs in one process exclude each
  // other exactly as two processes do.
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 30; ++i) {
    auto& w = (i % 3 == 0) ? b : a;
    ASSERT_TRUE(w->AppendSync(TestEvent(i)).ok()) << i;
  }
  ASSERT_TRUE(b->CheckpointNow().ok());
  ASSERT_TRUE(a->AppendSync(TestEvent(30)).ok());
  ASSERT_TRUE(a->CheckpointNow().ok());
  a->Close();
  b->Close();
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, 31u);
  EXPECT_GE(rep.checkpoints, 2u);
}

TEST_F(AuditLogTest, SegmentsRollBySizeAndByDayAndFinishedOnesAreReadOnly) {
  LogOptions o = Options();
  o.segment_max_bytes = 600;
  auto log = Open(o);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(i)).ok());
  clock_.Advance(std::chrono::hours(24));
  ASSERT_TRUE(log->AppendSync(TestEvent(12)).ok());
  log->Close();
  auto contents = ReadLog(o.dir);
  ASSERT_TRUE(contents.ok());
  ASSERT_GE(contents->segments.size(), 3u);
  // The day's first record starts a segment of its own.
  EXPECT_EQ(contents->segments.back().first, 12u);
  struct stat st {};
  ASSERT_EQ(::stat((o.dir + "/" + contents->segments.front().second).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
  for (const auto& [first, name] : contents->segments) {
    EXPECT_EQ(name, SegmentFileName(first));
  }
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.records, 13u);
}

TEST_F(AuditLogTest, AFailedWriteFailsTheAppendAndEveryLaterOne) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->AppendSync(TestEvent(0)).ok());
  // A real write failure: the file size limit (EFBIG) stops the next write.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &old);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 150;
  ::setrlimit(RLIMIT_FSIZE, &small);
  auto failed = log->AppendSync(TestEvent(1) + std::string());
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &old, nullptr);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(log->healthy());
  auto later = log->AppendSync(TestEvent(2));
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), StatusCode::kUnavailable);
  log->Close();
  // Nothing half-written was left behind: the log still verifies with its one record.
  auto contents = ReadLog(Options().dir);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->lines.size(), 1u);
  EXPECT_EQ(contents->torn_tail, 0u);
}

TEST_F(AuditLogTest, OpenRefusesALogWhoseChainIsBroken) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(i)).ok());
    log->SetSigner(nullptr);
  }
  const std::string seg = Options().dir + "/" + SegmentFileName(0);
  auto lines = SplitLines(ReadFile(seg));
  std::swap(lines[1], lines[2]);
  WriteFile(seg, testing::JoinLines(lines));
  auto log = AuditLog::Open(Options(), clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(log.status().message().find("perimeter audit verify"), std::string::npos);
}

TEST_F(AuditLogTest, PruningDeletesOnlyExpiredSegmentsAndKeepsLaterCheckpointsVerifiable) {
  LogOptions o = Options();
  o.retention = std::chrono::hours(24 * 2);
  {
    auto log = Open(o);
    ASSERT_NE(log, nullptr);
    for (int day = 0; day < 4; ++day) {
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->AppendSync(TestEvent(day * 5 + i)).ok());
      ASSERT_TRUE(log->CheckpointNow().ok());
      clock_.Advance(std::chrono::hours(24));
    }
  }
  // Day 4: records of days 0 and 1 are past their retention (2 days); day 2's are not.
  auto early = Prune(o.dir, kStart + std::chrono::hours(24 * 2) - std::chrono::seconds(1));
  ASSERT_TRUE(early.ok()) << early.status().message();
  EXPECT_EQ(*early, 0u);  // nothing before its date
  auto pruned = Prune(o.dir, clock_.Now() - std::chrono::seconds(1));
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(*pruned, 10u);
  EXPECT_FALSE(std::filesystem::exists(o.dir + "/" + SegmentFileName(0)));
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.first_failure;
  EXPECT_EQ(rep.pruned, 10u);
  EXPECT_EQ(rep.records, 10u);
  EXPECT_EQ(rep.checkpoints, 3u);  // 10 (from pruned.json's compact range), 15 and 20
  // Inclusion and consistency proofs still work for the kept records.
  auto contents = ReadLog(o.dir);
  ASSERT_TRUE(contents.ok());
  for (uint64_t i = 10; i < 20; ++i) {
    auto proof = ProveInclusion(*contents, i, 20);
    ASSERT_TRUE(proof.ok()) << i << ": " << proof.status().message();
    EXPECT_TRUE(
        VerifyInclusion(proof->leaf_hash, i, 20, proof->path, contents->checkpoints[3].root).ok())
        << i;
  }
  auto cons = ProveConsistency(*contents, 15, 20);
  ASSERT_TRUE(cons.ok()) << cons.status().message();
  EXPECT_TRUE(VerifyConsistency(15, 20, contents->checkpoints[2].root,
                                contents->checkpoints[3].root, cons->path)
                  .ok());
  // The writer continues after the pruned prefix.
  auto log = Open(o);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 20u);
  ASSERT_TRUE(log->AppendSync(TestEvent(20)).ok());
  log->Close();
  VerifyReport again = Verify();
  EXPECT_TRUE(again.ok) << again.first_failure;
  EXPECT_EQ(again.records, 11u);
}

}  // namespace
}  // namespace perimeter::audit
