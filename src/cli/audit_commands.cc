#include "cli/audit_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "api/audit_events.h"
#include "audit/event.h"
#include "audit/format.h"
#include "audit/merkle.h"
#include "audit/query.h"
#include "audit/reader.h"
#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/strings.h"
#include "kms/runtime.h"

namespace perimeter::cli {

namespace json = boost::json;

namespace {

using TimePoint = std::chrono::system_clock::time_point;

constexpr std::string_view kBedrockSource = "bedrock.amazonaws.com";
constexpr std::string_view kKmsSource = "kms.amazonaws.com";
constexpr std::string_view kTenantTag = "perimeter:tenant";

json::array HexList(const std::vector<audit::Hash>& hashes) {
  json::array a;
  for (const audit::Hash& h : hashes) a.emplace_back(audit::HashHex(h));
  return a;
}

// A checkpoint as the JSON object of its line in checkpoints.jsonl (same fields, same order).
json::value CheckpointJson(const audit::Checkpoint& cp) {
  return json::parse(audit::FormatCheckpointLine(cp));
}

// The checkpoint of exactly `size` records, if one was signed.
const audit::Checkpoint* CheckpointOfSize(const audit::LogContents& log, uint64_t size) {
  for (auto it = log.checkpoints.rbegin(); it != log.checkpoints.rend(); ++it) {
    if (it->tree_size == size) return &*it;
  }
  return nullptr;
}

Result<TimePoint> ParseTimeOption(std::string_view option, const std::string& text) {
  auto t = ParseRfc3339Utc(text);
  if (!t.ok()) {
    return InvalidArgument(std::string(option) + ": " + t.status().message());
  }
  return *t;
}

// The audit directory: --dir, or the config's (without opening anything else).
Result<std::string> ResolveDir(const std::string& dir, const std::string& config_path) {
  if (!dir.empty()) return dir;
  auto cfg = LoadConfig(config_path);
  if (!cfg.ok()) return cfg.status();
  return kms::AuditDir(*cfg);
}

Result<audit::LogContents> ReadDir(const std::string& dir) {
  auto log = audit::ReadLog(dir);
  if (!log.ok()) {
    return Status(log.status().code(),
                  "cannot read the audit log in '" + dir + "': " + log.status().message());
  }
  return log;
}

// Fields of a JSON object text, or an empty object.
json::object ObjectOf(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

std::string StringField(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->get_string());
}

// Markdown table cells must not break the table.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace

Status RecordAdminAction(const kms::KmsRuntime& rt, std::string_view event_name,
                         std::string_view resource_arn, std::string parameters_json,
                         const Status& outcome, std::string_view tenant) {
  if (!rt.audit_log || !rt.kms) {
    return FailedPrecondition("the audit log is not open; cannot record " +
                              std::string(event_name));
  }
  audit::Event e = api::AdminEvent(event_name, resource_arn, std::move(parameters_json), outcome,
                                   rt.kms->options().region, rt.kms->options().account_id);
  e.tenant_id = std::string(tenant);
  auto index = rt.audit_log->AppendSync(audit::EventJson(e));
  if (!index.ok()) {
    return Unavailable("cannot record " + std::string(event_name) + " in the audit log: " +
                       index.status().message() + " (repair the log, then retry)");
  }
  return Status::Ok();
}

namespace {

// Writes `data` to a new or truncated file readable by its owner only.
Status WriteOwnerOnly(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Unavailable("cannot write '" + path + "': " + std::strerror(errno) +
                       "; choose another --out");
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) return Unavailable("cannot write '" + path + "': " + std::strerror(saved));
  return Status::Ok();
}

}  // namespace

Status EmitOutput(const std::string& out, std::string_view text) {
  if (out.empty()) {
    std::cout << text;
    std::cout.flush();
    return std::cout ? Status::Ok() : Unavailable("cannot write to standard output");
  }
  return WriteOwnerOnly(out, text);
}

void AuditCommands::Register(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);
  auto config_opt = [this](CLI::App* c) {
    return c->add_option("--config", config_path_, "YAML config (default: the embedded defaults)")
        ->check(CLI::ExistingFile);
  };
  auto dir_opt = [this](CLI::App* c, CLI::Option* config) {
    c->add_option("--dir", dir_,
                  "an audit log directory (e.g. a copy): needs no config, state or KMS")
        ->check(CLI::ExistingDirectory)
        ->excludes(config);
  };
  auto filters = [this](CLI::App* c) {
    c->add_option("--tenant", tenant_, "tenantId equals");
    c->add_option("--principal", principal_,
                  "userIdentity.arn, or the role that issued the session, equals");
    c->add_option("--event-name", event_name_, "eventName equals, e.g. InvokeModel");
    c->add_option("--model", model_, "requestParameters.modelId equals");
    c->add_option("--decision", decision_, "decision.effect: Allow, Deny or ImplicitDeny")
        ->check(CLI::IsMember({"Allow", "Deny", "ImplicitDeny"}));
    c->add_option("--request-id", request_id_, "requestID equals");
    c->add_option("--since", since_, "eventTime >= this RFC 3339 UTC time");
    c->add_option("--until", until_, "eventTime < this RFC 3339 UTC time");
    c->add_option("--limit", limit_, "at most this many events (default: all)");
  };

