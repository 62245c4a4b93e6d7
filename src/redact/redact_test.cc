#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/strings.h"
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

constexpr char kAccount[] = "000000000000";
constexpr char kRegion[] = "eu-west-1";

crypto::SecretBytes SequentialKey() {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i));
  return crypto::SecretBytes::FromAndWipe(&k);
}

crypto::SecretBytes RandomKey() {
  auto bytes = crypto::RandomBytes(32);
  EXPECT_TRUE(bytes.ok());
  return crypto::SecretBytes::FromAndWipe(&*bytes);
}

bool LooksLikeToken(const std::string& token, std::string_view entity) {
  auto parsed = ParseToken(token);
  return parsed && parsed->entity == entity && parsed->hex.size() == 16;
}

// ---- Tokens ------------------------------------------------------------------------------------

TEST(TokenTest, MatchesKnownAnswer) {
  // HMAC-SHA256(key = 00 01 .. 1f, "EMAIL" 00 "alice@example.com"), first 8 bytes (Python hmac).
  const auto key = SequentialKey();
  EXPECT_EQ(ComputeToken(key, "EMAIL", "alice@example.com"), "[EMAIL_f534f52f8f14c528]");
  EXPECT_EQ(ComputeToken(key, "CREDIT_DEBIT_CARD_NUMBER", "4111111111111111"),
            "[CREDIT_DEBIT_CARD_NUMBER_be34ee7083867872]");
}

TEST(TokenTest, IsDeterministicPerKeyAndDistinguishesInputs) {
  const auto key = RandomKey();
  const auto other_key = RandomKey();
  const std::string t = ComputeToken(key, "EMAIL", "alice@example.com");
  EXPECT_TRUE(LooksLikeToken(t, "EMAIL")) << t;
  EXPECT_EQ(ComputeToken(key, "EMAIL", "alice@example.com"), t);
  EXPECT_NE(ComputeToken(key, "EMAIL", "bob@example.com"), t);
  EXPECT_NE(ComputeToken(other_key, "EMAIL", "alice@example.com"), t);
  // Same hash input without the separator would collide: "AB" + "C" vs "A" + "BC".
  EXPECT_NE(ParseToken(ComputeToken(key, "AB", "C"))->hex,
            ParseToken(ComputeToken(key, "A", "BC"))->hex);
  // The entity is part of the MAC, not just the label.
  EXPECT_NE(ParseToken(ComputeToken(key, "EMAIL", "x"))->hex,
            ParseToken(ComputeToken(key, "PHONE", "x"))->hex);
  EXPECT_TRUE(LooksLikeToken(ComputeToken(key, "NG_BVN", "22123456789"), "NG_BVN"));
}

TEST(TokenTest, ValidatesEntityNames) {
  EXPECT_TRUE(IsValidEntityName("EMAIL"));
  EXPECT_TRUE(IsValidEntityName("E"));
  EXPECT_TRUE(IsValidEntityName("CREDIT_DEBIT_CARD_NUMBER"));
  EXPECT_TRUE(IsValidEntityName("NG_BVN"));
  EXPECT_TRUE(IsValidEntityName("A1_"));
  EXPECT_TRUE(IsValidEntityName(std::string(64, 'A')));
  EXPECT_FALSE(IsValidEntityName(std::string(65, 'A')));
  EXPECT_FALSE(IsValidEntityName(""));
  EXPECT_FALSE(IsValidEntityName("email"));
  EXPECT_FALSE(IsValidEntityName("Email"));
  EXPECT_FALSE(IsValidEntityName("1EMAIL"));
  EXPECT_FALSE(IsValidEntityName("_EMAIL"));
  EXPECT_FALSE(IsValidEntityName("E-MAIL"));
  EXPECT_FALSE(IsValidEntityName("EMAIL "));
  EXPECT_FALSE(IsValidEntityName(std::string("EM\0AIL", 6)));
}

TEST(TokenTest, ParsesWellFormedTokens) {
  auto p = ParseToken("[EMAIL_0123456789abcdef]");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->entity, "EMAIL");
  EXPECT_EQ(p->hex, "0123456789abcdef");

  p = ParseToken("[CREDIT_DEBIT_CARD_NUMBER_fedcba9876543210]");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->entity, "CREDIT_DEBIT_CARD_NUMBER");

  p = ParseToken("[A__0000000000000000]");  // entity "A_"
  ASSERT_TRUE(p);
  EXPECT_EQ(p->entity, "A_");

  const std::string longest = "[" + std::string(64, 'Z') + "_0000000000000000]";
  EXPECT_EQ(longest.size(), kMaxTokenChars);
  ASSERT_TRUE(ParseToken(longest));
}

