#pragma once

// ModelRouter: model id -> (provider, upstream model id), from the config's routes, first match
// wins. Built once per config; immutable and shared by all threads.

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "identity/aws_credentials.h"
#include "upstream/upstream.h"

namespace perimeter::upstream {

class ModelRouter {
 public:
  struct Target {
    Upstream* upstream;
    std::string upstream_model;
  };

  // Creates every provider the config declares. Fails (naming the upstream) when a provider
  // cannot be set up: a bad URL, an unreadable CA file, missing AWS credentials.
  static Result<std::unique_ptr<ModelRouter>> Build(const config::Config& cfg,
                                                    const identity::EnvReader& env);
  // For tests: routes over given providers.
  ModelRouter(std::vector<std::unique_ptr<Upstream>> upstreams,
              std::vector<config::RouteConfig> routes);

  // NotFound, with a message the API can show, when no route matches.
  Result<Target> Resolve(std::string_view model) const;
  // Model ids that can be listed: exact routes, and known models of pattern-routed providers
  // that the pattern matches.
  std::vector<std::string> ListModels() const;

 private:
  Upstream* Find(const std::string& name) const;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::vector<config::RouteConfig> routes_;
};

}  // namespace perimeter::upstream
