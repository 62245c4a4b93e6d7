// The shipped baseline config (examples/baseline) answers the review questions as it promises:
// each workload invokes only its own model, development is separate, the region is locked and
// only production-tagged workloads invoke in production. Runs the real CLI in a temporary
// directory (the config's state_dir ./var lands there). Usage: node check_baseline.mjs BIN
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test, after } from 'node:test';

const bin = process.argv[2] || process.env.PERIMETER_BIN;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const config = path.join(repo, 'examples/baseline/perimeter.yaml');
const cwd = mkdtempSync(path.join(os.tmpdir(), 'perimeter-baseline-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const CHAT = 'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0';
const BATCH = 'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0';
const DEV = 'arn:aws:bedrock:eu-west-1::foundation-model/perimeter.echo-v1';
const iam = (suffix) => `arn:aws:iam::111122223333:${suffix}`;

function cli(args) {
  const r = spawnSync(bin, args, {
    cwd,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLECHECKONLY', AWS_SECRET_ACCESS_KEY: 'not-used-by-config-check' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// Requests come from the private network unless a test says otherwise: the listener's endpoint
// policy admits only private source addresses.
function whoCan(resource, sourceIp = '10.1.2.3') {
  const r = cli(['access', 'who-can', '--config', config, '--action', 'bedrock:InvokeModel', '--resource', resource, '--source-ip', sourceIp, '--json']);
  assert.equal(r.code, 0, r.err);
  return r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function simulate(principal, resource, extra = []) {
  const r = cli(['policy', 'simulate', '--config', config, '--principal', principal, '--action', 'bedrock:InvokeModel', '--resource', resource, '--source-ip', '10.1.2.3', '--json', ...extra]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  return JSON.parse(r.out);
}

test('the baseline config is valid', () => {
  const r = cli(['config', 'check', config]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /OK/);
});

test('only the chat inference role, assumable only by the chat service, invokes the chat model', () => {
  const who = whoCan(CHAT);
  assert.deepEqual(who.map((e) => e.principal), [iam('role/chat-inference')]);
  assert.deepEqual(who[0].assumableBy, [iam('user/chat-service')]);
  assert.ok(who[0].statements.some((s) => s.includes('InvokeTheChatModel')), who[0].statements.join());
});

test('only the nightly batch role, assumable only by the batch runner, invokes the batch model', () => {
  const who = whoCan(BATCH);
  assert.deepEqual(who.map((e) => e.principal), [iam('role/nightly-batch')]);
  assert.deepEqual(who[0].assumableBy, [iam('user/batch-runner')]);
});

test('development principals live in their own account with their own models', () => {
  const who = whoCan(DEV);
  assert.deepEqual(who.map((e) => e.principal), ['arn:aws:iam::444455556666:user/dev-engineer']);
  const denied = simulate('arn:aws:iam::444455556666:user/dev-engineer', CHAT);
  assert.equal(denied.decision, 'Denied');
  assert.match(denied.evaluations[0].message, /because no identity-based policy allows the bedrock:InvokeModel action/);
});

test('the roles cannot invoke each other\'s models', () => {
  assert.equal(simulate('chat-inference', BATCH).decision, 'Denied');
  assert.equal(simulate('nightly-batch', CHAT).decision, 'Denied');
  assert.equal(simulate('chat-inference', CHAT).decision, 'Allowed');
});

test('every region but eu-west-1 is denied explicitly by the deployment cap', () => {
  const r = simulate('chat-inference', CHAT, ['--region', 'us-east-1']);
  assert.equal(r.decision, 'Denied');
  assert.equal(r.evaluations[0].decision, 'ExplicitlyDenied');
  assert.ok(r.evaluations[0].statements.some((s) => s.includes('DenyEveryRegionButEuWest1')));
});

test('a production principal without a production-ai-* workload tag cannot invoke', () => {
  // The chat service user itself has no invoke permission; give the check a principal created
  // with the CLI that has an invoke policy but a non-production tag.
  const policyFile = path.join(repo, 'examples/baseline/policies/chat-inference.json');
  const created = cli(['principals', 'create', '--config', config, '--user', 'contractor', '--tag', 'workload=experiments', '--policy', policyFile]);
  assert.equal(created.code, 0, created.err);
  const r = simulate('contractor', CHAT);
  assert.equal(r.decision, 'Denied');
  assert.equal(r.evaluations[0].decision, 'ExplicitlyDenied');
  assert.ok(r.evaluations[0].statements.some((s) => s.includes('ProductionInvocationOnlyForProductionWorkloads')));
});

test('from outside the private network nobody can invoke: the endpoint policy is a second lock', () => {
  assert.deepEqual(whoCan(CHAT, '203.0.113.9'), []);
  const r = cli(['policy', 'simulate', '--config', config, '--principal', 'chat-inference', '--action', 'bedrock:InvokeModel', '--resource', CHAT, '--source-ip', '203.0.113.9', '--json']);
  assert.equal(r.code, 1, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.decision, 'Denied');
  assert.match(out.evaluations.at(-1).message, /because no endpoint policy allows the bedrock:InvokeModel action/);
});

test('the CLI refuses options that do not apply, saying why', () => {
  const r = cli(['principals', 'create', '--config', config, '--user', 'intern', '--max-session-duration', '2h']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--max-session-duration applies to roles/);
});
