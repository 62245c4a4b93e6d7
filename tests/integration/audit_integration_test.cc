// Integration tests of the tamper-evident audit log (src/audit/format.h, src/api/audit_filter.h):
// the real gateway records every request before it answers, fails closed when it cannot, leaves
// a log that survives SIGKILL, verifies with the CLI and with the independent JavaScript verifier
// (tests/audit/verify.mjs), locates tampering, records the operator's actions, and backs the
// tenant attestation and the data-subject commands.

#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>
#include <regex>
#include <set>

#include "gateway_fixture.h"

namespace perimeter::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAccountId = "000000000000";
constexpr const char* kEchoModel = "perimeter.echo-v1";
const std::string kConverseTarget = std::string("/model/") + kEchoModel + "/converse";

std::string UserArnOf(const std::string& name) {
  return std::string("arn:aws:iam::") + kAccountId + ":user/" + name;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A value unlikely to be anywhere by chance.
std::string UniqueMarker(const std::string& prefix) {
  std::random_device rd;
  std::mt19937_64 rng((uint64_t{rd()} << 32) ^ rd());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
  return prefix + buf;
}

// RFC 3339 UTC, whole seconds.
std::string Rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The member at `path` (object keys), or nullptr.
const json::value* Find(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* at = &v;
  for (const char* key : path) {
    const json::object* o = at->if_object();
    if (o == nullptr) {
      return nullptr;
    }
    at = o->if_contains(key);
    if (at == nullptr) {
      return nullptr;
    }
  }
  return at;
}

// The string at `path`, or "<absent>" / "<not a string>".
std::string Str(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* f = Find(v, path);
  if (f == nullptr) {
    return "<absent>";
  }
  return f->is_string() ? std::string(f->get_string())
                        : "<not a string: " + json::serialize(*f) + ">";
}

int64_t Int(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* f = Find(v, path);
  if (f == nullptr || !f->is_number()) {
    return -1;
  }
  return f->to_number<int64_t>();
}

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

std::vector<json::value> JsonLines(const std::string& text) {
  std::vector<json::value> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(ParseOrNull(line));
    }
  }
  return out;
}

bool ExitedZero(const CommandResult& r) { return r.exit.exited && r.exit.code == 0; }

std::string Describe(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string cmd;
  for (const auto& a : argv) {
    cmd += " " + a;
  }
  return "`" + cmd.substr(1) + "` " + r.exit.Describe() + "\nstdout: " + r.out.substr(0, 4000) +
         "\nstderr: " + r.err.substr(0, 4000);
}

// The independent verifier: node tests/audit/verify.mjs <args>.
CommandResult NodeVerify(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {"node",
                                   std::string(PERIMETER_SOURCE_DIR) + "/tests/audit/verify.mjs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, cwd, milliseconds(20000));
}

// Segment files of a log directory, in index order (the names sort so).
std::vector<std::string> SegmentPaths(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("segment-", 0) == 0 && name.size() > 6 &&
        name.substr(name.size() - 6) == ".jsonl") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string AllSegments(const std::string& dir) {
  std::string all;
  for (const auto& p : SegmentPaths(dir)) {
    all += ReadWholeFile(p);
  }
  return all;
}

// Every regular file under `dir` (recursively): path -> contents.
std::map<std::string, std::string> AllFiles(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) {
      out[e.path().string()] = ReadWholeFile(e.path().string());
    }
  }
  return out;
}

// One record line located in a segment file.
struct RecordLocation {
  std::string path;
  size_t offset = 0;  // of the line's first byte
  std::string line;   // without '\n'
  json::value record;
};

// Every complete record line of the log, in order.
std::vector<RecordLocation> Records(const std::string& dir) {
  std::vector<RecordLocation> out;
  for (const auto& p : SegmentPaths(dir)) {
    const std::string text = ReadWholeFile(p);
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        break;  // a torn tail
      }
      RecordLocation r{p, pos, text.substr(pos, nl - pos), json::value(nullptr)};
      r.record = ParseOrNull(r.line);
      out.push_back(std::move(r));
      pos = nl + 1;
    }
  }
  return out;
}

// The request's own record (not a KMS key use stamped with the same request id).
const RecordLocation* RequestRecord(const std::vector<RecordLocation>& records,
                                    const std::string& request_id) {
  for (const auto& r : records) {
    if (Str(r.record, {"event", "requestID"}) == request_id &&
        Str(r.record, {"event", "eventSource"}) != "kms.amazonaws.com") {
      return &r;
    }
  }
  return nullptr;
}

class AuditIntegrationTest : public GatewayTest {
 protected:
  std::string AuditDir() const { return dir_.path() + "/var/audit"; }
  std::string PublicKeyPem() const { return AuditDir() + "/checkpoint-key.pem"; }

  CommandResult Cli(const std::vector<std::string>& args,
                    milliseconds timeout = milliseconds(20000)) const {
    return gw_.RunCli(args, timeout);
  }
  // Runs the CLI and fails the test unless it exits 0; returns its stdout.
  std::string CliOk(const std::vector<std::string>& args) const {
    CommandResult r = Cli(args);
    EXPECT_TRUE(ExitedZero(r)) << Describe(args, r);
    return r.out;
  }

  // `perimeter audit query --config perimeter.yaml <filters>`, one JSON value per event.
  std::vector<json::value> Query(const std::vector<std::string>& filters = {}) const {
    std::vector<std::string> args = {"audit", "query", "--config", "perimeter.yaml"};
    args.insert(args.end(), filters.begin(), filters.end());
    return JsonLines(CliOk(args));
  }

  // `perimeter audit checkpoint`: the tree size it signed.
  int64_t Checkpoint() const {
    const std::string out = CliOk({"audit", "checkpoint", "--config", "perimeter.yaml"});
    return Int(ParseOrNull(out), {"treeSize"});
  }

  // A Converse as the test principal; fails the test unless it is answered 200. Returns the
  // request id (x-amzn-RequestId).
  std::string Converse(const std::string& text) {
    auto r = Exchange(port_, Request("POST", kConverseTarget, ConverseBody(text)));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) {
      return "";
    }
    EXPECT_EQ(r->status, 200) << r->Describe();
    const std::string id = r->HeaderOr("x-amzn-requestid");
    EXPECT_FALSE(id.empty()) << r->Describe();
    return id;
  }
};

