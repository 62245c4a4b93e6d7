#include "guard/validators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace perimeter::guard {
namespace {

using ::testing::Contains;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

const std::string kTooLong(kMaxCandidateBytes + 1, '1');

// ---- helpers ----------------------------------------------------------------------------------

TEST(DigitsOnlyTest, KeepsDigitsInOrder) {
  EXPECT_EQ(DigitsOnly("943 476-5919"), "9434765919");
  EXPECT_EQ(DigitsOnly("abc"), "");
  EXPECT_EQ(DigitsOnly(""), "");
}

TEST(DigitsOnlyTest, RefusesInputOverTheCap) {
  EXPECT_EQ(DigitsOnly(kTooLong), "");
  EXPECT_EQ(DigitsOnly(std::string(kMaxCandidateBytes, '7')).size(), kMaxCandidateBytes);
}

TEST(LuhnTest, AcceptsValidAndRejectsOneDigitChanged) {
  EXPECT_TRUE(LuhnValid("79927398713"));  // the classic worked example
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
}

TEST(LuhnTest, RejectsNonDigitsEmptyAndOverlong) {
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("4111 1111 1111 1111"));
  EXPECT_FALSE(LuhnValid(std::string(kMaxCandidateBytes + 10, '0')));
}

// ---- payment cards ----------------------------------------------------------------------------

TEST(CreditCardTest, AcceptsPublishedTestNumbers) {
  EXPECT_EQ(CreditCardBrand("4111111111111111"), CardBrand::kVisa);
  EXPECT_EQ(CreditCardBrand("4012888888881881"), CardBrand::kVisa);
  EXPECT_EQ(CreditCardBrand("4222222222222"), CardBrand::kVisa);  // 13-digit Visa
  EXPECT_EQ(CreditCardBrand("5555555555554444"), CardBrand::kMastercard);
  EXPECT_EQ(CreditCardBrand("5105105105105100"), CardBrand::kMastercard);
  EXPECT_EQ(CreditCardBrand("2223003122003222"), CardBrand::kMastercard);  // 2-series
  EXPECT_EQ(CreditCardBrand("378282246310005"), CardBrand::kAmex);
  EXPECT_EQ(CreditCardBrand("371449635398431"), CardBrand::kAmex);
  EXPECT_EQ(CreditCardBrand("6011111111111117"), CardBrand::kDiscover);
  EXPECT_EQ(CreditCardBrand("3530111333300000"), CardBrand::kJcb);
  EXPECT_EQ(CreditCardBrand("30569309025904"), CardBrand::kDinersClub);
  EXPECT_EQ(CreditCardBrand("36227206271667"), CardBrand::kDinersClub);
  EXPECT_EQ(CreditCardBrand("6200000000000005"), CardBrand::kUnionPay);
  EXPECT_EQ(CreditCardBrand("6200000000000000000"), CardBrand::kUnionPay);  // 19 digits
  EXPECT_EQ(CreditCardBrand("6759649826438453"), CardBrand::kMaestro);
  EXPECT_EQ(CreditCardBrand("675964982648"), CardBrand::kMaestro);  // 12 digits
}

TEST(CreditCardTest, RecognisesVerveRanges) {
  // Luhn-completed numbers at the edges of the Verve ranges.
  EXPECT_EQ(CreditCardBrand("5060990000000008"), CardBrand::kVerve);
  EXPECT_EQ(CreditCardBrand("5060990123456789016"), CardBrand::kVerve);  // 19 digits
  EXPECT_EQ(CreditCardBrand("507865000000000008"), CardBrand::kVerve);   // 18 digits
  // 650002 would otherwise be Discover (65): Verve is tested first.
  EXPECT_EQ(CreditCardBrand("6500020000000000"), CardBrand::kVerve);
}

TEST(CreditCardTest, AcceptsSpacesAndDashes) {
  EXPECT_TRUE(IsCreditCardNumber("4111 1111 1111 1111"));
  EXPECT_TRUE(IsCreditCardNumber("4111-1111-1111-1111"));
  EXPECT_TRUE(IsCreditCardNumber("3782 822463 10005"));
}

