// Micro-benchmarks of the KMS and of redaction tokens: what a key operation costs a request.
// Google Benchmark; run with `build/bench_kms`.
//
//   BM_AeadSeal / BM_AeadOpen   crypto::AeadSeal / AeadOpen (AES-256-GCM, fresh random nonce per
//                               seal) at 64 B, 1 KiB, 16 KiB and 1 MiB: bytes/s.
//   BM_KmsEncrypt               Kms::Encrypt as the administrator on a default-policy key, with
//                               context {"tenant":"t","purpose":"bench"}: key resolution, key
//                               policy evaluation, data key (cached or fresh), payload seal and
//                               the audit event. Arguments: plaintext bytes, data-key cache on/off,
//                               audit sink (0: a no-op sink, so the KMS itself is measured; 1: the
//                               real JsonLinesKeyAuditSink appending to a file under /tmp, without
//                               fdatasync, its default).
//   BM_KmsDecrypt               Kms::Decrypt of one ciphertext, same arguments. With the cache on,
//                               every iteration after the first finds the unwrapped data key in the
//                               decrypt cache (as for ciphertexts that share a cached data key);
//                               with it off, each iteration unwraps the data key again.
//   BM_KmsDecryptTenantKeyAsGateway
//                               Decrypt under a tenant's CMK (Kms::CreateTenant) as Kms::Gateway()
//                               with TenantContext: the tenant key policy's context condition.
//   BM_RedactComputeToken       redact::ComputeToken: HMAC-SHA256 of an e-mail address.
//   BM_VaultTokenizeExisting    Vault::Tokenize of a value already in the vault: cached token key,
//                               ComputeToken and one store lookup, no encryption.
//
// Every iteration checks that the operation succeeded, so a benchmark never measures an error
// path. Stores are in memory: these numbers leave out SQLite and the disk.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "kms/audit.h"
#include "kms/backend.h"
#include "kms/kms.h"
#include "kms/store.h"
#include "redact/token.h"
#include "redact/vault.h"

