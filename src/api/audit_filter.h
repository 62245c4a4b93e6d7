#pragma once

// AuditFilter: the record of every request, written before the response is released.
//
// Placed right after request_id (before authentication, so refusals are recorded too), it puts
// a wrapper around the response writer. When the first byte of the answer is about to go out
// (Send, or StartStream for a stream), the wrapper builds the request's CloudTrail-shaped event
// from the context (api/audit_events.h), appends it to the audit log and waits until it is
// durable (group commit). Only then is the answer released. If the record cannot be written the
// client gets 503 ServiceUnavailable instead and nothing else: no answer leaves unrecorded.
//
// Cross-tenant incidents found before the answer is released are recorded in the same way
// (before the request's own record); those found later in a stream are recorded when the
// request completes. /healthz, /readyz and /metrics are not recorded.

#include <memory>
#include <string>

#include "audit/log.h"
#include "pipeline/filter.h"

namespace perimeter::api {

class AuditFilter final : public pipeline::Filter {
 public:
  AuditFilter(std::shared_ptr<audit::AuditLog> log, std::string region, std::string account_id)
      : log_(std::move(log)), region_(std::move(region)), account_id_(std::move(account_id)) {}
  std::string_view name() const override { return "audit"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;
  void OnComplete(pipeline::RequestContext& ctx) const override;

  audit::AuditLog& log() const { return *log_; }
  const std::string& region() const { return region_; }
  const std::string& account_id() const { return account_id_; }

 private:
  std::shared_ptr<audit::AuditLog> log_;
  std::string region_;
  std::string account_id_;
};

// Installs, for the lifetime of the returned object (one synchronous stretch of a filter; never
// across a co_await), an observer that stamps KMS key uses with the request's id and lists them
// on ctx.key_uses for its audit record.
class RequestKeyUseScope {
 public:
  explicit RequestKeyUseScope(pipeline::RequestContext& ctx);
  ~RequestKeyUseScope();
  RequestKeyUseScope(const RequestKeyUseScope&) = delete;
  RequestKeyUseScope& operator=(const RequestKeyUseScope&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::api