// Events (not KMS key uses) whose requestID is `id`.
std::vector<json::value> RequestEvents(const std::vector<json::value>& events,
                                       const std::string& id) {
  std::vector<json::value> out;
  for (const auto& e : events) {
    if (Str(e, {"requestID"}) == id && Str(e, {"eventSource"}) != "kms.amazonaws.com") {
      out.push_back(e);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. What is recorded

TEST_F(AuditIntegrationTest, EveryKindOfRequestIsRecordedWithoutContent) {
  GatewayConfig cfg;
  // integ-narrow may invoke another model only: its Converse of the echo model is denied.
  cfg.extra_principals =
      "    - user: integ-narrow\n"
      "      policies:\n" +
      PolicyItem(8, "Allow", "bedrock:InvokeModel",
                 "arn:aws:bedrock:eu-west-1::foundation-model/some.other-model");
  ASSERT_NO_FATAL_FAILURE(StartGateway(cfg));
  AccessKey narrow;
  ASSERT_NO_FATAL_FAILURE(narrow = IssueAccessKey("integ-narrow"));
  const std::string marker = UniqueMarker("zq-audit-marker-");

  struct Sent {
    std::string name;
    std::string request_id;
    int status = 0;
  };
  std::vector<Sent> sent;
  auto send = [&](const std::string& name, const std::string& request) -> HttpResponse {
    auto r = Exchange(port_, request);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
    if (!r.ok()) {
      return {};
    }
    const std::string id = r->HeaderOr("x-amzn-requestid");
    EXPECT_FALSE(id.empty()) << name << ": no x-amzn-RequestId\n" << r->Describe();
    sent.push_back({name, id, r->status});
    return *r;
  };

  HttpResponse allowed = send("allowed Converse", Request("POST", kConverseTarget,
                                                          ConverseBody("please repeat " + marker)));
  ASSERT_EQ(allowed.status, 200) << allowed.Describe();
  EXPECT_THAT(ConverseText(allowed), HasSubstr(marker));  // the echo model repeats it

  HttpResponse denied =
      send("denied Converse", SignedRequest(narrow, "POST", kConverseTarget, ConverseBody("hi")));
  ASSERT_EQ(denied.status, 403) << denied.Describe();
  EXPECT_EQ(denied.HeaderOr("x-amzn-errortype"), "AccessDeniedException");

  // A bearer key whose secret is wrong: 401.
  const std::string wrong_key = api_key_.substr(0, api_key_.find('_', 4) + 1) + "wrongsecret";
  HttpResponse unauth =
      send("unauthenticated chat",
           BearerRequest(wrong_key, "POST", "/v1/chat/completions", ChatBody(kEchoModel, "hi")));
  ASSERT_EQ(unauth.status, 401) << unauth.Describe();
  HttpResponse unsigned_req = send(
      "unsigned Converse", UnauthenticatedRequest("POST", kConverseTarget, ConverseBody("hi")));
  ASSERT_EQ(unsigned_req.status, 403) << unsigned_req.Describe();

  HttpResponse unknown =
      send("unknown model", Request("POST", "/model/no.such-model-x/converse", ConverseBody("hi")));
  ASSERT_GE(unknown.status, 400) << unknown.Describe();

  HttpResponse chat =
      send("chat", Request("POST", "/v1/chat/completions", ChatBody(kEchoModel, "hello")));
  ASSERT_EQ(chat.status, 200) << chat.Describe();

  HttpResponse models = send("list models", Request("GET", "/v1/models", ""));
  ASSERT_EQ(models.status, 200) << models.Describe();

  auto health = Exchange(port_, Request("GET", "/healthz", ""));
  ASSERT_TRUE(health.ok()) << health.status().message();
  ASSERT_EQ(health->status, 200);
  const std::string health_id = health->HeaderOr("x-amzn-requestid");
  ASSERT_EQ(sent.size(), 7u);

  CommandResult q = Cli({"audit", "query", "--config", "perimeter.yaml"});
  ASSERT_TRUE(ExitedZero(q)) << Describe({"audit", "query"}, q);
  const std::vector<json::value> events = JsonLines(q.out);

  std::map<std::string, json::value> by_name;
  for (const Sent& s : sent) {
    SCOPED_TRACE(s.name + " (request " + s.request_id + ")");
    const auto mine = RequestEvents(events, s.request_id);
    ASSERT_EQ(mine.size(), 1u) << "expected exactly one event for the request in:\n" << q.out;
    const json::value& e = mine[0];
    EXPECT_EQ(Str(e, {"sourceIPAddress"}), "127.0.0.1") << e;
    EXPECT_EQ(Int(e, {"httpStatus"}), s.status) << e;
    EXPECT_EQ(Str(e, {"eventVersion"}), "1.09") << e;
    EXPECT_EQ(Str(e, {"eventID"}).size(), 36u) << e;
    if (s.status >= 400) {
      EXPECT_NE(Find(e, {"errorCode"}), nullptr) << e;
      // A fixed description, never the reply's message (it may quote the request).
      EXPECT_EQ(Str(e, {"errorMessage"}), "HTTP " + std::to_string(s.status)) << e;
    } else {
      EXPECT_EQ(Find(e, {"errorCode"}), nullptr) << e;
    }
    by_name[s.name] = e;
  }
  if (HasFailure()) {
    return;
  }

  const json::value& a = by_name["allowed Converse"];
  EXPECT_EQ(Str(a, {"eventSource"}), "bedrock.amazonaws.com") << a;
  EXPECT_EQ(Str(a, {"eventName"}), "Converse") << a;
  EXPECT_EQ(Str(a, {"userIdentity", "type"}), "IAMUser") << a;
  EXPECT_EQ(Str(a, {"userIdentity", "arn"}), UserArnOf(kTestPrincipal)) << a;
  EXPECT_EQ(Str(a, {"userIdentity", "accessKeyId"}), access_key_.id) << a;
  EXPECT_EQ(Str(a, {"requestParameters", "modelId"}), kEchoModel) << a;
  EXPECT_EQ(Str(a, {"decision", "effect"}), "Allow") << a;
  const json::value* statements = Find(a, {"decision", "statements"});
  ASSERT_NE(statements, nullptr) << a;
  ASSERT_TRUE(statements->is_array()) << a;
  EXPECT_FALSE(statements->as_array().empty()) << "an Allow names its deciding statements: " << a;
  EXPECT_GT(Int(a, {"responseElements", "outputTokens"}), 0) << a;

  const json::value& d = by_name["denied Converse"];
  EXPECT_EQ(Str(d, {"eventName"}), "Converse") << d;
  EXPECT_EQ(Str(d, {"userIdentity", "arn"}), UserArnOf("integ-narrow")) << d;
  EXPECT_EQ(Str(d, {"userIdentity", "accessKeyId"}), narrow.id) << d;
  EXPECT_EQ(Str(d, {"errorCode"}), "AccessDeniedException") << d;
  EXPECT_EQ(Str(d, {"decision", "effect"}), "Deny") << d;
  EXPECT_EQ(Str(d, {"requestParameters", "modelId"}), kEchoModel) << d;

  const json::value& u = by_name["unauthenticated chat"];
  EXPECT_EQ(Str(u, {"eventSource"}), "perimeter.openai") << u;
  EXPECT_EQ(Str(u, {"eventName"}), "ChatCompletions") << u;
  EXPECT_EQ(Str(u, {"userIdentity", "type"}), "Unknown") << u;
  EXPECT_EQ(Find(u, {"userIdentity", "arn"}), nullptr) << u;
  EXPECT_EQ(Find(u, {"decision"}), nullptr) << "never authenticated: no decision: " << u;

  const json::value& n = by_name["unsigned Converse"];
  EXPECT_EQ(Str(n, {"eventName"}), "Converse") << n;
  EXPECT_EQ(Str(n, {"errorCode"}), "MissingAuthenticationTokenException") << n;
  EXPECT_EQ(Str(n, {"userIdentity", "type"}), "Unknown") << n;
  EXPECT_EQ(Find(n, {"decision"}), nullptr) << n;

  const json::value& m = by_name["unknown model"];
  EXPECT_EQ(Str(m, {"eventName"}), "Converse") << m;
  EXPECT_EQ(Str(m, {"userIdentity", "arn"}), UserArnOf(kTestPrincipal)) << m;
  EXPECT_EQ(Str(m, {"requestParameters", "modelId"}), "no.such-model-x") << m;
  EXPECT_EQ(Str(m, {"decision", "effect"}), "Allow") << "authorized, then failed: " << m;

  const json::value& c = by_name["chat"];
  EXPECT_EQ(Str(c, {"eventSource"}), "perimeter.openai") << c;
  EXPECT_EQ(Str(c, {"eventName"}), "ChatCompletions") << c;
  EXPECT_EQ(Str(c, {"userIdentity", "type"}), "APIKey") << c;
  EXPECT_EQ(Str(c, {"userIdentity", "arn"}), UserArnOf(kTestPrincipal)) << c;
  EXPECT_EQ(Str(c, {"userIdentity", "accessKeyId"}), api_key_.substr(0, api_key_.find('_', 4)))
      << c;
  EXPECT_EQ(Str(c, {"requestParameters", "modelId"}), kEchoModel) << c;
  EXPECT_EQ(Str(c, {"decision", "effect"}), "Allow") << c;

  const json::value& l = by_name["list models"];
  EXPECT_EQ(Str(l, {"eventSource"}), "perimeter.openai") << l;
  EXPECT_EQ(Str(l, {"eventName"}), "ListModels") << l;
  EXPECT_EQ(Str(l, {"userIdentity", "arn"}), UserArnOf(kTestPrincipal)) << l;
  EXPECT_EQ(Str(l, {"eventCategory"}), "Management") << l;

  // Health checks are not recorded.
  if (!health_id.empty()) {
    EXPECT_EQ(q.out.find(health_id), std::string::npos) << "/healthz was recorded";
  }
  EXPECT_EQ(q.out.find("\"Health\""), std::string::npos) << q.out;

  // No content anywhere in the log: not in any file of the audit directory, not in a query.
  EXPECT_EQ(q.out.find(marker), std::string::npos) << "the prompt is in the query output";
  const auto files = AllFiles(AuditDir());
  ASSERT_FALSE(files.empty());
  bool has_segment = false;
  for (const auto& [path, contents] : files) {
    has_segment = has_segment || path.find("/segment-") != std::string::npos;
    EXPECT_EQ(contents.find(marker), std::string::npos) << "the prompt is in " << path;
  }
  EXPECT_TRUE(has_segment) << "no segment file in " << AuditDir();
}

// ---------------------------------------------------------------------------------------------
// 2. Recorded before the answer

TEST_F(AuditIntegrationTest, TheRecordIsDurableBeforeTheAnswer) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  for (int i = 0; i < 20; ++i) {
    auto r =
        Exchange(port_, Request("POST", kConverseTarget, ConverseBody("n" + std::to_string(i))));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->status, 200) << r->Describe();
    const std::string id = r->HeaderOr("x-amzn-requestid");
    ASSERT_FALSE(id.empty()) << r->Describe();
    // At once, with no waiting: the record was on disk before the first byte of the answer.
    const std::string segments = AllSegments(AuditDir());
    ASSERT_NE(segments.find("\"requestID\":\"" + id + "\""), std::string::npos)
        << "request " << i << " (" << id << ") was answered before its record was written";
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Fail closed

TEST_F(AuditIntegrationTest, AFailedAuditWriteFailsClosed) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  ASSERT_FALSE(Converse("before the failure").empty());

  // From here the gateway cannot grow the last segment by more than 10 bytes.
  const auto segments = SegmentPaths(AuditDir());
  ASSERT_FALSE(segments.empty());
  struct stat st {};
  ASSERT_EQ(::stat(segments.back().c_str(), &st), 0);
  rlimit old{};
  ASSERT_EQ(::prlimit(gw_.pid(), RLIMIT_FSIZE, nullptr, &old), 0) << std::strerror(errno);
  rlimit lim{};
  lim.rlim_cur = static_cast<rlim_t>(st.st_size) + 10;
  lim.rlim_max = old.rlim_max;
  ASSERT_EQ(::prlimit(gw_.pid(), RLIMIT_FSIZE, &lim, nullptr), 0) << std::strerror(errno);

  const std::string marker = UniqueMarker("unrecorded-answer-");
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("Converse " + std::to_string(i + 1) + " after the failure");
    auto r = Exchange(port_, Request("POST", kConverseTarget, ConverseBody("say " + marker)));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 503) << r->Describe();
    EXPECT_EQ(r->HeaderOr("x-amzn-errortype"), "ServiceUnavailableException") << r->Describe();
    EXPECT_THAT(r->BedrockMessage(), HasSubstr("could not be recorded")) << r->Describe();
    EXPECT_EQ(r->body.find(marker), std::string::npos) << "the model's answer left unrecorded";
    EXPECT_EQ(r->body.find("output"), std::string::npos) << r->Describe();
  }
  auto chat = Exchange(
      port_, Request("POST", "/v1/chat/completions", ChatBody(kEchoModel, "say " + marker)));
  ASSERT_TRUE(chat.ok()) << chat.status().message();
  EXPECT_EQ(chat->status, 503) << chat->Describe();
  EXPECT_EQ(chat->Header("x-amzn-errortype"), nullptr) << chat->Describe();
  EXPECT_EQ(chat->OpenAiError("type"), "service_unavailable") << chat->Describe();
  EXPECT_THAT(chat->OpenAiError("message"), HasSubstr("could not be recorded"));
  EXPECT_EQ(chat->body.find(marker), std::string::npos) << chat->Describe();
  EXPECT_EQ(chat->body.find("choices"), std::string::npos) << chat->Describe();
  gw_.Signal(SIGKILL);
  gw_.Wait();
}

