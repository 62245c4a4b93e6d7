#include "upstream/model_router.h"

#include <set>

#include "common/strings.h"
#include "upstream/bedrock_upstream.h"
#include "upstream/builtin.h"
#include "upstream/openai_upstream.h"

namespace perimeter::upstream {

ModelRouter::ModelRouter(std::vector<std::unique_ptr<Upstream>> upstreams,
                         std::vector<config::RouteConfig> routes)
    : upstreams_(std::move(upstreams)), routes_(std::move(routes)) {}

Upstream* ModelRouter::Find(const std::string& name) const {
  for (const auto& u : upstreams_) {
    if (u->name() == name) return u.get();
  }
  return nullptr;
}

Result<std::unique_ptr<ModelRouter>> ModelRouter::Build(const config::Config& cfg,
                                                        const identity::EnvReader& env) {
  std::vector<std::unique_ptr<Upstream>> ups;
  for (const auto& u : cfg.upstreams) {
    auto fail = [&](const Status& s) {
      return Status(s.code(), "upstream '" + u.name + "': " + s.message());
    };
    http::ClientOptions opts;
    opts.connect_timeout = u.timeouts.connect;
    opts.first_byte_timeout = u.timeouts.first_byte;
    opts.total_timeout = u.timeouts.total;
    opts.max_retries = u.max_retries;
    opts.ca_file = u.ca_file;
    switch (u.type) {
      case config::UpstreamType::kBuiltin:
        ups.push_back(std::make_unique<BuiltinUpstream>(u.name));
        break;
      case config::UpstreamType::kOpenAi: {
        auto url = http::UpstreamUrl::Parse(u.base_url);
        if (!url.ok()) return fail(url.status());
        auto client = http::HttpClient::Create(*url, opts);
        if (!client.ok()) return fail(client.status());
        std::string key;
        if (!u.api_key_env.empty()) {
          auto v = env(u.api_key_env);
          if (!v || v->empty()) {
            return fail(FailedPrecondition("api_key_env names '" + u.api_key_env +
                                           "', but that environment variable is not set"));
          }
          key = *v;
        }
        ups.push_back(std::make_unique<OpenAiUpstream>(u.name, *client, key));
        break;
      }
      case config::UpstreamType::kBedrock: {
        std::string endpoint =
            u.endpoint_url.empty() ? BedrockRuntimeEndpoint(u.region) : u.endpoint_url;
        auto url = http::UpstreamUrl::Parse(endpoint);
        if (!url.ok()) return fail(url.status());
        auto client = http::HttpClient::Create(*url, opts);
        if (!client.ok()) return fail(client.status());
        auto creds = identity::ResolveAwsCredentials(u.profile, env);
        if (!creds.ok()) return fail(creds.status());
        ups.push_back(
            std::make_unique<BedrockUpstream>(u.name, u.region, *client, std::move(*creds)));
        break;
      }
    }
  }
  return std::make_unique<ModelRouter>(std::move(ups), cfg.routes);
}

Result<ModelRouter::Target> ModelRouter::Resolve(std::string_view model) const {
  for (const auto& r : routes_) {
    const bool match = !r.model.empty() ? r.model == model : GlobMatch(r.model_pattern, model);
    if (!match) continue;
    Upstream* u = Find(r.upstream);
    if (!u) return Internal("route names upstream '" + r.upstream + "', which does not exist");
    return Target{u, r.upstream_model.empty() ? std::string(model) : r.upstream_model};
  }
  // Client-supplied text is echoed bounded, so an error cannot be used to amplify a request.
  return NotFound(
      "The model '" + std::string(model.substr(0, 256)) +
      "' does not exist or is not routed by this gateway; ask its operator to add a route for it");
}

std::vector<std::string> ModelRouter::ListModels() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& r : routes_) {
    if (!r.model.empty()) {
      if (seen.insert(r.model).second) out.push_back(r.model);
      continue;
    }
    if (Upstream* u = Find(r.upstream)) {
      for (const auto& m : u->KnownModels()) {
        if (GlobMatch(r.model_pattern, m) && seen.insert(m).second) out.push_back(m);
      }
    }
  }
  return out;
}

}  // namespace perimeter::upstream
