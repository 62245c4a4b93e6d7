#!/usr/bin/env node
// Generates tests/data/guard/labeled.jsonl: a labeled evaluation set for the guardrail's
// sensitive-information detectors. Node 20, no dependencies, deterministic (seeded PRNG): running
// it twice writes byte-identical output. See README.md in this directory for the format and the
// labeling rules.
//
//   node tests/data/guard/generate.mjs            # writes labeled.jsonl next to this file
//   node tests/data/guard/generate.mjs --stdout   # writes to standard output instead
//
// Every labeled value is checked after generation (Luhn, mod 97, NUBAN check digit, ...), spans
// are checked to cover exactly the value, and text outside spans is checked for accidental
// detectable values (valid card numbers, e-mails, URLs, IBANs...). A failed check aborts.

import { writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---- deterministic randomness ---------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// `--seed N` makes another set from the same templates (the held-out set uses 20261127).
const seedArg = process.argv.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(process.argv[seedArg + 1]) >>> 0 : 0x5eed2025;
const rand = mulberry32(SEED);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const chance = (p) => rand() < p;
const DIG = '0123456789';
const UP = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LO = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = UP + LO + DIG;
const B32 = UP + '234567';
const B64 = UP + LO + DIG + '+/';
const B64URL = UP + LO + DIG + '-_';
const HEX = '0123456789abcdef';
const chars = (alphabet, n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
};
const digits = (n) => chars(DIG, n);
const pad = (n, w) => String(n).padStart(w, '0');
function shuffle(arr) {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
}

// ---- check functions (independent of the C++ validators; they must agree) ---------------------

const onlyDigits = (s) => s.replace(/\D/g, '');

function luhnValid(d) {
  if (!/^\d+$/.test(d)) return false;
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let v = d.charCodeAt(i) - 48;
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}
function luhnComplete(prefixDigits) {
  for (let c = 0; c <= 9; c++) if (luhnValid(prefixDigits + c)) return prefixDigits + c;
  throw new Error('unreachable');
}

// Mirrors the issuer table documented in src/guard/validators.h.
function cardBrand(text) {
  if (!/^\d+(?:[ -]\d+)*$/.test(text)) return null;
  const d = onlyDigits(text);
  const n = d.length;
  if (n < 12 || n > 19 || !luhnValid(d)) return null;
  const p2 = +d.slice(0, 2);
  const p3 = +d.slice(0, 3);
  const p4 = +d.slice(0, 4);
  const p6 = +d.slice(0, 6);
  const inr = (v, lo, hi) => v >= lo && v <= hi;
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((inr(p3, 300, 305) || [36, 38, 39].includes(p2)) && inr(n, 14, 19)) return 'diners';
  if (inr(p4, 3528, 3589) && inr(n, 16, 19)) return 'jcb';
  if ((inr(p4, 5060, 5061) || inr(p6, 507865, 507964) || inr(p6, 650002, 650027)) &&
      [16, 18, 19].includes(n)) {
    return 'verve';
  }
  if ([5018, 5020, 5038, 5893, 6304, 6759].includes(p4) || inr(p4, 6761, 6763)) {
    return inr(n, 12, 19) ? 'maestro' : null;
  }
  if ((inr(p2, 51, 55) || inr(p4, 2221, 2720)) && n === 16) return 'mastercard';
  if ((p4 === 6011 || inr(p3, 644, 649) || p2 === 65) && inr(n, 16, 19)) return 'discover';
  if (p2 === 62 && inr(n, 16, 19)) return 'unionpay';
  if (d[0] === '4' && [13, 16, 19].includes(n)) return 'visa';
  return null;
}

// IBAN lengths (SWIFT IBAN registry) for the countries generated here.
const IBAN_LEN = { GB: 22, DE: 22, FR: 27, NL: 18, ES: 24, IT: 27, IE: 22, BE: 16, CH: 21, PT: 25 };
function mod97(numeric) {
  let r = 0;
  for (const ch of numeric) r = (r * 10 + (ch.charCodeAt(0) - 48)) % 97;
  return r;
}
const ibanNumeric = (s) =>
  [...s].map((c) => (/[A-Z]/.test(c) ? String(c.charCodeAt(0) - 55) : c)).join('');
function ibanValid(text) {
  if (!/^[A-Z0-9]+$/.test(text) && !/^[A-Z0-9]{4}(?: [A-Z0-9]{4})*(?: [A-Z0-9]{1,4})?$/.test(text)) {
    return false;
  }
  const s = text.replace(/ /g, '');
  if (IBAN_LEN[s.slice(0, 2)] !== s.length) return false;
  const check = +s.slice(2, 4);
  if (!/^\d\d$/.test(s.slice(2, 4)) || check < 2 || check > 98) return false;
  return mod97(ibanNumeric(s.slice(4) + s.slice(0, 4))) === 1;
}

// ISO 3166-1 alpha-2 codes that appear in generated SWIFT codes.
const SWIFT_COUNTRIES = new Set(['NG', 'DE', 'GB', 'US', 'FR', 'NL', 'ES', 'IT', 'CA', 'GH', 'ZA',
  'KE', 'CH', 'IE', 'BE']);
const swiftValid = (s) =>
  /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/.test(s) && SWIFT_COUNTRIES.has(s.slice(4, 6));

function abaValid(s) {
  if (!/^\d{9}$/.test(s)) return false;
  const p = +s.slice(0, 2);
  if (!(p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p === 80)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += w[i] * (s.charCodeAt(i) - 48);
  return sum % 10 === 0;
}
function ssnValid(s) {
  const m = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/.exec(s);
  if (!m) return false;
  const [a, g, sr] = [+m[1], +m[3], +m[4]];
  const d = m[1] + m[3] + m[4];
  return a !== 0 && a !== 666 && a < 900 && g !== 0 && sr !== 0 && d !== '078051120' &&
      d !== '219099999';
}
function itinValid(s) {
  const m = /^(9\d{2})([- ]?)(\d{2})\2(\d{4})$/.exec(s);
  if (!m) return false;
  const g = +m[3];
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94;
}
function nhsValid(s) {
  if (!/^\d{10}$/.test(s) && !/^\d{3}([ -])\d{3}\1\d{4}$/.test(s)) return false;
  const d = onlyDigits(s);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  let c = 11 - (sum % 11);
  if (c === 11) c = 0;
  return c !== 10 && c === d.charCodeAt(9) - 48;
}
function ninoValid(s) {
  const c = s.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{6}[A-D]$/.test(c)) return false;
  if ('DFIQUV'.includes(c[0]) || 'DFIOQUV'.includes(c[1])) return false;
  return !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(c.slice(0, 2));
}
const UTR_W = [6, 7, 8, 9, 10, 5, 4, 3, 2];
function utrCheckDigit(nine) {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += UTR_W[i] * (nine.charCodeAt(i) - 48);
  return '21987654321'[sum % 11];
}
function utrValid(s) {
  const t = s.replace(/[Kk]$/, '');
  if (!/^\d(?: ?\d){9}$/.test(t)) return false;
  const d = onlyDigits(t);
  return d[0] === utrCheckDigit(d.slice(1));
}
function sinValid(s) {
  if (!/^\d{9}$/.test(s) && !/^\d{3}([ -])\d{3}\1\d{3}$/.test(s)) return false;
  const d = onlyDigits(s);
  return d[0] !== '0' && d[0] !== '8' && luhnValid(d);
}
const VIN_VAL = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5,
  P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };
const VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
function vinCheck(v) {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = v[i];
    sum += (/\d/.test(c) ? +c : VIN_VAL[c]) * VIN_W[i];
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}
const vinValid = (v) => /^[A-HJ-NPR-Z0-9]{17}$/.test(v) && v[8] === vinCheck(v);

// NUBAN check digit (CBN; 3-digit bank codes padded to 000ABC, 5-digit OFI codes to 9ABCDE).
function nubanCheckDigit(code, nine) {
  const c6 = code.length === 3 ? '000' + code : '9' + code;
  const all = c6 + nine;
  const w = [3, 7, 3];
  let sum = 0;
  for (let i = 0; i < 15; i++) sum += (all.charCodeAt(i) - 48) * w[i % 3];
  return String((10 - (sum % 10)) % 10);
}
const nubanValid = (code, ten) => /^\d{10}$/.test(ten) && ten[9] === nubanCheckDigit(code, ten.slice(0, 9));

// Phone validity: national significant number patterns transcribed from libphonenumber's
// metadata (8.12.57, the version the scanner links), mobile / fixed-line types used here.
const PHONE_RULES = {
  '234': /^(?:(?:702[0-24-9]|8(?:01|19)[01])\d{6}|(?:70[13-689]|8(?:0[2-9]|1[0-8])|9(?:0[1-9]|1[2356]))\d{7})$/,
  '44': /^(?:7(?:457[0-57-9]|700[01]|911[028])\d{5}|7(?:[1-3]\d\d|4(?:[0-46-9]\d|5[0-689])|5(?:0[0-8]|[13-9]\d|2[0-35-9])|7(?:0[1-9]|[1-7]\d|8[02-9]|9[0-689])|8(?:[014-9]\d|[23][0-8])|9(?:[024-9]\d|1[02-9]|3[0-689]))\d{6})$/,
  '1': /^(?:(?:2(?:0[1-35-9]|1[02-9]|2[03-589]|3[149]|4[08]|5[1-46]|6[0279]|7[0269]|8[13])|3(?:0[1-57-9]|1[02-9]|2[01356]|3[0-24679]|4[167]|5[12]|6[014]|8[056])|4(?:0[124-9]|1[02-579]|2[3-5]|3[0245]|4[023578]|58|6[349]|7[0589]|8[04])|5(?:0[1-47-9]|1[0235-8]|20|3[0149]|4[01]|5[19]|6[1-47]|7[0-5]|8[0256])|6(?:0[1-35-9]|1[024-9]|2[03689]|[34][016]|5[01679]|6[0-279]|78|8[0-29])|7(?:0[1-46-8]|1[2-9]|2[04-7]|3[1247]|4[037]|5[47]|6[02359]|7[0-59]|8[156])|8(?:0[1-68]|1[02-8]|2[068]|3[0-289]|4[03578]|5[046-9]|6[02-5]|7[028])|9(?:0[1346-9]|1[02-9]|2[0589]|3[0146-8]|4[01357-9]|5[12469]|7[0-389]|8[04-69]))[2-9]\d{6}|(?:2(?:04|[23]6|[48]9|50|63)|3(?:06|43|6[578])|4(?:03|1[68]|3[178]|50|68|74)|5(?:06|1[49]|48|79|8[147])|6(?:04|13|39|47|72)|7(?:0[59]|42|53|78|8[02])|8(?:[06]7|19|25|73)|90[25])[2-9]\d{6})$/,
  '49': /^(?:15[0-25-9]\d{8}|1(?:6[023]|7\d)\d{7,8}|30\d{6,8})$/,
  '33': /^(?:6\d{8}|7[3-8]\d{7})$/,
};
// A bare 10-digit string libphonenumber would take for a North American number.
const nanpValid = (ten) => /^\d{10}$/.test(ten) && PHONE_RULES['1'].test(ten);
function phoneValid(s) {
  if (/^\+/.test(s)) {
    if (!/^\+\d[\d ().-]*\d$/.test(s)) return false;
    const d = onlyDigits(s);
    for (const cc of ['234', '44', '1', '49', '33']) {
      if (d.startsWith(cc)) return PHONE_RULES[cc].test(d.slice(cc.length));
    }
    return false;
  }
  // Nigerian national format: 0 + 10 digits, optionally (0803) 123 4567 / dashes / spaces.
  if (!/^\(?0\d{3}\)?[ -]?\d{3}[ -]?\d{4}$/.test(s)) return false;
  return PHONE_RULES['234'].test(onlyDigits(s).slice(1));
}

const emailValid = (s) => /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(s);
function urlValid(s) {
  if (/[.,;:!?)\]]$/.test(s)) return false;
  try {
    const u = new URL(s.startsWith('www.') ? 'http://' + s : s);
    return ['http:', 'https:', 'ftp:'].includes(u.protocol) && u.hostname.includes('.');
  } catch {
    return false;
  }
}
const macValid = (s) =>
  /^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$/.test(s) ||
  /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(s);
const ipv4Strict = (s) => isIPv4(s) && s.split('.').every((o) => o === '0' || !o.startsWith('0'));

