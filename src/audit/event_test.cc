#include "audit/event.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include <boost/json.hpp>

namespace perimeter::audit {
namespace {

namespace json = boost::json;

// 2026-11-27T05:52:23Z
const std::chrono::system_clock::time_point kTime{std::chrono::seconds(1795758743)};

Event FullEvent() {
  Event e;
  e.event_time = kTime;
  e.event_source = "bedrock.amazonaws.com";
  e.event_name = "Converse";
  e.aws_region = "eu-west-1";
  e.source_ip_address = "192.0.2.7";
  e.user_agent = "aws-sdk-java/2.30.22";
  e.user_identity.type = "AssumedRole";
  e.user_identity.principal_id = "AROAEXAMPLE:perimeter-acme";
  e.user_identity.arn = "arn:aws:sts::111122223333:assumed-role/acme/perimeter-acme";
  e.user_identity.account_id = "111122223333";
  e.user_identity.access_key_id = "AKIAEXAMPLE";
  e.user_identity.session_context =
      SessionContext{"arn:aws:iam::111122223333:role/acme", "2026-11-27T05:50:00Z", "false", "bob"};
  e.request_parameters_json = R"({"modelId":"anthropic.claude-3","guardrailVersion":"1"})";
  e.response_elements_json = R"({"inputTokens":12,"outputTokens":34})";
  e.request_id = "req-1";
  e.event_id = "0b2d8a4e-1c3f-4a5b-9c7d-0e1f2a3b4c5d";
  e.read_only = false;
  e.event_type = "AwsApiCall";
  e.management_event = false;
  e.recipient_account_id = "111122223333";
  e.event_category = "Data";
  e.tls_details = TlsDetails{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "gw.example.com"};
  e.resources = {
      {{"ARN", "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3"},
       {"type", "AWS::Bedrock::Model"}},
      {{"ARN", "arn:aws:bedrock:eu-west-1:111122223333:guardrail/gr1:1"},
       {"type", "AWS::Bedrock::Guardrail"},
       {"accountId", "111122223333"}},
  };
  e.tenant_id = "acme";
  e.decision = Decision{"Allow", {"user policy[0]", "tenant role policy[0]"}};
  GuardrailAudit g;
  g.id = "arn:aws:bedrock:eu-west-1:111122223333:guardrail/gr1:1";
  g.version = "1";
  g.input_action = "ANONYMIZED";
  g.output_action = "BLOCKED";
  g.policies = {"crossTenantPolicy", "sensitiveInformationPolicy"};
  g.entity_types = {"EMAIL", "PHONE"};
  g.cross_tenant_incidents = {{"EMAIL", "globex"}};
  e.guardrail = g;
  e.keys = {{"1234abcd-12ab", 3, "Encrypt", "vault-token"}, {"5678efgh", 1, "Decrypt", ""}};
  e.http_status = 200;
  return e;
}

void ExpectSameEvent(const Event& a, const Event& b) {
  EXPECT_EQ(a.event_time, b.event_time);
  EXPECT_EQ(a.event_source, b.event_source);
  EXPECT_EQ(a.event_name, b.event_name);
  EXPECT_EQ(a.aws_region, b.aws_region);
  EXPECT_EQ(a.source_ip_address, b.source_ip_address);
  EXPECT_EQ(a.user_agent, b.user_agent);
  EXPECT_EQ(a.user_identity.type, b.user_identity.type);
  EXPECT_EQ(a.user_identity.principal_id, b.user_identity.principal_id);
  EXPECT_EQ(a.user_identity.arn, b.user_identity.arn);
  EXPECT_EQ(a.user_identity.account_id, b.user_identity.account_id);
  EXPECT_EQ(a.user_identity.access_key_id, b.user_identity.access_key_id);
  EXPECT_EQ(a.user_identity.invoked_by, b.user_identity.invoked_by);
  ASSERT_EQ(a.user_identity.session_context.has_value(),
            b.user_identity.session_context.has_value());
  if (a.user_identity.session_context) {
    const auto& x = *a.user_identity.session_context;
    const auto& y = *b.user_identity.session_context;
    EXPECT_EQ(x.session_issuer_arn, y.session_issuer_arn);
    EXPECT_EQ(x.creation_date, y.creation_date);
    EXPECT_EQ(x.mfa_authenticated, y.mfa_authenticated);
    EXPECT_EQ(x.source_identity, y.source_identity);
  }
  EXPECT_EQ(a.request_parameters_json, b.request_parameters_json);
  EXPECT_EQ(a.response_elements_json, b.response_elements_json);
  EXPECT_EQ(a.error_code, b.error_code);
  EXPECT_EQ(a.error_message, b.error_message);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.read_only, b.read_only);
  EXPECT_EQ(a.event_type, b.event_type);
  EXPECT_EQ(a.management_event, b.management_event);
  EXPECT_EQ(a.recipient_account_id, b.recipient_account_id);
  EXPECT_EQ(a.event_category, b.event_category);
  ASSERT_EQ(a.tls_details.has_value(), b.tls_details.has_value());
  if (a.tls_details) {
    EXPECT_EQ(a.tls_details->tls_version, b.tls_details->tls_version);
    EXPECT_EQ(a.tls_details->cipher_suite, b.tls_details->cipher_suite);
    EXPECT_EQ(a.tls_details->client_provided_host_header,
              b.tls_details->client_provided_host_header);
  }
  EXPECT_EQ(a.resources, b.resources);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  ASSERT_EQ(a.decision.has_value(), b.decision.has_value());
  if (a.decision) {
    EXPECT_EQ(a.decision->effect, b.decision->effect);
    EXPECT_EQ(a.decision->statements, b.decision->statements);
  }
  ASSERT_EQ(a.guardrail.has_value(), b.guardrail.has_value());
  if (a.guardrail) {
    const auto& x = *a.guardrail;
    const auto& y = *b.guardrail;
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.version, y.version);
    EXPECT_EQ(x.input_action, y.input_action);
    EXPECT_EQ(x.output_action, y.output_action);
    EXPECT_EQ(x.policies, y.policies);
    EXPECT_EQ(x.entity_types, y.entity_types);
    ASSERT_EQ(x.cross_tenant_incidents.size(), y.cross_tenant_incidents.size());
    for (size_t i = 0; i < x.cross_tenant_incidents.size(); ++i) {
      EXPECT_EQ(x.cross_tenant_incidents[i].type, y.cross_tenant_incidents[i].type);
      EXPECT_EQ(x.cross_tenant_incidents[i].owner_tenant, y.cross_tenant_incidents[i].owner_tenant);
    }
  }
  ASSERT_EQ(a.keys.size(), b.keys.size());
  for (size_t i = 0; i < a.keys.size(); ++i) {
    EXPECT_EQ(a.keys[i].key_id, b.keys[i].key_id);
    EXPECT_EQ(a.keys[i].key_version, b.keys[i].key_version);
    EXPECT_EQ(a.keys[i].operation, b.keys[i].operation);
    EXPECT_EQ(a.keys[i].purpose, b.keys[i].purpose);
  }
  EXPECT_EQ(a.http_status, b.http_status);
}

