#include "api/gateway.h"

#include <set>

#include "api/access_filter.h"
#include "api/audit_api_filter.h"
#include "api/audit_filter.h"
#include "api/front_door_filters.h"
#include "api/guardrail_filter.h"
#include "api/kms_filter.h"
#include "api/records_filter.h"
#include "common/strings.h"
#include "guard/registry.h"
#include "pipeline/standard_filters.h"

namespace perimeter::api {

namespace {

std::vector<guard::DeclaredGuardrail> DeclaredGuardrails(const config::Config& cfg) {
  std::vector<guard::DeclaredGuardrail> out;
  for (const auto& g : cfg.guardrails.definitions) out.push_back({g.id, g.origin, g.json});
  return out;
}

}  // namespace

std::string GuardrailStorePath(const config::Config& cfg) {
  return JoinPath(cfg.server.state_dir, "guardrails.db");
}

std::string InvocationStorePath(const config::Config& cfg) {
  return JoinPath(cfg.server.state_dir, "invocations.db");
}

Result<std::shared_ptr<guard::GuardrailRegistry>> OpenGuardrails(const config::Config& cfg,
                                                                 bool with_store) {
  std::shared_ptr<guard::GuardrailStore> store;
  if (with_store) {
    auto s = guard::GuardrailStore::Open(GuardrailStorePath(cfg));
    if (!s.ok()) return s.status();
    store = std::move(*s);
  }
  auto registry = guard::GuardrailRegistry::Create(
      DeclaredGuardrails(cfg), std::move(store), cfg.access.regions.front(), cfg.access.account_id);
  if (!registry.ok()) return registry.status();
  // A binding must name a guardrail that exists: config ones are checked here, CLI ones when
  // the store is open.
  for (size_t i = 0; i < cfg.guardrails.bindings.size(); ++i) {
    const auto& b = cfg.guardrails.bindings[i];
    bool declared = false;
    for (const auto& d : cfg.guardrails.definitions) declared = declared || d.id == b.guardrail;
    if (!declared && !with_store) continue;
    auto g = (*registry)->Resolve(b.guardrail, b.version);
    if (!g.ok()) {
      return Status(g.status().code(),
                    "guardrails.bindings[" + std::to_string(i) + "]: " + g.status().message());
    }
  }
  return registry;
}

Status CheckGateway(const config::Config& cfg, const identity::EnvReader& env) {
  auto router = upstream::ModelRouter::Build(cfg, env);
  if (!router.ok()) return router.status();
  auto authorizer = access::Authorizer::Build(cfg);
  if (!authorizer.ok()) return authorizer.status();
  auto guardrails = OpenGuardrails(cfg, /*with_store=*/false);
  if (!guardrails.ok()) return guardrails.status();
  return Status::Ok();
}

Result<Gateway> BuildGateway(const config::Config& cfg, const identity::EnvReader& env) {
  Gateway g;
  g.metrics = std::make_shared<pipeline::Metrics>();
  auto sink = pipeline::AccessLogSink::Open(cfg.logging.access_log);
  if (!sink.ok()) return sink.status();
  auto router = upstream::ModelRouter::Build(cfg, env);
  if (!router.ok()) return router.status();
  auto directory = iam::Directory::Open(cfg, SystemClock());
  if (!directory.ok()) return directory.status();
  g.directory = *directory;
  auto authorizer = access::Authorizer::Build(cfg);
  if (!authorizer.ok()) return authorizer.status();
  auto guardrails = OpenGuardrails(cfg, /*with_store=*/true);
  if (!guardrails.ok()) return guardrails.status();
  const kms::KmsRuntime& keys = g.directory->keys();
  // Signed checkpoints from the start: a gateway that cannot unseal its checkpoint key does not
  // serve (the trail would not be verifiable).
  PERIMETER_RETURN_IF_ERROR(kms::EnableAuditCheckpoints(keys, cfg));
  auto vault =
      std::make_shared<redact::Vault>(keys.kms, keys.store, keys.audit, SystemClock(),
                                      keys.kms->options().region, keys.kms->options().account_id);
  std::vector<std::unique_ptr<pipeline::Filter>> filters;
  filters.push_back(std::make_unique<pipeline::RequestIdFilter>());
  filters.push_back(std::make_unique<pipeline::AccessLogFilter>(std::move(*sink), g.metrics));
  filters.push_back(std::make_unique<AuditFilter>(keys.audit_log, keys.kms->options().region,
                                                  keys.kms->options().account_id));
  filters.push_back(std::make_unique<AuthenticationFilter>(g.directory));
  filters.push_back(std::make_unique<RouteFilter>(g.metrics));
  filters.push_back(std::make_unique<AuthorizationFilter>(g.directory, *authorizer));
  filters.push_back(std::make_unique<StsFilter>(g.directory, *authorizer));
  filters.push_back(std::make_unique<KmsFilter>(g.directory));
  std::set<std::string> record_tenants;
  for (const auto& t : cfg.access.tenants) {
    if (t.invocation_records) record_tenants.insert(t.id);
  }
  std::shared_ptr<redact::InvocationStore> invocations;
  if (!record_tenants.empty()) {
    auto store =
        redact::InvocationStore::Open(InvocationStorePath(cfg), keys.kms, keys.audit, SystemClock(),
                                      keys.kms->options().region, keys.kms->options().account_id);
    if (!store.ok()) return store.status();
    invocations = std::move(*store);
  }
  filters.push_back(std::make_unique<AuditApiFilter>(g.directory, kms::AuditDir(cfg), invocations));
  filters.push_back(std::make_unique<GuardrailFilter>(g.directory, std::move(*guardrails), vault));
  filters.push_back(std::make_unique<RecordsFilter>(
      cfg.logging.prompts == "redacted", std::move(record_tenants), vault, std::move(invocations)));
  filters.push_back(std::make_unique<UpstreamFilter>(
      std::shared_ptr<const upstream::ModelRouter>(std::move(*router))));
  g.chain = std::make_shared<pipeline::FilterChain>(std::move(filters));
  return g;
}

}  // namespace perimeter::api
