// The `openai` upstream provider: Bedrock and OpenAI front doors translated to an OpenAI-compatible
// server (a mock that records what it got, and a second perimeter process), and an upstream that
// is down.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';

import {
  BUILTIN_MODEL,
  anthropicStreamText,
  bedrockClient,
  builtinAnswer,
  collectChatStream,
  collectConverseStream,
  collectInvokeStream,
  converseEventKinds,
  converseStreamText,
  drainNotingUpstream,
  jsonBody,
  openaiClient,
  rejection,
  utf8,
  wordCount,
} from './lib/clients.mjs';
import { builtinConfig, closedPort, startGateway } from './lib/gateway.mjs';
import { mockOpenAIAnswer, openaiContentText, startMockOpenAI } from './lib/mock-openai.mjs';

const UPSTREAM_MODEL = 'mock-upstream-model';
// The key the gateway sends upstream (from the environment variable its config names); clients
// of the gateway use the API key the gateway issued to e2e-client, which is a different one.
const UPSTREAM_KEY_ENV = 'E2E_UPSTREAM_API_KEY';
const MOCK_UPSTREAM_KEY = 'sk-e2e-upstream-key-only-the-mock-knows';
const upstreamKeyEnv = (key = MOCK_UPSTREAM_KEY) => ({ [UPSTREAM_KEY_ENV]: key });

function chainConfig(baseUrl, upstreamModel, timeouts = { connect: '2s', first_byte: '10s', total: '30s' }) {
  return builtinConfig({
    upstreams: [
      { name: 'builtin', type: 'builtin' },
      { name: 'local', type: 'openai', base_url: baseUrl, api_key_env: UPSTREAM_KEY_ENV, timeouts },
    ],
    routes: [
      { model: BUILTIN_MODEL, upstream: 'builtin' },
      { model_pattern: 'chain.*', upstream: 'local', upstream_model: upstreamModel },
    ],
  });
}

/** [{role, text}] of the messages an OpenAI request carried, whatever content form was used. */
function sentMessages(json) {
  return json.messages.map((m) => ({ role: m.role, text: openaiContentText(m.content) }));
}

function sentMaxTokens(json) {
  return json.max_completion_tokens ?? json.max_tokens;
}

