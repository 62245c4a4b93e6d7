#include "guard/validators.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace perimeter::guard {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpperAlnum(char c) { return IsDigit(c) || IsUpper(c); }
char ToUpper(char c) { return IsLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
int DigitValue(char c) { return c - '0'; }

bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

// The integer value of the first `n` digits of `digits` (caller guarantees n <= size, n <= 9).
int Prefix(std::string_view digits, std::size_t n) {
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    value = value * 10 + DigitValue(digits[i]);
  }
  return value;
}

bool InRange(int value, int lo, int hi) { return value >= lo && value <= hi; }

// Copies the digits of `text` into `out`, allowing single separators from `seps` between digits
// (never leading, trailing or doubled). False on any other character or more than `cap` digits.
bool DigitsWithSeparators(std::string_view text, std::string_view seps, std::string& out,
                          std::size_t cap) {
  out.clear();
  if (text.empty() || text.size() > kMaxCandidateBytes) {
    return false;
  }
  bool last_was_sep = true;  // so a leading separator is rejected
  for (char c : text) {
    if (IsDigit(c)) {
      if (out.size() == cap) {
        return false;
      }
      out.push_back(c);
      last_was_sep = false;
    } else if (seps.find(c) != std::string_view::npos) {
      if (last_was_sep) {
        return false;
      }
      last_was_sep = true;
    } else {
      return false;
    }
  }
  return !last_was_sep;
}

// Accepts `n` digits, or the digits in groups of `groups` joined by one separator from `seps`,
// the same separator every time. Writes the bare digits into `out` (size n).
bool GroupedDigits(std::string_view text, std::initializer_list<std::size_t> groups,
                   std::string_view seps, std::string& out) {
  std::size_t n = 0;
  for (std::size_t g : groups) {
    n += g;
  }
  out.clear();
  if (text.size() == n) {
    if (!AllDigits(text)) {
      return false;
    }
    out.assign(text);
    return true;
  }
  if (text.size() != n + groups.size() - 1) {
    return false;
  }
  char sep = 0;
  std::size_t pos = 0;
  std::size_t index = 0;
  for (std::size_t g : groups) {
    if (index++ > 0) {
      char c = text[pos++];
      if (seps.find(c) == std::string_view::npos || (sep != 0 && c != sep)) {
        return false;
      }
      sep = c;
    }
    for (std::size_t i = 0; i < g; ++i, ++pos) {
      if (!IsDigit(text[pos])) {
        return false;
      }
      out.push_back(text[pos]);
    }
  }
  return true;
}

// ---- IBAN registry ----------------------------------------------------------------------------

struct IbanCountry {
  std::string_view code;
  int length;             // total IBAN length, country code and check digits included
  std::string_view bban;  // registry BBAN structure: <count>!<n|a|c>... (n digit, a A-Z, c A-Z0-9)
};

