// Tests of InvocationStore (sealed invocation records, reads authorized and audited),
// Vault::FindToken and AuthorizeTenantAction.

#include "redact/invocation_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "kms/audit.h"
#include "kms/backend.h"
#include "kms/kms.h"
#include "kms/store.h"
#include "policy/policy.h"
#include "redact/token.h"
#include "redact/vault.h"

namespace perimeter::redact {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "000000000000";
constexpr char kRegion[] = "eu-west-1";
constexpr int64_t kStart = 1800000000;
constexpr char kRequestA[] = "0b2d8a4e-1c3f-4a5b-9c7d-0e1f2a3b4c5d";
constexpr char kDocumentA[] =
    R"({"requestId":"0b2d8a4e-1c3f-4a5b-9c7d-0e1f2a3b4c5d","tenant":"a","operation":"Converse",)"
    R"("request":"write to [EMAIL_0123456789abcdef] about the loan","answer":"done"})";

crypto::SecretBytes RandomKey() {
  auto bytes = crypto::RandomBytes(32);
  EXPECT_TRUE(bytes.ok());
  return crypto::SecretBytes::FromAndWipe(&*bytes);
}

// The document read, or the error (so a failed read shows in the assertion).
std::string Text(const Result<std::string>& r) { return r.ok() ? *r : r.status().ToString(); }

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "perimeter-invocations-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The row of `request_id` as stored in the SQLite file, read without the store.
struct StoredRow {
  std::string tenant;
  int64_t created_at = 0;
  std::string ciphertext;
};
std::optional<StoredRow> ReadRow(const std::string& path, const std::string& request_id) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    ADD_FAILURE() << "cannot open " << path;
    return std::nullopt;
  }
  sqlite3_stmt* st = nullptr;
  std::optional<StoredRow> row;
  if (sqlite3_prepare_v2(db,
                         "SELECT tenant, created_at, ciphertext FROM invocation_records "
                         "WHERE request_id = ?1",
                         -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, request_id.data(), static_cast<int>(request_id.size()),
                      SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
      StoredRow r;
      r.tenant = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      r.created_at = sqlite3_column_int64(st, 1);
      r.ciphertext.assign(static_cast<const char*>(sqlite3_column_blob(st, 2)),
                          static_cast<size_t>(sqlite3_column_bytes(st, 2)));
      row = std::move(r);
    }
  } else {
    ADD_FAILURE() << sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return row;
}

class InvocationStoreTest : public ::testing::Test {
 protected:
  InvocationStoreTest()
      : clock_(std::chrono::system_clock::time_point(std::chrono::seconds(kStart))),
        store_(std::make_shared<kms::MemoryKeyStore>()),
        kms_audit_(std::make_shared<kms::MemoryKeyAuditSink>()),
        audit_(std::make_shared<kms::MemoryKeyAuditSink>()),
        db_path_(dir_.path() + "/invocations.db") {
    auto backend = kms::LocalKeyBackend::Create(RandomKey());
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    std::vector<std::shared_ptr<kms::KeyBackend>> backends;
    backends.push_back(std::shared_ptr<kms::KeyBackend>(std::move(*backend)));
    kms::KmsOptions options;
    options.region = kRegion;
    options.account_id = kAccount;
    kms_ = std::make_shared<kms::Kms>(store_, std::move(backends), "local", kms_audit_, clock_,
                                      options);
    for (const char* tenant : {"a", "b"}) {
      auto t = kms_->CreateTenant(kms_->Administrator(), tenant,
                                  std::string("arn:aws:iam::000000000000:role/tenant-") + tenant);
      EXPECT_TRUE(t.ok()) << t.status().ToString();
    }
    invocations_ = OpenStore();
  }

