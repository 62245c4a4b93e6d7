#include "iam/directory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "iam/admin.h"

namespace perimeter::iam {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr char kConfig[] = R"(
access:
  account_id: "111122223333"
  regions: [eu-west-1]
  principals:
    - user: alice
      tags: {workload: production-ai-chat}
      policies:
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: bedrock:InvokeModel
              Resource: "*"
    - user: bob
    - role: inference
      max_session_duration: 2h
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::111122223333:user/alice"}
            Action: sts:AssumeRole
)";

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/perimeter-directory-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_path_ = tmpl;
    auto cfg = config::ParseConfig(kConfig, "test.yaml");
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    cfg->server.state_dir = dir_path_;
    cfg_ = *cfg;
    auto d = Directory::Open(cfg_, clock_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
  }
  void TearDown() override { std::filesystem::remove_all(dir_path_); }

  std::string Arn(const std::string& suffix) { return "arn:aws:iam::111122223333:" + suffix; }

  ManualClock clock_{std::chrono::system_clock::time_point(seconds(1'800'000'000))};
  std::string dir_path_;
  config::Config cfg_;
  std::shared_ptr<Directory> dir_;
};

TEST_F(DirectoryTest, AccessKeySecretIsReturnedOnlyForTheRightKeyAndNeverStoredPlain) {
  auto created =
      CreateCredential(*dir_, Arn("user/alice"), CredentialType::kAccessKey, std::nullopt, "test");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->id.substr(0, 4), "AKIA");
  EXPECT_EQ(created->id.size(), 20u);
  EXPECT_EQ(created->secret.size(), 40u);
  auto secret = dir_->SecretFor(created->id, "");
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->RevealSecretForUse(), created->secret.RevealSecretForUse());
  // The store holds the sealed form only.
  auto rec = dir_->store().GetAccessKey(created->id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->sealed_secret.find(created->secret.RevealSecretForUse()), std::string::npos);

  auto caller = dir_->CallerForAccessKey(created->id, "");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->arn, Arn("user/alice"));
  EXPECT_EQ(caller->username, "alice");
  EXPECT_EQ(caller->tags.at("workload"), "production-ai-chat");
  EXPECT_EQ(caller->identity_policies.size(), 1u);
  EXPECT_EQ(caller->user_id.substr(0, 4), "AIDA");

  EXPECT_EQ(dir_->SecretFor("AKIAUNKNOWNUNKNOWN00", "").status().code(), StatusCode::kNotFound);
  // A session token sent with a long-term key is not valid.
  EXPECT_EQ(dir_->SecretFor(created->id, "token").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(DirectoryTest, RevokedKeyIsRefusedOnTheNextLookupEvenWhenRevokedByAnotherProcess) {
  auto created =
      CreateCredential(*dir_, Arn("user/alice"), CredentialType::kAccessKey, std::nullopt, "");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(dir_->SecretFor(created->id, "").ok());
  // A second store on the same file stands for the CLI.
  auto other = IdentityStore::Open(dir_path_ + "/identity.db");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->RevokeAccessKey(created->id, 1'800'000'001).ok());
  auto after = dir_->SecretFor(created->id, "");
  EXPECT_EQ(after.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(after.status().message().find("revoked"), std::string::npos);
}

TEST_F(DirectoryTest, DeactivatingAConfigPrincipalRefusesItsKeys) {
  auto created =
      CreateCredential(*dir_, Arn("user/alice"), CredentialType::kAccessKey, std::nullopt, "");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(SetPrincipalActive(*dir_, Arn("user/alice"), false).ok());
  EXPECT_EQ(dir_->SecretFor(created->id, "").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dir_->CallerForAccessKey(created->id, "").status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(SetPrincipalActive(*dir_, Arn("user/alice"), true).ok());
  EXPECT_TRUE(dir_->SecretFor(created->id, "").ok());
}

TEST_F(DirectoryTest, ExpiredAccessKeyIsRefused) {
  auto created =
      CreateCredential(*dir_, Arn("user/alice"), CredentialType::kAccessKey, hours(1), "");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(dir_->SecretFor(created->id, "").ok());
  clock_.Advance(hours(1));
  auto r = dir_->SecretFor(created->id, "");
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("expired"), std::string::npos);
}

TEST_F(DirectoryTest, ApiKeyAuthenticatesOnlyWithTheExactKey) {
  auto created =
      CreateCredential(*dir_, Arn("user/bob"), CredentialType::kApiKey, std::nullopt, "");
  ASSERT_TRUE(created.ok());
  std::string key(created->secret.RevealSecretForUse());
  EXPECT_EQ(key.substr(0, 4), "prm_");
  auto caller = dir_->CallerForApiKey(key);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->arn, Arn("user/bob"));
  EXPECT_EQ(caller->credential_id, created->id);
  // Only the hash is stored.
  auto rec = dir_->store().GetApiKey(created->id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->secret_sha256_hex.size(), 64u);
  EXPECT_EQ((*rec)->secret_sha256_hex.find(key.substr(22)), std::string::npos);

  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(dir_->CallerForApiKey(wrong).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(dir_->CallerForApiKey("sk-not-ours").status().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(RevokeCredential(*dir_, created->id).ok());
  EXPECT_EQ(dir_->CallerForApiKey(key).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(DirectoryTest, RolesHaveNoLongTermCredentials) {
  auto r =
      CreateCredential(*dir_, Arn("role/inference"), CredentialType::kAccessKey, std::nullopt, "");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

class SessionTest : public DirectoryTest {
 protected:
  void SetUp() override {
    DirectoryTest::SetUp();
    auto created =
        CreateCredential(*dir_, Arn("user/alice"), CredentialType::kAccessKey, std::nullopt, "");
    ASSERT_TRUE(created.ok());
    alice_key_ = created->id;
    auto alice = dir_->CallerForAccessKey(alice_key_, "");
    ASSERT_TRUE(alice.ok());
    alice_ = *alice;
    role_ = dir_->FindRole(Arn("role/inference"));
    ASSERT_NE(role_, nullptr);
  }
  Result<SessionCredentials> Issue(seconds duration = seconds(900)) {
    SessionRequest req;
    req.role_session_name = "chat-1";
    req.duration = duration;
    req.tags = {{"team", "payments"}};
    return dir_->IssueSession(alice_, *role_, req);
  }
  std::string alice_key_;
  Caller alice_;
  std::shared_ptr<const Principal> role_;
};

TEST_F(SessionTest, IssuedSessionResolvesToTheAssumedRole) {
  auto s = Issue();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->access_key_id.substr(0, 4), "ASIA");
  EXPECT_EQ(s->assumed_role_arn, "arn:aws:sts::111122223333:assumed-role/inference/chat-1");
  auto secret = dir_->SecretFor(s->access_key_id, s->session_token);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(secret->RevealSecretForUse(), s->secret_access_key.RevealSecretForUse());
  auto c = dir_->CallerForAccessKey(s->access_key_id, s->session_token);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->is_session);
  EXPECT_EQ(c->principal_arn, Arn("role/inference"));
  EXPECT_EQ(c->tags.at("team"), "payments");
  EXPECT_EQ(c->user_id.substr(0, 4), "AROA");
  EXPECT_EQ(c->origin_principal_arn, Arn("user/alice"));
  // The token does not contain the secret in the clear.
  EXPECT_EQ(s->session_token.find(s->secret_access_key.RevealSecretForUse()), std::string::npos);
}

TEST_F(SessionTest, TokenIsBoundToItsAccessKeyAndTamperingIsDetected) {
  auto s = Issue();
  ASSERT_TRUE(s.ok());
  auto other = Issue();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, other->session_token).status().code(),
            StatusCode::kUnauthenticated);
  std::string tampered = s->session_token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, tampered).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, "").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(SessionTest, ExpiredSessionIsReportedAsExpired) {
  auto s = Issue(seconds(900));
  ASSERT_TRUE(s.ok());
  clock_.Advance(seconds(899));
  EXPECT_TRUE(dir_->SecretFor(s->access_key_id, s->session_token).ok());
  clock_.Advance(seconds(1));
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, s->session_token).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SessionTest, RevokingTheOriginKeyEndsTheSession) {
  auto s = Issue();
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(RevokeCredential(*dir_, alice_key_).ok());
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, s->session_token).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SessionTest, DeactivatingTheRoleEndsTheSession) {
  auto s = Issue();
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(SetPrincipalActive(*dir_, Arn("role/inference"), false).ok());
  EXPECT_EQ(dir_->SecretFor(s->access_key_id, s->session_token).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SessionTest, TokensFromAnotherStateDirectoryAreInvalid) {
  auto s = Issue();
  ASSERT_TRUE(s.ok());
  char tmpl[] = "/tmp/perimeter-directory-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  config::Config other_cfg = cfg_;
  other_cfg.server.state_dir = tmpl;
  auto other = Directory::Open(other_cfg, clock_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->SecretFor(s->access_key_id, s->session_token).status().code(),
            StatusCode::kUnauthenticated);
  std::filesystem::remove_all(tmpl);
}

TEST_F(DirectoryTest, CliPrincipalsAreValidatedAndCannotShadowConfigOnes) {
  CreatePrincipalRequest req;
  req.name = "alice";
  EXPECT_EQ(CreatePrincipal(*dir_, req).status().code(), StatusCode::kAlreadyExists);
  req.name = "carol";
  req.policies = {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]})"};
  auto bad = CreatePrincipal(*dir_, req);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  req.policies = {
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}]})"};
  req.tags = {{"perimeter:tenant", "acme"}};
  auto ok = CreatePrincipal(*dir_, req);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto p = dir_->FindPrincipal(Arn("user/carol"));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->policies.size(), 1u);
  EXPECT_EQ(p->record.source, PrincipalSource::kCli);
  ASSERT_TRUE(
      TagPrincipal(*dir_, Arn("user/carol"), {{"team", "risk"}}, {"perimeter:tenant"}).ok());
  p = dir_->FindPrincipal(Arn("user/carol"));
  EXPECT_EQ(p->record.tags.count("perimeter:tenant"), 0u);
  EXPECT_EQ(p->record.tags.at("team"), "risk");
  // Config principals are edited in the config, not with the CLI.
  EXPECT_EQ(TagPrincipal(*dir_, Arn("user/alice"), {{"a", "b"}}, {}).code(),
            StatusCode::kFailedPrecondition);

  CreatePrincipalRequest role;
  role.type = PrincipalType::kRole;
  role.name = "batch";
  EXPECT_EQ(CreatePrincipal(*dir_, role).status().code(), StatusCode::kInvalidArgument)
      << "a role without a trust policy";
}

