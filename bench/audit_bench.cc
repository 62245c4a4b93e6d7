// Audit log benchmarks: records appended per second through the group-commit writer (fsync per
// batch, and without fsync), with 1 to 64 appending threads; the CloudTrail event's
// serialization; verification of a whole log. Numbers only, never assertions.
//
//   build/bench_audit --benchmark_filter=Append
//
// The log lives in a fresh directory under $TMPDIR (or /tmp), which must be a real disk for the
// fsync figures to mean anything (tmpfs makes fdatasync free).

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <benchmark/benchmark.h>

#include "audit/event.h"
#include "audit/log.h"
#include "audit/reader.h"
#include "common/clock.h"

namespace perimeter::audit {
namespace {

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "perimeter-audit-bench-XXXXXX").string();
  return ::mkdtemp(tmpl.data()) ? tmpl : "";
}

// A typical invocation record: a tenant session calling Converse with a guardrail.
Event TypicalEvent() {
  Event e;
  e.event_time = std::chrono::system_clock::now();
  e.event_source = "bedrock.amazonaws.com";
  e.event_name = "Converse";
  e.aws_region = "eu-west-1";
  e.source_ip_address = "10.0.3.17";
  e.user_agent = "aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.18.0 api/bedrock-runtime";
  e.user_identity.type = "AssumedRole";
  e.user_identity.principal_id = "AROAEXAMPLE:payments-app";
  e.user_identity.arn = "arn:aws:sts::123456789012:assumed-role/tenant-acme/payments-app";
  e.user_identity.account_id = "123456789012";
  e.user_identity.access_key_id = "ASIAEXAMPLE1234567890";
  SessionContext s;
  s.session_issuer_arn = "arn:aws:iam::123456789012:role/tenant-acme";
  e.user_identity.session_context = s;
  e.request_parameters_json =
      R"({"modelId":"anthropic.claude-3-5-sonnet-20240620-v1:0","guardrailIdentifier":"pii","guardrailVersion":"1"})";
  e.response_elements_json = R"({"inputTokens":812,"outputTokens":233})";
  e.request_id = "6f1c1f7e-6f51-4c59-9d3b-7a4b8b1d2c3e";
  e.event_id = NewEventId();
  e.recipient_account_id = "123456789012";
  e.tenant_id = "acme";
  e.decision = Decision{"Allow", {"tenant-acme/InvokeClaude"}};
  GuardrailAudit g;
  g.id = "arn:aws:bedrock:eu-west-1:123456789012:guardrail/pii:1";
  g.version = "1";
  g.input_action = "ANONYMIZED";
  g.policies = {"sensitiveInformationPolicy"};
  g.entity_types = {"EMAIL", "PHONE"};
  e.guardrail = g;
  e.keys.push_back({"1234abcd-12ab-34cd-56ef-1234567890ab", 1, "Encrypt", "vault"});
  e.http_status = 200;
  return e;
}

struct Shared {
  std::mutex mu;
  std::shared_ptr<AuditLog> log;
  std::string dir;
};

void Append(benchmark::State& state, FsyncPolicy policy) {
  static Shared shared;
  if (state.thread_index() == 0) {
    shared.dir = TempDir();
    LogOptions o;
    o.dir = shared.dir + "/audit";
    o.fsync = policy;
    o.checkpoint_interval = std::chrono::hours(1);
    auto log = AuditLog::Open(o, SystemClock());
    if (!log.ok()) {
      state.SkipWithError(log.status().message().c_str());
      return;
    }
    std::lock_guard<std::mutex> g(shared.mu);
    shared.log = *log;
  }
  const std::string json = EventJson(TypicalEvent());
  std::shared_ptr<AuditLog> log;
  for (auto _ : state) {
    if (!log) {
      std::lock_guard<std::mutex> g(shared.mu);
      log = shared.log;
    }
    auto r = log->AppendSync(json);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(json.size()));
  if (state.thread_index() == 0) {
    log.reset();
    std::lock_guard<std::mutex> g(shared.mu);
    shared.log.reset();
    std::error_code ec;
    std::filesystem::remove_all(shared.dir, ec);
  }
}

void BM_AppendFsyncBatch(benchmark::State& state) { Append(state, FsyncPolicy::kBatch); }
void BM_AppendNoFsync(benchmark::State& state) { Append(state, FsyncPolicy::kNone); }
BENCHMARK(BM_AppendFsyncBatch)->ThreadRange(1, 64)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_AppendNoFsync)->ThreadRange(1, 64)->UseRealTime()->MinTime(1.0);

void BM_EventJson(benchmark::State& state) {
  const Event e = TypicalEvent();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string json = EventJson(e);
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EventJson);

void BM_VerifyLog(benchmark::State& state) {
  const std::string dir = TempDir();
  const int records = static_cast<int>(state.range(0));
  {
    LogOptions o;
    o.dir = dir + "/audit";
    o.fsync = FsyncPolicy::kNone;
    auto log = AuditLog::Open(o, SystemClock());
    const std::string json = EventJson(TypicalEvent());
    for (int i = 0; i < records; ++i) (void)(*log)->AppendSync(json);
  }
  for (auto _ : state) {
    auto contents = ReadLog(dir + "/audit");
    benchmark::DoNotOptimize(contents);
    auto rep = VerifyLog(dir + "/audit", std::string(32, '\0'));
    benchmark::DoNotOptimize(rep);
  }
  state.SetItemsProcessed(state.iterations() * records);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_VerifyLog)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace perimeter::audit

BENCHMARK_MAIN();
