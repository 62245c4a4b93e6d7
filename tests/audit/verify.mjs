// An independent verifier of Perimeter's audit log, written from the file format in
// src/audit/format.h and the Merkle tree of RFC 9162 section 2.1 (RFC 6962 hashing), not from the
// C++ implementation. It needs only the log's files and the exported checkpoint public key, and
// Node's built-in modules, so an auditor can run it anywhere and the test suite can cross-check
// the C++ writer, prover and verifier against a second implementation.
//
// CLI (prints one JSON object on stdout; exit 0 verified, 1 not verified, 2 usage or I/O error):
//   node verify.mjs log --dir DIR --public-key PEMFILE
//   node verify.mjs inclusion --proof FILE [--public-key PEMFILE]
//   node verify.mjs consistency --proof FILE [--public-key PEMFILE]
// As a module: see the exports below (hashing, roots, provers, verifiers, verifyLogDir).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const CHECKPOINT_HEADER = 'perimeter-audit-checkpoint/v1';
export const MAX_RECORD_BYTES = 64 * 1024;
export const SEGMENT_RE = /^segment-(\d{20})\.jsonl$/;
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const PRUNED_FILE = 'pruned.json';
export const ZERO_HASH_HEX = '0'.repeat(64);

// Thrown for usage and I/O problems (exit 2), as opposed to a log or proof that does not verify.
export class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Hashing (RFC 6962 / RFC 9162 2.1.1)

function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

