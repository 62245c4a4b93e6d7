#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "policy/conditions.h"
#include "policy/eval_cases.h"
#include "policy/evaluator.h"
#include "policy/policy.h"

namespace perimeter::policy {
namespace {

std::string ParseError(const std::string& json, PolicyKind kind = PolicyKind::kIdentity) {
  auto p = Policy::Parse(json, kind);
  return p.ok() ? std::string("<ok>") : p.status().message();
}

// ---- Parsing and validation -----------------------------------------------------------------

TEST(PolicyParseTest, AcceptsSingleStatementObjectAndArray) {
  auto a = Policy::Parse(
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}})",
      PolicyKind::kIdentity);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ((*a)->statements().size(), 1u);
  auto b = Policy::Parse(
      R"({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
          {"Sid":"B","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]})",
      PolicyKind::kIdentity);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ((*b)->statements().size(), 2u);
  EXPECT_EQ((*b)->statements()[1].sid(), "B");
  EXPECT_EQ((*b)->statements()[1].effect(), Effect::kDeny);
}

TEST(PolicyParseTest, TrustPoliciesNeedPrincipalAndHaveNoResource) {
  const char* trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":)"
      R"("arn:aws:iam::111122223333:user/a"},"Action":"sts:AssumeRole"}]})";
  auto p = Policy::Parse(trust, PolicyKind::kTrust);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // The statement applies to whatever role it is attached to.
  RequestContext ctx;
  MatchInput in{"arn:aws:iam::111122223333:user/a", "111122223333", "sts:AssumeRole",
                "arn:aws:iam::111122223333:role/any", &ctx};
  PrincipalMatch pm;
  EXPECT_TRUE(p.value()->statements()[0].Matches(in, &pm));
  EXPECT_EQ(pm, PrincipalMatch::kExact);

  auto with_resource =
      Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",)"
                    R"("Action":"sts:AssumeRole","Resource":"*"}]})",
                    PolicyKind::kTrust);
  ASSERT_FALSE(with_resource.ok());
  EXPECT_NE(with_resource.status().message().find("Resource is not allowed in a trust policy"),
            std::string::npos);
  auto no_principal = Policy::Parse(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})",
      PolicyKind::kTrust);
  EXPECT_FALSE(no_principal.ok());
}

TEST(PolicyParseTest, DefaultsVersionTo2008WhenOmitted) {
  auto p = Policy::Parse(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
                         PolicyKind::kIdentity);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->version(), "2008-10-17");
}

TEST(PolicyParseTest, RejectsUnknownVersion) {
  EXPECT_EQ(
      ParseError(
          R"({"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})"),
      "Version: expected \"2012-10-17\" or \"2008-10-17\", got \"2012-10-18\"");
}

TEST(PolicyParseTest, RejectsInvalidJson) {
  EXPECT_NE(ParseError("{\"Version\":").find("not valid JSON"), std::string::npos);
}

// Boost.JSON would keep the last "Effect": the Deny must not silently become an Allow.
TEST(PolicyParseTest, RejectsDuplicateKeysNamingWhere) {
  const std::string e = ParseError(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Effect":"Allow"}]})");
  EXPECT_NE(e.find("duplicate Statement[0]: key 'Effect'"), std::string::npos) << e;
}

TEST(PolicyParseTest, RejectsLowercaseEffectNamingStatementIndex) {
  EXPECT_EQ(ParseError(R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"allow","Action":"*","Resource":"*"}]})"),
            "Statement[1].Effect: expected \"Allow\" or \"Deny\", got \"allow\"");
}

TEST(PolicyParseTest, RejectsMissingEffect) {
  EXPECT_EQ(ParseError(R"({"Statement":[{"Action":"*","Resource":"*"}]})"),
            "Statement[0]: missing required element 'Effect' (\"Allow\" or \"Deny\")");
}

TEST(PolicyParseTest, RejectsBothActionAndNotAction) {
  EXPECT_EQ(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}})"),
      "Statement[0]: has both Action and NotAction; use exactly one");
}