  verify_ = audit->add_subcommand(
      "verify", "Recompute the hash chain, the Merkle roots and the checkpoint signatures");
  dir_opt(verify_, config_opt(verify_));
  verify_
      ->add_option("--public-key", public_key_,
                   "the checkpoint public key PEM (default: <dir>/checkpoint-key.pem)")
      ->check(CLI::ExistingFile);

  prove_ = audit->add_subcommand("prove", "Inclusion proof of one event (by eventID)");
  prove_->add_option("--event-id", event_id_, "the event's eventID")->required();
  tree_size_opt_ = prove_->add_option("--tree-size", tree_size_,
                                      "prove against this tree size (default: the first signed "
                                      "checkpoint that covers the record, else the whole log)");
  dir_opt(prove_, config_opt(prove_));

  consistency_ = audit->add_subcommand(
      "consistency", "Consistency proof: the tree of --from records is a prefix of --to's");
  consistency_->add_option("--from", from_, "the older tree size")->required();
  consistency_->add_option("--to", to_, "the newer tree size")->required();
  dir_opt(consistency_, config_opt(consistency_));

  public_key_cmd_ =
      audit->add_subcommand("public-key", "Print the checkpoint public key (PEM) for verifiers");
  config_opt(public_key_cmd_);

  checkpoint_ = audit->add_subcommand("checkpoint", "Sign a checkpoint of the log now");
  config_opt(checkpoint_);

  prune_ = audit->add_subcommand(
      "prune", "Delete segments whose records are all past their retention date (recorded)");
  config_opt(prune_);

  query_ = audit->add_subcommand("query", "Print matching events, one JSON object per line");
  dir_opt(query_, config_opt(query_));
  filters(query_);

  export_ = audit->add_subcommand(
      "export", "Write matching events as a CloudTrail document {\"Records\":[...]} (recorded)");
  config_opt(export_);
  filters(export_);
  export_->add_option("--out", out_, "write to this file (mode 0600) instead of standard output");

  attest_ = audit->add_subcommand(
      "attest",
      "Report a tenant's model invocations in a window with every key they used, flagging keys "
      "that are not the tenant's own, with inclusion proofs under a fresh signed checkpoint "
      "(recorded)");
  config_opt(attest_);
  attest_->add_option("--tenant", tenant_, "tenant id")->required();
  attest_->add_option("--since", since_, "start, RFC 3339 UTC (inclusive)")->required();
  attest_->add_option("--until", until_, "end, RFC 3339 UTC (exclusive)")->required();
  attest_->add_option("--format", format_, "json (default) or markdown")
      ->check(CLI::IsMember({"json", "markdown"}));
  attest_->add_option("--out", out_, "write to this file (mode 0600) instead of standard output");
}

std::optional<int> AuditCommands::Run() {
  if (verify_ && verify_->parsed()) return Verify();
  if (prove_ && prove_->parsed()) return Prove();
  if (consistency_ && consistency_->parsed()) return Consistency();
  if (public_key_cmd_ && public_key_cmd_->parsed()) return PublicKey();
  if (checkpoint_ && checkpoint_->parsed()) return Checkpoint();
  if (prune_ && prune_->parsed()) return Prune();
  if (query_ && query_->parsed()) return QueryOrExport(false);
  if (export_ && export_->parsed()) return QueryOrExport(true);
  if (attest_ && attest_->parsed()) return Attest();
  return std::nullopt;
}

