#include "api/audit_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include <boost/json.hpp>

#include "api/guardrail_filter.h"
#include "guard/registry.h"
#include "iam/directory.h"
#include "kms/kms.h"

namespace perimeter::api {
namespace {

namespace json = boost::json;

using pipeline::ApiFlavor;
using pipeline::Operation;
using pipeline::RequestContext;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRegion[] = "eu-west-1";
constexpr char kAccount[] = "111122223333";
constexpr char kRoleArn[] = "arn:aws:iam::111122223333:role/tenant-acme";
constexpr char kUserArn[] = "arn:aws:iam::111122223333:user/alice";
// Stands for prompt text, answers, key material: nothing of it may reach an event.
constexpr char kMarker[] = "SECRET-PROMPT-MARKER-7f3a";

// 2026-11-27T05:52:23Z
const std::chrono::system_clock::time_point kTime{std::chrono::seconds(1795758743)};

std::shared_ptr<const iam::Caller> User(std::string credential = "AKIAEXAMPLEUSER00001") {
  auto c = std::make_shared<iam::Caller>();
  c->arn = kUserArn;
  c->principal_arn = kUserArn;
  c->account_id = kAccount;
  c->user_id = "AIDAEXAMPLEUSER0001";
  c->username = "alice";
  c->credential_id = std::move(credential);
  return c;
}

std::shared_ptr<const iam::Caller> TenantSession() {
  auto c = std::make_shared<iam::Caller>();
  c->arn = "arn:aws:sts::111122223333:assumed-role/tenant-acme/perimeter-acme";
  c->principal_arn = kRoleArn;
  c->account_id = kAccount;
  c->user_id = "AROAEXAMPLEROLE0001:perimeter-acme";
  c->is_session = true;
  c->role_session_name = "perimeter-acme";
  c->source_identity = "alice";
  c->credential_id = "AKIAEXAMPLEUSER00001";
  c->origin_principal_arn = kUserArn;
  c->origin_tenant = "acme";
  return c;
}

// A request as the listener fills it in, from 192.0.2.10 over TLS.
RequestContext BaseContext() {
  RequestContext ctx;
  ctx.request_id = "req-1";
  ctx.listener_name = "main";
  ctx.source_ip = *IpAddress::Parse("192.0.2.10");
  ctx.secure_transport = true;
  ctx.tls_version = "TLSv1.3";
  ctx.tls_cipher = "TLS_AES_128_GCM_SHA256";
  ctx.received_at = kTime;
  ctx.request.method = "POST";
  ctx.request.headers = {{"host", "gw.example.com"}, {"user-agent", "aws-sdk-java/2.30.22"}};
  return ctx;
}

model::ChatRequest ChatWithMarker() {
  model::ChatRequest chat;
  chat.model = "anthropic.claude-3-haiku";
  chat.system = {std::string("You are ") + kMarker};
  model::Message m;
  m.text = {std::string("Tell me about ") + kMarker, "and alice@example.com"};
  chat.messages.push_back(m);
  return chat;
}

// A Converse in tenant acme's session, guarded, answered.
RequestContext ConverseContext() {
  RequestContext ctx = BaseContext();
  ctx.request.path = "/model/anthropic.claude-3-haiku/converse";
  ctx.request.target = ctx.request.path;
  ctx.request.body =
      std::string(R"({"messages":[{"role":"user","content":[{"text":")") + kMarker + R"("}]}]})";
  ctx.operation = Operation::kConverse;
  ctx.flavor = ApiFlavor::kBedrock;
  ctx.model_id = "anthropic.claude-3-haiku";
  ctx.chat = ChatWithMarker();
  ctx.guardrail = model::GuardrailRequest{"gr1", "1", "enabled", "sync"};
  ctx.guardrail_arn = "arn:aws:bedrock:eu-central-1:111122223333:guardrail/gr1:1";
  pipeline::GuardrailOutcome outcome;
  outcome.input = "ANONYMIZED";
  outcome.output = "NONE";
  outcome.types = {"EMAIL"};
  outcome.policies = {"sensitiveInformationPolicy"};
  ctx.guardrail_outcome = outcome;
  ctx.guardrail_stream_trace_json = std::string(R"({"match":")") + kMarker + R"("})";
  model::ChatResponse answer;
  answer.text = std::string("answer ") + kMarker;
  ctx.synthetic_response = answer;
  ctx.caller = TenantSession();
  ctx.principal_arn = kUserArn;
  ctx.credential_id = "AKIAEXAMPLEUSER00001";
  ctx.signed_region = "eu-central-1";
  ctx.deciding_statements = {"alice policy[0]", "tenant-acme policy[0]"};
  ctx.key_uses = {{"key-acme", 3, "Encrypt", "vault-token"}};
  ctx.tenant = "acme";
  ctx.upstream_name = "bedrock-eu";
  ctx.status = 200;
  ctx.usage = {12, 34};
  return ctx;
}

json::value Parsed(const audit::Event& e) { return json::parse(audit::EventJson(e)); }

TEST(InvocationEventTest, ConverseInATenantSession) {
  const RequestContext ctx = ConverseContext();
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_time, kTime);
  EXPECT_EQ(e.event_source, "bedrock.amazonaws.com");
  EXPECT_EQ(e.event_name, "Converse");
  EXPECT_EQ(e.aws_region, kRegion);
  EXPECT_EQ(e.source_ip_address, "192.0.2.10");
  EXPECT_EQ(e.user_agent, "aws-sdk-java/2.30.22");

  EXPECT_EQ(e.user_identity.type, "AssumedRole");
  EXPECT_EQ(e.user_identity.arn,
            "arn:aws:sts::111122223333:assumed-role/tenant-acme/perimeter-acme");
  EXPECT_EQ(e.user_identity.principal_id, "AROAEXAMPLEROLE0001:perimeter-acme");
  EXPECT_EQ(e.user_identity.account_id, kAccount);
  EXPECT_EQ(e.user_identity.access_key_id, "AKIAEXAMPLEUSER00001");
  ASSERT_TRUE(e.user_identity.session_context.has_value());
  EXPECT_EQ(e.user_identity.session_context->session_issuer_arn, kRoleArn);
  EXPECT_EQ(e.user_identity.session_context->source_identity, "alice");

  EXPECT_EQ(json::parse(e.request_parameters_json),
            json::parse(R"({"modelId":"anthropic.claude-3-haiku","guardrailIdentifier":"gr1",)"
                        R"("guardrailVersion":"1"})"));
  EXPECT_EQ(json::parse(e.response_elements_json),
            json::parse(R"({"inputTokens":12,"outputTokens":34})"));
  EXPECT_EQ(e.error_code, "");
  EXPECT_EQ(e.error_message, "");
  EXPECT_EQ(e.request_id, "req-1");
  EXPECT_TRUE(std::regex_match(
      e.event_id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_FALSE(e.read_only);
  EXPECT_EQ(e.event_type, "AwsApiCall");
  EXPECT_FALSE(e.management_event);
  EXPECT_EQ(e.event_category, "Data");
  EXPECT_EQ(e.recipient_account_id, kAccount);
  ASSERT_TRUE(e.tls_details.has_value());
  EXPECT_EQ(e.tls_details->tls_version, "TLSv1.3");
  EXPECT_EQ(e.tls_details->cipher_suite, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(e.tls_details->client_provided_host_header, "gw.example.com");

  // The model ARN is in the region the request was signed for, as the access filter builds it.
  const std::vector<std::map<std::string, std::string>> resources{
      {{"ARN", "arn:aws:bedrock:eu-central-1::foundation-model/anthropic.claude-3-haiku"},
       {"type", "AWS::Bedrock::Model"}},
      {{"ARN", "arn:aws:bedrock:eu-central-1:111122223333:guardrail/gr1:1"},
       {"type", "AWS::Bedrock::Guardrail"}}};
  EXPECT_EQ(e.resources, resources);

  EXPECT_EQ(e.tenant_id, "acme");
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.decision->effect, "Allow");
  EXPECT_EQ(e.decision->statements, ctx.deciding_statements);
  ASSERT_TRUE(e.guardrail.has_value());
  EXPECT_EQ(e.guardrail->id, "arn:aws:bedrock:eu-central-1:111122223333:guardrail/gr1:1");
  EXPECT_EQ(e.guardrail->version, "1");
  EXPECT_EQ(e.guardrail->input_action, "ANONYMIZED");
  EXPECT_EQ(e.guardrail->output_action, "NONE");
  EXPECT_EQ(e.guardrail->policies, std::vector<std::string>{"sensitiveInformationPolicy"});
  EXPECT_EQ(e.guardrail->entity_types, std::vector<std::string>{"EMAIL"});
  EXPECT_TRUE(e.guardrail->cross_tenant_incidents.empty());
  ASSERT_EQ(e.keys.size(), 1u);
  EXPECT_EQ(e.keys[0].key_id, "key-acme");
  EXPECT_EQ(e.keys[0].key_version, 3u);
  EXPECT_EQ(e.keys[0].operation, "Encrypt");
  EXPECT_EQ(e.keys[0].purpose, "vault-token");
  EXPECT_EQ(e.http_status, 200);

  // And it survives the trip through JSON.
  auto back = audit::ParseEventJson(audit::EventJson(e));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(audit::EventJson(*back), audit::EventJson(e));
}

TEST(InvocationEventTest, NoPromptOrAnswerTextEverAppears) {
  std::vector<RequestContext> contexts;
  contexts.push_back(ConverseContext());
  {
    RequestContext denied = ConverseContext();
    denied.status = 403;
    denied.error_type = "AccessDeniedException";
    denied.guardrail_outcome.reset();
    contexts.push_back(std::move(denied));
  }
  {
    RequestContext failed = ConverseContext();
    failed.status = 400;
    failed.error_type = "ValidationException";
    failed.chat_parse_failed = true;
    failed.chat_parse_error = std::string("messages.0: ") + kMarker;
    contexts.push_back(std::move(failed));
  }
  {
    RequestContext openai = ConverseContext();
    openai.operation = Operation::kChatCompletions;
    openai.flavor = ApiFlavor::kOpenAi;
    openai.request.path = "/v1/chat/completions";
    openai.request.body =
        std::string(R"({"model":"m","messages":[{"role":"user","content":")") + kMarker + R"("}]})";
    contexts.push_back(std::move(openai));
  }
  {
    RequestContext invoke = ConverseContext();
    invoke.operation = Operation::kInvokeModel;
    invoke.raw_body_content_type = "application/json";
    invoke.guardrail_outcome->cross_tenant_incidents.push_back({"EMAIL", "globex"});
    contexts.push_back(std::move(invoke));
  }
  for (const RequestContext& ctx : contexts) {
    const std::string text = audit::EventJson(InvocationEvent(ctx, kRegion, kAccount));
    EXPECT_THAT(text, Not(HasSubstr(kMarker)));
    EXPECT_THAT(text, Not(HasSubstr("alice@example.com")));
    EXPECT_THAT(text, Not(HasSubstr("messages")));
    if (ctx.guardrail_outcome) {
      for (const auto& i : ctx.guardrail_outcome->cross_tenant_incidents) {
        const std::string incident =
            audit::EventJson(CrossTenantIncidentEvent(ctx, i, kRegion, kAccount));
        EXPECT_THAT(incident, Not(HasSubstr(kMarker)));
        EXPECT_THAT(incident, Not(HasSubstr("alice@example.com")));
      }
    }
  }
}

TEST(InvocationEventTest, DeniedRequestRecordsTheDenyWithAFixedMessage) {
  RequestContext ctx = ConverseContext();
  ctx.status = 403;
  ctx.error_type = "AccessDeniedException";
  ctx.guardrail_outcome.reset();
  ctx.usage = {};
  ctx.deciding_statements = {"deny-all"};
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.error_code, "AccessDeniedException");
  EXPECT_EQ(e.error_message, "HTTP 403");
  EXPECT_EQ(e.response_elements_json, "null");
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.decision->effect, "Deny");
  EXPECT_EQ(e.decision->statements, std::vector<std::string>{"deny-all"});
  EXPECT_FALSE(e.guardrail.has_value());
  EXPECT_EQ(e.http_status, 403);
  const json::value v = Parsed(e);
  EXPECT_TRUE(v.at("responseElements").is_null());
  EXPECT_EQ(v.at("errorMessage").as_string(), "HTTP 403");
}

TEST(InvocationEventTest, OpenAiPermissionErrorIsADeny) {
  RequestContext ctx = ConverseContext();
  ctx.flavor = ApiFlavor::kOpenAi;
  ctx.operation = Operation::kChatCompletions;
  ctx.status = 403;
  ctx.error_type = "permission_error";
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).decision->effect, "Deny");
}

TEST(InvocationEventTest, UpstreamFailureAfterAuthorizationIsStillAnAllow) {
  RequestContext ctx = ConverseContext();
  ctx.status = 503;
  ctx.error_type = "ServiceUnavailableException";
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.decision->effect, "Allow");
  EXPECT_EQ(e.error_code, "ServiceUnavailableException");
  EXPECT_EQ(e.error_message, "HTTP 503");
  EXPECT_EQ(e.response_elements_json, "null");
}

TEST(InvocationEventTest, RefusedBeforeAuthorizationHasNoDecision) {
  RequestContext ctx = ConverseContext();
  ctx.deciding_statements.clear();
  ctx.status = 400;
  ctx.error_type = "ValidationException";
  EXPECT_FALSE(InvocationEvent(ctx, kRegion, kAccount).decision.has_value());
}

TEST(InvocationEventTest, UnauthenticatedRequestIsUnknown) {
  RequestContext ctx = BaseContext();
  ctx.operation = Operation::kInvokeModel;
  ctx.flavor = ApiFlavor::kBedrock;
  ctx.model_id = "m1";
  ctx.status = 403;
  ctx.error_type = "UnrecognizedClientException";
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.user_identity.type, "Unknown");
  EXPECT_EQ(e.user_identity.arn, "");
  EXPECT_FALSE(e.user_identity.session_context.has_value());
  EXPECT_FALSE(e.decision.has_value());
  EXPECT_EQ(e.error_code, "UnrecognizedClientException");
  EXPECT_EQ(e.tenant_id, "");
  const json::value v = Parsed(e);
  EXPECT_FALSE(v.at("userIdentity").as_object().contains("arn"));
  EXPECT_FALSE(v.as_object().contains("tenantId"));
  EXPECT_FALSE(v.as_object().contains("decision"));
  // The model ARN of an unsigned request is in the deployment's region.
  EXPECT_EQ(e.resources.at(0).at("ARN"), "arn:aws:bedrock:eu-west-1::foundation-model/m1");
}

