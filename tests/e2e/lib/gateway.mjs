// Starts the real perimeter binary for a test.
//
// startGateway(options) writes a config into a fresh temporary directory, spawns
// `$PERIMETER_BIN serve --config <dir>/perimeter.yaml` with that directory as cwd (so the default
// ./var state lands there), and resolves once the first `listening on <url>` line is on stdout
// (15 s timeout; the error carries the process's stdout and stderr). Callers must stop it, e.g.
// `t.after(() => gw.stop())`.
//
// The child's environment is this process's minus AWS_*, OPENAI_* and proxy variables, with HOME
// set to the temporary directory (so no ~/.aws/credentials leaks in), plus options.env.
//
// Every model request must be authenticated and authorized, so a config without an `access`
// section gets defaultAccess(): account 111122223333, region eu-west-1, loopback egress, and the
// user `e2e-client` allowed bedrock:* on "*". When the effective config declares the user named
// by options.client (default `e2e-client`), startGateway creates an access key and an API key for
// it with the real CLI and puts them on the returned object (gw.credentials, gw.apiKey).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const START_TIMEOUT_MS = 15_000;
const CLI_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000;
const OUTPUT_LIMIT = 1 << 20;
const VERBOSE = process.env.PERIMETER_E2E_VERBOSE === '1';

/** Absolute path of the gateway binary: $PERIMETER_BIN, else <repo>/build/perimeter. */
export function perimeterBin() {
  const bin = process.env.PERIMETER_BIN || path.join(REPO_ROOT, 'build', 'perimeter');
  if (!existsSync(bin)) {
    throw new Error(
      `perimeter binary not found at ${bin}: build it first, or set PERIMETER_BIN to its absolute path`,
    );
  }
  return bin;
}

/** A fresh temporary directory for one test's files. */
export function makeTempDir(prefix = 'perimeter-e2e-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

function yamlScalar(v) {
  if (v === null || v === undefined) {
    return 'null';
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  // A JSON string literal is a valid YAML double-quoted scalar.
  return JSON.stringify(String(v));
}

/** Block-style YAML for plain objects, arrays and scalars (enough for gateway configs). */
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const isComplex = (v) => v !== null && typeof v === 'object' && Object.keys(v).length > 0;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return `${pad}[]\n`;
    }
    return value
      .map((item) => {
        if (!isComplex(item)) {
          return `${pad}- ${Array.isArray(item) ? '[]' : typeof item === 'object' && item ? '{}' : yamlScalar(item)}\n`;
        }
        const inner = toYaml(item, indent + 2);
        return `${pad}- ${inner.slice(indent + 2)}`;
      })
      .join('');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => {
        if (isComplex(v)) {
          return `${pad}${k}:\n${toYaml(v, indent + 2)}`;
        }
        if (Array.isArray(v)) {
          return `${pad}${k}: []\n`;
        }
        if (v !== null && typeof v === 'object') {
          return `${pad}${k}: {}\n`;
        }
        return `${pad}${k}: ${yamlScalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${yamlScalar(value)}\n`;
}

export const E2E_ACCOUNT = '111122223333';
export const E2E_REGION = 'eu-west-1';
export const E2E_CLIENT = 'e2e-client';

/** An identity policy allowing `actions` (string or list) on `resources` (default "*"). */
export function allowPolicy(actions, resources = '*') {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resources }] };
}

/** arn:aws:iam::<E2E_ACCOUNT>:user/<name> (or role/<name> with kind 'role'). */
export function iamArn(name, kind = 'user') {
  return `arn:aws:iam::${E2E_ACCOUNT}:${kind}/${name}`;
}

/** arn:aws:bedrock:<region>::foundation-model/<modelId>, the resource of a model request. */
export function modelArn(modelId, region = E2E_REGION) {
  return `arn:aws:bedrock:${region}::foundation-model/${modelId}`;
}

/**
 * The `access` section a config gets when it has none: the test account and region, egress to
 * loopback (the tests' mock upstreams and chained gateways), and `e2e-client` allowed bedrock:*.
 * `extra` is merged over it (e.g. {principals: [...]} replaces the principal list).
 */
export function defaultAccess(extra = {}) {
  return {
    account_id: E2E_ACCOUNT,
    regions: [E2E_REGION],
    egress_allow_hosts: ['127.0.0.1', 'localhost', '[::1]', '::1'],
    principals: [{ user: E2E_CLIENT, policies: [allowPolicy('bedrock:*')] }],
    ...extra,
  };
}

