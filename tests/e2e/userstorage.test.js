'use strict';
// Black-box tests of webhook user storage (issue 17): a project whose users
// live in an app of their own, lib/storage-app.js, which resetd calls for
// lookup, password check, password set and create, each call carrying a
// JWT under the project's secret key that the app checks with jose. The
// clients are the vendors' own: the Xsolla login SDK (and plain HTTP for
// confirm's verify_code, which the SDK does not send), WorkOS's Node SDK,
// and AWS SDK v3 for Cognito.
// Run: RESETD_BIN=build/san/resetd node --test tests/e2e/userstorage.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { makeXsollaApi } = require('./lib/xsolla-sdk');
const { startStorageApp } = require('./lib/storage-app');
const {
  CognitoIdentityProviderClient,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
  InitiateAuthCommand,
  GetUserCommand,
} = require('@aws-sdk/client-cognito-identity-provider');
const workos = require('workos11');

const PAGE_ORIGIN = 'http://localhost:3999';
const CALLBACK_URL = 'http://localhost:3999/cb';
const TEST_TIMEOUT = 120000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STORAGE_TIMEOUT_MS = 300; // the projects' storage timeout here
const SLOW_MS = 1500; // a slow app answers after this
const secrets = h.secrets;
const daemons = [];
const apps = [];
let jose;

after(async () => {
  for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  for (const a of apps) await a.close();
});

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

async function startDaemon(opts = {}) {
  // The outbox worker does the lookups: poll and back off fast.
  const d = await h.startDaemon({ ...opts, env: { RESETD_MAIL_POLL_MS: '100', RESETD_MAIL_BACKOFF_MS: '100', ...(opts.env || {}) } });
  daemons.push(d);
  return d;
}

async function newApp(opts) {
  const app = await startStorageApp(opts);
  apps.push(app);
  return app;
}

// A project whose users live in app: the app learns the project's id and
// secret key. extra: more `project create` arguments.
async function webhookProject(d, app, extra = [], { register = true } = {}) {
  const project = await d.cli([
    'project', 'create', '--name', uniq('ustore'),
    '--callback-url', CALLBACK_URL, '--allowed-origin', PAGE_ORIGIN,
    ...app.projectArgs({ register }), '--allow-private-targets', 'on',
    '--storage-timeout-ms', String(STORAGE_TIMEOUT_MS),
    ...extra,
  ]);
  const key = await d.cli(['project', 'secret-key', project.id]);
  secrets.add(key.secret_key);
  app.secretKey = key.secret_key;
  app.projectId = project.id;
  return { project, secretKey: key.secret_key };
}

// A user of the app (not of resetd).
async function appUser(app, { verifyCode = null, username = null } = {}) {
  const email = `${uniq('au')}@example.com`;
  const password = newPassword();
  if (verifyCode) secrets.add(verifyCode);
  const u = await app.addUser({ email, username, password, verifyCode });
  return { ...u, password };
}

// An Xsolla call under /api.
function xcall(d, project, path, body, headers = {}) {
  return h.request(`${d.url}/api${path}?projectId=${project.id}`, { method: 'POST', body, headers });
}

function assertXsollaError(res, what) {
  assert.ok(res.json && res.json.error && typeof res.json.error === 'object', `${what}: no Xsolla error envelope: ${show(res)}`);
  assert.ok('code' in res.json.error, `${what}: no error.code: ${show(res)}`);
  assert.equal(typeof res.json.error.description, 'string', `${what}: ${show(res)}`);
}

async function resetMail(d, email, skip = new Set()) {
  const mail = await h.waitForMail(d.maildir, (m) => !skip.has(m.file) && h.mailTo(email)(m) && h.extractResetLink(m.text) !== null);
  skip.add(mail.file);
  const link = h.extractResetLink(mail.text);
  secrets.add(link.reset_code);
  return link;
}

async function xlogin(d, project, username, password) {
  const res = await xcall(d, project, '/login', { username, password });
  if (res.status === 200) secrets.add(new URL(res.json.login_url).searchParams.get('token'));
  return res;
}

