#include "policy/lint.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace perimeter::policy {
namespace {

using Findings = std::vector<LintFinding>;

// A policy document: Version 2012-10-17 around the given statements (JSON array body).
std::string Doc(const std::string& statements) {
  return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}";
}

// The one statement every check is happy with: one model, one region, no wildcards.
const char* kGoodInvoke =
    R"({"Sid":"AllowInvoke","Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],
        "Resource":"arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"})";

Findings Lint(const std::string& json, LintPolicyKind kind = LintPolicyKind::kIdentity) {
  return LintPolicy(json, kind);
}

std::vector<std::string> Codes(const Findings& f) {
  std::vector<std::string> out;
  for (const LintFinding& x : f) out.push_back(x.code);
  return out;
}

const LintFinding* FindCode(const Findings& f, const std::string& code) {
  for (const LintFinding& x : f) {
    if (x.code == code) return &x;
  }
  return nullptr;
}

size_t CountCode(const Findings& f, const std::string& code) {
  size_t n = 0;
  for (const LintFinding& x : f) n += x.code == code ? 1 : 0;
  return n;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- Baseline and parse errors ----------------------------------------------------------------

TEST(PolicyLintTest, WellScopedInvokePolicyHasNoFindings) {
  const Findings f = Lint(Doc(kGoodInvoke));
  EXPECT_TRUE(f.empty()) << FormatFindingsText("p.json", f);
}

TEST(PolicyLintTest, ParseFailureIsOneErrorCarryingTheParserMessage) {
  const Findings f =
      Lint(Doc(R"({"Effect":"allow","Action":"bedrock:InvokeModel","Resource":"*"})"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_EQ(f[0].code, "parse-error");
  EXPECT_EQ(f[0].message, "Statement[0].Effect: expected \"Allow\" or \"Deny\", got \"allow\"");
  EXPECT_FALSE(f[0].fix.empty());
}

TEST(PolicyLintTest, InvalidJsonIsAParseError) {
  const Findings f = Lint("{\"Version\":");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "parse-error");
  EXPECT_TRUE(Contains(f[0].message, "not valid JSON")) << f[0].message;
}

TEST(PolicyLintTest, KindDecidesWhetherPrincipalIsAllowed) {
  const std::string trust = Doc(
      R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"sts:AssumeRole"})");
  EXPECT_EQ(Codes(Lint(trust, LintPolicyKind::kIdentity)), std::vector<std::string>{"parse-error"});
  EXPECT_EQ(Codes(Lint(trust, LintPolicyKind::kDeploymentCap)),
            std::vector<std::string>{"parse-error"});
  EXPECT_TRUE(Lint(trust, LintPolicyKind::kTrust).empty());
  // Endpoint policies need a Principal, like resource policies.
  EXPECT_EQ(Codes(Lint(Doc(kGoodInvoke), LintPolicyKind::kEndpoint)),
            std::vector<std::string>{"parse-error"});
}

// ---- Version ------------------------------------------------------------------------------------

TEST(PolicyLintTest, WarnsWhenVersionIsMissing) {
  const Findings f = Lint(std::string(R"({"Statement":[)") + kGoodInvoke + "]}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, "old-policy-version");
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_EQ(f[0].location, "Version");
  EXPECT_TRUE(Contains(f[0].message, "no Version")) << f[0].message;
  EXPECT_TRUE(Contains(f[0].fix, "\"Version\": \"2012-10-17\"")) << f[0].fix;
}

TEST(PolicyLintTest, WarnsOnVersion2008) {
  const Findings f =
      Lint(std::string(R"({"Version":"2008-10-17","Statement":[)") + kGoodInvoke + "]}");
  ASSERT_EQ(Codes(f), std::vector<std::string>{"old-policy-version"});
  EXPECT_TRUE(Contains(f[0].message, "2008-10-17")) << f[0].message;
}

// ---- invoke-resource-wildcard -------------------------------------------------------------------

TEST(PolicyLintTest, WarnsOnInvokeWithStarResource) {
  const Findings f = Lint(Doc(
      R"({"Sid":"AllowInvoke","Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"*",
          "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"invoke-resource-wildcard"});
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_EQ(f[0].location, "Statement[0] (Sid \"AllowInvoke\")");
  EXPECT_EQ(f[0].fix, "name the model ARNs: arn:aws:bedrock:eu-west-1::foundation-model/<id>");
}

TEST(PolicyLintTest, WarnsOnPatternMatchingEveryModelInEveryRegion) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModelWithResponseStream","Resource":"arn:aws:bedrock:*::foundation-model/*"})"));
  EXPECT_NE(FindCode(f, "invoke-resource-wildcard"), nullptr) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, WildcardFixNamesThePatternsOwnRegion) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:us-east-1::foundation-model/*"})"));
  const LintFinding* w = FindCode(f, "invoke-resource-wildcard");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->fix, "name the model ARNs: arn:aws:bedrock:us-east-1::foundation-model/<id>");
  // The region is named in the ARN, so the region check is satisfied.
  EXPECT_EQ(FindCode(f, "invoke-no-region-condition"), nullptr);
}

TEST(PolicyLintTest, WarnsOnWholeStringArnWildcardAndInferenceProfileWildcard) {
  EXPECT_NE(
      FindCode(
          Lint(Doc(
              R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1:*"})")),
          "invoke-resource-wildcard"),
      nullptr);
  EXPECT_NE(
      FindCode(
          Lint(Doc(
              R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1:111122223333:inference-profile/*"})")),
          "invoke-resource-wildcard"),
      nullptr);
}

TEST(PolicyLintTest, ActionWildcardsThatCoverInvokeCount) {
  for (const char* action : {"*", "bedrock:*", "bedrock:Invoke*", "BEDROCK:invokemodel"}) {
    const Findings f =
        Lint(Doc(std::string(R"({"Effect":"Allow","Action":")") + action + R"(","Resource":"*"})"));
    EXPECT_NE(FindCode(f, "invoke-resource-wildcard"), nullptr) << action;
  }
}

TEST(PolicyLintTest, NoWildcardFindingForNamedModelsFamiliesOrNonInvokeActions) {
  // A model family is a deliberate choice, not "every model".
  EXPECT_EQ(
      FindCode(
          Lint(Doc(
              R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/anthropic.*"})")),
          "invoke-resource-wildcard"),
      nullptr);
  // Listing models on "*" invokes nothing.
  EXPECT_TRUE(
      Lint(Doc(R"({"Effect":"Allow","Action":"bedrock:ListFoundationModels","Resource":"*"})"))
          .empty());
  // A Deny on "*" is a restriction, not a grant.
  EXPECT_TRUE(
      Lint(Doc(R"({"Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"})")).empty());
}

TEST(PolicyLintTest, WarnsOnInvokeWithNotResource) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","NotResource":"arn:aws:bedrock:eu-west-1::foundation-model/x",
          "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}})"));
  const LintFinding* w = FindCode(f, "invoke-resource-wildcard");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(Contains(w->message, "NotResource")) << w->message;
}

TEST(PolicyLintTest, WarnsOnNotActionThatLeavesInvokeAllowed) {
  const Findings f =
      Lint(Doc(R"({"Effect":"Allow","NotAction":"bedrock:Delete*","Resource":"*"})"));
  EXPECT_NE(FindCode(f, "invoke-resource-wildcard"), nullptr);
  const Findings g =
      Lint(Doc(R"({"Effect":"Allow","NotAction":"bedrock:Invoke*","Resource":"*"})"));
  EXPECT_EQ(FindCode(g, "invoke-resource-wildcard"), nullptr);
}

TEST(PolicyLintTest, DeploymentCapIsNotWarnedForWideResources) {
  const Findings f = Lint(Doc(
                              R"({"Effect":"Allow","Action":"bedrock:*","Resource":"*",
          "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}})"),
                          LintPolicyKind::kDeploymentCap);
  EXPECT_TRUE(f.empty()) << FormatFindingsText("cap", f);
}

// ---- invoke-no-region-condition -----------------------------------------------------------------

TEST(PolicyLintTest, WarnsWhenInvokeIsNotPinnedToARegion) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"invoke-no-region-condition"});
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_TRUE(Contains(f[0].fix, "aws:RequestedRegion")) << f[0].fix;
}

TEST(PolicyLintTest, EmptyRegionSegmentIsNotPinned) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:::foundation-model/x"})"));
  EXPECT_EQ(Codes(f), std::vector<std::string>{"invoke-no-region-condition"});
}

TEST(PolicyLintTest, OneUnpinnedResourceIsEnoughToWarn) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":[
          "arn:aws:bedrock:eu-west-1::foundation-model/a","arn:aws:bedrock:*::foundation-model/b"]})"));
  EXPECT_EQ(Codes(f), std::vector<std::string>{"invoke-no-region-condition"});
}

TEST(PolicyLintTest, RequestedRegionConditionPinsTheRegionWhateverItsCase) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:*::foundation-model/x",
          "Condition":{"StringEquals":{"AWS:requestedregion":["eu-west-1","eu-central-1"]}}})"));
  EXPECT_TRUE(f.empty()) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, DeploymentCapWithoutRegionIsWarned) {
  const Findings f = Lint(Doc(R"({"Effect":"Allow","Action":"bedrock:*","Resource":"*"})"),
                          LintPolicyKind::kDeploymentCap);
  EXPECT_EQ(Codes(f), std::vector<std::string>{"invoke-no-region-condition"});
}

// ---- unknown-action -----------------------------------------------------------------------------

TEST(PolicyLintTest, UnknownBedrockActionIsAnErrorWithSuggestion) {
  const Findings f = Lint(Doc(
      R"({"Sid":"Typo","Effect":"Allow","Action":["bedrock:InvokeModle"],"Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"unknown-action"});
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_TRUE(Contains(f[0].message, "\"bedrock:InvokeModle\"")) << f[0].message;
  EXPECT_EQ(f[0].fix, "did you mean \"bedrock:InvokeModel\"?");
}

TEST(PolicyLintTest, UnknownActionFarFromAnyKnownGetsGenericFix) {
  const Findings f = Lint(Doc(R"({"Effect":"Allow","Action":"bedrock:Xyz","Resource":"*"})"));
  const LintFinding* u = FindCode(f, "unknown-action");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(Contains(u->fix, "service authorization reference")) << u->fix;
}

TEST(PolicyLintTest, KnownActionsAreAcceptedInAnyCase) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":["BEDROCK:applyguardrail","bedrock:GetGuardrail","bedrock:ListFoundationModels",
          "bedrock:InvokeAgent","bedrock:CountTokens","bedrock:InvokeModelWithBidirectionalStream"],"Resource":"*"})"));
  EXPECT_EQ(FindCode(f, "unknown-action"), nullptr) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, WildcardActionIsKnownWhenItMatchesAtLeastOneAction) {
  EXPECT_EQ(
      FindCode(
          Lint(Doc(
              R"({"Effect":"Allow","Action":["bedrock:Get*","bedrock:List?uardrails"],"Resource":"*"})")),
          "unknown-action"),
      nullptr);
  const Findings f =
      Lint(Doc(R"({"Effect":"Allow","Action":"bedrock:Frobnicate*","Resource":"*"})"));
  const LintFinding* u = FindCode(f, "unknown-action");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(Contains(u->message, "matches no Bedrock action")) << u->message;
}

TEST(PolicyLintTest, ConverseIsNotAnActionAndTheFixNamesTheRealOne) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":["bedrock:Converse","bedrock:ConverseStream"],"Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"})"));
  ASSERT_EQ(CountCode(f, "unknown-action"), 2u) << FormatFindingsText("p", f);
  EXPECT_EQ(f[0].fix, "replace it with \"bedrock:InvokeModel\"");
  EXPECT_EQ(f[1].fix, "replace it with \"bedrock:InvokeModelWithResponseStream\"");
  // Converse* matches no real action either.
  const Findings g = Lint(Doc(R"({"Effect":"Allow","Action":"bedrock:Converse*","Resource":"*"})"));
  const LintFinding* u = FindCode(g, "unknown-action");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(Contains(u->message, "authorized as bedrock:InvokeModel")) << u->message;
}

TEST(PolicyLintTest, BedrockRuntimePrefixIsAnError) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock-runtime:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"})"));
  const LintFinding* u = FindCode(f, "unknown-action");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->fix, "write \"bedrock:InvokeModel\"");
}

TEST(PolicyLintTest, OtherServicesActionsAreNotCheckedAgainstTheBedrockList) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":["kms:Decrypt","sts:AssumeRole","perimeter:RevealToken"],"Resource":"*"})"));
  EXPECT_TRUE(f.empty()) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, UnknownActionInNotActionIsReported) {
  const Findings f =
      Lint(Doc(R"({"Effect":"Deny","NotAction":"bedrock:InvokeModels","Resource":"*"})"));
  const LintFinding* u = FindCode(f, "unknown-action");
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(Contains(u->message, "NotAction")) << u->message;
}

// ---- not-action-allow ---------------------------------------------------------------------------

TEST(PolicyLintTest, WarnsOnAllowWithNotAction) {
  const Findings f = Lint(Doc(R"({"Effect":"Allow","NotAction":"iam:*","Resource":"*"})"));
  const LintFinding* w = FindCode(f, "not-action-allow");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->severity, Severity::kWarning);
}

TEST(PolicyLintTest, DenyWithNotActionIsFine) {
  const Findings f =
      Lint(Doc(std::string(kGoodInvoke) +
               R"(,{"Effect":"Deny","NotAction":"bedrock:InvokeModel*","Resource":"*"})"));
  EXPECT_TRUE(f.empty()) << FormatFindingsText("p", f);
}

// ---- wildcard-principal -------------------------------------------------------------------------

TEST(PolicyLintTest, TrustPolicyOpenToEveryoneIsAnError) {
  const Findings f =
      Lint(Doc(R"({"Sid":"Open","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"})"),
           LintPolicyKind::kTrust);
  ASSERT_EQ(Codes(f), std::vector<std::string>{"wildcard-principal"});
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_TRUE(Contains(f[0].message, "assume this role")) << f[0].message;
  EXPECT_TRUE(HasErrors(f));
}

TEST(PolicyLintTest, WildcardAwsPrincipalWithConditionIsAWarning) {
  const Findings f = Lint(
      Doc(
          R"({"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"]},"Action":"sts:AssumeRole",
          "Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}})"),
      LintPolicyKind::kTrust);
  ASSERT_EQ(Codes(f), std::vector<std::string>{"wildcard-principal"});
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_FALSE(HasErrors(f));
}

TEST(PolicyLintTest, EmptyConditionDoesNotRestrictAWildcardPrincipal) {
  const Findings f =
      Lint(Doc(R"({"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{}})"),
           LintPolicyKind::kTrust);
  ASSERT_EQ(Codes(f), std::vector<std::string>{"wildcard-principal"});
  EXPECT_EQ(f[0].severity, Severity::kError);
}

TEST(PolicyLintTest, NoWildcardPrincipalFindingForNamedPrincipalsDenyOrEndpoints) {
  EXPECT_TRUE(
      Lint(
          Doc(R"({"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"})"),
          LintPolicyKind::kTrust)
          .empty());
  EXPECT_TRUE(Lint(Doc(R"({"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"})"),
                   LintPolicyKind::kTrust)
                  .empty());
  const Findings endpoint =
      Lint(Doc(
               R"({"Effect":"Allow","Principal":"*","Action":"bedrock:InvokeModel",
          "Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"})"),
           LintPolicyKind::kEndpoint);
  EXPECT_TRUE(endpoint.empty()) << FormatFindingsText("p", endpoint);
}

TEST(PolicyLintTest, ResourcePolicyOpenToEveryoneIsAnError) {
  const Findings f =
      Lint(Doc(
               R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"bedrock:InvokeModel",
          "Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"})"),
           LintPolicyKind::kResource);
  ASSERT_EQ(Codes(f), std::vector<std::string>{"wildcard-principal"});
  EXPECT_TRUE(Contains(f[0].message, "use this resource")) << f[0].message;
}

// ---- statement-never-used / resource-service-mismatch -------------------------------------------

TEST(PolicyLintTest, StatementWithOnlyForeignServicesIsNeverUsed) {
  const Findings f = Lint(Doc(
      std::string(kGoodInvoke) +
      R"(,{"Sid":"S3","Effect":"Allow","Action":["s3:GetObject","dynamodb:*"],"Resource":"*"})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"statement-never-used"});
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  EXPECT_EQ(f[0].location, "Statement[1] (Sid \"S3\")");
  EXPECT_TRUE(Contains(f[0].message, "s3, dynamodb")) << f[0].message;
}

TEST(PolicyLintTest, StatementWithOnePerimeterActionIsUsed) {
  for (const char* action : {"kms:Decrypt", "*", "b*:ListFoundationModels", "perimeter:*"}) {
    const Findings f = Lint(Doc(std::string(R"({"Effect":"Allow","Action":["s3:GetObject",")") +
                                action + R"("],"Resource":"arn:aws:s3:::bucket"})"));
    EXPECT_EQ(FindCode(f, "statement-never-used"), nullptr) << action;
  }
}

TEST(PolicyLintTest, BedrockActionsOnlyOnForeignArnsNeverMatch) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:GetGuardrail","Resource":["arn:aws:s3:::bucket/*","arn:aws:kms:eu-west-1:111122223333:key/k"]})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"resource-service-mismatch"});
  EXPECT_TRUE(Contains(f[0].message, "s3, kms")) << f[0].message;
  const Findings g = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:GetGuardrail","Resource":["arn:aws:s3:::bucket/*","arn:aws:bedrock:eu-west-1:111122223333:guardrail/g"]})"));
  EXPECT_EQ(FindCode(g, "resource-service-mismatch"), nullptr);
}

// ---- shadowed-by-deny ---------------------------------------------------------------------------

TEST(PolicyLintTest, AllowCoveredByUnconditionalDenyIsShadowed) {
  const Findings f =
      Lint(Doc(std::string(kGoodInvoke) +
               R"(,{"Sid":"NoBedrock","Effect":"Deny","Action":"bedrock:*","Resource":"*"})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"shadowed-by-deny"});
  EXPECT_EQ(f[0].location, "Statement[0] (Sid \"AllowInvoke\")");
  EXPECT_TRUE(Contains(f[0].message, "Statement[1] (Sid \"NoBedrock\")")) << f[0].message;
  EXPECT_EQ(f[0].fix,
            "remove Statement[0], or narrow the Deny in Statement[1] if this Allow was meant to "
            "take effect");
}

TEST(PolicyLintTest, DenyGlobCoversAllowGlobByPrefixAndArnComponents) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:Invoke*","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/anthropic.*"},
         {"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/*"})"));
  EXPECT_NE(FindCode(f, "shadowed-by-deny"), nullptr) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, DenyWithConditionOrNarrowerScopeDoesNotShadow) {
  const std::string conditional =
      R"(,{"Effect":"Deny","Action":"bedrock:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}})";
  EXPECT_TRUE(Lint(Doc(std::string(kGoodInvoke) + conditional)).empty());
  const std::string other_model =
      R"(,{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/meta.*"})";
  EXPECT_TRUE(Lint(Doc(std::string(kGoodInvoke) + other_model)).empty());
  const std::string one_action =
      R"(,{"Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"})";
  EXPECT_TRUE(Lint(Doc(std::string(kGoodInvoke) + one_action)).empty());
}

// "bedrock:Invoke?" matches one more character, not what "bedrock:Invoke*" grants.
TEST(PolicyLintTest, QuestionMarkDenyDoesNotCoverStarAllow) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"bedrock:Invoke*","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x"},
         {"Effect":"Deny","Action":"bedrock:Invoke?","Resource":"*"})"));
  EXPECT_EQ(FindCode(f, "shadowed-by-deny"), nullptr) << FormatFindingsText("p", f);
}

// In a six-part ARN pattern a wildcard stays inside its component (as ArnPattern matches):
// "eu-*" must not swallow ":111122223333" although a whole-string glob would.
TEST(PolicyLintTest, ArnWildcardDoesNotCrossComponents) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:eu-west-1:111122223333:key/k:v1"},
         {"Effect":"Deny","Action":"kms:*","Resource":"arn:aws:kms:eu-*:key/k:*"})"));
  EXPECT_EQ(FindCode(f, "shadowed-by-deny"), nullptr) << FormatFindingsText("p", f);
}

// With fewer than six parts the pattern is one whole-string glob, so it does cover.
TEST(PolicyLintTest, ShortArnPatternIsMatchedAsOneString) {
  const Findings f = Lint(Doc(
      R"({"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:eu-west-1:111122223333:key/k"},
         {"Effect":"Deny","Action":"kms:*","Resource":"arn:aws:kms:eu-*:key/k"})"));
  EXPECT_NE(FindCode(f, "shadowed-by-deny"), nullptr) << FormatFindingsText("p", f);
}

TEST(PolicyLintTest, DenyForOtherPrincipalDoesNotShadow) {
  const std::string allow =
      R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/a"},"Action":"sts:AssumeRole"})";
  const Findings other = Lint(
      Doc(allow +
          R"(,{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/b"},"Action":"sts:*"})"),
      LintPolicyKind::kTrust);
  EXPECT_EQ(FindCode(other, "shadowed-by-deny"), nullptr);
  const Findings everyone =
      Lint(Doc(allow + R"(,{"Effect":"Deny","Principal":"*","Action":"sts:*"})"),
           LintPolicyKind::kTrust);
  EXPECT_NE(FindCode(everyone, "shadowed-by-deny"), nullptr);
}

// ---- duplicate-statement ------------------------------------------------------------------------

TEST(PolicyLintTest, ExactDuplicateUpToOrderCaseAndArrayFormIsReported) {
  const Findings f = Lint(Doc(
      std::string(kGoodInvoke) +
      R"(,{"Sid":"Again","Effect":"Allow","Action":["BEDROCK:InvokeModelWithResponseStream","bedrock:InvokeModel"],
          "Resource":["arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]})"));
  ASSERT_EQ(Codes(f), std::vector<std::string>{"duplicate-statement"});
  EXPECT_EQ(f[0].location, "Statement[1] (Sid \"Again\")");
  EXPECT_EQ(f[0].fix, "remove Statement[1]; Statement[0] already says the same");
}

TEST(PolicyLintTest, StatementsDifferingInConditionAreNotDuplicates) {
  const std::string a =
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x",
          "Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}})";
  const std::string b =
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x",
          "Condition":{"StringEquals":{"aws:PrincipalTag/team":"b"}}})";
  EXPECT_TRUE(Lint(Doc(a + "," + b)).empty());
  // The same condition with keys in another order is a duplicate.
  const std::string c =
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x",
          "Condition":{"StringEquals":{"aws:PrincipalTag/team":"a","aws:PrincipalTag/env":"prod"}}})";
  const std::string d =
      R"({"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:eu-west-1::foundation-model/x",
          "Condition":{"StringEquals":{"aws:PrincipalTag/env":["prod"],"aws:PrincipalTag/team":"a"}}})";
  EXPECT_EQ(Codes(Lint(Doc(c + "," + d))), std::vector<std::string>{"duplicate-statement"});
}

// ---- Ordering, bounds, formats
// --------------------------------------------------------------------

TEST(PolicyLintTest, FindingsAreOrderedByStatementThenCode) {
  const Findings f = Lint(R"({"Statement":[
      {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
      {"Effect":"Allow","NotAction":"bedrock:Nope","Resource":"*"}]})");
  const std::vector<std::string> expected = {
      "old-policy-version",                                      // policy level first
      "statement-never-used",                                    // Statement[0]
      "invoke-no-region-condition", "invoke-resource-wildcard",  // Statement[1], by code
      "not-action-allow",           "unknown-action"};
  EXPECT_EQ(Codes(f), expected);
  for (const LintFinding& x : f) {
    EXPECT_FALSE(x.fix.empty()) << x.code;
    EXPECT_FALSE(x.message.empty()) << x.code;
    EXPECT_FALSE(x.location.empty()) << x.code;
  }
}

TEST(PolicyLintTest, TooManyFindingsAreTruncatedWithANotice) {
  std::string actions;
  for (int i = 0; i < 300; ++i) {
    if (i > 0) actions += ",";
    actions += "\"bedrock:Nope" + std::to_string(i) + "\"";
  }
  const Findings f = Lint(Doc(R"({"Effect":"Deny","Action":[)" + actions + R"(],"Resource":"*"})"));
  ASSERT_EQ(f.size(), kMaxLintFindings + 1);
  EXPECT_EQ(f.back().code, "findings-truncated");
  EXPECT_TRUE(Contains(f.back().message, "100 more")) << f.back().message;
}

TEST(PolicyLintTest, ShadowAnalysisStopsAtItsBudgetAndSaysSo) {
  // Each of the 1000 actions of each Allow is compared with all 1000 Deny actions before the
  // last one ("kms:*") covers it: 2,000,000 comparisons for the two Allows.
  auto actions = [](const std::string& prefix, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ",";
      out += "\"kms:" + prefix + std::to_string(i) + "\"";
    }
    return out;
  };
  const std::string big =
      Doc(R"({"Effect":"Deny","Action":[)" + actions("D", 999) +
          R"(,"kms:*"],"Resource":"*"},{"Effect":"Allow","Action":[)" + actions("A", 1000) +
          R"(],"Resource":"*"},{"Effect":"Allow","Action":[)" + actions("B", 1000) +
          R"(],"Resource":"*"})");
  ASSERT_LT(big.size(), 128u * 1024);
  const Findings f = Lint(big);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].code, "analysis-incomplete");
  // A small policy is analysed completely.
  EXPECT_EQ(FindCode(Lint(Doc(kGoodInvoke)), "analysis-incomplete"), nullptr);
}

TEST(PolicyLintTest, TextFormatIsOneLinePerFinding) {
  const Findings f = {
      {Severity::kWarning, "invoke-resource-wildcard", "Statement[1] (Sid \"AllowInvoke\")",
       "model invocation is allowed on every model", "name the model ARNs"},
      {Severity::kError, "unknown-action", "Statement[2]", "bad\naction", "fix\nit"}};
  EXPECT_EQ(FormatFindingsText("policies/app.json", f),
            "policies/app.json: warning: invoke-resource-wildcard: Statement[1] (Sid "
            "\"AllowInvoke\"): model invocation is allowed on every model (fix: name the model "
            "ARNs)\n"
            "policies/app.json: error: unknown-action: Statement[2]: bad\\naction (fix: "
            "fix\\nit)\n");
  EXPECT_EQ(FormatFindingsText("x", {}), "");
}

TEST(PolicyLintTest, SidWithControlCharactersStaysOnOneLine) {
  const Findings f =
      Lint(Doc(R"({"Sid":"a\nb","Effect":"Allow","Action":"s3:GetObject","Resource":"*"})"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].location, "Statement[0] (Sid \"a\\nb\")");
  const std::string text = FormatFindingsText("p", f);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(PolicyLintTest, JsonFormatCarriesEveryField) {
  const Findings f = {{Severity::kInfo, "statement-never-used", "Statement[0]", "m", "f"}};
  EXPECT_EQ(boost::json::serialize(FindingsToJson("a.json", f)),
            R"([{"file":"a.json","severity":"info","code":"statement-never-used",)"
            R"("location":"Statement[0]","message":"m","fix":"f"}])");
  EXPECT_TRUE(FindingsToJson("a.json", {}).empty());
}

TEST(PolicyLintTest, SeverityNamesAndHasErrors) {
  EXPECT_EQ(SeverityName(Severity::kError), "error");
  EXPECT_EQ(SeverityName(Severity::kWarning), "warning");
  EXPECT_EQ(SeverityName(Severity::kInfo), "info");
  EXPECT_FALSE(HasErrors({}));
  EXPECT_FALSE(HasErrors({{Severity::kWarning, "c", "l", "m", "f"}}));
  EXPECT_TRUE(
      HasErrors({{Severity::kInfo, "c", "l", "m", "f"}, {Severity::kError, "c", "l", "m", "f"}}));
}

}  // namespace
}  // namespace perimeter::policy