TEST(InvocationEventTest, UserWithAccessKeyIsIamUser) {
  RequestContext ctx = ConverseContext();
  ctx.caller = User();
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.user_identity.type, "IAMUser");
  EXPECT_EQ(e.user_identity.arn, kUserArn);
  EXPECT_EQ(e.user_identity.principal_id, "AIDAEXAMPLEUSER0001");
  EXPECT_FALSE(e.user_identity.session_context.has_value());
}

TEST(InvocationEventTest, OpenAiChatWithAnApiKey) {
  RequestContext ctx = BaseContext();
  ctx.tls_version.clear();
  ctx.tls_cipher.clear();
  ctx.request.path = "/v1/chat/completions";
  ctx.operation = Operation::kChatCompletions;
  ctx.flavor = ApiFlavor::kOpenAi;
  ctx.model_id = "gpt-4o";
  ctx.chat = ChatWithMarker();
  ctx.caller = User("prm_0123456789abcdef");
  ctx.principal_arn = kUserArn;
  ctx.credential_id = "prm_0123456789abcdef";
  ctx.deciding_statements = {"alice policy[0]"};
  ctx.status = 200;
  ctx.usage = {5, 6};
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_source, "perimeter.openai");
  EXPECT_EQ(e.event_name, "ChatCompletions");
  EXPECT_EQ(e.user_identity.type, "APIKey");
  EXPECT_EQ(e.user_identity.access_key_id, "prm_0123456789abcdef");
  EXPECT_EQ(e.user_identity.arn, kUserArn);
  EXPECT_FALSE(e.tls_details.has_value());
  EXPECT_EQ(e.request_parameters_json, R"({"modelId":"gpt-4o"})");
  EXPECT_EQ(e.response_elements_json, R"({"inputTokens":5,"outputTokens":6})");
  EXPECT_FALSE(e.read_only);
  EXPECT_EQ(e.event_category, "Data");
  EXPECT_FALSE(Parsed(e).as_object().contains("tlsDetails"));
}

