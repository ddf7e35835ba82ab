'use strict';
// Black-box tests of the event log and its webhooks: the real binary, its
// CLI, WorkOS's official Node SDK reading GET /events, a receiver in this
// process that checks every delivery's signature with the npm
// `standardwebhooks` package (an implementation nobody here wrote), and
// the real SMTP test server for a message that dies.
// Run: node --test tests/e2e/events.test.js

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { Webhook } = require('standardwebhooks');
const h = require('./lib/harness');
const { startSmtp } = require('./lib/smtp');

const SDKS = [
  { name: 'SDK 8.13', mod: require('workos8') },
  { name: 'SDK 11.0', mod: require('workos11') },
];

const TEST_TIMEOUT = 90000;
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const EVENT_ID_RE = new RegExp(`^event_${ULID}$`);
const secrets = h.secrets;
const daemons = [];
const closers = [];

after(async () => {
  for (const d of daemons) if (d.running()) await d.kill('SIGKILL');
  for (const c of closers) await c();
});

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

async function startDaemon(opts = {}) {
  const d = await h.startDaemon({
    ...opts,
    env: { RESETD_MAIL_POLL_MS: '100', RESETD_MAIL_BACKOFF_MS: '100', ...(opts.env || {}) },
  });
  daemons.push(d);
  return d;
}

// A project with an API key and an app client; extra: `project create` args.
async function newTenant(d, extra = ['--allow-private-targets', 'on']) {
  const project = await d.cli(['project', 'create', '--name', uniq('events'), ...extra]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
  secrets.add(key);
  return { project, key, clientId };
}

function sdkFor(d, sdk, t) {
  return new sdk.mod.WorkOS(t.key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId: t.clientId });
}

// An HTTP receiver on loopback. answer(req, body, n) gives the status of
// the n-th delivery (0-based), or {status, headers}; every delivery is
// kept with its headers.
async function receiver(answer = () => 204) {
  const r = { got: [], url: null };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = r.got.length;
      const a = answer(req, body, n);
      const status = typeof a === 'number' ? a : a.status;
      r.got.push({ headers: req.headers, body, status, method: req.method, path: req.url });
      res.writeHead(status, { 'Content-Type': 'text/plain', ...(a.headers || {}) });
      res.end(status >= 300 ? 'not now' : 'ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${server.address().port}/hooks`;
  r.close = () => new Promise((resolve) => server.close(resolve));
  // The deliveries answered 2xx whose event matches pred, once they are there.
  r.waitFor = async (pred, what, timeoutMs = 20000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = r.got.filter((g) => g.status < 300).map((g) => ({ ...g, event: JSON.parse(g.body) }));
      const hit = ok.filter((g) => pred(g.event));
      if (hit.length > 0) return hit;
      if (Date.now() > deadline) throw new Error(`receiver: ${what} not delivered within ${timeoutMs} ms; got ${JSON.stringify(r.got.map((g) => g.body.slice(0, 120)))}`);
      await h.sleep(50);
    }
  };
  closers.push(r.close);
  return r;
}

// Verify one delivery with the standardwebhooks package; return the event.
function verified(secret, g) {
  return new Webhook(secret).verify(g.body, {
    'webhook-id': g.headers['webhook-id'],
    'webhook-timestamp': g.headers['webhook-timestamp'],
    'webhook-signature': g.headers['webhook-signature'],
  });
}

async function outbox(d) {
  return d.cli(['outbox', 'list', '--limit', '1000']);
}

async function waitOutbox(d, pred, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let list = [];
  while (Date.now() < deadline) {
    list = await outbox(d);
    if (pred(list)) return list;
    await h.sleep(100);
  }
  throw new Error(`outbox: ${what} not reached within ${timeoutMs} ms:\n${JSON.stringify(list, null, 1).slice(0, 3000)}`);
}

// GET /events as raw JSON, with the tenant's key.
async function rawEvents(d, t, query = '') {
  const res = await h.request(`${d.url}/events${query}`, { headers: { Authorization: `Bearer ${t.key}` } });
  return res;
}

// ---------------------------------------------------------------------------