TEST(EventJsonTest, FullEventRoundTrips) {
  const Event e = FullEvent();
  const std::string text = EventJson(e);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  auto back = ParseEventJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameEvent(e, *back);
  // And the text is stable: writing the parsed event gives the same bytes.
  EXPECT_EQ(EventJson(*back), text);
}

TEST(EventJsonTest, MinimalEventRoundTrips) {
  Event e;
  e.event_time = kTime;
  e.event_source = "perimeter.admin";
  e.event_name = "CreateUser";
  const std::string text = EventJson(e);
  auto back = ParseEventJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameEvent(e, *back);
  EXPECT_EQ(back->request_parameters_json, "null");
  EXPECT_EQ(back->user_identity.type, "Unknown");
  EXPECT_FALSE(back->user_identity.session_context.has_value());
}

TEST(EventJsonTest, SmallEventHasCloudTrailNamesInOrder) {
  Event e;
  e.event_time = kTime;
  e.event_source = "kms.amazonaws.com";
  e.event_name = "Decrypt";
  e.aws_region = "eu-west-1";
  e.source_ip_address = "10.0.0.1";
  e.user_agent = "ua";
  e.user_identity.type = "IAMUser";
  e.user_identity.arn = "arn:aws:iam::111122223333:user/alice";
  e.user_identity.account_id = "111122223333";
  e.request_parameters_json = R"({"keyId":"k1"})";
  e.error_code = "AccessDeniedException";
  e.error_message = "HTTP 403";
  e.request_id = "r1";
  e.event_id = "e1";
  e.read_only = true;
  e.event_type = "AwsApiCall";
  e.management_event = true;
  e.recipient_account_id = "111122223333";
  e.event_category = "Management";
  e.tenant_id = "acme";
  e.keys = {{"k1", 2, "Decrypt", "vault-token"}};
  e.http_status = 403;
  EXPECT_EQ(
      EventJson(e),
      R"({"eventVersion":"1.09","userIdentity":{"type":"IAMUser",)"
      R"("arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},)"
      R"("eventTime":"2026-11-27T05:52:23Z","eventSource":"kms.amazonaws.com",)"
      R"("eventName":"Decrypt","awsRegion":"eu-west-1","sourceIPAddress":"10.0.0.1",)"
      R"("userAgent":"ua","requestParameters":{"keyId":"k1"},"responseElements":null,)"
      R"("errorCode":"AccessDeniedException","errorMessage":"HTTP 403","requestID":"r1",)"
      R"("eventID":"e1","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,)"
      R"("recipientAccountId":"111122223333","eventCategory":"Management","tenantId":"acme",)"
      R"("keys":[{"keyId":"k1","keyVersion":2,"operation":"Decrypt","purpose":"vault-token"}],)"
      R"("httpStatus":403})");
}

