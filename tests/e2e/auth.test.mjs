// Authentication and authorization at the gateway's doors, driven by the real AWS SDK (Bedrock
// Runtime and STS) and the `openai` package: access keys and their life cycle (revoke, expiry,
// deactivation), signature failures, policy denials, STS sessions (AssumeRole,
// GetCallerIdentity, revocation, expired and tampered tokens), tenants, bearer API keys, and the
// CLI's access answers. Every refusal is checked by error name (or class) and HTTP status.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import OpenAI from 'openai';

import {
  BUILTIN_MODEL,
  REGION,
  bedrockClient,
  builtinAnswer,
  collectConverseStream,
  converseStreamText,
  openaiClient,
  rejection,
} from './lib/clients.mjs';
import {
  E2E_ACCOUNT,
  E2E_CLIENT,
  allowPolicy,
  builtinConfig,
  defaultAccess,
  iamArn,
  modelArn,
  startGateway,
} from './lib/gateway.mjs';

// A second model served by the builtin upstream, so a policy can allow one model and not another.
const OTHER_MODEL = 'perimeter.other-v1';
const T = { timeout: 30_000 };

function twoModelConfig(access) {
  return builtinConfig({
    routes: [
      { model: BUILTIN_MODEL, upstream: 'builtin' },
      { model: OTHER_MODEL, upstream: 'builtin', upstream_model: BUILTIN_MODEL },
    ],
    access,
  });
}

/** A trust policy (IAM's shape: no Resource, the role is the resource) letting `arns` assume the role. */
function trustPolicy(arns) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: arns }, Action: 'sts:AssumeRole' }] };
}

const converse = (text, modelId = BUILTIN_MODEL) =>
  new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text }] }] });

/** Sends one Converse and asserts the builtin model's answer. */
async function assertConverseWorks(client, text, modelId = BUILTIN_MODEL) {
  const out = await client.send(converse(text, modelId));
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(out.output.message.content[0].text, builtinAnswer(text));
  return out;
}

