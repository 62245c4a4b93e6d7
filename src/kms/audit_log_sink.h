#pragma once

// The KMS's side of the audit trail (audit/log.h):
//   - AuditLogKeySink records every key use as a CloudTrail-shaped event (eventSource
//     kms.amazonaws.com) in the tamper-evident log. Inside a request (a KeyUseObserver is
//     installed) it queues the event and returns; the request's own record, appended later and
//     awaited, covers it. Outside a request (the CLI, maintenance) it waits until the event is
//     durable. Either way a refused append fails the key operation (fail closed).
//   - KmsCheckpointSigner holds the log's Ed25519 checkpoint key: its 32-byte seed is stored
//     sealed by the KMS (the environment key, which only the gateway may use, with context
//     {purpose: audit-checkpoint-signing}) in <audit dir>/checkpoint-key.sealed; the public key
//     is exported next to it as checkpoint-key.pem for verifiers. Unsealing is a key use and is
//     recorded like any other.

#include <memory>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "audit/log.h"
#include "crypto/ed25519.h"
#include "kms/audit.h"
#include "kms/kms.h"

namespace perimeter::kms {

inline constexpr std::string_view kAuditSigningPurpose = "audit-checkpoint-signing";

// As CloudTrail marks KMS calls: reads and cryptographic operations are read-only; anything that
// changes a key, an alias or a policy is not.
bool KmsOperationIsReadOnly(std::string_view op);
// arn:aws:kms:<region>:<account>:key/<key_id> (an ARN is returned as it is).
std::string KeyArnIn(std::string_view key_id, std::string_view region, std::string_view account);

// The audit event for a key use (request_id: the request it served, if any): eventSource
// kms.amazonaws.com, or perimeter.vault (RevealToken, EraseToken) and perimeter.invocation-log
// (ReadInvocationRecord) for the tenant-data operations recorded through the same sink.
audit::Event KeyUseAuditEvent(const KeyUseEvent& e, std::string_view region,
                              std::string_view account_id, std::string_view request_id);

class AuditLogKeySink final : public KeyAuditSink {
 public:
  AuditLogKeySink(std::shared_ptr<audit::AuditLog> log, std::string region, std::string account_id)
      : log_(std::move(log)), region_(std::move(region)), account_id_(std::move(account_id)) {}
  Status Record(const KeyUseEvent& event) override;

 private:
  std::shared_ptr<audit::AuditLog> log_;
  std::string region_;
  std::string account_id_;
};

class KmsCheckpointSigner final : public audit::CheckpointSigner {
 public:
  // Loads the sealed key from `audit_dir`, or creates it (and the PEM) when neither file
  // exists. FailedPrecondition when the PEM exists without the sealed key (a new key would not
  // verify the old checkpoints) or the PEM does not match the key.
  static Result<std::shared_ptr<KmsCheckpointSigner>> OpenOrCreate(Kms& kms,
                                                                   const std::string& audit_dir);
  std::string PublicKey() const override { return key_.PublicKey(); }
  Result<std::string> Sign(std::string_view message) const override { return key_.Sign(message); }

 private:
  explicit KmsCheckpointSigner(crypto::Ed25519PrivateKey key) : key_(std::move(key)) {}
  crypto::Ed25519PrivateKey key_;
};

}  // namespace perimeter::kms
