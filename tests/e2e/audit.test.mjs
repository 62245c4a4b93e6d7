// The audit trail with real clients: every Converse, ConverseStream (AWS SDK) and chat
// completion, plain and streamed (openai), is an event named by the request id the client saw,
// with the decision and status and never the prompt; a copy of the log files verifies with only
// the checkpoint public key in the independent verifier (tests/audit/verify.mjs), and an
// inclusion proof from `perimeter audit prove` verifies there too. Then the audit API
// (PerimeterAudit.QueryEvents, SigV4 for service "perimeter" signed by @smithy/signature-v4): a
// tenant administrator allowed perimeter:QueryAuditEvents on audit/a reads tenant a's events
// only, and is refused tenant b's, and the refusal is itself recorded.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';

import {
  BUILTIN_MODEL,
  bedrockClient,
  builtinAnswer,
  collectChatStream,
  collectConverseStream,
  converseStreamText,
  openaiClient,
  signedHeaders,
} from './lib/clients.mjs';
import {
  E2E_ACCOUNT,
  E2E_REGION,
  allowPolicy,
  builtinConfig,
  defaultAccess,
  iamArn,
  makeTempDir,
  startGateway,
} from './lib/gateway.mjs';

import { readPublicKeyFile, verifyInclusionFile, verifyLogDir } from '../audit/verify.mjs';

const T = { timeout: 60_000 };
const HERE = path.dirname(fileURLToPath(import.meta.url));
const VERIFY_MJS = path.resolve(HERE, '../audit/verify.mjs');

const auditDirOf = (gw) => path.join(gw.dir, 'var', 'audit');

