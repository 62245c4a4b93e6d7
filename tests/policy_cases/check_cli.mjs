// Runs `perimeter policy eval --cases cases.json` (the batch interface of the real binary) and
// checks every printed line against the case's "expected" field. Usage: node check_cli.mjs BIN
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = process.argv[2];
const casesFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases.json');
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
let stdout;
try {
  stdout = execFileSync(bin, ['policy', 'eval', '--cases', casesFile], { encoding: 'utf8' });
} catch (e) {
  stdout = e.stdout; // exit 1 when some case reports an error line: expected for "Error" cases
}
const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
let failed = 0;
if (lines.length !== cases.length) {
  console.error(`expected ${cases.length} lines, got ${lines.length}`);
  failed++;
}
cases.forEach((c, i) => {
  const got = lines[i] ?? {};
  const ok = got.name === c.name && (c.expected === 'Error' ? typeof got.error === 'string' : got.response === c.expected);
  if (!ok) {
    failed++;
    console.error(`case ${c.name}: expected ${c.expected}, got ${JSON.stringify(got)}`);
  }
});
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