TEST(TokenTest, RejectsMalformedTokens) {
  const std::vector<std::string> bad = {
      "",
      "[]",
      "EMAIL_0123456789abcdef",                           // no brackets
      "[EMAIL_0123456789abcdef",                          // no closing bracket
      "EMAIL_0123456789abcdef]",                          // no opening bracket
      "[EMAIL_0123456789ABCDEF]",                         // upper-case hex
      "[EMAIL_0123456789abcde]",                          // 15 hex digits
      "[EMAIL_0123456789abcdef0]",                        // 17 hex digits
      "[EMAIL_0123456789abcdeg]",                         // not hex
      "[email_0123456789abcdef]",                         // lower-case entity
      "[1EMAIL_0123456789abcdef]",                        // entity starts with a digit
      "[_0123456789abcdef]",                              // empty entity
      "[EMAIL0123456789abcdef]",                          // no separator
      "[EMAIL-0123456789abcdef]",                         // wrong separator
      "[E MAIL_0123456789abcdef]",                        // space in the entity
      " [EMAIL_0123456789abcdef]",                        // leading space
      "[EMAIL_0123456789abcdef] ",                        // trailing space
      "[EMAIL_0123456789abcdef]]",                        // trailing bracket
      "[[EMAIL_0123456789abcdef]",                        // extra opening bracket
      "[" + std::string(65, 'Z') + "_0000000000000000]",  // entity too long
  };
  for (const auto& t : bad) {
    EXPECT_FALSE(ParseToken(t)) << "accepted: " << t;
  }
}

TEST(TokenTest, FindsEveryWellFormedTokenWithOffsets) {
  const std::string a = "[EMAIL_0123456789abcdef]";
  const std::string b = "[NG_BVN_fedcba9876543210]";
  const std::string text = a + " wrote to [PHONE_0123] and " + b + b + ", [[" + a + "]] end " + a;
  const auto spans = FindTokens(text);
  ASSERT_EQ(spans.size(), 5u);
  EXPECT_EQ(spans[0].offset, 0u);
  EXPECT_EQ(spans[0].length, a.size());
  EXPECT_EQ(spans[0].token.entity, "EMAIL");
  EXPECT_EQ(spans[0].token.hex, "0123456789abcdef");
  EXPECT_EQ(spans[1].token.entity, "NG_BVN");
  EXPECT_EQ(spans[2].offset, spans[1].offset + b.size());       // adjacent tokens
  EXPECT_EQ(text.substr(spans[3].offset, spans[3].length), a);  // inside "[[...]]"
  EXPECT_EQ(text[spans[3].offset - 1], '[');
  EXPECT_EQ(spans[4].offset, text.size() - a.size());  // at the very end
  for (const auto& s : spans) {
    EXPECT_TRUE(ParseToken(text.substr(s.offset, s.length)));
  }
}

TEST(TokenTest, FindTokensSkipsLookalikes) {
  EXPECT_TRUE(FindTokens("").empty());
  EXPECT_TRUE(FindTokens("no tokens here").empty());
  EXPECT_TRUE(FindTokens("[EMAIL_0123456789ABCDEF] [email_0123456789abcdef]").empty());
  EXPECT_TRUE(FindTokens("[EMAIL_0123456789abcdef0] [EMAIL_0123456789abcde]").empty());
  EXPECT_TRUE(FindTokens("[EMAIL_0123456789abcdef").empty());
  EXPECT_TRUE(FindTokens("[" + std::string(65, 'Z') + "_0000000000000000]").empty());
  EXPECT_TRUE(FindTokens(std::string(100000, '[')).empty());
  // A very long run of token characters is no token, and the token after it is still found.
  const std::string text = "[" + std::string(100000, 'A') + "] x [EMAIL_0123456789abcdef]";
  const auto spans = FindTokens(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].offset, text.size() - 24);
  // Non-ASCII bytes around a token.
  const auto utf8 = FindTokens("caf\xc3\xa9[EMAIL_0123456789abcdef]\xe2\x82\xac");
  ASSERT_EQ(utf8.size(), 1u);
  EXPECT_EQ(utf8[0].offset, 5u);
}

