'use strict';
// Black-box harness for resetd: starts the real binary on a free loopback port
// with its own temporary database and Maildir, drives its CLI, reads the mail
// it writes, and makes HTTP requests. Every wait has a timeout.
//
// Environment:
//   RESETD_BIN        path of the binary (default <repo>/build/resetd)
//   RESETD_E2E_KEEP=1 keep the temporary directories (printed at exit)
//   RESETD_TEST_DB    sqlite (default) or postgres: the database each daemon gets
//   RESETD_TEST_POSTGRES  with postgres, the base URL of a running cluster
//                     (no database name), e.g. postgresql:///?host=/tmp/x&user=postgres;
//                     each daemon gets a fresh database in it (tests/run starts
//                     one with scripts/pg-cluster.sh)

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const crypto = require('node:crypto');
const http = require('node:http');
const readline = require('node:readline');
const { spawn, execFileSync } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const { simpleParser } = require('mailparser');
const openapi = require('./openapi');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const PG_CLUSTER = path.join(REPO_ROOT, 'scripts', 'pg-cluster.sh');

const READY_TIMEOUT_MS = 10000;
const CLI_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;
const REQUEST_TIMEOUT_MS = 15000;
const MAIL_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------
// temporary directories and leftover processes

const tempDirs = new Set();
const liveProcs = new Set();
const liveClusters = new Set(); // directories of PostgreSQL clusters this process started

// ---------------------------------------------------------------------------
// log hygiene, for every test file at once
//
// Tests add every password, reset code, token and key they use to
// `secrets`. When a test file ends, the log lines of every daemon it
// started must hold none of them: a root-level after() hook, registered
// when the harness is loaded, fails the file otherwise.

const secrets = new Set();
const allDaemons = [];

function registerSecret(s) {
  if (typeof s === 'string' && s.length >= 6) secrets.add(s);
  return s;
}

// Every instance on one PostgreSQL database must be given the same server
// secret (resetd refuses to start there without one): the daemons of this
// process share this one, unless a test configures its own.
const PG_SERVER_SECRET = registerSecret(crypto.randomBytes(32).toString('hex'));

function leakedSecrets() {
  const leaks = [];
  for (const d of allDaemons) {
    for (const line of [...d.stderrLines, ...d.stdoutLines]) {
      for (const s of secrets) {
        if (line.includes(s)) leaks.push(`${s.slice(0, 6)}... in: ${line.slice(0, 200)}`);
      }
    }
  }
  return leaks;
}

// ---------------------------------------------------------------------------
// OpenAPI
//
// Every response a test file gets from a daemon, through fetch (request()
// below, and the SDKs that use fetch) or rawRequest(), is recorded, and when
// the file ends each is checked against the OpenAPI document of the listener
// and route that answered it (lib/openapi.js): a response the documents do
// not describe fails the file, so the documents cannot drift from the code.

const recorded = [];
const RECORD_MAX = 20000;

function record(method, url, status, contentType, text) {
  if (recorded.length < RECORD_MAX) recorded.push({ method, url: String(url), status, contentType, text });
}

const realFetch = globalThis.fetch;
globalThis.fetch = async function recordingFetch(input, init = {}) {
  const res = await realFetch(input, init);
  try {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    const method = (init.method || (typeof input === 'object' && input.method) || 'GET').toUpperCase();
    if (/^http:\/\/127\.0\.0\.1:/.test(url)) {
      const text = await res.clone().text();
      record(method, url, res.status, res.headers.get('content-type'), text);
    }
  } catch {
    // a body that cannot be read twice is not recorded
  }
  return res;
};

// The problems of the recorded responses of the daemons of this file.
function openapiProblems() {
  const listeners = new Map();
  for (const d of allDaemons) {
    listeners.set(new URL(d.url).origin, 'public');
    if (d.adminUrl) listeners.set(new URL(d.adminUrl).origin, 'admin');
  }
  const problems = [];
  for (const r of recorded) {
    const listener = listeners.get(new URL(r.url).origin);
    if (listener) problems.push(...openapi.check({ ...r, listener }));
  }
  return [...new Set(problems)];
}

