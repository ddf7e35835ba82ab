'use strict';
// Several resetd instances on one PostgreSQL database, and PostgreSQL going
// away and coming back. Runs only on the PostgreSQL pass of the suite
// (RESETD_TEST_DB=postgres, RESETD_TEST_POSTGRES=<cluster base URL>; tests/run
// sets both); on the SQLite pass it is skipped.

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const h = require('./lib/harness');

const TEST_TIMEOUT = 90000;
const ON_POSTGRES = h.testDb() === 'postgres';
const SKIP = ON_POSTGRES ? false : 'PostgreSQL only (RESETD_TEST_DB=postgres)';
const CALLBACK_URL = 'http://localhost:3999/cb';
// Debian's libfaketime (package libfaketime) shifts one process's clocks.
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

const daemons = [];

// ---------------------------------------------------------------------------
// helpers

// The schema versions this build knows, in order: the numbers of
// store/schema.c's store_migrations list.
function knownMigrations() {
  const src = fs.readFileSync(`${__dirname}/../../src/store/schema.c`, 'utf8');
  const list = src.slice(src.indexOf('store_migrations[] = {'));
  return [...list.matchAll(/^\t\{ (\d+), "/gm)].map((m) => Number(m[1]));
}

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
}

async function startDaemon(opts) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

async function call(d, method, path, { projectId, body, headers } = {}) {
  const u = new URL(`/api${path}`, d.url);
  if (projectId !== undefined) u.searchParams.set('projectId', projectId);
  return h.request(u.href, { method, headers, body });
}

const requestReset = (d, project, username) => call(d, 'POST', '/password/reset/request', { projectId: project.id, body: { username } });
const confirmReset = (d, project, body) => call(d, 'POST', '/password/reset/confirm', { projectId: project.id, body });
const login = (d, project, username, password) => call(d, 'POST', '/login', { projectId: project.id, body: { username, password } });

function assertXsollaError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(res.json && res.json.error, `${what}: no error envelope: ${show(res)}`);
  assert.strictEqual(res.json.error.code, code, `${what}: ${show(res)}`);
}

async function newProject(d) {
  return d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', CALLBACK_URL]);
}

async function newUser(d, project, { password = true } = {}) {
  const email = `${uniq('user')}@example.com`;
  const pass = password ? newPassword() : undefined;
  const args = ['user', 'create', '--project', project.id, '--email', email];
  const user = await d.cli(password ? [...args, '--password-stdin'] : args, { input: pass });
  return { ...user, email, password: pass };
}

// Runs fn over items with at most `limit` at once; resolves with the results in order.
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// Every message in the Maildirs of the given daemons, tagged with its daemon.
async function allMail(ds) {
  const all = [];
  for (const d of ds) for (const m of await h.readMaildir(d.maildir)) all.push({ ...m, daemon: d });
  return all;
}

// Waits for the first reset mail to `email` in any of the daemons' Maildirs.
async function resetLink(ds, email, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await allMail(ds)).find((m) => m.toAddresses.includes(email.toLowerCase()) && h.extractResetLink(m.text));
    if (hit) return h.extractResetLink(hit.text);
    if (Date.now() > deadline) throw new Error(`no reset mail to ${email} within ${timeoutMs} ms`);
    await h.sleep(50);
  }
}

async function waitFor(what, fn, timeoutMs = 15000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await h.sleep(stepMs);
  }
}

function tokenOf(res) {
  return new URL(res.json.login_url).searchParams.get('token');
}

// ---------------------------------------------------------------------------

