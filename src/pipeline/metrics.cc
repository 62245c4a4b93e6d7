#include "pipeline/metrics.h"

#include <fmt/format.h>

#include <thread>
#include <unordered_map>

namespace perimeter::pipeline {

Metrics::Shard& Metrics::LocalShard() {
  // One shard per (thread, Metrics instance). The map is per thread, so no lock to find it.
  thread_local std::unordered_map<const Metrics*, Shard*> local;
  auto it = local.find(this);
  if (it != local.end()) return *it->second;
  std::lock_guard lock(shards_mu_);
  shards_.push_back(std::make_unique<Shard>());
  local[this] = shards_.back().get();
  return *shards_.back();
}

void Metrics::RecordRequest(const Labels& labels, double seconds, uint64_t bytes_in,
                            uint64_t bytes_out) {
  Shard& s = LocalShard();
  std::lock_guard lock(s.mu);
  Series& x = s.series[labels];
  ++x.count;
  x.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++x.buckets[i];
  }
  x.bytes_in += bytes_in;
  x.bytes_out += bytes_out;
}

namespace {
// Prometheus label values escape backslash, double quote and newline.
std::string Esc(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}
}  // namespace

std::string Metrics::RenderPrometheus() const {
  std::map<Labels, Series> merged;
  {
    std::lock_guard lock(shards_mu_);
    for (const auto& shard : shards_) {
      std::lock_guard l2(shard->mu);
      for (const auto& [k, v] : shard->series) {
        Series& m = merged[k];
        m.count += v.count;
        m.sum += v.sum;
        for (size_t i = 0; i < kBuckets.size(); ++i) m.buckets[i] += v.buckets[i];
        m.bytes_in += v.bytes_in;
        m.bytes_out += v.bytes_out;
      }
    }
  }
  std::string out;
  auto labels = [](const Labels& l) {
    return fmt::format("operation=\"{}\",model=\"{}\",status=\"{}\",tenant=\"{}\"",
                       Esc(l.operation), Esc(l.model), Esc(l.status), Esc(l.tenant));
  };
  out +=
      "# HELP perimeter_requests_total Requests answered, by operation, model, status and "
      "tenant.\n";
  out += "# TYPE perimeter_requests_total counter\n";
  for (const auto& [l, s] : merged)
    out += fmt::format("perimeter_requests_total{{{}}} {}\n", labels(l), s.count);
  out +=
      "# HELP perimeter_request_duration_seconds Time from request received to response "
      "finished.\n";
  out += "# TYPE perimeter_request_duration_seconds histogram\n";
  for (const auto& [l, s] : merged) {
    const std::string lb = labels(l);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("perimeter_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", lb,
                         kBuckets[i], s.buckets[i]);
    }
    out += fmt::format("perimeter_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", lb,
                       s.count);
    out += fmt::format("perimeter_request_duration_seconds_sum{{{}}} {}\n", lb, s.sum);
    out += fmt::format("perimeter_request_duration_seconds_count{{{}}} {}\n", lb, s.count);
  }
  out += "# HELP perimeter_request_bytes_total Request body bytes received.\n";
  out += "# TYPE perimeter_request_bytes_total counter\n";
  for (const auto& [l, s] : merged)
    out += fmt::format("perimeter_request_bytes_total{{{}}} {}\n", labels(l), s.bytes_in);
  out += "# HELP perimeter_response_bytes_total Response body bytes sent.\n";
  out += "# TYPE perimeter_response_bytes_total counter\n";
  for (const auto& [l, s] : merged)
    out += fmt::format("perimeter_response_bytes_total{{{}}} {}\n", labels(l), s.bytes_out);
  return out;
}

}  // namespace perimeter::pipeline
