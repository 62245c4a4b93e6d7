#include "config/config.h"

#include <gtest/gtest.h>

namespace perimeter::config {
namespace {

TEST(ConfigTest, EmbeddedDefaultsParseToLoopbackBuiltin) {
  Config c = DefaultConfig();
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 8080);
  EXPECT_EQ(c.server.state_dir, "./var");
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_EQ(c.upstreams[0].type, UpstreamType::kBuiltin);
  EXPECT_EQ(c.limits.max_body_bytes, 25u * 1024 * 1024);
}

TEST(ConfigTest, ParsesFullConfig) {
  auto c = ParseConfig(R"(
server: {state_dir: /tmp/p, drain_timeout: 3s, threads: 2}
access: {egress_allow_hosts: ["127.0.0.1:9"]}
listeners:
  - name: tls
    address: 10.0.3.7
    port: 0
    tls: {certificate: c.pem, private_key: k.pem, client_ca: ca.pem}
    allowed_cidrs: [10.0.0.0/8, "fd00::/8"]
  - name: sock
    unix_socket: /run/p.sock
upstreams:
  - {name: local, type: openai, base_url: "http://127.0.0.1:9/v1", api_key_env: K,
     timeouts: {connect: 100ms, first_byte: 1s, total: 5s}, max_retries: 2}
  - {name: aws, type: bedrock, region: eu-west-1}
routes:
  - {model: a.b, upstream: local, upstream_model: c.d}
  - {model_pattern: "anthropic.*", upstream: aws}
limits: {max_body_bytes: 1MB, idle_timeout: 5s}
logging: {access_log: off}
)",
                       "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.drain_timeout.count(), 3000);
  EXPECT_EQ(c->listeners[0].port, 0);
  ASSERT_TRUE(c->listeners[0].tls.has_value());
  EXPECT_EQ(c->listeners[0].tls->client_ca, "ca.pem");
  EXPECT_EQ(c->listeners[0].allowed_cidrs.size(), 2u);
  EXPECT_EQ(c->listeners[1].unix_socket, "/run/p.sock");
  EXPECT_EQ(c->upstreams[0].timeouts.connect.count(), 100);
  EXPECT_EQ(c->upstreams[0].max_retries, 2);
  EXPECT_EQ(c->upstreams[1].region, "eu-west-1");
  EXPECT_EQ(c->routes[0].upstream_model, "c.d");
  EXPECT_EQ(c->limits.max_body_bytes, 1000000u);
  EXPECT_EQ(c->logging.access_log, "off");
}

// Each bad input must produce an error naming file, line and field.
struct BadCase {
  const char* yaml;
  const char* expect;  // substring of the message
};

class ConfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrorTest, NamesFileLineAndField) {
  auto c = ParseConfig(GetParam().yaml, "bad.yaml");
  ASSERT_FALSE(c.ok()) << GetParam().yaml;
  EXPECT_NE(c.status().message().find("bad.yaml"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find(GetParam().expect), std::string::npos)
      << c.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigErrorTest,
    ::testing::Values(
        BadCase{"listners: []\n", "bad.yaml:1:1: listners: unknown field 'listners'"},
        BadCase{"listeners:\n  - port: http\n",
                "bad.yaml:2:11: listeners[0].port: expected a whole number 0-65535, got 'http'"},
        BadCase{"listeners:\n  - port: 70000\n", "listeners[0].port"},
        BadCase{"listeners:\n  - address: example.com\n",
                "listeners[0].address: expected an IP address"},
        BadCase{"listeners:\n  - allowed_cidrs: [10.1.2.3/8]\n",
                "listeners[0].allowed_cidrs[0]: '10.1.2.3/8' has host bits"},
        BadCase{"listeners:\n  - tls: {certificate: c.pem}\n", "listeners[0].tls: needs both"},
        BadCase{"listeners:\n  - {unix_socket: /x, port: 1}\n",
                "either unix_socket or address/port"},
        BadCase{"listeners: [{name: a}, {name: a}]\n", "duplicate listener name 'a'"},
        BadCase{"upstreams:\n  - {name: x, type: grpc}\n",
                "upstreams[0].type: expected builtin, openai or bedrock, got 'grpc'"},
        BadCase{"upstreams:\n  - {name: x, type: openai}\n", "needs 'base_url'"},
        BadCase{"upstreams:\n  - {name: x, type: openai, base_url: ftp://x}\n",
                "upstreams[0].base_url: must start with http"},
        BadCase{"upstreams:\n  - {name: x, type: bedrock}\n", "needs 'region'"},
        BadCase{
            "upstreams:\n  - {name: x, type: bedrock, region: eu-west-1, endpoint_url: http://x}\n",
            "must start with https://"},
        BadCase{"upstreams:\n  - {name: x, type: builtin, region: eu-west-1}\n",
                "upstreams[0].region: does not apply to a builtin upstream"},
        BadCase{"upstreams:\n  - {name: x, type: builtin, timeouts: {connect: soon}}\n",
                "upstreams[0].timeouts.connect"},
        BadCase{"routes:\n  - {model: a, upstream: nope}\n",
                "routes[0].upstream: no upstream named 'nope'; declared upstreams: builtin"},
        BadCase{"routes:\n  - {upstream: builtin}\n", "exactly one of 'model'"},
        BadCase{"limits: {max_body_bytes: 0}\n", "limits.max_body_bytes: must be between"},
        BadCase{"server: {drain_timeout: 5 parsecs}\n", "server.drain_timeout"},
        BadCase{"listeners: [\n", "not valid YAML"}, BadCase{"", "the file is empty"}));

TEST(ConfigTest, MissingFileSaysWhichPath) {
  auto c = LoadConfigFile("/nonexistent/perimeter.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/perimeter.yaml"), std::string::npos);
}

