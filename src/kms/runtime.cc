#include "kms/runtime.h"

#include "kms/aws_backend.h"
#include "kms/sqlite_store.h"

namespace perimeter::kms {
namespace {

std::string UnderStateDir(const config::Config& cfg, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  const std::string& dir = cfg.server.state_dir;
  return dir + (!dir.empty() && dir.back() == '/' ? "" : "/") + path;
}

}  // namespace

std::string KeyStorePath(const config::Config& cfg) { return UnderStateDir(cfg, "keys.db"); }

std::string KeyAuditLogPath(const config::Config& cfg) {
  return UnderStateDir(cfg, cfg.keys.audit_log);
}

Result<KmsRuntime> OpenKmsRuntime(const config::Config& cfg, const Clock& clock) {
  if (cfg.server.state_dir.empty()) {
    return InvalidArgument("server.state_dir is empty: set it to the directory for keys.db");
  }
  KmsRuntime rt;
  auto store = SqliteKeyStore::Open(KeyStorePath(cfg));
  if (!store.ok()) return store.status();
  rt.store = std::shared_ptr<KeyStore>(std::move(*store));
  std::vector<std::shared_ptr<KeyBackend>> backends;
  auto local = LocalKeyBackend::Open(cfg.server.state_dir, cfg.keys.root_key_file);
  if (!local.ok()) return local.status();
  backends.push_back(std::move(*local));
  if (cfg.keys.backend == "aws-kms") {
    AwsKmsOptions o;
    o.region = cfg.keys.aws_kms.region;
    o.key_id = cfg.keys.aws_kms.key_id;
    o.endpoint_url = cfg.keys.aws_kms.endpoint_url;
    o.ca_file = cfg.keys.aws_kms.ca_file;
    o.clock = &clock;
    auto aws = AwsKmsBackend::CreateWithProfile(std::move(o), cfg.keys.aws_kms.profile);
    if (!aws.ok()) {
      return Status(aws.status().code(), "keys.aws_kms: " + aws.status().message());
    }
    backends.push_back(std::move(*aws));
  }
  auto audit = JsonLinesKeyAuditSink::Open(KeyAuditLogPath(cfg), cfg.keys.audit_sync_each);
  if (!audit.ok()) return audit.status();
  rt.audit = std::shared_ptr<KeyAuditSink>(std::move(*audit));
  KmsOptions options;
  options.region = cfg.access.regions.empty() ? "eu-west-1" : cfg.access.regions.front();
  options.account_id = cfg.access.account_id;
  options.default_rotation_period = cfg.keys.rotation_period;
  options.data_key_cache.enabled = cfg.keys.data_key_cache;
  options.data_key_cache.max_age = cfg.keys.data_key_cache_max_age;
  options.data_key_cache.max_uses = cfg.keys.data_key_cache_max_uses;
  rt.kms = std::make_shared<Kms>(rt.store, std::move(backends), cfg.keys.backend, rt.audit, clock,
                                 std::move(options));
  return rt;
}

}  // namespace perimeter::kms
