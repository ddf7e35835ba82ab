'use strict';
// Black-box tests of how the Xsolla dialect binds a call to its project:
// /users/me answers only for the token's own project and says which one it
// is; CORS allows only the named project's origins, on every answer, errors
// included, and no origin when the project is unknown or not named; a
// session lives 24 hours, whatever the project's token_ttl.
// Run: node --test tests/e2e/xsolla-project.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const ORIGIN_A = 'http://localhost:3101';
const ORIGIN_B = 'http://localhost:3102';
const EVIL = 'http://evil.localhost:4666';
const TEST_TIMEOUT = 60000;

const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  h.registerSecret(p);
  return p;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

async function call(d, method, path, { projectId, query = {}, body, headers, root = false } = {}) {
  const u = new URL((root ? '' : '/api') + path, d.url);
  if (projectId !== undefined) u.searchParams.set('projectId', projectId);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return h.request(u.href, { method, headers, body });
}

function assertXsollaError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(res.json && res.json.error, `${what}: no error envelope: ${show(res)}`);
  assert.strictEqual(res.json.error.code, code, `${what}: ${show(res)}`);
}

// No CORS at all: no origin may read the answer with credentials.
function assertNoCors(res, what) {
  assert.equal(res.headers['access-control-allow-origin'], undefined, `${what}: ACAO ${res.headers['access-control-allow-origin']}`);
  assert.equal(res.headers['access-control-allow-credentials'], undefined, `${what}: credentials allowed`);
}

function assertCors(res, origin, what) {
  assert.equal(res.headers['access-control-allow-origin'], origin, `${what}: ${show(res)}`);
  assert.equal(res.headers['access-control-allow-credentials'], 'true', what);
}

async function newProject(d, origin, extra = []) {
  return d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', `${origin}/cb`, ...extra]);
}

async function newUser(d, project, email = `${uniq('user')}@example.com`) {
  const password = newPassword();
  const u = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { ...u, email, password };
}

async function tokenOf(d, project, user) {
  const res = await call(d, 'POST', '/login', { projectId: project.id, body: { username: user.email, password: user.password } });
  assert.equal(res.status, 200, `login: ${show(res)}`);
  const token = new URL(res.json.login_url).searchParams.get('token');
  h.registerSecret(token);
  return token;
}

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

