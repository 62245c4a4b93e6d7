// Tests for the SQLite identity store: round trips of every record kind, duplicate and missing
// records, revocation, activation state for config principals, the cross-process change
// counter, file permissions, input bounds and schema versioning. Each test uses its own
// temporary directory; a second IdentityStore on the same file stands in for the CLI process.

#include "iam/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace perimeter::iam {
namespace {

namespace fs = std::filesystem;

constexpr char kHashA[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr char kHashB[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

PrincipalRecord MakeUser(const std::string& name) {
  PrincipalRecord p;
  p.arn = "arn:aws:iam::123456789012:user/" + name;
  p.type = PrincipalType::kUser;
  p.account_id = "123456789012";
  p.name = name;
  p.unique_id = "AIDA" + name;
  p.tags = {{"team", "ml"}, {"tenant", "acme"}};
  p.policies = {
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}]})"};
  p.created_at = 1700000000;
  return p;
}

PrincipalRecord MakeRole(const std::string& name) {
  PrincipalRecord p;
  p.arn = "arn:aws:iam::123456789012:role/" + name;
  p.type = PrincipalType::kRole;
  p.account_id = "123456789012";
  p.name = name;
  p.unique_id = "AROA" + name;
  p.policies = {R"({"Statement":[]})", R"({"Statement":[{"Effect":"Deny"}]})"};
  p.permission_boundary = R"({"Statement":[{"Effect":"Allow","Action":"*"}]})";
  p.trust_policy = R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"}}]})";
  p.max_session_seconds = 7200;
  p.created_at = 1700000100;
  return p;
}

AccessKeyRecord MakeAccessKey(const std::string& id, const std::string& arn, int64_t created) {
  AccessKeyRecord k;
  k.access_key_id = id;
  k.principal_arn = arn;
  // Sealed output is binary: include NUL and high bytes.
  k.sealed_secret = std::string("\x01\x00\xff\x80sealed", 10) + id;
  k.description = "key for " + id;
  k.created_at = created;
  k.expires_at = created + 86400;
  return k;
}

ApiKeyRecord MakeApiKey(const std::string& id, const std::string& arn, int64_t created) {
  ApiKeyRecord k;
  k.key_id = id;
  k.principal_arn = arn;
  k.secret_sha256_hex = kHashA;
  k.description = "api key " + id;
  k.created_at = created;
  return k;
}

void ExpectSamePrincipal(const PrincipalRecord& got, const PrincipalRecord& want) {
  EXPECT_EQ(got.arn, want.arn);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.account_id, want.account_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.unique_id, want.unique_id);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.policies, want.policies);
  EXPECT_EQ(got.permission_boundary, want.permission_boundary);
  EXPECT_EQ(got.trust_policy, want.trust_policy);
  EXPECT_EQ(got.max_session_seconds, want.max_session_seconds);
  EXPECT_EQ(got.active, want.active);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.created_at, want.created_at);
}

void ExpectSameAccessKey(const AccessKeyRecord& got, const AccessKeyRecord& want) {
  EXPECT_EQ(got.access_key_id, want.access_key_id);
  EXPECT_EQ(got.principal_arn, want.principal_arn);
  EXPECT_EQ(got.sealed_secret, want.sealed_secret);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.revoked_at, want.revoked_at);
}

void ExpectSameApiKey(const ApiKeyRecord& got, const ApiKeyRecord& want) {
  EXPECT_EQ(got.key_id, want.key_id);
  EXPECT_EQ(got.principal_arn, want.principal_arn);
  EXPECT_EQ(got.secret_sha256_hex, want.secret_sha256_hex);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.revoked_at, want.revoked_at);
}

class IdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "identity_store_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/identity.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<IdentityStore> OpenStore() {
    Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Runs one statement on the database file with a plain SQLite connection, bypassing the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_;
  std::string path_;
};

// ---- Files, schema, reopening ------------------------------------------------------------------

TEST_F(IdentityStoreTest, CreatesTheDatabaseAndItsWalFilesWithMode0600) {
  const mode_t old = ::umask(0);  // the mode must not depend on a permissive umask
  auto store = OpenStore();
  ::umask(old);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePrincipal(MakeUser("alice")).ok());
  EXPECT_EQ(Mode(path_), 0600u);
  ASSERT_TRUE(fs::exists(path_ + "-wal"));  // WAL mode is in effect
  EXPECT_EQ(Mode(path_ + "-wal"), 0600u);
  EXPECT_EQ(Mode(path_ + "-shm"), 0600u);
}

