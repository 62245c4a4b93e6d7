#pragma once

// The gateway's configuration: YAML in, an immutable validated Config out.
//
// Parsing is strict: an unknown key, a wrong type or an out-of-range value is an error that
// names the file, line and field and says what is expected. A Config that parsed is valid: every
// route names a declared upstream, every listener can be bound as written (files are checked
// when the listener starts). The same parser reads the embedded defaults, so `perimeter serve`
// with no file runs exactly what `perimeter config check` would accept.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"

namespace perimeter::config {

using std::chrono::milliseconds;

struct TlsConfig {
  std::string certificate;  // PEM chain
  std::string private_key;  // PEM
  std::string client_ca;    // PEM bundle; non-empty = mTLS, client certificate required
};

// A policy document from the config: a JSON file (path relative to the config file) or an inline
// YAML mapping. `origin` names it in messages ("policies/invoke.json",
// "access.principals[0].policies[1]"); `json` is the document, already validated by the policy
// parser.
struct PolicyDocument {
  std::string origin;
  std::string json;
};

struct ListenerConfig {
  std::string name = "main";
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::string unix_socket;  // non-empty: listen here instead of address:port
  std::optional<TlsConfig> tls;
  std::vector<Cidr> allowed_cidrs;  // empty = any source
  // The endpoint policy: a resource-style policy every request on this listener must also be
  // allowed by (like a VPC endpoint policy). None = no further restriction.
  std::optional<PolicyDocument> endpoint_policy;
};

struct TimeoutsConfig {
  milliseconds connect{2000};
  milliseconds first_byte{60000};
  milliseconds total{300000};
};

enum class UpstreamType { kBuiltin, kOpenAi, kBedrock };
std::string_view UpstreamTypeName(UpstreamType t);

struct UpstreamConfig {
  std::string name;
  UpstreamType type = UpstreamType::kBuiltin;
  // openai
  std::string base_url;     // e.g. http://127.0.0.1:8000/v1
  std::string api_key_env;  // name of the environment variable holding the bearer key
  // bedrock
  std::string region;
  std::string endpoint_url;  // VPC endpoint or test mock; default bedrock-runtime.<region>
  std::string ca_file;       // extra trust anchor (in addition to the system store)
  std::string profile;       // shared-credentials-file profile
  TimeoutsConfig timeouts;
  int max_retries = 1;  // retried only when nothing was sent
};

struct RouteConfig {
  std::string model;          // exact model id, or
  std::string model_pattern;  // glob over model ids
  std::string upstream;
  std::string upstream_model;  // optional: the id sent upstream
};

struct LimitsConfig {
  uint64_t max_body_bytes = 25ull * 1024 * 1024;
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t max_header_count = 100;
  milliseconds idle_timeout{60000};     // keep-alive connection with no request
  milliseconds request_timeout{30000};  // a whole request (head + body) must arrive within this
};

struct LoggingConfig {
  std::string access_log = "stdout";  // "stdout", "stderr", "off" or a file path
  // "off" (default): no prompt or response text in any log. "redacted": the access-log line
  // carries the prompt and the answer with every identifier the guardrail engine detects
  // replaced by a vault token of the request's tenant (requests in no tenant get the {TYPE}
  // placeholder); the originals are only in the tenant's vault.
  std::string prompts = "off";
};

// The tamper-evident audit log (audit/log.h).
struct AuditConfig {
  std::string dir = "audit";    // relative paths are under server.state_dir
  std::string fsync = "batch";  // "batch": fdatasync each group commit; "none": write(2) only
  std::chrono::seconds retention{std::chrono::hours(24 * 365)};  // each record's retainUntil
  std::chrono::seconds checkpoint_interval{60};
  uint64_t segment_max_bytes = uint64_t{64} << 20;
};

struct ServerConfig {
  std::string state_dir = "./var";
  milliseconds drain_timeout{10000};
  uint32_t threads = 0;  // 0 = one per core
};

// A principal declared in config (users and roles). Credentials are never in config: they are
// created with `perimeter credentials create` and kept, sealed, in the state directory.
struct PrincipalConfig {
  bool is_role = false;
  std::string name;
  std::string account_id;  // empty = access.account_id
  std::map<std::string, std::string> tags;
  std::vector<PolicyDocument> policies;
  std::optional<PolicyDocument> permission_boundary;
  std::optional<PolicyDocument> trust_policy;  // roles: who may assume the role
  std::chrono::seconds max_session_duration{3600};
};

struct TenantConfig {
  std::string id;        // [a-z0-9][a-z0-9-]{0,62}
  std::string role_arn;  // the tenant's role; every request of the tenant runs in its session
  // Invocation records (full request and answer, identifiers tokenized, sealed under the
  // tenant's key with purpose invocation-log); off unless set.
  bool invocation_records = false;
};

struct AccessConfig {
  std::string account_id = "000000000000";        // this deployment's AWS-style account id
  std::vector<std::string> regions{"eu-west-1"};  // the deployment's regions; the first is default
  std::chrono::seconds clock_skew{300};
  // Upstream hosts Perimeter may connect to besides bedrock-runtime.<region>.amazonaws.com for
  // the deployment's regions: "host" or "host:port".
  std::vector<std::string> egress_allow_hosts;
  // Deployment-wide caps: like service control policies (every principal) and resource
  // control policies (every resource). A request must be allowed by each list that is set.
  std::vector<PolicyDocument> deployment_policies;
  std::vector<PolicyDocument> resource_control_policies;
  std::vector<PrincipalConfig> principals;
  std::vector<TenantConfig> tenants;

