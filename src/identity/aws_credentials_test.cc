#include "identity/aws_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace perimeter::identity {
namespace {

namespace fs = std::filesystem;

constexpr char kEnvSecret[] = "envSECRETenvSECRETenvSECRETenvSECRET0000";
constexpr char kFileSecret[] = "fileSECRETfileSECRETfileSECRETfileSECRET";

class AwsCredentialsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::path(testing::TempDir()) / "perimeter_creds_XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    env_["HOME"] = dir_.string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  EnvReader Env() const {
    return [vars = env_](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }

  // Writes $HOME/.aws/credentials.
  fs::path WriteHomeCredentials(const std::string& contents) {
    return WriteFile(dir_ / ".aws" / "credentials", contents);
  }

  fs::path WriteFile(const fs::path& path, const std::string& contents) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static std::string Secret(const AwsCredentials& c) {
    return std::string(c.secret_access_key.RevealSecretForUse());
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

const std::string kDefaultFile =
    "[default]\n"
    "aws_access_key_id = AKIDFILE\n"
    "aws_secret_access_key = " +
    std::string(kFileSecret) + "\n";

// --- Environment ---------------------------------------------------------------------------------

TEST_F(AwsCredentialsTest, EnvironmentKeysWinOverTheFile) {
  WriteHomeCredentials(kDefaultFile);
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  env_["AWS_SESSION_TOKEN"] = "envtoken";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(Secret(*c), kEnvSecret);
  EXPECT_EQ(c->session_token, "envtoken");
}

TEST_F(AwsCredentialsTest, EnvironmentWithoutTokenHasEmptyToken) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->session_token, "");
}

TEST_F(AwsCredentialsTest, EmptyEnvironmentValuesCountAsUnset) {
  WriteHomeCredentials(kDefaultFile);
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  env_["AWS_PROFILE"] = "";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDFILE");
}

TEST_F(AwsCredentialsTest, AccessKeyWithoutSecretIsAnErrorNotAFallThrough) {
  WriteHomeCredentials(kDefaultFile);
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
}

TEST_F(AwsCredentialsTest, SecretWithoutAccessKeyIsAnErrorThatHidesTheSecret) {
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID is not"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kEnvSecret), std::string::npos);
}