constexpr char kAccess[] = R"(
access:
  account_id: "111122223333"
  regions: [eu-west-1, af-south-1]
  clock_skew: 2m
  egress_allow_hosts: [llm.internal:8000]
  deployment_policies:
    - {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
  principals:
    - user: chat
      tags: {workload: production-ai-chat, perimeter:tenant: acme}
      policies:
        - Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Action: bedrock:InvokeModel, Resource: "*"}
    - role: acme-tenant
      max_session_duration: 2h
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:user/chat"}, Action: sts:AssumeRole}
  tenants:
    - {id: acme, role: acme-tenant}
upstreams:
  - {name: local, type: openai, base_url: "http://llm.internal:8000/v1"}
  - {name: aws, type: bedrock, region: af-south-1}
routes:
  - {model_pattern: "*", upstream: local}
)";

TEST(ConfigTest, ParsesAccessSection) {
  auto c = ParseConfig(kAccess, "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const AccessConfig& a = c->access;
  EXPECT_EQ(a.account_id, "111122223333");
  EXPECT_EQ(a.regions, (std::vector<std::string>{"eu-west-1", "af-south-1"}));
  EXPECT_EQ(a.clock_skew, std::chrono::seconds(120));
  ASSERT_EQ(a.principals.size(), 2u);
  EXPECT_EQ(a.PrincipalArn(a.principals[0]), "arn:aws:iam::111122223333:user/chat");
  EXPECT_EQ(a.principals[0].tags.at("perimeter:tenant"), "acme");
  ASSERT_EQ(a.principals[0].policies.size(), 1u);
  EXPECT_NE(a.principals[0].policies[0].json.find("bedrock:InvokeModel"), std::string::npos);
  EXPECT_TRUE(a.principals[1].is_role);
  EXPECT_EQ(a.principals[1].max_session_duration, std::chrono::hours(2));
  ASSERT_TRUE(a.principals[1].trust_policy.has_value());
  ASSERT_EQ(a.tenants.size(), 1u);
  EXPECT_EQ(a.tenants[0].role_arn, "arn:aws:iam::111122223333:role/acme-tenant");
  EXPECT_EQ(a.deployment_policies.size(), 1u);
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return pos == std::string::npos ? s : s.replace(pos, from.size(), to);
}

TEST(ConfigTest, AccessErrorsNameTheFieldAndTheFix) {
  struct Case {
    std::string from, to, expect;
  };
  const Case cases[] = {
      {R"(account_id: "111122223333")", "account_id: 1234",
       "access.account_id: expected 12 digits"},
      {"regions: [eu-west-1, af-south-1]", "regions: [EU_WEST]", "is not a region"},
      {"region: af-south-1", "region: us-east-1",
       "region us-east-1 is outside this deployment's regions"},
      {"egress_allow_hosts: [llm.internal:8000]", "egress_allow_hosts: [other.host]",
       "host llm.internal:8000 is not in the egress allowlist"},
      {"{Effect: Allow, Action: bedrock:InvokeModel, Resource: \"*\"}",
       "{Effect: Allow, Action: bedrock:InvokeModel}",
       "access.principals[0].policies[0]: Statement[0]: missing required element 'Resource'"},
      {"Action: sts:AssumeRole}", "Action: sts:AssumeRole, Resource: \"*\"}",
       "Resource is not allowed in a trust policy"},
      {"{id: acme, role: acme-tenant}", "{id: acme, role: nobody}",
       "no role arn:aws:iam::111122223333:role/nobody in access.principals"},
      {"{id: acme, role: acme-tenant}", "{id: ACME, role: acme-tenant}", "is not a tenant id"},
      {"max_session_duration: 2h", "max_session_duration: 13h", "between 1h and 12h"},
      {"    - user: chat", "    - user: chat\n      role: both", "exactly one of"},
      {"clock_skew: 2m", "clock_skew: 1h", "between 1s and 15m"},
  };
  for (const Case& c : cases) {
    auto r = ParseConfig(Replace(kAccess, c.from, c.to), "t.yaml");
    ASSERT_FALSE(r.ok()) << c.to;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << r.status().message() << "\nexpected: " << c.expect;
    EXPECT_EQ(r.status().message().rfind("t.yaml:", 0), 0u) << r.status().message();
  }
}

TEST(ConfigTest, RolesNeedATrustPolicy) {
  auto r = ParseConfig(R"(
access:
  principals:
    - role: orphan
      policies: [{Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}]
)",
                       "t.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("access.principals[0]: a role needs 'trust_policy'"),
            std::string::npos)
      << r.status().message();
}