// SHA-256(0x00 || data); `data` is a Buffer or a string (hashed as its UTF-8 bytes).
export function leafHash(data) {
  return sha256(Buffer.from([0x00]), typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
}

// SHA-256(0x01 || left || right).
export function nodeHash(left, right) {
  return sha256(Buffer.from([0x01]), left, right);
}

// MTH({}) = SHA-256("").
export function emptyRoot() {
  return sha256(Buffer.alloc(0));
}

function popcount(n) {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

// The perfect subtrees covering [0, size), largest (leftmost) first. `append` merges equal-sized
// neighbours, so hashes.length == popcount(size) always; all arithmetic is on safe integers (no
// 32-bit bit operators).
export class CompactRange {
  constructor(size = 0, hashes = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad compact range size ${size}`);
    if (hashes.length !== popcount(size)) {
      throw new Error(`compact range of size ${size} needs ${popcount(size)} hashes, has ${hashes.length}`);
    }
    this.size = size;
    this.hashes = hashes.slice();
  }

  append(leaf) {
    this.hashes.push(leaf);
    for (let s = this.size; s % 2 === 1; s = Math.floor(s / 2)) {
      const right = this.hashes.pop();
      const left = this.hashes.pop();
      this.hashes.push(nodeHash(left, right));
    }
    this.size += 1;
  }

  root() {
    return compactRangeRoot(this.hashes);
  }
}

// The root that a compact range (largest subtree first) stands for: fold from the right.
export function compactRangeRoot(hashes) {
  if (hashes.length === 0) return emptyRoot();
  let r = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i], r);
  return r;
}

// MTH over leaf hashes (RFC 9162 2.1.1), in O(n) time and O(log n) space.
export function rootOf(leafHashes) {
  const cr = new CompactRange();
  for (const h of leafHashes) cr.append(h);
  return cr.root();
}

// The compact range of the first n leaf hashes.
export function compactRangeOf(leafHashes, n = leafHashes.length) {
  const cr = new CompactRange();
  for (let i = 0; i < n; i++) cr.append(leafHashes[i]);
  return cr.hashes;
}

// [start, end) of each perfect subtree of [0, size), largest first.
export function compactRangeBounds(size) {
  const bounds = [];
  let offset = 0;
  let bit = 1;
  while (bit * 2 <= size) bit *= 2;
  for (; bit >= 1; bit /= 2) {
    if (Math.floor(size / bit) % 2 === 1) {
      bounds.push([offset, offset + bit]);
      offset += bit;
    }
  }
  return bounds;
}

// ---------------------------------------------------------------------------------------------
// Provers (RFC 9162 2.1.3.1 and 2.1.4.1), over leaf hashes; for tests and cross-checks.

function largestPowerOfTwoBelow(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves, a, b) {
  return rootOf(leaves.slice(a, b));
}

// PATH(i, D[n]): the audit path of leaf i in the tree of the first n leaves.
export function inclusionProof(leaves, i, n) {
  if (!(Number.isSafeInteger(i) && Number.isSafeInteger(n) && i >= 0 && i < n && n <= leaves.length)) {
    throw new RangeError(`inclusion proof needs 0 <= index (${i}) < treeSize (${n}) <= ${leaves.length}`);
  }
  const proof = [];
  const walk = (m, a, b) => {
    if (b - a === 1) return;
    const k = largestPowerOfTwoBelow(b - a);
    if (m < k) {
      walk(m, a, a + k);
      proof.push(mth(leaves, a + k, b));
    } else {
      walk(m - k, a + k, b);
      proof.push(mth(leaves, a, a + k));
    }
  };
  walk(i, 0, n);
  return proof;
}

// PROOF(m, D[n]): empty when m == 0 or m == n.
export function consistencyProof(leaves, m, n) {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m <= n && n <= leaves.length)) {
    throw new RangeError(`consistency proof needs 0 <= from (${m}) <= to (${n}) <= ${leaves.length}`);
  }
  if (m === 0 || m === n) return [];
  const proof = [];
  const subproof = (mm, a, b, complete) => {
    if (mm === b - a) {
      if (!complete) proof.push(mth(leaves, a, b));
      return;
    }
    const k = largestPowerOfTwoBelow(b - a);
    if (mm <= k) {
      subproof(mm, a, a + k, complete);
      proof.push(mth(leaves, a + k, b));
    } else {
      subproof(mm - k, a + k, b, false);
      proof.push(mth(leaves, a, a + k));
    }
  };
  subproof(m, 0, n, true);
  return proof;
}

// ---------------------------------------------------------------------------------------------
// Verifiers (RFC 9162 2.1.3.2 and 2.1.4.2). Both return {ok: true} or {ok: false, error}.

function toBig(n, what) {
  if (typeof n === 'bigint') return n;
  if (Number.isSafeInteger(n) && n >= 0) return BigInt(n);
  throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

function isHash(h) {
  return Buffer.isBuffer(h) && h.length === 32;
}

export function verifyInclusion(leaf, index, treeSize, proof, root) {
  const fail = (error) => ({ ok: false, error });
  const idx = toBig(index, 'index');
  const size = toBig(treeSize, 'treeSize');
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return fail('hashes must be 32 bytes');
  if (idx >= size) return fail(`index ${idx} is not below treeSize ${size}`);
  let fn = idx;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return fail('the audit path is longer than the tree needs');
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return fail('the audit path is shorter than the tree needs');
  if (!r.equals(root)) return fail('the audit path does not lead to the root hash');
  return { ok: true };
}

export function verifyConsistency(from, to, fromRoot, toRoot, proof) {
  const fail = (error) => ({ ok: false, error });
  const m = toBig(from, 'from');
  const n = toBig(to, 'to');
  if (!isHash(fromRoot) || !isHash(toRoot) || !proof.every(isHash)) return fail('hashes must be 32 bytes');
  if (m > n) return fail(`from (${m}) is greater than to (${n})`);
  if (m === n) {
    if (proof.length !== 0) return fail('a proof between equal sizes must be empty');
    if (!fromRoot.equals(toRoot)) return fail('equal sizes but different roots');
    return { ok: true };
  }
  if (m === 0n) {
    if (proof.length !== 0) return fail('a proof from the empty tree must be empty');
    if (!fromRoot.equals(emptyRoot())) return fail('the root of the empty tree is SHA-256("")');
    return { ok: true };
  }
  if (proof.length === 0) return fail('the consistency proof is empty');
  const path = (m & (m - 1n)) === 0n ? [fromRoot, ...proof] : proof;
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return fail('the consistency proof is longer than the trees need');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return fail('the consistency proof is shorter than the trees need');
  if (!fr.equals(fromRoot)) return fail('the proof does not lead to the old root hash');
  if (!sr.equals(toRoot)) return fail('the proof does not lead to the new root hash');
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// Keys and checkpoints

// Reads an Ed25519 SubjectPublicKeyInfo PEM (string or Buffer) or KeyObject into
// {key, raw (32 bytes), keyId}. Throws UsageError when it is not one.
export function parsePublicKey(pem) {
  let key;
  try {
    key = pem instanceof crypto.KeyObject ? pem : crypto.createPublicKey(pem);
  } catch (e) {
    throw new UsageError(`not a public key PEM: ${e.message}`);
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError('the checkpoint key must be an Ed25519 public key');
  }
  const der = key.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  return { key, raw, keyId: keyIdOf(raw) };
}

export function readPublicKeyFile(file) {
  let pem;
  try {
    pem = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read public key ${file}: ${e.message}`);
  }
  return parsePublicKey(pem);
}

// Hex of the first 8 bytes of SHA-256 of the raw 32-byte public key.
export function keyIdOf(raw32) {
  return sha256(raw32).subarray(0, 8).toString('hex');
}

// The exact bytes a checkpoint's signature covers.
export function checkpointMessage(cp) {
  return `${CHECKPOINT_HEADER}\n${cp.origin}\n${cp.treeSize}\n${cp.rootHash}\n${cp.time}\n`;
}

const HEX64_RE = /^[0-9a-f]{64}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function isRfc3339Seconds(s) {
  if (typeof s !== 'string' || !TIME_RE.test(s)) return false;
  const t = Date.parse(s);
  return !Number.isNaN(t) && new Date(t).toISOString() === s.replace('Z', '.000Z');
}

function hexHash(s, what) {
  if (typeof s !== 'string' || !HEX64_RE.test(s)) throw new Error(`${what} is not 64 lowercase hex digits`);
  return Buffer.from(s, 'hex');
}

function nonNegativeInteger(v, what) {
  // Accept a decimal string as well as a number: uint64 may be written either way.
  if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) v = Number(v);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what} is not a non-negative integer`);
  return v;
}

// Checks a checkpoint object's shape; returns it normalized ({origin, treeSize, rootHash, time,
// keyId, signature (Buffer), root (Buffer), compactRange (Buffers) or null}). Throws Error naming
// the bad field.
export function parseCheckpoint(obj, { requireCompactRange = true } = {}) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not a JSON object');
  const { origin, time, keyId, signature } = obj;
  if (typeof origin !== 'string' || origin.length === 0 || origin.includes('\n')) {
    throw new Error('origin is not a one-line string');
  }
  const treeSize = nonNegativeInteger(obj.treeSize, 'treeSize');
  const root = hexHash(obj.rootHash, 'rootHash');
  if (!isRfc3339Seconds(time)) throw new Error('time is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)');
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId)) throw new Error('keyId is not 16 hex digits');
  if (typeof signature !== 'string' || !BASE64_RE.test(signature)) throw new Error('signature is not base64');
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64 || sig.toString('base64') !== signature) {
    throw new Error('signature is not the base64 of 64 bytes');
  }
  let compactRange = null;
  if (obj.compactRange !== undefined || requireCompactRange) {
    if (!Array.isArray(obj.compactRange)) throw new Error('compactRange is not an array');
    compactRange = obj.compactRange.map((h, i) => hexHash(h, `compactRange[${i}]`));
    if (compactRange.length !== popcount(treeSize)) {
      const want = popcount(treeSize);
      throw new Error(`compactRange has ${compactRange.length} hashes; treeSize ${treeSize} needs ${want}`);
    }
    if (!compactRangeRoot(compactRange).equals(root)) throw new Error('compactRange does not hash to rootHash');
  }
  return { origin, treeSize, rootHash: obj.rootHash, time, keyId, signature: sig, root, compactRange };
}

// null when the signature of a parsed checkpoint verifies under `pub` (from parsePublicKey) and
// its keyId names that key; otherwise the reason.
export function checkpointSignatureError(cp, pub) {
  if (cp.keyId !== pub.keyId) return `signed by key ${cp.keyId}, not by the given key ${pub.keyId}`;
  const ok = crypto.verify(null, Buffer.from(checkpointMessage(cp), 'utf8'), pub.key, cp.signature);
  return ok ? null : 'signature does not verify';
}

// ---------------------------------------------------------------------------------------------
// Record lines

const RECORD_PREFIX_RE =
  /^\{"index":(0|[1-9][0-9]*),"prev":"([0-9a-f]{64})","retainUntil":"([^"]*)","event":\{/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Parses a record line (Buffer without '\n') strictly: keys in the order format.h gives, no
// duplicates, valid UTF-8 JSON. Returns {index, prev (hex), retainUntil}; throws Error.
export function parseRecordLine(bytes) {
  if (bytes.length > MAX_RECORD_BYTES) throw new Error(`line is longer than ${MAX_RECORD_BYTES} bytes`);
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Error('line is not valid UTF-8');
  }
  const m = RECORD_PREFIX_RE.exec(text);
  if (!m) throw new Error('line does not start {"index":<n>,"prev":"<hex>","retainUntil":"<time>","event":{');
  if (!text.endsWith('}}')) throw new Error('line does not end with the event object and "}"');
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new Error(`line is not JSON (${e.message})`);
  }
  const keys = Object.keys(obj);
  if (keys.join(',') !== 'index,prev,retainUntil,event') {
    throw new Error(`keys are ${keys.join(',')}; expected index,prev,retainUntil,event`);
  }
  const index = Number(m[1]);
  if (!Number.isSafeInteger(index) || obj.index !== index || obj.prev !== m[2] || obj.retainUntil !== m[3]) {
    throw new Error('duplicate or out-of-range keys');
  }
  if (!isRfc3339Seconds(obj.retainUntil)) throw new Error('retainUntil is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)');
  if (obj.event === null || typeof obj.event !== 'object' || Array.isArray(obj.event)) {
    throw new Error('event is not a JSON object');
  }
  return { index, prev: obj.prev, retainUntil: obj.retainUntil };
}

// Splits a file into '\n'-terminated lines; `tail` is what follows the last '\n' (or null).
function splitLines(buf) {
  const lines = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, tail: start < buf.length ? buf.subarray(start) : null };
}

function readFileOrThrow(file) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Log directory verification

// Verifies a log directory against a public key (PEM string/Buffer, KeyObject, or the result of
// parsePublicKey). Returns {ok, records, checkpoints, pruned, firstFailure, badRecord,
// badCheckpoint, warnings}: `records` is the number of record lines read, `checkpoints` the
// number whose signature and root verified, `firstFailure` the first problem (null when ok),
// naming the record ("record 42 (segment-...jsonl line 3): ...") or checkpoint it is about.
// Throws UsageError for I/O problems (a missing directory, an unreadable file).
export function verifyLogDir(dir, publicKey) {
  const pub = publicKey && publicKey.raw && publicKey.key ? publicKey : parsePublicKey(publicKey);
  const report = {
    ok: false,
    records: 0,
    checkpoints: 0,
    pruned: 0,
    firstFailure: null,
    badRecord: null,
    badCheckpoint: null,
    warnings: [],
  };
  const failRecord = (index, msg) => {
    report.firstFailure = msg;
    report.badRecord = index;
    return report;
  };
  const failCheckpoint = (pos, msg, badRecord = null) => {
    report.firstFailure = msg;
    report.badCheckpoint = pos;
    report.badRecord = badRecord;
    return report;
  };
  const fail = (msg) => {
    report.firstFailure = msg;
    return report;
  };

  let names;
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new UsageError(`cannot read log directory ${dir}: ${e.message}`);
  }

  // pruned.json: where the kept log starts.
  let prunedSize = 0;
  let prunedLast = Buffer.alloc(32);
  let prunedRange = [];
  if (names.includes(PRUNED_FILE)) {
    try {
      const p = JSON.parse(readFileOrThrow(path.join(dir, PRUNED_FILE)).toString('utf8'));
      if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('not a JSON object');
      prunedSize = nonNegativeInteger(p.prunedSize, 'prunedSize');
      prunedLast = hexHash(p.lastLeafHash, 'lastLeafHash');
      if (!Array.isArray(p.compactRange)) throw new Error('compactRange is not an array');
      prunedRange = p.compactRange.map((h, i) => hexHash(h, `compactRange[${i}]`));
      if (prunedRange.length !== popcount(prunedSize)) {
        const want = popcount(prunedSize);
        throw new Error(`compactRange has ${prunedRange.length} hashes; prunedSize ${prunedSize} needs ${want}`);
      }
      if (prunedSize === 0) prunedLast = Buffer.alloc(32);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return fail(`${PRUNED_FILE}: ${e.message}`);
    }
  }
  report.pruned = prunedSize;

  // Segments, in index order; those wholly before the pruned prefix are leftovers of an
  // interrupted prune (pruned.json is written before segments are deleted).
  let segments = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m) {
      const first = BigInt(m[1]);
      if (first > BigInt(Number.MAX_SAFE_INTEGER)) return fail(`${name}: index out of range`);
      segments.push({ name, first: Number(first) });
    } else if (name.startsWith('segment-')) {
      report.warnings.push(`${name}: ignored (not a segment-<20 digits>.jsonl name)`);
    }
  }
  segments.sort((a, b) => a.first - b.first);
  if (prunedSize > 0) {
    const leftover = (s, i) => s.first < prunedSize && i + 1 < segments.length && segments[i + 1].first <= prunedSize;
    const kept = segments.filter((s, i) => !leftover(s, i));
    for (const s of segments) {
      if (!kept.includes(s)) {
        report.warnings.push(`${s.name}: ignored (before prunedSize ${prunedSize}; left by an interrupted prune)`);
      }
    }
    segments = kept;
  }

  // Read every line, remembering where it is.
  const entries = []; // {seg, line, leaf, parsed | null, error | null}
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    const { lines, tail } = splitLines(readFileOrThrow(path.join(dir, seg.name)));
    seg.start = entries.length;
    lines.forEach((bytes, i) => {
      const e = { seg, line: i + 1, leaf: leafHash(bytes), parsed: null, error: null };
      try {
        e.parsed = parseRecordLine(bytes);
      } catch (err) {
        e.error = err.message;
      }
      entries.push(e);
    });
    if (tail) {
      if (s === segments.length - 1) {
        const w = `${seg.name} line ${lines.length + 1}: torn tail (${tail.length} bytes without '\\n') ignored`;
        report.warnings.push(w);
      } else {
        const error = "line is not terminated by '\\n' and this is not the last segment";
        entries.push({ seg, line: lines.length + 1, leaf: leafHash(tail), parsed: null, error });
      }
    }
  }
  report.records = entries.length;
  const total = prunedSize + entries.length;
  const where = (e) => `${e.seg.name} line ${e.line}`;

  // Records: segment names, positions, the prev chain.
  let segIdx = 0;
  for (let i = 0; i <= entries.length; i++) {
    const k = prunedSize + i;
    // Segments that start here (an empty segment starts where the next record would be).
    while (segIdx < segments.length && segments[segIdx].start === i) {
      const seg = segments[segIdx++];
      if (seg.first === k) continue;
      const e = entries[i] && entries[i].seg === seg ? entries[i] : null;
      if (e && e.parsed && e.parsed.index === k) {
        const msg = `${seg.name} is named for index ${seg.first} but its first record is ${k}`;
        return failRecord(k, `record ${k} (${where(e)}): ${msg}`);
      }
      if (seg.first > k && i === 0) {
        const why =
          prunedSize > 0 ? `${PRUNED_FILE} says the log starts at ${prunedSize}` : `there is no ${PRUNED_FILE}`;
        return failRecord(k, `record ${k}: missing; the first segment is ${seg.name} and ${why}`);
      }
      if (seg.first > k) {
        const msg = `${seg.name} starts at ${seg.first} but the records before it end at ${k - 1}`;
        return failRecord(k, `record ${k}: missing; ${msg}`);
      }
      return failRecord(k, `record ${k}: ${seg.name} starts at ${seg.first}, overlapping records before it`);
    }
    if (i === entries.length) break;
    const e = entries[i];
    if (e.error) return failRecord(k, `record ${k} (${where(e)}): ${e.error}`);
    const expectedPrev = i === 0 ? prunedLast : entries[i - 1].leaf;
    if (e.parsed.index !== k && e.parsed.prev === expectedPrev.toString('hex')) {
      return failRecord(k, `record ${k} (${where(e)}): altered: its index field says ${e.parsed.index}`);
    }
    if (e.parsed.index !== k) {
      const how = e.parsed.index > k ? `record ${k} dropped or moved` : 'records duplicated or moved';
      return failRecord(k, `record ${k} (${where(e)}): the line holds index ${e.parsed.index} (${how})`);
    }
    if (e.parsed.prev !== expectedPrev.toString('hex')) {
      if (i === 0) {
        const src = prunedSize > 0 ? `lastLeafHash in ${PRUNED_FILE}` : '64 zeros for record 0';
        return failRecord(k, `record ${k} (${where(e)}): prev does not match ${src}`);
      }
      // Record k-1 altered: only k's prev breaks. Record k altered (its prev among other bytes):
      // k's prev and k+1's prev both break.
      const next = entries[i + 1];
      const nextBreaks = next && next.parsed && next.parsed.prev !== e.leaf.toString('hex');
      if (nextBreaks) {
        const msg = `its prev does not match the leaf hash of record ${k - 1} and its leaf hash does not match the prev of record ${k + 1}`;
        return failRecord(k, `record ${k} (${where(e)}): altered: ${msg}`);
      }
      const p = entries[i - 1];
      const orThis = next ? '' : ` (or record ${k}'s prev was altered)`;
      const msg = `its leaf hash does not match the prev of record ${k} (${where(e)})${orThis}`;
      return failRecord(k - 1, `record ${k - 1} (${where(p)}): altered: ${msg}`);
    }
  }

  // Checkpoints.
  const cpPath = path.join(dir, CHECKPOINTS_FILE);
  let cpLines = [];
  if (names.includes(CHECKPOINTS_FILE)) {
    const { lines, tail } = splitLines(readFileOrThrow(cpPath));
    cpLines = lines;
    if (tail) {
      report.warnings.push(`${CHECKPOINTS_FILE} line ${lines.length + 1}: torn tail (${tail.length} bytes without '\\n') ignored`);
    }
  } else {
    report.warnings.push(`no ${CHECKPOINTS_FILE}: no record is covered by a signed checkpoint`);
  }
  const cps = [];
  for (let c = 0; c < cpLines.length; c++) {
    try {
      cps.push(parseCheckpoint(JSON.parse(cpLines[c].toString('utf8'))));
    } catch (e) {
      return failCheckpoint(c, `checkpoint ${c} (${CHECKPOINTS_FILE} line ${c + 1}): ${e.message}`);
    }
  }

  // Roots at every size a checkpoint needs, in one pass over the leaves.
  const wanted = new Set(cps.map((cp) => cp.treeSize).filter((n) => n >= prunedSize && n <= total));
  const roots = new Map();
  const cr = new CompactRange(prunedSize, prunedRange);
  if (wanted.has(cr.size)) roots.set(cr.size, cr.root());
  for (const e of entries) {
    cr.append(e.leaf);
    if (wanted.has(cr.size)) roots.set(cr.size, cr.root());
  }

  let lastGood = 0; // every record below this matches a verified checkpoint
  let prev = null;
  let beforePrune = 0;
  for (let c = 0; c < cps.length; c++) {
    const cp = cps[c];
    const name = `checkpoint ${c} (treeSize ${cp.treeSize})`;
    const sigErr = checkpointSignatureError(cp, pub);
    if (sigErr) return failCheckpoint(c, `${name}: ${sigErr}`);
    if (prev && cp.treeSize < prev.treeSize) {
      return failCheckpoint(c, `${name}: treeSize decreases from ${prev.treeSize}`);
    }
    if (prev && cp.time < prev.time) {
      return failCheckpoint(c, `${name}: time ${cp.time} is before ${prev.time}`);
    }
    if (cp.treeSize > total) {
      const range = cp.treeSize - total === 1 ? `record ${total}` : `records ${total}..${cp.treeSize - 1}`;
      const msg = `the log ends at ${total} records but ${name} covers ${cp.treeSize} (${range} truncated or dropped)`;
      return failCheckpoint(c, `record ${total}: missing; ${msg}`, total);
    }
    if (cp.treeSize < prunedSize) {
      beforePrune++;
    } else if (!roots.get(cp.treeSize).equals(cp.root)) {
      // Locate the difference: the checkpoint's compact range is authenticated by its root.
      for (const [j, [a, b]] of compactRangeBounds(cp.treeSize).entries()) {
        if (b <= lastGood) continue;
        if (a < prunedSize) {
          if (!prunedSubtreeMatches(prunedSize, prunedRange, entries, a, b, cp.compactRange[j])) {
            const msg = `${PRUNED_FILE} (its compactRange) is not what was signed`;
            return failCheckpoint(c, `${name}: root does not match the records; ${msg}`);
          }
          continue;
        }
        const sub = rootOf(entries.slice(a - prunedSize, b - prunedSize).map((e) => e.leaf));
        if (!sub.equals(cp.compactRange[j])) {
          const lo = Math.max(a, lastGood);
          const what = b - lo === 1 ? `record ${lo}: altered` : `records ${lo}..${b - 1}: one or more altered`;
          return failCheckpoint(c, `${what} (${name}: root does not match the records)`, lo);
        }
      }
      return failCheckpoint(c, `${name}: root does not match the records`);
    }
    lastGood = Math.max(lastGood, cp.treeSize);
    report.checkpoints++;
    prev = cp;
  }
  if (beforePrune > 0) {
    const what = `${beforePrune} checkpoint(s) precede prunedSize ${prunedSize}`;
    report.warnings.push(`${what}: only their signatures were checked`);
  }
  const covered = cps.length ? cps[cps.length - 1].treeSize : 0;
  if (covered < total) {
    const from = Math.max(covered, prunedSize);
    const range = total - from === 1 ? `record ${from} is` : `records ${from}..${total - 1} are`;
    report.warnings.push(`${range} not yet covered by a signed checkpoint`);
  }
  report.ok = true;
  return report;
}