// ---- Vault -------------------------------------------------------------------------------------

// Forwards to `inner`, but the first GetTenantSecret answers "none": as if another process
// created the token key between our read and our write.
class RacingStore final : public kms::KeyStore {
 public:
  explicit RacingStore(std::shared_ptr<kms::KeyStore> inner) : inner_(std::move(inner)) {}
  int put_secret_results_already_exists = 0;

  Status CreateKey(const kms::KeyRecord& k, const kms::KeyVersionRecord& v) override {
    return inner_->CreateKey(k, v);
  }
  Result<std::optional<kms::KeyRecord>> GetKey(std::string_view id) override {
    return inner_->GetKey(id);
  }
  Result<std::optional<kms::KeyRecord>> GetKeyByAlias(std::string_view a) override {
    return inner_->GetKeyByAlias(a);
  }
  Result<std::vector<kms::KeyRecord>> ListKeys() override { return inner_->ListKeys(); }
  Status UpdateKey(const kms::KeyRecord& k) override { return inner_->UpdateKey(k); }
  Status AddVersion(const kms::KeyRecord& k, const kms::KeyVersionRecord& v) override {
    return inner_->AddVersion(k, v);
  }
  Result<std::vector<kms::KeyVersionRecord>> ListVersions(std::string_view id) override {
    return inner_->ListVersions(id);
  }
  Status DestroyKey(const kms::KeyRecord& k) override { return inner_->DestroyKey(k); }
  Status CreateTenant(const kms::TenantRecord& t) override { return inner_->CreateTenant(t); }
  Result<std::optional<kms::TenantRecord>> GetTenant(std::string_view id) override {
    return inner_->GetTenant(id);
  }
  Result<std::vector<kms::TenantRecord>> ListTenants() override { return inner_->ListTenants(); }
  Status UpdateTenant(const kms::TenantRecord& t) override { return inner_->UpdateTenant(t); }
  Status PutTenantSecret(const kms::TenantSecretRecord& s) override {
    Status st = inner_->PutTenantSecret(s);
    if (st.code() == StatusCode::kAlreadyExists) ++put_secret_results_already_exists;
    return st;
  }
  Result<std::optional<kms::TenantSecretRecord>> GetTenantSecret(std::string_view t,
                                                                 std::string_view p) override {
    if (!hid_once_) {
      hid_once_ = true;
      return std::optional<kms::TenantSecretRecord>();
    }
    return inner_->GetTenantSecret(t, p);
  }
  Status PutVaultEntry(const kms::VaultEntry& e) override { return inner_->PutVaultEntry(e); }
  Result<std::optional<kms::VaultEntry>> GetVaultEntry(std::string_view t,
                                                       std::string_view token) override {
    return inner_->GetVaultEntry(t, token);
  }
  Result<std::vector<kms::VaultEntry>> ListVaultEntries(std::string_view t) override {
    return inner_->ListVaultEntries(t);
  }
  Status EraseVaultEntry(std::string_view t, std::string_view token, int64_t now) override {
    return inner_->EraseVaultEntry(t, token, now);
  }
  Result<uint64_t> ChangeCounter() override { return inner_->ChangeCounter(); }

 private:
  std::shared_ptr<kms::KeyStore> inner_;
  bool hid_once_ = false;
};

class VaultTest : public ::testing::Test {
 protected:
  VaultTest()
      : clock_(std::chrono::system_clock::time_point(std::chrono::seconds(1800000000))),
        store_(std::make_shared<kms::MemoryKeyStore>()),
        kms_audit_(std::make_shared<kms::MemoryKeyAuditSink>()),
        vault_audit_(std::make_shared<kms::MemoryKeyAuditSink>()) {
    auto backend = kms::LocalKeyBackend::Create(RandomKey());
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    std::vector<std::shared_ptr<kms::KeyBackend>> backends;
    backends.push_back(std::shared_ptr<kms::KeyBackend>(std::move(*backend)));
    kms::KmsOptions options;
    options.region = kRegion;
    options.account_id = kAccount;
    kms_ = std::make_shared<kms::Kms>(store_, std::move(backends), "local", kms_audit_, clock_,
                                      options);
    auto a =
        kms_->CreateTenant(kms_->Administrator(), "a", "arn:aws:iam::000000000000:role/tenant-a");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    auto b =
        kms_->CreateTenant(kms_->Administrator(), "b", "arn:aws:iam::000000000000:role/tenant-b");
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    vault_ = NewVault();
  }

