// Self-test of the independent audit-log verifier (verify.mjs): RFC 6962 known answers, every
// inclusion and consistency proof for trees of 1..40 leaves (and their corruptions), and log
// directories written here in the format.h layout, then tampered with in each way an attacker or
// a crash could. Run: node --test tests/audit/verify_selftest.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import {
  CHECKPOINT_HEADER,
  compactRangeOf,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  keyIdOf,
  leafHash,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  verifyLogDir,
} from './verify.mjs';

const VERIFY = decodeURIComponent(new URL('./verify.mjs', import.meta.url).pathname);
const hex = (b) => b.toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');
const flipped = (buf, byte = 0) => {
  const b = Buffer.from(buf);
  b[byte % b.length] ^= 0x01;
  return b;
};

// The eight leaves of the Certificate Transparency test suite.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657',
  '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(unhex(h)));

// MTH straight from the definition (RFC 9162 2.1.1), to check the compact-range rootOf.
function mthByDefinition(leaves) {
  if (leaves.length === 0) return emptyRoot();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mthByDefinition(leaves.slice(0, k)), mthByDefinition(leaves.slice(k)));
}

describe('merkle known answers', () => {
  test('roots of the CT test leaves', () => {
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    assert.equal(hex(rootOf([])), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (let n = 1; n <= 8; n++) assert.equal(hex(rootOf(CT_LEAVES.slice(0, n))), roots[n - 1], `size ${n}`);
  });

  test('CT inclusion and consistency vectors', () => {
    assert.deepEqual(inclusionProof(CT_LEAVES, 0, 8).map(hex), [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    assert.deepEqual(consistencyProof(CT_LEAVES, 6, 8).map(hex), [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    assert.deepEqual(consistencyProof(CT_LEAVES, 2, 5).map(hex), [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  test('rootOf agrees with the recursive definition for 0..70 leaves', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));
    for (let n = 0; n <= 70; n++) assert.ok(rootOf(leaves.slice(0, n)).equals(mthByDefinition(leaves.slice(0, n))), `n=${n}`);
  });
});

describe('proofs for every size 1..40', () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(`record ${i}`));
  const roots = [emptyRoot()];
  for (let n = 1; n <= 40; n++) roots.push(rootOf(leaves.slice(0, n)));

  test('every inclusion proof verifies, and fails when any hash is flipped', () => {
    for (let n = 1; n <= 40; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        const at = `i=${i} n=${n}`;
        assert.deepEqual(verifyInclusion(leaves[i], i, n, proof, roots[n]), { ok: true }, at);
        for (let j = 0; j < proof.length; j++) {
          for (const byte of [0, 17, 31]) {
            const bad = proof.slice();
            bad[j] = flipped(bad[j], byte);
            assert.equal(verifyInclusion(leaves[i], i, n, bad, roots[n]).ok, false, `${at} proof[${j}]`);
          }
        }
        assert.equal(verifyInclusion(flipped(leaves[i]), i, n, proof, roots[n]).ok, false, `${at} leaf`);
        assert.equal(verifyInclusion(leaves[i], i, n, proof, flipped(roots[n], 9)).ok, false, `${at} root`);
        assert.equal(verifyInclusion(leaves[i], i, n, [...proof, leaves[0]], roots[n]).ok, false, `${at} longer`);
        if (proof.length) assert.equal(verifyInclusion(leaves[i], i, n, proof.slice(1), roots[n]).ok, false, `${at} shorter`);
        if (i + 1 < n) assert.equal(verifyInclusion(leaves[i], i + 1, n, proof, roots[n]).ok, false, `${at} other index`);
        assert.equal(verifyInclusion(leaves[i], n, n, proof, roots[n]).ok, false, `${at} index == size`);
      }
    }
  });

  test('every consistency proof verifies, and fails when any hash is flipped', () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(leaves, m, n);
        const at = `m=${m} n=${n}`;
        assert.deepEqual(verifyConsistency(m, n, roots[m], roots[n], proof), { ok: true }, at);
        for (let j = 0; j < proof.length; j++) {
          for (const byte of [0, 17, 31]) {
            const bad = proof.slice();
            bad[j] = flipped(bad[j], byte);
            assert.equal(verifyConsistency(m, n, roots[m], roots[n], bad).ok, false, `${at} proof[${j}]`);
          }
        }
        assert.equal(verifyConsistency(m, n, flipped(roots[m]), roots[n], proof).ok, false, `${at} fromRoot`);
        // From the empty tree every tree is consistent, whatever its root.
        if (m > 0) assert.equal(verifyConsistency(m, n, roots[m], flipped(roots[n]), proof).ok, false, `${at} toRoot`);
        if (m > 0 && m < n) {
          assert.equal(verifyConsistency(m, n, roots[m], roots[n], [...proof, leaves[0]]).ok, false, `${at} longer`);
          assert.equal(verifyConsistency(m, n, roots[m], roots[n], proof.slice(0, -1)).ok, false, `${at} shorter`);
          assert.equal(verifyConsistency(m, n, roots[m], roots[n], []).ok, false, `${at} empty`);
          if (m + 1 < n) assert.equal(verifyConsistency(m + 1, n, roots[m + 1], roots[n], proof).ok, false, `${at} other size`);
        }
      }
      assert.equal(verifyConsistency(n, n - 1, roots[n], roots[n - 1], []).ok, false, `from > to, n=${n}`);
    }
  });

  test('sizes beyond 32 bits are handled without truncation', () => {
    const big = 2 ** 40;
    const left = leafHash('stand-in for the root of 2^40 leaves');
    const leaf = leafHash('last');
    const root = nodeHash(left, leaf);
    assert.deepEqual(verifyInclusion(leaf, big, big + 1, [left], root), { ok: true });
    assert.equal(verifyInclusion(leaf, big - 1, big + 1, [left], root).ok, false);
    assert.deepEqual(verifyConsistency(big, big + 1, left, root, [leaf]), { ok: true });
    // From 2^40, one hash covers any tree up to 2^41 leaves; beyond that the proof is too short.
    assert.deepEqual(verifyConsistency(big, 2 * big, left, root, [leaf]), { ok: true });
    assert.equal(verifyConsistency(big, 2 * big + 1, left, root, [leaf]).ok, false);
  });
});

