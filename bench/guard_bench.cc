// Micro-benchmarks of the guardrail scanner: what sensitive-information detection costs a prompt.
// Google Benchmark; run with `build/bench_guard`.
//
//   BM_Scan/<bytes>            Scanner::Scan (normalize + one Hyperscan pass + validation +
//                              overlap resolution) with every detectable type enabled, on
//                              realistic English prompt text of 200 B, 2 KiB and 64 KiB holding a
//                              few identifiers (an e-mail, a Nigerian phone, a card number ...).
//   BM_ScanPlainProse/<bytes>  The same on prose without any identifier: normalization plus the
//                              pattern stage.
//   BM_ScanNormalized/<bytes>  Scan on text normalized once outside the loop, as the engine does
//                              when several stages share the normalization.
//   BM_PatternStage/<bytes>    The same on prose without identifiers: the pattern stage alone
//                              (one Hyperscan pass, context-word hits, nothing to validate).
//   BM_ScanNonAscii/<bytes>    Prompt text with Yoruba diacritics and emoji: the slow path of
//                              Normalize plus the scan.
//   BM_Compile                 Scanner::Compile with every type and one custom regex.
//   BM_InputGuard/<bytes>      The whole input guard of a request: Guardrail::Apply(INPUT) of a
//                              guardrail with every detectable type set to ANONYMIZE (placeholder
//                              tokens, no vault), 10 custom words and the managed profanity
//                              list, on the same prompt text. Reports p50_us / p99_us counters
//                              from per-call timings (the issue's target: < 50 us at p99 for
//                              2 KiB).
//
// Bytes per second are reported with SetBytesProcessed.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "guard/entity.h"
#include "guard/guardrail.h"
#include "guard/normalize.h"
#include "guard/registry.h"
#include "guard/scanner.h"

namespace perimeter::guard {
namespace {

constexpr const char* kProse[] = {
    "Can you help me rewrite the following paragraph so that it sounds more professional? ",
    "We are planning the quarterly review for the operations team and want to summarise "
    "the main risks, the mitigation steps and the owners for each item. ",
    "Please keep the tone friendly but concise, and make sure the action items are clear. ",
    "The customer said the delivery was late again and asked for a refund of the shipping fee. ",
    "Explain the difference between a process and a thread in simple terms, with an example. ",
    "Draft an email to the landlord about the broken heater; mention that it has been two weeks. ",
    "Summarise the attached meeting notes in five bullet points for the leadership update. ",
    "What are the best practices for storing configuration in a twelve-factor application? ",
};

constexpr const char* kIdentifiers[] = {
    "You can reach me at adaeze.okafor@example.com or on +234 803 123 4567. ",
    "My GTBank account number is 0123456789, please send the refund there. ",
    "The card on file is 4111 1111 1111 1111, exp 12/26. ",
    "Our office line is 0803-123-4567 and the server is at 192.168.10.24. ",
};

std::string PromptText(size_t bytes, bool with_identifiers, bool non_ascii) {
  std::string out;
  size_t i = 0;
  while (out.size() < bytes) {
    if (with_identifiers && i % 6 == 5) {
      out += kIdentifiers[(i / 6) % std::size(kIdentifiers)];
    } else {
      out += kProse[i % std::size(kProse)];
    }
    if (non_ascii && i % 4 == 3) {
      out += "Ẹ jọ̀wọ́, ẹ ṣé gan-an 🙏 ";
    }
    ++i;
  }
  out.resize(bytes);
  // Do not end inside a UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) {
    out.pop_back();
  }
  return out;
}

std::unique_ptr<const Scanner> AllTypes() {
  ScannerOptions options;
  for (const EntityInfo& e : Entities()) {
    if (e.detectable) {
      options.types.emplace_back(e.name);
    }
  }
  options.regexes.push_back({"EMPLOYEE_ID", "EMP-[0-9]{6}"});
  auto scanner = Scanner::Compile(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "compile: %s\n", scanner.status().ToString().c_str());
    std::abort();
  }
  return std::move(scanner).value();
}

const Scanner& Shared() {
  static const std::unique_ptr<const Scanner> scanner = AllTypes();
  return *scanner;
}