// ---------------------------------------------------------------------------------------------
// 4. Crash safety

TEST_F(AuditIntegrationTest, KilledUnderLoadEveryAnsweredRequestHasItsRecord) {
  const std::string yaml = GatewayConfig{}.Yaml();
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(yaml));

  // Bounded load: each client stops at the kill, after kMaxPerThread requests, or at its own
  // deadline, whichever comes first; the kill must find all of them still sending.
  constexpr int kThreads = 4;
  constexpr int kMaxPerThread = 20000;
  const auto client_deadline = Clock::now() + milliseconds(8000);
  std::atomic<bool> stop{false};
  std::atomic<int> sending{0};
  std::mutex mu;
  std::vector<std::string> answered;
  std::atomic<int> missing_id{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    ++sending;
    clients.emplace_back([&, t] {
      for (int i = 0; i < kMaxPerThread && !stop && Clock::now() < client_deadline; ++i) {
        auto r = Exchange(port_,
                          Request("POST", kConverseTarget,
                                  ConverseBody("t" + std::to_string(t) + "-" + std::to_string(i))),
                          milliseconds(3000));
        if (!r.ok() || r->status != 200) {
          continue;  // refused or cut by the kill: not answered
        }
        const std::string id = r->HeaderOr("x-amzn-requestid");
        if (id.empty()) {
          ++missing_id;
          continue;
        }
        std::lock_guard lock(mu);
        answered.push_back(id);
      }
      --sending;
    });
  }
  std::this_thread::sleep_for(milliseconds(1500));  // the load runs this long, then the kill
  const int sending_at_kill = sending.load();
  gw_.Signal(SIGKILL);
  const ProcessExit killed = gw_.Wait(milliseconds(5000));
  stop = true;
  for (auto& c : clients) {
    c.join();
  }
  EXPECT_EQ(sending_at_kill, kThreads) << "the load ended before the kill";
  EXPECT_EQ(killed.signal, SIGKILL) << killed.Describe();
  EXPECT_EQ(missing_id.load(), 0);
  ASSERT_GT(answered.size(), 10u) << "too little load to mean anything";

  // As the crash left it (a torn tail is a warning, not a failure).
  CommandResult before = Cli({"audit", "verify", "--config", "perimeter.yaml"});
  EXPECT_TRUE(ExitedZero(before)) << Describe({"audit", "verify (after the kill)"}, before);
  const json::value* ok_before = Find(ParseOrNull(before.out), {"ok"});
  EXPECT_TRUE(ok_before != nullptr && ok_before->is_bool() && ok_before->as_bool()) << before.out;

  // A new gateway on the same directory recovers the log and appends after it.
  GatewayProcess again(dir_.path());
  auto url = again.Start(yaml);
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto r = Exchange(PortOf(*url), Request("POST", kConverseTarget, ConverseBody("after restart")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200) << r->Describe() << again.Diagnostics();
  const std::string after_id = r->HeaderOr("x-amzn-requestid");

  CommandResult verified = Cli({"audit", "verify", "--config", "perimeter.yaml"});
  EXPECT_TRUE(ExitedZero(verified)) << Describe({"audit", "verify"}, verified);
  const json::value report = ParseOrNull(verified.out);
  const json::value* ok = Find(report, {"ok"});
  EXPECT_TRUE(ok != nullptr && ok->is_bool() && ok->as_bool()) << verified.out;

  CommandResult q = Cli({"audit", "query", "--config", "perimeter.yaml"});
  ASSERT_TRUE(ExitedZero(q)) << Describe({"audit", "query"}, q);
  std::set<std::string> recorded;
  for (const auto& e : JsonLines(q.out)) {
    recorded.insert(Str(e, {"requestID"}));
  }
  size_t lost = 0;
  std::string first_lost;
  for (const auto& id : answered) {
    if (recorded.count(id) == 0) {
      if (lost++ == 0) {
        first_lost = id;
      }
    }
  }
  EXPECT_EQ(lost, 0u) << lost << " of " << answered.size()
                      << " answered requests have no record, e.g. " << first_lost;
  EXPECT_EQ(recorded.count(after_id), 1u) << "the restarted gateway's request is not recorded";
  again.Stop();
}