describe('openai provider, upstream = mock OpenAI server', () => {
  let mock;
  let gw;
  let bedrock;
  let openai;
  before(async () => {
    mock = await startMockOpenAI({ models: [UPSTREAM_MODEL] });
    gw = await startGateway({ name: 'gateway-A', config: chainConfig(mock.baseURL, UPSTREAM_MODEL), env: upstreamKeyEnv() });
    bedrock = bedrockClient(gw);
    openai = openaiClient(gw);
  });
  after(async () => {
    bedrock?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  /** The one chat completion request the mock received while running fn. */
  async function upstreamRequestOf(fn) {
    const before = mock.requests.length;
    const result = await fn();
    const got = mock.requests.slice(before);
    assert.equal(got.length, 1, `expected one upstream request, got ${JSON.stringify(got.map((r) => r.path))}`);
    assert.equal(got[0].method, 'POST');
    assert.equal(got[0].path, '/v1/chat/completions');
    return { result, sent: got[0] };
  }

  test('Converse is translated to a chat completion for the renamed model and back', async () => {
    const { result, sent } = await upstreamRequestOf(() =>
      bedrock.send(
        new ConverseCommand({
          modelId: 'chain.mock',
          system: [{ text: 'be brief' }],
          messages: [{ role: 'user', content: [{ text: 'hello via converse' }] }],
          inferenceConfig: { maxTokens: 64 },
        }),
      ),
    );
    assert.equal(sent.json.model, UPSTREAM_MODEL);
    assert.deepEqual(sentMessages(sent.json), [
      { role: 'system', text: 'be brief' },
      { role: 'user', text: 'hello via converse' },
    ]);
    assert.equal(sentMaxTokens(sent.json), 64);
    assert.ok(!sent.json.stream, 'a non-streaming operation must not ask upstream for a stream');

    const expected = mockOpenAIAnswer('hello via converse');
    assert.equal(result.output.message.content[0].text, expected);
    assert.equal(result.stopReason, 'end_turn');
    const n = wordCount(expected);
    assert.deepEqual(result.usage, { inputTokens: 5, outputTokens: n, totalTokens: 5 + n });
  });

  test('the client credentials are not forwarded upstream', async () => {
    const { sent } = await upstreamRequestOf(() =>
      openai.chat.completions.create({ model: 'chain.mock', messages: [{ role: 'user', content: 'secret check' }] }),
    );
    assert.notEqual(gw.apiKey, MOCK_UPSTREAM_KEY);
    assert.equal(sent.headers.authorization, `Bearer ${MOCK_UPSTREAM_KEY}`, 'the gateway authenticates with its own upstream key');
    const headerText = JSON.stringify(sent.headers);
    assert.ok(!headerText.includes(gw.apiKey), `the client's API key reached the upstream: ${headerText}`);
    assert.ok(!headerText.includes(gw.apiKeyId), `the client's API key id reached the upstream: ${headerText}`);
  });

  test('a truncated upstream answer (finish_reason length) is stopReason max_tokens', async () => {
    const { result, sent } = await upstreamRequestOf(() =>
      bedrock.send(
        new ConverseCommand({
          modelId: 'chain.mock',
          messages: [{ role: 'user', content: [{ text: 'short' }] }],
          inferenceConfig: { maxTokens: 2 },
        }),
      ),
    );
    assert.equal(sentMaxTokens(sent.json), 2);
    assert.equal(result.output.message.content[0].text, 'mock openai');
    assert.equal(result.stopReason, 'max_tokens');
  });

  test('ConverseStream is streamed from upstream and re-framed as Bedrock events', async () => {
    const { result, sent } = await upstreamRequestOf(async () =>
      collectConverseStream(
        await bedrock.send(
          new ConverseStreamCommand({
            modelId: 'chain.mock',
            messages: [{ role: 'user', content: [{ text: 'stream via converse' }] }],
          }),
        ),
      ),
    );
    assert.equal(sent.json.model, UPSTREAM_MODEL);
    assert.equal(sent.json.stream, true, 'streaming must be passed through to the upstream');
    const expected = mockOpenAIAnswer('stream via converse');
    assert.equal(converseStreamText(result), expected);
    const kinds = converseEventKinds(result);
    assert.equal(kinds[0], 'messageStart');
    assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
    assert.equal(result.at(-2).messageStop.stopReason, 'end_turn');
    const n = wordCount(expected);
    assert.deepEqual(result.at(-1).metadata.usage, { inputTokens: 3, outputTokens: n, totalTokens: 3 + n });
  });

  test('InvokeModel (Anthropic body) is translated to a chat completion and back', async () => {
    const { result, sent } = await upstreamRequestOf(async () => {
      const out = await bedrock.send(
        new InvokeModelCommand({
          modelId: 'chain.mock',
          contentType: 'application/json',
          body: jsonBody({
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 100,
            system: 'you are a mock',
            messages: [{ role: 'user', content: [{ type: 'text', text: 'hello via invoke' }] }],
          }),
        }),
      );
      return JSON.parse(utf8(out.body));
    });
    assert.equal(sent.json.model, UPSTREAM_MODEL);
    assert.deepEqual(sentMessages(sent.json), [
      { role: 'system', text: 'you are a mock' },
      { role: 'user', text: 'hello via invoke' },
    ]);
    assert.equal(sentMaxTokens(sent.json), 100);
    const expected = mockOpenAIAnswer('hello via invoke');
    assert.equal(result.type, 'message');
    assert.deepEqual(result.content, [{ type: 'text', text: expected }]);
    assert.equal(result.stop_reason, 'end_turn');
    assert.deepEqual(result.usage, { input_tokens: 7, output_tokens: wordCount(expected) });
  });

  test('InvokeModelWithResponseStream is streamed from upstream as Anthropic chunk events', async () => {
    const { result, sent } = await upstreamRequestOf(async () =>
      collectInvokeStream(
        await bedrock.send(
          new InvokeModelWithResponseStreamCommand({
            modelId: 'chain.mock',
            contentType: 'application/json',
            body: jsonBody({
              anthropic_version: 'bedrock-2023-05-31',
              max_tokens: 100,
              messages: [{ role: 'user', content: 'stream via invoke' }],
            }),
          }),
        ),
      ),
    );
    assert.equal(sent.json.stream, true, 'streaming must be passed through to the upstream');
    assert.equal(anthropicStreamText(result), mockOpenAIAnswer('stream via invoke'));
    assert.equal(result[0].type, 'message_start');
    assert.equal(result.at(-1).type, 'message_stop');
    assert.equal(result.find((e) => e.type === 'message_delta').delta.stop_reason, 'end_turn');
  });

  test('chat completions are forwarded with the renamed model, plain and streamed', async () => {
    const messages = [
      { role: 'system', content: 'be nice' },
      { role: 'user', content: 'hello via openai' },
    ];
    const expected = mockOpenAIAnswer('hello via openai');
    const { result: plain, sent } = await upstreamRequestOf(() =>
      openai.chat.completions.create({ model: 'chain.mock', messages, max_tokens: 50 }),
    );
    assert.equal(sent.json.model, UPSTREAM_MODEL);
    assert.deepEqual(sentMessages(sent.json), [
      { role: 'system', text: 'be nice' },
      { role: 'user', text: 'hello via openai' },
    ]);
    assert.equal(sentMaxTokens(sent.json), 50);
    assert.equal(plain.choices[0].message.content, expected);
    assert.equal(plain.choices[0].finish_reason, 'stop');
    assert.equal(plain.usage.prompt_tokens, 5);
    assert.equal(plain.usage.completion_tokens, wordCount(expected));

    const { result: streamed, sent: sentStream } = await upstreamRequestOf(async () =>
      collectChatStream(
        await openai.chat.completions.create({
          model: 'chain.mock',
          messages,
          stream: true,
          stream_options: { include_usage: true },
        }),
      ),
    );
    assert.equal(sentStream.json.stream, true);
    assert.equal(streamed.text, expected);
    assert.equal(streamed.chunks.at(-1).usage?.completion_tokens, wordCount(expected));
  });
});

describe('openai provider passes streams through as they arrive', () => {
  // 7 words at 250 ms each: the upstream takes ~1.75 s to finish a stream.
  let mock;
  let gw;
  let bedrock;
  let openai;
  before(async () => {
    mock = await startMockOpenAI({ models: [UPSTREAM_MODEL], chunkDelayMs: 250 });
    gw = await startGateway({
      name: 'gateway-A (slow upstream)',
      config: chainConfig(mock.baseURL, UPSTREAM_MODEL),
      env: upstreamKeyEnv(),
    });
    bedrock = bedrockClient(gw);
    openai = openaiClient(gw);
  });
  after(async () => {
    bedrock?.destroy();
    await gw?.stop();
    await mock?.close();
  });

  test('ConverseStream delivers the first delta while the upstream is still sending', async () => {
    const response = await bedrock.send(
      new ConverseStreamCommand({ modelId: 'chain.slow', messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
    );
    const { events, upstreamBusyAtFirstDelta } = await drainNotingUpstream(response.stream, (e) => e.contentBlockDelta, mock);
    assert.equal(converseStreamText(events), mockOpenAIAnswer('x'));
    assert.equal(upstreamBusyAtFirstDelta, true, 'the first delta reached the client only after the upstream had written its last one: the gateway buffers this stream');
  });

  test('InvokeModelWithResponseStream delivers the first delta while the upstream is still sending', async () => {
    const response = await bedrock.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: 'chain.slow',
        contentType: 'application/json',
        body: jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }),
      }),
    );
    const isDelta = (e) => e.chunk && JSON.parse(utf8(e.chunk.bytes)).type === 'content_block_delta';
    const { upstreamBusyAtFirstDelta } = await drainNotingUpstream(response.body, isDelta, mock);
    assert.equal(upstreamBusyAtFirstDelta, true, 'the first delta reached the client only after the upstream had written its last one: the gateway buffers this stream');
  });

  test('streamed chat completions deliver the first delta while the upstream is still sending', async () => {
    const stream = await openai.chat.completions.create({
      model: 'chain.slow',
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    const { events, upstreamBusyAtFirstDelta } = await drainNotingUpstream(
      stream,
      (c) => Boolean(c.choices?.[0]?.delta?.content),
      mock,
    );
    assert.equal(events.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), mockOpenAIAnswer('x'));
    assert.equal(upstreamBusyAtFirstDelta, true, 'the first delta reached the client only after the upstream had written its last one: the gateway buffers this stream');
  });
});