// Scripts that borrow the harness outside the test runner (bench/enum-probe)
// set RESETD_HARNESS_NO_TEST_HOOK=1, so node:test is not started for them.
if (process.env.RESETD_HARNESS_NO_TEST_HOOK !== '1') {
  require('node:test').after(() => {
    const leaks = leakedSecrets();
    if (leaks.length > 0) throw new Error(`secrets in the daemon logs:\n${leaks.join('\n')}`);
    const problems = openapiProblems();
    if (problems.length > 0) throw new Error(`responses the OpenAPI documents do not describe:\n${problems.slice(0, 50).join('\n')}`);
  });
}

function cleanup() {
  for (const proc of liveProcs) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of liveClusters) {
    try {
      execFileSync(PG_CLUSTER, ['stop', dir], { stdio: 'ignore', timeout: 30000 });
    } catch {
      // best effort
    }
  }
  liveClusters.clear();
  for (const dir of tempDirs) {
    if (process.env.RESETD_E2E_KEEP === '1') {
      process.stderr.write(`resetd e2e: kept ${dir}\n`);
      continue;
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  tempDirs.clear();
}

process.on('exit', cleanup);
// A runner that stops this file with a signal must not leave daemons behind.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup();
    process.kill(process.pid, sig);
  });
}

function makeTempDir(prefix = 'resetd-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------------------
// binary and ports

function binPath() {
  return process.env.RESETD_BIN || path.join(REPO_ROOT, 'build', 'resetd');
}

// Throws at once, with a clear message, when the binary is missing.
function assertBinary(bin = binPath()) {
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`resetd binary not found or not executable at ${bin}: build it first (make) or set RESETD_BIN`);
  }
  return bin;
}

// A port that was free a moment ago on 127.0.0.1 (listen on 0, read, close).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

// The parent's environment without any RESETD_* variable (so a developer's
// shell cannot change what the tests see) or service manager's socket (so a
// test run under systemd does not report to it), plus the given overrides.
// An override whose value is undefined or null removes that variable.
const MANAGER_ENV = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']);

