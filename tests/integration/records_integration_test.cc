// Integration tests of prompt logging, invocation records and the audit API (issue: records).
//
// The real gateway runs with tenants a and b. Prompts logged with `logging.prompts: redacted`
// carry vault tokens instead of identifiers, and an authorized investigator can reveal each one.
// Invocation records are kept only for tenants that turn them on, sealed under the tenant's key.
// Only an investigator can read them, through the audit API (AWS JSON 1.1, SigV4 service
// "perimeter"), and every read is recorded. Tenant administrators query their own tenant's
// audit events only.

#include <filesystem>
#include <regex>
#include <set>

#include "gateway_fixture.h"

namespace perimeter::testing {
namespace {

constexpr const char* kAccount = "000000000000";  // access.account_id's default
constexpr const char* kConverse = "/model/perimeter.echo-v1/converse";

// A prompt full of identifiers. Each one, keyed by the entity type that must detect it.
const std::map<std::string, std::string>& Identifiers() {
  static const auto* ids = new std::map<std::string, std::string>{
      {"EMAIL", "ada.lovelace@example.com"},
      {"CREDIT_DEBIT_CARD_NUMBER", "4111 1111 1111 1111"},
      {"PHONE", "+234 803 123 4567"},
      {"US_SOCIAL_SECURITY_NUMBER", "123-45-6789"},
      {"INTERNATIONAL_BANK_ACCOUNT_NUMBER", "GB82 WEST 1234 5698 7654 32"},
      {"AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"},
  };
  return *ids;
}

// Words of the prompt that are no identifier: logged as they are, but never in a sealed record.
constexpr const char* kPlainWords = "marmalade-octopus";

std::string IdentifierPrompt() {
  const auto& id = Identifiers();
  return "Please file the marmalade-octopus claim. Write to " + id.at("EMAIL") + ", charge card " +
         id.at("CREDIT_DEBIT_CARD_NUMBER") + ", call " + id.at("PHONE") + ", SSN " +
         id.at("US_SOCIAL_SECURITY_NUMBER") + ", pay to IBAN " +
         id.at("INTERNATIONAL_BANK_ACCOUNT_NUMBER") + ", and rotate key " +
         id.at("AWS_ACCESS_KEY") + " today.";
}

// Every form of the identifiers that must never reach a file or the gateway's output: as sent,
// and compacted (digits or characters only).
std::vector<std::string> ForbiddenForms() {
  std::vector<std::string> out;
  for (const auto& [type, value] : Identifiers()) out.push_back(value);
  for (const char* compact : {"4111111111111111", "+2348031234567", "2348031234567", "123456789",
                              "GB82WEST12345698765432"}) {
    out.push_back(compact);
  }
  return out;
}

// Every regular file under `root`, recursively: path -> contents.
std::map<std::string, std::string> FilesUnder(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files[e.path().string()] = ss.str();
  }
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Vault tokens in `text`, in order of appearance: [ENTITY_<16 hex>].
std::vector<std::string> TokensIn(const std::string& text) {
  static const std::regex kToken("\\[([A-Z][A-Z0-9_]*)_[0-9a-f]{16}\\]");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kToken);
       it != std::sregex_iterator(); ++it) {
    out.push_back(it->str());
  }
  return out;
}

// The entity of a token: "[EMAIL_0123456789abcdef]" -> "EMAIL".
std::string EntityOf(const std::string& token) { return token.substr(1, token.size() - 19); }

std::string TenantsSection(bool a_records, bool b_records) {
  return std::string(
             "  tenants:\n"
             "    - id: a\n"
             "      role: tenant-a\n") +
         (a_records ? "      invocation_records: true\n" : "") +
         "    - id: b\n"
         "      role: tenant-b\n" +
         (b_records ? "      invocation_records: true\n" : "");
}

// A user with one identity policy statement (no tenant tag).
std::string UserWithPolicy(const std::string& user, const std::string& action,
                           const std::string& resource) {
  return "    - user: " + user + "\n      policies:\n" + PolicyItem(8, "Allow", action, resource);
}