TEST_F(IdentityStoreTest, RefusesAnExistingFileAccessibleByGroupOrOthers) {
  { std::ofstream touch(path_); }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("chmod 600 " + path_), std::string::npos)
      << store.status().message();
  EXPECT_EQ(Mode(path_), 0644u);  // reported, not silently changed
}

TEST_F(IdentityStoreTest, RefusesAMissingDirectory) {
  Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(dir_ + "/no/such/identity.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(IdentityStoreTest, ReopeningKeepsEveryRecord) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreatePrincipal(MakeRole("worker")).ok());
    ASSERT_TRUE(
        store->CreateAccessKey(MakeAccessKey("AKIAREOPEN", MakeRole("worker").arn, 5)).ok());
    ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_reopen", MakeRole("worker").arn, 6)).ok());
    ASSERT_TRUE(store->SetPrincipalActive("arn:aws:iam::123456789012:user/cfg", false, 7).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<std::optional<PrincipalRecord>> p = store->GetPrincipal(MakeRole("worker").arn);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->has_value());
  ExpectSamePrincipal(**p, MakeRole("worker"));
  Result<std::optional<AccessKeyRecord>> ak = store->GetAccessKey("AKIAREOPEN");
  ASSERT_TRUE(ak.ok() && ak->has_value());
  ExpectSameAccessKey(**ak, MakeAccessKey("AKIAREOPEN", MakeRole("worker").arn, 5));
  Result<std::optional<ApiKeyRecord>> api = store->GetApiKey("prm_reopen");
  ASSERT_TRUE(api.ok() && api->has_value());
  ExpectSameApiKey(**api, MakeApiKey("prm_reopen", MakeRole("worker").arn, 6));
  Result<std::map<std::string, bool>> states = store->ListPrincipalStates();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(*states, (std::map<std::string, bool>{{"arn:aws:iam::123456789012:user/cfg", false}}));
}

TEST_F(IdentityStoreTest, RefusesADatabaseWrittenByANewerSchemaVersion) {
  { ASSERT_NE(OpenStore(), nullptr); }
  RawExec("UPDATE schema_version SET version = " + std::to_string(kIdentityStoreSchemaVersion + 1));
  Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version " +
                                          std::to_string(kIdentityStoreSchemaVersion + 1)),
            std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);
}

TEST_F(IdentityStoreTest, RecordsTheCurrentSchemaVersionOnCreation) {
  { ASSERT_NE(OpenStore(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kIdentityStoreSchemaVersion);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);  // exactly one row
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(IdentityStoreTest, RefusesASqliteDatabaseThatIsNotAnIdentityStore) {
  RawExec("CREATE TABLE something_else (x INTEGER)");
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a perimeter identity store"), std::string::npos);
}

TEST_F(IdentityStoreTest, RefusesAFileThatIsNotADatabase) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(4096, 'x');
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  Result<std::unique_ptr<IdentityStore>> store = IdentityStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

// ---- Principals --------------------------------------------------------------------------------

TEST_F(IdentityStoreTest, PrincipalsRoundTripEveryField) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PrincipalRecord user = MakeUser("alice");
  user.tags["unicode"] = "caf\xc3\xa9 \xe2\x9c\x93";
  user.tags["empty"] = "";
  PrincipalRecord role = MakeRole("worker");
  ASSERT_TRUE(store->CreatePrincipal(user).ok());
  ASSERT_TRUE(store->CreatePrincipal(role).ok());

  for (const PrincipalRecord& want : {user, role}) {
    Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(want.arn);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    ExpectSamePrincipal(**got, want);
  }
}

TEST_F(IdentityStoreTest, GetPrincipalOfAnUnknownArnIsEmpty) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal("arn:aws:iam::1:user/nobody");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(IdentityStoreTest, CreatingAnExistingPrincipalFailsAndKeepsTheOriginal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePrincipal(MakeUser("alice")).ok());
  PrincipalRecord again = MakeUser("alice");
  again.tags = {{"team", "other"}};
  Status st = store->CreatePrincipal(again);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("already exists"), std::string::npos);
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(again.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->tags, MakeUser("alice").tags);
}