TEST(InvocationEventTest, OpenAiOperationNames) {
  RequestContext ctx = BaseContext();
  ctx.flavor = ApiFlavor::kOpenAi;
  ctx.caller = User("prm_0123456789abcdef");
  ctx.status = 200;
  ctx.operation = Operation::kEmbeddings;
  ctx.model_id = "text-embedding-3-small";
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).event_name, "Embeddings");
  ctx.operation = Operation::kListModels;
  ctx.model_id.clear();
  const audit::Event list = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(list.event_name, "ListModels");
  EXPECT_EQ(list.event_source, "perimeter.openai");
  EXPECT_TRUE(list.read_only);
  EXPECT_EQ(list.request_parameters_json, "null");
  EXPECT_EQ(list.response_elements_json, "null");
  EXPECT_TRUE(list.resources.empty());
}

TEST(InvocationEventTest, BedrockStreamingAndApplyGuardrailNames) {
  RequestContext ctx = ConverseContext();
  ctx.operation = Operation::kInvokeModelWithResponseStream;
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).event_name, "InvokeModelWithResponseStream");
  ctx.operation = Operation::kConverseStream;
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).event_name, "ConverseStream");

  RequestContext apply = BaseContext();
  apply.operation = Operation::kApplyGuardrail;
  apply.flavor = ApiFlavor::kBedrock;
  apply.request.path = "/guardrail/gr1/version/1/apply";
  apply.request.body =
      std::string(R"({"source":"INPUT","content":[{"text":{"text":")") + kMarker + R"("}}]})";
  apply.guardrail = model::GuardrailRequest{"gr1", "1"};
  apply.caller = User();
  apply.deciding_statements = {"alice policy[0]"};
  apply.guardrail_outcome = pipeline::GuardrailOutcome{"BLOCKED", "NONE", {}, {"wordPolicy"}, {}};
  apply.status = 200;
  const audit::Event e = InvocationEvent(apply, kRegion, kAccount);
  EXPECT_EQ(e.event_source, "bedrock.amazonaws.com");
  EXPECT_EQ(e.event_name, "ApplyGuardrail");
  EXPECT_EQ(json::parse(e.request_parameters_json),
            json::parse(R"({"guardrailIdentifier":"gr1","guardrailVersion":"1"})"));
  EXPECT_EQ(e.response_elements_json, R"({"action":"GUARDRAIL_INTERVENED"})");
  // guardrail_arn is not set (the access filter sets it): the ARN is built like it does.
  ASSERT_EQ(e.resources.size(), 1u);
  EXPECT_EQ(e.resources[0].at("ARN"), "arn:aws:bedrock:eu-west-1:111122223333:guardrail/gr1:1");
  EXPECT_EQ(e.resources[0].at("type"), "AWS::Bedrock::Guardrail");
  EXPECT_EQ(e.guardrail->id, "arn:aws:bedrock:eu-west-1:111122223333:guardrail/gr1:1");
  EXPECT_EQ(e.guardrail->policies, std::vector<std::string>{"wordPolicy"});
  EXPECT_THAT(audit::EventJson(e), Not(HasSubstr(kMarker)));
}