// ---------------------------------------------------------------------------------------------
// Log directories written in the format.h layout.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perimeter-audit-verify-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
const newDir = () => {
  const d = path.join(tmp, `log-${dirCount++}`);
  fs.mkdirSync(d);
  return d;
};

const ORIGIN = 'arn:aws:perimeter:eu-west-1:111122223333:audit';
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
const PEM = publicKey.export({ format: 'pem', type: 'spki' });
const rawKey = (k) => k.export({ format: 'der', type: 'spki' }).subarray(-32);
const KEY_ID = keyIdOf(rawKey(publicKey));
const PEM_FILE = path.join(tmp, 'checkpoint-key.pem');
fs.writeFileSync(PEM_FILE, PEM);
const other = crypto.generateKeyPairSync('ed25519');
const OTHER_PEM_FILE = path.join(tmp, 'other-key.pem');
fs.writeFileSync(OTHER_PEM_FILE, other.publicKey.export({ format: 'pem', type: 'spki' }));

const segName = (first) => `segment-${String(first).padStart(20, '0')}.jsonl`;

function recordLine(index, prevHex, note = '') {
  const event = {
    eventVersion: '1.09',
    eventID: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    eventTime: '2024-05-01T12:00:00Z',
    eventName: 'InvokeModel',
    userAgent: 'café/1.0 ✓', // non-ASCII: leaves are the line's UTF-8 bytes
    requestParameters: { modelId: 'anthropic.claude-3-haiku', note },
  };
  return `{"index":${index},"prev":"${prevHex}","retainUntil":"2031-01-01T00:00:00Z","event":${JSON.stringify(event)}}`;
}

function makeLines(n, first = 0, prevHex = '0'.repeat(64)) {
  const lines = [];
  for (let i = first; i < first + n; i++) {
    const line = recordLine(i, prevHex);
    lines.push(line);
    prevHex = hex(leafHash(line));
  }
  return lines;
}

