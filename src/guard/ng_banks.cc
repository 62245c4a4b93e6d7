// CBN institution codes of Nigerian deposit money banks, for NUBAN validation.
//
// Sources (checked 2025):
//  - CBN "Proposals on the implementation of NUBAN scheme" v0.4 (2010-09-03), table of 3-digit
//    bank codes: Access 044, Citibank 023, Diamond 063, Ecobank 050, First Bank 011, FCMB 214,
//    Fidelity 070, GTBank 058, Skye (now Polaris) 076, BankPHB (now Keystone) 082,
//    Stanbic IBTC 221, Standard Chartered 068, Sterling 232, UBA 033, Union 032, Wema 035,
//    Zenith 057, Unity 215. (Codes of banks since absorbed into others - Afribank 014,
//    Equatorial Trust 040, Finbank 085, Intercontinental 069, Oceanic 056, Spring 084 - are left
//    out: their accounts were renumbered by the acquirers.)
//  - Banks licensed later, from the bank lists that Nigerian payment processors publish for
//    transfers (e.g. the list in github.com/Flystunna/nuban-bank-prediction,
//    NubanBankPredictionTests/BankList.json): Heritage 030, SunTrust 100, Providus 101,
//    Titan Trust 102, Globus 103, Parallex 104, PremiumTrust 105, Signature 106, Optimus 107,
//    Jaiz 301, TAJ 302, Lotus 303, and the merchant banks FSDH 501, Rand 502,
//    Coronation 559, Greenwich 562.
// Heritage Bank's licence was revoked in June 2024 and Unity Bank is being merged into Providus;
// their numbers remain in circulation, so their codes stay.
//
// Of the OFI (microfinance, mortgage, ...) codes, 5 digits each and too many to keep here, only
// the two digital banks whose NUBANs customers quote most are shipped: Kuda MFB 50211 and
// Moniepoint MFB 50515 (NIBSS institution codes as the same processor lists publish them).
// NubanCheckDigitValid() accepts any other OFI code from the caller. (OPay and PalmPay account
// numbers are the holder's phone number without a check digit, so no rule can confirm them.)

#include "guard/validators.h"

namespace perimeter::guard {
namespace {

constexpr NgBank kNgBanks[] = {
    {"011", "First Bank of Nigeria"},
    {"023", "Citibank Nigeria"},
    {"030", "Heritage Bank"},
    {"032", "Union Bank of Nigeria"},
    {"033", "United Bank for Africa"},
    {"035", "Wema Bank"},
    {"044", "Access Bank"},
    {"050", "Ecobank Nigeria"},
    {"057", "Zenith Bank"},
    {"058", "Guaranty Trust Bank"},
    {"063", "Access Bank (Diamond)"},
    {"068", "Standard Chartered Bank Nigeria"},
    {"070", "Fidelity Bank"},
    {"076", "Polaris Bank"},
    {"082", "Keystone Bank"},
    {"100", "SunTrust Bank"},
    {"101", "Providus Bank"},
    {"102", "Titan Trust Bank"},
    {"103", "Globus Bank"},
    {"104", "Parallex Bank"},
    {"105", "PremiumTrust Bank"},
    {"106", "Signature Bank"},
    {"107", "Optimus Bank"},
    {"214", "First City Monument Bank"},
    {"215", "Unity Bank"},
    {"221", "Stanbic IBTC Bank"},
    {"232", "Sterling Bank"},
    {"301", "Jaiz Bank"},
    {"302", "TAJ Bank"},
    {"303", "Lotus Bank"},
    {"501", "FSDH Merchant Bank"},
    {"502", "Rand Merchant Bank"},
    {"50211", "Kuda Microfinance Bank"},
    {"50515", "Moniepoint Microfinance Bank"},
    {"559", "Coronation Merchant Bank"},
    {"562", "Greenwich Merchant Bank"},
};

}  // namespace

std::span<const NgBank> NgBanks() { return kNgBanks; }

}  // namespace perimeter::guard
