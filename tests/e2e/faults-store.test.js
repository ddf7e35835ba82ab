'use strict';
// Faults below the daemon: a full disk under the SQLite database, a relay
// that goes away and comes back, a relay that accepts and never answers.
// The real daemon, a real tmpfs (mounted here: the tests run as root), a
// real SMTP server (tests/e2e/lib/smtp.js) and a raw socket that says nothing.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');
const { startSmtp } = require('./lib/smtp');

const TEST_TIMEOUT = 120000;
const TARGET = 'AWSCognitoIdentityProviderService.';
const AMZ_JSON = 'application/x-amz-json-1.1';
const daemons = [];
const servers = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

async function startDaemon(opts) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

after(async () => {
  for (const d of daemons) {
    if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  }
  for (const s of servers) await s.stop();
});

// Lines a daemon logged at warn or error level, from index `from` on.
function complaints(d, from = 0) {
  return d.stderrLines.slice(from).filter((l) => /"level":"(error|warn)"/.test(l));
}

// ---------------------------------------------------------------------------
// a full disk

// Mounts a tmpfs of `size` on a fresh folder; null when mounting is not
// permitted here (the caller skips, saying why).
function mountTmpfs(size) {
  const dir = h.makeTempDir('resetd-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return { dir: null, why: String(err.stderr || err.message).trim() };
  }
  return { dir, why: null };
}

