#pragma once

// The KMS as a deployment configures it (config `keys:`): the SQLite key store at
// <state_dir>/keys.db, the backends (local always, so keys wrapped by the root key keep opening
// after a switch; aws-kms when configured), the key-use audit file, and the Kms itself. The
// gateway, the CLI and the directory (which seals access-key secrets with it) share this.

#include <memory>

#include "common/clock.h"
#include "common/status.h"
#include "config/config.h"
#include "kms/audit.h"
#include "kms/kms.h"
#include "kms/store.h"

namespace perimeter::kms {

struct KmsRuntime {
  std::shared_ptr<KeyStore> store;
  std::shared_ptr<KeyAuditSink> audit;
  std::shared_ptr<Kms> kms;
};

// Errors: those of opening the store, the root key and the audit file, and of building the
// aws-kms backend (no network call is made here). `clock` must outlive the runtime (the Kms and
// the aws-kms backend keep a reference to it).
Result<KmsRuntime> OpenKmsRuntime(const config::Config& cfg, const Clock& clock);

// Where the key store and the key audit log of a config live.
std::string KeyStorePath(const config::Config& cfg);
std::string KeyAuditLogPath(const config::Config& cfg);

}  // namespace perimeter::kms
