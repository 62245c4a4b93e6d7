#pragma once

// Exact validators for sensitive-information candidates.
//
// The guardrail engine finds candidates with a multi-pattern scan (Hyperscan) and then asks the
// functions here whether a candidate really is what its pattern suggests: a check digit, a
// registry length, a known issuer range. Every function is pure (no I/O, no allocation beyond
// the returned value, no global state other than constant tables), O(n) in the input, safe to
// call from many threads at once, and refuses any input longer than kMaxCandidateBytes by
// returning false (or an empty/none result). Input is the candidate text exactly as matched; each
// function documents which separators it tolerates. None of them trims surrounding whitespace:
// the scanner is expected to hand over the match itself.
//
// A "true" answer means "well-formed and the checks that exist pass", never "issued" or "in use":
// nothing here consults a registry of live numbers.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace perimeter::guard {

// Longest candidate any validator looks at; longer input is rejected without being read.
inline constexpr std::size_t kMaxCandidateBytes = 64;

// ---- helpers ----------------------------------------------------------------------------------

// The ASCII digits of `text`, in order, everything else dropped. Reads at most
// kMaxCandidateBytes bytes of input (a longer input yields an empty string).
std::string DigitsOnly(std::string_view text);

// Luhn (ISO/IEC 7812-1 annex B) over a string of ASCII digits, the check digit last.
// False for empty input, any non-digit, or input longer than kMaxCandidateBytes.
bool LuhnValid(std::string_view digits);

// ---- payment cards ----------------------------------------------------------------------------

enum class CardBrand {
  kNone,  // not a card number (bad shape, bad Luhn or no known issuer range)
  kVisa,
  kMastercard,
  kAmex,
  kDiscover,
  kJcb,
  kDinersClub,
  kUnionPay,
  kMaestro,
  kVerve,
};

std::string_view CardBrandName(CardBrand brand);

// The brand of a payment card number, or kNone. Accepts 12-19 digits, optionally separated by
// spaces or dashes (any grouping; no other characters). Requires the Luhn check and a known
// issuer range with a length that network issues (first match wins, in this order):
//   Amex        34, 37                                   length 15
//   Diners Club 300-305, 36, 38, 39                      length 14-19
//   JCB         3528-3589                                length 16-19
//   Verve (NG)  5060-5061 (covers 506099-506198),        length 16, 18, 19
//               507865-507964, 650002-650027
//   Maestro     5018, 5020, 5038, 5893, 6304, 6759,      length 12-19
//               6761, 6762, 6763
//   Mastercard  51-55, 2221-2720                         length 16
//   Discover    6011, 644-649, 65                        length 16-19
//   UnionPay    62                                       length 16-19
//   Visa        4                                        length 13, 16, 19
// Ranges follow the issuer table in Wikipedia "Payment card number" (IIN ranges), which also
// lists the Verve ranges; 5060-5061 as a whole is added for Verve as the brief requests.
CardBrand CreditCardBrand(std::string_view text);
inline bool IsCreditCardNumber(std::string_view text) {
  return CreditCardBrand(text) != CardBrand::kNone;
}

// ---- banking ----------------------------------------------------------------------------------

// IBAN (ISO 13616). Accepts the electronic form ("GB82WEST12345698765432") or the paper form in
// groups of four separated by single spaces ("GB82 WEST 1234 5698 7654 32"; only the last group
// may be shorter). Letters may be either case. Checks: country in the SWIFT IBAN registry, the
// registry length and BBAN character classes for that country, check digits 02-98, and
// mod 97 == 1.
bool IsIban(std::string_view text);

// SWIFT BIC (ISO 9362): 4 letters (institution), ISO 3166-1 alpha-2 country (or XK, which SWIFT
// uses for Kosovo), 2 letters/digits (location), optionally 3 letters/digits (branch): 8 or 11
// characters, upper case only, no separators. Upper case only because lower-case English words
// of 8 letters too often pass ("starship": STAR SH IP).
bool IsSwiftBic(std::string_view text);

// True if `code` is an ISO 3166-1 alpha-2 country code (249 codes, ISO 3166-1 as of 2023), or
// XK. Upper case only.
bool IsIsoCountryCode(std::string_view code);

// US ABA routing transit number: exactly 9 digits (no separators), first two digits in the
// Federal Reserve ranges 00-12, 21-32, 61-72 or 80, and 3-7-1 weighted sum mod 10 == 0.
bool IsAbaRoutingNumber(std::string_view text);

// ---- network identifiers ----------------------------------------------------------------------

// Dotted-quad IPv4: four decimal octets 0-255, no leading zeros ("010" is rejected because
// inet_aton would read it as octal), no other characters.
bool IsIpv4(std::string_view text);

// IPv6 address in any RFC 4291 text form that inet_pton(AF_INET6) accepts (including embedded
// IPv4). No zone index ("%eth0"), no brackets, no prefix length.
bool IsIpv6(std::string_view text);

// MAC-48: six groups of two hex digits separated consistently by ':' or '-'
// ("00:1A:2B:3C:4D:5E"), or three groups of four hex digits separated by '.' ("001a.2b3c.4d5e").
bool IsMacAddress(std::string_view text);