function buildEnv(overrides) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('RESETD_') && !MANAGER_ENV.has(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

// ---------------------------------------------------------------------------
// PostgreSQL

// 'postgres' when the daemons of this run use PostgreSQL, else 'sqlite'.
function testDb() {
  return process.env.RESETD_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

// The URL of database `name` in the cluster whose base URL is `base`
// (a libpq URL without a database name).
function pgDatabaseUrl(base, name) {
  const q = base.indexOf('?');
  const head = q === -1 ? base : base.slice(0, q);
  const query = q === -1 ? '' : base.slice(q);
  return `${head.replace(/\/$/, '')}/${name}${query}`;
}

// Runs SQL with psql on a database URL; resolves with psql's unaligned output
// (rows on lines, columns split by |).
function pgQuery(url, sql) {
  return new Promise((resolve, reject) => {
    const proc = spawn('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    proc.on('error', (e) => reject(new Error(`psql: ${e.message}`)));
    proc.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql ${sql}: exit ${code}: ${err}`))));
  });
}

// Makes a fresh database in the cluster at `base`; resolves with its URL.
async function createPgDatabase(base = process.env.RESETD_TEST_POSTGRES) {
  if (!base) throw new Error('RESETD_TEST_DB=postgres needs RESETD_TEST_POSTGRES (a cluster base URL); tests/run sets both');
  const name = `resetd_${crypto.randomBytes(6).toString('hex')}`;
  await pgQuery(pgDatabaseUrl(base, 'postgres'), `CREATE DATABASE ${name}`);
  return pgDatabaseUrl(base, name);
}

// Starts a private throwaway cluster (scripts/pg-cluster.sh in a temporary
// directory), for tests that stop and start the server. Resolves with
// {dir, url (base), stop(), start()}; it is stopped at exit.
async function startPgCluster() {
  const dir = makeTempDir('resetd-pg-');
  const run = (cmd) =>
    new Promise((resolve, reject) => {
      const proc = spawn(PG_CLUSTER, [cmd, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      proc.stderr.setEncoding('utf8').on('data', (d) => (err += d));
      proc.on('error', reject);
      proc.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`pg-cluster.sh ${cmd}: exit ${code}: ${err}`))));
    });
  const url = await run('start');
  liveClusters.add(dir);
  return {
    dir,
    url,
    stop: async () => {
      await run('stop');
    },
    start: async () => {
      await run('start');
    },
  };
}

// ---------------------------------------------------------------------------
// running the CLI

// Runs `resetd ...args` and resolves with its parsed JSON stdout. Rejects on a
// non-zero exit (message includes stderr), on unparsable stdout, or on timeout.
function runCli(bin, env, args, { input, timeoutMs = CLI_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    proc.stdin.on('error', () => {}); // the CLI may exit without reading stdin
    proc.stdin.end(input === undefined ? '' : input);
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`resetd ${args.join(' ')}: cannot run ${bin}: ${err.message}`));
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const what = `resetd ${args.join(' ')}`;
      if (timedOut) return reject(new Error(`${what}: timed out after ${timeoutMs} ms\nstderr:\n${stderr}`));
      if (code !== 0) {
        const err = new Error(`${what}: exit ${code === null ? `signal ${signal}` : code}\nstderr:\n${stderr}`);
        err.exitCode = code;
        err.stderr = stderr;
        err.stdout = stdout;
        return reject(err);
      }
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`${what}: stdout is not one JSON document (${e.message}):\n${stdout}\nstderr:\n${stderr}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------
// the daemon

// startDaemon({env, db, database, maildir, port}) -> daemon (see the fields below).
//   env      extra RESETD_* (or other) variables; undefined/null removes one
//   db       path of the SQLite file (default <tmp>/resetd.db)
//   database the whole RESETD_DATABASE value, e.g. another daemon's
//            `daemon.database` to share its database (default: the SQLite
//            file, or a fresh PostgreSQL database when RESETD_TEST_DB=postgres)
//   maildir  Maildir directory (default <tmp>/mail; the harness does not create it)
//   port     TCP port on 127.0.0.1 (default: a free one)
//   fakeClock  run the daemon and its CLI on a clock that daemon.advanceClock(s)
//            moves forward by s seconds at once (libfaketime, both the wall
//            and the monotonic clock), for expiry tests that must not sleep;
//            see fakeClockSkip. On PostgreSQL, where the daemon follows the
//            server's clock from its monotonic clock, an advance under a
//            minute (the daemon's clock refresh) is seen as it is.
// Runs `resetd migrate`, then `resetd serve`, then waits for GET /readyz = 200.
// With `admin: true` the daemon also gets an admin listener on a free port
// and a random token: daemon.adminUrl, daemon.adminToken, and
// daemon.admin(method, path, body) making an authorised request there.
// Without it, admin_listen is empty, so concurrent daemons never fight
// over the default port 8081.
async function startDaemon({ env = {}, db, database, maildir, port, fakeClock = false, admin = false } = {}) {
  const bin = assertBinary();
  const dir = makeTempDir();
  const dbPath = db || path.join(dir, 'resetd.db');
  const mailDir = maildir || path.join(dir, 'mail');
  const listenPort = port || (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const adminPort = admin ? await freePort() : null;
  const adminToken = admin ? registerSecret(crypto.randomBytes(32).toString('base64url')) : null;
  let dbUrl = database;
  if (!dbUrl) dbUrl = testDb() === 'postgres' && !db ? await createPgDatabase() : `sqlite:${dbPath}`;

  const daemon = {
    bin,
    port: listenPort,
    url,
    dir,
    dbPath,
    database: dbUrl, // RESETD_DATABASE: pass as `database` to share it
    maildir: mailDir,
    env: null,
    proc: null,
    stderrLines: [], // every stderr line of every `serve` run of this daemon (restarts included)
    stdoutLines: [],
    exitCode: undefined, // set when the current `serve` process has exited
    exitSignal: undefined,
    userEnv: { ...env },
  };

  // The clock file libfaketime reads at every call: the offset from now.
  const clockFile = path.join(dir, 'faketime');
  let clockOffset = 0;
  const clockEnv = {};
  if (fakeClock) {
    if (!fs.existsSync(FAKETIME_LIB)) throw new Error(`fakeClock: no ${FAKETIME_LIB} (apt-get install libfaketime)`);
    fs.writeFileSync(clockFile, '+0\n');
    Object.assign(clockEnv, {
      LD_PRELOAD: FAKETIME_LIB,
      FAKETIME_TIMESTAMP_FILE: clockFile,
      FAKETIME_NO_CACHE: '1',
      // ASan wants to come first among preloaded libraries; here libfaketime must.
      ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
    });
  }
  daemon.advanceClock = (seconds) => {
    if (!fakeClock) throw new Error('advanceClock: start the daemon with fakeClock: true');
    clockOffset += seconds;
    const tmp = `${clockFile}.tmp`;
    fs.writeFileSync(tmp, `+${clockOffset}\n`);
    fs.renameSync(tmp, clockFile); // never a half-written offset
  };

  const ownSecret = 'RESETD_SERVER_SECRET' in env || 'RESETD_SERVER_SECRET_FILE' in env;
  const pgSecret = /^postgres(ql)?:/.test(dbUrl) && !ownSecret ? { RESETD_SERVER_SECRET: PG_SERVER_SECRET } : {};
  daemon.env = buildEnv({
    ...pgSecret,
    RESETD_LISTEN: `127.0.0.1:${listenPort}`,
    RESETD_DATABASE: dbUrl,
    RESETD_MAIL: `maildir:${mailDir}`,
    RESETD_PUBLIC_URL: url,
    RESETD_ARGON2_MEMORY_KIB: '8192', // fast hashing for tests
    RESETD_ARGON2_OPSLIMIT: '1',
    // Every test talks from 127.0.0.1: per-address limits out of the way,
    // unless a test sets its own (tests/e2e/abuse.test.js does).
    RESETD_RATE_IP_REQUEST: '100000',
    RESETD_RATE_IP_CONFIRM: '100000',
    RESETD_RATE_IP_LOGIN: '100000',
    RESETD_RATE_IP_API: '100000',
    ...clockEnv,
    RESETD_ADMIN_LISTEN: admin ? `127.0.0.1:${adminPort}` : '',
    ...(admin ? { RESETD_ADMIN_TOKEN: adminToken } : {}),
    ...daemon.userEnv,
  });

  daemon.cli = (args, opts) => runCli(bin, daemon.env, args, opts);
  if (admin) {
    daemon.adminUrl = `http://127.0.0.1:${adminPort}`;
    daemon.adminToken = adminToken;
    daemon.admin = (method, p, body, headers = {}) =>
      request(`${daemon.adminUrl}${p}`, {
        method,
        body,
        headers: { Authorization: `Bearer ${adminToken}`, ...headers },
      });
  }
  allDaemons.push(daemon);

  daemon.running = () => daemon.proc !== null && daemon.exitCode === undefined;

  // SIGTERM, wait for exit, resolve with the exit code (null if killed by a
  // signal; see daemon.exitSignal). Rejects if it does not exit in time (and
  // then SIGKILLs it).
  daemon.stop = async ({ timeoutMs = STOP_TIMEOUT_MS } = {}) => {
    if (!daemon.running()) return daemon.exitCode;
    daemon.proc.kill('SIGTERM');
    const exited = await waitForExit(daemon, timeoutMs);
    if (!exited) {
      daemon.proc.kill('SIGKILL');
      await waitForExit(daemon, 5000);
      throw new Error(`resetd did not exit within ${timeoutMs} ms of SIGTERM\n${tail(daemon.stderrLines)}`);
    }
    return daemon.exitCode;
  };

  // Sends a signal (default SIGKILL) and waits for the process to go.
  daemon.kill = async (signal = 'SIGKILL', { timeoutMs = STOP_TIMEOUT_MS } = {}) => {
    if (!daemon.running()) return { code: daemon.exitCode, signal: daemon.exitSignal };
    daemon.proc.kill(signal);
    const exited = await waitForExit(daemon, timeoutMs);
    if (!exited) throw new Error(`resetd did not exit within ${timeoutMs} ms of ${signal}`);
    return { code: daemon.exitCode, signal: daemon.exitSignal };
  };

  // Starts `serve` again on the same database, Maildir and port (stopping the
  // current process first if it still runs). `env` overrides are merged into
  // the ones given at start. Runs `resetd migrate` again first, as a restart
  // after an upgrade would.
  daemon.restart = async ({ env: moreEnv = {}, migrate = true } = {}) => {
    if (daemon.running()) await daemon.stop();
    daemon.userEnv = { ...daemon.userEnv, ...moreEnv };
    daemon.env = buildEnv({ ...pick(daemon.env, /^RESETD_/), ...clockEnv, ...moreEnv });
    if (migrate) await daemon.cli(['migrate']);
    await spawnServe(daemon);
    return daemon;
  };

  await daemon.cli(['migrate']);
  await spawnServe(daemon);
  return daemon;
}

function pick(obj, re) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (re.test(k)) out[k] = v;
  return out;
}

function tail(lines, n = 40) {
  const t = lines.slice(-n);
  return t.length ? `last stderr lines:\n${t.join('\n')}` : '(no stderr output)';
}

function waitForExit(daemon, timeoutMs) {
  if (daemon.exitCode !== undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    daemon.proc.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function spawnServe(daemon) {
  const proc = spawn(daemon.bin, ['serve'], { env: daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.proc = proc;
  daemon.exitCode = undefined;
  daemon.exitSignal = undefined;
  liveProcs.add(proc);

  let spawnError = null;
  proc.on('error', (err) => {
    spawnError = err;
  });
  readline.createInterface({ input: proc.stderr }).on('line', (l) => daemon.stderrLines.push(l));
  readline.createInterface({ input: proc.stdout }).on('line', (l) => daemon.stdoutLines.push(l));
  proc.on('exit', (code, signal) => {
    liveProcs.delete(proc);
    if (daemon.proc === proc) {
      daemon.exitCode = code;
      daemon.exitSignal = signal;
    }
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`resetd serve: cannot run ${daemon.bin}: ${spawnError.message}`);
    if (daemon.exitCode !== undefined) {
      await sleep(50); // let the last stderr lines arrive
      throw new Error(
        `resetd serve exited before it was ready (code ${daemon.exitCode}, signal ${daemon.exitSignal})\n${tail(daemon.stderrLines)}`
      );
    }
    try {
      const res = await fetch(`${daemon.url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return daemon;
      lastProblem = `GET /readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /readyz failed: ${err.cause ? err.cause.code || err.cause.message : err.message}`;
    }
    await sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error(`resetd serve was not ready within ${READY_TIMEOUT_MS} ms (${lastProblem})\n${tail(daemon.stderrLines)}`);
}

// ---------------------------------------------------------------------------
// mail

// Parses every finished message in DIR/new (and DIR/cur), oldest first.
// Each: {file, to, toAddresses, from, subject, text, html, headers, date, raw}
//   to           the To header as text
//   toAddresses  lower-cased addresses from To
//   headers      mailparser's Map of lower-cased header names
async function readMaildir(dir) {
  const files = [];
  for (const sub of ['new', 'cur']) {
    let names;
    try {
      names = await fsp.readdir(path.join(dir, sub));
    } catch (err) {
      if (err.code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const file = path.join(dir, sub, name);
      try {
        const st = await fsp.stat(file);
        if (st.isFile()) files.push({ file, mtime: st.mtimeMs });
      } catch {
        // moved away meanwhile
      }
    }
  }
  files.sort((a, b) => a.mtime - b.mtime || a.file.localeCompare(b.file));

  const messages = [];
  for (const { file } of files) {
    let raw;
    try {
      raw = await fsp.readFile(file);
    } catch {
      continue;
    }
    const parsed = await simpleParser(raw);
    const toList = [].concat(parsed.to || []);
    messages.push({
      file,
      to: toList.map((t) => t.text).join(', '),
      toAddresses: toList.flatMap((t) => t.value.map((a) => String(a.address || '').toLowerCase())),
      from: parsed.from ? parsed.from.text : '',
      subject: parsed.subject || '',
      text: parsed.text || '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      headers: parsed.headers,
      date: parsed.date,
      raw: raw.toString('utf8'),
    });
  }
  return messages;
}

// Polls the Maildir until a message satisfies predicate; resolves with it.
async function waitForMail(dir, predicate, timeoutMs = MAIL_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  for (;;) {
    seen = await readMaildir(dir);
    const hit = seen.find(predicate);
    if (hit) return hit;
    if (Date.now() >= deadline) break;
    await sleep(100);
  }
  const summary = seen.map((m) => `  to=${m.to} subject=${JSON.stringify(m.subject)}`).join('\n') || '  (none)';
  throw new Error(`no matching mail in ${dir} within ${timeoutMs} ms; messages there:\n${summary}`);
}

// Predicate helper: a message addressed to this address.
function mailTo(address) {
  const want = address.toLowerCase();
  return (m) => m.toAddresses.includes(want);
}

// Finds the reset link in a mail's text part:
//   <reset_url or PUBLIC_URL/reset>?reset_code=<43 base64url>&user_id=<uuid>[&login_url=..&locale=..]
// Returns {url, reset_code, user_id, params} or null when there is none.
function extractResetLink(text) {
  if (!text) return null;
  const m = /https?:\/\/[^\s<>"']+[?&]reset_code=[^\s<>"']+/.exec(text);
  if (!m) return null;
  const url = m[0].replace(/[.,;:!)\]]+$/, '');
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  return {
    url,
    reset_code: parsed.searchParams.get('reset_code'),
    user_id: parsed.searchParams.get('user_id'),
    params: Object.fromEntries(parsed.searchParams),
  };
}

// Finds the typed reset code in a mail's text part: six digits alone on their
// line, as templates/mail/en/reset_code.txt writes it. Returns the code (a
// string, leading zeros kept) or null when there is none.
function extractResetCode(text) {
  if (!text) return null;
  const m = /^[ \t]*(\d{6})[ \t]*$/m.exec(text);
  return m ? m[1] : null;
}

// ---------------------------------------------------------------------------
// HTTP

// request(url, {method, headers, body, timeoutMs}) over fetch.
//   body: a plain object/array is sent as JSON; a string or Buffer is sent
//   as-is. Either way Content-Type defaults to application/json.
// Resolves with {status, headers (plain object, lower-case names), text, json}
// (json is undefined when the body is not JSON). Never follows redirects.
async function request(url, { method = 'GET', headers = {}, body, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const h = { ...headers };
  let payload;
  if (body !== undefined) {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array;
    payload = isRaw ? body : JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  }
  const res = await fetch(url, {
    method,
    headers: h,
    body: payload,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json };
}

// The same over node:http with one connection per request (Connection: close),
// for cases where fetch is awkward: large bodies the server may refuse early,
// exact control of headers. Same result shape as request(); a failure to write
// the body after the server has answered is ignored.
function rawRequest(url, { method = 'GET', headers = {}, body, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const h = { Connection: 'close', ...headers };
    if (payload !== undefined) h['Content-Length'] = String(payload.length);
    if (payload !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    let answered = false;
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        record(method, url, res.statusCode, res.headers['content-type'], text);
        resolve({ status: res.statusCode, headers: { ...res.headers }, text, json });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      if (answered) return; // e.g. EPIPE while still sending a body the server refused
      clearTimeout(timer);
      reject(err);
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Wait until no message of d's outbox is pending: each one queued so far
// is sent, dead or dropped, so the mail it makes is all there will be. A
// test that checks that no more mail came waits for this, not for a while.
async function waitOutboxSettled(d, { timeoutMs = 20000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await d.cli(['outbox', 'list', '--state', 'pending', '--limit', '10000']);
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox: ${pending.length} messages still pending after ${timeoutMs} ms`);
    await sleep(50);
  }
}

// Debian's libfaketime (package libfaketime), for startDaemon's fakeClock.
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

// A test's skip option when fakeClock cannot work here: false, or why.
function fakeClockSkip() {
  return !fs.existsSync(FAKETIME_LIB) && `no ${FAKETIME_LIB} (apt-get install libfaketime)`;
}

module.exports = {
  fakeClockSkip,
  waitOutboxSettled,
  REPO_ROOT,
  testDb,
  pgQuery,
  createPgDatabase,
  startPgCluster,
  secrets,
  registerSecret,
  leakedSecrets,
  binPath,
  assertBinary,
  freePort,
  makeTempDir,
  startDaemon,
  runCli,
  readMaildir,
  waitForMail,
  mailTo,
  extractResetLink,
  extractResetCode,
  request,
  rawRequest,
  sleep,
};
