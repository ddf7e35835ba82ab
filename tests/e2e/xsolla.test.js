'use strict';
// Black-box tests of resetd's Xsolla Login dialect: the real binary, its CLI,
// its Maildir output, plain HTTP and the official @xsolla/login-sdk in jsdom.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { makeXsollaApi } = require('./lib/xsolla-sdk');

const PAGE_ORIGIN = 'http://localhost:3999'; // the simulated web page; never contacted
const CALLBACK_URL = 'http://localhost:3999/cb';
const OTHER_ORIGIN = 'http://localhost:4999'; // an origin no project allows
const TEST_TIMEOUT = 60000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESET_CODE_RE = /^[A-Za-z0-9_-]{43}$/;

const daemons = []; // every daemon this file starts, for the log check at the end
const secrets = h.secrets; // checked against every daemon's log by the harness too // passwords, reset codes and tokens used here: never to be logged

// ---------------------------------------------------------------------------
// helpers

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

async function startDaemon(opts) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

// An Xsolla-dialect call. path is e.g. '/password/reset/request'; by default it
// is served under /api (root: true sends it without the prefix). Every
// response must carry an X-Request-ID header.
async function call(d, method, path, { projectId, query = {}, body, headers, root = false } = {}) {
  const u = new URL((root ? '' : '/api') + path, d.url);
  if (projectId !== undefined) u.searchParams.set('projectId', projectId);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const res = await h.request(u.href, { method, headers, body });
  assert.ok(res.headers['x-request-id'], `${method} ${u.pathname}: response has no X-Request-ID header`);
  return res;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

function assertNoContent(res, what) {
  assert.equal(res.status, 204, `${what}: ${show(res)}`);
  assert.equal(res.text, '', `${what}: a 204 must have an empty body`);
}

// The Xsolla error envelope {"error":{"code","description","details"?}}.
function assertXsollaError(res, status, code, what = 'request') {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(res.json && typeof res.json.error === 'object' && res.json.error !== null, `${what}: no error envelope: ${show(res)}`);
  assert.ok('code' in res.json.error, `${what}: error.code missing: ${show(res)}`);
  if (code !== undefined) assert.strictEqual(res.json.error.code, code, `${what}: ${show(res)}`);
  assert.equal(typeof res.json.error.description, 'string', `${what}: error.description must be a string`);
}

async function newProject(d, extraArgs = []) {
  return d.cli([
    'project', 'create',
    '--name', uniq('proj'),
    '--callback-url', CALLBACK_URL,
    '--allowed-origin', PAGE_ORIGIN,
    ...extraArgs,
  ]);
}

async function newUser(d, project, { password } = {}) {
  const email = `${uniq('user')}@example.com`;
  const pass = password || newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: pass });
  return { ...user, email, password: pass };
}

function requestReset(d, project, username, opts = {}) {
  return call(d, 'POST', '/password/reset/request', { projectId: project.id, body: { username }, ...opts });
}

function confirmReset(d, project, { new_password, reset_code, user_id }, opts = {}) {
  return call(d, 'POST', '/password/reset/confirm', { projectId: project.id, body: { new_password, reset_code, user_id }, ...opts });
}

function login(d, project, username, password, opts = {}) {
  return call(d, 'POST', '/login', { projectId: project.id, body: { username, password }, ...opts });
}

// Waits for the reset mail to email (skipping files in `skip`); returns {mail, link}.
async function resetMail(d, email, { skip = new Set(), timeoutMs } = {}) {
  const mail = await h.waitForMail(
    d.maildir,
    (m) => !skip.has(m.file) && h.mailTo(email)(m) && h.extractResetLink(m.text) !== null,
    timeoutMs
  );
  const link = h.extractResetLink(mail.text);
  if (link.reset_code) secrets.add(link.reset_code);
  return { mail, link };
}