  std::shared_ptr<InvocationStore> OpenStore() {
    auto s = InvocationStore::Open(db_path_, kms_, audit_, clock_, kRegion, kAccount);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  static kms::KeyCaller User(const std::string& name, const std::vector<std::string>& policies) {
    kms::KeyCaller c;
    c.arn = std::string("arn:aws:iam::") + kAccount + ":user/" + name;
    c.principal_arn = c.arn;
    c.account_id = kAccount;
    c.principal_type = "User";
    for (size_t i = 0; i < policies.size(); ++i) {
      auto p = policy::Policy::Parse(policies[i], policy::PolicyKind::kIdentity);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (p.ok()) {
        c.identity_policies.push_back(
            policy::NamedPolicy{name + "-policy-" + std::to_string(i), *p});
      }
    }
    return c;
  }

  static std::string Allow(const std::string& action, const std::string& resource) {
    return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":")" + action +
           R"(","Resource":")" + resource + R"("}]})";
  }

  // May read the invocation records of tenant a only.
  static kms::KeyCaller InvestigatorOfA() {
    return User("investigator-a",
                {Allow("perimeter:ReadInvocationRecord",
                       "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/a")});
  }
  // May read every tenant's invocation records.
  static kms::KeyCaller InvestigatorOfAll() {
    return User("investigator",
                {Allow("perimeter:ReadInvocationRecord",
                       "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/*")});
  }

  std::vector<kms::KeyUseEvent> ReadEvents() const {
    std::vector<kms::KeyUseEvent> out;
    for (auto& e : audit_->events()) {
      if (e.operation == "ReadInvocationRecord") out.push_back(e);
    }
    return out;
  }

  std::string TenantKeyId(const std::string& tenant) {
    auto t = store_->GetTenant(tenant);
    EXPECT_TRUE(t.ok() && t->has_value());
    return t.ok() && t->has_value() ? (*t)->key_id : std::string();
  }

  TempDir dir_;
  ManualClock clock_;
  std::shared_ptr<kms::MemoryKeyStore> store_;
  std::shared_ptr<kms::MemoryKeyAuditSink> kms_audit_;
  std::shared_ptr<kms::MemoryKeyAuditSink> audit_;  // the store's sink
  std::shared_ptr<kms::Kms> kms_;
  std::string db_path_;
  std::shared_ptr<InvocationStore> invocations_;
};

TEST_F(InvocationStoreTest, NamesTheTenantsInvocationLogArn) {
  EXPECT_EQ(invocations_->InvocationLogArn("a"),
            "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/a");
}

TEST_F(InvocationStoreTest, ReturnsTheDocumentToACallerAllowedToReadItAndRecordsTheRead) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  const kms::KeyCaller investigator = InvestigatorOfA();
  auto doc = invocations_->Read(investigator, "a", kRequestA);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, kDocumentA);

  const auto events = ReadEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "Success");
  EXPECT_EQ(events[0].message, "");
  EXPECT_EQ(events[0].caller_arn, investigator.arn);
  EXPECT_EQ(events[0].tenant, "a");
  EXPECT_EQ(events[0].key_id, TenantKeyId("a"));
  EXPECT_EQ(events[0].key_version, 1u);
  EXPECT_EQ(events[0].time, clock_.Now());
  const std::map<std::string, std::string> context = {
      {"tenant", "a"}, {"purpose", "invocation-log"}, {"request_id", kRequestA}};
  EXPECT_EQ(events[0].encryption_context, context);

  // The record survives the store being reopened (a restart).
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Text(reopened->Read(investigator, "a", kRequestA)), kDocumentA);
}

TEST_F(InvocationStoreTest, RefusesACallerWithoutThePermissionAndRecordsTheDenial) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  // Allowed to reveal vault tokens and to read tenant b's records, not tenant a's.
  const kms::KeyCaller other =
      User("mallory", {Allow("perimeter:RevealToken", "arn:aws:perimeter:eu-west-1:*:vault/a"),
                       Allow("perimeter:ReadInvocationRecord",
                             "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/b")});
  auto doc = invocations_->Read(other, "a", kRequestA);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(doc.status().message(),
              HasSubstr("User: arn:aws:iam::000000000000:user/mallory is not authorized to "
                        "perform: perimeter:ReadInvocationRecord on resource: "
                        "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/a"));
  EXPECT_THAT(doc.status().message(), Not(HasSubstr("loan")));

  const auto events = ReadEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "AccessDeniedException");
  EXPECT_EQ(events[0].caller_arn, other.arn);
  EXPECT_EQ(events[0].tenant, "a");
  EXPECT_EQ(events[0].message, doc.status().message());
  EXPECT_EQ(events[0].encryption_context.at("request_id"), kRequestA);
  // Nothing was decrypted for the refused caller.
  for (const auto& e : kms_audit_->events()) {
    EXPECT_NE(e.operation, "Decrypt");
  }

  // A caller with no policy at all is refused the same way.
  auto none = invocations_->Read(User("nobody", {}), "a", kRequestA);
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadEvents().size(), 2u);
}

