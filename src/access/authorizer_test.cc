#include "access/authorizer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "access/who_can.h"

namespace perimeter::access {
namespace {

using std::chrono::seconds;

// The shipped baseline in miniature: an inference role and a batch role with separate models,
// a deployment-wide region cap, an endpoint policy and one tenant.
constexpr char kConfig[] = R"(
access:
  account_id: "111122223333"
  regions: [eu-west-1]
  deployment_policies:
    - Version: "2012-10-17"
      Statement:
        - Sid: AllowAll
          Effect: Allow
          Action: "*"
          Resource: "*"
        - Sid: DenyOtherRegions
          Effect: Deny
          Action: "bedrock:*"
          Resource: "*"
          Condition:
            StringNotEquals: {aws:RequestedRegion: eu-west-1}
  principals:
    - user: chat-app
      tags: {workload: production-ai-chat}
      policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: InvokeChatModel
              Effect: Allow
              Action: bedrock:InvokeModel
              Resource: "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-chat"
              Condition:
                StringLike: {aws:PrincipalTag/workload: "production-ai-*"}
    - user: batch-job
      tags: {workload: nightly-batch}
      policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: InvokeBatchModel
              Effect: Allow
              Action: bedrock:InvokeModel
              Resource: "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-batch"
    - user: intern
    - role: acme-tenant
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - Sid: TrustChatApp
            Effect: Allow
            Principal: {AWS: "arn:aws:iam::111122223333:user/chat-app"}
            Action: sts:AssumeRole
      policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: TenantModels
              Effect: Allow
              Action: bedrock:InvokeModel
              Resource: "arn:aws:bedrock:eu-west-1::foundation-model/*"
              Condition:
                StringEquals: {perimeter:TenantId: acme}
  tenants:
    - id: acme
      role: acme-tenant
listeners:
  - name: private
    port: 0
    endpoint_policy:
      Version: "2012-10-17"
      Statement:
        - Sid: OnlyFromPrivateNetwork
          Effect: Allow
          Principal: "*"
          Action: "*"
          Resource: "*"
          Condition:
            IpAddress: {aws:SourceIp: 10.0.0.0/8}
)";

constexpr char kChatModel[] = "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-chat";
constexpr char kBatchModel[] = "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-batch";

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/perimeter-authorizer-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    path_ = tmpl;
    auto cfg = config::ParseConfig(kConfig, "test.yaml");
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    cfg->server.state_dir = path_;
    auto d = iam::Directory::Open(*cfg, SystemClock());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dir_ = *d;
    auto a = Authorizer::Build(*cfg);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    authz_ = *a;
    facts_.now = SystemClock().Now();
    facts_.requested_region = "eu-west-1";
    facts_.secure_transport = true;
  }
  void TearDown() override { std::filesystem::remove_all(path_); }

  iam::Caller User(const std::string& name) {
    auto c = dir_->CallerForPrincipal("arn:aws:iam::111122223333:user/" + name);
    EXPECT_TRUE(c.ok());
    return *c;
  }

  std::string path_;
  std::shared_ptr<iam::Directory> dir_;
  std::shared_ptr<const Authorizer> authz_;
  RequestFacts facts_;
};

TEST_F(AuthorizerTest, EachWorkloadInvokesOnlyItsOwnModel) {
  EXPECT_TRUE(
      authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kChatModel, facts_).allowed());
  EXPECT_TRUE(
      authz_->Authorize(User("batch-job"), "bedrock:InvokeModel", kBatchModel, facts_).allowed());
  AccessDecision d =
      authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kBatchModel, facts_);
  EXPECT_FALSE(d.allowed());
  EXPECT_EQ(d.message,
            std::string("User: arn:aws:iam::111122223333:user/chat-app is not authorized to "
                        "perform: bedrock:InvokeModel on resource: ") +
                kBatchModel +
                " because no identity-based policy allows the bedrock:InvokeModel action");
  EXPECT_FALSE(
      authz_->Authorize(User("batch-job"), "bedrock:InvokeModel", kChatModel, facts_).allowed());
}

TEST_F(AuthorizerTest, AllowNamesTheDecidingStatements) {
  AccessDecision d = authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kChatModel, facts_);
  ASSERT_TRUE(d.allowed());
  auto st = d.DecidingStatements();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_NE(st[0].find("deployment policy[0]"), std::string::npos);
  EXPECT_NE(st[0].find("(AllowAll)"), std::string::npos);
  EXPECT_NE(st[1].find("(InvokeChatModel)"), std::string::npos);
}

TEST_F(AuthorizerTest, DeploymentCapDeniesOtherRegionsExplicitly) {
  facts_.requested_region = "us-east-1";
  AccessDecision d = authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kChatModel, facts_);
  EXPECT_EQ(d.result.decision, policy::Decision::kExplicitlyDenied);
  EXPECT_NE(d.message.find("with an explicit deny in a service control policy"), std::string::npos);
  ASSERT_EQ(d.DecidingStatements().size(), 1u);
  EXPECT_NE(d.DecidingStatements()[0].find("DenyOtherRegions"), std::string::npos);
}