TEST(InvocationEventTest, UserAgentIsTruncatedTo256Bytes) {
  RequestContext ctx = ConverseContext();
  ctx.request.headers = {{"user-agent", std::string(300, 'a')}};
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).user_agent, std::string(256, 'a'));
  // Never in the middle of a character.
  ctx.request.headers = {{"user-agent", std::string(255, 'a') + "\xc3\xa9" + "zz"}};
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).user_agent, std::string(255, 'a'));
}

TEST(InvocationEventTest, ErrorTypeThatIsNotANameIsReplacedByTheStatus) {
  RequestContext ctx = ConverseContext();
  ctx.status = 502;
  ctx.error_type = std::string("upstream said: ") + kMarker;
  const audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.error_code, "HTTP502");
  EXPECT_EQ(e.error_message, "HTTP 502");
}

TEST(InvocationEventTest, StsCalls) {
  RequestContext ctx = BaseContext();
  ctx.flavor = ApiFlavor::kSts;
  ctx.request.path = "/";
  ctx.caller = User();
  ctx.credential_id = "AKIAEXAMPLEUSER00001";
  ctx.status = 200;

  ctx.operation = Operation::kStsGetCallerIdentity;
  ctx.request.body = "Action=GetCallerIdentity&Version=2011-06-15";
  audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_source, "sts.amazonaws.com");
  EXPECT_EQ(e.event_name, "GetCallerIdentity");
  EXPECT_TRUE(e.read_only);
  EXPECT_TRUE(e.management_event);
  EXPECT_EQ(e.event_category, "Management");
  EXPECT_EQ(e.request_parameters_json, "null");
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.decision->effect, "Allow");

  ctx.operation = Operation::kStsAssumeRole;
  ctx.request.body =
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%"
      "2Fdemo&RoleSessionName=s1&DurationSeconds=900&Policy=%7B%22" +
      std::string(kMarker) + "%22%7D";
  e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_name, "AssumeRole");
  EXPECT_FALSE(e.read_only);
  EXPECT_TRUE(e.management_event);
  EXPECT_EQ(json::parse(e.request_parameters_json),
            json::parse(R"({"roleArn":"arn:aws:iam::111122223333:role/demo",)"
                        R"("roleSessionName":"s1","durationSeconds":900})"));
  ASSERT_EQ(e.resources.size(), 1u);
  EXPECT_EQ(e.resources[0].at("ARN"), "arn:aws:iam::111122223333:role/demo");
  EXPECT_EQ(e.resources[0].at("type"), "AWS::IAM::Role");
  EXPECT_THAT(audit::EventJson(e), Not(HasSubstr(kMarker)));

  ctx.operation = Operation::kStsUnknown;
  ctx.request.body = "Action=GetSessionToken&Version=2011-06-15";
  ctx.status = 400;
  ctx.error_type = "InvalidAction";
  e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_name, "GetSessionToken");
  EXPECT_EQ(e.event_source, "sts.amazonaws.com");
  ctx.request.body = "Action=%3Cscript%3E";
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).event_name, "Unknown");
}