// SWIFT IBAN Registry (iban-registry, release of 2024 including HN and YE), as transcribed in
// python-stdnum's stdnum/iban.dat "generated from iban-registry_1.txt, downloaded from
// https://www.swift.com/node/11971". Lengths are 4 + the BBAN length. Covers every EU/EEA country,
// GB, CH and the Middle East / Africa members (AE BH BI DJ EG IL IQ JO KW LB LY MR MU OM PS QA
// SA SC SD SO ST TN YE).
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24, "4!n4!n12!c"},
    {"AE", 23, "3!n16!n"},
    {"AL", 28, "8!n16!c"},
    {"AT", 20, "5!n11!n"},
    {"AZ", 28, "4!a20!c"},
    {"BA", 20, "3!n3!n8!n2!n"},
    {"BE", 16, "3!n7!n2!n"},
    {"BG", 22, "4!a4!n2!n8!c"},
    {"BH", 22, "4!a14!c"},
    {"BI", 27, "5!n5!n11!n2!n"},
    {"BR", 29, "8!n5!n10!n1!a1!c"},
    {"BY", 28, "4!c4!n16!c"},
    {"CH", 21, "5!n12!c"},
    {"CR", 22, "4!n14!n"},
    {"CY", 28, "3!n5!n16!c"},
    {"CZ", 24, "4!n6!n10!n"},
    {"DE", 22, "8!n10!n"},
    {"DJ", 27, "5!n5!n11!n2!n"},
    {"DK", 18, "4!n9!n1!n"},
    {"DO", 28, "4!c20!n"},
    {"EE", 20, "2!n14!n"},
    {"EG", 29, "4!n4!n17!n"},
    {"ES", 24, "4!n4!n1!n1!n10!n"},
    {"FI", 18, "3!n11!n"},
    {"FK", 18, "2!a12!n"},
    {"FO", 18, "4!n9!n1!n"},
    {"FR", 27, "5!n5!n11!c2!n"},
    {"GB", 22, "4!a6!n8!n"},
    {"GE", 22, "2!a16!n"},
    {"GI", 23, "4!a15!c"},
    {"GL", 18, "4!n9!n1!n"},
    {"GR", 27, "3!n4!n16!c"},
    {"GT", 28, "4!c20!c"},
    {"HN", 28, "4!a20!n"},
    {"HR", 21, "7!n10!n"},
    {"HU", 28, "3!n4!n1!n15!n1!n"},
    {"IE", 22, "4!a6!n8!n"},
    {"IL", 23, "3!n3!n13!n"},
    {"IQ", 23, "4!a3!n12!n"},
    {"IS", 26, "4!n2!n6!n10!n"},
    {"IT", 27, "1!a5!n5!n12!c"},
    {"JO", 30, "4!a4!n18!c"},
    {"KW", 30, "4!a22!c"},
    {"KZ", 20, "3!n13!c"},
    {"LB", 28, "4!n20!c"},
    {"LC", 32, "4!a24!c"},
    {"LI", 21, "5!n12!c"},
    {"LT", 20, "5!n11!n"},
    {"LU", 20, "3!n13!c"},
    {"LV", 21, "4!a13!c"},
    {"LY", 25, "3!n3!n15!n"},
    {"MC", 27, "5!n5!n11!c2!n"},
    {"MD", 24, "2!c18!c"},
    {"ME", 22, "3!n13!n2!n"},
    {"MK", 19, "3!n10!c2!n"},
    {"MN", 20, "4!n12!n"},
    {"MR", 27, "5!n5!n11!n2!n"},
    {"MT", 31, "4!a5!n18!c"},
    {"MU", 30, "4!a2!n2!n12!n3!n3!a"},
    {"NI", 28, "4!a20!n"},
    {"NL", 18, "4!a10!n"},
    {"NO", 15, "4!n6!n1!n"},
    {"OM", 23, "3!n16!c"},
    {"PK", 24, "4!a16!c"},
    {"PL", 28, "8!n16!n"},
    {"PS", 29, "4!a21!c"},
    {"PT", 25, "4!n4!n11!n2!n"},
    {"QA", 29, "4!a21!c"},
    {"RO", 24, "4!a16!c"},
    {"RS", 22, "3!n13!n2!n"},
    {"RU", 33, "9!n5!n15!c"},
    {"SA", 24, "2!n18!c"},
    {"SC", 31, "4!a2!n2!n16!n3!a"},
    {"SD", 18, "2!n12!n"},
    {"SE", 24, "3!n16!n1!n"},
    {"SI", 19, "5!n8!n2!n"},
    {"SK", 24, "4!n6!n10!n"},
    {"SM", 27, "1!a5!n5!n12!c"},
    {"SO", 23, "4!n3!n12!n"},
    {"ST", 25, "8!n11!n2!n"},
    {"SV", 28, "4!a20!n"},
    {"TL", 23, "3!n14!n2!n"},
    {"TN", 24, "2!n3!n13!n2!n"},
    {"TR", 26, "5!n1!n16!c"},
    {"UA", 29, "6!n19!c"},
    {"VA", 22, "3!n15!n"},
    {"VG", 24, "4!a16!n"},
    {"XK", 20, "4!n10!n2!n"},
    {"YE", 30, "4!a4!n18!c"},
};

