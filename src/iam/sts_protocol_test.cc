#include "iam/sts_protocol.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace perimeter::iam {
namespace {

constexpr std::string_view kPrefix = "Action=AssumeRole&Version=2011-06-15";
constexpr std::string_view kRoleArn = "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo";

// A minimal valid AssumeRole body followed by `extra` ("&Name=value..." or "").
std::string AssumeRoleBody(std::string_view extra, std::string_view session = "s1") {
  return std::string(kPrefix) + "&RoleArn=" + std::string(kRoleArn) +
         "&RoleSessionName=" + std::string(session) + std::string(extra);
}

StsRequest ParseOk(std::string_view body) {
  auto r = ParseStsRequest(body);
  if (auto* e = std::get_if<StsError>(&r)) {
    ADD_FAILURE() << "unexpected " << e->code << ": " << e->message << "\nbody: " << body;
    return {};
  }
  return std::get<StsRequest>(r);
}

StsError ParseErr(std::string_view body) {
  auto r = ParseStsRequest(body);
  if (!std::holds_alternative<StsError>(r)) {
    ADD_FAILURE() << "parsed, but an error was expected\nbody: " << body.substr(0, 300);
    return {};
  }
  return std::get<StsError>(r);
}

// The message of a single-violation ValidationError.
std::string OneViolation(std::string_view text) {
  return "1 validation error detected: " + std::string(text);
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bodies as the SDK sends them.

TEST(StsProtocolTest, ParsesAssumeRoleBodyExactlyAsJsSdkSendsIt) {
  // Captured from @aws-sdk/client-sts 3.1174 (AssumeRoleCommand with every supported field).
  const std::string body =
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%"
      "2Ftenant-acme&RoleSessionName=app%2Bworker%3D1%2Ceu.west%40prod-2&Policy=%7B%22Version%"
      "22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%"
      "22%3A%22bedrock%3AInvokeModel%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D&DurationSeconds="
      "900&Tags.member.1.Key=tenant&Tags.member.1.Value=acme%20corp&Tags.member.2.Key=cost-"
      "center&Tags.member.2.Value=&Tags.member.3.Key=Gr%C3%B6%C3%9Fe&Tags.member.3.Value=a%2Fb%"
      "3Ac%3Dd%2Be%40f&TransitiveTagKeys.member.1=tenant&ExternalId=ext%3Aid%2F42&"
      "SourceIdentity=alice%40example.com";
  const StsRequest r = ParseOk(body);
  ASSERT_EQ(r.action, StsAction::kAssumeRole);
  const AssumeRoleParams& p = r.assume_role;
  EXPECT_EQ(p.role_arn, "arn:aws:iam::123456789012:role/tenant-acme");
  EXPECT_EQ(p.role_session_name, "app+worker=1,eu.west@prod-2");
  EXPECT_EQ(p.policy, R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)"
                      R"("bedrock:InvokeModel","Resource":"*"}]})");
  ASSERT_TRUE(p.duration_seconds.has_value());
  EXPECT_EQ(*p.duration_seconds, 900);
  ASSERT_EQ(p.tags.size(), 3u);
  EXPECT_EQ(p.tags[0].key, "tenant");
  EXPECT_EQ(p.tags[0].value, "acme corp");
  EXPECT_EQ(p.tags[1].key, "cost-center");
  EXPECT_EQ(p.tags[1].value, "");
  EXPECT_EQ(p.tags[2].key,
            "Gr\xC3\xB6\xC3\x9F"
            "e");
  EXPECT_EQ(p.tags[2].value, "a/b:c=d+e@f");
  ASSERT_EQ(p.transitive_tag_keys.size(), 1u);
  EXPECT_EQ(p.transitive_tag_keys[0], "tenant");
  EXPECT_EQ(p.external_id, "ext:id/42");
  EXPECT_EQ(p.source_identity, "alice@example.com");
}

TEST(StsProtocolTest, ParsesGetCallerIdentityBodyAsSdkSendsIt) {
  const StsRequest r = ParseOk("Action=GetCallerIdentity&Version=2011-06-15");
  EXPECT_EQ(r.action, StsAction::kGetCallerIdentity);
  EXPECT_TRUE(r.assume_role.role_arn.empty());
}

TEST(StsProtocolTest, AcceptsEmptyListsAsSdkSendsThemForEmptyArrays) {
  // AssumeRoleCommand({..., Tags: [], TransitiveTagKeys: []}) sends "Tags=&TransitiveTagKeys=".
  const StsRequest r = ParseOk(AssumeRoleBody("&Tags=&TransitiveTagKeys=&PolicyArns="));
  EXPECT_TRUE(r.assume_role.tags.empty());
  EXPECT_TRUE(r.assume_role.transitive_tag_keys.empty());
}

TEST(StsProtocolTest, LeavesOptionalFieldsEmptyWhenNotSent) {
  const StsRequest r = ParseOk(AssumeRoleBody(""));
  EXPECT_EQ(r.assume_role.role_session_name, "s1");
  EXPECT_FALSE(r.assume_role.duration_seconds.has_value());
  EXPECT_TRUE(r.assume_role.policy.empty());
  EXPECT_TRUE(r.assume_role.external_id.empty());
  EXPECT_TRUE(r.assume_role.source_identity.empty());
}

TEST(StsProtocolTest, KeepsListMembersInIndexOrderNotNameOrder) {
  // "Tags.member.10" sorts before "Tags.member.2" as a string.
  std::string extra;
  for (int i = 1; i <= 11; ++i) {
    extra += "&Tags.member." + std::to_string(i) + ".Key=k" + std::to_string(i) + "&Tags.member." +
             std::to_string(i) + ".Value=v" + std::to_string(i);
  }
  const StsRequest r = ParseOk(AssumeRoleBody(extra));
  ASSERT_EQ(r.assume_role.tags.size(), 11u);
  for (int i = 0; i < 11; ++i) {
    EXPECT_EQ(r.assume_role.tags[i].key, "k" + std::to_string(i + 1));
    EXPECT_EQ(r.assume_role.tags[i].value, "v" + std::to_string(i + 1));
  }
}

// ---------------------------------------------------------------------------------------------
// Form decoding.

TEST(StsProtocolTest, DecodesPlusAsSpaceAndPercent2BAsPlus) {
  const StsRequest r =
      ParseOk(AssumeRoleBody("&Tags.member.1.Key=a+b&Tags.member.1.Value=c%2Bd", "x%2By"));
  EXPECT_EQ(r.assume_role.role_session_name, "x+y");
  ASSERT_EQ(r.assume_role.tags.size(), 1u);
  EXPECT_EQ(r.assume_role.tags[0].key, "a b");
  EXPECT_EQ(r.assume_role.tags[0].value, "c+d");
}

TEST(StsProtocolTest, DecodesLowerAndUpperCaseHexEscapes) {
  const StsRequest r = ParseOk(std::string(kPrefix) +
                               "&RoleArn=arn%3aaws%3Aiam%3a%3A123456789012%3arole%2fdemo"
                               "&RoleSessionName=s1");
  EXPECT_EQ(r.assume_role.role_arn, "arn:aws:iam::123456789012:role/demo");
}

TEST(StsProtocolTest, DecodesPercentEscapesInParameterNames) {
  // %53 is 'S': names are compared after decoding.
  const StsRequest r =
      ParseOk(std::string(kPrefix) + "&RoleArn=" + std::string(kRoleArn) + "&Role%53essionName=s1");
  EXPECT_EQ(r.assume_role.role_session_name, "s1");
}

TEST(StsProtocolTest, RejectsInvalidPercentEscape) {
  const StsError e = ParseErr("Action=GetCallerIdentity&Version=2011-06-15&X=%zz");
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.message,
            "Malformed percent-escape '%zz' at byte 46 of the request body: '%' must be "
            "followed by two hex digits; send a literal '%' as %25");
}

