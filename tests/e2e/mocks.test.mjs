// The suite's own mocks, exercised with the real SDKs and no gateway. If these fail, the other
// files' verdicts about the gateway mean nothing. In particular this proves that the mock Bedrock's
// signature check accepts genuine AWS SDK signatures and refuses wrong ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';

import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import OpenAI from 'openai';

import {
  anthropicStreamText,
  collectChatStream,
  collectConverseStream,
  collectInvokeStream,
  converseEventKinds,
  converseStreamText,
  drainNotingUpstream,
  jsonBody,
  rejection,
  utf8,
} from './lib/clients.mjs';
import { builtinConfig, toYaml } from './lib/gateway.mjs';
import { MOCK_BEDROCK_TEXT, MOCK_CREDENTIALS, MOCK_REGION, startMockBedrock } from './lib/mock-bedrock.mjs';
import { mockOpenAIAnswer, startMockOpenAI } from './lib/mock-openai.mjs';

const MODEL_WITH_COLON = 'anthropic.claude-3-haiku-20240307-v1:0';

describe('mock bedrock', () => {
  let mock;
  let agent;
  const clients = [];
  const client = (credentials) => {
    const c = new BedrockRuntimeClient({
      region: MOCK_REGION,
      endpoint: mock.url,
      credentials: { ...credentials }, // the SDK annotates the object it is given
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }), // the mock speaks HTTP/1.1
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    mock = await startMockBedrock();
    agent = new https.Agent({ ca: readFileSync(mock.caFile), keepAlive: false });
  });
  after(async () => {
    clients.forEach((c) => c.destroy());
    agent.destroy();
    await mock.close();
  });

  test('accepts AWS SDK signatures for all four operations and answers them', async () => {
    const c = client({ ...MOCK_CREDENTIALS });
    const invoke = await c.send(
      new InvokeModelCommand({
        modelId: MODEL_WITH_COLON,
        contentType: 'application/json',
        body: jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'hi there' }] }),
      }),
    );
    const invokeJson = JSON.parse(utf8(invoke.body));
    assert.equal(invokeJson.content[0].text, MOCK_BEDROCK_TEXT);
    assert.deepEqual(invokeJson.usage, { input_tokens: 2, output_tokens: 4 });

    const streamed = await c.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: MODEL_WITH_COLON,
        contentType: 'application/json',
        body: jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    const events = await collectInvokeStream(streamed);
    assert.equal(anthropicStreamText(events), MOCK_BEDROCK_TEXT);
    assert.equal(events.at(-1).type, 'message_stop');

    const converse = await c.send(
      new ConverseCommand({ modelId: MODEL_WITH_COLON, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    assert.equal(converse.output.message.content[0].text, MOCK_BEDROCK_TEXT);
    assert.equal(converse.stopReason, 'end_turn');

    const cs = await c.send(
      new ConverseStreamCommand({ modelId: MODEL_WITH_COLON, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    const csEvents = await collectConverseStream(cs);
    assert.equal(converseStreamText(csEvents), MOCK_BEDROCK_TEXT);
    const kinds = converseEventKinds(csEvents);
    assert.equal(kinds[0], 'messageStart');
    assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);

    assert.deepEqual(
      mock.requests.map((r) => [r.operation, r.modelId, r.signature.ok]),
      [
        ['invoke', MODEL_WITH_COLON, true],
        ['invoke-with-response-stream', MODEL_WITH_COLON, true],
        ['converse', MODEL_WITH_COLON, true],
        ['converse-stream', MODEL_WITH_COLON, true],
      ],
    );
    // The SDK percent-encodes the colon; the mock verified the double-encoded canonical path.
    assert.equal(mock.requests[0].path, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke');
    assert.equal(mock.stats.badSignatures, 0);
  });

  test('answers InvalidSignatureException 403 to a signature made with the wrong secret', async () => {
    const before = mock.stats.badSignatures;
    const c = client({ accessKeyId: MOCK_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-right-secret' });
    const err = await rejection(
      c.send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(err.message, /signature we calculated does not match/);
    assert.equal(mock.stats.badSignatures, before + 1);
  });

  test('answers UnrecognizedClientException to an unknown access key id', async () => {
    const c = client({ accessKeyId: 'AKIDSOMEONEELSE', secretAccessKey: MOCK_CREDENTIALS.secretAccessKey });
    const err = await rejection(
      c.send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata.httpStatusCode, 403);
  });

  test('refuses a correctly signed request whose body was changed after signing', async () => {
    const url = new URL(mock.url);
    const signedBody = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'signed' }] }] });
    const sentBody = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'tampered' }] }] });
    const signer = new SignatureV4({
      credentials: MOCK_CREDENTIALS,
      region: MOCK_REGION,
      service: 'bedrock',
      sha256: HashForSigner,
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/model/m/converse',
      query: {},
      headers: { host: url.host, 'content-type': 'application/json' },
      body: signedBody,
    });
    const before = mock.stats.badSignatures;
    const { status, headers, body } = await new Promise((resolve, reject) => {
      const req = https.request(
        { host: url.hostname, port: url.port, path: '/model/m/converse', method: 'POST', headers: signed.headers, agent },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end(sentBody);
    });
    assert.equal(status, 403);
    assert.equal(headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match(JSON.parse(body).message, /signature we calculated does not match/);
    assert.equal(mock.stats.badSignatures, before + 1);
  });
});