void RunScan(benchmark::State& state, const std::string& text) {
  const Scanner& scanner = Shared();
  size_t findings = 0;
  for (auto _ : state) {
    auto result = scanner.Scan(text);
    if (!result.ok()) {
      std::fprintf(stderr, "scan: %s\n", result.status().ToString().c_str());
      std::abort();
    }
    findings = result->size();
    benchmark::DoNotOptimize(findings);
  }
  state.counters["findings"] = static_cast<double>(findings);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}

void BM_Scan(benchmark::State& state) {
  RunScan(state, PromptText(static_cast<size_t>(state.range(0)), true, false));
}
BENCHMARK(BM_Scan)->Arg(200)->Arg(2048)->Arg(64 << 10);

void BM_ScanPlainProse(benchmark::State& state) {
  RunScan(state, PromptText(static_cast<size_t>(state.range(0)), false, false));
}
BENCHMARK(BM_ScanPlainProse)->Arg(2048)->Arg(64 << 10);

void BM_ScanNonAscii(benchmark::State& state) {
  RunScan(state, PromptText(static_cast<size_t>(state.range(0)), true, true));
}
BENCHMARK(BM_ScanNonAscii)->Arg(2048)->Arg(64 << 10);

void ScanNormalized(benchmark::State& state, bool with_identifiers) {
  const std::string text = PromptText(static_cast<size_t>(state.range(0)), with_identifiers, false);
  auto normalized = Normalize(text);
  if (!normalized.ok()) {
    std::abort();
  }
  const Scanner& scanner = Shared();
  for (auto _ : state) {
    auto result = scanner.Scan(*normalized, text);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
void BM_ScanNormalized(benchmark::State& state) { ScanNormalized(state, true); }
BENCHMARK(BM_ScanNormalized)->Arg(2048)->Arg(64 << 10);

void BM_PatternStage(benchmark::State& state) { ScanNormalized(state, false); }
BENCHMARK(BM_PatternStage)->Arg(2048)->Arg(64 << 10);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    auto scanner = AllTypes();
    benchmark::DoNotOptimize(scanner);
  }
}
BENCHMARK(BM_Compile)->Unit(benchmark::kMillisecond);

std::shared_ptr<const Guardrail> InputGuardrail() {
  std::string entities;
  for (const EntityInfo& e : Entities()) {
    if (!e.detectable) continue;
    if (!entities.empty()) entities += ",";
    entities += R"({"type":")" + std::string(e.name) + R"(","action":"ANONYMIZE"})";
  }
  std::string words;
  for (const char* w : {"project falcon", "merger", "layoffs", "insider", "acquisition target",
                        "internal only", "confidential", "board minutes", "salary band", "ponzi"}) {
    if (!words.empty()) words += ",";
    words += R"({"text":")" + std::string(w) + R"("})";
  }
  const std::string json =
      R"({"name":"bench","blockedInputMessaging":"no","blockedOutputsMessaging":"no",)"
      R"("sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[)" +
      entities + R"(]},"wordPolicyConfig":{"wordsConfig":[)" + words +
      R"(],"managedWordListsConfig":[{"type":"PROFANITY"}]}})";
  auto g = CompileDefinition("bench", "1", json);
  if (!g.ok()) {
    std::fprintf(stderr, "guardrail: %s\n", g.status().ToString().c_str());
    std::abort();
  }
  return *g;
}

void BM_InputGuard(benchmark::State& state) {
  static const std::shared_ptr<const Guardrail> guardrail = InputGuardrail();
  const std::vector<ContentBlock> blocks{
      ContentBlock{PromptText(static_cast<size_t>(state.range(0)), true, false), {}}};
  std::vector<double> micros;
  micros.reserve(1 << 16);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto r = guardrail->Apply(GuardSource::kInput, blocks, {});
    const auto end = std::chrono::steady_clock::now();
    if (!r.ok()) std::abort();
    benchmark::DoNotOptimize(r);
    if (micros.size() < (1u << 16)) {
      micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
  }
  std::sort(micros.begin(), micros.end());
  if (!micros.empty()) {
    state.counters["p50_us"] = micros[micros.size() / 2];
    state.counters["p99_us"] = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(blocks[0].text.size()));
}
BENCHMARK(BM_InputGuard)->Arg(200)->Arg(2048)->Arg(64 << 10);

}  // namespace
}  // namespace perimeter::guard

BENCHMARK_MAIN();