function me(d, token, { projectId, origin, root } = {}) {
  const headers = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (origin !== undefined) headers.Origin = origin;
  return call(d, 'GET', '/users/me', { projectId, headers, root });
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('xsolla: a call is bound to its project', () => {
  let d;
  let a, b, ua, ub, sameA, sameB, ta, tb, tSameA, tSameB;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
    a = await newProject(d, ORIGIN_A, ['--token-ttl', '600']);
    b = await newProject(d, ORIGIN_B);
    ua = await newUser(d, a);
    ub = await newUser(d, b);
    // One address with an account in each project.
    const shared = `${uniq('both')}@example.com`;
    sameA = await newUser(d, a, shared);
    sameB = await newUser(d, b, shared);
    ta = await tokenOf(d, a, ua);
    tb = await tokenOf(d, b, ub);
    tSameA = await tokenOf(d, a, sameA);
    tSameB = await tokenOf(d, b, sameB);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  it('/users/me answers only for the token\'s own project, and names it', { timeout: TEST_TIMEOUT }, async () => {
    const good = [
      [ta, a, ua], [tb, b, ub], [tSameA, a, sameA], [tSameB, b, sameB],
    ];
    for (const [token, project, user] of good) {
      for (const projectId of [project.id, undefined]) {
        for (const root of [false, true]) {
          const res = await me(d, token, { projectId, root });
          const what = `users/me, projectId ${projectId ? 'given' : 'absent'}, root ${root}`;
          assert.equal(res.status, 200, `${what}: ${show(res)}`);
          assert.equal(res.json.id, user.id, what);
          assert.equal(res.json.email, user.email, what);
          assert.equal(res.json.xsolla_login_project_id, project.id, `${what}: the answer names the project`);
        }
      }
    }
    // A token of one project is an invalid token in every other one.
    const crossed = [
      [tb, a], [ta, b], [tSameB, a], [tSameA, b],
    ];
    for (const [token, project] of crossed) {
      for (const root of [false, true]) {
        assertXsollaError(await me(d, token, { projectId: project.id, root }), 401, '002-016',
          `users/me with another project's token (root ${root})`);
      }
    }
    // A third project, with no users at all, knows no token either.
    const c = await newProject(d, 'http://localhost:3103');
    for (const token of [ta, tb, tSameA, tSameB]) {
      assertXsollaError(await me(d, token, { projectId: c.id }), 401, '002-016', 'users/me in a project without users');
    }
    // An unknown project is "project not found", whatever the token.
    assertXsollaError(await me(d, ta, { projectId: crypto.randomUUID() }), 404, '003-019', 'users/me, unknown project');
    assertXsollaError(await me(d, ta, { projectId: 'not-a-uuid' }), 404, '003-019', 'users/me, malformed projectId');
    // The claim in the token is what the checks read.
    assert.equal(claimsOf(ta).xsolla_login_project_id, a.id);
    assert.equal(claimsOf(tb).xsolla_login_project_id, b.id);
  });

  it('CORS: /users/me allows the named project\'s origins only', { timeout: TEST_TIMEOUT }, async () => {
    assertCors(await me(d, ta, { projectId: a.id, origin: ORIGIN_A }), ORIGIN_A, 'own token, own origin');
    assertCors(await me(d, ta, { origin: ORIGIN_A }), ORIGIN_A, 'own token, projectId absent');
    assertNoCors(await me(d, ta, { projectId: a.id, origin: ORIGIN_B }), 'own token, another project\'s origin');
    assertNoCors(await me(d, ta, { projectId: a.id, origin: EVIL }), 'own token, unknown origin');
    // Errors of a known project: its origins only.
    const crossed = await me(d, tb, { projectId: a.id, origin: ORIGIN_A });
    assertXsollaError(crossed, 401, '002-016', 'another project\'s token');
    assertCors(crossed, ORIGIN_A, 'an error of project A to its own origin');
    for (const origin of [ORIGIN_B, EVIL]) {
      assertNoCors(await me(d, tb, { projectId: a.id, origin }), `another project's token, Origin ${origin}`);
      assertNoCors(await me(d, 'garbage', { projectId: a.id, origin }), `invalid token, Origin ${origin}`);
    }
    // No project known: no origin at all, not even one some project allows.
    for (const origin of [ORIGIN_A, ORIGIN_B, EVIL]) {
      assertNoCors(await me(d, 'garbage', { origin }), `invalid token, no projectId, Origin ${origin}`);
      assertNoCors(await me(d, undefined, { origin }), `no token, Origin ${origin}`);
      assertNoCors(await me(d, ta, { projectId: crypto.randomUUID(), origin }), `unknown project, Origin ${origin}`);
    }
  });

  it('CORS: every error without a known project allows no origin', { timeout: TEST_TIMEOUT }, async () => {
    const ghost = crypto.randomUUID();
    const bodies = {
      '/password/reset/request': { username: 'someone@example.com' },
      '/password/reset/confirm': { new_password: newPassword(), reset_code: crypto.randomBytes(32).toString('base64url'), user_id: crypto.randomUUID() },
      '/login': { username: 'someone@example.com', password: 'whatever-pass' },
    };
    for (const [path, body] of Object.entries(bodies)) {
      for (const origin of [ORIGIN_A, EVIL]) {
        const headers = { Origin: origin };
        const unknown = await call(d, 'POST', path, { projectId: ghost, body, headers });
        assertXsollaError(unknown, 404, '003-019', `${path}, unknown project`);
        assertNoCors(unknown, `${path}, unknown project, Origin ${origin}`);
        const missing = await call(d, 'POST', path, { body, headers });
        assert.equal(missing.status, 400, `${path} without projectId: ${show(missing)}`);
        assertNoCors(missing, `${path} without projectId, Origin ${origin}`);
        const badQuery = await h.request(`${d.url}/api${path}?projectId=${a.id}&x=%ff`, { method: 'POST', headers, body });
        assert.equal(badQuery.status, 400, `${path} with a query that is not text: ${show(badQuery)}`);
        assertNoCors(badQuery, `${path} with a query that is not text, Origin ${origin}`);
        const pre = await call(d, 'OPTIONS', path, { projectId: ghost, headers: { ...headers, 'Access-Control-Request-Method': 'POST' } });
        assertNoCors(pre, `preflight ${path}, unknown project`);
      }
      // A known project's errors: its origins, and no other.
      const err = await call(d, 'POST', path, { projectId: a.id, body: { nothing: 1 }, headers: { Origin: ORIGIN_A } });
      assert.equal(err.status, 400, `${path} with a bad body: ${show(err)}`);
      assertCors(err, ORIGIN_A, `${path}: an error of project A to its own origin`);
      for (const origin of [ORIGIN_B, EVIL]) {
        assertNoCors(await call(d, 'POST', path, { projectId: a.id, body: { nothing: 1 }, headers: { Origin: origin } }),
          `${path}: an error of project A, Origin ${origin}`);
      }
    }
  });

  it('session lifetime: 24 hours, whatever the project\'s token_ttl', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(a.token_ttl, 600);
    for (const token of [ta, tb]) {
      const c = claimsOf(token);
      assert.equal(c.exp - c.iat, 24 * 3600, `exp - iat: ${c.exp - c.iat}`);
    }
  });
});