describe('the event log', () => {
  for (const sdk of SDKS) {
    it(`${sdk.name}: listEvents({events:['password_reset.succeeded']}) returns the reset, and the log holds no secret`, { timeout: TEST_TIMEOUT }, async () => {
      const d = await startDaemon();
      const t = await newTenant(d);
      const wos = sdkFor(d, sdk, t);
      const email = `${uniq('ev')}@example.com`;
      const password = newPassword();
      const user = await wos.userManagement.createUser({ email, password, firstName: 'Ada' });
      const auth = await wos.userManagement.authenticateWithPassword({ email, password, clientId: t.clientId });
      secrets.add(auth.accessToken);
      const reset = await wos.userManagement.createPasswordReset({ email });
      secrets.add(reset.passwordResetToken);
      const newPass = newPassword();
      await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPass });

      const only = await wos.events.listEvents({ events: ['password_reset.succeeded'] });
      assert.equal(only.data.length, 1, JSON.stringify(only));
      const ev = only.data[0];
      assert.equal(ev.event, 'password_reset.succeeded');
      assert.match(ev.id, EVENT_ID_RE);
      assert.equal(ev.data.id, reset.id);
      assert.equal(ev.data.userId, user.id);
      assert.equal(ev.data.email, email);
      assert.equal(ev.data.passwordResetToken, undefined);

      // Every kind this flow records, in order, each once.
      const all = await wos.events.listEvents({ limit: 100 });
      assert.deepEqual(all.data.map((e) => e.event), [
        'user.created', 'session.created', 'password_reset.created', 'session.revoked', 'password_reset.succeeded',
      ]);
      assert.equal(all.data[0].data.id, user.id);
      assert.equal(all.data[1].data.userId, user.id);
      assert.equal(all.data[3].data.id, all.data[1].data.id, 'the session revoked is the one created');
      assert.equal(all.data[3].data.status, 'revoked');

      // The raw log: no token, password, code or hash anywhere in it.
      const raw = await rawEvents(d, t, '?limit=100');
      assert.equal(raw.status, 200, raw.text);
      for (const s of [password, newPass, reset.passwordResetToken, auth.accessToken, auth.refreshToken, t.key]) {
        if (s) assert.ok(!raw.text.includes(s), 'the event log holds a secret');
      }
      assert.ok(!/argon2|password_reset_token|password_reset_url/.test(raw.text), raw.text);
      const body = JSON.parse(raw.text);
      assert.equal(body.object, 'list');
      assert.equal(body.list_metadata.after, body.data[4].id);
    });
  }

  it('the after cursor, limit, range and events[] filters; another project sees none of it', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const t = await newTenant(d);
    const other = await newTenant(d);
    for (let i = 0; i < 5; i++) {
      await d.cli(['user', 'create', '--project', t.project.id, '--email', `${uniq('c')}@example.com`]);
    }
    const first = JSON.parse((await rawEvents(d, t, '?limit=2')).text);
    assert.equal(first.data.length, 2);
    const next = JSON.parse((await rawEvents(d, t, `?limit=10&after=${first.list_metadata.after}`)).text);
    assert.equal(next.data.length, 3);
    assert.ok(!next.data.some((e) => first.data.some((f) => f.id === e.id)), 'after skips what was read');
    const none = JSON.parse((await rawEvents(d, t, `?after=${next.list_metadata.after}`)).text);
    assert.deepEqual(none.data, []);
    assert.equal(none.list_metadata.after, next.list_metadata.after, 'an empty page keeps the cursor');

    const mid = next.data[0].created_at;
    const fromMid = JSON.parse((await rawEvents(d, t, `?range_start=${encodeURIComponent(mid)}`)).text);
    assert.ok(fromMid.data.every((e) => e.created_at >= mid) && fromMid.data.length >= 1);
    const beforeAll = JSON.parse((await rawEvents(d, t, `?range_end=${encodeURIComponent(first.data[0].created_at)}`)).text);
    assert.deepEqual(beforeAll.data, []);

    const filtered = JSON.parse((await rawEvents(d, t, '?events[]=user.deleted&events[]=user.created')).text);
    assert.equal(filtered.data.length, 5);
    const nothing = JSON.parse((await rawEvents(d, t, '?events[]=session.created')).text);
    assert.deepEqual(nothing.data, []);
    assert.deepEqual(JSON.parse((await rawEvents(d, other, '')).text).data, []);

    for (const bad of ['?limit=0', '?limit=101', '?limit=x', '?after=user_01', '?range_start=yesterday', '?events[]=Bad%20Name', '?order=desc']) {
      const res = await rawEvents(d, t, bad);
      assert.equal(res.status, 422, `${bad}: ${res.text}`);
      assert.equal(JSON.parse(res.text).code, 'invalid_request_parameters');
    }
    const noKey = await h.request(`${d.url}/events`);
    assert.equal(noKey.status, 401);
  });

  it('revoking a session, and a refresh token presented twice, record session.revoked', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const t = await newTenant(d);
    const wos = sdkFor(d, SDKS[1], t);
    const email = `${uniq('rv')}@example.com`;
    const password = newPassword();
    await wos.userManagement.createUser({ email, password });
    const sid = (a) => JSON.parse(Buffer.from(a.accessToken.split('.')[1], 'base64url')).sid;
    const a1 = await wos.userManagement.authenticateWithPassword({ email, password, clientId: t.clientId });
    const a2 = await wos.userManagement.authenticateWithPassword({ email, password, clientId: t.clientId });
    for (const a of [a1, a2]) {
      secrets.add(a.accessToken);
      secrets.add(a.refreshToken);
    }
    await wos.userManagement.revokeSession({ sessionId: sid(a1) });
    await wos.userManagement.revokeSession({ sessionId: sid(a1) }).catch(() => {}); // dead already: no second event
    const r = await wos.userManagement.authenticateWithRefreshToken({ refreshToken: a2.refreshToken, clientId: t.clientId });
    secrets.add(r.accessToken);
    secrets.add(r.refreshToken);
    await assert.rejects(wos.userManagement.authenticateWithRefreshToken({ refreshToken: a2.refreshToken, clientId: t.clientId }));
    const revoked = (await wos.events.listEvents({ events: ['session.revoked'], limit: 100 })).data;
    assert.deepEqual(revoked.map((e) => e.data.id), [sid(a1), sid(a2)]);
    assert.ok(revoked.every((e) => e.data.status === 'revoked' && e.data.endedAt));
  });

  it('disabling a user records user.updated and session.revoked', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const t = await newTenant(d);
    const wos = sdkFor(d, SDKS[1], t);
    const email = `${uniq('dis')}@example.com`;
    const password = newPassword();
    await wos.userManagement.createUser({ email, password });
    const auth = await wos.userManagement.authenticateWithPassword({ email, password, clientId: t.clientId });
    secrets.add(auth.accessToken);
    await d.cli(['user', 'disable', '--project', t.project.id, email]);
    const all = (await wos.events.listEvents({ limit: 100 })).data.map((e) => e.event);
    assert.deepEqual(all, ['user.created', 'session.created', 'session.revoked', 'user.updated']);
  });
});