TEST_F(InvocationStoreTest, ADenialThatCannotBeRecordedIsUnavailable) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  audit_->SetFailing(true);
  auto doc = invocations_->Read(User("nobody", {}), "a", kRequestA);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kUnavailable);
}

TEST_F(InvocationStoreTest, ARecordOfAnotherTenantIsNotFound) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  const kms::KeyCaller investigator = InvestigatorOfAll();
  auto doc = invocations_->Read(investigator, "b", kRequestA);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(doc.status().message(), Not(HasSubstr("loan")));
  const auto events = ReadEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "NotFoundException");
  EXPECT_EQ(events[0].tenant, "b");
  // Unknown request ids are NotFound too; the right tenant still reads it.
  EXPECT_EQ(invocations_->Read(investigator, "a", "no-such-request").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Text(invocations_->Read(investigator, "a", kRequestA)), kDocumentA);
}

TEST_F(InvocationStoreTest, SealsTheDocumentUnderTheTenantKeyBoundToTenantAndRequest) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  const auto row = ReadRow(db_path_, kRequestA);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->tenant, "a");
  EXPECT_EQ(row->created_at, kStart);
  EXPECT_EQ(row->ciphertext.find("loan"), std::string::npos);
  EXPECT_EQ(row->ciphertext.find("EMAIL"), std::string::npos);

  const kms::EncryptionContext context = {
      {"tenant", "a"}, {"purpose", "invocation-log"}, {"request_id", kRequestA}};
  auto plain = kms_->Decrypt(kms_->Gateway(), row->ciphertext, context, TenantKeyAlias("a"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->plaintext.RevealSecretForUse(), kDocumentA);
  EXPECT_EQ(plain->key_id, TenantKeyId("a"));

  // Not under tenant b's key; and it opens with no other tenant, purpose or request id.
  EXPECT_FALSE(kms_->Decrypt(kms_->Gateway(), row->ciphertext, context, TenantKeyAlias("b")).ok());
  kms::EncryptionContext other_request = context;
  other_request["request_id"] = "another-request";
  EXPECT_FALSE(kms_->Decrypt(kms_->Gateway(), row->ciphertext, other_request).ok());
  kms::EncryptionContext other_tenant = context;
  other_tenant["tenant"] = "b";
  EXPECT_FALSE(kms_->Decrypt(kms_->Gateway(), row->ciphertext, other_tenant).ok());
  kms::EncryptionContext other_purpose = context;
  other_purpose["purpose"] = "vault";
  EXPECT_FALSE(kms_->Decrypt(kms_->Gateway(), row->ciphertext, other_purpose).ok());
}

TEST_F(InvocationStoreTest, ARequestIdIsStoredOnce) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  const Status again = invocations_->Put("a", kRequestA, R"({"replaced":true})");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  // Nor under another tenant.
  EXPECT_EQ(invocations_->Put("b", kRequestA, R"({"replaced":true})").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Text(invocations_->Read(InvestigatorOfA(), "a", kRequestA)), kDocumentA);
}

TEST_F(InvocationStoreTest, ListsTheTenantsRecordsInATimeRangeOldestFirst) {
  ASSERT_TRUE(invocations_->Put("a", "r1", "{}").ok());  // kStart
  ASSERT_TRUE(invocations_->Put("b", "r2", "{}").ok());  // kStart
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(invocations_->Put("a", "r3", "{}").ok());  // kStart + 10
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(invocations_->Put("a", "r0", "{}").ok());  // kStart + 20

  const auto ids = [](const std::vector<InvocationRecordMeta>& metas) {
    std::vector<std::string> out;
    for (const auto& m : metas) out.push_back(m.request_id);
    return out;
  };
  auto all = invocations_->List("a", 0, kStart + 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"r1", "r3", "r0"}));
  for (const auto& m : *all) EXPECT_EQ(m.tenant, "a");
  EXPECT_EQ((*all)[0].created_at, kStart);
  EXPECT_EQ((*all)[1].created_at, kStart + 10);
  EXPECT_EQ((*all)[2].created_at, kStart + 20);

  // since is inclusive, until exclusive.
  EXPECT_EQ(ids(invocations_->List("a", kStart + 10, kStart + 20).value()),
            (std::vector<std::string>{"r3"}));
  EXPECT_EQ(ids(invocations_->List("a", kStart + 1, kStart + 21).value()),
            (std::vector<std::string>{"r3", "r0"}));
  EXPECT_TRUE(invocations_->List("a", kStart + 21, kStart + 1000).value().empty());
  EXPECT_TRUE(invocations_->List("a", kStart, kStart).value().empty());

  auto b = invocations_->List("b", 0, kStart + 1000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ids(*b), (std::vector<std::string>{"r2"}));
  EXPECT_TRUE(invocations_->List("c", 0, kStart + 1000).value().empty());
}