// Whether the subtree [a, b) of a checkpoint, starting inside the pruned prefix, reproduced from
// the pruned compact range and the kept leaves, equals `want`. Perfect subtrees nest: [a, b) is
// the pruned range's subtrees from boundary a onward plus the kept leaves up to b.
function prunedSubtreeMatches(prunedSize, prunedRange, entries, a, b, want) {
  const bounds = compactRangeBounds(prunedSize);
  const start = bounds.findIndex(([x]) => x === a);
  if (start < 0) return false;
  const parts = [];
  let end = a;
  for (let j = start; j < bounds.length && bounds[j][1] <= b; j++) {
    parts.push(prunedRange[j]);
    end = bounds[j][1];
  }
  const cr = new CompactRange(end - a, parts);
  for (let x = end; x < b; x++) cr.append(entries[x - prunedSize].leaf);
  return cr.size === b - a && cr.root().equals(want);
}

// ---------------------------------------------------------------------------------------------
// Proof files

function readJsonFile(file) {
  const text = readFileOrThrow(file).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${e.message}`);
  }
}

function hashList(v, what) {
  if (!Array.isArray(v)) throw new Error(`${what} is not an array`);
  return v.map((h, i) => hexHash(h, `${what}[${i}]`));
}

// Checks a checkpoint attached to a proof: shape, signature (when a key is given), and that it
// signs `root` at `size`. Returns a failure message or null; pushes warnings.
function checkAttachedCheckpoint(obj, what, size, root, pub, warnings) {
  let cp;
  try {
    cp = parseCheckpoint(obj, { requireCompactRange: false });
  } catch (e) {
    return `${what}: ${e.message}`;
  }
  if (cp.treeSize !== size) return `${what}: treeSize ${cp.treeSize} is not the proof's ${size}`;
  if (!cp.root.equals(root)) return `${what}: rootHash is not the proof's root hash`;
  if (pub) {
    const err = checkpointSignatureError(cp, pub);
    if (err) return `${what}: ${err}`;
    return null;
  }
  warnings.push(`${what}: signature not checked (no --public-key)`);
  return null;
}