TEST_F(IdentityStoreTest, ListsPrincipalsOrderedByArn) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const PrincipalRecord& p : {MakeUser("zed"), MakeRole("mid"), MakeUser("abe")}) {
    ASSERT_TRUE(store->CreatePrincipal(p).ok());
  }
  Result<std::vector<PrincipalRecord>> all = store->ListPrincipals();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].arn, MakeRole("mid").arn);  // ":role/" sorts before ":user/"
  EXPECT_EQ((*all)[1].arn, MakeUser("abe").arn);
  EXPECT_EQ((*all)[2].arn, MakeUser("zed").arn);
  ExpectSamePrincipal((*all)[0], MakeRole("mid"));
}

TEST_F(IdentityStoreTest, RefusesToStoreAConfigDeclaredPrincipal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PrincipalRecord p = MakeUser("from-config");
  p.source = PrincipalSource::kConfig;
  EXPECT_EQ(store->CreatePrincipal(p).code(), StatusCode::kInvalidArgument);
  Result<std::vector<PrincipalRecord>> all = store->ListPrincipals();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(IdentityStoreTest, SetPrincipalTagsReplacesTheTagSet) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePrincipal(MakeUser("alice")).ok());
  const std::map<std::string, std::string> tags = {{"tenant", "globex"}, {"tier", "gold"}};
  ASSERT_TRUE(store->SetPrincipalTags(MakeUser("alice").arn, tags).ok());
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(MakeUser("alice").arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->tags, tags);
  ASSERT_TRUE(store->SetPrincipalTags(MakeUser("alice").arn, {}).ok());
  got = store->GetPrincipal(MakeUser("alice").arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->tags.empty());
}

TEST_F(IdentityStoreTest, SetPrincipalTagsOfAnUnknownArnIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SetPrincipalTags("arn:aws:iam::1:user/nobody", {{"a", "b"}}).code(),
            StatusCode::kNotFound);
}

TEST_F(IdentityStoreTest, PrincipalCreatedInactiveReadsBackInactive) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PrincipalRecord p = MakeUser("leaver");
  p.active = false;
  ASSERT_TRUE(store->CreatePrincipal(p).ok());
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(p.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->active);
  Result<std::map<std::string, bool>> states = store->ListPrincipalStates();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(*states, (std::map<std::string, bool>{{p.arn, false}}));
}

TEST_F(IdentityStoreTest, SetPrincipalActiveWorksForAnArnThatIsNotAStoredPrincipal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string config_arn = "arn:aws:iam::123456789012:user/declared-in-config";
  ASSERT_TRUE(store->SetPrincipalActive(config_arn, false, 1700000500).ok());
  Result<std::map<std::string, bool>> states = store->ListPrincipalStates();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(*states, (std::map<std::string, bool>{{config_arn, false}}));

  ASSERT_TRUE(store->SetPrincipalActive(config_arn, true, 1700000600).ok());
  states = store->ListPrincipalStates();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(*states, (std::map<std::string, bool>{{config_arn, true}}));

  // Recording a state does not invent a principal row.
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(config_arn);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_F(IdentityStoreTest, SetPrincipalActiveChangesAStoredPrincipalsActiveFlag) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePrincipal(MakeUser("alice")).ok());
  ASSERT_TRUE(store->SetPrincipalActive(MakeUser("alice").arn, false, 1700000500).ok());
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(MakeUser("alice").arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->active);
  ASSERT_TRUE(store->SetPrincipalActive(MakeUser("alice").arn, true, 1700000600).ok());
  Result<std::vector<PrincipalRecord>> all = store->ListPrincipals();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_TRUE((*all)[0].active);
}

