#include "pipeline/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/clock.h"

namespace perimeter::pipeline {

Result<std::unique_ptr<AccessLogSink>> AccessLogSink::Open(const std::string& where) {
  auto sink = std::unique_ptr<AccessLogSink>(new AccessLogSink());
  if (where == "stdout") {
    sink->fd_ = STDOUT_FILENO;
  } else if (where == "stderr") {
    sink->fd_ = STDERR_FILENO;
  } else if (where == "off") {
    sink->fd_ = -1;
  } else {
    int fd = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Unavailable("cannot open access log '" + where + "': " + std::strerror(errno) +
                         "; check logging.access_log and the directory's permissions");
    }
    sink->fd_ = fd;
    sink->owns_ = true;
  }
  return sink;
}

AccessLogSink::~AccessLogSink() {
  if (owns_) ::close(fd_);
}

void AccessLogSink::WriteLine(const std::string& line) {
  if (fd_ < 0) return;
  std::string buf = line + "\n";
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(fd_, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a broken log pipe must not take requests down
    off += static_cast<size_t>(n);
  }
}

void WriteOperatorLine(std::string_view level, std::string_view msg, std::string_view request_id,
                       const std::optional<std::string>& tenant, boost::json::object fields) {
  namespace json = boost::json;
  json::object o;
  o["time"] = FormatRfc3339Millis(std::chrono::system_clock::now());
  o["level"] = level;
  o["msg"] = msg;
  o["request_id"] = request_id;
  o["tenant"] = tenant ? json::value(*tenant) : json::value(nullptr);
  for (auto& [k, v] : fields) o[k] = std::move(v);
  const std::string line = json::serialize(o) + "\n";
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string FormatAccessLogLine(const RequestContext& ctx,
                                std::chrono::steady_clock::time_point end) {
  namespace json = boost::json;
  const double latency_ms =
      std::chrono::duration<double, std::milli>(end - ctx.received_mono).count();
  json::object o;
  o["time"] = FormatRfc3339Millis(ctx.received_at);
  o["request_id"] = ctx.request_id;
  o["listener"] = ctx.listener_name;
  o["source_ip"] = ctx.source_ip.ToString();
  o["method"] = ctx.request.method;
  o["operation"] = std::string(OperationName(ctx.operation));
  o["model"] = ctx.model_id.empty() ? json::value(nullptr) : json::value(ctx.model_id);
  o["upstream"] = ctx.upstream_name.empty() ? json::value(nullptr) : json::value(ctx.upstream_name);
  o["status"] = ctx.status;
  if (!ctx.error_type.empty()) o["error_type"] = ctx.error_type;
  o["bytes_in"] = ctx.request.body.size();
  o["bytes_out"] = ctx.bytes_out;
  o["input_tokens"] = ctx.usage.input_tokens;
  o["output_tokens"] = ctx.usage.output_tokens;
  o["tenant"] = ctx.tenant ? json::value(*ctx.tenant) : json::value(nullptr);
  if (ctx.guardrail_outcome) {
    const auto& g = *ctx.guardrail_outcome;
    json::array types, incidents;
    for (const auto& t : g.types) types.emplace_back(t);
    for (const auto& i : g.cross_tenant_incidents) {
      incidents.emplace_back(json::object{{"type", i.type}, {"owner_tenant", i.owner_tenant}});
    }
    json::object guardrail{{"id", ctx.guardrail_arn},
                           {"input", g.input},
                           {"output", g.output},
                           {"types", std::move(types)}};
    if (!incidents.empty()) guardrail["cross_tenant_incidents"] = std::move(incidents);
    o["guardrail"] = std::move(guardrail);
  }
  // Prompt logging ("redacted"): identifiers are already vault tokens (api/records_filter.h).
  if (ctx.log_prompt) o["prompt"] = *ctx.log_prompt;
  if (ctx.log_answer) o["answer"] = *ctx.log_answer;
  // Who called, by ARN and credential id (never a secret).
  if (!ctx.principal_arn.empty()) o["principal"] = ctx.principal_arn;
  if (!ctx.credential_id.empty()) o["credential_id"] = ctx.credential_id;
  // Boost.JSON prints doubles in exponent form; a fixed three-decimal figure reads better.
  std::string line = json::serialize(o);
  line.insert(line.size() - 1, fmt::format(",\"latency_ms\":{:.3f}", latency_ms));
  return line;
}

}  // namespace perimeter::pipeline
