#include "pipeline/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace perimeter::pipeline {
namespace {

TEST(MetricsTest, MergesShardsFromThreadsIntoOneSeries) {
  Metrics m;
  Metrics::Labels l{"Converse", "perimeter.echo-v1", "200", ""};
  std::thread t1([&] {
    for (int i = 0; i < 100; ++i) m.RecordRequest(l, 0.002, 10, 20);
  });
  std::thread t2([&] {
    for (int i = 0; i < 50; ++i) m.RecordRequest(l, 3.0, 1, 2);
  });
  t1.join();
  t2.join();
  std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("perimeter_requests_total{operation=\"Converse\",model=\"perimeter.echo-v1\","
                      "status=\"200\",tenant=\"\"} 150"),
            std::string::npos)
      << text;
  // 100 requests at 2ms fall in the 0.0025 bucket; the 3s ones only from le=5 up.
  EXPECT_NE(text.find("le=\"0.0025\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"5\"} 150"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 150"), std::string::npos);
  EXPECT_NE(text.find("perimeter_request_bytes_total{operation=\"Converse\",model=\"perimeter.echo-"
                      "v1\",status=\"200\",tenant=\"\"} 1050"),
            std::string::npos);
}

TEST(MetricsTest, EscapesLabelValues) {
  Metrics m;
  m.RecordRequest({"Converse", "we\"ird\nmodel", "400", ""}, 0.1, 0, 0);
  std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("model=\"we\\\"ird\\nmodel\""), std::string::npos) << text;
}

}  // namespace
}  // namespace perimeter::pipeline
