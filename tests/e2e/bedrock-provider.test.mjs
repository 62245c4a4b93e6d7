// The `bedrock` upstream provider against a mock Bedrock Runtime over HTTPS (test CA) that verifies
// the gateway's own SigV4 signatures.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';

import {
  BUILTIN_MODEL,
  anthropicStreamText,
  bedrockClient,
  collectConverseStream,
  collectInvokeStream,
  converseEventKinds,
  converseStreamText,
  drainNotingUpstream,
  jsonBody,
  rejection,
  utf8,
} from './lib/clients.mjs';
import { builtinConfig, makeTempDir, startGateway } from './lib/gateway.mjs';
import { MOCK_BEDROCK_TEXT, MOCK_CREDENTIALS, MOCK_REGION, startMockBedrock } from './lib/mock-bedrock.mjs';

// A colon in the id makes the gateway percent-encode the path and sign the encoded form.
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';

function bedrockUpstreamConfig(mock, { withCa = true } = {}) {
  const aws = { name: 'aws', type: 'bedrock', region: MOCK_REGION, endpoint_url: mock.url };
  if (withCa) {
    aws.ca_file = mock.caFile;
  }
  return builtinConfig({
    upstreams: [{ name: 'builtin', type: 'builtin' }, aws],
    routes: [
      { model: BUILTIN_MODEL, upstream: 'builtin' },
      { model_pattern: 'anthropic.*', upstream: 'aws' },
    ],
  });
}

function gatewayEnv(secretAccessKey = MOCK_CREDENTIALS.secretAccessKey) {
  return { AWS_ACCESS_KEY_ID: MOCK_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}

const anthropicBody = (text) =>
  jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: text }] });

describe('bedrock provider with the right credentials', () => {
  let mock;
  let gw;
  let client;
  before(async () => {
    const dir = makeTempDir();
    mock = await startMockBedrock({ dir });
    gw = await startGateway({ name: 'gateway-bedrock', dir, config: bedrockUpstreamConfig(mock), env: gatewayEnv() });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  /** The one request the mock received while running fn, which it must have accepted as signed. */
  async function signedUpstreamRequestOf(fn, operation) {
    const before = mock.requests.length;
    const result = await fn();
    const got = mock.requests.slice(before);
    assert.equal(got.length, 1, `expected one upstream request, got ${JSON.stringify(got.map((r) => r.path))}`);
    const [req] = got;
    assert.deepEqual(req.signature, { ok: true }, `the mock refused the gateway's signature: ${req.signature.reason}`);
    assert.equal(req.operation, operation);
    assert.equal(req.modelId, MODEL);
    assert.equal(req.path, `/model/${encodeURIComponent(MODEL)}/${operation}`);
    // The client signs with the key the gateway issued to e2e-client; the mock knows only the
    // gateway's own upstream key, so it accepted the request only because the gateway re-signed it.
    assert.notEqual(gw.credentials.accessKeyId, MOCK_CREDENTIALS.accessKeyId);
    assert.match(req.headers.authorization ?? '', new RegExp(`Credential=${MOCK_CREDENTIALS.accessKeyId}/`));
    assert.doesNotMatch(JSON.stringify(req.headers), new RegExp(gw.credentials.accessKeyId));
    return { result, sent: req };
  }

  test('InvokeModel is re-signed and forwarded with the same body', async () => {
    const { result, sent } = await signedUpstreamRequestOf(async () => {
      const out = await client.send(
        new InvokeModelCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('to bedrock') }),
      );
      return JSON.parse(utf8(out.body));
    }, 'invoke');
    assert.deepEqual(sent.json.messages, [{ role: 'user', content: 'to bedrock' }]);
    assert.equal(sent.json.max_tokens, 64);
    assert.deepEqual(result.content, [{ type: 'text', text: MOCK_BEDROCK_TEXT }]);
    assert.equal(result.stop_reason, 'end_turn');
    assert.deepEqual(result.usage, { input_tokens: 2, output_tokens: 4 });
  });

  test('InvokeModelWithResponseStream passes the upstream event stream through', async () => {
    const { result } = await signedUpstreamRequestOf(async () => {
      const response = await client.send(
        new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('stream it') }),
      );
      return collectInvokeStream(response);
    }, 'invoke-with-response-stream');
    assert.equal(anthropicStreamText(result), MOCK_BEDROCK_TEXT);
    assert.equal(result[0].type, 'message_start');
    assert.equal(result.at(-1).type, 'message_stop');
  });

  test('Converse is re-signed and forwarded', async () => {
    const messages = [{ role: 'user', content: [{ text: 'converse with bedrock' }] }];
    const { result, sent } = await signedUpstreamRequestOf(
      () => client.send(new ConverseCommand({ modelId: MODEL, messages, inferenceConfig: { maxTokens: 32 } })),
      'converse',
    );
    assert.deepEqual(sent.json.messages, messages);
    assert.equal(sent.json.inferenceConfig?.maxTokens, 32);
    assert.equal(result.output.message.content[0].text, MOCK_BEDROCK_TEXT);
    assert.equal(result.stopReason, 'end_turn');
    assert.deepEqual(result.usage, { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  });

  test('ConverseStream is re-signed and its events reach the client', async () => {
    const { result } = await signedUpstreamRequestOf(async () => {
      const response = await client.send(
        new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'stream converse' }] }] }),
      );
      return collectConverseStream(response);
    }, 'converse-stream');
    assert.equal(converseStreamText(result), MOCK_BEDROCK_TEXT);
    assert.deepEqual(converseEventKinds(result), [
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    assert.deepEqual(result.at(-1).metadata.usage, { inputTokens: 2, outputTokens: 4, totalTokens: 6 });
  });

  test('the mock saw only valid signatures', () => {
    assert.ok(mock.stats.goodSignatures >= 4, `good signatures: ${mock.stats.goodSignatures}`);
    assert.equal(mock.stats.badSignatures, 0, JSON.stringify(mock.requests.map((r) => r.signature)));
  });
});

