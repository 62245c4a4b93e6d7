#pragma once

// RecordsFilter: prompt logging and invocation records, both redacted.
//
// Placed after the guardrail filter. For a model call (Converse[Stream], InvokeModel[...],
// chat completions) it asks the upstream filter to keep the answer's text when either
//   - logging.prompts is "redacted": the access-log line then carries `prompt` and `answer`
//     with every identifier the guardrail engine detects (all types, not only a guardrail's
//     configured ones) replaced by a vault token of the request's tenant, the original going to
//     the tenant's vault (requests in no tenant get the {TYPE} placeholder; the value is stored
//     nowhere); or
//   - the request's tenant has invocation records on (access.tenants[].invocation_records): the
//     whole request and answer, tokenized the same way, are sealed under the tenant's key
//     (redact/invocation_store.h) when the request completes.
// Fail closed: if detection or tokenization fails, the text is not logged (the line says
// "[not logged: ...]") and no invocation record is written; the failure is reported on stderr
// with the request id. Key uses of the tokenization are recorded against the request.

#include <memory>
#include <set>
#include <string>

#include "pipeline/filter.h"
#include "redact/invocation_store.h"
#include "redact/vault.h"

namespace perimeter::api {

class RecordsFilter final : public pipeline::Filter {
 public:
  RecordsFilter(bool log_prompts, std::set<std::string> record_tenants,
                std::shared_ptr<redact::Vault> vault,
                std::shared_ptr<redact::InvocationStore> store)
      : log_prompts_(log_prompts),
        record_tenants_(std::move(record_tenants)),
        vault_(std::move(vault)),
        store_(std::move(store)) {}
  std::string_view name() const override { return "records"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;
  void OnComplete(pipeline::RequestContext& ctx) const override;

 private:
  bool log_prompts_;
  std::set<std::string> record_tenants_;
  std::shared_ptr<redact::Vault> vault_;
  std::shared_ptr<redact::InvocationStore> store_;
};

// `text` with every identifier the guardrail engine detects replaced: by the token of `tenant`'s
// vault (storing the value there) when a tenant and vault are given, else by "{TYPE}". Errors:
// the scanner's and the vault's (the caller must then not log the text).
Result<std::string> RedactIdentifiers(std::string_view text, const std::string* tenant,
                                      redact::Vault* vault);

}  // namespace perimeter::api