TEST_F(InvocationStoreTest, AReadThatCannotBeRecordedFailsAndReleasesNothing) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  audit_->SetFailing(true);
  auto doc = invocations_->Read(InvestigatorOfA(), "a", kRequestA);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(doc.status().message(), Not(HasSubstr("loan")));
  EXPECT_TRUE(ReadEvents().empty());

  audit_->SetFailing(false);
  EXPECT_EQ(Text(invocations_->Read(InvestigatorOfA(), "a", kRequestA)), kDocumentA);
  EXPECT_EQ(ReadEvents().size(), 1u);
}

TEST_F(InvocationStoreTest, RefusesMalformedTenantIdsRequestIdsAndOversizedDocuments) {
  for (const std::string& tenant :
       std::vector<std::string>{"", "A", "-a", "a b", "a/b", std::string(64, 'a')}) {
    EXPECT_EQ(invocations_->Put(tenant, kRequestA, "{}").code(), StatusCode::kInvalidArgument)
        << tenant;
    EXPECT_EQ(invocations_->Read(InvestigatorOfAll(), tenant, kRequestA).status().code(),
              StatusCode::kInvalidArgument)
        << tenant;
    EXPECT_EQ(invocations_->List(tenant, 0, kStart).status().code(), StatusCode::kInvalidArgument)
        << tenant;
  }
  for (const std::string& id :
       std::vector<std::string>{"", "a b", "a/b", "../x", "id\n", std::string(129, 'r')}) {
    EXPECT_EQ(invocations_->Put("a", id, "{}").code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_TRUE(invocations_->Put("a", std::string(128, 'r'), "{}").ok());
  EXPECT_EQ(invocations_->Put("a", "big", std::string(kMaxInvocationRecordBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
  // Nothing malformed was stored.
  EXPECT_EQ(invocations_->List("a", 0, kStart + 1).value().size(), 1u);
}

// A malformed request id is refused before anything is looked up, as Put refuses it (not
// NotFound: no record could ever have that id).
TEST_F(InvocationStoreTest, ReadRefusesAMalformedRequestId) {
  ASSERT_TRUE(invocations_->Put("a", kRequestA, kDocumentA).ok());
  for (const std::string& id :
       std::vector<std::string>{"", "a b", "a/b", "../x", "id\n", std::string(129, 'r'),
                                std::string(kRequestA) + "\n"}) {
    auto doc = invocations_->Read(InvestigatorOfAll(), "a", id);
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument) << "[" << id << "]";
  }
}

// ---- Vault::FindToken ---------------------------------------------------------------------------

class FindTokenTest : public InvocationStoreTest {
 protected:
  FindTokenTest()
      : vault_audit_(std::make_shared<kms::MemoryKeyAuditSink>()),
        vault_(kms_, store_, vault_audit_, clock_, kRegion, kAccount) {}

  std::shared_ptr<kms::MemoryKeyAuditSink> vault_audit_;
  Vault vault_;
};

TEST_F(FindTokenTest, ReturnsTheTokenOfATokenizedValue) {
  auto token = vault_.Tokenize("a", "EMAIL", "ada@bank-a.example");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto found = vault_.FindToken("a", "EMAIL", "ada@bank-a.example");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, *token);
  // From a fresh vault (no cached key) too.
  Vault cold(kms_, store_, vault_audit_, clock_, kRegion, kAccount);
  EXPECT_EQ(cold.FindToken("a", "EMAIL", "ada@bank-a.example").value().value_or(""), *token);
  // An erased entry still has its token.
  const kms::KeyCaller eraser =
      User("eraser", {Allow("perimeter:EraseToken", "arn:aws:perimeter:eu-west-1:*:vault/a")});
  ASSERT_TRUE(vault_.Erase(eraser, "a", *token).ok());
  EXPECT_EQ(vault_.FindToken("a", "EMAIL", "ada@bank-a.example").value().value_or(""), *token);
}

TEST_F(FindTokenTest, FindsNothingForValuesNotInTheVaultAndStoresNothing) {
  ASSERT_TRUE(vault_.Tokenize("a", "EMAIL", "ada@bank-a.example").ok());
  const auto entries_before = store_->ListVaultEntries("a").value().size();
  for (const auto& [entity, value] : std::vector<std::pair<std::string, std::string>>{
           {"EMAIL", "nobody@example.com"},
           {"PHONE", "ada@bank-a.example"},  // the same value as another entity
           {"email", "ada@bank-a.example"},  // not an entity name
           {"EMAIL", ""}}) {
    auto found = vault_.FindToken("a", entity, value);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_FALSE(found->has_value()) << entity << " " << value;
  }
  // Tenant b's vault does not hold tenant a's value.
  ASSERT_TRUE(vault_.Tokenize("b", "EMAIL", "bola@bank-b.example").ok());
  EXPECT_FALSE(vault_.FindToken("b", "EMAIL", "ada@bank-a.example").value().has_value());
  EXPECT_EQ(store_->ListVaultEntries("a").value().size(), entries_before);
}

TEST_F(FindTokenTest, CreatesNoTokenKeyForATenantWithAnEmptyVault) {
  auto found = vault_.FindToken("b", "EMAIL", "ada@bank-a.example");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value());
  auto secret = store_->GetTenantSecret("b", kTokenKeyPurpose);
  ASSERT_TRUE(secret.ok());
  EXPECT_FALSE(secret->has_value());
  EXPECT_TRUE(store_->ListVaultEntries("b").value().empty());
  for (const auto& e : kms_audit_->events()) {
    EXPECT_NE(e.operation, "GenerateDataKey");
  }
}

TEST_F(FindTokenTest, RefusesAMalformedTenantId) {
  EXPECT_EQ(vault_.FindToken("A", "EMAIL", "x@example.com").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_.FindToken("", "EMAIL", "x@example.com").status().code(),
            StatusCode::kInvalidArgument);
}

// ---- AuthorizeTenantAction ---------------------------------------------------------------------

TEST_F(InvocationStoreTest, AuthorizeTenantActionEvaluatesIdentityPoliciesAndTenantCondition) {
  const auto now = clock_.Now();
  const std::string log_a = "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/a";
  const std::string log_b = "arn:aws:perimeter:eu-west-1:000000000000:invocation-log/b";
  EXPECT_EQ(AuthorizeTenantAction(InvestigatorOfA(), kReadInvocationRecordAction, log_a, "a", now),
            "");

  const std::string denied =
      AuthorizeTenantAction(InvestigatorOfA(), kReadInvocationRecordAction, log_b, "b", now);
  EXPECT_THAT(denied, HasSubstr("User: arn:aws:iam::000000000000:user/investigator-a is not "
                                "authorized to perform: perimeter:ReadInvocationRecord on "
                                "resource: " +
                                log_b + " because"));
  // Another action on the same resource is not granted by this one.
  EXPECT_NE(AuthorizeTenantAction(InvestigatorOfA(), kRevealTokenAction, log_a, "a", now), "");

  // perimeter:TenantId is the tenant passed in.
  const kms::KeyCaller by_tenant =
      User("by-tenant", {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Action":"perimeter:ReadInvocationRecord","Resource":"*",
      "Condition":{"StringEquals":{"perimeter:TenantId":"a"}}}]})"});
  EXPECT_EQ(AuthorizeTenantAction(by_tenant, kReadInvocationRecordAction, log_a, "a", now), "");
  EXPECT_NE(AuthorizeTenantAction(by_tenant, kReadInvocationRecordAction, log_b, "b", now), "");

  // An explicit deny wins over an allow.
  const kms::KeyCaller denied_b =
      User("denied-b", {Allow("perimeter:ReadInvocationRecord", "*"),
                        R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
      "Action":"perimeter:*","Resource":")" +
                            log_b + R"("}]})"});
  EXPECT_EQ(AuthorizeTenantAction(denied_b, kReadInvocationRecordAction, log_a, "a", now), "");
  EXPECT_THAT(AuthorizeTenantAction(denied_b, kReadInvocationRecordAction, log_b, "b", now),
              HasSubstr("explicit deny"));
}

}  // namespace
}  // namespace perimeter::redact
