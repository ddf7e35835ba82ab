'use strict';
// Faults of the server's connection life: a stop under load, a port in use,
// a small file-handle limit, slow and many clients, huge bodies. Each test
// starts the real daemon and drives it over loopback only.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { spawn } = require('node:child_process');
const h = require('./lib/harness');

// The daemon's whole stop budget (src/main.c DRAIN_MS), plus slack for a
// loaded machine to deliver the exit.
const DRAIN_MS = 10000;
const EXIT_SLACK_MS = 3000;

const daemons = [];
after(async () => {
  for (const d of daemons) if (d.running()) await d.kill('SIGKILL');
});

async function start(env = {}) {
  const d = await h.startDaemon({ env: { RESETD_MAX_CONNECTIONS_PER_IP: '0', ...env } });
  daemons.push(d);
  return d;
}

// POST a JSON body over agent; resolves with {status, headers, text}, or with
// {error} when the connection failed (refused, reset, closed before an answer).
function post(agent, url, body, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (error) => resolve({ error }));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error }));
    req.end(payload);
  });
}

// Sends SIGTERM and resolves with {code, signal, ms} once the process exits,
// or rejects when it has not exited within the drain time and the slack.
function termAndTime(d) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const timer = setTimeout(() => reject(new Error(`no exit within ${DRAIN_MS + EXIT_SLACK_MS} ms of SIGTERM`)), DRAIN_MS + EXIT_SLACK_MS);
    d.proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - t0 });
    });
    d.proc.kill('SIGTERM');
  });
}

// Waits until every address in want has a message in the Maildir.
async function missingMail(d, want, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let got = new Set();
  while (Date.now() < deadline) {
    got = new Set((await h.readMaildir(d.maildir)).flatMap((m) => m.toAddresses));
    if ([...want].every((e) => got.has(e))) return [];
    await h.sleep(250);
  }
  return [...want].filter((e) => !got.has(e));
}

