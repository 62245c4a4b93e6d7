// A mock AWS Bedrock Runtime endpoint over HTTPS for the gateway's `bedrock` upstream.
//
// Contract:
// - Listens on 127.0.0.1, port 0, with a server certificate from a throwaway CA made by `openssl`
//   (see pki.mjs); `caFile` is what the gateway's upstream `ca_file` must trust.
// - Verifies the AWS SigV4 signature of every request with @smithy/signature-v4 (the AWS SDK's
//   own signer) against MOCK_CREDENTIALS, service "bedrock", region "eu-west-1". A request that
//   does not verify gets 403 InvalidSignatureException (or UnrecognizedClientException for an
//   unknown access key id), exactly as Bedrock answers, and is counted in `badSignatures`.
// - Serves POST /model/{modelId}/invoke, /invoke-with-response-stream, /converse and
//   /converse-stream with fixed answers whose text is MOCK_BEDROCK_TEXT.
// - Records every request in `requests` (method, raw path, decoded modelId, operation, headers,
//   body text, parsed JSON, signature verdict, text deltas of a stream not yet written).
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';

import { makeTestPki } from './pki.mjs';

export const MOCK_REGION = 'eu-west-1';
export const MOCK_SERVICE = 'bedrock';
export const MOCK_CREDENTIALS = Object.freeze({
  accessKeyId: 'AKIAPERIMETERE2EMOCK',
  secretAccessKey: 'perimeter/e2e/mock+bedrock/secret/key/0123456789',
});
export const MOCK_BEDROCK_TEXT = 'mock bedrock says hello';
const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your ' +
  'AWS Secret Access Key and signing method. Consult the service documentation for details.';
const MAX_BODY_BYTES = 1 << 20;
const MAX_SKEW_MS = 5 * 60 * 1000;

/** A SHA-256 / HMAC-SHA-256 in the shape @smithy/signature-v4 expects, on node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data) {
    this.hash.update(toBuffer(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data) {
  if (typeof data === 'string') {
    return Buffer.from(data, 'utf8');
  }
  return Buffer.from(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength ?? undefined);
}

function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
    value ?? '',
  );
  if (!m) {
    return null;
  }
  const scope = m[1].split('/');
  if (scope.length !== 5) {
    return null;
  }
  const [accessKeyId, date, region, service, terminator] = scope;
  return { accessKeyId, date, region, service, terminator, signedHeaders: m[2].split(';'), signature: m[3] };
}

function parseAmzDate(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) {
    return null;
  }
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function parseQuery(search) {
  const query = {};
  for (const [k, v] of new URLSearchParams(search)) {
    if (k in query) {
      query[k] = [].concat(query[k], v);
    } else {
      query[k] = v;
    }
  }
  return query;
}

/**
 * Verifies the SigV4 signature of a received request. Returns {ok: true} or
 * {ok: false, errorType, message, reason} where reason is a precise diagnostic for test output.
 */
async function verifySignature(req, rawPath, search, body, credentials) {
  const bad = (reason, errorType = 'InvalidSignatureException', message = SIGNATURE_MISMATCH_MESSAGE) => ({
    ok: false,
    errorType,
    message,
    reason,
  });
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) {
    return bad(
      `missing or malformed Authorization header: ${JSON.stringify(req.headers.authorization ?? null)}`,
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
    );
  }
  if (auth.accessKeyId !== credentials.accessKeyId) {
    return bad(
      `unknown access key id ${auth.accessKeyId}`,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  const signingDate = parseAmzDate(req.headers['x-amz-date']);
  if (!signingDate) {
    return bad(`missing or malformed x-amz-date header: ${JSON.stringify(req.headers['x-amz-date'] ?? null)}`);
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    return bad(`x-amz-date ${req.headers['x-amz-date']} is more than 5 minutes from the mock's clock`);
  }
  const wantScope = `${req.headers['x-amz-date'].slice(0, 8)}/${MOCK_REGION}/${MOCK_SERVICE}/aws4_request`;
  const gotScope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`;
  if (gotScope !== wantScope) {
    return bad(`credential scope ${gotScope}, expected ${wantScope}`);
  }
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) {
      return bad(`SignedHeaders ${auth.signedHeaders.join(';')} does not include ${required}`);
    }
  }
  const headers = {};
  for (const name of auth.signedHeaders) {
    if (req.headers[name] === undefined) {
      return bad(`signed header ${name} is not present in the request`);
    }
    headers[name] = String(req.headers[name]);
  }
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const claimedHash = req.headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== bodyHash) {
    return bad(
      claimedHash === 'UNSIGNED-PAYLOAD'
        ? 'x-amz-content-sha256 is UNSIGNED-PAYLOAD; Bedrock requests must sign the payload'
        : `x-amz-content-sha256 ${claimedHash} does not match the body's SHA-256 ${bodyHash}`,
    );
  }
  const signer = new SignatureV4({
    credentials,
    region: MOCK_REGION,
    service: MOCK_SERVICE,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const [hostname, port] = String(req.headers.host ?? '').split(':');
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname,
      port: port ? Number(port) : undefined,
      path: rawPath,
      query: parseQuery(search),
      headers,
      body,
    },
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = parseAuthorization(signed.headers.authorization);
  if (expected.signedHeaders.join(';') !== auth.signedHeaders.join(';')) {
    return bad(
      `SignedHeaders ${auth.signedHeaders.join(';')} is not the sorted, lower-case list ` +
        `${expected.signedHeaders.join(';')}`,
    );
  }
  if (expected.signature !== auth.signature) {
    return bad(`signature ${auth.signature} does not match the expected ${expected.signature}`);
  }
  return { ok: true };
}