int AuditCommands::Verify() {
  auto dir = ResolveDir(dir_, config_path_);
  if (!dir.ok()) return Fail(dir.status());
  const std::string pem = public_key_.empty() ? JoinPath(*dir, audit::kPublicKeyFile) : public_key_;
  auto key = audit::ReadPublicKeyPem(pem);
  if (!key.ok()) return Fail(key.status());
  auto report = audit::VerifyLog(*dir, *key);
  if (!report.ok()) return Fail(report.status());
  json::object o;
  o["ok"] = report->ok;
  o["records"] = report->records;
  o["checkpoints"] = report->checkpoints;
  o["pruned"] = report->pruned;
  o["firstFailure"] =
      report->first_failure.empty() ? json::value(nullptr) : json::value(report->first_failure);
  o["badRecord"] = report->bad_record ? json::value(*report->bad_record) : json::value(nullptr);
  o["badCheckpoint"] =
      report->bad_checkpoint ? json::value(*report->bad_checkpoint) : json::value(nullptr);
  json::array warnings;
  for (const auto& w : report->warnings) warnings.emplace_back(w);
  o["warnings"] = std::move(warnings);
  std::cout << json::serialize(o) << "\n";
  return report->ok ? 0 : 1;
}

int AuditCommands::Prove() {
  auto dir = ResolveDir(dir_, config_path_);
  if (!dir.ok()) return Fail(dir.status());
  auto log = ReadDir(*dir);
  if (!log.ok()) return Fail(log.status());
  auto index = audit::FindEventIndex(*log, event_id_);
  if (!index.ok()) return Fail(index.status());
  std::optional<uint64_t> size;
  if (tree_size_opt_ != nullptr && tree_size_opt_->count() > 0) size = tree_size_;
  auto proof = audit::ProveInclusion(*log, *index, size);
  if (!proof.ok()) return Fail(proof.status());
  json::object o;
  o["eventId"] = event_id_;
  o["index"] = proof->index;
  o["treeSize"] = proof->tree_size;
  o["leafHash"] = audit::HashHex(proof->leaf_hash);
  o["rootHash"] = audit::HashHex(proof->root);
  o["auditPath"] = HexList(proof->path);
  o["record"] = proof->record_line;
  o["checkpoint"] = proof->checkpoint ? CheckpointJson(*proof->checkpoint) : json::value(nullptr);
  std::cout << json::serialize(o) << "\n";
  return 0;
}

int AuditCommands::Consistency() {
  auto dir = ResolveDir(dir_, config_path_);
  if (!dir.ok()) return Fail(dir.status());
  auto log = ReadDir(*dir);
  if (!log.ok()) return Fail(log.status());
  auto proof = audit::ProveConsistency(*log, from_, to_);
  if (!proof.ok()) return Fail(proof.status());
  json::object o;
  o["from"] = proof->from;
  o["to"] = proof->to;
  o["fromRoot"] = audit::HashHex(proof->from_root);
  o["toRoot"] = audit::HashHex(proof->to_root);
  o["proof"] = HexList(proof->path);
  const audit::Checkpoint* from_cp = CheckpointOfSize(*log, proof->from);
  const audit::Checkpoint* to_cp = CheckpointOfSize(*log, proof->to);
  o["fromCheckpoint"] = from_cp ? CheckpointJson(*from_cp) : json::value(nullptr);
  o["toCheckpoint"] = to_cp ? CheckpointJson(*to_cp) : json::value(nullptr);
  std::cout << json::serialize(o) << "\n";
  return 0;
}

int AuditCommands::PublicKey() {
  // Enabling checkpoints creates the checkpoint key (and its PEM) on first use.
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  if (Status s = kms::EnableAuditCheckpoints(opened->dir->keys(), opened->cfg); !s.ok()) {
    return Fail(s);
  }
  auto pem = ReadFile(JoinPath(kms::AuditDir(opened->cfg), audit::kPublicKeyFile));
  if (!pem.ok()) return Fail(pem.status());
  std::cout << *pem;
  if (!pem->empty() && pem->back() != '\n') std::cout << "\n";
  return 0;
}