TEST(ConfigTest, EmbeddedDefaultsDeclareOnlyTheDeveloperUser) {
  Config c = DefaultConfig();
  ASSERT_EQ(c.access.principals.size(), 1u);
  EXPECT_EQ(c.access.PrincipalArn(c.access.principals[0]),
            "arn:aws:iam::000000000000:user/developer");
  EXPECT_EQ(c.access.regions, std::vector<std::string>{"eu-west-1"});
  EXPECT_TRUE(c.access.tenants.empty());
}

TEST(ConfigTest, EndpointPolicyMustNamePrincipals) {
  auto r = ParseConfig(R"(
listeners:
  - name: main
    endpoint_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
)",
                       "t.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("listeners[0].endpoint_policy"), std::string::npos);
  EXPECT_NE(r.status().message().find("Principal"), std::string::npos);
}

}  // namespace
}  // namespace perimeter::config

namespace perimeter::config {
namespace {

TEST(GuardrailsConfigTest, InlineDefinitionsKeepYamlTypesAndBindingsAreRead) {
  auto c = ParseConfig(R"(
guardrails:
  definitions:
    - id: pii
      definition:
        name: pii
        blockedInputMessaging: "no"
        blockedOutputsMessaging: "123"
        contextualGroundingPolicyConfig:
          filtersConfig: [{type: GROUNDING, threshold: 0.75, enabled: true}]
        tags: [{key: team, value: "42"}]
  bindings:
    - guardrail: pii
      version: "3"
      openai_only: false
      stream_processing_mode: async
)",
                       "g.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->guardrails.definitions.size(), 1u);
  const auto& d = c->guardrails.definitions[0];
  EXPECT_EQ(d.id, "pii");
  EXPECT_EQ(d.origin, "guardrails.definitions[0]");
  // Plain scalars become numbers and booleans; quoted ones stay strings.
  EXPECT_NE(d.json.find(R"("threshold":7.5E-1)"), std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("enabled":true)"), std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("blockedInputMessaging":"no")"), std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("blockedOutputsMessaging":"123")"), std::string::npos) << d.json;
  EXPECT_NE(d.json.find(R"("value":"42")"), std::string::npos) << d.json;
  ASSERT_EQ(c->guardrails.bindings.size(), 1u);
  const auto& b = c->guardrails.bindings[0];
  EXPECT_EQ(b.guardrail, "pii");
  EXPECT_EQ(b.version, "3");
  EXPECT_FALSE(b.openai_only);
  EXPECT_EQ(b.stream_processing_mode, "async");
}

struct GuardrailsBad {
  const char* yaml;
  const char* expect;
};
class GuardrailsConfigErrorTest : public ::testing::TestWithParam<GuardrailsBad> {};
TEST_P(GuardrailsConfigErrorTest, NamesTheField) {
  auto c = ParseConfig(GetParam().yaml, "g.yaml");
  ASSERT_FALSE(c.ok()) << GetParam().yaml;
  EXPECT_NE(c.status().message().find(GetParam().expect), std::string::npos)
      << c.status().message();
}
INSTANTIATE_TEST_SUITE_P(
    Cases, GuardrailsConfigErrorTest,
    ::testing::Values(
        GuardrailsBad{"guardrails: {rules: []}\n", "guardrails.rules: unknown field"},
        GuardrailsBad{"guardrails:\n  definitions:\n    - {id: Bad_Id, definition: {}}\n",
                      "is not a guardrail id"},
        GuardrailsBad{"guardrails:\n  definitions:\n    - {id: a}\n", "exactly one of 'file'"},
        GuardrailsBad{"guardrails:\n  definitions:\n    - {id: a, definition: {}}\n    - {id: a, "
                      "definition: {}}\n",
                      "duplicate guardrail 'a'"},
        GuardrailsBad{"guardrails:\n  definitions:\n    - {id: a, file: nope.json}\n",
                      "cannot read guardrail file"},
        GuardrailsBad{"guardrails:\n  bindings:\n    - {version: \"1\"}\n", "needs 'guardrail'"},
        GuardrailsBad{"guardrails:\n  bindings:\n    - {guardrail: a, version: \"01\"}\n",
                      "expected DRAFT or a version number"},
        GuardrailsBad{"guardrails:\n  bindings:\n    - {guardrail: a, stream_processing_mode: x}\n",
                      "expected 'sync' or 'async'"},
        GuardrailsBad{"guardrails:\n  bindings:\n    - {guardrail: a, tenant: nobody}\n",
                      "guardrails.bindings[0].tenant: 'nobody' is not a tenant"}));

}  // namespace
}  // namespace perimeter::config
