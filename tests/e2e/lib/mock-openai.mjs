// A small OpenAI-compatible server (node:http, 127.0.0.1, port 0) for the gateway's `openai`
// upstream. Deterministic answers, and every request recorded so tests can assert what the
// gateway sent upstream.
//
// - POST /v1/chat/completions: answer text is mockOpenAIAnswer(last user message text). Honors
//   max_tokens / max_completion_tokens (truncates to that many words, finish_reason "length"),
//   stream:true (SSE, one delta per word, the first word alone and each later one with its leading
//   space, then a finish chunk, an optional usage chunk for stream_options.include_usage, and
//   `data: [DONE]`). Usage counts whitespace-separated words.
// - GET /v1/models: the configured model ids.
// - POST /v1/embeddings: one 8-dimensional vector per input, derived from SHA-256 of the input
//   (float array, or base64 float32 for encoding_format "base64").
// - Anything else: 404 in OpenAI's error shape.
import { createHash } from 'node:crypto';
import http from 'node:http';

export const MOCK_OPENAI_PREFIX = 'mock openai says hello. You said:';
const MAX_BODY_BYTES = 1 << 20;

export function mockOpenAIAnswer(lastUserText) {
  return `${MOCK_OPENAI_PREFIX} ${lastUserText}`;
}

/** The text of an OpenAI message content (a string or an array of content parts). */
export function openaiContentText(content) {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .filter((p) => p?.type === 'text')
      .map((p) => p.text)
      .join(' ');
  }
  return '';
}

function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res, status, message, type = 'invalid_request_error', code = null) {
  sendJson(res, status, { error: { message, type, code, param: null } });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the mock. Options:
 *   models: ids listed by /v1/models (default ['mock-upstream-model'])
 *   chunkDelayMs: pause before each streamed delta (default 0), to keep a stream in flight
 *   responseDelayMs: pause before answering a chat completion at all (default 0)
 * Returns {url, baseURL, requests, close()}; requests are {method, path, headers, body, json,
 * deltasPending}: for a stream, how many text deltas are not yet written (decremented just
 * before each write), so a client that sees a delta while it is > 0 got it streamed through.
 */
export async function startMockOpenAI(options = {}) {
  const models = options.models ?? ['mock-upstream-model'];
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const responseDelayMs = options.responseDelayMs ?? 0;
  const requests = [];
  let completionCounter = 0;

  const chat = async (req, res, body, record) => {
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      sendError(res, 400, 'mock openai: model (string) and messages (non-empty array) are required');
      return;
    }
    const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
    const full = words(mockOpenAIAnswer(openaiContentText(lastUser?.content ?? '')));
    const limit = body.max_completion_tokens ?? body.max_tokens;
    const out = Number.isInteger(limit) && limit < full.length ? full.slice(0, limit) : full;
    const finishReason = out.length < full.length ? 'length' : 'stop';
    const promptTokens = body.messages.reduce((n, m) => n + words(openaiContentText(m.content)).length, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: out.length, total_tokens: promptTokens + out.length };
    completionCounter += 1;
    const id = `chatcmpl-mock-${completionCounter}`;
    if (responseDelayMs > 0) {
      await sleep(responseDelayMs);
    }
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: out.join(' ') }, logprobs: null, finish_reason: finishReason }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = (delta, finish) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    record.deltasPending = out.length;
    send(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < out.length; i += 1) {
      if (chunkDelayMs > 0) {
        await sleep(chunkDelayMs);
      }
      if (res.destroyed) {
        return;
      }
      record.deltasPending -= 1;
      send(chunk({ content: i === 0 ? out[i] : ` ${out[i]}` }, null));
    }
    send(chunk({}, finishReason));
    if (body.stream_options?.include_usage) {
      send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage });
    }
    res.write('data: [DONE]\n\n');
    res.end();
  };

  const embeddings = (req, res, body) => {
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.some((s) => typeof s !== 'string')) {
      sendError(res, 400, 'mock openai: input must be a string or an array of strings');
      return;
    }
    const data = inputs.map((text, index) => {
      const digest = createHash('sha256').update(text).digest();
      const floats = Array.from({ length: 8 }, (_, i) => digest.readUInt16BE(i * 2) / 65535);
      // The openai client asks for base64 (little-endian float32) unless told otherwise.
      const embedding =
        body.encoding_format === 'base64' ? Buffer.from(new Float32Array(floats).buffer).toString('base64') : floats;
      return { object: 'embedding', index, embedding };
    });
    const tokens = inputs.reduce((n, s) => n + words(s).length, 0);
    sendJson(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        sendError(res, 413, 'mock openai: body too large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const path = req.url.split('?')[0];
      const text = Buffer.concat(chunks).toString('utf8');
      const record = { method: req.method, path, headers: { ...req.headers }, body: text, json: null, deltasPending: 0 };
      requests.push(record);
      if (req.method === 'GET' && path === '/v1/models') {
        sendJson(res, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'mock' })),
        });
        return;
      }
      if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/embeddings')) {
        sendError(res, 404, `mock openai has no route for ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
        return;
      }
      try {
        record.json = JSON.parse(text);
      } catch {
        sendError(res, 400, 'mock openai: body is not JSON');
        return;
      }
      const handler = path === '/v1/chat/completions' ? chat : embeddings;
      Promise.resolve(handler(req, res, record.json, record)).catch((err) => res.destroy(err));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