// ---------------------------------------------------------------------------------------------
// 5. Independent verification

TEST_F(AuditIntegrationTest, TheLogVerifiesIndependently) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Converse("first " + std::to_string(i)));
  }
  const int64_t from = Checkpoint();
  ASSERT_GT(from, 0);
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Converse("second " + std::to_string(i)));
  }
  const int64_t to = Checkpoint();
  ASSERT_GT(to, from);
  ASSERT_FALSE(HasFailure());

  // A standalone copy: the log's files and the public key, nothing of the state directory.
  TempDir copy;
  int copied_segments = 0;
  for (const auto& e : fs::directory_iterator(AuditDir())) {
    const std::string name = e.path().filename().string();
    const bool segment = name.rfind("segment-", 0) == 0;
    if (segment || name == "checkpoints.jsonl" || name == "pruned.json" ||
        name == "checkpoint-key.pem") {
      fs::copy_file(e.path(), copy.path() + "/" + name);
      copied_segments += segment ? 1 : 0;
    }
  }
  ASSERT_GT(copied_segments, 0);
  const std::string pem = copy.path() + "/checkpoint-key.pem";
  ASSERT_TRUE(fs::exists(pem)) << "no checkpoint-key.pem in " << AuditDir();

  const std::vector<std::string> verify = {"audit",     "verify",       "--dir",
                                           copy.path(), "--public-key", pem};
  CommandResult cpp = Cli(verify);
  EXPECT_TRUE(ExitedZero(cpp)) << Describe(verify, cpp);
  const json::value cpp_report = ParseOrNull(cpp.out);
  EXPECT_GE(Int(cpp_report, {"checkpoints"}), 2) << cpp.out;
  const std::vector<std::string> node_log = {"log", "--dir", copy.path(), "--public-key", pem};
  CommandResult js = NodeVerify(node_log, copy.path());
  EXPECT_TRUE(ExitedZero(js)) << Describe(node_log, js);
  EXPECT_EQ(Int(ParseOrNull(js.out), {"records"}), Int(cpp_report, {"records"})) << js.out;

  // An inclusion proof of one request's event, checked by node against the signed checkpoint.
  const auto events = RequestEvents(Query({"--request-id", ids[1]}), ids[1]);
  ASSERT_EQ(events.size(), 1u);
  const std::string event_id = Str(events[0], {"eventID"});
  const std::vector<std::string> prove = {"audit",          "prove",      "--config",
                                          "perimeter.yaml", "--event-id", event_id};
  CommandResult proved = Cli(prove);
  ASSERT_TRUE(ExitedZero(proved)) << Describe(prove, proved);
  const json::value proof = ParseOrNull(proved.out);
  // Against a signed checkpoint that covers the record (the first such, as implemented).
  EXPECT_TRUE(Int(proof, {"treeSize"}) == from || Int(proof, {"treeSize"}) == to) << proved.out;
  ASSERT_NE(Find(proof, {"checkpoint"}), nullptr) << proved.out;
  ASSERT_TRUE(Find(proof, {"checkpoint"})->is_object()) << proved.out;
  EXPECT_EQ(Int(proof, {"checkpoint", "treeSize"}), Int(proof, {"treeSize"})) << proved.out;
  // And against the latest checkpoint, named explicitly.
  std::vector<std::string> prove_latest = prove;
  prove_latest.insert(prove_latest.end(), {"--tree-size", std::to_string(to)});
  CommandResult latest = Cli(prove_latest);
  ASSERT_TRUE(ExitedZero(latest)) << Describe(prove_latest, latest);
  EXPECT_EQ(Int(ParseOrNull(latest.out), {"checkpoint", "treeSize"}), to) << latest.out;
  for (const std::string* text : {&proved.out, &latest.out}) {
    const std::string proof_file = dir_.WriteFile("inclusion.json", *text);
    const std::vector<std::string> inclusion = {"inclusion", "--proof", proof_file, "--public-key",
                                                pem};
    CommandResult inc = NodeVerify(inclusion, dir_.path());
    EXPECT_TRUE(ExitedZero(inc)) << Describe(inclusion, inc);
    const json::value* cp_ok = Find(ParseOrNull(inc.out), {"checkpointVerified"});
    EXPECT_TRUE(cp_ok && cp_ok->is_bool() && cp_ok->as_bool()) << inc.out;
  }

  // A consistency proof between the two checkpoints.
  const std::vector<std::string> consistency = {
      "audit",  "consistency",        "--config", "perimeter.yaml",
      "--from", std::to_string(from), "--to",     std::to_string(to)};
  CommandResult cons = Cli(consistency);
  ASSERT_TRUE(ExitedZero(cons)) << Describe(consistency, cons);
  const std::string cons_file = dir_.WriteFile("consistency.json", cons.out);
  const std::vector<std::string> node_cons = {"consistency", "--proof", cons_file, "--public-key",
                                              pem};
  CommandResult cjs = NodeVerify(node_cons, dir_.path());
  EXPECT_TRUE(ExitedZero(cjs)) << Describe(node_cons, cjs);
  EXPECT_EQ(Int(ParseOrNull(cjs.out), {"checkpointsVerified"}), 2) << cjs.out;

  // One hex digit of the audit path changed: the proof no longer verifies.
  json::value bad = proof;
  json::array& path = bad.as_object()["auditPath"].as_array();
  ASSERT_FALSE(path.empty()) << proved.out;
  std::string h(path[0].as_string());
  h[0] = h[0] == '0' ? '1' : '0';
  path[0] = h;
  const std::string bad_file = dir_.WriteFile("bad-inclusion.json", json::serialize(bad));
  const std::vector<std::string> bad_inclusion = {"inclusion", "--proof", bad_file, "--public-key",
                                                  pem};
  CommandResult badjs = NodeVerify(bad_inclusion, dir_.path());
  EXPECT_TRUE(badjs.exit.exited && badjs.exit.code == 1) << Describe(bad_inclusion, badjs);
}