TEST(InvocationEventTest, KmsFrontDoor) {
  RequestContext ctx = BaseContext();
  ctx.flavor = ApiFlavor::kKms;
  ctx.operation = Operation::kKms;
  ctx.request.path = "/";
  ctx.request.headers.emplace_back("x-amz-target", "TrentService.Decrypt");
  ctx.request.body = std::string(R"({"CiphertextBlob":")") + kMarker +
                     R"(","KeyId":"key-1","EncryptionContext":{"x":")" + kMarker + R"("}})";
  ctx.caller = User();
  ctx.status = 200;
  ctx.key_uses = {{"key-1", 2, "Decrypt", ""}, {"key-1", 2, "Decrypt", ""}};
  audit::Event e = InvocationEvent(ctx, kRegion, kAccount);
  EXPECT_EQ(e.event_source, "kms.amazonaws.com");
  EXPECT_EQ(e.event_name, "Decrypt");
  EXPECT_TRUE(e.read_only);
  EXPECT_TRUE(e.management_event);
  EXPECT_EQ(e.event_category, "Management");
  EXPECT_EQ(e.request_parameters_json, R"({"keyId":"key-1"})");
  ASSERT_EQ(e.resources.size(), 1u);  // one resource per key, however often it was used
  EXPECT_EQ(e.resources[0].at("ARN"), "arn:aws:kms:eu-west-1:111122223333:key/key-1");
  EXPECT_EQ(e.resources[0].at("type"), "AWS::KMS::Key");
  EXPECT_EQ(e.keys.size(), 2u);
  EXPECT_THAT(audit::EventJson(e), Not(HasSubstr(kMarker)));

  ctx.request.headers.back().second = "TrentService.DescribeKey";
  EXPECT_TRUE(InvocationEvent(ctx, kRegion, kAccount).read_only);
  ctx.request.headers.back().second = "TrentService.ScheduleKeyDeletion";
  EXPECT_FALSE(InvocationEvent(ctx, kRegion, kAccount).read_only);
  ctx.request.headers.back().second = "TrentService.<b>x</b>";
  EXPECT_EQ(InvocationEvent(ctx, kRegion, kAccount).event_name, "Unknown");
}