describe('bedrock provider passes streams through as they arrive', () => {
  // 4 words at 300 ms each: the upstream takes ~1.2 s to finish a stream.
  let mock;
  let gw;
  let client;
  before(async () => {
    const dir = makeTempDir();
    mock = await startMockBedrock({ dir, chunkDelayMs: 300 });
    gw = await startGateway({ name: 'gateway-bedrock-slow', dir, config: bedrockUpstreamConfig(mock), env: gatewayEnv() });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  test('ConverseStream delivers the first delta while the upstream is still sending', async () => {
    const response = await client.send(
      new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
    );
    const { events, upstreamBusyAtFirstDelta } = await drainNotingUpstream(response.stream, (e) => e.contentBlockDelta, mock);
    assert.equal(converseStreamText(events), MOCK_BEDROCK_TEXT);
    assert.equal(upstreamBusyAtFirstDelta, true, 'the first delta reached the client only after the upstream had written its last one: the gateway buffers this stream');
  });

  test('InvokeModelWithResponseStream delivers the first delta while the upstream is still sending', async () => {
    const response = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('x') }),
    );
    const isDelta = (e) => e.chunk && JSON.parse(utf8(e.chunk.bytes)).type === 'content_block_delta';
    const { upstreamBusyAtFirstDelta } = await drainNotingUpstream(response.body, isDelta, mock);
    assert.equal(upstreamBusyAtFirstDelta, true, 'the first delta reached the client only after the upstream had written its last one: the gateway buffers this stream');
  });
});

describe('bedrock provider with the wrong secret key', () => {
  const WRONG_SECRET = 'wrong/secret/key/e2e/0000000000000000000000';
  let mock;
  let gw;
  let client;
  before(async () => {
    const dir = makeTempDir();
    mock = await startMockBedrock({ dir });
    gw = await startGateway({
      name: 'gateway-bedrock-wrong-secret',
      dir,
      config: bedrockUpstreamConfig(mock),
      env: gatewayEnv(WRONG_SECRET),
    });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  test('the client gets an error and the mock counted a bad signature', async () => {
    const err = await rejection(
      client.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.ok(err.$metadata?.httpStatusCode >= 400, `expected an HTTP error, got ${err.name}: ${err.message}`);
    assert.ok(mock.stats.badSignatures >= 1, 'the mock must have refused at least one signature');
    assert.equal(mock.stats.goodSignatures, 0);
    assert.equal(mock.requests.at(-1).signature.errorType, 'InvalidSignatureException');
    assert.doesNotMatch(err.message, new RegExp(WRONG_SECRET), 'the error must not echo the secret key');

    const invokeErr = await rejection(
      client.send(new InvokeModelCommand({ modelId: MODEL, contentType: 'application/json', body: anthropicBody('hi') })),
    );
    assert.ok(invokeErr.$metadata?.httpStatusCode >= 400, `got ${invokeErr.name}: ${invokeErr.message}`);
  });
});

describe('bedrock provider without the test CA', () => {
  let mock;
  let gw;
  let client;
  before(async () => {
    const dir = makeTempDir();
    mock = await startMockBedrock({ dir });
    gw = await startGateway({
      name: 'gateway-bedrock-untrusted',
      dir,
      config: bedrockUpstreamConfig(mock, { withCa: false }),
      env: gatewayEnv(),
    });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  // Meaningful together with the suite above, where the same config plus ca_file succeeds.
  test('refuses an upstream whose certificate it cannot verify, and sends it nothing', async () => {
    const err = await rejection(
      client.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.ok(err.$metadata?.httpStatusCode >= 500, `expected a 5xx, got ${err.name}: ${err.message}`);
    assert.equal(mock.requests.length, 0, 'no request may reach an unverified upstream');
  });
});