function unmount(dir) {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

// Appends zeros to file until the file system refuses; returns bytes written.
function fillUp(file) {
  const chunk = Buffer.alloc(16 * 1024);
  const fd = fs.openSync(file, 'a');
  let n = 0;
  try {
    for (;;) {
      try {
        n += fs.writeSync(fd, chunk);
      } catch (err) {
        if (err.code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

// One write through each face, and the failure shape each must have when
// the write cannot be stored. Each returns the response.
function faces(d, t) {
  const cognito = (userName) => h.request(`${d.url}/`, {
    method: 'POST',
    headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` },
    body: JSON.stringify({ ClientId: t.client.client_id, Username: userName }),
  });
  const velocity = (userName) => h.request(`${d.url}/password/forgot`, {
    method: 'POST',
    headers: { userpoolid: t.project.id, appclientid: t.client.client_id },
    body: { userName },
  });
  const workos = (email) => h.request(`${d.url}/user_management/password_reset`, {
    method: 'POST', headers: { Authorization: `Bearer ${t.key}` }, body: { email },
  });
  const xsolla = (username) => h.request(`${d.url}/api/password/reset/request?projectId=${t.project.id}`, {
    method: 'POST', body: { username },
  });
  const pages = async (email) => {
    const form = await h.request(`${d.url}/forgot?project=${t.project.id}`);
    const cookie = /__Host-resetd-form=([^;]*)/.exec([].concat(form.headers['set-cookie'] || []).join(','));
    const csrf = /name="csrf" value="([^"]*)"/.exec(form.text);
    assert.ok(cookie && csrf, `the forgot form: ${show(form)}`);
    return h.request(`${d.url}/forgot`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `__Host-resetd-form=${cookie[1]}` },
      body: new URLSearchParams({ project: t.project.id, csrf: csrf[1], email }).toString(),
    });
  };
  return [
    { name: 'Xsolla', send: xsolla, ok: (r) => r.status === 204,
      failed: (r) => r.status === 503 && r.json && r.json.error && r.json.error.code === '900-503' },
    { name: 'WorkOS', send: workos, ok: (r) => r.status === 201 || r.status === 200,
      failed: (r) => r.status === 503 && r.json && r.json.code === 'service_unavailable' },
    // Cognito's shape for a failure of its own is InternalErrorException.
    { name: 'Cognito', send: cognito, ok: (r) => r.status === 200,
      failed: (r) => r.status >= 500 && r.json && r.json.__type === 'InternalErrorException' },
    { name: 'Velocity', send: velocity, ok: (r) => r.status === 200,
      failed: (r) => r.status >= 500 && r.json && r.json.error && r.json.error.code === 'InternalErrorException' },
    { name: 'pages', send: pages, ok: (r) => r.status === 200,
      failed: (r) => r.status === 503 && /<html/i.test(r.text) },
  ];
}

describe('a full disk under the SQLite database', () => {
  let mnt = null;
  after(() => { if (mnt && mnt.dir) unmount(mnt.dir); });

  it('writes fail with 503 in each face\'s shape, /readyz says so, a little space brings it back, the database is intact', { timeout: TEST_TIMEOUT }, async (t) => {
    if (h.testDb() !== 'sqlite') return t.skip('the full disk is a SQLite test');
    mnt = mountTmpfs('6m');
    if (!mnt.dir) return t.skip(`cannot mount a tmpfs here (${mnt.why}); the full-disk test needs root`);
    const dbPath = path.join(mnt.dir, 'resetd.db');
    const d = await startDaemon({ db: dbPath, env: { RESETD_MAIL_WORKERS: '0' } });
    const tenant = { project: await d.cli(['project', 'create', '--name', uniq('disk')]) };
    tenant.key = (await d.cli(['apikey', 'create', '--project', tenant.project.id])).key;
    h.registerSecret(tenant.key);
    tenant.client = await d.cli(['client', 'create', '--project', tenant.project.id]);
    const emails = Array.from({ length: 40 }, (_, i) => `disk${i}@example.com`);
    await d.cli(['user', 'import', '--project', tenant.project.id],
      { input: emails.map((email) => JSON.stringify({ email })).join('\n') });
    const fs5 = faces(d, tenant);
    for (const f of fs5) {
      const r = await f.send(emails[0]);
      assert.ok(f.ok(r), `${f.name} before the disk is full: ${show(r)}`);
    }

    // Fill the disk: a small file to free later, then everything else.
    // A failed commit makes the daemon truncate its WAL, which gives back
    // the space that commit had taken, so the filler takes it again before
    // each write: the disk stays full to the last byte.
    const small = path.join(mnt.dir, 'filler-small');
    const big = path.join(mnt.dir, 'filler-big');
    fs.writeFileSync(small, Buffer.alloc(512 * 1024));
    fillUp(big);
    const fullFrom = d.stderrLines.length;

    // Every face answers its own failure shape, many times over.
    let n = 0;
    for (let round = 0; round < 20; round++) {
      for (const f of fs5) {
        fillUp(big);
        const r = await f.send(emails[2 + (round % 30)]);
        assert.ok(f.failed(r), `${f.name} on a full disk (round ${round}): ${show(r)}`);
        n++;
      }
    }
    fillUp(big);
    const ready = await h.request(`${d.url}/readyz`);
    assert.equal(ready.status, 503, `/readyz on a full disk: ${show(ready)}`);
    assert.equal((await h.request(`${d.url}/healthz`)).status, 200, '/healthz is about the process only');
    const noisy = complaints(d, fullFrom);
    assert.ok(noisy.length <= 5, `${n} failed writes logged ${noisy.length} warnings and errors:\n${noisy.slice(0, 10).join('\n')}`);

    // Free a little space: writes work again by themselves, and go on
    // working for many more writes than that space could hold as WAL.
    fs.unlinkSync(small);
    const deadline = Date.now() + 10000;
    let back = null;
    while (Date.now() < deadline) {
      const r = await h.request(`${d.url}/readyz`);
      if (r.status === 200) { back = r; break; }
      await h.sleep(200);
    }
    assert.ok(back, '/readyz did not recover after space was freed');
    let okCount = 0;
    for (let i = 0; i < 100; i++) {
      const f = fs5[i % fs5.length];
      const r = await f.send(emails[i % emails.length]);
      assert.ok(f.ok(r), `${f.name} write ${i} after freeing 512 KiB: ${show(r)}`);
      okCount++;
    }
    assert.equal(okCount, 100);
    assert.ok(d.stderrLines.slice(fullFrom).some((l) => l.includes('writes work again')), 'the recovery is logged');

    assert.equal(await d.stop(), 0);
    const check = execFileSync('sqlite3', [dbPath, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
    assert.equal(check, 'ok');
  });
});

// ---------------------------------------------------------------------------
// readiness on PostgreSQL

describe('/readyz on PostgreSQL when writes fail', () => {
  it('a read-only database makes /readyz 503, and it recovers by itself when writable again', { timeout: TEST_TIMEOUT }, async (t) => {
    if (h.testDb() !== 'postgres') return t.skip('a PostgreSQL test');
    const d = await startDaemon({ env: { RESETD_MAIL_WORKERS: '0' } });
    const m = /^(.*\/)([A-Za-z0-9_]+)(\?.*)?$/.exec(d.database);
    assert.ok(m, `a database URL: ${d.database}`);
    const name = m[2];
    const admin = `${m[1]}postgres${m[3] || ''}`;
    const project = await d.cli(['project', 'create', '--name', uniq('ro')]);
    const reset = () => h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
      method: 'POST', body: { username: 'nobody@example.com' },
    });
    // Every connection the daemon has, closed: it reconnects with the new default.
    const reconnect = () => h.pgQuery(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    assert.equal((await reset()).status, 204);
    assert.equal((await h.request(`${d.url}/readyz`)).status, 200);

    await h.pgQuery(admin, `ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await reconnect();
    // The first request after the cut may meet a dead connection: any 503.
    let r;
    for (let i = 0; i < 3; i++) r = await reset();
    assert.equal(r.status, 503, `a write to a read-only database: ${show(r)}`);
    await h.sleep(1100); // past the probe spacing
    const ready = await h.request(`${d.url}/readyz`);
    assert.equal(ready.status, 503, `/readyz with a read-only database: ${show(ready)}`);

    await h.pgQuery(admin, `ALTER DATABASE ${name} SET default_transaction_read_only = off`);
    await reconnect();
    const deadline = Date.now() + 10000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await h.request(`${d.url}/readyz`)).status;
      if (status !== 200) await h.sleep(250);
    }
    assert.equal(status, 200, '/readyz did not recover without traffic');
    assert.equal((await reset()).status, 204);
  });
});

// ---------------------------------------------------------------------------
// mail after an outage of the relay

// Polls the outbox (through the CLI) until predicate(list) holds.
async function waitOutbox(d, predicate, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let list = [];
  while (Date.now() < deadline) {
    list = await d.cli(['outbox', 'list', '--limit', '1000']);
    if (predicate(list)) return list;
    await h.sleep(100);
  }
  throw new Error(`outbox: ${what} not reached within ${timeoutMs} ms:\n${JSON.stringify(list, null, 1).slice(0, 2000)}`);
}

describe('mail after an outage of the relay', () => {
  it('once the relay is back, the queue drains in seconds, not at each message\'s backoff', { timeout: TEST_TIMEOUT }, async () => {
    const smtp = await startSmtp({ tls: false });
    servers.push(smtp);
    // The first retry of a failed message is 30 s away (+-25%).
    const env = {
      RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}`,
      RESETD_MAIL_STARTTLS: 'off',
      RESETD_MAIL_POLL_MS: '100',
      RESETD_MAIL_BACKOFF_MS: '30000',
      RESETD_MAIL_WORKERS: '2',
    };
    const a = await startDaemon({ env });
    // On PostgreSQL a second instance shares the database and the queue.
    const b = h.testDb() === 'postgres' ? await startDaemon({ env, database: a.database }) : a;
    const project = await a.cli(['project', 'create', '--name', uniq('relay')]);
    const emails = Array.from({ length: 21 }, (_, i) => `relay${i}-${uniq('u')}@example.com`);
    await a.cli(['user', 'import', '--project', project.id],
      { input: emails.map((email) => JSON.stringify({ email })).join('\n') });
    const request = (d, email) => h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
      method: 'POST', body: { username: email },
    });

    await smtp.stop();
    for (let i = 0; i < 20; i++) assert.equal((await request(i % 2 ? b : a, emails[i])).status, 204);
    await waitOutbox(a, (l) => l.filter((m) => m.state === 'pending' && m.last_error).length === 20,
      'twenty messages failed once and waiting');

    await smtp.start();
    const t0 = Date.now();
    // New mail goes out at once, and so shows the relay is back.
    assert.equal((await request(a, emails[20])).status, 204);
    await smtp.waitFor((ms) => emails.every((e) => ms.some((m) => m.to.includes(e.toLowerCase()))), 10000,
      'all 21 messages after the relay came back');
    const drained = Date.now() - t0;
    process.stderr.write(`relay outage: 21 messages drained ${drained} ms after the relay came back\n`);
    assert.ok(drained < 10000, `drained in ${drained} ms`);
    assert.ok(a.stderrLines.concat(b === a ? [] : b.stderrLines).some((l) => l.includes('sending works again')),
      'the recovery is logged');
  });

  it('a greylisted message keeps its backoff: only a failure of the relay itself brings waiting mail back early', { timeout: TEST_TIMEOUT }, async () => {
    let greyTries = 0;
    const smtp = await startSmtp({
      tls: false,
      refuse: (address) => {
        if (!address.startsWith('grey-')) return null;
        greyTries++;
        return { code: 451, message: '4.7.1 greylisted, come back later' };
      },
    });
    servers.push(smtp);
    const d = await startDaemon({
      env: {
        RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}`,
        RESETD_MAIL_STARTTLS: 'off',
        RESETD_MAIL_POLL_MS: '100',
        RESETD_MAIL_BACKOFF_MS: '30000',
      },
    });
    const project = await d.cli(['project', 'create', '--name', uniq('grey')]);
    const grey = `grey-${uniq('u')}@example.com`;
    const others = Array.from({ length: 5 }, (_, i) => `plain${i}-${uniq('u')}@example.com`);
    await d.cli(['user', 'import', '--project', project.id],
      { input: [grey, ...others].map((email) => JSON.stringify({ email })).join('\n') });
    const request = (email) => h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
      method: 'POST', body: { username: email },
    });
    assert.equal((await request(grey)).status, 204);
    await waitOutbox(d, (l) => l.some((m) => m.to === grey && m.state === 'pending' && m.last_error), 'the greylisted try');
    // Other mail goes out fine after it; the greylisted one waits its 30 s.
    for (const e of others) {
      assert.equal((await request(e)).status, 204);
      await smtp.waitForMail(e, 10000);
    }
    await h.sleep(1000);
    assert.equal(greyTries, 1, 'the greylisted message was tried again before its backoff');
    assert.ok(!d.stderrLines.some((l) => l.includes('sending works again')), 'a 4xx to one message is no outage');
  });

  it('SIGTERM ends a send stuck on a relay that never answers, at once, and the message is due again', { timeout: TEST_TIMEOUT }, async () => {
    // A relay that greets, answers EHLO, and then says nothing, ever: past
    // the connect timeout, so only the send timeout (30 s) would end it.
    const sockets = new Set();
    const mute = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.write('220 mute.test ESMTP\r\n');
      let greeted = false;
      sock.on('data', (chunk) => {
        if (!greeted && /^(EHLO|HELO)/i.test(chunk.toString())) {
          greeted = true;
          sock.write('250 mute.test\r\n');
        }
      });
    });
    await new Promise((resolve) => mute.listen(0, '127.0.0.1', resolve));
    after(() => { for (const s of sockets) s.destroy(); mute.close(); });
    const d = await startDaemon({
      env: {
        RESETD_MAIL: `smtp://127.0.0.1:${mute.address().port}`,
        RESETD_MAIL_STARTTLS: 'off',
        RESETD_MAIL_POLL_MS: '100',
        RESETD_MAIL_SEND_TIMEOUT_MS: '30000',
      },
    });
    const project = await d.cli(['project', 'create', '--name', uniq('mute')]);
    const email = `${uniq('mute')}@example.com`;
    await d.cli(['user', 'create', '--project', project.id, '--email', email]);
    assert.equal((await h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
      method: 'POST', body: { username: email },
    })).status, 204);
    const deadline = Date.now() + 10000;
    while (sockets.size === 0 && Date.now() < deadline) await h.sleep(50);
    assert.ok(sockets.size > 0, 'the sender never connected');
    await h.sleep(1500); // well into the silent exchange

    const t0 = Date.now();
    const code = await d.stop({ timeoutMs: 20000 });
    const took = Date.now() - t0;
    process.stderr.write(`hung relay: SIGTERM to exit took ${took} ms (send timeout 30000 ms)\n`);
    assert.equal(code, 0);
    assert.ok(took < 5000, `SIGTERM took ${took} ms with a send stuck`);

    // The interrupted message is due again at once, not after its lease.
    const [m] = await d.cli(['outbox', 'list', '--limit', '10']);
    assert.equal(m.state, 'pending');
    const smtp = await startSmtp({ tls: false });
    servers.push(smtp);
    await d.restart({ env: { RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}` } });
    await smtp.waitForMail(email, 10000);
  });
});