TEST(EventJsonTest, FullEventWritesEveryPartInDocumentedOrder) {
  json::value v = json::parse(EventJson(FullEvent()));
  std::vector<std::string> keys;
  for (const auto& kv : v.as_object()) keys.emplace_back(kv.key());
  const std::vector<std::string> expected{"eventVersion",
                                          "userIdentity",
                                          "eventTime",
                                          "eventSource",
                                          "eventName",
                                          "awsRegion",
                                          "sourceIPAddress",
                                          "userAgent",
                                          "requestParameters",
                                          "responseElements",
                                          "requestID",
                                          "eventID",
                                          "readOnly",
                                          "resources",
                                          "eventType",
                                          "managementEvent",
                                          "recipientAccountId",
                                          "eventCategory",
                                          "tlsDetails",
                                          "tenantId",
                                          "decision",
                                          "guardrail",
                                          "keys",
                                          "httpStatus"};
  EXPECT_EQ(keys, expected);
  const json::object& user = v.at("userIdentity").as_object();
  EXPECT_EQ(user.at("sessionContext").at("sessionIssuer").at("arn").as_string(),
            "arn:aws:iam::111122223333:role/acme");
  EXPECT_EQ(user.at("sessionContext").at("attributes").at("creationDate").as_string(),
            "2026-11-27T05:50:00Z");
  EXPECT_EQ(user.at("sessionContext").at("attributes").at("mfaAuthenticated").as_string(), "false");
  EXPECT_EQ(v.at("tlsDetails").at("clientProvidedHostHeader").as_string(), "gw.example.com");
  EXPECT_EQ(v.at("requestParameters").at("modelId").as_string(), "anthropic.claude-3");
  EXPECT_EQ(v.at("guardrail").at("crossTenantIncidents").at(0).at("ownerTenant").as_string(),
            "globex");
}

TEST(EventJsonTest, OmitsEmptyOptionalParts) {
  Event e;
  e.event_time = kTime;
  e.event_source = "bedrock.amazonaws.com";
  e.event_name = "InvokeModel";
  e.user_identity.type = "IAMUser";
  e.user_identity.arn = "arn:aws:iam::1:user/u";
  json::value v = json::parse(EventJson(e));
  const json::object& o = v.as_object();
  for (const char* absent : {"errorCode", "errorMessage", "resources", "tlsDetails", "tenantId",
                             "decision", "guardrail", "keys", "httpStatus"}) {
    EXPECT_FALSE(o.contains(absent)) << absent;
  }
  const json::object& user = o.at("userIdentity").as_object();
  for (const char* absent :
       {"sessionContext", "principalId", "accountId", "accessKeyId", "invokedBy"}) {
    EXPECT_FALSE(user.contains(absent)) << absent;
  }
  EXPECT_TRUE(o.at("requestParameters").is_null());
  EXPECT_TRUE(o.at("responseElements").is_null());
  // The CloudTrail core is always there.
  for (const char* present :
       {"awsRegion", "sourceIPAddress", "userAgent", "requestID", "eventID", "readOnly",
        "eventType", "managementEvent", "recipientAccountId", "eventCategory"}) {
    EXPECT_TRUE(o.contains(present)) << present;
  }
}

TEST(EventJsonTest, GuardrailWithoutIncidentsOmitsThem) {
  Event e = FullEvent();
  e.guardrail->cross_tenant_incidents.clear();
  json::value v = json::parse(EventJson(e));
  EXPECT_FALSE(v.at("guardrail").as_object().contains("crossTenantIncidents"));
}

TEST(EventJsonTest, InvalidUtf8IsReplacedSoTheRecordReadsBack) {
  Event e;
  e.event_time = kTime;
  e.event_source = "bedrock.amazonaws.com";
  e.event_name = "InvokeModel";
  e.user_agent = std::string("curl\xff\xc3") + "/8 \xc3\xa9";  // stray bytes, then a valid é
  const std::string text = EventJson(e);
  auto back = ParseEventJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->user_agent, "curl\xEF\xBF\xBD\xEF\xBF\xBD/8 \xc3\xa9");

  // Overlong encodings, surrogates and code points above U+10FFFF are not UTF-8 either; a
  // 4-byte character is kept.
  const std::string r = "\xEF\xBF\xBD";
  e.user_agent =
      "a\xc0\x80"
      "b\xed\xa0\x80"
      "c\xf4\x90\x80\x80"
      "d\xf0\x9f\x98\x80";
  back = ParseEventJson(EventJson(e));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->user_agent,
            "a" + r + r + "b" + r + r + r + "c" + r + r + r + r + "d\xf0\x9f\x98\x80");
}