kms::KeyUseEvent KeyEvent(std::string caller_arn, std::string operation) {
  kms::KeyUseEvent k;
  k.time = kTime;
  k.caller_arn = std::move(caller_arn);
  k.operation = std::move(operation);
  k.key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
  k.key_version = 4;
  k.encryption_context = {{"purpose", "vault-token"}, {"tenant", "acme"}};
  k.tenant = "acme";
  k.outcome = "Success";
  return k;
}

TEST(KeyUseAuditEventTest, GatewayServicePrincipalDecrypt) {
  const audit::Event e = KeyUseAuditEvent(
      KeyEvent(std::string(kms::kGatewayServicePrincipal), "Decrypt"), kRegion, kAccount, "req-9");
  EXPECT_EQ(e.event_time, kTime);
  EXPECT_EQ(e.event_source, "kms.amazonaws.com");
  EXPECT_EQ(e.event_name, "Decrypt");
  EXPECT_EQ(e.user_identity.type, "AWSService");
  EXPECT_EQ(e.user_identity.invoked_by, "perimeter.internal");
  EXPECT_EQ(e.user_identity.arn, "");
  EXPECT_EQ(e.source_ip_address, "perimeter.internal");
  EXPECT_EQ(json::parse(e.request_parameters_json),
            json::parse(R"({"keyId":"1234abcd-12ab-34cd-56ef-1234567890ab",)"
                        R"("encryptionContext":{"purpose":"vault-token","tenant":"acme"}})"));
  EXPECT_EQ(e.response_elements_json, "null");
  EXPECT_EQ(e.error_code, "");
  EXPECT_EQ(e.request_id, "req-9");
  EXPECT_TRUE(e.read_only);  // as CloudTrail marks Decrypt
  EXPECT_TRUE(e.management_event);
  EXPECT_EQ(e.event_category, "Management");
  EXPECT_EQ(e.recipient_account_id, kAccount);
  const std::vector<std::map<std::string, std::string>> resources{
      {{"ARN", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
       {"type", "AWS::KMS::Key"},
       {"accountId", kAccount}}};
  EXPECT_EQ(e.resources, resources);
  EXPECT_EQ(e.tenant_id, "acme");
  ASSERT_EQ(e.keys.size(), 1u);
  EXPECT_EQ(e.keys[0].key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
  EXPECT_EQ(e.keys[0].key_version, 4u);
  EXPECT_EQ(e.keys[0].operation, "Decrypt");
  EXPECT_EQ(e.keys[0].purpose, "vault-token");
  EXPECT_EQ(e.http_status, 0);
  EXPECT_FALSE(Parsed(e).as_object().contains("httpStatus"));
}

TEST(KeyUseAuditEventTest, IdentityTypesFromTheCallerArn) {
  audit::Event e = KeyUseAuditEvent(KeyEvent("arn:aws:iam::111122223333:root", "CreateKey"),
                                    kRegion, kAccount, "");
  EXPECT_EQ(e.user_identity.type, "Root");
  EXPECT_EQ(e.user_identity.account_id, kAccount);
  EXPECT_FALSE(e.read_only);

  e = KeyUseAuditEvent(
      KeyEvent("arn:aws:sts::111122223333:assumed-role/tenant-acme/perimeter-acme", "Encrypt"),
      kRegion, kAccount, "req-2");
  EXPECT_EQ(e.user_identity.type, "AssumedRole");
  EXPECT_EQ(e.user_identity.arn,
            "arn:aws:sts::111122223333:assumed-role/tenant-acme/perimeter-acme");
  ASSERT_TRUE(e.user_identity.session_context.has_value());
  EXPECT_EQ(e.user_identity.session_context->session_issuer_arn, kRoleArn);
  EXPECT_TRUE(e.read_only);

  e = KeyUseAuditEvent(KeyEvent(kUserArn, "GenerateDataKey"), kRegion, kAccount, "");
  EXPECT_EQ(e.user_identity.type, "IAMUser");
  EXPECT_EQ(e.user_identity.arn, kUserArn);
  EXPECT_TRUE(e.read_only);
  e = KeyUseAuditEvent(KeyEvent(kUserArn, "DisableKey"), kRegion, kAccount, "");
  EXPECT_FALSE(e.read_only);
}

TEST(KeyUseAuditEventTest, FailureCarriesOutcomeAndMessage) {
  kms::KeyUseEvent k = KeyEvent(kUserArn, "Decrypt");
  k.outcome = "AccessDeniedException";
  k.message = "the key policy does not allow kms:Decrypt";
  const audit::Event e = KeyUseAuditEvent(k, kRegion, kAccount, "req-3");
  EXPECT_EQ(e.error_code, "AccessDeniedException");
  EXPECT_EQ(e.error_message, "the key policy does not allow kms:Decrypt");
  ASSERT_TRUE(e.decision.has_value());
  EXPECT_EQ(e.decision->effect, "Deny");
}

TEST(KeyUseAuditEventTest, UnresolvedKeyHasNoResource) {
  kms::KeyUseEvent k = KeyEvent(kUserArn, "Decrypt");
  k.key_id.clear();
  k.outcome = "NotFoundException";
  const audit::Event e = KeyUseAuditEvent(k, kRegion, kAccount, "");
  EXPECT_TRUE(e.resources.empty());
  EXPECT_TRUE(e.keys.empty());
  EXPECT_FALSE(e.decision.has_value());
}

TEST(AdminEventTest, SuccessAndFailure) {
  ManualClock clock(kTime);
  audit::Event e = AdminEvent("CreateUser", "arn:aws:iam::111122223333:user/bob",
                              R"({"userName":"bob"})", Status::Ok(), kRegion, kAccount, clock);
  EXPECT_EQ(e.event_time, kTime);
  EXPECT_EQ(e.event_source, "perimeter.admin");
  EXPECT_EQ(e.event_name, "CreateUser");
  EXPECT_EQ(e.user_identity.type, "Operator");
  EXPECT_EQ(e.user_identity.arn, "arn:aws:iam::111122223333:root");
  EXPECT_EQ(e.source_ip_address, "perimeter-cli");
  EXPECT_EQ(e.user_agent, "perimeter-cli");
  EXPECT_EQ(e.event_type, "PerimeterAdminAction");
  EXPECT_TRUE(e.management_event);
  EXPECT_EQ(e.event_category, "Management");
  EXPECT_EQ(e.request_parameters_json, R"({"userName":"bob"})");
  EXPECT_EQ(e.error_code, "");
  const std::vector<std::map<std::string, std::string>> resources{
      {{"ARN", "arn:aws:iam::111122223333:user/bob"}, {"type", "AWS::IAM::User"}}};
  EXPECT_EQ(e.resources, resources);
  const json::value v = Parsed(e);
  EXPECT_FALSE(v.as_object().contains("errorCode"));
  EXPECT_EQ(v.at("requestParameters").at("userName").as_string(), "bob");

  clock.Advance(std::chrono::seconds(5));
  e = AdminEvent("DisableKey", "arn:aws:kms:eu-west-1:111122223333:key/k1", "",
                 NotFound("no key k1; list keys with `perimeter keys list`"), kRegion, kAccount,
                 clock);
  EXPECT_EQ(e.event_time, kTime + std::chrono::seconds(5));
  EXPECT_EQ(e.request_parameters_json, "null");
  EXPECT_EQ(e.error_code, std::string(StatusCodeName(StatusCode::kNotFound)));
  EXPECT_EQ(e.error_message, "no key k1; list keys with `perimeter keys list`");
  EXPECT_EQ(e.resources.at(0).at("type"), "AWS::KMS::Key");

  e = AdminEvent("RotateAuditKey", "", "null", Status::Ok(), kRegion, kAccount, clock);
  EXPECT_TRUE(e.resources.empty());
}

TEST(CrossTenantIncidentEventTest, NamesTypeAndOwnerButNoValue) {
  RequestContext ctx = ConverseContext();
  ctx.guardrail_outcome->output = "BLOCKED";
  ctx.guardrail_outcome->cross_tenant_incidents = {{"EMAIL", "globex"}};
  const audit::Event e = CrossTenantIncidentEvent(
      ctx, ctx.guardrail_outcome->cross_tenant_incidents[0], kRegion, kAccount);
  EXPECT_EQ(e.event_type, "AwsServiceEvent");
  EXPECT_EQ(e.event_name, "CrossTenantIdentifierBlocked");
  EXPECT_EQ(e.event_source, "bedrock.amazonaws.com");
  EXPECT_EQ(e.tenant_id, "acme");
  EXPECT_EQ(e.request_id, "req-1");
  EXPECT_EQ(json::parse(e.response_elements_json),
            json::parse(R"({"entityType":"EMAIL","ownerTenant":"globex"})"));
  EXPECT_EQ(e.user_identity.type, "AssumedRole");
  ASSERT_TRUE(e.guardrail.has_value());
  ASSERT_EQ(e.guardrail->cross_tenant_incidents.size(), 1u);
  EXPECT_EQ(e.guardrail->cross_tenant_incidents[0].owner_tenant, "globex");
  EXPECT_NE(e.event_id, InvocationEvent(ctx, kRegion, kAccount).event_id);
  EXPECT_THAT(audit::EventJson(e), Not(HasSubstr(kMarker)));
}

// The guardrail filter's outcome names the policies that intervened, and the event carries them.
class GuardrailPoliciesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    guard::DeclaredGuardrail g;
    g.id = "gr1";
    g.origin = "test";
    g.json = R"({"name":"g","blockedInputMessaging":"in","blockedOutputsMessaging":"out",
      "sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[
        {"type":"EMAIL","action":"ANONYMIZE"}]},
      "wordPolicyConfig":{"wordsConfig":[{"text":"Project Zeus"},
        {"text":"competitor","inputAction":"NONE"}]}})";
    auto registry = guard::GuardrailRegistry::Create({g}, nullptr, kRegion, kAccount);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    filter_ = std::make_unique<GuardrailFilter>(nullptr, *registry, nullptr);
  }

  RequestContext Apply(const std::string& text) {
    RequestContext ctx = BaseContext();
    ctx.operation = Operation::kApplyGuardrail;
    ctx.flavor = ApiFlavor::kBedrock;
    ctx.guardrail = model::GuardrailRequest{"gr1", "1"};
    ctx.request.body = json::serialize(json::object{
        {"source", "INPUT"},
        {"content", json::array{json::object{{"text", json::object{{"text", text}}}}}}});
    auto r = filter_->HandleApply(ctx);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return ctx;
  }

  std::unique_ptr<GuardrailFilter> filter_;
};

