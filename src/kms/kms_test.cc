#include "kms/kms.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/random.h"
#include "kms/ciphertext.h"

namespace perimeter::kms {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr char kAccount[] = "000000000000";
constexpr char kRoleA[] = "arn:aws:iam::000000000000:role/tenant-a";
constexpr char kRoleB[] = "arn:aws:iam::000000000000:role/tenant-b";

std::shared_ptr<const policy::Policy> IdentityPolicy(const std::string& json) {
  auto p = policy::Policy::Parse(json, policy::PolicyKind::kIdentity);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

// A session of `role_arn` whose identity policy allows every kms action: only key policies can
// stop it.
KeyCaller Session(const std::string& role_arn, const std::string& session = "s1") {
  KeyCaller c;
  const std::string role = role_arn.substr(role_arn.rfind('/') + 1);
  c.arn = std::string("arn:aws:sts::") + kAccount + ":assumed-role/" + role + "/" + session;
  c.principal_arn = role_arn;
  c.account_id = kAccount;
  c.principal_type = "AssumedRole";
  c.identity_policies.push_back(
      {"all-kms", IdentityPolicy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                                 R"("Action":"kms:*","Resource":"*"}]})")});
  return c;
}

KeyCaller User(const std::string& name, const std::string& policy_json) {
  KeyCaller c;
  c.arn = std::string("arn:aws:iam::") + kAccount + ":user/" + name;
  c.principal_arn = c.arn;
  c.account_id = kAccount;
  c.principal_type = "User";
  if (!policy_json.empty()) c.identity_policies.push_back({"p", IdentityPolicy(policy_json)});
  return c;
}

CreateKeyRequest WithAlias(const std::string& alias) {
  CreateKeyRequest r;
  r.alias = alias;
  return r;
}

class KmsTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(DataKeyCacheOptions{}); }

  void Build(DataKeyCacheOptions cache) {
    memory_ = std::make_shared<MemoryKeyStore>();
    store_ = std::make_shared<FaultInjectingKeyStore>(memory_);
    auto root = crypto::RandomBytes(32);
    ASSERT_TRUE(root.ok());
    auto backend = LocalKeyBackend::Create(crypto::SecretBytes::FromAndWipe(&*root));
    ASSERT_TRUE(backend.ok());
    audit_ = std::make_shared<MemoryKeyAuditSink>();
    KmsOptions options;
    options.account_id = kAccount;
    options.data_key_cache = cache;
    kms_ =
        std::make_unique<Kms>(store_, std::vector<std::shared_ptr<KeyBackend>>{std::move(*backend)},
                              "local", audit_, clock_, options);
  }

  KeyRecord NewKey(const std::string& alias = "") {
    CreateKeyRequest r;
    r.alias = alias;
    auto k = kms_->CreateKey(kms_->Administrator(), r);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : KeyRecord{};
  }

  // The last recorded event.
  KeyUseEvent Last() {
    auto events = audit_->events();
    EXPECT_FALSE(events.empty());
    return events.empty() ? KeyUseEvent{} : events.back();
  }

  ManualClock clock_{std::chrono::system_clock::time_point(seconds(1'800'000'000))};
  std::shared_ptr<MemoryKeyStore> memory_;
  std::shared_ptr<FaultInjectingKeyStore> store_;
  std::shared_ptr<MemoryKeyAuditSink> audit_;
  std::unique_ptr<Kms> kms_;
};

const EncryptionContext kCtx{{"purpose", "test"}, {"tenant", "none"}};

TEST_F(KmsTest, EncryptDecryptRoundTripWithSelfDescribingCiphertext) {
  KeyRecord k = NewKey("alias/app");
  EXPECT_EQ(k.arn, "arn:aws:kms:eu-west-1:000000000000:key/" + k.key_id);
  EXPECT_EQ(k.key_id.size(), 36u);
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "hello world", kCtx);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->find("hello world"), std::string::npos);
  auto parsed = ParseCiphertext(*c);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->key_id, k.key_id);
  EXPECT_EQ(parsed->key_version, 1u);
  auto d = kms_->Decrypt(kms_->Administrator(), *c, kCtx);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->plaintext.RevealSecretForUse(), "hello world");
  EXPECT_EQ(d->key_id, k.key_id);
  // By key ARN and by alias ARN too.
  EXPECT_TRUE(kms_->Encrypt(kms_->Administrator(), k.arn, "x", kCtx).ok());
  EXPECT_TRUE(kms_->Encrypt(kms_->Administrator(), "arn:aws:kms:eu-west-1:000000000000:alias/app",
                            "x", kCtx)
                  .ok());
}