TEST(PolicyParseTest, RejectsMissingResource) {
  EXPECT_EQ(ParseError(R"({"Statement":{"Effect":"Allow","Action":"*"}})"),
            "Statement[0]: missing required element 'Resource' (or NotResource)");
}

TEST(PolicyParseTest, RejectsActionWithoutServicePrefix) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":["s3:Get*","GetObject"],"Resource":"*"}})")
          .find("Statement[0].Action: expected \"*\" or \"service:action\""),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsNonStringInActionArray) {
  EXPECT_EQ(ParseError(R"({"Statement":{"Effect":"Allow","Action":["s3:Get*",5],"Resource":"*"}})"),
            "Statement[0].Action[1]: expected a string, got a number");
}

TEST(PolicyParseTest, RejectsResourceThatIsNotAnArn) {
  EXPECT_NE(ParseError(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket/*"}})")
                .find("Statement[0].Resource: expected \"*\" or an ARN"),
            std::string::npos);
}

TEST(PolicyParseTest, RejectsUnknownStatementElement) {
  EXPECT_NE(
      ParseError(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}})")
          .find("Statement[0]: unknown element 'Actions'"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsPrincipalInIdentityPolicy) {
  EXPECT_NE(
      ParseError(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}})")
          .find("Principal is not allowed in an identity-based policy"),
      std::string::npos);
}

TEST(PolicyParseTest, RequiresPrincipalInResourcePolicy) {
  EXPECT_NE(ParseError(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
                       PolicyKind::kResource)
                .find("missing required element 'Principal'"),
            std::string::npos);
}

TEST(PolicyParseTest, RejectsPartialWildcardPrincipal) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}})",
          PolicyKind::kResource)
          .find("Statement[0].Principal.AWS: expected"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsUnknownPrincipalType) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"*","Resource":"*"}})",
          PolicyKind::kResource)
          .find("unknown principal type 'Users'"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsUnknownConditionOperator) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}})")
          .find("Statement[0].Condition: unknown condition operator 'StringEqual'"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsNonNumericValueForNumericOperator) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}})")
          .find("'ten' is not a number"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsBadDateBadCidrAndBadBool) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}})")
          .find("not an ISO 8601 date"),
      std::string::npos);
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/99"}}}})")
          .find("not an IP address or CIDR block"),
      std::string::npos);
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}})")
          .find("expected \"true\" or \"false\""),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsNullWithIfExists) {
  EXPECT_NE(
      ParseError(
          R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}})")
          .find("Null takes no IfExists"),
      std::string::npos);
}

TEST(PolicyParseTest, RejectsUnterminatedVariableOnlyIn2012Version) {
  EXPECT_NE(
      ParseError(
          R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}})")
          .find("has no closing '}'"),
      std::string::npos);
  EXPECT_EQ(
      ParseError(
          R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}})"),
      "<ok>");
}

TEST(PolicyParseTest, RejectsEmptyStatementArray) {
  EXPECT_EQ(ParseError(R"({"Statement":[]})"),
            "Statement: expected at least one statement, got []");
}

// ---- Condition operators --------------------------------------------------------------------

class ConditionTest : public ::testing::Test {
 protected:
  bool Eval(const std::string& op, const std::string& key, const std::string& values_json,
            bool variables = true) {
    auto c = Condition::Compile(op, key, boost::json::parse(values_json), variables);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() && c->Evaluate(ctx_);
  }
  RequestContext ctx_;
};

TEST_F(ConditionTest, StringEqualsIsCaseSensitiveAndKeysAreNot) {
  ctx_.Set("aws:PrincipalTag/Team", {"Blue"});
  EXPECT_TRUE(Eval("StringEquals", "AWS:principaltag/team", R"("Blue")"));
  EXPECT_FALSE(Eval("StringEquals", "aws:PrincipalTag/Team", R"("blue")"));
  EXPECT_TRUE(Eval("StringEqualsIgnoreCase", "aws:PrincipalTag/Team", R"("BLUE")"));
  EXPECT_FALSE(Eval("StringNotEqualsIgnoreCase", "aws:PrincipalTag/Team", R"("bLuE")"));
}

TEST_F(ConditionTest, MultipleValuesAreOrAndNegatedOperatorsNeedNoneToMatch) {
  ctx_.Set("k", {"b"});
  EXPECT_TRUE(Eval("StringEquals", "k", R"(["a","b"])"));
  EXPECT_FALSE(Eval("StringNotEquals", "k", R"(["a","b"])"));
  EXPECT_TRUE(Eval("StringNotEquals", "k", R"(["a","c"])"));
}

TEST_F(ConditionTest, StringLikeWildcardsButStringEqualsLiteralStar) {
  ctx_.Set("k", {"project-x1"});
  EXPECT_TRUE(Eval("StringLike", "k", R"("project-*")"));
  EXPECT_TRUE(Eval("StringLike", "k", R"("project-x?")"));
  EXPECT_FALSE(Eval("StringLike", "k", R"("Project-*")"));
  EXPECT_FALSE(Eval("StringEquals", "k", R"("project-*")"));
  EXPECT_TRUE(Eval("StringNotLike", "k", R"("other-*")"));
}

TEST_F(ConditionTest, MissingKeyFailsPositiveAndPassesNegatedOperators) {
  EXPECT_FALSE(Eval("StringEquals", "absent", R"("a")"));
  EXPECT_TRUE(Eval("StringNotEquals", "absent", R"("a")"));
  EXPECT_TRUE(Eval("NotIpAddress", "aws:SourceIp", R"("10.0.0.0/8")"));
  EXPECT_FALSE(Eval("IpAddress", "aws:SourceIp", R"("10.0.0.0/8")"));
  EXPECT_TRUE(Eval("StringEqualsIfExists", "absent", R"("a")"));
  EXPECT_TRUE(Eval("NumericLessThanIfExists", "absent", R"("3")"));
}

TEST_F(ConditionTest, IfExistsStillChecksPresentKey) {
  ctx_.Set("ec2:InstanceType", {"t3.large"});
  EXPECT_FALSE(Eval("StringLikeIfExists", "ec2:InstanceType", R"(["t2.*","t3.micro"])"));
  EXPECT_TRUE(Eval("StringLikeIfExists", "ec2:InstanceType", R"(["t3.*"])"));
}

TEST_F(ConditionTest, NumericOperators) {
  ctx_.Set("s3:max-keys", {"10"});
  EXPECT_TRUE(Eval("NumericEquals", "s3:max-keys", "10"));
  EXPECT_TRUE(Eval("NumericEquals", "s3:max-keys", R"("10.0")"));
  EXPECT_FALSE(Eval("NumericNotEquals", "s3:max-keys", "10"));
  EXPECT_TRUE(Eval("NumericLessThan", "s3:max-keys", "11"));
  EXPECT_FALSE(Eval("NumericLessThan", "s3:max-keys", "10"));
  EXPECT_TRUE(Eval("NumericLessThanEquals", "s3:max-keys", "10"));
  EXPECT_TRUE(Eval("NumericGreaterThan", "s3:max-keys", "9.5"));
  EXPECT_TRUE(Eval("NumericGreaterThanEquals", "s3:max-keys", "10"));
  ctx_.Set("s3:max-keys", {"ten"});
  EXPECT_FALSE(Eval("NumericEquals", "s3:max-keys", "10"));
}

TEST_F(ConditionTest, DateOperatorsCompareInstantsAcrossFormats) {
  ctx_.Set("aws:CurrentTime", {"2026-06-01T12:00:00Z"});
  EXPECT_TRUE(Eval("DateLessThan", "aws:CurrentTime", R"("2026-06-01T12:00:01Z")"));
  EXPECT_TRUE(Eval("DateEquals", "aws:CurrentTime", R"("2026-06-01T14:00:00+02:00")"));
  EXPECT_TRUE(Eval("DateEquals", "aws:CurrentTime", "1780315200"));
  EXPECT_FALSE(Eval("DateNotEquals", "aws:CurrentTime", R"("2026-06-01T12:00:00.000Z")"));
  EXPECT_TRUE(Eval("DateGreaterThan", "aws:CurrentTime", R"("2026-06-01")"));
  EXPECT_TRUE(Eval("DateGreaterThanEquals", "aws:CurrentTime", R"("2026-06-01T12:00:00Z")"));
  EXPECT_TRUE(Eval("DateLessThanEquals", "aws:CurrentTime", R"("2026-06-01T12:00:00Z")"));
}

TEST(AwsDateTest, ParsesEpochAndIso) {
  EXPECT_EQ(ParseAwsDate("0"), 0);
  EXPECT_EQ(ParseAwsDate("1970-01-02"), 86400000);
  EXPECT_EQ(ParseAwsDate("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_FALSE(ParseAwsDate("1970-13-01").has_value());
  EXPECT_FALSE(ParseAwsDate("yesterday").has_value());
}

TEST_F(ConditionTest, BoolIsCaseInsensitiveOnValues) {
  ctx_.Set("aws:SecureTransport", {"TRUE"});
  EXPECT_TRUE(Eval("Bool", "aws:SecureTransport", R"("true")"));
  EXPECT_TRUE(Eval("Bool", "aws:SecureTransport", "true"));
  EXPECT_FALSE(Eval("Bool", "aws:SecureTransport", R"("false")"));
  EXPECT_TRUE(Eval("BoolIfExists", "aws:MultiFactorAuthPresent", R"("true")"));
}

TEST_F(ConditionTest, BinaryEqualsComparesDecodedBytes) {
  ctx_.Set("k", {"QmluYXJ5"});  // "Binary"
  EXPECT_TRUE(Eval("BinaryEquals", "k", R"("QmluYXJ5")"));
  EXPECT_FALSE(Eval("BinaryEquals", "k", R"("QmluYXJ6")"));
}

TEST_F(ConditionTest, IpAddressMatchesCidrBlocksV4AndV6) {
  ctx_.Set("aws:SourceIp", {"203.0.113.7"});
  EXPECT_TRUE(Eval("IpAddress", "aws:SourceIp", R"(["198.51.100.0/24","203.0.113.0/24"])"));
  EXPECT_FALSE(Eval("NotIpAddress", "aws:SourceIp", R"("203.0.113.0/24")"));
  ctx_.Set("aws:SourceIp", {"2001:db8::1"});
  EXPECT_TRUE(Eval("IpAddress", "aws:SourceIp", R"("2001:db8::/32")"));
  EXPECT_FALSE(Eval("IpAddress", "aws:SourceIp", R"("203.0.113.0/24")"));
}

TEST_F(ConditionTest, ArnOperatorsMatchPerComponent) {
  ctx_.Set("aws:SourceArn", {"arn:aws:sns:us-east-1:111122223333:topic:extra"});
  EXPECT_TRUE(Eval("ArnLike", "aws:SourceArn", R"("arn:aws:sns:*:111122223333:*")"));
  EXPECT_TRUE(
      Eval("ArnEquals", "aws:SourceArn", R"("arn:aws:sns:us-east-1:111122223333:topic:extra")"));
  // '*' in the region component cannot swallow the account component.
  EXPECT_FALSE(Eval("ArnLike", "aws:SourceArn", R"("arn:aws:sns:*:topic:extra")"));
  EXPECT_TRUE(Eval("ArnNotLike", "aws:SourceArn", R"("arn:aws:sqs:*:*:*")"));
  EXPECT_FALSE(
      Eval("ArnNotEquals", "aws:SourceArn", R"("arn:aws:sns:us-east-1:111122223333:topic:extra")"));
}

TEST_F(ConditionTest, NullChecksPresence) {
  ctx_.Set("present", {"x"});
  EXPECT_TRUE(Eval("Null", "absent", R"("true")"));
  EXPECT_FALSE(Eval("Null", "present", R"("true")"));
  EXPECT_TRUE(Eval("Null", "present", R"("false")"));
  EXPECT_FALSE(Eval("Null", "absent", "false"));
}

TEST_F(ConditionTest, SetQualifiersOnMissingEmptyAndMultiValuedKeys) {
  EXPECT_TRUE(Eval("ForAllValues:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  EXPECT_FALSE(Eval("ForAnyValue:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  ctx_.Set("aws:TagKeys", {});
  EXPECT_TRUE(Eval("ForAllValues:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  EXPECT_FALSE(Eval("ForAnyValue:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  ctx_.Set("aws:TagKeys", {"a", "c"});
  EXPECT_FALSE(Eval("ForAllValues:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  EXPECT_TRUE(Eval("ForAnyValue:StringEquals", "aws:TagKeys", R"(["a","b"])"));
  EXPECT_TRUE(Eval("ForAllValues:StringLike", "aws:TagKeys", R"(["a","c*"])"));
  EXPECT_TRUE(Eval("ForAnyValue:StringNotEquals", "aws:TagKeys", R"(["a"])"));
  EXPECT_FALSE(Eval("ForAllValues:StringNotEquals", "aws:TagKeys", R"(["a"])"));
}

TEST_F(ConditionTest, PolicyVariablesWithDefaultsAndEscapes) {
  ctx_.Set("aws:username", {"alice"});
  ctx_.Set("k", {"alice"});
  EXPECT_TRUE(Eval("StringEquals", "k", R"("${aws:username}")"));
  EXPECT_FALSE(Eval("StringEquals", "k", R"("${aws:username}")", /*variables=*/false));
  EXPECT_TRUE(Eval("StringEquals", "k", R"("${aws:PrincipalTag/owner, 'alice'}")"));
  EXPECT_FALSE(Eval("StringEquals", "k", R"("${aws:PrincipalTag/owner}")"));
  // An unresolved variable fails the condition, even for a negated operator.
  EXPECT_FALSE(Eval("StringNotEquals", "k", R"("${aws:PrincipalTag/owner}")"));
  ctx_.Set("k", {"a*b"});
  EXPECT_TRUE(Eval("StringLike", "k", R"("a${*}b")"));
  ctx_.Set("k", {"aXb"});
  EXPECT_FALSE(Eval("StringLike", "k", R"("a${*}b")"));
  EXPECT_TRUE(Eval("StringLike", "k", R"("a*b")"));
  ctx_.Set("k", {"$?"});
  EXPECT_TRUE(Eval("StringEquals", "k", R"("${$}${?}")"));
}

