#include "guard/scanner.h"

#include <hs/hs.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bitset>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "guard/entity.h"
#include "guard/validators.h"

namespace perimeter::guard {
namespace {

// ---- entity types -----------------------------------------------------------------------------

// Detectable entity types, in the order of Entities() (the overlap tie-break).
enum T : uint8_t {
  kAge,
  kAwsAccessKey,
  kAwsSecretKey,
  kCaHealth,
  kCaSin,
  kCvv,
  kExpiry,
  kCard,
  kDriverId,
  kEmail,
  kIban,
  kIp,
  kPlate,
  kMac,
  kPassword,
  kPhone,
  kPin,
  kSwift,
  kNhs,
  kNino,
  kUtr,
  kUrl,
  kUsername,
  kUsAccount,
  kRouting,
  kItin,
  kPassport,
  kSsn,
  kVin,
  kBvn,
  kNin,
  kNuban,
  kTin,
  kPrivateKey,
  kJwt,
  kBearer,
  kGithub,
  kSlack,
  kStripe,
  kGeneric,
  kTypeCount,
};

constexpr std::array<std::string_view, kTypeCount> kTypeNames = {
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
    "NG_BVN",
    "NG_NIN",
    "NG_NUBAN",
    "NG_TIN",
    "SECRET_PRIVATE_KEY",
    "SECRET_JWT",
    "SECRET_BEARER_TOKEN",
    "SECRET_GITHUB_TOKEN",
    "SECRET_SLACK_TOKEN",
    "SECRET_STRIPE_KEY",
    "SECRET_GENERIC",
};

using TypeSet = std::bitset<kTypeCount>;

constexpr uint64_t Bit(T t) { return uint64_t{1} << t; }

// ---- context words ----------------------------------------------------------------------------

// What a context word says about the value near it.
enum Ctx : uint8_t {
  kCtxCard,
  kCtxCvv,
  kCtxExpiry,
  kCtxPhone,
  kCtxSsn,
  kCtxItin,
  kCtxSin,
  kCtxRouting,  // also a US banking signal for account numbers
  kCtxAccount,
  kCtxNuban,
  kCtxNgSignal,  // naira, NGN, Nigeria: the account is probably a NUBAN
  kCtxBank,      // a Nigerian bank's name (KeywordDef::bank)
  kCtxBvn,
  kCtxNin,
  kCtxTin,
  kCtxUtr,
  kCtxNhs,
  kCtxPassport,
  kCtxHealth,
  kCtxDriver,
  kCtxPlate,
  kCtxUsername,
  kCtxPassword,
  kCtxPasscode,
  kCtxPin,
  kCtxAge,       // "age 34"
  kCtxAgeAfter,  // "34 years old"
  kCtxBearer,
  kCtxAuthorization,
  kCtxSecret,
  kCtxAwsSecret,
  kCtxSwift,
  kCtxVin,
  kCtxNino,
  kCtxEmailWord,  // "email", "e-mail": the value after it is not a username
  kCtxRef,        // "order", "invoice", "ref": the number is a reference, not an identifier
  kCtxUsBank,     // "US account", "Chase": a US bank account rather than a NUBAN
  kCtxCount,
};

// Keyword flags.
constexpr uint8_t kWeak = 1;       // the value after it needs ':' or '=' ("pass", "key", "user")
constexpr uint8_t kJoinLeft = 2;   // may follow '_' ("DB_PASSWORD", "OPENAI_API_KEY")
constexpr uint8_t kJoinRight = 4;  // may be followed by letters/digits ("cvv2" is listed anyway)
// Compiled into the Hyperscan database: the word announces a value without digits (a password,
// a user name, a token), so no other trigger would lead to it. Every other word is looked up
// lazily, only around candidates (see KeywordIndex).
constexpr uint8_t kInDb = 8;

struct KeywordDef {
  std::string_view word;  // ASCII lower case (matched case-insensitively) or UTF-8
  Ctx ctx;
  uint8_t flags = 0;
  int8_t bank = -1;  // index into kBankAliases for kCtxBank
};

// Short names people use for Nigerian banks, with the CBN codes they may mean. Wallet operators
// whose account numbers are phone numbers (no NUBAN check digit) carry an empty code list.
struct BankAlias {
  std::string_view name;
  std::array<std::string_view, 2> codes;
};

constexpr BankAlias kBankAliases[] = {
    {"first bank", {"011"}},
    {"firstbank", {"011"}},
    {"fbn", {"011"}},
    {"citibank", {"023"}},
    {"heritage", {"030"}},
    {"union bank", {"032"}},
    {"unionbank", {"032"}},
    {"uba", {"033"}},
    {"united bank for africa", {"033"}},
    {"wema", {"035"}},
    {"alat", {"035"}},
    {"access", {"044", "063"}},
    {"diamond", {"063"}},
    {"ecobank", {"050"}},
    {"zenith", {"057"}},
    {"gtbank", {"058"}},
    {"gt bank", {"058"}},
    {"gtb", {"058"}},
    {"gtco", {"058"}},
    {"guaranty trust", {"058"}},
    {"standard chartered", {"068"}},
    {"fidelity", {"070"}},
    {"polaris", {"076"}},
    {"skye", {"076"}},
    {"keystone", {"082"}},
    {"suntrust", {"100"}},
    {"providus", {"101"}},
    {"titan trust", {"102"}},
    {"globus", {"103"}},
    {"parallex", {"104"}},
    {"premiumtrust", {"105"}},
    {"premium trust", {"105"}},
    {"signature bank", {"106"}},
    {"optimus", {"107"}},
    {"fcmb", {"214"}},
    {"first city monument", {"214"}},
    {"unity bank", {"215"}},
    {"stanbic", {"221"}},
    {"sterling", {"232"}},
    {"jaiz", {"301"}},
    {"taj bank", {"302"}},
    {"lotus bank", {"303"}},
    {"fsdh", {"501"}},
    {"rand merchant", {"502"}},
    {"coronation", {"559"}},
    {"greenwich", {"562"}},
    {"kuda", {"50211"}},
    {"moniepoint", {"50515"}},
    {"opay", {}},
    {"palmpay", {}},
    {"paga", {}},
};
constexpr int kBankAliasCount = static_cast<int>(std::size(kBankAliases));

constexpr int8_t BankIndex(std::string_view name) {
  for (int i = 0; i < kBankAliasCount; ++i) {
    if (kBankAliases[i].name == name) {
      return static_cast<int8_t>(i);
    }
  }
  return -1;
}

template <size_t N>
constexpr std::array<KeywordDef, N + kBankAliasCount> WithBanks(
    const std::array<KeywordDef, N>& words) {
  std::array<KeywordDef, N + kBankAliasCount> out{};
  for (size_t i = 0; i < N; ++i) {
    out[i] = words[i];
  }
  for (int i = 0; i < kBankAliasCount; ++i) {
    out[N + i] = KeywordDef{kBankAliases[i].name, kCtxBank, 0, static_cast<int8_t>(i)};
  }
  return out;
}

constexpr std::array kWordsWithoutBanks = {
    KeywordDef{"card", kCtxCard},
    KeywordDef{"credit card", kCtxCard},
    KeywordDef{"debit card", kCtxCard},
    KeywordDef{"card number", kCtxCard},
    KeywordDef{"visa", kCtxCard},
    KeywordDef{"mastercard", kCtxCard},
    KeywordDef{"amex", kCtxCard},
    KeywordDef{"verve", kCtxCard},
    KeywordDef{"cvv", kCtxCvv},
    KeywordDef{"cvv2", kCtxCvv},
    KeywordDef{"cvc", kCtxCvv},
    KeywordDef{"cvc2", kCtxCvv},
    KeywordDef{"csc", kCtxCvv},
    KeywordDef{"security code", kCtxCvv},
    KeywordDef{"card verification", kCtxCvv},
    KeywordDef{"exp", kCtxExpiry},
    KeywordDef{"exp date", kCtxExpiry},
    KeywordDef{"expiry", kCtxExpiry},
    KeywordDef{"expiry date", kCtxExpiry},
    KeywordDef{"expires", kCtxExpiry},
    KeywordDef{"expiring", kCtxExpiry},
    KeywordDef{"expiration", kCtxExpiry},
    KeywordDef{"expiration date", kCtxExpiry},
    KeywordDef{"valid thru", kCtxExpiry},
    KeywordDef{"valid through", kCtxExpiry},
    KeywordDef{"valid until", kCtxExpiry},
    KeywordDef{"good thru", kCtxExpiry},
    KeywordDef{"phone", kCtxPhone},
    KeywordDef{"telephone", kCtxPhone},
    KeywordDef{"tel", kCtxPhone},
    KeywordDef{"mobile", kCtxPhone},
    KeywordDef{"cell", kCtxPhone},
    KeywordDef{"call", kCtxPhone},
    KeywordDef{"whatsapp", kCtxPhone},
    KeywordDef{"sms", kCtxPhone},
    KeywordDef{"text me", kCtxPhone},
    KeywordDef{"fax", kCtxPhone},
    KeywordDef{"contact", kCtxPhone},
    KeywordDef{"ssn", kCtxSsn},
    KeywordDef{"social security", kCtxSsn},
    KeywordDef{"itin", kCtxItin},
    KeywordDef{"individual taxpayer", kCtxItin},
    KeywordDef{"sin", kCtxSin},
    KeywordDef{"social insurance", kCtxSin},
    KeywordDef{"routing", kCtxRouting},
    KeywordDef{"aba", kCtxRouting},
    KeywordDef{"rtn", kCtxRouting},
    KeywordDef{"checking", kCtxRouting},
    KeywordDef{"savings", kCtxAccount},
    KeywordDef{"account", kCtxAccount},
    KeywordDef{"acct", kCtxAccount},
    KeywordDef{"acc no", kCtxAccount},
    KeywordDef{"a/c", kCtxAccount},
    KeywordDef{"nuban", kCtxNuban},
    KeywordDef{"naira", kCtxNgSignal},
    KeywordDef{"ngn", kCtxNgSignal},
    KeywordDef{"nigeria", kCtxNgSignal},
    KeywordDef{"nigerian", kCtxNgSignal},
    KeywordDef{"\xE2\x82\xA6", kCtxNgSignal},  // NAIRA SIGN
    KeywordDef{"bvn", kCtxBvn},
    KeywordDef{"bank verification", kCtxBvn},
    KeywordDef{"nin", kCtxNin},
    KeywordDef{"nimc", kCtxNin},
    KeywordDef{"national identification", kCtxNin},
    KeywordDef{"national identity", kCtxNin},
    KeywordDef{"national id", kCtxNin},
    KeywordDef{"tin", kCtxTin},
    KeywordDef{"tax identification", kCtxTin},
    KeywordDef{"tax id", kCtxTin},
    KeywordDef{"firs", kCtxTin},
    KeywordDef{"jtb", kCtxTin},
    KeywordDef{"utr", kCtxUtr},
    KeywordDef{"unique taxpayer", kCtxUtr},
    KeywordDef{"unique taxpayer reference", kCtxUtr},
    KeywordDef{"taxpayer reference", kCtxUtr},
    KeywordDef{"tax reference", kCtxUtr},
    KeywordDef{"self assessment", kCtxUtr},
    KeywordDef{"hmrc", kCtxUtr},
    KeywordDef{"nhs", kCtxNhs},
    KeywordDef{"passport", kCtxPassport},
    KeywordDef{"health card", kCtxHealth},
    KeywordDef{"health number", kCtxHealth},
    KeywordDef{"health insurance", kCtxHealth},
    KeywordDef{"ohip", kCtxHealth},
    KeywordDef{"msp", kCtxHealth},
    KeywordDef{"ramq", kCtxHealth},
    KeywordDef{"phn", kCtxHealth},
    KeywordDef{"driver", kCtxDriver},
    KeywordDef{"drivers", kCtxDriver},
    KeywordDef{"driver's", kCtxDriver},
    KeywordDef{"driving licence", kCtxDriver},
    KeywordDef{"driving license", kCtxDriver},
    KeywordDef{"licence", kCtxDriver},
    KeywordDef{"license", kCtxDriver},
    KeywordDef{"dl", kCtxDriver},
    KeywordDef{"dln", kCtxDriver},
    KeywordDef{"plate", kCtxPlate},
    KeywordDef{"license plate", kCtxPlate},
    KeywordDef{"licence plate", kCtxPlate},
    KeywordDef{"number plate", kCtxPlate},
    KeywordDef{"registration", kCtxPlate},
    KeywordDef{"reg", kCtxPlate},
    KeywordDef{"username", kCtxUsername, kJoinLeft | kInDb},
    KeywordDef{"user name", kCtxUsername, kInDb},
    KeywordDef{"user", kCtxUsername, kWeak | kJoinLeft | kInDb},
    KeywordDef{"userid", kCtxUsername, kInDb},
    KeywordDef{"user id", kCtxUsername, kInDb},
    KeywordDef{"login", kCtxUsername, kWeak | kInDb},
    KeywordDef{"handle", kCtxUsername, kWeak | kInDb},
    KeywordDef{"screen name", kCtxUsername, kInDb},
    KeywordDef{"email", kCtxEmailWord},
    KeywordDef{"e-mail", kCtxEmailWord},
    KeywordDef{"password", kCtxPassword, kJoinLeft | kInDb},
    KeywordDef{"passwd", kCtxPassword, kJoinLeft | kInDb},
    KeywordDef{"pwd", kCtxPassword, kJoinLeft | kInDb},
    KeywordDef{"pass", kCtxPassword, kWeak | kJoinLeft | kInDb},
    KeywordDef{"pw", kCtxPassword, kWeak | kInDb},
    KeywordDef{"passphrase", kCtxPassword, kJoinLeft | kInDb},
    KeywordDef{"passcode", kCtxPasscode, kInDb},
    KeywordDef{"pin", kCtxPin},
    KeywordDef{"age", kCtxAge},
    KeywordDef{"aged", kCtxAge},
    KeywordDef{"years old", kCtxAgeAfter},
    KeywordDef{"year old", kCtxAgeAfter},
    KeywordDef{"years-old", kCtxAgeAfter},
    KeywordDef{"year-old", kCtxAgeAfter},
    KeywordDef{"yrs", kCtxAgeAfter},
    KeywordDef{"yrs old", kCtxAgeAfter},
    KeywordDef{"y/o", kCtxAgeAfter},
    KeywordDef{"years of age", kCtxAgeAfter},
    KeywordDef{"bearer", kCtxBearer, kInDb},
    KeywordDef{"authorization", kCtxAuthorization, kInDb},
    KeywordDef{"secret", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"secret_key", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"secretkey", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"secret key", kCtxSecret, kInDb},
    KeywordDef{"client_secret", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"clientsecret", kCtxSecret, kInDb},
    KeywordDef{"api_key", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"apikey", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"api-key", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"api key", kCtxSecret, kInDb},
    KeywordDef{"api token", kCtxSecret, kInDb},
    KeywordDef{"token", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"access_token", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"auth_token", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"access token", kCtxSecret, kInDb},
    KeywordDef{"private_key", kCtxSecret, kJoinLeft | kInDb},
    KeywordDef{"key", kCtxSecret, kWeak | kJoinLeft | kInDb},
    KeywordDef{"credential", kCtxSecret, kWeak | kInDb},
    KeywordDef{"credentials", kCtxSecret, kWeak | kInDb},
    KeywordDef{"aws_secret_access_key", kCtxAwsSecret, kJoinLeft | kInDb},
    KeywordDef{"secret_access_key", kCtxAwsSecret, kJoinLeft | kInDb},
    KeywordDef{"secretaccesskey", kCtxAwsSecret, kInDb},
    KeywordDef{"secret access key", kCtxAwsSecret, kInDb},
    KeywordDef{"aws secret", kCtxAwsSecret, kInDb},
    KeywordDef{"swift", kCtxSwift, kInDb},
    KeywordDef{"bic", kCtxSwift, kInDb},
    KeywordDef{"vin", kCtxVin},
    KeywordDef{"vehicle identification", kCtxVin},
    KeywordDef{"chassis", kCtxVin},
    KeywordDef{"national insurance", kCtxNino},
    KeywordDef{"nino", kCtxNino},
    KeywordDef{"assurance sociale", kCtxSin},
    KeywordDef{"nas", kCtxSin},
    KeywordDef{"carte sant\xC3\xA9", kCtxHealth},
    KeywordDef{"services card", kCtxHealth},
    KeywordDef{"intermediary bank", kCtxSwift, kInDb},
    KeywordDef{"correspondent bank", kCtxSwift, kInDb},
    KeywordDef{"beneficiary bank", kCtxSwift, kInDb},
    KeywordDef{"us account", kCtxUsBank},
    KeywordDef{"u.s. account", kCtxUsBank},
    KeywordDef{"usa", kCtxUsBank},
    KeywordDef{"chase", kCtxUsBank},
    KeywordDef{"wells fargo", kCtxUsBank},
    KeywordDef{"bank of america", kCtxUsBank},
    KeywordDef{"order", kCtxRef},
    KeywordDef{"ref", kCtxRef},
    KeywordDef{"reference", kCtxRef},
    KeywordDef{"invoice", kCtxRef},
    KeywordDef{"ticket", kCtxRef},
    KeywordDef{"transaction", kCtxRef},
    KeywordDef{"tracking", kCtxRef},
    KeywordDef{"receipt", kCtxRef},
    KeywordDef{"booking", kCtxRef},
    KeywordDef{"statement", kCtxRef},
    KeywordDef{"session", kCtxRef},
    KeywordDef{"ni number", kCtxNino},
};

constexpr auto kKeywords = WithBanks(kWordsWithoutBanks);

static_assert(BankIndex("gtbank") >= 0);

// Which types a context word helps; a word is compiled in only when one of them is enabled.
constexpr uint64_t CtxTypes(Ctx c) {
  switch (c) {
    case kCtxCard:
      return Bit(kCard);
    case kCtxCvv:
      return Bit(kCvv);
    case kCtxExpiry:
      return Bit(kExpiry);
    case kCtxPhone:
      return Bit(kPhone);
    case kCtxSsn:
      return Bit(kSsn);
    case kCtxItin:
      return Bit(kItin);
    case kCtxSin:
      return Bit(kCaSin);
    case kCtxRouting:
      return Bit(kRouting) | Bit(kUsAccount);
    case kCtxAccount:
    case kCtxNuban:
    case kCtxNgSignal:
    case kCtxBank:
      return Bit(kUsAccount) | Bit(kNuban);
    case kCtxBvn:
      return Bit(kBvn);
    case kCtxNin:
      return Bit(kNin);
    case kCtxTin:
      return Bit(kTin);
    case kCtxUtr:
      return Bit(kUtr);
    case kCtxNhs:
      return Bit(kNhs);
    case kCtxPassport:
      return Bit(kPassport);
    case kCtxHealth:
      return Bit(kCaHealth);
    case kCtxDriver:
      return Bit(kDriverId);
    case kCtxPlate:
      return Bit(kPlate);
    case kCtxUsername:
    case kCtxEmailWord:
      return Bit(kUsername);
    case kCtxRef:
      return 0;
    case kCtxUsBank:
      return Bit(kUsAccount) | Bit(kNuban);
    case kCtxPassword:
      return Bit(kPassword);
    case kCtxPasscode:
      return Bit(kPassword) | Bit(kPin);
    case kCtxPin:
      return Bit(kPin);
    case kCtxAge:
    case kCtxAgeAfter:
      return Bit(kAge);
    case kCtxBearer:
    case kCtxAuthorization:
      return Bit(kBearer);
    case kCtxSecret:
    case kCtxAwsSecret:
      return Bit(kGeneric) | Bit(kAwsSecretKey);
    case kCtxSwift:
      return Bit(kSwift);
    case kCtxVin:
      return Bit(kVin);
    case kCtxNino:
      return Bit(kNino);
    case kCtxCount:
      break;
  }
  return 0;
}

// ---- trigger patterns -------------------------------------------------------------------------

// A trigger only says "a candidate of this shape ends here"; the extractor finds its extent.
// Patterns are ASCII-only byte patterns (no HS_FLAG_UTF8 needed) and avoid start-of-match.
enum Trig : uint8_t {
  kTrigDigits,
  kTrigEmail,
  kTrigUrl,
  kTrigIpv4,
  kTrigIpv6,
  kTrigMac,
  kTrigIban,
  kTrigVin,
  kTrigNino,
  kTrigAwsKey,
  kTrigPrivateKey,
  kTrigJwt,
  kTrigGithub,
  kTrigSlack,
  kTrigStripe,
  kTrigUserinfo,
  kTrigCount,
};

struct TriggerDef {
  Trig trig;
  const char* regex;
  unsigned flags;
  uint64_t types;  // compiled when one of these is enabled
};

constexpr uint64_t kDigitTypes = Bit(kCard) | Bit(kPhone) | Bit(kSsn) | Bit(kItin) | Bit(kCaSin) |
                                 Bit(kRouting) | Bit(kNhs) | Bit(kUtr) | Bit(kNuban) | Bit(kBvn) |
                                 Bit(kNin) | Bit(kTin) | Bit(kUsAccount) | Bit(kPassport) |
                                 Bit(kCaHealth) | Bit(kDriverId);
// Values with digits read after a context word that is looked up around every digit group.
constexpr uint64_t kShortDigitTypes = Bit(kCvv) | Bit(kPin) | Bit(kAge) | Bit(kExpiry) |
                                      Bit(kPassport) | Bit(kDriverId) | Bit(kPlate) |
                                      Bit(kCaHealth);

// Performance rule: every trigger starts with something rare in prose (a digit, '@', a literal).
// A trigger starting with a letter class ("[A-Z]{6}...") makes Hyperscan step through every
// capital letter of English text and halves the throughput; such shapes are anchored on their
// digits instead (IBAN check digits, the digits of a VIN or NINO) and SWIFT codes are read after
// their context word.
const TriggerDef kTriggers[] = {
    // The first digit of every group of digits. One hit per group, never one per digit: a
    // trigger that matches at every digit of a long run costs a callback per byte.
    {kTrigDigits, "(?:^|[^0-9])[0-9]", 0, kDigitTypes | kShortDigitTypes},
    {kTrigEmail, "@[A-Za-z0-9\\-]+\\.[A-Za-z]", 0, Bit(kEmail)},
    {kTrigUrl, "(?:https?|ftp)://[^\\s]|www\\.[A-Za-z0-9]", HS_FLAG_CASELESS,
     Bit(kUrl) | Bit(kSlack)},
    {kTrigIpv4, "[0-9]\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]", 0, Bit(kIp)},
    {kTrigIpv6, "[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:|::[0-9A-Fa-f]", 0, Bit(kIp)},
    {kTrigMac,
     "[0-9A-Fa-f]{2}[:\\-][0-9A-Fa-f]{2}[:\\-][0-9A-Fa-f]{2}[:\\-][0-9A-Fa-f]{2}[:\\-][0-9A-Fa-f]"
     "{2}[:\\-][0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}",
     0, Bit(kMac)},
    // The check digits and the first four BBAN characters (the country is checked by hand).
    {kTrigIban, "(?:^|[^0-9])[0-9]{2} ?[A-Z0-9]{4}", 0, Bit(kIban)},
    // The start of a group of digits followed by three more VIN characters: every VIN has one
    // (its serial part is numeric).
    {kTrigVin, "(?:^|[^0-9])[0-9][A-HJ-NPR-Z0-9]{3}", 0, Bit(kVin)},
    // The six digits and the suffix letter of a NINO; the prefix letters are checked by hand.
    {kTrigNino, "[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]", 0, Bit(kNino)},
    {kTrigAwsKey, "A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|BIA|CCA)[A-Z2-7]{16}", 0,
     Bit(kAwsAccessKey) | Bit(kAwsSecretKey)},
    {kTrigPrivateKey, "-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----", 0, Bit(kPrivateKey)},
    {kTrigJwt, "eyJ[A-Za-z0-9_\\-]{8}", 0, Bit(kJwt)},
    {kTrigGithub, "gh[pousr]_[A-Za-z0-9]{30}|github_pat_[A-Za-z0-9_]{20}", 0, Bit(kGithub)},
    {kTrigSlack, "xox[abposre]-[A-Za-z0-9\\-]{8}|xapp-[0-9]-[A-Za-z0-9]{6}", 0, Bit(kSlack)},
    {kTrigStripe, "[sr]k_(?:live|test)_[A-Za-z0-9]{10}", 0, Bit(kStripe)},
    // "postgres://user:password@host": the password of a connection string.
    {kTrigUserinfo, "://[^\\s/@:]{1,64}:[^\\s@/]{1,128}@", 0, Bit(kPassword)},
};

// ---- compiled pattern table -------------------------------------------------------------------

enum class Kind : uint8_t { kTrigger, kKeyword, kCustom };

struct PatternMeta {
  Kind kind;
  uint16_t index;  // Trig, index into kKeywords, or index into custom names
};

std::atomic<uint64_t> g_next_generation{1};

}  // namespace

struct Scanner::Impl {
  hs_database_t* db = nullptr;
  uint64_t generation = 0;
  TypeSet enabled;
  std::vector<PatternMeta> patterns;  // by Hyperscan id
  std::vector<std::string> custom_names;