  std::unique_ptr<Vault> NewVault() {
    return std::make_unique<Vault>(kms_, store_, vault_audit_, clock_, kRegion, kAccount);
  }

  static kms::KeyCaller User(std::string name, std::vector<std::string> policies = {}) {
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

  static std::string Allow(std::string actions, std::string resource) {
    return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)" + actions +
           R"(,"Resource":")" + resource + R"("}]})";
  }

  // May reveal and erase in tenant a only.
  kms::KeyCaller AliceOfA() const {
    return User("alice", {Allow(R"(["perimeter:RevealToken","perimeter:EraseToken"])",
                                "arn:aws:perimeter:eu-west-1:000000000000:vault/a")});
  }

  std::string Tokenize(std::string_view tenant, std::string_view entity, std::string_view value) {
    auto t = vault_->Tokenize(tenant, entity, value);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : std::string();
  }

  std::vector<kms::KeyUseEvent> VaultEvents(std::string_view operation) const {
    std::vector<kms::KeyUseEvent> out;
    for (auto& e : vault_audit_->events()) {
      if (e.operation == operation) out.push_back(e);
    }
    return out;
  }

  static std::string Plain(const crypto::SecretBytes& s) {
    return std::string(s.RevealSecretForUse());
  }

  ManualClock clock_;
  std::shared_ptr<kms::MemoryKeyStore> store_;
  std::shared_ptr<kms::MemoryKeyAuditSink> kms_audit_;
  std::shared_ptr<kms::MemoryKeyAuditSink> vault_audit_;
  std::shared_ptr<kms::Kms> kms_;
  std::unique_ptr<Vault> vault_;
};

TEST_F(VaultTest, TokensAreDeterministicWithinATenantAndDifferAcrossTenants) {
  const std::string a1 = Tokenize("a", "EMAIL", "alice@example.com");
  const std::string a2 = Tokenize("a", "EMAIL", "alice@example.com");
  const std::string b1 = Tokenize("b", "EMAIL", "alice@example.com");
  EXPECT_TRUE(LooksLikeToken(a1, "EMAIL")) << a1;
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b1);
  EXPECT_NE(Tokenize("a", "EMAIL", "bob@example.com"), a1);
  // A fresh vault (cold cache) reads the stored token key and agrees.
  EXPECT_EQ(NewVault()->Tokenize("a", "EMAIL", "alice@example.com").value(), a1);
}

TEST_F(VaultTest, FindOwnerNamesTheOtherTenantWhoseVaultHoldsTheValue) {
  Tokenize("b", "EMAIL", "bola@bank-b.example");
  Tokenize("a", "EMAIL", "ada@bank-a.example");
  auto owner = vault_->FindOwner("EMAIL", "bola@bank-b.example", "a");
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  ASSERT_TRUE(owner->has_value());
  EXPECT_EQ(**owner, "b");
  // The asking tenant's own value is not "another tenant's".
  auto own = vault_->FindOwner("EMAIL", "ada@bank-a.example", "a");
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->has_value());
  // Unknown values, and the same value as another entity type, belong to nobody.
  EXPECT_FALSE(vault_->FindOwner("EMAIL", "nobody@example.com", "a")->has_value());
  EXPECT_FALSE(vault_->FindOwner("PHONE", "bola@bank-b.example", "a")->has_value());
  // An erased value still belongs to its tenant.
  const std::string token = Tokenize("b", "NG_BVN", "22123456789");
  const kms::KeyCaller eraser = User(
      "eraser",
      {Allow(R"(["perimeter:EraseToken"])", "arn:aws:perimeter:eu-west-1:000000000000:vault/b")});
  ASSERT_TRUE(vault_->Erase(eraser, "b", token).ok());
  EXPECT_EQ(vault_->FindOwner("NG_BVN", "22123456789", "a")->value_or(""), "b");
}

TEST_F(VaultTest, FindOwnerCreatesNoTokenKeyForTenantsWithAnEmptyVault) {
  Tokenize("a", "EMAIL", "ada@bank-a.example");
  ASSERT_TRUE(vault_->FindOwner("EMAIL", "x@example.com", "a").ok());
  auto secret = store_->GetTenantSecret("b", "redaction-token-key");
  ASSERT_TRUE(secret.ok());
  EXPECT_FALSE(secret->has_value());
}