int AuditCommands::Checkpoint() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const kms::KmsRuntime& rt = opened->dir->keys();
  if (!rt.audit_log) return Fail(FailedPrecondition("the audit log is not open"));
  if (Status s = kms::EnableAuditCheckpoints(rt, opened->cfg); !s.ok()) return Fail(s);
  if (Status s = rt.audit_log->CheckpointNow(); !s.ok()) return Fail(s);
  auto log = audit::ReadLog(kms::AuditDir(opened->cfg), audit::ReadOptions{.keep_lines = false});
  if (!log.ok()) return Fail(log.status());
  if (log->checkpoints.empty()) {
    return Fail(
        Internal("no checkpoint was found after signing one; run `perimeter audit verify`"));
  }
  const audit::Checkpoint& cp = log->checkpoints.back();
  json::object o;
  o["treeSize"] = cp.tree_size;
  o["rootHash"] = audit::HashHex(cp.root);
  o["time"] = FormatRfc3339Seconds(cp.time);
  std::cout << json::serialize(o) << "\n";
  return 0;
}

int AuditCommands::Prune() {
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const kms::KmsRuntime& rt = opened->dir->keys();
  const std::string dir = kms::AuditDir(opened->cfg);
  auto pruned = audit::Prune(dir, SystemClock().Now());
  json::object params;
  if (pruned.ok()) params["pruned"] = *pruned;
  Status recorded = RecordAdminAction(rt, "PruneAuditLog", kms::AuditLogOptions(opened->cfg).origin,
                                      json::serialize(params), pruned.status(), "");
  if (!pruned.ok()) {
    if (!recorded.ok()) std::cerr << "perimeter: " << recorded.message() << "\n";
    return Fail(pruned.status());
  }
  if (!recorded.ok()) {
    return Fail(
        Unavailable("pruned " + std::to_string(*pruned) +
                    " records but could not record it in the audit log: " + recorded.message()));
  }
  json::object o;
  o["pruned"] = *pruned;
  std::cout << json::serialize(o) << "\n";
  return 0;
}

int AuditCommands::QueryOrExport(bool do_export) {
  audit::QueryFilter f;
  json::object params;  // the filter, for the export's admin event
  auto set = [&](std::optional<std::string>& field, const std::string& value, const char* name) {
    if (value.empty()) return;
    field = value;
    params[name] = value;
  };
  set(f.tenant, tenant_, "tenant");
  set(f.principal, principal_, "principal");
  set(f.event_name, event_name_, "eventName");
  set(f.model, model_, "modelId");
  set(f.decision, decision_, "decision");
  set(f.request_id, request_id_, "requestId");
  if (!since_.empty()) {
    auto t = ParseTimeOption("--since", since_);
    if (!t.ok()) return Fail(t.status());
    f.since = *t;
    params["since"] = since_;
  }
  if (!until_.empty()) {
    auto t = ParseTimeOption("--until", until_);
    if (!t.ok()) return Fail(t.status());
    f.until = *t;
    params["until"] = until_;
  }
  f.limit = limit_;
  if (limit_ != 0) params["limit"] = limit_;

  if (!do_export) {
    auto dir = ResolveDir(dir_, config_path_);
    if (!dir.ok()) return Fail(dir.status());
    auto log = ReadDir(*dir);
    if (!log.ok()) return Fail(log.status());
    auto hits = audit::Query(*log, f);
    if (!hits.ok()) return Fail(hits.status());
    for (const auto& h : *hits) std::cout << h.event_json << "\n";
    return 0;
  }

  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  auto log = ReadDir(kms::AuditDir(opened->cfg));
  if (!log.ok()) return Fail(log.status());
  auto hits = audit::Query(*log, f);
  if (!hits.ok()) return Fail(hits.status());
  params["records"] = hits->size();
  params["destination"] = out_.empty() ? std::string("stdout") : out_;
  // Recorded before anything leaves: an export that cannot be recorded does not happen.
  if (Status s = RecordAdminAction(opened->dir->keys(), "ExportAuditEvents",
                                   kms::AuditLogOptions(opened->cfg).origin,
                                   json::serialize(params), Status::Ok(), tenant_);
      !s.ok()) {
    return Fail(s);
  }
  if (Status s = EmitOutput(out_, audit::CloudTrailExport(*hits) + "\n"); !s.ok()) return Fail(s);
  return 0;
}