// ---------------------------------------------------------------------------------------------
// 6. Tamper evidence

TEST_F(AuditIntegrationTest, TamperingIsDetectedAndLocatedByBothVerifiers) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(Converse("req " + std::to_string(i)));
  }
  ASSERT_GT(Checkpoint(), 0);
  const ProcessExit stopped = gw_.Stop();
  ASSERT_TRUE(stopped.exited && stopped.code == 0) << stopped.Describe();
  ASSERT_FALSE(HasFailure());

  // The last checkpoint covers records [0, covered).
  const std::string checkpoints = ReadWholeFile(AuditDir() + "/checkpoints.jsonl");
  const auto cp_lines = JsonLines(checkpoints);
  ASSERT_FALSE(cp_lines.empty()) << "no checkpoint in checkpoints.jsonl";
  const int64_t covered = Int(cp_lines.back(), {"treeSize"});
  ASSERT_GT(covered, 1);

  const std::vector<std::string> cpp_verify = {"audit", "verify", "--config", "perimeter.yaml"};
  const std::vector<std::string> node_verify = {"log", "--dir", AuditDir(), "--public-key",
                                                PublicKeyPem()};
  CommandResult clean = Cli(cpp_verify);
  ASSERT_TRUE(ExitedZero(clean)) << Describe(cpp_verify, clean);

  // Alter one character of the eventID of request 1's record (not the last record).
  const auto records = Records(AuditDir());
  const RecordLocation* target = RequestRecord(records, ids[1]);
  ASSERT_NE(target, nullptr) << "no record of request " << ids[1];
  const int64_t index = Int(target->record, {"index"});
  ASSERT_GE(index, 0);
  ASSERT_LT(index, covered - 1) << "the altered record must be covered and not the last";
  const size_t at = target->line.find("\"eventID\":\"");
  ASSERT_NE(at, std::string::npos) << target->line;
  const size_t byte = target->offset + at + 11;
  const char original = target->line[at + 11];
  const char altered = original == '0' ? '1' : '0';
  ASSERT_EQ(::chmod(target->path.c_str(), 0600), 0) << std::strerror(errno);
  auto put = [&](char c) {
    std::fstream f(target->path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(byte));
    f.put(c);
    f.flush();
    return static_cast<bool>(f);
  };
  ASSERT_TRUE(put(altered));

  CommandResult cpp = Cli(cpp_verify);
  EXPECT_TRUE(cpp.exit.exited && cpp.exit.code == 1) << Describe(cpp_verify, cpp);
  const json::value cpp_report = ParseOrNull(cpp.out);
  EXPECT_EQ(Int(cpp_report, {"badRecord"}), index) << cpp.out;
  CommandResult js = NodeVerify(node_verify, dir_.path());
  EXPECT_TRUE(js.exit.exited && js.exit.code == 1) << Describe(node_verify, js);
  EXPECT_EQ(Int(ParseOrNull(js.out), {"badRecord"}), index) << js.out;

  // Put back: it verifies again (the change, nothing else, was detected).
  ASSERT_TRUE(put(original));
  CommandResult restored = Cli(cpp_verify);
  EXPECT_TRUE(ExitedZero(restored)) << Describe(cpp_verify, restored);

  // Cut the log before the last record a checkpoint covers: truncation, at that record.
  const RecordLocation* last = nullptr;
  for (const auto& r : records) {
    if (Int(r.record, {"index"}) == covered - 1) {
      last = &r;
    }
  }
  ASSERT_NE(last, nullptr);
  ASSERT_EQ(::chmod(last->path.c_str(), 0600), 0) << std::strerror(errno);
  ASSERT_EQ(::truncate(last->path.c_str(), static_cast<off_t>(last->offset)), 0)
      << std::strerror(errno);
  for (const auto& r : records) {  // later segments, if any, go too
    if (r.path > last->path) {
      fs::remove(r.path);
    }
  }
  CommandResult cut = Cli(cpp_verify);
  EXPECT_TRUE(cut.exit.exited && cut.exit.code == 1) << Describe(cpp_verify, cut);
  EXPECT_THAT(Str(ParseOrNull(cut.out), {"firstFailure"}), HasSubstr("truncat")) << cut.out;
  EXPECT_EQ(Int(ParseOrNull(cut.out), {"badRecord"}), covered - 1) << cut.out;
  CommandResult cutjs = NodeVerify(node_verify, dir_.path());
  EXPECT_TRUE(cutjs.exit.exited && cutjs.exit.code == 1) << Describe(node_verify, cutjs);
  EXPECT_THAT(Str(ParseOrNull(cutjs.out), {"firstFailure"}), HasSubstr("truncat")) << cutjs.out;
  EXPECT_EQ(Int(ParseOrNull(cutjs.out), {"badRecord"}), covered - 1) << cutjs.out;
}

