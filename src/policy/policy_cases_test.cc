// Conformance cases: tests/policy_cases/cases.json, each with an "expected" outcome written from
// the AWS IAM documentation ("Allowed", "ImplicitlyDenied", "ExplicitlyDenied", or "Error" for
// a policy AWS would reject). Every case goes through RunPolicyEvalCases as the CLI does.

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "policy/eval_cases.h"

#ifndef PERIMETER_POLICY_CASES_DIR
#error "PERIMETER_POLICY_CASES_DIR must point at tests/policy_cases"
#endif

namespace perimeter::policy {
namespace {

TEST(PolicyConformanceTest, EveryCaseMatchesItsDocumentedOutcome) {
  std::ifstream file(std::string(PERIMETER_POLICY_CASES_DIR) + "/cases.json");
  ASSERT_TRUE(file.good()) << "cannot open cases.json under " << PERIMETER_POLICY_CASES_DIR;
  std::stringstream text;
  text << file.rdbuf();
  boost::json::value cases = boost::json::parse(text.str());
  ASSERT_TRUE(cases.is_array());
  ASSERT_GE(cases.as_array().size(), 200u);

  std::istringstream in(text.str());
  std::ostringstream out, err;
  RunPolicyEvalCases(in, out, err);
  EXPECT_TRUE(err.str().empty()) << err.str();

  std::istringstream lines(out.str());
  std::string line;
  size_t i = 0, mismatches = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, cases.as_array().size()) << "more output lines than cases";
    const boost::json::object& c = cases.as_array()[i].as_object();
    boost::json::object got = boost::json::parse(line).as_object();
    std::string name(c.at("name").as_string());
    std::string expected(c.at("expected").as_string());
    ASSERT_EQ(got.at("name").as_string(), name) << "output out of order at line " << i;
    std::string actual =
        got.contains("error") ? "Error" : std::string(got.at("response").as_string());
    if (actual != expected) {
      ++mismatches;
      ADD_FAILURE() << "case '" << name << "': expected " << expected << ", got " << actual
                    << (got.contains("error")
                            ? " (" + std::string(got.at("error").as_string()) + ")"
                            : std::string());
    }
    ++i;
  }
  EXPECT_EQ(i, cases.as_array().size()) << "one output line per case";
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace perimeter::policy
