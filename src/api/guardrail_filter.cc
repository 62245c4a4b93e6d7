#include "api/guardrail_filter.h"

#include "api/audit_filter.h"
#include "pipeline/access_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "api/json_fields.h"
#include "guard/stream_guard.h"

namespace perimeter::api {

using pipeline::FilterStatus;
using pipeline::Operation;
using pipeline::RequestContext;

namespace {

constexpr size_t kMaxApplyBlocks = 100;

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// ANONYMIZE through the tenant's vault: the value is stored encrypted under the tenant's key and
// replaced by its token.
// Each call is synchronous, so its key uses are stamped with the request (audit_filter.h).
class VaultAnonymizer final : public guard::Anonymizer {
 public:
  VaultAnonymizer(redact::Vault& vault, std::string tenant, RequestContext& ctx)
      : vault_(vault), tenant_(std::move(tenant)), ctx_(ctx) {}
  Result<std::string> Token(std::string_view entity, std::string_view value) override {
    const RequestKeyUseScope key_uses(ctx_);
    return vault_.Tokenize(tenant_, entity, value);
  }

 private:
  redact::Vault& vault_;
  std::string tenant_;
  RequestContext& ctx_;
};

class VaultCrossTenantIndex final : public guard::CrossTenantIndex {
 public:
  VaultCrossTenantIndex(redact::Vault& vault, RequestContext& ctx) : vault_(vault), ctx_(ctx) {}
  Result<std::optional<std::string>> OwnerOf(std::string_view entity, std::string_view value,
                                             std::string_view current_tenant) override {
    const RequestKeyUseScope key_uses(ctx_);
    return vault_.FindOwner(entity, value, current_tenant);
  }

 private:
  redact::Vault& vault_;
  RequestContext& ctx_;
};

// What a request's judgements share: the anonymizer and cross-tenant index of its tenant.
struct Judge {
  std::unique_ptr<guard::Anonymizer> anonymizer;
  std::unique_ptr<guard::CrossTenantIndex> cross_tenant;
  guard::ApplyOptions options;

  // `ctx` outlives the judge: a stream's judge lives in the context's response control.
  Judge(redact::Vault* vault, RequestContext& ctx) {
    const std::optional<std::string>& tenant = ctx.tenant;
    if (vault && tenant) {
      anonymizer = std::make_unique<VaultAnonymizer>(*vault, *tenant, ctx);
      cross_tenant = std::make_unique<VaultCrossTenantIndex>(*vault, ctx);
      options.tenant = *tenant;
    } else {
      anonymizer = std::make_unique<guard::PlaceholderAnonymizer>();
    }
    options.anonymizer = anonymizer.get();
    options.cross_tenant = cross_tenant.get();
  }
};

// Folds one judgement into the request's outcome for the access log (actions and types only).
void Record(pipeline::GuardrailOutcome& outcome, bool input, const guard::GuardResult& r,
            std::string_view request_id, std::string_view tenant) {
  std::string& action = input ? outcome.input : outcome.output;
  if (r.blocked) {
    action = "BLOCKED";
  } else if (r.intervened && action == "NONE") {
    action = "ANONYMIZED";
  }
  auto add = [&](const std::string& t) {
    auto it = std::lower_bound(outcome.types.begin(), outcome.types.end(), t);
    if (it == outcome.types.end() || *it != t) outcome.types.insert(it, t);
  };
  // The policies that intervened (acted: BLOCKED or ANONYMIZED), by Bedrock's assessment names.
  auto add_policy = [&](std::string_view name) {
    auto it = std::lower_bound(outcome.policies.begin(), outcome.policies.end(), name);
    if (it == outcome.policies.end() || *it != name) outcome.policies.emplace(it, name);
  };
  auto acted = [](const auto& findings) {
    return std::any_of(findings.begin(), findings.end(),
                       [](const auto& f) { return f.action != "NONE"; });
  };
  if (acted(r.pii) || acted(r.regexes)) add_policy("sensitiveInformationPolicy");
  if (acted(r.words)) add_policy("wordPolicy");
  if (!r.incidents.empty()) add_policy("crossTenantPolicy");
  for (const auto& p : r.pii) add(p.type);
  for (const auto& x : r.regexes) add(guard::CustomEntityName(x.name));
  for (const auto& i : r.incidents) {
    add(i.type);
    outcome.cross_tenant_incidents.push_back({i.type, i.owner_tenant});
    // Also on the operator's log at once: who, which tenants, which type; never the value.
    pipeline::WriteOperatorLine(
        "warning",
        "cross-tenant incident: an answer held another tenant's identifier and was blocked",
        request_id, tenant.empty() ? std::nullopt : std::optional<std::string>(std::string(tenant)),
        {{"entity_type", i.type}, {"owner_tenant", i.owner_tenant}});
  }
}

std::string TraceJson(const guard::Guardrail& g, const json::object* input,
                      const json::array* outputs, std::string_view action_reason) {
  json::object trace;
  if (input) trace["inputAssessment"] = json::object{{g.id(), *input}};
  if (outputs) trace["outputAssessments"] = json::object{{g.id(), *outputs}};
  if (!action_reason.empty()) trace["actionReason"] = action_reason;
  return json::serialize(trace);
}

// The output side of a guarded model request.
class GuardrailOutputControl final : public pipeline::ResponseControl {
 public:
  GuardrailOutputControl(pipeline::RequestContext& ctx,
                         std::shared_ptr<const guard::Guardrail> guardrail,
                         std::shared_ptr<Judge> judge, bool trace,
                         std::optional<json::object> input_assessment, bool async,
                         bool input_intervened)
      : ctx_(ctx),
        guardrail_(std::move(guardrail)),
        judge_(std::move(judge)),
        trace_(trace),
        input_assessment_(std::move(input_assessment)),
        async_(async),
        input_intervened_(input_intervened) {}

