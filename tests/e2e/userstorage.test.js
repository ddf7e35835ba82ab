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
  AdminCreateUserCommand,
  InitiateAuthCommand,
  GetUserCommand,
  ChangePasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');
const workos = require('workos11');

const PAGE_ORIGIN = 'http://localhost:3999';
const CALLBACK_URL = 'http://localhost:3999/cb';
const TEST_TIMEOUT = 120000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The projects' storage timeout: long, so that a loaded machine running the
// sanitizer build does not turn an app's normal answer into a timeout. The
// tests of a slow app use a shorter one, and an app slower than it by far.
const STORAGE_TIMEOUT_MS = 5000;
const FAULT_TIMEOUT_MS = 1000;
const SLOW_MS = 4000; // a slow app answers after this
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
async function webhookProject(d, app, extra = [], { register = true, timeoutMs = STORAGE_TIMEOUT_MS } = {}) {
  const project = await d.cli([
    'project', 'create', '--name', uniq('ustore'),
    '--callback-url', CALLBACK_URL, '--allowed-origin', PAGE_ORIGIN,
    ...app.projectArgs({ register }), '--allow-private-targets', 'on',
    '--storage-timeout-ms', String(timeoutMs),
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

// ---------------------------------------------------------------------------
// Xsolla with webhook storage

describe('xsolla with webhook storage', () => {
  let d;

  before(async () => {
    jose = jose || (await import('jose'));
    d = await startDaemon();
  });

  it('request, mail, confirm with a verify_code; the app sets the password; sign-in goes through the app', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project, secretKey } = await webhookProject(d, app);
    assert.equal(project.user_storage, 'webhook');
    assert.equal(project.storage_lookup_url, app.urls.lookup);
    assert.equal(project.storage_verify_url, app.urls.verify);
    assert.equal(project.storage_password_url, app.urls.password);
    assert.equal(project.storage_new_user_url, app.urls.register);
    assert.equal(project.storage_timeout_ms, STORAGE_TIMEOUT_MS);
    assert.equal(project.storage_password_format, 'plain');
    const verifyCode = `vc-${crypto.randomBytes(8).toString('hex')}`;
    const u = await appUser(app, { verifyCode });

    // Sign-in before the reset, through the app's password check.
    const first = await xlogin(d, project, u.email, u.password);
    assert.equal(first.status, 200, show(first));
    const check = app.callsTo('/verify').at(-1);
    assert.deepEqual(check.body, { email: u.email, password: u.password });
    const firstToken = new URL(first.json.login_url).searchParams.get('token');
    const claims = (await jose.jwtVerify(firstToken, new TextEncoder().encode(secretKey), { algorithms: ['HS256'] })).payload;
    assert.equal(claims.email, u.email);
    assert.match(claims.sub, UUID_RE, 'the token names resetd\'s own id of the user');
    assert.notEqual(claims.sub, u.id);

    const sdk = makeXsollaApi({ projectId: project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    try {
      await sdk.api.reset({ username: u.email });
    } finally {
      sdk.close();
    }
    const lookup = await app.waitForCall('/lookup', (c) => c.body.email === u.email, { answered: true });
    assert.equal(lookup[0].status, 200);
    const link = await resetMail(d, u.email);
    assert.equal(link.user_id, claims.sub, 'the link names the same user as the login token');

    const pw = newPassword();
    const res = await xcall(d, project, '/password/reset/confirm', { new_password: pw, reset_code: link.reset_code, user_id: link.user_id, verify_code: verifyCode });
    assert.equal(res.status, 204, show(res));
    const sets = app.callsTo('/password');
    assert.equal(sets.length, 1);
    assert.deepEqual(sets[0].body, { user_id: u.id, email: u.email, new_password: pw, verify_code: verifyCode });
    assert.equal(sets[0].status, 204);
    assert.equal(await app.checkPassword(u.id, pw), true);

    // The new password signs in, through the app; the old one does not.
    const ok = await xlogin(d, project, u.email, pw);
    assert.equal(ok.status, 200, show(ok));
    const old = await xlogin(d, project, u.email, u.password);
    assert.equal(old.status, 401, show(old));
    assert.equal(old.json.error.code, '003-001');
    // The session from before the reset ended with it; the link is spent.
    const me = await h.request(`${d.url}/api/users/me`, { headers: { Authorization: `Bearer ${firstToken}` } });
    assert.equal(me.status, 401, show(me));
    const again = await xcall(d, project, '/password/reset/confirm', { new_password: newPassword(), reset_code: link.reset_code, user_id: link.user_id, verify_code: verifyCode });
    assert.equal(again.status, 404, show(again));
    assert.equal(app.callsTo('/password').length, 1, 'a spent link does not reach the app');
    assertCallsClean(app);
  });

  it('through the SDK, by username, no verify_code is sent; with storage_password_format argon2id the app gets only a hash', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--storage-password-format', 'argon2id']);
    assert.equal(project.storage_password_format, 'argon2id');
    const u = await appUser(app, { username: uniq('name') });
    const sdk = makeXsollaApi({ projectId: project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    try {
      await sdk.api.reset({ username: u.username });
      const [lookup] = await app.waitForCall('/lookup', () => true, { answered: true });
      assert.deepEqual(lookup.body, { username: u.username });
      assert.equal(lookup.status, 200);
      const link = await resetMail(d, u.email);
      const pw = newPassword();
      await sdk.api.set({ newPassword: pw, code: link.reset_code, user_id: link.user_id });
      const [set] = app.callsTo('/password');
      assert.deepEqual(Object.keys(set.body).sort(), ['email', 'password_hash', 'user_id'], JSON.stringify(Object.keys(set.body)));
      secrets.add(set.body.password_hash); // never to be logged either
      assert.match(set.body.password_hash, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
      assert.ok(!JSON.stringify(set.body).includes(pw), 'the plain password reached the app');
      assert.equal(app.user(u.id).passwordKind, 'argon2id');
      // The app checks the hash resetd made (hash-wasm, an independent Argon2).
      assert.equal(await app.checkPassword(u.id, pw), true);
      const ok = await xlogin(d, project, u.email, pw);
      assert.equal(ok.status, 200, show(ok));
      assert.equal((await xlogin(d, project, u.email, u.password)).status, 401);
    } finally {
      sdk.close();
    }
    assertCallsClean(app);
  });

  it('unknown users: byte-identical answers, the lookup after the answer, mail to the known ones only', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app);
    const known = [await appUser(app), await appUser(app)];
    const unknown = [`${uniq('au')}@example.com`, `${uniq('au')}@example.com`]; // the same shape
    assert.equal(unknown[0].length, known[0].email.length);

    // The app holds every lookup: an answer that waited on one would not
    // come. And when each answer is in, its lookup has not reached the app:
    // it is made after the answer, by the outbox worker.
    app.fault('hold', { paths: ['/lookup'] });
    const lookupsOf = (login) => app.callsTo('/lookup', (c) => c.body.email === login).length;
    const answers = [];
    for (const login of [unknown[0], known[0].email, unknown[1], known[1].email]) {
      const res = await h.rawRequest(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
        method: 'POST', headers: { Origin: PAGE_ORIGIN }, body: { username: login },
      });
      assert.equal(lookupsOf(login), 0, `${login}: the app was asked before the answer`);
      answers.push(res);
    }
    const strip = (r) => {
      const headers = { ...r.headers };
      delete headers.date;
      delete headers['x-request-id']; // one per request
      return { status: r.status, headers, text: r.text };
    };
    assert.equal(answers[0].status, 204, show(answers[0]));
    assert.ok('x-request-id' in answers[0].headers);
    for (const r of answers.slice(1)) {
      assert.deepEqual(strip(r), strip(answers[0]));
      assert.deepEqual(Object.keys(r.headers).sort(), Object.keys(answers[0].headers).sort());
    }

    // Every lookup reaches the app, held; then the app answers them.
    for (const login of [...unknown, ...known.map((u) => u.email)]) {
      await app.waitForCall('/lookup', (c) => c.body.email === login, { what: `the lookup of ${login}` });
    }
    app.clear();
    for (const login of unknown) await app.waitForCall('/lookup', (c) => c.body.email === login && c.status === 404, { what: `${login} answered` });
    for (const u of known) {
      await app.waitForCall('/lookup', (c) => c.body.email === u.email && c.status === 200, { what: `${u.email} answered` });
      await resetMail(d, u.email);
    }
    await h.waitOutboxSettled(d);
    const mail = await h.readMaildir(d.maildir);
    for (const login of unknown) assert.equal(mail.filter(h.mailTo(login)).length, 0, 'mail went to an unknown login');
    assertCallsClean(app);
  });

  it('the unknown-account notice: sent after the app answered "not found", never to a known login', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--unknown-account-notice', 'on']);
    assert.equal(project.unknown_account_notice, true);
    const u = await appUser(app);
    const nobody = `${uniq('au')}@example.com`;
    const a = await xcall(d, project, '/password/reset/request', { username: nobody });
    const b = await xcall(d, project, '/password/reset/request', { username: u.email });
    assert.equal(a.status, 204);
    assert.equal(b.status, 204);
    const notice = await h.waitForMail(d.maildir, h.mailTo(nobody));
    assert.match(notice.text, /there is no .* account with this email/);
    assert.equal(h.extractResetLink(notice.text), null, 'a notice carries no link');
    assert.equal(app.callsTo('/lookup', (c) => c.body.email === nobody)[0].status, 404, 'the notice came before the app said "not found"');
    const link = await resetMail(d, u.email);
    assert.ok(link.reset_code);
    await h.waitOutboxSettled(d);
    const mail = await h.readMaildir(d.maildir);
    assert.equal(mail.filter(h.mailTo(nobody)).length, 1);
    assert.equal(mail.filter(h.mailTo(u.email)).length, 1, 'a known login got a notice too');
    assertCallsClean(app);
  });

  it('a user the app says is disabled gets no mail and cannot sign in, in every dialect', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const u = await appUser(app);
    app.setStatus(u.id, 'disabled');
    assert.equal((await xcall(d, project, '/password/reset/request', { username: u.email })).status, 204);
    await app.waitForCall('/lookup', (c) => c.body.email === u.email && c.status === 200, { what: 'the lookup of the disabled user' });
    await h.waitOutboxSettled(d);
    assert.equal((await h.readMaildir(d.maildir)).filter(h.mailTo(u.email)).length, 0, 'a disabled user was mailed');

    const x = await xlogin(d, project, u.email, u.password);
    assert.notEqual(x.status, 200, show(x));
    assertXsollaError(x, 'Xsolla sign-in of a disabled user');
    const c = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: d.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    await assert.rejects(
      c.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: client.client_id, AuthParameters: { USERNAME: u.email, PASSWORD: u.password } })),
      (err) => err.name === 'NotAuthorizedException'
    );
    assert.ok(app.callsTo('/verify', (c2) => c2.status === 200).length >= 2, 'the app was not asked');

    // Enabled again in the app: mail and sign-in work.
    app.setStatus(u.id, 'active');
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
    assert.equal((await xcall(d, project, '/password/reset/request', { username: u.email })).status, 204);
    await h.waitForMail(d.maildir, h.mailTo(u.email));
    assertCallsClean(app);
  });

  it('after `project secret-key --rotate` the calls to the app are signed with the new key', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project, secretKey } = await webhookProject(d, app);
    const u = await appUser(app);
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
    const rotated = await d.cli(['project', 'secret-key', project.id, '--rotate']);
    secrets.add(rotated.secret_key);
    assert.notEqual(rotated.secret_key, secretKey);
    // The app takes both keys while the daemon's key cache turns (seconds),
    // and tells which one each call was signed with.
    app.secretKey = [rotated.secret_key, secretKey];
    const deadline = Date.now() + 30000;
    for (;;) {
      assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
      if (app.callsTo('/verify').at(-1).key === 0 || Date.now() > deadline) break;
      await h.sleep(250);
    }
    assert.equal(app.callsTo('/verify').at(-1).key, 0, 'never signed with the new key');
    // From then on, the new key alone.
    app.secretKey = rotated.secret_key;
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
    assert.equal((await xcall(d, project, '/password/reset/request', { username: u.email })).status, 204);
    await app.waitForCall('/lookup', (c) => c.status === 200);
    assertCallsClean(app);
  });

  it('a lookup the app could not answer is retried, never believed: the mail comes once the app is back', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--reset-limit', '100'], { timeoutMs: FAULT_TIMEOUT_MS }); // one account asks nine times
    const u = await appUser(app);
    const skip = new Set();
    for (const fault of ['down', 'types', 'ctype', 'notjson', 'array', 'oversize', 'redirect', 'error', 'slow']) {
      const start = app.calls.length;
      const since = (c) => app.calls.indexOf(c) >= start;
      if (fault === 'down') await app.down();
      else app.fault(fault, { paths: ['/lookup'], delayMs: SLOW_MS });
      const res = await xcall(d, project, '/password/reset/request', { username: u.email });
      assert.equal(res.status, 204, `${fault}: ${show(res)}`);
      if (fault !== 'down') {
        // Asked twice under the fault: the first answer was not believed.
        await app.waitForCall('/lookup', (c) => since(c) && c.fault === fault, { what: `the ${fault} lookup` });
        const next = app.calls.length;
        await app.waitForCall('/lookup', (c) => c.fault === fault && app.calls.indexOf(c) >= next, { what: `a retry of the ${fault} lookup`, timeoutMs: 30000 });
      }
      assert.equal((await h.readMaildir(d.maildir)).filter(h.mailTo(u.email)).length, skip.size, `${fault}: mail without a found user`);
      if (fault === 'down') await app.up();
      else app.clear();
      await app.waitForCall('/lookup', (c) => since(c) && c.status === 200, { what: `the lookup after ${fault}`, timeoutMs: 30000 });
      await resetMail(d, u.email, skip);
      await h.waitOutboxSettled(d);
    }
    assertCallsClean(app);
  });

  it('the app down, slow, wrong, redirecting, refusing: confirm fails, the link stays good, nothing is marked done', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, [], { timeoutMs: FAULT_TIMEOUT_MS });
    const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
    secrets.add(key);
    const verifyCode = `vc-${crypto.randomBytes(8).toString('hex')}`;
    const u = await appUser(app, { verifyCode });
    const signedIn = await xlogin(d, project, u.email, u.password);
    assert.equal(signedIn.status, 200, show(signedIn));
    const session = new URL(signedIn.json.login_url).searchParams.get('token');
    const before = app.user(u.id);

    assert.equal((await xcall(d, project, '/password/reset/request', { username: u.email })).status, 204);
    const link = await resetMail(d, u.email);
    const confirm = (pw, code = verifyCode) =>
      xcall(d, project, '/password/reset/confirm', { new_password: pw, reset_code: link.reset_code, user_id: link.user_id, verify_code: code });
    const succeeded = async () => {
      const res = await h.request(`${d.url}/events?events=password_reset.succeeded`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200, show(res));
      return res.json.data.length;
    };

    // [fault, what a confirm then gets: 'refused' (4xx) or 'unavailable' (5xx)]
    const faults = [
      ['down', 'unavailable'],
      ['slow', 'unavailable'],
      ['notjson', 'unavailable'],
      ['ctype', 'unavailable'],
      ['array', 'unavailable'],
      ['oversize', 'unavailable'],
      ['redirect', 'unavailable'],
      ['error', 'unavailable'],
      ['refuse', 'refused'],
    ];
    for (const [fault, outcome] of faults) {
      const n = app.callsTo('/password').length;
      if (fault === 'down') await app.down();
      else app.fault(fault, { paths: ['/password'], delayMs: SLOW_MS });
      const pw = newPassword();
      const res = await confirm(pw);
      assertXsollaError(res, fault);
      // A refusal is Xsolla's "bad request" (docs/dialects/xsolla.md).
      if (outcome === 'refused') assert.equal(res.status, 400, `${fault}: ${show(res)}`);
      else assert.ok(res.status >= 500 && res.status < 600, `${fault}: ${show(res)}`);
      if (fault === 'down') {
        assert.equal(app.callsTo('/password').length, n);
        await app.up();
      } else {
        const [call] = await app.waitForCall('/password', (c) => c.body.new_password === pw, { what: `the ${fault} set` });
        assert.equal(call.fault, fault);
        if (fault === 'slow') await app.waitForCall('/password', (c) => c === call && c.status === 'abandoned', { what: 'the slow set abandoned' });
        app.clear();
      }
      assert.deepEqual(app.user(u.id), before, `${fault}: the app's user changed`);
      assert.equal(await app.checkPassword(u.id, pw), false);
      // Nothing is marked done: the session lives, no success is recorded.
      const me = await h.request(`${d.url}/api/users/me`, { headers: { Authorization: `Bearer ${session}` } });
      assert.equal(me.status, 200, `${fault}: the session ended: ${show(me)}`);
      assert.equal(await succeeded(), 0, `${fault}: password_reset.succeeded recorded`);
      assert.equal((await xlogin(d, project, u.email, u.password)).status, 200, `${fault}: the old password no longer signs in`);
    }

    // A wrong verify_code is the app's refusal; the right one then works.
    const wrong = await confirm(newPassword(), 'vc-wrong');
    assertXsollaError(wrong, 'wrong verify_code');
    assert.equal(wrong.status, 400, show(wrong));
    assert.equal(wrong.json.error.description, 'Request has invalid parameters.');
    assert.deepEqual(app.user(u.id), before);

    const pw = newPassword();
    const ok = await confirm(pw);
    assert.equal(ok.status, 204, show(ok));
    assert.equal(app.user(u.id).passwordSets, 1);
    assert.equal(await app.checkPassword(u.id, pw), true);
    assert.equal(await succeeded(), 1);
    assert.equal((await xlogin(d, project, u.email, pw)).status, 200);
    const me = await h.request(`${d.url}/api/users/me`, { headers: { Authorization: `Bearer ${session}` } });
    assert.equal(me.status, 401, 'the reset ended the session');
    assertCallsClean(app);
  });

  it('wrong verify_codes are wrong tries of the link: after as many as a code takes the link is spent, fewer leave it good', { timeout: TEST_TIMEOUT }, async () => {
    const MAX_WRONG = 5; // SECRET_MAX_WRONG, the wrong tries a code takes
    const app = await newApp();
    const { project } = await webhookProject(d, app);
    const attempt = async (wrongTries) => {
      const verifyCode = `vc-${crypto.randomBytes(8).toString('hex')}`;
      const u = await appUser(app, { verifyCode });
      assert.equal((await xcall(d, project, '/password/reset/request', { username: u.email })).status, 204);
      const link = await resetMail(d, u.email);
      const confirm = (pw, code) =>
        xcall(d, project, '/password/reset/confirm', { new_password: pw, reset_code: link.reset_code, user_id: link.user_id, verify_code: code });
      let refusal = null;
      for (let i = 0; i < wrongTries; i++) {
        const res = await confirm(newPassword(), `vc-wrong-${i}`);
        assertXsollaError(res, `wrong verify_code ${i + 1}`);
        assert.ok(res.status >= 400 && res.status < 500, show(res));
        if (refusal) assert.deepEqual([res.status, res.json.error.code], refusal, `wrong verify_code ${i + 1}: another answer`);
        refusal = [res.status, res.json.error.code];
      }
      const sets = app.callsTo('/password').length;
      const pw = newPassword();
      const right = await confirm(pw, verifyCode);
      return { u, pw, right, refusal, called: app.callsTo('/password').length - sets, again: () => confirm(newPassword(), verifyCode) };
    };

    // Fewer wrong tries than the cap: the right verify_code works.
    const few = await attempt(MAX_WRONG - 1);
    assert.equal(few.right.status, 204, show(few.right));
    assert.equal(few.called, 1);
    assert.equal(await app.checkPassword(few.u.id, few.pw), true);
    // What a spent link answers, to compare with below.
    const used = await few.again();
    assertXsollaError(used, 'a used link');
    const spent = [used.status, used.json.error.code];
    assert.notDeepEqual(spent, few.refusal, 'a spent link answers as a refusal does');

    // As many wrong tries as the cap: the link is spent; the right
    // verify_code is refused as on a spent link and never reaches the app.
    const many = await attempt(MAX_WRONG);
    assertXsollaError(many.right, 'the right verify_code after the cap');
    assert.deepEqual([many.right.status, many.right.json.error.code], spent, show(many.right));
    assert.equal(many.called, 0, 'the app was asked to set a password on a spent link');
    assert.equal(app.user(many.u.id).passwordSets, 0);
    assert.equal(await app.checkPassword(many.u.id, many.pw), false);
    assert.equal((await xlogin(d, project, many.u.email, many.u.password)).status, 200, 'the old password no longer signs in');
    assertCallsClean(app);
  });

  it('sign-in: an app that is down, slow or answers a wrong shape is an error, never a success', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, [], { timeoutMs: FAULT_TIMEOUT_MS });
    const u = await appUser(app);
    for (const fault of ['down', 'slow', 'types', 'notjson', 'ctype', 'oversize', 'redirect', 'error']) {
      if (fault === 'down') await app.down();
      else app.fault(fault, { paths: ['/verify'], delayMs: SLOW_MS });
      const res = await xlogin(d, project, u.email, u.password);
      assert.notEqual(res.status, 200, `${fault}: ${show(res)}`);
      assertXsollaError(res, fault);
      if (fault === 'down') await app.up();
      else app.clear();
    }
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
    // A password check answered 204: resetd then looks the user up.
    app.verifyAnswer = 'empty';
    const n = app.callsTo('/lookup').length;
    const by204 = await xlogin(d, project, u.email, u.password);
    assert.equal(by204.status, 200, show(by204));
    assert.equal(app.callsTo('/lookup').length, n + 1, 'no lookup after a 204 password check');
    app.verifyAnswer = 'user';
    // A wrong password and an unknown login get the one refusal.
    const wrong = await xlogin(d, project, u.email, 'not the password 1');
    const nobody = await xlogin(d, project, `${uniq('au')}@example.com`, 'not the password 1');
    assert.equal(wrong.status, 401);
    assert.deepEqual(nobody.json, wrong.json);
    assertCallsClean(app);
  });
});