function checkpoint(leaves, n, second, key = privateKey, keyId = KEY_ID) {
  const cp = {
    origin: ORIGIN,
    treeSize: n,
    rootHash: hex(rootOf(leaves.slice(0, n))),
    time: `2024-05-01T12:00:${String(second).padStart(2, '0')}Z`,
    keyId,
  };
  const msg = `${CHECKPOINT_HEADER}\n${cp.origin}\n${cp.treeSize}\n${cp.rootHash}\n${cp.time}\n`;
  cp.signature = crypto.sign(null, Buffer.from(msg), key).toString('base64');
  cp.compactRange = compactRangeOf(leaves, n).map(hex);
  return cp;
}

// Writes `lines` split into segments at `starts`, and checkpoints at `sizes`.
function writeLog(dir, lines, starts, sizes) {
  const ends = [...starts.slice(1), lines.length];
  starts.forEach((s, j) => {
    fs.writeFileSync(path.join(dir, segName(s)), lines.slice(s, ends[j]).map((l) => `${l}\n`).join(''));
  });
  const leaves = lines.map((l) => leafHash(l));
  const cps = sizes.map((n, j) => checkpoint(leaves, n, j));
  fs.writeFileSync(path.join(dir, 'checkpoints.jsonl'), cps.map((c) => `${JSON.stringify(c)}\n`).join(''));
  fs.writeFileSync(path.join(dir, 'checkpoint-key.pem'), PEM);
  return { leaves, cps };
}

// The base log: 23 records in segments [0,8) [8,16) [16,23), checkpoints at 5, 13 and 23.
const N = 23;
const STARTS = [0, 8, 16];
const SIZES = [5, 13, 23];
const LINES = makeLines(N);
const BASE = newDir();
const { leaves: LEAVES, cps: CPS } = writeLog(BASE, LINES, STARTS, SIZES);

function copyBase() {
  const d = newDir();
  fs.cpSync(BASE, d, { recursive: true });
  return d;
}
const segPath = (dir, first) => path.join(dir, segName(first));
const segOf = (index) => STARTS.filter((s) => s <= index).pop();
// Rewrites the lines of the segment that holds `index`; `edit` gets and returns an array of lines.
function editSegment(dir, index, edit) {
  const p = segPath(dir, segOf(index));
  const lines = fs.readFileSync(p, 'utf8').split('\n').slice(0, -1);
  fs.writeFileSync(p, edit(lines, index - segOf(index)).map((l) => `${l}\n`).join(''));
}
function replaceInRecord(dir, index, from, to) {
  editSegment(dir, index, (lines, j) => {
    assert.ok(lines[j].includes(from), `record ${index} holds ${from}`);
    lines[j] = lines[j].replace(from, to);
    return lines;
  });
}
function cli(...args) {
  const r = spawnSync(process.execPath, [VERIFY, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) : null, err: r.stderr };
}
function assertFailsAt(dir, badRecord, pattern) {
  const r = verifyLogDir(dir, PEM);
  assert.equal(r.ok, false, 'tampering is detected');
  assert.equal(r.badRecord, badRecord, r.firstFailure);
  assert.match(r.firstFailure, new RegExp(`^records? ${badRecord}\\b`), r.firstFailure);
  if (pattern) assert.match(r.firstFailure, pattern);
  return r;
}