function b64urlDecode(s) {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}
function jwtValid(s) {
  const parts = s.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return false;
  try {
    return typeof JSON.parse(b64urlDecode(parts[0])).alg === 'string' &&
        typeof JSON.parse(b64urlDecode(parts[1])) === 'object';
  } catch {
    return false;
  }
}
function pemValid(s) {
  const m = /^-----BEGIN ([A-Z ]*PRIVATE KEY)-----\n([A-Za-z0-9+/=\n]+)\n-----END \1-----$/.exec(s);
  if (!m) return false;
  return m[2].split('\n').every((l) => l.length > 0 && l.length <= 70);
}
function entropy(s) {
  const f = new Map();
  for (const c of s) f.set(c, (f.get(c) || 0) + 1);
  let h = 0;
  for (const v of f.values()) h -= (v / s.length) * Math.log2(v / s.length);
  return h;
}

// ---- reference data -------------------------------------------------------------------------

const NG_FIRST = ['Adaeze', 'Chinedu', 'Tunde', 'Folake', 'Emeka', 'Ngozi', 'Ibrahim', 'Aisha',
  'Oluwaseun', 'Bisi', 'Chioma', 'Musa', 'Kemi', 'Uche', 'Halima', 'Segun', 'Funmi', 'Obinna',
  'Zainab', 'Yetunde', 'Ifeanyi', 'Amaka', 'Bola', 'Kelechi', 'Tolu', 'Efosa', 'Nneka', 'Sani'];
const NG_LAST = ['Okafor', 'Adeyemi', 'Bello', 'Okonkwo', 'Balogun', 'Eze', 'Abubakar', 'Ojo',
  'Nwosu', 'Adebayo', 'Ibekwe', 'Danjuma', 'Ogunleye', 'Uzor', 'Lawal', 'Okoro', 'Akande',
  'Osagie', 'Chukwu', 'Suleiman', 'Afolabi', 'Nnamdi'];
const W_FIRST = ['James', 'Sarah', 'Michael', 'Emma', 'David', 'Laura', 'Thomas', 'Sophie', 'Lukas',
  'Marie', 'Pierre', 'Camille', 'Carlos', 'Lucia', 'Giulia', 'Jan', 'Olivia', 'Noah', 'Aiden',
  'Chloe'];
const W_LAST = ['Smith', 'Johnson', 'Brown', 'Williams', 'Taylor', 'Müller', 'Schmidt', 'Dubois',
  'Martin', 'García', 'Rossi', 'de Vries', 'Murphy', 'Tremblay', 'Roy', 'Wilson', 'Evans'];
const name = () => (chance(0.6) ? pick(NG_FIRST) + ' ' + pick(NG_LAST) : pick(W_FIRST) + ' ' + pick(W_LAST));
const firstName = () => (chance(0.6) ? pick(NG_FIRST) : pick(W_FIRST));

// Bank names as a customer writes them -> CBN code (ng_banks.cc; Kuda and Moniepoint are
// microfinance banks with 5-digit OFI codes, not in ng_banks.cc).
const NG_BANKS = [
  { names: ['GTBank', 'GTB', 'Guaranty Trust Bank', 'GT Bank'], code: '058', lead: '0' },
  { names: ['Zenith Bank', 'Zenith', 'zenith bank'], code: '057', lead: '12' },
  { names: ['Access Bank', 'Access', 'access bank'], code: '044', lead: '01' },
  { names: ['First Bank', 'FirstBank', 'First Bank of Nigeria'], code: '011', lead: '3' },
  { names: ['UBA', 'United Bank for Africa'], code: '033', lead: '12' },
  { names: ['Fidelity Bank', 'Fidelity'], code: '070', lead: '56' },
  { names: ['Union Bank'], code: '032', lead: '0' },
  { names: ['Wema Bank', 'Wema', 'ALAT (Wema Bank)'], code: '035', lead: '0' },
  { names: ['Sterling Bank', 'Sterling'], code: '232', lead: '0' },
  { names: ['Stanbic IBTC', 'Stanbic'], code: '221', lead: '0' },
  { names: ['FCMB', 'First City Monument Bank'], code: '214', lead: '12' },
  { names: ['Ecobank'], code: '050', lead: '0' },
  { names: ['Polaris Bank', 'Polaris'], code: '076', lead: '14' },
  { names: ['Keystone Bank'], code: '082', lead: '10' },
  { names: ['Providus Bank', 'Providus'], code: '101', lead: '15' },
  { names: ['Unity Bank'], code: '215', lead: '00' },
  { names: ['Jaiz Bank'], code: '301', lead: '00' },
  { names: ['Globus Bank'], code: '103', lead: '10' },
  { names: ['Kuda', 'Kuda Bank', 'Kuda MFB'], code: '50211', lead: '2' },
  { names: ['Moniepoint', 'Moniepoint MFB'], code: '50515', lead: '56' },
];
const OTHER_BANKS = ['HSBC', 'Barclays', 'Lloyds', 'Deutsche Bank', 'BNP Paribas', 'ING',
  'Santander', 'Chase', 'Bank of America', 'Wells Fargo', 'RBC', 'TD Bank', 'Monzo', 'Revolut'];

const SWIFT_CODES = ['GTBINGLA', 'ZEIBNGLA', 'FBNINGLA', 'UNAFNGLA', 'ABNGNGLA', 'FIDTNGLA',
  'SBICNGLX', 'ECOCNGLA', 'WEMANGLA', 'PLNINGLA', 'GTBINGLAXXX', 'ZEIBNGLA001', 'UNAFNGLAXXX',
  'DEUTDEFF', 'DEUTDEFFXXX', 'COBADEFFXXX', 'BARCGB22', 'BARCGB22XXX', 'NWBKGB2L', 'HBUKGB4B',
  'LOYDGB2L', 'MIDLGB22', 'CHASUS33', 'CHASUS33XXX', 'BOFAUS3N', 'CITIUS33', 'WFBIUS6S',
  'BNPAFRPP', 'BNPAFRPPXXX', 'SOGEFRPP', 'INGBNL2A', 'RABONL2U', 'ABNANL2A', 'BSCHESMM',
  'CAIXESBB', 'UNCRITMM', 'BCITITMM', 'ROYCCAT2', 'TDOMCATTTOR', 'BOFMCAM2', 'SCBLGHAC',
  'SBZAZAJJ', 'KCBLKENX', 'UBSWCHZH80A', 'AIBKIE2D', 'GEBABEBB'];

const EMAIL_DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.co.uk', 'icloud.com',
  'yahoo.co.uk', 'proton.me', 'gtbank.com', 'dangote.com', 'mtn.com', 'unilag.edu.ng',
  'mybusiness.com.ng', 'firm.co.uk', 'web.de', 'orange.fr', 'company.ca', 'acme-logistics.ng'];

// ---- value generators ------------------------------------------------------------------------

function cardNumber(brand) {
  brand = brand || pick(['visa', 'visa', 'mastercard', 'mastercard', 'verve', 'verve', 'amex',
    'discover']);
  let prefix;
  let len = 16;
  switch (brand) {
    case 'visa':
      prefix = pick(['4', '4539', '4187', '4847', '4024', '4111', '4761', '4263']);
      len = chance(0.1) ? 19 : 16;
      break;
    case 'mastercard':
      prefix = chance(0.7) ? pick(['51', '52', '53', '54', '55', '5399', '5123', '5200'])
                           : String(int(2221, 2720));
      break;
    case 'amex':
      prefix = pick(['34', '37', '3782', '3714']);
      len = 15;
      break;
    case 'verve':
      prefix = pick(['506099', '506102', '506110', '506118', '506121', '506150', '506198',
        '507865', '507900', '650002', '650011', '650027']);
      len = pick([16, 19, 19, 18]);
      break;
    case 'discover':
      prefix = pick(['6011', '644', '646', '649', '6521', '6582']);
      break;
  }
  const d = luhnComplete(prefix + digits(len - prefix.length - 1));
  if (cardBrand(d) !== brand) throw new Error('card generator: ' + brand + ' ' + d);
  return { digits: d, brand };
}
function groupDigits(d, groups, sep) {
  const out = [];
  let i = 0;
  for (const g of groups) {
    out.push(d.slice(i, i + g));
    i += g;
  }
  if (i < d.length) out.push(d.slice(i));
  return out.join(sep);
}
function formatCard(c) {
  const { digits: d, brand } = c;
  const style = pick(['space', 'space', 'plain', 'dash']);
  if (style === 'plain') return d;
  const sep = style === 'space' ? ' ' : '-';
  if (brand === 'amex') return groupDigits(d, [4, 6, 5], sep);
  return groupDigits(d, [4, 4, 4, 4], sep);
}

function ibanFor(country) {
  let bban;
  switch (country) {
    case 'GB':
      bban = pick(['NWBK', 'BARC', 'LOYD', 'HBUK', 'MIDL', 'MONZ']) + digits(6) + digits(8);
      break;
    case 'IE':
      bban = pick(['AIBK', 'BOFI']) + digits(6) + digits(8);
      break;
    case 'DE':
      bban = pick(['37040044', '50010517', '10070000', '20041111', '70020270']) + digits(10);
      break;
    case 'FR':
      bban = pick(['30004', '20041', '30003', '10278']) + digits(5) + digits(11) + digits(2);
      break;
    case 'NL':
      bban = pick(['ABNA', 'INGB', 'RABO', 'TRIO', 'SNSB']) + digits(10);
      break;
    case 'ES':
      bban = pick(['2100', '0049', '0182', '2085']) + digits(4) + digits(2) + digits(10);
      break;
    case 'IT':
      bban = pick(UP.replace(/[IOQ]/g, '').split('')) + pick(['03069', '02008', '05034']) +
          digits(5) + digits(12);
      break;
    case 'BE':
      bban = digits(12);
      break;
    case 'CH':
      bban = pick(['00762', '00230', '08390']) + digits(12);
      break;
    case 'PT':
      bban = pick(['0035', '0007', '0033']) + digits(4) + digits(11) + digits(2);
      break;
  }
  const check = pad(98 - mod97(ibanNumeric(bban + country + '00')), 2);
  const iban = country + check + bban;
  if (!ibanValid(iban)) throw new Error('iban generator ' + iban);
  return iban;
}
function iban() {
  const country = pick(['GB', 'GB', 'DE', 'DE', 'FR', 'NL', 'ES', 'IT', 'IE', 'BE', 'CH', 'PT']);
  const s = ibanFor(country);
  return chance(0.55) ? s.match(/.{1,4}/g).join(' ') : s;
}

const NG_PREFIXES = ['0703', '0706', '0803', '0806', '0810', '0813', '0814', '0816', '0903', '0906',
  '0913', '0916', '0805', '0807', '0811', '0815', '0905', '0915', '0802', '0808', '0812', '0701',
  '0708', '0902', '0907', '0901', '0912', '0809', '0817', '0818', '0908', '0909'];
function ngPhone(style) {
  const p = pick(NG_PREFIXES);
  const a = digits(3);
  const b = digits(4);
  style = style || pick(['intl_sp', 'intl', 'nat_sp', 'nat_dash', 'nat', 'nat_paren', 'intl_dash',
    'intl_sp2']);
  const nsn = p.slice(1);
  switch (style) {
    case 'intl_sp': return `+234 ${nsn} ${a} ${b}`;
    case 'intl': return `+234${nsn}${a}${b}`;
    case 'intl_dash': return `+234-${nsn}-${a}-${b}`;
    case 'intl_sp2': return `+234 ${nsn.slice(0, 2)} ${nsn.slice(2)}${a.slice(0, 2)} ${a.slice(2)}${b}`;
    case 'nat_sp': return `${p} ${a} ${b}`;
    case 'nat_dash': return `${p}-${a}-${b}`;
    case 'nat': return `${p}${a}${b}`;
    case 'nat_paren': return `(${p}) ${a} ${b}`;
  }
  throw new Error(style);
}
function foreignPhone() {
  switch (pick(['GB', 'GB', 'US', 'US', 'CA', 'DE', 'FR'])) {
    case 'GB': {
      const p = pick(['7400', '7412', '7481', '7507', '7539', '7712', '7723', '7788', '7810',
        '7852', '7903', '7920', '7956', '7984', '7123', '7311', '7911']);
      let rest = digits(6);
      if (p === '7911') rest = pick(['0', '2', '8']) + digits(5);
      return pick([`+44 ${p} ${rest}`, `+44${p}${rest}`, `+44 (0)${p} ${rest}`.replace('(0)', '')]);
    }
    case 'US': {
      const area = pick(['650', '212', '415', '312', '617', '202', '305', '713', '404', '206',
        '512', '646', '718', '972', '702']);
      const ex = String(int(2, 9)) + digits(2);
      const sub = digits(4);
      return pick([`+1 ${area}-${ex}-${sub}`, `+1 (${area}) ${ex}-${sub}`, `+1${area}${ex}${sub}`,
        `+1 ${area} ${ex} ${sub}`, `+1-${area}-${ex}-${sub}`]);
    }
    case 'CA': {
      const area = pick(['416', '604', '514', '647', '403', '613', '905', '780', '902']);
      const ex = String(int(2, 9)) + digits(2);
      return pick([`+1 ${area}-${ex}-${digits(4)}`, `+1 (${area}) ${ex}-${digits(4)}`]);
    }
    case 'DE':
      return pick([`+49 30 ${digits(8)}`, `+49 151 ${digits(8)}`, `+49 172 ${digits(7)}`,
        `+49 176 ${digits(4)} ${digits(4)}`]);
    case 'FR': {
      const g = () => digits(2);
      return pick([`+33 6 ${g()} ${g()} ${g()} ${g()}`, `+33 7 ${pick(['5', '6', '8'])}${digits(1)} ${g()} ${g()} ${g()}`,
        `+336${digits(8)}`]);
    }
  }
  throw new Error('unreachable');
}
const phone = () => (chance(0.7) ? ngPhone() : foreignPhone());

