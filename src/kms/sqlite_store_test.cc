// Tests for the SQLite key store: round trips of every record kind, duplicates, missing records,
// the ordering of every list, destruction and erasure (including that the bytes leave the file),
// input bounds, file permissions, schema checks, the cross-connection change counter, concurrent
// writers, and that a writer killed mid-rotation leaves an intact database with no half rotation.
// Each test uses its own temporary directory; a second SqliteKeyStore on the same file stands in
// for another process (the CLI).

#include "kms/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace perimeter::kms {
namespace {

namespace fs = std::filesystem;

KeyRecord MakeKey(const std::string& id, int64_t created_at, const std::string& alias = "") {
  KeyRecord k;
  k.key_id = id;
  k.arn = "arn:aws:kms:eu-west-1:123456789012:key/" + id;
  k.alias = alias;
  k.description = "key " + id;
  k.tags = {{"perimeter:tenant", "acme"}, {"perimeter:purpose", "vault"}, {"empty", ""}};
  k.policy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*"}]})";
  k.state = KeyState::kEnabled;
  k.current_version = 1;
  k.created_at = created_at;
  k.rotation_period_seconds = 86400 * 365;
  k.next_rotation_at = created_at + 86400 * 365;
  k.last_rotated_at = 0;
  k.deletion_date = 0;
  k.destroyed_at = 0;
  k.backend = "local";
  return k;
}

// Wrapped material is binary: include NUL and high bytes. Deterministic in (key, version), so the
// crash test can check what a killed writer left.
std::string Material(const std::string& key_id, uint32_t version) {
  return std::string("\x00\xff\x80wrapped:", 11) + key_id + "#" + std::to_string(version);
}

KeyVersionRecord MakeVersion(const std::string& key_id, uint32_t version) {
  KeyVersionRecord v;
  v.key_id = key_id;
  v.version = version;
  v.wrapped_material = Material(key_id, version);
  v.created_at = 1700000000 + version;
  return v;
}

// The key record after rotating `key` to `version`.
KeyRecord Rotated(KeyRecord key, uint32_t version) {
  key.current_version = version;
  key.last_rotated_at = 1700000000 + version;
  key.next_rotation_at = key.last_rotated_at + key.rotation_period_seconds;
  return key;
}

TenantRecord MakeTenant(const std::string& id) {
  TenantRecord t;
  t.tenant_id = id;
  t.key_id = "key-of-" + id;
  t.role_arn = "arn:aws:iam::123456789012:role/" + id;
  t.state = TenantState::kActive;
  t.created_at = 1700000100;
  return t;
}

TenantSecretRecord MakeSecret(const std::string& tenant, const std::string& purpose) {
  TenantSecretRecord s;
  s.tenant_id = tenant;
  s.purpose = purpose;
  s.ciphertext = std::string("\x01\x00secret-ct-", 12) + tenant + "/" + purpose;
  s.created_at = 1700000200;
  return s;
}

VaultEntry MakeEntry(const std::string& tenant, const std::string& token) {
  VaultEntry e;
  e.tenant_id = tenant;
  e.token = token;
  e.entity = "EMAIL";
  e.ciphertext = std::string("\x02\x00vault-ct-", 11) + tenant + "/" + token;
  e.created_at = 1700000300;
  return e;
}

void ExpectSameKey(const KeyRecord& got, const KeyRecord& want) {
  EXPECT_EQ(got.key_id, want.key_id);
  EXPECT_EQ(got.arn, want.arn);
  EXPECT_EQ(got.alias, want.alias);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.policy, want.policy);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.current_version, want.current_version);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.rotation_period_seconds, want.rotation_period_seconds);
  EXPECT_EQ(got.next_rotation_at, want.next_rotation_at);
  EXPECT_EQ(got.last_rotated_at, want.last_rotated_at);
  EXPECT_EQ(got.deletion_date, want.deletion_date);
  EXPECT_EQ(got.destroyed_at, want.destroyed_at);
  EXPECT_EQ(got.backend, want.backend);
}

void ExpectSameVersion(const KeyVersionRecord& got, const KeyVersionRecord& want) {
  EXPECT_EQ(got.key_id, want.key_id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.wrapped_material, want.wrapped_material);
  EXPECT_EQ(got.created_at, want.created_at);
}

void ExpectSameTenant(const TenantRecord& got, const TenantRecord& want) {
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.key_id, want.key_id);
  EXPECT_EQ(got.role_arn, want.role_arn);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.deleted_at, want.deleted_at);
}

void ExpectSameEntry(const VaultEntry& got, const VaultEntry& want) {
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.token, want.token);
  EXPECT_EQ(got.entity, want.entity);
  EXPECT_EQ(got.ciphertext, want.ciphertext);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.erased_at, want.erased_at);
}

std::vector<uint32_t> VersionNumbers(const std::vector<KeyVersionRecord>& versions) {
  std::vector<uint32_t> out;
  for (const KeyVersionRecord& v : versions) {
    out.push_back(v.version);
  }
  return out;
}

class SqliteKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/sqlite_key_store_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/keys.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SqliteKeyStore> OpenStore() {
    Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Runs SQL on the database file with a plain SQLite connection, bypassing the store.
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