async function mailsTo(d, email) {
  return (await h.readMaildir(d.maildir)).filter(h.mailTo(email));
}

function randomCode() {
  return crypto.randomBytes(32).toString('base64url'); // 43 chars, like a real one
}

// ---------------------------------------------------------------------------

// Fails at once, with the reason, when there is no binary to test.
it('resetd binary is present', () => {
  h.assertBinary();
});

describe('xsolla dialect', () => {
  let d; // one daemon shared by the tests below; they keep apart through their own projects and users

  before(async () => {
    d = await startDaemon();
  });

  after(async () => {
    for (const x of daemons) {
      if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
    }
  });

  it('CLI: project and user create, list and show', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    assert.match(project.id, UUID_RE);
    assert.deepEqual(project.callback_urls, [CALLBACK_URL]);
    assert.deepEqual(project.allowed_origins, [PAGE_ORIGIN]);
    assert.equal(project.reset_url, null);
    assert.equal(typeof project.token_ttl, 'number');

    const list = await d.cli(['project', 'list']);
    assert.ok(Array.isArray(list) && list.some((p) => p.id === project.id), 'project list must include the new project');
    const shown = await d.cli(['project', 'show', project.id]);
    assert.equal(shown.id, project.id);

    const user = await newUser(d, project);
    assert.match(user.id, UUID_RE);
    assert.equal(user.project_id, project.id);
    assert.equal(user.email_verified, false);
    const userJson = JSON.stringify(await d.cli(['user', 'list', '--project', project.id]));
    assert.ok(userJson.includes(user.id), 'user list must include the new user');
    assert.ok(!userJson.includes(user.password), 'user list must not show the password');
    assert.ok(!/\$argon2/.test(userJson), 'user list must not show password hashes');

    await assert.rejects(d.cli(['project', 'show', crypto.randomUUID()]), /exit/, 'showing an unknown project must fail');
  });

  it('whole flow: request, mail, confirm, login, users/me, password-changed mail', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);

    // A session opened before the reset must not survive it.
    const before = await login(d, project, user.email, user.password);
    assert.equal(before.status, 200, `login before the reset: ${show(before)}`);
    const oldToken = new URL(before.json.login_url).searchParams.get('token');
    const meBefore = await call(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${oldToken}` } });
    assert.equal(meBefore.status, 200, `users/me before the reset: ${show(meBefore)}`);

    const req = await requestReset(d, project, user.email);
    assertNoContent(req, 'reset request');

    const { mail, link } = await resetMail(d, user.email);
    assert.ok(link.url.startsWith(`${d.url}/reset?`), `link must point at PUBLIC_URL/reset: ${link.url}`);
    assert.match(link.reset_code, RESET_CODE_RE);
    assert.equal(link.user_id, user.id);
    const ctype = mail.headers.get('content-type');
    assert.equal(ctype && ctype.value, 'multipart/alternative', 'reset mail must be multipart/alternative');
    assert.ok(mail.html.includes(link.reset_code), 'the HTML part must carry the link too');
    assert.match(mail.raw, /Content-Transfer-Encoding:\s*quoted-printable/i);

    const newPass = newPassword();
    assertNoContent(await confirmReset(d, project, { new_password: newPass, reset_code: link.reset_code, user_id: link.user_id }), 'confirm');
    assertXsollaError(
      await call(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${oldToken}` } }),
      401, '002-016', 'users/me with a session opened before the reset'
    );

    const ok = await login(d, project, user.email, newPass);
    assert.equal(ok.status, 200, `login with the new password: ${show(ok)}`);
    assert.ok(ok.json && typeof ok.json.login_url === 'string', `login: ${show(ok)}`);
    assert.ok(ok.json.login_url.startsWith(`${CALLBACK_URL}?token=`), `login_url: ${ok.json.login_url}`);
    const token = new URL(ok.json.login_url).searchParams.get('token');
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'token must be a JWT');
    secrets.add(token);

    assertXsollaError(await login(d, project, user.email, user.password), 401, '003-001', 'login with the old password');

    const me = await call(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200, `users/me: ${show(me)}`);
    assert.equal(me.json.id, user.id);
    assert.equal(me.json.email, user.email);

    assertXsollaError(
      await call(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${token.slice(0, -4)}AAAA` } }),
      401, '002-016', 'users/me with a forged token'
    );

    // the "password changed" notice
    await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && m.file !== mail.file && h.extractResetLink(m.text) === null);
  });

  it('the same paths work at the root, without /api', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    assertNoContent(await requestReset(d, project, user.email, { root: true }), 'reset request at /');
    const { link } = await resetMail(d, user.email);
    const newPass = newPassword();
    assertNoContent(
      await confirmReset(d, project, { new_password: newPass, reset_code: link.reset_code, user_id: link.user_id }, { root: true }),
      'confirm at /'
    );
    const ok = await login(d, project, user.email, newPass, { root: true });
    assert.equal(ok.status, 200, `login at /: ${show(ok)}`);
    const token = new URL(ok.json.login_url).searchParams.get('token');
    secrets.add(token);
    const me = await call(d, 'GET', '/users/me', { root: true, headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200, `users/me at /: ${show(me)}`);
  });

  it('a project reset URL is used for the link', { timeout: TEST_TIMEOUT }, async () => {
    const resetUrl = 'http://localhost:3999/reset-form';
    const project = await newProject(d, ['--reset-url', resetUrl]);
    assert.equal(project.reset_url, resetUrl);
    const user = await newUser(d, project);
    assertNoContent(await requestReset(d, project, user.email), 'reset request');
    const { link } = await resetMail(d, user.email);
    assert.ok(link.url.startsWith(`${resetUrl}?`), `link must point at the project reset URL: ${link.url}`);
  });

  it('unknown user: the same answer as a known one, and no mail', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const ghost = `${uniq('ghost')}@example.com`;

    const known = await requestReset(d, project, user.email);
    const unknown = await requestReset(d, project, ghost);
    const strip = (hdrs) => {
      const c = { ...hdrs };
      delete c['x-request-id'];
      delete c.date;
      return c;
    };
    assert.equal(unknown.status, known.status);
    assert.equal(unknown.text, known.text);
    assert.deepEqual(strip(unknown.headers), strip(known.headers));
    assertNoContent(known, 'reset request for a known user');

    await resetMail(d, user.email);
    await h.waitOutboxSettled(d);
    assert.deepEqual(await mailsTo(d, ghost), [], 'no mail may go to an unknown address');
  });

  it('used, expired, wrong and mismatched codes are 404 003-061', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const other = await newUser(d, project);
    assertNoContent(await requestReset(d, project, user.email), 'reset request');
    const { link } = await resetMail(d, user.email);

    assertXsollaError(
      await confirmReset(d, project, { new_password: newPassword(), reset_code: randomCode(), user_id: user.id }),
      404, '003-061', 'wrong code'
    );
    assertXsollaError(
      await confirmReset(d, project, { new_password: newPassword(), reset_code: link.reset_code, user_id: other.id }),
      404, '003-061', 'code of another user'
    );
    assertNoContent(
      await confirmReset(d, project, { new_password: newPassword(), reset_code: link.reset_code, user_id: user.id }),
      'first use'
    );
    assertXsollaError(
      await confirmReset(d, project, { new_password: newPassword(), reset_code: link.reset_code, user_id: user.id }),
      404, '003-061', 'second use'
    );

    // expiry: a project whose codes live 1 s, on a daemon whose clock
    // then moves 2 s on
    const c = await h.startDaemon({ fakeClock: true });
    try {
      const shortProject = await newProject(c, ['--token-ttl', '1']);
      assert.equal(shortProject.token_ttl, 1);
      const shortUser = await newUser(c, shortProject);
      assertNoContent(await requestReset(c, shortProject, shortUser.email), 'reset request (ttl 1 s)');
      const { link: shortLink } = await resetMail(c, shortUser.email);
      c.advanceClock(2);
      assertXsollaError(
        await confirmReset(c, shortProject, { new_password: newPassword(), reset_code: shortLink.reset_code, user_id: shortUser.id }),
        404, '003-061', 'expired code'
      );
      assertXsollaError(await login(c, shortProject, shortUser.email, 'not-the-password'), 401, '003-001', 'login after a failed reset');
      const still = await login(c, shortProject, shortUser.email, shortUser.password);
      assert.equal(still.status, 200, `the old password still works after an expired reset: ${show(still)}`);
      secrets.add(new URL(still.json.login_url).searchParams.get('token'));
    } finally {
      await c.stop();
    }
  });

  it('20 concurrent confirms of one code: exactly one succeeds', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    assertNoContent(await requestReset(d, project, user.email), 'reset request');
    const { link } = await resetMail(d, user.email);

    const passwords = Array.from({ length: 20 }, () => newPassword());
    const results = await Promise.all(
      passwords.map((p) => confirmReset(d, project, { new_password: p, reset_code: link.reset_code, user_id: user.id }))
    );
    const winners = results.map((r, i) => (r.status === 204 ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one 204 expected, got statuses ${results.map((r) => r.status).join(',')}`);
    for (const r of results) if (r.status !== 204) assertXsollaError(r, 404, '003-061', 'losing confirm');

    const ok = await login(d, project, user.email, passwords[winners[0]]);
    assert.equal(ok.status, 200, `the winning password logs in: ${show(ok)}`);
    secrets.add(new URL(ok.json.login_url).searchParams.get('token'));
  });

  it('unknown projectId is 404 003-019; missing projectId is 400 code 0', { timeout: TEST_TIMEOUT }, async () => {
    const ghostProject = { id: crypto.randomUUID() };
    assertXsollaError(await requestReset(d, ghostProject, 'someone@example.com'), 404, '003-019', 'reset request, unknown project');
    assertXsollaError(
      await confirmReset(d, ghostProject, { new_password: newPassword(), reset_code: randomCode(), user_id: crypto.randomUUID() }),
      404, '003-019', 'confirm, unknown project'
    );
    assertXsollaError(await login(d, ghostProject, 'someone@example.com', 'whatever-pass'), 404, '003-019', 'login, unknown project');

    for (const path of ['/password/reset/request', '/password/reset/confirm', '/login']) {
      const res = await call(d, 'POST', path, { body: { username: 'someone@example.com' } });
      assertXsollaError(res, 400, 0, `${path} without projectId`);
    }
  });

  it('malformed JSON and missing fields are 400 with error.code 0', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    for (const path of ['/password/reset/request', '/password/reset/confirm', '/login']) {
      const res = await call(d, 'POST', path, { projectId: project.id, body: '{"username": "a@example.com",' });
      assertXsollaError(res, 400, 0, `${path} with malformed JSON`);
    }
    assertXsollaError(await call(d, 'POST', '/password/reset/request', { projectId: project.id, body: {} }), 400, 0, 'request without username');
    assertXsollaError(
      await call(d, 'POST', '/password/reset/confirm', { projectId: project.id, body: { reset_code: randomCode(), user_id: crypto.randomUUID() } }),
      400, 0, 'confirm without new_password'
    );
  });

  it('an oversized body is 413 with an error envelope, and the daemon lives on', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const big = JSON.stringify({ username: 'x'.repeat(200 * 1024) });
    const res = await h.rawRequest(`${d.url}/api/password/reset/request?projectId=${project.id}`, { method: 'POST', body: big });
    assert.equal(res.status, 413, `oversized body: ${show(res)}`);
    assert.ok(res.json && res.json.error && 'code' in res.json.error, `413 must carry the Xsolla error envelope: ${show(res)}`);
    assert.ok(res.headers['x-request-id'], '413 must carry X-Request-ID');

    assert.ok(d.running(), 'the daemon must still run');
    const health = await h.request(`${d.url}/healthz`);
    assert.equal(health.status, 200, `GET /healthz after the 413: ${show(health)}`);
    assertNoContent(await requestReset(d, project, `${uniq('after413')}@example.com`), 'a normal request after the 413');
  });

  it('a login_url that is not a project callback URL is refused, and sends no mail', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const victim = await newUser(d, project);
    const control = await newUser(d, project);

    const refused = await requestReset(d, project, victim.email, { query: { login_url: 'http://localhost:4999/steal' } });
    assert.ok(refused.status >= 400 && refused.status < 500, `foreign login_url must be refused: ${show(refused)}`);
    assertXsollaError(refused, refused.status, undefined, 'foreign login_url');

    // the registered callback URL (and a locale) are accepted
    assertNoContent(
      await requestReset(d, project, control.email, { query: { login_url: CALLBACK_URL, locale: 'en_US' } }),
      'reset request with the registered login_url'
    );
    await resetMail(d, control.email);
    await h.waitOutboxSettled(d);
    assert.deepEqual(await mailsTo(d, victim.email), [], 'a refused request must send no mail');
  });

  it('CORS: preflight, errors and disallowed origins', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);

    for (const path of ['/password/reset/request', '/password/reset/confirm', '/login']) {
      const pre = await call(d, 'OPTIONS', path, {
        projectId: project.id,
        headers: { Origin: PAGE_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-request-id' },
      });
      assert.equal(pre.status, 204, `preflight ${path}: ${show(pre)}`);
      assert.equal(pre.headers['access-control-allow-origin'], PAGE_ORIGIN, `preflight ${path}`);
      assert.equal(pre.headers['access-control-allow-credentials'], 'true', `preflight ${path}`);
      assert.match(pre.headers['access-control-allow-methods'] || '', /\bPOST\b/i, `preflight ${path}: methods`);
      const allowHeaders = (pre.headers['access-control-allow-headers'] || '').toLowerCase();
      assert.ok(allowHeaders.includes('content-type') && allowHeaders.includes('x-request-id'), `preflight ${path}: headers "${allowHeaders}"`);
    }

    const okRes = await requestReset(d, project, `${uniq('cors')}@example.com`, { headers: { Origin: PAGE_ORIGIN } });
    assertNoContent(okRes, 'reset request with an allowed Origin');
    assert.equal(okRes.headers['access-control-allow-origin'], PAGE_ORIGIN);
    assert.equal(okRes.headers['access-control-allow-credentials'], 'true');

    const errRes = await confirmReset(
      d, project,
      { new_password: newPassword(), reset_code: randomCode(), user_id: crypto.randomUUID() },
      { headers: { Origin: PAGE_ORIGIN } }
    );
    assertXsollaError(errRes, 404, '003-061', 'error response to an allowed origin');
    assert.equal(errRes.headers['access-control-allow-origin'], PAGE_ORIGIN, 'error responses carry CORS headers too');
    assert.equal(errRes.headers['access-control-allow-credentials'], 'true');

    const badPre = await call(d, 'OPTIONS', '/password/reset/request', {
      projectId: project.id,
      headers: { Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(badPre.headers['access-control-allow-origin'], undefined, `preflight from a disallowed origin: ${show(badPre)}`);
    const badPost = await requestReset(d, project, `${uniq('cors')}@example.com`, { headers: { Origin: OTHER_ORIGIN } });
    assert.equal(badPost.headers['access-control-allow-origin'], undefined, 'no ACAO for a disallowed origin');
  });

  it('the official SDK (@xsolla/login-sdk in jsdom): reset, set, login', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const sdk = makeXsollaApi({ projectId: project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN });
    const full = makeXsollaApi({
      projectId: project.id,
      apiUrl: `${d.url}/api`,
      pageOrigin: PAGE_ORIGIN,
      callbackUrl: CALLBACK_URL,
      fullLocale: 'en-US',
      payload: 'test-payload',
      with_logout: '1',
      emailTemplate: 'custom_tpl',
    });
    try {
      await sdk.api.reset({ username: user.email });
      const { mail, link } = await resetMail(d, user.email);

      const newPass = newPassword();
      await assert.rejects(
        sdk.api.set({ newPassword: newPass, code: randomCode(), user_id: user.id }),
        (err) => {
          assert.ok(err instanceof sdk.APIError, `SDK must throw APIError, got ${err && err.name}: ${err && err.message}`);
          assert.equal(err.code, '003-061');
          return true;
        }
      );
      await sdk.api.set({ newPassword: newPass, code: link.reset_code, user_id: link.user_id });

      const res = await sdk.api.login({ credentials: { username: user.email, password: newPass } });
      assert.ok(res && typeof res.login_url === 'string', `SDK login result: ${JSON.stringify(res)}`);
      assert.ok(res.login_url.startsWith(`${CALLBACK_URL}?token=`), `login_url: ${res.login_url}`);
      secrets.add(new URL(res.login_url).searchParams.get('token'));

      await assert.rejects(
        sdk.api.login({ credentials: { username: user.email, password: user.password } }),
        (err) => {
          assert.ok(err instanceof sdk.APIError, `SDK must throw APIError, got ${err && err.name}: ${err && err.message}`);
          assert.equal(err.code, '003-001');
          return true;
        }
      );

      // the full JWT-flow configuration sends login_url, locale, payload, with_logout, email_template
      await full.api.reset({ username: user.email });
      await resetMail(d, user.email, { skip: new Set([mail.file]) });
      const res2 = await full.api.login({ credentials: { username: user.email, password: newPass, remember_me: true } });
      assert.ok(res2.login_url.startsWith(`${CALLBACK_URL}?token=`), `login_url (full config): ${res2.login_url}`);
      secrets.add(new URL(res2.login_url).searchParams.get('token'));
    } finally {
      sdk.close();
      full.close();
    }
  });

  it('crash durability: a reset accepted before SIGKILL is mailed after restart', { timeout: TEST_TIMEOUT }, async () => {
    const c = await startDaemon({ env: { RESETD_MAIL_WORKERS: '0' } });
    const project = await newProject(c);
    const user = await newUser(c, project);
    assertNoContent(await requestReset(c, project, user.email), 'reset request (no mail worker)');

    const killed = await c.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.deepEqual(await h.readMaildir(c.maildir), [], 'nothing is mailed while RESETD_MAIL_WORKERS=0');

    await c.restart({ env: { RESETD_MAIL_WORKERS: '1' } });
    const { link } = await resetMail(c, user.email);
    assert.equal(link.user_id, user.id);
    const newPass = newPassword();
    assertNoContent(
      await confirmReset(c, project, { new_password: newPass, reset_code: link.reset_code, user_id: link.user_id }),
      'confirm after restart'
    );
    assert.equal(await c.stop(), 0, 'SIGTERM must exit 0');
  });

  it('SIGTERM drains and exits 0', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await d.stop(), 0);
  });

  it('log hygiene: logs are JSON lines and hold no password, reset code or token', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(secrets.size > 0);
    for (const x of daemons) {
      for (const line of x.stderrLines) {
        if (line.trim() === '') continue;
        assert.doesNotThrow(() => JSON.parse(line), `stderr line is not JSON: ${line.slice(0, 300)}`);
      }
      for (const line of [...x.stderrLines, ...x.stdoutLines]) {
        for (const s of secrets) {
          assert.ok(!line.includes(s), `a secret appears in the daemon log: ${line.slice(0, 300)}`);
        }
      }
    }
  });
});