function sendJson(res, status, body, errorType) {
  const text = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': `mock-${Math.random().toString(16).slice(2, 10)}`,
  };
  if (errorType) {
    headers['x-amzn-errortype'] = errorType;
  }
  res.writeHead(status, headers);
  res.end(text);
}

function textOfAnthropicContent(content) {
  if (typeof content === 'string') {
    return content;
  }
  return (content ?? []).map((b) => (b?.type === 'text' ? b.text : '')).join(' ');
}

function inputWordsAnthropic(body) {
  let count = 0;
  if (typeof body.system === 'string') {
    count += words(body.system).length;
  } else if (Array.isArray(body.system)) {
    count += body.system.reduce((n, b) => n + words(b?.text ?? '').length, 0);
  }
  for (const m of body.messages ?? []) {
    count += words(textOfAnthropicContent(m.content)).length;
  }
  return count;
}

function inputWordsConverse(body) {
  let count = 0;
  for (const s of body.system ?? []) {
    count += words(s?.text ?? '').length;
  }
  for (const m of body.messages ?? []) {
    for (const c of m.content ?? []) {
      count += words(c?.text ?? '').length;
    }
  }
  return count;
}

/**
 * Starts the mock. Options: {dir} (where the PKI goes; default a fresh mkdtemp),
 * {credentials} (default MOCK_CREDENTIALS), {text} (answer text; default MOCK_BEDROCK_TEXT),
 * {chunkDelayMs} (pause before each streamed text delta; default 0).
 * Returns {url, caFile, dir, requests, stats: {goodSignatures, badSignatures}, close()}; a
 * streamed request's record has deltasPending, the text deltas not yet written, so a client that
 * sees a delta while it is > 0 got it streamed through.
 */
