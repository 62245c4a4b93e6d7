// Tests for the state directory's root key file: creation, permissions, size and the
// create-create race. Each test works in its own temporary directory.

#include "crypto/root_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace perimeter::crypto {
namespace {

namespace fs = std::filesystem;

class RootKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "root_key_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    key_path_ = dir_ + "/root.key";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void WriteFile(const std::string& contents, mode_t mode) {
    {
      std::ofstream out(key_path_, std::ios::binary | std::ios::trunc);
      out << contents;
    }
    ASSERT_EQ(::chmod(key_path_.c_str(), mode), 0);
  }

  std::string ReadFile() {
    std::ifstream in(key_path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  mode_t FileMode() {
    struct stat st {};
    EXPECT_EQ(::stat(key_path_.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string dir_;
  std::string key_path_;
};

TEST_F(RootKeyTest, CreatesA32ByteKeyFileWithMode0600OnFirstUse) {
  ASSERT_FALSE(fs::exists(key_path_));
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), kRootKeyBytes);
  EXPECT_EQ(FileMode(), 0600u);
  EXPECT_EQ(ReadFile(), key->RevealSecretForUse());
  EXPECT_NE(key->RevealSecretForUse(), std::string(kRootKeyBytes, '\0'));
}

TEST_F(RootKeyTest, CreatesMode0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    SCOPED_TRACE(mask);
    fs::remove(key_path_);
    const mode_t old = ::umask(mask);
    Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
    ::umask(old);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(FileMode(), 0600u);
  }
}

TEST_F(RootKeyTest, SecondCallReturnsTheSameKey) {
  Result<SecretBytes> first = LoadOrCreateRootKey(dir_);
  ASSERT_TRUE(first.ok());
  Result<SecretBytes> second = LoadOrCreateRootKey(dir_ + "/");  // trailing slash is the same dir
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->RevealSecretForUse(), second->RevealSecretForUse());
}

TEST_F(RootKeyTest, DifferentStateDirectoriesGetDifferentKeys) {
  std::string other = dir_ + "/other";
  ASSERT_TRUE(fs::create_directory(other));
  Result<SecretBytes> a = LoadOrCreateRootKey(dir_);
  Result<SecretBytes> b = LoadOrCreateRootKey(other);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->RevealSecretForUse(), b->RevealSecretForUse());
}

TEST_F(RootKeyTest, ReadsAnExistingKeyFile) {
  const std::string existing(kRootKeyBytes, 'K');
  WriteFile(existing, 0600);
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->RevealSecretForUse(), existing);
}

TEST_F(RootKeyTest, AcceptsOwnerOnlyReadableFile) {
  WriteFile(std::string(kRootKeyBytes, 'K'), 0400);
  EXPECT_TRUE(LoadOrCreateRootKey(dir_).ok());
}

TEST_F(RootKeyTest, RefusesFileAccessibleByGroupOrOthersAndSaysHowToFixIt) {
  for (mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0620}, mode_t{0602},
                      mode_t{0660}, mode_t{0666}}) {
    SCOPED_TRACE(mode);
    WriteFile(std::string(kRootKeyBytes, 'K'), mode);
    Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(key.status().message().find("chmod 600 " + key_path_), std::string::npos)
        << key.status().message();
    // Nothing was changed: the operator fixes the mode, the key stays the same.
    EXPECT_EQ(FileMode(), mode);
    EXPECT_EQ(ReadFile(), std::string(kRootKeyBytes, 'K'));
  }
}

TEST_F(RootKeyTest, RefusesFileThatIsTooLongWithoutTouchingIt) {
  const std::string long_key(64, 'L');
  WriteFile(long_key, 0600);
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find(key_path_), std::string::npos);
  EXPECT_NE(key.status().message().find("64 bytes"), std::string::npos);
  EXPECT_EQ(ReadFile(), long_key);
}

TEST_F(RootKeyTest, RefusesShortOrEmptyFileAfterWaitingBriefly) {
  for (size_t size : {size_t{0}, size_t{31}}) {
    SCOPED_TRACE(size);
    WriteFile(std::string(size, 'S'), 0600);
    const auto start = std::chrono::steady_clock::now();
    Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(key.status().message().find(std::to_string(size) + " bytes"), std::string::npos)
        << key.status().message();
    // It waited for a possible concurrent creator, but boundedly.
    EXPECT_GE(waited, std::chrono::milliseconds(900));
    EXPECT_LT(waited, std::chrono::seconds(10));
    EXPECT_EQ(ReadFile(), std::string(size, 'S'));  // not overwritten with a new key
  }
}

TEST_F(RootKeyTest, WaitsForAConcurrentCreatorToFinishWriting) {
  // The state a reader sees between the winner's O_EXCL create and its write.
  WriteFile("", 0600);
  const std::string winner_key(kRootKeyBytes, 'W');
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ofstream out(key_path_, std::ios::binary | std::ios::trunc);
    out << winner_key;
  });
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  writer.join();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->RevealSecretForUse(), winner_key);
}

TEST_F(RootKeyTest, ConcurrentFirstUsesAllGetTheOneKeyThatWasWritten) {
  constexpr int kThreads = 8;
  std::vector<std::string> keys(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
      if (key.ok()) {
        keys[i] = std::string(key->RevealSecretForUse());
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  const std::set<std::string> distinct(keys.begin(), keys.end());
  ASSERT_EQ(distinct.size(), 1u);
  EXPECT_EQ(*distinct.begin(), ReadFile());
  EXPECT_EQ(distinct.begin()->size(), kRootKeyBytes);
}

TEST_F(RootKeyTest, RefusesADirectoryAtTheKeyPath) {
  ASSERT_TRUE(fs::create_directory(key_path_));
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("not a regular file"), std::string::npos);
}

TEST_F(RootKeyTest, RefusesAFifoAtTheKeyPathWithoutBlocking) {
  ASSERT_EQ(::mkfifo(key_path_.c_str(), 0600), 0);
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RootKeyTest, FollowsASymlinkToAValidKeyFile) {
  const std::string target = dir_ + "/mounted.key";
  {
    std::ofstream out(target, std::ios::binary);
    out << std::string(kRootKeyBytes, 'M');
  }
  ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
  ASSERT_EQ(::symlink(target.c_str(), key_path_.c_str()), 0);
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->RevealSecretForUse(), std::string(kRootKeyBytes, 'M'));
}

TEST_F(RootKeyTest, RefusesADanglingSymlinkInsteadOfCreatingThroughIt) {
  const std::string target = dir_ + "/nowhere.key";
  ASSERT_EQ(::symlink(target.c_str(), key_path_.c_str()), 0);
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("symbolic link"), std::string::npos);
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(RootKeyTest, RefusesAMissingStateDirectory) {
  Result<SecretBytes> key = LoadOrCreateRootKey(dir_ + "/missing");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("mkdir -m 700"), std::string::npos);
  EXPECT_EQ(LoadOrCreateRootKey("").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace perimeter::crypto
