#include "redact/invocation_store.h"

#include <sqlite3.h>

#include <mutex>

#include "redact/vault.h"
#include "sqlite/database.h"

namespace perimeter::redact {

namespace {

constexpr std::string_view kWhat = "invocation record store";

kms::EncryptionContext RecordContext(std::string_view tenant, std::string_view request_id) {
  return {{"tenant", std::string(tenant)},
          {"purpose", std::string(kInvocationLogPurpose)},
          {"request_id", std::string(request_id)}};
}

// Request ids are UUIDs; anything printable and short is accepted so ids of other gateways fit.
bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct InvocationStore::Impl {
  std::unique_ptr<sqlite::Connection> db;
  std::mutex mu;  // one connection, one user at a time
  std::shared_ptr<kms::Kms> kms;
  std::shared_ptr<kms::KeyAuditSink> audit;
  const Clock* clock = nullptr;
  std::string region;
  std::string account_id;

  Status Record(const kms::KeyCaller& caller, std::string_view tenant, std::string_view request_id,
                std::string_view key_id, uint32_t key_version, const Status& outcome,
                std::string_view outcome_name) {
    kms::KeyUseEvent event;
    event.time = clock->Now();
    event.caller_arn = caller.arn;
    event.operation = "ReadInvocationRecord";
    event.key_id = std::string(key_id);
    event.key_version = key_version;
    if (IsValidTenantId(tenant)) {
      event.tenant = std::string(tenant);
      event.encryption_context["tenant"] = std::string(tenant);
    }
    event.encryption_context["purpose"] = std::string(kInvocationLogPurpose);
    if (IsValidRequestId(request_id)) {
      event.encryption_context["request_id"] = std::string(request_id);
    }
    event.outcome = std::string(outcome_name);
    event.message = outcome.message();
    Status s = audit->Record(event);
    if (!s.ok()) return Unavailable(s.message());
    return Status::Ok();
  }
};

InvocationStore::InvocationStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InvocationStore::~InvocationStore() = default;

Result<std::shared_ptr<InvocationStore>> InvocationStore::Open(
    const std::string& path, std::shared_ptr<kms::Kms> kms,
    std::shared_ptr<kms::KeyAuditSink> audit, const Clock& clock, std::string region,
    std::string account_id) {
  auto db = sqlite::Connection::Open(path, kWhat);
  if (!db.ok()) return db.status();
  PERIMETER_RETURN_IF_ERROR(
      (*db)->Exec("CREATE TABLE IF NOT EXISTS invocation_records ("
                  " request_id TEXT PRIMARY KEY,"
                  " tenant TEXT NOT NULL,"
                  " created_at INTEGER NOT NULL,"
                  " ciphertext BLOB NOT NULL) WITHOUT ROWID;"
                  "CREATE INDEX IF NOT EXISTS invocation_records_by_tenant"
                  " ON invocation_records(tenant, created_at);",
                  "create the invocation record table"));
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->kms = std::move(kms);
  impl->audit = std::move(audit);
  impl->clock = &clock;
  impl->region = std::move(region);
  impl->account_id = std::move(account_id);
  return std::shared_ptr<InvocationStore>(new InvocationStore(std::move(impl)));
}

std::string InvocationStore::InvocationLogArn(std::string_view tenant) const {
  return "arn:aws:perimeter:" + impl_->region + ":" + impl_->account_id + ":invocation-log/" +
         std::string(tenant);
}

Status InvocationStore::Put(std::string_view tenant, std::string_view request_id,
                            std::string_view document) {
  if (!IsValidTenantId(tenant)) return InvalidArgument("not a tenant id");
  if (!IsValidRequestId(request_id)) return InvalidArgument("not a request id");
  if (document.size() > kMaxInvocationRecordBytes) {
    return InvalidArgument("the invocation record is " + std::to_string(document.size()) +
                           " bytes; at most " + std::to_string(kMaxInvocationRecordBytes) +
                           " are kept");
  }
  auto sealed = impl_->kms->Encrypt(impl_->kms->Gateway(), TenantKeyAlias(tenant), document,
                                    RecordContext(tenant, request_id));
  if (!sealed.ok()) {
    return Status(sealed.status().code(),
                  "cannot seal the invocation record: " + sealed.status().message());
  }
  std::lock_guard<std::mutex> g(impl_->mu);
  auto st = impl_->db->Prepare(
      "INSERT INTO invocation_records(request_id, tenant, created_at, ciphertext) "
      "VALUES (?1, ?2, ?3, ?4)",
      "store an invocation record");
  if (!st.ok()) return st.status();
  st->Bind(1, request_id);
  st->Bind(2, tenant);
  st->Bind(3, UnixSeconds(impl_->clock->Now()));
  st->BindBlob(4, *sealed);
  const int rc = st->Step();
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists("an invocation record for request " + std::string(request_id) + " exists");
  }
  if (rc != SQLITE_DONE) return impl_->db->Error(rc, "store an invocation record");
  return Status::Ok();
}

Result<std::string> InvocationStore::Read(const kms::KeyCaller& caller, std::string_view tenant,
                                          std::string_view request_id) {
  if (!IsValidTenantId(tenant)) return InvalidArgument("not a tenant id");
  if (!IsValidRequestId(request_id)) return InvalidArgument("not a request id");
  const std::string denial = AuthorizeTenantAction(
      caller, kReadInvocationRecordAction, InvocationLogArn(tenant), tenant, impl_->clock->Now());
  if (!denial.empty()) {
    const Status refused = PermissionDenied(denial);
    PERIMETER_RETURN_IF_ERROR(
        impl_->Record(caller, tenant, request_id, "", 0, refused, "AccessDeniedException"));
    return refused;
  }
  std::string ciphertext;
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    auto st = impl_->db->Prepare(
        "SELECT ciphertext FROM invocation_records WHERE request_id = ?1 AND tenant = ?2",
        "read an invocation record");
    if (!st.ok()) return st.status();
    st->Bind(1, request_id);
    st->Bind(2, tenant);
    const int rc = st->Step();
    if (rc == SQLITE_ROW) {
      ciphertext = sqlite::ColumnBlob(st->get(), 0);
    } else if (rc != SQLITE_DONE) {
      return impl_->db->Error(rc, "read an invocation record");
    }
  }
  if (ciphertext.empty()) {
    const Status missing =
        NotFound("no invocation record of request " + std::string(request_id.substr(0, 128)) +
                 " for tenant " + std::string(tenant));
    PERIMETER_RETURN_IF_ERROR(
        impl_->Record(caller, tenant, request_id, "", 0, missing, "NotFoundException"));
    return missing;
  }
  auto plain =
      impl_->kms->Decrypt(impl_->kms->Gateway(), ciphertext, RecordContext(tenant, request_id));
  if (!plain.ok()) {
    PERIMETER_RETURN_IF_ERROR(impl_->Record(caller, tenant, request_id, "", 0, plain.status(),
                                            "KMSInvalidStateException"));
    return plain.status();
  }
  // Recorded before anything is released.
  PERIMETER_RETURN_IF_ERROR(impl_->Record(caller, tenant, request_id, plain->key_id,
                                          plain->key_version, Status::Ok(), "Success"));
  return std::string(plain->plaintext.RevealSecretForUse());
}

Result<std::vector<InvocationRecordMeta>> InvocationStore::List(std::string_view tenant,
                                                                int64_t since, int64_t until) {
  if (!IsValidTenantId(tenant)) return InvalidArgument("not a tenant id");
  std::lock_guard<std::mutex> g(impl_->mu);
  auto st = impl_->db->Prepare(
      "SELECT request_id, created_at FROM invocation_records "
      "WHERE tenant = ?1 AND created_at >= ?2 AND created_at < ?3 ORDER BY created_at, request_id",
      "list invocation records");
  if (!st.ok()) return st.status();
  st->Bind(1, tenant);
  st->Bind(2, since);
  st->Bind(3, until);
  std::vector<InvocationRecordMeta> out;
  for (;;) {
    const int rc = st->Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return impl_->db->Error(rc, "list invocation records");
    InvocationRecordMeta m;
    m.request_id = sqlite::ColumnText(st->get(), 0);
    m.tenant = std::string(tenant);
    m.created_at = sqlite3_column_int64(st->get(), 1);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace perimeter::redact