  // Whether `bytes` occur in the database file or its write-ahead log.
  bool OnDisk(const std::string& bytes) {
    for (const std::string& file : {path_, path_ + "-wal"}) {
      std::ifstream in(file, std::ios::binary);
      const std::string content((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      if (content.find(bytes) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  std::string dir_;
  std::string path_;
};

// ---- Files, schema, reopening ------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, CreatesTheDatabaseAndItsWalFilesWithMode0600) {
  const mode_t old = ::umask(0);  // the mode must not depend on a permissive umask
  auto store = OpenStore();
  ::umask(old);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTenant(MakeTenant("acme")).ok());
  EXPECT_EQ(Mode(path_), 0600u);
  ASSERT_TRUE(fs::exists(path_ + "-wal"));  // WAL mode is in effect
  EXPECT_EQ(Mode(path_ + "-wal"), 0600u);
  EXPECT_EQ(Mode(path_ + "-shm"), 0600u);
}

TEST_F(SqliteKeyStoreTest, RefusesAnExistingFileAccessibleByGroupOrOthers) {
  { std::ofstream touch(path_); }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("chmod 600 " + path_), std::string::npos)
      << store.status().message();
  EXPECT_EQ(Mode(path_), 0644u);  // reported, not silently changed
}

TEST_F(SqliteKeyStoreTest, RefusesAMissingDirectory) {
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(dir_ + "/no/such/keys.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteKeyStoreTest, RefusesAFileThatIsNotADatabase) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(4096, 'x');
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteKeyStoreTest, RefusesASqliteDatabaseThatIsNotAKeyStore) {
  RawExec("CREATE TABLE something_else (x INTEGER)");
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a perimeter key store"), std::string::npos)
      << store.status().message();
}

TEST_F(SqliteKeyStoreTest, RefusesAnotherPerimeterStoreThatAlsoHasASchemaVersionTable) {
  // The shape of the identity store: a schema_version table at version 1, but no KMS tables.
  RawExec(
      "CREATE TABLE schema_version (version INTEGER NOT NULL);"
      "INSERT INTO schema_version VALUES (1);"
      "CREATE TABLE principals (arn TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;");
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a perimeter key store"), std::string::npos)
      << store.status().message();
}

TEST_F(SqliteKeyStoreTest, RefusesADatabaseWrittenByANewerSchemaVersion) {
  { ASSERT_NE(OpenStore(), nullptr); }
  RawExec("UPDATE schema_version SET version = " + std::to_string(kKeyStoreSchemaVersion + 1));
  Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(
      store.status().message().find("schema version " + std::to_string(kKeyStoreSchemaVersion + 1)),
      std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);
}

TEST_F(SqliteKeyStoreTest, RecordsTheCurrentSchemaVersionOnCreation) {
  { ASSERT_NE(OpenStore(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kKeyStoreSchemaVersion);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);  // exactly one row
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteKeyStoreTest, ReopeningKeepsEveryRecord) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateKey(MakeKey("k1", 10, "alias/one"), MakeVersion("k1", 1)).ok());
    ASSERT_TRUE(store->CreateTenant(MakeTenant("acme")).ok());
    ASSERT_TRUE(store->PutTenantSecret(MakeSecret("acme", "redaction-token-key")).ok());
    ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_1]")).ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, MakeKey("k1", 10, "alias/one"));
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  ExpectSameVersion(versions->front(), MakeVersion("k1", 1));
  Result<std::optional<TenantRecord>> tenant = store->GetTenant("acme");
  ASSERT_TRUE(tenant.ok() && tenant->has_value());
  ExpectSameTenant(**tenant, MakeTenant("acme"));
  Result<std::optional<TenantSecretRecord>> secret =
      store->GetTenantSecret("acme", "redaction-token-key");
  ASSERT_TRUE(secret.ok() && secret->has_value());
  EXPECT_EQ((*secret)->ciphertext, MakeSecret("acme", "redaction-token-key").ciphertext);
  Result<std::optional<VaultEntry>> entry = store->GetVaultEntry("acme", "[EMAIL_1]");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  ExpectSameEntry(**entry, MakeEntry("acme", "[EMAIL_1]"));
}

// ---- Keys --------------------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, KeysRoundTripEveryField) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  KeyRecord key = MakeKey("1234abcd-12ab-34cd-56ef-1234567890ab", 1700000000, "alias/payments");
  key.state = KeyState::kPendingDeletion;
  key.deletion_date = 1800000000;
  key.last_rotated_at = 1750000000;
  key.backend = "aws-kms";
  key.tags["unicode"] = "caf\xc3\xa9 \xe2\x9c\x93";
  ASSERT_TRUE(store->CreateKey(key, MakeVersion(key.key_id, 1)).ok());

