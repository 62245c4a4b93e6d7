#include "api/audit_filter.h"

#include <cstdio>
#include <tuple>

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/audit_events.h"
#include "api/front_door_filters.h"
#include "kms/audit.h"
#include "pipeline/access_log.h"

namespace perimeter::api {

namespace asio = boost::asio;
using pipeline::ApiError;
using pipeline::FilterStatus;
using pipeline::Headers;
using pipeline::HttpReply;
using pipeline::Operation;
using pipeline::RequestContext;
using pipeline::ResponseWriter;

namespace {

bool Recorded(Operation op) {
  return op != Operation::kHealth && op != Operation::kReady && op != Operation::kMetrics;
}

ApiError Unrecordable(const RequestContext& ctx) {
  ApiError e;
  e.http_status = 503;
  e.type = ctx.flavor == pipeline::ApiFlavor::kOpenAi ? "service_unavailable"
                                                      : "ServiceUnavailableException";
  e.message =
      "the request could not be recorded in the audit trail, so it was not answered (request id " +
      ctx.request_id + "); retry later";
  return e;
}

class AuditingWriter final : public ResponseWriter {
 public:
  AuditingWriter(ResponseWriter* inner, RequestContext& ctx, const AuditFilter& filter)
      : inner_(inner), ctx_(ctx), filter_(filter) {}

  asio::awaitable<Status> Send(HttpReply reply) override {
    ctx_.status = reply.status;
    const bool ok = co_await RecordOnce();
    if (!ok) {
      HttpReply refusal = Refusal();
      co_return co_await inner_->Send(std::move(refusal));
    }
    co_return co_await inner_->Send(std::move(reply));
  }

  asio::awaitable<Status> StartStream(int status, Headers headers) override {
    ctx_.status = status;
    const bool ok = co_await RecordOnce();
    if (!ok) {
      HttpReply refusal = Refusal();
      (void)co_await inner_->Send(std::move(refusal));
      refused_ = true;
      co_return Unavailable("the audit record could not be written");
    }
    co_return co_await inner_->StartStream(status, std::move(headers));
  }

  asio::awaitable<Status> WriteChunk(std::string_view data) override {
    if (refused_) co_return Unavailable("the audit record could not be written");
    co_return co_await inner_->WriteChunk(data);
  }

  asio::awaitable<Status> EndStream() override {
    if (refused_) co_return Unavailable("the audit record could not be written");
    co_return co_await inner_->EndStream();
  }

  bool committed() const override { return inner_->committed(); }

  // Incidents recorded so far (the rest are recorded at completion).
  size_t incidents_recorded() const { return incidents_recorded_; }
  bool recorded() const { return recorded_; }

 private:
  HttpReply Refusal() {
    const ApiError e = Unrecordable(ctx_);
    ctx_.status = e.http_status;
    ctx_.error_type = e.type;
    return pipeline::EncodeError(ctx_.flavor, e);
  }

  // Appends the incidents known now and the request's record; true once durable.
  asio::awaitable<bool> RecordOnce() {
    // Refused before the route filter ran (authentication): name the operation from the path.
    ClassifyByPath(ctx_);
    if (recorded_ || !Recorded(ctx_.operation)) co_return true;
    recorded_ = true;
    audit::AuditLog& log = filter_.log();
    if (ctx_.guardrail_outcome) {
      const auto& incidents = ctx_.guardrail_outcome->cross_tenant_incidents;
      for (; incidents_recorded_ < incidents.size(); ++incidents_recorded_) {
        std::string json = audit::EventJson(CrossTenantIncidentEvent(
            ctx_, incidents[incidents_recorded_], filter_.region(), filter_.account_id()));
        log.Enqueue(std::move(json), [](Result<uint64_t>) {});
      }
    }
    std::string json =
        audit::EventJson(InvocationEvent(ctx_, filter_.region(), filter_.account_id()));
    auto executor = co_await asio::this_coro::executor;
    auto [status, index] = co_await log.AsyncAppend(std::move(json), executor, asio::use_awaitable);
    (void)index;
    co_return status.ok();
  }

  ResponseWriter* inner_;
  RequestContext& ctx_;
  const AuditFilter& filter_;
  bool recorded_ = false;
  bool refused_ = false;
  size_t incidents_recorded_ = 0;
};

}  // namespace

asio::awaitable<FilterStatus> AuditFilter::OnRequest(RequestContext& ctx) const {
  auto wrapper = std::make_unique<AuditingWriter>(ctx.writer, ctx, *this);
  ctx.writer = wrapper.get();
  ctx.writer_wrapper = std::move(wrapper);
  co_return FilterStatus::kContinue;
}

void AuditFilter::OnComplete(RequestContext& ctx) const {
  auto* w = dynamic_cast<AuditingWriter*>(ctx.writer_wrapper.get());
  if (w == nullptr) return;
  ClassifyByPath(ctx);
  if (!Recorded(ctx.operation)) return;
  // Incidents found after the answer started (a stream's later windows): the answer is already
  // out, so these are recorded without holding anything; a failure is reported to the operator.
  if (ctx.guardrail_outcome) {
    const auto& incidents = ctx.guardrail_outcome->cross_tenant_incidents;
    for (size_t i = w->incidents_recorded(); i < incidents.size(); ++i) {
      std::string json =
          audit::EventJson(CrossTenantIncidentEvent(ctx, incidents[i], region_, account_id_));
      const std::string request_id = ctx.request_id;
      const std::optional<std::string> tenant = ctx.tenant;
      log_->Enqueue(std::move(json), [request_id, tenant](Result<uint64_t> r) {
        if (!r.ok()) {
          pipeline::WriteOperatorLine("error",
                                      "a cross-tenant incident could not be recorded in the audit "
                                      "log",
                                      request_id, tenant, {{"error", r.status().message()}});
        }
      });
    }
  }
  // A request whose answer never started (the client left first) is still recorded.
  if (!w->recorded()) {
    std::string json = audit::EventJson(InvocationEvent(ctx, region_, account_id_));
    log_->Enqueue(std::move(json), [](Result<uint64_t>) {});
  }
}

struct RequestKeyUseScope::Impl {
  kms::KeyUseObserver observer;
  std::optional<kms::ScopedKeyUseObserver> scope;
};

RequestKeyUseScope::RequestKeyUseScope(RequestContext& ctx) : impl_(std::make_unique<Impl>()) {
  impl_->observer.request_id = ctx.request_id;
  impl_->observer.on_use = [&ctx](const kms::KeyUseEvent& e) {
    if (e.key_id.empty()) return;
    RequestContext::KeyUseNote note;
    note.key_id = e.key_id;
    note.key_version = e.key_version;
    note.operation = e.operation;
    auto purpose = e.encryption_context.find("purpose");
    if (purpose != e.encryption_context.end()) note.purpose = purpose->second;
    ctx.key_uses.push_back(std::move(note));
  };
  impl_->scope.emplace(&impl_->observer);
}

RequestKeyUseScope::~RequestKeyUseScope() = default;

}  // namespace perimeter::api