describe('openai provider chained to a second perimeter serving the builtin model', () => {
  let gwB;
  let gwA;
  let bedrock;
  let openai;
  before(async () => {
    gwB = await startGateway({ name: 'gateway-B (builtin)' });
    // A authenticates to B with the API key B issued to its e2e-client.
    gwA = await startGateway({
      name: 'gateway-A (chain)',
      config: chainConfig(`${gwB.url}/v1`, BUILTIN_MODEL),
      env: upstreamKeyEnv(gwB.apiKey),
    });
    bedrock = bedrockClient(gwA);
    openai = openaiClient(gwA);
  });
  after(async () => {
    bedrock?.destroy();
    await gwA?.stop();
    await gwB?.stop();
  });

  test('Converse through A reaches the builtin model on B', async () => {
    const out = await bedrock.send(
      new ConverseCommand({ modelId: 'chain.echo', messages: [{ role: 'user', content: [{ text: 'ping through two gateways' }] }] }),
    );
    const text = out.output.message.content[0].text;
    assert.match(text, /You said:/);
    assert.equal(text, builtinAnswer('ping through two gateways'));
    assert.equal(out.stopReason, 'end_turn');
    const bSaw = await gwB.waitForAccessLog((r) => r.model === BUILTIN_MODEL && Number(r.status) === 200);
    assert.ok(bSaw.length >= 1, `B's access log has no 200 for ${BUILTIN_MODEL}:\n${gwB.stdout()}`);
    // A authenticated to B with the API key B issued, not with anything of A's client.
    assert.equal(bSaw.at(-1).credential_id, gwB.apiKeyId, JSON.stringify(bSaw.at(-1)));
    assert.equal(bSaw.at(-1).principal, gwB.clientArn);
  });

  test('ConverseStream and streamed chat completions through A carry B\'s answer', async () => {
    const events = await collectConverseStream(
      await bedrock.send(
        new ConverseStreamCommand({ modelId: 'chain.echo', messages: [{ role: 'user', content: [{ text: 'stream twice' }] }] }),
      ),
    );
    assert.equal(converseStreamText(events), builtinAnswer('stream twice'));
    assert.equal(events.find((e) => e.messageStop)?.messageStop.stopReason, 'end_turn');

    const plain = await openai.chat.completions.create({
      model: 'chain.echo',
      messages: [{ role: 'user', content: 'openai twice' }],
    });
    assert.equal(plain.choices[0].message.content, builtinAnswer('openai twice'));

    const streamed = await collectChatStream(
      await openai.chat.completions.create({ model: 'chain.echo', stream: true, messages: [{ role: 'user', content: 'openai twice' }] }),
    );
    assert.equal(streamed.text, builtinAnswer('openai twice'));
  });
});

