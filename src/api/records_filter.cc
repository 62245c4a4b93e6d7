#include "api/records_filter.h"

#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>

#include "api/audit_filter.h"
#include "common/clock.h"
#include "guard/guardrail.h"
#include "guard/scanner.h"
#include "pipeline/access_log.h"

namespace perimeter::api {

namespace json = boost::json;
using pipeline::FilterStatus;
using pipeline::Operation;
using pipeline::RequestContext;

namespace {

bool IsModelCall(Operation op) {
  return op == Operation::kConverse || op == Operation::kConverseStream ||
         op == Operation::kInvokeModel || op == Operation::kInvokeModelWithResponseStream ||
         op == Operation::kChatCompletions;
}

// What the user sent, as text: system prompts and every message's text, one per line. A
// request whose body did not parse into the canonical form is logged as its raw body.
std::string PromptText(const RequestContext& ctx) {
  if (!ctx.chat) return ctx.request.body;
  std::string out;
  for (const auto& s : ctx.chat->system) out += s + "\n";
  for (const auto& m : ctx.chat->messages) {
    for (const auto& t : m.text) out += t + "\n";
  }
  return out;
}

void ReportFailure(const RequestContext& ctx, std::string_view what, const Status& s) {
  // The message never holds text of the request (Status messages name types, not values).
  pipeline::WriteOperatorLine("error", what, ctx.request_id, ctx.tenant, {{"error", s.message()}});
}

}  // namespace

Result<std::string> RedactIdentifiers(std::string_view text, const std::string* tenant,
                                      redact::Vault* vault) {
  auto scanner = guard::AllTypesScanner();
  if (!scanner.ok()) return scanner.status();
  auto findings = (*scanner)->Scan(text);
  if (!findings.ok()) return findings.status();
  std::vector<guard::Finding> f = std::move(*findings);
  std::sort(f.begin(), f.end(), [](const guard::Finding& a, const guard::Finding& b) {
    return a.span.begin_byte < b.span.begin_byte;
  });
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& finding : f) {
    if (finding.span.begin_byte < pos || finding.span.end_byte > text.size()) continue;
    out.append(text.substr(pos, finding.span.begin_byte - pos));
    if (tenant != nullptr && vault != nullptr) {
      auto token = vault->Tokenize(*tenant, finding.type, finding.text);
      if (!token.ok()) return token.status();
      out += *token;
    } else {
      out += "{" + finding.type + "}";
    }
    pos = finding.span.end_byte;
  }
  out.append(text.substr(pos));
  return out;
}

boost::asio::awaitable<FilterStatus> RecordsFilter::OnRequest(RequestContext& ctx) const {
  if (!IsModelCall(ctx.operation)) co_return FilterStatus::kContinue;
  const bool record = ctx.tenant && record_tenants_.count(*ctx.tenant) > 0;
  if (log_prompts_ || record) ctx.capture_text = true;
  co_return FilterStatus::kContinue;
}

void RecordsFilter::OnComplete(RequestContext& ctx) const {
  if (!ctx.capture_text) return;
  const bool record = ctx.tenant && store_ && record_tenants_.count(*ctx.tenant) > 0;
  const std::string* tenant = ctx.tenant ? &*ctx.tenant : nullptr;
  const RequestKeyUseScope key_uses(ctx);
  auto prompt = RedactIdentifiers(PromptText(ctx), tenant, vault_.get());
  auto answer = RedactIdentifiers(ctx.answer_text, tenant, vault_.get());
  if (log_prompts_) {
    if (prompt.ok() && answer.ok()) {
      ctx.log_prompt = *prompt;
      ctx.log_answer = *answer + (ctx.answer_truncated ? " [truncated]" : "");
    } else {
      ctx.log_prompt = "[not logged: the identifiers in it could not be redacted]";
      ctx.log_answer = *ctx.log_prompt;
    }
  }
  if (!prompt.ok() || !answer.ok()) {
    ReportFailure(ctx, "the prompt or answer could not be redacted; not logged or recorded",
                  prompt.ok() ? answer.status() : prompt.status());
    return;
  }
  if (!record) return;
  json::object doc{
      {"requestId", ctx.request_id},
      {"tenant", *ctx.tenant},
      {"time", FormatRfc3339Millis(ctx.received_at)},
      {"operation", std::string(pipeline::OperationName(ctx.operation))},
      {"modelId", ctx.model_id},
      {"principal", ctx.principal_arn},
      {"status", ctx.status},
      {"request", *prompt},
      {"answer", *answer},
      {"answerTruncated", ctx.answer_truncated},
  };
  Status put = store_->Put(*ctx.tenant, ctx.request_id, json::serialize(doc));
  if (!put.ok()) ReportFailure(ctx, "the invocation record could not be written", put);
}

}  // namespace perimeter::api
