#include "policy/lint.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "common/strings.h"
#include "policy/policy.h"

namespace perimeter::policy {
namespace {

namespace json = boost::json;

// The actions of the AWS Service Authorization Reference, "Actions defined by Amazon Bedrock"
// (service prefix bedrock), plus InvokeModelWithBidirectionalStream. There is deliberately no
// Converse or ConverseStream: they are API operations, not IAM actions; AWS and Perimeter
// authorize Converse as bedrock:InvokeModel and ConverseStream as
// bedrock:InvokeModelWithResponseStream, so "bedrock:Converse" in a policy grants nothing.
constexpr std::string_view kBedrockActions[] = {
    "AgenticRetrieveStream",
    "AllowVendedLogDeliveryForResource",
    "ApplyGuardrail",
    "AssociateAgentCollaborator",
    "AssociateAgentKnowledgeBase",
    "AssociateThirdPartyKnowledgeBase",
    "BatchDeleteAdvancedPromptOptimizationJob",
    "BatchDeleteEvaluationJob",
    "CallWithBearerToken",
    "CancelAutomatedReasoningPolicyBuildWorkflow",
    "CopyBlueprintStage",
    "CountTokens",
    "CreateAdvancedPromptOptimizationJob",
    "CreateAgent",
    "CreateAgentActionGroup",
    "CreateAgentAlias",
    "CreateAutomatedReasoningPolicy",
    "CreateAutomatedReasoningPolicyTestCase",
    "CreateAutomatedReasoningPolicyVersion",
    "CreateBlueprint",
    "CreateBlueprintVersion",
    "CreateCustomModel",
    "CreateCustomModelDeployment",
    "CreateDataAutomationLibrary",
    "CreateDataAutomationProject",
    "CreateDataSource",
    "CreateEvaluationJob",
    "CreateFlow",
    "CreateFlowAlias",
    "CreateFlowVersion",
    "CreateFoundationModelAgreement",
    "CreateGuardrail",
    "CreateGuardrailVersion",
    "CreateInferenceProfile",
    "CreateInvocation",
    "CreateKnowledgeBase",
    "CreateMarketplaceModelEndpoint",
    "CreateModelCopyJob",
    "CreateModelCustomizationJob",
    "CreateModelEvaluationJob",
    "CreateModelImportJob",
    "CreateModelInvocationJob",
    "CreatePrompt",
    "CreatePromptRouter",
    "CreatePromptVersion",
    "CreateProvisionedModelThroughput",
    "CreateSession",
    "DeleteAgent",
    "DeleteAgentActionGroup",
    "DeleteAgentAlias",
    "DeleteAgentMemory",
    "DeleteAgentVersion",
    "DeleteAutomatedReasoningPolicy",
    "DeleteAutomatedReasoningPolicyBuildWorkflow",
    "DeleteAutomatedReasoningPolicyTestCase",
    "DeleteBlueprint",
    "DeleteCustomModel",
    "DeleteCustomModelDeployment",
    "DeleteDataAutomationLibrary",
    "DeleteDataAutomationProject",
    "DeleteDataSource",
    "DeleteEnforcedGuardrailConfiguration",
    "DeleteFlow",
    "DeleteFlowAlias",
    "DeleteFlowVersion",
    "DeleteFoundationModelAgreement",
    "DeleteGuardrail",
    "DeleteImportedModel",
    "DeleteInferenceProfile",
    "DeleteKnowledgeBase",
    "DeleteKnowledgeBaseDocuments",
    "DeleteMarketplaceModelAgreement",
    "DeleteMarketplaceModelEndpoint",
    "DeleteModelInvocationLoggingConfiguration",
    "DeletePrompt",
    "DeletePromptRouter",
    "DeleteProvisionedModelThroughput",
    "DeleteResourcePolicy",
    "DeleteSession",
    "DeregisterMarketplaceModelEndpoint",
    "DetectGeneratedContent",
    "DisassociateAgentCollaborator",
    "DisassociateAgentKnowledgeBase",
    "EndSession",
    "ExportAutomatedReasoningPolicyVersion",
    "GenerateQuery",
    "GetAccountDataRetention",
    "GetAdvancedPromptOptimizationJob",
    "GetAgent",
    "GetAgentActionGroup",
    "GetAgentAlias",
    "GetAgentCollaborator",
    "GetAgentKnowledgeBase",
    "GetAgentMemory",
    "GetAgentVersion",
    "GetAsyncInvoke",
    "GetAutomatedReasoningPolicy",
    "GetAutomatedReasoningPolicyAnnotations",
    "GetAutomatedReasoningPolicyBuildWorkflow",
    "GetAutomatedReasoningPolicyBuildWorkflowResultAssets",
    "GetAutomatedReasoningPolicyNextScenario",
    "GetAutomatedReasoningPolicyTestCase",
    "GetAutomatedReasoningPolicyTestResult",
    "GetBlueprint",
    "GetBlueprintOptimizationStatus",
    "GetBlueprintRecommendation",
    "GetCustomModel",
    "GetCustomModelDeployment",
    "GetDataAutomationLibrary",
    "GetDataAutomationLibraryEntity",
    "GetDataAutomationLibraryIngestionJob",
    "GetDataAutomationProject",
    "GetDataAutomationStatus",
    "GetDataSource",
    "GetDocumentContent",
    "GetEvaluationJob",
    "GetExecutionFlowSnapshot",
    "GetFlow",
    "GetFlowAlias",
    "GetFlowExecution",
    "GetFlowVersion",
    "GetFoundationModel",
    "GetFoundationModelAvailability",
    "GetGuardrail",
    "GetImportedModel",
    "GetInferenceProfile",
    "GetIngestionJob",
    "GetInvocationStep",
    "GetKnowledgeBase",
    "GetKnowledgeBaseDocuments",
    "GetMarketplaceModelEndpoint",
    "GetModelCopyJob",
    "GetModelCustomizationJob",
    "GetModelEvaluationJob",
    "GetModelImportJob",
    "GetModelInvocationJob",
    "GetModelInvocationLoggingConfiguration",
    "GetPrompt",
    "GetPromptRouter",
    "GetProvisionedModelThroughput",
    "GetResourcePolicy",
    "GetSession",
    "GetUseCaseForModelAccess",
    "IngestKnowledgeBaseDocuments",
    "InvokeAgent",
    "InvokeAutomatedReasoningPolicy",
    "InvokeBlueprintOptimizationAsync",
    "InvokeBlueprintRecommendationAsync",
    "InvokeBuilder",
    "InvokeDataAutomation",
    "InvokeDataAutomationAsync",
    "InvokeDataAutomationLibraryIngestionJob",
    "InvokeFlow",
    "InvokeGuardrailChecks",
    "InvokeInlineAgent",
    "InvokeModel",
    "InvokeModelWithBidirectionalStream",
    "InvokeModelWithResponseStream",
    "InvokeTool",
    "ListAdvancedPromptOptimizationJobs",
    "ListAgentActionGroups",
    "ListAgentAliases",
    "ListAgentCollaborators",
    "ListAgentKnowledgeBases",
    "ListAgentVersions",
    "ListAgents",
    "ListAsyncInvokes",
    "ListAutomatedReasoningPolicies",
    "ListAutomatedReasoningPolicyBuildWorkflows",
    "ListAutomatedReasoningPolicyTestCases",
    "ListAutomatedReasoningPolicyTestResults",
    "ListBlueprints",
    "ListCustomModelDeployments",
    "ListCustomModels",
    "ListDataAutomationLibraries",
    "ListDataAutomationLibraryEntities",
    "ListDataAutomationLibraryIngestionJobs",
    "ListDataAutomationProjects",
    "ListDataSources",
    "ListEnforcedGuardrailsConfiguration",
    "ListEvaluationJobs",
    "ListFlowAliases",
    "ListFlowExecutionEvents",
    "ListFlowExecutions",
    "ListFlowVersions",
    "ListFlows",
    "ListFoundationModelAgreementOffers",
    "ListFoundationModels",
    "ListGuardrails",
    "ListImportedModels",
    "ListInferenceProfiles",
    "ListIngestionJobs",
    "ListInvocationSteps",
    "ListInvocations",
    "ListKnowledgeBaseDocuments",
    "ListKnowledgeBases",
    "ListMarketplaceModelEndpoints",
    "ListModelCopyJobs",
    "ListModelCustomizationJobs",
    "ListModelEvaluationJobs",
    "ListModelImportJobs",
    "ListModelInvocationJobs",
    "ListPromptRouters",
    "ListPrompts",
    "ListProvisionedModelThroughputs",
    "ListSessions",
    "ListTagsForResource",
    "OptimizePrompt",
    "PrepareAgent",
    "PrepareFlow",
    "PutAccountDataRetention",
    "PutEnforcedGuardrailConfiguration",
    "PutFoundationModelEntitlement",
    "PutInvocationStep",
    "PutModelInvocationLoggingConfiguration",
    "PutResourcePolicy",
    "PutUseCaseForModelAccess",
    "RegisterMarketplaceModelEndpoint",
    "RenderPrompt",
    "Rerank",
    "Retrieve",
    "RetrieveAndGenerate",
    "StartAutomatedReasoningPolicyBuildWorkflow",
    "StartAutomatedReasoningPolicyTestWorkflow",
    "StartFlowExecution",
    "StartIngestionJob",
    "StopAdvancedPromptOptimizationJob",
    "StopEvaluationJob",
    "StopFlowExecution",
    "StopIngestionJob",
    "StopModelCustomizationJob",
    "StopModelInvocationJob",
    "TagResource",
    "UntagResource",
    "UpdateAgent",
    "UpdateAgentActionGroup",
    "UpdateAgentAlias",
    "UpdateAgentCollaborator",
    "UpdateAgentKnowledgeBase",
    "UpdateAutomatedReasoningPolicy",
    "UpdateAutomatedReasoningPolicyAnnotations",
    "UpdateAutomatedReasoningPolicyTestCase",
    "UpdateBlueprint",
    "UpdateCustomModelDeployment",
    "UpdateDataAutomationLibrary",
    "UpdateDataAutomationProject",
    "UpdateDataSource",
    "UpdateFlow",
    "UpdateFlowAlias",
    "UpdateGuardrail",
    "UpdateKnowledgeBase",
    "UpdateMarketplaceModelEndpoint",
    "UpdatePrompt",
    "UpdateProvisionedModelThroughput",
    "UpdateSession",
    "ValidateFlowDefinition",
};

// The actions Perimeter authorizes when a model is invoked (Converse and ConverseStream
// included, see above). Lower case, as policy actions are compared case-insensitively.
constexpr std::string_view kInvokeActions[] = {"bedrock:invokemodel",
                                               "bedrock:invokemodelwithresponsestream"};

// Service prefixes of every action Perimeter ever authorizes.
constexpr std::string_view kPerimeterServices[] = {"bedrock", "kms", "perimeter", "sts"};

// A model id nobody would write: a Resource pattern that matches it matches every model.
constexpr std::string_view kProbeModelId = "zz-perimeter-lint-probe.model-v9:0";

// Statement-pair comparisons (one glob containment test each) for shadowing; a bound on the
// quadratic part of the analysis for adversarially large documents.
constexpr size_t kMaxCoverChecks = 1'000'000;

// Suggestions ("did you mean") are computed for this many unknown actions at most; each costs
// one edit distance per known action.
constexpr size_t kMaxSuggestions = 50;

// One statement as written (the parser has already validated its shape).
struct StatementView {
  size_t index = 0;
  std::string name;      // Statement[i]
  std::string location;  // Statement[i] (Sid "...")
  bool allow = true;
  std::vector<std::string> actions;
  std::vector<std::string> actions_lower;  // actions are compared case-insensitively
  bool not_action = false;
  std::vector<std::string> resources;
  bool not_resource = false;
  const json::value* principal = nullptr;  // Principal or NotPrincipal; null when absent
  bool not_principal = false;
  const json::object* condition = nullptr;  // null when absent or {}
};

// A finding plus its sort key: 0 for policy-level findings, statement index + 1 otherwise.
struct Ordered {
  size_t order;
  LintFinding finding;
};

class Findings {
 public:
  void Add(size_t order, Severity severity, std::string code, std::string location,
           std::string message, std::string fix) {
    items_.push_back({order, LintFinding{severity, std::move(code), std::move(location),
                                         std::move(message), std::move(fix)}});
  }
  void AddFor(const StatementView& s, Severity severity, std::string code, std::string message,
              std::string fix) {
    Add(s.index + 1, severity, std::move(code), s.location, std::move(message), std::move(fix));
  }