TEST(EventJsonTest, RequestParametersThatAreNotJsonAreWrittenAsNull) {
  Event e;
  e.event_time = kTime;
  e.event_source = "s";
  e.event_name = "n";
  e.request_parameters_json = "{not json";
  json::value v = json::parse(EventJson(e));
  EXPECT_TRUE(v.at("requestParameters").is_null());
}

TEST(EventJsonTest, ToleratesMissingOptionalFieldsAndUnknownOnes) {
  auto e = ParseEventJson(
      R"({"eventVersion":"1.09","eventTime":"2026-11-27T05:52:23Z",)"
      R"("eventSource":"sts.amazonaws.com","eventName":"AssumeRole","additionalEventData":{}})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->event_time, kTime);
  EXPECT_EQ(e->event_name, "AssumeRole");
  EXPECT_EQ(e->user_identity.type, "Unknown");
  EXPECT_EQ(e->request_parameters_json, "null");
  EXPECT_EQ(e->event_category, "Data");
  EXPECT_EQ(e->http_status, 0);
  EXPECT_FALSE(e->decision.has_value());
}

TEST(EventJsonTest, ParseErrorsNameTheField) {
  const std::string head =
      R"({"eventVersion":"1.09","eventTime":"2026-11-27T05:52:23Z","eventSource":"s",)"
      R"("eventName":"n")";
  struct Case {
    std::string json;
    std::string field;
  };
  const std::vector<Case> cases{
      {"not json", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"eventTime":"2026-11-27T05:52:23Z","eventSource":"s","eventName":"n"})",
       "eventVersion is missing"},
      {R"({"eventVersion":"1.09","eventSource":"s","eventName":"n"})", "eventTime is missing"},
      {R"({"eventVersion":"1.09","eventTime":"yesterday","eventSource":"s","eventName":"n"})",
       "eventTime is not an RFC 3339"},
      {R"({"eventVersion":"1.09","eventTime":"2026-11-27T05:52:23Z","eventName":"n"})",
       "eventSource is missing"},
      {head + R"(,"readOnly":"true"})", "readOnly must be true or false"},
      {head + R"(,"managementEvent":1})", "managementEvent must be true or false"},
      {head + R"(,"userIdentity":"alice"})", "userIdentity must be an object"},
      {head + R"(,"userIdentity":{"type":1}})", "userIdentity.type must be a string"},
      {head + R"(,"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":false}}}})",
       "userIdentity.sessionContext.attributes.mfaAuthenticated must be a string"},
      {head + R"(,"resources":{}})", "resources must be an array"},
      {head + R"(,"resources":[{"ARN":1}]})", "resources[0].ARN must be a string"},
      {head + R"(,"httpStatus":"200"})", "httpStatus must be an integer"},
      {head + R"(,"httpStatus":2.5})", "httpStatus must be an integer"},
      {head + R"(,"httpStatus":70000})", "httpStatus is out of range"},
      {head + R"(,"keys":[{"keyId":"k","keyVersion":-1}]})", "keys[0].keyVersion is out of range"},
      {head + R"(,"keys":[{"keyId":"k","keyVersion":4294967296}]})",
       "keys[0].keyVersion is out of range"},
      {head + R"(,"keys":["k"]})", "keys[0] must be an object"},
      {head + R"(,"decision":{"statements":[]}})", "decision.effect is missing"},
      {head + R"(,"decision":{"effect":"Allow","statements":[1]}})",
       "decision.statements[0] must be a string"},
      {head + R"(,"guardrail":{"policies":"wordPolicy"}})", "guardrail.policies must be an array"},
      {head + R"(,"guardrail":{"crossTenantIncidents":[{"ownerTenant":7}]}})",
       "guardrail.crossTenantIncidents[0].ownerTenant must be a string"},
      {head + R"(,"tlsDetails":{"tlsVersion":null}})", "tlsDetails.tlsVersion must be a string"},
      {head + R"(,"tenantId":null})", "tenantId must be a string"},
  };
  for (const auto& c : cases) {
    auto e = ParseEventJson(c.json);
    ASSERT_FALSE(e.ok()) << c.json;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(e.status().message().find(c.field), std::string::npos)
        << c.json << " -> " << e.status().message();
  }
}

TEST(EventJsonTest, NewEventIdIsARandomUuidV4) {
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = NewEventId();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace perimeter::audit
