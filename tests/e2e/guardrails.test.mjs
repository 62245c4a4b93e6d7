// Guardrails with the real SDKs: ApplyGuardrail, Converse and ConverseStream with guardrailConfig
// (blocked and anonymized input, output judged in windows while it streams, sync and async),
// InvokeModel's guardrail parameters, a policy that requires a guardrail, and the OpenAI door
// with a bound guardrail (blocked input, and an identifier the model brought in on its own).
//
// One gateway serves every test: the built-in echo model (it repeats the last user message, so
// its answer shows what the model was sent) and, for the OpenAI door, a small upstream that
// always answers the same sentence with an e-mail address nobody asked about.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  ApplyGuardrailCommand,
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
  collectChatStream,
  collectConverseStream,
  collectInvokeStream,
  converseEventKinds,
  converseStreamText,
  jsonBody,
  openaiClient,
  rejection,
  utf8,
} from './lib/clients.mjs';
import {
  E2E_ACCOUNT,
  E2E_CLIENT,
  E2E_REGION,
  allowPolicy,
  builtinConfig,
  defaultAccess,
  startGateway,
} from './lib/gateway.mjs';

const BLOCKED_INPUT = 'Sorry, I cannot take that.';
const BLOCKED_OUTPUT = 'Sorry, I cannot answer that.';
const OPENAI_BLOCKED_INPUT = 'That prompt is not allowed here.';
const OPENAI_BLOCKED_OUTPUT = 'That answer was withheld.';
const CARD = '4111 1111 1111 1111';
const CARD_GROUPS = ['4111', '1111'];
const NG_PHONE = '+234 803 123 4567';
const NG_BVN = '22123456789';
const UPSTREAM_EMAIL = 'bola.adeyemi@example.org';
const UPSTREAM_ANSWER = `You can reach our manager at ${UPSTREAM_EMAIL} any weekday.`;
const UPSTREAM_KEY_ENV = 'E2E_GUARDRAILS_UPSTREAM_KEY';
const GUARDED_APP = 'guarded-app';
const PII_ONLY_APP = 'pii-only-app';

const guardrailArn = (id) => `arn:aws:bedrock:${E2E_REGION}:${E2E_ACCOUNT}:guardrail/${id}`;

function definition(id, { blockedInput = BLOCKED_INPUT, blockedOutput = BLOCKED_OUTPUT, pii = [], words } = {}) {
  return {
    id,
    definition: {
      name: id,
      blockedInputMessaging: blockedInput,
      blockedOutputsMessaging: blockedOutput,
      sensitiveInformationPolicyConfig: { piiEntitiesConfig: pii },
      ...(words ? { wordPolicyConfig: { wordsConfig: words.map((text) => ({ text })) } } : {}),
    },
  };
}

const GUARDRAILS = {
  definitions: [
    // E-mails, phones and BVNs anonymized, cards blocked, SSNs reported only, one custom word.
    definition('pii', {
      pii: [
        { type: 'EMAIL', action: 'ANONYMIZE' },
        { type: 'PHONE', action: 'ANONYMIZE' },
        { type: 'NG_BVN', action: 'ANONYMIZE' },
        { type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCK' },
        { type: 'US_SOCIAL_SECURITY_NUMBER', action: 'NONE' },
      ],
      words: ['project falcon'],
    }),
    // Cards pass in the input and are judged in the answer only.
    definition('card-out-block', {
      pii: [{ type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCK', inputAction: 'NONE', outputAction: 'BLOCK' }],
    }),
    definition('card-out-anon', {
      pii: [{ type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'ANONYMIZE', inputAction: 'NONE', outputAction: 'ANONYMIZE' }],
    }),
    // The OpenAI door's guardrail: cards blocked, e-mails let through (so the not-in-input rule
    // decides about an address in the answer).
    definition('openai-guard', {
      blockedInput: OPENAI_BLOCKED_INPUT,
      blockedOutput: OPENAI_BLOCKED_OUTPUT,
      pii: [
        { type: 'CREDIT_DEBIT_CARD_NUMBER', action: 'BLOCK' },
        { type: 'EMAIL', action: 'NONE' },
      ],
    }),
  ],
  bindings: [{ guardrail: 'openai-guard', version: '1' }],
};

// AWS's documented pattern: may invoke models only with guardrail pii, version 1.
const REQUIRE_GUARDRAIL_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream', 'bedrock:ApplyGuardrail'],
      Resource: '*',
    },
    {
      Effect: 'Deny',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      Resource: '*',
      Condition: { StringNotEquals: { 'bedrock:GuardrailIdentifier': `${guardrailArn('pii')}:1` } },
    },
  ],
};