TEST_F(DirectoryTest, ARoleWithoutTrustPolicyCannotBeFoundForAssumption) {
  PrincipalRecord r;
  r.arn = Arn("role/orphan");
  r.type = PrincipalType::kRole;
  r.account_id = "111122223333";
  r.name = "orphan";
  r.unique_id = Directory::UniqueIdFor(r.arn, r.type);
  r.policies = {
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"};
  ASSERT_TRUE(dir_->store().CreatePrincipal(r).ok());
  ASSERT_NE(dir_->FindPrincipal(r.arn), nullptr);
  EXPECT_EQ(dir_->FindRole(r.arn), nullptr);
  EXPECT_NE(dir_->FindRole(Arn("role/inference")), nullptr);
}

TEST(DirectoryIds, UniqueIdsAreStableAndTyped) {
  std::string a = Directory::UniqueIdFor("arn:aws:iam::1:user/x", PrincipalType::kUser);
  EXPECT_EQ(a, Directory::UniqueIdFor("arn:aws:iam::1:user/x", PrincipalType::kUser));
  EXPECT_EQ(a.size(), 21u);
  EXPECT_EQ(a.substr(0, 4), "AIDA");
  EXPECT_NE(a.substr(4),
            Directory::UniqueIdFor("arn:aws:iam::1:user/y", PrincipalType::kUser).substr(4));
  EXPECT_EQ(Directory::UniqueIdFor("arn:aws:iam::1:role/x", PrincipalType::kRole).substr(0, 4),
            "AROA");
}

}  // namespace
}  // namespace perimeter::iam