/** The smallest useful config: one ephemeral listener, the builtin model routed. */
export function builtinConfig(extra = {}) {
  return {
    server: { state_dir: './var', drain_timeout: '10s', threads: 1 },
    listeners: [{ name: 'main', address: '127.0.0.1', port: 0 }],
    upstreams: [{ name: 'builtin', type: 'builtin' }],
    routes: [{ model: 'perimeter.echo-v1', upstream: 'builtin' }],
    ...extra,
  };
}

function childEnv(dir, extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|OPENAI_)/.test(k) || /^(http_proxy|https_proxy|all_proxy|no_proxy)$/i.test(k)) {
      continue;
    }
    env[k] = v;
  }
  env.HOME = dir;
  return { ...env, ...extra };
}

/**
 * Runs `$PERIMETER_BIN ...args` in `cwd` with the gateway's environment rules; never rejects for a
 * non-zero exit. Resolves {code, stdout, stderr}; rejects if the process cannot be started or
 * runs longer than timeoutMs (then it is killed).
 */
export function runCli(args, { cwd, env = {}, timeoutMs = CLI_TIMEOUT_MS } = {}) {
  const bin = perimeterBin();
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { cwd, env: childEnv(cwd ?? os.tmpdir(), env), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: OUTPUT_LIMIT },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          const why = error.killed ? `timed out after ${timeoutMs} ms` : error.message;
          reject(new Error(`perimeter ${args.join(' ')} (cwd ${cwd}): ${why}\n${stdout}\n${stderr}`));
          return;
        }
        resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** The config to write: `config` plus defaultAccess() when it has no access section. */
function effectiveConfig(config) {
  if ('access' in config) {
    return config;
  }
  return { ...config, access: defaultAccess() };
}

function declaresUser(config, user) {
  return (config?.access?.principals ?? []).some((p) => p.user === user);
}

/**
 * Options: {config} (object, rendered as YAML; default builtinConfig(); defaultAccess() is added
 * unless it has an `access` key), {configText} (raw YAML instead, used as is), {dir} (default a
 * fresh temp dir), {env} (extra environment), {name} (for messages), {client} (the user to make
 * credentials for, default E2E_CLIENT; with configText it must be passed to get credentials).
 * Returns {url, urls, proc, dir, configFile, config, credentials, apiKey, clientArn, stdout(),
 * stderr(), describe(), accessLog(), waitForAccessLog(), cli(), createAccessKey(),
 * createApiKey(), exited, stop()}.
 */