  Result<std::optional<KeyRecord>> by_id = store->GetKey(key.key_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  ASSERT_TRUE(by_id->has_value());
  ExpectSameKey(**by_id, key);
  Result<std::optional<KeyRecord>> by_alias = store->GetKeyByAlias("alias/payments");
  ASSERT_TRUE(by_alias.ok() && by_alias->has_value());
  ExpectSameKey(**by_alias, key);
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions(key.key_id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  ExpectSameVersion(versions->front(), MakeVersion(key.key_id, 1));
}

TEST_F(SqliteKeyStoreTest, EveryKeyStateRoundTrips) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const KeyState states[] = {KeyState::kEnabled, KeyState::kDisabled, KeyState::kPendingDeletion,
                             KeyState::kDestroyed};
  int i = 0;
  for (KeyState state : states) {
    KeyRecord key = MakeKey("k" + std::to_string(i++), 1);
    key.state = state;
    ASSERT_TRUE(store->CreateKey(key, MakeVersion(key.key_id, 1)).ok());
    Result<std::optional<KeyRecord>> got = store->GetKey(key.key_id);
    ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
    EXPECT_EQ((*got)->state, state);
  }
}

TEST_F(SqliteKeyStoreTest, UnknownKeysAndAliasesAreEmpty) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());  // no alias
  Result<std::optional<KeyRecord>> key = store->GetKey("nope");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  Result<std::optional<KeyRecord>> alias = store->GetKeyByAlias("alias/nope");
  ASSERT_TRUE(alias.ok());
  EXPECT_FALSE(alias->has_value());
  // Empty means "no alias": it names no key, even though k1's alias is empty.
  Result<std::optional<KeyRecord>> empty = store->GetKeyByAlias("");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("nope");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
}

TEST_F(SqliteKeyStoreTest, CreatingAnExistingKeyIdFailsAndKeepsTheOriginalAndItsVersion) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1, "alias/a"), MakeVersion("k1", 1)).ok());
  KeyRecord again = MakeKey("k1", 2, "alias/b");
  KeyVersionRecord other_version = MakeVersion("k1", 1);
  other_version.wrapped_material = "different material";
  Status st = store->CreateKey(again, other_version);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, MakeKey("k1", 1, "alias/a"));
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(versions->front().wrapped_material, Material("k1", 1));
  Result<std::optional<KeyRecord>> b = store->GetKeyByAlias("alias/b");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
}

TEST_F(SqliteKeyStoreTest, CreatingAKeyWithATakenAliasFailsAndWritesNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1, "alias/shared"), MakeVersion("k1", 1)).ok());
  Status st = store->CreateKey(MakeKey("k2", 2, "alias/shared"), MakeVersion("k2", 1));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_NE(st.message().find("alias/shared"), std::string::npos) << st.message();
  Result<std::optional<KeyRecord>> k2 = store->GetKey("k2");
  ASSERT_TRUE(k2.ok());
  EXPECT_FALSE(k2->has_value());
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k2");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  Result<std::optional<KeyRecord>> owner = store->GetKeyByAlias("alias/shared");
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_EQ((*owner)->key_id, "k1");
}

TEST_F(SqliteKeyStoreTest, ManyKeysMayHaveNoAlias) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "k" + std::to_string(i);
    Status st = store->CreateKey(MakeKey(id, i), MakeVersion(id, 1));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Result<std::vector<KeyRecord>> keys = store->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 3u);
}

TEST_F(SqliteKeyStoreTest, ACreateWhoseVersionCannotBeWrittenLeavesNoKey) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
  }
  // An orphan version row (possible only by editing the file: a plain connection does not
  // enforce foreign keys) makes the second insert of CreateKey fail after the first succeeded.
  RawExec("INSERT INTO key_versions VALUES ('orphan', 1, x'00', 1)");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Status st = store->CreateKey(MakeKey("orphan", 1, "alias/orphan"), MakeVersion("orphan", 1));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  Result<std::optional<KeyRecord>> key = store->GetKey("orphan");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value()) << "the key row was not rolled back";
  Result<std::optional<KeyRecord>> alias = store->GetKeyByAlias("alias/orphan");
  ASSERT_TRUE(alias.ok());
  EXPECT_FALSE(alias->has_value());
}

TEST_F(SqliteKeyStoreTest, ListsKeysByCreationTimeThenId) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("b", 300), MakeVersion("b", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("z", 100), MakeVersion("z", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("a", 300), MakeVersion("a", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("m", 200), MakeVersion("m", 1)).ok());
  Result<std::vector<KeyRecord>> keys = store->ListKeys();
  ASSERT_TRUE(keys.ok());
  std::vector<std::string> ids;
  for (const KeyRecord& k : *keys) {
    ids.push_back(k.key_id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"z", "m", "a", "b"}));
  ExpectSameKey(keys->front(), MakeKey("z", 100));
}

TEST_F(SqliteKeyStoreTest, UpdateKeyReplacesTheMetadata) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1, "alias/old"), MakeVersion("k1", 1)).ok());
  KeyRecord updated = MakeKey("k1", 1, "alias/new");
  updated.description = "new description";
  updated.tags = {{"perimeter:environment", "prod"}};
  updated.policy = R"({"Statement":[]})";
  updated.state = KeyState::kDisabled;
  updated.rotation_period_seconds = 0;
  updated.next_rotation_at = 0;
  ASSERT_TRUE(store->UpdateKey(updated).ok());
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, updated);
  Result<std::optional<KeyRecord>> old_alias = store->GetKeyByAlias("alias/old");
  ASSERT_TRUE(old_alias.ok());
  EXPECT_FALSE(old_alias->has_value());
  Result<std::optional<KeyRecord>> new_alias = store->GetKeyByAlias("alias/new");
  ASSERT_TRUE(new_alias.ok() && new_alias->has_value());
  // The versions are untouched.
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(VersionNumbers(*versions), (std::vector<uint32_t>{1}));
}