describe('PostgreSQL: several instances, one database', { skip: SKIP }, () => {
  after(async () => {
    for (const d of daemons) {
      if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
    }
  });

  it('instances starting together all migrate the same fresh database', { timeout: TEST_TIMEOUT }, async () => {
    const a = await startDaemon();
    const database = await h.createPgDatabase();
    const env = { ...a.env, RESETD_DATABASE: database };
    const runs = await Promise.all(Array.from({ length: 6 }, () => h.runCli(a.bin, env, ['migrate'])));
    for (const r of runs) assert.equal(r.status, 'migrated');
    // Every version the binary knows, each once.  Numbers are handed out
    // to branches in advance, so the list may have gaps (store/schema.c).
    const versions = (await h.pgQuery(database, 'SELECT version FROM schema_migrations ORDER BY version'))
      .trim().split('\n').map(Number);
    assert.deepEqual(versions, knownMigrations(), `each migration is recorded once: ${versions}`);
  });

  it('a reset requested through A is confirmed through B, and B logs the user in', { timeout: TEST_TIMEOUT }, async () => {
    const a = await startDaemon();
    const b = await startDaemon({ database: a.database });
    const project = await newProject(a);
    const user = await newUser(a, project);

    assert.equal((await requestReset(a, project, user.email)).status, 204);
    const link = await resetLink([a, b], user.email);
    const pass = newPassword();
    const res = await confirmReset(b, project, { new_password: pass, reset_code: link.reset_code, user_id: link.user_id });
    assert.equal(res.status, 204, `confirm through B: ${show(res)}`);
    const ok = await login(b, project, user.email, pass);
    assert.equal(ok.status, 200, `login through B with the new password: ${show(ok)}`);
    assertXsollaError(await login(a, project, user.email, user.password), 401, '003-001', 'old password through A');
  });

  it('a login on A is revoked by a reset through B', { timeout: TEST_TIMEOUT }, async () => {
    const a = await startDaemon();
    const b = await startDaemon({ database: a.database });
    const project = await newProject(a);
    const user = await newUser(a, project);

    const signedIn = await login(a, project, user.email, user.password);
    assert.equal(signedIn.status, 200, `login on A: ${show(signedIn)}`);
    const token = tokenOf(signedIn);
    const auth = { Authorization: `Bearer ${token}` };
    assert.equal((await call(a, 'GET', '/users/me', { headers: auth })).status, 200, 'the token works on A');
    assert.equal((await call(b, 'GET', '/users/me', { headers: auth })).status, 200, 'the token works on B (shared signing key)');

    assert.equal((await requestReset(b, project, user.email)).status, 204);
    const link = await resetLink([a, b], user.email);
    const res = await confirmReset(b, project, { new_password: newPassword(), reset_code: link.reset_code, user_id: link.user_id });
    assert.equal(res.status, 204, `confirm through B: ${show(res)}`);

    assertXsollaError(await call(a, 'GET', '/users/me', { headers: auth }), 401, '002-016', 'users/me on A after the reset through B');
  });

  it('200 queued messages are delivered exactly once in all, by both workers', { timeout: TEST_TIMEOUT }, async () => {
    const a = await startDaemon();
    const b = await startDaemon({ database: a.database });
    const project = await newProject(a);
    const users = await pool(Array.from({ length: 200 }), 8, (_, i) => newUser(i % 2 ? a : b, project, { password: false }));

    const answers = await pool(users, 20, (u, i) => requestReset(i % 2 ? a : b, project, u.email));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [204], 'every request is answered 204');

    await waitFor('200 reset mails', async () => (await allMail([a, b])).length >= 200, 30000);
    await h.sleep(1000); // a duplicate, if any, would arrive meanwhile
    const mail = await allMail([a, b]);
    assert.equal(mail.length, 200, `exactly 200 messages, got ${mail.length}`);
    const perUser = new Map();
    for (const m of mail) for (const to of m.toAddresses) perUser.set(to, (perUser.get(to) || 0) + 1);
    for (const u of users) assert.equal(perUser.get(u.email.toLowerCase()), 1, `one message to ${u.email}`);
    const byA = mail.filter((m) => m.daemon === a).length;
    assert.ok(byA > 0 && byA < 200, `both instances deliver (A sent ${byA}, B ${200 - byA})`);

    const rows = await h.pgQuery(a.database, "SELECT state, tries, COUNT(*) FROM outbox WHERE kind = 'reset_link' GROUP BY 1, 2");
    assert.equal(rows.trim(), 'sent|1|200', 'every message was claimed once and marked sent');
  });

  it('messages claimed by an instance killed with SIGKILL are delivered by another after the lease', { timeout: TEST_TIMEOUT }, async () => {
    // Q only queues; A then claims all three in one batch (a batch is at
    // most four messages) and holds its
    // claims (mail_test_hold_ms) until it is killed; Q, restarted with a
    // sender, must wait out A's lease.
    const q = await startDaemon({ env: { RESETD_MAIL_WORKERS: '0' } });
    const project = await newProject(q);
    const users = await pool(Array.from({ length: 3 }), 3, () => newUser(q, project, { password: false }));
    for (const u of users) assert.equal((await requestReset(q, project, u.email)).status, 204);
    const a = await startDaemon({
      database: q.database,
      env: { RESETD_MAIL_LEASE_SECONDS: '3', RESETD_MAIL_TEST_HOLD_MS: '600000' },
    });

    // id -> end of A's lease
    const leaseEnds = await waitFor('A to claim all three messages', async () => {
      const out = await h.pgQuery(a.database, "SELECT id, next_try_at FROM outbox WHERE kind = 'reset_link' AND tries = 1 AND state = 'pending'");
      const rows = out.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
      return rows.length === 3 ? new Map(rows.map(([id, end]) => [id, Number(end)])) : null;
    });
    await a.kill('SIGKILL');
    assert.deepEqual(await h.readMaildir(a.maildir), [], 'A delivered nothing before it died');

    const b = await q.restart({ env: { RESETD_MAIL_WORKERS: '1', RESETD_MAIL_POLL_MS: '200' } });
    await waitFor('B to deliver the three messages', async () => (await h.readMaildir(b.maildir)).length >= 3, 20000);
    const rows = await h.pgQuery(a.database, "SELECT id, state, tries, sent_at FROM outbox WHERE kind = 'reset_link'");
    for (const line of rows.trim().split('\n')) {
      const [id, state, tries, sentAt] = line.split('|');
      assert.equal(state, 'sent');
      assert.equal(tries, '2', 'claimed by A, then by B');
      assert.ok(Number(sentAt) >= leaseEnds.get(id), `message ${id} sent at ${sentAt}, before A's lease ended at ${leaseEnds.get(id)}`);
    }
    assert.equal((await h.readMaildir(b.maildir)).length, 3, 'each message once');
  });

  it('an instance whose clock is two hours ahead still follows the database clock for expiry', { timeout: TEST_TIMEOUT, skip: !fs.existsSync(FAKETIME_LIB) && `no ${FAKETIME_LIB} (apt-get install libfaketime)` }, async () => {
    const a = await startDaemon();
    // B's own clock runs two hours ahead. ASan wants to come first among
    // preloaded libraries; here libfaketime must, so ASan is told not to check.
    const b = await startDaemon({
      database: a.database,
      env: {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME: '+2h',
        ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
      },
    });
    const project = await newProject(a); // secrets live one hour
    assert.equal(project.token_ttl, 3600);
    const user = await newUser(a, project);
    const signedIn = await login(a, project, user.email, user.password);
    assert.equal(signedIn.status, 200);
    const auth = { Authorization: `Bearer ${tokenOf(signedIn)}` };

    // By B's own clock this one-hour secret expired an hour ago; by the database's it is fresh.
    assert.equal((await requestReset(a, project, user.email)).status, 204);
    const link = await resetLink([a, b], user.email);
    assert.equal((await call(b, 'GET', '/users/me', { headers: auth })).status, 200, 'B accepts a fresh session token');
    const pass = newPassword();
    const res = await confirmReset(b, project, { new_password: pass, reset_code: link.reset_code, user_id: link.user_id });
    assert.equal(res.status, 204, `confirm through B, whose clock is ahead: ${show(res)}`);

    // And what B writes is stamped with the database's time, not its own.
    const [stamp, dbNow] = (await h.pgQuery(a.database,
      `SELECT updated_at, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM users WHERE id = '${user.id}'`)).trim().split('|').map(Number);
    assert.ok(Math.abs(dbNow - stamp) < 60000, `B stamped the new password at ${stamp}, the database clock says ${dbNow}`);
  });

  it('50 concurrent confirms of one secret, split across two instances: exactly one succeeds', { timeout: TEST_TIMEOUT }, async () => {
    const a = await startDaemon();
    const b = await startDaemon({ database: a.database });
    const project = await newProject(a);
    const user = await newUser(a, project);
    assert.equal((await requestReset(a, project, user.email)).status, 204);
    const link = await resetLink([a, b], user.email);

    const passwords = Array.from({ length: 50 }, () => newPassword());
    const results = await Promise.all(
      passwords.map((p, i) => confirmReset(i % 2 ? a : b, project, { new_password: p, reset_code: link.reset_code, user_id: user.id }))
    );
    const winners = results.map((r, i) => (r.status === 204 ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one 204, got statuses ${results.map((r) => r.status).join(',')}`);
    for (const r of results) if (r.status !== 204) assertXsollaError(r, 404, '003-061', 'a losing confirm');
    const ok = await login(winners[0] % 2 ? b : a, project, user.email, passwords[winners[0]]);
    assert.equal(ok.status, 200, `the winning password logs in: ${show(ok)}`);
  });
});

describe('PostgreSQL: the server restarts under a running resetd', { skip: SKIP }, () => {
  let cluster;

  after(async () => {
    for (const d of daemons) {
      if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
    }
    if (cluster) await cluster.stop().catch(() => {});
  });

  it('answers 503 900-503 during the outage and works again after it, without a restart', { timeout: TEST_TIMEOUT }, async () => {
    cluster = await h.startPgCluster();
    const d = await startDaemon({ database: await h.createPgDatabase(cluster.url), env: { RESETD_MAIL_POLL_MS: '200' } });
    const project = await newProject(d);
    const user = await newUser(d, project);
    const before = await login(d, project, user.email, user.password);
    assert.equal(before.status, 200, `login before the outage: ${show(before)}`);
    const token = tokenOf(before);

    await cluster.stop();
    assertXsollaError(await requestReset(d, project, user.email), 503, '900-503', 'reset request during the outage');
    assertXsollaError(await login(d, project, user.email, user.password), 503, '900-503', 'login during the outage');
    assertXsollaError(
      await confirmReset(d, project, { new_password: newPassword(), reset_code: 'A'.repeat(43), user_id: user.id }),
      503, '900-503', 'confirm during the outage'
    );
    assertXsollaError(await call(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${token}` } }), 503, '900-503', 'users/me during the outage');
    const notReady = await h.request(`${d.url}/readyz`);
    assert.equal(notReady.status, 503, `readyz during the outage: ${show(notReady)}`);
    assert.ok(d.running(), 'resetd survives the outage');

    await cluster.start();
    // The pooled connections the server dropped are replaced on first use.
    assert.equal((await h.request(`${d.url}/readyz`)).status, 200, 'readyz after the restart');
    assert.equal((await requestReset(d, project, user.email)).status, 204, 'reset request after the restart');
    const link = await resetLink([d], user.email);
    const pass = newPassword();
    const res = await confirmReset(d, project, { new_password: pass, reset_code: link.reset_code, user_id: link.user_id });
    assert.equal(res.status, 204, `confirm after the restart: ${show(res)}`);
    assert.equal((await login(d, project, user.email, pass)).status, 200, 'login after the restart');
    assert.equal(await d.stop(), 0, 'and it stops cleanly');
  });
});