TEST(CreditCardTest, RejectsBadLuhnLengthPrefixAndSeparators) {
  EXPECT_FALSE(IsCreditCardNumber("4111111111111112"));  // one digit changed
  EXPECT_FALSE(IsCreditCardNumber("5555555555554445"));  // one digit changed
  EXPECT_FALSE(IsCreditCardNumber("3782822463100052"));  // Luhn ok, Amex with 16 digits
  EXPECT_FALSE(IsCreditCardNumber("411111111111116"));   // Luhn ok, Visa with 15 digits
  EXPECT_FALSE(IsCreditCardNumber("2721000000000004"));  // Luhn ok, just past Mastercard 2720
  EXPECT_EQ(CreditCardBrand("2720000000000005"), CardBrand::kMastercard);  // last 2-series
  EXPECT_FALSE(IsCreditCardNumber("9111111111111110"));      // Luhn ok, no issuer starts with 9
  EXPECT_FALSE(IsCreditCardNumber("0000000000000000"));      // Luhn ok, no issuer
  EXPECT_FALSE(IsCreditCardNumber("41111111111"));           // 11 digits
  EXPECT_FALSE(IsCreditCardNumber("41111111111111111111"));  // 20 digits
  EXPECT_FALSE(IsCreditCardNumber("4111.1111.1111.1111"));
  EXPECT_FALSE(IsCreditCardNumber("4111  1111 1111 1111"));
  EXPECT_FALSE(IsCreditCardNumber(" 4111111111111111"));
  EXPECT_FALSE(IsCreditCardNumber("4111111111111111-"));
  EXPECT_FALSE(IsCreditCardNumber(kTooLong));
  EXPECT_FALSE(IsCreditCardNumber(""));
}

TEST(CreditCardTest, NamesBrands) {
  EXPECT_EQ(CardBrandName(CardBrand::kVerve), "Verve");
  EXPECT_EQ(CardBrandName(CardBrand::kNone), "none");
}

// ---- IBAN -------------------------------------------------------------------------------------

TEST(IbanTest, AcceptsSwiftRegistryExamples) {
  for (const char* iban : {"GB82WEST12345698765432",
                           "DE89370400440532013000",
                           "FR1420041010050500013M02606",
                           "CH9300762011623852957",
                           "NO9386011117947",
                           "NL91ABNA0417164300",
                           "BE68539007547034",
                           "IE29AIBK93115212345678",
                           "ES9121000418450200051332",
                           "IT60X0542811101000000123456",
                           "MT84MALT011000012345MTLCAST001S",
                           "SA0380000000608010167519",
                           "AE070331234567890123456",
                           "IL620108000000099999999",
                           "EG380019000500000000263180002",
                           "QA58DOHB00001234567890ABCDEFG",
                           "JO94CBJO0010000000000131000302",
                           "KW81CBKU0000000000001234560101",
                           "BH67BMAG00001299123456",
                           "TN5910006035183598478831",
                           "IQ98NBIQ850123456789012",
                           "LY83002048000020100120361",
                           "SD2129010501234001",
                           "YE15CBYE0001018861234567891234",
                           "MU17BOMM0101101030300200000MUR",
                           "SC18SSCB11010000000000001497USD",
                           "LC55HEMM000100010012001200023015",
                           "RU0304452522540817810538091310419"}) {
    EXPECT_TRUE(IsIban(iban)) << iban;
  }
}

