// Tests of the audit: section, logging.prompts and access.tenants[].invocation_records.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"

namespace perimeter::config {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr seconds kDay = hours(24);

// The smallest file that parses: everything else takes its default.
constexpr char kMinimal[] = "logging: {access_log: off}\n";

Result<Config> Parse(const std::string& yaml) { return ParseConfig(yaml, "t.yaml"); }

Result<Config> ParseAudit(const std::string& body) { return Parse("audit:\n" + body); }

// The error of `yaml`, which must be refused; fails the test if it parses.
std::string ErrorOf(const std::string& yaml) {
  auto c = Parse(yaml);
  EXPECT_FALSE(c.ok()) << "accepted:\n" << yaml;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  // Every error names the file first, then the line and column.
  EXPECT_EQ(c.status().message().rfind("t.yaml:", 0), 0u) << c.status().message();
  return c.status().message();
}

#define EXPECT_REFUSED(yaml, expect)                                                   \
  do {                                                                                 \
    const std::string message_ = ErrorOf(yaml);                                        \
    EXPECT_NE(message_.find(expect), std::string::npos)                                \
        << "yaml:\n"                                                                   \
        << (yaml) << "message: " << message_ << "\nexpected to contain: " << (expect); \
  } while (0)

// ---- audit: -----------------------------------------------------------------------------------

TEST(AuditConfigTest, DefaultsWithoutAnAuditSection) {
  auto c = Parse(kMinimal);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.dir, "audit");
  EXPECT_EQ(c->audit.fsync, "batch");
  EXPECT_EQ(c->audit.retention, 365 * kDay);
  EXPECT_EQ(c->audit.checkpoint_interval, seconds(60));
  EXPECT_EQ(c->audit.segment_max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c->logging.prompts, "off");
}

TEST(AuditConfigTest, EmbeddedDefaultsKeepTheAuditDefaults) {
  const Config c = DefaultConfig();
  EXPECT_EQ(c.audit.dir, "audit");
  EXPECT_EQ(c.audit.fsync, "batch");
  EXPECT_EQ(c.audit.retention, 365 * kDay);
  EXPECT_EQ(c.audit.checkpoint_interval, seconds(60));
  EXPECT_EQ(c.audit.segment_max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c.logging.prompts, "off");
}