TEST(StsProtocolTest, RejectsTruncatedPercentEscapeAtEndOfBody) {
  for (const char* body : {"Action=GetCallerIdentity&Version=2011-06-15&X=%4",
                           "Action=GetCallerIdentity&Version=2011-06-15&X=%",
                           "Action=GetCallerIdentity&Version=2011-06-15%4&X=1"}) {
    const StsError e = ParseErr(body);
    EXPECT_EQ(e.code, "MalformedQueryString") << body;
    EXPECT_NE(e.message.find("Malformed percent-escape"), std::string::npos) << e.message;
  }
}

TEST(StsProtocolTest, RejectsPercentEscapeInName) {
  const StsError e = ParseErr("Action=GetCallerIdentity&Version=2011-06-15&A%g1=1");
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_NE(e.message.find("'%g1' at byte 45"), std::string::npos) << e.message;
}

TEST(StsProtocolTest, RejectsValuesThatAreNotUtf8AfterDecoding) {
  const StsError e = ParseErr(AssumeRoleBody("&Tags.member.1.Key=%FF&Tags.member.1.Value=x"));
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message,
            "The value of parameter Tags.member.1.Key is not valid UTF-8 after percent-decoding; "
            "percent-encode UTF-8 text");
  // An overlong encoding of '/' and an encoded surrogate are not UTF-8 either.
  EXPECT_EQ(ParseErr(AssumeRoleBody("&ExternalId=ab%C0%AF")).code, "MalformedQueryString");
  EXPECT_EQ(ParseErr(AssumeRoleBody("&ExternalId=ab%ED%A0%80")).code, "MalformedQueryString");
}

TEST(StsProtocolTest, SkipsEmptySegmentsAndTreatsBareNameAsEmptyValue) {
  const StsRequest r = ParseOk("&&Action=GetCallerIdentity&&Version=2011-06-15&");
  EXPECT_EQ(r.action, StsAction::kGetCallerIdentity);
  // "Tags" without '=' is the empty list, like "Tags=".
  EXPECT_TRUE(ParseOk(AssumeRoleBody("&Tags")).assume_role.tags.empty());
}

TEST(StsProtocolTest, RejectsEmptyParameterName) {
  const StsError e = ParseErr("Action=GetCallerIdentity&Version=2011-06-15&=x");
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message, "Parameter #3 of the request body has an empty name; send name=value pairs");
}

TEST(StsProtocolTest, RejectsDuplicateParameters) {
  const StsError e = ParseErr(AssumeRoleBody("&RoleSessionName=s2"));
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message,
            "The parameter RoleSessionName appears more than once in the request body; send "
            "each parameter once");
  // Spelled differently on the wire, the same after decoding.
  EXPECT_EQ(ParseErr("Action=GetCallerIdentity&Version=2011-06-15&%41ction=GetCallerIdentity").code,
            "MalformedQueryString");
  // Duplicate Action with different values must not let either win.
  EXPECT_EQ(ParseErr("Action=GetCallerIdentity&Action=AssumeRole&Version=2011-06-15").code,
            "MalformedQueryString");
}