const IbanCountry* FindIbanCountry(std::string_view code) {
  auto it = std::lower_bound(std::begin(kIbanCountries), std::end(kIbanCountries), code,
                             [](const IbanCountry& c, std::string_view k) { return c.code < k; });
  if (it == std::end(kIbanCountries) || it->code != code) {
    return nullptr;
  }
  return it;
}

// True if `bban` (already upper case) follows the registry structure `format`.
bool BbanMatches(std::string_view bban, std::string_view format) {
  std::size_t pos = 0;
  std::size_t i = 0;
  while (i < format.size()) {
    std::size_t count = 0;
    while (i < format.size() && IsDigit(format[i])) {
      count = count * 10 + static_cast<std::size_t>(DigitValue(format[i++]));
    }
    if (i < format.size() && format[i] == '!') {
      ++i;
    }
    if (i >= format.size() || pos + count > bban.size()) {
      return false;
    }
    char kind = format[i++];
    for (std::size_t k = 0; k < count; ++k, ++pos) {
      char c = bban[pos];
      bool ok = kind == 'n' ? IsDigit(c) : kind == 'a' ? IsUpper(c) : IsUpperAlnum(c);
      if (!ok) {
        return false;
      }
    }
  }
  return pos == bban.size();
}

// ---- ISO 3166-1 alpha-2 -------------------------------------------------------------------------

// ISO 3166-1 alpha-2, current as of ISO/TC 46 N1108 (2023-04-05), taken from tzdata's
// iso3166.tab (identical to the Debian iso-codes iso_3166-1.json list, 249 codes), plus XK
// (Kosovo, a user-assigned code that SWIFT and the IBAN registry use). Sorted.
constexpr std::string_view kCountryCodes[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
};

// ---- UTR --------------------------------------------------------------------------------------

// HMRC UTR check: digits 2-10 weighted 6,7,8,9,10,5,4,3,2; the remainder of the sum mod 11
// indexes "21987654321" to give the expected first digit. Sources: HMRC's own validator in
// github.com/hmrc/awrs-frontend app/forms/validation/util/UTRValidator.scala (remainder map
// 0->2, 1->1, 2->9, ... 10->1) and koblas/stdnum-js src/gb/utr.ts ('21987654321'[sum % 11]);
// hmrc/reference-checker's README gives 2234567890 as a valid Corporation Tax UTR.
constexpr int kUtrWeights[9] = {6, 7, 8, 9, 10, 5, 4, 3, 2};
constexpr std::string_view kUtrCheck = "21987654321";

// ---- VIN --------------------------------------------------------------------------------------

// 49 CFR 565.15 transliteration (I, O, Q never appear).
int VinValue(char c) {
  if (IsDigit(c)) {
    return DigitValue(c);
  }
  switch (c) {
    case 'A':
    case 'J':
      return 1;
    case 'B':
    case 'K':
    case 'S':
      return 2;
    case 'C':
    case 'L':
    case 'T':
      return 3;
    case 'D':
    case 'M':
    case 'U':
      return 4;
    case 'E':
    case 'N':
    case 'V':
      return 5;
    case 'F':
    case 'W':
      return 6;
    case 'G':
    case 'P':
    case 'X':
      return 7;
    case 'H':
    case 'Y':
      return 8;
    case 'R':
    case 'Z':
      return 9;
    default:
      return -1;
  }
}
constexpr int kVinWeights[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};

}  // namespace

// ---- helpers ----------------------------------------------------------------------------------

std::string DigitsOnly(std::string_view text) {
  std::string out;
  if (text.size() > kMaxCandidateBytes) {
    return out;
  }
  for (char c : text) {
    if (IsDigit(c)) {
      out.push_back(c);
    }
  }
  return out;
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxCandidateBytes) {
    return false;
  }
  int sum = 0;
  bool doubled = false;  // the check digit (last) is not doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!IsDigit(*it)) {
      return false;
    }
    int d = DigitValue(*it);
    if (doubled) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