TEST(AuditConfigTest, AnEmptyMappingKeepsTheDefaults) {
  auto c = Parse("audit: {}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.dir, "audit");
  EXPECT_EQ(c->audit.retention, 365 * kDay);
}

TEST(AuditConfigTest, ReadsEveryField) {
  auto c = ParseAudit(
      "  dir: /var/lib/perimeter/audit\n"
      "  fsync: none\n"
      "  retention: 2555d\n"
      "  checkpoint_interval: 5m\n"
      "  segment_max_bytes: 1048576\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.dir, "/var/lib/perimeter/audit");
  EXPECT_EQ(c->audit.fsync, "none");
  EXPECT_EQ(c->audit.retention, 2555 * kDay);
  EXPECT_EQ(c->audit.checkpoint_interval, seconds(300));
  EXPECT_EQ(c->audit.segment_max_bytes, 1048576u);
}

TEST(AuditConfigTest, AcceptsBothFsyncPolicies) {
  for (const std::string value : {"batch", "none"}) {
    auto c = ParseAudit("  fsync: " + value + "\n");
    ASSERT_TRUE(c.ok()) << value << ": " << c.status().ToString();
    EXPECT_EQ(c->audit.fsync, value);
  }
}

TEST(AuditConfigTest, AcceptsRetentionInWholeDaysFromOneDay) {
  const std::vector<std::pair<std::string, seconds>> cases = {
      {"1d", kDay},     {"365d", 365 * kDay}, {"3650d", 3650 * kDay},
      {"24h", kDay},    {"48h", 2 * kDay},    {"1440m", kDay},
      {"86400s", kDay}, {"86400", kDay},      {"86400000ms", kDay},
  };
  for (const auto& [value, want] : cases) {
    auto c = ParseAudit("  retention: " + value + "\n");
    ASSERT_TRUE(c.ok()) << value << ": " << c.status().ToString();
    EXPECT_EQ(c->audit.retention, want) << value;
  }
}

TEST(AuditConfigTest, AcceptsCheckpointIntervalsFromOneSecondToADay) {
  const std::vector<std::pair<std::string, seconds>> cases = {
      {"1s", seconds(1)},     {"1000ms", seconds(1)},     {"1", seconds(1)},
      {"60s", seconds(60)},   {"90m", seconds(5400)},     {"24h", seconds(86400)},
      {"1d", seconds(86400)}, {"86400s", seconds(86400)},
  };
  for (const auto& [value, want] : cases) {
    auto c = ParseAudit("  checkpoint_interval: " + value + "\n");
    ASSERT_TRUE(c.ok()) << value << ": " << c.status().ToString();
    EXPECT_EQ(c->audit.checkpoint_interval, want) << value;
  }
}

TEST(AuditConfigTest, AcceptsSegmentSizesFrom64KiB) {
  for (const uint64_t value :
       {uint64_t{65536}, uint64_t{65537}, uint64_t{64} << 20, uint64_t{1} << 34}) {
    auto c = ParseAudit("  segment_max_bytes: " + std::to_string(value) + "\n");
    ASSERT_TRUE(c.ok()) << value << ": " << c.status().ToString();
    EXPECT_EQ(c->audit.segment_max_bytes, value);
  }
  // With units, like limits.max_body_bytes.
  auto c = ParseAudit("  segment_max_bytes: 64MiB\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.segment_max_bytes, uint64_t{64} << 20);
}

TEST(AuditConfigTest, RefusesBadDirs) {
  EXPECT_REFUSED("audit:\n  dir: \"\"\n", "t.yaml:2:8: audit.dir: must not be empty");
  EXPECT_REFUSED("audit:\n  dir: [a, b]\n", "audit.dir: expected a string");
  EXPECT_REFUSED("audit:\n  dir: {x: y}\n", "audit.dir: expected a string");
}

TEST(AuditConfigTest, RefusesUnknownFsyncPolicies) {
  EXPECT_REFUSED("audit:\n  fsync: always\n",
                 "t.yaml:2:10: audit.fsync: expected 'batch' (fdatasync every group commit) or "
                 "'none'");
  for (const std::string value : {"Batch", "NONE", "fdatasync", "true", "off", "\"\""}) {
    EXPECT_REFUSED("audit:\n  fsync: " + value + "\n", "audit.fsync: ");
  }
  EXPECT_REFUSED("audit:\n  fsync: [batch]\n", "audit.fsync: expected a string");
}

TEST(AuditConfigTest, RefusesRetentionShorterThanADayOrNotInWholeDays) {
  EXPECT_REFUSED("audit:\n  retention: 12h\n",
                 "t.yaml:2:14: audit.retention: must be whole days, at least 1d");
  for (const std::string value : {"0", "0d", "1s", "86399s", "23h", "36h", "1441m", "86401"}) {
    EXPECT_REFUSED("audit:\n  retention: " + value + "\n",
                   "audit.retention: must be whole days, at least 1d");
  }
  for (const std::string value : {"1y", "forever", "-1d", "1.5d", "\"\""}) {
    EXPECT_REFUSED("audit:\n  retention: " + value + "\n", "audit.retention: ");
  }
  EXPECT_REFUSED("audit:\n  retention: [1d]\n", "audit.retention: expected a duration");
}

TEST(AuditConfigTest, RefusesCheckpointIntervalsOutsideOneSecondToADay) {
  EXPECT_REFUSED("audit:\n  checkpoint_interval: 25h\n",
                 "t.yaml:2:24: audit.checkpoint_interval: must be between 1s and 24h");
  for (const std::string value : {"0", "0s", "999ms", "86401s", "2d", "1441m"}) {
    EXPECT_REFUSED("audit:\n  checkpoint_interval: " + value + "\n",
                   "audit.checkpoint_interval: must be between 1s and 24h");
  }
  for (const std::string value : {"often", "-1s", "1w"}) {
    EXPECT_REFUSED("audit:\n  checkpoint_interval: " + value + "\n", "audit.checkpoint_interval: ");
  }
}

TEST(AuditConfigTest, RefusesSegmentsSmallerThan64KiBAndNonNumbers) {
  EXPECT_REFUSED("audit:\n  segment_max_bytes: 65535\n",
                 "t.yaml:2:22: audit.segment_max_bytes: must be from 64KiB to 16GiB");
  EXPECT_REFUSED("audit:\n  segment_max_bytes: 0\n",
                 "audit.segment_max_bytes: must be from 64KiB to 16GiB");
  EXPECT_REFUSED("audit:\n  segment_max_bytes: 17179869185\n",
                 "audit.segment_max_bytes: must be from 64KiB to 16GiB");
  for (const std::string value : {"-1", "lots", "1.5", "99999999999999999999999"}) {
    EXPECT_REFUSED("audit:\n  segment_max_bytes: " + value + "\n", "audit.segment_max_bytes: ");
  }
}

TEST(AuditConfigTest, RefusesUnknownFieldsAndANonMapping) {
  EXPECT_REFUSED("audit:\n  retention_days: 365\n",
                 "t.yaml:2:3: audit.retention_days: unknown field 'retention_days'; expected one "
                 "of: checkpoint_interval, dir, fsync, retention, segment_max_bytes");
  EXPECT_REFUSED("audit: /var/audit\n", "t.yaml:1:8: audit: expected a mapping");
  EXPECT_REFUSED("audit: [dir]\n", "audit: expected a mapping");
}

TEST(AuditConfigTest, TheRemovedKeysOptionsAreRefusedAsUnknown) {
  EXPECT_REFUSED("keys:\n  audit_log: /var/log/key-audit.jsonl\n",
                 "t.yaml:2:3: keys.audit_log: unknown field 'audit_log'");
  EXPECT_REFUSED("keys:\n  audit_sync_each: true\n",
                 "t.yaml:2:3: keys.audit_sync_each: unknown field 'audit_sync_each'");
}

// ---- logging.prompts ---------------------------------------------------------------------------

TEST(LoggingPromptsConfigTest, AcceptsOffAndRedacted) {
  for (const std::string value : {"off", "redacted", "\"off\"", "'redacted'"}) {
    auto c = Parse("logging:\n  prompts: " + value + "\n");
    ASSERT_TRUE(c.ok()) << value << ": " << c.status().ToString();
    EXPECT_TRUE(c->logging.prompts == "off" || c->logging.prompts == "redacted") << value;
    EXPECT_NE(value.find(c->logging.prompts), std::string::npos) << value;
  }
  // The access log setting is independent of it.
  auto c = Parse("logging: {access_log: stderr, prompts: redacted}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->logging.access_log, "stderr");
  EXPECT_EQ(c->logging.prompts, "redacted");
}

TEST(LoggingPromptsConfigTest, RefusesEverythingElseRawPromptsIncluded) {
  EXPECT_REFUSED("logging:\n  prompts: raw\n",
                 "t.yaml:2:12: logging.prompts: expected 'off' or 'redacted'");
  for (const std::string value : {"on", "full", "Redacted", "OFF", "false", "true", "\"\""}) {
    EXPECT_REFUSED("logging:\n  prompts: " + value + "\n", "logging.prompts: ");
  }
  EXPECT_REFUSED("logging:\n  prompts: [off]\n", "logging.prompts: expected a string");
  EXPECT_REFUSED("logging:\n  prompt: redacted\n", "logging.prompt: unknown field 'prompt'");
}

// ---- access.tenants[].invocation_records -------------------------------------------------------

constexpr char kTenants[] = R"(access:
  account_id: "111122223333"
  principals:
    - role: acme-tenant
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: sts:AssumeRole}
    - role: globex-tenant
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111122223333:root"}, Action: sts:AssumeRole}
  tenants:
    - {id: acme, role: acme-tenant}
    - id: globex
      role: globex-tenant
      invocation_records: SETTING
)";

std::string Tenants(const std::string& setting) {
  std::string yaml = kTenants;
  return yaml.replace(yaml.find("SETTING"), 7, setting);
}

TEST(InvocationRecordsConfigTest, OffUnlessSetPerTenant) {
  for (const bool on : {true, false}) {
    auto c = Parse(Tenants(on ? "true" : "false"));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_EQ(c->access.tenants.size(), 2u);
    EXPECT_EQ(c->access.tenants[0].id, "acme");
    EXPECT_FALSE(c->access.tenants[0].invocation_records);  // not set: off
    EXPECT_EQ(c->access.tenants[1].id, "globex");
    EXPECT_EQ(c->access.tenants[1].invocation_records, on);
  }
}

TEST(InvocationRecordsConfigTest, RefusesAnythingButTrueOrFalse) {
  EXPECT_REFUSED(Tenants("yes"),
                 "t.yaml:18:27: access.tenants[1].invocation_records: expected true or false");
  for (const std::string value : {"on", "1", "True", "FALSE", "redacted", "\"\"", "[true]"}) {
    EXPECT_REFUSED(Tenants(value), "access.tenants[1].invocation_records: expected true or false");
  }
  std::string misspelt = Tenants("true");
  misspelt.replace(misspelt.find("invocation_records"), 18, "invocation_record");
  EXPECT_REFUSED(misspelt, "access.tenants[1].invocation_record: unknown field");
}

}  // namespace
}  // namespace perimeter::config