  ~Impl() {
    if (db != nullptr) {
      hs_free_database(db);
    }
  }
  bool On(T t) const { return enabled.test(t); }
};

namespace {

// ---- per-thread scan state --------------------------------------------------------------------

struct Hit {
  uint32_t start;  // custom patterns only
  uint32_t end;
  uint32_t id;
};

struct KeywordHit {
  uint32_t begin;
  uint32_t end;
  Ctx ctx;
  uint8_t flags;
  int8_t bank;
  bool done;  // its value was already read
};

// Context words found by tokenizing one chunk of the text.
struct ChunkWords {
  uint32_t first = UINT32_MAX;  // index into ThreadState::keywords; UINT32_MAX: not tokenized
  uint32_t count = 0;
};
constexpr size_t kChunkBytes = 128;

struct Candidate {
  uint32_t begin;
  uint32_t end;
  uint16_t type;  // T, or kTypeCount + custom index
  float score;
};

// One per thread: the Hyperscan scratch (grown to fit every database this thread scanned with)
// and buffers reused across scans so a scan allocates only its result.
struct ThreadState {
  hs_scratch_t* scratch = nullptr;
  uint64_t fitted_generation = 0;
  bool busy = false;
  std::vector<Hit> hits;
  std::vector<uint32_t> last_end;
  std::vector<uint32_t> last_start;
  std::vector<KeywordHit> keywords;
  std::vector<ChunkWords> chunks;
  std::vector<Candidate> candidates;