// ---------------------------------------------------------------------------
// Private targets

describe('reaching internal addresses', () => {
  let d;

  before(async () => {
    d = await startDaemon({ admin: true });
  });

  it('CLI: storage URLs on loopback only with --allow-private-targets on; bad settings are named', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const refused = await d.cli(['project', 'create', '--name', uniq('p'), ...app.projectArgs()]).catch((e) => e);
    assert.ok(refused instanceof Error, 'a loopback storage URL was taken');
    assert.match(refused.stderr, /private/);
    const taken = await d.cli(['project', 'create', '--name', uniq('p'), ...app.projectArgs(), '--allow-private-targets', 'on']);
    assert.equal(taken.user_storage, 'webhook');
    assert.equal(taken.allow_private_targets, true);

    const plain = await d.cli(['project', 'create', '--name', uniq('p')]);
    assert.equal(plain.user_storage, 'builtin');
    const upd = await d.cli(['project', 'update', plain.id, ...app.projectArgs()]).catch((e) => e);
    assert.ok(upd instanceof Error, 'update took a loopback storage URL');
    assert.match(upd.stderr, /private/);
    assert.equal((await d.cli(['project', 'show', plain.id])).user_storage, 'builtin', 'a refused update changed the project');
    const updated = await d.cli(['project', 'update', plain.id, ...app.projectArgs(), '--allow-private-targets', 'on']);
    assert.equal(updated.user_storage, 'webhook');

    for (const url of ['http://10.1.2.3/lookup', 'http://[::1]:9/lookup', 'http://localhost:9/lookup', 'http://169.254.169.254/latest']) {
      const args = app.projectArgs().map((a) => (a === app.urls.lookup ? url : a));
      const err = await d.cli(['project', 'create', '--name', uniq('p'), ...args]).catch((e) => e);
      assert.ok(err instanceof Error, `${url} was taken`);
      assert.match(err.stderr, /private/, url);
    }
    const bad = [
      ['ftp://example.com/lookup', /storage-lookup-url|scheme|http/],
      ['http://user:pw@example.com/lookup', /storage-lookup-url|credential/],
      ['not a url', /storage-lookup-url|URL/],
    ];
    for (const [url, why] of bad) {
      const args = app.projectArgs().map((a) => (a === app.urls.lookup ? url : a));
      const err = await d.cli(['project', 'create', '--name', uniq('p'), ...args, '--allow-private-targets', 'on']).catch((e) => e);
      assert.ok(err instanceof Error, `${url} was taken`);
      assert.match(err.stderr, why, url);
    }
    const missing = await d.cli(['project', 'create', '--name', uniq('p'), '--user-storage', 'webhook', '--storage-lookup-url', app.urls.lookup, '--allow-private-targets', 'on']).catch((e) => e);
    assert.ok(missing instanceof Error);
    assert.match(missing.stderr, /--storage-verify-url|--storage-password-url/);
    for (const ms of ['99', '30001', 'x']) {
      const err = await d.cli(['project', 'create', '--name', uniq('p'), ...app.projectArgs(), '--allow-private-targets', 'on', '--storage-timeout-ms', ms]).catch((e) => e);
      assert.ok(err instanceof Error, `timeout ${ms} was taken`);
      assert.match(err.stderr, /storage-timeout-ms/);
    }
    assert.equal(app.calls.length, 0, 'setting a project called the app');
  });

  it('private targets cannot be turned off under loopback storage URLs; the project is left as it was', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app);
    const u = await appUser(app);
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200);
    const off = await d.cli(['project', 'update', project.id, '--allow-private-targets', 'off']).catch((e) => e);
    assert.ok(off instanceof Error, 'private targets turned off under a loopback storage URL');
    assert.match(off.stderr, /storage-.*-url.*private/);
    const shown = await d.cli(['project', 'show', project.id]);
    assert.equal(shown.allow_private_targets, true);
    assert.equal(shown.storage_lookup_url, app.urls.lookup);
    assert.equal((await xlogin(d, project, u.email, u.password)).status, 200, 'the refused update changed how sign-in works');
  });

  it('admin API: the same check on create and update', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const fields = {
      user_storage: 'webhook',
      storage_lookup_url: app.urls.lookup,
      storage_verify_url: app.urls.verify,
      storage_password_url: app.urls.password,
    };
    const refused = await d.admin('POST', '/admin/projects', { name: uniq('p'), ...fields });
    assert.equal(refused.status, 400, show(refused));
    assert.match(refused.json.error.message, /private/);
    assert.match(refused.json.error.field || '', /^storage_/);
    const made = await d.admin('POST', '/admin/projects', { name: uniq('p'), ...fields, allow_private_targets: true });
    assert.ok(made.status === 200 || made.status === 201, show(made));
    assert.equal(made.json.user_storage, 'webhook');
    assert.equal(made.json.storage_lookup_url, app.urls.lookup);

    const plain = await d.admin('POST', '/admin/projects', { name: uniq('p') });
    const id = plain.json.id;
    const patch = await d.admin('PATCH', `/admin/projects/${id}`, fields);
    assert.equal(patch.status, 400, show(patch));
    assert.match(patch.json.error.message, /private/);
    assert.equal((await d.admin('GET', `/admin/projects/${id}`)).json.user_storage, 'builtin');
    const patched = await d.admin('PATCH', `/admin/projects/${id}`, { ...fields, allow_private_targets: true });
    assert.equal(patched.status, 200, show(patched));
    assert.equal(patched.json.user_storage, 'webhook');
    assert.equal(app.calls.length, 0);

    // Users made through the admin API go to the app's create call, and
    // are refused without one.
    const key = await d.cli(['project', 'secret-key', id]);
    secrets.add(key.secret_key);
    app.secretKey = key.secret_key;
    app.projectId = id;
    const email = `${uniq('adm')}@example.com`;
    const password = newPassword();
    const refusedUser = await d.admin('POST', `/admin/projects/${id}/users`, { email, password });
    assert.ok(refusedUser.status >= 400 && refusedUser.status < 500, show(refusedUser));
    assert.equal(typeof refusedUser.json.error.message, 'string');
    assert.equal(app.calls.length, 0);
    const withCreate = await d.admin('PATCH', `/admin/projects/${id}`, { storage_new_user_url: app.urls.register });
    assert.equal(withCreate.status, 200, show(withCreate));
    const user = await d.admin('POST', `/admin/projects/${id}/users`, { email, password });
    assert.equal(user.status, 201, show(user));
    assert.equal(user.json.email, email);
    assert.deepEqual(app.callsTo('/register').map((c) => [c.body.email, c.body.password, c.status]), [[email, password, 200]]);
    assert.equal(await app.checkPassword(app.userByEmail(email).id, password), true);
    assertCallsClean(app);
  });
});

