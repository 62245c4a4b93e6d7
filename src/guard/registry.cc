#include "guard/registry.h"

#include "common/strings.h"

namespace perimeter::guard {

Result<std::shared_ptr<const Guardrail>> CompileDefinition(std::string id, std::string version,
                                                           std::string_view json) {
  auto definition = ParseGuardrailDefinition(json);
  if (!definition.ok()) return definition.status();
  return Guardrail::Compile(std::move(id), std::move(version), *definition);
}

Result<std::shared_ptr<GuardrailRegistry>> GuardrailRegistry::Create(
    const std::vector<DeclaredGuardrail>& declared, std::shared_ptr<GuardrailStore> store,
    std::string region, std::string account_id) {
  std::shared_ptr<GuardrailRegistry> r(new GuardrailRegistry());
  r->store_ = std::move(store);
  r->region_ = std::move(region);
  r->account_id_ = std::move(account_id);
  for (const DeclaredGuardrail& d : declared) {
    auto g = CompileDefinition(d.id, "1", d.json);
    if (!g.ok()) {
      return Status(g.status().code(),
                    "guardrail '" + d.id + "' (" + d.origin + "): " + g.status().message());
    }
    if (!r->declared_.emplace(d.id, std::move(*g)).second)
      return InvalidArgument("guardrail '" + d.id + "' is declared twice");
  }
  return r;
}

Result<std::string> GuardrailRegistry::CanonicalId(std::string_view identifier, bool allow_names) {
  std::string_view id = identifier;
  if (StartsWith(identifier, "arn:")) {
    const std::string prefix = "arn:aws:bedrock:" + region_ + ":" + account_id_ + ":guardrail/";
    if (!StartsWith(identifier, prefix)) {
      return NotFound("guardrail " + std::string(identifier.substr(0, 256)) +
                      " is not in this deployment (its guardrails are " + prefix + "<id>)");
    }
    id = identifier.substr(prefix.size());
  }
  if (id.empty() || id.size() > 100) {
    return NotFound("guardrail identifier '" + std::string(identifier.substr(0, 128)) +
                    "' names no guardrail");
  }
  if (declared_.count(id)) return std::string(id);
  if (store_) {
    auto rec = store_->Get(id);
    if (rec.ok() && (rec->id == id || allow_names)) return rec->id;
    if (rec.ok()) {
      return NotFound("'" + std::string(id) + "' is the name of guardrail " + rec->id +
                      "; requests name a guardrail by its id or ARN");
    }
    if (rec.status().code() != StatusCode::kNotFound) return rec.status();
  }
  return NotFound("no guardrail '" + std::string(id) +
                  "' in this deployment; `perimeter guardrails list` shows them");
}

Result<std::shared_ptr<const Guardrail>> GuardrailRegistry::Resolve(std::string_view identifier,
                                                                    std::string_view version,
                                                                    bool allow_names) {
  if (!IsGuardrailVersion(version)) {
    return InvalidArgument("guardrail version '" + std::string(version.substr(0, 32)) +
                           "' is not DRAFT or a version number");
  }
  auto id = CanonicalId(identifier, allow_names);
  if (!id.ok()) return id.status();
  if (auto d = declared_.find(*id); d != declared_.end()) {
    if (version != "DRAFT" && version != "1") {
      return NotFound("guardrail '" + *id +
                      "' is declared in config and has only version 1 "
                      "(and DRAFT); it has no version " +
                      std::string(version));
    }
    return d->second;
  }
  if (!store_) return NotFound("no guardrail '" + *id + "'");
  if (version == "DRAFT") {
    auto counter = store_->ChangeCounter();
    if (!counter.ok()) return counter.status();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = drafts_.find(*id);
      if (it != drafts_.end() && it->second.first == *counter) return it->second.second;
    }
    auto rec = store_->GetVersion(*id, "DRAFT");
    if (!rec.ok()) return rec.status();
    auto g = CompileDefinition(*id, "DRAFT", rec->definition_json);
    if (!g.ok()) {
      return FailedPrecondition("guardrail " + *id +
                                " DRAFT does not compile any more: " + g.status().message());
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (drafts_.size() >= kMaxCachedVersions) drafts_.clear();
    drafts_[*id] = {*counter, *g};
    return *g;
  }
  const std::string key = *id + ":" + std::string(version);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = versions_.find(key);
    if (it != versions_.end()) return it->second;
  }
  auto rec = store_->GetVersion(*id, version);
  if (!rec.ok()) return rec.status();
  auto g = CompileDefinition(*id, std::string(version), rec->definition_json);
  if (!g.ok()) {
    return FailedPrecondition("guardrail " + key + " does not compile: " + g.status().message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (versions_.size() >= kMaxCachedVersions) versions_.clear();
  versions_[key] = *g;
  return *g;
}

}  // namespace perimeter::guard
