// Summarises one bench/run.sh run: node bench/report.mjs META_JSON RUNS_JSONL OUT_JSON
//
// META_JSON  machine, settings, versions and memory, written by run.sh
// RUNS_JSONL one line per load run: {round, target, concurrency, rss_kib, cpu_ms, load: <loadgen>}
// Writes OUT_JSON (meta + every raw run + the summary) and prints a markdown report to stdout.
//
// Figures per target and concurrency are medians across rounds. "Added" latency is paired per
// round (target minus direct in the same round, then the median of those differences), and
// throughput relative to nginx likewise, so a noisy round moves both sides of a comparison.
// The project's targets are reported, never asserted: a benchmark prints numbers.

import { readFileSync, writeFileSync } from 'node:fs';

const [metaPath, runsPath, outPath] = process.argv.slice(2);
if (!metaPath || !runsPath || !outPath) {
  console.error('usage: node bench/report.mjs META_JSON RUNS_JSONL OUT_JSON');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
const runs = readFileSync(runsPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));

const median = (values) => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const round1 = (x) => (x === null ? null : Math.round(x * 10) / 10);

const targets = meta.settings.targets;
const concurrencies = meta.settings.concurrency;
const find = (target, conc, round) =>
  runs.find((r) => r.target === target && r.concurrency === conc && r.round === round);

const summary = {};
for (const target of targets) {
  summary[target] = {};
  for (const conc of concurrencies) {
    const mine = runs.filter((r) => r.target === target && r.concurrency === conc);
    const paired = (metric, baseline) =>
      median(
        mine.map((r) => {
          const base = find(baseline, conc, r.round);
          return base ? metric(r.load, base.load) : NaN;
        }),
      );
    summary[target][conc] = {
      rounds: mine.length,
      p50_us: round1(median(mine.map((r) => r.load.p50_us))),
      p90_us: round1(median(mine.map((r) => r.load.p90_us))),
      p99_us: round1(median(mine.map((r) => r.load.p99_us))),
      max_us: round1(Math.max(...mine.map((r) => r.load.max_us))),
      rps: round1(median(mine.map((r) => r.load.rps))),
      requests: mine.reduce((n, r) => n + r.load.requests, 0),
      errors: mine.reduce((n, r) => n + r.load.errors, 0),
      added_p50_us: targets.includes('direct') ? round1(paired((a, b) => a.p50_us - b.p50_us, 'direct')) : null,
      added_p99_us: targets.includes('direct') ? round1(paired((a, b) => a.p99_us - b.p99_us, 'direct')) : null,
      rps_pct_of_nginx: targets.includes('nginx') ? round1(paired((a, b) => (100 * a.rps) / b.rps, 'nginx')) : null,
      cpu_us_per_request: round1(
        median(mine.map((r) => (r.load.requests > 0 ? (1000 * r.cpu_ms) / r.load.requests : NaN))),
      ),
      rss_end_of_run_kib: median(mine.map((r) => r.rss_kib)),
    };
  }
}

const mb = (kib) => (kib === null || kib === undefined ? null : Math.round((kib * 1024) / 1e5) / 10);
const cLow = Math.min(...concurrencies);
const cHigh = Math.max(...concurrencies);
const checks = {};
if (summary.perimeter) {
  checks.added_p99_us_at_c1 = {
    value: summary.perimeter[cLow]?.added_p99_us ?? null,
    target: '<= 100',
    concurrency: cLow,
  };
  checks.throughput_pct_of_nginx = {
    value: summary.perimeter[cHigh]?.rps_pct_of_nginx ?? null,
    target: '>= 70',
    concurrency: cHigh,
  };
  checks.idle_rss_mb = { value: mb(meta.memory.perimeter?.idle_rss_kib), target: '< 50' };
}

writeFileSync(outPath, JSON.stringify({ ...meta, summary, targets_check: checks, runs }, null, 2) + '\n');

const fmt = (x, digits = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));
const lines = [];
const m = meta.machine;
lines.push(`## Perimeter benchmark, ${meta.date}`);
lines.push('');
lines.push(
  `Machine: ${m.nproc} CPUs (${m.cpu_model}), kernel ${m.kernel}, ` +
    `load average ${m.load_average_start} at start, ${m.load_average_end} at end.`,
);
const s = meta.settings;
lines.push(
  `Settings: ${s.rounds} rounds x ${s.warmup_s}s warm-up + ${s.duration_s}s measured per run; ` +
    `mock ${s.mock_threads} thread(s), delay ${s.mock_delay_us} µs; loadgen ${s.loadgen_threads} thread(s); ` +
    `nginx workers ${s.nginx_workers}; request body ${s.request_body_bytes} bytes.`,
);
const v = meta.versions;
lines.push(
  `Versions: nginx ${v.nginx}, node ${v.node}, Portkey gateway ${v.portkey || 'n/a'}, ` +
    `Perimeter ${v.perimeter_commit || 'n/a'}` +
    (v.perimeter_sha256 ? ` (binary sha256 ${v.perimeter_sha256}...).` : '.'),
);
lines.push('');
lines.push('Latency and throughput (medians across rounds; added = target minus direct, paired per round):');
lines.push('');
lines.push(
  '| target | conc | p50 µs | p99 µs | req/s | added p50 µs | added p99 µs | req/s % of nginx | CPU µs/req | errors |',
);
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const conc of concurrencies) {
  for (const target of targets) {
    const x = summary[target][conc];
    const direct = target === 'direct';
    lines.push(
      `| ${target} | ${conc} | ${fmt(x.p50_us, 1)} | ${fmt(x.p99_us, 1)} | ${fmt(x.rps)} | ` +
        `${direct ? '-' : fmt(x.added_p50_us, 1)} | ${direct ? '-' : fmt(x.added_p99_us, 1)} | ` +
        `${target === 'nginx' ? '100' : fmt(x.rps_pct_of_nginx)} | ${fmt(x.cpu_us_per_request, 1)} | ${x.errors} |`,
    );
  }
}
lines.push('');
lines.push('Resident memory (VmRSS, MB = 10^6 bytes; nginx = master + workers):');
lines.push('');
lines.push(`| target | idle | end of c=${cHigh} run (median) | after all runs |`);
lines.push('| --- | ---: | ---: | ---: |');
for (const target of targets) {
  const mem = meta.memory[target];
  const label = target === 'direct' ? 'direct (the mock itself)' : target;
  lines.push(
    `| ${label} | ${fmt(mb(mem.idle_rss_kib), 1)} | ${fmt(mb(summary[target][cHigh].rss_end_of_run_kib), 1)} | ` +
      `${fmt(mb(mem.after_load_rss_kib), 1)} |`,
  );
}
if (summary.perimeter) {
  lines.push('');
  lines.push('Project targets (measured against, not asserted):');
  lines.push('');
  lines.push(`- added p99 at c=${cLow}: ${fmt(checks.added_p99_us_at_c1.value, 1)} µs (target <= 100 µs)`);
  lines.push(`- throughput at c=${cHigh}: ${fmt(checks.throughput_pct_of_nginx.value)}% of nginx (target >= 70%)`);
  lines.push(`- idle resident memory: ${fmt(checks.idle_rss_mb.value, 1)} MB (target < 50 MB)`);
}
console.log(lines.join('\n'));