function ssn(style) {
  let d;
  do {
    let area;
    do area = int(1, 899); while (area === 666);
    d = pad(area, 3) + pad(int(1, 99), 2) + pad(int(1, 9999), 4);
  } while (luhnValid(d) || abaValid(d) || d === '078051120' || d === '219099999');
  style = style || pick(['dash', 'dash', 'dash', 'space', 'plain']);
  return style === 'plain' ? d : groupDigits(d, [3, 2, 4], style === 'dash' ? '-' : ' ');
}
function itin() {
  let d;
  do {
    const group = pick([int(50, 65), int(70, 88), int(90, 92), int(94, 99)]);
    d = '9' + digits(2) + pad(group, 2) + digits(4);
  } while (luhnValid(d));
  return chance(0.8) ? groupDigits(d, [3, 2, 4], '-') : chance(0.5) ? groupDigits(d, [3, 2, 4], ' ') : d;
}
const REAL_ABA = ['021000021', '026009593', '121000358', '011000138', '322271627', '111000025',
  '091000019', '121042882', '021000089', '071000013', '031000503', '063100277'];
function aba() {
  if (chance(0.3)) return pick(REAL_ABA);
  const pre = pick(['0', '1', '2', '3', '6', '7']) === '0'
      ? pad(int(1, 12), 2)
      : pick([pad(int(1, 12), 2), String(int(21, 32)), String(int(61, 72))]);
  const body = pre + digits(6);
  const w = [3, 7, 1, 3, 7, 1, 3, 7];
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += w[i] * (body.charCodeAt(i) - 48);
  const r = body + String((10 - (sum % 10)) % 10);
  if (!abaValid(r)) throw new Error('aba ' + r);
  return r;
}
// True if a bare digit string would also pass a context-free checked type.
const clashesWithCheckedType = (d) =>
  (d.length === 10 && (nhsValid(d) || nanpValid(d))) || (d.length === 9 && (abaValid(d) || sinValid(d))) ||
  (d.length >= 12 && cardBrand(d) !== null);