describe('log directory', () => {
  test('an untouched log verifies (module and CLI)', () => {
    const r = verifyLogDir(BASE, PEM);
    assert.deepEqual(r, { ok: true, records: N, checkpoints: 3, pruned: 0, firstFailure: null, badRecord: null, badCheckpoint: null, warnings: [] });
    const c = cli('log', '--dir', BASE, '--public-key', PEM_FILE);
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out.ok, true);
    assert.equal(c.out.records, N);
    assert.equal(c.out.checkpoints, 3);
  });

  test('a flipped byte in an event names the record', () => {
    for (const index of [0, 3, 7, 10, 15, 16, 21]) {
      const d = copyBase();
      replaceInRecord(d, index, 'InvokeModel', 'InvokeModem');
      assertFailsAt(d, index, /altered/);
      const c = cli('log', '--dir', d, '--public-key', PEM_FILE);
      assert.equal(c.code, 1);
      assert.equal(c.out.ok, false);
      assert.match(c.out.firstFailure, new RegExp(`^record ${index}\\b`));
    }
  });

  test('a flipped byte in the last record is caught by the checkpoint that covers it', () => {
    const d = copyBase();
    replaceInRecord(d, 22, 'InvokeModel', 'InvokeModem');
    const r = assertFailsAt(d, 22, /checkpoint 2 \(treeSize 23\)/);
    assert.equal(r.badCheckpoint, 2);
  });

  test('a flipped byte in prev or index names the record', () => {
    const d = copyBase();
    const prev = LINES[10].match(/"prev":"([0-9a-f]{64})"/)[1];
    const bad = (prev[0] === 'a' ? 'b' : 'a') + prev.slice(1);
    replaceInRecord(d, 10, prev, bad);
    assertFailsAt(d, 10);
    const d2 = copyBase();
    replaceInRecord(d2, 12, '"index":12', '"index":13');
    assertFailsAt(d2, 12, /index field says 13/);
    const d3 = copyBase();
    replaceInRecord(d3, 12, '{"index":12', '{"index":"12"');
    assertFailsAt(d3, 12);
  });

  test('a flipped byte that breaks the JSON names the record', () => {
    const d = copyBase();
    replaceInRecord(d, 9, '"eventName":', '"eventName"!');
    assertFailsAt(d, 9, /line 2/);
  });

  test('a dropped line names the missing record', () => {
    for (const index of [0, 5, 8, 10, 15, 16]) {
      const d = copyBase();
      editSegment(d, index, (lines, j) => lines.filter((_, x) => x !== j));
      assertFailsAt(d, index);
    }
  });

  test('dropping the last record is truncation below the last checkpoint', () => {
    const d = copyBase();
    editSegment(d, 22, (lines) => lines.slice(0, -1));
    const r = assertFailsAt(d, 22, /truncated/);
    assert.equal(r.badCheckpoint, 2);
  });

  test('swapped lines name the first moved record', () => {
    for (const [a, b] of [[0, 1], [10, 11], [9, 14], [17, 22]]) {
      const d = copyBase();
      editSegment(d, a, (lines, j) => {
        const k = j + (b - a);
        [lines[j], lines[k]] = [lines[k], lines[j]];
        return lines;
      });
      assertFailsAt(d, a);
    }
    // Across a segment boundary: records 7 and 8 trade places.
    const d = copyBase();
    editSegment(d, 7, (lines) => [...lines.slice(0, -1), LINES[8]]);
    editSegment(d, 8, (lines) => [LINES[7], ...lines.slice(1)]);
    assertFailsAt(d, 7);
  });

  test('truncation inside a line is a torn tail, then missing records', () => {
    const d = copyBase();
    const p = segPath(d, 16);
    const text = fs.readFileSync(p, 'utf8');
    const cut = Buffer.byteLength(LINES.slice(16, 20).map((l) => `${l}\n`).join('')) + 40;
    fs.truncateSync(p, cut);
    const r = assertFailsAt(d, 20, /truncated/);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /torn tail/);
    assert.ok(text.length > cut);
  });

  test('truncation at a line boundary names the first missing record', () => {
    const d = copyBase();
    const p = segPath(d, 16);
    fs.truncateSync(p, Buffer.byteLength(LINES.slice(16, 19).map((l) => `${l}\n`).join('')));
    assertFailsAt(d, 19, /truncated/);
    const d2 = copyBase();
    fs.rmSync(segPath(d2, 16));
    assertFailsAt(d2, 16, /truncated/);
  });

  test('a deleted middle segment or a misnamed one names the record', () => {
    const d = copyBase();
    fs.rmSync(segPath(d, 8));
    assertFailsAt(d, 8, /missing/);
    const d2 = copyBase();
    fs.renameSync(segPath(d2, 8), segPath(d2, 9));
    assertFailsAt(d2, 8, /named for index 9/);
    const d3 = copyBase();
    fs.rmSync(segPath(d3, 0));
    assertFailsAt(d3, 0, /no pruned\.json/);
  });

  test('a torn tail after the last record is ignored with a warning', () => {
    const d = copyBase();
    fs.appendFileSync(segPath(d, 16), recordLine(23, hex(LEAVES[22])).slice(0, 50));
    const r = verifyLogDir(d, PEM);
    assert.equal(r.ok, true, r.firstFailure);
    assert.equal(r.records, N);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /torn tail/);
    const c = cli('log', '--dir', d, '--public-key', PEM_FILE);
    assert.equal(c.code, 0);
    assert.match(c.err, /warning: .*torn tail/);
  });

  test('an unterminated line that is not at the end of the last segment is a failure', () => {
    const d = copyBase();
    const p = segPath(d, 8);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').slice(0, -1));
    assertFailsAt(d, 15, /not terminated/);
  });

  test('records after the last checkpoint verify, with a warning', () => {
    const d = copyBase();
    const more = makeLines(3, N, hex(LEAVES[N - 1]));
    fs.appendFileSync(segPath(d, 16), more.map((l) => `${l}\n`).join(''));
    const r = verifyLogDir(d, PEM);
    assert.equal(r.ok, true, r.firstFailure);
    assert.equal(r.records, N + 3);
    assert.match(r.warnings.join('\n'), /records 23\.\.25 are not yet covered/);
  });

  test('a rewritten chain is caught by the signed roots', () => {
    // Record 15 altered and every later prev recomputed: the chain holds, the roots do not.
    const d = copyBase();
    const lines = LINES.slice();
    lines[15] = lines[15].replace('InvokeModel', 'InvokeModem');
    for (let i = 16; i < N; i++) lines[i] = recordLine(i, hex(leafHash(lines[i - 1])));
    for (const s of [8, 16]) {
      const end = s === 8 ? 16 : N;
      fs.writeFileSync(segPath(d, s), lines.slice(s, end).map((l) => `${l}\n`).join(''));
    }
    // Checkpoint 13 still verifies, so the difference is after record 12, in subtree [0, 16).
    const r = assertFailsAt(d, 13, /records 13\.\.15: one or more altered/);
    assert.equal(r.badCheckpoint, 2);
    assert.equal(r.checkpoints, 2);
  });

  test('checkpoint tampering is detected', () => {
    const cpFile = (d) => path.join(d, 'checkpoints.jsonl');
    const writeCps = (d, cps) => fs.writeFileSync(cpFile(d), cps.map((c) => `${JSON.stringify(c)}\n`).join(''));
    const cases = [
      ['signature', (cps) => {
        const s = Buffer.from(cps[1].signature, 'base64');
        s[5] ^= 1;
        cps[1].signature = s.toString('base64');
      }, 1, /signature does not verify/],
      ['time', (cps) => { cps[1].time = '2024-05-01T12:00:59Z'; }, 1, /signature does not verify/],
      ['origin', (cps) => { cps[0].origin = 'arn:aws:perimeter:eu-west-1:999999999999:audit'; }, 0, /signature/],
      ['rootHash', (cps) => { cps[2].rootHash = hex(flipped(unhex(cps[2].rootHash))); }, 2, /compactRange does not hash/],
      ['treeSize', (cps) => { cps[1].treeSize = 12; }, 1, /compactRange has/],
      ['order', (cps) => { [cps[1], cps[2]] = [cps[2], cps[1]]; }, 2, /treeSize decreases/],
      ['other key', (cps) => { cps[1] = checkpoint(LEAVES, 13, 1, other.privateKey, keyIdOf(rawKey(other.publicKey))); }, 1, /signed by key/],
      ['forged keyId', (cps) => { cps[1] = checkpoint(LEAVES, 13, 1, other.privateKey); }, 1, /signature does not verify/],
      ['garbage', (cps) => { cps[0] = { hello: 'world' }; }, 0, /origin/],
    ];
    for (const [what, mutate, badCheckpoint, pattern] of cases) {
      const d = copyBase();
      const cps = structuredClone(CPS);
      mutate(cps);
      writeCps(d, cps);
      const r = verifyLogDir(d, PEM);
      assert.equal(r.ok, false, what);
      assert.equal(r.badCheckpoint, badCheckpoint, `${what}: ${r.firstFailure}`);
      assert.match(r.firstFailure, new RegExp(`^checkpoint ${badCheckpoint} `), what);
      assert.match(r.firstFailure, pattern, what);
    }
    // A checkpoint appended for a larger tree than the records: truncation of the records.
    const d = copyBase();
    const more = makeLines(2, N, hex(LEAVES[N - 1]));
    const leaves = [...LEAVES, ...more.map((l) => leafHash(l))];
    writeCps(d, [...CPS, checkpoint(leaves, 25, 9)]);
    const r = assertFailsAt(d, 23, /truncated/);
    assert.equal(r.badCheckpoint, 3);
  });

  test('the wrong public key fails every checkpoint', () => {
    const r = verifyLogDir(BASE, fs.readFileSync(OTHER_PEM_FILE));
    assert.equal(r.ok, false);
    assert.equal(r.badCheckpoint, 0);
    const c = cli('log', '--dir', BASE, '--public-key', OTHER_PEM_FILE);
    assert.equal(c.code, 1);
  });
});