// ---- payment cards ----------------------------------------------------------------------------

std::string_view CardBrandName(CardBrand brand) {
  switch (brand) {
    case CardBrand::kNone:
      return "none";
    case CardBrand::kVisa:
      return "Visa";
    case CardBrand::kMastercard:
      return "Mastercard";
    case CardBrand::kAmex:
      return "American Express";
    case CardBrand::kDiscover:
      return "Discover";
    case CardBrand::kJcb:
      return "JCB";
    case CardBrand::kDinersClub:
      return "Diners Club";
    case CardBrand::kUnionPay:
      return "UnionPay";
    case CardBrand::kMaestro:
      return "Maestro";
    case CardBrand::kVerve:
      return "Verve";
  }
  return "none";
}

CardBrand CreditCardBrand(std::string_view text) {
  std::string d;
  if (!DigitsWithSeparators(text, " -", d, 19) || d.size() < 12 || !LuhnValid(d)) {
    return CardBrand::kNone;
  }
  const std::size_t n = d.size();
  const int p2 = Prefix(d, 2);
  const int p3 = Prefix(d, 3);
  const int p4 = Prefix(d, 4);
  const int p6 = Prefix(d, 6);
  auto len_in = [n](std::size_t lo, std::size_t hi) { return n >= lo && n <= hi; };

  if ((p2 == 34 || p2 == 37) && n == 15) {
    return CardBrand::kAmex;
  }
  if ((InRange(p3, 300, 305) || p2 == 36 || p2 == 38 || p2 == 39) && len_in(14, 19)) {
    return CardBrand::kDinersClub;
  }
  if (InRange(p4, 3528, 3589) && len_in(16, 19)) {
    return CardBrand::kJcb;
  }
  if ((InRange(p4, 5060, 5061) || InRange(p6, 507865, 507964) || InRange(p6, 650002, 650027)) &&
      (n == 16 || n == 18 || n == 19)) {
    return CardBrand::kVerve;
  }
  if ((p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 ||
       InRange(p4, 6761, 6763)) &&
      len_in(12, 19)) {
    return CardBrand::kMaestro;
  }
  if ((InRange(p2, 51, 55) || InRange(p4, 2221, 2720)) && n == 16) {
    return CardBrand::kMastercard;
  }
  if ((p4 == 6011 || InRange(p3, 644, 649) || p2 == 65) && len_in(16, 19)) {
    return CardBrand::kDiscover;
  }
  if (p2 == 62 && len_in(16, 19)) {
    return CardBrand::kUnionPay;
  }
  if (d[0] == '4' && (n == 13 || n == 16 || n == 19)) {
    return CardBrand::kVisa;
  }
  return CardBrand::kNone;
}

// ---- banking ----------------------------------------------------------------------------------

bool IsIban(std::string_view text) {
  if (text.size() < 5 || text.size() > kMaxCandidateBytes) {
    return false;
  }
  // Compact, upper-cased form; spaces only as separators of groups of four.
  std::array<char, kMaxCandidateBytes> buf{};
  std::size_t n = 0;
  std::size_t group = 0;
  bool spaced = text.find(' ') != std::string_view::npos;
  for (char c : text) {
    if (c == ' ') {
      if (group != 4) {
        return false;
      }
      group = 0;
      continue;
    }
    if (!IsDigit(c) && !IsUpper(c) && !IsLower(c)) {
      return false;
    }
    if (spaced && group == 4) {
      return false;
    }
    buf[n++] = ToUpper(c);
    ++group;
  }
  if (group == 0) {
    return false;  // trailing space
  }
  std::string_view iban(buf.data(), n);
  const IbanCountry* country = FindIbanCountry(iban.substr(0, 2));
  if (country == nullptr || static_cast<int>(n) != country->length) {
    return false;
  }
  if (!IsDigit(iban[2]) || !IsDigit(iban[3])) {
    return false;
  }
  int check = Prefix(iban.substr(2, 2), 2);
  if (check < 2 || check > 98) {
    return false;
  }
  if (!BbanMatches(iban.substr(4), country->bban)) {
    return false;
  }
  // Mod 97 of BBAN + country + check digits, letters as 10..35, computed digit by digit.
  int rem = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = iban[(k + 4) % n];
    if (IsDigit(c)) {
      rem = (rem * 10 + DigitValue(c)) % 97;
    } else {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    }
  }
  return rem == 1;
}

