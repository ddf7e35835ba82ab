'use strict';
// Black-box tests of the limits that must not rotate away (issue 13, item 5;
// docs/abuse.md): per-address buckets for the IPv6 /56 and /48, the
// per-account sign-in back-off in every dialect that signs in, answered
// alike for real and unknown logins, and per-address limits shared through
// the database by several instances.
// Run: node --test tests/e2e/limits.test.js   (binary: build/resetd or RESETD_BIN)

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const TEST_TIMEOUT = 90000;
const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

async function startDaemon(opts = {}) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

async function setup(d) {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', 'http://localhost:3999/cb']);
  const client = await d.cli(['client', 'create', '--project', project.id]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  h.registerSecret(key);
  return { project, client, key };
}

async function newUser(d, project) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { ...user, email, password };
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

function xsolla(d, p, pathname, body, headers = {}) {
  const u = new URL(`/api${pathname}`, d.url);
  u.searchParams.set('projectId', p.id);
  return h.request(u.href, { method: 'POST', body, headers });
}

function cognito(d, t, op, body, headers = {}) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}`, ...headers },
  });
}

function workosAuth(d, t, email, password, headers = {}) {
  return h.request(`${d.url}/user_management/authenticate`, {
    method: 'POST',
    body: { grant_type: 'password', client_id: t.client.client_id, client_secret: t.key, email, password },
    headers: { Authorization: `Bearer ${t.key}`, ...headers },
  });
}

// Rows of a query on the daemon's database, each as an array of columns.
async function dbRows(d, sql) {
  let out;
  if (d.database.startsWith('sqlite:')) {
    const { execFileSync } = require('node:child_process');
    out = execFileSync('sqlite3', ['-batch', '-noheader', '-list', d.database.slice('sqlite:'.length), sql], { encoding: 'utf8' });
  } else {
    out = await h.pgQuery(d.database, sql);
  }
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

function from(addr) {
  return { 'X-Forwarded-For': addr };
}

after(async () => {
  for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
});

describe('IPv6 /56 and /48 buckets', () => {
  it('rotating /64s within a /56, and /56s within a /48, is limited', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({
      env: {
        RESETD_TRUSTED_PROXIES: '127.0.0.1',
        RESETD_RATE_IP_REQUEST: '2',
        RESETD_RATE_IP6_56_REQUEST: '3',
        RESETD_RATE_IP6_48_REQUEST: '5',
        RESETD_RATE_IP_LOGIN: '2',
        RESETD_RATE_IP6_56_LOGIN: '3',
        RESETD_RATE_IP6_48_LOGIN: '0',
        RESETD_RATE_IP_API: '2',
        RESETD_RATE_IP6_56_API: '3',
        RESETD_RATE_IP6_48_API: '0',
      },
    });
    const t = await setup(d);
    const forgot = (addr) => xsolla(d, t.project, '/password/reset/request', { username: `${uniq('r')}@example.com` }, from(addr));

    // Every call from a fresh /64 of 2001:db8:a:100::/56: three pass.
    const seen = [];
    for (let i = 0; i < 8; i++) seen.push((await forgot(`2001:db8:a:1${i.toString(16).padStart(2, '0')}::${i + 1}`)).status);
    assert.deepEqual(seen, [204, 204, 204, 429, 429, 429, 429, 429]);
    // Cognito and Velocity spend the same /56 bucket, in their own shapes.
    const c = await cognito(d, t, 'ForgotPassword', { ClientId: t.client.client_id, Username: 'x@example.com' }, from('2001:db8:a:1ff::1'));
    assert.equal(c.status, 429, show(c));
    assert.equal(c.json.__type, 'TooManyRequestsException');
    assert.match(c.headers['retry-after'] || '', /^[1-9][0-9]*$/);
    const v = await h.request(`${d.url}/authapi/password/forgot`, {
      method: 'POST',
      body: { userName: 'x@example.com' },
      headers: { userpoolid: t.project.id, appclientid: t.client.client_id, ...from('2001:db8:a:1fe::1') },
    });
    assert.equal(v.status, 429, show(v));
    // The hosted forgot page too.
    const page = await h.request(`${d.url}/forgot?project=${t.project.id}`, {
      method: 'POST',
      body: `email=${encodeURIComponent('x@example.com')}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...from('2001:db8:a:1fd::1') },
    });
    assert.equal(page.status, 429, show(page));

    // Other /56s of the same /48 share the /48's five: two more in all.
    const more = [];
    for (let i = 0; i < 6; i++) more.push((await forgot(`2001:db8:a:${(0x200 + i * 0x100).toString(16)}::1`)).status);
    assert.deepEqual(more, [204, 204, 429, 429, 429, 429]);
    // Another /48, and IPv4 (one scope: the address), are not touched.
    assert.equal((await forgot('2001:db8:b::1')).status, 204);
    for (let i = 1; i <= 6; i++) assert.equal((await forgot(`203.0.113.${i}`)).status, 204);

    // Logins: Xsolla's login, rotating /64s of one /56 (no /48 limit here).
    const login = (addr) => xsolla(d, t.project, '/login', { username: `${uniq('l')}@example.com`, password: 'wrong-password-1' }, from(addr));
    const logins = [];
    for (let i = 0; i < 5; i++) logins.push((await login(`2001:db8:c:${i}::1`)).status);
    assert.deepEqual(logins, [401, 401, 401, 429, 429]);
    const lx = await login('2001:db8:c:ff::1');
    assert.equal(lx.json.error.code, '002-057', show(lx));
    assert.equal((await login('2001:db8:c:100::1')).status, 401, 'the next /56 has its own bucket');

    // WorkOS server-to-server calls: the api class, by /56 too.
    const api = [];
    for (let i = 0; i < 5; i++) api.push((await workosAuth(d, t, `${uniq('w')}@example.com`, 'wrong-password-1', from(`2001:db8:d:${i}::1`))).status);
    assert.deepEqual(api, [400, 400, 400, 429, 429]);

    // A run of refusals by the /56 is recorded once, not once per /64.
    const limited = (await d.cli(['audit', 'list', '--limit', '10000'])).filter((e) => e.event === 'rate_limited' && e.detail === 'request');
    assert.ok(limited.length <= 3, `rate_limited rows for requests: ${limited.length}`);
  });
});

