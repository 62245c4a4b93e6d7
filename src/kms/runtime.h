#pragma once

// The KMS as a deployment configures it (config `keys:`): the SQLite key store at
// <state_dir>/keys.db, the backends (local always, so keys wrapped by the root key keep opening
// after a switch; aws-kms when configured), the key-use audit file, and the Kms itself. The
// gateway, the CLI and the directory (which seals access-key secrets with it) share this.

#include <memory>

#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/config.h"
#include "kms/audit.h"
#include "kms/kms.h"
#include "kms/store.h"

namespace perimeter::kms {

struct KmsRuntime {
  std::shared_ptr<KeyStore> store;
  std::shared_ptr<KeyAuditSink> audit;  // key uses, into audit_log
  std::shared_ptr<Kms> kms;
  // The tamper-evident audit log (config `audit:`). Everything that records events (the
  // gateway's audit filter, the CLI) appends here. It signs checkpoints only once
  // EnableAuditCheckpoints was called.
  std::shared_ptr<audit::AuditLog> audit_log;
};

// Errors: those of opening the store, the root key, the audit log, and of building the
// aws-kms backend (no network call is made here). `clock` must outlive the runtime (the Kms and
// the aws-kms backend keep a reference to it).
Result<KmsRuntime> OpenKmsRuntime(const config::Config& cfg, const Clock& clock);

// Unseals (creating on first use) the audit log's Ed25519 checkpoint key through the KMS and
// gives it to the log, which then signs a checkpoint every audit.checkpoint_interval and on
// close. The gateway calls it at startup; CLI commands that need a fresh checkpoint call it
// first. (Not done by OpenKmsRuntime: most CLI commands only append, and the unsealing is a KMS
// call, remote for the aws-kms backend.) Must not be called from the log's writer thread.
Status EnableAuditCheckpoints(const KmsRuntime& rt, const config::Config& cfg);

// Where the key store and the audit log of a config live.
std::string KeyStorePath(const config::Config& cfg);
std::string AuditDir(const config::Config& cfg);
// The audit log's options from the config (origin arn:aws:perimeter:<region>:<account>:audit).
audit::LogOptions AuditLogOptions(const config::Config& cfg);

}  // namespace perimeter::kms