  Status CheckResponse(model::ChatResponse& response) override {
    const auto start = std::chrono::steady_clock::now();
    guard::ContentBlock block{response.text, {}};
    auto r = guardrail_->Apply(guard::GuardSource::kOutput,
                               std::span<const guard::ContentBlock>(&block, 1), judge_->options);
    if (!r.ok()) {
      return Unavailable("the guardrail could not judge the model's answer, so it is withheld: " +
                         r.status().message());
    }
    Record(*ctx_.guardrail_outcome, false, *r, ctx_.request_id, ctx_.tenant.value_or(""));
    response.guardrail_ran = true;
    response.guardrail_intervened = input_intervened_ || r->intervened;
    if (r->blocked) {
      response.text = guardrail_->blocked_outputs_messaging();
      response.stop_reason = model::StopReason::kGuardrailIntervened;
    } else if (!r->texts.empty()) {
      response.text = r->texts[0];
    }
    if (trace_) {
      json::array outputs{guardrail_->Assessment(*r, MillisSince(start), /*redact_matches=*/true)};
      response.guardrail_trace_json =
          TraceJson(*guardrail_, input_assessment_ ? &*input_assessment_ : nullptr, &outputs,
                    r->action_reason);
    }
    return Status::Ok();
  }

  std::unique_ptr<model::ChatStreamSink> WrapStream(model::ChatStreamSink& inner) override {
    return std::make_unique<Sink>(*this, inner);
  }

 private:
  class Sink final : public model::ChatStreamSink {
   public:
    Sink(GuardrailOutputControl& control, model::ChatStreamSink& inner)
        : control_(control),
          inner_(inner),
          guard_(control.guardrail_, control.judge_->options,
                 control.async_ ? guard::OutputStreamGuard::Mode::kAsync
                                : guard::OutputStreamGuard::Mode::kSync) {}

    boost::asio::awaitable<Status> OnStart(std::string_view id) override {
      co_return co_await inner_.OnStart(id);
    }
    boost::asio::awaitable<Status> OnTextDelta(std::string_view text) override {
      auto step = guard_.Push(text);
      RecordNewResults();
      co_return co_await Forward(std::move(step), false, model::StopReason::kEndTurn, {}, {});
    }
    boost::asio::awaitable<Status> OnStop(model::StopReason reason, std::string_view stop_sequence,
                                          const model::Usage& usage) override {
      auto step = guard_.Finish();
      RecordNewResults();
      co_return co_await Forward(std::move(step), true, reason, std::string(stop_sequence), usage);
    }

   private:
    void SetStreamTrace() {
      if (!control_.trace_) return;
      json::array outputs;
      for (const auto& r : guard_.results()) {
        outputs.push_back(control_.guardrail_->Assessment(r, 0, /*redact_matches=*/true));
      }
      const auto& in = control_.input_assessment_;
      control_.ctx_.guardrail_stream_trace_json =
          TraceJson(*control_.guardrail_, in ? &*in : nullptr, &outputs,
                    guard_.blocked() ? "Guardrail blocked." : "");
    }