describe('webhooks', () => {
  it('deliveries are signed the Standard Webhooks way and carry the events', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const t = await newTenant(d);
    const rx = await receiver();
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', rx.url, '--events', 'user.created,password_reset.created']);
    secrets.add(ep.secret);
    assert.match(ep.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = await d.cli(['webhook', 'list', '--project', t.project.id]);
    assert.deepEqual(listed.map((w) => [w.id, w.url, w.events]), [[ep.id, rx.url, ['user.created', 'password_reset.created']]]);
    assert.ok(!JSON.stringify(listed).includes(ep.secret), 'the secret is shown once only');

    const wos = sdkFor(d, SDKS[1], t);
    const email = `${uniq('wh')}@example.com`;
    const user = await wos.userManagement.createUser({ email, password: newPassword() });
    const reset = await wos.userManagement.createPasswordReset({ email });
    secrets.add(reset.passwordResetToken);

    const created = await rx.waitFor((e) => e.event === 'user.created', 'user.created');
    const requested = await rx.waitFor((e) => e.event === 'password_reset.created', 'password_reset.created');
    for (const g of [...created, ...requested]) {
      const ev = verified(ep.secret, g);
      assert.match(ev.id, EVENT_ID_RE);
      assert.match(g.headers['webhook-id'], new RegExp(`^msg_${ULID}$`));
      assert.equal(g.headers['content-type'], 'application/json');
      assert.ok(!g.body.includes(reset.passwordResetToken), 'a payload holds the token');
    }
    assert.equal(verified(ep.secret, created[0]).data.id, user.id);
    assert.equal(verified(ep.secret, requested[0]).data.id, reset.id);
    // A signature under another secret, or over another body, is refused.
    const g = created[0];
    assert.throws(() => new Webhook(`whsec_${crypto.randomBytes(32).toString('base64')}`).verify(g.body, g.headers));
    assert.throws(() => new Webhook(ep.secret).verify(g.body.replace('user', 'usex'), g.headers));
    // The events the endpoint did not ask for are not posted.
    await wos.userManagement.authenticateWithPassword({ email, password: 'wrong-password-1', clientId: t.clientId }).catch(() => {});
    assert.ok(rx.got.every((x) => ['user.created', 'password_reset.created'].includes(JSON.parse(x.body).event)));

    // The same event through GET /events.
    const listedEvents = JSON.parse((await rawEvents(d, t, '?events=user.created')).text);
    assert.equal(listedEvents.data[0].id, verified(ep.secret, created[0]).id);

    // webhook test sends a signed sample.
    const before = rx.got.length;
    const test = await d.cli(['webhook', 'test', ep.id]);
    assert.equal(test.delivered, true, JSON.stringify(test));
    assert.equal(rx.got.length, before + 1);
    assert.equal(verified(ep.secret, rx.got[before]).event, 'webhook.test');
  });

  it('a receiver answering 500 is retried until it takes the event; each event arrives', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const t = await newTenant(d);
    const rx = await receiver((req, body, n) => (n < 3 ? 500 : 200));
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', rx.url, '--events', '*']);
    secrets.add(ep.secret);
    const emails = [];
    for (let i = 0; i < 3; i++) {
      emails.push(`${uniq('r')}@example.com`);
      await d.cli(['user', 'create', '--project', t.project.id, '--email', emails[i]]);
    }
    for (const e of emails) {
      const got = await rx.waitFor((ev) => ev.event === 'user.created' && ev.data.email === e, e);
      assert.equal(verified(ep.secret, got[0]).data.email, e);
    }
    assert.ok(rx.got.filter((g) => g.status === 500).length === 3);
    // A retry is the same message: one webhook-id per event, so that a
    // receiver can drop what it has already taken.
    const msgIds = new Map();
    for (const g of rx.got) {
      const id = JSON.parse(g.body).id;
      msgIds.set(id, (msgIds.get(id) || new Set()).add(g.headers['webhook-id']));
    }
    for (const [id, seen] of msgIds) assert.equal(seen.size, 1, `${id}: webhook-ids ${[...seen]}`);
    assert.ok([...msgIds.keys()].some((id) => rx.got.filter((g) => JSON.parse(g.body).id === id).length > 1), 'an event was posted more than once');
    const rows = await waitOutbox(d, (l) => l.filter((x) => x.kind === 'webhook' && x.state === 'sent').length === 3, 'three sent');
    assert.ok(rows.some((x) => x.kind === 'webhook' && x.tries > 1), 'a delivery was retried');
  });

  it('an event still arrives after a SIGKILL between its commit and its delivery', { timeout: TEST_TIMEOUT }, async () => {
    // The sender holds what it claims, so the kill lands after the claim
    // and before the post.
    const d = await startDaemon({ env: { RESETD_MAIL_TEST_HOLD_MS: '600000', RESETD_MAIL_LEASE_SECONDS: '2' } });
    const t = await newTenant(d);
    const rx = await receiver();
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', rx.url, '--events', 'user.created']);
    secrets.add(ep.secret);
    const email = `${uniq('k')}@example.com`;
    await d.cli(['user', 'create', '--project', t.project.id, '--email', email]);
    await waitOutbox(d, (l) => l.some((x) => x.kind === 'webhook' && x.tries === 1), 'the delivery claimed');
    await d.kill('SIGKILL');
    assert.equal(rx.got.length, 0);
    await d.restart({ env: { RESETD_MAIL_TEST_HOLD_MS: '0' } });
    const got = await rx.waitFor((e) => e.event === 'user.created' && e.data.email === email, 'the event after the restart');
    assert.equal(verified(ep.secret, got[0]).data.email, email);
  });

  it('private targets: refused unless the project allows them, at creation and at delivery', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const rx = await receiver();
    const closed = await newTenant(d, []);
    for (const url of [rx.url, 'http://localhost:9/x', 'http://[::1]:9/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest']) {
      const err = await d.cli(['webhook', 'create', '--project', closed.project.id, '--url', url, '--events', '*']).catch((e) => e);
      assert.ok(err instanceof Error, `${url} was taken`);
      assert.match(String(err.message), /private/);
    }
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url', 'file:///etc/passwd']) {
      const err = await d.cli(['webhook', 'create', '--project', closed.project.id, '--url', url, '--events', '*']).catch((e) => e);
      assert.ok(err instanceof Error, `${url} was taken`);
    }
    const badEvent = await d.cli(['webhook', 'create', '--project', closed.project.id, '--url', 'https://example.com/x', '--events', 'user.exploded']).catch((e) => e);
    assert.ok(badEvent instanceof Error);

    // At most 16 endpoints a project.
    const many = await newTenant(d);
    for (let i = 0; i < 16; i++) {
      const ep = await d.cli(['webhook', 'create', '--project', many.project.id, '--url', `https://hooks${i}.example.com/x`, '--events', '*']);
      secrets.add(ep.secret);
    }
    const seventeenth = await d.cli(['webhook', 'create', '--project', many.project.id, '--url', 'https://hooks.example.com/x', '--events', '*']).catch((e) => e);
    assert.ok(seventeenth instanceof Error);
    assert.match(String(seventeenth.message), /16 endpoints/);
    const one = (await d.cli(['webhook', 'list', '--project', many.project.id]))[0];
    await d.cli(['webhook', 'delete', '--project', many.project.id, one.id]);
    assert.equal((await d.cli(['webhook', 'list', '--project', many.project.id])).length, 15);

    // Allowed, then forbidden again: the delivery is refused at connect.
    const t = await newTenant(d);
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', rx.url, '--events', '*']);
    secrets.add(ep.secret);
    const off = await d.cli(['project', 'update', t.project.id, '--allow-private-targets', 'off']);
    assert.equal(off.id, t.project.id);
    assert.equal(off.allow_private_targets, false);
    await d.cli(['user', 'create', '--project', t.project.id, '--email', `${uniq('p')}@example.com`]);
    const rows = await waitOutbox(d, (l) => l.some((x) => x.kind === 'webhook' && /private/.test(x.last_error || '')), 'a refused delivery');
    assert.ok(rows.some((x) => x.kind === 'webhook' && x.state === 'pending'));
    assert.equal(rx.got.length, 0, 'nothing reached the private address');

    // Allowed again: the same delivery goes out.
    await d.cli(['project', 'update', t.project.id, '--allow-private-targets', 'on']);
    await rx.waitFor((e) => e.event === 'user.created', 'the delivery once allowed');
  });

  it('a redirect is not followed, a silent receiver times out, and webhook test says so', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ env: { RESETD_WEBHOOK_TIMEOUT_MS: '300' } });
    const t = await newTenant(d);
    const target = await receiver();
    const redirecting = await receiver(() => ({ status: 307, headers: { Location: target.url } }));
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', redirecting.url, '--events', 'user.created']);
    secrets.add(ep.secret);
    // A receiver that takes the request and never answers.
    const held = new Set();
    const silent = http.createServer((req) => held.add(req));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => { for (const r of held) r.socket.destroy(); return new Promise((resolve) => silent.close(resolve)); });
    const quiet = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', `http://127.0.0.1:${silent.address().port}/h`, '--events', 'user.created']);
    secrets.add(quiet.secret);

    await d.cli(['user', 'create', '--project', t.project.id, '--email', `${uniq('rd')}@example.com`]);
    const rows = await waitOutbox(d, (l) => {
      const w = l.filter((x) => x.kind === 'webhook' && x.last_error);
      return w.some((x) => /answered 307/.test(x.last_error)) && w.some((x) => /[Tt]imeout|timed out/.test(x.last_error));
    }, 'a refused redirect and a timeout');
    assert.ok(rows.filter((x) => x.kind === 'webhook').every((x) => x.state === 'pending'), 'both are retried');
    assert.ok(redirecting.got.length >= 1);
    assert.equal(target.got.length, 0, 'the redirect was followed');

    const test = await d.cli(['webhook', 'test', quiet.id]).catch((e) => e);
    assert.ok(test instanceof Error, 'webhook test of a silent endpoint exits 1');
    assert.match(String(test.stdout || test.message), /"delivered": false/);
  });

  it('an endpoint that never answers holds no reset email', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ env: { RESETD_WEBHOOK_TIMEOUT_MS: '60000', RESETD_MAIL_LEASE_SECONDS: '120' } });
    const t = await newTenant(d);
    const held = new Set();
    const silent = http.createServer((req) => held.add(req));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(() => { for (const r of held) r.socket.destroy(); return new Promise((resolve) => silent.close(resolve)); });
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', `http://127.0.0.1:${silent.address().port}/h`, '--events', '*']);
    secrets.add(ep.secret);
    const email = `${uniq('hol')}@example.com`;
    await d.cli(['user', 'create', '--project', t.project.id, '--email', email]);
    const deadline = Date.now() + 20000;
    while (held.size === 0 && Date.now() < deadline) await h.sleep(50);
    assert.equal(held.size, 1, 'the post of user.created reached the silent endpoint');

    // The post hangs; a reset email still goes out, while it hangs.
    const wos = sdkFor(d, SDKS[1], t);
    const reset = await wos.userManagement.createPasswordReset({ email });
    secrets.add(reset.passwordResetToken);
    await h.waitForMail(d.maildir, h.mailTo(email));
    const open = [...held].filter((r) => !r.socket.destroyed);
    assert.equal(open.length, 1, 'the post was still waiting when the mail went out');
    // A stop cuts the hanging post short instead of waiting out its timeout.
    assert.equal(await d.stop(), 0);
  });

  it('a mail that dies records email.delivery_failed; a dead delivery can be retried', { timeout: TEST_TIMEOUT }, async () => {
    const smtp = await startSmtp({ tls: false });
    closers.push(() => smtp.stop());
    const d = await startDaemon({ env: { RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}`, RESETD_MAIL_STARTTLS: 'off', RESETD_MAIL_MAX_TRIES: '2' } });
    const t = await newTenant(d);
    let refuse = true;
    const rx = await receiver((req, body) => (refuse && JSON.parse(body).event === 'user.created' ? 500 : 200));
    const ep = await d.cli(['webhook', 'create', '--project', t.project.id, '--url', rx.url, '--events', 'email.delivery_failed,user.created']);
    secrets.add(ep.secret);
    const email = `${uniq('dead')}@example.com`;
    await d.cli(['user', 'create', '--project', t.project.id, '--email', email]);
    smtp.refuse = (addr) => (addr.toLowerCase() === email ? { code: 550, message: '5.1.1 no such user' } : null);
    const wos = sdkFor(d, SDKS[1], t);
    const reset = await wos.userManagement.createPasswordReset({ email });
    secrets.add(reset.passwordResetToken);
    const got = await rx.waitFor((e) => e.event === 'email.delivery_failed', 'email.delivery_failed');
    const ev = verified(ep.secret, got[0]);
    assert.equal(ev.data.to, email);
    assert.equal(ev.data.kind, 'reset_link');
    assert.match(ev.data.error, /550/);
    assert.ok(!got[0].body.includes(reset.passwordResetToken));

    // The user.created delivery died after two tries; outbox retry sends it.
    const rows = await waitOutbox(d, (l) => l.some((x) => x.kind === 'webhook' && x.state === 'dead'), 'a dead delivery');
    const dead = rows.find((x) => x.kind === 'webhook' && x.state === 'dead');
    refuse = false;
    await d.cli(['outbox', 'retry', dead.id]);
    await rx.waitFor((e) => e.event === 'user.created', 'the retried delivery');
  });
});