TEST_F(VaultTest, StoresTheTokenKeyWrappedUnderTheTenantKey) {
  Tokenize("a", "EMAIL", "alice@example.com");
  auto secret = store_->GetTenantSecret("a", "redaction-token-key");
  ASSERT_TRUE(secret.ok());
  ASSERT_TRUE(secret->has_value());
  auto key =
      kms_->Decrypt(kms_->Gateway(), (*secret)->ciphertext,
                    kms::TenantContext("a", "redaction-token-key"), "alias/perimeter/tenant/a");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_EQ(key->plaintext.size(), 32u);
  EXPECT_EQ(ComputeToken(key->plaintext, "EMAIL", "alice@example.com"),
            Tokenize("a", "EMAIL", "alice@example.com"));
  // B has its own.
  Tokenize("b", "EMAIL", "alice@example.com");
  auto other = store_->GetTenantSecret("b", "redaction-token-key");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_NE((*other)->ciphertext, (*secret)->ciphertext);
}

TEST_F(VaultTest, UsesTheStoredTokenKeyWhenAnotherWriterWonTheRace) {
  const std::string expected = Tokenize("a", "EMAIL", "alice@example.com");
  auto racing = std::make_shared<RacingStore>(store_);
  Vault loser(kms_, racing, vault_audit_, clock_, kRegion, kAccount);
  auto token = loser.Tokenize("a", "EMAIL", "alice@example.com");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(racing->put_secret_results_already_exists, 1);
  EXPECT_EQ(*token, expected);
}

TEST_F(VaultTest, TokenizeStoresTheValueEncrypted) {
  const std::string value = "alice@example.com";
  const std::string token = Tokenize("a", "EMAIL", value);
  auto entry = store_->GetVaultEntry("a", token);
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(entry->has_value());
  const kms::VaultEntry stored = **entry;
  EXPECT_EQ(stored.tenant_id, "a");
  EXPECT_EQ(stored.entity, "EMAIL");
  EXPECT_EQ(stored.erased_at, 0);
  EXPECT_EQ(stored.created_at, 1800000000);
  EXPECT_FALSE(stored.ciphertext.empty());
  EXPECT_EQ(stored.ciphertext.find(value), std::string::npos);
  EXPECT_EQ(stored.ciphertext.find("alice"), std::string::npos);
  // It decrypts only with the vault context that names tenant and token.
  auto plain = kms_->Decrypt(kms_->Gateway(), stored.ciphertext,
                             {{"tenant", "a"}, {"purpose", "vault"}, {"token", token}});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(Plain(plain->plaintext), value);
  EXPECT_FALSE(
      kms_->Decrypt(kms_->Gateway(), stored.ciphertext,
                    {{"tenant", "a"}, {"purpose", "vault"}, {"token", "[EMAIL_0000000000000000]"}})
          .ok());

  // Tokenizing again neither duplicates nor rewrites the entry.
  Tokenize("a", "EMAIL", value);
  auto list = vault_->List("a");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].token, token);
  EXPECT_TRUE((*list)[0].ciphertext.empty());  // List gives metadata only
  EXPECT_EQ(store_->GetVaultEntry("a", token).value()->ciphertext, stored.ciphertext);
}