TEST_F(SqliteKeyStoreTest, UpdatingAnUnknownKeyIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Status st = store->UpdateKey(MakeKey("ghost", 1));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  Result<std::vector<KeyRecord>> keys = store->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_F(SqliteKeyStoreTest, UpdatingAKeyToAnotherKeysAliasFailsAndKeepsBoth) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1, "alias/one"), MakeVersion("k1", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k2", 2, "alias/two"), MakeVersion("k2", 1)).ok());
  KeyRecord steal = MakeKey("k2", 2, "alias/one");
  steal.description = "changed";
  Status st = store->UpdateKey(steal);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  Result<std::optional<KeyRecord>> k2 = store->GetKey("k2");
  ASSERT_TRUE(k2.ok() && k2->has_value());
  ExpectSameKey(**k2, MakeKey("k2", 2, "alias/two"));
  Result<std::optional<KeyRecord>> one = store->GetKeyByAlias("alias/one");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->key_id, "k1");
  // Keeping its own alias is not a conflict.
  KeyRecord same_alias = MakeKey("k2", 2, "alias/two");
  same_alias.description = "changed";
  EXPECT_TRUE(store->UpdateKey(same_alias).ok());
}

// ---- Versions and rotation ---------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, AddVersionWritesTheKeyAndTheVersionAndListsVersionsInOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k2", 1), MakeVersion("k2", 1)).ok());
  // Past 9, so an ordering by text (1, 10, 11, 2, ...) would show.
  for (uint32_t v = 2; v <= 12; ++v) {
    Status st = store->AddVersion(Rotated(MakeKey("k1", 1), v), MakeVersion("k1", v));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, Rotated(MakeKey("k1", 1), 12));
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(VersionNumbers(*versions),
            (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  for (const KeyVersionRecord& v : *versions) {
    ExpectSameVersion(v, MakeVersion("k1", v.version));
  }
  // Only k1's.
  Result<std::vector<KeyVersionRecord>> k2 = store->ListVersions("k2");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(VersionNumbers(*k2), (std::vector<uint32_t>{1}));
}

TEST_F(SqliteKeyStoreTest, AddingAnExistingVersionFailsAndLeavesTheKeyUnchanged) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  ASSERT_TRUE(store->AddVersion(Rotated(MakeKey("k1", 1), 2), MakeVersion("k1", 2)).ok());
  // A second writer rotating from the same stale record: its key update must not survive.
  KeyRecord stale = Rotated(MakeKey("k1", 1), 2);
  stale.description = "written by the loser";
  KeyVersionRecord loser = MakeVersion("k1", 2);
  loser.wrapped_material = "the loser's material";
  Status st = store->AddVersion(stale, loser);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, Rotated(MakeKey("k1", 1), 2));
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->back().wrapped_material, Material("k1", 2));
}

TEST_F(SqliteKeyStoreTest, AddingAVersionToAnUnknownKeyIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Status st = store->AddVersion(Rotated(MakeKey("ghost", 1), 2), MakeVersion("ghost", 2));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("ghost");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
}

TEST_F(SqliteKeyStoreTest, RefusesAVersionThatDoesNotBelongToTheKeyRecord) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  // Another key's version.
  EXPECT_EQ(store->CreateKey(MakeKey("k1", 1), MakeVersion("k2", 1)).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k2", 1), MakeVersion("k2", 1)).ok());
  EXPECT_EQ(store->AddVersion(Rotated(MakeKey("k1", 1), 2), MakeVersion("k2", 2)).code(),
            StatusCode::kInvalidArgument);
  // A record whose current_version is not the version being added.
  EXPECT_EQ(store->AddVersion(Rotated(MakeKey("k1", 1), 3), MakeVersion("k1", 2)).code(),
            StatusCode::kInvalidArgument);
  Result<std::vector<KeyVersionRecord>> k1 = store->ListVersions("k1");
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(VersionNumbers(*k1), (std::vector<uint32_t>{1}));
  Result<std::vector<KeyVersionRecord>> k2 = store->ListVersions("k2");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(VersionNumbers(*k2), (std::vector<uint32_t>{1}));
}

// ---- Destruction -------------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, DestroyKeyKeepsTheTombstoneAndDeletesEveryVersion) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1, "alias/doomed"), MakeVersion("k1", 1)).ok());
  ASSERT_TRUE(
      store->AddVersion(Rotated(MakeKey("k1", 1, "alias/doomed"), 2), MakeVersion("k1", 2)).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k2", 2), MakeVersion("k2", 1)).ok());

  KeyRecord tombstone = Rotated(MakeKey("k1", 1, "alias/doomed"), 2);
  tombstone.state = KeyState::kDestroyed;
  tombstone.destroyed_at = 1800000000;
  Status st = store->DestroyKey(tombstone);
  ASSERT_TRUE(st.ok()) << st.ToString();

  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, tombstone);
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  // Another key's versions stay.
  Result<std::vector<KeyVersionRecord>> k2 = store->ListVersions("k2");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(VersionNumbers(*k2), (std::vector<uint32_t>{1}));
  // Reopening shows the same.
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
}