TEST_F(IdentityStoreTest, RefusesPrincipalsOverTheInputBoundsAndWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<PrincipalRecord> bad;
  {
    PrincipalRecord p = MakeUser("a");
    p.arn = std::string(kMaxArnBytes + 1, 'a');
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("b");
    p.arn.clear();
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("c");
    for (size_t i = 0; i <= kMaxTags; ++i) {
      p.tags["k" + std::to_string(i)] = "v";
    }
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("d");
    p.tags[std::string(kMaxTagKeyBytes + 1, 'k')] = "v";
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("e");
    p.tags["k"] = std::string(kMaxTagValueBytes + 1, 'v');
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("f");
    p.policies.assign(kMaxPolicies + 1, "{}");
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("g");
    p.policies = {std::string(kMaxPolicyDocumentBytes + 1, ' ')};
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeRole("h");
    p.trust_policy = std::string(kMaxPolicyDocumentBytes + 1, ' ');
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("i");
    p.tags["k"] = "\xff\xfe not utf-8";  // would be unreadable later
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeRole("j");
    p.max_session_seconds = kMaxSessionSecondsLimit + 1;
    bad.push_back(p);
  }
  {
    PrincipalRecord p = MakeUser("k");
    p.tags[""] = "empty key";
    bad.push_back(p);
  }
  for (const PrincipalRecord& p : bad) {
    SCOPED_TRACE(p.name);
    EXPECT_EQ(store->CreatePrincipal(p).code(), StatusCode::kInvalidArgument);
  }
  Result<std::vector<PrincipalRecord>> all = store->ListPrincipals();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());

  // At the bounds is accepted.
  PrincipalRecord max = MakeUser("max");
  max.tags.clear();
  for (size_t i = 0; i < kMaxTags; ++i) {
    max.tags[std::to_string(i) + std::string(kMaxTagKeyBytes - 3, 'k')] =
        std::string(kMaxTagValueBytes, 'v');
  }
  max.policies.assign(kMaxPolicies, std::string(kMaxPolicyDocumentBytes, ' '));
  Status created = store->CreatePrincipal(max);
  ASSERT_TRUE(created.ok()) << created.ToString();
  Result<std::optional<PrincipalRecord>> got = store->GetPrincipal(max.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSamePrincipal(**got, max);

  EXPECT_EQ(
      store->SetPrincipalTags(max.arn, {{"k", std::string(kMaxTagValueBytes + 1, 'v')}}).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(store->SetPrincipalActive(std::string(kMaxArnBytes + 1, 'a'), false, 1).code(),
            StatusCode::kInvalidArgument);
}

// ---- Access keys -------------------------------------------------------------------------------

TEST_F(IdentityStoreTest, AccessKeysRoundTripIncludingBinarySealedSecrets) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const AccessKeyRecord k = MakeAccessKey("AKIAEXAMPLE0000001", MakeUser("alice").arn, 100);
  ASSERT_TRUE(store->CreateAccessKey(k).ok());
  Result<std::optional<AccessKeyRecord>> got = store->GetAccessKey(k.access_key_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  ExpectSameAccessKey(**got, k);

  Result<std::optional<AccessKeyRecord>> none = store->GetAccessKey("AKIANOSUCHKEY");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(IdentityStoreTest, CreatingAnExistingAccessKeyIdFails) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateAccessKey(MakeAccessKey("AKIADUP", "arn:a", 1)).ok());
  Status st = store->CreateAccessKey(MakeAccessKey("AKIADUP", "arn:b", 2));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("already exists"), std::string::npos);
  Result<std::optional<AccessKeyRecord>> got = store->GetAccessKey("AKIADUP");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->principal_arn, "arn:a");
}

TEST_F(IdentityStoreTest, ListsAccessKeysPerPrincipalOrAllByCreationTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateAccessKey(MakeAccessKey("AKIAB", "arn:alice", 20)).ok());
  ASSERT_TRUE(store->CreateAccessKey(MakeAccessKey("AKIAA", "arn:alice", 30)).ok());
  ASSERT_TRUE(store->CreateAccessKey(MakeAccessKey("AKIAC", "arn:bob", 10)).ok());

  Result<std::vector<AccessKeyRecord>> alice = store->ListAccessKeys("arn:alice");
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].access_key_id, "AKIAB");
  EXPECT_EQ((*alice)[1].access_key_id, "AKIAA");
  ExpectSameAccessKey((*alice)[1], MakeAccessKey("AKIAA", "arn:alice", 30));

  Result<std::vector<AccessKeyRecord>> all = store->ListAccessKeys("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].access_key_id, "AKIAC");
  EXPECT_EQ((*all)[1].access_key_id, "AKIAB");
  EXPECT_EQ((*all)[2].access_key_id, "AKIAA");

  Result<std::vector<AccessKeyRecord>> nobody = store->ListAccessKeys("arn:nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
}

TEST_F(IdentityStoreTest, RevokingAnAccessKeyTwiceKeepsTheFirstTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateAccessKey(MakeAccessKey("AKIAREV", "arn:a", 1)).ok());
  ASSERT_TRUE(store->RevokeAccessKey("AKIAREV", 1000).ok());
  Result<std::optional<AccessKeyRecord>> got = store->GetAccessKey("AKIAREV");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revoked_at, 1000);

  EXPECT_TRUE(store->RevokeAccessKey("AKIAREV", 2000).ok());
  got = store->GetAccessKey("AKIAREV");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revoked_at, 1000);
}