  ~ThreadState() {
    if (scratch != nullptr) {
      hs_free_scratch(scratch);
    }
  }
  // Large buffers from an exceptional text are not kept for the life of the thread.
  void Trim() {
    constexpr size_t kKeep = 1 << 16;
    if (hits.capacity() > kKeep) {
      std::vector<Hit>().swap(hits);
    }
    if (keywords.capacity() > kKeep) {
      std::vector<KeywordHit>().swap(keywords);
    }
    if (chunks.capacity() > kKeep) {
      std::vector<ChunkWords>().swap(chunks);
    }
    if (candidates.capacity() > kKeep) {
      std::vector<Candidate>().swap(candidates);
    }
  }
};

thread_local ThreadState t_state;

constexpr uint32_t kNone = UINT32_MAX;

struct MatchContext {
  std::vector<Hit>* hits;
  uint32_t* last_end;
  uint32_t* last_start;
  const PatternMeta* meta;
  bool overflow = false;
};

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
            void* raw) {
  auto* ctx = static_cast<MatchContext*>(raw);
  const auto end = static_cast<uint32_t>(to);
  switch (ctx->meta[id].kind) {
    case Kind::kTrigger:
      // Consecutive ends of one trigger belong to one candidate: keep the first.
      if (ctx->last_end[id] != kNone && end <= ctx->last_end[id] + 1) {
        ctx->last_end[id] = end;
        return 0;
      }
      ctx->last_end[id] = end;
      break;
    case Kind::kKeyword:
      break;
    case Kind::kCustom: {
      const auto start = static_cast<uint32_t>(from);
      if (ctx->last_end[id] != kNone && start <= ctx->last_end[id]) {
        // Overlapping or touching the previous match of this pattern: merge.
        Hit& h = (*ctx->hits)[ctx->last_start[id]];
        h.start = std::min(h.start, start);
        h.end = std::max(h.end, end);
        ctx->last_end[id] = h.end;
        return 0;
      }
      ctx->last_end[id] = end;
      ctx->last_start[id] = static_cast<uint32_t>(ctx->hits->size());
      ctx->hits->push_back({start, end, id});
      return ctx->hits->size() > kMaxMatchesPerScan ? (ctx->overflow = true, 1) : 0;
    }
  }
  ctx->hits->push_back({0, end, id});
  if (ctx->hits->size() > kMaxMatchesPerScan) {
    ctx->overflow = true;
    return 1;
  }
  return 0;
}

// ---- byte and code point helpers --------------------------------------------------------------

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsBase64Url(char c) { return IsAlnum(c) || c == '_' || c == '-'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// Decodes the (valid: normalized text is valid UTF-8) code point starting at `pos`.
char32_t DecodeAt(std::string_view t, size_t pos, size_t* len) {
  const auto b0 = static_cast<unsigned char>(t[pos]);
  if (b0 < 0x80) {
    *len = 1;
    return b0;
  }
  size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  if (pos + n > t.size()) {
    *len = 1;
    return 0xFFFD;
  }
  char32_t c = b0 & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < n; ++i) {
    c = (c << 6) | (static_cast<unsigned char>(t[pos + i]) & 0x3F);
  }
  *len = n;
  return c;
}

// Decodes the code point that ends at `pos` (pos > 0).
char32_t DecodeBefore(std::string_view t, size_t pos, size_t* len) {
  size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (static_cast<unsigned char>(t[start]) & 0xC0) == 0x80) {
    --start;
  }
  char32_t c = DecodeAt(t, start, len);
  if (start + *len != pos) {
    *len = 1;
    return 0xFFFD;
  }
  return c;
}

// Byte offset `cps` code points before `pos` (or 0).
size_t BackCodePoints(std::string_view t, size_t pos, size_t cps) {
  while (pos > 0 && cps > 0) {
    --pos;
    if ((static_cast<unsigned char>(t[pos]) & 0xC0) != 0x80) {
      --cps;
    }
  }
  return pos;
}

size_t ForwardCodePoints(std::string_view t, size_t pos, size_t cps) {
  while (pos < t.size() && cps > 0) {
    ++pos;
    while (pos < t.size() && (static_cast<unsigned char>(t[pos]) & 0xC0) == 0x80) {
      ++pos;
    }
    --cps;
  }
  return pos;
}

bool WordBefore(std::string_view t, size_t pos) { return pos > 0 && IsWord(t[pos - 1]); }
bool WordAfter(std::string_view t, size_t pos) { return pos < t.size() && IsWord(t[pos]); }
bool AlnumBefore(std::string_view t, size_t pos) { return pos > 0 && IsAlnum(t[pos - 1]); }
bool AlnumAfter(std::string_view t, size_t pos) { return pos < t.size() && IsAlnum(t[pos]); }

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (Lower(s[i]) != lower[i]) {
      return false;
    }
  }
  return true;
}

// Shannon entropy in bits per byte.
double Entropy(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  std::array<uint16_t, 256> counts{};
  for (unsigned char c : s) {
    ++counts[c];
  }
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (uint16_t k : counts) {
    if (k != 0) {
      const double p = k / n;
      h -= p * std::log2(p);
    }
  }
  return h;
}

// ---- the scan ---------------------------------------------------------------------------------

// Context words found around a value.
struct Context {
  std::array<int, kCtxCount> dist;  // bytes between the word and the value, +30 if after it
  std::array<int8_t, 8> banks{};
  int bank_count = 0;

  Context() { dist.fill(INT_MAX); }
  bool Has(Ctx c) const { return dist[c] != INT_MAX; }
  // A score that is slightly lower the further away the word is, so the nearest word wins
  // between two types that both have context.
  float With(Ctx c, float score) const {
    return score - 0.004f * static_cast<float>(std::min(dist[c], 100));
  }
  // The context score when the word is there, but never below what the value scores alone.
  float Best(Ctx c, float with_context, float alone) const {
    return Has(c) ? std::max(With(c, with_context), alone) : alone;
  }
  // True when a reference word ("order number") is nearer than the word `c`.
  bool RefNearer(Ctx c) const { return dist[kCtxRef] < dist[c]; }
};

struct DigitRun {
  uint32_t begin = 0;        // span start: '+' or '(' or the first digit
  uint32_t end = 0;          // after the last digit
  uint32_t first_digit = 0;  // byte of the first digit
  std::array<char, 24> digits{};
  uint8_t n = 0;  // number of digits (kept only up to 24)
  bool overflow = false;
  std::array<uint8_t, 12> groups{};
  uint8_t ngroups = 0;
  std::array<uint32_t, 12> group_begin{};
  std::array<uint32_t, 12> group_end{};
  bool plus = false;
  bool parens = false;
  bool dots = false;      // some separator is a dot
  bool mixed = false;     // the separators are not all the same
  bool spaces = false;    // some separator is white space
  bool k_suffix = false;  // followed by 'K' (a UTR printed "1234567890K"); end includes it
  std::string_view Digits() const { return {digits.data(), n}; }
};

// A finding's rules for one DigitRun (or a sub-range of its groups).
struct RunView {
  std::string_view digits;
  const uint8_t* groups;
  int ngroups;
  bool plus;
  bool dots;
  bool mixed;
  bool parens;
  bool k_suffix;
};

bool IsRunSeparator(char32_t c) { return c == '(' || c == ')' || IsDigitSeparator(c); }

class ScanPass {
 public:
  ScanPass(const Scanner::Impl& impl, std::string_view text, ThreadState& state)
      : impl_(impl), t_(text), st_(state) {}

  void Run();

 private:
  void Add(uint32_t begin, uint32_t end, T type, float score) {
    if (end > begin && impl_.On(type)) {
      st_.candidates.push_back({begin, end, type, score});
    }
  }

  void Tokenize(size_t chunk);
  template <typename Fn>
  void ForEachKeyword(size_t lo, size_t hi, Fn fn);
  Context ContextAround(uint32_t begin, uint32_t end);
  uint32_t DoShortDigits(uint32_t hit_end);

  // Extractors: each returns the end of the text region it examined, so later triggers inside it
  // are skipped.
  uint32_t DoDigits(uint32_t hit_end);
  void ClassifyRun(const DigitRun& run, uint32_t begin, uint32_t end, const RunView& v,
                   const Context& ctx, Candidate* best);
  bool PhoneValid(const RunView& v) const;
  uint32_t DoEmail(uint32_t hit_end);
  uint32_t DoUrl(uint32_t hit_end);
  uint32_t DoIpv4(uint32_t hit_end);
  uint32_t DoIpv6(uint32_t hit_end);
  uint32_t DoMac(uint32_t hit_end);
  uint32_t DoIban(uint32_t hit_end);
  uint32_t DoVin(uint32_t hit_end);
  uint32_t DoNino(uint32_t hit_end);
  uint32_t DoAwsKey(uint32_t hit_end);
  uint32_t DoPrivateKey(uint32_t hit_end);
  uint32_t DoJwt(uint32_t hit_end);
  uint32_t DoToken(uint32_t hit_end, T type);
  uint32_t DoUserinfo(uint32_t hit_end);
  void DoKeywordValue(const KeywordHit& kw);
  void AwsSecretAfter(uint32_t from, float score);
  void DigitsAfter(uint32_t from, size_t min, size_t max, T type);
  void TokenBefore(const KeywordHit& kw, T type);
  void SwiftAround(const KeywordHit& kw);

  // The alphanumeric token containing byte `pos` (ASCII letters and digits), bounded.
  std::pair<uint32_t, uint32_t> AlnumToken(uint32_t pos) const {
    uint32_t b = pos, e = pos;
    while (b > 0 && pos - b < 64 && IsAlnum(t_[b - 1])) {
      --b;
    }
    while (e < t_.size() && e - pos < 64 && IsAlnum(t_[e])) {
      ++e;
    }
    return {b, e};
  }

  const Scanner::Impl& impl_;
  std::string_view t_;
  ThreadState& st_;
};

// Keywords by their first ASCII word (lower case), for the lazy lookup.
struct FirstWord {
  std::string_view first;
  uint16_t index;
};

uint32_t HashWord(std::string_view lower_word) {
  uint32_t h = 2166136261u;
  for (char c : lower_word) {
    h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  }
  return h;
}

// Keywords by their first ASCII word (lower case): an open-addressing hash table from the first
// word to the range of keywords starting with it, so tokenizing costs one probe per word.
class FirstWordTable {
 public:
  FirstWordTable() {
    for (size_t i = 0; i < kKeywords.size(); ++i) {
      const std::string_view w = kKeywords[i].word;
      size_t n = 0;
      while (n < w.size() && IsAlpha(w[n])) {
        ++n;
      }
      if (n != 0) {
        sorted_.push_back({w.substr(0, n), static_cast<uint16_t>(i)});
      }
    }
    std::sort(sorted_.begin(), sorted_.end(),
              [](const FirstWord& x, const FirstWord& y) { return x.first < y.first; });
    for (size_t i = 0; i < sorted_.size();) {
      size_t j = i;
      while (j < sorted_.size() && sorted_[j].first == sorted_[i].first) {
        ++j;
      }
      uint32_t slot = HashWord(sorted_[i].first) & (kSlots - 1);
      while (slots_[slot].count != 0) {
        slot = (slot + 1) & (kSlots - 1);
      }
      slots_[slot] = {sorted_[i].first, static_cast<uint16_t>(i), static_cast<uint16_t>(j - i)};
      i = j;
    }
  }

  // Keywords whose first word is `lower_word`.
  std::span<const FirstWord> Find(std::string_view lower_word, uint32_t hash) const {
    for (uint32_t slot = hash & (kSlots - 1);; slot = (slot + 1) & (kSlots - 1)) {
      const Slot& s = slots_[slot];
      if (s.count == 0) {
        return {};
      }
      if (s.word == lower_word) {
        return {sorted_.data() + s.first, s.count};
      }
    }
  }

 private:
  static constexpr uint32_t kSlots = 1024;  // power of two, well above the number of words
  struct Slot {
    std::string_view word;
    uint16_t first = 0;
    uint16_t count = 0;
  };
  std::vector<FirstWord> sorted_;
  std::array<Slot, kSlots> slots_{};
};

const FirstWordTable& FirstWords() {
  static const FirstWordTable table;
  return table;
}

constexpr std::string_view kNairaSign = "\xE2\x82\xA6";

bool KeywordBoundaryOk(std::string_view t, size_t begin, size_t end, uint8_t flags) {
  if (WordBefore(t, begin) && !((flags & kJoinLeft) && t[begin - 1] == '_')) {
    return false;
  }
  return !WordAfter(t, end) || (flags & kJoinRight);
}

void ScanPass::Tokenize(size_t chunk) {
  ChunkWords& words = st_.chunks[chunk];
  words.first = static_cast<uint32_t>(st_.keywords.size());
  const size_t s = chunk * kChunkBytes;
  const size_t e = std::min(t_.size(), s + kChunkBytes);
  const FirstWordTable& table = FirstWords();
  size_t p = s;
  while (p < e && p > 0 && IsAlpha(t_[p - 1]) && IsAlpha(t_[p])) {
    ++p;  // the word started in the previous chunk
  }
  while (p < e) {
    if (!IsAlpha(t_[p])) {
      if (t_[p] == kNairaSign[0] && t_.substr(p, 3) == kNairaSign) {
        st_.keywords.push_back(
            {static_cast<uint32_t>(p), static_cast<uint32_t>(p + 3), kCtxNgSignal, 0, -1, false});
      }
      ++p;
      continue;
    }
    size_t w = p;
    while (w < t_.size() && IsAlpha(t_[w])) {
      ++w;
    }
    if (w - p <= 24) {
      std::array<char, 24> lower;
      uint32_t hash = 2166136261u;
      for (size_t i = p; i < w; ++i) {
        lower[i - p] = Lower(t_[i]);
        hash = (hash ^ static_cast<unsigned char>(lower[i - p])) * 16777619u;
      }
      for (const FirstWord& fw : table.Find(std::string_view(lower.data(), w - p), hash)) {
        const KeywordDef& def = kKeywords[fw.index];
        const size_t end = p + def.word.size();
        if (end <= t_.size() && EqualsLower(t_.substr(p, def.word.size()), def.word) &&
            KeywordBoundaryOk(t_, p, end, def.flags)) {
          st_.keywords.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(end), def.ctx,
                                  def.flags, def.bank, false});
        }
      }
    }
    p = w;
  }
  words.count = static_cast<uint32_t>(st_.keywords.size()) - words.first;
}