// Headers that may differ between two answers that must be alike.
function alike(res) {
  const hdrs = { ...res.headers };
  delete hdrs['x-request-id'];
  delete hdrs.date;
  const ra = Number(hdrs['retry-after'] || 0);
  delete hdrs['retry-after'];
  let body = res.json;
  if (body && body.error && body.error.details && 'retry_after' in body.error.details) {
    body = JSON.parse(JSON.stringify(body));
    body.error.details.retry_after = 'N';
  }
  return { status: res.status, body, hdrs, held: ra > 0 };
}

describe('per-login sign-in back-off', () => {
  const env = {
    RESETD_TRUSTED_PROXIES: '127.0.0.1',
    RESETD_RATE_IP_LOGIN: '100000',
    RESETD_RATE_IP6_56_LOGIN: '0',
    RESETD_RATE_IP6_48_LOGIN: '0',
    RESETD_LOGIN_BACKOFF_AFTER: '3',
    RESETD_LOGIN_BACKOFF_BASE: '120',
    RESETD_LOGIN_BACKOFF_MAX: '600',
  };
  // Each dialect's sign-in call: (daemon, tenant, login, password, address) -> response.
  const dialects = {
    xsolla: (d, t, login, password, addr) => xsolla(d, t.project, '/login', { username: login, password }, from(addr)),
    workos: (d, t, login, password, addr) => workosAuth(d, t, login, password, from(addr)),
  };
  const wrong = { xsolla: [401, '003-001'], workos: [400, 'invalid_credentials'] };
  const held = { xsolla: [429, '002-058'], workos: [429, 'rate_limit_exceeded'] };
  const codeOf = (name, res) => (name === 'xsolla' ? res.json.error.code : res.json.code);

  for (const [name, login] of Object.entries(dialects)) {
    it(`${name}: held back after 3 tries from any address; the same for a real and an unknown login`, { timeout: TEST_TIMEOUT }, async () => {
      const d = await startDaemon({ env });
      const t = await setup(d);
      const user = await newUser(d, t.project);
      const ghost = `${uniq('user')}@example.com`; // as long as the real one
      const answers = { real: [], ghost: [] };
      // Three wrong tries, each from another address and /64: refused as wrong.
      for (let i = 0; i < 3; i++) {
        for (const [who, id] of [['real', user.email], ['ghost', ghost]]) {
          const r = await login(d, t, id, 'Wrong-pass-123', i % 2 ? `2001:db8:${i}::1` : `198.51.100.${i + 1}`);
          assert.deepEqual([r.status, codeOf(name, r)], wrong[name], `${who} try ${i + 1}: ${show(r)}`);
          answers[who].push(alike(r));
        }
      }
      // The fourth is held back, the right password included, for both.
      for (const [who, id, pw] of [['real', user.email, user.password], ['ghost', ghost, user.password], ['real', user.email.toUpperCase(), 'Wrong-pass-123']]) {
        const r = await login(d, t, id, pw, '203.0.113.77');
        assert.deepEqual([r.status, codeOf(name, r)], held[name], `${who} held: ${show(r)}`);
        const ra = Number(r.headers['retry-after']);
        assert.ok(ra >= 1 && ra <= 120, `Retry-After ${r.headers['retry-after']}`);
        answers[who].push(alike(r));
      }
      // Byte for byte the same answers, but for the request id and the date.
      assert.deepEqual(answers.real.slice(0, 4), answers.ghost);
      // The try that set each hold was audited, alike and with no subject;
      // the held tries were not.
      const holds = (await d.cli(['audit', 'list', '--project', t.project.id])).filter((e) => e.event === 'rate_limited');
      assert.equal(holds.length, 2, JSON.stringify(holds));
      for (const e of holds) {
        assert.equal(e.detail, 'login');
        assert.equal(e.client_ip, '198.51.100.3');
        assert.equal(e.subject ?? null, null);
      }
      // Another login of the project is not touched.
      const other = await newUser(d, t.project);
      const ok = await login(d, t, other.email, other.password, '203.0.113.77');
      assert.equal(ok.status, 200, show(ok));
      // The table holds keyed hashes and counts alone: no login, no address,
      // and the real login's row is like the unknown one's.
      const rows = await dbRows(d, 'SELECT subject, failures FROM login_backoff ORDER BY subject');
      assert.equal(rows.length, 2, JSON.stringify(rows));
      for (const [subject, failures] of rows) {
        assert.match(subject, /^[0-9a-f]{32}$/);
        assert.equal(failures, '3');
      }
      const dump = JSON.stringify(await dbRows(d, 'SELECT * FROM login_backoff'));
      for (const s of [user.email, ghost, user.email.split('@')[0], ghost.split('@')[0]]) assert.ok(!dump.includes(s), `${s} in the table`);
    });
  }

  it('a success forgets the tries; tries racing at once cannot pass the count', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ env });
    const t = await setup(d);
    const user = await newUser(d, t.project);
    for (let i = 0; i < 2; i++) assert.equal((await dialects.xsolla(d, t, user.email, 'Wrong-pass-123', '198.51.100.9')).status, 401);
    const ok = await dialects.workos(d, t, user.email, user.password, '198.51.100.9');
    assert.equal(ok.status, 200, show(ok));
    // Counted afresh: three more wrong tries before the hold.
    const again = [];
    for (let i = 0; i < 4; i++) again.push((await dialects.xsolla(d, t, user.email, 'Wrong-pass-123', '198.51.100.9')).status);
    assert.deepEqual(again, [401, 401, 401, 429]);

    // Twelve tries of an unknown login at once: at most three are checked.
    const ghost = `${uniq('race')}@example.com`;
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => dialects.xsolla(d, t, ghost, `Wrong-pass-${i}`, `192.0.2.${i + 1}`)));
    const statuses = all.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 9, statuses.join(','));

    // The official WorkOS SDK sees RateLimitExceededException with
    // retryAfter. Held tries, its own and more, are not counted: the hold
    // does not grow. (SDK 11.x would retry after Retry-After, here 120 s.)
    const before = await dbRows(d, 'SELECT failures, until_ms FROM login_backoff ORDER BY failures');
    const { WorkOS } = require('workos8');
    const wos = new WorkOS(t.key, { apiHostname: '127.0.0.1', port: d.port, https: false });
    await assert.rejects(wos.userManagement.authenticateWithPassword({ email: ghost, password: 'Wrong-pass-1', clientId: t.client.client_id }), (err) => {
      assert.equal(err.name, 'RateLimitExceededException', `${err.name}: ${err.message}`);
      assert.ok(err.retryAfter >= 1, `retryAfter ${err.retryAfter}`);
      return true;
    });
    for (let i = 0; i < 5; i++) assert.equal((await dialects.xsolla(d, t, ghost, `Wrong-pass-${i}`, '192.0.2.200')).status, 429);
    assert.deepEqual(await dbRows(d, 'SELECT failures, until_ms FROM login_backoff ORDER BY failures'), before);
  });
});