/** node:crypto SHA-256/HMAC in @smithy's Checksum shape, for signing requests by hand. */
class HashForSigner {
  constructor(secret) {
    this.secret = secret;
    this.parts = [];
  }
  update(data) {
    this.parts.push(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
  }
  async digest() {
    const crypto = await import('node:crypto');
    const h = this.secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', Buffer.from(this.secret));
    this.parts.forEach((p) => h.update(p));
    return new Uint8Array(h.digest());
  }
}

test('a delayed mock stream is seen in flight at its first delta, with no deltas pending afterwards', async (t) => {
  const openaiMock = await startMockOpenAI({ chunkDelayMs: 100 });
  t.after(() => openaiMock.close());
  const client = new OpenAI({ apiKey: 'k', baseURL: openaiMock.baseURL, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] });
  const chat = await drainNotingUpstream(stream, (c) => Boolean(c.choices?.[0]?.delta?.content), openaiMock);
  assert.equal(chat.upstreamBusyAtFirstDelta, true);
  assert.equal(openaiMock.requests.at(-1).deltasPending, 0);

  const bedrockMock = await startMockBedrock({ chunkDelayMs: 100 });
  t.after(() => bedrockMock.close());
  const agent = new https.Agent({ ca: readFileSync(bedrockMock.caFile) });
  t.after(() => agent.destroy());
  const bedrock = new BedrockRuntimeClient({
    region: MOCK_REGION,
    endpoint: bedrockMock.url,
    credentials: { ...MOCK_CREDENTIALS },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  });
  t.after(() => bedrock.destroy());
  const response = await bedrock.send(
    new ConverseStreamCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
  );
  const converse = await drainNotingUpstream(response.stream, (e) => e.contentBlockDelta, bedrockMock);
  assert.equal(converse.upstreamBusyAtFirstDelta, true);
  assert.equal(converseStreamText(converse.events), MOCK_BEDROCK_TEXT);
  assert.equal(bedrockMock.requests.at(-1).deltasPending, 0);
});

describe('mock openai', () => {
  let mock;
  let client;
  before(async () => {
    mock = await startMockOpenAI({ models: ['mock-a', 'mock-b'] });
    client = new OpenAI({ apiKey: 'k', baseURL: mock.baseURL, maxRetries: 0 });
  });
  after(() => mock.close());

  test('answers plain and streamed chat completions identically and records the requests', async () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello mock world' },
    ];
    const plain = await client.chat.completions.create({ model: 'mock-a', messages });
    const expected = mockOpenAIAnswer('hello mock world');
    assert.equal(plain.choices[0].message.content, expected);
    assert.equal(plain.choices[0].finish_reason, 'stop');
    assert.deepEqual(plain.usage, { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 });

    const stream = await client.chat.completions.create({
      model: 'mock-a',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text } = await collectChatStream(stream);
    assert.equal(text, expected);
    assert.deepEqual(chunks.at(-1).usage, plain.usage);
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.deepEqual(
      mock.requests.map((r) => [r.method, r.path, r.json?.stream ?? false]),
      [
        ['POST', '/v1/chat/completions', false],
        ['POST', '/v1/chat/completions', true],
      ],
    );
    assert.deepEqual(mock.requests[0].json.messages, messages);
  });

  test('truncates to max_tokens words with finish_reason length', async () => {
    const r = await client.chat.completions.create({ model: 'mock-a', max_tokens: 2, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.choices[0].message.content, 'mock openai');
    assert.equal(r.choices[0].finish_reason, 'length');
  });

  test('lists models and answers deterministic embeddings', async () => {
    const page = await client.models.list();
    assert.deepEqual(page.data.map((m) => m.id), ['mock-a', 'mock-b']);
    const e1 = await client.embeddings.create({ model: 'mock-a', input: ['one', 'two'] });
    const e2 = await client.embeddings.create({ model: 'mock-a', input: 'one' });
    assert.equal(e1.data.length, 2);
    assert.equal(e1.data[0].embedding.length, 8);
    assert.deepEqual(e2.data[0].embedding, e1.data[0].embedding);
    assert.notDeepEqual(e1.data[1].embedding, e1.data[0].embedding);
  });
});

test('toYaml renders a gateway config as block YAML', () => {
  const yaml = toYaml(builtinConfig({ limits: { max_body_bytes: 1024 } }));
  assert.equal(
    yaml,
    [
      'server:',
      '  state_dir: "./var"',
      '  drain_timeout: "10s"',
      '  threads: 1',
      'listeners:',
      '  - name: "main"',
      '    address: "127.0.0.1"',
      '    port: 0',
      'upstreams:',
      '  - name: "builtin"',
      '    type: "builtin"',
      'routes:',
      '  - model: "perimeter.echo-v1"',
      '    upstream: "builtin"',
      'limits:',
      '  max_body_bytes: 1024',
      '',
    ].join('\n'),
  );
});