// ---- United States ----------------------------------------------------------------------------

// US Social Security Number: "AAA-GG-SSSS", "AAA GG SSSS" or "AAAGGSSSS" (the two separators must
// be the same). Rejects area 000, 666 and 900-999, group 00, serial 0000, and the advertising
// numbers 078-05-1120 and 219-09-9999.
bool IsUsSsn(std::string_view text);

// US ITIN: same shapes as IsUsSsn; area 9xx and group (4th-5th digits) 50-65, 70-88, 90-92 or
// 94-99. Group 50-65 was added by the IRS in 2011 besides the original 70-88 (see the .cc).
bool IsUsItin(std::string_view text);

// ---- United Kingdom ---------------------------------------------------------------------------

// NHS number: 10 digits, plain or grouped 3-3-4 with spaces or dashes ("943 476 5919"); mod 11
// check digit with weights 10..2 (a computed check of 10 means the number is never issued).
bool IsUkNhsNumber(std::string_view text);

// National Insurance number: prefix of two letters, 6 digits, suffix A-D, spaces anywhere
// between characters ("QQ 12 34 56 C"). Either case. First letter not D F I Q U V; second not
// D F I O Q U V; prefixes BG GB KN NK NT TN ZZ never issued.
bool IsUkNino(std::string_view text);

// Unique Taxpayer Reference: 10 digits, spaces allowed, optionally followed by 'K'/'k' (the way
// Self Assessment references are sometimes printed). The first digit is the HMRC mod 11 check
// over digits 2-10 (weights 6,7,8,9,10,5,4,3,2).
bool IsUkUtr(std::string_view text);

// ---- Canada -----------------------------------------------------------------------------------

// Social Insurance Number: 9 digits, plain or 3-3-3 with spaces or dashes; Luhn valid; the first
// digit is not 0 or 8 (never assigned). Canada.ca's illustrative "046 454 286" is therefore
// rejected (Luhn passes; LuhnValid() accepts it).
bool IsCaSin(std::string_view text);

// ---- vehicles ---------------------------------------------------------------------------------

// VIN shape (ISO 3779): exactly 17 characters from 0-9 and A-Z without I, O, Q; upper case only.
bool IsVin(std::string_view text);

// IsVin and the check digit at position 9 is right (transliteration per 49 CFR 565.15, weights
// 8,7,6,5,4,3,2,10,0,9,8,7,6,5,4,3,2, remainder 10 written 'X'). Only North American VINs must
// carry a check digit; for others the caller decides whether to require this.
bool VinCheckDigitValid(std::string_view text);

// ---- cloud credentials ------------------------------------------------------------------------

// AWS access key id: one of the prefixes AKIA ASIA AGPA AIDA AROA AIPA ANPA ANVA APKA ABIA ACCA
// followed by 16 characters from A-Z and 2-7; 20 characters, nothing else.
bool IsAwsAccessKeyId(std::string_view text);

// ---- Nigeria ----------------------------------------------------------------------------------

// A deposit-taking institution in the shipped NUBAN code table (ng_banks.cc).
struct NgBank {
  std::string_view code;  // CBN institution code: 3 digits (banks) or 5 digits (OFIs)
  std::string_view name;
};

// The shipped table, in code order.
std::span<const NgBank> NgBanks();

// True if the 10-digit NUBAN `ten_digits` (digits only) carries the right check digit for the
// institution `bank_code`: 3 digits for a deposit money bank, 5 digits for an OFI (microfinance,
// mortgage, ...), or the 6-digit padded form. See the .cc for the CBN rule.
bool NubanCheckDigitValid(std::string_view bank_code, std::string_view ten_digits);

// The codes in NgBanks() for which `ten_digits` (exactly 10 digits, no separators) is a valid
// NUBAN. The bank is not part of the number, so this answers "which banks could this be".
// Caution: the check digit is one decimal digit and depends on the bank code only through
// (3a + 7b + 3c) mod 10, so the shipped codes cover all ten residues and EVERY 10-digit string
// matches some bank (about one code in ten each). IsNuban is therefore a shape check only; to
// confirm an account number, intersect NubanBanks() with a bank named near it in the text.
std::vector<std::string_view> NubanBanks(std::string_view ten_digits);
inline bool IsNuban(std::string_view ten_digits) { return !NubanBanks(ten_digits).empty(); }

// Bank Verification Number (NIBSS): exactly 11 digits. There is no public checksum; this checks
// only the shape.
bool IsNgBvn(std::string_view text);
// True if an 11-digit BVN starts with "22", which issued BVNs do in practice (not a published
// rule: observed convention, see the .cc). The caller decides whether to require it.
bool NgBvnHasUsualPrefix(std::string_view text);

// National Identification Number (NIMC): exactly 11 digits, shape only (no public checksum).
bool IsNgNin(std::string_view text);

// Tax Identification Number: the FIRS form of 8 digits, '-', 4 digits ("12345678-0001"), or the
// 10-digit JTB (Joint Tax Board) TIN. Shape only: no public checksum.
bool IsNgTin(std::string_view text);

}  // namespace perimeter::guard
