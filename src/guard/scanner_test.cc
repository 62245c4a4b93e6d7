#include "guard/scanner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "guard/entity.h"
#include "guard/normalize.h"

namespace perimeter::guard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::vector<std::string> AllTypes() {
  std::vector<std::string> types;
  for (const EntityInfo& e : Entities()) {
    if (e.detectable) {
      types.emplace_back(e.name);
    }
  }
  return types;
}

std::unique_ptr<const Scanner> MustCompile(ScannerOptions options) {
  auto scanner = Scanner::Compile(options);
  EXPECT_TRUE(scanner.ok()) << scanner.status().ToString();
  return scanner.ok() ? std::move(scanner).value() : nullptr;
}

const Scanner& All() {
  static const std::unique_ptr<const Scanner> scanner = MustCompile({AllTypes(), {}});
  return *scanner;
}

std::vector<Finding> ScanAll(std::string_view text) {
  auto findings = All().Scan(text);
  EXPECT_TRUE(findings.ok()) << findings.status().ToString();
  return findings.ok() ? *findings : std::vector<Finding>{};
}

// (type, text) of every finding.
std::vector<std::pair<std::string, std::string>> Found(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Finding& f : ScanAll(text)) {
    out.emplace_back(f.type, f.text);
  }
  return out;
}

// Texts found with type `type`.
std::vector<std::string> FoundOf(std::string_view text, std::string_view type) {
  std::vector<std::string> out;
  for (const Finding& f : ScanAll(text)) {
    if (f.type == type) {
      out.push_back(f.text);
    }
  }
  return out;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  return n;
}

// ---- configuration errors ---------------------------------------------------------------------

TEST(ScannerCompileTest, UnknownTypeIsInvalidArgumentNamingIt) {
  auto scanner = Scanner::Compile({{"EMAIL", "CREDIT_CARD"}, {}});
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(scanner.status().message(), HasSubstr("\"CREDIT_CARD\""));
}

TEST(ScannerCompileTest, NotDetectableTypeIsInvalidArgument) {
  auto scanner = Scanner::Compile({{"NAME"}, {}});
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(scanner.status().message(), HasSubstr("cannot be detected"));
}