export async function startMockBedrock(options = {}) {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'perimeter-e2e-bedrock-'));
  const credentials = options.credentials ?? MOCK_CREDENTIALS;
  const answer = options.text ?? MOCK_BEDROCK_TEXT;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const answerWords = words(answer);
  const pki = makeTestPki(dir);
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const requests = [];
  const stats = { goodSignatures: 0, badSignatures: 0 };

  const encodeEvent = (eventType, payload) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: eventType },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });

  // Events flagged `delayed` (the text deltas) wait chunkDelayMs before they are written;
  // record.deltasPending counts those not yet written (decremented just before each write).
  const streamEvents = async (res, record, events) => {
    record.deltasPending = events.filter(([, , delayed]) => delayed).length;
    res.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-bedrock-content-type': 'application/json',
      'x-amzn-requestid': `mock-${Math.random().toString(16).slice(2, 10)}`,
    });
    for (const [type, payload, delayed] of events) {
      if (delayed && chunkDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
      }
      if (res.destroyed) {
        return;
      }
      if (delayed) {
        record.deltasPending -= 1;
      }
      res.write(encodeEvent(type, payload));
    }
    res.end();
  };

  const handle = async (req, res, body) => {
    const url = new URL(req.url, 'https://mock.invalid');
    const rawPath = req.url.split('?')[0];
    const record = {
      method: req.method,
      path: rawPath,
      modelId: null,
      operation: null,
      headers: { ...req.headers },
      body: body.toString('utf8'),
      json: null,
      signature: null,
      deltasPending: 0,
    };
    requests.push(record);
    const verdict = await verifySignature(req, rawPath, url.search, body, credentials);
    record.signature = verdict;
    if (!verdict.ok) {
      stats.badSignatures += 1;
      sendJson(res, 403, { message: verdict.message }, verdict.errorType);
      return;
    }
    stats.goodSignatures += 1;

    const m = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/.exec(rawPath);
    if (req.method !== 'POST' || !m) {
      sendJson(res, 404, { message: `mock bedrock has no route for ${req.method} ${rawPath}` }, 'UnknownOperationException');
      return;
    }
    record.modelId = decodeURIComponent(m[1]);
    record.operation = m[2];
    try {
      record.json = JSON.parse(record.body);
    } catch {
      sendJson(res, 400, { message: 'Malformed input request, please reformat your input and try again.' }, 'ValidationException');
      return;
    }
    const json = record.json;
    switch (record.operation) {
      case 'invoke': {
        sendJson(res, 200, {
          id: 'msg_mock_bedrock_1',
          type: 'message',
          role: 'assistant',
          model: record.modelId,
          content: [{ type: 'text', text: answer }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: inputWordsAnthropic(json), output_tokens: answerWords.length },
        });
        return;
      }
      case 'invoke-with-response-stream': {
        const chunk = (event, delayed = false) => [
          'chunk',
          { bytes: Buffer.from(JSON.stringify(event)).toString('base64') },
          delayed,
        ];
        const inputTokens = inputWordsAnthropic(json);
        await streamEvents(res, record, [
          chunk({
            type: 'message_start',
            message: {
              id: 'msg_mock_bedrock_1',
              type: 'message',
              role: 'assistant',
              model: record.modelId,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: inputTokens, output_tokens: 0 },
            },
          }),
          chunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
          ...answerWords.map((w, i) =>
            chunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: i === 0 ? w : ` ${w}` } }, true),
          ),
          chunk({ type: 'content_block_stop', index: 0 }),
          chunk({
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: answerWords.length },
          }),
          chunk({
            type: 'message_stop',
            'amazon-bedrock-invocationMetrics': {
              inputTokenCount: inputTokens,
              outputTokenCount: answerWords.length,
              invocationLatency: 1,
              firstByteLatency: 1,
            },
          }),
        ]);
        return;
      }
      case 'converse': {
        const inputTokens = inputWordsConverse(json);
        sendJson(res, 200, {
          output: { message: { role: 'assistant', content: [{ text: answer }] } },
          stopReason: 'end_turn',
          usage: { inputTokens, outputTokens: answerWords.length, totalTokens: inputTokens + answerWords.length },
          metrics: { latencyMs: 1 },
        });
        return;
      }
      case 'converse-stream': {
        const inputTokens = inputWordsConverse(json);
        await streamEvents(res, record, [
          ['messageStart', { role: 'assistant' }],
          ...answerWords.map((w, i) => [
            'contentBlockDelta',
            { contentBlockIndex: 0, delta: { text: i === 0 ? w : ` ${w}` } },
            true,
          ]),
          ['contentBlockStop', { contentBlockIndex: 0 }],
          ['messageStop', { stopReason: 'end_turn' }],
          [
            'metadata',
            {
              usage: { inputTokens, outputTokens: answerWords.length, totalTokens: inputTokens + answerWords.length },
              metrics: { latencyMs: 1 },
            },
          ],
        ]);
        return;
      }
      default:
        throw new Error(`unreachable operation ${record.operation}`);
    }
  };

  const server = https.createServer(
    { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
    (req, res) => {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          sendJson(res, 413, { message: 'mock bedrock: body too large' }, 'ValidationException');
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        handle(req, res, Buffer.concat(chunks)).catch((err) => {
          if (!res.headersSent) {
            sendJson(res, 500, { message: `mock bedrock failed: ${err.stack}` }, 'InternalServerException');
          } else {
            res.destroy(err);
          }
        });
      });
    },
  );
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `https://127.0.0.1:${port}`,
    caFile: pki.caFile,
    dir,
    requests,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