/** Asserts an AWS SDK error's name and HTTP status, showing the message when they differ. */
function assertAwsError(err, name, status = 403) {
  assert.equal(err.name, name, `expected ${name}, got ${err.name} (${err.$metadata?.httpStatusCode}): ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, `${name}: ${err.message}`);
}

/** The AWS-style message of an implicit deny of `action` on `resource` for `principalArn`. */
function implicitDenyMessage(principalArn, action, resource) {
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SigV4 access keys at the Bedrock door', () => {
  let gw;
  const clients = [];
  const client = (extra) => {
    const c = bedrockClient(gw, extra);
    clients.push(c);
    return c;
  };
  before(async () => {
    gw = await startGateway({
      name: 'auth-sigv4',
      config: twoModelConfig(
        defaultAccess({
          principals: [
            { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
            { user: 'limited-app', policies: [allowPolicy('bedrock:InvokeModel', modelArn(OTHER_MODEL))] },
            { user: 'deactivate-me', policies: [allowPolicy('bedrock:*')] },
          ],
        }),
      ),
    });
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await gw?.stop();
  });

  test('a valid access key is accepted and the access log names the principal', T, async () => {
    const out = await client().send(converse('authenticated hello'));
    assert.equal(out.output.message.content[0].text, builtinAnswer('authenticated hello'));
    assert.match(gw.credentials.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
    const lines = await gw.waitForAccessLog((r) => r.request_id === out.$metadata.requestId);
    assert.equal(lines.length, 1, `no access-log line for ${out.$metadata.requestId}:\n${gw.stdout()}`);
    assert.equal(Number(lines[0].status), 200);
    assert.equal(lines[0].principal, iamArn(E2E_CLIENT));
    assert.equal(lines[0].credential_id, gw.credentials.accessKeyId);
    assert.ok(!gw.stdout().includes(gw.credentials.secretAccessKey), 'the secret access key must never be logged');
  });

  test('a wrong secret is InvalidSignatureException', T, async () => {
    const err = await rejection(
      client({ credentials: { accessKeyId: gw.credentials.accessKeyId, secretAccessKey: 'not/the/secret/the/gateway/issued/0000' } }).send(
        converse('wrong secret'),
      ),
    );
    assertAwsError(err, 'InvalidSignatureException');
  });

  test('an unknown access key id is UnrecognizedClientException', T, async () => {
    const err = await rejection(
      client({ credentials: { accessKeyId: 'AKIAUNKNOWNE2EKEY000', secretAccessKey: gw.credentials.secretAccessKey } }).send(
        converse('who am i'),
      ),
    );
    assertAwsError(err, 'UnrecognizedClientException');
  });

  test('a key revoked with the CLI is refused on its next use while other keys still work', T, async () => {
    const key = await gw.createAccessKey(E2E_CLIENT);
    const c = client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    await assertConverseWorks(c, 'before revocation');
    const revoked = await gw.cli(['credentials', 'revoke', key.accessKeyId, '--config', gw.configFile]);
    assert.equal(revoked.code, 0, `credentials revoke: ${revoked.stderr}${revoked.stdout}`);
    assertAwsError(await rejection(c.send(converse('after revocation'))), 'UnrecognizedClientException');
    await assertConverseWorks(client(), 'the default key is untouched');
    const listed = (await gw.cliJson(['credentials', 'list', '--principal', E2E_CLIENT]))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.equal(listed.find((k) => k.id === key.accessKeyId)?.state, 'revoked', JSON.stringify(listed));
    assert.equal(listed.find((k) => k.id === gw.credentials.accessKeyId)?.state, 'active', JSON.stringify(listed));
  });

  test('a principal deactivated with the CLI is refused, and accepted again once activated', T, async () => {
    const key = await gw.createAccessKey('deactivate-me');
    const c = client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    await assertConverseWorks(c, 'still active');
    const off = await gw.cli(['principals', 'deactivate', 'deactivate-me', '--config', gw.configFile]);
    assert.equal(off.code, 0, `principals deactivate: ${off.stderr}${off.stdout}`);
    assertAwsError(await rejection(c.send(converse('deactivated'))), 'UnrecognizedClientException');
    const on = await gw.cli(['principals', 'activate', 'deactivate-me', '--config', gw.configFile]);
    assert.equal(on.code, 0, `principals activate: ${on.stderr}${on.stdout}`);
    await assertConverseWorks(c, 'active again');
  });

  test('a key created with --expires-in 2s works, then is refused once expired', T, async () => {
    const asked = Date.now();
    const key = await gw.createAccessKey(E2E_CLIENT, { expiresIn: '2s' });
    const answered = Date.now();
    const expiresAt = Date.parse(key.expiresAt);
    // expiresAt has whole seconds, so it may lie up to 1 s before asked + 2 s.
    assert.ok(
      expiresAt >= asked + 1000 && expiresAt <= answered + 3000,
      `expiresAt ${key.expiresAt} is not ~2 s after ${new Date(asked).toISOString()}`,
    );
    const c = client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    await assertConverseWorks(c, 'before expiry');
    await sleep(Math.max(asked + 2500, expiresAt + 500) - Date.now());
    assertAwsError(await rejection(c.send(converse('after expiry'))), 'UnrecognizedClientException');
  });

  test('a client clock 10 minutes behind is InvalidSignatureException (beyond the 5 minute skew)', T, async () => {
    const err = await rejection(client({ systemClockOffset: -10 * 60 * 1000, maxAttempts: 1 }).send(converse('skewed')));
    assertAwsError(err, 'InvalidSignatureException');
    assert.match(err.message, /expired|skew|earlier/i, err.message);
  });

  test('a signature scoped to a region outside access.regions is InvalidSignatureException', T, async () => {
    const err = await rejection(client({ region: 'us-east-1' }).send(converse('wrong region')));
    assertAwsError(err, 'InvalidSignatureException');
  });

  test('a user allowed only another model gets AccessDeniedException with the AWS message, and its model works', T, async () => {
    const key = await gw.createAccessKey('limited-app');
    const c = client({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    const err = await rejection(c.send(converse('not my model')));
    assertAwsError(err, 'AccessDeniedException');
    assert.equal(err.message, implicitDenyMessage(iamArn('limited-app'), 'bedrock:InvokeModel', modelArn(BUILTIN_MODEL)));
    await assertConverseWorks(c, 'my model', OTHER_MODEL);
    // The policy allows InvokeModel only, so the streaming action on the same model is denied.
    const streamErr = await rejection(
      c.send(new ConverseStreamCommand({ modelId: OTHER_MODEL, messages: [{ role: 'user', content: [{ text: 'stream' }] }] })),
    );
    assertAwsError(streamErr, 'AccessDeniedException');
    assert.equal(
      streamErr.message,
      implicitDenyMessage(iamArn('limited-app'), 'bedrock:InvokeModelWithResponseStream', modelArn(OTHER_MODEL)),
    );
  });

  test('a request without credentials is 403 MissingAuthenticationTokenException', T, async () => {
    const res = await fetch(`${gw.url}/model/${BUILTIN_MODEL}/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'anonymous' }] }] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json();
    assert.equal(res.status, 403, JSON.stringify(body));
    assert.equal((res.headers.get('x-amzn-errortype') ?? '').split(':')[0], 'MissingAuthenticationTokenException');
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 0);
  });
});