std::string UserArnOf(const std::string& user) {
  return "arn:aws:iam::" + std::string(kAccount) + ":user/" + user;
}

// A request to the audit API: POST / with X-Amz-Target: PerimeterAudit.<operation>, an AWS JSON
// 1.1 body, signed with SigV4 for service "perimeter" in eu-west-1.
std::string AuditApiRequest(const AccessKey& key, const std::string& operation,
                            const std::string& body) {
  const Headers h = {{"Host", "127.0.0.1"},
                     {"Content-Type", "application/x-amz-json-1.1"},
                     {"Content-Length", std::to_string(body.size())},
                     {"X-Amz-Target", "PerimeterAudit." + operation}};
  identity::HttpRequestToSign r{"POST", "/", "", h, crypto::Sha256Hex(body)};
  identity::AwsCredentials credentials{key.id, crypto::SecretBytes(key.secret), ""};
  identity::SigningScope scope{"eu-west-1", "perimeter", std::chrono::system_clock::now()};
  return "POST / HTTP/1.1\r\n" + HeaderLines(h) +
         HeaderLines(identity::SignRequest(r, credentials, scope)) + "\r\n" + body;
}

// The __type of an AWS JSON error body, or a description of what came instead.
std::string ErrorType(const HttpResponse& r) {
  json::value v = r.Json();
  const json::value* t = v.is_object() ? v.as_object().if_contains("__type") : nullptr;
  return t != nullptr && t->is_string() ? std::string(t->as_string())
                                        : "<no __type in: " + r.Describe() + ">";
}
std::string ErrorMessage(const HttpResponse& r) {
  json::value v = r.Json();
  const json::value* m = v.is_object() ? v.as_object().if_contains("message") : nullptr;
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : "";
}

// JSON lines of a CLI's output, parsed; lines that do not parse are kept as null.
std::vector<json::value> JsonLines(const std::string& out) {
  std::vector<json::value> v;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value parsed = json::parse(line, ec);
    v.push_back(ec ? json::value(nullptr) : parsed);
  }
  return v;
}

std::string StringAt(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* name : path) {
    if (!cur->is_object()) return "";
    cur = cur->as_object().if_contains(name);
    if (cur == nullptr) return "";
  }
  return cur->is_string() ? std::string(cur->as_string()) : "";
}

bool Ok(const CommandResult& r) { return r.exit.exited && r.exit.code == 0; }

class RecordsTest : public GatewayTest {
 protected:
  // A Converse with the identifier prompt, signed with `key`; its x-request-id.
  std::string Converse(const AccessKey& key, const std::string& text = IdentifierPrompt()) {
    auto r = Exchange(port_, SignedRequest(key, "POST", kConverse, ConverseBody(text)));
    [&] {
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ(r->status, 200) << r->Describe();
      ASSERT_FALSE(r->HeaderOr("x-request-id").empty()) << r->Describe();
    }();
    return r.ok() ? r->HeaderOr("x-request-id") : "";
  }

  // Waits for the stdout access-log line of `request_id` (written once the request completed,
  // records included).
  void WaitForAccessLogLine(const std::string& request_id) {
    auto line = gw_.WaitForStdoutLine(
        [&](const std::string& l) {
          return !l.empty() && l[0] == '{' && l.find(request_id) != std::string::npos;
        },
        milliseconds(5000));
    ASSERT_TRUE(line.has_value()) << "no access log line of request " << request_id;
  }

  HttpResponse Send(const std::string& raw) {
    auto r = Exchange(port_, raw);
    [&] { ASSERT_TRUE(r.ok()) << r.status().message(); }();
    return r.ok() ? *r : HttpResponse{};
  }
  HttpResponse Audit(const AccessKey& key, const std::string& operation, const std::string& body) {
    return Send(AuditApiRequest(key, operation, body));
  }