// ---- Evaluation -----------------------------------------------------------------------------

std::shared_ptr<const Policy> P(const std::string& json, PolicyKind kind = PolicyKind::kIdentity) {
  auto p = Policy::Parse(json, kind);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : nullptr;
}

TEST(EvaluateTest, ExplicitDenyReportsDecidingStatement) {
  PolicySet ps;
  ps.identity_policies.push_back({"admin", P(R"({"Version":"2012-10-17","Statement":[
          {"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]})")});
  Request r{"arn:aws:iam::111122223333:user/alice",
            "",
            "s3:DeleteObject",
            "arn:aws:s3:::bucket/key",
            "111122223333",
            {}};
  EvaluationResult res = Evaluate(r, ps);
  EXPECT_EQ(res.decision, Decision::kExplicitlyDenied);
  ASSERT_EQ(res.statements.size(), 1u);
  EXPECT_EQ(res.statements[0].policy_name, "admin");
  EXPECT_EQ(res.statements[0].statement_index, 1u);
  EXPECT_EQ(res.statements[0].sid, "NoDelete");
  r.action = "s3:GetObject";
  res = Evaluate(r, ps);
  EXPECT_EQ(res.decision, Decision::kAllowed);
  ASSERT_EQ(res.statements.size(), 1u);
  EXPECT_EQ(res.statements[0].sid, "All");
}

TEST(EvaluateTest, TrustPolicyMustAllowEvenWhenTheIdentityPolicyDoes) {
  const std::string role = "arn:aws:iam::111122223333:role/app";
  PolicySet ps;
  ps.identity_policies.push_back({"assume-any", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]})")});
  ps.resource_policy = NamedPolicy{"trust", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},
           "Action":"sts:AssumeRole"}]})",
                                              PolicyKind::kTrust)};
  Request alice{"arn:aws:iam::111122223333:user/alice", "", "sts:AssumeRole", role, "", {}};
  EvaluationResult res = Evaluate(alice, ps);
  EXPECT_EQ(res.decision, Decision::kImplicitlyDenied);
  EXPECT_EQ(res.reason, "no trust policy allows the principal to assume the role");
  // The same documents as an ordinary same-account resource policy: the identity policy suffices.
  ps.resource_policy = NamedPolicy{"resource", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},
           "Action":"sts:AssumeRole","Resource":"*"}]})",
                                                 PolicyKind::kResource)};
  EXPECT_EQ(Evaluate(alice, ps).decision, Decision::kAllowed);

  // Named in the trust policy: allowed without any identity policy.
  ps.identity_policies.clear();
  ps.resource_policy = NamedPolicy{"trust", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
           "Action":"sts:AssumeRole"}]})",
                                              PolicyKind::kTrust)};
  EXPECT_EQ(Evaluate(alice, ps).decision, Decision::kAllowed);
  // Trusting the account only: the caller's own policy must allow too.
  ps.resource_policy = NamedPolicy{"trust", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]})",
                                              PolicyKind::kTrust)};
  EXPECT_EQ(Evaluate(alice, ps).decision, Decision::kImplicitlyDenied);
  ps.identity_policies.push_back({"assume-any", P(R"({"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]})")});
  EXPECT_EQ(Evaluate(alice, ps).decision, Decision::kAllowed);
}