template <typename Fn>
void ScanPass::ForEachKeyword(size_t lo, size_t hi, Fn fn) {
  if (st_.chunks.empty() || hi <= lo) {
    return;
  }
  // A keyword starting up to 32 bytes before the window may still reach into it.
  const size_t first_chunk = (lo > 32 ? lo - 32 : 0) / kChunkBytes;
  const size_t last_chunk = std::min((hi - 1) / kChunkBytes, st_.chunks.size() - 1);
  for (size_t c = first_chunk; c <= last_chunk; ++c) {
    if (st_.chunks[c].first == UINT32_MAX) {
      Tokenize(c);
    }
    const ChunkWords words = st_.chunks[c];
    for (uint32_t i = words.first; i < words.first + words.count; ++i) {
      KeywordHit& kw = st_.keywords[i];
      if (kw.end >= lo && kw.begin < hi) {
        fn(kw);
      }
    }
  }
}

Context ScanPass::ContextAround(uint32_t begin, uint32_t end) {
  Context ctx;
  const size_t lo = BackCodePoints(t_, begin, kContextBefore);
  const size_t hi = ForwardCodePoints(t_, end, kContextAfter);
  ForEachKeyword(lo, hi, [&](const KeywordHit& kw) {
    int d;
    if (kw.end <= begin) {
      d = static_cast<int>(begin - kw.end);
    } else if (kw.begin >= end) {
      d = static_cast<int>(kw.begin - end) + 30;
    } else {
      return;  // a word inside the value says nothing about it
    }
    ctx.dist[kw.ctx] = std::min(ctx.dist[kw.ctx], d);
    if (kw.ctx == kCtxBank && ctx.bank_count < static_cast<int>(ctx.banks.size())) {
      ctx.banks[ctx.bank_count++] = kw.bank;
    }
  });
  return ctx;
}

bool IsDigitValueCtx(Ctx c) {
  switch (c) {
    case kCtxCvv:
    case kCtxPin:
    case kCtxAge:
    case kCtxAgeAfter:
    case kCtxExpiry:
    case kCtxPassport:
    case kCtxDriver:
    case kCtxPlate:
    case kCtxHealth:
      return true;
    default:
      return false;
  }
}

uint32_t ScanPass::DoShortDigits(uint32_t hit_end) {
  size_t b = hit_end - 1;
  while (b > 0 && hit_end - b < 64 && IsDigit(t_[b - 1])) {
    --b;
  }
  size_t e = hit_end;
  while (e < t_.size() && IsDigit(t_[e])) {
    ++e;
  }
  // Value words within kShortValueWindow code points before or after the number (a code point is
  // at most 4 bytes: select by bytes, then measure the few candidates in code points). Looks
  // further after the number than kContextAfter: "ABC12345AB12 is the number on my driver's
  // licence".
  constexpr size_t kShortValueWindow = 48;
  const size_t lo = b > 4 * kShortValueWindow ? b - 4 * kShortValueWindow : 0;
  const size_t hi = std::min(t_.size(), e + 4 * kShortValueWindow);
  ForEachKeyword(lo, hi, [&](KeywordHit& kw) {
    if (kw.done || !IsDigitValueCtx(kw.ctx)) {
      return;
    }
    const size_t from = kw.end <= b ? kw.end : e;
    const size_t to = kw.end <= b ? b : kw.begin;
    if (from <= to && BackCodePoints(t_, to, kShortValueWindow) > from) {
      return;  // more than kShortValueWindow code points away
    }
    kw.done = true;
    DoKeywordValue(kw);
  });
  return static_cast<uint32_t>(e);
}

void ScanPass::Run() {
  st_.candidates.clear();
  st_.keywords.clear();
  st_.chunks.assign((t_.size() + kChunkBytes - 1) / kChunkBytes, ChunkWords{});
  // Triggers in end order; each extractor reports how far it looked so that later hits of the
  // same trigger inside that region are skipped.
  std::array<uint32_t, kTrigCount> covered{};
  uint32_t digits_covered = 0;
  for (const Hit& h : st_.hits) {
    const PatternMeta& m = impl_.patterns[h.id];
    if (m.kind == Kind::kCustom) {
      st_.candidates.push_back({h.start, h.end, static_cast<uint16_t>(kTypeCount + m.index), 0.9f});
      continue;
    }
    if (m.kind == Kind::kKeyword) {
      const KeywordDef& def = kKeywords[m.index];
      const uint32_t begin = h.end - static_cast<uint32_t>(def.word.size());
      if (KeywordBoundaryOk(t_, begin, h.end, def.flags)) {
        DoKeywordValue({begin, h.end, def.ctx, def.flags, def.bank, true});
      }
      continue;
    }
    const auto trig = static_cast<Trig>(m.index);
    if (h.end <= covered[trig]) {
      continue;
    }
    uint32_t done = h.end;
    switch (trig) {
      case kTrigDigits:
        // Two readers share this trigger, each with its own region: the whole run of digits
        // (cards, phones, national numbers) and the context words around this group.
        if (h.end > digits_covered && (impl_.enabled.to_ullong() & kDigitTypes) != 0) {
          digits_covered = DoDigits(h.end);
        }
        if ((impl_.enabled.to_ullong() & kShortDigitTypes) != 0) {
          done = DoShortDigits(h.end);
        }
        break;
      case kTrigEmail:
        done = DoEmail(h.end);
        break;
      case kTrigUrl:
        done = DoUrl(h.end);
        break;
      case kTrigIpv4:
        done = DoIpv4(h.end);
        break;
      case kTrigIpv6:
        done = DoIpv6(h.end);
        break;
      case kTrigMac:
        done = DoMac(h.end);
        break;
      case kTrigIban:
        done = DoIban(h.end);
        break;
      case kTrigVin:
        done = DoVin(h.end);
        break;
      case kTrigNino:
        done = DoNino(h.end);
        break;
      case kTrigAwsKey:
        done = DoAwsKey(h.end);
        break;
      case kTrigPrivateKey:
        done = DoPrivateKey(h.end);
        break;
      case kTrigJwt:
        done = DoJwt(h.end);
        break;
      case kTrigGithub:
        done = DoToken(h.end, kGithub);
        break;
      case kTrigSlack:
        done = DoToken(h.end, kSlack);
        break;
      case kTrigStripe:
        done = DoToken(h.end, kStripe);
        break;
      case kTrigUserinfo:
        done = DoUserinfo(h.end);
        break;
      case kTrigCount:
        break;
    }
    covered[trig] = std::max(done, h.end);
  }
}

// ---- digit runs: cards, phones, national numbers ----------------------------------------------

uint32_t ScanPass::DoDigits(uint32_t hit_end) {
  // The trigger ends on a digit. Find the maximal run of digits joined by at most three
  // separator code points (IsDigitSeparator, parentheses).
  size_t first = hit_end - 1;
  while (true) {
    while (first > 0 && IsDigit(t_[first - 1])) {
      --first;
    }
    size_t q = first;
    int gap = 0;
    bool joined = false;
    bool dot = false;
    while (q > 0 && gap < 3) {
      size_t len;
      const char32_t c = DecodeBefore(t_, q, &len);
      if (!IsRunSeparator(c)) {
        break;
      }
      dot |= c == '.';
      q -= len;
      ++gap;
      if (q > 0 && IsDigit(t_[q - 1])) {
        joined = !dot || gap == 1;  // "4111.1111" but not "ends 12. 345"
        break;
      }
    }
    if (!joined) {
      break;
    }
    first = q - 1;
  }
  size_t last = hit_end;  // one past the last digit
  while (true) {
    while (last < t_.size() && IsDigit(t_[last])) {
      ++last;
    }
    size_t q = last;
    int gap = 0;
    bool joined = false;
    bool dot = false;
    while (q < t_.size() && gap < 3) {
      size_t len;
      const char32_t c = DecodeAt(t_, q, &len);
      if (!IsRunSeparator(c)) {
        break;
      }
      dot |= c == '.';
      q += len;
      ++gap;
      if (q < t_.size() && IsDigit(t_[q])) {
        joined = !dot || gap == 1;
        break;
      }
    }
    if (!joined) {
      break;
    }
    last = q + 1;
  }
  const auto region_end = static_cast<uint32_t>(last);

  DigitRun run;
  run.first_digit = static_cast<uint32_t>(first);
  run.end = region_end;
  int sep_kind = -1;
  bool closed_paren = false;
  for (size_t i = first; i < last;) {
    if (IsDigit(t_[i])) {
      const size_t g = i;
      while (i < last && IsDigit(t_[i])) {
        if (run.n < run.digits.size()) {
          run.digits[run.n++] = t_[i];
        } else {
          run.overflow = true;
        }
        ++i;
      }
      if (run.ngroups < run.groups.size()) {
        run.groups[run.ngroups] = static_cast<uint8_t>(std::min<size_t>(i - g, 255));
        run.group_begin[run.ngroups] = static_cast<uint32_t>(g);
        run.group_end[run.ngroups] = static_cast<uint32_t>(i);
        ++run.ngroups;
      } else {
        run.overflow = true;
      }
      continue;
    }
    size_t len;
    const char32_t c = DecodeAt(t_, i, &len);
    int kind;
    if (c == '(' || c == ')') {
      run.parens = true;
      closed_paren |= c == ')';
      kind = 3;
    } else if (c == '.' || c == 0x00B7 || c == 0x2024 || c == 0x2027 || c == 0x2219 ||
               c == 0x22C5 || c == 0x30FB || c == 0xFE52 || c == 0xFF0E || c == 0xFF65) {
      run.dots = true;
      kind = 2;
    } else if (c == ' ' || c == '\t' || (c >= 0x2000 && c <= 0x200A) || c == 0x00A0 ||
               c == 0x202F || c == 0x205F || c == 0x3000) {
      run.spaces = true;
      kind = 0;
    } else {
      kind = 1;  // dashes
    }
    if (kind != 3) {
      if (sep_kind >= 0 && sep_kind != kind) {
        run.mixed = true;
      }
      sep_kind = kind;
    }
    i += len;
  }
  if (run.overflow || run.n < 7) {
    return region_end;
  }
  // Leading "(" of "(0803) 123 4567" and "+" of "+234 ...".
  size_t begin = first;
  if (begin > 0 && t_[begin - 1] == '(' && closed_paren) {
    --begin;
    run.parens = true;
  }
  if (begin > 0 && t_[begin - 1] == '+') {
    --begin;
    run.plus = true;
  }
  run.begin = static_cast<uint32_t>(begin);
  size_t end = last;
  if (end < t_.size() && (t_[end] == 'K' || t_[end] == 'k') && run.n == 10 && run.ngroups == 1 &&
      !WordAfter(t_, end + 1)) {
    run.k_suffix = true;
    ++end;
    run.end = static_cast<uint32_t>(end);
  }
  // A value glued to letters ("ID12345678", "12345678abc", "ORD-2023-19948") is some other
  // identifier.
  if (WordBefore(t_, begin) || WordAfter(t_, end) ||
      (begin >= 2 && (t_[begin - 1] == '-' || t_[begin - 1] == '/' || t_[begin - 1] == '#') &&
       IsAlnum(t_[begin - 2]))) {
    return region_end;
  }
  // "2008-2019": a range of years.
  if (run.ngroups == 2 && run.groups[0] == 4 && run.groups[1] == 4 && !run.plus) {
    auto year = [&](int from) {
      const int y = std::atoi(std::string(run.Digits().substr(from, 4)).c_str());
      return y >= 1900 && y <= 2099;
    };
    if (year(0) && year(4)) {
      return region_end;
    }
  }
  // "1.5.2024"-style runs that continue with '.' + letters are fine; a decimal tail is not part.
  const Context ctx = ContextAround(run.begin, run.end);
  RunView whole{run.Digits(), run.groups.data(), run.ngroups, run.plus,
                run.dots,     run.mixed,         run.parens,  run.k_suffix};
  Candidate best{0, 0, kTypeCount, 0};
  ClassifyRun(run, run.begin, run.end, whole, ctx, &best);
  if (best.type != kTypeCount) {
    Add(best.begin, best.end, static_cast<T>(best.type), best.score);
    return region_end;
  }
  // Nothing fits the whole run: try runs of consecutive groups ("0803 123 4567 2024", two
  // numbers separated by a space), longest first, taking non-overlapping ones.
  if (run.ngroups < 2 || run.ngroups > 6) {
    return region_end;
  }
  std::array<bool, 12> used{};
  for (int len = run.ngroups - 1; len >= 1; --len) {
    for (int i = 0; i + len <= run.ngroups; ++i) {
      bool free = true;
      int digits_before = 0;
      int digits = 0;
      for (int g = 0; g < run.ngroups; ++g) {
        if (g < i) {
          digits_before += run.groups[g];
        } else if (g < i + len) {
          digits += run.groups[g];
          free &= !used[g];
        }
      }
      if (!free || digits < 7) {
        continue;
      }
      RunView sub{whole.digits.substr(digits_before, digits),
                  run.groups.data() + i,
                  len,
                  i == 0 && run.plus,
                  run.dots,
                  run.mixed,
                  run.parens,
                  false};
      const uint32_t b = i == 0 ? run.begin : run.group_begin[i];
      const uint32_t e = run.group_end[i + len - 1];
      Candidate sub_best{0, 0, kTypeCount, 0};
      ClassifyRun(run, b, e, sub, ctx, &sub_best);
      if (sub_best.type != kTypeCount) {
        Add(sub_best.begin, sub_best.end, static_cast<T>(sub_best.type), sub_best.score);
        for (int g = i; g < i + len; ++g) {
          used[g] = true;
        }
      }
    }
  }
  return region_end;
}

bool GroupsAre(const RunView& v, std::initializer_list<int> shape) {
  if (static_cast<int>(shape.size()) != v.ngroups) {
    return false;
  }
  int i = 0;
  for (int s : shape) {
    if (v.groups[i++] != s) {
      return false;
    }
  }
  return true;
}

bool LooksLikeDate(const RunView& v) {
  auto num = [&](int from, int len) {
    int x = 0;
    for (int i = 0; i < len; ++i) {
      x = x * 10 + (v.digits[from + i] - '0');
    }
    return x;
  };
  if (GroupsAre(v, {4, 2, 2})) {  // 2024-01-15
    return num(4, 2) >= 1 && num(4, 2) <= 12 && num(6, 2) >= 1 && num(6, 2) <= 31;
  }
  if (GroupsAre(v, {2, 2, 4})) {  // 15.01.2024
    return num(0, 2) <= 31 && num(2, 2) <= 31;
  }
  return false;
}