  std::vector<LintFinding> Finish() && {
    std::stable_sort(items_.begin(), items_.end(), [](const Ordered& a, const Ordered& b) {
      if (a.order != b.order) return a.order < b.order;
      return a.finding.code < b.finding.code;
    });
    std::vector<LintFinding> out;
    const size_t total = items_.size();
    for (size_t i = 0; i < total && i < kMaxLintFindings; ++i) {
      out.push_back(std::move(items_[i].finding));
    }
    if (total > kMaxLintFindings) {
      out.push_back({Severity::kInfo, "findings-truncated", "policy",
                     std::to_string(total - kMaxLintFindings) + " more findings not shown (" +
                         std::to_string(total) + " in all)",
                     "fix the findings shown and run lint again"});
    }
    return out;
  }

 private:
  std::vector<Ordered> items_;
};

// A user value quoted as a JSON string: escapes quotes and control characters, so a finding
// stays on one line; long values are shortened.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 100;
  std::string text(s.substr(0, kMax));
  if (s.size() > kMax) text += "...";
  return json::serialize(json::value(json::string_view(text)));
}

std::string QuoteList(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::vector<std::string> StringsOf(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->is_string()) {
    out.emplace_back(v->as_string());
  } else if (v->is_array()) {
    for (const json::value& e : v->as_array()) {
      if (e.is_string()) out.emplace_back(e.as_string());
    }
  }
  return out;
}

bool HasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

// Splits an ARN pattern at its first five ':' outside "${...}", as ArnPattern does. Fewer than
// six parts means the pattern is matched as one whole string.
std::vector<std::string_view> SplitArnPattern(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  bool in_variable = false;
  for (size_t i = 0; i < s.size() && parts.size() < 5; ++i) {
    if (in_variable) {
      in_variable = s[i] != '}';
    } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      in_variable = true;
      ++i;
    } else if (s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// The lower-cased service prefix of an action ("*" for the bare wildcard).
std::string ServiceOf(std::string_view action) {
  size_t colon = action.find(':');
  return AsciiLower(colon == std::string_view::npos ? action : action.substr(0, colon));
}

std::string MakeLocation(std::string name, const json::object& o) {
  std::string loc = std::move(name);
  if (const auto* sid = o.if_contains("Sid"); sid != nullptr && sid->is_string()) {
    loc += " (Sid " + Quote(sid->as_string()) + ")";
  }
  return loc;
}

std::vector<StatementView> ReadStatements(const json::object& doc) {
  std::vector<const json::value*> raw;
  if (const auto* st = doc.if_contains("Statement")) {
    if (st->is_object()) {
      raw.push_back(st);
    } else if (st->is_array()) {
      for (const json::value& v : st->as_array()) raw.push_back(&v);
    }
  }
  std::vector<StatementView> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!raw[i]->is_object()) continue;  // the parser has refused these already
    const json::object& o = raw[i]->as_object();
    StatementView s;
    s.index = i;
    s.name = "Statement[" + std::to_string(i) + "]";
    s.location = MakeLocation(s.name, o);
    const auto* effect = o.if_contains("Effect");
    s.allow = effect != nullptr && effect->is_string() && effect->as_string() == "Allow";
    s.not_action = o.contains("NotAction");
    s.actions = StringsOf(o.if_contains(s.not_action ? "NotAction" : "Action"));
    for (const std::string& a : s.actions) s.actions_lower.push_back(AsciiLower(a));
    s.not_resource = o.contains("NotResource");
    s.resources = StringsOf(o.if_contains(s.not_resource ? "NotResource" : "Resource"));
    s.not_principal = o.contains("NotPrincipal");
    s.principal = o.if_contains(s.not_principal ? "NotPrincipal" : "Principal");
    if (const auto* c = o.if_contains("Condition");
        c != nullptr && c->is_object() && !c->as_object().empty()) {
      s.condition = &c->as_object();
    }
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What a statement grants

bool MatchesAnyAction(const std::vector<std::string>& patterns_lower,
                      std::string_view action_lower) {
  for (const std::string& p : patterns_lower) {
    if (GlobMatch(p, action_lower)) return true;
  }
  return false;
}

// An Allow whose actions include model invocation (through Action or by NotAction omission).
bool AllowsInvoke(const StatementView& s) {
  if (!s.allow) return false;
  for (std::string_view a : kInvokeActions) {
    if (MatchesAnyAction(s.actions_lower, a) != s.not_action) return true;
  }
  return false;
}

// True when the Resource pattern matches a made-up model id: then it names no model in
// particular and grants all of them (for the region it names, if any).
bool CoversEveryModel(std::string_view pattern) {
  const std::vector<std::string_view> parts = SplitArnPattern(pattern);
  for (std::string_view type : {"foundation-model/", "inference-profile/"}) {
    const std::string resource = std::string(type) + std::string(kProbeModelId);
    if (parts.size() == 6) {
      if (GlobMatch(parts[2], "bedrock") && GlobMatch(parts[5], resource)) return true;
      continue;
    }
    // A whole-string pattern: probe with the partition, region and account it writes out.
    auto literal_or = [&](size_t i, std::string_view fallback) {
      return std::string(parts.size() > i && !HasWildcard(parts[i]) ? parts[i] : fallback);
    };
    const std::string probe = "arn:" + literal_or(1, "aws") +
                              ":bedrock:" + literal_or(3, "eu-west-1") + ":" + literal_or(4, "") +
                              ":" + resource;
    if (GlobMatch(pattern, probe)) return true;
  }
  return false;
}

// The region segment of a six-part ARN pattern when it names a region (not empty, not only
// wildcards); nullopt otherwise.
std::optional<std::string_view> PinnedRegion(std::string_view pattern) {
  const std::vector<std::string_view> parts = SplitArnPattern(pattern);
  if (parts.size() != 6) return std::nullopt;
  std::string_view region = parts[3];
  if (region.find_first_not_of("*?") == std::string_view::npos) return std::nullopt;
  return region;
}

bool HasConditionKey(const StatementView& s, std::string_view key) {
  if (s.condition == nullptr) return false;
  for (const auto& [op, block] : *s.condition) {
    if (!block.is_object()) continue;
    for (const auto& [k, v] : block.as_object()) {
      if (EqualsIgnoreCase(k, key)) return true;
    }
  }
  return false;
}

bool IsWildcardPrincipal(const json::value& p) {
  if (p.is_string()) return p.as_string() == "*";
  if (!p.is_object()) return false;
  for (const std::string& a : StringsOf(p.as_object().if_contains("AWS"))) {
    if (a == "*") return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Bedrock action names

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

class BedrockActionTable {
 public:
  BedrockActionTable() {
    for (std::string_view a : kBedrockActions) lower_.push_back(AsciiLower(a));
  }

  // The action as AWS spells it, when `name_lower` (no prefix) is one; else nullopt.
  std::optional<std::string_view> Canonical(std::string_view name_lower) const {
    for (size_t i = 0; i < lower_.size(); ++i) {
      if (lower_[i] == name_lower) return kBedrockActions[i];
    }
    return std::nullopt;
  }

  bool AnyMatches(std::string_view glob_lower) const {
    for (const std::string& a : lower_) {
      if (GlobMatch(glob_lower, a)) return true;
    }
    return false;
  }

  // The nearest known action within a small edit distance (a typo), if there is one.
  std::optional<std::string_view> Nearest(std::string_view name_lower) const {
    constexpr size_t kMaxLen = 80;
    if (name_lower.size() > kMaxLen) return std::nullopt;
    const size_t limit = name_lower.size() < 8 ? 1 : 3;
    std::optional<std::string_view> best;
    size_t best_distance = limit + 1;
    for (size_t i = 0; i < lower_.size(); ++i) {
      const size_t len = lower_[i].size();
      const size_t diff =
          len > name_lower.size() ? len - name_lower.size() : name_lower.size() - len;
      if (diff > limit) continue;
      const size_t d = EditDistance(name_lower, lower_[i]);
      if (d < best_distance) {
        best_distance = d;
        best = kBedrockActions[i];
      }
    }
    return best;
  }

 private:
  std::vector<std::string> lower_;
};

// ---------------------------------------------------------------------------------------------
// Checks

void CheckVersion(const json::object& doc, Findings& out) {
  const json::value* v = doc.if_contains("Version");
  const std::string fix = "add \"Version\": \"2012-10-17\" as the first element of the policy";
  if (v == nullptr) {
    out.Add(0, Severity::kWarning, "old-policy-version", "Version",
            "the policy has no Version, so it is read as version 2008-10-17, where policy "
            "variables such as ${aws:username} are literal text, not substituted",
            fix);
  } else if (v->is_string() && v->as_string() == "2008-10-17") {
    out.Add(0, Severity::kWarning, "old-policy-version", "Version",
            "Version \"2008-10-17\" does not substitute policy variables such as "
            "${aws:username}; they are matched as literal text",
            fix);
  }
}

void CheckActions(const StatementView& s, const BedrockActionTable& table, size_t* suggestions,
                  Findings& out) {
  const char* element = s.not_action ? "NotAction" : "Action";
  for (const std::string& action : s.actions) {
    const std::string lower = AsciiLower(action);
    const size_t colon = lower.find(':');
    if (colon == std::string::npos) continue;  // "*"
    const std::string_view service = std::string_view(lower).substr(0, colon);
    const std::string_view name = std::string_view(lower).substr(colon + 1);

    if (service == "bedrock-runtime") {
      std::optional<std::string_view> canonical = table.Canonical(name);
      out.AddFor(s, Severity::kError, "unknown-action",
                 std::string(element) + " " + Quote(action) +
                     ": bedrock-runtime is the endpoint name, not an IAM service prefix; this "
                     "entry matches no request",
                 canonical ? "write \"bedrock:" + std::string(*canonical) + "\""
                           : "use the bedrock: prefix, e.g. \"bedrock:InvokeModel\"");
      continue;
    }
    if (service != "bedrock") continue;

    if (name == "converse" || name == "conversestream") {
      const bool stream = name == "conversestream";
      const std::string replacement =
          stream ? "bedrock:InvokeModelWithResponseStream" : "bedrock:InvokeModel";
      out.AddFor(s, Severity::kError, "unknown-action",
                 std::string(element) + " " + Quote(action) + " is not an IAM action: the " +
                     (stream ? "ConverseStream" : "Converse") + " API is authorized as " +
                     replacement + ", so this entry matches nothing",
                 "replace it with \"" + replacement + "\"");
      continue;
    }
    if (HasWildcard(name)) {
      if (table.AnyMatches(name)) continue;
      std::string message =
          std::string(element) + " " + Quote(action) + " matches no Bedrock action";
      if (GlobMatch(name, "converse") || GlobMatch(name, "conversestream")) {
        message +=
            " (Converse and ConverseStream are authorized as bedrock:InvokeModel and "
            "bedrock:InvokeModelWithResponseStream)";
      }
      out.AddFor(
          s, Severity::kError, "unknown-action", std::move(message),
          "write a pattern that matches the actions you mean, e.g. \"bedrock:InvokeModel*\"");
      continue;
    }
    if (table.Canonical(name)) continue;
    std::optional<std::string_view> nearest;
    if (*suggestions < kMaxSuggestions) {
      ++*suggestions;
      nearest = table.Nearest(name);
    }
    out.AddFor(s, Severity::kError, "unknown-action",
               std::string(element) + " " + Quote(action) +
                   " is not a Bedrock action, so this entry matches no request",
               nearest ? "did you mean \"bedrock:" + std::string(*nearest) + "\"?"
                       : "use an action from the Amazon Bedrock service authorization reference, "
                         "e.g. \"bedrock:InvokeModel\"");
  }
}

void CheckNotActionAllow(const StatementView& s, Findings& out) {
  if (!s.allow || !s.not_action) return;
  out.AddFor(s, Severity::kWarning, "not-action-allow",
             "\"Allow\" with NotAction grants every action not listed, including actions added "
             "to Perimeter or Bedrock later",
             "list the actions to allow in \"Action\", e.g. [\"bedrock:InvokeModel\", "
             "\"bedrock:InvokeModelWithResponseStream\"]; keep NotAction for \"Deny\" statements");
}

void CheckInvokeResources(const StatementView& s, Findings& out) {
  if (!AllowsInvoke(s)) return;
  if (s.not_resource) {
    out.AddFor(s, Severity::kWarning, "invoke-resource-wildcard",
               "model invocation is allowed with NotResource, which grants every model except "
               "the ones listed, including models added later",
               "replace NotResource with \"Resource\" naming the model ARNs: "
               "arn:aws:bedrock:eu-west-1::foundation-model/<id>");
    return;
  }
  for (const std::string& r : s.resources) {
    if (!CoversEveryModel(r)) continue;
    std::string region(PinnedRegion(r).value_or("eu-west-1"));
    if (HasWildcard(region) || region.find("${") != std::string::npos) region = "eu-west-1";
    out.AddFor(s, Severity::kWarning, "invoke-resource-wildcard",
               "model invocation is allowed on Resource " + Quote(r) +
                   ", which matches every model, so any model (and any model added later) can "
                   "be invoked",
               "name the model ARNs: arn:aws:bedrock:" + region + "::foundation-model/<id>");
    return;  // one finding per statement is enough to act on
  }
}

void CheckInvokeRegion(const StatementView& s, Findings& out) {
  if (!AllowsInvoke(s) || HasConditionKey(s, "aws:RequestedRegion")) return;
  if (!s.not_resource) {
    const bool all_pinned = std::all_of(s.resources.begin(), s.resources.end(),
                                        [](const std::string& r) { return PinnedRegion(r); });
    if (all_pinned) return;
  }
  out.AddFor(s, Severity::kWarning, "invoke-no-region-condition",
             "model invocation is allowed in any region: there is no aws:RequestedRegion "
             "condition and not every resource ARN names a region",
             "add \"Condition\": {\"StringEquals\": {\"aws:RequestedRegion\": \"eu-west-1\"}}, "
             "or write the region into every Resource ARN "
             "(arn:aws:bedrock:eu-west-1::foundation-model/<id>)");
}

void CheckWildcardPrincipal(const StatementView& s, LintPolicyKind kind, Findings& out) {
  if (!s.allow || s.principal == nullptr || s.not_principal) return;
  if (!IsWildcardPrincipal(*s.principal)) return;
  const std::string what =
      kind == LintPolicyKind::kTrust ? "assume this role" : "use this resource";
  if (s.condition == nullptr) {
    out.AddFor(s, Severity::kError, "wildcard-principal",
               "Principal is \"*\" with no Condition: any authenticated principal can " + what,
               "name the principals, e.g. \"Principal\": {\"AWS\": "
               "\"arn:aws:iam::111122223333:role/NAME\"}, or add a Condition such as "
               "{\"StringEquals\": {\"aws:PrincipalAccount\": \"111122223333\"}}");
  } else {
    out.AddFor(s, Severity::kWarning, "wildcard-principal",
               "Principal is \"*\": any principal that satisfies the Condition can " + what +
                   ", so the Condition alone decides who gets in",
               "name the principals in \"Principal\" (e.g. {\"AWS\": "
               "\"arn:aws:iam::111122223333:role/NAME\"}) and keep the Condition as a second "
               "check");
  }
}

bool ServiceUsedByPerimeter(const std::string& action) {
  const std::string service = ServiceOf(action);
  if (service == "*") return true;
  for (std::string_view known : kPerimeterServices) {
    if (GlobMatch(service, known)) return true;
  }
  return false;
}

void CheckUnused(const StatementView& s, Findings& out) {
  if (s.not_action || s.actions.empty()) return;
  if (std::any_of(s.actions.begin(), s.actions.end(), ServiceUsedByPerimeter)) return;
  std::vector<std::string> services;
  for (const std::string& a : s.actions) {
    std::string svc = ServiceOf(a);
    if (std::find(services.begin(), services.end(), svc) == services.end()) {
      services.push_back(std::move(svc));
    }
  }
  out.AddFor(s, Severity::kInfo, "statement-never-used",
             "every action is of a service Perimeter never authorizes (" + QuoteList(services) +
                 "), so this statement never affects a Perimeter decision",
             "remove the statement; Perimeter authorizes only bedrock:, sts:, perimeter: and "
             "kms: actions");
}

void CheckResourceService(const StatementView& s, Findings& out) {
  if (s.not_action || s.not_resource || s.actions.empty() || s.resources.empty()) return;
  for (const std::string& a : s.actions) {
    if (ServiceOf(a) != "bedrock") return;
  }
  std::vector<std::string> services;
  for (const std::string& r : s.resources) {
    const std::vector<std::string_view> parts = SplitArnPattern(r);
    if (parts.size() != 6) return;
    const std::string_view svc = parts[2];
    if (HasWildcard(svc) || svc.find('$') != std::string_view::npos || svc == "bedrock") return;
    if (std::find(services.begin(), services.end(), svc) == services.end()) {
      services.emplace_back(svc);
    }
  }
  out.AddFor(s, Severity::kWarning, "resource-service-mismatch",
             "the statement has only bedrock: actions but its resources are all ARNs of other "
             "services (" +
                 QuoteList(services) + "), so it can never match a request",
             "use Bedrock ARNs such as arn:aws:bedrock:eu-west-1::foundation-model/<id>, or move "
             "these resources to a statement with their own service's actions");
}

// Whether every string `s` can match is also matched by `d` (both globs). Sound but not
// complete: it answers true only for equality, a wildcard-free `s` that `d` matches, or a
// `d` of the form "prefix*" whose prefix starts `s`. A "${...}" variable in `d` is only
// trusted when the strings are equal; in `s` it counts as a wildcard.
bool Covers(std::string_view d, std::string_view s) {
  if (d == s) return true;
  if (d.find('$') != std::string_view::npos) return false;
  if (s.find_first_of("*?$") == std::string_view::npos) return GlobMatch(d, s);
  if (d.empty() || d.back() != '*') return false;
  const std::string_view prefix = d.substr(0, d.size() - 1);
  if (prefix.find_first_of("*?") != std::string_view::npos) return false;
  return StartsWith(s, prefix);
}

// ArnPattern semantics: six-part patterns match component by component.
bool ArnCovers(std::string_view d, std::string_view s) {
  const std::vector<std::string_view> dp = SplitArnPattern(d);
  if (dp.size() != 6) return Covers(d, s);
  const std::vector<std::string_view> sp = SplitArnPattern(s);
  if (sp.size() != 6) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (!Covers(dp[i], sp[i])) return false;
  }
  return true;
}

// JSON with object keys sorted and arrays treated as sets (sorted; one element == the element),
// matching the IAM grammar where ["a"] and "a" mean the same.
std::string Canonical(const json::value& v) {
  if (v.is_object()) {
    std::vector<std::pair<std::string, std::string>> members;
    for (const auto& [k, val] : v.as_object()) {
      members.emplace_back(json::serialize(json::value(k)), Canonical(val));
    }
    std::sort(members.begin(), members.end());
    std::string out = "{";
    for (const auto& [k, val] : members) out += k + ":" + val + ",";
    return out + "}";
  }
  if (v.is_array()) {
    if (v.as_array().size() == 1) return Canonical(v.as_array()[0]);
    std::vector<std::string> items;
    for (const json::value& e : v.as_array()) items.push_back(Canonical(e));
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    std::string out = "[";
    for (const std::string& e : items) out += e + ",";
    return out + "]";
  }
  return json::serialize(v);
}

bool PrincipalCovers(const StatementView& deny, const StatementView& allow) {
  if (deny.principal == nullptr || allow.principal == nullptr) {
    return deny.principal == nullptr && allow.principal == nullptr;
  }
  if (deny.not_principal || allow.not_principal) return false;
  return IsWildcardPrincipal(*deny.principal) ||
         Canonical(*deny.principal) == Canonical(*allow.principal);
}

// Every pattern of `allow` covered by some pattern of `deny`; false when the budget runs out.
template <typename CoverFn>
bool AllCovered(const std::vector<std::string>& deny, const std::vector<std::string>& allow,
                CoverFn covers, size_t* budget) {
  for (const std::string& a : allow) {
    bool covered = false;
    for (const std::string& d : deny) {
      if (*budget == 0) return false;
      --*budget;
      if (covers(d, a)) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

void CheckShadowed(const std::vector<StatementView>& stmts, Findings& out) {
  size_t budget = kMaxCoverChecks;
  for (const StatementView& allow : stmts) {
    if (!allow.allow || allow.not_action || allow.not_resource) continue;
    for (const StatementView& deny : stmts) {
      if (deny.allow || deny.condition != nullptr || deny.not_action || deny.not_resource) {
        continue;
      }
      if (!PrincipalCovers(deny, allow)) continue;
      const bool shadowed = AllCovered(deny.actions_lower, allow.actions_lower, Covers, &budget) &&
                            AllCovered(deny.resources, allow.resources, ArnCovers, &budget);
      if (budget == 0) {
        out.Add(0, Severity::kInfo, "analysis-incomplete", "policy",
                "the policy is too large to compare every Allow with every Deny; shadowed "
                "statements may go unreported",
                "split the policy into smaller policies and lint each");
        return;
      }
      if (shadowed) {
        out.AddFor(allow, Severity::kWarning, "shadowed-by-deny",
                   "every action and resource this Allow grants is denied by " + deny.location +
                       ", which has no Condition, so this statement can never grant anything",
                   "remove " + allow.name + ", or narrow the Deny in " + deny.name +
                       " if this Allow was meant to take effect");
        break;
      }
    }
  }
}

std::string StatementKey(const StatementView& s) {
  std::vector<std::string> actions = s.actions_lower;
  std::sort(actions.begin(), actions.end());
  actions.erase(std::unique(actions.begin(), actions.end()), actions.end());
  std::vector<std::string> resources = s.resources;
  std::sort(resources.begin(), resources.end());
  resources.erase(std::unique(resources.begin(), resources.end()), resources.end());
  json::array a(actions.begin(), actions.end());
  json::array r(resources.begin(), resources.end());
  std::string key = s.allow ? "Allow" : "Deny";
  key += (s.not_action ? " NotAction" : " Action") + json::serialize(a);
  key += (s.not_resource ? " NotResource" : " Resource") + json::serialize(r);
  if (s.principal != nullptr) {
    key += (s.not_principal ? " NotPrincipal" : " Principal") + Canonical(*s.principal);
  }
  if (s.condition != nullptr) key += " Condition" + Canonical(json::value(*s.condition));
  return key;
}

void CheckDuplicates(const std::vector<StatementView>& stmts, Findings& out) {
  std::map<std::string, const StatementView*> seen;
  for (const StatementView& s : stmts) {
    auto [it, inserted] = seen.emplace(StatementKey(s), &s);
    if (inserted) continue;
    const StatementView& first = *it->second;
    out.AddFor(s, Severity::kWarning, "duplicate-statement",
               "this statement repeats " + first.location +
                   " (same effect, actions, resources, principal and condition)",
               "remove " + s.name + "; " + first.name + " already says the same");
  }
}

PolicyKind ParseKind(LintPolicyKind kind) {
  switch (kind) {
    case LintPolicyKind::kIdentity:
    case LintPolicyKind::kDeploymentCap:
      return PolicyKind::kIdentity;
    case LintPolicyKind::kTrust:
      return PolicyKind::kTrust;
    case LintPolicyKind::kResource:
    case LintPolicyKind::kEndpoint:
      return PolicyKind::kResource;
  }
  return PolicyKind::kIdentity;
}

// Text output must stay one line per finding whatever the policy author wrote.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "info";
}

std::vector<LintFinding> LintPolicy(std::string_view json_text, LintPolicyKind kind) {
  auto parsed = Policy::Parse(json_text, ParseKind(kind));
  if (!parsed.ok()) {
    return {LintFinding{Severity::kError, "parse-error", "policy", parsed.status().message(),
                        "correct the element named in the message, then run lint again"}};
  }
  // Policy::Parse accepted the text, so it is a JSON object without duplicate keys.
  boost::system::error_code ec;
  const json::value doc = json::parse(json_text, ec);
  if (ec || !doc.is_object()) {
    return {LintFinding{Severity::kError, "parse-error", "policy", "not valid JSON",
                        "correct the JSON syntax, then run lint again"}};
  }
  const std::vector<StatementView> stmts = ReadStatements(doc.as_object());
  const BedrockActionTable table;
  Findings out;
  size_t suggestions = 0;

  CheckVersion(doc.as_object(), out);
  for (const StatementView& s : stmts) {
    CheckActions(s, table, &suggestions, out);
    CheckNotActionAllow(s, out);
    if (kind != LintPolicyKind::kTrust && kind != LintPolicyKind::kDeploymentCap) {
      // A deployment cap only bounds what other policies grant; wide resources are its norm.
      CheckInvokeResources(s, out);
    }
    if (kind != LintPolicyKind::kTrust) CheckInvokeRegion(s, out);
    if (kind == LintPolicyKind::kTrust || kind == LintPolicyKind::kResource) {
      // Endpoint policies conventionally name "*": identity policies decide who.
      CheckWildcardPrincipal(s, kind, out);
    }
    CheckUnused(s, out);
    CheckResourceService(s, out);
  }
  CheckShadowed(stmts, out);
  CheckDuplicates(stmts, out);
  return std::move(out).Finish();
}

bool HasErrors(const std::vector<LintFinding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const LintFinding& f) { return f.severity == Severity::kError; });
}

std::string FormatFindingsText(std::string_view file, const std::vector<LintFinding>& findings) {
  std::string out;
  for (const LintFinding& f : findings) {
    out += OneLine(file);
    out += ": ";
    out += SeverityName(f.severity);
    out += ": " + f.code + ": " + OneLine(f.location) + ": " + OneLine(f.message) +
           " (fix: " + OneLine(f.fix) + ")\n";
  }
  return out;
}

json::array FindingsToJson(std::string_view file, const std::vector<LintFinding>& findings) {
  json::array out;
  for (const LintFinding& f : findings) {
    json::object o;
    o["file"] = file;
    o["severity"] = SeverityName(f.severity);
    o["code"] = f.code;
    o["location"] = f.location;
    o["message"] = f.message;
    o["fix"] = f.fix;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace perimeter::policy