TEST_F(SqliteKeyStoreTest, DestroyedMaterialIsGoneFromTheDatabaseFileAndTheLog) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  KeyVersionRecord v1 = MakeVersion("k1", 1);
  v1.wrapped_material = "MATERIAL-ONE-" + std::string(48, 'Q');
  KeyVersionRecord v2 = MakeVersion("k1", 2);
  v2.wrapped_material = "MATERIAL-TWO-" + std::string(48, 'R');
  KeyVersionRecord kept = MakeVersion("k2", 1);
  kept.wrapped_material = "MATERIAL-KEPT-" + std::string(48, 'S');
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), v1).ok());
  ASSERT_TRUE(store->AddVersion(Rotated(MakeKey("k1", 1), 2), v2).ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k2", 1), kept).ok());
  ASSERT_TRUE(OnDisk(v1.wrapped_material));  // the scan finds what is there
  ASSERT_TRUE(OnDisk(v2.wrapped_material));

  KeyRecord tombstone = Rotated(MakeKey("k1", 1), 2);
  tombstone.state = KeyState::kDestroyed;
  tombstone.destroyed_at = 5;
  ASSERT_TRUE(store->DestroyKey(tombstone).ok());
  EXPECT_FALSE(OnDisk(v1.wrapped_material));
  EXPECT_FALSE(OnDisk(v2.wrapped_material));
  EXPECT_TRUE(OnDisk(kept.wrapped_material));
}

TEST_F(SqliteKeyStoreTest, DestroyingAnUnknownKeyIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  KeyRecord tombstone = MakeKey("ghost", 1);
  tombstone.state = KeyState::kDestroyed;
  Status st = store->DestroyKey(tombstone);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  Result<std::optional<KeyRecord>> key = store->GetKey("ghost");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
}

TEST_F(SqliteKeyStoreTest, DestroyKeyRefusesATombstoneThatIsNotDestroyed) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  KeyRecord not_a_tombstone = MakeKey("k1", 1);
  not_a_tombstone.state = KeyState::kPendingDeletion;
  EXPECT_EQ(store->DestroyKey(not_a_tombstone).code(), StatusCode::kInvalidArgument);
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);
}

// ---- Tenants -----------------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, TenantsRoundTripAndListById) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  TenantRecord deleted = MakeTenant("zeta");
  deleted.state = TenantState::kDeleted;
  deleted.deleted_at = 1700009999;
  ASSERT_TRUE(store->CreateTenant(deleted).ok());
  ASSERT_TRUE(store->CreateTenant(MakeTenant("acme")).ok());
  ASSERT_TRUE(store->CreateTenant(MakeTenant("globex")).ok());

  Result<std::optional<TenantRecord>> got = store->GetTenant("zeta");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameTenant(**got, deleted);
  Result<std::optional<TenantRecord>> none = store->GetTenant("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  Result<std::vector<TenantRecord>> all = store->ListTenants();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].tenant_id, "acme");
  EXPECT_EQ((*all)[1].tenant_id, "globex");
  EXPECT_EQ((*all)[2].tenant_id, "zeta");
  ExpectSameTenant((*all)[0], MakeTenant("acme"));
}

TEST_F(SqliteKeyStoreTest, CreatingAnExistingTenantFailsAndKeepsTheOriginal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTenant(MakeTenant("acme")).ok());
  TenantRecord again = MakeTenant("acme");
  again.key_id = "another-key";
  EXPECT_EQ(store->CreateTenant(again).code(), StatusCode::kAlreadyExists);
  Result<std::optional<TenantRecord>> got = store->GetTenant("acme");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameTenant(**got, MakeTenant("acme"));
}

TEST_F(SqliteKeyStoreTest, UpdateTenantReplacesTheRecordAndUnknownIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTenant(MakeTenant("acme")).ok());
  TenantRecord updated = MakeTenant("acme");
  updated.key_id = "new-key";
  updated.role_arn = "arn:aws:iam::123456789012:role/other";
  updated.state = TenantState::kDeleted;
  updated.deleted_at = 1700050000;
  ASSERT_TRUE(store->UpdateTenant(updated).ok());
  Result<std::optional<TenantRecord>> got = store->GetTenant("acme");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameTenant(**got, updated);

  Status st = store->UpdateTenant(MakeTenant("ghost"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  Result<std::optional<TenantRecord>> ghost = store->GetTenant("ghost");
  ASSERT_TRUE(ghost.ok());
  EXPECT_FALSE(ghost->has_value());
}

// ---- Tenant secrets ----------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, TenantSecretsAreWrittenOnce) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutTenantSecret(MakeSecret("acme", "redaction-token-key")).ok());
  // The same purpose for another tenant, and another purpose for the same tenant, are distinct.
  ASSERT_TRUE(store->PutTenantSecret(MakeSecret("globex", "redaction-token-key")).ok());
  ASSERT_TRUE(store->PutTenantSecret(MakeSecret("acme", "other-purpose")).ok());

  TenantSecretRecord racer = MakeSecret("acme", "redaction-token-key");
  racer.ciphertext = "the second writer's secret";
  EXPECT_EQ(store->PutTenantSecret(racer).code(), StatusCode::kAlreadyExists);

  Result<std::optional<TenantSecretRecord>> got =
      store->GetTenantSecret("acme", "redaction-token-key");
  ASSERT_TRUE(got.ok() && got->has_value());
  const TenantSecretRecord want = MakeSecret("acme", "redaction-token-key");
  EXPECT_EQ((*got)->tenant_id, want.tenant_id);
  EXPECT_EQ((*got)->purpose, want.purpose);
  EXPECT_EQ((*got)->ciphertext, want.ciphertext);  // the first one
  EXPECT_EQ((*got)->created_at, want.created_at);
  Result<std::optional<TenantSecretRecord>> other = store->GetTenantSecret("globex", "nope");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

// ---- Vault -------------------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, VaultEntriesRoundTripAndListPerTenantByToken) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_c]")).ok());
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_a]")).ok());
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("globex", "[EMAIL_b]")).ok());
  VaultEntry phone = MakeEntry("acme", "[PHONE_b]");
  phone.entity = "PHONE";
  ASSERT_TRUE(store->PutVaultEntry(phone).ok());

  Result<std::optional<VaultEntry>> got = store->GetVaultEntry("acme", "[PHONE_b]");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameEntry(**got, phone);
  // Tokens are per tenant.
  Result<std::optional<VaultEntry>> cross = store->GetVaultEntry("globex", "[EMAIL_a]");
  ASSERT_TRUE(cross.ok());
  EXPECT_FALSE(cross->has_value());

  Result<std::vector<VaultEntry>> acme = store->ListVaultEntries("acme");
  ASSERT_TRUE(acme.ok());
  std::vector<std::string> tokens;
  for (const VaultEntry& e : *acme) {
    tokens.push_back(e.token);
  }
  EXPECT_EQ(tokens, (std::vector<std::string>{"[EMAIL_a]", "[EMAIL_c]", "[PHONE_b]"}));
  Result<std::vector<VaultEntry>> none = store->ListVaultEntries("initech");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteKeyStoreTest, PuttingAnExistingVaultTokenFailsAndKeepsTheOriginal) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_1]")).ok());
  VaultEntry again = MakeEntry("acme", "[EMAIL_1]");
  again.ciphertext = "another value";
  EXPECT_EQ(store->PutVaultEntry(again).code(), StatusCode::kAlreadyExists);
  Result<std::optional<VaultEntry>> got = store->GetVaultEntry("acme", "[EMAIL_1]");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameEntry(**got, MakeEntry("acme", "[EMAIL_1]"));
  // The same token under another tenant is another entry.
  EXPECT_TRUE(store->PutVaultEntry(MakeEntry("globex", "[EMAIL_1]")).ok());
}