// Verifies an inclusion proof object (the `inclusion --proof` file). `pub` from parsePublicKey or
// null. Returns {ok, index, treeSize, checkpointVerified, firstFailure, warnings}.
export function verifyInclusionFile(p, pub = null) {
  const out = { ok: false, index: null, treeSize: null, checkpointVerified: false, firstFailure: null, warnings: [] };
  try {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('not a JSON object');
    out.index = nonNegativeInteger(p.index, 'index');
    out.treeSize = nonNegativeInteger(p.treeSize, 'treeSize');
    const leaf = hexHash(p.leafHash, 'leafHash');
    const root = hexHash(p.rootHash, 'rootHash');
    const path_ = hashList(p.auditPath, 'auditPath');
    if (typeof p.record !== 'string') throw new Error('record is not a string');
    if (!leafHash(p.record).equals(leaf)) throw new Error('leafHash is not the leaf hash of record');
    const rec = parseRecordLine(Buffer.from(p.record, 'utf8'));
    if (rec.index !== out.index) {
      throw new Error(`record holds index ${rec.index}, but the proof is for leaf ${out.index}`);
    }
    const v = verifyInclusion(leaf, out.index, out.treeSize, path_, root);
    if (!v.ok) throw new Error(`record ${out.index}: ${v.error}`);
    if (p.checkpoint !== undefined && p.checkpoint !== null) {
      const err = checkAttachedCheckpoint(p.checkpoint, 'checkpoint', out.treeSize, root, pub, out.warnings);
      if (err) throw new Error(err);
      out.checkpointVerified = pub !== null;
    } else {
      out.warnings.push('no checkpoint: rootHash is not backed by a signature');
    }
    out.ok = true;
  } catch (e) {
    out.firstFailure = e.message;
  }
  return out;
}