describe('pruned log', () => {
  // Segment [0, 8) pruned: pruned.json carries record 7's leaf hash and the compact range of [0, 8).
  function prunedDir({ keepOld = false, lastLeafHash = hex(LEAVES[7]), compactRange = compactRangeOf(LEAVES, 8).map(hex) } = {}) {
    const d = copyBase();
    fs.writeFileSync(path.join(d, 'pruned.json'), JSON.stringify({ prunedSize: 8, lastLeafHash, compactRange }));
    if (!keepOld) fs.rmSync(segPath(d, 0));
    return d;
  }

  test('verifies from the compact range', () => {
    const r = verifyLogDir(prunedDir(), PEM);
    assert.equal(r.ok, true, r.firstFailure);
    assert.equal(r.records, 15);
    assert.equal(r.pruned, 8);
    assert.equal(r.checkpoints, 3);
    assert.match(r.warnings.join('\n'), /1 checkpoint\(s\) precede prunedSize 8/);
  });

  test('a segment left by an interrupted prune is ignored', () => {
    const r = verifyLogDir(prunedDir({ keepOld: true }), PEM);
    assert.equal(r.ok, true, r.firstFailure);
    assert.equal(r.records, 15);
    assert.match(r.warnings.join('\n'), /segment-0{20}\.jsonl: ignored/);
  });

  test('a wrong lastLeafHash names the first kept record', () => {
    assertFailsAt(prunedDir({ lastLeafHash: hex(LEAVES[6]) }), 8, /lastLeafHash/);
  });

  test('a wrong compact range fails the checkpoints after it', () => {
    const r = verifyLogDir(prunedDir({ compactRange: [hex(LEAVES[0])] }), PEM);
    assert.equal(r.ok, false);
    assert.equal(r.badCheckpoint, 1);
    assert.match(r.firstFailure, /pruned\.json/);
  });

  test('a record altered after the prune is located past the pruned prefix', () => {
    const d = prunedDir();
    const lines = LINES.slice();
    lines[9] = lines[9].replace('InvokeModel', 'InvokeModem');
    for (let i = 10; i < N; i++) lines[i] = recordLine(i, hex(leafHash(lines[i - 1])));
    fs.writeFileSync(segPath(d, 8), lines.slice(8, 16).map((l) => `${l}\n`).join(''));
    fs.writeFileSync(segPath(d, 16), lines.slice(16).map((l) => `${l}\n`).join(''));
    const r = assertFailsAt(d, 8, /records 8\.\.11: one or more altered/);
    assert.equal(r.badCheckpoint, 1);
  });
});