describe('per-address limits shared through the database', () => {
  const secret = crypto.randomBytes(32).toString('hex');
  const env = (store) => ({
    RESETD_TRUSTED_PROXIES: '127.0.0.1',
    RESETD_SERVER_SECRET: secret,
    RESETD_RATE_LIMIT_STORE: store,
    RESETD_RATE_IP_REQUEST: '4',
    RESETD_RATE_IP6_56_REQUEST: '6',
    RESETD_RATE_IP6_48_REQUEST: '0',
  });
  const forgot = (d, t, addr) => xsolla(d, t.project, '/password/reset/request', { username: `${uniq('s')}@example.com` }, from(addr));

  it('two instances on one PostgreSQL database share one count per address', { timeout: TEST_TIMEOUT, skip: h.testDb() === 'postgres' ? false : 'PostgreSQL only (RESETD_TEST_DB=postgres)' }, async () => {
    const a = await startDaemon({ env: env('database') });
    const b = await startDaemon({ env: env('database'), database: a.database });
    const t = await setup(a);
    // One IPv4 client, alternating instances: four in all, not four each.
    const seen = [];
    for (let i = 0; i < 8; i++) seen.push((await forgot(i % 2 ? b : a, t, '203.0.113.9')).status);
    assert.deepEqual(seen, [204, 204, 204, 204, 429, 429, 429, 429]);
    // Rotating /64s of one /56 over both instances: six in all.
    const v6 = [];
    for (let i = 0; i < 10; i++) v6.push((await forgot(i % 2 ? b : a, t, `2001:db8:77:${i}::1`)).status);
    assert.deepEqual(v6, [204, 204, 204, 204, 204, 204, 429, 429, 429, 429]);
    // The table holds keyed hashes, never an address.
    const dump = JSON.stringify(await dbRows(a, 'SELECT * FROM rate_buckets'));
    assert.ok(!dump.includes('203.0.113.9') && !dump.includes('2001:db8'), dump.slice(0, 200));
    assert.ok((await dbRows(a, 'SELECT key FROM rate_buckets')).every(([k]) => /^[0-9a-f]{32}$/.test(k)));

    // With the default store, each instance counts on its own: eight pass.
    const c = await startDaemon({ env: env('memory') });
    const e = await startDaemon({ env: env('memory'), database: c.database });
    const t2 = await setup(c);
    const mem = [];
    for (let i = 0; i < 10; i++) mem.push((await forgot(i % 2 ? e : c, t2, '203.0.113.9')).status);
    assert.equal(mem.filter((s) => s === 204).length, 8, mem.join(','));
  });

  it('counts kept in the database outlive a restart; in memory they do not', { timeout: TEST_TIMEOUT }, async () => {
    for (const [store, after] of [['database', 429], ['memory', 204]]) {
      const d = await startDaemon({ env: env(store) });
      const t = await setup(d);
      for (let i = 0; i < 4; i++) assert.equal((await forgot(d, t, '198.51.100.44')).status, 204, `${store} ${i}`);
      const r = await forgot(d, t, '198.51.100.44');
      assert.equal(r.status, 429, `${store}: ${show(r)}`);
      assert.match(r.headers['retry-after'] || '', /^[1-9][0-9]*$/);
      await d.restart();
      assert.equal((await forgot(d, t, '198.51.100.44')).status, after, `${store} after a restart`);
      // Another address is not touched.
      assert.equal((await forgot(d, t, '198.51.100.45')).status, 204);
    }
  });

  it('check-config refuses a store it does not know', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ env: env('database') });
    await assert.rejects(h.runCli(d.bin, { ...d.env, RESETD_RATE_LIMIT_STORE: 'redis' }, ['check-config']), (err) => {
      assert.match(err.stderr, /rate_limit_store: expected memory or database/);
      return true;
    });
  });
});