describe('a stop under load', () => {
  it('SIGTERM under keep-alive load exits 0 in time, and every answered request is mailed', { timeout: 120000 }, async () => {
    const USERS = 400;
    const CLIENTS = 64;
    // Mail stays in the outbox until the restart. A 50 ms floor keeps every
    // client's request in flight nearly all the time, as wrk's do.
    const d = await start({ RESETD_MAIL_WORKERS: '0', RESETD_RESET_FLOOR_MS: '50' });
    const project = await d.cli(['project', 'create', '--name', 'stop']);
    const emails = Array.from({ length: USERS }, (_, i) => `stop${i}@faults.example`);
    await d.cli(['user', 'import', '--project', project.id],
      { input: emails.map((email) => JSON.stringify({ email })).join('\n') });

    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const url = `${d.url}/password/reset/request?projectId=${project.id}`;
    const answered = new Set();
    const statuses = {};
    let closes = 0;
    let running = true;
    let next = 0;
    const client = async () => {
      while (running) {
        const email = emails[next++ % USERS];
        const r = await post(agent, url, { username: email });
        if (r.error) {
          if (!d.running()) break;
          await h.sleep(5);
          continue;
        }
        statuses[r.status] = (statuses[r.status] || 0) + 1;
        if (r.status === 204) answered.add(email);
        if (String(r.headers.connection).toLowerCase() === 'close') closes++;
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await h.sleep(1500);
    assert.ok(answered.size > 0, 'no request answered before the stop');
    const stop = await termAndTime(d);
    running = false;
    await Promise.all(clients);
    agent.destroy();

    assert.equal(stop.signal, null, `killed by ${stop.signal}\n${d.stderrLines.slice(-20).join('\n')}`);
    assert.equal(stop.code, 0, d.stderrLines.slice(-20).join('\n'));
    assert.ok(stop.ms < DRAIN_MS, `exit took ${stop.ms} ms`);
    // Nothing held the stop: it took far less than the drain time.
    assert.ok(stop.ms < DRAIN_MS / 2, `exit took ${stop.ms} ms under keep-alive load`);
    assert.ok(closes > 0, 'no answer during the stop said Connection: close');
    assert.deepEqual(Object.keys(statuses).filter((s) => s !== '204'), [], JSON.stringify(statuses));

    await d.restart({ env: { RESETD_MAIL_WORKERS: '1', RESETD_MAIL_POLL_MS: '100' } });
    const missing = await missingMail(d, answered);
    assert.deepEqual(missing, [], `${missing.length} answered requests lost their mail`);
    await d.stop();
  });

  it('SIGTERM with 1,000 slow requests queued exits 0 in time; queued ones get 503', { timeout: 120000 }, async () => {
    const N = 1000;
    // Heavy hashing: the queue takes far longer than the drain time.
    const d = await start({
      RESETD_ARGON2_MEMORY_KIB: '65536', RESETD_ARGON2_OPSLIMIT: '2', RESETD_HASH_CONCURRENCY: '1', RESETD_WORKERS: '8',
    });
    const project = await d.cli(['project', 'create', '--name', 'confirms']);
    const password = h.registerSecret('a long enough passphrase 7');
    await d.cli(['user', 'create', '--project', project.id, '--email', 'many@faults.example', '--password-stdin'], { input: password });

    const agent = new http.Agent({ keepAlive: true, maxSockets: N });
    const url = `${d.url}/login?projectId=${project.id}`;
    const results = [];
    const all = Array.from({ length: N }, () =>
      post(agent, url, { username: 'many@faults.example', password }, 30000).then((r) => results.push(r)));
    await h.sleep(1500);
    const stop = await termAndTime(d);
    await Promise.all(all);
    agent.destroy();

    assert.equal(stop.signal, null, `killed by ${stop.signal}\n${d.stderrLines.slice(-20).join('\n')}`);
    assert.equal(stop.code, 0, d.stderrLines.slice(-20).join('\n'));
    assert.ok(stop.ms < DRAIN_MS + 500, `exit took ${stop.ms} ms`);
    const by = {};
    for (const r of results) {
      const k = r.error ? 'error' : String(r.status);
      by[k] = (by[k] || 0) + 1;
    }
    assert.ok(by['200'] > 0, JSON.stringify(by));
    assert.ok(by['503'] > 0, `no queued request was answered 503: ${JSON.stringify(by)}`);
    assert.deepEqual(Object.keys(by).filter((k) => !['200', '503', 'error'].includes(k)), [], JSON.stringify(by));
  });
});

describe('one daemon per port', () => {
  it('a second instance on a port in use exits non-zero, and the first keeps all the traffic', { timeout: 60000 }, async () => {
    const first = await start();
    const project = await first.cli(['project', 'create', '--name', 'first']);
    await first.cli(['user', 'create', '--project', project.id, '--email', 'port@faults.example']);

    // Its own database: a project of the first is unknown to it. (Not
    // through startDaemon: its readiness probe would reach the first.)
    const env = { ...first.env, RESETD_DATABASE: `sqlite:${h.makeTempDir()}/second.db` };
    await h.runCli(first.bin, env, ['migrate']);
    const second = spawn(first.bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    second.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
    const exit = await new Promise((resolve) => {
      const timer = setTimeout(() => { second.kill('SIGKILL'); resolve({ code: 'still running' }); }, 10000);
      second.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
    });
    assert.notEqual(exit.code, 'still running', 'the second instance serves on a port in use');
    assert.ok(exit.code > 0, `second instance: ${JSON.stringify(exit)}`);
    assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+: address already in use/);

    // Fresh connections each time, so that any listener could take one.
    const statuses = {};
    for (let i = 0; i < 60; i++) {
      const r = await h.rawRequest(`${first.url}/password/reset/request?projectId=${project.id}`,
        { method: 'POST', body: { username: 'port@faults.example' } });
      statuses[r.status] = (statuses[r.status] || 0) + 1;
    }
    assert.deepEqual(statuses, { 204: 60 });
    assert.equal(await first.stop(), 0);
  });
});