  std::string PrincipalArn(const PrincipalConfig& p) const;
};

// The KMS (kms/kms.h): where CMK material is protected and how keys behave.
struct AwsKmsBackendConfig {
  std::string region;  // required for backend aws-kms
  std::string key_id;  // the AWS KMS key (id, ARN or alias) that wraps Perimeter's keys
  std::string
      endpoint_url;  // VPC endpoint or test mock; default https://kms.<region>.amazonaws.com
  std::string ca_file;
  std::string profile;  // shared-credentials-file profile; default: the usual AWS chain
};

struct KeysConfig {
  std::string backend = "local";  // "local" (the root key) or "aws-kms"
  // local: the root key file; empty = PERIMETER_ROOT_KEY_FILE if set, else <state_dir>/root.key
  // (created on first start).
  std::string root_key_file;
  AwsKmsBackendConfig aws_kms;
  // Automatic rotation period of new keys: 90d-2560d, or 0 for none.
  std::chrono::seconds rotation_period{std::chrono::hours(24 * 365)};
  bool data_key_cache = true;
  std::chrono::seconds data_key_cache_max_age{300};
  uint64_t data_key_cache_max_uses = 1000;
};

// A guardrail declared in config: its CreateGuardrail body, served as version "1" (and as DRAFT).
// The body is validated and compiled by the guardrail engine when the gateway is built.
struct GuardrailConfig {
  std::string id;      // [a-z0-9][a-z0-9-]{0,63}; also the guardrail's ARN suffix
  std::string origin;  // "guardrails.definitions[0]" or the file it came from
  std::string json;    // CreateGuardrail request body
};

// Which guardrail guards requests that name none (OpenAI routes, or any route when required):
// the first binding that matches the request's API key or tenant, in order.
struct GuardrailBindingConfig {
  std::string tenant;             // matches requests of this tenant ("" = any)
  std::string api_key_id;         // matches requests made with this API key id ("" = any)
  std::string guardrail;          // a guardrail id (config or CLI-created)
  std::string version = "DRAFT";  // "DRAFT" or a version number
  bool openai_only = true;        // false: also Bedrock requests that name no guardrail
  std::string stream_processing_mode = "sync";  // "sync" or "async"
};

struct GuardrailsSectionConfig {
  std::vector<GuardrailConfig> definitions;
  std::vector<GuardrailBindingConfig> bindings;
};

struct Config {
  ServerConfig server;
  AccessConfig access;
  KeysConfig keys;
  AuditConfig audit;
  GuardrailsSectionConfig guardrails;
  std::vector<ListenerConfig> listeners;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  LimitsConfig limits;
  LoggingConfig logging;
  std::string source;  // file name, or "<embedded defaults>"

  const UpstreamConfig* FindUpstream(std::string_view name) const;
};

// IAM's rules for names (1-64 of A-Z a-z 0-9 +=,.@_-) and account ids (12 digits).
bool IsIamName(std::string_view s);
bool IsAccountId(std::string_view s);

// Parses YAML text. `source` names it in error messages.
Result<Config> ParseConfig(std::string_view yaml, std::string_view source);
Result<Config> LoadConfigFile(const std::string& path);
// The embedded defaults: 127.0.0.1:8080, state in ./var, the built-in model.
const std::string& DefaultConfigYaml();
Config DefaultConfig();

}  // namespace perimeter::config