TEST(StsProtocolTest, RejectsBodyOverSixtyFourKibWith413) {
  std::string body = AssumeRoleBody("&Policy=");
  body.resize(kMaxStsBodyBytes + 1, 'a');
  const StsError e = ParseErr(body);
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.http_status, 413);
  EXPECT_EQ(e.message,
            "The request body is 65537 bytes; Perimeter accepts STS request bodies of at most "
            "65536 bytes");
}

TEST(StsProtocolTest, ParsesBodyOfExactlySixtyFourKib) {
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  body.resize(kMaxStsBodyBytes, '&');  // empty segments
  EXPECT_EQ(ParseOk(body).action, StsAction::kGetCallerIdentity);
}

TEST(StsProtocolTest, RejectsMoreThanTwoHundredParameters) {
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  for (int i = 0; i < 198; ++i) {
    body += "&P" + std::to_string(i) + "=1";
  }
  // 200 parameters: past the count check, refused for the unknown names.
  EXPECT_EQ(ParseErr(body).code, "InvalidParameterValue");
  body += "&P198=1";
  const StsError e = ParseErr(body);
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message,
            "The request has more than 200 parameters; Perimeter accepts at most 200 in one STS "
            "request");
}

// ---------------------------------------------------------------------------------------------
// Action and Version.

TEST(StsProtocolTest, RejectsMissingAction) {
  const StsError e = ParseErr("Version=2011-06-15");
  EXPECT_EQ(e.code, "MissingAction");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_TRUE(e.sender);
}

TEST(StsProtocolTest, RejectsEmptyBodyAsMissingAction) {
  EXPECT_EQ(ParseErr("").code, "MissingAction");
}

TEST(StsProtocolTest, RejectsMissingVersion) {
  const StsError e = ParseErr("Action=GetCallerIdentity");
  EXPECT_EQ(e.code, "MissingParameter");
  EXPECT_EQ(e.message, "The request must contain the parameter Version; send Version=2011-06-15");
}

TEST(StsProtocolTest, RejectsOtherVersions) {
  const StsError e = ParseErr("Action=GetCallerIdentity&Version=2012-01-01");
  EXPECT_EQ(e.code, "InvalidAction");
  EXPECT_EQ(e.message,
            "Could not find operation GetCallerIdentity for version 2012-01-01; Perimeter "
            "serves STS version 2011-06-15");
}

TEST(StsProtocolTest, RejectsUnknownAndUnimplementedActions) {
  for (const char* action : {"GetSessionToken", "AssumeRoleWithWebIdentity", "assumerole", ""}) {
    const StsError e = ParseErr(std::string("Action=") + action + "&Version=2011-06-15");
    EXPECT_EQ(e.code, "InvalidAction") << action;
    EXPECT_EQ(e.message, std::string("Could not find operation ") + action +
                             " for version 2011-06-15; Perimeter implements AssumeRole and "
                             "GetCallerIdentity");
  }
}

TEST(StsProtocolTest, RefusesParametersOnGetCallerIdentity) {
  const StsError e = ParseErr("Action=GetCallerIdentity&Version=2011-06-15&RoleArn=x");
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message,
            "The parameter RoleArn is not supported for GetCallerIdentity by Perimeter: "
            "GetCallerIdentity takes no parameters besides Action and Version");
}

// ---------------------------------------------------------------------------------------------
// Unknown and unsupported parameters are refused, never ignored.

TEST(StsProtocolTest, RefusesUnknownAssumeRoleParameter) {
  const StsError e = ParseErr(AssumeRoleBody("&Colour=blue"));
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message,
            "The parameter Colour is not supported for AssumeRole by Perimeter: it is not an "
            "AssumeRole parameter; Perimeter accepts RoleArn, RoleSessionName, DurationSeconds, "
            "Policy, Tags.member.N.Key/Value, TransitiveTagKeys.member.N, ExternalId and "
            "SourceIdentity");
  // Names are case-sensitive.
  EXPECT_EQ(ParseErr(AssumeRoleBody("&durationSeconds=900")).code, "InvalidParameterValue");
}

TEST(StsProtocolTest, RefusesManagedSessionPoliciesInsteadOfIgnoringThem) {
  const StsError e = ParseErr(AssumeRoleBody(
      "&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess"));
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message,
            "The parameter PolicyArns.member.1.arn is not supported for AssumeRole by "
            "Perimeter: managed session policies are not supported; pass the session policy "
            "inline in Policy");
}

TEST(StsProtocolTest, RefusesMfaAndOtherUnsupportedStsParameters) {
  for (const char* extra :
       {"&SerialNumber=GAHT12345678", "&TokenCode=123456", "&MinimumSessionTokenSize=2048",
        "&ProvidedContexts.member.1.ProviderArn=arn%3Aaws%3Aiam%3A%3Aaws%3AcontextProvider%2FX"}) {
    const StsError e = ParseErr(AssumeRoleBody(extra));
    EXPECT_EQ(e.code, "InvalidParameterValue") << extra;
    EXPECT_NE(e.message.find("is not supported for AssumeRole"), std::string::npos) << e.message;
  }
}

