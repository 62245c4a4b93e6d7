#include "kms/runtime.h"

#include "common/strings.h"
#include "kms/audit_log_sink.h"
#include "kms/aws_backend.h"
#include "kms/sqlite_store.h"

namespace perimeter::kms {
namespace {

std::string UnderStateDir(const config::Config& cfg, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return JoinPath(cfg.server.state_dir, path);
}

}  // namespace

std::string KeyStorePath(const config::Config& cfg) { return UnderStateDir(cfg, "keys.db"); }

std::string AuditDir(const config::Config& cfg) { return UnderStateDir(cfg, cfg.audit.dir); }

audit::LogOptions AuditLogOptions(const config::Config& cfg) {
  audit::LogOptions o;
  o.dir = AuditDir(cfg);
  o.origin = "arn:aws:perimeter:" +
             (cfg.access.regions.empty() ? std::string("eu-west-1") : cfg.access.regions.front()) +
             ":" + cfg.access.account_id + ":audit";
  o.fsync = cfg.audit.fsync == "none" ? audit::FsyncPolicy::kNone : audit::FsyncPolicy::kBatch;
  o.retention = cfg.audit.retention;
  o.checkpoint_interval = cfg.audit.checkpoint_interval;
  o.segment_max_bytes = cfg.audit.segment_max_bytes;
  return o;
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
  auto log = audit::AuditLog::Open(AuditLogOptions(cfg), clock);
  if (!log.ok()) return log.status();
  rt.audit_log = std::move(*log);
  KmsOptions options;
  options.region = cfg.access.regions.empty() ? "eu-west-1" : cfg.access.regions.front();
  rt.audit = std::make_shared<AuditLogKeySink>(rt.audit_log, options.region, cfg.access.account_id);
  options.account_id = cfg.access.account_id;
  options.default_rotation_period = cfg.keys.rotation_period;
  options.data_key_cache.enabled = cfg.keys.data_key_cache;
  options.data_key_cache.max_age = cfg.keys.data_key_cache_max_age;
  options.data_key_cache.max_uses = cfg.keys.data_key_cache_max_uses;
  rt.kms = std::make_shared<Kms>(rt.store, std::move(backends), cfg.keys.backend, rt.audit, clock,
                                 std::move(options));
  return rt;
}

Status EnableAuditCheckpoints(const KmsRuntime& rt, const config::Config& cfg) {
  auto signer = KmsCheckpointSigner::OpenOrCreate(*rt.kms, AuditDir(cfg));
  if (!signer.ok()) return signer.status();
  rt.audit_log->SetSigner(std::move(*signer));
  return Status::Ok();
}

}  // namespace perimeter::kms