namespace {

// One key use of an invocation, as the attestation lists it.
struct KeyUseRow {
  std::string key_id;
  std::string operation;
  std::string purpose;
  std::string tenant;
  std::string token;
  std::string outcome;
  std::string event_id;  // the KMS event's; empty when only the invocation's keys name it
  std::optional<uint64_t> index;
  bool foreign = false;

  json::object ToJson() const {
    json::object o;
    o["keyId"] = key_id;
    o["operation"] = operation;
    o["purpose"] = purpose.empty() ? json::value(nullptr) : json::value(purpose);
    o["tenant"] = tenant.empty() ? json::value(nullptr) : json::value(tenant);
    if (!token.empty()) o["token"] = token;
    o["outcome"] = outcome;
    o["eventID"] = event_id.empty() ? json::value(nullptr) : json::value(event_id);
    o["index"] = index ? json::value(*index) : json::value(nullptr);
    o["foreign"] = foreign;
    return o;
  }
};

struct KmsEvent {
  uint64_t index = 0;
  audit::Event event;
};

// The perimeter:tenant tag of each key, asked of the KMS once per key.
class KeyTenants {
 public:
  explicit KeyTenants(kms::Kms& kms) : kms_(kms) {}
  Result<std::string> Of(const std::string& key_id) {
    if (key_id.empty()) return std::string();
    if (auto it = cache_.find(key_id); it != cache_.end()) return it->second;
    auto key = kms_.DescribeKey(kms_.Administrator(), key_id);
    std::string tenant;
    if (key.ok()) {
      if (auto t = key->tags.find(std::string(kTenantTag)); t != key->tags.end()) {
        tenant = t->second;
      }
    } else if (key.status().code() != StatusCode::kNotFound) {
      return Status(key.status().code(),
                    "cannot describe key " + key_id + ": " + key.status().message());
    }
    cache_.emplace(key_id, tenant);
    return tenant;
  }

 private:
  kms::Kms& kms_;
  std::map<std::string, std::string> cache_;
};

std::string RenderMarkdown(const json::object& doc, const std::vector<std::string>& proof_lines,
                           const std::string& audit_dir) {
  std::ostringstream md;
  const std::string tenant(doc.at("tenant").as_string());
  const json::object& summary = doc.at("summary").as_object();
  const json::object& cp = doc.at("checkpoint").as_object();
  const bool all_own = summary.at("allOwn").as_bool();
  md << "# Key-use attestation: tenant `" << tenant << "`\n\n";
  md << "Window: " << doc.at("since").as_string().c_str() << " (inclusive) to "
     << doc.at("until").as_string().c_str() << " (exclusive). Generated "
     << doc.at("generatedAt").as_string().c_str() << ".\n\n";
  md << (all_own ? "**Every key used by these invocations is the tenant's own key.**"
                 : "**FOREIGN KEY USE FOUND: some invocations used a key that is not the "
                   "tenant's own (marked below).**")
     << "\n\n";
  md << "## Summary\n\n| | |\n|---|---|\n";
  md << "| Invocations | " << summary.at("invocations").to_number<uint64_t>() << " |\n";
  md << "| Foreign key uses | " << summary.at("foreignUses").to_number<uint64_t>() << " |\n";
  md << "| All keys own | " << (all_own ? "yes" : "**no**") << " |\n";
  md << "| Tenant key | `" << doc.at("tenantKeyId").as_string().c_str() << "` |\n";
  md << "| Not yet under a checkpoint (not covered) | "
     << summary.at("notCheckpointed").to_number<uint64_t>() << " |\n";
  md << "| Checkpoint | treeSize " << cp.at("treeSize").to_number<uint64_t>() << ", rootHash `"
     << cp.at("rootHash").as_string().c_str() << "`, " << cp.at("time").as_string().c_str()
     << ", keyId `" << cp.at("keyId").as_string().c_str() << "` |\n\n";

  md << "## Invocations\n\n";
  const json::array& invocations = doc.at("invocations").as_array();
  if (invocations.empty()) {
    md << "No model invocations of this tenant in the window.\n\n";
  } else {
    md << "| Index | Time | Operation | Model | Principal | Session role | HTTP | Decision | Key "
          "uses | Foreign |\n";
    md << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const json::value& v : invocations) {
      const json::object& inv = v.as_object();
      auto str = [&](std::string_view name) -> std::string {
        const json::value* f = inv.if_contains(name);
        return f && f->is_string() ? std::string(f->get_string()) : "";
      };
      std::string uses;
      bool foreign = false;
      for (const json::value& u : inv.at("keyUses").as_array()) {
        const json::object& use = u.as_object();
        if (!uses.empty()) uses += "<br>";
        const bool f = use.at("foreign").as_bool();
        foreign = foreign || f;
        uses += (f ? "**" : "") + std::string(use.at("operation").as_string()) + " `" +
                std::string(use.at("keyId").as_string()) + "`";
        if (use.at("purpose").is_string()) uses += " " + std::string(use.at("purpose").as_string());
        if (use.at("tenant").is_string()) {
          uses += " (tenant " + std::string(use.at("tenant").as_string()) + ")";
        }
        if (f) uses += "**";
      }
      md << "| " << inv.at("index").to_number<uint64_t>() << " | " << Cell(str("eventTime"))
         << " | " << Cell(str("eventName")) << " | " << Cell(str("modelId")) << " | "
         << Cell(str("principal")) << " | " << Cell(str("session")) << " | "
         << inv.at("httpStatus").to_number<int64_t>() << " | " << Cell(str("decision")) << " | "
         << (uses.empty() ? "-" : Cell(uses)) << " | " << (foreign ? "**yes**" : "no") << " |\n";
    }
    md << "\n";
  }