// ---------------------------------------------------------------------------------------------
// 7. The operator's actions

TEST_F(AuditIntegrationTest, AdministrativeActionsAreRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({}));  // creates two credentials with the CLI
  IssuedCredential extra;
  ASSERT_NO_FATAL_FAILURE(extra = Issue(kTestPrincipal, "access-key"));
  CliOk({"principals", "create", "--config", "perimeter.yaml", "--user", "audit-bob"});
  const std::string role = std::string("arn:aws:iam::") + kAccountId + ":role/tenant-t-audit";
  CliOk({"tenants", "create", "--config", "perimeter.yaml", "t-audit", "--role", role});
  dir_.WriteFile(
      "g.json",
      R"({"name":"cards","blockedInputMessaging":"no cards","blockedOutputsMessaging":"no",)"
      R"("sensitiveInformationPolicyConfig":{"piiEntitiesConfig":[{"type":"CREDIT_DEBIT_CARD_NUMBER","action":"BLOCK"}]}})");
  CliOk({"guardrails", "create", "--config", "perimeter.yaml", "--file", "g.json", "--json"});
  // A second create of the same tenant fails, and is recorded as failed.
  CommandResult again =
      Cli({"tenants", "create", "--config", "perimeter.yaml", "t-audit", "--role", role});
  EXPECT_FALSE(ExitedZero(again)) << again.out;
  ASSERT_FALSE(HasFailure());

  auto check_admin = [&](const json::value& e) {
    EXPECT_EQ(Str(e, {"eventSource"}), "perimeter.admin") << e;
    EXPECT_EQ(Str(e, {"userIdentity", "type"}), "Operator") << e;
    EXPECT_EQ(Str(e, {"eventType"}), "PerimeterAdminAction") << e;
    EXPECT_EQ(Str(e, {"sourceIPAddress"}), "perimeter-cli") << e;
  };

  // The operator's events (the KMS records its own CreateTenant key event beside them).
  auto admin_events = [&](const std::string& name) {
    std::vector<json::value> out;
    for (auto& e : Query({"--event-name", name})) {
      if (Str(e, {"eventSource"}) == "perimeter.admin") {
        out.push_back(std::move(e));
      }
    }
    return out;
  };
  const auto creds = admin_events("CreateCredential");
  EXPECT_GE(creds.size(), 3u) << "two by the fixture, one here";
  bool extra_seen = false;
  for (const auto& e : creds) {
    check_admin(e);
    EXPECT_EQ(Find(e, {"errorCode"}), nullptr) << e;
    EXPECT_EQ(Str(e, {"requestParameters", "principal"}), kTestPrincipal) << e;
    extra_seen = extra_seen || Str(e, {"requestParameters", "type"}) == "access-key";
  }
  EXPECT_TRUE(extra_seen);

  const auto principals = admin_events("CreatePrincipal");
  ASSERT_EQ(principals.size(), 1u);
  check_admin(principals[0]);
  EXPECT_EQ(Str(principals[0], {"requestParameters", "user"}), "audit-bob") << principals[0];
  EXPECT_EQ(Find(principals[0], {"errorCode"}), nullptr) << principals[0];

  const auto guardrails = admin_events("CreateGuardrail");
  ASSERT_EQ(guardrails.size(), 1u);
  check_admin(guardrails[0]);
  EXPECT_EQ(Find(guardrails[0], {"errorCode"}), nullptr) << guardrails[0];

  const auto tenants = admin_events("CreateTenant");
  ASSERT_EQ(tenants.size(), 2u) << "the create and the failed second create";
  check_admin(tenants[0]);
  check_admin(tenants[1]);
  EXPECT_EQ(Str(tenants[0], {"requestParameters", "tenant"}), "t-audit") << tenants[0];
  EXPECT_EQ(Str(tenants[0], {"requestParameters", "role"}), role) << tenants[0];
  EXPECT_EQ(Find(tenants[0], {"errorCode"}), nullptr) << tenants[0];
  EXPECT_NE(Find(tenants[1], {"errorCode"}), nullptr) << "the failure is recorded: " << tenants[1];

  // No secret in any audit file.
  const std::string api_secret = api_key_.substr(api_key_.find('_', 4) + 1);
  for (const auto& [path, contents] : AllFiles(AuditDir())) {
    EXPECT_EQ(contents.find(extra.secret), std::string::npos) << "a secret key is in " << path;
    EXPECT_EQ(contents.find(access_key_.secret), std::string::npos) << "a secret is in " << path;
    EXPECT_EQ(contents.find(api_secret), std::string::npos) << "an API key is in " << path;
  }
}