TEST_F(GuardrailPoliciesTest, RecordsEachPolicyThatActed) {
  RequestContext ctx = Apply("mail alice@example.com about Project Zeus");
  ASSERT_TRUE(ctx.guardrail_outcome.has_value());
  EXPECT_EQ(ctx.guardrail_outcome->input, "BLOCKED");
  EXPECT_EQ(ctx.guardrail_outcome->policies,
            (std::vector<std::string>{"sensitiveInformationPolicy", "wordPolicy"}));
  ctx.status = 200;
  const std::string text = audit::EventJson(InvocationEvent(ctx, kRegion, kAccount));
  const json::value v = json::parse(text);
  EXPECT_EQ(v.at("guardrail").at("policies"),
            json::parse(R"(["sensitiveInformationPolicy","wordPolicy"])"));
  EXPECT_EQ(v.at("guardrail").at("entityTypes"), json::parse(R"(["EMAIL"])"));
  EXPECT_THAT(text, Not(HasSubstr("alice@example.com")));
  EXPECT_THAT(text, Not(HasSubstr("Zeus")));
}

TEST_F(GuardrailPoliciesTest, OnlyPoliciesThatActed) {
  RequestContext ctx = Apply("mail alice@example.com");
  EXPECT_EQ(ctx.guardrail_outcome->input, "ANONYMIZED");
  EXPECT_EQ(ctx.guardrail_outcome->policies,
            std::vector<std::string>{"sensitiveInformationPolicy"});
  // A word configured with action NONE is detected but did not intervene.
  ctx = Apply("a word about the competitor");
  EXPECT_EQ(ctx.guardrail_outcome->input, "NONE");
  EXPECT_TRUE(ctx.guardrail_outcome->policies.empty());
}

}  // namespace
}  // namespace perimeter::api