    void RecordNewResults() {
      const auto& results = guard_.results();
      for (; recorded_ < results.size(); ++recorded_) {
        Record(*control_.ctx_.guardrail_outcome, false, results[recorded_],
               control_.ctx_.request_id, control_.ctx_.tenant.value_or(""));
      }
    }

    boost::asio::awaitable<Status> Forward(Result<guard::OutputStreamGuard::Step> step, bool last,
                                           model::StopReason reason, std::string stop_sequence,
                                           model::Usage usage) {
      if (!step.ok()) {
        co_return Unavailable(
            "the guardrail could not judge the model's answer, so the stream "
            "is stopped: " +
            step.status().message());
      }
      if (!step->release.empty()) {
        released_words_ += model::CountWords(step->release);
        PERIMETER_CO_RETURN_IF_ERROR(co_await inner_.OnTextDelta(step->release));
      }
      if (step->blocked || last) SetStreamTrace();
      if (step->blocked) {
        // The stream ends here with the guardrail's message; the upstream is told to stop.
        PERIMETER_CO_RETURN_IF_ERROR(
            co_await inner_.OnTextDelta(control_.guardrail_->blocked_outputs_messaging()));
        // Stopped mid-stream, the provider has not reported usage yet: estimate it the way the
        // built-in budgets count (words), rather than report zero.
        if (!last) {
          usage.input_tokens = control_.estimated_input_tokens_;
          usage.output_tokens = released_words_;
        }
        Status stopped = co_await inner_.OnStop(model::StopReason::kGuardrailIntervened, "", usage);
        control_.stopped_ = true;
        if (!stopped.ok()) co_return stopped;
        co_return Cancelled("the guardrail stopped the stream");
      }
      if (last) co_return co_await inner_.OnStop(reason, stop_sequence, usage);
      co_return Status::Ok();
    }

    GuardrailOutputControl& control_;
    model::ChatStreamSink& inner_;
    guard::OutputStreamGuard guard_;
    size_t recorded_ = 0;
    uint32_t released_words_ = 0;
  };

 public:
  bool StoppedStream() const override { return stopped_; }

 private:
  pipeline::RequestContext& ctx_;  // owns this control
  std::shared_ptr<const guard::Guardrail> guardrail_;
  std::shared_ptr<Judge> judge_;
  bool trace_;
  std::optional<json::object> input_assessment_;
  bool async_;
  bool input_intervened_;
  bool stopped_ = false;