TEST_F(VaultTest, TokenizeRejectsBadInput) {
  EXPECT_EQ(vault_->Tokenize("", "EMAIL", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->Tokenize("A", "EMAIL", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->Tokenize("a/../b", "EMAIL", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->Tokenize("a", "email", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->Tokenize("a", "EMAIL", "").status().code(), StatusCode::kInvalidArgument);
  // A tenant the KMS does not know has no key.
  EXPECT_EQ(vault_->Tokenize("nobody", "EMAIL", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(VaultTest, RevealAllowedByIdentityPolicy) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  auto value = vault_->Reveal(AliceOfA(), "a", token);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(Plain(*value), "alice@example.com");

  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "Success");
  EXPECT_EQ(events[0].caller_arn, "arn:aws:iam::000000000000:user/alice");
  EXPECT_EQ(events[0].tenant, "a");
  EXPECT_EQ(events[0].encryption_context,
            (std::map<std::string, std::string>{{"tenant", "a"}, {"token", token}}));
  EXPECT_FALSE(events[0].key_id.empty());
  EXPECT_EQ(events[0].key_version, 1u);
  EXPECT_EQ(events[0].time, clock_.Now());
  EXPECT_EQ(kms::KeyUseEventJson(events[0]).find("alice@example.com"), std::string::npos);
}

TEST_F(VaultTest, RevealDeniedForAnotherTenantsVaultAndRecorded) {
  const std::string token_b = Tokenize("b", "EMAIL", "bob@example.com");
  auto denied = vault_->Reveal(AliceOfA(), "b", token_b);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.status().message(),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "perimeter:RevealToken on resource: arn:aws:perimeter:eu-west-1:000000000000:vault/b "
            "because no identity-based policy allows the perimeter:RevealToken action");

  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "AccessDeniedException");
  EXPECT_EQ(events[0].tenant, "b");
  EXPECT_EQ(events[0].encryption_context.at("token"), token_b);
  EXPECT_EQ(kms::KeyUseEventJson(events[0]).find("bob@example.com"), std::string::npos);

  // The token of B is not in A's vault either.
  EXPECT_EQ(vault_->Reveal(AliceOfA(), "a", token_b).status().code(), StatusCode::kNotFound);
}

TEST_F(VaultTest, RevealDeniedWithoutAnyPolicy) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  for (const auto& caller : {User("mallory"), kms_->Gateway()}) {
    auto denied = vault_->Reveal(caller, "a", token);
    EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << caller.arn;
    EXPECT_THAT(denied.status().message(), HasSubstr("is not authorized to perform: "
                                                     "perimeter:RevealToken"));
  }
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].caller_arn, "arn:aws:iam::000000000000:user/mallory");
  EXPECT_EQ(events[0].outcome, "AccessDeniedException");
  EXPECT_EQ(events[1].outcome, "AccessDeniedException");
}

TEST_F(VaultTest, RevealHonoursExplicitDenyBoundaryAndConditionKeys) {
  const std::string token_a = Tokenize("a", "EMAIL", "alice@example.com");
  const std::string token_b = Tokenize("b", "EMAIL", "bob@example.com");

  // Explicit deny beats an allow.
  auto carol = User("carol", {Allow(R"("perimeter:*")", "*"),
                              R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
                                  "Action":"perimeter:RevealToken",
                                  "Resource":"arn:aws:perimeter:*:*:vault/b"}]})"});
  EXPECT_TRUE(vault_->Reveal(carol, "a", token_a).ok());
  auto denied = vault_->Reveal(carol, "b", token_b);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("explicit deny"));

  // A permissions boundary caps the identity policy.
  auto bounded = User("dave", {Allow(R"("perimeter:RevealToken")", "*")});
  bounded.boundaries.push_back(policy::NamedPolicy{
      "boundary",
      policy::Policy::Parse(Allow(R"("perimeter:EraseToken")", "*"), policy::PolicyKind::kIdentity)
          .value()});
  EXPECT_EQ(vault_->Reveal(bounded, "a", token_a).status().code(), StatusCode::kPermissionDenied);

  // perimeter:TenantId and aws:PrincipalTag are in the context.
  auto by_tenant = User("erin", {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Action":"perimeter:RevealToken","Resource":"*",
      "Condition":{"StringEquals":{"perimeter:TenantId":"a"}}}]})"});
  EXPECT_TRUE(vault_->Reveal(by_tenant, "a", token_a).ok());
  EXPECT_EQ(vault_->Reveal(by_tenant, "b", token_b).status().code(), StatusCode::kPermissionDenied);

  auto by_tag = User("frank", {Allow(R"("perimeter:RevealToken")",
                                     "arn:aws:perimeter:*:*:vault/${aws:PrincipalTag/tenant}")});
  by_tag.tags["tenant"] = "b";
  EXPECT_TRUE(vault_->Reveal(by_tag, "b", token_b).ok());
  EXPECT_EQ(vault_->Reveal(by_tag, "a", token_a).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(VaultTest, RevealRejectsMalformedInputWithoutLoggingIt) {
  Tokenize("a", "EMAIL", "alice@example.com");
  auto bad = vault_->Reveal(AliceOfA(), "a", "alice@example.com");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find("alice@example.com"), std::string::npos);
  EXPECT_EQ(vault_->Reveal(AliceOfA(), "A", "[EMAIL_0123456789abcdef]").status().code(),
            StatusCode::kInvalidArgument);
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, "ValidationException");
  EXPECT_EQ(events[0].encryption_context.count("token"), 0u);
  EXPECT_EQ(kms::KeyUseEventJson(events[0]).find("alice@example.com"), std::string::npos);
  EXPECT_TRUE(events[1].tenant.empty());
}