bool ScanPass::PhoneValid(const RunView& v) const {
  if (v.digits.size() < 7 || v.digits.size() > 15 || LooksLikeDate(v)) {
    return false;
  }
  // Amounts and version-like runs ("1.234.567", "3.14159") are not phone numbers.
  if (v.dots && !v.plus && v.ngroups >= 2 && v.groups[0] <= 3) {
    bool thousands = true;
    for (int i = 1; i < v.ngroups; ++i) {
      thousands &= v.groups[i] == 3;
    }
    if (thousands || v.ngroups == 2) {
      return false;
    }
  }
  // The number is assembled here rather than with PhoneNumberUtil::Parse, which costs ~10 us
  // (ICU regexes) against ~3 us for IsValidNumber. The rules are Parse's for these inputs:
  // "+<country code><national number>" (country codes are prefix-free), otherwise a Nigerian
  // number: "234..." with the country code, "0..." with the trunk prefix, or bare.
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  const std::string_view d = v.digits;
  int country = 0;
  std::string_view national;
  if (v.plus) {
    for (size_t len = 1; len <= 3 && len < d.size(); ++len) {
      int cc = 0;
      for (size_t i = 0; i < len; ++i) {
        cc = cc * 10 + (d[i] - '0');
      }
      std::string region;
      util->GetRegionCodeForCountryCode(cc, &region);
      if (region != "ZZ") {
        country = cc;
        national = d.substr(len);
        break;
      }
    }
    if (country == 0) {
      return false;
    }
  } else if (d.size() == 13 && d.starts_with("234")) {
    country = 234;
    national = d.substr(3);
  } else {
    country = 234;
    national = d[0] == '0' ? d.substr(1) : d;
  }
  auto valid = [&](int cc, std::string_view nsn) {
    if (nsn.empty() || nsn.size() > 17) {
      return false;
    }
    PhoneNumber number;
    number.set_country_code(cc);
    uint64_t value = 0;
    for (char c : nsn) {
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    number.set_national_number(value);
    if (nsn[0] == '0') {
      number.set_italian_leading_zero(true);
      int zeros = 0;
      while (zeros < static_cast<int>(nsn.size()) - 1 && nsn[zeros] == '0') {
        ++zeros;
      }
      if (zeros > 1) {
        number.set_number_of_leading_zeros(zeros);
      }
    }
    return util->IsValidNumber(number);
  };
  if (valid(country, national)) {
    return true;
  }
  // North American numbers written nationally: "(650) 253-0000", "650-253-0000".
  return !v.plus && d.size() == 10 && d[0] >= '2' && (GroupsAre(v, {3, 3, 4}) || v.parens) &&
         valid(1, d);
}

void ScanPass::ClassifyRun(const DigitRun& run, uint32_t begin, uint32_t end, const RunView& v,
                           const Context& ctx, Candidate* best) {
  const std::string_view d = v.digits;
  const size_t n = d.size();
  auto offer = [&](T type, float score) {
    if (!impl_.On(type)) {
      return;
    }
    const bool better = score > best->score || (score == best->score && type < best->type);
    if (better) {
      *best = {begin, end, type, score};
    }
  };
  const bool single = v.ngroups == 1;
  // A context word counts only when no reference word ("my order number is ...") is nearer.
  // Every type confirmed by context starts from 0.95, so the nearest word decides between them.
  auto has = [&](Ctx c) { return ctx.Has(c) && !ctx.RefNearer(c); };
  auto best_of = [&](Ctx c, float alone) { return has(c) ? ctx.Best(c, 0.95f, alone) : alone; };

  if (LooksLikeDate(v) && !v.plus) {
    return;  // "2024-07-04" next to "driving licence ... expires" is the date, not the licence
  }
  if (v.k_suffix) {  // "1234567890K": only a UTR is printed like that
    if (n == 10 && has(kCtxUtr) && IsUkUtr(d)) {
      offer(kUtr, ctx.With(kCtxUtr, 0.95f));
    }
    return;
  }
  // "+..." is a phone number whatever else its digits could be.
  if (!v.plus) {
    if (n >= 12 && n <= 19 && impl_.On(kCard) && CreditCardBrand(d) != CardBrand::kNone) {
      offer(kCard, ctx.Has(kCtxCard) ? 0.99f : 0.95f);
    }
    if (n == 9) {
      const bool ssn_shape = single || (GroupsAre(v, {3, 2, 4}) && !v.mixed);
      if (ssn_shape && IsUsSsn(d)) {
        offer(kSsn, best_of(kCtxSsn, single ? 0.5f : 0.85f));
      }
      if (ssn_shape && IsUsItin(d)) {
        offer(kItin, best_of(kCtxItin, single ? 0.5f : 0.85f));
      }
      if ((single || (GroupsAre(v, {3, 3, 3}) && !v.mixed)) && IsCaSin(d)) {
        offer(kCaSin, best_of(kCtxSin, single ? 0.45f : 0.65f));
      }
      if (single && IsAbaRoutingNumber(d)) {
        offer(kRouting, best_of(kCtxRouting, 0.5f));
      }
      if (single && has(kCtxPassport)) {
        offer(kPassport, ctx.With(kCtxPassport, 0.95f));
      }
    }
    if (n == 10) {
      if ((single || GroupsAre(v, {3, 3, 4})) && IsUkNhsNumber(d)) {
        offer(kNhs, best_of(kCtxNhs, 0.55f));
      }
      if (has(kCtxUtr) && IsUkUtr(d)) {
        offer(kUtr, ctx.With(kCtxUtr, 0.95f));
      }
      if (has(kCtxHealth)) {
        offer(kCaHealth, ctx.With(kCtxHealth, 0.95f));
      }
      if (has(kCtxTin) && single && IsNgTin(d)) {
        offer(kTin, ctx.With(kCtxTin, 0.95f));
      }
      if (impl_.On(kNuban) && (single || GroupsAre(v, {3, 3, 4}) || GroupsAre(v, {4, 3, 3}))) {
        // A NUBAN is confirmed by a bank named nearby whose check digit matches.
        bool confirmed = false;
        bool wallet = false;
        const bool named = ctx.bank_count > 0;
        for (int i = 0; i < ctx.bank_count; ++i) {
          const BankAlias& alias = kBankAliases[ctx.banks[i]];
          wallet |= alias.codes[0].empty();
          for (std::string_view code : alias.codes) {
            confirmed |= !code.empty() && NubanCheckDigitValid(code, d);
          }
        }
        const bool account_words = has(kCtxAccount) || has(kCtxNuban);
        if (confirmed) {
          offer(kNuban, std::max(ctx.With(kCtxBank, 0.97f), 0.9f));
        } else if (wallet) {
          offer(kNuban, 0.85f);
        } else if (has(kCtxNuban)) {
          offer(kNuban, std::max(ctx.With(kCtxNuban, 0.95f), 0.8f));
        } else if (ctx.Has(kCtxUsBank)) {
          // "US account no: ..." is not a NUBAN unless a Nigerian bank confirmed it above.
        } else if (account_words && (named || ctx.Has(kCtxNgSignal))) {
          offer(kNuban, 0.75f);
        } else if (account_words || named) {
          offer(kNuban, 0.6f);  // account words without a bank: maybe a NUBAN, maybe not
        }
      }
    }
    if (n == 11 && single) {
      if (has(kCtxBvn)) {
        offer(kBvn, ctx.With(kCtxBvn, NgBvnHasUsualPrefix(d) ? 0.96f : 0.95f));
      }
      if (has(kCtxNin)) {
        offer(kNin, ctx.With(kCtxNin, 0.95f));
      }
    }
    if (n == 12 && GroupsAre(v, {8, 4}) && has(kCtxTin)) {
      std::string tin(d.substr(0, 8));
      tin.push_back('-');
      tin.append(d.substr(8));
      if (IsNgTin(tin)) {
        offer(kTin, ctx.With(kCtxTin, 0.95f));
      }
    }
    // An SSN-shaped valid SSN ("413-65-2899") is an SSN even next to account words.
    const bool ssn_like = n == 9 && GroupsAre(v, {3, 2, 4}) && IsUsSsn(d);
    if (n >= 7 && n <= 17 && has(kCtxAccount) && !ssn_like) {
      // Without a Nigerian bank or signal, account words mean a (US-style) account number.
      // Context alone: below a value whose own check passes and whose word is also near.
      const bool us = has(kCtxRouting) || ctx.Has(kCtxUsBank);
      const bool ng = !us && (ctx.bank_count > 0 || ctx.Has(kCtxNuban) || ctx.Has(kCtxNgSignal));
      offer(kUsAccount, ng ? 0.4f : ctx.With(kCtxAccount, us ? 0.92f : 0.85f));
    }
    if (has(kCtxDriver) && n >= 7 && n <= 16) {
      offer(kDriverId, ctx.With(kCtxDriver, 0.9f));
    }
  }
  // PHONE last: libphonenumber is the expensive check, skipped when something validated wins.
  // A bare national number right after another identifier's word ("SIN 046 454 286") is that
  // identifier, even when its own check fails; and without any phone word a national number
  // needs the trunk prefix or ten digits ("ref 12345678" is not a phone).
  bool other_id = ctx.dist[kCtxRef] < 20;
  for (Ctx c : {kCtxCard, kCtxSsn, kCtxItin, kCtxSin, kCtxRouting, kCtxAccount, kCtxNuban, kCtxBvn,
                kCtxNin, kCtxTin, kCtxUtr, kCtxNhs, kCtxPassport, kCtxHealth, kCtxDriver}) {
    other_id |= ctx.dist[c] < 20;
  }
  const bool phone_word = has(kCtxPhone);
  const bool plausible = v.plus || phone_word || ((d[0] == '0' || n >= 10) && !other_id);
  if (impl_.On(kPhone) && plausible && best->score < 0.95f && (!v.parens || run.parens)) {
    const float base = best_of(kCtxPhone, v.plus ? 0.88f : 0.7f);
    if (base > best->score && PhoneValid(v)) {
      offer(kPhone, base);
    }
  }
}

// ---- shape extractors -------------------------------------------------------------------------

uint32_t ScanPass::DoEmail(uint32_t hit_end) {
  // The trigger ends just after the first letter of a top-level label; '@' is before it.
  size_t at = hit_end - 1;
  while (at > 0 && t_[at] != '@' && hit_end - at < 256) {
    --at;
  }
  if (t_[at] != '@') {
    return hit_end;
  }
  auto local_char = [](char c) {
    return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\'';
  };
  size_t b = at;
  while (b > 0 && at - b < 64 && local_char(t_[b - 1])) {
    --b;
  }
  while (b < at && (t_[b] == '.' || t_[b] == '\'')) {
    ++b;
  }
  size_t e = at + 1;
  while (e < t_.size() && e - at < 254 && (IsAlnum(t_[e]) || t_[e] == '.' || t_[e] == '-')) {
    ++e;
  }
  const auto region = static_cast<uint32_t>(e);
  while (e > at + 1 && (t_[e - 1] == '.' || t_[e - 1] == '-')) {
    --e;
  }
  if (b == at) {
    return region;
  }
  const std::string_view domain = t_.substr(at + 1, e - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2 ||
      domain.find("..") != std::string_view::npos) {
    return region;
  }
  for (char c : domain.substr(dot + 1)) {
    if (!IsAlpha(c)) {
      return region;
    }
  }
  Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), kEmail, 0.95f);
  return region;
}

uint32_t ScanPass::DoUrl(uint32_t hit_end) {
  // Find the start: "www." or the scheme, just before the hit.
  size_t b = hit_end;
  const size_t lo = hit_end > 12 ? hit_end - 12 : 0;
  for (size_t i = hit_end; i-- > lo;) {
    if (t_.substr(i, 3) == "://") {
      b = i;
      while (b > 0 && IsAlpha(t_[b - 1]) && i - b < 5) {
        --b;
      }
      break;
    }
    if (EqualsLower(t_.substr(i, 4), "www.")) {
      b = i;
      break;
    }
  }
  if (b == hit_end || WordBefore(t_, b)) {
    return hit_end;
  }
  size_t e = b;
  constexpr size_t kMaxUrl = 8192;
  while (e < t_.size() && e - b < kMaxUrl) {
    const auto c = static_cast<unsigned char>(t_[e]);
    if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' ||
        c == '|' || c == '\\' || c == '^' || c == 0x7F) {
      break;
    }
    ++e;
  }
  const auto region = static_cast<uint32_t>(e);
  // Trailing punctuation belongs to the sentence, and a ')' without '(' to the prose.
  while (e > b) {
    const char c = t_[e - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
        c == '*') {
      --e;
      continue;
    }
    if (c == ')' || c == ']') {
      const std::string_view url = t_.substr(b, e - b);
      const char open = c == ')' ? '(' : '[';
      if (std::count(url.begin(), url.end(), open) < std::count(url.begin(), url.end(), c)) {
        --e;
        continue;
      }
    }
    break;
  }
  const std::string_view url = t_.substr(b, e - b);
  const size_t host = url.find("://");
  const size_t host_begin = host == std::string_view::npos ? 4 : host + 3;
  if (url.size() <= host_begin || !IsAlnum(url[host_begin])) {
    return region;
  }
  if (impl_.On(kSlack)) {
    const std::string_view rest = url.substr(host_begin);
    if (rest.starts_with("hooks.slack.com/services/T") ||
        rest.starts_with("hooks.slack.com/workflows/")) {
      Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), kSlack, 0.99f);
    }
  }
  Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), kUrl, 0.9f);
  return region;
}