TEST_F(KmsTest, EncryptionContextMustMatchExactly) {
  NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "secret", kCtx);
  ASSERT_TRUE(c.ok());
  for (const EncryptionContext& wrong :
       {EncryptionContext{}, EncryptionContext{{"purpose", "test"}},
        EncryptionContext{{"purpose", "test"}, {"tenant", "other"}},
        EncryptionContext{{"purpose", "test"}, {"tenant", "none"}, {"extra", "1"}}}) {
    auto d = kms_->Decrypt(kms_->Administrator(), *c, wrong);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(d.status().message().find("encryption context"), std::string::npos);
    EXPECT_EQ(Last().outcome, "InvalidCiphertextException");
  }
}

TEST_F(KmsTest, TamperedCiphertextFails) {
  NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "secret", kCtx);
  ASSERT_TRUE(c.ok());
  for (size_t i = 0; i < c->size(); i += 7) {
    std::string t = *c;
    t[i] ^= 0x01;
    EXPECT_FALSE(kms_->Decrypt(kms_->Administrator(), t, kCtx).ok()) << "byte " << i;
  }
  EXPECT_EQ(kms_->Decrypt(kms_->Administrator(), "not a ciphertext", kCtx).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(KmsTest, DefaultKeyPolicyDelegatesToIam) {
  NewKey("alias/app");
  KeyCaller allowed = User("alice", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                                    R"("Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]})");
  KeyCaller none = User("bob", "");
  EXPECT_TRUE(kms_->Encrypt(allowed, "alias/app", "x", kCtx).ok());
  auto denied = kms_->Encrypt(none, "alias/app", "x", kCtx);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find(
                "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: "
                "kms:Encrypt"),
            std::string::npos)
      << denied.status().message();
  EXPECT_EQ(Last().outcome, "AccessDeniedException");
  EXPECT_EQ(Last().caller_arn, "arn:aws:iam::000000000000:user/bob");
}

