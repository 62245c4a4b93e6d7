// The KMS front door and tenant keys, driven by the real @aws-sdk/client-kms (and client-sts for
// the tenant sessions): a session of tenant A's role encrypts, decrypts and generates data keys
// with A's key, is refused B's key by B's key policy, and cannot open B's ciphertexts; the
// encryption context must match exactly; keys the CLI disables or schedules for deletion stop
// working at once; and every key use lands in the key audit log without any plaintext.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';

import { BUILTIN_MODEL, REGION, bedrockClient, rejection } from './lib/clients.mjs';
import { E2E_ACCOUNT, E2E_CLIENT, allowPolicy, builtinConfig, defaultAccess, iamArn, startGateway } from './lib/gateway.mjs';

const T = { timeout: 30_000 };
const trustPolicy = (arns) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: arns }, Action: 'sts:AssumeRole' }],
});
const ctx = (tenant) => ({ tenant, purpose: 'app-data' });

describe('KMS front door with tenant keys (@aws-sdk/client-kms)', () => {
  let gw;
  const clients = [];
  const track = (c) => {
    clients.push(c);
    return c;
  };
  const kms = (credentials) =>
    track(new KMSClient({ region: REGION, endpoint: gw.url, credentials: { ...credentials }, maxAttempts: 1 }));
  let tenantA; // KMS client with a session of tenant-a's role
  let tenantB;
  let sessionB; // the credentials of tenantB

  async function sessionOf(role, user) {
    const key = await gw.createAccessKey(user);
    const sts = track(new STSClient({ region: REGION, endpoint: gw.url, credentials: key, maxAttempts: 1 }));
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: iamArn(role, 'role'), RoleSessionName: `${user}-session`, DurationSeconds: 900 }),
    );
    return {
      accessKeyId: out.Credentials.AccessKeyId,
      secretAccessKey: out.Credentials.SecretAccessKey,
      sessionToken: out.Credentials.SessionToken,
    };
  }

  before(async () => {
    gw = await startGateway({
      name: 'kms',
      config: builtinConfig({
        access: defaultAccess({
          principals: [
            { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
            { user: 'alice', policies: [allowPolicy('sts:AssumeRole')] },
            { user: 'bob', policies: [allowPolicy('sts:AssumeRole')] },
            // Each tenant role may use KMS as far as its own policy goes: the key policies decide.
            { role: 'tenant-a', trust_policy: trustPolicy([iamArn('alice')]), policies: [allowPolicy(['kms:*', 'bedrock:*'])] },
            { role: 'tenant-b', trust_policy: trustPolicy([iamArn('bob')]), policies: [allowPolicy(['kms:*', 'bedrock:*'])] },
          ],
          tenants: [
            { id: 'a', role: 'tenant-a' },
            { id: 'b', role: 'tenant-b' },
          ],
        }),
      }),
    });
    tenantA = kms(await sessionOf('tenant-a', 'alice'));
    sessionB = await sessionOf('tenant-b', 'bob');
    tenantB = kms(sessionB);
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    await gw?.stop();
  });

  test('a tenant session encrypts and decrypts with its own key; the context must match', T, async () => {
    const enc = await tenantA.send(
      new EncryptCommand({ KeyId: 'alias/perimeter/tenant/a', Plaintext: Buffer.from('card on file'), EncryptionContext: ctx('a') }),
    );
    assert.match(enc.KeyId, new RegExp(`^arn:aws:kms:eu-west-1:${E2E_ACCOUNT}:key/[0-9a-f-]{36}$`));
    assert.equal(Buffer.from(enc.CiphertextBlob).subarray(0, 3).toString(), 'PKC');
    const dec = await tenantA.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx('a') }));
    assert.equal(Buffer.from(dec.Plaintext).toString(), 'card on file');
    assert.equal(dec.KeyId, enc.KeyId);

    const wrongContext = await rejection(
      tenantA.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { ...ctx('a'), purpose: 'other' } })),
    );
    assert.equal(wrongContext.name, 'InvalidCiphertextException', wrongContext.message);
    assert.equal(wrongContext.$metadata.httpStatusCode, 400);
  });

  test("tenant A's session is refused tenant B's key by B's key policy, in any context", T, async () => {
    for (const context of [ctx('a'), ctx('b')]) {
      const err = await rejection(
        tenantA.send(new EncryptCommand({ KeyId: 'alias/perimeter/tenant/b', Plaintext: Buffer.from('x'), EncryptionContext: context })),
      );
      assert.equal(err.name, 'AccessDeniedException', err.message);
      assert.match(err.message, /assumed-role\/tenant-a\/alice-session is not authorized to perform: kms:Encrypt/);
    }
    // Its own key with another tenant in the context is refused too: the policy pins the tenant.
    const pinned = await rejection(
      tenantA.send(new EncryptCommand({ KeyId: 'alias/perimeter/tenant/a', Plaintext: Buffer.from('x'), EncryptionContext: ctx('b') })),
    );
    assert.equal(pinned.name, 'AccessDeniedException', pinned.message);
  });

  test("B's ciphertexts do not open in A's session, and KeyId pins the expected key", T, async () => {
    const encB = await tenantB.send(
      new EncryptCommand({ KeyId: 'alias/perimeter/tenant/b', Plaintext: Buffer.from('b-secret'), EncryptionContext: ctx('b') }),
    );
    const stolen = await rejection(tenantA.send(new DecryptCommand({ CiphertextBlob: encB.CiphertextBlob, EncryptionContext: ctx('b') })));
    assert.equal(stolen.name, 'AccessDeniedException', stolen.message);
    const pinnedKey = await rejection(
      tenantB.send(
        new DecryptCommand({ CiphertextBlob: encB.CiphertextBlob, EncryptionContext: ctx('b'), KeyId: 'alias/perimeter/tenant/a' }),
      ),
    );
    assert.equal(pinnedKey.name, 'IncorrectKeyException', pinnedKey.message);
    const own = await tenantB.send(new DecryptCommand({ CiphertextBlob: encB.CiphertextBlob, EncryptionContext: ctx('b') }));
    assert.equal(Buffer.from(own.Plaintext).toString(), 'b-secret');
  });

  test('GenerateDataKey and ReEncrypt across a rotation', T, async () => {
    const both = await rejection(
      tenantA.send(
        new GenerateDataKeyCommand({ KeyId: 'alias/perimeter/tenant/a', KeySpec: 'AES_256', NumberOfBytes: 32, EncryptionContext: ctx('a') }),
      ),
    );
    assert.equal(both.name, 'ValidationException', both.message);
    assert.match(both.message, /either KeySpec or NumberOfBytes/);
    const dk = await tenantA.send(new GenerateDataKeyCommand({ KeyId: 'alias/perimeter/tenant/a', KeySpec: 'AES_256', EncryptionContext: ctx('a') }));
    assert.equal(dk.Plaintext.length, 32);
    const rotated = await gw.cli(['keys', 'rotate', 'alias/perimeter/tenant/a', '--json', '--config', gw.configFile]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).currentVersion, 2);
    // The old data key still opens (version 1 keeps decrypting), and ReEncrypt moves it forward.
    const opened = await tenantA.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx('a') }));
    assert.deepEqual(Buffer.from(opened.Plaintext), Buffer.from(dk.Plaintext));
    const moved = await tenantA.send(
      new ReEncryptCommand({
        CiphertextBlob: dk.CiphertextBlob,
        SourceEncryptionContext: ctx('a'),
        DestinationKeyId: 'alias/perimeter/tenant/a',
        DestinationEncryptionContext: ctx('a'),
      }),
    );
    // The version is the 4 bytes after "PKC" 0x01, the key id length and the 36-byte key id.
    const blob = Buffer.from(moved.CiphertextBlob);
    assert.equal(blob.readUInt32BE(4 + 1 + blob[4]), 2);
    const described = await tenantA.send(new DescribeKeyCommand({ KeyId: 'alias/perimeter/tenant/a' }));
    assert.equal(described.KeyMetadata.KeyState, 'Enabled');
    assert.equal(described.KeyMetadata.KeyManager, 'CUSTOMER');
  });

  test('a key the CLI disables, then a tenant it deletes, stop working at once', T, async () => {
    const enc = await tenantB.send(
      new EncryptCommand({ KeyId: 'alias/perimeter/tenant/b', Plaintext: Buffer.from('soon gone'), EncryptionContext: ctx('b') }),
    );
    const bedrockB = track(bedrockClient(gw, { credentials: sessionB }));
    const converse = () => bedrockB.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    await converse(); // the tenant is served while it exists
    const disabled = await gw.cli(['keys', 'disable', 'alias/perimeter/tenant/b', '--config', gw.configFile]);
    assert.equal(disabled.code, 0, disabled.stderr);
    const err = await rejection(tenantB.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx('b') })));
    assert.equal(err.name, 'DisabledException', err.message);
    assert.equal((await gw.cli(['keys', 'enable', 'alias/perimeter/tenant/b', '--config', gw.configFile])).code, 0);
    await tenantB.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx('b') }));

    const deleted = await gw.cli(['tenants', 'delete', 'b', '--pending-window-days', '7', '--config', gw.configFile]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await rejection(tenantB.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx('b') })));
    assert.equal(gone.name, 'KMSInvalidStateException', gone.message);
    assert.match(gone.message, /pending deletion/);
    // And no model request runs in the deleted tenant any more.
    const refused = await rejection(converse());
    assert.equal(refused.name, 'AccessDeniedException', refused.message);
    assert.match(refused.message, /tenant 'b' was deleted/);
  });

  test('every key use is in the audit trail, without plaintext', T, async () => {
    const queried = await gw.cli(['audit', 'query', '--event-name', 'Encrypt', '--config', gw.configFile]);
    assert.equal(queried.code, 0, queried.stderr);
    const decrypts = await gw.cli(['audit', 'query', '--event-name', 'Decrypt', '--config', gw.configFile]);
    assert.equal(decrypts.code, 0, decrypts.stderr);
    const log = queried.stdout + decrypts.stdout;
    assert.ok(!log.includes('card on file') && !log.includes('b-secret') && !log.includes('soon gone'));
    const events = log.trim().split('\n').map((l) => JSON.parse(l));
    const denied = events.find(
      (e) =>
        e.eventName === 'Encrypt' &&
        e.tenantId === 'b' &&
        e.errorCode === 'AccessDeniedException' &&
        /tenant-a/.test(e.userIdentity.arn),
    );
    assert.ok(denied, 'the refused cross-tenant Encrypt is recorded');
    // The KMS front door's own request record lists the keys it used, and the key use names the
    // request it served.
    assert.ok(denied.requestID, 'the key use names its request');
    const used = events.find((e) => e.eventName === 'Decrypt' && e.tenantId === 'a' && !e.errorCode);
    assert.ok(used, 'a successful Decrypt is recorded');
    assert.deepEqual(used.requestParameters.encryptionContext, ctx('a'));
  });
});
