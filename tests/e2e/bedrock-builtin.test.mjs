// The Bedrock Runtime front door with the built-in model, driven by the real AWS SDK.
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
  builtinAnswer,
  collectConverseStream,
  collectInvokeStream,
  converseEventKinds,
  converseStreamText,
  firstWords,
  jsonBody,
  rejection,
  utf8,
  wordCount,
} from './lib/clients.mjs';
import { startGateway } from './lib/gateway.mjs';

function anthropicBody(messages, extra = {}) {
  return jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 256, messages, ...extra });
}

async function invoke(client, body, modelId = BUILTIN_MODEL) {
  const out = await client.send(
    new InvokeModelCommand({ modelId, contentType: 'application/json', accept: 'application/json', body }),
  );
  return JSON.parse(utf8(out.body));
}

describe('bedrock front door, builtin model', () => {
  let gw;
  let client;
  before(async () => {
    gw = await startGateway({ name: 'builtin-gateway' });
    client = bedrockClient(gw);
  });
  after(async () => {
    client?.destroy();
    await gw?.stop();
  });

  test('InvokeModel answers in the Anthropic messages shape with usage in words', async () => {
    const said = 'hello from the aws sdk';
    const expected = builtinAnswer(said);
    const json = await invoke(client, anthropicBody([{ role: 'user', content: said }]));
    assert.equal(json.type, 'message');
    assert.equal(json.role, 'assistant');
    assert.equal(typeof json.id, 'string');
    assert.ok(json.id.length > 0, 'id must be non-empty');
    assert.deepEqual(json.content, [{ type: 'text', text: expected }]);
    assert.equal(json.stop_reason, 'end_turn');
    assert.equal(json.stop_sequence, null);
    assert.deepEqual(json.usage, { input_tokens: 5, output_tokens: wordCount(expected) });
  });

  test('InvokeModel reads content blocks, the system prompt and answers the last user turn', async () => {
    const json = await invoke(
      client,
      anthropicBody(
        [
          { role: 'user', content: [{ type: 'text', text: 'first question here' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'an answer' }] },
          { role: 'user', content: [{ type: 'text', text: 'second one' }] },
        ],
        { system: 'you are terse' },
      ),
    );
    const expected = builtinAnswer('second one');
    assert.equal(json.content[0].text, expected);
    // 3 (system) + 3 + 2 + 2 words.
    assert.deepEqual(json.usage, { input_tokens: 10, output_tokens: wordCount(expected) });
  });

  test('InvokeModelWithResponseStream streams one delta per word that add up to the InvokeModel text', async () => {
    const said = 'stream this please';
    const body = anthropicBody([{ role: 'user', content: said }]);
    const plain = await invoke(client, body);
    const response = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: BUILTIN_MODEL, contentType: 'application/json', body }),
    );
    const events = await collectInvokeStream(response);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'message_start');
    assert.equal(events[0].message.role, 'assistant');
    assert.equal(types[1], 'content_block_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = events.filter((e) => e.type === 'content_block_delta');
    assert.equal(deltas.length, wordCount(plain.content[0].text), 'one text delta per word');
    assert.ok(deltas.every((e) => e.delta.type === 'text_delta'));
    assert.equal(anthropicStreamText(events), plain.content[0].text);
    const messageDelta = events.find((e) => e.type === 'message_delta');
    assert.equal(messageDelta.delta.stop_reason, 'end_turn');
    assert.equal(messageDelta.usage.output_tokens, plain.usage.output_tokens);
  });

  test('Converse answers with output.message, stopReason end_turn and usage', async () => {
    const said = 'hello converse';
    const expected = builtinAnswer(said);
    const out = await client.send(
      new ConverseCommand({
        modelId: BUILTIN_MODEL,
        system: [{ text: 'be brief' }],
        messages: [{ role: 'user', content: [{ text: said }] }],
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.output.message.role, 'assistant');
    assert.equal(out.output.message.content[0].text, expected);
    assert.equal(out.stopReason, 'end_turn');
    const outputTokens = wordCount(expected);
    assert.deepEqual(out.usage, { inputTokens: 4, outputTokens, totalTokens: 4 + outputTokens });
  });

  test('ConverseStream sends messageStart, word deltas, contentBlockStop, messageStop and metadata usage', async () => {
    const said = 'stream converse';
    const expected = builtinAnswer(said);
    const response = await client.send(
      new ConverseStreamCommand({ modelId: BUILTIN_MODEL, messages: [{ role: 'user', content: [{ text: said }] }] }),
    );
    const events = await collectConverseStream(response);
    const n = wordCount(expected);
    assert.deepEqual(converseEventKinds(events), [
      'messageStart',
      ...Array(n).fill('contentBlockDelta'),
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    assert.equal(events[0].messageStart.role, 'assistant');
    assert.equal(converseStreamText(events), expected);
    assert.equal(events.at(-2).messageStop.stopReason, 'end_turn');
    assert.deepEqual(events.at(-1).metadata.usage, { inputTokens: 2, outputTokens: n, totalTokens: 2 + n });
  });

  test('maxTokens truncates the answer to that many words with stop reason max_tokens', async () => {
    const full = builtinAnswer('truncate me');
    const converse = await client.send(
      new ConverseCommand({
        modelId: BUILTIN_MODEL,
        messages: [{ role: 'user', content: [{ text: 'truncate me' }] }],
        inferenceConfig: { maxTokens: 3 },
      }),
    );
    assert.equal(converse.output.message.content[0].text, firstWords(full, 3));
    assert.equal(converse.stopReason, 'max_tokens');
    assert.equal(converse.usage.outputTokens, 3);

    const json = await invoke(client, anthropicBody([{ role: 'user', content: 'truncate me' }], { max_tokens: 4 }));
    assert.equal(json.content[0].text, firstWords(full, 4));
    assert.equal(json.stop_reason, 'max_tokens');
    assert.equal(json.usage.output_tokens, 4);

    const stream = await client.send(
      new ConverseStreamCommand({
        modelId: BUILTIN_MODEL,
        messages: [{ role: 'user', content: [{ text: 'truncate me' }] }],
        inferenceConfig: { maxTokens: 2 },
      }),
    );
    const events = await collectConverseStream(stream);
    assert.equal(converseStreamText(events), firstWords(full, 2));
    assert.equal(events.find((e) => e.messageStop).messageStop.stopReason, 'max_tokens');

    const invokeStream = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: BUILTIN_MODEL,
        contentType: 'application/json',
        body: anthropicBody([{ role: 'user', content: 'truncate me' }], { max_tokens: 5 }),
      }),
    );
    const anthropicEvents = await collectInvokeStream(invokeStream);
    assert.equal(anthropicStreamText(anthropicEvents), firstWords(full, 5));
    assert.equal(anthropicEvents.find((e) => e.type === 'message_delta').delta.stop_reason, 'max_tokens');
  });

  test('an unknown model is ResourceNotFoundException 404 naming the model', async () => {
    const model = 'no.such-model-v9';
    const err = await rejection(
      client.send(new ConverseCommand({ modelId: model, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.match(err.message, /no\.such-model-v9/);

    const invokeErr = await rejection(invoke(client, anthropicBody([{ role: 'user', content: 'hi' }]), model));
    assert.equal(invokeErr.name, 'ResourceNotFoundException');
    assert.equal(invokeErr.$metadata.httpStatusCode, 404);

    const streamErr = await rejection(
      client.send(new ConverseStreamCommand({ modelId: model, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
    );
    assert.equal(streamErr.name, 'ResourceNotFoundException');
  });

  test('a malformed body is ValidationException 400', async () => {
    const notJson = await rejection(invoke(client, new TextEncoder().encode('this is {not json')));
    assert.equal(notJson.name, 'ValidationException');
    assert.equal(notJson.$metadata.httpStatusCode, 400);
    assert.ok(notJson.message.length > 0, 'the error must say what was wrong');

    const noMessages = await rejection(invoke(client, jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 10 })));
    assert.equal(noMessages.name, 'ValidationException');
    assert.equal(noMessages.$metadata.httpStatusCode, 400);

    const emptyConverse = await rejection(client.send(new ConverseCommand({ modelId: BUILTIN_MODEL, messages: [] })));
    assert.equal(emptyConverse.name, 'ValidationException');
    assert.equal(emptyConverse.$metadata.httpStatusCode, 400);
  });
});