bool IsIsoCountryCode(std::string_view code) {
  return code.size() == 2 &&
         std::binary_search(std::begin(kCountryCodes), std::end(kCountryCodes), code);
}

bool IsSwiftBic(std::string_view text) {
  if (text.size() != 8 && text.size() != 11) {
    return false;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    if (!IsUpper(text[i])) {
      return false;
    }
  }
  if (!IsIsoCountryCode(text.substr(4, 2))) {
    return false;
  }
  for (std::size_t i = 6; i < text.size(); ++i) {
    if (!IsUpperAlnum(text[i])) {
      return false;
    }
  }
  return true;
}

bool IsAbaRoutingNumber(std::string_view text) {
  if (text.size() != 9 || !AllDigits(text)) {
    return false;
  }
  // Federal Reserve routing symbols: 00 (US Government), 01-12 (the twelve districts),
  // 21-32 (thrifts), 61-72 (electronic), 80 (traveller's cheques).
  int p = Prefix(text, 2);
  if (!(InRange(p, 0, 12) || InRange(p, 21, 32) || InRange(p, 61, 72) || p == 80)) {
    return false;
  }
  static constexpr int kWeights[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    sum += kWeights[i] * DigitValue(text[i]);
  }
  return sum % 10 == 0;
}

// ---- network identifiers ----------------------------------------------------------------------

bool IsIpv4(std::string_view text) {
  if (text.size() < 7 || text.size() > 15) {
    return false;
  }
  int octets = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    int value = 0;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3) {
      value = value * 10 + DigitValue(text[i++]);
    }
    std::size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && text[start] == '0')) {
      return false;
    }
    ++octets;
    if (i == text.size()) {
      return octets == 4;
    }
    if (text[i] != '.' || octets == 4) {
      return false;
    }
    ++i;
  }
}

bool IsIpv6(std::string_view text) {
  // INET6_ADDRSTRLEN is 46 including the terminator.
  if (text.size() < 2 || text.size() > 45 || text.find('\0') != std::string_view::npos) {
    return false;
  }
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

bool IsMacAddress(std::string_view text) {
  if (text.size() == 17) {
    char sep = text[2];
    if (sep != ':' && sep != '-') {
      return false;
    }
    for (std::size_t i = 0; i < 17; ++i) {
      bool ok = (i % 3 == 2) ? text[i] == sep : IsHex(text[i]);
      if (!ok) {
        return false;
      }
    }
    return true;
  }
  if (text.size() == 14) {
    for (std::size_t i = 0; i < 14; ++i) {
      bool ok = (i % 5 == 4) ? text[i] == '.' : IsHex(text[i]);
      if (!ok) {
        return false;
      }
    }
    return true;
  }
  return false;
}

// ---- United States ----------------------------------------------------------------------------

bool IsUsSsn(std::string_view text) {
  std::string d;
  if (!GroupedDigits(text, {3, 2, 4}, "- ", d)) {
    return false;
  }
  int area = Prefix(d, 3);
  int group = Prefix(std::string_view(d).substr(3), 2);
  int serial = Prefix(std::string_view(d).substr(5), 4);
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) {
    return false;
  }
  // Numbers printed in advertising (a wallet insert in 1938, a 1980s promotion) and so used by
  // thousands of people; the SSA voided them.
  return d != "078051120" && d != "219099999";
}