describe('openai provider with the upstream down', () => {
  let gw;
  let bedrock;
  let openai;
  before(async () => {
    const port = await closedPort();
    gw = await startGateway({
      name: 'gateway-upstream-down',
      config: chainConfig(`http://127.0.0.1:${port}/v1`, 'whatever', { connect: '1s', first_byte: '5s', total: '10s' }),
      env: upstreamKeyEnv(),
    });
    bedrock = bedrockClient(gw);
    openai = openaiClient(gw);
  });
  after(async () => {
    bedrock?.destroy();
    await gw?.stop();
  });

  test('the AWS SDK gets ServiceUnavailableException 503 that names the upstream problem', async () => {
    const err = await rejection(
      bedrock.send(new ConverseCommand({ modelId: 'chain.down', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(err.name, 'ServiceUnavailableException', `got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 503);
    assert.match(err.message, /upstream/i);

    const streamErr = await rejection(
      bedrock.send(new ConverseStreamCommand({ modelId: 'chain.down', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(streamErr.name, 'ServiceUnavailableException', `got ${streamErr.name}: ${streamErr.message}`);
  });

  test('the openai client gets a 502/503 APIError that names the upstream problem', async () => {
    const err = await rejection(
      openai.chat.completions.create({ model: 'chain.down', messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(err instanceof OpenAI.APIError, `got ${err.constructor.name}: ${err.message}`);
    assert.ok([502, 503].includes(err.status), `status ${err.status}: ${err.message}`);
    assert.match(err.message, /upstream/i);

    const streamErr = await rejection(
      openai.chat.completions.create({ model: 'chain.down', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok([502, 503].includes(streamErr.status), `stream: status ${streamErr.status}: ${streamErr.message}`);
  });

  test('the builtin route still works while that upstream is down', async () => {
    const out = await bedrock.send(
      new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'still here' }] }] }),
    );
    assert.equal(out.output.message.content[0].text, builtinAnswer('still here'));
  });
});