TEST_F(VaultTest, RevealOfAnUnknownTokenIsNotFound) {
  auto missing = vault_->Reveal(AliceOfA(), "a", "[EMAIL_0123456789abcdef]");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "NotFoundException");
}

TEST_F(VaultTest, CiphertextCopiedFromAnotherTenantDoesNotReveal) {
  const std::string token_b = Tokenize("b", "EMAIL", "bob@example.com");
  const std::string ciphertext_b = store_->GetVaultEntry("b", token_b).value()->ciphertext;
  // Same token string, and a made-up one, both pointing at B's ciphertext inside A's vault.
  for (const std::string& token : {token_b, std::string("[EMAIL_0000000000000000]")}) {
    ASSERT_TRUE(
        store_->PutVaultEntry(kms::VaultEntry{"a", token, "EMAIL", ciphertext_b, 1800000000, 0})
            .ok());
    auto stolen = vault_->Reveal(AliceOfA(), "a", token);
    ASSERT_FALSE(stolen.ok()) << token;
    EXPECT_THAT(stolen.status().message(), HasSubstr("cannot decrypt"));
    EXPECT_EQ(stolen.status().message().find("bob@example.com"), std::string::npos);
  }
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].outcome, "InvalidCiphertextException");
  EXPECT_EQ(events[1].outcome, "InvalidCiphertextException");
}

TEST_F(VaultTest, EraseThenRevealSaysErased) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(vault_->Erase(AliceOfA(), "a", token).ok());
  auto entry = store_->GetVaultEntry("a", token).value();
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->ciphertext.empty());
  EXPECT_EQ(entry->erased_at, 1800003600);

  clock_.Advance(std::chrono::hours(1));
  auto erased = vault_->Reveal(AliceOfA(), "a", token);
  EXPECT_EQ(erased.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(erased.status().message(), HasSubstr("erased on 2027-01-15T09:00:00Z"));
  EXPECT_THAT(erased.status().message(), HasSubstr("only the token remains"));

  // Erasing again keeps the first date; tokenizing the value again gives the same token and
  // does not bring the value back.
  ASSERT_TRUE(vault_->Erase(AliceOfA(), "a", token).ok());
  EXPECT_EQ(store_->GetVaultEntry("a", token).value()->erased_at, 1800003600);
  EXPECT_EQ(Tokenize("a", "EMAIL", "alice@example.com"), token);
  EXPECT_EQ(vault_->Reveal(AliceOfA(), "a", token).status().code(),
            StatusCode::kFailedPrecondition);

  const auto erases = VaultEvents("EraseToken");
  ASSERT_EQ(erases.size(), 2u);
  EXPECT_EQ(erases[0].outcome, "Success");
  EXPECT_EQ(erases[0].encryption_context.at("token"), token);
  const auto reveals = VaultEvents("RevealToken");
  ASSERT_EQ(reveals.size(), 2u);
  EXPECT_EQ(reveals[0].outcome, "ValueErasedException");
}

TEST_F(VaultTest, EraseNeedsItsOwnPermission) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  auto reader = User("reader", {Allow(R"("perimeter:RevealToken")", "*")});
  Status denied = vault_->Erase(reader, "a", token);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("perimeter:EraseToken on resource: "
                                          "arn:aws:perimeter:eu-west-1:000000000000:vault/a"));
  auto value = vault_->Reveal(reader, "a", token);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(Plain(*value), "alice@example.com");
  const auto erases = VaultEvents("EraseToken");
  ASSERT_EQ(erases.size(), 1u);
  EXPECT_EQ(erases[0].outcome, "AccessDeniedException");

  EXPECT_EQ(vault_->Erase(AliceOfA(), "a", "[EMAIL_0123456789abcdef]").code(),
            StatusCode::kNotFound);
}

