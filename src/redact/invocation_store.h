#pragma once

// Invocation records: the full request and answer of a model call, kept only for tenants that
// turned them on (config access.tenants[].invocation_records), for investigators.
//
// What is stored: a JSON document {"requestId","tenant","time","operation","modelId",
// "principal","request","answer"} whose request and answer texts already have every identifier
// the guardrail engine detects replaced by the tenant's vault tokens (the caller tokenizes), and
// that document sealed by the KMS under the tenant's key with the encryption context
// {"tenant": <tenant>, "purpose": "invocation-log", "request_id": <id>}. Rows live in
// <state_dir>/invocations.db (SQLite, WAL, synchronous=FULL, 0600): request id, tenant, time and
// ciphertext; nothing readable without the tenant's key.
//
// Reading is an IAM-authorized action: perimeter:ReadInvocationRecord on
// arn:aws:perimeter:<region>:<account>:invocation-log/<tenant> (condition keys as the vault's:
// aws:PrincipalArn, aws:PrincipalTag/*, perimeter:TenantId, ...). Grant it to an investigator
// role, never to the application roles that make the calls. Every read, allowed or refused, is
// recorded in the audit log (through the KeyAuditSink, operation ReadInvocationRecord) before
// anything is released; if it cannot be recorded the read fails with Unavailable.
// Thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kms/audit.h"
#include "kms/kms.h"

namespace perimeter::redact {

inline constexpr std::string_view kReadInvocationRecordAction = "perimeter:ReadInvocationRecord";
inline constexpr std::string_view kInvocationLogPurpose = "invocation-log";
inline constexpr size_t kMaxInvocationRecordBytes = size_t{4} << 20;

struct InvocationRecordMeta {
  std::string request_id;
  std::string tenant;
  int64_t created_at = 0;  // unix seconds
};

class InvocationStore {
 public:
  // Opens (creating) the store at `path`.
  static Result<std::shared_ptr<InvocationStore>> Open(const std::string& path,
                                                       std::shared_ptr<kms::Kms> kms,
                                                       std::shared_ptr<kms::KeyAuditSink> audit,
                                                       const Clock& clock, std::string region,
                                                       std::string account_id);
  ~InvocationStore();

  // Seals and stores `document` (the JSON above, already tokenized) for `tenant`, as the
  // gateway (perimeter.internal). AlreadyExists for a request id stored before.
  Status Put(std::string_view tenant, std::string_view request_id, std::string_view document);

  // The document, for a caller allowed perimeter:ReadInvocationRecord on the tenant's
  // invocation log. NotFound for an unknown request id (or one of another tenant).
  Result<std::string> Read(const kms::KeyCaller& caller, std::string_view tenant,
                           std::string_view request_id);

  // Metadata of the tenant's records with since <= time < until, oldest first.
  Result<std::vector<InvocationRecordMeta>> List(std::string_view tenant, int64_t since,
                                                 int64_t until);

  // arn:aws:perimeter:<region>:<account>:invocation-log/<tenant>
  std::string InvocationLogArn(std::string_view tenant) const;

  struct Impl;

 private:
  explicit InvocationStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::redact
