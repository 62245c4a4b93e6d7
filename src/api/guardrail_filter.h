#pragma once

// The guardrail filter: runs after authorization, before the upstream.
//
//   - ApplyGuardrail (POST /guardrail/{id}/version/{version}/apply): judges the request's content
//     with the named guardrail and answers in Bedrock's shape (action, actionReason, outputs,
//     assessments, usage, guardrailCoverage).
//   - A model request with a guardrail (named by Converse guardrailConfig or InvokeModel's
//     X-Amzn-Bedrock-Guardrail* headers, or given by a config binding): the input is judged
//     first. Blocked: the answer is the guardrail's blocked-input message with stopReason
//     guardrail_intervened, and the model is never called. Anonymized: the model sees vault
//     tokens instead of the values. Then a ResponseControl judges the model's answer (windows
//     with overlap for streams, sync or async), with the not-in-input and cross-tenant rules.
//
// Anonymization stores values in the request tenant's vault (redact::Vault); a request in no
// tenant gets Bedrock's "{TYPE}" placeholders. Anything the guardrail cannot do (the store, the
// KMS or the vault is unreachable) fails the request: nothing is answered unguarded.

#include <memory>
#include <string>
#include <utility>

#include "guard/registry.h"
#include "iam/directory.h"
#include "pipeline/filter.h"
#include "redact/vault.h"

namespace perimeter::api {

class GuardrailFilter final : public pipeline::Filter {
 public:
  GuardrailFilter(std::shared_ptr<iam::Directory> directory,
                  std::shared_ptr<guard::GuardrailRegistry> registry,
                  std::shared_ptr<redact::Vault> vault)
      : directory_(std::move(directory)),
        registry_(std::move(registry)),
        vault_(std::move(vault)) {}
  std::string_view name() const override { return "guardrail"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

  // ApplyGuardrail: the JSON body to answer with, or the error (exposed for tests).
  Result<std::string> HandleApply(pipeline::RequestContext& ctx) const;
  // A guarded model request: judges the input and installs the output control. A non-ok
  // Status is the error to answer with.
  Status GuardModelRequest(pipeline::RequestContext& ctx) const;

 private:
  std::shared_ptr<iam::Directory> directory_;
  std::shared_ptr<guard::GuardrailRegistry> registry_;
  std::shared_ptr<redact::Vault> vault_;
};

// Parses an ApplyGuardrail request body into its source ("INPUT"/"OUTPUT"), text blocks and
// output scope ("INTERVENTIONS"/"FULL"). Exposed for tests and the fuzz target.
struct ApplyGuardrailRequest {
  std::string source;
  std::vector<guard::ContentBlock> content;
  std::string output_scope = "INTERVENTIONS";
};
Result<ApplyGuardrailRequest> ParseApplyGuardrailRequest(std::string_view body);

}  // namespace perimeter::api