  // `perimeter audit query <args>` until `done` holds for its events (the audit log is written
  // in the background), at most 5 s; the last events.
  std::vector<json::value> QueryUntil(
      const std::vector<std::string>& args,
      const std::function<bool(const std::vector<json::value>&)>& done) {
    std::vector<std::string> argv = {"audit", "query", "--config", "perimeter.yaml"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<json::value> events;
    const auto deadline = Clock::now() + milliseconds(5000);
    do {
      CommandResult q = gw_.RunCli(argv);
      [&] { ASSERT_TRUE(Ok(q)) << q.exit.Describe() << "\n" << q.err; }();
      if (!Ok(q)) return {};
      events = JsonLines(q.out);
      if (done(events)) break;
      std::this_thread::sleep_for(milliseconds(100));
    } while (Clock::now() < deadline);
    return events;
  }
};

// ---------------------------------------------------------------------------------------------
// 1. Prompt logging

TEST_F(RecordsTest, NoIdentifierReachesAnyLogWhileTheInvestigatorCanRevealEach) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra = TenantsSection(false, false);
  const std::string access_log = dir_.path() + "/access.log";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(cfg.Yaml() + "logging:\n  access_log: " + access_log +
                                           "\n  prompts: redacted\n"));
  const AccessKey alice = IssueAccessKey("alice");

  const std::string prompt = IdentifierPrompt();
  auto r = Exchange(port_, SignedRequest(alice, "POST", kConverse, ConverseBody(prompt)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr(prompt));  // the echo model repeats it to the caller
  const std::string request_id = r->HeaderOr("x-request-id");
  ASSERT_FALSE(request_id.empty()) << r->Describe();

  // The access-log line of the request, in the file.
  std::string line;
  const auto deadline = Clock::now() + milliseconds(5000);
  while (line.empty() && Clock::now() < deadline) {
    std::istringstream lines(ReadFile(access_log));
    for (std::string l; std::getline(lines, l);) {
      if (l.find(request_id) != std::string::npos) line = l;
    }
    if (line.empty()) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_FALSE(line.empty()) << "no line of request " << request_id << " in " << access_log << ":\n"
                             << ReadFile(access_log);
  boost::system::error_code ec;
  const json::value logged = json::parse(line, ec);
  ASSERT_FALSE(ec) << "not JSON: " << line;
  EXPECT_EQ(StringAt(logged, {"request_id"}), request_id) << line;
  EXPECT_EQ(StringAt(logged, {"tenant"}), "a") << line;
  const std::string logged_prompt = StringAt(logged, {"prompt"});
  const std::string logged_answer = StringAt(logged, {"answer"});
  ASSERT_FALSE(logged_prompt.empty()) << "no prompt field in " << line;
  ASSERT_FALSE(logged_answer.empty()) << "no answer field in " << line;
  EXPECT_THAT(logged_prompt, HasSubstr(kPlainWords)) << "the words around identifiers are kept";
  EXPECT_THAT(logged_answer, HasSubstr("You said:"));
  EXPECT_THAT(logged_prompt, Not(HasSubstr("{EMAIL}"))) << "a tenant's request gets tokens";

  // One token per identifier, each naming the identifier's type; the answer (which echoes the
  // prompt) has the same tokens, since a value tokenizes the same within its tenant.
  const std::vector<std::string> tokens = TokensIn(logged_prompt);
  std::set<std::string> entities;
  for (const auto& t : tokens) entities.insert(EntityOf(t));
  for (const auto& [type, value] : Identifiers()) {
    EXPECT_EQ(entities.count(type), 1u)
        << "no " << type << " token in the logged prompt: " << logged_prompt;
  }
  for (const auto& t : tokens) {
    EXPECT_THAT(logged_answer, HasSubstr(t)) << "the answer echoes the prompt";
  }

  // The investigator (here the operator's CLI, acting as the account root) reveals each token
  // to exactly the identifier it replaced.
  for (const auto& t : tokens) {
    CommandResult revealed =
        gw_.RunCli({"vault", "reveal", "--config", "perimeter.yaml", "--tenant", "a", t});
    ASSERT_TRUE(Ok(revealed)) << t << ": " << revealed.exit.Describe() << "\n" << revealed.err;
    std::string value = revealed.out;
    while (!value.empty() && value.back() == '\n') value.pop_back();
    auto expected = Identifiers().find(EntityOf(t));
    if (expected != Identifiers().end()) {
      EXPECT_EQ(value, expected->second) << t;
    } else {
      EXPECT_THAT(prompt, HasSubstr(value)) << "token " << t << " of a value not in the prompt";
    }
  }
  // Tenant b's vault holds none of them.
  for (const auto& t : tokens) {
    CommandResult other =
        gw_.RunCli({"vault", "reveal", "--config", "perimeter.yaml", "--tenant", "b", t});
    EXPECT_FALSE(Ok(other)) << t << " revealed in tenant b: " << other.out;
  }

  // No tenant keeps invocation records here: the store is not even created.
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/var/invocations.db"));

  // Nothing the gateway wrote, anywhere, holds an identifier in the clear: every file under its
  // directory (access log, audit log, state databases and their WALs), its stdout and stderr.
  gw_.Stop();
  const auto files = FilesUnder(dir_.path());
  EXPECT_GT(files.size(), 3u);
  bool saw_audit = false;
  for (const auto& [path, contents] : files) {
    saw_audit |= path.find("/var/audit/") != std::string::npos;
    for (const auto& forbidden : ForbiddenForms()) {
      EXPECT_EQ(contents.find(forbidden), std::string::npos) << "'" << forbidden << "' in " << path;
    }
  }
  EXPECT_TRUE(saw_audit) << "no file under var/audit/";
  std::string out;
  for (const auto& l : gw_.StdoutLines()) out += l + "\n";
  for (const auto& forbidden : ForbiddenForms()) {
    EXPECT_EQ(out.find(forbidden), std::string::npos) << "'" << forbidden << "' on stdout";
    EXPECT_EQ(gw_.Stderr().find(forbidden), std::string::npos) << "'" << forbidden << "' on stderr";
  }
}

TEST_F(RecordsTest, PromptsAreNotLoggedByDefault) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra = TenantsSection(false, false);
  const std::string access_log = dir_.path() + "/access.log";
  ASSERT_NO_FATAL_FAILURE(
      StartGatewayYaml(cfg.Yaml() + "logging:\n  access_log: " + access_log + "\n"));
  const AccessKey alice = IssueAccessKey("alice");
  const std::string request_id = Converse(alice);
  ASSERT_FALSE(request_id.empty());
  gw_.Stop();  // every line written
  std::string line;
  std::istringstream lines(ReadFile(access_log));
  for (std::string l; std::getline(lines, l);) {
    if (l.find(request_id) != std::string::npos) line = l;
  }
  ASSERT_FALSE(line.empty()) << ReadFile(access_log);
  const json::value logged = json::parse(line);
  ASSERT_TRUE(logged.is_object()) << line;
  EXPECT_FALSE(logged.as_object().contains("prompt")) << line;
  EXPECT_FALSE(logged.as_object().contains("answer")) << line;
  EXPECT_EQ(line.find(kPlainWords), std::string::npos) << line;
  EXPECT_EQ(line.find("[EMAIL_"), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/var/invocations.db"));
}

// ---------------------------------------------------------------------------------------------
// 2. Invocation records

// The rows of <dir>/var/invocations.db: request id -> (tenant, ciphertext).
std::map<std::string, std::pair<std::string, std::string>> InvocationRows(const std::string& db) {
  std::map<std::string, std::pair<std::string, std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    ADD_FAILURE() << "cannot open " << db;
    return rows;
  }
  sqlite3_busy_timeout(h, 2000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "SELECT request_id, tenant, ciphertext FROM invocation_records", -1,
                         &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot read " << db << ": " << sqlite3_errmsg(h);
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto text = [&](int i) {
        const void* p = sqlite3_column_blob(st, i);
        return std::string(static_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(st, i)));
      };
      rows[text(0)] = {text(1), text(2)};
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

TEST_F(RecordsTest, InvocationRecordsAreOffByDefaultAndSealedWhenOn) {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra = TenantsSection(/*a_records=*/true, /*b_records=*/false);
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  const AccessKey alice = IssueAccessKey("alice");
  const AccessKey bob = IssueAccessKey("bob");
  const std::string db = dir_.path() + "/var/invocations.db";

  // Tenant b keeps no records.
  const std::string bob_request = Converse(bob);
  ASSERT_FALSE(bob_request.empty());
  ASSERT_NO_FATAL_FAILURE(WaitForAccessLogLine(bob_request));
  ASSERT_TRUE(std::filesystem::exists(db)) << "tenant a keeps records: the store exists";
  EXPECT_TRUE(InvocationRows(db).empty()) << "a request of tenant b left a record";

  // Tenant a does: one row, of its request, sealed.
  const std::string alice_request = Converse(alice);
  ASSERT_FALSE(alice_request.empty());
  ASSERT_NO_FATAL_FAILURE(WaitForAccessLogLine(alice_request));
  const auto rows = InvocationRows(db);
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows.count(alice_request), 1u) << "no record of request " << alice_request;
  EXPECT_EQ(rows.at(alice_request).first, "a");
  const std::string& sealed = rows.at(alice_request).second;
  EXPECT_EQ(sealed.rfind(std::string("PKC\x01", 4), 0), 0u) << "not a KMS ciphertext";
  CommandResult tenants = gw_.RunCli({"tenants", "list", "--config", "perimeter.yaml", "--json"});
  ASSERT_TRUE(Ok(tenants)) << tenants.err;
  std::string key_a;
  const json::value tenant_list = json::parse(tenants.out);
  for (const auto& t : tenant_list.as_array()) {
    if (t.at("tenantId") == "a") key_a = std::string(t.at("keyId").as_string());
  }
  ASSERT_FALSE(key_a.empty()) << tenants.out;
  EXPECT_NE(sealed.find(key_a), std::string::npos) << "not sealed under tenant a's key";

  // The raw bytes of the store hold neither an identifier nor the prompt's plain words.
  for (const char* f : {"/var/invocations.db", "/var/invocations.db-wal"}) {
    const std::string bytes = ReadFile(dir_.path() + f);
    for (const auto& forbidden : ForbiddenForms()) {
      EXPECT_EQ(bytes.find(forbidden), std::string::npos) << "'" << forbidden << "' in " << f;
    }
    EXPECT_EQ(bytes.find(kPlainWords), std::string::npos) << f;
    EXPECT_EQ(bytes.find("You said"), std::string::npos) << f;
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Reading invocation records

TEST_F(RecordsTest, OnlyAnInvestigatorCanReadAnInvocationRecordAndEveryReadIsRecorded) {
  GatewayConfig cfg;
  cfg.extra_principals =
      TenantUser("alice", "a") + TenantUser("bob", "b") +
      UserWithPolicy("ivy", "perimeter:ReadInvocationRecord",
                     "arn:aws:perimeter:eu-west-1:" + std::string(kAccount) + ":invocation-log/a");
  cfg.access_extra = TenantsSection(/*a_records=*/true, /*b_records=*/false);
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  const AccessKey alice = IssueAccessKey("alice");
  const AccessKey ivy = IssueAccessKey("ivy");

  const std::string request_id = Converse(alice);
  ASSERT_FALSE(request_id.empty());
  ASSERT_NO_FATAL_FAILURE(WaitForAccessLogLine(request_id));
  const std::string ask_a =
      json::serialize(json::object{{"Tenant", "a"}, {"RequestId", request_id}});

  // The investigator reads it: tokens, never identifiers.
  HttpResponse read = Audit(ivy, "GetInvocationRecord", ask_a);
  ASSERT_EQ(read.status, 200) << read.Describe();
  EXPECT_THAT(read.HeaderOr("content-type"), HasSubstr("application/x-amz-json-1.1"));
  const json::value body = read.Json();
  ASSERT_TRUE(body.is_object() && body.as_object().contains("Record")) << read.body;
  const json::value& record = body.at("Record");
  EXPECT_EQ(StringAt(record, {"requestId"}), request_id) << read.body;
  EXPECT_EQ(StringAt(record, {"tenant"}), "a") << read.body;
  EXPECT_EQ(StringAt(record, {"modelId"}), "perimeter.echo-v1") << read.body;
  EXPECT_EQ(StringAt(record, {"operation"}), "Converse") << read.body;
  const std::string request_text = StringAt(record, {"request"});
  const std::string answer_text = StringAt(record, {"answer"});
  EXPECT_THAT(request_text, HasSubstr(kPlainWords)) << read.body;
  EXPECT_THAT(answer_text, HasSubstr("You said:")) << read.body;
  std::set<std::string> entities;
  for (const auto& t : TokensIn(request_text)) entities.insert(EntityOf(t));
  for (const auto& [type, value] : Identifiers()) {
    EXPECT_EQ(entities.count(type), 1u) << "no " << type << " token in " << request_text;
  }
  EXPECT_FALSE(TokensIn(answer_text).empty()) << answer_text;
  for (const auto& forbidden : ForbiddenForms()) {
    EXPECT_EQ(read.body.find(forbidden), std::string::npos) << "'" << forbidden << "' in record";
  }

  // The application user that made the call cannot; nor can the investigator in tenant b.
  HttpResponse by_app = Audit(alice, "GetInvocationRecord", ask_a);
  EXPECT_EQ(by_app.status, 400) << by_app.Describe();
  EXPECT_EQ(ErrorType(by_app), "AccessDeniedException");
  EXPECT_THAT(ErrorMessage(by_app), HasSubstr("perimeter:ReadInvocationRecord"));
  EXPECT_EQ(by_app.body.find(kPlainWords), std::string::npos) << by_app.body;
  HttpResponse other_tenant =
      Audit(ivy, "GetInvocationRecord",
            json::serialize(json::object{{"Tenant", "b"}, {"RequestId", request_id}}));
  EXPECT_EQ(other_tenant.status, 400) << other_tenant.Describe();
  EXPECT_EQ(ErrorType(other_tenant), "AccessDeniedException");
  EXPECT_THAT(ErrorMessage(other_tenant), HasSubstr("invocation-log/b"));

  // Every read is recorded, allowed or refused, with who asked and for which record.
  const auto reads = QueryUntil({"--event-name", "ReadInvocationRecord"},
                                [](const std::vector<json::value>& e) { return e.size() >= 3; });
  ASSERT_EQ(reads.size(), 3u);
  bool allowed = false, app_denied = false, b_denied = false;
  for (const auto& e : reads) {
    EXPECT_EQ(StringAt(e, {"eventSource"}), "perimeter.invocation-log") << e;
    const std::string who = StringAt(e, {"userIdentity", "arn"});
    const std::string error = StringAt(e, {"errorCode"});
    const std::string tenant = StringAt(e, {"tenantId"});
    EXPECT_EQ(StringAt(e, {"requestParameters", "encryptionContext", "request_id"}), request_id)
        << e;
    if (who == UserArnOf("ivy") && tenant == "a" && error.empty()) allowed = true;
    if (who == UserArnOf("alice") && tenant == "a" && error == "AccessDeniedException") {
      app_denied = true;
    }
    if (who == UserArnOf("ivy") && tenant == "b" && error == "AccessDeniedException") {
      b_denied = true;
    }
    for (const auto& forbidden : ForbiddenForms()) {
      EXPECT_EQ(json::serialize(e).find(forbidden), std::string::npos) << e;
    }
  }
  EXPECT_TRUE(allowed) << "no allowed read by ivy";
  EXPECT_TRUE(app_denied) << "no denied read by alice";
  EXPECT_TRUE(b_denied) << "no denied read by ivy in tenant b";

  // The API calls themselves are recorded too, as calls of the audit API.
  const auto calls = QueryUntil({"--event-name", "GetInvocationRecord"},
                                [](const std::vector<json::value>& e) { return e.size() >= 3; });
  ASSERT_EQ(calls.size(), 3u);
  int succeeded = 0, refused = 0;
  for (const auto& e : calls) {
    EXPECT_EQ(StringAt(e, {"eventSource"}), "perimeter.audit") << e;
    EXPECT_EQ(StringAt(e, {"requestParameters", "requestId"}), request_id) << e;
    const std::string error = StringAt(e, {"errorCode"});
    if (error.empty()) {
      ++succeeded;
      EXPECT_EQ(StringAt(e, {"userIdentity", "arn"}), UserArnOf("ivy")) << e;
      EXPECT_EQ(StringAt(e, {"requestParameters", "tenant"}), "a") << e;
    } else {
      ++refused;
      EXPECT_EQ(error, "AccessDeniedException") << e;
    }
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(refused, 2);
}

// ---------------------------------------------------------------------------------------------
// 4. Tenant-scoped audit queries

TEST_F(RecordsTest, TenantScopedAuditQueriesSeeOnlyTheirTenant) {
  GatewayConfig cfg;
  cfg.extra_principals =
      TenantUser("alice", "a") + TenantUser("bob", "b") +
      UserWithPolicy("ada", "perimeter:QueryAuditEvents",
                     "arn:aws:perimeter:eu-west-1:" + std::string(kAccount) + ":audit/a");
  cfg.access_extra = TenantsSection(false, false);
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  const AccessKey alice = IssueAccessKey("alice");
  const AccessKey bob = IssueAccessKey("bob");
  const AccessKey ada = IssueAccessKey("ada");

  const std::string a1 = Converse(alice, "first question of tenant a");
  const std::string b1 = Converse(bob, "a question of tenant b");
  const std::string a2 = Converse(alice, "second question of tenant a");
  ASSERT_FALSE(a1.empty() || a2.empty() || b1.empty());

  // The administrator of tenant a sees tenant a's events (the log is written in the background).
  const std::string query_a = R"({"Tenant":"a"})";
  std::vector<std::string> ids;
  json::array events;
  const auto deadline = Clock::now() + milliseconds(5000);
  do {
    HttpResponse r = Audit(ada, "QueryEvents", query_a);
    ASSERT_EQ(r.status, 200) << r.Describe();
    EXPECT_THAT(r.HeaderOr("content-type"), HasSubstr("application/x-amz-json-1.1"));
    const json::value v = r.Json();
    ASSERT_TRUE(v.is_object() && v.as_object().contains("Events") && v.at("Events").is_array())
        << r.body;
    events = v.at("Events").as_array();
    ids.clear();
    for (const auto& e : events) ids.push_back(StringAt(e, {"requestID"}));
    if (std::count(ids.begin(), ids.end(), a1) && std::count(ids.begin(), ids.end(), a2)) break;
    std::this_thread::sleep_for(milliseconds(100));
  } while (Clock::now() < deadline);
  EXPECT_THAT(ids, ::testing::Contains(a1));
  EXPECT_THAT(ids, ::testing::Contains(a2));
  EXPECT_THAT(ids, Not(::testing::Contains(b1)));
  for (const auto& e : events) {
    EXPECT_EQ(StringAt(e, {"tenantId"}), "a") << e;
  }

  // Not tenant b's.
  HttpResponse denied = Audit(ada, "QueryEvents", R"({"Tenant":"b"})");
  EXPECT_EQ(denied.status, 400) << denied.Describe();
  EXPECT_EQ(ErrorType(denied), "AccessDeniedException");
  EXPECT_THAT(ErrorMessage(denied), HasSubstr("perimeter:QueryAuditEvents"));
  EXPECT_EQ(denied.body.find(b1), std::string::npos) << denied.body;
  // Nor may an application user of tenant a query its own tenant's log.
  HttpResponse by_app = Audit(alice, "QueryEvents", query_a);
  EXPECT_EQ(ErrorType(by_app), "AccessDeniedException") << by_app.Describe();

  // The operator's CLI sees tenant b's events.
  const auto b_events = QueryUntil({"--tenant", "b"}, [&](const std::vector<json::value>& e) {
    return std::any_of(e.begin(), e.end(),
                       [&](const json::value& x) { return StringAt(x, {"requestID"}) == b1; });
  });
  EXPECT_TRUE(std::any_of(b_events.begin(), b_events.end(),
                          [&](const json::value& x) { return StringAt(x, {"requestID"}) == b1; }))
      << "no event of request " << b1 << " in `audit query --tenant b`";
  for (const auto& e : b_events) EXPECT_EQ(StringAt(e, {"tenantId"}), "b") << e;

  // Bad input names the field.
  struct BadCase {
    std::string body;
    std::string field;
  };
  for (const BadCase& c : std::vector<BadCase>{
           {R"({})", "Tenant"},
           {R"({"Tenant":"a","Limit":0})", "Limit"},
           {R"({"Tenant":"a","Limit":10001})", "Limit"},
           {R"({"Tenant":"a","StartTime":"yesterday"})", "StartTime"},
           {R"({"Tenant":"a","EndTime":"2026-13-01T00:00:00Z"})", "EndTime"},
           {R"({"Tenant":"a","EventName":7})", "EventName"},
       }) {
    HttpResponse r = Audit(ada, "QueryEvents", c.body);
    EXPECT_EQ(r.status, 400) << c.body << "\n" << r.Describe();
    EXPECT_EQ(ErrorType(r), "ValidationException") << c.body;
    EXPECT_THAT(ErrorMessage(r), HasSubstr(c.field)) << c.body;
  }
  HttpResponse not_json = Audit(ada, "QueryEvents", "Tenant=a");
  EXPECT_EQ(ErrorType(not_json), "SerializationException") << not_json.Describe();

  // An operation the audit API does not have, whatever the body.
  for (const std::string body : {R"({"Tenant":"a"})", R"({})"}) {
    HttpResponse r = Audit(ada, "DeleteEvents", body);
    EXPECT_EQ(r.status, 400) << body << "\n" << r.Describe();
    EXPECT_EQ(ErrorType(r), "UnknownOperationException") << body;
    EXPECT_THAT(ErrorMessage(r), HasSubstr("DeleteEvents")) << body;
  }

  // Unsigned, or signed for another service: refused before anything is read.
  const std::string body = query_a;
  HttpResponse unsigned_call = Send(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
      "X-Amz-Target: PerimeterAudit.QueryEvents\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(unsigned_call.status, 200) << unsigned_call.Describe();
  EXPECT_EQ(unsigned_call.body.find("\"Events\""), std::string::npos) << unsigned_call.body;
  const Headers h = {{"Host", "127.0.0.1"},
                     {"Content-Type", "application/x-amz-json-1.1"},
                     {"Content-Length", std::to_string(body.size())},
                     {"X-Amz-Target", "PerimeterAudit.QueryEvents"}};
  HttpResponse bedrock_signed = Send("POST / HTTP/1.1\r\n" + HeaderLines(h) +
                                     SigV4HeaderLines(ada, "POST", "/", h, body) + "\r\n" + body);
  EXPECT_NE(bedrock_signed.status, 200) << bedrock_signed.Describe();
  EXPECT_EQ(bedrock_signed.body.find("\"Events\""), std::string::npos) << bedrock_signed.body;
}

}  // namespace
}  // namespace perimeter::testing