uint32_t ScanPass::DoIpv4(uint32_t hit_end) {
  size_t b = hit_end - 1;
  while (b > 0 && hit_end - b < 16 && (IsDigit(t_[b - 1]) || t_[b - 1] == '.')) {
    --b;
  }
  size_t e = hit_end;
  while (e < t_.size() && e - b < 24 && (IsDigit(t_[e]) || t_[e] == '.')) {
    ++e;
  }
  const auto region = static_cast<uint32_t>(e);
  while (e > b && t_[e - 1] == '.') {
    --e;
  }
  while (b < e && t_[b] == '.') {
    ++b;
  }
  if (WordBefore(t_, b) || WordAfter(t_, e) || (b > 0 && t_[b - 1] == '.')) {
    return region;
  }
  const std::string_view ip = t_.substr(b, e - b);
  if (IsIpv4(ip)) {
    Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), kIp, 0.9f);
  }
  return region;
}

uint32_t ScanPass::DoIpv6(uint32_t hit_end) {
  auto ip_char = [](char c) { return IsHex(c) || c == ':' || c == '.'; };
  size_t b = hit_end;
  while (b > 0 && hit_end - b < 45 && ip_char(t_[b - 1])) {
    --b;
  }
  size_t e = hit_end;
  while (e < t_.size() && e - b < 64 && ip_char(t_[e])) {
    ++e;
  }
  const auto region = static_cast<uint32_t>(e);
  while (e > b && t_[e - 1] == '.') {
    --e;
  }
  // "IPv6:2001:db8::1" and "port:2001:..." glue a word to the address: try without the first
  // group, and without a single trailing ':'.
  for (int attempt = 0; attempt < 3 && b < e; ++attempt) {
    size_t eb = e;
    if (eb - b >= 2 && t_[eb - 1] == ':' && t_[eb - 2] != ':') {
      --eb;
    }
    const std::string_view ip = t_.substr(b, eb - b);
    const size_t colons = std::count(ip.begin(), ip.end(), ':');
    const bool digit = std::any_of(ip.begin(), ip.end(), IsDigit);
    if (!WordBefore(t_, b) && !WordAfter(t_, eb) && colons >= 2 && digit && IsIpv6(ip)) {
      Add(static_cast<uint32_t>(b), static_cast<uint32_t>(eb), kIp, 0.9f);
      return region;
    }
    const size_t colon = t_.find(':', b);
    if (colon == std::string_view::npos || colon >= e || t_[colon + 1] == ':') {
      break;
    }
    b = colon + 1;
  }
  return region;
}

uint32_t ScanPass::DoMac(uint32_t hit_end) {
  const bool dotted = t_[hit_end - 5] == '.';
  const uint32_t b = hit_end - (dotted ? 14 : 17);
  if (!WordBefore(t_, b) && !WordAfter(t_, hit_end) &&
      !(hit_end < t_.size() && (t_[hit_end] == ':' || t_[hit_end] == '-')) &&
      IsMacAddress(t_.substr(b, hit_end - b))) {
    Add(b, hit_end, kMac, 0.9f);
  }
  return hit_end;
}

uint32_t ScanPass::DoIban(uint32_t hit_end) {
  const uint32_t width = t_[hit_end - 5] == ' ' ? 9 : 8;
  if (hit_end < width) {
    return hit_end;
  }
  const uint32_t b = hit_end - width;
  if (!IsAlpha(t_[b]) || !IsAlpha(t_[b + 1]) || AlnumBefore(t_, b)) {
    return hit_end;
  }
  // Electronic form: one alphanumeric token.
  size_t e = b;
  while (e < t_.size() && e - b < 35 && IsAlnum(t_[e])) {
    ++e;
  }
  if (e - b >= 15 && !AlnumAfter(t_, e) && IsIban(t_.substr(b, e - b))) {
    Add(b, static_cast<uint32_t>(e), kIban, 0.98f);
    return static_cast<uint32_t>(e);
  }
  // Paper form: groups of four separated by single spaces, the last group 1-4 characters.
  std::array<uint32_t, 10> ends{};
  int groups = 0;
  size_t p = b;
  while (groups < 9) {
    size_t g = p;
    while (g < t_.size() && g - p < 5 && IsAlnum(t_[g])) {
      ++g;
    }
    if (g - p == 0 || g - p > 4) {
      break;
    }
    ends[groups++] = static_cast<uint32_t>(g);
    if (g - p < 4 || g + 1 >= t_.size() || t_[g] != ' ' || !IsAlnum(t_[g + 1])) {
      break;
    }
    p = g + 1;
  }
  for (int k = groups; k >= 4; --k) {
    if (!AlnumAfter(t_, ends[k - 1]) && IsIban(t_.substr(b, ends[k - 1] - b))) {
      Add(b, ends[k - 1], kIban, 0.98f);
      return ends[k - 1];
    }
  }
  return hit_end;
}

uint32_t ScanPass::DoVin(uint32_t hit_end) {
  auto [b, e] = AlnumToken(hit_end - 1);
  const std::string_view token = t_.substr(b, e - b);
  if (token.size() == 17 && !WordBefore(t_, b) && !WordAfter(t_, e) && IsVin(token) &&
      std::any_of(token.begin(), token.end(), IsDigit) &&
      std::any_of(token.begin(), token.end(), IsUpper)) {
    if (VinCheckDigitValid(token)) {
      Add(b, e, kVin, 0.95f);
    } else {
      const Context ctx = ContextAround(b, e);
      if (ctx.Has(kCtxVin)) {
        Add(b, e, kVin, ctx.With(kCtxVin, 0.85f));
      }
    }
  }
  return e;
}

uint32_t ScanPass::DoNino(uint32_t hit_end) {
  // Walk back over nine significant characters and the single spaces between them.
  size_t b = hit_end;
  for (int seen = 0; seen < 9 && b > 0;) {
    --b;
    if (t_[b] != ' ') {
      ++seen;
    }
  }
  if (AlnumBefore(t_, b) || AlnumAfter(t_, hit_end)) {
    return hit_end;
  }
  const std::string_view nino = t_.substr(b, hit_end - b);
  if (IsUkNino(nino)) {
    const Context ctx = ContextAround(static_cast<uint32_t>(b), hit_end);
    const bool upper = IsUpper(nino[0]);
    Add(static_cast<uint32_t>(b), hit_end, kNino,
        ctx.Has(kCtxNino) ? ctx.With(kCtxNino, 0.95f)
        : upper           ? 0.9f
                          : 0.7f);
  }
  return hit_end;
}

uint32_t ScanPass::DoAwsKey(uint32_t hit_end) {
  const uint32_t b = hit_end - 20;
  if (AlnumBefore(t_, b) || AlnumAfter(t_, hit_end) || !IsAwsAccessKeyId(t_.substr(b, 20))) {
    return hit_end;
  }
  Add(b, hit_end, kAwsAccessKey, 0.99f);
  if (impl_.On(kAwsSecretKey)) {
    AwsSecretAfter(hit_end, 0.9f);
  }
  return hit_end;
}

bool IsAwsSecretChar(char c) { return IsAlnum(c) || c == '/' || c == '+'; }

// "The security code on the back of my card is 123", "PIN, was it 4821?": the first standalone
// number of the right length within a short distance after the word. Numbers that are part of
// something else (amounts "$1,234.50", dates "12/05", words "A123") are skipped.
void ScanPass::DigitsAfter(uint32_t from, size_t min, size_t max, T type) {
  const size_t limit = ForwardCodePoints(t_, from, 48);
  for (size_t p = from; p < limit; ++p) {
    if (!IsDigit(t_[p])) {
      continue;
    }
    size_t e = p;
    while (e < t_.size() && IsDigit(t_[e])) {
      ++e;
    }
    const bool glued =
        AlnumBefore(t_, p) || AlnumAfter(t_, e) ||
        (p > 0 && std::strchr("$.,/:-", t_[p - 1]) != nullptr) ||
        (e + 1 < t_.size() && std::strchr(".,/:-", t_[e]) != nullptr && IsDigit(t_[e + 1])) ||
        (p >= 3 && t_.substr(p - 3, 3) == kNairaSign);
    if (!glued && e - p >= min && e - p <= max) {
      Add(static_cast<uint32_t>(p), static_cast<uint32_t>(e), type, 0.8f);
      return;
    }
    p = e;
  }
}

// A 40-character AWS secret access key starting within a short distance after `from`.
void ScanPass::AwsSecretAfter(uint32_t from, float score) {
  const size_t limit = std::min(t_.size(), static_cast<size_t>(from) + 160);
  for (size_t p = from; p < limit; ++p) {
    if (!IsAwsSecretChar(t_[p]) || (p > 0 && IsAwsSecretChar(t_[p - 1]))) {
      continue;
    }
    size_t e = p;
    while (e < t_.size() && e - p <= 40 && IsAwsSecretChar(t_[e])) {
      ++e;
    }
    if (e - p == 40) {
      const std::string_view key = t_.substr(p, 40);
      const bool lower = std::any_of(key.begin(), key.end(), IsLower);
      const bool upper = std::any_of(key.begin(), key.end(), IsUpper);
      const bool digit = std::any_of(key.begin(), key.end(), IsDigit);
      if (lower && upper && digit) {
        Add(static_cast<uint32_t>(p), static_cast<uint32_t>(e), kAwsSecretKey, score);
        return;
      }
    }
    p = e;
  }
}

uint32_t ScanPass::DoPrivateKey(uint32_t hit_end) {
  constexpr std::string_view kBegin = "-----BEGIN";
  const size_t lo = hit_end > 80 ? hit_end - 80 : 0;
  const size_t b = t_.rfind(kBegin, hit_end);
  if (b == std::string_view::npos || b < lo) {
    return hit_end;
  }
  constexpr size_t kMaxKey = 64 * 1024;
  const std::string_view rest = t_.substr(hit_end, std::min(kMaxKey, t_.size() - hit_end));
  size_t e = hit_end;
  const size_t end_marker = rest.find("-----END");
  if (end_marker != std::string_view::npos) {
    const size_t close = rest.find("-----", end_marker + 8);
    e = close == std::string_view::npos ? hit_end + end_marker + 8 : hit_end + close + 5;
  } else {
    // A truncated key: the base64 body is still the secret.
    while (e < t_.size() && e - hit_end < kMaxKey &&
           (IsAlnum(t_[e]) || t_[e] == '+' || t_[e] == '/' || t_[e] == '=' || IsSpace(t_[e]) ||
            t_[e] == ':' || t_[e] == '-' || t_[e] == ',')) {
      ++e;
    }
    while (e > hit_end && IsSpace(t_[e - 1])) {
      --e;
    }
  }
  Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), kPrivateKey, 0.99f);
  return static_cast<uint32_t>(e);
}