// Verifies a consistency proof object (the `consistency --proof` file). Returns {ok, from, to,
// checkpointsVerified, firstFailure, warnings}.
export function verifyConsistencyFile(p, pub = null) {
  const out = { ok: false, from: null, to: null, checkpointsVerified: 0, firstFailure: null, warnings: [] };
  try {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error('not a JSON object');
    out.from = nonNegativeInteger(p.from, 'from');
    out.to = nonNegativeInteger(p.to, 'to');
    const fromRoot = hexHash(p.fromRoot, 'fromRoot');
    const toRoot = hexHash(p.toRoot, 'toRoot');
    const proof = hashList(p.proof, 'proof');
    const v = verifyConsistency(out.from, out.to, fromRoot, toRoot, proof);
    if (!v.ok) throw new Error(v.error);
    for (const [field, size, root] of [['fromCheckpoint', out.from, fromRoot], ['toCheckpoint', out.to, toRoot]]) {
      if (p[field] === undefined || p[field] === null) {
        out.warnings.push(`no ${field}: that root is not backed by a signature`);
        continue;
      }
      const err = checkAttachedCheckpoint(p[field], field, size, root, pub, out.warnings);
      if (err) throw new Error(err);
      if (pub) out.checkpointsVerified++;
    }
    out.ok = true;
  } catch (e) {
    out.firstFailure = e.message;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage:
  node verify.mjs log --dir DIR --public-key PEMFILE
  node verify.mjs inclusion --proof FILE [--public-key PEMFILE]
  node verify.mjs consistency --proof FILE [--public-key PEMFILE]
Prints one JSON object; exit 0 verified, 1 not verified, 2 usage or I/O error.`;

function parseArgs(argv, allowed) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!flag.startsWith('--') || !allowed.includes(flag.slice(2))) throw new UsageError(`unknown argument ${flag}`);
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    opts[flag.slice(2)] = argv[++i];
  }
  return opts;
}

// Runs the CLI; returns {code, output}.
export function run(argv) {
  try {
    const [cmd, ...rest] = argv;
    let out;
    if (cmd === 'log') {
      const o = parseArgs(rest, ['dir', 'public-key']);
      if (!o.dir || !o['public-key']) throw new UsageError('log needs --dir and --public-key');
      out = verifyLogDir(o.dir, readPublicKeyFile(o['public-key']));
    } else if (cmd === 'inclusion' || cmd === 'consistency') {
      const o = parseArgs(rest, ['proof', 'public-key']);
      if (!o.proof) throw new UsageError(`${cmd} needs --proof`);
      const pub = o['public-key'] ? readPublicKeyFile(o['public-key']) : null;
      const p = readJsonFile(o.proof);
      out = cmd === 'inclusion' ? verifyInclusionFile(p, pub) : verifyConsistencyFile(p, pub);
    } else {
      throw new UsageError(cmd ? `unknown command ${cmd}` : 'no command');
    }
    return { code: out.ok ? 0 : 1, output: out };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, output: { ok: false, error: e.message, usage: USAGE } };
    throw e;
  }
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(decodeURIComponent(new URL(import.meta.url).pathname));
  } catch {
    return false;
  }
}

if (isMain()) {
  const { code, output } = run(process.argv.slice(2));
  for (const w of output.warnings || []) process.stderr.write(`warning: ${w}\n`);
  if (code === 2) process.stderr.write(`${output.error}\n${USAGE}\n`);
  process.stdout.write(`${JSON.stringify(output)}\n`);
  process.exitCode = code;
}
