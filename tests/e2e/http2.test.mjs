// HTTP/2: the AWS SDK for JavaScript's Bedrock Runtime client speaks HTTP/2 by default (h2c with
// prior knowledge on http://, ALPN h2 on https://). These tests use the client exactly as an
// application would, with no request handler override, and node's own http2 client for TLS.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';

import {
  BUILTIN_MODEL,
  REGION,
  anthropicStreamText,
  builtinAnswer,
  collectConverseStream,
  collectInvokeStream,
  converseStreamText,
  jsonBody,
  rejection,
  signedHeaders,
  utf8,
} from './lib/clients.mjs';
import { builtinConfig, makeTempDir, startGateway } from './lib/gateway.mjs';
import { makeTestPki } from './lib/pki.mjs';

function defaultClient(gw) {
  // Deliberately no requestHandler: the SDK's default (HTTP/2) transport.
  return new BedrockRuntimeClient({ region: REGION, endpoint: gw.url, credentials: { ...gw.credentials }, maxAttempts: 1 });
}

const userMessage = (text) => [{ role: 'user', content: [{ text }] }];

describe('HTTP/2 with the AWS SDK default transport (h2c)', () => {
  let gw;
  let client;
  before(async () => {
    gw = await startGateway({ name: 'h2c-gateway' });
    client = defaultClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
  });

  test('Converse answers over HTTP/2', async () => {
    const out = await client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: userMessage('over h2c') }));
    assert.equal(out.output.message.content[0].text, builtinAnswer('over h2c'));
    assert.equal(out.stopReason, 'end_turn');
    assert.ok(out.usage.outputTokens > 0);
  });

  test('InvokeModel answers over HTTP/2', async () => {
    const body = jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'h2 invoke' }] });
    const out = await client.send(new InvokeModelCommand({ modelId: BUILTIN_MODEL, contentType: 'application/json', accept: 'application/json', body }));
    assert.equal(JSON.parse(utf8(out.body)).content[0].text, builtinAnswer('h2 invoke'));
  });

  test('ConverseStream and InvokeModelWithResponseStream stream over HTTP/2', async () => {
    const cs = await client.send(new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: userMessage('stream h2') }));
    const events = await collectConverseStream(cs);
    assert.equal(converseStreamText(events), builtinAnswer('stream h2'));
    const body = jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'chunks h2' }] });
    const is = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: BUILTIN_MODEL, contentType: 'application/json', body }));
    assert.equal(anthropicStreamText(await collectInvokeStream(is)), builtinAnswer('chunks h2'));
  });

  test('concurrent requests share one HTTP/2 connection and all succeed', async () => {
    const texts = Array.from({ length: 12 }, (_, i) => `parallel ${i}`);
    const outs = await Promise.all(
      texts.map((t) => client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: userMessage(t) }))),
    );
    outs.forEach((o, i) => assert.equal(o.output.message.content[0].text, builtinAnswer(texts[i])));
  });

  test('errors keep their Bedrock types over HTTP/2', async () => {
    const err = await rejection(client.send(new ConverseCommand({ modelId: 'no.such-model', messages: userMessage('x') })));
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.$metadata.httpStatusCode, 404);
    const bad = await rejection(client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [] })));
    assert.equal(bad.name, 'ValidationException');
  });

  test('the access log records HTTP/2 requests like HTTP/1.1 ones', async () => {
    await client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: userMessage('logged secret words') }));
    const lines = await gw.waitForAccessLog((l) => l.operation === 'Converse' && l.status === 200);
    assert.ok(lines.length > 0, 'an access-log line for the HTTP/2 Converse');
    assert.ok(lines.at(-1).bytes_out > 0);
    assert.equal(lines.at(-1).tenant, null);
    assert.ok(!JSON.stringify(gw.accessLog()).includes('logged secret words'));
  });
});

describe('HTTP/2 over TLS (ALPN h2)', () => {
  let gw;
  let pki;
  before(async () => {
    const dir = makeTempDir();
    pki = makeTestPki(dir);
    gw = await startGateway({
      dir,
      name: 'h2-tls-gateway',
      config: builtinConfig({
        listeners: [{ name: 'tls', address: '127.0.0.1', port: 0, tls: { certificate: pki.certFile, private_key: pki.keyFile } }],
      }),
    });
  });
  after(async () => gw?.stop());

  test('a client offering h2 gets HTTP/2 and a Converse answer', async () => {
    assert.match(gw.url, /^https:/);
    const session = http2.connect(gw.url, { ca: readFileSync(pki.caFile) });
    try {
      await new Promise((resolve, reject) => {
        session.once('connect', resolve);
        session.once('error', reject);
      });
      assert.equal(session.alpnProtocol, 'h2');
      const path = `/model/${BUILTIN_MODEL}/converse`;
      const requestBody = JSON.stringify({ messages: userMessage('tls h2') });
      const { host, ...signed } = await signedHeaders(gw, { path, headers: { 'content-type': 'application/json' }, body: requestBody });
      const req = session.request({ ':method': 'POST', ':path': path, ':authority': host, ...signed });
      req.end(requestBody);
      const [headers, body] = await new Promise((resolve, reject) => {
        let h;
        let b = '';
        req.on('response', (hh) => (h = hh));
        req.setEncoding('utf8');
        req.on('data', (d) => (b += d));
        req.on('end', () => resolve([h, b]));
        req.on('error', reject);
      });
      assert.equal(headers[':status'], 200);
      assert.ok(headers['x-amzn-requestid']);
      assert.equal(JSON.parse(body).output.message.content[0].text, builtinAnswer('tls h2'));
    } finally {
      session.close();
    }
  });
});