describe('proof files (CLI)', () => {
  const write = (name, obj) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, JSON.stringify(obj));
    return p;
  };
  const inclusion = (i, n, cp) => ({
    index: i,
    treeSize: n,
    leafHash: hex(LEAVES[i]),
    rootHash: hex(rootOf(LEAVES.slice(0, n))),
    auditPath: inclusionProof(LEAVES, i, n).map(hex),
    record: LINES[i],
    checkpoint: cp,
  });
  const consistency = (m, n, fromCp, toCp) => ({
    from: m,
    to: n,
    fromRoot: hex(rootOf(LEAVES.slice(0, m))),
    toRoot: hex(rootOf(LEAVES.slice(0, n))),
    proof: consistencyProof(LEAVES, m, n).map(hex),
    fromCheckpoint: fromCp,
    toCheckpoint: toCp,
  });

  test('inclusion', () => {
    const good = write('incl.json', inclusion(10, 23, CPS[2]));
    let c = cli('inclusion', '--proof', good, '--public-key', PEM_FILE);
    assert.equal(c.code, 0, JSON.stringify(c.out));
    assert.equal(c.out.checkpointVerified, true);
    c = cli('inclusion', '--proof', good);
    assert.equal(c.code, 0);
    assert.equal(c.out.checkpointVerified, false);
    assert.match(c.err, /signature not checked/);
    c = cli('inclusion', '--proof', good, '--public-key', OTHER_PEM_FILE);
    assert.equal(c.code, 1);
    c = cli('inclusion', '--proof', write('incl-nocp.json', inclusion(0, 1, null)), '--public-key', PEM_FILE);
    assert.equal(c.code, 0);

    const bad = [
      { ...inclusion(10, 23, CPS[2]), record: LINES[10].replace('InvokeModel', 'InvokeModem') },
      { ...inclusion(10, 23, CPS[2]), auditPath: inclusion(11, 23, null).auditPath },
      { ...inclusion(10, 23, CPS[2]), index: 11 },
      { ...inclusion(10, 13, CPS[2]) }, // checkpoint of another size
      { ...inclusion(10, 23, { ...CPS[2], time: '2024-05-01T12:00:58Z' }) },
    ];
    bad.forEach((p, j) => {
      const r = cli('inclusion', '--proof', write(`incl-bad-${j}.json`, p), '--public-key', PEM_FILE);
      assert.equal(r.code, 1, `bad inclusion ${j}: ${JSON.stringify(r.out)}`);
      assert.equal(r.out.ok, false);
      assert.ok(r.out.firstFailure);
    });
  });

  test('consistency', () => {
    const good = write('cons.json', consistency(13, 23, CPS[1], CPS[2]));
    let c = cli('consistency', '--proof', good, '--public-key', PEM_FILE);
    assert.equal(c.code, 0, JSON.stringify(c.out));
    assert.equal(c.out.checkpointsVerified, 2);
    c = cli('consistency', '--proof', write('cons-plain.json', consistency(7, 20, null, null)));
    assert.equal(c.code, 0);
    const p = consistency(13, 23, CPS[1], CPS[2]);
    p.proof[0] = hex(flipped(unhex(p.proof[0])));
    c = cli('consistency', '--proof', write('cons-bad.json', p), '--public-key', PEM_FILE);
    assert.equal(c.code, 1);
    c = cli('consistency', '--proof', write('cons-swapped.json', consistency(13, 23, CPS[2], CPS[1])), '--public-key', PEM_FILE);
    assert.equal(c.code, 1);
  });

  test('usage and I/O errors exit 2', () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['log', '--dir', BASE],
      ['log', '--dir', path.join(tmp, 'does-not-exist'), '--public-key', PEM_FILE],
      ['log', '--dir', BASE, '--public-key', path.join(tmp, 'nope.pem')],
      ['log', '--dir', BASE, '--public-key', path.join(BASE, segName(0))],
      ['inclusion', '--proof', path.join(tmp, 'nope.json')],
      ['inclusion', '--proof', segPath(BASE, 0)],
      ['consistency', '--bogus', 'x'],
    ]) {
      const c = cli(...args);
      assert.equal(c.code, 2, args.join(' '));
      assert.equal(c.out.ok, false);
      assert.ok(c.out.error);
    }
  });
});
