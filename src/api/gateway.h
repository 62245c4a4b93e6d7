#pragma once

// Gateway: builds everything a config describes (providers, metrics, access log, the filter
// chain) once, validated, before the server binds. Chain order:
//   request_id -> access_log -> authn -> route -> authz -> sts -> kms -> upstream
// `authn` authenticates before any body is parsed; `authz` resolves the tenant and authorizes
// (access_filter.h); `sts` answers the STS front door, `kms` the KMS front door (kms_filter.h).
// Later controls (guardrails, audit) are inserted before upstream here.

#include <memory>

#include "config/config.h"
#include "iam/directory.h"
#include "identity/aws_credentials.h"
#include "pipeline/filter.h"
#include "pipeline/metrics.h"

namespace perimeter::api {

struct Gateway {
  std::shared_ptr<pipeline::Metrics> metrics;
  std::shared_ptr<const pipeline::FilterChain> chain;
  std::shared_ptr<iam::Directory> directory;
};

// Builds what a config describes without opening the state directory: for `config check`.
Status CheckGateway(const config::Config& cfg, const identity::EnvReader& env);

Result<Gateway> BuildGateway(const config::Config& cfg, const identity::EnvReader& env);

}  // namespace perimeter::api