export async function startGateway(options = {}) {
  const bin = perimeterBin();
  const dir = options.dir ?? makeTempDir();
  const name = options.name ?? 'gateway';
  const configFile = path.join(dir, 'perimeter.yaml');
  const config = options.configText === undefined ? effectiveConfig(options.config ?? builtinConfig()) : null;
  writeFileSync(configFile, options.configText ?? toYaml(config));

  const proc = spawn(bin, ['serve', '--config', configFile], {
    cwd: dir,
    env: childEnv(dir, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const append = (buf, chunk) => (buf.length < OUTPUT_LIMIT ? buf + chunk : buf);
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (c) => {
    out = append(out, c);
    if (VERBOSE) {
      process.stderr.write(c.replace(/^(?=.)/gm, `[${name} out] `));
    }
  });
  proc.stderr.on('data', (c) => {
    err = append(err, c);
    if (VERBOSE) {
      process.stderr.write(c.replace(/^(?=.)/gm, `[${name} err] `));
    }
  });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  // The 'exit' event may fire before stdio is drained; 'close' means all output is in.
  const closed = new Promise((resolve) => proc.once('close', resolve));
  const spawnError = new Promise((resolve) => proc.once('error', resolve));
  const describe = () =>
    `${name} (${bin} serve --config ${configFile}, cwd ${dir})\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;

  let timer;
  const urls = [];
  const started = await Promise.race([
    new Promise((resolve) => {
      const scan = () => {
        const matches = [...out.matchAll(/listening on (\S+)/g)].map((m) => m[1]);
        if (matches.length > 0) {
          urls.push(...matches);
          proc.stdout.off('data', scan);
          resolve('ok');
        }
      };
      proc.stdout.on('data', scan);
      scan();
    }),
    exited.then(() => 'exited'),
    spawnError.then((e) => `spawn error: ${e.message}`),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (started !== 'ok') {
    if (exitInfo === null) {
      proc.kill('SIGKILL');
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    const why =
      started === 'timeout'
        ? `printed no "listening on" line within ${START_TIMEOUT_MS / 1000} s`
        : started === 'exited'
          ? `exited before listening (code ${exitInfo.code}, signal ${exitInfo.signal})`
          : started;
    throw new Error(`${name} ${why}: ${describe()}`);
  }

  let stopRequested = false;
  const gw = {
    url: urls[0],
    urls,
    proc,
    dir,
    configFile,
    config,
    exited,
    stdout: () => out,
    stderr: () => err,
    describe,
    /** Access-log records: the JSON object lines on stdout. */
    accessLog: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        }),
    /**
     * Resolves the access-log records matching `predicate` once there is at least one, polling
     * for up to `timeoutMs` (the line may be written just after the response). Resolves [] if
     * none appeared in time.
     */
    waitForAccessLog: async (predicate, timeoutMs = 2000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = gw.accessLog().filter(predicate);
        if (found.length > 0 || Date.now() >= deadline) {
          return found;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    /**
     * Sends `signal` (default SIGTERM) and waits for exit (timeout STOP_TIMEOUT_MS, then SIGKILL
     * and throw). Resolves {code, signal, ms}. Throws if the process had already died before stop()
     * was first called, since that is a crash the test did not ask for.
     */
    stop: async ({ signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS } = {}) => {
      const wasRequested = stopRequested;
      stopRequested = true;
      if (exitInfo !== null) {
        await closed;
        if (!wasRequested) {
          throw new Error(`${name} died before the test stopped it (code ${exitInfo.code}, signal ${exitInfo.signal}): ${describe()}`);
        }
        return { ...exitInfo, ms: 0 };
      }
      const t0 = Date.now();
      proc.kill(signal);
      let killTimer;
      const result = await Promise.race([
        exited,
        new Promise((resolve) => {
          killTimer = setTimeout(() => resolve(null), timeoutMs);
        }),
      ]);
      clearTimeout(killTimer);
      if (result === null) {
        proc.kill('SIGKILL');
        await exited;
        await closed;
        throw new Error(`${name} did not exit within ${timeoutMs} ms of ${signal}; killed: ${describe()}`);
      }
      await closed;
      return { ...result, ms: Date.now() - t0 };
    },
  };

  /** Runs a CLI command in the gateway's directory (so ./var is the gateway's state). */
  gw.cli = (args, opts = {}) => runCli(args, { cwd: dir, env: options.env ?? {}, ...opts });
  /** Runs a CLI command with --json and --config <configFile>; throws unless it exits 0. */
  gw.cliJson = async (args) => {
    const r = await gw.cli([...args, '--config', configFile, '--json']);
    if (r.code !== 0) {
      throw new Error(`perimeter ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    }
    return r.stdout;
  };
  const createCredential = async (principal, type, expiresIn) => {
    const args = ['credentials', 'create', '--principal', principal, '--type', type];
    if (expiresIn) {
      args.push('--expires-in', expiresIn);
    }
    return JSON.parse(await gw.cliJson(args));
  };
  /** {principal, accessKeyId, secretAccessKey[, expiresAt]} made by `perimeter credentials create`. */
  gw.createAccessKey = (principal, { expiresIn } = {}) => createCredential(principal, 'access-key', expiresIn);
  /** {principal, apiKeyId, apiKey[, expiresAt]} made by `perimeter credentials create`. */
  gw.createApiKey = (principal, { expiresIn } = {}) => createCredential(principal, 'api-key', expiresIn);

  live.add(gw);
  exited.then(() => live.delete(gw));

  const client = options.client ?? E2E_CLIENT;
  if (options.client !== undefined || declaresUser(config, client)) {
    try {
      const key = await gw.createAccessKey(client);
      const api = await gw.createApiKey(client);
      gw.clientArn = key.principal;
      gw.credentials = Object.freeze({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
      gw.accessKeyId = key.accessKeyId;
      gw.apiKey = api.apiKey;
      gw.apiKeyId = api.apiKeyId;
    } catch (err) {
      await gw.stop({ signal: 'SIGKILL' }).catch(() => {});
      throw new Error(`${name}: could not create credentials for ${client}: ${err.message}\n${describe()}`);
    }
  }
  return gw;
}

// Last-resort cleanup if a test file dies without running its after hooks.
const live = new Set();
process.on('exit', () => {
  for (const gw of live) {
    gw.proc.kill('SIGKILL');
  }
});

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort() {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
