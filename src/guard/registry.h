#pragma once

// GuardrailRegistry: finds the compiled Guardrail for a request's (identifier, version).
//
// Two sources, one namespace of ids:
//   - guardrails declared in config (guardrails.definitions): compiled when the registry is
//     created, so a bad definition stops startup (and `config check`) with its origin named.
//     They answer to version "1" and to "DRAFT";
//   - guardrails created with the CLI (GuardrailStore, <state_dir>/guardrails.db): compiled on
//     first use and cached. A numbered version never changes, so it stays cached (up to
//     kMaxCachedVersions); a DRAFT is recompiled when the store says something was committed.
// An identifier is an id or an ARN arn:aws:bedrock:<region>:<account>:guardrail/<id>, which must
// name this deployment's region and account. Requests may not name a guardrail by its name: the
// ARN a policy sees (bedrock:GuardrailIdentifier, the ApplyGuardrail resource) is built from the
// identifier as sent, so a second spelling would let a request step around a Deny on the id.
// The CLI (`allow_names`) may.
//
// Errors: NotFound (Bedrock's ResourceNotFoundException: unknown guardrail or version, or an ARN
// of another account/region), InvalidArgument (malformed version), and a stored definition that
// no longer compiles (FailedPrecondition, naming the guardrail). Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "guard/guardrail.h"
#include "guard/guardrail_store.h"

namespace perimeter::guard {

struct DeclaredGuardrail {
  std::string id;
  std::string origin;  // for messages: "guardrails.definitions[0]" or a file name
  std::string json;    // CreateGuardrail body
};

// Parses and compiles a definition (what `guardrails create` and the registry both do).
Result<std::shared_ptr<const Guardrail>> CompileDefinition(std::string id, std::string version,
                                                           std::string_view json);

class GuardrailRegistry {
 public:
  static constexpr size_t kMaxCachedVersions = 256;

  // `store` may be null (no CLI guardrails).
  static Result<std::shared_ptr<GuardrailRegistry>> Create(
      const std::vector<DeclaredGuardrail>& declared, std::shared_ptr<GuardrailStore> store,
      std::string region, std::string account_id);

  Result<std::shared_ptr<const Guardrail>> Resolve(std::string_view identifier,
                                                   std::string_view version,
                                                   bool allow_names = false);

  // The id an identifier names (an id, an ARN's suffix, or with `allow_names` a CLI guardrail's
  // name); NotFound as Resolve.
  Result<std::string> CanonicalId(std::string_view identifier, bool allow_names = false);

 private:
  GuardrailRegistry() = default;

  std::map<std::string, std::shared_ptr<const Guardrail>, std::less<>> declared_;
  std::shared_ptr<GuardrailStore> store_;
  std::string region_;
  std::string account_id_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Guardrail>, std::less<>> versions_;  // "id:N"
  std::map<std::string, std::pair<uint64_t, std::shared_ptr<const Guardrail>>, std::less<>>
      drafts_;  // id -> (store counter when compiled, guardrail)
};

}  // namespace perimeter::guard