TEST(IbanTest, AcceptsPaperFormAndLowerCase) {
  EXPECT_TRUE(IsIban("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IsIban("DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(IsIban("gb82west12345698765432"));
}

TEST(IbanTest, RejectsChangedDigitWrongLengthAndUnknownCountry) {
  EXPECT_FALSE(IsIban("GB82WEST12345698765431"));  // one digit changed
  EXPECT_FALSE(IsIban("GB83WEST12345698765432"));  // check digits changed
  EXPECT_FALSE(IsIban("DE89370400440532013001"));
  EXPECT_FALSE(IsIban("GB82WEST1234569876543"));    // one short
  EXPECT_FALSE(IsIban("DE893704004405320130000"));  // one long
  EXPECT_FALSE(IsIban("XX82WEST12345698765432"));   // not in the registry
  EXPECT_FALSE(IsIban("NG82WEST12345698765432"));   // country exists, no IBAN
  EXPECT_FALSE(IsIban(""));
  EXPECT_FALSE(IsIban(kTooLong));
}

TEST(IbanTest, RejectsBadGrouping) {
  EXPECT_FALSE(IsIban("GB82 WEST 1234 5698 765 432"));
  EXPECT_FALSE(IsIban("GB82  WEST 1234 5698 7654 32"));
  EXPECT_FALSE(IsIban("GB82 WEST 1234 5698 7654 32 "));
  EXPECT_FALSE(IsIban(" GB82 WEST 1234 5698 7654 32"));
  EXPECT_FALSE(IsIban("GB82-WEST-1234-5698-7654-32"));
}

TEST(IbanTest, RejectsBbanWithWrongCharacterClasses) {
  // Mod 97 is right, but a GB BBAN starts with four letters (4!a), not digits.
  EXPECT_FALSE(IsIban("GB25123412345698765432"));
}

TEST(IbanTest, RejectsCheckDigitsOutsideTwoToNinetyEight) {
  // 99 is congruent to 02 mod 97, so mod 97 alone would accept the second one.
  EXPECT_TRUE(IsIban("DE02370400440000000024"));
  EXPECT_FALSE(IsIban("DE99370400440000000024"));
}

// ---- SWIFT BIC --------------------------------------------------------------------------------

TEST(SwiftBicTest, AcceptsEightAndElevenCharacterCodes) {
  EXPECT_TRUE(IsSwiftBic("DEUTDEFF"));
  EXPECT_TRUE(IsSwiftBic("DEUTDEFF500"));
  EXPECT_TRUE(IsSwiftBic("NWBKGB2L"));
  EXPECT_TRUE(IsSwiftBic("CHASUS33XXX"));
  EXPECT_TRUE(IsSwiftBic("ZEIBNGLA"));  // Zenith Bank, Lagos
  EXPECT_TRUE(IsSwiftBic("RBKOXKPR"));  // Kosovo uses XK
}

TEST(SwiftBicTest, RejectsBadCountryShapeAndCase) {
  EXPECT_FALSE(IsSwiftBic("DEUTXXFF"));  // XX is not a country
  EXPECT_FALSE(IsSwiftBic("DEUTUKFF"));  // UK is not ISO 3166 (GB is)
  EXPECT_FALSE(IsSwiftBic("DEU1DEFF"));  // digit in the institution code
  EXPECT_FALSE(IsSwiftBic("deutdeff"));
  EXPECT_FALSE(IsSwiftBic("DEUTDEFF50"));  // 10 characters
  EXPECT_FALSE(IsSwiftBic("DEUTDEF"));
  EXPECT_FALSE(IsSwiftBic("DEUTDEFF-00"));
}

TEST(CountryCodeTest, KnowsTheIsoList) {
  EXPECT_TRUE(IsIsoCountryCode("NG"));
  EXPECT_TRUE(IsIsoCountryCode("GB"));
  EXPECT_TRUE(IsIsoCountryCode("ZW"));
  EXPECT_TRUE(IsIsoCountryCode("AD"));
  EXPECT_FALSE(IsIsoCountryCode("UK"));
  EXPECT_FALSE(IsIsoCountryCode("EU"));
  EXPECT_FALSE(IsIsoCountryCode("gb"));
  EXPECT_FALSE(IsIsoCountryCode("GBR"));
}

// ---- ABA --------------------------------------------------------------------------------------

TEST(AbaTest, AcceptsPublishedRoutingNumbers) {
  EXPECT_TRUE(IsAbaRoutingNumber("011000015"));  // Federal Reserve Bank of Boston
  EXPECT_TRUE(IsAbaRoutingNumber("021000021"));  // JPMorgan Chase, New York
  EXPECT_TRUE(IsAbaRoutingNumber("122105278"));
  EXPECT_TRUE(IsAbaRoutingNumber("322271627"));
}

TEST(AbaTest, RejectsChecksumPrefixAndShape) {
  EXPECT_FALSE(IsAbaRoutingNumber("011000016"));  // one digit changed
  EXPECT_FALSE(IsAbaRoutingNumber("131000018"));  // checksum ok, 13 is not a Fed range
  EXPECT_FALSE(IsAbaRoutingNumber("0110000150"));
  EXPECT_FALSE(IsAbaRoutingNumber("01100001"));
  EXPECT_FALSE(IsAbaRoutingNumber("0110-0001-5"));
}

// ---- network ----------------------------------------------------------------------------------

TEST(Ipv4Test, AcceptsDottedQuads) {
  EXPECT_TRUE(IsIpv4("192.168.0.1"));
  EXPECT_TRUE(IsIpv4("0.0.0.0"));
  EXPECT_TRUE(IsIpv4("255.255.255.255"));
  EXPECT_TRUE(IsIpv4("10.0.100.9"));
}

TEST(Ipv4Test, RejectsOverflowLeadingZerosAndShape) {
  EXPECT_FALSE(IsIpv4("256.1.1.1"));
  EXPECT_FALSE(IsIpv4("1.1.1.300"));
  EXPECT_FALSE(IsIpv4("010.1.1.1"));
  EXPECT_FALSE(IsIpv4("1.2.3.04"));
  EXPECT_FALSE(IsIpv4("1.2.3"));
  EXPECT_FALSE(IsIpv4("1.2.3.4.5"));
  EXPECT_FALSE(IsIpv4("1..2.3"));
  EXPECT_FALSE(IsIpv4("1.2.3.4 "));
  EXPECT_FALSE(IsIpv4("1.2.3.1000"));
  EXPECT_FALSE(IsIpv4("a.b.c.d"));
}

TEST(Ipv6Test, AcceptsTextForms) {
  EXPECT_TRUE(IsIpv6("::1"));
  EXPECT_TRUE(IsIpv6("2001:db8::1"));
  EXPECT_TRUE(IsIpv6("2001:0db8:85a3:0000:0000:8a2e:0370:7334"));
  EXPECT_TRUE(IsIpv6("::ffff:192.168.0.1"));
}

TEST(Ipv6Test, RejectsMalformed) {
  EXPECT_FALSE(IsIpv6("2001:db8::1::2"));
  EXPECT_FALSE(IsIpv6("12345::"));
  EXPECT_FALSE(IsIpv6("fe80::1%eth0"));
  EXPECT_FALSE(IsIpv6("g::1"));
  EXPECT_FALSE(IsIpv6(":"));
  EXPECT_FALSE(IsIpv6("192.168.0.1"));
  EXPECT_FALSE(IsIpv6(std::string_view("::1\0", 4)));
  EXPECT_FALSE(IsIpv6(kTooLong));
}

TEST(MacTest, AcceptsThreeNotations) {
  EXPECT_TRUE(IsMacAddress("00:1A:2B:3C:4D:5E"));
  EXPECT_TRUE(IsMacAddress("00-1a-2b-3c-4d-5e"));
  EXPECT_TRUE(IsMacAddress("001a.2b3c.4d5e"));
}

TEST(MacTest, RejectsMixedSeparatorsAndBadHex) {
  EXPECT_FALSE(IsMacAddress("00:1A-2B:3C:4D:5E"));
  EXPECT_FALSE(IsMacAddress("00:1A:2B:3C:4D"));
  EXPECT_FALSE(IsMacAddress("00:1G:2B:3C:4D:5E"));
  EXPECT_FALSE(IsMacAddress("001a:2b3c:4d5e"));
  EXPECT_FALSE(IsMacAddress("001A2B3C4D5E"));
}

// ---- United States ----------------------------------------------------------------------------

TEST(SsnTest, AcceptsDashedSpacedAndPlain) {
  EXPECT_TRUE(IsUsSsn("536-22-1234"));
  EXPECT_TRUE(IsUsSsn("536 22 1234"));
  EXPECT_TRUE(IsUsSsn("536221234"));
  EXPECT_TRUE(IsUsSsn("899-99-9999"));
}

TEST(SsnTest, RejectsNeverIssuedRangesAndAdvertisingNumbers) {
  EXPECT_FALSE(IsUsSsn("000-12-3456"));
  EXPECT_FALSE(IsUsSsn("666-12-3456"));
  EXPECT_FALSE(IsUsSsn("900-12-3456"));
  EXPECT_FALSE(IsUsSsn("999-12-3456"));
  EXPECT_FALSE(IsUsSsn("123-00-4567"));
  EXPECT_FALSE(IsUsSsn("123-45-0000"));
  EXPECT_FALSE(IsUsSsn("078-05-1120"));
  EXPECT_FALSE(IsUsSsn("078051120"));
  EXPECT_FALSE(IsUsSsn("219-09-9999"));
}

TEST(SsnTest, RejectsBadShape) {
  EXPECT_FALSE(IsUsSsn("536-22 1234"));  // mixed separators
  EXPECT_FALSE(IsUsSsn("53-622-1234"));
  EXPECT_FALSE(IsUsSsn("53622123"));
  EXPECT_FALSE(IsUsSsn("5362212345"));
  EXPECT_FALSE(IsUsSsn("536.22.1234"));
}

TEST(ItinTest, AcceptsIrsGroupRanges) {
  EXPECT_TRUE(IsUsItin("912-70-1234"));
  EXPECT_TRUE(IsUsItin("912-88-1234"));
  EXPECT_TRUE(IsUsItin("912 90 1234"));
  EXPECT_TRUE(IsUsItin("912941234"));
  EXPECT_TRUE(IsUsItin("999-99-9999"));
  EXPECT_TRUE(IsUsItin("900-50-1234"));
  EXPECT_TRUE(IsUsItin("900-65-1234"));
}

TEST(ItinTest, RejectsOtherGroupsAndAreas) {
  EXPECT_FALSE(IsUsItin("912-93-1234"));  // ATIN
  EXPECT_FALSE(IsUsItin("912-89-1234"));
  EXPECT_FALSE(IsUsItin("912-66-1234"));
  EXPECT_FALSE(IsUsItin("912-49-1234"));
  EXPECT_FALSE(IsUsItin("812-70-1234"));  // area must be 9xx
  EXPECT_FALSE(IsUsItin("912-70-123"));
}

// ---- United Kingdom ---------------------------------------------------------------------------

TEST(NhsTest, AcceptsValidNumbers) {
  EXPECT_TRUE(IsUkNhsNumber("943 476 5919"));
  EXPECT_TRUE(IsUkNhsNumber("9434765919"));
  EXPECT_TRUE(IsUkNhsNumber("943-476-5870"));
  EXPECT_TRUE(IsUkNhsNumber("401 023 2137"));
}

TEST(NhsTest, RejectsWrongCheckDigitAndCheckTen) {
  EXPECT_FALSE(IsUkNhsNumber("943 476 5918"));
  EXPECT_FALSE(IsUkNhsNumber("943 476 5910"));
  // Weighted sum 6 * 2 = 12, 12 mod 11 = 1, check 10: never issued, whatever the last digit.
  for (char last = '0'; last <= '9'; ++last) {
    EXPECT_FALSE(IsUkNhsNumber(std::string("000000006") + last));
  }
}

TEST(NhsTest, RejectsBadGrouping) {
  EXPECT_FALSE(IsUkNhsNumber("9434 76 5919"));
  EXPECT_FALSE(IsUkNhsNumber("943 476-5919"));
  EXPECT_FALSE(IsUkNhsNumber("943476591"));
}

TEST(NinoTest, AcceptsValidPrefixesAndSpacing) {
  EXPECT_TRUE(IsUkNino("AB123456C"));
  EXPECT_TRUE(IsUkNino("AB 12 34 56 C"));
  EXPECT_TRUE(IsUkNino("ab 12 34 56 d"));
  EXPECT_TRUE(IsUkNino("JG103759A"));
  EXPECT_TRUE(IsUkNino("ZY123456A"));
}

TEST(NinoTest, RejectsHmrcExcludedPrefixes) {
  EXPECT_FALSE(IsUkNino("QQ123456C"));  // HMRC's own example uses the never-valid Q
  EXPECT_FALSE(IsUkNino("DA123456A"));
  EXPECT_FALSE(IsUkNino("VA123456A"));
  EXPECT_FALSE(IsUkNino("AO123456A"));  // O never second
  EXPECT_FALSE(IsUkNino("AD123456A"));
  for (const char* bad : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}) {
    EXPECT_FALSE(IsUkNino(std::string(bad) + "123456A")) << bad;
  }
}

TEST(NinoTest, RejectsBadSuffixAndShape) {
  EXPECT_FALSE(IsUkNino("AB123456E"));
  EXPECT_FALSE(IsUkNino("AB123456"));
  EXPECT_FALSE(IsUkNino("AB12345C"));
  EXPECT_FALSE(IsUkNino("AB1234567C"));
  EXPECT_FALSE(IsUkNino("A1123456C"));
  EXPECT_FALSE(IsUkNino("AB  123456C"));
  EXPECT_FALSE(IsUkNino("AB-12-34-56-C"));
}

TEST(UtrTest, AcceptsValidCheckDigit) {
  EXPECT_TRUE(IsUkUtr("2234567890"));  // hmrc/reference-checker README example
  EXPECT_TRUE(IsUkUtr("2234567890K"));
  EXPECT_TRUE(IsUkUtr("22345 67890"));
  // Digits 2-10 "123456789": 6+14+24+36+50+30+28+24+18 = 230, 230 mod 11 = 10 -> '1'.
  EXPECT_TRUE(IsUkUtr("1123456789"));
}

TEST(UtrTest, RejectsWrongCheckDigitAndShape) {
  EXPECT_FALSE(IsUkUtr("1234567890"));  // GOV.UK's placeholder example, checksum fails
  EXPECT_FALSE(IsUkUtr("3234567890"));
  EXPECT_FALSE(IsUkUtr("223456789"));
  EXPECT_FALSE(IsUkUtr("22345678901"));
  EXPECT_FALSE(IsUkUtr("2234567890KK"));
  EXPECT_FALSE(IsUkUtr("K2234567890"));
}

// ---- Canada -----------------------------------------------------------------------------------

TEST(SinTest, AcceptsValidNumbers) {
  EXPECT_TRUE(IsCaSin("130 692 544"));
  EXPECT_TRUE(IsCaSin("130692544"));
  EXPECT_TRUE(IsCaSin("193-456-787"));
  EXPECT_TRUE(IsCaSin("123 456 782"));
}

TEST(SinTest, GovernmentExampleIsLuhnValidButStartsWithZero) {
  // Canada.ca's illustrative SIN 046 454 286 passes Luhn, but no SIN is assigned with first
  // digit 0, so the strict validator rejects it.
  EXPECT_TRUE(LuhnValid("046454286"));
  EXPECT_FALSE(IsCaSin("046 454 286"));
}

TEST(SinTest, RejectsLuhnFailureAndUnassignedFirstDigits) {
  EXPECT_FALSE(IsCaSin("130 692 545"));
  EXPECT_FALSE(IsCaSin("812345676"));  // Luhn ok, first digit 8
  EXPECT_FALSE(IsCaSin("012345674"));  // Luhn ok, first digit 0
  EXPECT_FALSE(IsCaSin("000000000"));
  EXPECT_FALSE(IsCaSin("130 692-544"));
  EXPECT_FALSE(IsCaSin("13069254"));
}

// ---- VIN --------------------------------------------------------------------------------------

TEST(VinTest, AcceptsValidCheckDigits) {
  EXPECT_TRUE(VinCheckDigitValid("1M8GDM9AXKP042788"));  // check digit X
  EXPECT_TRUE(VinCheckDigitValid("11111111111111111"));
  EXPECT_TRUE(VinCheckDigitValid("1HGCM82633A004352"));
  EXPECT_TRUE(VinCheckDigitValid("5YJSA1DG9DFP14705"));
}

TEST(VinTest, EuropeanVinHasShapeButNoCheckDigit) {
  EXPECT_TRUE(IsVin("WP0ZZZ99ZTS392124"));
  EXPECT_FALSE(VinCheckDigitValid("WP0ZZZ99ZTS392124"));
}

TEST(VinTest, RejectsChangedCharactersForbiddenLettersAndShape) {
  EXPECT_FALSE(VinCheckDigitValid("1M8GDM9AXKP042789"));
  EXPECT_FALSE(VinCheckDigitValid("1M8GDM9A1KP042788"));
  EXPECT_FALSE(IsVin("1M8GDM9AXKP04278"));
  EXPECT_FALSE(IsVin("1M8GDM9AXKP0427888"));
  EXPECT_FALSE(IsVin("1M8GDM9AXKI042788"));
  EXPECT_FALSE(IsVin("1M8GDM9AXKO042788"));
  EXPECT_FALSE(IsVin("1M8GDM9AXKQ042788"));
  EXPECT_FALSE(IsVin("1m8gdm9axkp042788"));
}

// ---- AWS --------------------------------------------------------------------------------------

TEST(AwsKeyTest, AcceptsDocumentedExampleAndOtherPrefixes) {
  EXPECT_TRUE(IsAwsAccessKeyId("AKIAIOSFODNN7EXAMPLE"));  // AWS documentation example
  EXPECT_TRUE(IsAwsAccessKeyId("ASIAIOSFODNN7EXAMPLE"));
  EXPECT_TRUE(IsAwsAccessKeyId("AROAZZZZZZZZ22222222"));
  EXPECT_TRUE(IsAwsAccessKeyId("ACCA234567ABCDEFGHIJ"));
}

TEST(AwsKeyTest, RejectsUnknownPrefixAlphabetAndLength) {
  EXPECT_FALSE(IsAwsAccessKeyId("AKIBIOSFODNN7EXAMPLE"));
  EXPECT_FALSE(IsAwsAccessKeyId("AKIAIOSFODNN1EXAMPLE"));  // 1 is not base32
  EXPECT_FALSE(IsAwsAccessKeyId("AKIAIOSFODNN8EXAMPLE"));  // 8 is not base32
  EXPECT_FALSE(IsAwsAccessKeyId("akiaiosfodnn7example"));
  EXPECT_FALSE(IsAwsAccessKeyId("AKIAIOSFODNN7EXAMPL"));
  EXPECT_FALSE(IsAwsAccessKeyId("AKIAIOSFODNN7EXAMPLEE"));
}

// ---- Nigeria ----------------------------------------------------------------------------------

TEST(NubanTest, MatchesCbnWorkedExamples) {
  // CBN NUBAN proposals v0.4: First Bank (011), serial 000001457 -> check 9; serial 000000022
  // -> check 0.
  EXPECT_TRUE(NubanCheckDigitValid("011", "0000014579"));
  EXPECT_TRUE(NubanCheckDigitValid("011", "0000000220"));
  EXPECT_FALSE(NubanCheckDigitValid("011", "0000014578"));
  EXPECT_FALSE(NubanCheckDigitValid("011", "0000000221"));
}

TEST(NubanTest, MatchesHandComputedVectors) {
  // GTBank 058, serial 012345678, padded 000058:
  // code 0*3+0*7+0*3+0*3+5*7+8*3 = 59; serial 0*3+1*7+2*3+3*3+4*7+5*3+6*3+7*7+8*3 = 156;
  // 215 mod 10 = 5, check 10-5 = 5.
  EXPECT_TRUE(NubanCheckDigitValid("058", "0123456785"));
  EXPECT_TRUE(NubanCheckDigitValid("000058", "0123456785"));
  EXPECT_FALSE(NubanCheckDigitValid("058", "0123456784"));
  // Access 044, serial 001024678: 0+28+12 + (0+0+3+0+14+12+18+49+24) = 160, check 0. The same
  // value appears as a valid pair in a public NUBAN library's tests.
  EXPECT_TRUE(NubanCheckDigitValid("044", "0010246780"));
}

TEST(NubanTest, PadsFiveDigitOfiCodesWithNine) {
  // CBN example OFI code 50547 -> 950547: 9*3+5*7+0*3+5*3+4*7+7*3 = 126; serial 000000001
  // adds 1*3; 129 mod 10 = 9, check 1.
  EXPECT_TRUE(NubanCheckDigitValid("50547", "0000000011"));
  EXPECT_TRUE(NubanCheckDigitValid("950547", "0000000011"));
  EXPECT_FALSE(NubanCheckDigitValid("50547", "0000000010"));
  // Without the leading 9 the code would weigh 0+35+0+15+28+21 = 99 and give check 8: the
  // padding matters.
  EXPECT_FALSE(NubanCheckDigitValid("50547", "0000000018"));
}

TEST(NubanTest, RejectsBadShapes) {
  EXPECT_FALSE(NubanCheckDigitValid("11", "0000014579"));
  EXPECT_FALSE(NubanCheckDigitValid("0111", "0000014579"));
  EXPECT_FALSE(NubanCheckDigitValid("011", "000014579"));
  EXPECT_FALSE(NubanCheckDigitValid("011", "00000145790"));
  EXPECT_FALSE(NubanCheckDigitValid("011", "000001457a"));
  EXPECT_FALSE(NubanCheckDigitValid("01a", "0000014579"));
  EXPECT_TRUE(NubanBanks("000001457").empty());
  EXPECT_TRUE(NubanBanks("0000-014579").empty());
  EXPECT_FALSE(IsNuban("000001457x"));
}

TEST(NubanTest, ListsEveryShippedBankWhoseCodeFits) {
  // 011, 033 and 044 all weigh 0 mod 10 ((0+7+3), (0+21+9), (0+28+12)).
  EXPECT_THAT(NubanBanks("0000014579"), UnorderedElementsAre("011", "033", "044"));
  EXPECT_THAT(NubanBanks("0123456785"), UnorderedElementsAre("058", "070", "102", "50515"));
  EXPECT_THAT(NubanBanks("0000014578"), Not(Contains("011")));
}

TEST(NubanTest, ShippedDigitalBanksUseTheOfiForm) {
  // Kuda (50211) and Moniepoint (50515): the check digit runs over "9" + the 5-digit code.
  EXPECT_TRUE(NubanCheckDigitValid("50515", "0123456785"));
  EXPECT_TRUE(NubanCheckDigitValid("950515", "0123456785"));
  EXPECT_FALSE(NubanCheckDigitValid("50515", "0123456784"));
}

TEST(NubanTest, BanksListIsConsistentWithTheCheck) {
  for (const char* account : {"0000014579", "0123456785", "9876543210", "1111111111"}) {
    auto banks = NubanBanks(account);
    for (const NgBank& bank : NgBanks()) {
      bool listed = std::find(banks.begin(), banks.end(), bank.code) != banks.end();
      EXPECT_EQ(listed, NubanCheckDigitValid(bank.code, account)) << account << " " << bank.code;
    }
  }
}

TEST(NubanTest, IsNubanIsOnlyAShapeCheckWithTheFullTable) {
  // Documented limitation: the shipped codes cover all ten check-digit residues.
  for (char last = '0'; last <= '9'; ++last) {
    EXPECT_TRUE(IsNuban(std::string("012345678") + last)) << last;
  }
}

TEST(NgBanksTest, TableIsSortedUniqueAndHasTheMainBanks) {
  auto banks = NgBanks();
  ASSERT_FALSE(banks.empty());
  for (std::size_t i = 1; i < banks.size(); ++i) {
    EXPECT_LT(banks[i - 1].code, banks[i].code);
  }
  for (const NgBank& bank : banks) {
    EXPECT_TRUE(bank.code.size() == 3u || bank.code.size() == 5u) << bank.code;
    EXPECT_FALSE(bank.name.empty());
  }
  auto has = [&](std::string_view code) {
    return std::any_of(banks.begin(), banks.end(), [&](const NgBank& b) { return b.code == code; });
  };
  for (std::string_view code :
       {"044", "058", "011", "033", "057", "070", "214", "032", "221", "232",
        "050", "035", "076", "082", "215", "023", "068", "030", "301", "101",
        "100", "102", "103", "104", "105", "107", "303", "302"}) {
    EXPECT_TRUE(has(code)) << code;
  }
}

TEST(NgIdTest, BvnShapeAndUsualPrefix) {
  EXPECT_TRUE(IsNgBvn("22123456789"));
  EXPECT_TRUE(NgBvnHasUsualPrefix("22123456789"));
  EXPECT_TRUE(IsNgBvn("12345678901"));
  EXPECT_FALSE(NgBvnHasUsualPrefix("12345678901"));
  EXPECT_FALSE(IsNgBvn("2212345678"));
  EXPECT_FALSE(IsNgBvn("221234567890"));
  EXPECT_FALSE(IsNgBvn("2212345678a"));
  EXPECT_FALSE(IsNgBvn("221 2345 6789"));
  EXPECT_FALSE(NgBvnHasUsualPrefix("2212345678"));
}

TEST(NgIdTest, NinShape) {
  EXPECT_TRUE(IsNgNin("12345678901"));
  EXPECT_FALSE(IsNgNin("1234567890"));
  EXPECT_FALSE(IsNgNin("123456789012"));
  EXPECT_FALSE(IsNgNin("1234567890O"));
}

TEST(NgIdTest, TinFirsAndJtbShapes) {
  EXPECT_TRUE(IsNgTin("12345678-0001"));
  EXPECT_TRUE(IsNgTin("1234567890"));
  EXPECT_FALSE(IsNgTin("123456780001"));
  EXPECT_FALSE(IsNgTin("1234567-80001"));
  EXPECT_FALSE(IsNgTin("12345678-001"));
  EXPECT_FALSE(IsNgTin("12345678 0001"));
  EXPECT_FALSE(IsNgTin("123456789"));
}

// ---- bounds -----------------------------------------------------------------------------------

TEST(BoundsTest, EveryValidatorRefusesOverlongInput) {
  const std::string big(4096, '9');
  EXPECT_FALSE(IsCreditCardNumber(big));
  EXPECT_FALSE(IsIban(big));
  EXPECT_FALSE(IsSwiftBic(big));
  EXPECT_FALSE(IsAbaRoutingNumber(big));
  EXPECT_FALSE(IsIpv4(big));
  EXPECT_FALSE(IsIpv6(big));
  EXPECT_FALSE(IsMacAddress(big));
  EXPECT_FALSE(IsUsSsn(big));
  EXPECT_FALSE(IsUsItin(big));
  EXPECT_FALSE(IsUkNhsNumber(big));
  EXPECT_FALSE(IsUkNino(big));
  EXPECT_FALSE(IsUkUtr(big));
  EXPECT_FALSE(IsCaSin(big));
  EXPECT_FALSE(IsVin(big));
  EXPECT_FALSE(VinCheckDigitValid(big));
  EXPECT_FALSE(IsAwsAccessKeyId(big));
  EXPECT_FALSE(IsNuban(big));
  EXPECT_FALSE(IsNgBvn(big));
  EXPECT_FALSE(IsNgNin(big));
  EXPECT_FALSE(IsNgTin(big));
  EXPECT_EQ(DigitsOnly(big), "");
  EXPECT_FALSE(LuhnValid(big));
}

}  // namespace
}  // namespace perimeter::guard
