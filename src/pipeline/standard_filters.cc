#include "pipeline/standard_filters.h"

#include <fmt/format.h>

#include <random>

namespace perimeter::pipeline {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  // RFC 4122 version 4 layout.
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

boost::asio::awaitable<FilterStatus> RequestIdFilter::OnRequest(RequestContext& ctx) const {
  if (ctx.request_id.empty()) ctx.request_id = NewRequestId();
  co_return FilterStatus::kContinue;
}

void AccessLogFilter::OnComplete(RequestContext& ctx) const {
  const auto end = std::chrono::steady_clock::now();
  if (sink_) sink_->WriteLine(FormatAccessLogLine(ctx, end));
  if (metrics_) {
    metrics_->RecordRequest(
        // Unrouted model ids come from clients: labelling by them would let anyone grow the
        // series set without bound, so they share one label value.
        Metrics::Labels{
            std::string(OperationName(ctx.operation)),
            ctx.upstream_name.empty() && !ctx.model_id.empty() ? "_unrouted" : ctx.model_id,
            std::to_string(ctx.status), ctx.tenant.value_or("")},
        std::chrono::duration<double>(end - ctx.received_mono).count(), ctx.request.body.size(),
        ctx.bytes_out);
  }
}

}  // namespace perimeter::pipeline