TEST(EvaluateTest, NoPoliciesIsImplicitDenyWithReason) {
  Request r{"arn:aws:iam::111122223333:user/alice", "", "s3:GetObject", "arn:aws:s3:::b/k", "", {}};
  EvaluationResult res = Evaluate(r, PolicySet{});
  EXPECT_EQ(res.decision, Decision::kImplicitlyDenied);
  EXPECT_TRUE(res.statements.empty());
  EXPECT_EQ(res.reason, "no identity-based policy allows the action");
}

TEST(RunPolicyEvalCasesTest, WritesOneLinePerCaseAndErrorsForInvalidPolicies) {
  std::istringstream in(R"([
    {"name":"ok","request":{"action":"s3:GetObject","resource":{"resource":"arn:aws:s3:::b/k","accountId":"111122223333"},"principal":"arn:aws:iam::111122223333:user/a"},
     "identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}]},
    {"name":"bad","request":{"action":"s3:GetObject","resource":{"resource":"arn:aws:s3:::b/k","accountId":"111122223333"},"principal":"arn:aws:iam::111122223333:user/a"},
     "identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"Permit","Action":"s3:Get*","Resource":"*"}}]}
  ])");
  std::ostringstream out, err;
  EXPECT_EQ(RunPolicyEvalCases(in, out, err), 1);
  EXPECT_EQ(out.str(),
            "{\"name\":\"ok\",\"response\":\"Allowed\"}\n"
            "{\"name\":\"bad\",\"error\":\"identityPolicies[0]: Statement[0].Effect: expected "
            "\\\"Allow\\\" or \\\"Deny\\\", got \\\"Permit\\\"\"}\n");
  EXPECT_TRUE(err.str().empty());
}

TEST(RunPolicyEvalCasesTest, RejectsInputThatIsNotAnArray) {
  std::istringstream in(R"({"name":"x"})");
  std::ostringstream out, err;
  EXPECT_EQ(RunPolicyEvalCases(in, out, err), 2);
  EXPECT_TRUE(out.str().empty());
  EXPECT_NE(err.str().find("expected a JSON array"), std::string::npos);
}

}  // namespace
}  // namespace perimeter::policy