TEST_F(AuthorizerTest, PrincipalTagConditionIsEvaluated) {
  iam::Caller c = User("chat-app");
  c.tags["workload"] = "staging-ai-chat";
  EXPECT_FALSE(authz_->Authorize(c, "bedrock:InvokeModel", kChatModel, facts_).allowed());
}

TEST_F(AuthorizerTest, EndpointPolicyOfTheListenerIsAFurtherRequiredAllow) {
  facts_.listener = "private";
  facts_.source_ip = *IpAddress::Parse("192.168.1.5");
  AccessDecision d = authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kChatModel, facts_);
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.message.find("because no endpoint policy allows the bedrock:InvokeModel action"),
            std::string::npos);
  facts_.source_ip = *IpAddress::Parse("10.1.2.3");
  EXPECT_TRUE(
      authz_->Authorize(User("chat-app"), "bedrock:InvokeModel", kChatModel, facts_).allowed());
}

TEST_F(AuthorizerTest, TrustPolicyDecidesWhoMayAssumeTheTenantRole) {
  auto role = dir_->FindRole("arn:aws:iam::111122223333:role/acme-tenant");
  ASSERT_NE(role, nullptr);
  EXPECT_TRUE(
      authz_->Authorize(User("chat-app"), "sts:AssumeRole", role->record.arn, facts_, role->trust)
          .allowed());
  EXPECT_FALSE(
      authz_->Authorize(User("intern"), "sts:AssumeRole", role->record.arn, facts_, role->trust)
          .allowed());
}

TEST_F(AuthorizerTest, ContextCarriesTheGlobalKeys) {
  iam::Caller c = User("chat-app");
  facts_.source_ip = *IpAddress::Parse("10.0.0.7");
  facts_.tenant = "acme";
  facts_.now = std::chrono::system_clock::time_point(seconds(1'800'000'000));
  ContextKeys k = Authorizer::ContextFor(c, facts_);
  EXPECT_EQ(k.at("aws:PrincipalArn")[0], "arn:aws:iam::111122223333:user/chat-app");
  EXPECT_EQ(k.at("aws:PrincipalAccount")[0], "111122223333");
  EXPECT_EQ(k.at("aws:PrincipalTag/workload")[0], "production-ai-chat");
  EXPECT_EQ(k.at("aws:username")[0], "chat-app");
  EXPECT_EQ(k.at("aws:userid")[0].substr(0, 4), "AIDA");
  EXPECT_EQ(k.at("aws:SourceIp")[0], "10.0.0.7");
  EXPECT_EQ(k.at("aws:SecureTransport")[0], "true");
  EXPECT_EQ(k.at("aws:RequestedRegion")[0], "eu-west-1");
  EXPECT_EQ(k.at("aws:EpochTime")[0], "1800000000");
  EXPECT_EQ(k.at("aws:CurrentTime")[0], "2027-01-15T08:00:00Z");
  facts_.now += std::chrono::milliseconds(1500);
  EXPECT_EQ(Authorizer::ContextFor(c, facts_).at("aws:CurrentTime")[0], "2027-01-15T08:00:01Z");
  EXPECT_EQ(k.at("perimeter:TenantId")[0], "acme");
  EXPECT_EQ(k.count("aws:MultiFactorAuthPresent"), 0u) << "absent for long-term credentials";
}

TEST_F(AuthorizerTest, ModelArnsAndRegions) {
  EXPECT_EQ(Authorizer::ModelArn("anthropic.claude-x", "eu-west-1"),
            "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-x");
  const std::string profile =
      "arn:aws:bedrock:eu-central-1:111122223333:inference-profile/eu.anthropic.claude";
  EXPECT_EQ(Authorizer::ModelArn(profile, "eu-west-1"), profile);
  EXPECT_EQ(Authorizer::ArnRegion(profile), "eu-central-1");
  EXPECT_EQ(Authorizer::ArnRegion("perimeter.echo-v1"), "");
}

TEST_F(AuthorizerTest, WhoCanFindsUsersAndTenantRolesWithTheirStatements) {
  auto found = WhoCan(*dir_, *authz_, "bedrock:InvokeModel", kChatModel, facts_);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  auto& entries = *found;
  std::vector<std::string> who;
  for (const auto& e : entries) who.push_back(e.principal_arn + "@" + e.tenant);
  // Tenants are configured, so each principal is evaluated in the tenants it can run in: only
  // chat-app can assume acme's role, and both it and the role allow the chat model.
  EXPECT_EQ(who, (std::vector<std::string>{"arn:aws:iam::111122223333:role/acme-tenant@acme",
                                           "arn:aws:iam::111122223333:user/chat-app@acme"}));
  for (const auto& e : entries) {
    EXPECT_FALSE(e.statements.empty());
    if (e.kind == "role") {
      EXPECT_EQ(e.assumable_by,
                std::vector<std::string>{"arn:aws:iam::111122223333:user/chat-app"});
    }
  }
  auto batch_found = WhoCan(*dir_, *authz_, "bedrock:InvokeModel", kBatchModel, facts_);
  ASSERT_TRUE(batch_found.ok());
  auto& batch = *batch_found;
  for (const auto& e : batch) {
    EXPECT_NE(e.principal_arn, "arn:aws:iam::111122223333:user/batch-job")
        << "batch-job has no tenant it may run in";
  }
}

}  // namespace
}  // namespace perimeter::access