bool Base64UrlDecode(std::string_view in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (IsUpper(c)) {
      v = c - 'A';
    } else if (IsLower(c)) {
      v = c - 'a' + 26;
    } else if (IsDigit(c)) {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

uint32_t ScanPass::DoJwt(uint32_t hit_end) {
  const uint32_t b = hit_end - 11;
  if (b > 0 && (IsBase64Url(t_[b - 1]) || t_[b - 1] == '.')) {
    return hit_end;
  }
  constexpr size_t kMaxPart = 16 * 1024;
  size_t dots[2];
  size_t e = b;
  for (int part = 0; part < 3; ++part) {
    const size_t s = e;
    while (e < t_.size() && e - s < kMaxPart && IsBase64Url(t_[e])) {
      ++e;
    }
    if (part < 2) {
      if (e - s < 2 || e >= t_.size() || t_[e] != '.') {
        return static_cast<uint32_t>(e);
      }
      dots[part] = e;
      ++e;
    }
  }
  const std::string_view header = t_.substr(b, dots[0] - b);
  if (header.size() > 2048) {
    return static_cast<uint32_t>(e);
  }
  std::string json;
  if (!Base64UrlDecode(header, &json)) {
    return static_cast<uint32_t>(e);
  }
  const size_t first = json.find_first_not_of(" \t\r\n");
  const size_t last = json.find_last_not_of(" \t\r\n");
  if (first == std::string::npos || json[first] != '{' || json[last] != '}' ||
      json.find("\"alg\"") == std::string::npos) {
    return static_cast<uint32_t>(e);
  }
  Add(b, static_cast<uint32_t>(e), kJwt, 0.99f);
  return static_cast<uint32_t>(e);
}

uint32_t ScanPass::DoToken(uint32_t hit_end, T type) {
  // Walk back to the token's start (the prefix is within the trigger), forward to its end.
  size_t b = hit_end;
  auto token_char = [type](char c) {
    return IsAlnum(c) || c == '_' || (type == kSlack && c == '-');
  };
  while (b > 0 && hit_end - b < 48 && token_char(t_[b - 1])) {
    --b;
  }
  size_t e = hit_end;
  while (e < t_.size() && e - b < 512 && token_char(t_[e])) {
    ++e;
  }
  const std::string_view token = t_.substr(b, e - b);
  bool ok = false;
  switch (type) {
    case kGithub:
      ok = (token.starts_with("github_pat_") && token.size() >= 40) ||
           (token.size() >= 36 && token[0] == 'g' && token[1] == 'h' && token[3] == '_');
      break;
    case kSlack:
      ok = (token.starts_with("xox") || token.starts_with("xapp-")) && token.size() >= 15;
      break;
    case kStripe:
      ok = (token.starts_with("sk_") || token.starts_with("rk_")) && token.size() >= 18;
      break;
    default:
      break;
  }
  if (ok && !(b > 0 && (IsAlnum(t_[b - 1])))) {
    Add(static_cast<uint32_t>(b), static_cast<uint32_t>(e), type, 0.99f);
  }
  return static_cast<uint32_t>(e);
}

// The nearest identifier-like token (letters and digits, at least four digits) ending shortly
// before the context word: "VEB64903GQ65 is the number on my driver's licence".
void ScanPass::TokenBefore(const KeywordHit& kw, T type) {
  const size_t lo = BackCodePoints(t_, kw.begin, 48);
  size_t p = kw.begin;
  while (p > lo) {
    if (!IsAlnum(t_[p - 1])) {
      --p;
      continue;
    }
    size_t b = p;
    size_t digits = 0;
    while (b > 0 && p - b <= 16 && IsAlnum(t_[b - 1])) {
      --b;
      digits += IsDigit(t_[b]) ? 1 : 0;
    }
    const std::string_view token = t_.substr(b, p - b);
    if (digits >= 4 && !AlnumBefore(t_, b)) {
      const bool ok = type == kPassport
                          ? token.size() == 9 && (digits == 9 || (digits == 8 && IsAlpha(token[0])))
                          : token.size() >= 6 && token.size() <= 16;
      if (ok) {
        Add(static_cast<uint32_t>(b), static_cast<uint32_t>(p), type, 0.8f);
      }
      return;  // only the nearest token with digits is considered
    }
    p = b;
  }
}

// SWIFT codes have no digits to trigger on and too often look like capitalised words, so they
// are only looked for around their context words: the nearest 8- or 11-character upper-case token
// within kContextBefore code points before or after that IsSwiftBic accepts.
void ScanPass::SwiftAround(const KeywordHit& kw) {
  const size_t lo = BackCodePoints(t_, kw.begin, kContextBefore);
  const size_t hi = ForwardCodePoints(t_, kw.end, kContextBefore);
  size_t best_b = 0;
  size_t best_e = 0;
  size_t best_dist = SIZE_MAX;
  for (size_t p = lo; p < hi;) {
    if (!IsAlnum(t_[p])) {
      ++p;
      continue;
    }
    size_t e = p;
    while (e < t_.size() && e - p < 12 && IsAlnum(t_[e])) {
      ++e;
    }
    const std::string_view token = t_.substr(p, e - p);
    const bool upper = std::none_of(token.begin(), token.end(), IsLower);
    if ((token.size() == 8 || token.size() == 11) && upper && !AlnumBefore(t_, p) &&
        !AlnumAfter(t_, e) && IsSwiftBic(token)) {
      // The value usually follows its word: any token after beats every token before.
      const size_t dist = e <= kw.begin ? kw.begin - e + 1000 : p >= kw.end ? p - kw.end : 0;
      if (dist < best_dist) {
        best_dist = dist;
        best_b = p;
        best_e = e;
      }
    }
    while (e < t_.size() && IsAlnum(t_[e])) {
      ++e;
    }
    p = e;
  }
  if (best_dist != SIZE_MAX) {
    Add(static_cast<uint32_t>(best_b), static_cast<uint32_t>(best_e), kSwift, 0.9f);
  }
}

uint32_t ScanPass::DoUserinfo(uint32_t hit_end) {
  const size_t lo = hit_end > 200 ? hit_end - 200 : 0;
  const size_t scheme = t_.rfind("://", hit_end);
  if (scheme == std::string_view::npos || scheme < lo) {
    return hit_end;
  }
  const size_t colon = t_.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon + 1 >= hit_end - 1) {
    return hit_end;
  }
  Add(static_cast<uint32_t>(colon + 1), hit_end - 1, kPassword, 0.9f);
  return hit_end;
}

// ---- values read after a context word ---------------------------------------------------------

constexpr std::string_view kFillerWords[] = {
    "is",      "was",     "are",    "be",   "number", "num", "no",  "nr",    "code",   "id",
    "my",      "the",     "of",     "our",  "your",   "his", "her", "their", "value",  "equals",
    "will",    "should",  "set",    "to",   "now",    "new", "and", "date",  "digits", "here",
    "license", "licence", "permit", "card", "na",     "be",  "it",
};

bool IsFillerWord(std::string_view w) {
  for (std::string_view f : kFillerWords) {
    if (EqualsLower(w, f)) {
      return true;
    }
  }
  return false;
}

// Skips what separates a context word from its value: punctuation (": ", " = ", " #"), quotes
// and filler words ("is", "number", "no."). Sets *strong when ':' or '=' was seen.
size_t SkipFiller(std::string_view t, size_t pos, bool* strong, bool* quoted) {
  const size_t limit = std::min(t.size(), pos + 48);
  int words = 0;
  while (pos < limit) {
    const char c = t[pos];
    if (c == ':' || c == '=') {
      *strong = true;
      ++pos;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '#' || c == '-' || c == '>' || c == '*' || c == '(' ||
        c == '[' || c == ',' || c == ';' || c == '\n' || c == '\r') {
      ++pos;
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      *quoted = true;
      ++pos;
      continue;
    }
    if (c == '.' && pos >= 2 &&
        (EqualsLower(t.substr(pos - 2, 2), "no") ||
         EqualsLower(t.substr(pos - 2, 2), "nr"))) {  // "no."
      ++pos;
      continue;
    }
    if (IsAlpha(c) && words < 4) {
      size_t w = pos;
      while (w < limit && IsAlpha(t[w])) {
        ++w;
      }
      if (IsFillerWord(t.substr(pos, w - pos)) && (w >= t.size() || !IsAlnum(t[w]))) {
        pos = w;
        ++words;
        continue;
      }
    }
    break;
  }
  return pos;
}

constexpr std::string_view kNotAValue[] = {
    "required", "incorrect", "wrong",  "invalid",   "reset",  "expired",  "changed", "please",
    "enter",    "same",      "strong", "weak",      "hidden", "provided", "needed",  "missing",
    "field",    "manager",   "policy", "protected", "secure", "forgot",   "updated", "correct",
    "sent",     "not",       "too",    "must",      "below",  "above",    "this",    "that",
    "it",       "a",         "an",     "for",       "with",   "and",      "or",      "in",
    "on",       "should",    "will",   "can",       "cannot", "hash",     "length",
};

bool IsNotAValue(std::string_view w) {
  for (std::string_view f : kNotAValue) {
    if (EqualsLower(w, f)) {
      return true;
    }
  }
  return false;
}

// Digits [min, max] starting at pos, not glued to other alphanumerics.
size_t DigitsAt(std::string_view t, size_t pos, size_t min, size_t max) {
  size_t e = pos;
  while (e < t.size() && IsDigit(t[e]) && e - pos <= max) {
    ++e;
  }
  if (e - pos < min || e - pos > max || AlnumAfter(t, e) || AlnumBefore(t, pos)) {
    return 0;
  }
  return e - pos;
}

void ScanPass::DoKeywordValue(const KeywordHit& kw) {
  const uint64_t wanted = CtxTypes(kw.ctx);
  if ((wanted & impl_.enabled.to_ullong()) == 0) {
    return;
  }
  if (kw.ctx == kCtxSwift) {
    SwiftAround(kw);
    return;
  }
  bool strong = false;
  bool quoted = false;
  const size_t v = SkipFiller(t_, kw.end, &strong, &quoted);
  if (v >= t_.size()) {
    if (kw.ctx == kCtxDriver || kw.ctx == kCtxPassport) {
      TokenBefore(kw, kw.ctx == kCtxDriver ? kDriverId : kPassport);
    }
    if (kw.ctx != kCtxAgeAfter) {
      return;
    }
  }
  const auto b = static_cast<uint32_t>(v);
  switch (kw.ctx) {
    case kCtxCvv: {
      const size_t n = DigitsAt(t_, v, 3, 4);
      if (n != 0) {
        Add(b, b + n, kCvv, 0.85f);
      } else {
        DigitsAfter(kw.end, 3, 4, kCvv);
      }
      return;
    }
    case kCtxPin: {
      const size_t n = DigitsAt(t_, v, 4, 8);
      if (n != 0) {
        Add(b, b + n, kPin, 0.85f);
      } else {
        DigitsAfter(kw.end, 4, 6, kPin);
      }
      return;
    }
    case kCtxPasscode: {
      const size_t n = DigitsAt(t_, v, 4, 8);
      if (n != 0) {
        Add(b, b + n, kPin, 0.85f);
        return;
      }
      break;  // a non-numeric passcode is a password
    }
    case kCtxAge: {
      const size_t n = DigitsAt(t_, v, 1, 3);
      if (n != 0 && std::atoi(std::string(t_.substr(v, n)).c_str()) <= 130) {
        Add(b, b + n, kAge, 0.85f);
      }
      return;
    }
    case kCtxAgeAfter: {
      size_t e = kw.begin;
      while (e > 0 && kw.begin - e < 3 && (t_[e - 1] == ' ' || t_[e - 1] == '-')) {
        --e;
      }
      size_t s = e;
      while (s > 0 && e - s < 4 && IsDigit(t_[s - 1])) {
        --s;
      }
      if (s < e && e - s <= 3 && !AlnumBefore(t_, s) &&
          !(s > 0 && (t_[s - 1] == '.' || t_[s - 1] == ',')) &&
          std::atoi(std::string(t_.substr(s, e - s)).c_str()) <= 130) {
        Add(static_cast<uint32_t>(s), static_cast<uint32_t>(e), kAge, 0.85f);
      }
      return;
    }
    case kCtxExpiry: {
      // MM/YY, MM/YYYY, MM-YY, "MM / YY"
      size_t p = v;
      size_t m = 0;
      while (p < t_.size() && IsDigit(t_[p]) && m < 3) {
        ++p;
        ++m;
      }
      if (m < 1 || m > 2 || AlnumBefore(t_, v)) {
        return;
      }
      const int month = std::atoi(std::string(t_.substr(v, m)).c_str());
      if (month < 1 || month > 12) {
        return;
      }
      size_t q = p;
      while (q < t_.size() && q - p < 3 && t_[q] == ' ') {
        ++q;
      }
      if (q >= t_.size() || (t_[q] != '/' && t_[q] != '-' && t_[q] != '.')) {
        return;
      }
      ++q;
      while (q < t_.size() && t_[q] == ' ' && q - p < 5) {
        ++q;
      }
      size_t y = q;
      while (y < t_.size() && IsDigit(t_[y]) && y - q < 5) {
        ++y;
      }
      if ((y - q == 2 || y - q == 4) && !AlnumAfter(t_, y) &&
          !(y < t_.size() &&
            (t_[y] == '/' || (t_[y] == '-' && y + 1 < t_.size() && IsDigit(t_[y + 1]))))) {
        Add(b, static_cast<uint32_t>(y), kExpiry, 0.85f);
      }
      return;
    }

    case kCtxBearer: {
      size_t p = kw.end;
      if (p >= t_.size() || t_[p] != ' ') {
        return;
      }
      while (p < t_.size() && t_[p] == ' ') {
        ++p;
      }
      size_t e = p;
      while (e < t_.size() && e - p < 4096 &&
             (IsAlnum(t_[e]) || std::strchr("-._~+/=", t_[e]) != nullptr)) {
        ++e;
      }
      if (e - p >= 8 && std::any_of(t_.begin() + p, t_.begin() + e, IsDigit)) {
        Add(static_cast<uint32_t>(p), static_cast<uint32_t>(e), kBearer, 0.92f);
      }
      return;
    }
    case kCtxAuthorization: {
      if (!strong) {
        return;
      }
      // "Authorization: <scheme> <credentials>" or "Authorization: <credentials>"
      size_t p = v;
      size_t w = p;
      while (w < t_.size() && IsAlpha(t_[w]) && w - p < 16) {
        ++w;
      }
      if (w < t_.size() && t_[w] == ' ' && w > p) {
        if (EqualsLower(t_.substr(p, w - p), "bearer")) {
          return;  // the "bearer" word reports it
        }
        p = w + 1;
      }
      size_t e = p;
      while (e < t_.size() && e - p < 4096 &&
             (IsAlnum(t_[e]) || std::strchr("-._~+/=:,\"", t_[e]) != nullptr)) {
        ++e;
      }
      while (e > p && (t_[e - 1] == ',' || t_[e - 1] == '"')) {
        --e;
      }
      if (e - p >= 8) {
        Add(static_cast<uint32_t>(p), static_cast<uint32_t>(e), kBearer, 0.9f);
      }
      return;
    }
    default:
      break;
  }

  // Token-valued types.
  auto token_end = [&](size_t p, auto allowed, size_t max) {
    size_t e = p;
    while (e < t_.size() && e - p < max && allowed(t_[e])) {
      ++e;
    }
    return e;
  };
  switch (kw.ctx) {
    case kCtxPassword:
    case kCtxPasscode: {
      if ((kw.flags & kWeak) && !strong) {
        return;
      }
      size_t e = token_end(
          v,
          [&](char c) { return !IsSpace(c) && !(quoted && (c == '"' || c == '\'' || c == '`')); },
          128);
      while (e > v && std::strchr(".,;)]}\"'`", t_[e - 1]) != nullptr) {
        --e;
      }
      const std::string_view pw = t_.substr(v, e - v);
      if (pw.size() < 4 || IsNotAValue(pw)) {
        return;
      }
      bool lower = false, upper = false, digit = false, symbol = false;
      for (char c : pw) {
        lower |= IsLower(c);
        upper |= IsUpper(c);
        digit |= IsDigit(c);
        symbol |= !IsAlnum(c);
      }
      const int classes = lower + upper + digit + symbol;
      // Without ':' or '=' ("my password is ..."), a plain word is more likely prose.
      if (!strong && !quoted && classes < 2) {
        return;
      }
      Add(b, static_cast<uint32_t>(e), kPassword, strong || quoted ? 0.85f : 0.8f);
      return;
    }
    case kCtxUsername: {
      size_t s = v;
      if (s < t_.size() && t_[s] == '@') {
        ++s;
      }
      size_t e = token_end(
          s, [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; }, 64);
      while (e > s && (t_[e - 1] == '.' || t_[e - 1] == '-')) {
        --e;
      }
      if (e < t_.size() && t_[e] == '@') {
        return;  // an e-mail address: EMAIL reports it
      }
      const std::string_view user = t_.substr(s, e - s);
      if (user.size() < 3 || IsNotAValue(user) || IsFillerWord(user)) {
        return;
      }
      // "my login is ada_obi" but not "login attempt from": without ':' or '=' a weak word
      // needs a value that looks like a user name (digits, '_' or '.').
      const bool shaped = std::any_of(user.begin(), user.end(),
                                      [](char c) { return IsDigit(c) || c == '_' || c == '.'; });
      if ((kw.flags & kWeak) && !strong && !shaped) {
        return;
      }
      Add(b, static_cast<uint32_t>(e), kUsername, strong ? 0.85f : 0.8f);
      return;
    }
    case kCtxPassport: {
      // US passports: 9 digits, or since 2021 a letter and 8 digits.
      size_t e = token_end(v, IsAlnum, 12);
      const std::string_view p = t_.substr(v, e - v);
      const size_t digits = std::count_if(p.begin(), p.end(), IsDigit);
      if ((p.size() == 9 && digits == 9) || (p.size() == 9 && IsAlpha(p[0]) && digits == 8)) {
        Add(b, static_cast<uint32_t>(e), kPassport, 0.9f);
      } else {
        TokenBefore(kw, kPassport);
      }
      return;
    }
    case kCtxDriver:
    case kCtxPlate:
    case kCtxHealth: {
      // Groups of letters and digits joined by single spaces or dashes.
      const size_t max_chars = kw.ctx == kCtxPlate ? 10 : 20;
      size_t e = v;  // end of the accepted groups
      size_t p = v;  // start of the next group
      size_t chars = 0;
      size_t digits = 0;
      int groups = 0;
      while (groups < 4 && p < t_.size()) {
        size_t g = p;
        size_t gd = 0;
        while (g < t_.size() && IsAlnum(t_[g]) && g - p <= max_chars) {
          gd += IsDigit(t_[g]) ? 1 : 0;
          ++g;
        }
        if (g == p || chars + (g - p) > max_chars) {
          break;
        }
        // A later group must look like part of the value ("LND 123 AB"), not the next word.
        const bool short_upper = kw.ctx != kCtxDriver && g - p <= 3 &&
                                 std::all_of(t_.begin() + p, t_.begin() + g, IsUpper);
        if (groups > 0 && gd == 0 && !short_upper) {
          break;
        }
        chars += g - p;
        digits += gd;
        ++groups;
        e = g;
        if (g + 1 < t_.size() && (t_[g] == ' ' || t_[g] == '-') && IsAlnum(t_[g + 1])) {
          p = g + 1;
        } else {
          break;
        }
      }
      const bool found = chars != 0 && digits != 0;
      if (kw.ctx == kCtxPlate) {
        if (found && chars >= 2 && chars <= 10) {
          Add(b, static_cast<uint32_t>(e), kPlate, 0.8f);
        }
      } else if (kw.ctx == kCtxDriver) {
        if (found && chars >= 5 && (kw.end - kw.begin > 3 || strong)) {
          Add(b, static_cast<uint32_t>(e), kDriverId, 0.82f);
        } else if (kw.end - kw.begin > 3) {
          TokenBefore(kw, kDriverId);  // "ABC12345AB12 is the number on my driver's licence"
        }
      } else if (found && digits >= 6 && chars >= 8 && chars <= 14) {
        Add(b, static_cast<uint32_t>(e), kCaHealth, 0.95f);
      }
      return;
    }
    case kCtxSecret:
    case kCtxAwsSecret: {
      if (kw.ctx == kCtxAwsSecret && impl_.On(kAwsSecretKey)) {
        AwsSecretAfter(kw.end, 0.88f);
      }
      if ((kw.flags & kWeak) && !strong) {
        return;
      }
      size_t e = token_end(
          v, [](char c) { return IsAlnum(c) || std::strchr("-_+/=.~", c) != nullptr; }, 512);
      while (e > v && t_[e - 1] == '.') {
        --e;
      }
      const std::string_view secret = t_.substr(v, e - v);
      if (secret.size() == 40 && impl_.On(kAwsSecretKey) &&
          std::all_of(secret.begin(), secret.end(), IsAwsSecretChar) &&
          (kw.ctx == kCtxAwsSecret || strong)) {
        Add(b, static_cast<uint32_t>(e), kAwsSecretKey, kw.ctx == kCtxAwsSecret ? 0.9f : 0.85f);
        return;
      }
      // After ':' or '=' (or in quotes) 16 characters are enough; after prose ("the webhook
      // secret is ...") the value must look machine-made: 20+ characters of letters and digits.
      const bool digit = std::any_of(secret.begin(), secret.end(), IsDigit);
      const bool alpha = std::any_of(secret.begin(), secret.end(), IsAlpha);
      const bool shaped = strong || quoted ? secret.size() >= 16 : secret.size() >= 20 && alpha;
      if (shaped && digit && Entropy(secret.substr(0, 256)) >= 3.4) {
        Add(b, static_cast<uint32_t>(e), kGeneric, 0.8f);
      }
      return;
    }
    default:
      return;
  }
}

// ---- overlap resolution -----------------------------------------------------------------------

bool Before(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) {
    return a.score > b.score;
  }
  if (a.end - a.begin != b.end - b.begin) {
    return a.end - a.begin > b.end - b.begin;
  }
  if (a.begin != b.begin) {
    return a.begin < b.begin;
  }
  return a.type < b.type;
}