  md << "## How to verify\n\n";
  md << "1. Verify the whole log (hash chain, Merkle roots, checkpoint signatures) with the "
        "public key below saved as `checkpoint-key.pem`:\n\n";
  md << "   ```\n   perimeter audit verify --dir " << audit_dir
     << " --public-key checkpoint-key.pem\n   ```\n\n";
  md << "2. Check that each invocation is in the signed tree: save one line of the appendix as "
        "`proof.json` and run the independent verifier (Node.js, no dependencies):\n\n";
  md << "   ```\n   node verify.mjs inclusion --proof proof.json --public-key "
        "checkpoint-key.pem\n   ```\n\n";
  md << "   The same proofs are in the JSON report (`--format json`): "
        "`jq '.invocations[0].proof + {checkpoint: .checkpoint}'` gives the file.\n\n";
  md << "## Checkpoint\n\n```json\n" << json::serialize(cp) << "\n```\n\n";
  md << "## Checkpoint public key\n\n```\n" << doc.at("publicKeyPem").as_string().c_str();
  const auto& pem = doc.at("publicKeyPem").as_string();
  if (pem.empty() || pem.back() != '\n') md << "\n";
  md << "```\n\n";
  md << "## Appendix: inclusion proofs\n\n";
  if (proof_lines.empty()) {
    md << "None.\n";
  } else {
    md << "```\n";
    for (const auto& line : proof_lines) md << line << "\n";
    md << "```\n";
  }
  return md.str();
}

}  // namespace

