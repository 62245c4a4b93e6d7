#pragma once

// Gateway: builds everything a config describes (providers, metrics, access log, the filter
// chain) once, validated, before the server binds. Chain order:
//   request_id -> access_log -> route -> upstream
// Later controls (authentication, authorization, guardrails, audit) are inserted between route
// and upstream by adding filters here.

#include <memory>

#include "config/config.h"
#include "identity/aws_credentials.h"
#include "pipeline/filter.h"
#include "pipeline/metrics.h"

namespace perimeter::api {

struct Gateway {
  std::shared_ptr<pipeline::Metrics> metrics;
  std::shared_ptr<const pipeline::FilterChain> chain;
};

Result<Gateway> BuildGateway(const config::Config& cfg, const identity::EnvReader& env);

}  // namespace perimeter::api