// Keeps the best of every overlapping group (see the header). O(n log n).
void Resolve(std::vector<Candidate>& c) {
  std::sort(c.begin(), c.end(), Before);
  std::vector<Candidate> kept;
  kept.reserve(c.size());
  // Accepted spans, by begin (they never overlap, so also by end).
  std::vector<std::pair<uint32_t, uint32_t>> taken;
  for (const Candidate& x : c) {
    auto it = std::lower_bound(taken.begin(), taken.end(), std::make_pair(x.begin, 0u));
    bool overlaps = false;
    if (it != taken.end() && it->first < x.end) {
      overlaps = true;
    }
    if (it != taken.begin() && std::prev(it)->second > x.begin) {
      overlaps = true;
    }
    if (!overlaps) {
      taken.insert(it, {x.begin, x.end});
      kept.push_back(x);
    }
  }
  c.swap(kept);
}

}  // namespace

// ---- Scanner ----------------------------------------------------------------------------------

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

namespace {

std::string HexEscapeLiteral(std::string_view word) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : word) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsAlnum(ch)) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<const Scanner>> Scanner::Compile(const ScannerOptions& options) {
  auto impl = std::make_unique<Impl>();
  for (const std::string& name : options.types) {
    const EntityInfo* info = FindEntity(name);
    if (info == nullptr) {
      return InvalidArgument("unknown sensitive-information type \"" + name +
                             "\"; use one of the names in the entity list (e.g. EMAIL, PHONE, "
                             "CREDIT_DEBIT_CARD_NUMBER, NG_NUBAN, SECRET_JWT)");
    }
    if (!info->detectable) {
      return InvalidArgument("sensitive-information type \"" + name +
                             "\" cannot be detected yet (it needs a statistical detector); "
                             "remove it from the guardrail or use a custom regex instead");
    }
    const auto it = std::find(kTypeNames.begin(), kTypeNames.end(), info->name);
    if (it == kTypeNames.end()) {
      return Internal("sensitive-information type \"" + name + "\" has no scanner rule");
    }
    impl->enabled.set(static_cast<size_t>(it - kTypeNames.begin()));
  }
  const uint64_t enabled = impl->enabled.to_ullong();

  std::vector<std::string> expressions;
  std::vector<unsigned> flags;
  for (const TriggerDef& t : kTriggers) {
    if ((t.types & enabled) != 0) {
      expressions.emplace_back(t.regex);
      flags.push_back(t.flags);
      impl->patterns.push_back({Kind::kTrigger, t.trig});
    }
  }
  for (size_t i = 0; i < kKeywords.size(); ++i) {
    const KeywordDef& k = kKeywords[i];
    if ((k.flags & kInDb) != 0 && (CtxTypes(k.ctx) & enabled) != 0) {
      expressions.push_back(HexEscapeLiteral(k.word));
      flags.push_back(HS_FLAG_CASELESS);
      impl->patterns.push_back({Kind::kKeyword, static_cast<uint16_t>(i)});
    }
  }
  const size_t builtin = expressions.size();
  for (size_t i = 0; i < options.regexes.size(); ++i) {
    const CustomPattern& p = options.regexes[i];
    if (p.name.empty()) {
      return InvalidArgument("custom regex #" + std::to_string(i + 1) +
                             " has no name; give every regexesConfig entry a name");
    }
    if (p.pattern.empty()) {
      return InvalidArgument("custom regex \"" + p.name +
                             "\" has an empty pattern; give it a pattern or remove it");
    }
    expressions.push_back(p.pattern);
    flags.push_back(HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SOM_LEFTMOST);
    impl->patterns.push_back({Kind::kCustom, static_cast<uint16_t>(i)});
    impl->custom_names.push_back(p.name);
  }
  if (expressions.empty()) {
    impl->generation = g_next_generation.fetch_add(1);
    return std::unique_ptr<const Scanner>(new Scanner(std::move(impl)));
  }
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < expressions.size(); ++i) {
    exprs.push_back(expressions[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* error = nullptr;
  const hs_error_t rc =
      hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &impl->db, &error);
  if (rc != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr ? error->message : "";
    const int index = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    if (index >= static_cast<int>(builtin)) {
      return InvalidArgument("custom regex \"" + options.regexes[index - builtin].name +
                             "\" cannot be compiled: Hyperscan says \"" + message +
                             "\"; fix the pattern (Hyperscan supports PCRE syntax without "
                             "backreferences, lookaround or patterns that match empty text) or "
                             "remove it");
    }
    if (index < 0 && !options.regexes.empty()) {
      return InvalidArgument("the custom regexes cannot be compiled together: Hyperscan says \"" +
                             message + "\"; simplify or remove some of them");
    }
    return Internal("the built-in scanner patterns do not compile: " + message);
  }
  impl->generation = g_next_generation.fetch_add(1);
  return std::unique_ptr<const Scanner>(new Scanner(std::move(impl)));
}

Result<std::vector<Finding>> Scanner::Scan(std::string_view text) const {
  auto normalized = Normalize(text);
  if (!normalized.ok()) {
    return normalized.status();
  }
  return Scan(*normalized, text);
}

Result<std::vector<Finding>> Scanner::Scan(const NormalizedText& normalized,
                                           std::string_view original) const {
  if (normalized.original_size() != original.size()) {
    return InvalidArgument("the normalized text was made from a text of " +
                           std::to_string(normalized.original_size()) + " bytes, not " +
                           std::to_string(original.size()) + "; pass the text that was normalized");
  }
  const NormalizeOptions limits;
  const std::string& text = normalized.text();
  if (original.size() > limits.max_input_bytes || text.size() > limits.max_output_bytes) {
    return InvalidArgument("text is " + std::to_string(original.size()) +
                           " bytes, above the guardrail limit of " +
                           std::to_string(limits.max_input_bytes) + " bytes; send a shorter text");
  }
  std::vector<Finding> findings;
  const Impl& impl = *impl_;
  if (impl.db == nullptr || text.empty()) {
    return findings;
  }
  ThreadState& st = t_state;
  if (st.busy) {
    return Internal("Scanner::Scan re-entered on one thread");
  }
  if (st.fitted_generation != impl.generation) {
    if (hs_alloc_scratch(impl.db, &st.scratch) != HS_SUCCESS) {
      return Internal("cannot allocate Hyperscan scratch space");
    }
    st.fitted_generation = impl.generation;
  }
  st.busy = true;
  // Released on every return (and exception): the thread's state stays usable.
  struct Release {
    ThreadState& st;
    ~Release() {
      st.busy = false;
      st.Trim();
    }
  } release{st};
  st.hits.clear();
  st.last_end.assign(impl.patterns.size(), kNone);
  st.last_start.assign(impl.patterns.size(), 0);
  MatchContext ctx{&st.hits, st.last_end.data(), st.last_start.data(), impl.patterns.data()};
  const hs_error_t rc = hs_scan(impl.db, text.data(), static_cast<unsigned>(text.size()), 0,
                                st.scratch, OnMatch, &ctx);
  if (ctx.overflow) {
    return ResourceExhausted("text produced more than " + std::to_string(kMaxMatchesPerScan) +
                             " pattern matches; send a shorter text or narrow the custom regexes");
  }
  if (rc != HS_SUCCESS) {
    return Internal("Hyperscan scan failed with error " + std::to_string(rc));
  }
  // Hyperscan reports in end order per engine; the extractors need a global end order.
  auto by_end = [](const Hit& a, const Hit& b) { return a.end < b.end; };
  if (!std::is_sorted(st.hits.begin(), st.hits.end(), by_end)) {
    std::stable_sort(st.hits.begin(), st.hits.end(), by_end);
  }
  ScanPass pass(impl, text, st);
  pass.Run();
  Resolve(st.candidates);
  std::sort(st.candidates.begin(), st.candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.begin < b.begin; });
  findings.reserve(st.candidates.size());
  for (const Candidate& c : st.candidates) {
    const OriginalSpan span = normalized.ToOriginal(c.begin, c.end);
    // Two findings next to each other in the normalized text can share an original character
    // (a ligature split by NFKC): keep the better one.
    if (!findings.empty() && span.begin_byte < findings.back().span.end_byte) {
      if (c.score <= findings.back().score) {
        continue;
      }
      findings.pop_back();
    }
    Finding f;
    if (c.type >= kTypeCount) {
      f.type = impl.custom_names[c.type - kTypeCount];
      f.custom = true;
    } else {
      f.type = std::string(kTypeNames[c.type]);
    }
    f.span = span;
    f.text = std::string(original.substr(span.begin_byte, span.end_byte - span.begin_byte));
    f.score = std::round(static_cast<double>(c.score) * 1000.0) / 1000.0;
    findings.push_back(std::move(f));
  }
  return findings;
}

}  // namespace perimeter::guard