int AuditCommands::Attest() {
  auto since = ParseTimeOption("--since", since_);
  if (!since.ok()) return Fail(since.status());
  auto until = ParseTimeOption("--until", until_);
  if (!until.ok()) return Fail(until.status());
  if (*until <= *since) {
    return Fail(
        InvalidArgument("--until must be later than --since (the window is [since, "
                        "until))"));
  }
  auto opened = Open(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const kms::KmsRuntime& rt = opened->dir->keys();
  kms::Kms& kms = *rt.kms;
  auto tenant_record = kms.GetTenant(tenant_);
  if (!tenant_record.ok()) return Fail(tenant_record.status());
  if (!tenant_record->has_value()) {
    return Fail(
        NotFound("there is no tenant " + tenant_ + "; `perimeter tenants list` shows the tenants"));
  }
  const std::string tenant_key = (*tenant_record)->key_id;

  json::object params{
      {"tenant", tenant_}, {"since", since_}, {"until", until_}, {"format", format_}};
  if (!out_.empty()) params["destination"] = out_;
  // Recorded first, so the attestation itself is in the tree the checkpoint below signs.
  if (Status s =
          RecordAdminAction(rt, "AttestTenantKeyUse", kms::AuditLogOptions(opened->cfg).origin,
                            json::serialize(params), Status::Ok(), tenant_);
      !s.ok()) {
    return Fail(s);
  }
  if (Status s = kms::EnableAuditCheckpoints(rt, opened->cfg); !s.ok()) return Fail(s);
  if (Status s = rt.audit_log->CheckpointNow(); !s.ok()) return Fail(s);

  const std::string dir = kms::AuditDir(opened->cfg);
  auto log = ReadDir(dir);
  if (!log.ok()) return Fail(log.status());
  if (log->checkpoints.empty()) {
    return Fail(
        FailedPrecondition("the audit log has no signed checkpoint; run `perimeter audit "
                           "checkpoint` and retry"));
  }
  const audit::Checkpoint cp = log->checkpoints.back();
  auto pem = ReadFile(JoinPath(dir, audit::kPublicKeyFile));
  if (!pem.ok()) return Fail(pem.status());

  audit::QueryFilter f;
  f.tenant = tenant_;
  f.since = *since;
  f.until = *until;
  auto hits = audit::Query(*log, f);
  if (!hits.ok()) return Fail(hits.status());
  std::vector<audit::QueryHit> invocations;
  uint64_t not_checkpointed = 0;
  std::set<std::string> request_ids;
  for (auto& h : *hits) {
    if (h.event.event_source != kBedrockSource && h.event.event_source != api::kOpenAiEventSource) {
      continue;
    }
    // Appended (by a running gateway) after the checkpoint: not covered by this attestation.
    if (h.index >= cp.tree_size) {
      ++not_checkpointed;
      continue;
    }
    if (!h.event.request_id.empty()) request_ids.insert(h.event.request_id);
    invocations.push_back(std::move(h));
  }

  // The KMS events of those requests (whatever tenant their keys belong to).
  std::map<std::string, std::vector<KmsEvent>> kms_events;
  if (!request_ids.empty()) {
    for (size_t i = 0; i < log->lines.size(); ++i) {
      const std::string& line = log->lines[i];
      if (line.find(kKmsSource) == std::string::npos) continue;
      auto record = audit::ParseRecordLine(line);
      if (!record.ok()) continue;
      auto event = audit::ParseEventJson(record->event_json);
      if (!event.ok() || event->event_source != kKmsSource) continue;
      if (request_ids.count(event->request_id) == 0) continue;
      kms_events[event->request_id].push_back({log->first_index + i, std::move(*event)});
    }
  }

  KeyTenants key_tenants(kms);
  uint64_t foreign_uses = 0;
  json::array rows;
  std::vector<std::string> proof_lines;
  const json::value cp_json = CheckpointJson(cp);
  for (const audit::QueryHit& h : invocations) {
    const audit::Event& e = h.event;
    std::vector<KeyUseRow> uses;
    auto judge = [&](KeyUseRow& row) -> Status {
      if (row.tenant.empty()) {
        auto t = key_tenants.Of(row.key_id);
        if (!t.ok()) return t.status();
        row.tenant = *t;
      }
      row.foreign = row.tenant != tenant_ || row.key_id != tenant_key;
      return Status::Ok();
    };
    if (auto it = kms_events.find(e.request_id); it != kms_events.end() && !e.request_id.empty()) {
      for (const KmsEvent& k : it->second) {
        const json::object p = ObjectOf(k.event.request_parameters_json);
        KeyUseRow row;
        row.key_id = StringField(p, "keyId");
        if (row.key_id.empty() && !k.event.keys.empty()) row.key_id = k.event.keys[0].key_id;
        row.operation = k.event.event_name;
        if (const json::value* c = p.if_contains("encryptionContext"); c && c->is_object()) {
          row.purpose = StringField(c->get_object(), "purpose");
          row.tenant = StringField(c->get_object(), "tenant");
          row.token = StringField(c->get_object(), "token");
        }
        row.outcome = k.event.error_code.empty() ? "Success" : k.event.error_code;
        row.event_id = k.event.event_id;
        row.index = k.index;
        if (Status s = judge(row); !s.ok()) return Fail(s);
        uses.push_back(std::move(row));
      }
    }
    // Keys the invocation names that no KMS event of the request accounts for.
    for (const audit::KeyUse& k : e.keys) {
      const bool seen = std::any_of(uses.begin(), uses.end(), [&](const KeyUseRow& r) {
        return r.key_id == k.key_id && r.operation == k.operation;
      });
      if (seen) continue;
      KeyUseRow row;
      row.key_id = k.key_id;
      row.operation = k.operation;
      row.purpose = k.purpose;
      row.outcome = "Success";
      if (Status s = judge(row); !s.ok()) return Fail(s);
      uses.push_back(std::move(row));
    }

    json::object inv;
    inv["eventID"] = e.event_id;
    inv["index"] = h.index;
    inv["eventTime"] = FormatRfc3339Seconds(e.event_time);
    inv["eventName"] = e.event_name;
    inv["eventSource"] = e.event_source;
    inv["requestId"] = e.request_id;
    const std::string model = StringField(ObjectOf(e.request_parameters_json), "modelId");
    inv["modelId"] = model.empty() ? json::value(nullptr) : json::value(model);
    inv["principal"] =
        e.user_identity.arn.empty() ? json::value(nullptr) : json::value(e.user_identity.arn);
    inv["session"] = e.user_identity.session_context &&
                             !e.user_identity.session_context->session_issuer_arn.empty()
                         ? json::value(e.user_identity.session_context->session_issuer_arn)
                         : json::value(nullptr);
    inv["httpStatus"] = e.http_status;
    inv["decision"] = e.decision ? json::value(e.decision->effect) : json::value(nullptr);
    json::array keys;
    for (const audit::KeyUse& k : e.keys) {
      json::object ko;
      ko["keyId"] = k.key_id;
      ko["keyVersion"] = k.key_version;
      ko["operation"] = k.operation;
      ko["purpose"] = k.purpose.empty() ? json::value(nullptr) : json::value(k.purpose);
      keys.push_back(std::move(ko));
    }
    inv["keys"] = std::move(keys);
    json::array use_array;
    bool foreign = false;
    for (const KeyUseRow& u : uses) {
      if (u.foreign) {
        ++foreign_uses;
        foreign = true;
      }
      use_array.push_back(u.ToJson());
    }
    inv["keyUses"] = std::move(use_array);
    inv["foreign"] = foreign;

    auto proof = audit::ProveInclusion(*log, h.index, cp.tree_size);
    if (!proof.ok()) return Fail(proof.status());
    json::object po;
    po["index"] = proof->index;
    po["treeSize"] = proof->tree_size;
    po["leafHash"] = audit::HashHex(proof->leaf_hash);
    po["rootHash"] = audit::HashHex(proof->root);
    po["auditPath"] = HexList(proof->path);
    po["record"] = proof->record_line;
    json::object with_checkpoint = po;
    with_checkpoint["checkpoint"] = cp_json;
    proof_lines.push_back(json::serialize(with_checkpoint));
    inv["proof"] = std::move(po);
    rows.push_back(std::move(inv));
  }

  json::object summary;
  summary["invocations"] = static_cast<uint64_t>(invocations.size());
  summary["foreignUses"] = foreign_uses;
  summary["allOwn"] = foreign_uses == 0;
  summary["notCheckpointed"] = not_checkpointed;

  json::object doc;
  doc["tenant"] = tenant_;
  doc["tenantKeyId"] = tenant_key;
  doc["since"] = FormatRfc3339Seconds(*since);
  doc["until"] = FormatRfc3339Seconds(*until);
  doc["generatedAt"] = FormatRfc3339Seconds(SystemClock().Now());
  doc["checkpoint"] = cp_json;
  doc["publicKeyPem"] = *pem;
  doc["summary"] = std::move(summary);
  doc["invocations"] = std::move(rows);

  const std::string text =
      format_ == "markdown" ? RenderMarkdown(doc, proof_lines, dir) : json::serialize(doc) + "\n";
  if (Status s = EmitOutput(out_, text); !s.ok()) return Fail(s);
  return foreign_uses == 0 ? 0 : 1;
}

}  // namespace perimeter::cli
