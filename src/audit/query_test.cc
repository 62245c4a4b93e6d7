// Queries over the log's events: every filter field, the time window's edges, the limit, records
// that do not parse, and the CloudTrail export's bytes.

#include "audit/query.h"

#include <boost/json.hpp>
#include <chrono>

#include <gtest/gtest.h>

#include "audit/audit_test_util.h"
#include "audit/event.h"
#include "audit/format.h"
#include "audit/log.h"

namespace perimeter::audit {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kT0(seconds(1795759200));  // 2026-11-27T02:00:00Z

struct Spec {
  std::string name = "InvokeModel";
  std::string tenant;
  std::string arn;
  std::string issuer;  // session issuer (role) when not empty
  std::string model;
  std::string effect;  // decision.effect when not empty
  std::string request_id;
  seconds at{0};
};

Event MakeEvent(const Spec& s) {
  Event e;
  e.event_time = kT0 + s.at;
  e.event_source = "bedrock.amazonaws.com";
  e.event_name = s.name;
  e.aws_region = "eu-west-1";
  e.tenant_id = s.tenant;
  e.user_identity.arn = s.arn;
  if (!s.issuer.empty()) {
    e.user_identity.type = "AssumedRole";
    SessionContext c;
    c.session_issuer_arn = s.issuer;
    e.user_identity.session_context = c;
  }
  if (!s.model.empty()) e.request_parameters_json = "{\"modelId\":\"" + s.model + "\"}";
  if (!s.effect.empty()) e.decision = Decision{s.effect, {}};
  e.request_id = s.request_id;
  e.event_id = NewEventId();
  return e;
}

// A LogContents built by hand: record lines exactly as the writer formats them.
LogContents MakeLog(const std::vector<std::string>& events, uint64_t first_index = 0) {
  LogContents log;
  log.first_index = first_index;
  Hash prev{};
  for (size_t i = 0; i < events.size(); ++i) {
    Record r;
    r.index = first_index + i;
    r.prev = prev;
    r.retain_until = kT0 + std::chrono::hours(24);
    r.event_json = events[i];
    auto line = FormatRecordLine(r);
    EXPECT_TRUE(line.ok()) << line.status().message();
    log.lines.push_back(*line);
    log.leaf_hashes.push_back(LeafHash(*line));
    prev = log.leaf_hashes.back();
  }
  return log;
}

std::vector<uint64_t> Indices(const Result<std::vector<QueryHit>>& hits) {
  EXPECT_TRUE(hits.ok()) << hits.status().message();
  std::vector<uint64_t> out;
  if (!hits.ok()) return out;
  for (const auto& h : *hits) out.push_back(h.index);
  return out;
}

using Idx = std::vector<uint64_t>;

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<Spec> specs = {
        // 0: a user of tenant a, allowed, model m1
        {"InvokeModel", "a", "arn:aws:iam::111122223333:user/alice", "", "m1", "Allow", "r0",
         seconds(0)},
        // 1: a session of role app in tenant a, denied, model m2
        {"Converse", "a", "arn:aws:sts::111122223333:assumed-role/app/s1",
         "arn:aws:iam::111122223333:role/app", "m2", "Deny", "r1", seconds(10)},
        // 2: tenant b, implicit deny, model m1
        {"InvokeModel", "b", "arn:aws:iam::111122223333:user/bob", "", "m1", "ImplicitDeny", "r2",
         seconds(20)},
        // 3: no tenant, no decision, no model (an admin-like event)
        {"CreateUser", "", "arn:aws:iam::111122223333:root", "", "", "", "", seconds(30)},
        // 4: tenant a again, another session of role app, the same request as 1
        {"Encrypt", "a", "arn:aws:sts::111122223333:assumed-role/app/s2",
         "arn:aws:iam::111122223333:role/app", "", "Allow", "r1", seconds(40)},
    };
    for (const Spec& s : specs) events_.push_back(EventJson(MakeEvent(s)));
    log_ = MakeLog(events_);
  }

  Idx Run(const QueryFilter& f) { return Indices(Query(log_, f)); }

  std::vector<std::string> events_;
  LogContents log_;
};

TEST_F(QueryTest, NoFilterReturnsEverythingInLogOrder) { EXPECT_EQ(Run({}), (Idx{0, 1, 2, 3, 4})); }

