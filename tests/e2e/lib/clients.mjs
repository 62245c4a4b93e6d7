// Real SDK clients pointed at a gateway, and helpers to read their streams and to state what the
// built-in model must answer.
import { createHash, createHmac } from 'node:crypto';

import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import OpenAI from 'openai';

export const BUILTIN_MODEL = 'perimeter.echo-v1';
export const REGION = 'eu-west-1';

/** The built-in model's full answer to a conversation whose last user message is `lastUserText`. */
export function builtinAnswer(lastUserText) {
  return `This is Perimeter's built-in test model (perimeter.echo-v1), not a real language model. You said: ${lastUserText}`;
}

export function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

export function wordCount(text) {
  return words(text).length;
}

/** The first n words of text, joined by single spaces (how max_tokens truncates). */
export function firstWords(text, n) {
  return words(text).slice(0, n).join(' ');
}

/**
 * An AWS SDK Bedrock Runtime client for the gateway `gw` ({url, credentials}, as startGateway
 * returns it), signing with gw.credentials (the access key the gateway issued to e2e-client)
 * unless extra.credentials names others; one attempt, no retries.
 *
 * Since 3.798 BedrockRuntimeClient defaults to an HTTP/2-only transport (NodeHttp2Handler: h2c
 * prior knowledge on http://, ALPN h2 on https://), and the gateway serves both HTTP/2 and
 * HTTP/1.1. CTest runs this suite twice: once with the SDK's HTTP/1.1 handler (what proxies
 * without HTTP/2 need) and once, with E2E_H2=1, with the SDK's default HTTP/2 transport.
 * `extra.httpsAgent` (for TLS listeners) goes to the HTTP/1.1 handler.
 */
export function bedrockClient(gw, extra = {}) {
  const { httpsAgent, credentials = gw.credentials, ...rest } = extra;
  if (!credentials) {
    throw new Error(`bedrockClient: no credentials for ${gw.url}: the gateway declares no e2e-client, pass extra.credentials`);
  }
  return new BedrockRuntimeClient({
    region: REGION,
    endpoint: gw.url,
    credentials: { ...credentials }, // the SDK annotates the object it is given
    maxAttempts: 1,
    ...(process.env.E2E_H2 ? {} : { requestHandler: new NodeHttpHandler({ httpsAgent, requestTimeout: 20_000 }) }),
    ...rest,
  });
}

/**
 * An openai client for the gateway `gw` ({url, apiKey}), using gw.apiKey (the API key the gateway
 * issued to e2e-client) unless extra.apiKey is given; no retries.
 */
export function openaiClient(gw, extra = {}) {
  const { apiKey = gw.apiKey, ...rest } = extra;
  if (!apiKey) {
    throw new Error(`openaiClient: no API key for ${gw.url}: the gateway declares no e2e-client, pass extra.apiKey`);
  }
  return new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000, ...rest });
}

/** node:crypto SHA-256 / HMAC-SHA-256 in the Checksum shape @smithy/signature-v4 expects. */
export class Sha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret));
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/**
 * The headers of a request to the gateway `gw` signed with SigV4 (the AWS SDK's own signer), for
 * tests that send raw requests: {method, path, headers, body} plus optional credentials (default
 * gw.credentials), region and service ('bedrock'). The result is `headers` plus host, x-amz-date
 * and authorization; send exactly these with the same method, path and body.
 */
export async function signedHeaders(gw, { method = 'POST', path, headers = {}, body = '', credentials = gw.credentials, region = REGION, service = 'bedrock' }) {
  const url = new URL(gw.url);
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, ...headers },
    body,
  });
  return signed.headers;
}

export function utf8(bytes) {
  return new TextDecoder().decode(bytes);
}

export function jsonBody(obj) {
  return new TextEncoder().encode(JSON.stringify(obj));
}

/** The Anthropic events carried by an InvokeModelWithResponseStream response, in order. */
export async function collectInvokeStream(response) {
  const events = [];
  for await (const event of response.body) {
    if (!event.chunk) {
      throw new Error(`unexpected non-chunk event in the response stream: ${JSON.stringify(event)}`);
    }
    events.push(JSON.parse(utf8(event.chunk.bytes)));
  }
  return events;
}

/** Concatenated text_delta texts of Anthropic streaming events. */
export function anthropicStreamText(events) {
  return events
    .filter((e) => e.type === 'content_block_delta' && e.delta?.type === 'text_delta')
    .map((e) => e.delta.text)
    .join('');
}

/** The events of a ConverseStream response, in order. */
export async function collectConverseStream(response) {
  const events = [];
  for await (const event of response.stream) {
    events.push(event);
  }
  return events;
}

/** The first key of each ConverseStream event, e.g. ['messageStart', 'contentBlockDelta', ...]. */
export function converseEventKinds(events) {
  return events.map((e) => Object.keys(e).find((k) => e[k] !== undefined));
}

export function converseStreamText(events) {
  return events
    .filter((e) => e.contentBlockDelta)
    .map((e) => e.contentBlockDelta.delta.text)
    .join('');
}

/** Drains an openai chat completion stream; returns {chunks, text}. */
export async function collectChatStream(stream) {
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  return { chunks, text };
}

/** Awaits `promise` and returns the error it rejects with; fails if it resolves. */
export async function rejection(promise, what = 'the call') {
  try {
    const value = await promise;
    throw Object.assign(new Error(`${what} succeeded but an error was expected: ${JSON.stringify(value)?.slice(0, 500)}`), {
      unexpectedSuccess: true,
    });
  } catch (err) {
    if (err.unexpectedSuccess) {
      throw err;
    }
    return err;
  }
}

/**
 * Drains `iterable` (an SDK or openai stream) and reports whether the upstream mock still had
 * text deltas to write (its latest request's deltasPending > 0) when the first event matching
 * `isDelta` arrived. That tells a streamed-through response from one the gateway buffered until
 * the upstream was done. Returns {events, upstreamBusyAtFirstDelta}.
 */
export async function drainNotingUpstream(iterable, isDelta, upstream) {
  const events = [];
  let upstreamBusyAtFirstDelta = null;
  for await (const event of iterable) {
    if (upstreamBusyAtFirstDelta === null && isDelta(event)) {
      upstreamBusyAtFirstDelta = upstream.requests.at(-1)?.deltasPending > 0;
    }
    events.push(event);
  }
  return { events, upstreamBusyAtFirstDelta };
}
