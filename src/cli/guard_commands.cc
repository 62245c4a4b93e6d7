#include "cli/guard_commands.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include "api/gateway.h"
#include "cli/cli_common.h"
#include "common/clock.h"
#include "guard/entity.h"
#include "guard/eval.h"
#include "guard/guardrail_config.h"
#include "guard/guardrail_store.h"
#include "guard/registry.h"
#include "guard/scanner.h"

namespace perimeter::cli {

namespace json = boost::json;

namespace {

// One input line of `scan` / `eval`.
constexpr size_t kMaxLineBytes = 1u << 20;
constexpr size_t kMaxDatasetLines = 1'000'000;

Result<std::unique_ptr<guard::GuardrailStore>> OpenStore(const config::Config& cfg) {
  if (cfg.server.state_dir.empty())
    return InvalidArgument("server.state_dir is empty: set it to the directory for guardrails.db");
  PERIMETER_RETURN_IF_ERROR(OpenDirectory(cfg).status());  // creates the state directory
  return guard::GuardrailStore::Open(api::GuardrailStorePath(cfg));
}

std::string GuardrailArnOf(const config::Config& cfg, const std::string& id) {
  return "arn:aws:bedrock:" + cfg.access.regions.front() + ":" + cfg.access.account_id +
         ":guardrail/" + id;
}

// "ID" or "ID:VERSION" (the version defaults to DRAFT).
std::pair<std::string, std::string> SplitGuardrail(const std::string& spec) {
  // An ARN has colons of its own: the version is after the last one only if it is one.
  const size_t colon = spec.rfind(':');
  if (colon != std::string::npos &&
      guard::IsGuardrailVersion(std::string_view(spec).substr(colon + 1)) &&
      spec.find("guardrail/") < colon) {
    return {spec.substr(0, colon), spec.substr(colon + 1)};
  }
  if (colon != std::string::npos && spec.rfind("arn:", 0) != 0) {
    return {spec.substr(0, colon), spec.substr(colon + 1)};
  }
  return {spec, "DRAFT"};
}

// The entity types `--types` names, validated; empty = all detectable.
Result<std::vector<std::string>> ParseTypes(const std::string& list) {
  std::vector<std::string> out;
  if (list.empty()) {
    for (const auto& e : guard::Entities()) {
      if (e.detectable) out.emplace_back(e.name);
    }
    return out;
  }
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string t =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const guard::EntityInfo* e = guard::FindEntity(t);
    if (!e) {
      std::string known;
      for (const auto& x : guard::Entities()) {
        if (x.detectable) known += (known.empty() ? "" : ",") + std::string(x.name);
      }
      return InvalidArgument("--types: '" + t.substr(0, 64) +
                             "' is not an entity type; known: " + known);
    }
    if (!e->detectable) {
      return InvalidArgument("--types: " + t + " has no detector yet (statistical entity)");
    }
    out.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Reads lines of standard input (or a file) one at a time, bounded.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}
  // False at the end; Status in `error` for an oversized line.
  bool Next(std::string& line, Status& error) {
    if (!std::getline(in_, line)) return false;
    ++number_;
    if (line.size() > kMaxLineBytes) {
      error = InvalidArgument("line " + std::to_string(number_) + " is longer than " +
                              std::to_string(kMaxLineBytes) + " bytes");
      return false;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::istream& in_;
  size_t number_ = 0;
};

// What `scan` and `eval` detect with: a compiled guardrail, or a scanner over built-in types.
struct Detector {
  std::shared_ptr<const guard::Guardrail> guardrail;
  std::unique_ptr<const guard::Scanner> scanner;
  std::set<std::string> only_types;  // non-empty: keep these types only

  Result<std::vector<guard::Detection>> Detect(std::string_view text) const {
    std::vector<guard::Detection> out;
    if (guardrail) {
      auto d = guardrail->Detect(text, guard::GuardSource::kInput);
      if (!d.ok()) return d.status();
      out = std::move(*d);
    } else {
      auto f = scanner->Scan(text);
      if (!f.ok()) return f.status();
      for (auto& x : *f) {
        out.push_back(guard::Detection{std::move(x.type), x.custom, x.span, std::move(x.text),
                                       x.score, guard::GuardAction::kNone});
      }
    }
    if (!only_types.empty()) {
      std::erase_if(out, [&](const guard::Detection& d) { return !only_types.count(d.type); });
    }
    return out;
  }
};

Result<Detector> MakeDetector(const std::string& config_path, const std::string& guardrail,
                              const std::string& types) {
  Detector d;
  if (!guardrail.empty()) {
    auto cfg = LoadConfig(config_path);
    if (!cfg.ok()) return cfg.status();
    auto registry = api::OpenGuardrails(*cfg, /*with_store=*/!cfg->server.state_dir.empty());
    if (!registry.ok()) return registry.status();
    auto [id, version] = SplitGuardrail(guardrail);
    auto g = (*registry)->Resolve(id, version, /*allow_names=*/true);
    if (!g.ok()) return g.status();
    d.guardrail = std::move(*g);
    if (!types.empty()) {
      auto t = ParseTypes(types);
      if (!t.ok()) return t.status();
      d.only_types.insert(t->begin(), t->end());
    }
    return d;
  }
  auto t = ParseTypes(types);
  if (!t.ok()) return t.status();
  if (!types.empty()) d.only_types.insert(t->begin(), t->end());
  guard::ScannerOptions options;
  options.types = std::move(*t);
  auto scanner = guard::Scanner::Compile(options);
  if (!scanner.ok()) return scanner.status();
  d.scanner = std::move(*scanner);
  return d;
}

void PrintRecord(const guard::GuardrailRecord& r, const std::string& arn, bool as_json,
                 std::string_view source) {
  if (as_json) {
    std::cout << json::serialize(json::object{{"guardrailId", r.id},
                                              {"guardrailArn", arn},
                                              {"name", r.name},
                                              {"latestVersion", r.latest_version},
                                              {"source", source},
                                              {"createdAt", Time(r.created_at)},
                                              {"updatedAt", Time(r.updated_at)}})
              << "\n";
    return;
  }
  std::printf("%-14s %-32s latest=%-6s %-7s %s\n", r.id.c_str(), r.name.c_str(),
              r.latest_version ? std::to_string(r.latest_version).c_str() : "DRAFT",
              std::string(source).c_str(), arn.c_str());
}

}  // namespace

void GuardCommands::Register(CLI::App& app) {
  auto config_opt = [this](CLI::App* c) {
    c->add_option("--config", config_path_, "YAML config (default: the embedded defaults)")
        ->check(CLI::ExistingFile);
  };
  auto* g = app.add_subcommand("guardrails", "Guardrails (Bedrock's CreateGuardrail shape)");
  g->require_subcommand(1);
  g_create_ = g->add_subcommand(
      "create", "Create a guardrail from a CreateGuardrail JSON body; it starts as DRAFT");
  g_create_->add_option("--file", file_, "the CreateGuardrail request body (JSON)")->required();
  g_update_ = g->add_subcommand("update", "Replace a guardrail's DRAFT (UpdateGuardrail)");
  g_update_->add_option("guardrail", id_, "guardrail id or name")->required();
  g_update_->add_option("--file", file_, "the new definition (JSON)")->required();
  g_version_ = g->add_subcommand(
      "version", "Freeze the DRAFT as the next numbered version (CreateGuardrailVersion)");
  g_version_->add_option("guardrail", id_, "guardrail id or name")->required();
  g_version_->add_option("--description", description_, "what changed");
  g_list_ = g->add_subcommand("list", "List guardrails (config and CLI)");
  g_get_ = g->add_subcommand("get", "Print a guardrail version's definition (canonical JSON)");
  g_get_->add_option("guardrail", id_, "guardrail id or name")->required();
  g_get_->add_option("--version", version_, "DRAFT (default) or a number");
  g_delete_ = g->add_subcommand("delete", "Delete a guardrail and all its versions");
  g_delete_->add_option("guardrail", id_, "guardrail id or name")->required();
  g_eval_ = g->add_subcommand(
      "eval", "Score detection on a labeled dataset: per-type precision, recall and F2");
  g_eval_
      ->add_option("--dataset", dataset_,
                   "JSON lines {\"text\", \"spans\": [{\"type\", \"start\", \"end\"}]} "
                   "(code point offsets)")
      ->required()
      ->check(CLI::ExistingFile);
  scan_ = app.add_subcommand(
      "scan", "Find sensitive information in JSON lines {\"text\": ...} on standard input");
  for (CLI::App* c : {g_eval_, scan_}) {
    c->add_option("--guardrail", guardrail_,
                  "ID[:VERSION]: detect what this guardrail configures (default: every built-in "
                  "type)");
    c->add_option("--types", types_, "T1,T2,...: only these entity types");
  }
  for (CLI::App* c :
       {g_create_, g_update_, g_version_, g_list_, g_get_, g_delete_, g_eval_, scan_}) {
    config_opt(c);
  }
  for (CLI::App* c : {g_create_, g_version_, g_list_, g_eval_}) {
    c->add_flag("--json", json_, "print JSON");
  }
}

std::optional<int> GuardCommands::Run() {
  if (scan_->parsed()) return Scan();
  if (g_eval_->parsed()) return Eval();
  for (CLI::App* c : {g_create_, g_update_, g_version_, g_list_, g_get_, g_delete_}) {
    if (c->parsed()) return Guardrails(c);
  }
  return std::nullopt;
}

int GuardCommands::Guardrails(CLI::App* which) {
  auto cfg = LoadConfig(config_path_);
  if (!cfg.ok()) return Fail(cfg.status());
  auto store = OpenStore(*cfg);
  if (!store.ok()) return Fail(store.status());
  const int64_t now = UnixSeconds(SystemClock().Now());
  auto declared = [&](const std::string& id) -> const config::GuardrailConfig* {
    for (const auto& d : cfg->guardrails.definitions) {
      if (d.id == id) return &d;
    }
    return nullptr;
  };
  // A definition is stored only once it compiles, in its canonical form.
  auto compile = [&](const std::string& body) -> Result<std::string> {
    auto def = guard::ParseGuardrailDefinition(body);
    if (!def.ok()) return def.status();
    auto g = guard::Guardrail::Compile("new", "DRAFT", *def);
    if (!g.ok()) return g.status();
    return guard::SerializeGuardrailDefinition(*def);
  };

  if (which == g_create_ || which == g_update_) {
    auto body = ReadFile(file_);
    if (!body.ok()) return Fail(body.status());
    auto canonical = compile(*body);
    if (!canonical.ok()) return Fail(canonical.status());
    auto def = guard::ParseGuardrailDefinition(*canonical);
    if (!def.ok()) return Fail(def.status());
    if (declared(def->name)) {
      return Fail(AlreadyExists("'" + def->name +
                                "' is the id of a guardrail declared in config; choose another "
                                "name"));
    }
    if (which == g_create_) {
      auto r = (*store)->Create(def->name, *canonical, now);
      if (!r.ok()) return Fail(r.status());
      const std::string arn = GuardrailArnOf(*cfg, r->id);
      if (json_) {
        std::cout << json::serialize(json::object{{"guardrailId", r->id},
                                                  {"guardrailArn", arn},
                                                  {"version", "DRAFT"},
                                                  {"createdAt", Time(now)}})
                  << "\n";
      } else {
        std::cout << "created guardrail " << r->id << " (" << def->name << ") " << arn
                  << " version DRAFT\n";
      }
      return 0;
    }
    auto existing = (*store)->Get(id_);
    if (!existing.ok()) return Fail(existing.status());
    Status s = (*store)->UpdateDraft(existing->id, def->name, *canonical, now);
    if (!s.ok()) return Fail(s);
    std::cout << "updated guardrail " << existing->id << " DRAFT\n";
    return 0;
  }
  if (which == g_version_) {
    if (declared(id_)) {
      return Fail(FailedPrecondition("guardrail '" + id_ +
                                     "' is declared in config; its one version is the config's"));
    }
    auto existing = (*store)->Get(id_);
    if (!existing.ok()) return Fail(existing.status());
    auto v = (*store)->CreateVersion(existing->id, description_, now);
    if (!v.ok()) return Fail(v.status());
    if (json_) {
      std::cout << json::serialize(
                       json::object{{"guardrailId", existing->id}, {"version", std::to_string(*v)}})
                << "\n";
    } else {
      std::cout << "guardrail " << existing->id << " version " << *v << "\n";
    }
    return 0;
  }
  if (which == g_list_) {
    for (const auto& d : cfg->guardrails.definitions) {
      guard::GuardrailRecord r;
      r.id = d.id;
      auto def = guard::ParseGuardrailDefinition(d.json);
      r.name = def.ok() ? def->name : "(invalid: " + def.status().message().substr(0, 60) + ")";
      r.latest_version = 1;
      PrintRecord(r, GuardrailArnOf(*cfg, r.id), json_, "config");
    }
    auto list = (*store)->List();
    if (!list.ok()) return Fail(list.status());
    for (const auto& r : *list) PrintRecord(r, GuardrailArnOf(*cfg, r.id), json_, "cli");
    return 0;
  }
  if (which == g_get_) {
    std::string body;
    if (const config::GuardrailConfig* d = declared(id_)) {
      if (version_ != "DRAFT" && version_ != "1")
        return Fail(NotFound("guardrail '" + id_ + "' is declared in config: version 1 only"));
      body = d->json;
    } else {
      auto v = (*store)->GetVersion(id_, version_);
      if (!v.ok()) return Fail(v.status());
      body = v->definition_json;
    }
    auto def = guard::ParseGuardrailDefinition(body);
    if (!def.ok()) return Fail(def.status());
    std::cout << guard::SerializeGuardrailDefinition(*def) << "\n";
    return 0;
  }
  if (which == g_delete_) {
    if (declared(id_)) {
      return Fail(
          FailedPrecondition("guardrail '" + id_ + "' is declared in config; remove it there"));
    }
    Status s = (*store)->Delete(id_);
    if (!s.ok()) return Fail(s);
    std::cout << "deleted guardrail " << id_ << "\n";
    return 0;
  }
  return 2;
}

int GuardCommands::Scan() {
  auto detector = MakeDetector(config_path_, guardrail_, types_);
  if (!detector.ok()) return Fail(detector.status());
  LineReader reader(std::cin);
  std::string line;
  Status error;
  while (reader.Next(line, error)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object() || !v.as_object().contains("text") ||
        !v.as_object().at("text").is_string()) {
      return Fail(InvalidArgument("line " + std::to_string(reader.number()) +
                                  ": expected a JSON object {\"text\": \"...\"}"));
    }
    const json::string& text = v.as_object().at("text").as_string();
    auto found = detector->Detect(std::string_view(text.data(), text.size()));
    if (!found.ok()) {
      return Fail(Status(found.status().code(), "line " + std::to_string(reader.number()) + ": " +
                                                    found.status().message()));
    }
    json::array findings;
    for (const auto& f : *found) {
      findings.push_back(json::object{{"type", f.type},
                                      {"start", f.span.begin_code_point},
                                      {"end", f.span.end_code_point},
                                      {"text", f.text},
                                      {"score", f.score},
                                      {"action", guard::GuardActionName(f.action)}});
    }
    std::cout << json::serialize(json::object{{"findings", std::move(findings)}}) << "\n";
  }
  if (!error.ok()) return Fail(error);
  std::cout.flush();
  return std::cout.good() ? 0 : 2;
}

int GuardCommands::Eval() {
  auto detector = MakeDetector(config_path_, guardrail_, types_);
  if (!detector.ok()) return Fail(detector.status());
  std::ifstream in(dataset_, std::ios::binary);
  if (!in) return Fail(InvalidArgument("cannot read dataset '" + dataset_ + "'"));
  LineReader reader(in);
  std::vector<std::vector<guard::LabeledSpan>> gold, predicted;
  std::string line;
  Status error;
  const auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0;
  while (reader.Next(line, error)) {
    if (line.empty()) continue;
    if (gold.size() >= kMaxDatasetLines)
      return Fail(InvalidArgument("the dataset has more than 1000000 lines"));
    auto example = guard::ParseLabeledLine(line);
    if (!example.ok()) {
      return Fail(InvalidArgument(dataset_ + ":" + std::to_string(reader.number()) + ": " +
                                  example.status().message()));
    }
    bytes += example->text.size();
    auto found = detector->Detect(example->text);
    if (!found.ok()) {
      return Fail(Status(found.status().code(), dataset_ + ":" + std::to_string(reader.number()) +
                                                    ": " + found.status().message()));
    }
    std::vector<guard::LabeledSpan> p;
    for (const auto& f : *found) {
      p.push_back(guard::LabeledSpan{f.type, f.span.begin_code_point, f.span.end_code_point});
    }
    std::vector<guard::LabeledSpan> g = std::move(example->spans);
    if (!detector->only_types.empty()) {
      std::erase_if(
          g, [&](const guard::LabeledSpan& s) { return !detector->only_types.count(s.type); });
    }
    gold.push_back(std::move(g));
    predicted.push_back(std::move(p));
  }
  if (!error.ok()) return Fail(error);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<guard::TypeScore> scores = guard::ScoreSpans(gold, predicted);
  if (json_) {
    json::array rows;
    for (const auto& s : scores) {
      rows.push_back(json::object{{"type", s.type},
                                  {"truePositives", s.true_positives},
                                  {"falsePositives", s.false_positives},
                                  {"falseNegatives", s.false_negatives},
                                  {"precision", s.precision},
                                  {"recall", s.recall},
                                  {"f2", s.f2}});
    }
    std::cout << json::serialize(json::object{{"examples", gold.size()},
                                              {"bytes", bytes},
                                              {"seconds", seconds},
                                              {"types", std::move(rows)}})
              << "\n";
    return 0;
  }
  std::printf("%-40s %6s %6s %6s %9s %9s %7s\n", "type", "tp", "fp", "fn", "precision", "recall",
              "F2");
  for (const auto& s : scores) {
    std::printf("%-40s %6zu %6zu %6zu %9.4f %9.4f %7.4f\n", s.type.c_str(), s.true_positives,
                s.false_positives, s.false_negatives, s.precision, s.recall, s.f2);
  }
  std::printf("%zu examples, %llu bytes, %.3f s\n", gold.size(),
              static_cast<unsigned long long>(bytes), seconds);
  return 0;
}

}  // namespace perimeter::cli