// What every call resetd made to the app must be: a verified token (the
// app refused none), the contract's headers.
function assertCallsClean(app) {
  assert.deepEqual(app.failures, [], 'the app refused a token or failed');
  assert.deepEqual(app.calls.filter((c) => c.path.startsWith('/followed')).map((c) => c.path), [], 'a redirect was followed');
  for (const c of app.calls) {
    assert.ok(c.claims, `${c.path}: a call without verified claims`);
    assert.equal(c.method, 'POST');
    assert.match(c.headers['content-type'], /^application\/json/);
    assert.match(c.headers.accept || '', /application\/json/);
    assert.match(c.headers['user-agent'] || '', /^resetd\//);
    assert.equal(c.claims.iss, 'resetd');
    assert.equal(c.claims.aud, `${app.origin}${c.path}`);
    assert.equal(c.claims.type, 'custom_storage');
    assert.equal(c.claims.xsolla_login_project_id, app.projectId);
    assert.ok(c.claims.exp > c.claims.iat && c.claims.exp - c.claims.iat <= 60, `${c.path}: lifetime ${c.claims.exp - c.claims.iat}`);
  }
  const jtis = app.calls.map((c) => c.claims.jti);
  assert.equal(new Set(jtis).size, jtis.length, 'a jti was used twice');
}

it('resetd binary is present', () => {
  h.assertBinary();
});

// ---------------------------------------------------------------------------
// The app by itself: its token check, its bad-request answers and its
// faults, so that what the resetd tests below rely on is known to hold.

describe('the storage app', () => {
  let app;
  const key = crypto.randomBytes(32).toString('base64url');
  const projectId = crypto.randomUUID();

  before(async () => {
    jose = await import('jose');
    app = await newApp({ secretKey: key, projectId });
  });

  async function token({ url, secret = key, claims = {}, alg = 'HS256', iss = 'resetd', ttl = 60 } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ type: 'custom_storage', xsolla_login_project_id: projectId, ...claims })
      .setProtectedHeader({ alg })
      .setIssuer(iss)
      .setAudience(url)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(secret));
  }

  async function post(path, body, { tok, headers = {}, timeoutMs } = {}) {
    const url = `${app.origin}${path}`;
    const t = tok === undefined ? await token({ url }) : tok;
    return h.rawRequest(url, {
      method: 'POST',
      headers: { ...(t === null ? {} : { Authorization: `Bearer ${t}` }), 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      timeoutMs,
    });
  }

  it('serves lookup, verify, password and register under a valid token', async () => {
    const u = await appUser(app, { verifyCode: 'vc-123456' });
    let res = await post('/lookup', { email: u.email.toUpperCase() });
    assert.equal(res.status, 200, show(res));
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.deepEqual(res.json, { id: u.id, email: u.email, username: null, locale: null, status: 'active' });
    assert.equal((await post('/lookup', { email: 'nobody@example.com' })).status, 404);
    assert.equal((await post('/verify', { email: u.email, password: u.password })).status, 200);
    assert.equal((await post('/verify', { email: u.email, password: 'wrong password 1' })).status, 401);
    assert.equal((await post('/verify', { email: 'nobody@example.com', password: 'x' })).status, 404);

    const before = app.user(u.id);
    const pw = newPassword();
    res = await post('/password', { user_id: u.id, email: u.email, new_password: pw, verify_code: 'vc-wrong' });
    assert.equal(res.status, 422, 'a wrong verify_code is refused');
    res = await post('/password', { user_id: u.id, email: u.email, new_password: pw });
    assert.equal(res.status, 422, 'a missing verify_code is refused');
    assert.deepEqual(app.user(u.id), before, 'a refused set changes nothing');
    res = await post('/password', { user_id: u.id, email: u.email, new_password: pw, verify_code: 'vc-123456' });
    assert.equal(res.status, 204, show(res));
    assert.equal(await app.checkPassword(u.id, pw), true);
    assert.equal(await app.checkPassword(u.id, u.password), false);
    assert.equal(app.user(u.id).passwordSets, 1);

    const email = `${uniq('reg')}@example.com`;
    res = await post('/register', { email, password: newPassword() });
    assert.equal(res.status, 200, show(res));
    assert.equal(res.json.email, email);
    assert.equal((await post('/register', { email, password: newPassword() })).status, 409);
    assert.deepEqual(app.failures, []);
  });

  it('refuses, with 401 and a recorded failure, every token that is not resetd\'s for this URL', async () => {
    const url = `${app.origin}/lookup`;
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      'another key': await token({ url, secret: crypto.randomBytes(32).toString('base64url') }),
      'another URL': await token({ url: `${app.origin}/verify` }),
      'another issuer': await token({ url, iss: 'someone' }),
      'another project': await token({ url, claims: { xsolla_login_project_id: crypto.randomUUID() } }),
      'another type': await token({ url, claims: { type: 'xsolla_login' } }),
      expired: await new jose.SignJWT({ type: 'custom_storage', xsolla_login_project_id: projectId })
        .setProtectedHeader({ alg: 'HS256' }).setIssuer('resetd').setAudience(url)
        .setIssuedAt(now - 600).setExpirationTime(now - 540).setJti(crypto.randomUUID())
        .sign(new TextEncoder().encode(key)),
      HS512: await token({ url, alg: 'HS512' }),
      'alg none': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'resetd', aud: url })).toString('base64url')}.`,
      garbage: 'garbage',
    };
    for (const [what, tok] of Object.entries(bad)) {
      const n = app.failures.length;
      const res = await post('/lookup', { email: 'x@example.com' }, { tok });
      assert.equal(res.status, 401, `${what}: ${show(res)}`);
      assert.equal(app.failures.length, n + 1, `${what}: not recorded`);
    }
    const n = app.failures.length;
    assert.equal((await post('/lookup', { email: 'x@example.com' }, { tok: null })).status, 401, 'no token');
    const once = await token({ url });
    assert.equal((await post('/lookup', { email: 'x@example.com' }, { tok: once })).status, 404);
    assert.equal((await post('/lookup', { email: 'x@example.com' }, { tok: once })).status, 401, 'a replayed jti');
    assert.equal(app.failures.length, n + 2);
    assert.match(app.failures.at(-1).reason, /replayed/);
    app.failures.length = 0;
  });

  it('answers 400 to requests that are not the contract\'s', async () => {
    const url = `${app.origin}/password`;
    const cases = [
      ['not JSON', '{"user_id":', {}],
      ['a JSON array', '[]', {}],
      ['form encoded', 'user_id=x', { 'Content-Type': 'application/x-www-form-urlencoded' }],
      ['no user_id', { email: 'x@example.com', new_password: 'x' }, {}],
      ['both passwords', { user_id: 'x', email: 'x@example.com', new_password: 'x', password_hash: '$argon2id$x' }, {}],
      ['a number for verify_code', { user_id: 'x', email: 'x@example.com', new_password: 'x', verify_code: 5 }, {}],
      ['oversize', JSON.stringify({ user_id: 'x', pad: 'x'.repeat(70000) }), {}],
    ];
    for (const [what, body, headers] of cases) {
      const res = await post('/password', body, { tok: await token({ url }), headers });
      assert.equal(res.status, 400, `${what}: ${show(res)}`);
    }
    const lookups = [['both logins', { email: 'a@example.com', username: 'a' }], ['an empty login', { email: '' }], ['a number', { username: 5 }]];
    for (const [what, body] of lookups) assert.equal((await post('/lookup', body)).status, 400, what);
    const get = await h.rawRequest(`${app.origin}/lookup`, { headers: { Authorization: `Bearer ${await token({ url: `${app.origin}/lookup` })}` } });
    assert.equal(get.status, 400, 'GET');
    assert.deepEqual(app.failures, []);
  });

  it('faults: wrong shapes, redirect, refusal, slow, held, down; none changes a user', async () => {
    const u = await appUser(app);
    const before = app.user(u.id);
    const set = () => post('/password', { user_id: u.id, email: u.email, new_password: newPassword() });
    const shapes = {
      types: (r) => r.status === 200 && typeof r.json.id === 'number',
      notjson: (r) => r.status === 200 && /^application\/json/.test(r.headers['content-type']) && r.json === undefined,
      ctype: (r) => r.status === 200 && r.headers['content-type'] === 'text/plain',
      array: (r) => r.status === 200 && Array.isArray(r.json),
      oversize: (r) => r.status === 200 && r.text.length > 16384,
      redirect: (r) => r.status === 302 && r.headers.location === `${app.origin}/followed/password`,
      refuse: (r) => r.status === 422,
      error: (r) => r.status === 500,
    };
    for (const [kind, ok] of Object.entries(shapes)) {
      app.fault(kind, { paths: ['/password'] });
      const res = await set();
      assert.ok(ok(res), `${kind}: ${show(res)}`);
      assert.equal((await post('/lookup', { email: u.email })).status, 200, `${kind}: only /password is faulty`);
    }
    assert.deepEqual(app.user(u.id), before);

    // Slow: a caller that gives up first changes nothing; one that waits
    // gets the answer late, and the change.
    app.fault('slow', { delayMs: 1000, paths: ['/password'] });
    await assert.rejects(post('/password', { user_id: u.id, email: u.email, new_password: newPassword() }, { timeoutMs: 200 }), /no answer/);
    await app.waitForCall('/password', (c) => c.status === 'abandoned');
    assert.deepEqual(app.user(u.id), before);
    const pw = newPassword();
    const late = await post('/password', { user_id: u.id, email: u.email, new_password: pw }, { timeoutMs: 10000 });
    assert.equal(late.status, 204);
    assert.equal(await app.checkPassword(u.id, pw), true);

    // Held: no answer until released.
    app.fault('hold', { paths: ['/lookup'] });
    const pending = post('/lookup', { email: u.email });
    await app.waitForCall('/lookup', (c) => c.fault === 'hold');
    assert.equal(app.heldCount(), 1);
    app.clear();
    assert.equal((await pending).status, 200);

    // Down: nothing listens; up again on the same port.
    await app.down();
    await assert.rejects(post('/lookup', { email: u.email }), /ECONNREFUSED/);
    await app.up();
    assert.equal((await post('/lookup', { email: u.email })).status, 200);
    assert.equal(app.user(u.id).passwordSets, 1, 'only the set whose caller waited was done');
    app.clear();
    assert.deepEqual(app.failures, []);
  });
});
