// The OpenAI front door with the built-in model, driven by the `openai` package.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import {
  BUILTIN_MODEL,
  builtinAnswer,
  collectChatStream,
  firstWords,
  openaiClient,
  rejection,
  wordCount,
} from './lib/clients.mjs';
import { startGateway } from './lib/gateway.mjs';

describe('openai front door, builtin model', () => {
  let gw;
  let client;
  before(async () => {
    gw = await startGateway({ name: 'builtin-gateway' });
    client = openaiClient(gw);
  });
  after(() => gw?.stop());

  test('chat.completions.create answers with the message, finish_reason stop and usage', async () => {
    const said = 'hello from openai';
    const expected = builtinAnswer(said);
    const r = await client.chat.completions.create({
      model: BUILTIN_MODEL,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: said },
      ],
    });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].message.content, expected);
    assert.equal(r.choices[0].finish_reason, 'stop');
    const n = wordCount(expected);
    assert.equal(r.usage?.prompt_tokens, 5);
    assert.equal(r.usage?.completion_tokens, n);
    assert.equal(r.usage?.total_tokens, 5 + n);
  });

  test('stream:true deltas add up to the plain answer; include_usage adds a final usage chunk', async () => {
    const messages = [{ role: 'user', content: 'stream to me' }];
    const plain = await client.chat.completions.create({ model: BUILTIN_MODEL, messages });

    const noUsage = await collectChatStream(
      await client.chat.completions.create({ model: BUILTIN_MODEL, messages, stream: true }),
    );
    assert.equal(noUsage.text, plain.choices[0].message.content);
    assert.ok(noUsage.chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.ok(!noUsage.chunks.some((c) => c.usage), 'no usage chunk unless stream_options.include_usage');
    const finishes = noUsage.chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
    assert.deepEqual(finishes, ['stop']);

    const withUsage = await collectChatStream(
      await client.chat.completions.create({
        model: BUILTIN_MODEL,
        messages,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.equal(withUsage.text, plain.choices[0].message.content);
    const last = withUsage.chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, plain.usage.prompt_tokens);
    assert.equal(last.usage.completion_tokens, plain.usage.completion_tokens);
    assert.equal(last.usage.total_tokens, plain.usage.total_tokens);
  });

  test('max_tokens truncates to that many words with finish_reason length', async () => {
    const r = await client.chat.completions.create({
      model: BUILTIN_MODEL,
      max_tokens: 3,
      messages: [{ role: 'user', content: 'cut me short' }],
    });
    assert.equal(r.choices[0].message.content, firstWords(builtinAnswer('cut me short'), 3));
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 3);
  });

  test('models.list contains perimeter.echo-v1', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes(BUILTIN_MODEL), `models.list returned ${JSON.stringify(ids)}`);
    assert.equal(page.data.find((m) => m.id === BUILTIN_MODEL).object, 'model');
  });

  test('an unknown model is NotFoundError 404 with code model_not_found', async () => {
    const err = await rejection(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.match(err.message, /no-such-model/);

    const streamErr = await rejection(
      client.chat.completions.create({ model: 'no-such-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.ok(streamErr instanceof OpenAI.NotFoundError, `stream: got ${streamErr.constructor.name}`);
  });

  test('embeddings on the builtin model are BadRequestError invalid_request_error', async () => {
    const err = await rejection(client.embeddings.create({ model: BUILTIN_MODEL, input: 'embed me' }));
    assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
  });

  test('errors use the OpenAI error shape on the wire', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` },
      body: '{"model": "perimeter.echo-v1", "messages": ',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = await res.json();
    assert.equal(typeof body.error?.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.ok('code' in body.error, 'error.code must be present (may be null)');
  });
});
