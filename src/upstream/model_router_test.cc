#include "upstream/model_router.h"

#include <gtest/gtest.h>

#include "upstream/builtin.h"

namespace perimeter::upstream {
namespace {

std::unique_ptr<ModelRouter> Router() {
  std::vector<std::unique_ptr<Upstream>> ups;
  ups.push_back(std::make_unique<BuiltinUpstream>("a"));
  ups.push_back(std::make_unique<BuiltinUpstream>("b"));
  std::vector<config::RouteConfig> routes = {
      {.model = "exact.one", .upstream = "a", .upstream_model = "renamed"},
      {.model_pattern = "perimeter.*", .upstream = "b"},
      {.model_pattern = "*", .upstream = "a"},
  };
  return std::make_unique<ModelRouter>(std::move(ups), routes);
}

TEST(ModelRouterTest, FirstMatchingRouteWinsAndRenames) {
  auto r = Router();
  auto t = r->Resolve("exact.one");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->upstream->name(), "a");
  EXPECT_EQ(t->upstream_model, "renamed");
  t = r->Resolve("perimeter.echo-v1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->upstream->name(), "b");
  EXPECT_EQ(t->upstream_model, "perimeter.echo-v1");
  EXPECT_EQ(r->Resolve("anything")->upstream->name(), "a");
}

TEST(ModelRouterTest, UnroutedModelIsNotFoundWithBoundedEcho) {
  std::vector<std::unique_ptr<Upstream>> ups;
  ups.push_back(std::make_unique<BuiltinUpstream>("a"));
  ModelRouter r(std::move(ups), {{.model = "x", .upstream = "a"}});
  std::string huge(10000, 'z');
  auto t = r.Resolve(huge);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_LT(t.status().message().size(), 500u);
}

TEST(ModelRouterTest, ListsExactRoutesAndKnownModelsOfPatterns) {
  auto models = Router()->ListModels();
  EXPECT_EQ(models, (std::vector<std::string>{"exact.one", "perimeter.echo-v1"}));
}

TEST(ModelRouterTest, BuildFailsClearlyWithoutAwsCredentials) {
  config::Config cfg;
  cfg.upstreams.push_back(
      {.name = "aws", .type = config::UpstreamType::kBedrock, .region = "eu-west-1"});
  identity::EnvReader empty_env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/nonexistent-home");
    return std::nullopt;
  };
  auto r = ModelRouter::Build(cfg, empty_env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("upstream 'aws'"), std::string::npos) << r.status().message();
}

TEST(ModelRouterTest, BuildFailsWhenApiKeyVariableIsUnset) {
  config::Config cfg;
  cfg.upstreams.push_back({.name = "local",
                           .type = config::UpstreamType::kOpenAi,
                           .base_url = "http://127.0.0.1:9/v1",
                           .api_key_env = "NOPE_KEY"});
  auto r = ModelRouter::Build(cfg, [](std::string_view) { return std::optional<std::string>(); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("NOPE_KEY"), std::string::npos);
}

}  // namespace
}  // namespace perimeter::upstream