// May invoke models, and apply (or invoke with) guardrail pii only: ApplyGuardrail's resource is
// the guardrail's ARN.
const PII_ONLY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: '*' },
    { Effect: 'Allow', Action: 'bedrock:ApplyGuardrail', Resource: guardrailArn('pii') },
  ],
};

/**
 * An OpenAI-compatible upstream that answers every chat completion with `answer`, whatever it was
 * asked (lib/mock-openai.mjs echoes the prompt, so it cannot say something the user did not).
 * Streams one word per delta. Records the requests.
 */
async function startFixedAnswerUpstream(answer) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      requests.push({ path: req.url, body });
      if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      const id = `chatcmpl-fixed-${requests.length}`;
      const created = Math.floor(Date.now() / 1000);
      const words = answer.split(' ');
      const usage = { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length };
      if (!body.stream) {
        const text = JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: answer }, logprobs: null, finish_reason: 'stop' }],
          usage,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta, finish) => {
        const choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
        return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices })}\n\n`;
      };
      res.write(chunk({ role: 'assistant', content: '' }, null));
      words.forEach((w, i) => res.write(chunk({ content: i === 0 ? w : ` ${w}` }, null)));
      res.write(chunk({}, 'stop'));
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    baseURL: `${url}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `n` bytes (about) of words without digits. */
function filler(n) {
  const pool = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliett'];
  const out = [];
  let len = -1;
  for (let i = 0; len < n; i += 1) {
    out.push(pool[i % pool.length]);
    len += pool[i % pool.length].length + 1;
  }
  return out.join(' ');
}

/** A user message whose echo puts `value` at byte `at` of the answer, `total` bytes long in all. */
function messageWithValueAt(value, at, total) {
  const prefix = Buffer.byteLength(builtinAnswer(''));
  const head = filler(at - prefix - 1);
  const tail = filler(total - prefix - head.length - value.length - 2);
  return `${head} ${value} ${tail}`;
}

function deltaTexts(events) {
  return events.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta.delta.text);
}

/** A guardrailConfig naming version 1 of guardrail `id`. */
function gc(id, extra = {}) {
  return { guardrailIdentifier: id, guardrailVersion: '1', ...extra };
}

/** An Anthropic messages body with one user message, plus `extra` fields. */
function anthropicBody(text, extra = {}) {
  const messages = [{ role: 'user', content: text }];
  return jsonBody({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1000, messages, ...extra });
}

function invokeCommand(text, extra = {}) {
  const body = anthropicBody(text);
  return new InvokeModelCommand({ modelId: BUILTIN_MODEL, contentType: 'application/json', body, ...extra });
}

function converseWith(text, guardrailConfig, extra = {}) {
  return {
    modelId: BUILTIN_MODEL,
    messages: [{ role: 'user', content: [{ text }] }],
    ...(guardrailConfig ? { guardrailConfig } : {}),
    ...extra,
  };
}

