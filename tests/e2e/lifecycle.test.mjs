// Process lifecycle and operational endpoints: startup line, health, metrics, access log, body
// limits, and SIGTERM (idle and with a stream in flight).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';

import { BUILTIN_MODEL, bedrockClient, builtinAnswer, openaiClient, signedHeaders } from './lib/clients.mjs';
import { builtinConfig, startGateway } from './lib/gateway.mjs';
import { mockOpenAIAnswer, startMockOpenAI } from './lib/mock-openai.mjs';

describe('a running gateway', () => {
  let gw;
  let client;
  before(async () => {
    gw = await startGateway({ name: 'lifecycle-gateway', config: builtinConfig({ limits: { max_body_bytes: 2048 } }) });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
  });

  test('announces its listener as "perimeter: listening on http://127.0.0.1:PORT (listener "main")"', () => {
    assert.match(gw.stdout(), /^perimeter: listening on http:\/\/127\.0\.0\.1:[1-9]\d* \(listener "main"\)$/m);
  });

  test('/healthz and /readyz answer 200', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 200, `${path} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer().catch(() => {});
    }
  });

  test('/metrics counts requests in perimeter_requests_total and has the latency histogram', async () => {
    await client.send(
      new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'count me' }] }] }),
    );
    const res = await fetch(`${gw.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    const counters = [...text.matchAll(/^perimeter_requests_total\{([^}]*)\} (\S+)$/gm)];
    assert.ok(counters.length > 0, `no perimeter_requests_total samples in:\n${text}`);
    const mine = counters.filter(([, labels]) => /model="perimeter\.echo-v1"/.test(labels) && /status="200"/.test(labels));
    assert.ok(mine.length > 0, `no sample for model perimeter.echo-v1 status 200 in:\n${counters.map((m) => m[0]).join('\n')}`);
    assert.ok(mine.reduce((n, m) => n + Number(m[2]), 0) >= 1);
    for (const [, labels] of mine) {
      for (const label of ['operation', 'model', 'status', 'tenant']) {
        assert.match(labels, new RegExp(`\\b${label}="`), `label ${label} missing in {${labels}}`);
      }
    }
    assert.match(text, /^perimeter_request_duration_seconds_bucket\{.*le="\+Inf".*\} \d+/m);
    assert.match(text, /^perimeter_request_duration_seconds_count\b/m);
  });

  test('writes one JSON access-log line per request on stdout, keyed by the x-amzn-RequestId it returned', async () => {
    const out = await client.send(
      new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: 'log me' }] }] }),
    );
    assert.equal(out.output.message.content[0].text, builtinAnswer('log me'));
    const requestId = out.$metadata.requestId;
    assert.ok(requestId, 'the response must carry x-amzn-RequestId, as Bedrock does');
    // The line may be written just after the response; waitForAccessLog polls for it.
    await gw.waitForAccessLog((r) => r.request_id === requestId);
    await new Promise((r) => setTimeout(r, 100)); // a duplicate line (there must be none) would show here
    const records = gw.accessLog().filter((r) => r.request_id === requestId);
    assert.equal(records.length, 1, `expected one access-log line with request_id ${requestId}, got:\n${gw.stdout()}`);
    const [rec] = records;
    for (const field of ['time', 'request_id', 'operation', 'model', 'status', 'latency_ms', 'bytes_in', 'bytes_out', 'tenant']) {
      assert.ok(field in rec, `access-log line lacks ${field}: ${JSON.stringify(rec)}`);
    }
    assert.equal(rec.model, BUILTIN_MODEL);
    assert.equal(Number(rec.status), 200);
    assert.ok(Number(rec.bytes_in) > 0, `bytes_in of a request with a body: ${JSON.stringify(rec)}`);
    assert.ok(Number(rec.bytes_out) > 0, `bytes_out of a 200 with a JSON body: ${JSON.stringify(rec)}`);
    assert.ok(!JSON.stringify(rec).includes('log me'), 'the access log must not carry prompt text');
  });

  /**
   * An authenticated POST (SigV4 for Bedrock paths, the API key for /v1), with a connection
   * dropped without an answer turned into a clear assertion failure.
   */
  async function post(path, body) {
    const headers = path.startsWith('/v1/')
      ? { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` }
      : await signedHeaders(gw, { path, headers: { 'content-type': 'application/json' }, body });
    try {
      return await fetch(`${gw.url}${path}`, { method: 'POST', headers, body });
    } catch (err) {
      assert.fail(`POST ${path} (${body.length} bytes) got no HTTP answer: ${err.message} (${err.cause?.message ?? ''})`);
    }
  }

  test('a body over limits.max_body_bytes is refused with 413 or ValidationException', async () => {
    const big = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x'.repeat(4096) }] }] });
    const res = await post(`/model/${BUILTIN_MODEL}/converse`, big);
    const text = await res.text();
    const errorType = res.headers.get('x-amzn-errortype') ?? '';
    assert.ok(
      res.status === 413 || (res.status === 400 && errorType.startsWith('ValidationException')),
      `got ${res.status} ${errorType}: ${text}`,
    );

    const chat = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: BUILTIN_MODEL, messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
    );
    const chatText = await chat.text();
    assert.ok([400, 413].includes(chat.status), `chat completions: ${chat.status}: ${chatText}`);

    // Under the limit the same request works, so the limit is what refused the big one.
    const small = await post(
      `/model/${BUILTIN_MODEL}/converse`,
      JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'small' }] }] }),
    );
    assert.equal(small.status, 200, await small.text());
  });
});

test('SIGTERM on an idle gateway exits 0', async (t) => {
  const gw = await startGateway({ name: 'idle-gateway' });
  t.after(() => (gw.proc.exitCode === null ? gw.stop({ signal: 'SIGKILL' }) : undefined));
  const res = await fetch(`${gw.url}/healthz`);
  assert.equal(res.status, 200);
  const { code, signal } = await gw.stop();
  assert.equal(signal, null, gw.describe());
  assert.equal(code, 0, gw.describe());
});

test('SIGTERM while a request waits on a slow upstream: it is answered and the process exits 0', async (t) => {
  const mock = await startMockOpenAI({ responseDelayMs: 1000 });
  t.after(() => mock.close());
  const gw = await startGateway({
    name: 'draining-gateway-plain',
    config: builtinConfig({
      upstreams: [{ name: 'slow', type: 'openai', base_url: mock.baseURL }],
      routes: [{ model_pattern: 'slow.*', upstream: 'slow', upstream_model: 'mock-upstream-model' }],
    }),
  });
  t.after(() => (gw.proc.exitCode === null ? gw.stop({ signal: 'SIGKILL' }) : undefined));
  const answer = openaiClient(gw)
    .chat.completions.create({ model: 'slow.plain', messages: [{ role: 'user', content: 'wait for me' }] })
    .then((r) => ({ r }), (error) => ({ error }));
  for (let i = 0; i < 100 && mock.requests.length === 0; i += 1) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(mock.requests.length, 1, 'the request must have reached the upstream before SIGTERM');
  const { code, signal, ms } = await gw.stop();
  const { r, error } = await answer;
  assert.equal(error, undefined, `the in-flight request failed during drain: ${error}\n${gw.describe()}`);
  assert.equal(r.choices[0].message.content, mockOpenAIAnswer('wait for me'));
  assert.equal(signal, null, gw.describe());
  assert.equal(code, 0, gw.describe());
  assert.ok(ms < 10_000, `took ${ms} ms to exit`);
});

describe('SIGTERM with a stream in flight', () => {
  // 9 words at 150 ms each: the stream takes ~1.4 s, far inside a 10 s drain.
  let mock;
  before(async () => {
    mock = await startMockOpenAI({ chunkDelayMs: 150 });
  });
  after(() => mock?.close());

  function slowConfig(drainTimeout) {
    return builtinConfig({
      server: { state_dir: './var', drain_timeout: drainTimeout, threads: 1 },
      upstreams: [
        { name: 'builtin', type: 'builtin' },
        { name: 'slow', type: 'openai', base_url: mock.baseURL, timeouts: { connect: '2s', first_byte: '10s', total: '30s' } },
      ],
      routes: [
        { model: BUILTIN_MODEL, upstream: 'builtin' },
        { model_pattern: 'slow.*', upstream: 'slow', upstream_model: 'mock-upstream-model' },
      ],
    });
  }

  /**
   * Starts a slow stream through gw, reads its first chunk and checks that `upstream` is still
   * sending (else SIGTERM would not hit a stream in flight); {rest} resolves when the stream ends.
   */
  async function startStream(gw, upstream) {
    const client = openaiClient(gw);
    const stream = await client.chat.completions.create({
      model: 'slow.stream',
      stream: true,
      messages: [{ role: 'user', content: 'drain me please' }],
    });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false, 'the stream must have started before SIGTERM');
    assert.ok(
      upstream.requests.at(-1)?.deltasPending > 0,
      'the upstream had written all its deltas before the client got its first chunk, so SIGTERM ' +
        'cannot hit a stream in flight: the gateway buffers upstream streams instead of passing them through',
    );
    const rest = (async () => {
      let text = first.value.choices[0]?.delta?.content ?? '';
      let finish = null;
      try {
        for (;;) {
          const { value, done } = await iterator.next();
          if (done) {
            return { text, finish, error: null };
          }
          text += value.choices[0]?.delta?.content ?? '';
          finish = value.choices[0]?.finish_reason ?? finish;
        }
      } catch (error) {
        return { text, finish, error };
      }
    })();
    return { rest };
  }

  test('the in-flight stream completes and the process exits 0 within the drain timeout', async (t) => {
    const gw = await startGateway({ name: 'draining-gateway', config: slowConfig('10s') });
    t.after(() => (gw.proc.exitCode === null ? gw.stop({ signal: 'SIGKILL' }) : undefined));
    const { rest } = await startStream(gw, mock);
    const stopped = gw.stop({ timeoutMs: 15_000 });
    const outcome = await rest;
    const { code, signal, ms } = await stopped;
    assert.equal(outcome.error, null, `the stream broke during drain: ${outcome.error}\n${gw.describe()}`);
    assert.equal(outcome.text, mockOpenAIAnswer('drain me please'));
    assert.equal(outcome.finish, 'stop');
    assert.equal(signal, null, gw.describe());
    assert.equal(code, 0, gw.describe());
    assert.ok(ms < 10_000 + 2_000, `took ${ms} ms to exit with a 10 s drain timeout`);
  });

  test('a stream longer than the drain timeout is cut and the process still exits 0 in time', async (t) => {
    const slowMock = await startMockOpenAI({ chunkDelayMs: 600 }); // ~5.4 s stream
    t.after(() => slowMock.close());
    const config = slowConfig('1s');
    config.upstreams[1].base_url = slowMock.baseURL;
    const gw = await startGateway({ name: 'cutting-gateway', config });
    t.after(() => (gw.proc.exitCode === null ? gw.stop({ signal: 'SIGKILL' }) : undefined));
    const { rest } = await startStream(gw, slowMock);
    const { code, signal, ms } = await gw.stop({ timeoutMs: 8_000 });
    const outcome = await rest;
    assert.equal(signal, null, gw.describe());
    assert.equal(code, 0, gw.describe());
    assert.ok(ms < 1_000 + 3_000, `took ${ms} ms to exit with a 1 s drain timeout`);
    const full = mockOpenAIAnswer('drain me please');
    assert.ok(full.startsWith(outcome.text), `the cut stream carried text that is not a prefix: ${JSON.stringify(outcome.text)}`);
    assert.notEqual(outcome.text, full, 'a 5.4 s stream cannot have finished within a 1 s drain');
  });
});
