#include "api/gateway.h"

#include "api/access_filter.h"
#include "api/front_door_filters.h"
#include "api/kms_filter.h"
#include "pipeline/standard_filters.h"

namespace perimeter::api {

Status CheckGateway(const config::Config& cfg, const identity::EnvReader& env) {
  auto router = upstream::ModelRouter::Build(cfg, env);
  if (!router.ok()) return router.status();
  auto authorizer = access::Authorizer::Build(cfg);
  if (!authorizer.ok()) return authorizer.status();
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
  std::vector<std::unique_ptr<pipeline::Filter>> filters;
  filters.push_back(std::make_unique<pipeline::RequestIdFilter>());
  filters.push_back(std::make_unique<pipeline::AccessLogFilter>(std::move(*sink), g.metrics));
  filters.push_back(std::make_unique<AuthenticationFilter>(g.directory));
  filters.push_back(std::make_unique<RouteFilter>(g.metrics));
  filters.push_back(std::make_unique<AuthorizationFilter>(g.directory, *authorizer));
  filters.push_back(std::make_unique<StsFilter>(g.directory, *authorizer));
  filters.push_back(std::make_unique<KmsFilter>(g.directory));
  filters.push_back(std::make_unique<UpstreamFilter>(
      std::shared_ptr<const upstream::ModelRouter>(std::move(*router))));
  g.chain = std::make_shared<pipeline::FilterChain>(std::move(filters));
  return g;
}

}  // namespace perimeter::api