TEST_F(AwsCredentialsTest, ExplicitProfileArgumentIgnoresEnvironmentKeys) {
  WriteHomeCredentials(kDefaultFile +
                       "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = w\n");
  env_["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env_["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  env_["AWS_PROFILE"] = "default";
  Result<AwsCredentials> c = ResolveAwsCredentials("work", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDWORK");
  EXPECT_EQ(Secret(*c), "w");
}

TEST(ProcessEnvReaderTest, ReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("PERIMETER_SIGV4_TEST_VAR", "value-1", 1), 0);
  EXPECT_EQ(ProcessEnvReader()("PERIMETER_SIGV4_TEST_VAR"), "value-1");
  unsetenv("PERIMETER_SIGV4_TEST_VAR");
  EXPECT_EQ(ProcessEnvReader()("PERIMETER_SIGV4_TEST_VAR"), std::nullopt);
}

// --- Shared credentials file ---------------------------------------------------------------------

TEST_F(AwsCredentialsTest, ReadsDefaultProfileFromHome) {
  WriteHomeCredentials(kDefaultFile);
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDFILE");
  EXPECT_EQ(Secret(*c), kFileSecret);
  EXPECT_EQ(c->session_token, "");
}

TEST_F(AwsCredentialsTest, SharedCredentialsFileVariableOverridesHome) {
  WriteHomeCredentials(kDefaultFile);
  const fs::path other =
      WriteFile(dir_ / "elsewhere" / "creds",
                "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = other.string();
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDOTHER");
}

TEST_F(AwsCredentialsTest, SharedCredentialsFileExpandsTilde) {
  WriteFile(dir_ / "custom",
            "[default]\naws_access_key_id = AKIDTILDE\naws_secret_access_key = s\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = "~/custom";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDTILDE");
}

TEST_F(AwsCredentialsTest, AwsProfileSelectsTheProfile) {
  WriteHomeCredentials(kDefaultFile +
                       "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = p\n"
                       "aws_session_token = prodtoken\n");
  env_["AWS_PROFILE"] = "prod";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDPROD");
  EXPECT_EQ(Secret(*c), "p");
  EXPECT_EQ(c->session_token, "prodtoken");
}

TEST_F(AwsCredentialsTest, ProfileArgumentOverridesAwsProfile) {
  WriteHomeCredentials(kDefaultFile +
                       "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = p\n"
                       "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = d\n");
  env_["AWS_PROFILE"] = "prod";
  Result<AwsCredentials> c = ResolveAwsCredentials("dev", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDDEV");
}

TEST_F(AwsCredentialsTest, ToleratesCommentsWhitespaceCaseAndCrlf) {
  WriteHomeCredentials(
      "# leading comment\r\n"
      "; another comment\r\n"
      "\r\n"
      "  [ default ]   # section comment\r\n"
      "   AWS_Access_Key_ID   =   AKIDSPACED   \r\n"
      "aws_secret_access_key=abc#def;ghi ; trailing comment\r\n"
      "aws_session_token = tok # trailing comment\r\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDSPACED");
  EXPECT_EQ(Secret(*c), "abc#def;ghi");
  EXPECT_EQ(c->session_token, "tok");
}

TEST_F(AwsCredentialsTest, LaterKeysAndRepeatedSectionsOverrideEarlierOnes) {
  WriteHomeCredentials(
      "[default]\naws_access_key_id = OLD\naws_secret_access_key = old\n"
      "[other]\naws_access_key_id = X\naws_secret_access_key = x\n"
      "[default]\naws_access_key_id = NEW\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "NEW");
  EXPECT_EQ(Secret(*c), "old");
}

TEST_F(AwsCredentialsTest, IndentedContinuationLinesAreIgnored) {
  WriteHomeCredentials(
      "[default]\n"
      "s3 =\n"
      "  aws_access_key_id = NESTED\n"
      "aws_access_key_id = AKIDTOP\n"
      "aws_secret_access_key = top\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIDTOP");
}

TEST_F(AwsCredentialsTest, ProfilePrefixIsPartOfTheSectionName) {
  // In the credentials file (unlike ~/.aws/config) "[profile x]" names a profile "profile x".
  WriteHomeCredentials("[profile work]\naws_access_key_id = A\naws_secret_access_key = s\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("work", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  Result<AwsCredentials> literal = ResolveAwsCredentials("profile work", Env());
  ASSERT_TRUE(literal.ok()) << literal.status().ToString();
  EXPECT_EQ(literal->access_key_id, "A");
}

TEST_F(AwsCredentialsTest, LegacySecurityTokenKeyIsAccepted) {
  WriteHomeCredentials(kDefaultFile + "aws_security_token = legacy\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->session_token, "legacy");
}

// --- Errors --------------------------------------------------------------------------------------

TEST_F(AwsCredentialsTest, NothingConfiguredGivesTheGenericMessage) {
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.status().message().rfind(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add "
                "a [default] profile to ~/.aws/credentials",
                0),
            0u);
  EXPECT_NE(c.status().message().find((dir_ / ".aws" / "credentials").string()), std::string::npos);
}

TEST_F(AwsCredentialsTest, NoHomeAndNoFileGivesTheGenericMessage) {
  env_.erase("HOME");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("no AWS credentials found"), std::string::npos);
  EXPECT_NE(c.status().message().find("AWS_SHARED_CREDENTIALS_FILE"), std::string::npos);
}

TEST_F(AwsCredentialsTest, FileWithoutDefaultSectionGivesTheGenericMessage) {
  WriteHomeCredentials("[other]\naws_access_key_id = A\naws_secret_access_key = s\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("no AWS credentials found"), std::string::npos);
}

TEST_F(AwsCredentialsTest, MissingNamedProfileNamesProfileAndFile) {
  WriteHomeCredentials(kDefaultFile);
  Result<AwsCredentials> c = ResolveAwsCredentials("staging", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("'staging'"), std::string::npos);
  EXPECT_NE(c.status().message().find((dir_ / ".aws" / "credentials").string()), std::string::npos);
  EXPECT_EQ(c.status().message().find(kFileSecret), std::string::npos);
}

TEST_F(AwsCredentialsTest, NamedProfileWithMissingFileSaysTheFileIsMissing) {
  env_["AWS_PROFILE"] = "staging";
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("'staging' (from AWS_PROFILE)"), std::string::npos);
  EXPECT_NE(c.status().message().find("does not exist"), std::string::npos);
}

TEST_F(AwsCredentialsTest, AccessKeyWithoutSecretInFileIsAnError) {
  WriteHomeCredentials("[default]\naws_access_key_id = AKIDONLY\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("no aws_secret_access_key"), std::string::npos);
}

TEST_F(AwsCredentialsTest, SecretWithoutAccessKeyInFileIsAnErrorThatHidesTheSecret) {
  WriteHomeCredentials("[default]\naws_secret_access_key = " + std::string(kFileSecret) + "\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("no aws_access_key_id"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kFileSecret), std::string::npos);
}

TEST_F(AwsCredentialsTest, AssumeRoleProfileIsReportedAsUnsupported) {
  WriteHomeCredentials(
      "[default]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("'role_arn'"), std::string::npos);
  EXPECT_NE(c.status().message().find("does not support"), std::string::npos);
}

TEST_F(AwsCredentialsTest, MalformedLineNamesLineNumberButNotItsContent) {
  WriteHomeCredentials("[default]\naws_access_key_id = A\n" + std::string(kFileSecret) + "\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("line 3"), std::string::npos);
  EXPECT_EQ(c.status().message().find(kFileSecret), std::string::npos);
}

TEST_F(AwsCredentialsTest, UnclosedSectionHeaderIsAnError) {
  WriteHomeCredentials("[default\naws_access_key_id = A\naws_secret_access_key = s\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("line 1"), std::string::npos);
}

TEST_F(AwsCredentialsTest, OversizedFileIsRejected) {
  WriteHomeCredentials(kDefaultFile + "# " + std::string(kMaxCredentialsFileBytes, 'x') + "\n");
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("larger than"), std::string::npos);
}

TEST_F(AwsCredentialsTest, UnreadablePathIsUnavailable) {
  env_["AWS_SHARED_CREDENTIALS_FILE"] = dir_.string();  // a directory
  Result<AwsCredentials> c = ResolveAwsCredentials("", Env());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find(dir_.string()), std::string::npos);
}

}  // namespace
}  // namespace perimeter::identity