 public:
  uint32_t estimated_input_tokens_ = 0;
};

}  // namespace

Result<ApplyGuardrailRequest> ParseApplyGuardrailRequest(std::string_view body) {
  auto obj = ParseJsonObject(body);
  if (!obj.ok()) return obj.status();
  ApplyGuardrailRequest r;
  for (const auto& kv : *obj) {
    const std::string_view k = kv.key();
    if (k != "source" && k != "content" && k != "outputScope") {
      return InvalidArgument("field '" + std::string(k.substr(0, 64)) +
                             "' is not known; ApplyGuardrail takes source, content and "
                             "outputScope");
    }
  }
  auto source = RequiredString(*obj, "source", "");
  if (!source.ok()) return source.status();
  if (*source != "INPUT" && *source != "OUTPUT")
    return InvalidArgument("field 'source' must be 'INPUT' or 'OUTPUT'");
  r.source = std::move(*source);
  if (const json::value* scope = obj->if_contains("outputScope")) {
    if (!scope->is_string() ||
        (scope->as_string() != "INTERVENTIONS" && scope->as_string() != "FULL")) {
      return InvalidArgument("field 'outputScope' must be 'INTERVENTIONS' or 'FULL'");
    }
    r.output_scope = scope->as_string();
  }
  auto content = RequiredArray(*obj, "content", "");
  if (!content.ok()) return content.status();
  if ((*content)->empty() || (*content)->size() > kMaxApplyBlocks) {
    return InvalidArgument("field 'content' must hold 1-" + std::to_string(kMaxApplyBlocks) +
                           " content blocks");
  }
  for (size_t i = 0; i < (*content)->size(); ++i) {
    const std::string p = Join("content", i);
    const json::value& b = (**content)[i];
    if (!b.is_object()) return InvalidArgument("field '" + p + "' must be an object");
    const json::object& bo = b.as_object();
    if (bo.size() != 1 || !bo.contains("text")) {
      std::string kind = bo.empty() ? "empty" : std::string(bo.begin()->key().substr(0, 32));
      return InvalidArgument("field '" + p + "' is a '" + kind +
                             "' block; this gateway judges text blocks only ({\"text\": "
                             "{\"text\": ..., \"qualifiers\": [...]}})");
    }
    const json::value& t = bo.at("text");
    if (!t.is_object()) return InvalidArgument("field '" + Join(p, "text") + "' must be an object");
    guard::ContentBlock block;
    const std::string tp = Join(p, "text");
    for (const auto& kv : t.as_object()) {
      if (kv.key() != "text" && kv.key() != "qualifiers") {
        return InvalidArgument("field '" + Join(tp, std::string(kv.key().substr(0, 32))) +
                               "' is not known; expected text and qualifiers");
      }
    }
    auto text = RequiredString(t.as_object(), "text", tp);
    if (!text.ok()) return text.status();
    block.text = std::move(*text);
    if (const json::value* q = t.as_object().if_contains("qualifiers")) {
      if (!q->is_array())
        return InvalidArgument("field '" + Join(tp, "qualifiers") + "' must be an array");
      for (size_t j = 0; j < q->as_array().size(); ++j) {
        const json::value& e = q->as_array()[j];
        if (!e.is_string() || (e.as_string() != "grounding_source" && e.as_string() != "query" &&
                               e.as_string() != "guard_content")) {
          return InvalidArgument("field '" + Join(Join(tp, "qualifiers"), j) +
                                 "' must be one of grounding_source, query, guard_content");
        }
        block.qualifiers.emplace_back(e.as_string());
      }
    }
    r.content.push_back(std::move(block));
  }
  return r;
}

Result<std::string> GuardrailFilter::HandleApply(RequestContext& ctx) const {
  const auto start = std::chrono::steady_clock::now();
  auto req = ParseApplyGuardrailRequest(ctx.request.body);
  if (!req.ok()) return req.status();
  auto guardrail = registry_->Resolve(ctx.guardrail->identifier, ctx.guardrail->version);
  if (!guardrail.ok()) return guardrail.status();
  Judge judge(vault_.get(), ctx);
  const guard::GuardSource source =
      req->source == "INPUT" ? guard::GuardSource::kInput : guard::GuardSource::kOutput;
  if (source == guard::GuardSource::kOutput) {
    // The caller's query and grounding sources are what the "input" was.
    std::string input;
    bool any = false;
    for (const auto& b : req->content) {
      for (const auto& q : b.qualifiers) {
        if (q == "query" || q == "grounding_source") {
          input += b.text;
          input += '\n';
          any = true;
          break;
        }
      }
    }
    if (any) judge.options.input_text = std::move(input);
  }
  auto result = (*guardrail)->Apply(source, req->content, judge.options);
  if (!result.ok()) {
    return Unavailable("the guardrail could not judge the content: " + result.status().message());
  }
  ctx.guardrail_outcome.emplace();
  Record(*ctx.guardrail_outcome, source == guard::GuardSource::kInput, *result, ctx.request_id,
         ctx.tenant.value_or(""));
  json::object o;
  o["usage"] = (*guardrail)->Usage(*result);
  o["action"] = result->intervened ? "GUARDRAIL_INTERVENED" : "NONE";
  if (!result->action_reason.empty()) o["actionReason"] = result->action_reason;
  json::array outputs;
  if (result->intervened) {
    for (const auto& t : result->outputs) outputs.push_back(json::object{{"text", t}});
  } else if (req->output_scope == "FULL") {
    for (const auto& t : result->texts) outputs.push_back(json::object{{"text", t}});
  }
  o["outputs"] = std::move(outputs);
  o["assessments"] = json::array{(*guardrail)->Assessment(*result, MillisSince(start))};
  o["guardrailCoverage"] =
      json::object{{"textCharacters", json::object{{"guarded", result->text_characters},
                                                   {"total", result->total_characters}}}};
  return json::serialize(o);
}

Status GuardrailFilter::GuardModelRequest(RequestContext& ctx) const {
  const auto start = std::chrono::steady_clock::now();
  if (!ctx.chat) {
    return InvalidArgument(
        "this request names a guardrail, and a guardrail guards Anthropic messages, Converse "
        "and chat completions bodies only: " +
        (ctx.chat_parse_error.empty() ? std::string("the body was not parsed")
                                      : ctx.chat_parse_error));
  }
  auto guardrail = registry_->Resolve(ctx.guardrail->identifier, ctx.guardrail->version);
  if (!guardrail.ok()) return guardrail.status();
  model::ChatRequest& chat = *ctx.chat;

  // The blocks the guardrail judges: the guardContent blocks if there are any, else every
  // message's text (not the system prompt), as Bedrock does.
  std::vector<std::string*> targets;
  if (!chat.guard_content.empty()) {
    for (const auto& ref : chat.guard_content) {
      std::vector<std::string>& blocks = ref.system ? chat.system : chat.messages[ref.message].text;
      if (ref.block < blocks.size()) targets.push_back(&blocks[ref.block]);
    }
  } else {
    for (auto& m : chat.messages) {
      for (auto& t : m.text) targets.push_back(&t);
    }
  }
  std::vector<guard::ContentBlock> blocks;
  for (const std::string* t : targets) blocks.push_back(guard::ContentBlock{*t, {}});
  // Everything the user sent is "the input" for the not-in-input rule, judged or not.
  std::string input_text;
  for (const auto& s : chat.system) input_text += s + "\n";
  for (const auto& m : chat.messages) {
    for (const auto& t : m.text) input_text += t + "\n";
  }
  auto judge = std::make_shared<Judge>(vault_.get(), ctx);
  auto result = (*guardrail)->Apply(guard::GuardSource::kInput, blocks, judge->options);
  if (!result.ok()) {
    return Unavailable("the guardrail could not judge the request, so it is not served: " +
                       result.status().message());
  }
  ctx.guardrail_outcome.emplace();
  Record(*ctx.guardrail_outcome, true, *result, ctx.request_id, ctx.tenant.value_or(""));
  const bool trace = ctx.guardrail->trace != "disabled";
  std::optional<json::object> input_assessment;
  if (trace) {
    input_assessment =
        (*guardrail)->Assessment(*result, MillisSince(start), /*redact_matches=*/true);
  }
  if (result->blocked) {
    model::ChatResponse blocked;
    blocked.id = "guardrail-" + ctx.request_id;
    blocked.text = (*guardrail)->blocked_input_messaging();
    blocked.stop_reason = model::StopReason::kGuardrailIntervened;
    blocked.guardrail_ran = true;
    blocked.guardrail_intervened = true;
    if (trace) {
      blocked.guardrail_trace_json =
          TraceJson(**guardrail, &*input_assessment, nullptr, result->action_reason);
      ctx.guardrail_stream_trace_json = blocked.guardrail_trace_json;  // ConverseStream
    }
    ctx.synthetic_response = std::move(blocked);
    return Status::Ok();
  }
  for (size_t i = 0; i < targets.size() && i < result->texts.size(); ++i) {
    *targets[i] = result->texts[i];
  }
  judge->options.input_text = std::move(input_text);
  ctx.response_control = std::make_shared<GuardrailOutputControl>(
      ctx, *guardrail, std::move(judge), trace, std::move(input_assessment),
      ctx.guardrail->stream_processing_mode == "async", result->intervened);
  {
    uint32_t words = 0;
    for (const auto& sys : chat.system) words += model::CountWords(sys);
    for (const auto& m : chat.messages) {
      for (const auto& t : m.text) words += model::CountWords(t);
    }
    std::static_pointer_cast<GuardrailOutputControl>(ctx.response_control)
        ->estimated_input_tokens_ = words;
  }
  return Status::Ok();
}

boost::asio::awaitable<FilterStatus> GuardrailFilter::OnRequest(RequestContext& ctx) const {
  // Decide in plain code; only the sends are awaited (GCC 12 and temporaries in co_await).
  if (ctx.operation == Operation::kApplyGuardrail) {
    Result<std::string> body = HandleApply(ctx);
    if (!body.ok()) {
      const pipeline::ApiError error = pipeline::ErrorFromStatus(ctx.flavor, body.status());
      co_await pipeline::SendError(ctx, error);
      co_return FilterStatus::kStop;
    }
    ctx.status = 200;
    pipeline::HttpReply reply = pipeline::MakeReply(200, "application/json", std::move(*body));
    (void)co_await ctx.writer->Send(std::move(reply));
    co_return FilterStatus::kStop;
  }
  if (!ctx.guardrail) co_return FilterStatus::kContinue;
  const Status s = GuardModelRequest(ctx);
  if (s.ok()) co_return FilterStatus::kContinue;
  const pipeline::ApiError error = pipeline::ErrorFromStatus(ctx.flavor, s);
  co_await pipeline::SendError(ctx, error);
  co_return FilterStatus::kStop;
}

}  // namespace perimeter::api