function usAccount() {
  let d;
  do d = String(int(1, 9)) + digits(pick([7, 9, 10, 11])); while (clashesWithCheckedType(d));
  return d;
}
function usPassport() {
  if (chance(0.65)) return pick(UP.replace(/[IOQ]/g, '').split('')) + digits(8);
  let d;
  do d = pick(['4', '5']) + digits(8); while (clashesWithCheckedType(d));
  return d;
}
const NINO_FIRST = 'ABCEGHJKLMNOPRSTWXYZ';
const NINO_SECOND = 'ABCEGHJKLMNPRSTWXYZ';
function nino() {
  let p;
  do p = pick(NINO_FIRST.split('')) + pick(NINO_SECOND.split(''));
  while (['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(p));
  const d = digits(6);
  const s = pick(['A', 'B', 'C', 'D']);
  return chance(0.5) ? `${p} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${s}` : `${p}${d}${s}`;
}
function nhs() {
  let d;
  for (;;) {
    d = pick(['4', '6', '7', '9', '4']) + digits(8);
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
    let c = 11 - (sum % 11);
    if (c === 11) c = 0;
    if (c === 10) continue;
    d += c;
    if (!utrValid(d) && !nanpValid(d)) break;
  }
  const st = pick(['space', 'space', 'plain', 'dash']);
  return st === 'plain' ? d : groupDigits(d, [3, 3, 4], st === 'space' ? ' ' : '-');
}
function utr() {
  let d;
  do {
    const rest = digits(9);
    d = utrCheckDigit(rest) + rest;
  } while (nhsValid(d) || nanpValid(d));
  const r = pick(['plain', 'plain', 'split', 'k']);
  return r === 'split' ? d.slice(0, 5) + ' ' + d.slice(5) : r === 'k' ? d + 'K' : d;
}
function sin(style) {
  let d;
  do d = luhnComplete(pick(['1', '2', '3', '4', '5', '6', '7', '9']) + digits(7));
  while (abaValid(d) || ssnValid(d) || itinValid(d));
  style = style || pick(['space', 'space', 'dash', 'plain']);
  return style === 'plain' ? d : groupDigits(d, [3, 3, 3], style === 'space' ? ' ' : '-');
}
function caHealth() {
  const kind = pick(['on', 'on', 'bc', 'qc']);
  if (kind === 'qc') {
    const l = chars(UP, 4);
    const d = digits(8);
    return chance(0.5) ? `${l} ${d.slice(0, 4)} ${d.slice(4)}` : l + d;
  }
  let d;
  for (;;) {
    if (kind === 'on') {
      d = luhnComplete(String(int(1, 9)) + digits(8));
    } else {
      const body = digits(8);
      const w = [2, 4, 8, 5, 10, 9, 7, 3];
      let sum = 0;
      for (let i = 0; i < 8; i++) sum += ((body.charCodeAt(i) - 48) * w[i]) % 11;
      const c = 11 - (sum % 11);
      if (c >= 10) continue;
      d = '9' + body + c;
    }
    if (!nhsValid(d) && !nanpValid(d) && !utrValid(d)) break;
  }
  if (kind === 'on') return chance(0.6) ? groupDigits(d, [4, 3, 3], pick(['-', ' '])) : d;
  return chance(0.5) ? groupDigits(d, [4, 3, 3], ' ') : d;
}
const VIN_WMI = ['1HG', '1FT', '1FA', '2T1', '3VW', '5YJ', 'JTD', 'JHM', 'WVW', 'WBA', 'WDD',
  'SAL', 'KMH', 'VF1', 'ZFA', '4T1', '1G1', 'JN1'];
const VIN_CH = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
function vin() {
  const wmi = pick(VIN_WMI);
  const vds = chars(VIN_CH, 5);
  const year = pick('FGHJKLMNPRS'.split(''));
  const plant = pick(VIN_CH.split(''));
  const serial = digits(6);
  const tmp = wmi + vds + '0' + year + plant + serial;
  const v = tmp.slice(0, 8) + vinCheck(tmp) + tmp.slice(9);
  if (!vinValid(v)) throw new Error('vin ' + v);
  return v;
}
function plate() {
  switch (pick(['ng', 'ng', 'uk', 'us', 'de'])) {
    case 'ng': {
      const lga = pick(['LSR', 'KJA', 'AAA', 'EKY', 'FKJ', 'ABJ', 'GGE', 'BDG', 'KTU', 'APP',
        'SMK', 'JJJ', 'LND']);
      return `${lga}${pick([' ', '-', ''])}${digits(3)}${pick([' ', ''])}${chars('ABCDEFGHJKLMNPRSTUVWXYZ', 2)}`;
    }
    case 'uk':
      return `${chars('ABCDEFGHKLMNOPRSVWY', 2)}${pick(['19', '20', '21', '22', '23', '24', '69', '70', '71', '72', '73'])} ${chars('ABCDEFGHJKLMNOPRSTUVWXYZ', 3)}`;
    case 'us':
      return pick([`${int(5, 9)}${chars(UP, 3)}${digits(3)}`, `${chars(UP, 3)}-${digits(4)}`,
        `${chars(UP, 3)} ${digits(4)}`]);
    case 'de':
      return `${pick(['B', 'M', 'HH', 'K', 'F', 'S'])}-${chars(UP, 2)} ${int(1, 9999)}`;
  }
  throw new Error('unreachable');
}
function driverId(kind) {
  switch (kind || pick(['ng', 'ng', 'uk', 'ca', 'on', 'fl'])) {
    case 'ng':
      return chars(UP, 3) + digits(5) + chars(UP, 2) + digits(2);
    case 'uk': {
      const surname = pick(['OKAFO', 'SMITH', 'JOHNS', 'BROWN', 'ADEYE', 'TAYLO', 'WILLI', 'BELLO9', 'EZE99']).slice(0, 5).padEnd(5, '9');
      const y = digits(2);
      const month = pad(int(1, 12) + (chance(0.5) ? 50 : 0), 2);
      const day = pad(int(1, 28), 2);
      return surname + y[0] + month + day + y[1] + chars(UP, 2) + '9' + chars(UP, 2);
    }
    case 'ca':
      return chars(UP, 1) + digits(7);
    case 'on':
      return `${chars(UP, 1)}${digits(4)}-${digits(5)}-${digits(5)}`;
    case 'fl':
      return `${chars(UP, 1)}${digits(3)}-${digits(3)}-${digits(2)}-${digits(3)}-${digits(1)}`;
  }
  throw new Error('unreachable');
}
function username() {
  const f = pick(NG_FIRST.concat(W_FIRST)).toLowerCase().normalize('NFD').replace(/[^\x00-\x7f]/g, '');
  const l = pick(NG_LAST.concat(W_LAST)).toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
  return pick([`${f}.${l}`, `${f}_${l}${int(1, 99)}`, `${f[0]}${l}`, `${f}${int(70, 2005)}`,
    `${l}_${f}`, `${f}.${l[0]}`, `${f}_${chars(DIG, 3)}`, `${l}${f[0]}${int(1, 9)}`]);
}
function password() {
  for (;;) {
    const s = pick([
      () => `${pick(['Lagos', 'Abuja', 'Chioma', 'Arsenal', 'Jesus', 'Blessing', 'Summer', 'Naija', 'Kano', 'London', 'Enugu'])}${pick(['@', '#', '$', '!', '_'])}${int(1960, 2025)}`,
      () => chars(ALNUM + '!@#$%^&*', int(10, 16)) + chars(DIG, 1),
      () => `${pick(['P@ssw0rd', 'Qwerty', 'Welcome', 'Mummy', 'Daddy'])}${pick(['!', '#', '.', '@'])}${digits(int(2, 4))}`,
      () => `${chars(UP, 1)}${chars(LO, int(4, 7))}${chars('!@#$&*', 1)}${digits(int(2, 4))}${chars(LO, 1)}`,
    ])();
    if (/[A-Za-z0-9]$/.test(s) && /^[A-Za-z0-9]/.test(s)) return s;
  }
}
function pin() {
  let p;
  do p = digits(pick([4, 4, 4, 4, 6, 5])); while (/^(\d)\1+$/.test(p));
  return p;
}
const cvv = (brand) => digits(brand === 'amex' ? 4 : 3);
function expiry() {
  const m = pad(int(1, 12), 2);
  const y = int(25, 31);
  return chance(0.75) ? `${m}/${y}` : `${m}/20${y}`;
}
const age = () => String(int(18, 94));

function email() {
  const f = pick(NG_FIRST.concat(W_FIRST)).toLowerCase();
  const l = pick(NG_LAST.concat(['smith', 'brown', 'taylor', 'murphy', 'martin', 'rossi', 'roy']))
      .toLowerCase().replace(/[^a-z]/g, '');
  const local = pick([`${f}.${l}`, `${f}${l}${int(1, 99)}`, `${f[0]}.${l}`, `${f}_${l}`, `${l}.${f}`,
    `${f}${int(1970, 2004)}`, `${f}.${l}+bank`, 'support', 'accounts', 'hello']);
  return `${local}@${pick(EMAIL_DOMAINS)}`;
}
function url() {
  return pick([
    () => `https://www.${pick(['gtbank.com', 'zenithbank.com', 'accessbankplc.com', 'firstbanknigeria.com', 'ubagroup.com'])}/${pick(['personal-banking', 'contact-us', 'cards/verve', 'ways-to-bank/internet-banking', 'support/faq'])}`,
    () => `https://paystack.com/pay/${chars(LO + DIG, 10)}`,
    () => `https://checkout.flutterwave.com/v3/hosted/pay/${chars(HEX, 20)}`,
    () => `http://${pick(['gtb-verify', 'zenith-secure', 'cbn-refund', 'bvn-update', 'uba-alert'])}.${pick(['com.ng', 'online', 'xyz', 'top'])}/${pick(['login', 'verify', 'secure/update'])}?id=${digits(6)}`,
    () => `https://bit.ly/${chars(ALNUM, 7)}`,
    () => `www.${pick(['kuda.com', 'opayweb.com', 'moniepoint.com', 'cbn.gov.ng', 'nibss-plc.com.ng', 'monzo.com', 'revolut.com'])}${pick(['', '/help', '/en-gb/fees', '/contact'])}`,
    () => `https://support.${pick(['kuda.com', 'stripe.com', 'wise.com'])}/hc/en-us/articles/${digits(12)}`,
    () => `https://api.${pick(['example-fintech.com', 'paygate.ng', 'ledgerly.io'])}/v1/${pick(['transactions', 'customers', 'webhooks'])}/${chars(LO + DIG, 12)}`,
    () => `ftp://files.${pick(['acme-logistics.ng', 'bankdocs.co.uk'])}/statements/${int(2023, 2025)}/${pad(int(1, 12), 2)}.pdf`,
    () => `https://drive.google.com/file/d/${chars(ALNUM + '_-', 33)}/view`,
  ])();
}
function ipv4() {
  return pick([
    () => `102.89.${int(0, 255)}.${int(1, 254)}`,
    () => `197.210.${int(0, 255)}.${int(1, 254)}`,
    () => `105.112.${int(0, 255)}.${int(1, 254)}`,
    () => `41.${int(58, 223)}.${int(0, 255)}.${int(1, 254)}`,
    () => `192.168.${int(0, 20)}.${int(2, 254)}`,
    () => `10.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
    () => `172.${int(16, 31)}.${int(0, 255)}.${int(1, 254)}`,
    () => `${int(23, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
  ])();
}
function ipv6() {
  const g = () => chars(HEX, 4).replace(/^0+(?=.)/, '');
  return pick([
    () => `2001:db8:${g()}:${g()}::${g()}`,
    () => `fe80::${g()}:${g()}:${g()}:${g()}`,
    () => `2c0f:${pick(['f7a8', 'fb50', 'f5c0'])}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`,
    () => `2a02:${g()}:${g()}::${g()}`,
    () => `2001:0db8:85a3:0000:0000:8a2e:0370:${chars(HEX, 4)}`,
    () => `::ffff:${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
  ])();
}
const ip = () => (chance(0.65) ? ipv4() : ipv6());
function mac() {
  const bytes = Array.from({ length: 6 }, () => chars(HEX, 2));
  const st = pick(['colonU', 'colonL', 'dash', 'cisco']);
  if (st === 'cisco') return `${bytes[0]}${bytes[1]}.${bytes[2]}${bytes[3]}.${bytes[4]}${bytes[5]}`;
  if (st === 'dash') return bytes.join('-').toUpperCase();
  return st === 'colonU' ? bytes.join(':').toUpperCase() : bytes.join(':');
}
const awsAccessKey = () => pick(['AKIA', 'AKIA', 'AKIA', 'ASIA']) + chars(B32, 16);
const awsSecret = () => chars(B64, 40);
function pem() {
  const kind = pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY',
    'ENCRYPTED PRIVATE KEY']);
  const lines = [];
  const n = int(3, 9);
  for (let i = 0; i < n; i++) lines.push(chars(B64, i === n - 1 ? int(8, 60) : 64));
  let last = lines[n - 1];
  const padLen = (4 - (last.length % 4)) % 4;
  if (padLen > 0 && padLen < 3) last += '='.repeat(padLen);
  else if (padLen === 3) last = last.slice(0, -1);
  lines[n - 1] = last;
  if (kind === 'RSA PRIVATE KEY') lines[0] = 'MII' + lines[0].slice(3);
  if (kind === 'OPENSSH PRIVATE KEY') lines[0] = 'b3BlbnNzaC1rZXktdjEAAAAA' + lines[0].slice(24);
  return `-----BEGIN ${kind}-----\n${lines.join('\n')}\n-----END ${kind}-----`;
}
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
function jwt() {
  const alg = pick(['HS256', 'RS256', 'ES256', 'HS512']);
  const header = chance(0.7) ? { alg, typ: 'JWT' } : { alg, kid: chars(HEX, 8) };
  const payload = pick([
    () => ({ sub: digits(8), name: name(), iat: 1714000000 + int(0, 9999999) }),
    () => ({ sub: 'user_' + chars(LO + DIG, 10), role: pick(['customer', 'agent', 'admin']), exp: 1735000000 + int(0, 9999999) }),
    () => ({ iss: 'https://auth.' + pick(['paygate.ng', 'ledgerly.io']), aud: 'api', scope: 'transfers:write', exp: 1740000000 + int(0, 999999) }),
  ])();
  const sigLen = alg === 'HS512' ? 86 : alg === 'ES256' ? 86 : alg === 'RS256' ? 342 : 43;
  return `${b64url(header)}.${b64url(payload)}.${chars(B64URL, sigLen)}`;
}
const bearerToken = () => pick([() => chars(ALNUM, 40), () => chars(ALNUM + '-_', 32) + chars(ALNUM, 1),
  () => 'ya29.' + chars(ALNUM + '-_', 60) + chars(ALNUM, 1), () => chars(HEX, 64)])();
const githubToken = () => pick(['ghp_', 'ghp_', 'gho_', 'ghs_', 'ghu_']) + chars(ALNUM, 36);
const slackToken = () => `${pick(['xoxb', 'xoxb', 'xoxp'])}-${digits(int(10, 12))}-${digits(int(10, 13))}-${chars(ALNUM, 24)}`;
const stripeKey = () => `${pick(['sk_live_', 'sk_live_', 'sk_live_', 'rk_live_', 'sk_test_'])}${chars(ALNUM, pick([24, 24, 34, 99]))}`;
function genericSecret() {
  for (;;) {
    const s = genericCandidate();
    if (entropy(s) >= 3.4) return s;
  }
}
const genericCandidate = () => pick([() => chars(HEX, 32), () => chars(ALNUM, int(28, 36)), () => chars(HEX, 48),
  () => chars(ALNUM, 20) + chars(DIG, 2) + chars(ALNUM, 10)])();
function bvn() { return '22' + digits(9); }
function nin() {
  let d;
  do d = String(int(1, 9)) + digits(10); while (d.startsWith('22') || d.startsWith('234'));
  return d;
}
function tin() {
  if (chance(0.55)) return `${String(int(1, 3))}${digits(7)}-${pick(['0001', '0001', '0002', digits(4)])}`;
  let d;
  do d = String(int(1, 2)) + digits(9); while (clashesWithCheckedType(d) || utrValid(d));
  return d;
}
function nuban(bank) {
  let d;
  do {
    const lead = pick(bank.lead.split(''));
    const nine = lead + digits(8);
    d = nine + nubanCheckDigit(bank.code, nine);
  } while (nhsValid(d) || utrValid(d));
  return d;
}

// ---- templates --------------------------------------------------------------------------------

// A template is a string with placeholders. {TYPE} or {TYPE:variant} is a labeled value;
// {lowercase} is unlabeled filler. Per line, a context is kept so related values agree
// ({bank} and {NG_NUBAN}; {CREDIT_DEBIT_CARD_NUMBER} and its CVV length).

function makeCtx() {
  const bank = pick(NG_BANKS);
  return { bank, bankName: pick(bank.names), card: null, brand: pick(['visa', 'visa', 'mastercard',
    'mastercard', 'verve', 'verve', 'amex', 'discover']) };
}

const AMOUNTS = () => pick([`₦${int(1, 950)},${pad(int(0, 999), 3)}`, `₦${int(1, 99)},${pad(int(0, 999), 3)}.00`,
  `N${int(2, 500)},000`, `₦${int(1, 9)},${pad(int(0, 999), 3)},${pad(int(0, 999), 3)}.${pad(int(0, 99), 2)}`,
  `€${int(1, 9)}.${pad(int(0, 999), 3)},${pad(int(0, 99), 2)}`, `$${int(1, 9)},${pad(int(0, 999), 3)}.${pad(int(0, 99), 2)}`,
  `£${int(5, 999)}.${pad(int(0, 99), 2)}`, `${int(5, 500)}k`, `USD ${int(100, 9000)}`, `₦${int(500, 9999)}`]);
const DATES = () => pick([`${pad(int(1, 28), 2)}/${pad(int(1, 12), 2)}/20${int(22, 25)}`,
  `20${int(22, 25)}-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`, `${int(1, 28)} ${pick(['Jan', 'March', 'May', 'July', 'Sept', 'Oct', 'Dec'])} 20${int(22, 25)}`,
  pick(['yesterday', 'last Friday', 'this morning', 'on Monday', '2 days ago'])]);
const TIMES = () => pick([`${int(1, 12)}:${pad(int(0, 59), 2)}${pick(['am', 'pm', ' AM', ' PM'])}`, `${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}`,
  `${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)} WAT`]);
function refNo() {
  return pick([() => `FT${digits(5)}${chars(UP, 3)}${digits(2)}`, () => `TRF/${int(2023, 2025)}/${digits(6)}`,
    () => `INV-${digits(5)}`, () => `ORD-${int(2023, 2025)}-${digits(5)}`, () => `#${digits(7)}`,
    () => `REF${chars(UP + DIG, 10)}`, () => `TCK-${digits(6)}`, () => `${chars(UP, 2)}${digits(8)}`])();
}
const FILL = {
  name, first: firstName, bank: (ctx) => ctx.bankName, obank: () => pick(OTHER_BANKS),
  amount: AMOUNTS, date: DATES, time: TIMES, ref: refNo,
  city: () => pick(['Lagos', 'Abuja', 'Ibadan', 'Port Harcourt', 'Kano', 'Enugu', 'London', 'Manchester', 'Toronto', 'Berlin', 'Paris', 'New York', 'Houston']),
  app: () => pick(['the app', 'mobile app', 'USSD', 'internet banking', 'the website', 'POS']),
  network: () => pick(['MTN', 'Glo', 'Airtel', '9mobile']),
  brandName: (ctx) => ({ visa: 'Visa', mastercard: 'Mastercard', verve: 'Verve', amex: 'Amex', discover: 'Discover' })[ctx.brand],
};
const GEN = {
  CREDIT_DEBIT_CARD_NUMBER: (ctx) => {
    ctx.card = cardNumber(ctx.brand);
    return formatCard(ctx.card);
  },
  CREDIT_DEBIT_CARD_CVV: (ctx) => cvv(ctx.brand),
  CREDIT_DEBIT_CARD_EXPIRY: expiry,
  EMAIL: email, URL: url, PHONE: (ctx, v) => (v === 'ng' ? ngPhone() : v === 'intl' ? foreignPhone() : phone()),
  IP_ADDRESS: (ctx, v) => (v === '4' ? ipv4() : v === '6' ? ipv6() : ip()), MAC_ADDRESS: mac,
  INTERNATIONAL_BANK_ACCOUNT_NUMBER: iban, SWIFT_CODE: () => pick(SWIFT_CODES),
  AWS_ACCESS_KEY: awsAccessKey, AWS_SECRET_KEY: awsSecret,
  US_SOCIAL_SECURITY_NUMBER: () => ssn(), US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER: itin,
  US_BANK_ROUTING_NUMBER: aba, US_BANK_ACCOUNT_NUMBER: usAccount, US_PASSPORT_NUMBER: usPassport,
  UK_NATIONAL_INSURANCE_NUMBER: nino, UK_NATIONAL_HEALTH_SERVICE_NUMBER: nhs,
  UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER: utr, CA_SOCIAL_INSURANCE_NUMBER: () => sin(),
  CA_HEALTH_NUMBER: caHealth, VEHICLE_IDENTIFICATION_NUMBER: vin, LICENSE_PLATE: plate,
  DRIVER_ID: (ctx, v) => driverId(v), USERNAME: username, PASSWORD: password, PIN: pin, AGE: age,
  NG_NUBAN: (ctx) => nuban(ctx.bank), NG_BVN: bvn, NG_NIN: nin, NG_TIN: tin,
  SECRET_PRIVATE_KEY: pem, SECRET_JWT: jwt, SECRET_BEARER_TOKEN: bearerToken,
  SECRET_GITHUB_TOKEN: githubToken, SECRET_SLACK_TOKEN: slackToken, SECRET_STRIPE_KEY: stripeKey,
  SECRET_GENERIC: genericSecret,
};

const T = {
  CREDIT_DEBIT_CARD_NUMBER: [
    'My card number is {CREDIT_DEBIT_CARD_NUMBER}, please block it.',
    'Abeg block this card {CREDIT_DEBIT_CARD_NUMBER} sharp sharp, e don miss for {city}.',
    '{CREDIT_DEBIT_CARD_NUMBER} is the {brandName} card that was debited {amount} twice.',
    'I was charged {amount} on card {CREDIT_DEBIT_CARD_NUMBER} on {date} but I never made that purchase',
    'Card: {CREDIT_DEBIT_CARD_NUMBER}',
    'Please confirm if {CREDIT_DEBIT_CARD_NUMBER} has been hotlisted',
    'Customer {name} reports a disputed transaction on {brandName} {CREDIT_DEBIT_CARD_NUMBER} ({amount}).',
    'My {brandName} card ({CREDIT_DEBIT_CARD_NUMBER}) was swallowed by the ATM at {city}.',
    'pay with card {CREDIT_DEBIT_CARD_NUMBER} exp {CREDIT_DEBIT_CARD_EXPIRY} cvv {CREDIT_DEBIT_CARD_CVV}',
    'Card number: {CREDIT_DEBIT_CARD_NUMBER}\nExpiry: {CREDIT_DEBIT_CARD_EXPIRY}\nCVV: {CREDIT_DEBIT_CARD_CVV}',
    'why is my card {CREDIT_DEBIT_CARD_NUMBER} declining on Jumia?',
    'The POS at the filling station took {amount} from {CREDIT_DEBIT_CARD_NUMBER}; the receipt says failed.',
    'Kindly reverse the charge on {CREDIT_DEBIT_CARD_NUMBER}. Thank you.',
    'I want to link my {brandName} {CREDIT_DEBIT_CARD_NUMBER} to {app}',
  ],
  CREDIT_DEBIT_CARD_CVV: [
    'The CVV is {CREDIT_DEBIT_CARD_CVV}',
    'cvv: {CREDIT_DEBIT_CARD_CVV}, expiry {CREDIT_DEBIT_CARD_EXPIRY}',
    'Wetin be CVV? Na the 3 numbers for back? Mine na {CREDIT_DEBIT_CARD_CVV}.',
    'The security code on the back of my card is {CREDIT_DEBIT_CARD_CVV} and the site still rejects it',
    'CVC {CREDIT_DEBIT_CARD_CVV} — is that correct for online payments?',
    'I entered CVV {CREDIT_DEBIT_CARD_CVV} but the payment page says invalid.',
    'card ending {ref} cvv2 {CREDIT_DEBIT_CARD_CVV}',
  ],
  CREDIT_DEBIT_CARD_EXPIRY: [
    'My card expires {CREDIT_DEBIT_CARD_EXPIRY}, can I renew it early?',
    'expiry date: {CREDIT_DEBIT_CARD_EXPIRY}',
    'Exp {CREDIT_DEBIT_CARD_EXPIRY} — the app says the card is expired already!',
    'valid thru {CREDIT_DEBIT_CARD_EXPIRY}',
    'The new {brandName} card has expiry {CREDIT_DEBIT_CARD_EXPIRY}. When will it be delivered to {city}?',
    'card expiry {CREDIT_DEBIT_CARD_EXPIRY} but they declined am',
  ],
  EMAIL: [
    'My email is {EMAIL}',
    'Please send the statement to {EMAIL}.',
    '{EMAIL} is the address on my profile, but I no longer use it',
    'Contact me at {EMAIL} or call me.',
    'Change my email from {EMAIL} to {EMAIL}, abeg.',
    'email: {EMAIL}\nname: {name}',
    'I did not receive the OTP in {EMAIL} (checked spam too)',
    'Forward the dispute form to {EMAIL}; I will fill it tonight.',
    'From: {EMAIL}\nSubject: Failed transfer of {amount}',
    'Na {EMAIL} be my email o',
  ],
  URL: [
    'I got an SMS asking me to update my BVN at {URL}. Is it from you?',
    'Is {URL} your official website?',
    'Click here to pay: {URL}',
    'See {URL} for the fee schedule.',
    '{URL} keeps showing error 500 since morning',
    'They sent me this link ({URL}) and collected {amount} from me',
    'Download the statement from {URL}',
    'The webhook is configured to {URL} but we receive nothing.',
    'Abeg check this link {URL} , e be like scam',
  ],
  PHONE: [
    'My phone number is {PHONE}',
    'Call me on {PHONE}.',
    'Please reach me at {PHONE} after {time}',
    '{PHONE} is the number linked to my account',
    'I want to change my phone number from {PHONE:ng} to {PHONE:ng}',
    'Abeg call me for {PHONE:ng}, I dey wait',
    'My {network} line {PHONE:ng} no dey receive OTP since {date}',
    'Customer phone: {PHONE}\nIssue: card not delivered',
    'If you cannot reach me, try my sister on {PHONE}, thanks.',
    'Whatsapp me: {PHONE:ng}',
    'I dey abroad now, use {PHONE:intl} to reach me',
    'Registered mobile: {PHONE:ng}; alternative: {PHONE:intl}.',
    'I bought airtime of {amount} for {PHONE:ng} but it did not drop',
    'Mobile {PHONE}',
  ],
  IP_ADDRESS: [
    'Login attempt from IP {IP_ADDRESS} was blocked',
    'The suspicious session came from {IP_ADDRESS}.',
    'Please whitelist our server IP {IP_ADDRESS} for the API',
    '{IP_ADDRESS} is hitting /v1/transfers 500 times a minute',
    'Our office gateway address is {IP_ADDRESS:4} and the backup is {IP_ADDRESS:6}',
    'client_ip={IP_ADDRESS} status=403',
    'I logged in from {city} but the alert says IP {IP_ADDRESS}; that was not me!',
    'Source address: {IP_ADDRESS:6}',
  ],
  MAC_ADDRESS: [
    'The POS terminal MAC address is {MAC_ADDRESS}',
    'Device {MAC_ADDRESS} keeps disconnecting from the branch Wi-Fi.',
    'mac={MAC_ADDRESS} ip={IP_ADDRESS:4}',
    'Please register the ATM controller with MAC {MAC_ADDRESS}.',
    '{MAC_ADDRESS} is the hardware address of my router',
    'Blocked device: {MAC_ADDRESS}; reason: too many failed logins',
  ],
  INTERNATIONAL_BANK_ACCOUNT_NUMBER: [
    'My IBAN is {INTERNATIONAL_BANK_ACCOUNT_NUMBER}',
    'Please send the money to IBAN {INTERNATIONAL_BANK_ACCOUNT_NUMBER}, BIC {SWIFT_CODE}.',
    'Beneficiary: {name}\nIBAN: {INTERNATIONAL_BANK_ACCOUNT_NUMBER}\nBank: {obank}',
    'I sent {amount} from {INTERNATIONAL_BANK_ACCOUNT_NUMBER} to my mum in {city} and it has not arrived',
    '{INTERNATIONAL_BANK_ACCOUNT_NUMBER} is my {obank} account; can I receive a domiciliary transfer there?',
    'Bitte überweisen Sie auf {INTERNATIONAL_BANK_ACCOUNT_NUMBER}.',
    'Virement vers {INTERNATIONAL_BANK_ACCOUNT_NUMBER} refusé, pourquoi ?',
    'The inward transfer from IBAN {INTERNATIONAL_BANK_ACCOUNT_NUMBER} was returned',
  ],
  SWIFT_CODE: [
    'What is the SWIFT code of your bank? Is it {SWIFT_CODE}?',
    'SWIFT/BIC: {SWIFT_CODE}',
    'Use {SWIFT_CODE} as the swift code for the {amount} transfer.',
    'The sender used BIC {SWIFT_CODE} and the money bounced',
    '{SWIFT_CODE} is the correct BIC for the beneficiary bank in {city}',
    'intermediary bank: {obank} ({SWIFT_CODE})',
  ],
  AWS_ACCESS_KEY: [
    'I accidentally pasted my AWS key {AWS_ACCESS_KEY} in the chat, please delete it',
    'aws_access_key_id = {AWS_ACCESS_KEY}\naws_secret_access_key = {AWS_SECRET_KEY}',
    'export AWS_ACCESS_KEY_ID={AWS_ACCESS_KEY}',
    'The S3 upload fails with access key {AWS_ACCESS_KEY}.',
    'AccessKeyId: {AWS_ACCESS_KEY} SecretAccessKey: {AWS_SECRET_KEY}',
    '{AWS_ACCESS_KEY} / {AWS_SECRET_KEY}',
    'Why is IAM user key {AWS_ACCESS_KEY} getting AccessDenied on the statements bucket?',
  ],
  AWS_SECRET_KEY: [
    'aws secret key: {AWS_SECRET_KEY}',
    'AWS_SECRET_ACCESS_KEY={AWS_SECRET_KEY}',
    'our aws_secret_access_key is {AWS_SECRET_KEY} (rotate after)',
    'access key {AWS_ACCESS_KEY}, secret {AWS_SECRET_KEY}',
    '"AccessKeyId": "{AWS_ACCESS_KEY}", "SecretAccessKey": "{AWS_SECRET_KEY}"',
  ],
  US_SOCIAL_SECURITY_NUMBER: [
    'My SSN is {US_SOCIAL_SECURITY_NUMBER}',
    'SSN: {US_SOCIAL_SECURITY_NUMBER}',
    'Social Security number {US_SOCIAL_SECURITY_NUMBER}, date of birth {date}.',
    'I need to update the SSN on my US account to {US_SOCIAL_SECURITY_NUMBER}',
    '{US_SOCIAL_SECURITY_NUMBER} is my social security number for the W-9 form.',
    'For the credit check, my social is {US_SOCIAL_SECURITY_NUMBER}.',
  ],
  US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER: [
    'My ITIN is {US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER}',
    'ITIN: {US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER}',
    'I do not have an SSN, only an ITIN ({US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER}).',
    'Use taxpayer ID {US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER} on the 1099',
    '{US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER} is the individual taxpayer identification number the IRS gave me',
  ],
  US_BANK_ROUTING_NUMBER: [
    'routing number {US_BANK_ROUTING_NUMBER}',
    'ABA: {US_BANK_ROUTING_NUMBER}, account number {US_BANK_ACCOUNT_NUMBER}',
    'Is {US_BANK_ROUTING_NUMBER} the right routing number for {obank}?',
    'The ACH from routing {US_BANK_ROUTING_NUMBER} was returned R03.',
    'Wire instructions: RTN {US_BANK_ROUTING_NUMBER}; acct {US_BANK_ACCOUNT_NUMBER}; {obank}, {city}',
    'routing/transit: {US_BANK_ROUTING_NUMBER}',
  ],
  US_BANK_ACCOUNT_NUMBER: [
    'My checking account number is {US_BANK_ACCOUNT_NUMBER}',
    'acct {US_BANK_ACCOUNT_NUMBER} at {obank}',
    'Please deposit to account # {US_BANK_ACCOUNT_NUMBER}, routing {US_BANK_ROUTING_NUMBER}.',
    'US account no: {US_BANK_ACCOUNT_NUMBER}',
    'Direct deposit goes to savings account {US_BANK_ACCOUNT_NUMBER} with {obank}',
  ],
  US_PASSPORT_NUMBER: [
    'My US passport number is {US_PASSPORT_NUMBER}',
    'passport no: {US_PASSPORT_NUMBER}',
    'For KYC I uploaded my passport ({US_PASSPORT_NUMBER}), expiry {date}.',
    'U.S. passport {US_PASSPORT_NUMBER} issued in {city}',
    'Passport #{US_PASSPORT_NUMBER} was rejected by the app.',
  ],
  UK_NATIONAL_INSURANCE_NUMBER: [
    'My National Insurance number is {UK_NATIONAL_INSURANCE_NUMBER}',
    'NI number: {UK_NATIONAL_INSURANCE_NUMBER}',
    'NINO {UK_NATIONAL_INSURANCE_NUMBER}, employer {obank}',
    '{UK_NATIONAL_INSURANCE_NUMBER} is my NI no., please update payroll.',
    'The pension form asks for National Insurance no. I wrote {UK_NATIONAL_INSURANCE_NUMBER}.',
    'my nino is {UK_NATIONAL_INSURANCE_NUMBER}',
  ],
  UK_NATIONAL_HEALTH_SERVICE_NUMBER: [
    'My NHS number is {UK_NATIONAL_HEALTH_SERVICE_NUMBER}',
    'NHS no: {UK_NATIONAL_HEALTH_SERVICE_NUMBER}',
    'Patient {name}, NHS {UK_NATIONAL_HEALTH_SERVICE_NUMBER}, needs the insurance claim reprocessed.',
    '{UK_NATIONAL_HEALTH_SERVICE_NUMBER} is the NHS number on my prescription',
    'For the health cover, use NHS number {UK_NATIONAL_HEALTH_SERVICE_NUMBER}.',
  ],
  UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER: [
    'My UTR is {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER}',
    'UTR: {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER}',
    'Self Assessment UTR {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER}, tax year 2023-24.',
    'HMRC unique taxpayer reference {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER} for the mortgage application',
    'Company UTR {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER}; please attach to the invoice',
  ],
  CA_SOCIAL_INSURANCE_NUMBER: [
    'My SIN is {CA_SOCIAL_INSURANCE_NUMBER}',
    'Social Insurance Number: {CA_SOCIAL_INSURANCE_NUMBER}',
    '{CA_SOCIAL_INSURANCE_NUMBER} is my SIN for the TFSA.',
    'Numéro d’assurance sociale : {CA_SOCIAL_INSURANCE_NUMBER}',
    'CRA needs my SIN ({CA_SOCIAL_INSURANCE_NUMBER}) for the T5',
  ],
  CA_HEALTH_NUMBER: [
    'My health card number is {CA_HEALTH_NUMBER}',
    'OHIP health card: {CA_HEALTH_NUMBER}',
    'Health card # {CA_HEALTH_NUMBER}, province {city}.',
    'The travel insurance asks for my provincial health number; it is {CA_HEALTH_NUMBER}',
    'BC Services Card PHN {CA_HEALTH_NUMBER}',
    'carte santé RAMQ : {CA_HEALTH_NUMBER}',
  ],
  VEHICLE_IDENTIFICATION_NUMBER: [
    'The VIN of the car for the auto loan is {VEHICLE_IDENTIFICATION_NUMBER}',
    'VIN: {VEHICLE_IDENTIFICATION_NUMBER}',
    '{VEHICLE_IDENTIFICATION_NUMBER} is the chassis number on the customs papers.',
    'Insurance claim for vehicle {VEHICLE_IDENTIFICATION_NUMBER}, accident on {date}',
    'Please update the car loan collateral: VIN {VEHICLE_IDENTIFICATION_NUMBER}, plate {LICENSE_PLATE}.',
    'chassis no {VEHICLE_IDENTIFICATION_NUMBER}',
  ],
  LICENSE_PLATE: [
    'My plate number is {LICENSE_PLATE}',
    'Registration: {LICENSE_PLATE}',
    'The car with plate {LICENSE_PLATE} was towed, I need the insurance cert.',
    'vehicle reg {LICENSE_PLATE}, make Toyota Corolla',
    'Number plate {LICENSE_PLATE} — please add it to my car insurance',
    'My registration number na {LICENSE_PLATE}',
    'licence plate: {LICENSE_PLATE}',
  ],
  DRIVER_ID: [
    "My driver's licence number is {DRIVER_ID}",
    "Driver's license: {DRIVER_ID}",
    "For ID I used my driving licence {DRIVER_ID}.",
    'DL no: {DRIVER_ID}',
    "{DRIVER_ID:ng} is the number on my FRSC driver's licence",
    'UK driving licence no. {DRIVER_ID:uk}, photocard expires {date}',
    "Ontario driver's licence {DRIVER_ID:on}",
    'driving licence number {DRIVER_ID}, expires {date}',
  ],
  USERNAME: [
    'username: {USERNAME}',
    'My login is {USERNAME} but it says user not found',
    'Username {USERNAME}\nPassword {PASSWORD}',
    'I cannot log in with user ID {USERNAME}.',
    'login: {USERNAME} password: {PASSWORD}',
    'user={USERNAME}',
    'my internet banking username na {USERNAME}',
    'Reset the account for username {USERNAME}, please',
  ],
  PASSWORD: [
    'password: {PASSWORD}',
    'My password is {PASSWORD} but the app says it is wrong',
    'pwd={PASSWORD}',
    'I changed my password to {PASSWORD} yesterday and now I am locked out',
    'passcode: {PASSWORD}',
    'Abeg my password na {PASSWORD}, help me login',
    'new password {PASSWORD}\nconfirm password {PASSWORD}',
  ],
  PIN: [
    'My PIN is {PIN}',
    'ATM PIN: {PIN}',
    'I forgot my card PIN, was it {PIN}?',
    'transaction pin {PIN} is not working on {app}',
    'pin na {PIN}, abeg help me reset am',
    'I typed PIN {PIN} three times and the card got blocked.',
    'My 4-digit PIN is {PIN}',
  ],
  AGE: [
    'I am {AGE} years old',
    'age: {AGE}',
    'My mother is {AGE} years old and needs a pension account.',
    'Applicant age {AGE}, occupation trader',
    'I be {AGE} years old, I fit open account?',
    'The account holder is a {AGE}-year-old retiree in {city}',
    'He is {AGE} yrs old',
  ],
  NG_NUBAN: [
    'My {bank} account number is {NG_NUBAN}',
    'Send the money to {NG_NUBAN} ({bank}).',
    'Abeg send am to {bank} {NG_NUBAN}, name {name}',
    'I transferred {amount} to {bank} account {NG_NUBAN} and it has not dropped',
    'Account: {NG_NUBAN}\nBank: {bank}\nName: {name}',
    '{NG_NUBAN} {bank} — please confirm the account name before I send',
    'Reverse the transfer of {amount} to {NG_NUBAN}, {bank}. Wrong beneficiary!',
    'Ẹ jọ̀wọ́, my {bank} acct no be {NG_NUBAN}',
    'Pay into {bank}, acct no {NG_NUBAN}.',
  ],
  NG_BVN: [
    'My BVN is {NG_BVN}',
    'BVN: {NG_BVN}',
    'Please link BVN {NG_BVN} to my new account.',
    '{NG_BVN} is my BVN, abeg verify am',
    'Bank Verification Number {NG_BVN}, date of birth {date}',
    'I dialled *565*0# and got {NG_BVN} as my BVN',
    'My bvn na {NG_BVN}. Why una dey ask again?',
  ],
  NG_NIN: [
    'My NIN is {NG_NIN}',
    'NIN: {NG_NIN}',
    'National Identification Number {NG_NIN}, for the SIM and account linkage.',
    '{NG_NIN} is my NIN from NIMC',
    'Please update my account with NIN {NG_NIN}.',
    'my nin na {NG_NIN}',
  ],
  NG_TIN: [
    'Our company TIN is {NG_TIN}',
    'TIN: {NG_TIN}',
    'FIRS Tax Identification Number {NG_TIN}, for the corporate account.',
    'Please add TIN {NG_TIN} to the business profile',
    '{NG_TIN} is the TIN on our CAC documents.',
  ],
  SECRET_PRIVATE_KEY: [
    'Here is the key you asked for:\n{SECRET_PRIVATE_KEY}',
    '{SECRET_PRIVATE_KEY}\nthat is the signing key for the webhook',
    'Our SFTP key (do not share):\n{SECRET_PRIVATE_KEY}\nThanks',
    'Error loading key file:\n{SECRET_PRIVATE_KEY}\nopenssl says bad decrypt',
  ],
  SECRET_JWT: [
    'The API returns 401 with token {SECRET_JWT}',
    'jwt={SECRET_JWT}',
    'Here is my session token: {SECRET_JWT}. Why is it expired?',
    '{SECRET_JWT} — decode this and tell me the user',
    'Cookie: session={SECRET_JWT}; Path=/',
  ],
  SECRET_BEARER_TOKEN: [
    'Authorization: Bearer {SECRET_BEARER_TOKEN}',
    'curl -H "Authorization: Bearer {SECRET_BEARER_TOKEN}" {URL}',
    'I am sending Bearer {SECRET_BEARER_TOKEN} and still getting 403.',
    'headers: {"Authorization": "Bearer {SECRET_BEARER_TOKEN}"}',
  ],
  SECRET_GITHUB_TOKEN: [
    'I committed my GitHub token {SECRET_GITHUB_TOKEN} by mistake',
    'GITHUB_TOKEN={SECRET_GITHUB_TOKEN}',
    'GH_TOKEN: {SECRET_GITHUB_TOKEN}\nthe workflow still fails with 401',
    'Use {SECRET_GITHUB_TOKEN} for the CI job.',
  ],
  SECRET_SLACK_TOKEN: [
    'The alert bot uses {SECRET_SLACK_TOKEN}',
    'SLACK_BOT_TOKEN={SECRET_SLACK_TOKEN}',
    'slack token: {SECRET_SLACK_TOKEN} (rotate it please)',
    'Why does {SECRET_SLACK_TOKEN} return invalid_auth?',
  ],
  SECRET_STRIPE_KEY: [
    'Our Stripe key is {SECRET_STRIPE_KEY}',
    'STRIPE_SECRET_KEY={SECRET_STRIPE_KEY}',
    'stripe.api_key = "{SECRET_STRIPE_KEY}"',
    'Payments fail with {SECRET_STRIPE_KEY}, is it revoked?',
  ],
  SECRET_GENERIC: [
    'api_key={SECRET_GENERIC}',
    'secret: {SECRET_GENERIC}',
    'Use token {SECRET_GENERIC} for the sandbox.',
    'client_secret = "{SECRET_GENERIC}"',
    'X-Api-Key: {SECRET_GENERIC}',
    'The webhook secret is {SECRET_GENERIC}',
    'PAYSTACK_SECRET={SECRET_GENERIC}',
  ],
};

// Text put before / after a positive line, for position variety and non-ASCII context.
const PREFIXES = ['', '', '', '', '', 'Hello, ', 'Hi team, ', 'Good morning. ', 'Ẹ jọ̀wọ́, ', 'Ẹ káàárọ̀! ',
  'Biko, ', 'Abeg o, ', 'Sannu, ', '🙏 ', '😡😡 ', 'Urgent!!! ', 'Dear customer care,\n', '₦ wahala: ',
  'Bonjour, ', 'Guten Tag, ', 'Oga, ', 'Hey 👋 ', '— ', 'Re: complaint\n', 'Ndewo! ', 'Please help: '];
const SUFFIXES = ['', '', '', '', '', ' Thanks.', ' 🙏', ' Abeg help me.', ' Thank you!', ' Merci.',
  ' E se.', ' Daalụ.', '\nRegards,\n' + 'NAME', ' ASAP!!', ' 😭', ' Na wa o.', ' Please treat as urgent.'];

// ---- line building ----------------------------------------------------------------------------

class Line {
  constructor() {
    this.text = '';
    this.cp = 0;
    this.spans = [];
  }
  add(s) {
    this.text += s;
    this.cp += [...s].length;
  }
  label(type, s, meta) {
    const start = this.cp;
    this.add(s);
    this.spans.push({ type, start, end: this.cp, value: s, meta });
  }
}

function render(line, template, ctx) {
  const re = /\{([A-Za-z_0-9]+)(?::([a-z0-9]+))?\}/g;
  let last = 0;
  let m;
  while ((m = re.exec(template)) !== null) {
    // A JSON-looking template ({"Authorization": ...}) has literal braces; only names match.
    line.add(template.slice(last, m.index));
    last = re.lastIndex;
    const key = m[1];
    if (GEN[key]) {
      line.label(key, GEN[key](ctx, m[2]), key === 'NG_NUBAN' ? ctx.bank.code : undefined);
    } else if (FILL[key]) {
      line.add(FILL[key](ctx));
    } else {
      throw new Error('unknown placeholder ' + key);
    }
  }
  line.add(template.slice(last));
}
function wrap(line, body) {
  const pre = pick(PREFIXES);
  line.add(pre);
  body();
  line.add(pick(SUFFIXES).replace('NAME', name()));
}

const DETECTABLE = Object.keys(T);
const lines = [];
const emit = (line) => lines.push(line);

function positiveLine(type) {
  const line = new Line();
  const ctx = makeCtx();
  wrap(line, () => render(line, pick(T[type]), ctx));
  return line;
}

// Several values in one message, from different types.
function multiLine() {
  const line = new Line();
  const k = int(2, 3);
  wrap(line, () => {
    for (let i = 0; i < k; i++) {
      // Values of neighbouring sentences are never separated by a bare space.
      if (i > 0) line.add(/[.!?]$/.test(line.text) ? pick([' ', '\n', ' Also: ']) : pick(['. ', '\n', '; ', '. Also, ']));
      const type = pick(DETECTABLE);
      render(line, pick(T[type]), makeCtx());
    }
  });
  return line;
}

// Structured records, common in pasted KYC data.
const RECORD_TEMPLATES = [
  'Name: {name}\nPhone: {PHONE:ng}\nEmail: {EMAIL}\nBVN: {NG_BVN}\nNIN: {NG_NIN}',
  'Full name: {name}, DOB {date}, age {AGE}, BVN {NG_BVN}, phone {PHONE:ng}.',
  '{name} | {EMAIL} | {PHONE} | {bank} {NG_NUBAN}',
  'KYC update — NIN {NG_NIN}; TIN {NG_TIN}; {bank} account {NG_NUBAN}',
  'Applicant: {name}; SSN {US_SOCIAL_SECURITY_NUMBER}; US passport {US_PASSPORT_NUMBER}; email {EMAIL}',
  'Employee: {name}, NI number {UK_NATIONAL_INSURANCE_NUMBER}, NHS no {UK_NATIONAL_HEALTH_SERVICE_NUMBER}, UTR {UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER}',
  'Client {name}: SIN {CA_SOCIAL_INSURANCE_NUMBER}, health card {CA_HEALTH_NUMBER}, phone {PHONE:intl}',
  'Card {CREDIT_DEBIT_CARD_NUMBER} exp {CREDIT_DEBIT_CARD_EXPIRY} CVV {CREDIT_DEBIT_CARD_CVV} PIN {PIN}',
  'ssh deploy@{IP_ADDRESS:4} with password {PASSWORD}',
  'DB_URL=postgres://ledger:{PASSWORD}@10.0.3.12:5432/ledger'.replace('10.0.3.12', '{IP_ADDRESS:4}'),
  'Vehicle finance: VIN {VEHICLE_IDENTIFICATION_NUMBER}, registration {LICENSE_PLATE}, driver licence {DRIVER_ID}',
  'Wire: {obank}, routing number {US_BANK_ROUTING_NUMBER}, account number {US_BANK_ACCOUNT_NUMBER}, SWIFT {SWIFT_CODE}',
  '[{date}] user={USERNAME} ip={IP_ADDRESS} mac={MAC_ADDRESS} action=login_failed',
  '.env\nSTRIPE_KEY={SECRET_STRIPE_KEY}\nSLACK_TOKEN={SECRET_SLACK_TOKEN}\nGITHUB_TOKEN={SECRET_GITHUB_TOKEN}',
  'AWS creds: {AWS_ACCESS_KEY} {AWS_SECRET_KEY} — and the JWT is {SECRET_JWT}',
];
function recordLine() {
  const line = new Line();
  const ctx = makeCtx();
  wrap(line, () => render(line, pick(RECORD_TEMPLATES), ctx));
  return line;
}

// ---- evasion: same values written with full-width digits, invisible or unusual spaces --------

const ZWSP = '\u200b';
const NBSP = '\u00a0';
const THIN = '\u2009';
const NNBSP = '\u202f';
const fullwidth = (s) => s.replace(/[0-9]/g, (c) => String.fromCodePoint(0xff10 + (c.charCodeAt(0) - 48)));
function insertZw(s) {
  const cps = [...s];
  const out = [];
  for (let i = 0; i < cps.length; i++) {
    out.push(cps[i]);
    if (i < cps.length - 1 && i % int(2, 4) === 1) out.push(pick([ZWSP, ZWSP, '\u200c', '\u2060']));
  }
  return out.join('');
}
const EVASIONS = {
  fullwidth, zw: insertZw, nbsp: (s) => s.replace(/ /g, NBSP), thin: (s) => s.replace(/ /g, THIN),
  nnbsp: (s) => s.replace(/ /g, NNBSP),
};
const EVASION_TEMPLATES = [
  ['CREDIT_DEBIT_CARD_NUMBER', 'my card na {v} abeg check', () => formatCard(cardNumber()), ['fullwidth', 'zw', 'nbsp', 'thin']],
  ['CREDIT_DEBIT_CARD_NUMBER', 'Card number: {v}.', () => groupDigits(cardNumber('visa').digits, [4, 4, 4, 4], ' '), ['nbsp', 'thin', 'nnbsp', 'zw']],
  ['PHONE', 'Call me on {v} pls', () => ngPhone(pick(['intl_sp', 'nat_sp', 'nat'])), ['fullwidth', 'zw', 'nbsp', 'thin']],
  ['US_SOCIAL_SECURITY_NUMBER', 'SSN {v}', () => ssn('dash'), ['fullwidth', 'zw']],
  ['NG_BVN', 'BVN: {v}', bvn, ['fullwidth', 'zw']],
  ['NG_NIN', 'my NIN is {v}', nin, ['fullwidth', 'zw']],
  ['EMAIL', 'email me at {v}', email, ['zw']],
  ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'IBAN {v}', () => ibanFor(pick(['GB', 'DE', 'FR'])).match(/.{1,4}/g).join(' '), ['nbsp', 'thin', 'zw']],
  ['UK_NATIONAL_HEALTH_SERVICE_NUMBER', 'NHS number {v}', () => nhs().replace(/[-]/g, ' ').replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3'), ['nbsp', 'fullwidth']],
  ['CA_SOCIAL_INSURANCE_NUMBER', 'SIN {v}', () => sin('space'), ['nbsp', 'thin', 'fullwidth']],
  ['PIN', 'PIN {v}', pin, ['fullwidth', 'zw']],
  ['AWS_ACCESS_KEY', 'key {v}', awsAccessKey, ['zw']],
];
function evasionLine() {
  const [type, tpl, gen, kinds] = pick(EVASION_TEMPLATES);
  const raw = gen();
  const ev = EVASIONS[pick(kinds)](raw);
  const line = new Line();
  wrap(line, () => {
    const i = tpl.indexOf('{v}');
    line.add(tpl.slice(0, i));
    line.label(type, ev, undefined);
    line.spans[line.spans.length - 1].raw = raw;
    line.add(tpl.slice(i + 3));
  });
  return line;
}

// ---- hard negatives -------------------------------------------------------------------------

function invalidLuhnCard() {
  for (;;) {
    const { digits: d } = cardNumber(pick(['visa', 'mastercard', 'verve']));
    if (d.length !== 16) continue;
    const bad = d.slice(0, 15) + String((+d[15] + int(1, 9)) % 10);
    if (cardBrand(bad) === null) return chance(0.5) ? groupDigits(bad, [4, 4, 4, 4], ' ') : bad;
  }
}
function bareDigits(n) {
  for (;;) {
    const d = String(int(1, 9)) + digits(n - 1);
    if (!clashesWithCheckedType(d) && !(n === 10 && utrValid(d)) && !(n === 9 && (ssnValid(d) || itinValid(d)))) return d;
  }
}
function bare9() {
  // 9 digits that are not an SSN (area 9xx), not an ITIN group, not ABA, not SIN.
  for (;;) {
    const d = '9' + digits(2) + pad(int(10, 49), 2) + digits(4);
    if (!luhnValid(d) && !abaValid(d) && !itinValid(d)) return d;
  }
}
function bare10() {
  for (;;) {
    const d = String(int(0, 1)) + digits(9);
    if (!nhsValid(d) && !utrValid(d) && !nanpValid(d)) return d;
  }
}
const NEG = {
  luhnbad: invalidLuhnCard, d11: () => bareDigits(11), d9: bare9, d10: bare10, ref: refNo,
  amount: AMOUNTS, date: DATES, time: TIMES, name, first: firstName, city: FILL.city, app: FILL.app,
  bank: () => pick(pick(NG_BANKS).names), obank: () => pick(OTHER_BANKS), network: FILL.network,
  ver: () => `${int(1, 12)}.${int(0, 30)}.${int(0, 9)}`, pct: () => `${int(1, 30)}.${int(0, 9)}%`,
  count: () => String(int(2, 30)), four: () => pad(int(0, 9999), 4), year: () => String(int(1990, 2025)),
};
const NEG_TEMPLATES = [
  'The card number {luhnbad} keeps failing — is it even valid?',
  'Test card {luhnbad} from the docs is rejected in sandbox.',
  'My order {d11} has not been delivered since {date}.',
  'order 22{d9} is still pending',
  'Invoice {ref} for {amount} is overdue.',
  'Transaction ref {ref}: {amount} debited on {date} at {time}.',
  'I was debited {amount} on {date} at {time} and the money has not been reversed.',
  'Why is my balance {amount} when I had {amount} yesterday?',
  'Ticket {ref} — customer waited {count} days for a refund of {amount}.',
  'Please what is the transfer limit on {app}? I want to send {amount}.',
  'How do I reset my password?',
  'What is a BVN and why does the bank need it?',
  'Where can I find my NIN slip?',
  'What is the CVV on a card, and where is it printed?',
  'I forgot my PIN. How do I reset it on {app}?',
  'Is it safe to share my account number with {name}?',
  'The app version {ver} crashes on login.',
  'After updating to version {ver}, the dashboard is blank.',
  'Your exchange rate went up by {pct} this week, why?',
  'Session ID {d11}{d11}{four}{four} — the transfer failed but I was debited.',
  'The reference on the receipt is {d10}.',
  'Customer number {d10} called at {time} about a failed POS transaction.',
  'Case {d9} escalated to tier 2.',
  'Please credit the {amount} back; reference {ref}.',
  'I paid {amount} for DSTV on {date}, token never came.',
  'URGENT: CUSTOMER COMPLAINT ABOUT REVERSAL DELAY',
  'BUSINESS ACCOUNT UPGRADE REQUEST — PLEASE CALL BACK',
  'Can I open a domiciliary account at {bank}?',
  'How long does a transfer from {bank} to {obank} take?',
  'My {network} airtime of {amount} was deducted twice.',
  'Abeg, una fit reverse my money? E don pass {count} days.',
  'Wetin be the charges for transfer to {bank}?',
  'Ẹ jọ̀wọ́, ṣé ẹ lè ràn mí lọ́wọ́? Owó mi ti di.',
  'I no fit login since {date}, e dey show network error 🙄',
  'The meeting is on {date} at {time}.',
  'Loan of {amount} at {pct} interest for {count} months — is that correct?',
  'My salary of {amount} came in on {date}; why was {amount} deducted?',
  'The POS receipt shows terminal ID {ref} and STAN {four}{four}.',
  'Account statement for {year}–{year} please.',
  'Kindly note the new opening hours: {time} to {time}.',
  'We were founded in {year} and serve {count} million customers.',
  'The form says "card number", "expiry" and "CVV" but I only have a virtual card.',
  'Your username must be 6-20 characters.',
  'Password must contain at least {count} characters and a number.',
  'Order #{d10} shipped on {date}.',
  'The total is {amount} (VAT {pct} included).',
  'Please what time does the {city} branch open?',
  'Mi o ri owo mi gba o. E don tey.',
  'Nna, the ATM for {city} no dey pay, e just dey take money.',
  'I sent {amount} to {name} on {date}; the alert never came.',
  'Guten Tag, die Überweisung von {amount} ist noch nicht angekommen.',
  'Bonjour, mon virement de {amount} du {date} est bloqué.',
  'Tracking number {ref}, weight {count} kg.',
  'Meter number {d11} — the prepaid token failed.',
  'Phone model: iPhone {count}, iOS {ver}.',
  'Dear {first}, your request {ref} has been resolved.',
  'I am calling about the {amount} chargeback filed on {date}.',
  'The card ending in {four} was declined at {time}.',
  'Room {four}, floor {count}, {city} office.',
  'Promo code SAVE{count} did not apply.',
];
function negativeLine() {
  const line = new Line();
  const tpl = pick(NEG_TEMPLATES);
  const pre = chance(0.3) ? pick(PREFIXES) : '';
  line.add(pre);
  line.add(tpl.replace(/\{([a-z0-9]+)\}/g, (_, k) => {
    if (!NEG[k]) throw new Error('neg placeholder ' + k);
    return NEG[k]();
  }));
  if (chance(0.2)) line.add(pick(SUFFIXES).replace('NAME', name()));
  return line;
}
// Positive lines that also carry hard-negative distractors (only some numbers are labeled).
const MIXED_TEMPLATES = [
  'I sent {amount} on {date} (ref {ref}) to {bank} account {NG_NUBAN} but it failed.',
  'My BVN is {NG_BVN}, my order number is {d11}.',
  'Card {CREDIT_DEBIT_CARD_NUMBER} works but the old card {luhnbad} does not.',
  'Invoice {ref}: {amount}; pay via IBAN {INTERNATIONAL_BANK_ACCOUNT_NUMBER}.',
  'Reference {d10}, amount {amount}, phone {PHONE:ng}.',
  'Ticket {ref}: customer {name}, email {EMAIL}, age {AGE}, waited {count} days',
];
function mixedLine() {
  const line = new Line();
  const ctx = makeCtx();
  const tpl = pick(MIXED_TEMPLATES).replace(/\{([a-z0-9]+)\}/g, (m0, k) => (NEG[k] && !FILL[k] ? NEG[k]() : m0));
  wrap(line, () => render(line, tpl, ctx));
  return line;
}

// ---- generation ------------------------------------------------------------------------------

const PER_TYPE = 46;
for (let i = 0; i < PER_TYPE; i++) for (const type of DETECTABLE) emit(positiveLine(type));
for (let i = 0; i < 230; i++) emit(multiLine());
for (let i = 0; i < 160; i++) emit(recordLine());
for (let i = 0; i < 130; i++) emit(evasionLine());
for (let i = 0; i < 60; i++) emit(mixedLine());
const positives = lines.length;
const negTarget = Math.round(positives / 3); // 25% of the total
for (let i = 0; i < negTarget; i++) emit(negativeLine());

// Top up any type below the floor.
const MIN_PER_TYPE = 70;
const countTypes = () => {
  const c = Object.fromEntries(DETECTABLE.map((t) => [t, 0]));
  for (const l of lines) for (const s of l.spans) c[s.type]++;
  return c;
};
for (let counts = countTypes(); ; counts = countTypes()) {
  const low = DETECTABLE.filter((t) => counts[t] < MIN_PER_TYPE);
  if (low.length === 0) break;
  for (const t of low) emit(positiveLine(t));
}
shuffle(lines);

// ---- sanity checks ----------------------------------------------------------------------------

const INVISIBLE = /[\u200b\u200c\u200d\u2060\ufeff]/g;
const normalizeValue = (s) => s.normalize('NFKC').replace(INVISIBLE, '').replace(/[\u00a0\u2009\u202f]/g, ' ');

// Context words that must precede (within 80 characters) values of context-requiring types.
const CONTEXT = {
  AGE: /\bage\b|years? old|yrs old|year-old|\bbe\b/i,
  CREDIT_DEBIT_CARD_CVV: /cvv|cvc|security code/i,
  CREDIT_DEBIT_CARD_EXPIRY: /exp|valid thru/i,
  DRIVER_ID: /licen[cs]e|\bDL\b/i,
  LICENSE_PLATE: /plate|registration|\breg\b/i,
  PASSWORD: /password|pwd|passcode|ssh|:\/\/\w+:/i,
  PIN: /\bpin\b/i,
  USERNAME: /user|login/i,
  US_BANK_ACCOUNT_NUMBER: /acc(?:oun)?t|acct/i,
  US_PASSPORT_NUMBER: /passport/i,
  CA_HEALTH_NUMBER: /health|OHIP|PHN|santé/i,
  UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER: /UTR|taxpayer reference/i,
  NG_BVN: /bvn|bank verification/i,
  NG_NIN: /\bNIN\b|national identification/i,
  NG_TIN: /\bTIN\b|tax identification/i,
  AWS_SECRET_KEY: /secret|AKIA|ASIA|aws creds/i,
  SECRET_GENERIC: /key|secret|token/i,
  SECRET_BEARER_TOKEN: /bearer/i,
  CA_SOCIAL_INSURANCE_NUMBER: /\bSIN\b|social insurance|assurance sociale/i,
  US_SOCIAL_SECURITY_NUMBER: /SSN|social/i,
};

function checkValue(type, v, meta, text) {
  switch (type) {
    case 'CREDIT_DEBIT_CARD_NUMBER': return cardBrand(v) !== null;
    case 'CREDIT_DEBIT_CARD_CVV': return /^\d{3,4}$/.test(v);
    case 'CREDIT_DEBIT_CARD_EXPIRY': return /^(0[1-9]|1[0-2])\/(\d{2}|20\d{2})$/.test(v);
    case 'EMAIL': return emailValid(v);
    case 'URL': return urlValid(v);
    case 'PHONE': return phoneValid(v);
    case 'IP_ADDRESS': return ipv4Strict(v) || isIPv6(v);
    case 'MAC_ADDRESS': return macValid(v);
    case 'INTERNATIONAL_BANK_ACCOUNT_NUMBER': return ibanValid(v);
    case 'SWIFT_CODE': return swiftValid(v);
    case 'AWS_ACCESS_KEY': return /^(AKIA|ASIA)[A-Z2-7]{16}$/.test(v);
    case 'AWS_SECRET_KEY': return /^[A-Za-z0-9/+]{40}$/.test(v);
    case 'US_SOCIAL_SECURITY_NUMBER': return ssnValid(v) && !itinValid(v);
    case 'US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER': return itinValid(v);
    case 'US_BANK_ROUTING_NUMBER': return abaValid(v);
    case 'US_BANK_ACCOUNT_NUMBER': return /^\d{8,12}$/.test(v) && !clashesWithCheckedType(v);
    case 'US_PASSPORT_NUMBER': return /^(?:[A-Z]\d{8}|\d{9})$/.test(v) && !abaValid(v) && !sinValid(v);
    case 'UK_NATIONAL_INSURANCE_NUMBER': return ninoValid(v);
    case 'UK_NATIONAL_HEALTH_SERVICE_NUMBER': return nhsValid(v);
    case 'UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER': return utrValid(v) && !nhsValid(onlyDigits(v));
    case 'CA_SOCIAL_INSURANCE_NUMBER': return sinValid(v);
    case 'CA_HEALTH_NUMBER': return /^(?:\d{4}[ -]?\d{3}[ -]?\d{3}|[A-Z]{4} ?\d{4} ?\d{4})$/.test(v) &&
        !nhsValid(onlyDigits(v).padEnd(11, 'x'));
    case 'VEHICLE_IDENTIFICATION_NUMBER': return vinValid(v);
    case 'LICENSE_PLATE': return /^[A-Z0-9][A-Z0-9 -]{3,10}[A-Z0-9]$/.test(v);
    case 'DRIVER_ID': return /^[A-Z0-9][A-Z0-9-]{6,20}[A-Z0-9]$/.test(v);
    case 'USERNAME': return /^[a-z0-9._]{3,30}$/.test(v) && /[a-z0-9]$/.test(v);
    case 'PASSWORD': return /^[A-Za-z0-9][!-~]{4,30}[A-Za-z0-9]$/.test(v) && !/["'{}]/.test(v);
    case 'PIN': return /^\d{4,6}$/.test(v);
    case 'AGE': return /^\d{1,3}$/.test(v) && +v > 0 && +v < 120;
    case 'NG_NUBAN': {
      const bank = NG_BANKS.find((b) => b.code === meta);
      return nubanValid(meta, v) && bank.names.some((n) => text.includes(n)) && !nhsValid(v);
    }
    case 'NG_BVN': return /^22\d{9}$/.test(v);
    case 'NG_NIN': return /^[1-9]\d{10}$/.test(v) && !v.startsWith('22');
    case 'NG_TIN': return /^(?:\d{8}-\d{4}|[12]\d{9})$/.test(v) && !nhsValid(v) && !nanpValid(v);
    case 'SECRET_PRIVATE_KEY': return pemValid(v);
    case 'SECRET_JWT': return jwtValid(v);
    case 'SECRET_BEARER_TOKEN': return /^[A-Za-z0-9._~+/-]{20,}$/.test(v) && !jwtValid(v);
    case 'SECRET_GITHUB_TOKEN': return /^gh[pousr]_[A-Za-z0-9]{36}$/.test(v);
    case 'SECRET_SLACK_TOKEN': return /^xox[bp]-\d{10,12}-\d{10,13}-[A-Za-z0-9]{24}$/.test(v);
    case 'SECRET_STRIPE_KEY': return /^(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,}$/.test(v);
    case 'SECRET_GENERIC': return /^[A-Za-z0-9]{20,64}$/.test(v) && entropy(v) >= 3.4;
  }
  throw new Error('no check for ' + type);
}

// Detectable values that must not appear unlabeled (outside every span) in any line.
function accidentalFindings(text) {
  const found = [];
  for (const m of text.matchAll(/(?<![\d.])\d(?:[ -]?\d){11,18}(?![\d])/g)) {
    if (cardBrand(m[0]) !== null) found.push('card ' + m[0]);
  }
  for (const m of text.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]+/g)) found.push('email ' + m[0]);
  for (const m of text.matchAll(/https?:\/\/\S+|www\.\S+/g)) found.push('url ' + m[0]);
  for (const m of text.matchAll(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g)) {
    if (ibanValid(m[0].replace(/ /g, ''))) found.push('iban ' + m[0]);
  }
  for (const m of text.matchAll(/(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])/g)) if (ipv4Strict(m[0])) found.push('ipv4 ' + m[0]);
  for (const m of text.matchAll(/(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)/g)) if (ssnValid(m[0])) found.push('ssn ' + m[0]);
  for (const m of text.matchAll(/(?<!\d)\d{9}(?!\d)/g)) if (abaValid(m[0]) || sinValid(m[0])) found.push('aba/sin ' + m[0]);
  for (const m of text.matchAll(/(?<!\d)\d{10}(?!\d)/g)) if (nhsValid(m[0])) found.push('nhs ' + m[0]);
  for (const m of text.matchAll(/\b(?:AKIA|ASIA)[A-Z2-7]{16}\b|\bgh[pousr]_\w+|\bxox[bp]-|\b[sr]k_(?:live|test)_|-----BEGIN|\beyJ[\w-]+\.eyJ/g)) found.push('secret ' + m[0]);
  for (const m of text.matchAll(/\+\d[\d ()-]{8,}\d/g)) found.push('phone ' + m[0]);
  for (const m of text.matchAll(/(?<!\d)0[789]\d{2}[ -]?\d{3}[ -]?\d{4}(?!\d)/g)) if (phoneValid(m[0])) found.push('ngphone ' + m[0]);
  return found;
}

let fail = 0;
const problem = (i, msg) => {
  fail++;
  if (fail <= 30) console.error(`line ${i + 1}: ${msg}`);
};
const out = [];
lines.forEach((line, i) => {
  const cps = [...line.text];
  let prevEnd = -1;
  const sorted = [...line.spans].sort((a, b) => a.start - b.start);
  for (const s of sorted) {
    const got = cps.slice(s.start, s.end).join('');
    if (got !== s.value) problem(i, `span text mismatch ${JSON.stringify(got)} vs ${JSON.stringify(s.value)}`);
    if (s.start < prevEnd) problem(i, `overlapping spans at ${s.start}`);
    prevEnd = s.end;
    if (/^\s|\s$/.test(got)) problem(i, `span has surrounding whitespace: ${JSON.stringify(got)}`);
    const v = normalizeValue(got);
    if (s.raw !== undefined && v !== s.raw) problem(i, `evasion does not normalize back: ${JSON.stringify(v)} vs ${s.raw}`);
    if (!checkValue(s.type, v, s.meta, line.text)) problem(i, `${s.type} fails its check: ${JSON.stringify(v)}`);
    const ctxRe = CONTEXT[s.type];
    if (ctxRe) {
      const before = cps.slice(Math.max(0, s.start - 80), s.start).join('');
      const after = cps.slice(s.end, s.end + 50).join('');
      if (!ctxRe.test(before) && !ctxRe.test(after)) {
        problem(i, `${s.type} without context: ${JSON.stringify(line.text)}`);
      }
    }
    // Spans must not swallow sentence punctuation.
    if (/[.,;:!?)]$/.test(got) && s.type !== 'SECRET_PRIVATE_KEY') problem(i, `${s.type} ends in punctuation: ${got}`);
  }
  // Text outside spans must not contain detectable values.
  let masked = '';
  let pos = 0;
  for (const s of sorted) {
    masked += cps.slice(pos, s.start).join('') + ' '.repeat(1);
    pos = s.end;
  }
  masked += cps.slice(pos).join('');
  for (const f of accidentalFindings(masked.normalize('NFKC').replace(INVISIBLE, ''))) problem(i, `unlabeled ${f} in ${JSON.stringify(line.text)}`);
  out.push(JSON.stringify({ text: line.text, spans: sorted.map(({ type, start, end }) => ({ type, start, end })) }));
});

const finalCounts = countTypes();
for (const t of DETECTABLE) if (finalCounts[t] < MIN_PER_TYPE) problem(-1, `${t} has only ${finalCounts[t]} spans`);
if (fail > 0) {
  console.error(`${fail} problems; nothing written`);
  process.exit(1);
}

const body = out.join('\n') + '\n';
if (process.argv.includes('--stdout')) {
  process.stdout.write(body);
} else {
  const name = seedArg >= 0 ? `labeled-seed-${SEED}.jsonl` : 'labeled.jsonl';
  const path = join(dirname(fileURLToPath(import.meta.url)), name);
  writeFileSync(path, body);
  const negatives = lines.filter((l) => l.spans.length === 0).length;
  console.error(`wrote ${lines.length} lines (${negatives} without spans) to ${path}`);
  if (process.argv.includes('--counts')) {
    for (const t of DETECTABLE) console.error(`${t.padEnd(40)} ${finalCounts[t]}`);
  }
}