describe('xsolla: a throttled call allows only the named project\'s origins', () => {
  let d;
  let a;

  before(async () => {
    d = await h.startDaemon({ env: { RESETD_RATE_IP_REQUEST: '1', RESETD_RATE_IP_LOGIN: '1', RESETD_RATE_IP_CONFIRM: '1' } });
    daemons.push(d);
    a = await newProject(d, ORIGIN_A);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  it('429 carries CORS for the project\'s origins, none for others or an unknown project', { timeout: TEST_TIMEOUT }, async () => {
    const bodies = {
      '/password/reset/request': { username: 'someone@example.com' },
      '/password/reset/confirm': { new_password: newPassword(), reset_code: crypto.randomBytes(32).toString('base64url') },
      '/login': { username: 'someone@example.com', password: 'whatever-pass' },
    };
    for (const [path, body] of Object.entries(bodies)) {
      await call(d, 'POST', path, { projectId: a.id, body }); // spends the one token
      const own = await call(d, 'POST', path, { projectId: a.id, body, headers: { Origin: ORIGIN_A } });
      assertXsollaError(own, 429, '002-057', `${path} throttled`);
      assertCors(own, ORIGIN_A, `${path} throttled, the project's origin`);
      for (const origin of [ORIGIN_B, EVIL]) {
        const other = await call(d, 'POST', path, { projectId: a.id, body, headers: { Origin: origin } });
        assertXsollaError(other, 429, '002-057', `${path} throttled`);
        assertNoCors(other, `${path} throttled, Origin ${origin}`);
      }
      for (const origin of [ORIGIN_A, EVIL]) {
        const ghost = await call(d, 'POST', path, { projectId: crypto.randomUUID(), body, headers: { Origin: origin } });
        assertXsollaError(ghost, 429, '002-057', `${path} throttled, unknown project`);
        assertNoCors(ghost, `${path} throttled, unknown project, Origin ${origin}`);
        const none = await call(d, 'POST', path, { body, headers: { Origin: origin } });
        assertXsollaError(none, 429, '002-057', `${path} throttled, no projectId`);
        assertNoCors(none, `${path} throttled, no projectId, Origin ${origin}`);
      }
    }
  });
});

describe('other faces: no answer lets any origin read it with credentials', () => {
  let d;
  let p, key, client;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
    p = await newProject(d, ORIGIN_A);
    key = (await d.cli(['apikey', 'create', '--project', p.id])).key;
    h.registerSecret(key);
    client = (await d.cli(['client', 'create', '--project', p.id])).client_id;
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  it('WorkOS, Velocity, Cognito and the pages never reflect an Origin with credentials', { timeout: TEST_TIMEOUT }, async () => {
    const calls = [
      ['POST', '/user_management/password_reset', { email: 'x@example.com' }, { Authorization: `Bearer ${key}` }],
      ['POST', '/user_management/password_reset', { email: 'x@example.com' }, { Authorization: 'Bearer sk_nope' }],
      ['GET', '/user_management/users/user_01H00000000000000000000000', undefined, { Authorization: `Bearer ${key}` }],
      ['POST', '/user_management/authenticate', { grant_type: 'password', client_id: client, client_secret: 'sk_nope', email: 'x@example.com', password: 'x' }, {}],
      ['POST', '/password/forgot', { username: 'x@example.com' }, { userpoolid: p.id, appclientid: client }],
      ['POST', '/password/forgot', { username: 'x@example.com' }, { userpoolid: crypto.randomUUID(), appclientid: 'client_nope' }],
      ['POST', '/', { ClientId: client, Username: 'x@example.com' }, { 'X-Amz-Target': 'AWSCognitoIdentityProviderService.ForgotPassword', 'Content-Type': 'application/x-amz-json-1.1' }],
      ['POST', '/', { ClientId: 'nope', Username: 'x@example.com' }, { 'X-Amz-Target': 'AWSCognitoIdentityProviderService.ForgotPassword', 'Content-Type': 'application/x-amz-json-1.1' }],
      ['OPTIONS', '/', undefined, { 'Access-Control-Request-Method': 'POST' }],
      ['GET', `/forgot?project=${p.id}`, undefined, {}],
      ['GET', `/forgot?project=${crypto.randomUUID()}`, undefined, {}],
      ['GET', '/healthz', undefined, {}],
    ];
    for (const [method, path, body, headers] of calls) {
      for (const origin of [EVIL, ORIGIN_A]) {
        const res = await h.request(`${d.url}${path}`, { method, body, headers: { ...headers, Origin: origin } });
        const acao = res.headers['access-control-allow-origin'];
        const what = `${method} ${path}, Origin ${origin}: status ${res.status}`;
        assert.ok(acao === undefined || acao === '*', `${what}: ACAO ${acao}`);
        assert.equal(res.headers['access-control-allow-credentials'], undefined, `${what}: credentials allowed`);
      }
    }
  });
});