TEST_F(QueryTest, FiltersByTenant) {
  QueryFilter f;
  f.tenant = "a";
  EXPECT_EQ(Run(f), (Idx{0, 1, 4}));
  f.tenant = "b";
  EXPECT_EQ(Run(f), (Idx{2}));
  f.tenant = "c";
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, EmptyTenantFilterMatchesEventsOfNoTenant) {
  QueryFilter f;
  f.tenant = "";
  EXPECT_EQ(Run(f), (Idx{3}));
}

TEST_F(QueryTest, FiltersByPrincipalArn) {
  QueryFilter f;
  f.principal = "arn:aws:iam::111122223333:user/alice";
  EXPECT_EQ(Run(f), (Idx{0}));
  f.principal = "arn:aws:sts::111122223333:assumed-role/app/s2";
  EXPECT_EQ(Run(f), (Idx{4}));
}

TEST_F(QueryTest, PrincipalMatchesTheSessionIssuerRole) {
  QueryFilter f;
  f.principal = "arn:aws:iam::111122223333:role/app";
  EXPECT_EQ(Run(f), (Idx{1, 4}));
}

TEST_F(QueryTest, EmptyPrincipalMatchesNothingRatherThanEventsWithoutArn) {
  QueryFilter f;
  f.principal = "";
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, FiltersByEventName) {
  QueryFilter f;
  f.event_name = "InvokeModel";
  EXPECT_EQ(Run(f), (Idx{0, 2}));
  f.event_name = "invokemodel";  // exact, case-sensitive
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, FiltersByModelId) {
  QueryFilter f;
  f.model = "m1";
  EXPECT_EQ(Run(f), (Idx{0, 2}));
  f.model = "m2";
  EXPECT_EQ(Run(f), (Idx{1}));
  f.model = "m3";
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, FiltersByDecisionEffect) {
  QueryFilter f;
  f.decision = "Allow";
  EXPECT_EQ(Run(f), (Idx{0, 4}));
  f.decision = "Deny";
  EXPECT_EQ(Run(f), (Idx{1}));
  f.decision = "ImplicitDeny";
  EXPECT_EQ(Run(f), (Idx{2}));
}

TEST_F(QueryTest, FiltersByRequestId) {
  QueryFilter f;
  f.request_id = "r1";
  EXPECT_EQ(Run(f), (Idx{1, 4}));
  f.request_id = "r9";
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, SinceIsInclusiveAndUntilExclusive) {
  QueryFilter f;
  f.since = kT0 + seconds(10);
  EXPECT_EQ(Run(f), (Idx{1, 2, 3, 4}));
  f.since = kT0 + seconds(11);
  EXPECT_EQ(Run(f), (Idx{2, 3, 4}));
  f.since.reset();
  f.until = kT0 + seconds(30);
  EXPECT_EQ(Run(f), (Idx{0, 1, 2}));
  f.until = kT0 + seconds(31);
  EXPECT_EQ(Run(f), (Idx{0, 1, 2, 3}));
  f.since = kT0 + seconds(10);
  f.until = kT0 + seconds(20);
  EXPECT_EQ(Run(f), (Idx{1}));
  f.until = kT0 + seconds(10);  // an empty window
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, EveryFieldMustMatch) {
  QueryFilter f;
  f.tenant = "a";
  f.decision = "Allow";
  EXPECT_EQ(Run(f), (Idx{0, 4}));
  f.principal = "arn:aws:iam::111122223333:role/app";
  EXPECT_EQ(Run(f), (Idx{4}));
  f.model = "m1";
  EXPECT_EQ(Run(f), Idx{});
}

TEST_F(QueryTest, LimitKeepsTheFirstMatches) {
  QueryFilter f;
  f.limit = 2;
  EXPECT_EQ(Run(f), (Idx{0, 1}));
  f.tenant = "a";
  EXPECT_EQ(Run(f), (Idx{0, 1}));
  f.limit = 1;
  f.decision = "Allow";
  f.since = kT0 + seconds(1);
  EXPECT_EQ(Run(f), (Idx{4}));
  f.limit = 100;
  EXPECT_EQ(Run(f), (Idx{4}));
}

TEST_F(QueryTest, HitsCarryTheStoredBytesAndTheParsedEvent) {
  QueryFilter f;
  f.request_id = "r2";
  auto hits = Query(log_, f);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].event_json, events_[2]);
  EXPECT_EQ((*hits)[0].event.tenant_id, "b");
  EXPECT_EQ((*hits)[0].event.user_identity.arn, "arn:aws:iam::111122223333:user/bob");
}