// ---------------------------------------------------------------------------
// WorkOS and Cognito

describe('workos and cognito with webhook storage', () => {
  let d;

  before(async () => {
    d = await startDaemon();
  });

  async function workosTenant(app, opts) {
    const { project } = await webhookProject(d, app, [], opts);
    const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
    const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
    secrets.add(key);
    const wos = new workos.WorkOS(key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId });
    return { project, key, clientId, wos };
  }

  it('WorkOS: createUser goes to the app\'s create call; authenticateWithPassword to its password check', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const t = await workosTenant(app);
    const email = `${uniq('wc')}@example.com`;
    const password = newPassword();
    const user = await t.wos.userManagement.createUser({ email, password });
    assert.equal(user.email, email);
    const [reg] = app.callsTo('/register');
    assert.equal(reg.status, 200);
    assert.equal(reg.body.email, email);
    assert.equal(reg.body.password, password);
    const kept = app.userByEmail(email);
    assert.ok(kept, 'the app holds the new user');
    assert.equal(await app.checkPassword(kept.id, password), true);

    const auth = await t.wos.userManagement.authenticateWithPassword({ email, password, clientId: t.clientId });
    secrets.add(auth.accessToken);
    secrets.add(auth.refreshToken);
    assert.equal(auth.user.id, user.id);
    assert.equal(auth.user.email, email);
    assert.equal(app.callsTo('/verify').at(-1).status, 200);

    const invalid = (err) => {
      const code = err.error || (err.rawData && err.rawData.error) || err.code;
      assert.equal(code, 'invalid_credentials', `${err.name}: ${err.message}`);
      return true;
    };
    await assert.rejects(t.wos.userManagement.authenticateWithPassword({ email, password: 'not the password 1', clientId: t.clientId }), invalid);
    await assert.rejects(t.wos.userManagement.authenticateWithPassword({ email: `${uniq('no')}@example.com`, password: 'not the password 1', clientId: t.clientId }), invalid);

    // The CLI's user create goes to the app too (answered 201 this time).
    app.registerStatus = 201;
    const cliEmail = `${uniq('wc')}@example.com`;
    const cliPassword = newPassword();
    const made = await d.cli(['user', 'create', '--project', t.project.id, '--email', cliEmail, '--password-stdin'], { input: cliPassword });
    assert.equal(made.email, cliEmail);
    assert.equal(app.callsTo('/register').at(-1).body.email, cliEmail);
    assert.equal(app.callsTo('/register').at(-1).status, 201);
    assert.equal(await app.checkPassword(app.userByEmail(cliEmail).id, cliPassword), true);

    app.registerStatus = 200;
    // A taken email is the app's 409: WorkOS's "not available".
    await assert.rejects(t.wos.userManagement.createUser({ email, password: newPassword() }), (err) => {
      assert.equal(err.status, 400, `${err.name}: ${err.message}`);
      return true;
    });
    assertCallsClean(app);
  });

  it('WorkOS: without a create URL, createUser is refused with a clear error and the app is not called', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const t = await workosTenant(app, { register: false });
    assert.equal(t.project.storage_new_user_url, null);
    await assert.rejects(t.wos.userManagement.createUser({ email: `${uniq('wn')}@example.com`, password: newPassword() }), (err) => {
      assert.ok(err.status >= 400 && err.status < 500, `${err.name} ${err.status}: ${err.message}`);
      assert.ok(err.message && err.message.length > 0);
      return true;
    });
    const cli = await d.cli(['user', 'create', '--project', t.project.id, '--email', `${uniq('wn')}@example.com`, '--password-stdin'], { input: newPassword() }).catch((e) => e);
    assert.ok(cli instanceof Error, 'user create took a user the app cannot create');
    assert.match(cli.stderr, /storage|create/i);
    assert.equal(app.calls.length, 0);
    // Sign-in still goes through the app.
    const u = await appUser(app);
    const auth = await t.wos.userManagement.authenticateWithPassword({ email: u.email, password: u.password, clientId: t.clientId });
    secrets.add(auth.accessToken);
    secrets.add(auth.refreshToken);
    assert.equal(auth.user.email, u.email);
    assertCallsClean(app);
  });

  it('Cognito: InitiateAuth USER_PASSWORD_AUTH through the app; ForgotPassword and confirm set the password there, with no verify_code', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const c = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: d.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const u = await appUser(app);
    const signIn = (password) => c.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: client.client_id, AuthParameters: { USERNAME: u.email, PASSWORD: password } }));
    const first = await signIn(u.password);
    secrets.add(first.AuthenticationResult.AccessToken);
    secrets.add(first.AuthenticationResult.RefreshToken);
    secrets.add(first.AuthenticationResult.IdToken);
    const me = await c.send(new GetUserCommand({ AccessToken: first.AuthenticationResult.AccessToken }));
    assert.equal(me.UserAttributes.find((a) => a.Name === 'email').Value, u.email);
    await assert.rejects(signIn('not the password 1'), (err) => err.name === 'NotAuthorizedException');

    await c.send(new ForgotPasswordCommand({ ClientId: client.client_id, Username: u.email }));
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(u.email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);
    const pw = newPassword();
    await c.send(new ConfirmForgotPasswordCommand({ ClientId: client.client_id, Username: u.email, ConfirmationCode: code, Password: pw }));
    const [set] = app.callsTo('/password');
    assert.deepEqual(Object.keys(set.body).sort(), ['email', 'new_password', 'user_id']);
    assert.equal(set.body.user_id, u.id);
    const after = await signIn(pw);
    secrets.add(after.AuthenticationResult.AccessToken);
    secrets.add(after.AuthenticationResult.RefreshToken);
    secrets.add(after.AuthenticationResult.IdToken);
    await assert.rejects(signIn(u.password), (err) => err.name === 'NotAuthorizedException');

    // ChangePassword: the app checks the old password and sets the new one.
    const wrongOld = c.send(new ChangePasswordCommand({ AccessToken: after.AuthenticationResult.AccessToken, PreviousPassword: 'not the password 1', ProposedPassword: newPassword() }));
    await assert.rejects(wrongOld, (err) => err.name === 'NotAuthorizedException');
    assert.equal(app.callsTo('/password').length, 1, 'a wrong old password reached the password set');
    const pw2 = newPassword();
    await c.send(new ChangePasswordCommand({ AccessToken: after.AuthenticationResult.AccessToken, PreviousPassword: pw, ProposedPassword: pw2 }));
    assert.deepEqual(app.callsTo('/password').at(-1).body, { user_id: u.id, email: u.email, new_password: pw2 });
    assert.equal(await app.checkPassword(u.id, pw2), true);
    assertCallsClean(app);
  });

  it('Cognito: AdminCreateUser (SigV4) goes to the app\'s create call, and is refused without one', { timeout: TEST_TIMEOUT }, async () => {
    for (const register of [true, false]) {
      const app = await newApp();
      const { project } = await webhookProject(d, app, ['--delivery', 'code'], { register });
      const key = await d.cli(['apikey', 'create', '--project', project.id]);
      secrets.add(key.key);
      secrets.add(key.aws_secret_access_key);
      const c = new CognitoIdentityProviderClient({
        region: 'us-east-1', endpoint: d.url, maxAttempts: 1,
        credentials: { accessKeyId: key.aws_access_key_id, secretAccessKey: key.aws_secret_access_key },
      });
      const email = `${uniq('ca')}@example.com`;
      const password = newPassword();
      const create = c.send(new AdminCreateUserCommand({
        UserPoolId: key.cognito_user_pool_id, Username: email, TemporaryPassword: password, MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'email', Value: email }],
      }));
      if (!register) {
        await assert.rejects(create, (err) => {
          assert.ok(err.$metadata.httpStatusCode >= 400 && err.$metadata.httpStatusCode < 500, `${err.name} ${err.$metadata.httpStatusCode}: ${err.message}`);
          assert.ok(err.message.length > 0);
          return true;
        });
        assert.equal(app.calls.length, 0);
        continue;
      }
      const made = await create;
      assert.equal(made.User.Attributes.find((a) => a.Name === 'email').Value, email);
      const [reg] = app.callsTo('/register');
      assert.equal(reg.body.email, email);
      assert.equal(reg.body.password, password);
      assert.equal(await app.checkPassword(app.userByEmail(email).id, password), true);
      assertCallsClean(app);
    }
  });

  it('Velocity and Cognito confirm: the app down is a 5xx, a refusal a 4xx, and the same code then works', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const c = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: d.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const u = await appUser(app);
    const before = app.user(u.id);
    const velocity = (path, body) => h.request(`${d.url}${path}`, { method: 'POST', headers: { userpoolid: project.id, appclientid: client.client_id }, body });
    const forgot = await velocity('/password/forgot', { userName: u.email });
    assert.equal(forgot.status, 200, show(forgot));
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(u.email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);

    await app.down();
    const down = await velocity('/password/forgot/confirm', { userName: u.email, verificationCode: code, newPassword: newPassword() });
    assert.ok(down.status >= 500 && down.status < 600, `Velocity, the app down: ${show(down)}`);
    assert.equal(typeof down.json.error.code, 'string', show(down));
    assert.equal(typeof down.json.error.message, 'string', show(down));
    await app.up();

    app.fault('refuse', { paths: ['/password'] });
    await assert.rejects(
      c.send(new ConfirmForgotPasswordCommand({ ClientId: client.client_id, Username: u.email, ConfirmationCode: code, Password: newPassword() })),
      (err) => {
        assert.ok(err.$metadata.httpStatusCode >= 400 && err.$metadata.httpStatusCode < 500, `Cognito, refused: ${err.name} ${err.$metadata.httpStatusCode}`);
        return true;
      }
    );
    app.clear();
    assert.deepEqual(app.user(u.id), before, 'a failed confirm changed the app\'s user');

    const pw = newPassword();
    await c.send(new ConfirmForgotPasswordCommand({ ClientId: client.client_id, Username: u.email, ConfirmationCode: code, Password: pw }));
    assert.equal(await app.checkPassword(u.id, pw), true);
    assert.equal(app.user(u.id).passwordSets, 1);
    assertCallsClean(app);
  });

  it('Cognito and Velocity: ForgotPassword answers unknown logins byte for byte as known ones', { timeout: TEST_TIMEOUT }, async () => {
    const app = await newApp();
    const { project } = await webhookProject(d, app, ['--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const known = await appUser(app);
    const unknown = `${uniq('au')}@example.com`;
    assert.equal(unknown.length, known.email.length);
    const strip = (r) => {
      const headers = { ...r.headers };
      for (const k of ['date', 'x-amzn-requestid', 'x-request-id']) delete headers[k];
      return { status: r.status, headers, text: r.text };
    };
    const cognito = (login) => h.rawRequest(`${d.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.ForgotPassword' },
      body: JSON.stringify({ ClientId: client.client_id, Username: login }),
    });
    const velocity = (login) => h.rawRequest(`${d.url}/password/forgot`, {
      method: 'POST',
      headers: { userpoolid: project.id, appclientid: client.client_id },
      body: { userName: login },
    });
    for (const [name, call] of [['Cognito', cognito], ['Velocity', velocity]]) {
      const a = await call(unknown);
      const b = await call(known.email);
      assert.ok(a.status < 300, `${name}: ${show(a)}`);
      // Velocity echoes the userName it was given; nothing else may differ.
      b.text = b.text.split(known.email).join(unknown);
      assert.deepEqual(strip(b), strip(a), name);
    }
    // Only the known login is mailed, once per request.
    await app.waitForCall('/lookup', (c) => c.body.email === known.email && c.status === 200 &&
      app.callsTo('/lookup', (x) => x.body.email === known.email && x.status === 200).length === 2, { what: 'both lookups of the known login' });
    await h.waitOutboxSettled(d);
    const mail = await h.readMaildir(d.maildir);
    assert.equal(mail.filter(h.mailTo(unknown)).length, 0);
    assert.equal(mail.filter(h.mailTo(known.email)).length, 2);
    assertCallsClean(app);
  });
});

// ---------------------------------------------------------------------------
// Durability of the lookup

describe('the lookup is durable', () => {
  it('a SIGKILL after the answer and before the lookup: after the restart the lookup is made and the mail comes once', { timeout: TEST_TIMEOUT }, async () => {
    // The sender holds what it claims, so the kill lands after the claim
    // and before the call to the app.
    const d = await startDaemon({ env: { RESETD_MAIL_TEST_HOLD_MS: '600000', RESETD_MAIL_LEASE_SECONDS: '2' } });
    const app = await newApp();
    const { project } = await webhookProject(d, app);
    const u = await appUser(app);
    const res = await xcall(d, project, '/password/reset/request', { username: u.email });
    assert.equal(res.status, 204, show(res));
    const deadline = Date.now() + 20000;
    let rows = [];
    while (Date.now() < deadline) {
      rows = await d.cli(['outbox', 'list', '--limit', '100']);
      if (rows.some((x) => x.tries === 1)) break;
      await h.sleep(100);
    }
    assert.ok(rows.some((x) => x.tries === 1), `the lookup task was not claimed: ${JSON.stringify(rows)}`);
    await d.kill('SIGKILL');
    assert.equal(app.callsTo('/lookup').length, 0);
    await d.restart({ env: { RESETD_MAIL_TEST_HOLD_MS: '0' } });
    await app.waitForCall('/lookup', (c) => c.body.email === u.email && c.status === 200, { timeoutMs: 30000 });
    await resetMail(d, u.email);
    await h.waitOutboxSettled(d);
    assert.equal((await h.readMaildir(d.maildir)).filter(h.mailTo(u.email)).length, 1);
    assertCallsClean(app);
  });
});