TEST_F(SqliteKeyStoreTest, ErasingClearsTheValueKeepsTheTokenAndKeepsTheFirstTime) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_1]")).ok());
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_2]")).ok());
  ASSERT_TRUE(store->EraseVaultEntry("acme", "[EMAIL_1]", 1700001000).ok());

  VaultEntry want = MakeEntry("acme", "[EMAIL_1]");
  want.ciphertext.clear();
  want.erased_at = 1700001000;
  Result<std::optional<VaultEntry>> got = store->GetVaultEntry("acme", "[EMAIL_1]");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameEntry(**got, want);

  ASSERT_TRUE(store->EraseVaultEntry("acme", "[EMAIL_1]", 1700002000).ok());
  got = store->GetVaultEntry("acme", "[EMAIL_1]");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->erased_at, 1700001000);

  // The other entry is untouched.
  Result<std::optional<VaultEntry>> other = store->GetVaultEntry("acme", "[EMAIL_2]");
  ASSERT_TRUE(other.ok() && other->has_value());
  ExpectSameEntry(**other, MakeEntry("acme", "[EMAIL_2]"));
}

TEST_F(SqliteKeyStoreTest, ErasingAnUnknownEntryIsNotFoundAndANonPositiveTimeIsRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_1]")).ok());
  EXPECT_EQ(store->EraseVaultEntry("acme", "[EMAIL_9]", 5).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->EraseVaultEntry("globex", "[EMAIL_1]", 5).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->EraseVaultEntry("acme", "[EMAIL_1]", 0).code(), StatusCode::kInvalidArgument);
  Result<std::optional<VaultEntry>> got = store->GetVaultEntry("acme", "[EMAIL_1]");
  ASSERT_TRUE(got.ok() && got->has_value());
  ExpectSameEntry(**got, MakeEntry("acme", "[EMAIL_1]"));
}

TEST_F(SqliteKeyStoreTest, ErasedValuesAreGoneFromTheDatabaseFileAndTheLog) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  VaultEntry erased = MakeEntry("acme", "[EMAIL_1]");
  erased.ciphertext = "VAULT-ERASED-" + std::string(64, 'E');
  VaultEntry kept = MakeEntry("acme", "[EMAIL_2]");
  kept.ciphertext = "VAULT-KEPT-" + std::string(64, 'K');
  ASSERT_TRUE(store->PutVaultEntry(erased).ok());
  ASSERT_TRUE(store->PutVaultEntry(kept).ok());
  ASSERT_TRUE(OnDisk(erased.ciphertext));
  ASSERT_TRUE(store->EraseVaultEntry("acme", "[EMAIL_1]", 9).ok());
  EXPECT_FALSE(OnDisk(erased.ciphertext));
  EXPECT_TRUE(OnDisk(kept.ciphertext));
}