TEST(StsProtocolTest, RejectsNonEmptyValueOnBareListName) {
  const StsError e = ParseErr(AssumeRoleBody("&Tags=tenant"));
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message,
            "The parameter Tags must have an empty value (\"Tags=\" means an empty list); send "
            "its members as Tags.member.N parameters");
  EXPECT_EQ(ParseErr(AssumeRoleBody("&PolicyArns=x")).code, "MalformedQueryString");
}

// ---------------------------------------------------------------------------------------------
// List structure.

TEST(StsProtocolTest, RejectsGapsInListIndices) {
  const StsError e = ParseErr(AssumeRoleBody(
      "&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.3.Key=c&Tags.member.3.Value=3"));
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message,
            "Tags.member.3 is present but Tags.member.2 is not; number list members from 1 "
            "without gaps");
  EXPECT_EQ(ParseErr(AssumeRoleBody("&TransitiveTagKeys.member.2=a")).code, "MalformedQueryString");
}

TEST(StsProtocolTest, RejectsMalformedListIndices) {
  for (const char* extra :
       {"&Tags.member.0.Key=a", "&Tags.member.01.Key=a", "&Tags.member.-1.Key=a",
        "&Tags.member.x.Key=a", "&Tags.member.1.key=a", "&Tags.member.1=a", "&Tags.1.Key=a",
        "&Tags.member.10000.Key=a", "&TransitiveTagKeys.member.0=a",
        "&TransitiveTagKeys.member.1.Key=a", "&TransitiveTagKeys.1=a"}) {
    const StsError e = ParseErr(AssumeRoleBody(extra));
    EXPECT_EQ(e.code, "MalformedQueryString") << extra;
  }
}

TEST(StsProtocolTest, RejectsEmptyListMarkerCombinedWithMembers) {
  const StsError e = ParseErr(AssumeRoleBody("&Tags=&Tags.member.1.Key=a&Tags.member.1.Value=b"));
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.message, "Tags is sent both as an empty list (Tags=) and with members; send one");
}

// ---------------------------------------------------------------------------------------------
// Model validation, in AWS's words.

TEST(StsProtocolTest, ReportsMissingRequiredMembersAsNull) {
  const StsError e = ParseErr("Action=AssumeRole&Version=2011-06-15");
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.message,
            "2 validation errors detected: Value null at 'roleArn' failed to satisfy "
            "constraint: Member must not be null; Value null at 'roleSessionName' failed to "
            "satisfy constraint: Member must not be null");
}

TEST(StsProtocolTest, ReportsEmptyRoleArnAsPatternAndLengthViolations) {
  const StsError e = ParseErr(std::string(kPrefix) + "&RoleArn=&RoleSessionName=s1");
  EXPECT_EQ(e.message,
            "2 validation errors detected: Value '' at 'roleArn' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-"
            "\\u10FFFF]+; Value '' at 'roleArn' failed to satisfy constraint: Member must have "
            "length greater than or equal to 20");
}

TEST(StsProtocolTest, EnforcesRoleArnLengthBounds) {
  const std::string arn20 = "arn:aws:iam::1:role/";
  ASSERT_EQ(arn20.size(), 20u);
  EXPECT_EQ(ParseOk(std::string(kPrefix) + "&RoleArn=" + arn20 + "&RoleSessionName=s1")
                .assume_role.role_arn,
            arn20);
  EXPECT_EQ(ParseErr(std::string(kPrefix) + "&RoleArn=" + arn20.substr(1) + "&RoleSessionName=s1")
                .message,
            OneViolation("Value 'rn:aws:iam::1:role/' at 'roleArn' failed to satisfy constraint: "
                         "Member must have length greater than or equal to 20"));
  const std::string arn2048 = arn20 + std::string(2028, 'r');
  EXPECT_EQ(ParseOk(std::string(kPrefix) + "&RoleArn=" + arn2048 + "&RoleSessionName=s1").action,
            StsAction::kAssumeRole);
  const StsError e =
      ParseErr(std::string(kPrefix) + "&RoleArn=" + arn2048 + "r&RoleSessionName=s1");
  EXPECT_NE(e.message.find("at 'roleArn' failed to satisfy constraint: Member must have length "
                           "less than or equal to 2048"),
            std::string::npos)
      << e.message;
}

TEST(StsProtocolTest, RejectsControlCharactersInRoleArn) {
  const StsError e = ParseErr(std::string(kPrefix) + "&RoleArn=" + std::string(kRoleArn) +
                              "%01&RoleSessionName=s1");
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_NE(e.message.find("Value 'arn:aws:iam::123456789012:role/demo\\x01' at 'roleArn'"),
            std::string::npos)
      << e.message;
}

