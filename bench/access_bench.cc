// Micro-benchmarks of identity and access: what each request pays for authentication and
// authorization. Google Benchmark; run with `build/bench_access` (make bench runs it too).
//
//   BM_PolicyEvaluate/*       policy::Evaluate, ns per decision, for a small identity policy,
//                             the baseline's full set (caps + endpoint + identity) and a
//                             100-statement policy whose last statement decides.
//   BM_Authorize              Authorizer::Authorize: context keys + evaluation, as the gateway.
//   BM_VerifySigV4            a Converse-shaped request: canonicalization, body hash, key
//                             derivation, signature (secret lookup is a constant).
//   BM_DirectorySecretFor     the directory lookup behind SigV4: store change counter + unseal.
//   BM_DirectoryApiKey        the bearer path: change counter + SHA-256 + constant-time compare.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "access/authorizer.h"
#include "crypto/hash.h"
#include "iam/admin.h"
#include "iam/directory.h"
#include "identity/sigv4.h"
#include "identity/sigv4_verifier.h"
#include "policy/evaluator.h"

namespace perimeter {
namespace {

std::shared_ptr<const policy::Policy> Parse(const std::string& json, policy::PolicyKind kind) {
  auto p = policy::Policy::Parse(json, kind);
  if (!p.ok()) std::abort();
  return *p;
}

const char* kIdentity = R"({"Version":"2012-10-17","Statement":[{"Sid":"Invoke","Effect":"Allow",
  "Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],
  "Resource":"arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-*",
  "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},
               "StringLike":{"aws:PrincipalTag/workload":"production-ai-*"}}}]})";
const char* kCap = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"*","Resource":"*"},
  {"Effect":"Deny","Action":"bedrock:*","Resource":"*",
   "Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]})";
const char* kEndpoint = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
  "Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]}}}]})";

policy::Request InvokeRequest() {
  policy::Request r;
  r.principal_arn = "arn:aws:iam::111122223333:user/chat";
  r.action = "bedrock:InvokeModel";
  r.resource_arn =
      "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";
  r.context = {{"aws:RequestedRegion", {"eu-west-1"}},
               {"aws:PrincipalTag/workload", {"production-ai-chat"}},
               {"aws:SourceIp", {"10.1.2.3"}},
               {"aws:SecureTransport", {"true"}}};
  return r;
}

void BM_PolicyEvaluate_SmallIdentity(benchmark::State& state) {
  policy::PolicySet ps;
  ps.identity_policies.push_back({"id", Parse(kIdentity, policy::PolicyKind::kIdentity)});
  policy::Request r = InvokeRequest();
  for (auto _ : state) {
    auto res = policy::Evaluate(r, ps);
    if (res.decision != policy::Decision::kAllowed) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(res);
  }
}
BENCHMARK(BM_PolicyEvaluate_SmallIdentity);

void BM_PolicyEvaluate_BaselineSet(benchmark::State& state) {
  policy::PolicySet ps;
  ps.identity_policies.push_back({"id", Parse(kIdentity, policy::PolicyKind::kIdentity)});
  ps.service_control_policies.push_back({"cap", Parse(kCap, policy::PolicyKind::kIdentity)});
  ps.service_control_policies.push_back({"cap2", Parse(kCap, policy::PolicyKind::kIdentity)});
  ps.endpoint_policies.push_back({"ep", Parse(kEndpoint, policy::PolicyKind::kResource)});
  policy::Request r = InvokeRequest();
  for (auto _ : state) {
    auto res = policy::Evaluate(r, ps);
    if (res.decision != policy::Decision::kAllowed) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(res);
  }
}
BENCHMARK(BM_PolicyEvaluate_BaselineSet);

void BM_PolicyEvaluate_100Statements(benchmark::State& state) {
  std::string doc = R"({"Version":"2012-10-17","Statement":[)";
  for (int i = 0; i < 99; ++i) {
    doc +=
        R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/other-)" +
        std::to_string(i) + R"(-*"},)";
  }
  doc +=
      R"({"Effect":"Allow","Action":"bedrock:Invoke*","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.*"}]})";
  policy::PolicySet ps;
  ps.identity_policies.push_back({"big", Parse(doc, policy::PolicyKind::kIdentity)});
  policy::Request r = InvokeRequest();
  for (auto _ : state) {
    auto res = policy::Evaluate(r, ps);
    if (res.decision != policy::Decision::kAllowed) state.SkipWithError("not allowed");
    benchmark::DoNotOptimize(res);
  }
}
BENCHMARK(BM_PolicyEvaluate_100Statements);