TEST_F(IdentityStoreTest, RevokingAnUnknownAccessKeyIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->RevokeAccessKey("AKIANOSUCHKEY", 1000).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->RevokeAccessKey("AKIANOSUCHKEY", 0).code(), StatusCode::kInvalidArgument);
}

TEST_F(IdentityStoreTest, RefusesAccessKeysOverTheInputBounds) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AccessKeyRecord no_secret = MakeAccessKey("AKIA1", "arn:a", 1);
  no_secret.sealed_secret.clear();
  AccessKeyRecord big_secret = MakeAccessKey("AKIA2", "arn:a", 1);
  big_secret.sealed_secret.assign(kMaxSealedSecretBytes + 1, 's');
  AccessKeyRecord long_id = MakeAccessKey(std::string(kMaxIdentifierBytes + 1, 'A'), "arn:a", 1);
  AccessKeyRecord no_arn = MakeAccessKey("AKIA3", "", 1);
  AccessKeyRecord negative_time = MakeAccessKey("AKIA4", "arn:a", -5);
  for (const AccessKeyRecord& k : {no_secret, big_secret, long_id, no_arn, negative_time}) {
    EXPECT_EQ(store->CreateAccessKey(k).code(), StatusCode::kInvalidArgument) << k.access_key_id;
  }
  Result<std::vector<AccessKeyRecord>> all = store->ListAccessKeys("");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

// ---- API keys ----------------------------------------------------------------------------------

TEST_F(IdentityStoreTest, ApiKeysRoundTrip) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ApiKeyRecord k = MakeApiKey("prm_3f9a", MakeUser("alice").arn, 100);
  k.expires_at = 500;
  ASSERT_TRUE(store->CreateApiKey(k).ok());
  Result<std::optional<ApiKeyRecord>> got = store->GetApiKey("prm_3f9a");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameApiKey(**got, k);
  Result<std::optional<ApiKeyRecord>> none = store->GetApiKey("prm_none");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(IdentityStoreTest, CreatingAnExistingApiKeyIdFails) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_dup", "arn:a", 1)).ok());
  ApiKeyRecord again = MakeApiKey("prm_dup", "arn:b", 2);
  again.secret_sha256_hex = kHashB;
  Status st = store->CreateApiKey(again);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("already exists"), std::string::npos);
  EXPECT_EQ(st.message().find(kHashB), std::string::npos);
}

TEST_F(IdentityStoreTest, ListsAndRevokesApiKeys) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_b", "arn:alice", 2)).ok());
  ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_a", "arn:alice", 2)).ok());  // tie: by id
  ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_c", "arn:bob", 1)).ok());

  Result<std::vector<ApiKeyRecord>> alice = store->ListApiKeys("arn:alice");
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].key_id, "prm_a");
  EXPECT_EQ((*alice)[1].key_id, "prm_b");
  Result<std::vector<ApiKeyRecord>> all = store->ListApiKeys("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key_id, "prm_c");

  ASSERT_TRUE(store->RevokeApiKey("prm_a", 50).ok());
  ASSERT_TRUE(store->RevokeApiKey("prm_a", 60).ok());
  Result<std::optional<ApiKeyRecord>> got = store->GetApiKey("prm_a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revoked_at, 50);
  got = store->GetApiKey("prm_b");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revoked_at, 0);
  EXPECT_EQ(store->RevokeApiKey("prm_none", 50).code(), StatusCode::kNotFound);
}