TEST(StsProtocolTest, RejectsRoleSessionNameWithSpace) {
  const StsError e = ParseErr(AssumeRoleBody("", "my+session"));
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_EQ(e.message,
            OneViolation("Value 'my session' at 'roleSessionName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
}

TEST(StsProtocolTest, RejectsRoleSessionNameWithColon) {
  EXPECT_EQ(ParseErr(AssumeRoleBody("", "a%3Ab")).message,
            OneViolation("Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member "
                         "must satisfy regular expression pattern: [\\w+=,.@-]*"));
}

TEST(StsProtocolTest, EnforcesRoleSessionNameLengthBounds) {
  EXPECT_EQ(ParseOk(AssumeRoleBody("", "ab")).assume_role.role_session_name, "ab");
  EXPECT_EQ(ParseOk(AssumeRoleBody("", std::string(64, 's'))).action, StsAction::kAssumeRole);
  EXPECT_EQ(ParseErr(AssumeRoleBody("", std::string(65, 's'))).message,
            OneViolation("Value '" + std::string(65, 's') +
                         "' at 'roleSessionName' failed to satisfy constraint: Member must have "
                         "length less than or equal to 64"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("", "a")).message,
            OneViolation("Value 'a' at 'roleSessionName' failed to satisfy constraint: Member "
                         "must have length greater than or equal to 2"));
}

TEST(StsProtocolTest, EnforcesDurationSecondsRange) {
  EXPECT_EQ(*ParseOk(AssumeRoleBody("&DurationSeconds=900")).assume_role.duration_seconds, 900);
  EXPECT_EQ(*ParseOk(AssumeRoleBody("&DurationSeconds=43200")).assume_role.duration_seconds, 43200);
  EXPECT_EQ(ParseErr(AssumeRoleBody("&DurationSeconds=899")).message,
            OneViolation("Value '899' at 'durationSeconds' failed to satisfy constraint: Member "
                         "must have value greater than or equal to 900"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&DurationSeconds=43201")).message,
            OneViolation("Value '43201' at 'durationSeconds' failed to satisfy constraint: "
                         "Member must have value less than or equal to 43200"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&DurationSeconds=-5")).code, "ValidationError");
}

TEST(StsProtocolTest, RejectsDurationSecondsThatIsNotAnInt32) {
  for (const auto& [wire, shown] : std::vector<std::pair<std::string, std::string>>{
           {"abc", "abc"},
           {"", ""},
           {"3600.0", "3600.0"},
           {"2147483648", "2147483648"},
           {"99999999999999999999", "99999999999999999999"},
           {"0x384", "0x384"},
           {"%2B", "+"},
           {"+3600", " 3600"}}) {
    const StsError e = ParseErr(AssumeRoleBody("&DurationSeconds=" + wire));
    EXPECT_EQ(e.code, "InvalidParameterValue") << wire;
    EXPECT_EQ(e.message, "Value '" + shown +
                             "' for parameter DurationSeconds is not an integer; send whole "
                             "seconds from 900 to 43200");
  }
  // Java's Integer.parseInt also takes an explicit sign and leading zeros.
  EXPECT_EQ(*ParseOk(AssumeRoleBody("&DurationSeconds=%2B0900")).assume_role.duration_seconds, 900);
}

TEST(StsProtocolTest, EnforcesPolicyLengthAndCharacters) {
  const std::string max_policy = "%7B" + std::string(2046, 'a') + "%7D";
  EXPECT_EQ(ParseOk(AssumeRoleBody("&Policy=" + max_policy)).assume_role.policy.size(), 2048u);
  const StsError too_long = ParseErr(AssumeRoleBody("&Policy=" + std::string(2049, 'a')));
  EXPECT_EQ(too_long.code, "ValidationError");
  // The echoed value is cut at 256 characters.
  EXPECT_EQ(too_long.message,
            OneViolation("Value '" + std::string(256, 'a') +
                         "...' at 'policy' failed to satisfy constraint: Member must have length "
                         "less than or equal to 2048"));
  // Latin-1 characters are in the pattern; others and control characters are not.
  EXPECT_EQ(ParseOk(AssumeRoleBody("&Policy=caf%C3%A9%09%0A%0D")).assume_role.policy,
            "caf\xC3\xA9\t\n\r");
  EXPECT_EQ(ParseErr(AssumeRoleBody("&Policy=%E2%82%AC")).message,
            OneViolation("Value '\xE2\x82\xAC' at 'policy' failed to satisfy constraint: Member "
                         "must satisfy regular expression pattern: "
                         "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&Policy=a%00b")).code, "ValidationError");
}

TEST(StsProtocolTest, RejectsEmptyPolicyAsAwsDoes) {
  EXPECT_EQ(ParseErr(AssumeRoleBody("&Policy=")).message,
            "2 validation errors detected: Value '' at 'policy' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+; Value '' at 'policy' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1");
}

std::string Tags(size_t n) {
  std::string extra;
  for (size_t i = 1; i <= n; ++i) {
    extra += "&Tags.member." + std::to_string(i) + ".Key=k" + std::to_string(i) + "&Tags.member." +
             std::to_string(i) + ".Value=v";
  }
  return extra;
}

TEST(StsProtocolTest, AllowsFiftyTagsAndRejectsFiftyOne) {
  EXPECT_EQ(ParseOk(AssumeRoleBody(Tags(50))).assume_role.tags.size(), 50u);
  EXPECT_EQ(ParseErr(AssumeRoleBody(Tags(51))).message,
            OneViolation("Value with 51 members at 'tags' failed to satisfy constraint: Member "
                         "must have length less than or equal to 50"));
}

TEST(StsProtocolTest, EnforcesTagKeyAndValueConstraints) {
  const auto tag = [](std::string_view key, std::string_view value) {
    return "&Tags.member.1.Key=" + std::string(key) + "&Tags.member.1.Value=" + std::string(value);
  };
  EXPECT_EQ(ParseOk(AssumeRoleBody(tag(std::string(128, 'k'), std::string(256, 'v'))))
                .assume_role.tags[0]
                .key.size(),
            128u);
  EXPECT_EQ(ParseErr(AssumeRoleBody(tag(std::string(129, 'k'), "v"))).message,
            OneViolation("Value '" + std::string(129, 'k') +
                         "' at 'tags.1.member.key' failed to satisfy constraint: Member must have "
                         "length less than or equal to 128"));
  EXPECT_NE(ParseErr(AssumeRoleBody(tag("k", std::string(257, 'v'))))
                .message.find("at 'tags.1.member.value' failed to satisfy constraint: Member "
                              "must have length less than or equal to 256"),
            std::string::npos);
  EXPECT_EQ(
      ParseErr(AssumeRoleBody(tag("a%21", "v"))).message,
      OneViolation("Value 'a!' at 'tags.1.member.key' failed to satisfy constraint: Member "
                   "must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"));
  EXPECT_EQ(ParseErr(AssumeRoleBody(tag("k", "a%26b"))).message,
            OneViolation("Value 'a&b' at 'tags.1.member.value' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: "
                         "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"));
  EXPECT_EQ(ParseErr(AssumeRoleBody(tag("", "v"))).message,
            "2 validation errors detected: Value '' at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+; Value '' at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1");
  // Letters, numbers and spaces beyond ASCII: "é", "²", U+00A0, "Ж", U+3000.
  EXPECT_EQ(ParseOk(AssumeRoleBody(tag("%C3%A9%C2%B2%C2%A0%D0%96%E3%80%80", "v")))
                .assume_role.tags[0]
                .key,
            "\xC3\xA9\xC2\xB2\xC2\xA0\xD0\x96\xE3\x80\x80");
  // Latin-1 symbols ("×", "©"), general punctuation ("•") and private use are not.
  for (const char* key : {"%C3%97", "%C2%A9", "%E2%80%A2", "%EE%80%80"}) {
    EXPECT_EQ(ParseErr(AssumeRoleBody(tag(key, "v"))).code, "ValidationError") << key;
  }
}

TEST(StsProtocolTest, ReportsTagMissingKeyOrValueAsNull) {
  EXPECT_EQ(ParseErr(AssumeRoleBody("&Tags.member.1.Value=v")).message,
            OneViolation("Value null at 'tags.1.member.key' failed to satisfy constraint: Member "
                         "must not be null"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&Tags.member.1.Key=k")).message,
            OneViolation("Value null at 'tags.1.member.value' failed to satisfy constraint: "
                         "Member must not be null"));
}

TEST(StsProtocolTest, CountsLengthInUtf16UnitsAsAws) {
  // U+20000 (a CJK letter) is one code point but two UTF-16 units: 64 of them are 128 units.
  const std::string cjk = "%F0%A0%80%80";
  EXPECT_EQ(
      ParseOk(AssumeRoleBody("&Tags.member.1.Key=" + Repeat(cjk, 64) + "&Tags.member.1.Value=v"))
          .assume_role.tags[0]
          .key.size(),
      256u);
  const StsError e =
      ParseErr(AssumeRoleBody("&Tags.member.1.Key=" + Repeat(cjk, 65) + "&Tags.member.1.Value=v"));
  EXPECT_NE(e.message.find("Member must have length less than or equal to 128"), std::string::npos)
      << e.message;
}

TEST(StsProtocolTest, RejectsDuplicateTagKeysIgnoringCase) {
  const StsError e = ParseErr(AssumeRoleBody(
      "&Tags.member.1.Key=Tenant&Tags.member.1.Value=a&Tags.member.2.Key=tENANT&Tags.member.2."
      "Value=b"));
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message,
            "Duplicate tag keys found. Please note that Tag keys are case insensitive. (key "
            "'tENANT' at Tags.member.2)");
}

TEST(StsProtocolTest, EnforcesTransitiveTagKeyConstraints) {
  std::string fifty_one;
  for (int i = 1; i <= 51; ++i) {
    fifty_one += "&TransitiveTagKeys.member." + std::to_string(i) + "=k" + std::to_string(i);
  }
  EXPECT_EQ(ParseErr(AssumeRoleBody(fifty_one)).message,
            OneViolation("Value with 51 members at 'transitiveTagKeys' failed to satisfy "
                         "constraint: Member must have length less than or equal to 50"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&TransitiveTagKeys.member.1=a%3Cb")).message,
            OneViolation("Value 'a<b' at 'transitiveTagKeys.1.member' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: "
                         "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"));
}

TEST(StsProtocolTest, EnforcesExternalIdConstraints) {
  EXPECT_EQ(ParseOk(AssumeRoleBody("&ExternalId=a%3A%2F")).assume_role.external_id, "a:/");
  EXPECT_EQ(ParseOk(AssumeRoleBody("&ExternalId=" + std::string(1224, 'x'))).action,
            StsAction::kAssumeRole);
  EXPECT_NE(ParseErr(AssumeRoleBody("&ExternalId=" + std::string(1225, 'x')))
                .message.find("at 'externalId' failed to satisfy constraint: Member must have "
                              "length less than or equal to 1224"),
            std::string::npos);
  EXPECT_EQ(ParseErr(AssumeRoleBody("&ExternalId=x")).message,
            OneViolation("Value 'x' at 'externalId' failed to satisfy constraint: Member must "
                         "have length greater than or equal to 2"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&ExternalId=ab~")).message,
            OneViolation("Value 'ab~' at 'externalId' failed to satisfy constraint: Member must "
                         "satisfy regular expression pattern: [\\w+=,.@:\\/-]*"));
}

TEST(StsProtocolTest, EnforcesSourceIdentityConstraints) {
  EXPECT_EQ(ParseOk(AssumeRoleBody("&SourceIdentity=a%40b.c")).assume_role.source_identity,
            "a@b.c");
  EXPECT_EQ(ParseErr(AssumeRoleBody("&SourceIdentity=x")).message,
            OneViolation("Value 'x' at 'sourceIdentity' failed to satisfy constraint: Member "
                         "must have length greater than or equal to 2"));
  EXPECT_EQ(ParseErr(AssumeRoleBody("&SourceIdentity=aws%3Aadmin")).message,
            OneViolation("Value 'aws:admin' at 'sourceIdentity' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
}

TEST(StsProtocolTest, ListsEveryViolationInMemberOrder) {
  const StsError e = ParseErr(
      std::string(kPrefix) +
      "&SourceIdentity=x&RoleSessionName=a&DurationSeconds=1&RoleArn=" + std::string(kRoleArn));
  EXPECT_EQ(e.message,
            "3 validation errors detected: Value 'a' at 'roleSessionName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 2; Value '1' at "
            "'durationSeconds' failed to satisfy constraint: Member must have value greater "
            "than or equal to 900; Value 'x' at 'sourceIdentity' failed to satisfy constraint: "
            "Member must have length greater than or equal to 2");
}

// ---------------------------------------------------------------------------------------------
// Errors.

TEST(StsProtocolTest, MakesErrorsWithAwsStatusAndType) {
  struct Case {
    StsErrorCode code;
    const char* name;
    int status;
    bool sender;
  };
  for (const Case& c :
       {Case{StsErrorCode::kAccessDenied, "AccessDenied", 403, true},
        Case{StsErrorCode::kExpiredToken, "ExpiredToken", 403, true},
        Case{StsErrorCode::kExpiredTokenException, "ExpiredTokenException", 400, true},
        Case{StsErrorCode::kInvalidClientTokenId, "InvalidClientTokenId", 403, true},
        Case{StsErrorCode::kSignatureDoesNotMatch, "SignatureDoesNotMatch", 403, true},
        Case{StsErrorCode::kRegionDisabledException, "RegionDisabledException", 403, true},
        Case{StsErrorCode::kPackedPolicyTooLarge, "PackedPolicyTooLarge", 400, true},
        Case{StsErrorCode::kMalformedPolicyDocument, "MalformedPolicyDocument", 400, true},
        Case{StsErrorCode::kValidationError, "ValidationError", 400, true},
        Case{StsErrorCode::kInternalFailure, "InternalFailure", 500, false},
        Case{StsErrorCode::kServiceUnavailable, "ServiceUnavailable", 503, false}}) {
    const StsError e = MakeStsError(c.code, "m");
    EXPECT_EQ(e.code, c.name);
    EXPECT_EQ(StsErrorCodeName(c.code), c.name);
    EXPECT_EQ(e.http_status, c.status) << c.name;
    EXPECT_EQ(e.sender, c.sender) << c.name;
    EXPECT_EQ(e.message, "m");
  }
}

TEST(StsProtocolTest, EncodesErrorResponse) {
  EXPECT_EQ(EncodeStsError(MakeStsError(StsErrorCode::kAccessDenied,
                                        "User: arn:aws:iam::123456789012:user/bob is not "
                                        "authorized to perform: sts:AssumeRole"),
                           "6f1f5c43-4d1a-4b7e-9a52-0c1d2e3f4a5b"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>"
            "Sender</Type><Code>AccessDenied</Code><Message>User: "
            "arn:aws:iam::123456789012:user/bob is not authorized to perform: "
            "sts:AssumeRole</Message></Error><RequestId>6f1f5c43-4d1a-4b7e-9a52-0c1d2e3f4a5b"
            "</RequestId></ErrorResponse>");
  EXPECT_EQ(EncodeStsError(MakeStsError(StsErrorCode::kInternalFailure, "x"), "r"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>"
            "Receiver</Type><Code>InternalFailure</Code><Message>x</Message></Error><RequestId>"
            "r</RequestId></ErrorResponse>");
}

TEST(StsProtocolTest, EscapesParseErrorMessagesInErrorResponse) {
  // A value with markup characters flows from the body into the message and must come out
  // escaped, not as markup.
  const StsError e = ParseErr(AssumeRoleBody("", "%3Cx%3E%26%22"));
  EXPECT_EQ(EncodeStsError(e, "r"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>"
            "Sender</Type><Code>ValidationError</Code><Message>1 validation error detected: "
            "Value &apos;&lt;x&gt;&amp;&quot;&apos; at &apos;roleSessionName&apos; failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "[\\w+=,.@-]*</Message></Error><RequestId>r</RequestId></ErrorResponse>");
}

// ---------------------------------------------------------------------------------------------
// Responses.

std::chrono::system_clock::time_point At(int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

TEST(StsProtocolTest, FormatsTimestampsAsIso8601Utc) {
  EXPECT_EQ(FormatStsTimestamp(At(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatStsTimestamp(At(1795773600)), "2026-11-27T10:00:00Z");
  EXPECT_EQ(FormatStsTimestamp(At(1709251199)), "2024-02-29T23:59:59Z");
  // Sub-second parts are truncated, never rounded up past the real expiry.
  EXPECT_EQ(FormatStsTimestamp(At(1795773600) + std::chrono::milliseconds(999)),
            "2026-11-27T10:00:00Z");
}

AssumeRoleResult SampleResult() {
  AssumeRoleResult r;
  r.access_key_id = "ASIAIOSFODNN7EXAMPLE";
  r.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
  r.session_token = "FwoGZXIvYXdzEBYaDH+tok/en==";
  r.expiration = At(1795773600);
  r.assumed_role_id = "AROA3XFRBF535PLBIFPI4:s1";
  r.assumed_role_arn = "arn:aws:sts::123456789012:assumed-role/demo/s1";
  return r;
}

TEST(StsProtocolTest, EncodesAssumeRoleResponse) {
  AssumeRoleResult r = SampleResult();
  r.packed_policy_size = 6;
  r.source_identity = "alice@example.com";
  EXPECT_EQ(EncodeAssumeRoleResponse(r, "c6104cbe-af31-11e0-8154-cbc7ccf896c7"),
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<AssumeRoleResult><Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
            "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
            "<SessionToken>FwoGZXIvYXdzEBYaDH+tok/en==</SessionToken>"
            "<Expiration>2026-11-27T10:00:00Z</Expiration></Credentials><AssumedRoleUser>"
            "<AssumedRoleId>AROA3XFRBF535PLBIFPI4:s1</AssumedRoleId>"
            "<Arn>arn:aws:sts::123456789012:assumed-role/demo/s1</Arn></AssumedRoleUser>"
            "<PackedPolicySize>6</PackedPolicySize><SourceIdentity>alice@example.com"
            "</SourceIdentity></AssumeRoleResult><ResponseMetadata><RequestId>"
            "c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>"
            "</AssumeRoleResponse>");
}

TEST(StsProtocolTest, OmitsOptionalAssumeRoleFieldsWhenUnset) {
  const std::string xml = EncodeAssumeRoleResponse(SampleResult(), "r");
  EXPECT_EQ(xml.find("PackedPolicySize"), std::string::npos);
  EXPECT_EQ(xml.find("SourceIdentity"), std::string::npos);
  EXPECT_NE(xml.find("</AssumedRoleUser></AssumeRoleResult><ResponseMetadata>"), std::string::npos)
      << xml;
  AssumeRoleResult zero = SampleResult();
  zero.packed_policy_size = 0;
  EXPECT_NE(EncodeAssumeRoleResponse(zero, "r").find("<PackedPolicySize>0</PackedPolicySize>"),
            std::string::npos);
}

TEST(StsProtocolTest, EncodesGetCallerIdentityResponse) {
  EXPECT_EQ(EncodeGetCallerIdentityResponse("AIDACKCEVSQ6C2EXAMPLE", "123456789012",
                                            "arn:aws:iam::123456789012:user/Alice",
                                            "01234567-89ab-cdef-0123-456789abcdef"),
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>"
            "<Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/Alice</Arn>"
            "</GetCallerIdentityResult><ResponseMetadata><RequestId>"
            "01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>");
}

TEST(StsProtocolTest, EscapesXmlSpecialCharactersInEveryField) {
  AssumeRoleResult r = SampleResult();
  r.secret_access_key = "a&b<c>d\"e'f";
  r.assumed_role_id = "AROA:<s>";
  EXPECT_NE(EncodeAssumeRoleResponse(r, "id&").find(
                "<SecretAccessKey>a&amp;b&lt;c&gt;d&quot;e&apos;f</SecretAccessKey>"),
            std::string::npos);
  EXPECT_NE(EncodeAssumeRoleResponse(r, "id&").find("<AssumedRoleId>AROA:&lt;s&gt;"),
            std::string::npos);
  EXPECT_NE(EncodeAssumeRoleResponse(r, "id&").find("<RequestId>id&amp;</RequestId>"),
            std::string::npos);
  EXPECT_EQ(EncodeGetCallerIdentityResponse("u<", "a>", "r'", "q\""),
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><UserId>u&lt;</UserId><Account>a&gt;</Account>"
            "<Arn>r&apos;</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>q&quot;"
            "</RequestId></ResponseMetadata></GetCallerIdentityResponse>");
}

TEST(StsProtocolTest, KeepsXmlWellFormedForControlCharactersAndBadUtf8) {
  // TAB and LF pass; CR is a character reference; other controls, U+FFFE and stray bytes
  // become U+FFFD (XML 1.0 cannot carry them at all). Valid UTF-8 passes unchanged.
  StsError e = MakeStsError(StsErrorCode::kAccessDenied,
                            "a\tb\nc\rd\x01"
                            "e\xFF"
                            "f\xEF\xBF\xBEg\xC3\xA9");
  const std::string xml = EncodeStsError(e, "r");
  EXPECT_NE(xml.find("<Message>a\tb\nc&#13;d\xEF\xBF\xBD"
                     "e\xEF\xBF\xBD"
                     "f\xEF\xBF\xBDg\xC3\xA9"
                     "</Message>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(EncodeGetCallerIdentityResponse(std::string("\0", 1), "", "", ""),
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><UserId>\xEF\xBF\xBD</UserId><Account></Account><Arn>"
            "</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId></RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>");
}

}  // namespace
}  // namespace perimeter::iam
