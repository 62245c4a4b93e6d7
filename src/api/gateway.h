#pragma once

// Gateway: builds everything a config describes (providers, metrics, access log, the filter
// chain) once, validated, before the server binds. Chain order:
//   request_id -> access_log -> audit -> authn -> route -> authz -> sts -> kms -> guardrail ->
//   upstream
// `audit` records every request in the tamper-evident log before its answer is released
// (audit_filter.h); `authn` authenticates before any body is parsed; `authz` resolves the tenant,
// the guardrail binding and authorizes (access_filter.h); `sts` answers the STS front door, `kms`
// the KMS front door (kms_filter.h); `guardrail` answers ApplyGuardrail and judges guarded
// requests' input, installing the output control the upstream filter runs (guardrail_filter.h).

#include <memory>

#include "config/config.h"
#include "guard/registry.h"
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

// <state_dir>/guardrails.db, where CLI-created guardrails live (the gateway and the CLI share it).
std::string GuardrailStorePath(const config::Config& cfg);

// <state_dir>/invocations.db, where invocation records live (redact/invocation_store.h).
std::string InvocationStorePath(const config::Config& cfg);

// The guardrails of a config: those it declares (compiled now), and with `with_store` those in
// <state_dir>/guardrails.db. Checks that every binding names a guardrail that exists.
Result<std::shared_ptr<guard::GuardrailRegistry>> OpenGuardrails(const config::Config& cfg,
                                                                 bool with_store);

Result<Gateway> BuildGateway(const config::Config& cfg, const identity::EnvReader& env);

}  // namespace perimeter::api