// A Directory in a temporary state directory with the baseline-like config.
struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/perimeter-bench-access-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    auto c = config::ParseConfig(std::string(R"(
access:
  account_id: "111122223333"
  regions: [eu-west-1]
  deployment_policies: [)") + kCap + ", " +
                                     kCap + R"(]
  principals:
    - user: chat
      tags: {workload: production-ai-chat}
      policies: [)" + kIdentity + R"(]
listeners:
  - name: main
    endpoint_policy: )" + kEndpoint + "\n",
                                 "bench.yaml");
    if (!c.ok()) {
      fprintf(stderr, "%s\n", c.status().ToString().c_str());
      std::abort();
    }
    c->server.state_dir = dir;
    cfg = *c;
    directory = *iam::Directory::Open(cfg, SystemClock());
    authz = *access::Authorizer::Build(cfg);
    auto key = iam::CreateCredential(*directory, "arn:aws:iam::111122223333:user/chat",
                                     iam::CredentialType::kAccessKey, std::nullopt, "bench");
    auto api = iam::CreateCredential(*directory, "arn:aws:iam::111122223333:user/chat",
                                     iam::CredentialType::kApiKey, std::nullopt, "bench");
    if (!key.ok() || !api.ok()) std::abort();
    access_key_id = key->id;
    secret = std::string(key->secret.RevealSecretForUse());
    api_key = std::string(api->secret.RevealSecretForUse());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::string dir;
  config::Config cfg;
  std::shared_ptr<iam::Directory> directory;
  std::shared_ptr<const access::Authorizer> authz;
  std::string access_key_id, secret, api_key;
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_Authorize(benchmark::State& state) {
  auto caller = F().directory->CallerForPrincipal("arn:aws:iam::111122223333:user/chat");
  access::RequestFacts facts;
  facts.now = SystemClock().Now();
  facts.requested_region = "eu-west-1";
  facts.secure_transport = true;
  facts.listener = "main";
  facts.source_ip = *IpAddress::Parse("10.1.2.3");
  const std::string model =
      "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";
  for (auto _ : state) {
    auto d = F().authz->Authorize(*caller, "bedrock:InvokeModel", model, facts);
    if (!d.allowed()) state.SkipWithError(d.message.c_str());
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Authorize);

void BM_VerifySigV4(benchmark::State& state) {
  const std::string body =
      R"({"messages":[{"role":"user","content":[{"text":"What is my account balance?"}]}],"inferenceConfig":{"maxTokens":256}})";
  identity::HttpRequestToSign to_sign;
  to_sign.method = "POST";
  to_sign.path = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
  to_sign.headers = {{"host", "127.0.0.1:8080"}, {"content-type", "application/json"}};
  to_sign.payload_sha256_hex = crypto::Sha256Hex(body);
  identity::AwsCredentials creds{"AKIABENCHBENCHBENCH0", crypto::SecretBytes("secret-for-bench"),
                                 ""};
  identity::SigningScope scope{"eu-west-1", "bedrock", SystemClock().Now()};
  auto added = identity::SignRequest(to_sign, creds, scope);
  identity::ReceivedRequest rr{to_sign.method, to_sign.path, "", to_sign.headers, body};
  for (auto& h : added) rr.headers.emplace_back(h.first, h.second);
  identity::SecretLookup lookup = [](std::string_view,
                                     std::string_view) -> Result<crypto::SecretBytes> {
    return crypto::SecretBytes("secret-for-bench");
  };
  identity::VerifyOptions opts;
  for (auto _ : state) {
    auto v = identity::VerifySigV4(rr, lookup, SystemClock(), opts);
    if (!v.ok()) state.SkipWithError(v.error().message.c_str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_VerifySigV4);

void BM_DirectorySecretFor(benchmark::State& state) {
  for (auto _ : state) {
    auto s = F().directory->SecretFor(F().access_key_id, "");
    if (!s.ok()) state.SkipWithError(s.status().message().c_str());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_DirectorySecretFor);

void BM_DirectoryApiKey(benchmark::State& state) {
  for (auto _ : state) {
    auto c = F().directory->CallerForApiKey(F().api_key);
    if (!c.ok()) state.SkipWithError(c.status().message().c_str());
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_DirectoryApiKey);

}  // namespace
}  // namespace perimeter

BENCHMARK_MAIN();