// ---- Bounds ------------------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, AnOversizedPolicyIsRefusedAndNothingIsWritten) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<uint64_t> before = store->ChangeCounter();
  ASSERT_TRUE(before.ok());

  KeyRecord big = MakeKey("k1", 1);
  big.policy = std::string(kMaxKeyPolicyBytes + 1, 'p');
  EXPECT_EQ(store->CreateKey(big, MakeVersion("k1", 1)).code(), StatusCode::kInvalidArgument);
  Result<std::optional<KeyRecord>> key = store->GetKey("k1");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  Result<std::vector<KeyVersionRecord>> versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  EXPECT_EQ(*store->ChangeCounter(), *before);

  // At the limit it is accepted; over it, an update and a rotation are refused and change nothing.
  KeyRecord at_limit = MakeKey("k1", 1);
  at_limit.policy = std::string(kMaxKeyPolicyBytes, 'p');
  ASSERT_TRUE(store->CreateKey(at_limit, MakeVersion("k1", 1)).ok());
  EXPECT_EQ(store->UpdateKey(big).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddVersion(Rotated(big, 2), MakeVersion("k1", 2)).code(),
            StatusCode::kInvalidArgument);
  key = store->GetKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  ExpectSameKey(**key, at_limit);
  versions = store->ListVersions("k1");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(VersionNumbers(*versions), (std::vector<uint32_t>{1}));
}

TEST_F(SqliteKeyStoreTest, OtherRecordsOverTheBoundsAreRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  KeyVersionRecord big_material = MakeVersion("k1", 1);
  big_material.wrapped_material = std::string(kMaxWrappedMaterialBytes + 1, 'm');
  EXPECT_EQ(store->CreateKey(MakeKey("k1", 1), big_material).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->CreateTenant(MakeTenant(std::string(kMaxTenantIdBytes + 1, 't'))).code(),
            StatusCode::kInvalidArgument);
  VaultEntry big_value = MakeEntry("acme", "[EMAIL_1]");
  big_value.ciphertext = std::string(kMaxStoredCiphertextBytes + 1, 'v');
  EXPECT_EQ(store->PutVaultEntry(big_value).code(), StatusCode::kInvalidArgument);
  VaultEntry big_token = MakeEntry("acme", std::string(kMaxTokenBytes + 1, 'x'));
  EXPECT_EQ(store->PutVaultEntry(big_token).code(), StatusCode::kInvalidArgument);

  Result<std::vector<KeyRecord>> keys = store->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
  Result<std::vector<TenantRecord>> tenants = store->ListTenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_TRUE(tenants->empty());
  Result<std::vector<VaultEntry>> vault = store->ListVaultEntries("acme");
  ASSERT_TRUE(vault.ok());
  EXPECT_TRUE(vault->empty());
}

// ---- Change counter ----------------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, ChangeCounterIsStableWithoutWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  Result<uint64_t> first = store->ChangeCounter();
  ASSERT_TRUE(first.ok());
  // Reads, from this connection and from another one, are not changes; nor are failed writes.
  ASSERT_TRUE(store->ListKeys().ok());
  ASSERT_TRUE(store->GetKey("k1").ok());
  EXPECT_EQ(store->UpdateKey(MakeKey("ghost", 1)).code(), StatusCode::kNotFound);
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->ListVersions("k1").ok());
  EXPECT_EQ(other->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).code(),
            StatusCode::kAlreadyExists);
  Result<uint64_t> second = store->ChangeCounter();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(*store->ChangeCounter(), *first);
}

TEST_F(SqliteKeyStoreTest, ChangeCounterChangesAfterOwnWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<uint64_t> before = store->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(store->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  Result<uint64_t> after = store->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[EMAIL_1]")).ok());
  Result<uint64_t> after_second = store->ChangeCounter();
  ASSERT_TRUE(after_second.ok());
  EXPECT_NE(*after_second, *after);
}

TEST_F(SqliteKeyStoreTest, ChangeCounterChangesAfterAnotherConnectionCommits) {
  auto gateway = OpenStore();
  ASSERT_NE(gateway, nullptr);
  auto cli = OpenStore();  // stands in for the CLI process
  ASSERT_NE(cli, nullptr);

  Result<uint64_t> before = gateway->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(cli->CreateKey(MakeKey("k1", 1), MakeVersion("k1", 1)).ok());
  Result<uint64_t> after_create = gateway->ChangeCounter();
  ASSERT_TRUE(after_create.ok());
  EXPECT_NE(*after_create, *before);
  Result<std::optional<KeyRecord>> seen = gateway->GetKey("k1");
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->has_value());

  EXPECT_EQ(*gateway->ChangeCounter(), *after_create);  // nothing new yet
  ASSERT_TRUE(cli->AddVersion(Rotated(MakeKey("k1", 1), 2), MakeVersion("k1", 2)).ok());
  Result<uint64_t> after_rotate = gateway->ChangeCounter();
  ASSERT_TRUE(after_rotate.ok());
  EXPECT_NE(*after_rotate, *after_create);
  EXPECT_EQ(*gateway->ChangeCounter(), *after_rotate);
}

// ---- Concurrency and crashes -------------------------------------------------------------------