// ---------------------------------------------------------------------------------------------
// STS

const APP_ROLE = 'app-role';
const APP_ROLE_ARN = iamArn(APP_ROLE, 'role');

/** Seals a session token exactly as the gateway does (see the contract in the gateway docs). */
function sealSessionToken(rootKey, accessKeyId, claims) {
  const key = createHmac('sha256', rootKey).update('perimeter/sts-session/v1').digest();
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(accessKeyId));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([Buffer.from([1]), nonce, ciphertext, cipher.getAuthTag()]);
  return `PRMST1${sealed.toString('base64')}`;
}

/** A fresh ASIA access key id and secret, chosen by the test. */
function craftedSessionKeys() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = `ASIA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join('')}`;
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64') };
}

describe('STS sessions', () => {
  let gw;
  let rootKey;
  const clients = [];
  const track = (c) => {
    clients.push(c);
    return c;
  };
  const sts = (credentials) => track(new STSClient({ region: REGION, endpoint: gw.url, credentials: { ...credentials }, maxAttempts: 1 }));
  const assumeAppRole = (credentials, sessionName) =>
    sts(credentials).send(new AssumeRoleCommand({ RoleArn: APP_ROLE_ARN, RoleSessionName: sessionName, DurationSeconds: 900 }));
  const temporary = (assumed) => ({
    accessKeyId: assumed.Credentials.AccessKeyId,
    secretAccessKey: assumed.Credentials.SecretAccessKey,
    sessionToken: assumed.Credentials.SessionToken,
  });

  before(async () => {
    gw = await startGateway({
      name: 'auth-sts',
      config: builtinConfig({
        access: defaultAccess({
          principals: [
            { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
            // A working user of the account whom app-role's trust policy does not name.
            { user: 'outsider', policies: [allowPolicy('bedrock:*')] },
            // Its own policy allows sts:AssumeRole on every role; trust policies decide anyway.
            { user: 'self-granted', policies: [allowPolicy(['bedrock:*', 'sts:AssumeRole'])] },
            {
              // Trusts the account: then the caller's own policy must also allow sts:AssumeRole.
              role: 'account-role',
              trust_policy: trustPolicy([`arn:aws:iam::${E2E_ACCOUNT}:root`]),
              policies: [allowPolicy('bedrock:InvokeModel', modelArn(BUILTIN_MODEL))],
            },
            {
              role: APP_ROLE,
              trust_policy: trustPolicy([iamArn(E2E_CLIENT)]),
              policies: [allowPolicy('bedrock:InvokeModel', modelArn(BUILTIN_MODEL))],
            },
          ],
        }),
      }),
    });
    rootKey = readFileSync(path.join(gw.dir, 'var', 'root.key'));
    assert.equal(rootKey.length, 32, 'var/root.key holds the 32-byte root key');
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await gw?.stop();
  });

  test('AssumeRole returns ASIA credentials for 15 minutes that work for the role policy and no further', T, async () => {
    const before = Date.now();
    const assumed = await assumeAppRole(gw.credentials, 'e2e-session');
    const creds = assumed.Credentials;
    assert.match(creds.AccessKeyId, /^ASIA/);
    assert.ok(creds.SecretAccessKey.length >= 20);
    assert.ok(creds.SessionToken.length > 0);
    assert.ok(creds.Expiration instanceof Date, `Expiration: ${creds.Expiration}`);
    const ahead = creds.Expiration.getTime() - before;
    assert.ok(Math.abs(ahead - 900_000) <= 30_000, `Expiration is ${ahead / 1000} s ahead, expected ~900`);
    assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${E2E_ACCOUNT}:assumed-role/${APP_ROLE}/e2e-session`);

    const bedrock = track(bedrockClient(gw, { credentials: temporary(assumed) }));
    const out = await assertConverseWorks(bedrock, 'as the role');
    const lines = await gw.waitForAccessLog((r) => r.request_id === out.$metadata.requestId);
    assert.equal(lines[0]?.principal, assumed.AssumedRoleUser.Arn, JSON.stringify(lines));
    assert.equal(lines[0]?.credential_id, creds.AccessKeyId, JSON.stringify(lines));
    // app-role allows bedrock:InvokeModel only: ConverseStream (InvokeModelWithResponseStream) is denied.
    const streamErr = await rejection(
      bedrock.send(new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'stream' }] }] })),
    );
    assertAwsError(streamErr, 'AccessDeniedException');
    assert.equal(
      streamErr.message,
      implicitDenyMessage(assumed.AssumedRoleUser.Arn, 'bedrock:InvokeModelWithResponseStream', modelArn(BUILTIN_MODEL)),
    );
    // e2e-client itself may stream (bedrock:*): the denial above is the role's.
    const own = await track(bedrockClient(gw)).send(
      new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'stream' }] }] }),
    );
    assert.equal(converseStreamText(await collectConverseStream(own)), builtinAnswer('stream'));
  });

  test('a role whose policy allows streaming lets the session stream', T, async () => {
    // Same role shape plus InvokeModelWithResponseStream, in a second gateway.
    const gw2 = await startGateway({
      name: 'auth-sts-stream',
      config: builtinConfig({
        access: defaultAccess({
          principals: [
            { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
            {
              role: APP_ROLE,
              trust_policy: trustPolicy([iamArn(E2E_CLIENT)]),
              policies: [allowPolicy(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], modelArn(BUILTIN_MODEL))],
            },
          ],
        }),
      }),
    });
    try {
      const stsClient = track(new STSClient({ region: REGION, endpoint: gw2.url, credentials: { ...gw2.credentials }, maxAttempts: 1 }));
      const assumed = await stsClient.send(new AssumeRoleCommand({ RoleArn: APP_ROLE_ARN, RoleSessionName: 'streamer', DurationSeconds: 900 }));
      const bedrock = track(bedrockClient(gw2, { credentials: temporary(assumed) }));
      const response = await bedrock.send(
        new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'stream as role' }] }] }),
      );
      assert.equal(converseStreamText(await collectConverseStream(response)), builtinAnswer('stream as role'));
    } finally {
      await gw2.stop();
    }
  });

  test('GetCallerIdentity names the assumed role session, and the user for its own key', T, async () => {
    const assumed = await assumeAppRole(gw.credentials, 'whoami-session');
    const asRole = await sts(temporary(assumed)).send(new GetCallerIdentityCommand({}));
    assert.equal(asRole.Arn, `arn:aws:sts::${E2E_ACCOUNT}:assumed-role/${APP_ROLE}/whoami-session`);
    assert.equal(asRole.Account, E2E_ACCOUNT);
    const asUser = await sts(gw.credentials).send(new GetCallerIdentityCommand({}));
    assert.equal(asUser.Arn, iamArn(E2E_CLIENT));
    assert.equal(asUser.Account, E2E_ACCOUNT);
  });

  test('a user the trust policy does not name gets AccessDenied from STS', T, async () => {
    const key = await gw.createAccessKey('outsider');
    const outsider = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    await assertConverseWorks(track(bedrockClient(gw, { credentials: outsider })), 'outsider is a valid user');
    const err = await rejection(assumeAppRole(outsider, 'intruder'));
    assertAwsError(err, 'AccessDenied');
    assert.match(err.message, new RegExp(`${iamArn('outsider')}.*sts:AssumeRole`), err.message);
  });

  test('an identity policy allowing sts:AssumeRole does not replace the trust policy', T, async () => {
    const key = await gw.createAccessKey('self-granted');
    const selfGranted = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    const err = await rejection(assumeAppRole(selfGranted, 'self-granted'));
    assertAwsError(err, 'AccessDenied');
    assert.match(err.message, new RegExp(`${iamArn('self-granted')}.*sts:AssumeRole`), err.message);

    // A trust policy naming the account lets in exactly the account's callers whose own policy
    // allows sts:AssumeRole: self-granted, not e2e-client.
    const assume = (credentials, name) =>
      sts(credentials).send(new AssumeRoleCommand({ RoleArn: iamArn('account-role', 'role'), RoleSessionName: name, DurationSeconds: 900 }));
    const assumed = await assume(selfGranted, 'via-account-trust');
    assert.equal(assumed.AssumedRoleUser.Arn, `arn:aws:sts::${E2E_ACCOUNT}:assumed-role/account-role/via-account-trust`);
    await assertConverseWorks(track(bedrockClient(gw, { credentials: temporary(assumed) })), 'via account trust');
    assertAwsError(await rejection(assume(gw.credentials, 'no-identity-allow')), 'AccessDenied');
  });

  test('STS refuses a wrong secret with SignatureDoesNotMatch and an unknown key with InvalidClientTokenId', T, async () => {
    const wrong = await rejection(
      sts({ accessKeyId: gw.credentials.accessKeyId, secretAccessKey: 'wrong/secret/for/sts/0000000000000000' }).send(new GetCallerIdentityCommand({})),
    );
    assertAwsError(wrong, 'SignatureDoesNotMatch');
    const unknown = await rejection(
      sts({ accessKeyId: 'AKIAUNKNOWNSTSKEY000', secretAccessKey: gw.credentials.secretAccessKey }).send(new GetCallerIdentityCommand({})),
    );
    assertAwsError(unknown, 'InvalidClientTokenId');
  });

  test('revoking the access key a session was made with ends the session', T, async () => {
    const key = await gw.createAccessKey(E2E_CLIENT);
    const assumed = await assumeAppRole({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, 'doomed');
    const bedrock = track(bedrockClient(gw, { credentials: temporary(assumed) }));
    await assertConverseWorks(bedrock, 'session alive');
    const revoked = await gw.cli(['credentials', 'revoke', key.accessKeyId, '--config', gw.configFile]);
    assert.equal(revoked.code, 0, `credentials revoke: ${revoked.stderr}${revoked.stdout}`);
    assertAwsError(await rejection(bedrock.send(converse('session over'))), 'UnrecognizedClientException');
  });

  test('a session token sealed like the gateway\'s works while valid and is ExpiredTokenException once expired', T, async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = (keys, exp) => ({
      v: 1,
      role: APP_ROLE_ARN,
      session: 's',
      exp,
      iat: now - 1000,
      tags: {},
      src: '',
      policy: '',
      origin: iamArn(E2E_CLIENT),
      origin_key: gw.credentials.accessKeyId,
      tenant: '',
      secret: keys.secretAccessKey,
    });
    // The control: the same recipe with an expiry in the future is accepted, so the refusal
    // below is about the expiry and not about how the token was made.
    const live = craftedSessionKeys();
    const liveToken = sealSessionToken(rootKey, live.accessKeyId, claims(live, now + 600));
    await assertConverseWorks(track(bedrockClient(gw, { credentials: { ...live, sessionToken: liveToken } })), 'crafted session');

    const dead = craftedSessionKeys();
    const deadToken = sealSessionToken(rootKey, dead.accessKeyId, claims(dead, now - 60));
    const err = await rejection(track(bedrockClient(gw, { credentials: { ...dead, sessionToken: deadToken } })).send(converse('expired')));
    assertAwsError(err, 'ExpiredTokenException');
  });

  test('a tampered session token is UnrecognizedClientException', T, async () => {
    const assumed = await assumeAppRole(gw.credentials, 'tamper');
    const creds = temporary(assumed);
    await assertConverseWorks(track(bedrockClient(gw, { credentials: creds })), 'untampered');
    const sealed = Buffer.from(creds.sessionToken.slice('PRMST1'.length), 'base64');
    assert.equal(`PRMST1${sealed.toString('base64')}`, creds.sessionToken, 'the token is PRMST1 + base64');
    sealed[sealed.length - 20] ^= 0x01; // a ciphertext byte
    const tampered = { ...creds, sessionToken: `PRMST1${sealed.toString('base64')}` };
    const err = await rejection(track(bedrockClient(gw, { credentials: tampered })).send(converse('tampered')));
    assertAwsError(err, 'UnrecognizedClientException');
    // The same token presented with another access key id (the AAD) fails the same way.
    const otherId = { ...creds, accessKeyId: craftedSessionKeys().accessKeyId };
    const err2 = await rejection(track(bedrockClient(gw, { credentials: otherId })).send(converse('swapped id')));
    assertAwsError(err2, 'UnrecognizedClientException');
  });
});

// ---------------------------------------------------------------------------------------------
// Tenants

const TENANT_ROLE = 'acme-tenant';

function tenantConfig() {
  return builtinConfig({
    routes: [
      { model: BUILTIN_MODEL, upstream: 'builtin' },
      { model: OTHER_MODEL, upstream: 'builtin', upstream_model: BUILTIN_MODEL },
    ],
    access: defaultAccess({
      principals: [
        { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
        { user: 'tenant-app', policies: [allowPolicy('bedrock:InvokeModel')] },
        { user: 'tagged-app', tags: { 'perimeter:tenant': 'acme' }, policies: [allowPolicy('bedrock:InvokeModel')] },
        // May invoke and call sts:AssumeRole by its own policy, but acme-tenant does not trust it.
        { user: 'self-granted', policies: [allowPolicy(['bedrock:InvokeModel', 'sts:AssumeRole'])] },
        {
          role: TENANT_ROLE,
          trust_policy: trustPolicy([iamArn('tenant-app'), iamArn('tagged-app')]),
          // The tenant may use the echo model only, whatever its callers may do.
          policies: [allowPolicy('bedrock:InvokeModel', modelArn(BUILTIN_MODEL))],
        },
      ],
      tenants: [{ id: 'acme', role: TENANT_ROLE }],
    }),
  });
}

/** Adds `x-perimeter-tenant: tenant` at the build step, before signing, so it is a signed header. */
function withTenantHeader(client, tenant) {
  client.middlewareStack.add(
    (next) => async (args) => {
      args.request.headers['x-perimeter-tenant'] = tenant;
      return next(args);
    },
    { step: 'build', name: 'perimeterTenantHeader' },
  );
  return client;
}

describe('tenants', () => {
  let gw;
  let tenantApp;
  let taggedApp;
  const clients = [];
  const client = (credentials) => {
    const c = bedrockClient(gw, { credentials });
    clients.push(c);
    return c;
  };
  before(async () => {
    gw = await startGateway({ name: 'auth-tenants', config: tenantConfig() });
    const k1 = await gw.createAccessKey('tenant-app');
    tenantApp = { accessKeyId: k1.accessKeyId, secretAccessKey: k1.secretAccessKey };
    const k2 = await gw.createAccessKey('tagged-app');
    taggedApp = { accessKeyId: k2.accessKeyId, secretAccessKey: k2.secretAccessKey };
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await gw?.stop();
  });

  test('a request naming no tenant is AccessDeniedException "has no tenant"', T, async () => {
    const err = await rejection(client(tenantApp).send(converse('no tenant')));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, /has no tenant/);
    assert.match(err.message, new RegExp(iamArn('tenant-app')));
  });

  test('a signed x-perimeter-tenant header runs the request in the tenant and the access log says so', T, async () => {
    const c = withTenantHeader(client(tenantApp), 'acme');
    const out = await c.send(converse('as acme'));
    assert.equal(out.output.message.content[0].text, builtinAnswer('as acme'));
    const lines = await gw.waitForAccessLog((r) => r.request_id === out.$metadata.requestId);
    assert.equal(lines[0]?.tenant, 'acme', JSON.stringify(lines));
    // The tenant role allows the echo model only, although tenant-app may invoke any model.
    const err = await rejection(c.send(converse('other model', OTHER_MODEL)));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, new RegExp(`assumed-role/${TENANT_ROLE}/`), err.message);
  });

  test('an unsigned x-perimeter-tenant header is refused', T, async () => {
    const c = client(tenantApp);
    // After the signer: the header is sent but not in SignedHeaders.
    c.middlewareStack.addRelativeTo(
      (next) => async (args) => {
        args.request.headers['x-perimeter-tenant'] = 'acme';
        return next(args);
      },
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'unsignedTenantHeader' },
    );
    const err = await rejection(c.send(converse('unsigned tenant')));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, /signed/);
  });

  test('a user tagged perimeter:tenant=acme works without the header', T, async () => {
    const out = await client(taggedApp).send(converse('tagged'));
    assert.equal(out.output.message.content[0].text, builtinAnswer('tagged'));
    const lines = await gw.waitForAccessLog((r) => r.request_id === out.$metadata.requestId);
    assert.equal(lines[0]?.tenant, 'acme', JSON.stringify(lines));
  });

  test('a user tagged perimeter:tenant=acme is bound to it: a header naming another tenant is refused', T, async () => {
    const same = await withTenantHeader(client(taggedApp), 'acme').send(converse('tagged, same tenant'));
    assert.equal(same.output.message.content[0].text, builtinAnswer('tagged, same tenant'));
    const err = await rejection(withTenantHeader(client(taggedApp), 'globex').send(converse('tagged, other tenant')));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, /is bound to tenant 'acme' and cannot act for tenant 'globex'/);
  });

  test('a tenant header naming an unknown tenant is AccessDeniedException', T, async () => {
    const err = await rejection(withTenantHeader(client(tenantApp), 'globex').send(converse('wrong tenant')));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, /globex/);
  });

  test('a caller the tenant role does not trust cannot name the tenant', T, async () => {
    // e2e-client may invoke anything, but acme-tenant's trust policy does not name it.
    const err = await rejection(withTenantHeader(client(gw.credentials), 'acme').send(converse('not trusted')));
    assertAwsError(err, 'AccessDeniedException');
    assert.match(err.message, /sts:AssumeRole/);
    // Nor can a user whose own policy allows sts:AssumeRole: the trust policy must allow it.
    const key = await gw.createAccessKey('self-granted');
    const selfGranted = client({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    const err2 = await rejection(withTenantHeader(selfGranted, 'acme').send(converse('self-granted')));
    assertAwsError(err2, 'AccessDeniedException');
    assert.match(err2.message, new RegExp(`${iamArn('self-granted')}.*sts:AssumeRole`), err2.message);
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAI bearer API keys

describe('API keys at the OpenAI door', () => {
  let gw;
  before(async () => {
    gw = await startGateway({
      name: 'auth-openai',
      config: twoModelConfig(
        defaultAccess({
          principals: [
            { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
            { user: 'limited-app', policies: [allowPolicy('bedrock:InvokeModel', modelArn(OTHER_MODEL))] },
          ],
        }),
      ),
    });
  });
  after(() => gw?.stop());

  const chat = (client, model = BUILTIN_MODEL, text = 'hi') =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: text }] });

  test('a valid API key works', T, async () => {
    assert.match(gw.apiKey, /^prm_[0-9a-f]+_/);
    const r = await chat(openaiClient(gw), BUILTIN_MODEL, 'bearer hello');
    assert.equal(r.choices[0].message.content, builtinAnswer('bearer hello'));
  });

  test('a wrong key is AuthenticationError 401 invalid_api_key', T, async () => {
    const err = await rejection(chat(openaiClient(gw, { apiKey: `${gw.apiKeyId}_not-the-right-secret` })));
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    const unknown = await rejection(chat(openaiClient(gw, { apiKey: 'sk-not-a-perimeter-key' })));
    assert.ok(unknown instanceof OpenAI.AuthenticationError, `got ${unknown.constructor.name}: ${unknown.message}`);
    assert.equal(unknown.code, 'invalid_api_key');
  });

  test('a key revoked with the CLI is 401 on its next use', T, async () => {
    const key = await gw.createApiKey(E2E_CLIENT);
    const c = openaiClient(gw, { apiKey: key.apiKey });
    assert.equal((await chat(c, BUILTIN_MODEL, 'before')).choices[0].message.content, builtinAnswer('before'));
    const revoked = await gw.cli(['credentials', 'revoke', key.apiKeyId, '--config', gw.configFile]);
    assert.equal(revoked.code, 0, `credentials revoke: ${revoked.stderr}${revoked.stdout}`);
    const err = await rejection(chat(c));
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
  });

  test('a request without a key is 401 invalid_request_error', T, async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: BUILTIN_MODEL, messages: [{ role: 'user', content: 'anonymous' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json();
    assert.equal(res.status, 401, JSON.stringify(body));
    assert.equal(body.error?.type, 'invalid_request_error');
    assert.equal(body.error?.code, null);
    assert.match(body.error?.message ?? '', /API key/);
  });

  test('a model the key\'s principal may not use is PermissionDeniedError 403', T, async () => {
    const key = await gw.createApiKey('limited-app');
    const c = openaiClient(gw, { apiKey: key.apiKey });
    const err = await rejection(chat(c, BUILTIN_MODEL));
    assert.ok(err instanceof OpenAI.PermissionDeniedError, `got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, 403);
    assert.equal(err.type, 'permission_error');
    assert.match(err.message, new RegExp(`${iamArn('limited-app')}.*bedrock:InvokeModel.*${BUILTIN_MODEL.replace('.', '\\.')}`));
    const ok = await chat(c, OTHER_MODEL, 'allowed model');
    assert.equal(ok.choices[0].message.content, builtinAnswer('allowed model'));
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI's access answers against the tenant config (no gateway needed beyond its directory).

describe('CLI access answers for the tenant config', () => {
  let gw;
  before(async () => {
    gw = await startGateway({ name: 'auth-cli', config: tenantConfig() });
  });
  after(() => gw?.stop());

  const simulate = (principal, resource, extra = []) =>
    gw.cli(['policy', 'simulate', '--config', gw.configFile, '--principal', principal, '--action', 'bedrock:InvokeModel', '--resource', resource, '--json', ...extra]);

  test('policy simulate allows tenant-app in acme on the echo model and names the deciding statements', T, async () => {
    const r = await simulate('tenant-app', modelArn(BUILTIN_MODEL), ['--tenant', 'acme']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.decision, 'Allowed');
    const byPrincipal = Object.fromEntries(out.evaluations.map((e) => [`${e.principal} ${e.action}`, e]));
    assert.equal(byPrincipal[`${iamArn('tenant-app')} sts:AssumeRole`]?.decision, 'Allowed', r.stdout);
    assert.equal(byPrincipal[`${iamArn('tenant-app')} bedrock:InvokeModel`]?.decision, 'Allowed', r.stdout);
    const session = out.evaluations.find((e) => e.principal.startsWith(`arn:aws:sts::${E2E_ACCOUNT}:assumed-role/${TENANT_ROLE}/`));
    assert.equal(session?.decision, 'Allowed', r.stdout);
  });

  test('policy simulate denies the tenant role\'s other model and an untrusted caller, exit 1', T, async () => {
    const other = await simulate('tenant-app', modelArn(OTHER_MODEL), ['--tenant', 'acme']);
    assert.equal(other.code, 1, other.stderr + other.stdout);
    const o = JSON.parse(other.stdout);
    assert.equal(o.decision, 'Denied');
    const session = o.evaluations.find((e) => e.principal.includes(`assumed-role/${TENANT_ROLE}/`));
    assert.equal(session?.decision, 'ImplicitlyDenied', other.stdout);

    const untrusted = await simulate(E2E_CLIENT, modelArn(BUILTIN_MODEL), ['--tenant', 'acme']);
    assert.equal(untrusted.code, 1, untrusted.stderr + untrusted.stdout);
    const u = JSON.parse(untrusted.stdout);
    assert.equal(u.decision, 'Denied');
    const assume = u.evaluations.find((e) => e.action === 'sts:AssumeRole');
    assert.equal(assume?.decision, 'ImplicitlyDenied', untrusted.stdout);
  });

  test('access who-can lists the tenant role and exactly the two callers it trusts, not e2e-client or self-granted', T, async () => {
    const r = await gw.cli(['access', 'who-can', '--config', gw.configFile, '--action', 'bedrock:InvokeModel', '--resource', modelArn(BUILTIN_MODEL), '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((x) => x.principal).sort(), [iamArn(TENANT_ROLE, 'role'), iamArn('tagged-app'), iamArn('tenant-app')].sort());
    const role = rows.find((x) => x.type === 'role');
    assert.equal(role.tenant, 'acme');
    assert.deepEqual([...role.assumableBy].sort(), [iamArn('tagged-app'), iamArn('tenant-app')].sort());
    for (const user of rows.filter((x) => x.type === 'user')) {
      assert.equal(user.tenant, 'acme', JSON.stringify(user));
    }

    // Nobody can invoke the other model: the only tenant's role does not allow it.
    const other = await gw.cli(['access', 'who-can', '--config', gw.configFile, '--action', 'bedrock:InvokeModel', '--resource', modelArn(OTHER_MODEL), '--json']);
    assert.equal(other.code, 0, other.stderr + other.stdout);
    assert.equal(other.stdout.trim(), '');
  });
});