TEST(ScannerCompileTest, BadCustomRegexNamesPatternAndQuotesHyperscan) {
  auto scanner = Scanner::Compile({{"EMAIL"}, {{"ok", "EMP-[0-9]+"}, {"broken", "(abc"}}});
  ASSERT_FALSE(scanner.ok());
  EXPECT_EQ(scanner.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(scanner.status().message(), HasSubstr("\"broken\""));
  EXPECT_THAT(scanner.status().message(), HasSubstr("Hyperscan says"));
  EXPECT_THAT(scanner.status().message(), HasSubstr("fix the pattern"));
}

TEST(ScannerCompileTest, UnsupportedCustomConstructsAreRefused) {
  for (const char* pattern : {"(a)\\1", "a*", "(?=x)y"}) {
    auto scanner = Scanner::Compile({{}, {{"custom", pattern}}});
    EXPECT_FALSE(scanner.ok()) << pattern;
    EXPECT_EQ(scanner.status().code(), StatusCode::kInvalidArgument) << pattern;
  }
}

TEST(ScannerCompileTest, CustomRegexNeedsANameAndAPattern) {
  EXPECT_EQ(Scanner::Compile({{}, {{"", "abc"}}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scanner::Compile({{}, {{"x", ""}}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScannerCompileTest, NothingEnabledFindsNothing) {
  auto scanner = MustCompile({});
  auto findings = scanner->Scan("mail ada@example.com or call +234 803 123 4567");
  ASSERT_TRUE(findings.ok());
  EXPECT_THAT(*findings, IsEmpty());
}

TEST(ScannerCompileTest, OnlyEnabledTypesAreReported) {
  auto scanner = MustCompile({{"EMAIL"}, {}});
  auto findings = scanner->Scan("mail ada@example.com or call +234 803 123 4567");
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].type, "EMAIL");
}

// ---- contact details --------------------------------------------------------------------------

TEST(ScannerTest, Email) {
  EXPECT_THAT(Found("Write to ada.obi+work@mail.example.com.ng, thanks."),
              ElementsAre(Pair("EMAIL", "ada.obi+work@mail.example.com.ng")));
  EXPECT_THAT(Found("user@localhost and @handle and a@b.c"), IsEmpty());
}

TEST(ScannerTest, NigerianPhoneNumbersInEveryCommonFormat) {
  for (const char* phone :
       {"+234 803 123 4567", "+2348031234567", "0803 123 4567", "0803-123-4567", "08031234567",
        "(0803) 123 4567", "234 803 123 4567", "0803.123.4567"}) {
    const std::string text = std::string("You can reach Tunde on ") + phone + " after 5pm.";
    EXPECT_THAT(FoundOf(text, "PHONE"), ElementsAre(phone)) << text;
  }
}

TEST(ScannerTest, InternationalPhoneNumbers) {
  EXPECT_THAT(FoundOf("UK office +44 7911 123456; US +1 650-253-0000.", "PHONE"),
              ElementsAre("+44 7911 123456", "+1 650-253-0000"));
}

TEST(ScannerTest, DatesAmountsAndReferencesAreNotPhones) {
  EXPECT_THAT(Found("Meeting on 2024-01-15, budget 1.250.000 naira, ref 12345678, pi 3.14159265"),
              IsEmpty());
}

TEST(ScannerTest, CardNumberIsNotReportedAsPhone) {
  EXPECT_THAT(Found("number 4111111111111111"),
              ElementsAre(Pair("CREDIT_DEBIT_CARD_NUMBER", "4111111111111111")));
}

// ---- payment cards ----------------------------------------------------------------------------

TEST(ScannerTest, CardNumberExpiryAndCvv) {
  EXPECT_THAT(
      Found("Card 4111 1111 1111 1111 exp 12/26 cvv 123"),
      ElementsAre(Pair("CREDIT_DEBIT_CARD_NUMBER", "4111 1111 1111 1111"),
                  Pair("CREDIT_DEBIT_CARD_EXPIRY", "12/26"), Pair("CREDIT_DEBIT_CARD_CVV", "123")));
  EXPECT_THAT(Found("Mastercard 5500-0000-0000-0004, valid thru 01/2027, security code: 4567"),
              ElementsAre(Pair("CREDIT_DEBIT_CARD_NUMBER", "5500-0000-0000-0004"),
                          Pair("CREDIT_DEBIT_CARD_EXPIRY", "01/2027"),
                          Pair("CREDIT_DEBIT_CARD_CVV", "4567")));
}

TEST(ScannerTest, CardNumberNeedsLuhnAndIssuer) {
  EXPECT_THAT(FoundOf("card 4111 1111 1111 1112", "CREDIT_DEBIT_CARD_NUMBER"), IsEmpty());
  EXPECT_THAT(FoundOf("card 9111 1111 1111 1113", "CREDIT_DEBIT_CARD_NUMBER"), IsEmpty());
}

TEST(ScannerTest, ExpiryAndCvvNeedContextAndShape) {
  EXPECT_THAT(Found("it expires 13/26 and the cvv is unknown"), IsEmpty());
  EXPECT_THAT(Found("we met 12/26 people and 123 others"), IsEmpty());
}

// ---- banking ----------------------------------------------------------------------------------

TEST(ScannerTest, Iban) {
  EXPECT_THAT(Found("IBAN GB82 WEST 1234 5698 7654 32 or DE89370400440532013000."),
              ElementsAre(Pair("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "GB82 WEST 1234 5698 7654 32"),
                          Pair("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "DE89370400440532013000")));
  EXPECT_THAT(FoundOf("IBAN GB83 WEST 1234 5698 7654 32", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"),
              IsEmpty());
}

TEST(ScannerTest, SwiftCodeWithContext) {
  EXPECT_THAT(Found("SWIFT code: DEUTDEFF, BIC GTBINGLA"),
              ElementsAre(Pair("SWIFT_CODE", "DEUTDEFF"), Pair("SWIFT_CODE", "GTBINGLA")));
  EXPECT_THAT(Found("Is it GTBINGLA? I asked for the SWIFT code"),
              ElementsAre(Pair("SWIFT_CODE", "GTBINGLA")));
  // XX is not a country; without a SWIFT word a BIC-shaped word is not looked at.
  EXPECT_THAT(Found("SWIFT: ABCDXXYY"), IsEmpty());
  EXPECT_THAT(Found("DEUTDEFF REPUBLIC CUSTOMER"), IsEmpty());
}

TEST(ScannerTest, UsBankNumbers) {
  EXPECT_THAT(Found("Routing number 021000021, checking account number 1234567890123"),
              ElementsAre(Pair("US_BANK_ROUTING_NUMBER", "021000021"),
                          Pair("US_BANK_ACCOUNT_NUMBER", "1234567890123")));
  EXPECT_THAT(FoundOf("routing 021000022", "US_BANK_ROUTING_NUMBER"), IsEmpty());
}

// ---- network ----------------------------------------------------------------------------------

TEST(ScannerTest, IpAndMacAddresses) {
  EXPECT_THAT(
      Found("hosts 192.168.1.10, [2001:db8::8a2e:370:7334]:443 and ::1; mac "
            "00:1A:2B:3C:4D:5E or 001a.2b3c.4d5e"),
      ElementsAre(Pair("IP_ADDRESS", "192.168.1.10"), Pair("IP_ADDRESS", "2001:db8::8a2e:370:7334"),
                  Pair("IP_ADDRESS", "::1"), Pair("MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
                  Pair("MAC_ADDRESS", "001a.2b3c.4d5e")));
  EXPECT_THAT(Found("version 1.2.3, 999.1.1.1, at 12:30:45, std::vector, 00:1A:2B:3C:4D"),
              IsEmpty());
}

TEST(ScannerTest, Url) {
  EXPECT_THAT(
      Found("See https://example.com/a?b=1. Or (www.example.org/x)."),
      ElementsAre(Pair("URL", "https://example.com/a?b=1"), Pair("URL", "www.example.org/x")));
  EXPECT_THAT(Found("see example.com or http:// alone"), IsEmpty());
}

// ---- credentials ------------------------------------------------------------------------------

TEST(ScannerTest, AwsKeys) {
  EXPECT_THAT(Found("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
              ElementsAre(Pair("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
                          Pair("AWS_SECRET_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")));
  EXPECT_THAT(Found("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
              ElementsAre(Pair("AWS_SECRET_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")));
  EXPECT_THAT(Found("AKIA1234 and a 40 char thing wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYab"),
              IsEmpty());
}

TEST(ScannerTest, PasswordPinUsername) {
  EXPECT_THAT(Found("username: jdoe42, password: Tr0ub4dor&3, PIN 4821"),
              ElementsAre(Pair("USERNAME", "jdoe42"), Pair("PASSWORD", "Tr0ub4dor&3"),
                          Pair("PIN", "4821")));
  EXPECT_THAT(Found("my password is hunter2."), ElementsAre(Pair("PASSWORD", "hunter2")));
  EXPECT_THAT(Found("DB_PASSWORD=s3cr3t-Value"), ElementsAre(Pair("PASSWORD", "s3cr3t-Value")));
  EXPECT_THAT(Found("the password is required; pin the tweet; user experience; passcode 987654"),
              ElementsAre(Pair("PIN", "987654")));
}

TEST(ScannerTest, Age) {
  EXPECT_THAT(Found("I am 34 years old. Age: 29, aged 41"),
              ElementsAre(Pair("AGE", "34"), Pair("AGE", "29"), Pair("AGE", "41")));
  EXPECT_THAT(Found("page 34, 300 years old is too old: 3000 years old"), IsEmpty());
}

TEST(ScannerTest, Secrets) {
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabcd==\n-----END RSA PRIVATE "
      "KEY-----";
  EXPECT_THAT(Found("key:\n" + pem + "\nthanks"), ElementsAre(Pair("SECRET_PRIVATE_KEY", pem)));
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
      "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  EXPECT_THAT(Found("jwt " + jwt), ElementsAre(Pair("SECRET_JWT", jwt)));
  // The header decodes to {"typ":"JWT"}: no "alg", so not a JWT.
  EXPECT_THAT(FoundOf("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.abc", "SECRET_JWT"), IsEmpty());
  EXPECT_THAT(Found("Authorization: Bearer abcdef1234567890abcdef"),
              ElementsAre(Pair("SECRET_BEARER_TOKEN", "abcdef1234567890abcdef")));
  EXPECT_THAT(Found("ghp_1234567890abcdefghijABCDEFGHIJ123456 xoxb-1234567890-abcdefghij "
                    "sk_live_abcdefghij1234567890"),
              ElementsAre(Pair("SECRET_GITHUB_TOKEN", "ghp_1234567890abcdefghijABCDEFGHIJ123456"),
                          Pair("SECRET_SLACK_TOKEN", "xoxb-1234567890-abcdefghij"),
                          Pair("SECRET_STRIPE_KEY", "sk_live_abcdefghij1234567890")));
  EXPECT_THAT(Found("api_key = \"aB3dE5fG7hJ9kL1mN3pQ5rS7\""),
              ElementsAre(Pair("SECRET_GENERIC", "aB3dE5fG7hJ9kL1mN3pQ5rS7")));
  // Low entropy, or no key word: not a secret.
  EXPECT_THAT(Found("api_key = \"aaaaaaaaaaaaaaaaaaaa1\" and value aB3dE5fG7hJ9kL1mN3pQ5rS7"),
              IsEmpty());
}

// ---- national identifiers ---------------------------------------------------------------------

TEST(ScannerTest, UsIdentifiers) {
  EXPECT_THAT(Found("SSN 123-45-6789, ITIN 912-70-1234, passport number 123456789"),
              ElementsAre(Pair("US_SOCIAL_SECURITY_NUMBER", "123-45-6789"),
                          Pair("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-70-1234"),
                          Pair("US_PASSPORT_NUMBER", "123456789")));
  EXPECT_THAT(FoundOf("SSN 666-45-6789", "US_SOCIAL_SECURITY_NUMBER"), IsEmpty());
}

TEST(ScannerTest, UkIdentifiers) {
  EXPECT_THAT(Found("NHS number 943 476 5919, UTR 1234567895, NI number AB 12 34 56 C"),
              ElementsAre(Pair("UK_NATIONAL_HEALTH_SERVICE_NUMBER", "943 476 5919"),
                          Pair("UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "1234567895"),
                          Pair("UK_NATIONAL_INSURANCE_NUMBER", "AB 12 34 56 C")));
  // A valid UTR without its context word is just a number.
  EXPECT_THAT(FoundOf("order 1234567895", "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER"), IsEmpty());
  EXPECT_THAT(FoundOf("NI number QQ 12 34 56 C", "UK_NATIONAL_INSURANCE_NUMBER"), IsEmpty());
}

TEST(ScannerTest, CanadianIdentifiers) {
  EXPECT_THAT(Found("SIN 130 692 544, health card 1234-567-890 AB"),
              ElementsAre(Pair("CA_SOCIAL_INSURANCE_NUMBER", "130 692 544"),
                          Pair("CA_HEALTH_NUMBER", "1234-567-890 AB")));
}

TEST(ScannerTest, VehicleIdentifiers) {
  EXPECT_THAT(Found("VIN 1HGCM82633A004352, plate LND 123 AB, driver's license D1234567"),
              ElementsAre(Pair("VEHICLE_IDENTIFICATION_NUMBER", "1HGCM82633A004352"),
                          Pair("LICENSE_PLATE", "LND 123 AB"), Pair("DRIVER_ID", "D1234567")));
  // Wrong check digit and no context.
  EXPECT_THAT(FoundOf("part 1HGCM82634A004352", "VEHICLE_IDENTIFICATION_NUMBER"), IsEmpty());
}

TEST(ScannerTest, DateNextToLicenceWordsIsNotTheLicence) {
  EXPECT_THAT(Found("driving licence number B0233415, expires 2023-07-04"),
              ElementsAre(Pair("DRIVER_ID", "B0233415")));
  EXPECT_THAT(Found("VEB64903GQ65 is the number on my FRSC driver's licence"),
              ElementsAre(Pair("DRIVER_ID", "VEB64903GQ65")));
}

TEST(ScannerTest, ReferenceWordsCancelIdentifierContext) {
  EXPECT_THAT(Found("My BVN is 22221886816, my order number is 61558182230."),
              ElementsAre(Pair("NG_BVN", "22221886816")));
  EXPECT_THAT(Found("Account statement for 2008-2019 please, ref ORD-2023-19948"), IsEmpty());
}

TEST(ScannerTest, NigerianBankAccountNeedsBankWhoseCheckDigitMatches) {
  // 0123456785 is a valid GTBank (058) NUBAN; 0123456788 is Zenith's (057).
  const auto gtb = ScanAll("Pay into my GTBank account 0123456785 today");
  ASSERT_EQ(gtb.size(), 1u);
  EXPECT_EQ(gtb[0].type, "NG_NUBAN");
  EXPECT_EQ(gtb[0].text, "0123456785");
  EXPECT_THAT(Found("Send the money to 0123456785 (GT Bank)."),
              ElementsAre(Pair("NG_NUBAN", "0123456785")));
  const auto zenith = ScanAll("Zenith Bank 0123456788");
  ASSERT_EQ(zenith.size(), 1u);
  EXPECT_EQ(zenith[0].type, "NG_NUBAN");
  // A bank-confirmed NUBAN scores above one with account words only ...
  auto nuban_only = MustCompile({{"NG_NUBAN"}, {}});
  auto words_only = nuban_only->Scan("account number 0123456785");
  ASSERT_TRUE(words_only.ok());
  ASSERT_EQ(words_only->size(), 1u);
  EXPECT_LT((*words_only)[0].score, gtb[0].score);
  // ... and loses to a US account number when both types are on and no Nigerian bank is named.
  EXPECT_THAT(Found("account number 0123456785"),
              ElementsAre(Pair("US_BANK_ACCOUNT_NUMBER", "0123456785")));
  EXPECT_THAT(Found("Naira account number 0123456785"),
              ElementsAre(Pair("NG_NUBAN", "0123456785")));
  // Ten digits with neither bank nor account words is not a NUBAN.
  EXPECT_THAT(FoundOf("order 0123456785", "NG_NUBAN"), IsEmpty());
}

TEST(ScannerTest, NigerianIdentityNumbers) {
  EXPECT_THAT(Found("BVN 22123456789, NIN: 12345678901, TIN 12345678-0001"),
              ElementsAre(Pair("NG_BVN", "22123456789"), Pair("NG_NIN", "12345678901"),
                          Pair("NG_TIN", "12345678-0001")));
  EXPECT_THAT(Found("22123456789 is my BVN"), ElementsAre(Pair("NG_BVN", "22123456789")));
  // The nearest word decides.
  EXPECT_THAT(Found("my NIN and BVN: BVN 22123456789"), ElementsAre(Pair("NG_BVN", "22123456789")));
}

// ---- offsets and evasion ----------------------------------------------------------------------

TEST(ScannerTest, OffsetsAreCodePointsOfTheOriginal) {
  const std::string prefix = "Ẹ jọ̀wọ́ 🙏, ẹ pe ";
  const std::string text = prefix + "0803 123 4567 lọ́la";
  const auto findings = ScanAll(text);
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.type, "PHONE");
  EXPECT_EQ(f.span.begin_byte, prefix.size());
  EXPECT_EQ(f.span.end_byte, prefix.size() + 13);
  EXPECT_EQ(f.span.begin_code_point, CodePoints(prefix));
  EXPECT_EQ(f.span.end_code_point, CodePoints(prefix) + 13);
  EXPECT_EQ(f.text, "0803 123 4567");
}

TEST(ScannerTest, FullWidthDigitsDoNotHideACard) {
  const std::string card = "４１１１ １１１１ １１１１ １１１１";
  const std::string text = "卡号 " + card + " 谢谢";
  const auto findings = ScanAll(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].type, "CREDIT_DEBIT_CARD_NUMBER");
  EXPECT_EQ(findings[0].text, card);
  EXPECT_EQ(findings[0].span.begin_code_point, 3u);
  EXPECT_EQ(findings[0].span.end_code_point, 3u + 19u);
}

TEST(ScannerTest, ZeroWidthCharactersInsideAValueDoNotHideIt) {
  const std::string zwsp = "\u200B";
  const std::string card = "4111" + zwsp + "1111" + zwsp + "1111" + zwsp + "1111";
  EXPECT_THAT(Found("pay with " + card + " now"),
              ElementsAre(Pair("CREDIT_DEBIT_CARD_NUMBER", card)));
  const std::string email = "ada" + std::string("\u2060") + "@example.com";
  EXPECT_THAT(Found("mail " + email), ElementsAre(Pair("EMAIL", email)));
}

TEST(ScannerTest, UnicodeSeparatorsBetweenDigits) {
  for (const std::string sep : {"\u00A0", "\u2009", "\u202F", "\u2013", "\u2212", "\u00B7"}) {
    const std::string card = "4111" + sep + "1111" + sep + "1111" + sep + "1111";
    EXPECT_THAT(FoundOf("card " + card, "CREDIT_DEBIT_CARD_NUMBER"), ElementsAre(card)) << sep;
    const std::string phone = "0803" + sep + "123" + sep + "4567";
    EXPECT_THAT(FoundOf("phone " + phone, "PHONE"), ElementsAre(phone)) << sep;
  }
}

TEST(ScannerTest, ScanOfNormalizedTextMatchesScanOfText) {
  const std::string text = "Ẹ jọ̀wọ́: ４１１１ １１１１ １１１１ １１１１, ada@example.com";
  auto normalized = Normalize(text);
  ASSERT_TRUE(normalized.ok());
  auto a = All().Scan(*normalized, text);
  auto b = All().Scan(text);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 2u);
  EXPECT_EQ(All().Scan(*normalized, "other text").status().code(), StatusCode::kInvalidArgument);
}

// ---- overlaps and custom regexes --------------------------------------------------------------

TEST(ScannerTest, CustomRegexFindingsAreNamedMergedAndScored) {
  auto scanner = MustCompile({{"EMAIL"}, {{"EMPLOYEE_ID", "EMP-[0-9]{4,}"}, {"WORD", "Ọlá\\w*"}}});
  auto findings = scanner->Scan("ids EMP-123456 and Ọlákúnlé, mail emp@example.com");
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 3u);
  EXPECT_EQ((*findings)[0].type, "EMPLOYEE_ID");
  EXPECT_TRUE((*findings)[0].custom);
  EXPECT_EQ((*findings)[0].text, "EMP-123456");  // overlapping matches merged into one
  EXPECT_DOUBLE_EQ((*findings)[0].score, 0.9);
  EXPECT_EQ((*findings)[1].type, "WORD");
  EXPECT_EQ((*findings)[1].text, "Ọlákúnlé");
  EXPECT_EQ((*findings)[2].type, "EMAIL");
  EXPECT_FALSE((*findings)[2].custom);
}

TEST(ScannerTest, OverlapKeepsHigherScoreThenLonger) {
  // The card (validated, 0.95) beats a custom regex (0.9) over part of it; the custom regex
  // beats a context-only PIN (0.85) that it covers.
  auto scanner = MustCompile({{"CREDIT_DEBIT_CARD_NUMBER", "PIN"},
                              {{"FOUR_DIGITS", "[0-9]{4}"}, {"PIN_LINE", "PIN [0-9]+"}}});
  auto findings = scanner->Scan("4111 1111 1111 1111 and PIN 4821");
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].type, "CREDIT_DEBIT_CARD_NUMBER");
  EXPECT_EQ((*findings)[0].text, "4111 1111 1111 1111");
  // PIN_LINE and FOUR_DIGITS tie on score; the longer wins.
  EXPECT_EQ((*findings)[1].type, "PIN_LINE");
  EXPECT_EQ((*findings)[1].text, "PIN 4821");
}

TEST(ScannerTest, FindingsAreSortedAndDisjoint) {
  const std::string text =
      "Ẹ kú àárọ̀! Email ada@example.com, phone +234 803 123 4567, card 4111-1111-1111-1111 "
      "exp 12/26 cvv 123, GTBank 0123456785, BVN 22123456789, https://x.example/p?q=1 and "
      "Authorization: Bearer abcdef1234567890abcdef. I am 34 years old.";
  const auto findings = ScanAll(text);
  EXPECT_GE(findings.size(), 10u);
  for (size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    EXPECT_EQ(f.text, text.substr(f.span.begin_byte, f.span.end_byte - f.span.begin_byte));
    if (i > 0) {
      EXPECT_LE(findings[i - 1].span.end_byte, f.span.begin_byte);
    }
  }
}

// ---- bounds -----------------------------------------------------------------------------------

TEST(ScannerTest, OversizedInputIsInvalidArgument) {
  const std::string big(NormalizeOptions{}.max_input_bytes + 1, 'a');
  EXPECT_EQ(All().Scan(big).status().code(), StatusCode::kInvalidArgument);
}

TEST(ScannerTest, TooManyMatchesIsResourceExhausted) {
  auto scanner = MustCompile({{}, {{"A", "a"}}});
  std::string text;
  for (size_t i = 0; i <= kMaxMatchesPerScan; ++i) {
    text += "a ";
  }
  EXPECT_EQ(scanner->Scan(text).status().code(), StatusCode::kResourceExhausted);
  // The thread's state is usable afterwards.
  auto after = scanner->Scan("a b a");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
}

TEST(ScannerTest, LongDigitRunsAndRepetitionsStayCorrect) {
  EXPECT_THAT(Found(std::string(100000, '7')), IsEmpty());
  std::string many;
  for (int i = 0; i < 2000; ++i) {
    many += "ada@example.com ";
  }
  EXPECT_EQ(FoundOf(many, "EMAIL").size(), 2000u);
}

// ---- threads ----------------------------------------------------------------------------------

TEST(ScannerThreadTest, ManyThreadsShareOneScanner) {
  const std::string text =
      "Call 0803 123 4567, card 4111 1111 1111 1111, mail ada@example.com, BVN 22123456789";
  const auto expected = ScanAll(text);
  ASSERT_EQ(expected.size(), 4u);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto findings = All().Scan(text);
        if (!findings.ok() || *findings != expected) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ScannerThreadTest, ScannersCreatedAndDestroyedConcurrently) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        // Different databases on one thread: the thread's scratch must fit each in turn.
        ScannerOptions options;
        options.types = (i + t) % 2 == 0 ? std::vector<std::string>{"EMAIL"} : AllTypes();
        options.regexes.push_back({"ID" + std::to_string(i), "ID-" + std::to_string(i)});
        auto scanner = Scanner::Compile(options);
        if (!scanner.ok()) {
          ++failures;
          continue;
        }
        auto findings = (*scanner)->Scan("ada@example.com ID-" + std::to_string(i));
        if (!findings.ok() || findings->size() != 2) {
          ++failures;
        }
        auto shared = All().Scan("ada@example.com");
        if (!shared.ok() || shared->size() != 1) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace perimeter::guard