TEST_F(SqliteKeyStoreTest, ConcurrentRotationsOnTwoConnectionsAllSucceed) {
  auto first = OpenStore();
  auto second = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 4;
  constexpr uint32_t kRotations = 15;
  for (int t = 0; t < kThreads; ++t) {
    const std::string id = "k" + std::to_string(t);
    ASSERT_TRUE(first->CreateKey(MakeKey(id, t), MakeVersion(id, 1)).ok());
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SqliteKeyStore* store = (t % 2 == 0) ? first.get() : second.get();
      const std::string id = "k" + std::to_string(t);
      for (uint32_t v = 2; v <= kRotations + 1; ++v) {
        if (!store->AddVersion(Rotated(MakeKey(id, t), v), MakeVersion(id, v)).ok()) {
          ++failures[t];
        }
        if (!store->PutVaultEntry(MakeEntry("acme", id + "/" + std::to_string(v))).ok()) {
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
    Result<std::vector<KeyVersionRecord>> versions = first->ListVersions("k" + std::to_string(t));
    ASSERT_TRUE(versions.ok());
    EXPECT_EQ(versions->size(), kRotations + 1);
  }
  Result<std::vector<VaultEntry>> vault = second->ListVaultEntries("acme");
  ASSERT_TRUE(vault.ok());
  EXPECT_EQ(vault->size(), static_cast<size_t>(kThreads * kRotations));
}

constexpr int kCrashKeys = 3;
constexpr int kCrashRounds = 3;

// The child of the crash test: rotates the keys round-robin and adds a vault entry after each
// rotation, as fast as it can, until killed. Writes one byte to `ready_fd` after its first
// commits. Never returns.
[[noreturn]] void RotateUntilKilled(const std::string& path, int round, int ready_fd) {
  Result<std::unique_ptr<SqliteKeyStore>> opened = SqliteKeyStore::Open(path);
  if (!opened.ok()) {
    ::_exit(2);
  }
  SqliteKeyStore& store = **opened;
  for (int i = 0; i < 1000000; ++i) {
    const std::string id = "k" + std::to_string(i % kCrashKeys);
    Result<std::optional<KeyRecord>> key = store.GetKey(id);
    if (!key.ok() || !key->has_value()) {
      ::_exit(3);
    }
    const uint32_t next = (*key)->current_version + 1;
    if (!store.AddVersion(Rotated(**key, next), MakeVersion(id, next)).ok()) {
      ::_exit(4);
    }
    const std::string token = "[T_" + std::to_string(round) + "_" + std::to_string(i) + "]";
    if (!store.PutVaultEntry(MakeEntry("acme", token)).ok()) {
      ::_exit(5);
    }
    if (i == 0 && ::write(ready_fd, "r", 1) != 1) {
      ::_exit(6);
    }
  }
  ::_exit(0);
}

// Starts a writer process on the store, lets it commit for a while and SIGKILLs it.
void KillAWriterMidStream(const std::string& path, int round) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    RotateUntilKilled(path, round, ready[1]);
  }
  ::close(ready[1]);
  char byte = 0;
  const ssize_t n = ::read(ready[0], &byte, 1);  // the child has committed at least once
  ::close(ready[0]);
  if (n == 1) {
    // Let it run mid-stream; how long does not matter, only that the kill lands among writes.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(n, 1) << "the writer failed before its first commit (exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer stopped on its own (exit status "
      << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ") instead of being killed";
}

TEST_F(SqliteKeyStoreTest, AWriterKilledMidRotationLeavesAnIntactStoreWithoutHalfRotations) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int k = 0; k < kCrashKeys; ++k) {
      const std::string id = "k" + std::to_string(k);
      ASSERT_TRUE(store->CreateKey(MakeKey(id, k), MakeVersion(id, 1)).ok());
    }
  }  // closed before fork: the child must not share a connection with this process

  // Several kills, each landing at another point of the write stream, and each followed by a
  // recovery: a kill between the two halves of a non-atomic rotation would show in any round.
  for (int round = 0; round < kCrashRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    KillAWriterMidStream(path_, round);
    if (HasFatalFailure()) {
      return;
    }

    {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
      ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), "ok");
      sqlite3_finalize(stmt);
      sqlite3_close(db);
    }

    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    Result<std::vector<KeyRecord>> keys = store->ListKeys();
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->size(), static_cast<size_t>(kCrashKeys));
    size_t rotations = 0;
    for (const KeyRecord& key : *keys) {
      Result<std::vector<KeyVersionRecord>> versions = store->ListVersions(key.key_id);
      ASSERT_TRUE(versions.ok());
      std::vector<uint32_t> want;
      for (uint32_t v = 1; v <= key.current_version; ++v) {
        want.push_back(v);
      }
      EXPECT_EQ(VersionNumbers(*versions), want) << key.key_id;
      for (const KeyVersionRecord& v : *versions) {
        EXPECT_EQ(v.wrapped_material, Material(key.key_id, v.version));
      }
      rotations += key.current_version - 1;
    }
    EXPECT_GT(rotations, static_cast<size_t>(round));  // every round rotated at least once
    // Every vault entry that made it is whole. Each rotation is followed by one entry, so each
    // killed writer may have left at most one rotation without its entry.
    Result<std::vector<VaultEntry>> vault = store->ListVaultEntries("acme");
    ASSERT_TRUE(vault.ok());
    for (const VaultEntry& e : *vault) {
      ExpectSameEntry(e, MakeEntry("acme", e.token));
    }
    EXPECT_LE(vault->size(), rotations);
    EXPECT_GE(vault->size() + static_cast<size_t>(round) + 1, rotations)
        << vault->size() << " vault entries after " << rotations << " rotations";

    // The store keeps working.
    const KeyRecord& first = keys->front();
    EXPECT_TRUE(store
                    ->AddVersion(Rotated(first, first.current_version + 1),
                                 MakeVersion(first.key_id, first.current_version + 1))
                    .ok());
    // That rotation had no entry: the next round's bound allows for it.
    ASSERT_TRUE(store->PutVaultEntry(MakeEntry("acme", "[R_" + std::to_string(round) + "]")).ok());
  }
}

}  // namespace
}  // namespace perimeter::kms