TEST(QueryIndexTest, IndicesCountFromTheFirstKeptRecord) {
  std::vector<std::string> events;
  for (int i = 0; i < 3; ++i) {
    Spec s;
    s.tenant = i == 1 ? "x" : "y";
    s.at = seconds(i);
    events.push_back(EventJson(MakeEvent(s)));
  }
  LogContents log = MakeLog(events, /*first_index=*/40);
  QueryFilter f;
  f.tenant = "x";
  EXPECT_EQ(Indices(Query(log, f)), (Idx{41}));
}

TEST(QueryIndexTest, RecordsThatDoNotParseAreSkipped) {
  Spec a;
  a.tenant = "t";
  Spec b = a;
  b.at = seconds(5);
  const std::string first = EventJson(MakeEvent(a));
  const std::string last = EventJson(MakeEvent(b));
  // Record 1 holds valid JSON that is not an event (no eventTime); record 2 is not a record line.
  LogContents log = MakeLog({first, R"({"eventVersion":"1.09","eventName":"X"})", last});
  log.lines[2] = "this is not a record";
  log.lines.push_back(MakeLog({first, first, first, last}).lines[3]);
  log.leaf_hashes.push_back(LeafHash(log.lines.back()));
  auto hits = Query(log, {});
  EXPECT_EQ(Indices(hits), (Idx{0, 3}));
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[1].event_json, last);
}

TEST(MatchesTest, ModelFilterIgnoresParametersThatAreNotAnObject) {
  Event e = MakeEvent(Spec{});
  QueryFilter f;
  f.model = "m1";
  e.request_parameters_json = "null";
  EXPECT_FALSE(Matches(e, f));
  e.request_parameters_json = R"(["m1"])";
  EXPECT_FALSE(Matches(e, f));
  e.request_parameters_json = R"({"modelId":7})";
  EXPECT_FALSE(Matches(e, f));
  e.request_parameters_json = R"({"guardrail":"g","modelId":"m1"})";
  EXPECT_TRUE(Matches(e, f));
}

TEST(MatchesTest, DecisionFilterNeedsADecision) {
  Event e = MakeEvent(Spec{});
  QueryFilter f;
  f.decision = "Allow";
  EXPECT_FALSE(Matches(e, f));
  e.decision = Decision{"Allow", {"s1"}};
  EXPECT_TRUE(Matches(e, f));
}

TEST(CloudTrailExportTest, EmbedsTheStoredBytesVerbatim) {
  std::vector<QueryHit> hits(2);
  // Deliberately not how EventJson would write them: the export must not re-serialize.
  hits[0].event_json = R"({"eventName":"A",  "x":1.50})";
  hits[1].event_json = R"({"eventName":"B","y":"\u00e9"})";
  EXPECT_EQ(CloudTrailExport(hits),
            R"({"Records":[{"eventName":"A",  "x":1.50},{"eventName":"B","y":"\u00e9"}]})");
  EXPECT_EQ(CloudTrailExport({}), R"({"Records":[]})");
}

TEST(CloudTrailExportTest, ExportOfARealLogParsesAsCloudTrail) {
  testing::TempDir dir;
  ManualClock clock(kT0);
  LogOptions o;
  o.dir = dir.Sub("audit");
  o.origin = "test";
  o.fsync = FsyncPolicy::kNone;
  auto log = AuditLog::Open(o, clock);
  ASSERT_TRUE(log.ok()) << log.status().message();
  std::vector<std::string> stored;
  for (int i = 0; i < 6; ++i) {
    Spec s;
    s.tenant = i % 2 == 0 ? "even" : "odd";
    s.request_id = "req-" + std::to_string(i);
    s.at = seconds(i);
    stored.push_back(EventJson(MakeEvent(s)));
    auto index = (*log)->AppendSync(stored.back());
    ASSERT_TRUE(index.ok()) << index.status().message();
    EXPECT_EQ(*index, static_cast<uint64_t>(i));
  }
  (*log)->Close();

  auto contents = ReadLog(o.dir);
  ASSERT_TRUE(contents.ok()) << contents.status().message();
  QueryFilter f;
  f.tenant = "odd";
  auto hits = Query(*contents, f);
  EXPECT_EQ(Indices(hits), (Idx{1, 3, 5}));
  ASSERT_TRUE(hits.ok());
  const std::string doc = CloudTrailExport(*hits);
  EXPECT_EQ(doc, "{\"Records\":[" + stored[1] + "," + stored[3] + "," + stored[5] + "]}");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(doc, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(v.at("Records").as_array().size(), 3u);
  EXPECT_EQ(v.at("Records").at(1).at("requestID").as_string(), "req-3");
}

}  // namespace
}  // namespace perimeter::audit