// IRS ranges for the 4th-5th digits: 70-88 originally, 90-92 and 94-99 added in 2011, and 50-65
// (IRS expansion, listed by tax software vendors: TaxSlayer Pro "Valid Range for ITINs",
// BQE "What is an ITIN?"; both give 50-65, 70-88, 90-92, 94-99). 93 is the ATIN, not an ITIN.
bool IsUsItin(std::string_view text) {
  std::string d;
  if (!GroupedDigits(text, {3, 2, 4}, "- ", d) || d[0] != '9') {
    return false;
  }
  int group = Prefix(std::string_view(d).substr(3), 2);
  return InRange(group, 50, 65) || InRange(group, 70, 88) || InRange(group, 90, 92) ||
         InRange(group, 94, 99);
}

// ---- United Kingdom ---------------------------------------------------------------------------

bool IsUkNhsNumber(std::string_view text) {
  std::string d;
  if (!GroupedDigits(text, {3, 3, 4}, " -", d)) {
    return false;
  }
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    sum += DigitValue(d[i]) * static_cast<int>(10 - i);
  }
  int check = 11 - sum % 11;
  if (check == 11) {
    check = 0;
  }
  return check != 10 && check == DigitValue(d[9]);
}

bool IsUkNino(std::string_view text) {
  if (text.empty() || text.size() > kMaxCandidateBytes) {
    return false;
  }
  std::array<char, 9> c{};
  std::size_t n = 0;
  bool last_was_space = true;
  for (char ch : text) {
    if (ch == ' ') {
      if (last_was_space) {
        return false;
      }
      last_was_space = true;
      continue;
    }
    if (n == c.size()) {
      return false;
    }
    c[n++] = ToUpper(ch);
    last_was_space = false;
  }
  if (n != 9 || last_was_space) {
    return false;
  }
  constexpr std::string_view kBadFirst = "DFIQUV";
  constexpr std::string_view kBadSecond = "DFIOQUV";
  if (!IsUpper(c[0]) || !IsUpper(c[1]) || kBadFirst.find(c[0]) != std::string_view::npos ||
      kBadSecond.find(c[1]) != std::string_view::npos) {
    return false;
  }
  std::string_view prefix(c.data(), 2);
  for (std::string_view bad : {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}) {
    if (prefix == bad) {
      return false;
    }
  }
  for (std::size_t i = 2; i < 8; ++i) {
    if (!IsDigit(c[i])) {
      return false;
    }
  }
  return c[8] >= 'A' && c[8] <= 'D';
}

bool IsUkUtr(std::string_view text) {
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) {
    text.remove_suffix(1);
  }
  std::string d;
  if (!DigitsWithSeparators(text, " ", d, 10) || d.size() != 10) {
    return false;
  }
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    sum += kUtrWeights[i] * DigitValue(d[i + 1]);
  }
  return d[0] == kUtrCheck[static_cast<std::size_t>(sum % 11)];
}

// ---- Canada -----------------------------------------------------------------------------------

bool IsCaSin(std::string_view text) {
  std::string d;
  if (!GroupedDigits(text, {3, 3, 3}, " -", d)) {
    return false;
  }
  return d[0] != '0' && d[0] != '8' && LuhnValid(d);
}

// ---- vehicles ---------------------------------------------------------------------------------

bool IsVin(std::string_view text) {
  if (text.size() != 17) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return IsDigit(c) || (IsUpper(c) && c != 'I' && c != 'O' && c != 'Q');
  });
}

bool VinCheckDigitValid(std::string_view text) {
  if (!IsVin(text)) {
    return false;
  }
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) {
    sum += VinValue(text[i]) * kVinWeights[i];
  }
  int rem = sum % 11;
  char expected = rem == 10 ? 'X' : static_cast<char>('0' + rem);
  return text[8] == expected;
}

// ---- cloud credentials ------------------------------------------------------------------------