// ---------------------------------------------------------------------------------------------
// 8-9. Tenants: attestation and data-subject requests

std::string TenantsYaml(const std::string& extra = "") {
  GatewayConfig cfg;
  cfg.extra_principals = TenantUser("alice", "a") + TenantUser("bob", "b");
  cfg.access_extra =
      "  tenants:\n"
      "    - id: a\n"
      "      role: tenant-a\n"
      "    - id: b\n"
      "      role: tenant-b\n";
  return cfg.Yaml() +
         GuardrailsSection(
             "  bindings:\n"
             "    - {tenant: a, guardrail: pii, version: \"1\"}\n") +
         extra;
}

std::string GuardedConverse(const std::string& text) {
  return json::serialize(json::object{
      {"messages", json::array{json::object{
                       {"role", "user"}, {"content", json::array{json::object{{"text", text}}}}}}},
      {"guardrailConfig",
       json::object{{"guardrailIdentifier", "pii"}, {"guardrailVersion", "1"}}}});
}

TEST_F(AuditIntegrationTest, AttestReportsATenantsInvocationsWithProofs) {
  const auto since = std::chrono::system_clock::now() - std::chrono::seconds(120);
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(TenantsYaml()));
  const AccessKey alice = IssueAccessKey("alice");
  const std::string alice_api = IssueApiKey("alice");
  const AccessKey bob = IssueAccessKey("bob");

  std::vector<std::string> alice_ids;
  auto r = Exchange(port_, SignedRequest(alice, "POST", kConverseTarget,
                                         GuardedConverse("mail ada.a1@example.com today")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(ConverseText(*r), HasSubstr("[EMAIL_")) << "anonymized with tenant a's vault";
  alice_ids.push_back(r->HeaderOr("x-amzn-requestid"));
  // The OpenAI door: the guardrail bound to tenant a.
  r = Exchange(port_, BearerRequest(alice_api, "POST", "/v1/chat/completions",
                                    ChatBody(kEchoModel, "write to grace.a2@example.com")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_THAT(r->body, HasSubstr("[EMAIL_"));
  alice_ids.push_back(r->HeaderOr("x-amzn-requestid"));
  r = Exchange(port_, SignedRequest(bob, "POST", kConverseTarget,
                                    GuardedConverse("mail bob.b1@example.com")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  const std::string bob_id = r->HeaderOr("x-amzn-requestid");
  const auto until = std::chrono::system_clock::now() + std::chrono::seconds(120);

  const std::vector<std::string> attest = {
      "audit",   "attest",       "--config", "perimeter.yaml", "--tenant", "a",
      "--since", Rfc3339(since), "--until",  Rfc3339(until),   "--format", "json"};
  CommandResult out = Cli(attest);
  ASSERT_TRUE(ExitedZero(out)) << Describe(attest, out);
  const json::value doc = ParseOrNull(out.out);
  ASSERT_TRUE(doc.is_object()) << out.out;
  const json::value* all_own = Find(doc, {"summary", "allOwn"});
  EXPECT_TRUE(all_own && all_own->is_bool() && all_own->as_bool()) << out.out;
  EXPECT_GE(Int(doc, {"summary", "invocations"}), 2) << out.out;
  const json::value* invocations = Find(doc, {"invocations"});
  ASSERT_TRUE(invocations && invocations->is_array()) << out.out;
  std::set<std::string> listed;
  bool vault_use = false;
  for (const auto& inv : invocations->as_array()) {
    listed.insert(Str(inv, {"requestId"}));
    const json::value* uses = Find(inv, {"keyUses"});
    ASSERT_TRUE(uses && uses->is_array()) << inv;
    EXPECT_FALSE(uses->as_array().empty()) << "an invocation of tenant a lists no key use: " << inv;
    for (const auto& u : uses->as_array()) {
      EXPECT_EQ(Str(u, {"tenant"}), "a") << inv;
      const json::value* foreign = Find(u, {"foreign"});
      EXPECT_TRUE(foreign && foreign->is_bool() && !foreign->as_bool()) << inv;
      vault_use = vault_use || Str(u, {"purpose"}) == "vault";
    }
  }
  EXPECT_TRUE(vault_use) << "no key use with purpose vault in:\n" << out.out;
  for (const auto& id : alice_ids) {
    EXPECT_EQ(listed.count(id), 1u) << "alice's request " << id << " is not attested";
  }
  EXPECT_EQ(listed.count(bob_id), 0u) << "tenant b's request is in tenant a's attestation";

  // One invocation's proof, with the report's checkpoint, verifies independently.
  ASSERT_FALSE(invocations->as_array().empty());
  json::object proof = Find(invocations->as_array()[0], {"proof"})->as_object();
  proof["checkpoint"] = *Find(doc, {"checkpoint"});
  const std::string proof_file = dir_.WriteFile("attest-proof.json", json::serialize(proof));
  const std::string pem_file = dir_.WriteFile("attest-key.pem", Str(doc, {"publicKeyPem"}));
  const std::vector<std::string> inclusion = {"inclusion", "--proof", proof_file, "--public-key",
                                              pem_file};
  CommandResult inc = NodeVerify(inclusion, dir_.path());
  EXPECT_TRUE(ExitedZero(inc)) << Describe(inclusion, inc);

  std::vector<std::string> markdown = attest;
  markdown.back() = "markdown";
  CommandResult md = Cli(markdown);
  ASSERT_TRUE(ExitedZero(md)) << Describe(markdown, md);
  EXPECT_THAT(md.out, HasSubstr("| Index | Time | Operation | Model |"));
  EXPECT_THAT(md.out, HasSubstr("|---|---|"));
  EXPECT_THAT(md.out, HasSubstr("| Converse |"));
}

TEST_F(AuditIntegrationTest, SubjectExportFindsAndEraseRemovesTheValue) {
  const std::string access_log = dir_.path() + "/access.log";
  ASSERT_NO_FATAL_FAILURE(StartGatewayYaml(
      TenantsYaml("logging:\n  access_log: " + access_log + "\n  prompts: redacted\n")));
  const AccessKey alice = IssueAccessKey("alice");
  const std::string email = UniqueMarker("subj") + "@example.com";
  auto r = Exchange(port_, SignedRequest(alice, "POST", kConverseTarget,
                                         GuardedConverse("please contact " + email + " soon")));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->status, 200) << r->Describe();
  std::smatch m;
  const std::string text = ConverseText(*r);
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\[EMAIL_[0-9a-f]{16}\])"))) << text;
  const std::string token = m[0];
  EXPECT_EQ(r->body.find(email), std::string::npos);

  // The access log line is written after the answer; wait (bounded) for it.
  const auto deadline = Clock::now() + milliseconds(3000);
  while (ReadWholeFile(access_log).find(token) == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_NE(ReadWholeFile(access_log).find(token), std::string::npos)
      << "the access log has no line with " << token << ":\n"
      << ReadWholeFile(access_log);

  const std::vector<std::string> exp = {"subject",  "export", "--config",     "perimeter.yaml",
                                        "--tenant", "a",      "--identifier", email};
  CommandResult exported = Cli(exp);
  ASSERT_TRUE(ExitedZero(exported)) << Describe(exp, exported);
  const json::value doc = ParseOrNull(exported.out);
  ASSERT_TRUE(doc.is_object()) << exported.out;
  bool token_listed = false;
  for (const auto& t : Find(doc, {"tokens"})->as_array()) {
    token_listed = token_listed || Str(t, {"token"}) == token;
  }
  EXPECT_TRUE(token_listed) << exported.out;
  bool value_found = false;
  for (const auto& v : Find(doc, {"vaultValues"})->as_array()) {
    value_found = value_found || (Str(v, {"token"}) == token && Str(v, {"value"}) == email);
  }
  EXPECT_TRUE(value_found) << exported.out;
  const json::value* lines = Find(doc, {"logLines"});
  ASSERT_TRUE(lines && lines->is_array()) << exported.out;
  EXPECT_FALSE(lines->as_array().empty()) << exported.out;
  for (const auto& l : lines->as_array()) {
    EXPECT_THAT(std::string(l.as_string()), HasSubstr(token));
  }

  const std::vector<std::string> erase = {"subject",  "erase", "--config",     "perimeter.yaml",
                                          "--tenant", "a",     "--identifier", email};
  CommandResult erased = Cli(erase);
  ASSERT_TRUE(ExitedZero(erased)) << Describe(erase, erased);
  EXPECT_THAT(erased.out, HasSubstr(token));
  const std::vector<std::string> reveal = {"vault",    "reveal", "--config", "perimeter.yaml",
                                           "--tenant", "a",      token};
  CommandResult revealed = Cli(reveal);
  EXPECT_FALSE(ExitedZero(revealed)) << Describe(reveal, revealed);
  EXPECT_THAT(revealed.err, HasSubstr("erased")) << Describe(reveal, revealed);
  EXPECT_EQ(revealed.out.find(email), std::string::npos);

  const auto subject_erase = Query({"--event-name", "SubjectErase"});
  ASSERT_EQ(subject_erase.size(), 1u);
  EXPECT_EQ(Str(subject_erase[0], {"tenantId"}), "a") << subject_erase[0];
  EXPECT_EQ(Find(subject_erase[0], {"errorCode"}), nullptr) << subject_erase[0];
  EXPECT_EQ(Query({"--event-name", "SubjectExport"}).size(), 1u);
  const auto erase_token = Query({"--event-name", "EraseToken"});
  EXPECT_GE(erase_token.size(), 1u);
  bool token_erase_recorded = false;
  for (const auto& e : erase_token) {
    token_erase_recorded =
        token_erase_recorded || json::serialize(e).find(token) != std::string::npos;
  }
  EXPECT_TRUE(token_erase_recorded) << "no EraseToken event names " << token;
  // The subject's value is in no audit file.
  for (const auto& [path, contents] : AllFiles(AuditDir())) {
    EXPECT_EQ(contents.find(email), std::string::npos) << "the e-mail is in " << path;
  }
}

}  // namespace
}  // namespace perimeter::testing