TEST_F(KmsTest, IdentityPolicyAloneDoesNotGrantUseOfAKeyWhosePolicyIgnoresTheCaller) {
  auto t = kms_->CreateTenant(kms_->Administrator(), "a", kRoleA);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  KeyCaller admin_user = User("root-like", R"({"Version":"2012-10-17","Statement":[{"Effect":)"
                                           R"("Allow","Action":"kms:*","Resource":"*"}]})");
  auto d = kms_->Encrypt(admin_user, t->key_id, "x", TenantContext("a", "test"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(d.status().message().find("no key policy statement allows"), std::string::npos);
}

TEST_F(KmsTest, CrossTenantMatrix) {
  auto a = kms_->CreateTenant(kms_->Administrator(), "a", kRoleA);
  auto b = kms_->CreateTenant(kms_->Administrator(), "b", kRoleB);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key_id, b->key_id);
  const KeyCaller session_a = Session(kRoleA);
  const KeyCaller session_b = Session(kRoleB);

  // Each tenant's session can use its own key with its own tenant context.
  auto ca =
      kms_->Encrypt(session_a, "alias/perimeter/tenant/a", "A's data", TenantContext("a", "vault"));
  auto cb =
      kms_->Encrypt(session_b, "alias/perimeter/tenant/b", "B's data", TenantContext("b", "vault"));
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ASSERT_TRUE(cb.ok()) << cb.status().ToString();
  EXPECT_TRUE(kms_->Decrypt(session_a, *ca, TenantContext("a", "vault")).ok());

  // A's session asking to use B's key, in any context, is refused by B's key policy.
  for (const auto& ctx : {TenantContext("a", "vault"), TenantContext("b", "vault")}) {
    auto enc = kms_->Encrypt(session_a, "alias/perimeter/tenant/b", "x", ctx);
    EXPECT_EQ(enc.status().code(), StatusCode::kPermissionDenied);
    auto dec = kms_->Decrypt(session_a, *cb, ctx);
    EXPECT_EQ(dec.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(Last().outcome, "AccessDeniedException");
    EXPECT_EQ(Last().tenant, "b");
  }
  // A's own key with B's tenant in the context is refused too (the condition names the tenant).
  EXPECT_EQ(kms_->Encrypt(session_a, "alias/perimeter/tenant/a", "x", TenantContext("b", "vault"))
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  // The gateway may use each key only in its own tenant's context.
  EXPECT_TRUE(kms_->Decrypt(kms_->Gateway(), *cb, TenantContext("b", "vault")).ok());
  EXPECT_EQ(kms_->Decrypt(kms_->Gateway(), *cb, TenantContext("a", "vault")).status().code(),
            StatusCode::kPermissionDenied);
  // B's ciphertext copied into A's records: opened as A's (expected key A) it fails.
  auto copied =
      kms_->Decrypt(kms_->Gateway(), *cb, TenantContext("a", "vault"), "alias/perimeter/tenant/a");
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(Last().outcome, "IncorrectKeyException");
  // Administrators manage tenant keys but cannot decrypt with them.
  EXPECT_TRUE(kms_->DescribeKey(kms_->Administrator(), "alias/perimeter/tenant/a").ok());
  EXPECT_TRUE(kms_->RotateKeyOnDemand(kms_->Administrator(), "alias/perimeter/tenant/a").ok());
  EXPECT_EQ(kms_->Decrypt(kms_->Administrator(), *ca, TenantContext("a", "vault")).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(KmsTest, RotationKeepsOldVersionsDecryptingAndReEncryptMovesForward) {
  KeyRecord k = NewKey("alias/app");
  auto v1 = kms_->Encrypt(kms_->Administrator(), "alias/app", "one", kCtx);
  ASSERT_TRUE(v1.ok());
  auto rotated = kms_->RotateKeyOnDemand(kms_->Administrator(), "alias/app");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->current_version, 2u);
  auto v2 = kms_->Encrypt(kms_->Administrator(), "alias/app", "two", kCtx);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(ParseCiphertext(*v2)->key_version, 2u);
  auto d1 = kms_->Decrypt(kms_->Administrator(), *v1, kCtx);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(d1->plaintext.RevealSecretForUse(), "one");
  EXPECT_EQ(d1->key_version, 1u);
  auto moved = kms_->ReEncrypt(kms_->Administrator(), *v1, kCtx, "alias/app", kCtx);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(ParseCiphertext(*moved)->key_version, 2u);
  EXPECT_EQ(kms_->Decrypt(kms_->Administrator(), *moved, kCtx)->plaintext.RevealSecretForUse(),
            "one");
  auto versions = memory_->ListVersions(k.key_id);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 2u);
}

TEST_F(KmsTest, AutomaticRotationOnThePeriod) {
  CreateKeyRequest r;
  r.alias = "alias/auto";
  r.rotation_period = hours(24 * 90);
  auto k = kms_->CreateKey(kms_->Administrator(), r);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->next_rotation_at, k->created_at + 90 * 86400);
  clock_.Advance(hours(24 * 89));
  ASSERT_TRUE(kms_->RunMaintenance()->rotated.empty());
  clock_.Advance(hours(24));
  auto report = kms_->RunMaintenance();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rotated.size(), 1u);
  EXPECT_EQ(Last().operation, "RotateKey");
  EXPECT_EQ(Last().caller_arn, "perimeter.internal");
  EXPECT_EQ(Last().key_version, 2u);
  auto d = kms_->DescribeKey(kms_->Administrator(), "alias/auto");
  EXPECT_EQ(d->current_version, 2u);
  EXPECT_EQ(d->next_rotation_at, d->last_rotated_at + 90 * 86400);
  // Periods outside AWS's bounds are refused.
  r.alias = "alias/bad";
  r.rotation_period = hours(24 * 30);
  EXPECT_EQ(kms_->CreateKey(kms_->Administrator(), r).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(KmsTest, DisableAndEnable) {
  NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  ASSERT_TRUE(kms_->DisableKey(kms_->Administrator(), "alias/app").ok());
  auto d = kms_->Decrypt(kms_->Administrator(), *c, kCtx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("is disabled"), std::string::npos);
  EXPECT_EQ(Last().outcome, "DisabledException");
  ASSERT_TRUE(kms_->EnableKey(kms_->Administrator(), "alias/app").ok());
  EXPECT_TRUE(kms_->Decrypt(kms_->Administrator(), *c, kCtx).ok());
}

TEST_F(KmsTest, DeletionWindowCancelAndCryptoShredding) {
  KeyRecord k = NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  EXPECT_EQ(kms_->ScheduleKeyDeletion(kms_->Administrator(), "alias/app", 6).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(kms_->ScheduleKeyDeletion(kms_->Administrator(), "alias/app", 31).status().code(),
            StatusCode::kInvalidArgument);
  auto pending = kms_->ScheduleKeyDeletion(kms_->Administrator(), "alias/app", 7);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state, KeyState::kPendingDeletion);
  auto d = kms_->Decrypt(kms_->Administrator(), *c, kCtx);
  EXPECT_NE(d.status().message().find("pending deletion"), std::string::npos);
  EXPECT_EQ(Last().outcome, "KMSInvalidStateException");
  // Cancel: back to Disabled, then enable.
  auto cancelled = kms_->CancelKeyDeletion(kms_->Administrator(), "alias/app");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, KeyState::kDisabled);
  ASSERT_TRUE(kms_->EnableKey(kms_->Administrator(), "alias/app").ok());
  EXPECT_TRUE(kms_->Decrypt(kms_->Administrator(), *c, kCtx).ok());
  // Schedule again and let the window pass.
  ASSERT_TRUE(kms_->ScheduleKeyDeletion(kms_->Administrator(), "alias/app", 30).ok());
  clock_.Advance(hours(24 * 30) - seconds(1));
  EXPECT_TRUE(kms_->RunMaintenance()->destroyed.empty());
  clock_.Advance(seconds(1));
  auto report = kms_->RunMaintenance();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->destroyed, std::vector<std::string>{k.key_id});
  EXPECT_TRUE(memory_->ListVersions(k.key_id)->empty());
  auto after = kms_->Decrypt(kms_->Administrator(), *c, kCtx);
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("was destroyed on"), std::string::npos);
  EXPECT_NE(after.status().message().find("crypto-shredded"), std::string::npos);
  EXPECT_EQ(kms_->CancelKeyDeletion(kms_->Administrator(), "alias/app").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(kms_->EnableKey(kms_->Administrator(), "alias/app").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(KmsTest, DataKeyCacheReusesWithinAgeAndUses) {
  DataKeyCacheOptions cache;
  cache.max_uses = 3;
  cache.max_age = seconds(60);
  Build(cache);
  NewKey("alias/app");
  std::vector<std::string> wrapped;
  for (int i = 0; i < 4; ++i) {
    auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
    ASSERT_TRUE(c.ok());
    wrapped.emplace_back(ParseCiphertext(*c)->wrapped_data_key);
  }
  EXPECT_EQ(wrapped[0], wrapped[1]);
  EXPECT_EQ(wrapped[1], wrapped[2]);
  EXPECT_NE(wrapped[2], wrapped[3]);  // max_uses reached
  clock_.Advance(seconds(61));
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  EXPECT_NE(std::string(ParseCiphertext(*c)->wrapped_data_key), wrapped[3]);  // max_age passed
  // A different context never shares a data key.
  auto other = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", {{"purpose", "other"}});
  EXPECT_NE(ParseCiphertext(*other)->wrapped_data_key, ParseCiphertext(*c)->wrapped_data_key);
  EXPECT_GT(kms_->cache_hits(), 0u);

  DataKeyCacheOptions off;
  off.enabled = false;
  Build(off);
  NewKey("alias/app");
  auto x = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  auto y = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  EXPECT_NE(ParseCiphertext(*x)->wrapped_data_key, ParseCiphertext(*y)->wrapped_data_key);
  EXPECT_EQ(kms_->cache_hits(), 0u);
}

TEST_F(KmsTest, GenerateDataKeyAndExpectedKey) {
  KeyRecord k = NewKey("alias/app");
  NewKey("alias/other");
  auto dk = kms_->GenerateDataKey(kms_->Administrator(), "alias/app", kCtx);
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(dk->plaintext.size(), 32u);
  EXPECT_EQ(dk->key_id, k.key_id);
  auto d = kms_->Decrypt(kms_->Administrator(), dk->ciphertext, kCtx, "alias/app");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->plaintext.RevealSecretForUse(), dk->plaintext.RevealSecretForUse());
  EXPECT_FALSE(kms_->Decrypt(kms_->Administrator(), dk->ciphertext, kCtx, "alias/other").ok());
  EXPECT_EQ(Last().outcome, "IncorrectKeyException");
  EXPECT_EQ(kms_->GenerateDataKey(kms_->Administrator(), "alias/app", kCtx, 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(KmsTest, EveryOperationIsRecordedWithoutSecrets) {
  NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "top secret value", kCtx);
  ASSERT_TRUE(kms_->Decrypt(kms_->Administrator(), *c, kCtx).ok());
  auto events = audit_->events();
  ASSERT_EQ(events.size(), 3u);  // CreateKey, Encrypt, Decrypt
  EXPECT_EQ(events[0].operation, "CreateKey");
  EXPECT_EQ(events[1].operation, "Encrypt");
  EXPECT_EQ(events[2].operation, "Decrypt");
  for (const auto& e : events) {
    EXPECT_EQ(e.outcome, "Success");
    EXPECT_EQ(e.caller_arn, "arn:aws:iam::000000000000:root");
    std::string json = KeyUseEventJson(e);
    EXPECT_EQ(json.find("top secret"), std::string::npos);
  }
  EXPECT_EQ(events[1].encryption_context, kCtx);
  EXPECT_EQ(events[2].key_version, 1u);
}

TEST_F(KmsTest, FailsClosedWhenTheEventCannotBeRecorded) {
  NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  audit_->SetFailing(true);
  auto d = kms_->Decrypt(kms_->Administrator(), *c, kCtx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx).ok());
}

TEST_F(KmsTest, FailedWritesLeaveNothingHalfDone) {
  KeyRecord k = NewKey("alias/app");
  auto c = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  store_->FailNextWrite();
  auto rotated = kms_->RotateKeyOnDemand(kms_->Administrator(), "alias/app");
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(memory_->GetKey(k.key_id)->value().current_version, 1u);
  EXPECT_EQ(memory_->ListVersions(k.key_id)->size(), 1u);
  auto again = kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx);
  EXPECT_EQ(ParseCiphertext(*again)->key_version, 1u);
  EXPECT_TRUE(kms_->Decrypt(kms_->Administrator(), *c, kCtx).ok());

  store_->FailNextWrite();
  EXPECT_FALSE(kms_->DisableKey(kms_->Administrator(), "alias/app").ok());
  EXPECT_EQ(memory_->GetKey(k.key_id)->value().state, KeyState::kEnabled);
  EXPECT_TRUE(kms_->Encrypt(kms_->Administrator(), "alias/app", "x", kCtx).ok());

  store_->FailNextWrite();
  EXPECT_FALSE(kms_->CreateKey(kms_->Administrator(), WithAlias("alias/new")).ok());
  EXPECT_FALSE(memory_->GetKeyByAlias("alias/new")->has_value());

  // Tenant creation: the tenant record fails after the key was written; a retry completes it
  // with the same key instead of leaving a second one.
  store_->FailNextWrite(1);
  EXPECT_FALSE(kms_->CreateTenant(kms_->Administrator(), "a", kRoleA).ok());
  EXPECT_FALSE(memory_->GetTenant("a")->has_value());
  auto t = kms_->CreateTenant(kms_->Administrator(), "a", kRoleA);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  size_t tenant_keys = 0;
  auto keys = memory_->ListKeys();
  ASSERT_TRUE(keys.ok());
  for (const auto& key : *keys) tenant_keys += key.alias == "alias/perimeter/tenant/a";
  EXPECT_EQ(tenant_keys, 1u);
  EXPECT_EQ(memory_->GetKeyByAlias("alias/perimeter/tenant/a")->value().key_id, t->key_id);
}

TEST_F(KmsTest, TenantsAreNeverReusedAndDeletionShredsTheirData) {
  auto a = kms_->CreateTenant(kms_->Administrator(), "a", kRoleA);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(kms_->CreateTenant(kms_->Administrator(), "a", kRoleA).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(kms_->CreateTenant(kms_->Administrator(), "Bad_Id", kRoleA).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(kms_->CreateTenant(kms_->Administrator(), "c", "arn:aws:iam::1:user/x").status().code(),
            StatusCode::kInvalidArgument);
  auto c = kms_->Encrypt(kms_->Gateway(), "alias/perimeter/tenant/a", "data",
                         TenantContext("a", "vault"));
  ASSERT_TRUE(c.ok());
  auto deleted = kms_->DeleteTenant(kms_->Administrator(), "a", 7);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->state, TenantState::kDeleted);
  EXPECT_EQ(kms_->CreateTenant(kms_->Administrator(), "a", kRoleA).status().code(),
            StatusCode::kAlreadyExists);
  clock_.Advance(hours(24 * 7));
  ASSERT_TRUE(kms_->RunMaintenance().ok());
  auto d = kms_->Decrypt(kms_->Gateway(), *c, TenantContext("a", "vault"));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("crypto-shredded"), std::string::npos);
}

TEST_F(KmsTest, ATenantsKeyFollowsTheRoleTheConfigNames) {
  ASSERT_TRUE(kms_->EnsureTenant("a", kRoleA).ok());
  auto c = kms_->Encrypt(Session(kRoleA), "alias/perimeter/tenant/a", "x", TenantContext("a", "v"));
  ASSERT_TRUE(c.ok());
  // The config now names another role for tenant a: the key policy and the record follow.
  const std::string new_role = "arn:aws:iam::000000000000:role/tenant-a-v2";
  auto moved = kms_->EnsureTenant("a", new_role);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->role_arn, new_role);
  EXPECT_EQ(memory_->GetTenant("a")->value().role_arn, new_role);
  EXPECT_TRUE(kms_->Decrypt(Session(new_role), *c, TenantContext("a", "v")).ok());
  EXPECT_EQ(kms_->Decrypt(Session(kRoleA), *c, TenantContext("a", "v")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Last().outcome, "AccessDeniedException");
}

TEST_F(KmsTest, PutKeyPolicyChecksSyntaxAndLockout) {
  NewKey("alias/app");
  EXPECT_EQ(kms_->PutKeyPolicy(kms_->Administrator(), "alias/app", "{").status().code(),
            StatusCode::kInvalidArgument);
  const std::string lockout =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":)"
      R"("arn:aws:iam::000000000000:user/x"},"Action":"kms:*","Resource":"*"}]})";
  auto refused = kms_->PutKeyPolicy(kms_->Administrator(), "alias/app", lockout);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("unmanageable"), std::string::npos);
  ASSERT_TRUE(kms_->PutKeyPolicy(kms_->Administrator(), "alias/app", lockout, true).ok());
  EXPECT_EQ(kms_->GetKeyPolicy(kms_->Administrator(), "alias/app").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(KmsTest, UnknownKeysAndAliases) {
  EXPECT_EQ(kms_->Encrypt(kms_->Administrator(), "alias/none", "x", kCtx).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(kms_->DescribeKey(kms_->Administrator(), "1234").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(kms_->CreateKey(kms_->Administrator(), WithAlias("alias/aws/x")).status().code(),
            StatusCode::kInvalidArgument);
  NewKey("alias/app");
  EXPECT_EQ(kms_->CreateKey(kms_->Administrator(), WithAlias("alias/app")).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(KmsTest, LocalBackendRefusesMaterialMovedToAnotherVersion) {
  auto root = crypto::RandomBytes(32);
  auto backend = LocalKeyBackend::Create(crypto::SecretBytes::FromAndWipe(&*root));
  ASSERT_TRUE(backend.ok());
  auto gen =
      (*backend)->GenerateMaterial({{"perimeter:key-id", "k"}, {"perimeter:key-version", "1"}});
  ASSERT_TRUE(gen.ok());
  EXPECT_TRUE(
      (*backend)
          ->Unwrap(gen->wrapped, {{"perimeter:key-id", "k"}, {"perimeter:key-version", "1"}})
          .ok());
  EXPECT_EQ((*backend)
                ->Unwrap(gen->wrapped, {{"perimeter:key-id", "k"}, {"perimeter:key-version", "2"}})
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(CanonicalContext({{"a", "bc"}}) == CanonicalContext({{"ab", "c"}}), false);
}

}  // namespace
}  // namespace perimeter::kms

namespace perimeter::kms {
namespace {

class LocalBackendOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kms-open-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::unsetenv("PERIMETER_ROOT_KEY_FILE");
  }
  void TearDown() override {
    ::unsetenv("PERIMETER_ROOT_KEY_FILE");
    std::filesystem::remove_all(dir_);
  }
  std::string WriteKey(const std::string& name, mode_t mode, size_t bytes = 32) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'k');
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(LocalBackendOpenTest, RootKeyFromStateDirPathOrEnvironment) {
  // Default: <state_dir>/root.key, created on first use.
  auto created = LocalKeyBackend::Open(dir_, "");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/root.key"));
  auto wrapped = (*created)->GenerateMaterial({{"k", "v"}});
  ASSERT_TRUE(wrapped.ok());

  // An explicit file: used as is, never created; material wrapped under another root does not
  // unwrap.
  const std::string explicit_key = WriteKey("explicit.key", 0600);
  auto by_path = LocalKeyBackend::Open(dir_, explicit_key);
  ASSERT_TRUE(by_path.ok()) << by_path.status().ToString();
  EXPECT_EQ((*by_path)->Unwrap(wrapped->wrapped, {{"k", "v"}}).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(LocalKeyBackend::Open(dir_, dir_ + "/missing.key").status().code(),
            StatusCode::kFailedPrecondition);

  // The environment variable, when no path is configured.
  ::setenv("PERIMETER_ROOT_KEY_FILE", explicit_key.c_str(), 1);
  auto by_env = LocalKeyBackend::Open(dir_, "");
  ASSERT_TRUE(by_env.ok());
  auto again = (*by_env)->GenerateMaterial({{"k", "v"}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*by_path)->Unwrap(again->wrapped, {{"k", "v"}}).ok());
}

TEST_F(LocalBackendOpenTest, RefusesARootKeyReadableByOthers) {
  const std::string open_key = WriteKey("open.key", 0644);
  auto refused = LocalKeyBackend::Open(dir_, open_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos);
  ::setenv("PERIMETER_ROOT_KEY_FILE", open_key.c_str(), 1);
  EXPECT_FALSE(LocalKeyBackend::Open(dir_, "").ok());
  EXPECT_EQ(LocalKeyBackend::Open(dir_, WriteKey("short.key", 0600, 16)).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace perimeter::kms

namespace perimeter::kms {
namespace {

TEST_F(KmsTest, OnlyTheGatewayUsesTheEnvironmentKey) {
  auto env = kms_->EnvironmentKey();
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->alias, "alias/perimeter/environment");
  auto again = kms_->EnvironmentKey();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->key_id, env->key_id);  // created once
  const EncryptionContext c{{"purpose", "access-key-secret"}, {"access-key-id", "AKIAEXAMPLE"}};
  auto sealed = kms_->Encrypt(kms_->Gateway(), env->key_id, "secret", c);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_TRUE(kms_->Decrypt(kms_->Gateway(), *sealed, c).ok());
  // Not the account root, and not a user whose own policy allows every kms action.
  EXPECT_EQ(kms_->Decrypt(kms_->Administrator(), *sealed, c).status().code(),
            StatusCode::kPermissionDenied);
  KeyCaller all = User("kms-admin", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                                    R"("Action":"kms:*","Resource":"*"}]})");
  EXPECT_EQ(kms_->Decrypt(all, *sealed, c).status().code(), StatusCode::kPermissionDenied);
  // The root still manages it.
  EXPECT_TRUE(kms_->RotateKeyOnDemand(kms_->Administrator(), "alias/perimeter/environment").ok());
}

}  // namespace
}  // namespace perimeter::kms