TEST_F(VaultTest, TokenKeySurvivesRotationOfTheTenantKey) {
  const std::string before = Tokenize("a", "EMAIL", "alice@example.com");
  auto rotated = kms_->RotateKeyOnDemand(kms_->Administrator(), "alias/perimeter/tenant/a");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  ASSERT_EQ(rotated->current_version, 2u);

  auto cold = NewVault();  // unwraps the token key again, after the rotation
  EXPECT_EQ(cold->Tokenize("a", "EMAIL", "alice@example.com").value(), before);
  EXPECT_EQ(vault_->Tokenize("a", "EMAIL", "alice@example.com").value(), before);

  auto old_value = cold->Reveal(AliceOfA(), "a", before);
  ASSERT_TRUE(old_value.ok()) << old_value.status().ToString();
  EXPECT_EQ(Plain(*old_value), "alice@example.com");

  const std::string after = cold->Tokenize("a", "PHONE", "+44 20 7946 0000").value();
  auto new_value = cold->Reveal(AliceOfA(), "a", after);
  ASSERT_TRUE(new_value.ok()) << new_value.status().ToString();
  EXPECT_EQ(Plain(*new_value), "+44 20 7946 0000");
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].key_version, 1u);
  EXPECT_EQ(events[1].key_version, 2u);
}

TEST_F(VaultTest, RevealFailsOnceTheTenantKeyIsDestroyed) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  ASSERT_TRUE(kms_->DeleteTenant(kms_->Administrator(), "a", 7).ok());
  clock_.Advance(std::chrono::hours(24 * 8));
  auto report = kms_->RunMaintenance();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->destroyed.size(), 1u);

  auto gone = vault_->Reveal(AliceOfA(), "a", token);
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(AsciiLower(gone.status().message()), HasSubstr("destroyed"));
  // The cached token key has expired by now, so tokenization stops too.
  EXPECT_FALSE(vault_->Tokenize("a", "EMAIL", "alice@example.com").ok());
  // Tenant b is untouched.
  EXPECT_TRUE(vault_->Tokenize("b", "EMAIL", "alice@example.com").ok());
  const auto events = VaultEvents("RevealToken");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "KMSInvalidStateException");
}

TEST_F(VaultTest, TokenizeStopsWhenTheCachedKeyExpiresAfterDeletionIsScheduled) {
  Tokenize("a", "EMAIL", "alice@example.com");
  ASSERT_TRUE(kms_->DeleteTenant(kms_->Administrator(), "a", 30).ok());
  // Within the cache lifetime an already-stored value still tokenizes (no KMS call needed) ...
  EXPECT_TRUE(vault_->Tokenize("a", "EMAIL", "alice@example.com").ok());
  // ... but a new value must be encrypted under the key, which is pending deletion.
  EXPECT_FALSE(vault_->Tokenize("a", "EMAIL", "new@example.com").ok());
  clock_.Advance(std::chrono::minutes(6));
  EXPECT_EQ(vault_->Tokenize("a", "EMAIL", "alice@example.com").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VaultTest, ForgetTenantKeyDropsTheCachedKey) {
  Tokenize("a", "EMAIL", "alice@example.com");
  ASSERT_TRUE(kms_->DisableKey(kms_->Administrator(), "alias/perimeter/tenant/a").ok());
  EXPECT_TRUE(vault_->Tokenize("a", "EMAIL", "alice@example.com").ok());  // cached
  vault_->ForgetTenantKey("a");
  EXPECT_EQ(vault_->Tokenize("a", "EMAIL", "alice@example.com").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VaultTest, AuditFailureFailsRevealAndReleasesNothing) {
  const std::string token = Tokenize("a", "EMAIL", "alice@example.com");
  vault_audit_->SetFailing(true);
  auto value = vault_->Reveal(AliceOfA(), "a", token);
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(value.status().message().find("alice@example.com"), std::string::npos);
  // Denials too fail closed.
  EXPECT_EQ(vault_->Reveal(User("mallory"), "a", token).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(vault_audit_->events().empty());

  vault_audit_->SetFailing(false);
  auto again = vault_->Reveal(AliceOfA(), "a", token);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Plain(*again), "alice@example.com");

  // An erasure that cannot be recorded reports Unavailable; retrying records it.
  vault_audit_->SetFailing(true);
  EXPECT_EQ(vault_->Erase(AliceOfA(), "a", token).code(), StatusCode::kUnavailable);
  vault_audit_->SetFailing(false);
  EXPECT_TRUE(vault_->Erase(AliceOfA(), "a", token).ok());
  ASSERT_EQ(VaultEvents("EraseToken").size(), 1u);
}

}  // namespace
}  // namespace perimeter::redact