bool IsAwsAccessKeyId(std::string_view text) {
  if (text.size() != 20) {
    return false;
  }
  std::string_view prefix = text.substr(0, 4);
  bool known = false;
  for (std::string_view p :
       {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"}) {
    known = known || prefix == p;
  }
  if (!known) {
    return false;
  }
  return std::all_of(text.begin() + 4, text.end(),
                     [](char c) { return IsUpper(c) || (c >= '2' && c <= '7'); });
}

// ---- Nigeria ----------------------------------------------------------------------------------

// NUBAN check digit. Original rule: CBN "Nigeria Uniform Bank Account Number (NUBAN) Standards"
// (circular BPS/DIR/CIR/01/51, 2010-08) and its implementation proposals v0.4 (2010-09-03):
// format ABC-DEFGHIJKL-M, check = 10 - (A*3+B*7+C*3+D*3+E*7+F*3+G*3+H*7+I*3+J*3+K*7+L*3) mod 10,
// 10 written as 0; worked example First Bank 011 + serial 000001457 -> 0000014579.
// Revised rule: CBN "Revised Standards on Nigeria Uniform Bank Account Number (NUBAN) for Banks
// and Other Financial Institutions" (exposure draft 2018-11, final circular 2020-03, effective
// 2020-04-20; reported by BusinessDay 2018 and 2020): 16 digits ABCDEF-GHIJKLMNO-P where ABCDEF
// is the 3-digit bank code with three leading zeros ('011' -> '000011') or the 5-digit OFI code
// with a leading '9' ('50547' -> '950547'); the weights 3,7,3 repeat over all 15 digits. Leading
// zeros add nothing, so the revision is the original rule for 3-digit codes.
bool NubanCheckDigitValid(std::string_view bank_code, std::string_view ten_digits) {
  if (ten_digits.size() != 10 || !AllDigits(ten_digits) || !AllDigits(bank_code)) {
    return false;
  }
  std::array<char, 6> code{};
  if (bank_code.size() == 3) {
    code = {'0', '0', '0', bank_code[0], bank_code[1], bank_code[2]};
  } else if (bank_code.size() == 5) {
    code = {'9', bank_code[0], bank_code[1], bank_code[2], bank_code[3], bank_code[4]};
  } else if (bank_code.size() == 6) {
    std::copy(bank_code.begin(), bank_code.end(), code.begin());
  } else {
    return false;
  }
  static constexpr int kWeights[3] = {3, 7, 3};
  int sum = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    sum += DigitValue(code[i]) * kWeights[i % 3];
  }
  for (std::size_t i = 0; i < 9; ++i) {
    sum += DigitValue(ten_digits[i]) * kWeights[(i + 6) % 3];
  }
  int check = (10 - sum % 10) % 10;
  return DigitValue(ten_digits[9]) == check;
}

std::vector<std::string_view> NubanBanks(std::string_view ten_digits) {
  std::vector<std::string_view> out;
  if (ten_digits.size() != 10 || !AllDigits(ten_digits)) {
    return out;
  }
  for (const NgBank& bank : NgBanks()) {
    if (NubanCheckDigitValid(bank.code, ten_digits)) {
      out.push_back(bank.code);
    }
  }
  return out;
}

bool IsNgBvn(std::string_view text) { return text.size() == 11 && AllDigits(text); }

// BVNs are issued by NIBSS with no published structure; issued BVNs begin with "22", which
// KYC integrations check as a sanity test (e.g. public onboarding code that rejects BVNs not
// starting with "22"). Observed convention, not a rule: kept separate from IsNgBvn.
bool NgBvnHasUsualPrefix(std::string_view text) {
  return IsNgBvn(text) && text[0] == '2' && text[1] == '2';
}

bool IsNgNin(std::string_view text) { return text.size() == 11 && AllDigits(text); }

// FIRS TINs were issued as 8 digits, a hyphen and a 4-digit suffix ("12345678-0001"); the Joint
// Tax Board's unified TIN is 10 digits. Neither has a published check digit. Source: format
// descriptions in public TIN validators (e.g. tools.gera.services "Nigeria TIN Validator":
// "Unified JTB TIN - exactly 10 numeric digits ... Legacy ... 8 digits, a hyphen, then 4 digits").
bool IsNgTin(std::string_view text) {
  if (text.size() == 10) {
    return AllDigits(text);
  }
  return text.size() == 13 && text[8] == '-' && AllDigits(text.substr(0, 8)) &&
         AllDigits(text.substr(9));
}

}  // namespace perimeter::guard
