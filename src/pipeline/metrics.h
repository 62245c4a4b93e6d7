#pragma once

// Request metrics in Prometheus text format.
//
// Recording is lock-free across threads in the sense that matters: each thread records into its
// own shard (a mutex only that thread and a scrape ever take), so requests never contend with
// each other. A scrape merges the shards. Every series carries a `tenant` label ("" until
// tenants exist) so per-tenant dashboards need no relabelling later.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace perimeter::pipeline {

class Metrics {
 public:
  struct Labels {
    std::string operation, model, status, tenant;
    auto operator<=>(const Labels&) const = default;
  };
  // Seconds; Prometheus "le" buckets.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void RecordRequest(const Labels& labels, double seconds, uint64_t bytes_in, uint64_t bytes_out);
  std::string RenderPrometheus() const;

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t bytes_in = 0, bytes_out = 0;
  };
  struct Shard {
    std::mutex mu;
    std::map<Labels, Series> series;
  };
  Shard& LocalShard();

  mutable std::mutex shards_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace perimeter::pipeline