namespace perimeter {
namespace {

[[noreturn]] void Fail(const char* what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::abort();
}

crypto::SecretBytes RandomKey() {
  auto bytes = crypto::RandomBytes(32);
  if (!bytes.ok()) {
    Fail("random key", bytes.status());
  }
  return crypto::SecretBytes::FromAndWipe(&*bytes);
}

// ---- AEAD ----------------------------------------------------------------------------------

void BM_AeadSeal(benchmark::State& state) {
  const crypto::SecretBytes key = RandomKey();
  const std::string plaintext(static_cast<size_t>(state.range(0)), 'p');
  const std::string aad = "bench associated data";
  for (auto _ : state) {
    auto sealed = crypto::AeadSeal(key, plaintext, aad);
    if (!sealed.ok()) {
      state.SkipWithError(sealed.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadSeal)->Arg(64)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

void BM_AeadOpen(benchmark::State& state) {
  const crypto::SecretBytes key = RandomKey();
  const std::string plaintext(static_cast<size_t>(state.range(0)), 'p');
  const std::string aad = "bench associated data";
  auto sealed = crypto::AeadSeal(key, plaintext, aad);
  if (!sealed.ok()) {
    Fail("AeadSeal", sealed.status());
  }
  for (auto _ : state) {
    auto opened = crypto::AeadOpen(key, *sealed, aad);
    if (!opened.ok()) {
      state.SkipWithError(opened.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_AeadOpen)->Arg(64)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

// ---- KMS -----------------------------------------------------------------------------------

// Accepts every event: measures the KMS without the cost of recording.
class NoopKeyAuditSink final : public kms::KeyAuditSink {
 public:
  Status Record(const kms::KeyUseEvent& event) override {
    benchmark::DoNotOptimize(&event);
    return Status::Ok();
  }
};

enum class AuditKind { kNoop = 0, kJsonLines = 1 };

// A Kms over a MemoryKeyStore and a LocalKeyBackend with a random root key, and one key with the
// default policy, created by the administrator.
struct KmsFixture {
  KmsFixture(bool data_key_cache, AuditKind audit_kind) {
    if (audit_kind == AuditKind::kJsonLines) {
      char tmpl[] = "/tmp/perimeter-bench-kms-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) {
        std::perror("mkdtemp");
        std::abort();
      }
      dir = tmpl;
      auto sink = kms::JsonLinesKeyAuditSink::Open(dir + "/key-audit.jsonl", /*sync_each=*/false);
      if (!sink.ok()) {
        Fail("JsonLinesKeyAuditSink::Open", sink.status());
      }
      audit = std::move(*sink);
    } else {
      audit = std::make_shared<NoopKeyAuditSink>();
    }
    auto backend = kms::LocalKeyBackend::Create(RandomKey());
    if (!backend.ok()) {
      Fail("LocalKeyBackend::Create", backend.status());
    }
    kms::KmsOptions options;
    options.data_key_cache.enabled = data_key_cache;
    store = std::make_shared<kms::MemoryKeyStore>();
    std::vector<std::shared_ptr<kms::KeyBackend>> backends;
    backends.push_back(std::move(*backend));
    service = std::make_shared<kms::Kms>(store, std::move(backends), "local", audit, SystemClock(),
                                         options);
    auto key = service->CreateKey(service->Administrator(), kms::CreateKeyRequest{});
    if (!key.ok()) {
      Fail("CreateKey", key.status());
    }
    key_id = key->key_id;
  }

  ~KmsFixture() {
    service.reset();
    audit.reset();  // closes the file before its directory goes
    if (!dir.empty()) {
      std::filesystem::remove_all(dir);
    }
  }

  std::string dir;
  std::shared_ptr<kms::KeyAuditSink> audit;
  std::shared_ptr<kms::MemoryKeyStore> store;
  std::shared_ptr<kms::Kms> service;
  std::string key_id;
};

const kms::EncryptionContext& BenchContext() {
  static const kms::EncryptionContext context = {{"tenant", "t"}, {"purpose", "bench"}};
  return context;
}

// Arguments: {plaintext bytes, data-key cache (0/1), audit (0: no-op, 1: JSON lines file)}.
void KmsArguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "cache", "jsonl_audit"});
  for (int audit : {0, 1}) {
    for (int cache : {1, 0}) {
      for (int bytes : {64, 4096}) {
        b->Args({bytes, cache, audit});
      }
    }
  }
}

void BM_KmsEncrypt(benchmark::State& state) {
  KmsFixture f(state.range(1) != 0, static_cast<AuditKind>(state.range(2)));
  const kms::KeyCaller caller = f.service->Administrator();
  const std::string plaintext(static_cast<size_t>(state.range(0)), 'p');
  for (auto _ : state) {
    auto ciphertext = f.service->Encrypt(caller, f.key_id, plaintext, BenchContext());
    if (!ciphertext.ok()) {
      state.SkipWithError(ciphertext.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(ciphertext);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["cache_hit_ratio"] =
      benchmark::Counter(static_cast<double>(f.service->cache_hits()) /
                         static_cast<double>(std::max<uint64_t>(
                             1, f.service->cache_hits() + f.service->cache_misses())));
}
BENCHMARK(BM_KmsEncrypt)->Apply(KmsArguments);

void BM_KmsDecrypt(benchmark::State& state) {
  KmsFixture f(state.range(1) != 0, static_cast<AuditKind>(state.range(2)));
  const kms::KeyCaller caller = f.service->Administrator();
  const std::string plaintext(static_cast<size_t>(state.range(0)), 'p');
  auto ciphertext = f.service->Encrypt(caller, f.key_id, plaintext, BenchContext());
  if (!ciphertext.ok()) {
    Fail("Encrypt", ciphertext.status());
  }
  {
    auto check = f.service->Decrypt(caller, *ciphertext, BenchContext());
    if (!check.ok() || check->plaintext.RevealSecretForUse() != plaintext) {
      std::fprintf(stderr, "Decrypt does not give back the plaintext\n");
      std::abort();
    }
  }
  for (auto _ : state) {
    auto decrypted = f.service->Decrypt(caller, *ciphertext, BenchContext());
    if (!decrypted.ok()) {
      state.SkipWithError(decrypted.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(decrypted);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["cache_hit_ratio"] =
      benchmark::Counter(static_cast<double>(f.service->cache_hits()) /
                         static_cast<double>(std::max<uint64_t>(
                             1, f.service->cache_hits() + f.service->cache_misses())));
}
BENCHMARK(BM_KmsDecrypt)->Apply(KmsArguments);

constexpr char kTenant[] = "bench-tenant";
constexpr char kTenantRole[] = "arn:aws:iam::000000000000:role/bench-tenant";

// Arguments: {plaintext bytes, data-key cache (0/1)}; no-op audit.
void BM_KmsDecryptTenantKeyAsGateway(benchmark::State& state) {
  KmsFixture f(state.range(1) != 0, AuditKind::kNoop);
  auto tenant = f.service->CreateTenant(f.service->Administrator(), kTenant, kTenantRole);
  if (!tenant.ok()) {
    Fail("CreateTenant", tenant.status());
  }
  const kms::KeyCaller gateway = f.service->Gateway();
  const kms::EncryptionContext context = kms::TenantContext(kTenant, "bench");
  const std::string plaintext(static_cast<size_t>(state.range(0)), 'p');
  auto ciphertext = f.service->Encrypt(gateway, tenant->key_id, plaintext, context);
  if (!ciphertext.ok()) {
    Fail("Encrypt under the tenant key", ciphertext.status());
  }
  for (auto _ : state) {
    auto decrypted = f.service->Decrypt(gateway, *ciphertext, context);
    if (!decrypted.ok()) {
      state.SkipWithError(decrypted.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(decrypted);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_KmsDecryptTenantKeyAsGateway)
    ->ArgNames({"bytes", "cache"})
    ->Args({64, 1})
    ->Args({64, 0})
    ->Args({4096, 1})
    ->Args({4096, 0});

// ---- Redaction -----------------------------------------------------------------------------

void BM_RedactComputeToken(benchmark::State& state) {
  const crypto::SecretBytes key = RandomKey();
  const std::string value = "alice.smith@example.com";
  for (auto _ : state) {
    std::string token = redact::ComputeToken(key, "EMAIL", value);
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RedactComputeToken);

void BM_VaultTokenizeExisting(benchmark::State& state) {
  KmsFixture f(/*data_key_cache=*/true, AuditKind::kNoop);
  auto tenant = f.service->CreateTenant(f.service->Administrator(), kTenant, kTenantRole);
  if (!tenant.ok()) {
    Fail("CreateTenant", tenant.status());
  }
  redact::Vault vault(f.service, f.store, f.audit, SystemClock(), "eu-west-1", "000000000000");
  const std::string value = "alice.smith@example.com";
  auto first = vault.Tokenize(kTenant, "EMAIL", value);
  if (!first.ok()) {
    Fail("Tokenize", first.status());
  }
  for (auto _ : state) {
    auto token = vault.Tokenize(kTenant, "EMAIL", value);
    if (!token.ok() || *token != *first) {
      state.SkipWithError("Tokenize failed or gave another token for the same value");
      break;
    }
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VaultTokenizeExisting);

}  // namespace
}  // namespace perimeter

BENCHMARK_MAIN();
