#include "guard/entity.h"

#include <array>

namespace perimeter::guard {
namespace {

constexpr auto B = EntityCategory::kBedrock;
constexpr auto N = EntityCategory::kNigeria;
constexpr auto S = EntityCategory::kSecret;

constexpr std::array kEntities = {
    EntityInfo{"ADDRESS", B, false, "postal address (statistical; not detected yet)"},
    EntityInfo{"AGE", B, true, "an age in years, with context (\"age\", \"years old\")"},
    EntityInfo{"AWS_ACCESS_KEY", B, true, "AWS access key id (AKIA/ASIA/... + 16 base32)"},
    EntityInfo{"AWS_SECRET_KEY", B, true,
               "40-character AWS secret access key near an access key id or secret-key words"},
    EntityInfo{"CA_HEALTH_NUMBER", B, true, "Canadian provincial health card number, with context"},
    EntityInfo{"CA_SOCIAL_INSURANCE_NUMBER", B, true, "Canadian SIN, Luhn checked"},
    EntityInfo{"CREDIT_DEBIT_CARD_CVV", B, true, "3-4 digit card security code, with context"},
    EntityInfo{"CREDIT_DEBIT_CARD_EXPIRY", B, true, "card expiry date MM/YY, with context"},
    EntityInfo{"CREDIT_DEBIT_CARD_NUMBER", B, true,
               "payment card number of a known issuer range, Luhn checked (Verve included)"},
    EntityInfo{"DRIVER_ID", B, true, "driver's licence number, with context"},
    EntityInfo{"EMAIL", B, true, "e-mail address"},
    EntityInfo{"INTERNATIONAL_BANK_ACCOUNT_NUMBER", B, true,
               "IBAN: registry country and length, mod 97 checked"},
    EntityInfo{"IP_ADDRESS", B, true, "IPv4 or IPv6 address, parsed"},
    EntityInfo{"LICENSE_PLATE", B, true, "vehicle registration plate, with context"},
    EntityInfo{"MAC_ADDRESS", B, true, "MAC-48 address"},
    EntityInfo{"NAME", B, false, "person's name (statistical; not detected yet)"},
    EntityInfo{"PASSWORD", B, true, "a password, with context (\"password:\", \"pwd\")"},
    EntityInfo{"PHONE", B, true, "phone number of any region, validated with libphonenumber"},
    EntityInfo{"PIN", B, true, "4-6 digit PIN, with context"},
    EntityInfo{"SWIFT_CODE", B, true, "SWIFT BIC with an ISO 3166 country"},
    EntityInfo{"UK_NATIONAL_HEALTH_SERVICE_NUMBER", B, true, "NHS number, mod 11 checked"},
    EntityInfo{"UK_NATIONAL_INSURANCE_NUMBER", B, true, "National Insurance number"},
    EntityInfo{"UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", B, true, "UTR, mod 11 checked"},
    EntityInfo{"URL", B, true, "http(s)/ftp URL or www. address"},
    EntityInfo{"USERNAME", B, true, "a user name, with context (\"username:\", \"login\")"},
    EntityInfo{"US_BANK_ACCOUNT_NUMBER", B, true, "US bank account number, with context"},
    EntityInfo{"US_BANK_ROUTING_NUMBER", B, true, "ABA routing number, checksum checked"},
    EntityInfo{"US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", B, true, "ITIN, valid group ranges"},
    EntityInfo{"US_PASSPORT_NUMBER", B, true, "US passport number, with context"},
    EntityInfo{"US_SOCIAL_SECURITY_NUMBER", B, true, "SSN without the never-issued ranges"},
    EntityInfo{"VEHICLE_IDENTIFICATION_NUMBER", B, true, "VIN (ISO 3779), check digit checked"},
    EntityInfo{"NG_BVN", N, true, "Bank Verification Number: 11 digits, with context"},
    EntityInfo{"NG_NIN", N, true, "National Identification Number: 11 digits, with context"},
    EntityInfo{"NG_NUBAN", N, true,
               "10-digit NUBAN account number, CBN check digit against the bank named nearby"},
    EntityInfo{"NG_TIN", N, true, "FIRS/JTB Tax Identification Number, with context"},
    EntityInfo{"SECRET_PRIVATE_KEY", S, true, "PEM/OpenSSH private key block"},
    EntityInfo{"SECRET_JWT", S, true, "JSON Web Token (three base64url parts, JSON header)"},
    EntityInfo{"SECRET_BEARER_TOKEN", S, true, "credential after \"Bearer\" / Authorization"},
    EntityInfo{"SECRET_GITHUB_TOKEN", S, true, "GitHub token (ghp_, gho_, ghs_, github_pat_ ...)"},
    EntityInfo{"SECRET_SLACK_TOKEN", S, true, "Slack token (xoxb-, xoxp- ...) or webhook URL"},
    EntityInfo{"SECRET_STRIPE_KEY", S, true, "Stripe key (sk_live_, rk_live_, sk_test_ ...)"},
    EntityInfo{"SECRET_GENERIC", S, true,
               "high-entropy string next to words like key, secret, token, api_key"},
};

}  // namespace

std::span<const EntityInfo> Entities() { return kEntities; }

const EntityInfo* FindEntity(std::string_view name) {
  for (const EntityInfo& e : kEntities) {
    if (e.name == name) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace perimeter::guard
