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

struct ListenerConfig {
  std::string name = "main";
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::string unix_socket;  // non-empty: listen here instead of address:port
  std::optional<TlsConfig> tls;
  std::vector<Cidr> allowed_cidrs;  // empty = any source
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
};

struct ServerConfig {
  std::string state_dir = "./var";
  milliseconds drain_timeout{10000};
  uint32_t threads = 0;  // 0 = one per core
};

struct Config {
  ServerConfig server;
  std::vector<ListenerConfig> listeners;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  LimitsConfig limits;
  LoggingConfig logging;
  std::string source;  // file name, or "<embedded defaults>"

  const UpstreamConfig* FindUpstream(std::string_view name) const;
};

// Parses YAML text. `source` names it in error messages.
Result<Config> ParseConfig(std::string_view yaml, std::string_view source);
Result<Config> LoadConfigFile(const std::string& path);
// The embedded defaults: 127.0.0.1:8080, state in ./var, the built-in model.
const std::string& DefaultConfigYaml();
Config DefaultConfig();

}  // namespace perimeter::config