describe('guardrails with the real SDKs', () => {
  let upstream;
  let gw;
  let client;
  let guarded;
  let piiOnly;
  let openai;

  before(async () => {
    upstream = await startFixedAnswerUpstream(UPSTREAM_ANSWER);
    const config = builtinConfig({
      upstreams: [
        { name: 'builtin', type: 'builtin' },
        { name: 'fixed', type: 'openai', base_url: upstream.baseURL, api_key_env: UPSTREAM_KEY_ENV },
      ],
      routes: [
        { model: BUILTIN_MODEL, upstream: 'builtin' },
        { model_pattern: 'fixed.*', upstream: 'fixed', upstream_model: 'fixed-model' },
      ],
      guardrails: GUARDRAILS,
      access: defaultAccess({
        principals: [
          { user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] },
          { user: GUARDED_APP, policies: [REQUIRE_GUARDRAIL_POLICY] },
          { user: PII_ONLY_APP, policies: [PII_ONLY_POLICY] },
        ],
      }),
    });
    gw = await startGateway({ name: 'guardrails-gateway', config, env: { [UPSTREAM_KEY_ENV]: 'sk-e2e-fixed-upstream' } });
    client = bedrockClient(gw);
    const key = await gw.createAccessKey(GUARDED_APP);
    guarded = bedrockClient(gw, { credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    const key2 = await gw.createAccessKey(PII_ONLY_APP);
    piiOnly = bedrockClient(gw, { credentials: { accessKeyId: key2.accessKeyId, secretAccessKey: key2.secretAccessKey } });
    openai = openaiClient(gw);
  });
  after(async () => {
    client?.destroy();
    guarded?.destroy();
    piiOnly?.destroy();
    await gw?.stop();
    await upstream?.close();
  });

  const apply = (input, c = client) => c.send(new ApplyGuardrailCommand({ ...gc('pii'), ...input }));
  const textBlock = (text, qualifiers) => ({ text: { text, ...(qualifiers ? { qualifiers } : {}) } });

  describe('ApplyGuardrail', () => {
    test('anonymizes a Nigerian phone number and a BVN, and the SDK reads the whole answer', async () => {
      const text = `Call me on ${NG_PHONE}, my BVN is ${NG_BVN}.`;
      const out = await apply({ source: 'INPUT', content: [textBlock(text)] });
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.equal(out.action, 'GUARDRAIL_INTERVENED');
      assert.deepEqual(out.outputs, [{ text: 'Call me on {PHONE}, my BVN is {NG_BVN}.' }]);
      assert.equal(out.assessments.length, 1);
      const pii = out.assessments[0].sensitiveInformationPolicy.piiEntities;
      assert.deepEqual(
        pii.map(({ type, match, action }) => ({ type, match, action })),
        [
          { type: 'PHONE', match: NG_PHONE, action: 'ANONYMIZED' },
          { type: 'NG_BVN', match: NG_BVN, action: 'ANONYMIZED' },
        ],
      );
      assert.equal(out.usage.sensitiveInformationPolicyUnits, 1);
      assert.equal(out.usage.wordPolicyUnits, 1);
      assert.deepEqual(out.guardrailCoverage, { textCharacters: { guarded: text.length, total: text.length } });
      assert.equal(out.assessments[0].invocationMetrics.guardrailCoverage.textCharacters.guarded, text.length);
    });

    test('a card is blocked with the blocked-input message; a custom word in OUTPUT with the output message', async () => {
      const card = await apply({ source: 'INPUT', content: [textBlock(`my BVN is ${NG_BVN}, charge ${CARD}`)] });
      assert.equal(card.action, 'GUARDRAIL_INTERVENED');
      assert.deepEqual(card.outputs, [{ text: BLOCKED_INPUT }]);
      const pii = card.assessments[0].sensitiveInformationPolicy.piiEntities;
      assert.deepEqual(
        pii.map(({ type, action }) => [type, action]),
        [
          ['NG_BVN', 'ANONYMIZED'],
          ['CREDIT_DEBIT_CARD_NUMBER', 'BLOCKED'],
        ],
      );
      assert.equal(pii[1].match, CARD);
      assert.ok(card.actionReason, 'an intervention has an actionReason');

      const word = await apply({ source: 'OUTPUT', content: [textBlock('All about Project Falcon, in detail.')] });
      assert.equal(word.action, 'GUARDRAIL_INTERVENED');
      assert.deepEqual(word.outputs, [{ text: BLOCKED_OUTPUT }]);
      assert.deepEqual(
        word.assessments[0].wordPolicy.customWords.map(({ match, action }) => ({ match, action })),
        [{ match: 'Project Falcon', action: 'BLOCKED' }],
      );
    });

    test('nothing to do is NONE: no outputs, unless outputScope is FULL; NONE findings are reported', async () => {
      const ssn = await apply({ source: 'INPUT', content: [textBlock('my ssn is 123-45-6789')] });
      assert.equal(ssn.action, 'NONE');
      assert.deepEqual(ssn.outputs, []);
      const [finding] = ssn.assessments[0].sensitiveInformationPolicy.piiEntities;
      assert.equal(finding.type, 'US_SOCIAL_SECURITY_NUMBER');
      assert.equal(finding.action, 'NONE');
      assert.equal(finding.match, '123-45-6789');

      const full = await apply({ source: 'INPUT', outputScope: 'FULL', content: [textBlock('hello there')] });
      assert.equal(full.action, 'NONE');
      assert.deepEqual(full.outputs, [{ text: 'hello there' }]);
    });

    test('OUTPUT judges guard_content and not the query it is given, and counts the query as coverage only', async () => {
      const query = `what is the mail of ${NG_PHONE}?`;
      const answer = 'It is ada@example.com.';
      const out = await apply({
        source: 'OUTPUT',
        outputScope: 'FULL',
        content: [textBlock(query, ['query']), textBlock(answer, ['guard_content'])],
      });
      assert.equal(out.action, 'GUARDRAIL_INTERVENED');
      const pii = out.assessments[0].sensitiveInformationPolicy.piiEntities;
      assert.deepEqual(
        pii.map(({ type, action }) => [type, action]),
        [['EMAIL', 'ANONYMIZED']],
        'the phone number in the query is not judged',
      );
      assert.ok(
        out.outputs.some((o) => o.text === 'It is {EMAIL}.'),
        `outputs: ${JSON.stringify(out.outputs)}`,
      );
      assert.deepEqual(out.guardrailCoverage.textCharacters, { guarded: answer.length, total: query.length + answer.length });
    });

    test('the guardrail ARN works as the identifier; an unknown guardrail or version is ResourceNotFoundException', async () => {
      const byArn = await client.send(
        new ApplyGuardrailCommand({
          guardrailIdentifier: guardrailArn('pii'),
          guardrailVersion: '1',
          source: 'INPUT',
          content: [textBlock(`charge ${CARD}`)],
        }),
      );
      assert.equal(byArn.action, 'GUARDRAIL_INTERVENED');
      assert.deepEqual(byArn.outputs, [{ text: BLOCKED_INPUT }]);

      const unknown = await rejection(
        apply({ guardrailIdentifier: 'no-such-guardrail', source: 'INPUT', content: [textBlock('x')] }),
      );
      assert.equal(unknown.name, 'ResourceNotFoundException', unknown.message);
      assert.equal(unknown.$metadata.httpStatusCode, 404);
      const version = await rejection(apply({ guardrailVersion: '7', source: 'INPUT', content: [textBlock('x')] }));
      assert.equal(version.name, 'ResourceNotFoundException', version.message);
    });
  });

  describe('Converse with guardrailConfig', () => {
    const pii = gc('pii', { trace: 'enabled' });

    test('blocked input: the blocked message, stopReason guardrail_intervened, the input assessment in the trace', async () => {
      const out = await client.send(new ConverseCommand(converseWith(`please charge ${CARD}`, pii)));
      assert.equal(out.stopReason, 'guardrail_intervened');
      assert.deepEqual(out.output.message.content, [{ text: BLOCKED_INPUT }]);
      const input = out.trace?.guardrail?.inputAssessment;
      assert.ok(input, `trace: ${JSON.stringify(out.trace)}`);
      const entities = input.pii.sensitiveInformationPolicy.piiEntities;
      assert.deepEqual(
        entities.map(({ type, action }) => [type, action]),
        [['CREDIT_DEBIT_CARD_NUMBER', 'BLOCKED']],
      );
      assert.ok(!JSON.stringify(out).includes(CARD), 'the trace does not repeat the blocked card');
    });

    test('anonymized input: the model is sent the placeholder, never the value', async () => {
      const out = await client.send(new ConverseCommand(converseWith('write to ada@example.com please', pii)));
      assert.equal(out.stopReason, 'end_turn');
      assert.equal(out.output.message.content[0].text, builtinAnswer('write to {EMAIL} please'));
      assert.ok(!JSON.stringify(out).includes('ada@example.com'), JSON.stringify(out));
      assert.ok(out.trace?.guardrail?.inputAssessment?.pii, `trace: ${JSON.stringify(out.trace)}`);
      assert.ok(out.trace.guardrail.outputAssessments?.pii, `trace: ${JSON.stringify(out.trace)}`);
    });

    test('trace disabled: the same anonymization, no trace', async () => {
      const out = await client.send(
        new ConverseCommand(converseWith(`ring ${NG_PHONE} now`, gc('pii'))),
      );
      assert.equal(out.output.message.content[0].text, builtinAnswer('ring {PHONE} now'));
      assert.equal(out.trace, undefined);
    });

    test('guardContent: only the marked blocks are judged on input; the answer is judged whole', async () => {
      const send = (content) =>
        client.send(new ConverseCommand({ ...converseWith('', pii), messages: [{ role: 'user', content }] }));
      // The card is outside the guarded block: the input passes and the model is called. The echo
      // model repeats the card, and the answer is judged as a whole: blocked as OUTPUT.
      const guardedText = 'all fine here';
      const outside = await send([{ text: `card ${CARD}` }, { guardContent: { text: { text: guardedText } } }]);
      assert.equal(outside.stopReason, 'guardrail_intervened');
      assert.deepEqual(outside.output.message.content, [{ text: BLOCKED_OUTPUT }], 'blocked as output, not as input');
      const input = outside.trace.guardrail.inputAssessment.pii;
      assert.deepEqual(input.sensitiveInformationPolicy?.piiEntities ?? [], [], JSON.stringify(input));
      assert.equal(input.invocationMetrics.guardrailCoverage.textCharacters.guarded, guardedText.length);
      const [output] = outside.trace.guardrail.outputAssessments.pii;
      assert.deepEqual(
        output.sensitiveInformationPolicy.piiEntities.map(({ type, action }) => [type, action]),
        [['CREDIT_DEBIT_CARD_NUMBER', 'BLOCKED']],
      );
      // The card inside the guarded block: blocked as input, the model is not called.
      const inside = await send([{ text: 'nothing to see' }, { guardContent: { text: { text: `card ${CARD}` } } }]);
      assert.equal(inside.stopReason, 'guardrail_intervened');
      assert.deepEqual(inside.output.message.content, [{ text: BLOCKED_INPUT }]);
      assert.equal(inside.trace.guardrail.outputAssessments, undefined);
    });

    test('the guardrail ARN works as guardrailIdentifier', async () => {
      const out = await client.send(
        new ConverseCommand(converseWith(`charge ${CARD}`, gc(guardrailArn('pii')))),
      );
      assert.equal(out.stopReason, 'guardrail_intervened');
    });

    test('an unknown guardrail is ResourceNotFoundException', async () => {
      const err = await rejection(
        client.send(new ConverseCommand(converseWith('hi', gc('no-such-guardrail')))),
      );
      assert.equal(err.name, 'ResourceNotFoundException', err.message);
    });
  });

  describe('ConverseStream with guardrailConfig', () => {
    // ~3 KB answer; the card straddles the second 1 KiB window boundary of the answer, and the
    // echo model sends it as four deltas ("4111", " 1111", " 1111", " 1111").
    const message = messageWithValueAt(CARD, 2040, 3072);
    const answer = builtinAnswer(message);
    const stream = (guardrailConfig, text = message) =>
      client.send(new ConverseStreamCommand(converseWith(text, guardrailConfig)));

    test('output BLOCK (sync): no delta carries a digit group of the card; it ends with the blocked message', async () => {
      assert.ok(Buffer.byteLength(message) > 2900, 'the answer spans several windows');
      const events = await collectConverseStream(
        await stream(gc('card-out-block', { trace: 'enabled' })),
      );
      const deltas = deltaTexts(events);
      for (const d of deltas) {
        for (const group of CARD_GROUPS) {
          assert.ok(!d.includes(group), `a delta carried ${group}: ${JSON.stringify(d)}`);
        }
      }
      const text = deltas.join('');
      assert.ok(!CARD_GROUPS.some((g) => text.includes(g)), 'nor does their concatenation');
      assert.ok(text.endsWith(BLOCKED_OUTPUT), `the stream ends with the blocked message: ...${text.slice(-80)}`);
      const released = text.slice(0, -BLOCKED_OUTPUT.length);
      assert.ok(released.length > 0, 'the windows before the card were released');
      assert.ok(answer.startsWith(released), 'what was released is the answer as the model wrote it');
      assert.equal(events.find((e) => e.messageStop)?.messageStop.stopReason, 'guardrail_intervened');
      const kinds = converseEventKinds(events);
      assert.equal(kinds[0], 'messageStart');
      assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
      // The trace rides on the metadata event, as in Bedrock; its output assessments never
      // repeat the card (the input assessment may: the user sent it).
      const metadata = events.find((e) => e.metadata)?.metadata;
      const outputs = metadata?.trace?.guardrail?.outputAssessments?.['card-out-block'];
      assert.ok(Array.isArray(outputs) && outputs.length > 0, JSON.stringify(metadata));
      assert.ok(
        outputs.some((a) => a.sensitiveInformationPolicy?.piiEntities?.some((p) => p.action === 'BLOCKED')),
        JSON.stringify(outputs),
      );
      assert.ok(!CARD_GROUPS.some((g) => JSON.stringify(outputs).includes(g)), JSON.stringify(outputs));
    });

    test('output ANONYMIZE (sync): the card is replaced by {CREDIT_DEBIT_CARD_NUMBER}, everything else unchanged', async () => {
      const events = await collectConverseStream(await stream(gc('card-out-anon')));
      const deltas = deltaTexts(events);
      assert.ok(deltas.length > 1, 'the answer comes in more than one delta');
      for (const d of deltas) {
        assert.ok(!CARD_GROUPS.some((g) => d.includes(g)), `a delta carried a digit group: ${JSON.stringify(d)}`);
      }
      assert.equal(deltas.join(''), answer.replace(CARD, '{CREDIT_DEBIT_CARD_NUMBER}'));
      assert.equal(events.find((e) => e.messageStop)?.messageStop.stopReason, 'end_turn');
    });

    test('input judged too: a blocked input streams the blocked-input message', async () => {
      const events = await collectConverseStream(await stream(gc('pii'), `charge ${CARD}`));
      assert.equal(converseStreamText(events), BLOCKED_INPUT);
      assert.equal(events.find((e) => e.messageStop)?.messageStop.stopReason, 'guardrail_intervened');
    });

    test('streamProcessingMode async: deltas flow at once, and the stream is stopped with the blocked message', async () => {
      // The card early in a long answer: async mode releases it, judges its window afterwards and
      // stops the stream there, before the rest of the answer.
      const early = messageWithValueAt(CARD, 300, 4096);
      const full = builtinAnswer(early);
      for (const id of ['card-out-block', 'card-out-anon']) {
        const events = await collectConverseStream(
          await stream(gc(id, { streamProcessingMode: 'async' }), early),
        );
        const text = converseStreamText(events);
        assert.ok(text.endsWith(BLOCKED_OUTPUT), `${id}: ends with the blocked message: ...${text.slice(-80)}`);
        const released = text.slice(0, -BLOCKED_OUTPUT.length);
        assert.ok(full.startsWith(released), `${id}: what was released is a prefix of the answer`);
        assert.ok(released.length < full.length, `${id}: the stream was stopped before the end of the answer`);
        assert.equal(events.find((e) => e.messageStop)?.messageStop.stopReason, 'guardrail_intervened', id);
      }
    });
  });

  describe('InvokeModel with guardrail parameters', () => {
    const params = gc('pii', { trace: 'ENABLED' });

    test('anonymized input: the body carries amazon-bedrock-guardrailAction and the trace', async () => {
      const out = await client.send(invokeCommand('mail ada@example.com', params));
      const json = JSON.parse(utf8(out.body));
      // Masking the input is an intervention, although the model answered.
      assert.equal(json['amazon-bedrock-guardrailAction'], 'INTERVENED', utf8(out.body));
      assert.equal(json.content[0].text, builtinAnswer('mail {EMAIL}'));
      assert.ok(!utf8(out.body).includes('ada@example.com'));
      assert.ok(json['amazon-bedrock-trace']?.guardrail?.inputAssessment, utf8(out.body));
    });

    test('blocked input: INTERVENED with the blocked message', async () => {
      const out = await client.send(invokeCommand(`card ${CARD}`, params));
      const json = JSON.parse(utf8(out.body));
      assert.equal(json['amazon-bedrock-guardrailAction'], 'INTERVENED', utf8(out.body));
      assert.deepEqual(json.content, [{ type: 'text', text: BLOCKED_INPUT }]);
    });

    // Bedrock's InvokeModel reference: "An error is thrown ... You don't provide a guardrail
    // identifier but you specify the amazon-bedrock-guardrailConfig field in the request body."
    // A client that sends the body's guardrail settings but forgot the header must not be served
    // unguarded without a word.
    test('amazon-bedrock-guardrailConfig in the body without a guardrail identifier is ValidationException', async () => {
      const body = anthropicBody('mail ada@example.com', { 'amazon-bedrock-guardrailConfig': { tagSuffix: 'xyz' } });
      const err = await rejection(
        client
          .send(new InvokeModelCommand({ modelId: BUILTIN_MODEL, contentType: 'application/json', body }))
          .then((out) => utf8(out.body)),
      );
      assert.equal(err.name, 'ValidationException', err.message);
    });

    test('an identifier without a version is ValidationException', async () => {
      const err = await rejection(client.send(invokeCommand('hi', { guardrailIdentifier: 'pii' })));
      assert.equal(err.name, 'ValidationException', err.message);
      assert.match(err.message, /GuardrailVersion/);
    });

    test('InvokeModelWithResponseStream: output anonymized in the stream', async () => {
      const text = messageWithValueAt(CARD, 1500, 2500);
      const out = await client.send(
        new InvokeModelWithResponseStreamCommand({
          modelId: BUILTIN_MODEL,
          contentType: 'application/json',
          body: anthropicBody(text),
          guardrailIdentifier: 'card-out-anon',
          guardrailVersion: '1',
        }),
      );
      const events = await collectInvokeStream(out);
      assert.equal(anthropicStreamText(events), builtinAnswer(text).replace(CARD, '{CREDIT_DEBIT_CARD_NUMBER}'));
    });
  });

  describe('a policy that requires a guardrail', () => {
    test('without guardrailConfig: AccessDeniedException', async () => {
      const err = await rejection(guarded.send(new ConverseCommand(converseWith('hello'))));
      assert.equal(err.name, 'AccessDeniedException', err.message);
      assert.equal(err.$metadata.httpStatusCode, 403);
      const invoke = await rejection(guarded.send(invokeCommand('hi')));
      assert.equal(invoke.name, 'AccessDeniedException', invoke.message);
    });

    test('with another guardrail: AccessDeniedException', async () => {
      const err = await rejection(guarded.send(new ConverseCommand(converseWith('hello', gc('card-out-block')))));
      assert.equal(err.name, 'AccessDeniedException', err.message);
    });

    test('with the required guardrail (by id or by ARN): served and guarded', async () => {
      const out = await guarded.send(new ConverseCommand(converseWith('mail ada@example.com', gc('pii'))));
      assert.equal(out.output.message.content[0].text, builtinAnswer('mail {EMAIL}'));
      const byArn = await guarded.send(new ConverseCommand(converseWith('hello', gc(guardrailArn('pii')))));
      assert.equal(byArn.output.message.content[0].text, builtinAnswer('hello'));
      const stream = await guarded.send(new ConverseStreamCommand(converseWith('hello stream', gc('pii'))));
      assert.equal(converseStreamText(await collectConverseStream(stream)), builtinAnswer('hello stream'));
      const invoke = await guarded.send(invokeCommand('hi', gc('pii')));
      assert.equal(JSON.parse(utf8(invoke.body)).content[0].text, builtinAnswer('hi'));
    });
  });

  describe('a guardrail is a resource', () => {
    test('ApplyGuardrail is authorized on the guardrail ARN', async () => {
      const content = [textBlock('mail ada@example.com')];
      const ok = await apply({ source: 'INPUT', content }, piiOnly);
      assert.deepEqual(ok.outputs, [{ text: 'mail {EMAIL}' }]);
      const err = await rejection(apply({ guardrailIdentifier: 'card-out-block', source: 'INPUT', content }, piiOnly));
      assert.equal(err.name, 'AccessDeniedException', err.message);
      assert.match(err.message, /bedrock:ApplyGuardrail/);
      assert.match(err.message, new RegExp(guardrailArn('card-out-block')));
    });

    test('Converse with a guardrail needs bedrock:ApplyGuardrail on it too', async () => {
      const ok = await piiOnly.send(new ConverseCommand(converseWith('hi ada@example.com', gc('pii'))));
      assert.equal(ok.output.message.content[0].text, builtinAnswer('hi {EMAIL}'));
      const err = await rejection(piiOnly.send(new ConverseCommand(converseWith('hi', gc('card-out-anon')))));
      assert.equal(err.name, 'AccessDeniedException', err.message);
      assert.match(err.message, /bedrock:ApplyGuardrail/);
    });

    test("a guardrail ARN of another account is not this deployment's guardrail", async () => {
      const err = await rejection(
        client.send(
          new ApplyGuardrailCommand({
            guardrailIdentifier: 'arn:aws:bedrock:eu-west-1:999988887777:guardrail/pii',
            guardrailVersion: '1',
            source: 'INPUT',
            content: [textBlock('x')],
          }),
        ),
      );
      assert.equal(err.name, 'AccessDeniedException', err.message);
    });
  });

  describe('the OpenAI door with a bound guardrail', () => {
    test('a card in the prompt gets the blocked message with finish_reason content_filter', async () => {
      const messages = [{ role: 'user', content: `card ${CARD}` }];
      const out = await openai.chat.completions.create({ model: BUILTIN_MODEL, messages });
      assert.equal(out.choices[0].message.content, OPENAI_BLOCKED_INPUT);
      assert.equal(out.choices[0].finish_reason, 'content_filter');
    });

    test('streamed: the blocked message, then finish_reason content_filter', async () => {
      const messages = [{ role: 'user', content: `card ${CARD}` }];
      const { chunks, text } = await collectChatStream(
        await openai.chat.completions.create({ model: BUILTIN_MODEL, stream: true, messages }),
      );
      assert.equal(text, OPENAI_BLOCKED_INPUT);
      assert.equal(chunks.map((c) => c.choices?.[0]?.finish_reason).find(Boolean), 'content_filter');
    });

    test('a clean prompt passes; Bedrock requests are not bound (openai_only)', async () => {
      const messages = [{ role: 'user', content: 'hello door' }];
      const out = await openai.chat.completions.create({ model: BUILTIN_MODEL, messages });
      assert.equal(out.choices[0].message.content, builtinAnswer('hello door'));
      assert.equal(out.choices[0].finish_reason, 'stop');
      const bedrock = await client.send(new ConverseCommand(converseWith(`card ${CARD}`)));
      assert.equal(bedrock.stopReason, 'end_turn');
    });

    test('an e-mail address the model brought in on its own is withheld (not-in-input rule), plain and streamed', async () => {
      const before = upstream.requests.length;
      const messages = [{ role: 'user', content: 'who is the manager?' }];
      const out = await openai.chat.completions.create({ model: 'fixed.model', messages });
      assert.equal(upstream.requests.length, before + 1, 'the upstream was asked');
      assert.equal(out.choices[0].message.content, OPENAI_BLOCKED_OUTPUT);
      assert.equal(out.choices[0].finish_reason, 'content_filter');

      const { chunks, text } = await collectChatStream(
        await openai.chat.completions.create({ model: 'fixed.model', stream: true, messages }),
      );
      assert.ok(!text.includes(UPSTREAM_EMAIL) && !text.includes('bola'), `streamed: ${text}`);
      assert.ok(text.endsWith(OPENAI_BLOCKED_OUTPUT), `streamed: ${text}`);
      assert.equal(chunks.map((c) => c.choices?.[0]?.finish_reason).find(Boolean), 'content_filter');
    });

    test('the same address, when the user gave it, is theirs to get back', async () => {
      const out = await openai.chat.completions.create({
        model: 'fixed.model',
        messages: [{ role: 'user', content: `my manager is ${UPSTREAM_EMAIL}, who is it?` }],
      });
      assert.equal(out.choices[0].message.content, UPSTREAM_ANSWER);
      assert.equal(out.choices[0].finish_reason, 'stop');
    });
  });
});
