// Tests for the guardrail store: create, names unique, DRAFT updates, numbered versions frozen
// at the DRAFT of their time, lookups by id and name, deletion, the change counter seen by a
// second connection (another process), and the file's permissions.

#include "guard/guardrail_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace perimeter::guard {
namespace {

namespace fs = std::filesystem;

class GuardrailStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/guardrail_store_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/guardrails.db";
    auto s = GuardrailStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string dir_, path_;
  std::unique_ptr<GuardrailStore> store_;
};

TEST_F(GuardrailStoreTest, CreatesWithABedrockStyleIdAndFindsByIdOrName) {
  auto r = store_->Create("pii-strict", R"({"name":"pii-strict"})", 100);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->id.size(), 12u);
  for (char c : r->id) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << r->id;
  EXPECT_EQ(r->latest_version, 0u);
  auto by_id = store_->Get(r->id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name, "pii-strict");
  auto by_name = store_->Get("pii-strict");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, r->id);
  EXPECT_EQ(store_->Get("nope").status().code(), StatusCode::kNotFound);
  auto other = store_->Create("other", "{}", 100);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, r->id);
}

TEST_F(GuardrailStoreTest, RefusesATakenName) {
  ASSERT_TRUE(store_->Create("dup", "{}", 1).ok());
  auto again = store_->Create("dup", "{}", 2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("dup"), std::string::npos);
}

TEST_F(GuardrailStoreTest, VersionsFreezeTheDraftOfTheirTime) {
  auto r = store_->Create("g", R"({"v":1})", 10);
  ASSERT_TRUE(r.ok());
  auto v1 = store_->CreateVersion(r->id, "first", 11);
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ(*v1, 1u);
  ASSERT_TRUE(store_->UpdateDraft(r->id, "g", R"({"v":2})", 12).ok());
  auto v2 = store_->CreateVersion(r->id, "second", 13);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  ASSERT_TRUE(store_->UpdateDraft(r->id, "g", R"({"v":3})", 14).ok());

  EXPECT_EQ(store_->GetVersion(r->id, "1")->definition_json, R"({"v":1})");
  EXPECT_EQ(store_->GetVersion(r->id, "1")->description, "first");
  EXPECT_EQ(store_->GetVersion(r->id, "2")->definition_json, R"({"v":2})");
  EXPECT_EQ(store_->GetVersion(r->id, "DRAFT")->definition_json, R"({"v":3})");
  EXPECT_EQ(store_->GetVersion("g", "2")->definition_json, R"({"v":2})");  // by name
  auto missing = store_->GetVersion(r->id, "3");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("latest: 2"), std::string::npos)
      << missing.status().message();
  EXPECT_EQ(store_->GetVersion(r->id, "01").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetVersion(r->id, "draft").status().code(), StatusCode::kInvalidArgument);
  auto versions = store_->Versions(r->id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].version, 2u);
  EXPECT_EQ(store_->Get(r->id)->latest_version, 2u);
}

TEST_F(GuardrailStoreTest, UpdateCannotTakeAnotherGuardrailsName) {
  auto a = store_->Create("a", "{}", 1);
  ASSERT_TRUE(store_->Create("b", "{}", 1).ok());
  Status s = store_->UpdateDraft(a->id, "b", "{}", 2);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store_->UpdateDraft(a->id, "a2", "{}", 2).ok());
  EXPECT_EQ(store_->Get("a2")->id, a->id);
  EXPECT_EQ(store_->UpdateDraft("unknown", "x", "{}", 2).code(), StatusCode::kNotFound);
}

TEST_F(GuardrailStoreTest, DeleteRemovesTheGuardrailAndItsVersions) {
  auto r = store_->Create("gone", "{}", 1);
  ASSERT_TRUE(store_->CreateVersion(r->id, "", 2).ok());
  ASSERT_TRUE(store_->Delete("gone").ok());
  EXPECT_EQ(store_->Get(r->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetVersion(r->id, "1").status().code(), StatusCode::kNotFound);
  auto versions = store_->Versions(r->id);
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  EXPECT_EQ(store_->Delete("gone").code(), StatusCode::kNotFound);
}

TEST_F(GuardrailStoreTest, AnotherConnectionSeesCommitsThroughTheChangeCounter) {
  auto other = GuardrailStore::Open(path_);
  ASSERT_TRUE(other.ok());
  auto before = (*other)->ChangeCounter();
  ASSERT_TRUE(before.ok());
  auto same = (*other)->ChangeCounter();
  EXPECT_EQ(*same, *before);
  auto r = store_->Create("seen", "{}", 1);
  ASSERT_TRUE(r.ok());
  auto after = (*other)->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  EXPECT_EQ((*other)->Get("seen")->id, r->id);
}

TEST_F(GuardrailStoreTest, TheFileIsPrivate) {
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(GuardrailVersionTest, AcceptsDraftAndPlainNumbersOnly) {
  EXPECT_TRUE(IsGuardrailVersion("DRAFT"));
  EXPECT_TRUE(IsGuardrailVersion("1"));
  EXPECT_TRUE(IsGuardrailVersion("99999999"));
  EXPECT_FALSE(IsGuardrailVersion("0"));
  EXPECT_FALSE(IsGuardrailVersion("01"));
  EXPECT_FALSE(IsGuardrailVersion("123456789"));
  EXPECT_FALSE(IsGuardrailVersion(""));
  EXPECT_FALSE(IsGuardrailVersion("1a"));
  EXPECT_FALSE(IsGuardrailVersion("Draft"));
}

}  // namespace
}  // namespace perimeter::guard
