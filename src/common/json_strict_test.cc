#include "common/json_strict.h"

#include <gtest/gtest.h>

namespace perimeter {
namespace {

TEST(CheckNoDuplicateJsonKeysTest, AcceptsDocumentsWithoutRepeats) {
  EXPECT_TRUE(CheckNoDuplicateJsonKeys(R"({"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]})").ok());
  EXPECT_TRUE(CheckNoDuplicateJsonKeys("[]").ok());
}

TEST(CheckNoDuplicateJsonKeysTest, RejectsRepeatedKeyAndNamesItsPath) {
  Status s = CheckNoDuplicateJsonKeys(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow"},{"Effect":"Deny","Effect":"Allow"}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Statement[1]: key 'Effect'"), std::string::npos) << s.message();
}

TEST(CheckNoDuplicateJsonKeysTest, RejectsTopLevelRepeatAndInvalidJson) {
  Status s = CheckNoDuplicateJsonKeys(R"({"a":1,"a":2})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("key 'a'"), std::string::npos);
  EXPECT_FALSE(CheckNoDuplicateJsonKeys("{").ok());
}

}  // namespace
}  // namespace perimeter