TEST_F(IdentityStoreTest, RefusesApiKeysWhoseHashIsNotLowercaseSha256Hex) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (std::string hash : {std::string(""), std::string(63, 'a'), std::string(65, 'a'),
                           std::string(64, 'A'), std::string(63, 'a') + "g"}) {
    ApiKeyRecord k = MakeApiKey("prm_x", "arn:a", 1);
    k.secret_sha256_hex = hash;
    EXPECT_EQ(store->CreateApiKey(k).code(), StatusCode::kInvalidArgument) << hash;
  }
}

// ---- Change counter ----------------------------------------------------------------------------

TEST_F(IdentityStoreTest, ChangeCounterIsStableWithoutWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreatePrincipal(MakeUser("alice")).ok());
  Result<uint64_t> first = store->ChangeCounter();
  ASSERT_TRUE(first.ok());
  // Reads, from this connection and from another one, are not changes.
  ASSERT_TRUE(store->ListPrincipals().ok());
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->ListAccessKeys("").ok());
  Result<uint64_t> second = store->ChangeCounter();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(*store->ChangeCounter(), *first);
}

TEST_F(IdentityStoreTest, ChangeCounterChangesAfterOwnWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<uint64_t> before = store->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(store->SetPrincipalActive("arn:aws:iam::1:user/x", false, 1).ok());
  Result<uint64_t> after = store->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  ASSERT_TRUE(store->CreateApiKey(MakeApiKey("prm_1", "arn:a", 1)).ok());
  Result<uint64_t> after_second = store->ChangeCounter();
  ASSERT_TRUE(after_second.ok());
  EXPECT_NE(*after_second, *after);
}

TEST_F(IdentityStoreTest, ChangeCounterChangesAfterAnotherConnectionCommits) {
  auto gateway = OpenStore();
  ASSERT_NE(gateway, nullptr);
  auto cli = OpenStore();  // stands in for the CLI process
  ASSERT_NE(cli, nullptr);

  Result<uint64_t> before = gateway->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(cli->CreateAccessKey(MakeAccessKey("AKIAFROMCLI", "arn:a", 1)).ok());
  Result<uint64_t> after_create = gateway->ChangeCounter();
  ASSERT_TRUE(after_create.ok());
  EXPECT_NE(*after_create, *before);
  // The gateway sees the CLI's record.
  Result<std::optional<AccessKeyRecord>> seen = gateway->GetAccessKey("AKIAFROMCLI");
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->has_value());

  EXPECT_EQ(*gateway->ChangeCounter(), *after_create);  // nothing new yet
  ASSERT_TRUE(cli->RevokeAccessKey("AKIAFROMCLI", 99).ok());
  Result<uint64_t> after_revoke = gateway->ChangeCounter();
  ASSERT_TRUE(after_revoke.ok());
  EXPECT_NE(*after_revoke, *after_create);
}

TEST_F(IdentityStoreTest, ChangesByWritersThatBypassTheSharedCounterAreSeenWithinASecond) {
  auto gateway = OpenStore();
  ASSERT_NE(gateway, nullptr);
  Result<uint64_t> before = gateway->ChangeCounter();
  ASSERT_TRUE(before.ok());
  // A plain SQLite connection (an operator with sqlite3, or a writer that died before it
  // signalled) commits without touching the shared counter.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO principal_state(arn, active, changed_at) "
                         "VALUES('arn:aws:iam::1:user/raw', 0, 5)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Result<uint64_t> after = gateway->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
}

TEST_F(IdentityStoreTest, TheSharedCounterFileIsPrivate) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SetPrincipalActive("arn:aws:iam::1:user/x", false, 1).ok());
  EXPECT_EQ(Mode(path_ + "-version"), 0600u);
}

// ---- Concurrency -------------------------------------------------------------------------------

TEST_F(IdentityStoreTest, ConcurrentWritersOnOneAndTwoConnectionsAllSucceed) {
  auto first = OpenStore();
  auto second = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      IdentityStore* store = (t % 2 == 0) ? first.get() : second.get();
      for (int i = 0; i < kKeysPerThread; ++i) {
        const std::string id = "prm_" + std::to_string(t) + "_" + std::to_string(i);
        if (!store->CreateApiKey(MakeApiKey(id, "arn:a", t * 1000 + i)).ok()) {
          ++failures[t];
        }
        if (!store->ChangeCounter().ok()) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
  }
  Result<std::vector<ApiKeyRecord>> all = first->ListApiKeys("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kKeysPerThread));
}

}  // namespace
}  // namespace perimeter::iam
