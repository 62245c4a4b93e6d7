#include "cli/subject_commands.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include "api/gateway.h"
#include "cli/audit_commands.h"
#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/strings.h"
#include "guard/entity.h"
#include "guard/guardrail.h"
#include "guard/scanner.h"
#include "kms/runtime.h"
#include "redact/invocation_store.h"
#include "redact/vault.h"

namespace perimeter::cli {

namespace json = boost::json;

namespace {

constexpr std::string_view kAuditNote =
    "Audit events record who called which operation on which resource, when and with what "
    "decision; they never hold prompt or answer content, identifiers or vault tokens, so none "
    "of them holds this subject's data.";

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The tokens under which `tenant`'s vault holds any of `identifiers`, sorted and unique.
// Each identifier is tried as every entity type the engine knows and every type the tenant's
// vault holds (custom regex types included), as given and trimmed, and so are the values the
// engine's scanner finds in it as their own types. Errors never name an identifier.
Result<std::vector<std::string>> FindSubjectTokens(redact::Vault& vault, const std::string& tenant,
                                                   const std::vector<std::string>& identifiers,
                                                   const std::vector<kms::VaultEntry>& entries) {
  std::set<std::string> entities;
  for (const guard::EntityInfo& e : guard::Entities()) entities.emplace(e.name);
  for (const kms::VaultEntry& e : entries) entities.insert(e.entity);

  // (entity, value) pairs to look up; an empty entity means every entity.
  std::set<std::pair<std::string, std::string>> candidates;
  auto scanner = guard::AllTypesScanner();
  for (const std::string& identifier : identifiers) {
    candidates.emplace("", identifier);
    candidates.emplace("", std::string(TrimWhitespace(identifier)));
    if (!scanner.ok()) continue;
    // A scan failure (an oversized identifier) only loses this extra source of candidates; its
    // message is not shown because it could quote the identifier.
    auto findings = (*scanner)->Scan(identifier);
    if (!findings.ok()) continue;
    for (const guard::Finding& f : *findings) {
      if (!f.custom) candidates.emplace(f.type, f.text);
    }
  }

  std::set<std::string> tokens;
  auto look_up = [&](const std::string& entity, const std::string& value) -> Status {
    auto token = vault.FindToken(tenant, entity, value);
    if (!token.ok()) return token.status();
    if (token->has_value()) tokens.insert(**token);
    return Status::Ok();
  };
  for (const auto& [entity, value] : candidates) {
    if (value.empty()) continue;
    if (!entity.empty()) {
      PERIMETER_RETURN_IF_ERROR(look_up(entity, value));
      continue;
    }
    for (const std::string& e : entities) PERIMETER_RETURN_IF_ERROR(look_up(e, value));
  }
  return std::vector<std::string>(tokens.begin(), tokens.end());
}

bool ContainsAny(std::string_view text, const std::vector<std::string>& tokens) {
  for (const std::string& t : tokens) {
    if (text.find(t) != std::string_view::npos) return true;
  }
  return false;
}

json::array TokenArray(const std::vector<std::string>& tokens) {
  json::array a;
  for (const auto& t : tokens) a.emplace_back(t);
  return a;
}

// What the subject commands start from: the deployment, its vault, and the subject's tokens.
struct Subject {
  Opened opened;
  std::unique_ptr<redact::Vault> vault;
  std::vector<kms::VaultEntry> entries;  // the tenant's vault, metadata only
  std::vector<std::string> tokens;
};

Result<Subject> FindSubject(const std::string& config_path, const std::string& tenant,
                            const std::vector<std::string>& identifiers) {
  if (!redact::IsValidTenantId(tenant)) {
    return InvalidArgument("--tenant '" + tenant + "' is not a tenant id: 1-63 of a-z, 0-9, '-'");
  }
  auto opened = Open(config_path);
  if (!opened.ok()) return opened.status();
  const kms::KmsRuntime& rt = opened->dir->keys();
  auto tenant_record = rt.kms->GetTenant(tenant);
  if (!tenant_record.ok()) return tenant_record.status();
  if (!tenant_record->has_value()) {
    return NotFound("there is no tenant " + tenant +
                    "; `perimeter tenants list` shows the tenants");
  }
  Subject s{std::move(*opened), nullptr, {}, {}};
  s.vault = std::make_unique<redact::Vault>(rt.kms, rt.store, rt.audit, SystemClock(),
                                            rt.kms->options().region, rt.kms->options().account_id);
  auto entries = s.vault->List(tenant);
  if (!entries.ok()) return entries.status();
  s.entries = std::move(*entries);
  auto tokens = FindSubjectTokens(*s.vault, tenant, identifiers, s.entries);
  if (!tokens.ok()) return tokens.status();
  s.tokens = std::move(*tokens);
  return s;
}

}  // namespace

void SubjectCommands::Register(CLI::App& app) {
  auto* subject = app.add_subcommand(
      "subject", "Data-subject requests: export or erase what a tenant holds about a person");
  subject->require_subcommand(1);
  export_ = subject->add_subcommand(
      "export",
      "Write the subject's tokens, the values behind them, and the access-log lines and "
      "invocation records that contain them (recorded)");
  export_->add_option("--out", out_,
                      "write to this file (mode 0600) instead of standard output; the document "
                      "holds the subject's personal data");
  erase_ = subject->add_subcommand(
      "erase", "Erase the values behind the subject's tokens; the tokens remain (recorded)");
  for (CLI::App* c : {export_, erase_}) {
    c->add_option("--config", config_path_, "YAML config (default: the embedded defaults)")
        ->check(CLI::ExistingFile);
    c->add_option("--tenant", tenant_, "tenant id")->required();
    c->add_option("--identifier", identifiers_,
                  "an identifier of the subject: e-mail, phone, account number... (repeatable; "
                  "never printed)")
        ->required();
  }
}

std::optional<int> SubjectCommands::Run() {
  if (export_ && export_->parsed()) return Export();
  if (erase_ && erase_->parsed()) return Erase();
  return std::nullopt;
}

int SubjectCommands::Export() {
  auto subject = FindSubject(config_path_, tenant_, identifiers_);
  if (!subject.ok()) return Fail(subject.status());
  const config::Config& cfg = subject->opened.cfg;
  const kms::KmsRuntime& rt = subject->opened.dir->keys();
  const kms::KeyCaller admin = rt.kms->Administrator();
  const std::vector<std::string>& tokens = subject->tokens;

  // Recorded before anything is revealed or printed; tokens only, never values.
  json::object params{{"tenant", tenant_},
                      {"tokens", TokenArray(tokens)},
                      {"identifiers", identifiers_.size()},
                      {"destination", out_.empty() ? std::string("stdout") : out_}};
  if (Status s = RecordAdminAction(rt, "SubjectExport", subject->vault->VaultArn(tenant_),
                                   json::serialize(params), Status::Ok(), tenant_);
      !s.ok()) {
    return Fail(s);
  }

  std::map<std::string, const kms::VaultEntry*> by_token;
  for (const kms::VaultEntry& e : subject->entries) by_token[e.token] = &e;

  json::array token_list;
  json::array values;
  for (const std::string& token : tokens) {
    const auto it = by_token.find(token);
    const kms::VaultEntry* entry = it == by_token.end() ? nullptr : it->second;
    json::object t;
    t["token"] = token;
    t["entity"] = entry ? json::value(entry->entity) : json::value(nullptr);
    t["createdAt"] = entry ? json::value(Time(entry->created_at)) : json::value(nullptr);
    t["erasedAt"] =
        entry && entry->erased_at != 0 ? json::value(Time(entry->erased_at)) : json::value(nullptr);
    token_list.push_back(std::move(t));
    if (entry != nullptr && entry->erased_at != 0) continue;  // nothing left to reveal
    auto value = subject->vault->Reveal(admin, tenant_, token);
    if (!value.ok()) {
      if (value.status().code() == StatusCode::kFailedPrecondition) continue;  // erased since
      return Fail(value.status());
    }
    json::object v;
    v["token"] = token;
    v["value"] = value->RevealSecretForUse();
    values.push_back(std::move(v));
  }

  // The access log, when it is a file: every line that carries one of the tokens.
  json::array log_lines;
  json::value access_log = nullptr;
  const std::string& log_path = cfg.logging.access_log;
  if (!log_path.empty() && log_path != "stdout" && log_path != "stderr" && log_path != "off") {
    access_log = log_path;
    if (!tokens.empty() && IsFile(log_path)) {
      std::ifstream in(log_path, std::ios::binary);
      if (!in) return Fail(Unavailable("cannot read the access log '" + log_path + "'"));
      std::string line;
      while (std::getline(in, line)) {
        if (ContainsAny(line, tokens)) log_lines.emplace_back(line);
      }
    }
  }

  // Invocation records of the tenant that mention a token. Each read is authorized and recorded.
  json::array records;
  const std::string store_path = api::InvocationStorePath(cfg);
  if (!tokens.empty() && IsFile(store_path)) {
    auto store =
        redact::InvocationStore::Open(store_path, rt.kms, rt.audit, SystemClock(),
                                      rt.kms->options().region, rt.kms->options().account_id);
    if (!store.ok()) return Fail(store.status());
    auto metas = (*store)->List(tenant_, 0, std::numeric_limits<int64_t>::max());
    if (!metas.ok()) return Fail(metas.status());
    for (const redact::InvocationRecordMeta& m : *metas) {
      auto doc = (*store)->Read(admin, tenant_, m.request_id);
      if (!doc.ok()) return Fail(doc.status());
      if (!ContainsAny(*doc, tokens)) continue;
      boost::system::error_code ec;
      json::value parsed = json::parse(*doc, ec);
      records.push_back(ec ? json::value(*doc) : std::move(parsed));
    }
  }

  json::object out;
  out["tenant"] = tenant_;
  out["tokens"] = std::move(token_list);
  out["vaultValues"] = std::move(values);
  out["accessLog"] = std::move(access_log);
  out["logLines"] = std::move(log_lines);
  out["invocationRecords"] = std::move(records);
  out["auditEvents"] = json::array();
  out["note"] = kAuditNote;
  if (Status s = EmitOutput(out_, json::serialize(out) + "\n"); !s.ok()) return Fail(s);
  return 0;
}

int SubjectCommands::Erase() {
  auto subject = FindSubject(config_path_, tenant_, identifiers_);
  if (!subject.ok()) return Fail(subject.status());
  const kms::KmsRuntime& rt = subject->opened.dir->keys();
  const kms::KeyCaller admin = rt.kms->Administrator();
  std::vector<std::string> erased;
  Status outcome = Status::Ok();
  for (const std::string& token : subject->tokens) {
    outcome = subject->vault->Erase(admin, tenant_, token);
    if (!outcome.ok()) break;
    erased.push_back(token);
  }
  json::object params{
      {"tenant", tenant_}, {"tokens", TokenArray(erased)}, {"identifiers", identifiers_.size()}};
  Status recorded = RecordAdminAction(rt, "SubjectErase", subject->vault->VaultArn(tenant_),
                                      json::serialize(params), outcome, tenant_);
  if (!outcome.ok()) {
    if (!recorded.ok()) std::cerr << "perimeter: " << recorded.message() << "\n";
    std::cerr << "perimeter: erased " << erased.size() << " of " << subject->tokens.size()
              << " tokens before a failure; retrying is harmless\n";
    return Fail(outcome);
  }
  if (!recorded.ok()) {
    return Fail(Unavailable("erased " + std::to_string(erased.size()) +
                            " tokens but could not record it: " + recorded.message()));
  }
  json::object out{{"tenant", tenant_}, {"erased", TokenArray(erased)}};
  std::cout << json::serialize(out) << "\n";
  if (erased.empty()) {
    std::cerr << "perimeter: no token of tenant " << tenant_
              << " matches these identifiers: nothing to erase\n";
    return 1;
  }
  return 0;
}

}  // namespace perimeter::cli