/** Runs `perimeter audit <args> --config <gw's config>`; returns stdout, throws unless exit 0. */
async function auditCli(gw, args) {
  const r = await gw.cli(['audit', ...args, '--config', gw.configFile]);
  assert.equal(r.code, 0, `perimeter audit ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The events `perimeter audit query` prints (one JSON object a line). */
async function queryEvents(gw, args = []) {
  const out = await auditCli(gw, ['query', ...args]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/**
 * One PerimeterAudit.<operation> call (AWS JSON 1.1, SigV4 for service "perimeter"), sent with
 * exactly the signed headers. Resolves {status, headers, body (parsed JSON or the raw text)}.
 */
async function auditApi(gw, credentials, operation, payload) {
  const body = JSON.stringify(payload);
  const headers = await signedHeaders(gw, {
    method: 'POST',
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `PerimeterAudit.${operation}`,
    },
    body,
    credentials,
    service: 'perimeter',
  });
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: Number(url.port), method: 'POST', path: '/', headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          let parsed = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the raw text for the assertion message
          }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('audit API request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const userMessage = (text) => [{ role: 'user', content: [{ text }] }];

describe('audit trail of SDK calls (AWS SDK and openai)', () => {
  let gw;
  let bedrock;
  const MARKER = `audit-marker-${randomUUID()}`;

  before(async () => {
    gw = await startGateway({ name: 'audit', config: builtinConfig() }); // e2e-client: bedrock:*
    bedrock = bedrockClient(gw);
  });
  after(async () => {
    bedrock?.destroy();
    await gw?.stop();
  });

  test('every SDK call is in the audit trail, and the trail verifies with only the public key', T, async (t) => {
    const expected = []; // {requestId, eventName, prompt}

    const conversePrompt = `${MARKER} converse`;
    const converse = await bedrock.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: userMessage(conversePrompt) }));
    assert.equal(converse.output.message.content[0].text, builtinAnswer(conversePrompt));
    expected.push({ requestId: converse.$metadata.requestId, eventName: 'Converse' });

    const streamPrompt = `${MARKER} converse-stream`;
    const stream = await bedrock.send(new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: userMessage(streamPrompt) }));
    assert.equal(converseStreamText(await collectConverseStream(stream)), builtinAnswer(streamPrompt));
    expected.push({ requestId: stream.$metadata.requestId, eventName: 'ConverseStream' });

    const openai = openaiClient(gw);
    const chatPrompt = `${MARKER} chat`;
    const chat = await openai.chat.completions
      .create({ model: BUILTIN_MODEL, messages: [{ role: 'user', content: chatPrompt }] })
      .withResponse();
    assert.equal(chat.data.choices[0].message.content, builtinAnswer(chatPrompt));
    expected.push({ requestId: chat.response.headers.get('x-request-id'), eventName: 'ChatCompletions' });

    const chatStreamPrompt = `${MARKER} chat-stream`;
    const chatStream = await openai.chat.completions
      .create({ model: BUILTIN_MODEL, messages: [{ role: 'user', content: chatStreamPrompt }], stream: true })
      .withResponse();
    assert.equal((await collectChatStream(chatStream.data)).text, builtinAnswer(chatStreamPrompt));
    expected.push({ requestId: chatStream.response.headers.get('x-request-id'), eventName: 'ChatCompletions' });

    for (const e of expected) {
      assert.ok(typeof e.requestId === 'string' && e.requestId.length > 0, `${e.eventName}: the client saw no request id`);
    }
    assert.equal(new Set(expected.map((e) => e.requestId)).size, expected.length, 'request ids are distinct');

    // A signed checkpoint over everything so far.
    const checkpoint = JSON.parse(await auditCli(gw, ['checkpoint']));
    assert.ok(Number.isInteger(checkpoint.treeSize) && checkpoint.treeSize >= expected.length, JSON.stringify(checkpoint));
    assert.match(checkpoint.rootHash, /^[0-9a-f]{64}$/);

    const queryOut = await auditCli(gw, ['query']);
    assert.ok(!queryOut.includes(MARKER), 'audit query output holds prompt text');
    const events = queryOut
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l));
    const found = [];
    for (const e of expected) {
      // The request's own event; the KMS key uses it caused (the first use of a credential's
      // secret) carry its request id too.
      const matching = events.filter((ev) => ev.requestID === e.requestId && ev.eventSource !== 'kms.amazonaws.com');
      assert.equal(matching.length, 1, `exactly one event for request ${e.requestId} (${e.eventName}): ${JSON.stringify(matching)}`);
      const ev = matching[0];
      assert.equal(ev.eventName, e.eventName, JSON.stringify(ev));
      assert.equal(ev.httpStatus, 200, JSON.stringify(ev));
      assert.equal(ev.decision?.effect, 'Allow', JSON.stringify(ev));
      assert.equal(ev.errorCode, undefined, JSON.stringify(ev));
      assert.equal(ev.userIdentity?.arn, iamArn('e2e-client'), JSON.stringify(ev));
      assert.equal(ev.requestParameters?.modelId, BUILTIN_MODEL, JSON.stringify(ev));
      assert.match(ev.eventID, /^[0-9a-f-]{36}$/);
      found.push(ev);
    }
    // The SDK's calls are Bedrock events; the OpenAI door's its own source; the OpenAI door's
    // caller came with an API key.
    assert.deepEqual(
      found.map((ev) => ev.eventSource),
      ['bedrock.amazonaws.com', 'bedrock.amazonaws.com', 'perimeter.openai', 'perimeter.openai'],
    );
    assert.equal(found[2].userIdentity.type, 'APIKey', JSON.stringify(found[2]));
    assert.equal(found[2].userIdentity.accessKeyId, gw.apiKeyId, JSON.stringify(found[2]));
    assert.equal(found[0].userIdentity.accessKeyId, gw.accessKeyId, JSON.stringify(found[0]));

    // No file of the audit directory holds the prompts (nor the answers, which repeat them).
    const auditDir = auditDirOf(gw);
    const names = readdirSync(auditDir);
    assert.ok(names.some((n) => /^segment-\d{20}\.jsonl$/.test(n)), `no segment in ${auditDir}: ${names}`);
    assert.ok(names.includes('checkpoints.jsonl') && names.includes('checkpoint-key.pem'), `${names}`);
    for (const name of names) {
      const bytes = readFileSync(path.join(auditDir, name));
      assert.ok(!bytes.includes(MARKER), `${name} in the audit directory holds prompt text`);
    }

    // A copy of the log files and the public key, nothing else, verifies independently.
    const copy = makeTempDir('perimeter-audit-copy-');
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    for (const name of names) {
      if (/^segment-\d{20}\.jsonl$/.test(name) || ['checkpoints.jsonl', 'pruned.json', 'checkpoint-key.pem'].includes(name)) {
        copyFileSync(path.join(auditDir, name), path.join(copy, name));
      }
    }
    assert.ok(!existsSync(path.join(copy, 'checkpoint-key.sealed')));
    const pub = readPublicKeyFile(path.join(copy, 'checkpoint-key.pem'));
    const report = verifyLogDir(copy, pub);
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.firstFailure, null);
    assert.ok(report.records >= checkpoint.treeSize, JSON.stringify(report));
    assert.ok(report.checkpoints >= 1, JSON.stringify(report));
    const lastCheckpoint = readFileSync(path.join(copy, 'checkpoints.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    assert.equal(lastCheckpoint.treeSize, checkpoint.treeSize);
    assert.equal(lastCheckpoint.rootHash, checkpoint.rootHash);
    assert.equal(lastCheckpoint.keyId, pub.keyId);

    // The gateway's public-key command prints the same key.
    const pem = await auditCli(gw, ['public-key']);
    assert.equal(pem.trim(), readFileSync(path.join(copy, 'checkpoint-key.pem'), 'utf8').trim());

    // An inclusion proof of the streamed chat completion's event, checked against the key with
    // the verifier as a module and as the auditor's command line.
    const target = found[3];
    const proofText = await auditCli(gw, ['prove', '--event-id', target.eventID]);
    const proof = JSON.parse(proofText);
    assert.equal(proof.eventId, target.eventID);
    assert.equal(proof.treeSize, checkpoint.treeSize);
    assert.equal(JSON.parse(proof.record).event.eventID, target.eventID);
    assert.equal(JSON.parse(proof.record).event.requestID, target.requestID);
    const inclusion = verifyInclusionFile(proof, pub);
    assert.equal(inclusion.ok, true, JSON.stringify(inclusion));
    assert.equal(inclusion.checkpointVerified, true, JSON.stringify(inclusion));
    assert.deepEqual(inclusion.warnings, []);

    const proofFile = path.join(copy, 'proof.json');
    writeFileSync(proofFile, proofText);
    const cliOut = JSON.parse(
      execFileSync(process.execPath, [VERIFY_MJS, 'inclusion', '--proof', proofFile, '--public-key', path.join(copy, 'checkpoint-key.pem')], {
        encoding: 'utf8',
      }),
    );
    assert.equal(cliOut.ok, true, JSON.stringify(cliOut));
    assert.equal(cliOut.checkpointVerified, true, JSON.stringify(cliOut));

    // And a proof that was tampered with (another record put in) does not verify.
    const forged = { ...proof, record: proof.record.replace(target.requestID, expected[0].requestId) };
    assert.equal(verifyInclusionFile(forged, pub).ok, false);
  });
});

describe('audit API (PerimeterAudit.QueryEvents, SigV4 service "perimeter")', () => {
  let gw;
  const clients = [];
  let auditorA; // credentials of the tenant-a administrator

  before(async () => {
    const trust = (user) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: [iamArn(user)] }, Action: 'sts:AssumeRole' }],
    });
    gw = await startGateway({
      name: 'audit-api',
      config: builtinConfig({
        access: defaultAccess({
          principals: [
            { user: 'alice', tags: { 'perimeter:tenant': 'a' }, policies: [allowPolicy('bedrock:*')] },
            { user: 'bob', tags: { 'perimeter:tenant': 'b' }, policies: [allowPolicy('bedrock:*')] },
            {
              user: 'auditor-a',
              policies: [allowPolicy('perimeter:QueryAuditEvents', `arn:aws:perimeter:${E2E_REGION}:${E2E_ACCOUNT}:audit/a`)],
            },
            { role: 'tenant-a', trust_policy: trust('alice'), policies: [allowPolicy('bedrock:*')] },
            { role: 'tenant-b', trust_policy: trust('bob'), policies: [allowPolicy('bedrock:*')] },
          ],
          tenants: [
            { id: 'a', role: 'tenant-a' },
            { id: 'b', role: 'tenant-b' },
          ],
        }),
      }),
    });
    const key = await gw.createAccessKey('auditor-a');
    auditorA = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await gw?.stop();
  });

  test('a tenant administrator queries only their tenant through the audit API', T, async () => {
    const converseAs = async (user) => {
      const key = await gw.createAccessKey(user);
      const client = bedrockClient(gw, { credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
      clients.push(client);
      const out = await client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: userMessage(`hello from ${user}`) }));
      return out.$metadata.requestId;
    };
    const aIds = [await converseAs('alice'), await converseAs('alice')];
    const bIds = [await converseAs('bob')];

    // The log holds both tenants' requests (so there is something to keep apart).
    const all = await queryEvents(gw);
    for (const [ids, tenant] of [
      [aIds, 'a'],
      [bIds, 'b'],
    ]) {
      for (const id of ids) {
        const ev = all.find((e) => e.requestID === id && e.eventName === 'Converse');
        assert.ok(ev, `no Converse event for request ${id}`);
        assert.equal(ev.tenantId, tenant, JSON.stringify(ev));
      }
    }

    const ok = await auditApi(gw, auditorA, 'QueryEvents', { Tenant: 'a' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(ok.headers['content-type'], /^application\/x-amz-json-1\.1/);
    assert.ok(Array.isArray(ok.body.Events), JSON.stringify(ok.body));
    assert.ok(ok.body.Events.length >= aIds.length, JSON.stringify(ok.body));
    for (const ev of ok.body.Events) {
      assert.equal(ev.tenantId, 'a', `an event of another tenant was returned: ${JSON.stringify(ev)}`);
    }
    const returned = new Set(ok.body.Events.map((e) => e.requestID));
    for (const id of aIds) {
      assert.ok(returned.has(id), `tenant a's request ${id} is missing from QueryEvents`);
    }
    for (const id of bIds) {
      assert.ok(!returned.has(id), `tenant b's request ${id} was returned for tenant a`);
    }

    // Filters narrow within the tenant; they never widen it.
    const one = await auditApi(gw, auditorA, 'QueryEvents', { Tenant: 'a', RequestId: aIds[1], EventName: 'Converse' });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(
      one.body.Events.map((e) => e.requestID),
      [aIds[1]],
    );
    const otherTenantsRequest = await auditApi(gw, auditorA, 'QueryEvents', { Tenant: 'a', RequestId: bIds[0] });
    assert.equal(otherTenantsRequest.status, 200, JSON.stringify(otherTenantsRequest.body));
    assert.deepEqual(otherTenantsRequest.body.Events, []);

    // Tenant b is not theirs.
    const refused = await auditApi(gw, auditorA, 'QueryEvents', { Tenant: 'b' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.__type, 'AccessDeniedException', JSON.stringify(refused.body));
    assert.match(refused.body.message, /perimeter:QueryAuditEvents/);
    assert.equal(refused.body.Events, undefined);
    assert.ok(!JSON.stringify(refused.body).includes(bIds[0]));

    // Both audit API calls are themselves in the trail, the refusal as a Deny.
    const refusedId = refused.headers['x-amzn-requestid'];
    assert.ok(refusedId, JSON.stringify(refused.headers));
    const ownEvent = async (requestId) =>
      (await queryEvents(gw, ['--request-id', requestId])).filter((e) => e.eventSource !== 'kms.amazonaws.com');
    const [recorded, ...moreRefused] = await ownEvent(refusedId);
    assert.deepEqual(moreRefused, []);
    assert.ok(recorded, `the refused QueryEvents (request ${refusedId}) is not in the audit trail`);
    assert.equal(recorded.eventName, 'QueryEvents', JSON.stringify(recorded));
    assert.equal(recorded.eventSource, 'perimeter.audit', JSON.stringify(recorded));
    assert.equal(recorded.userIdentity.arn, iamArn('auditor-a'), JSON.stringify(recorded));
    assert.equal(recorded.errorCode, 'AccessDeniedException', JSON.stringify(recorded));
    assert.equal(recorded.httpStatus, 400, JSON.stringify(recorded));
    assert.equal(recorded.decision?.effect, 'Deny', JSON.stringify(recorded));
    assert.equal(recorded.requestParameters?.tenant, 'b', JSON.stringify(recorded));
    const [allowed, ...moreAllowed] = await ownEvent(ok.headers['x-amzn-requestid']);
    assert.deepEqual(moreAllowed, []);
    assert.ok(allowed, 'the allowed QueryEvents is not in the audit trail');
    assert.equal(allowed.httpStatus, 200, JSON.stringify(allowed));
    assert.equal(allowed.requestParameters?.tenant, 'a', JSON.stringify(allowed));
  });
});
