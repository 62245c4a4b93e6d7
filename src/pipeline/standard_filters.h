#pragma once

// The filters every chain starts and ends with.

#include <memory>

#include "pipeline/access_log.h"
#include "pipeline/filter.h"
#include "pipeline/metrics.h"

namespace perimeter::pipeline {

// Gives the request its id (a random UUID; ids are correlation handles, not secrets) and fixes
// the receive time. First in every chain.
class RequestIdFilter final : public Filter {
 public:
  std::string_view name() const override { return "request_id"; }
  boost::asio::awaitable<FilterStatus> OnRequest(RequestContext& ctx) const override;
};

std::string NewRequestId();

// Writes the access-log line and records metrics when the request is done. Placed right after
// the request-id filter, so its OnComplete runs last and sees the final status.
class AccessLogFilter final : public Filter {
 public:
  AccessLogFilter(std::shared_ptr<AccessLogSink> sink, std::shared_ptr<Metrics> metrics)
      : sink_(std::move(sink)), metrics_(std::move(metrics)) {}
  std::string_view name() const override { return "access_log"; }
  boost::asio::awaitable<FilterStatus> OnRequest(RequestContext& ctx) const override {
    co_return FilterStatus::kContinue;
  }
  void OnComplete(RequestContext& ctx) const override;

 private:
  std::shared_ptr<AccessLogSink> sink_;
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace perimeter::pipeline
