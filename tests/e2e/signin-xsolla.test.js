'use strict';
// The sign-in after a reset, in Xsolla's dialect, through the official login
// SDK (@xsolla/login-sdk in jsdom): the login token is an HS256 JWT under
// the project's own secret key (resetd project secret-key), which a game
// backend checks as Xsolla documents; here jsonwebtoken and jose check it.
// Run: RESETD_BIN=build/san/resetd node --test tests/e2e/signin-xsolla.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');
const h = require('./lib/harness');
const { makeXsollaApi } = require('./lib/xsolla-sdk');

const PAGE_ORIGIN = 'http://localhost:3999';
const CALLBACK_URL = 'http://localhost:3999/cb';
const TEST_TIMEOUT = 120000;
const secrets = h.secrets;
const daemons = [];
let jose;

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

async function setup(d, extra = []) {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', CALLBACK_URL, '--allowed-origin', PAGE_ORIGIN, ...extra]);
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { project, user: { ...user, email, password } };
}

async function secretKey(d, project, rotate = false) {
  const out = await d.cli(['project', 'secret-key', project.id, ...(rotate ? ['--rotate'] : [])]);
  secrets.add(out.secret_key);
  return out;
}

// Reset through the SDK, and sign in: the token from login_url.
async function resetAndLogin(d, t, sdk, skip = new Set()) {
  await sdk.api.reset({ username: t.user.email });
  const mail = await h.waitForMail(d.maildir, (m) => !skip.has(m.file) && h.mailTo(t.user.email)(m) && h.extractResetLink(m.text) !== null);
  skip.add(mail.file);
  const link = h.extractResetLink(mail.text);
  secrets.add(link.reset_code);
  const pw = newPassword();
  await sdk.api.set({ newPassword: pw, code: link.reset_code, user_id: link.user_id });
  t.user.password = pw;
  return login(sdk, t);
}

async function login(sdk, t) {
  const res = await sdk.api.login({ credentials: { username: t.user.email, password: t.user.password } });
  assert.ok(res.login_url.startsWith(`${CALLBACK_URL}?token=`), res.login_url);
  const token = new URL(res.login_url).searchParams.get('token');
  secrets.add(token);
  return token;
}

function me(d, token, projectId) {
  const q = projectId ? `?projectId=${projectId}` : '';
  return h.request(`${d.url}/users/me${q}`, { headers: { Authorization: `Bearer ${token}` } });
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('xsolla sign-in after a reset', () => {
  let d;

  before(async () => {
    jose = await import('jose');
    d = await h.startDaemon();
    daemons.push(d);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  it('the login token verifies with the project secret key and carries groups and xsolla_login_project_id', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const sdk = makeXsollaApi({ projectId: t.project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    try {
      const token = await resetAndLogin(d, t, sdk);
      const key = await secretKey(d, t.project);
      assert.equal(key.alg, 'HS256');
      assert.match(key.secret_key, /^[A-Za-z0-9_-]{43}$/);
      const claims = jwt.verify(token, key.secret_key, { algorithms: ['HS256'] });
      assert.equal(claims.sub, t.user.id);
      assert.equal(claims.email, t.user.email);
      assert.equal(claims.type, 'xsolla_login');
      assert.equal(claims.xsolla_login_project_id, t.project.id);
      assert.equal(claims.iss, d.url);
      assert.ok(Array.isArray(claims.groups) && claims.groups.length === 1);
      assert.deepEqual(Object.keys(claims.groups[0]).sort(), ['id', 'is_default', 'is_deletable', 'name']);
      assert.equal(claims.groups[0].is_default, true);
      assert.equal(claims.exp - claims.iat, 86400, 'the default lifetime is 24 hours');
      const { payload, protectedHeader } = await jose.jwtVerify(token, new TextEncoder().encode(key.secret_key), { algorithms: ['HS256'] });
      assert.equal(payload.sub, t.user.id);
      assert.equal(protectedHeader.kid, key.kid);
      // Not under another key, and not as an RS256 token.
      assert.throws(() => jwt.verify(token, crypto.randomBytes(32).toString('base64url'), { algorithms: ['HS256'] }));
      const res = await me(d, token, t.project.id);
      assert.equal(res.status, 200);
      assert.equal(res.json.id, t.user.id);
    } finally {
      sdk.close();
    }
  });

  it('the lifetime is the project setting; --rotate makes new tokens use the new key', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d, ['--login-token-ttl', '3600']);
    assert.equal(t.project.login_token_ttl, 3600);
    const sdk = makeXsollaApi({ projectId: t.project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    try {
      const before = await resetAndLogin(d, t, sdk);
      const oldKey = await secretKey(d, t.project);
      const c = jwt.verify(before, oldKey.secret_key, { algorithms: ['HS256'] });
      assert.equal(c.exp - c.iat, 3600);
      const newKey = await secretKey(d, t.project, true);
      assert.notEqual(newKey.secret_key, oldKey.secret_key);
      assert.notEqual(newKey.kid, oldKey.kid);
      assert.equal((await secretKey(d, t.project)).secret_key, newKey.secret_key, 'the key shown is the new one');
      // The daemon's key cache takes the new key within 10 s.
      let after;
      for (let i = 0; i < 30; i++) {
        after = await login(sdk, t);
        if (jose.decodeProtectedHeader(after).kid === newKey.kid) break;
        await h.sleep(500);
      }
      assert.equal(jose.decodeProtectedHeader(after).kid, newKey.kid);
      jwt.verify(after, newKey.secret_key, { algorithms: ['HS256'] });
      assert.throws(() => jwt.verify(after, oldKey.secret_key, { algorithms: ['HS256'] }));
      // resetd still takes the old key's tokens until they expire.
      assert.equal((await me(d, before, t.project.id)).status, 200);
      assert.equal((await me(d, after, t.project.id)).status, 200);
    } finally {
      sdk.close();
    }
  });

  it('bad tokens: another project, forged, none, a WorkOS token, after a reset; all 401 002-016 and never a 500', { timeout: TEST_TIMEOUT }, async () => {
    const a = await setup(d);
    const b = await setup(d);
    const sa = makeXsollaApi({ projectId: a.project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    const sb = makeXsollaApi({ projectId: b.project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CALLBACK_URL });
    try {
      const skip = new Set();
      const ta = await resetAndLogin(d, a, sa, skip);
      const tb = await resetAndLogin(d, b, sb, skip);
      const kb = await secretKey(d, b.project);
      const refused = async (token, projectId, what) => {
        const res = await me(d, token, projectId);
        assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
        assert.equal(res.json.error.code, '002-016', what);
      };
      await refused(tb, a.project.id, 'a project-B token on /users/me?projectId=A');
      // A token of B re-signed by B's key but claiming project A.
      const claimsB = jwt.decode(tb);
      const forgedA = jwt.sign({ ...claimsB, xsolla_login_project_id: a.project.id }, kb.secret_key, { algorithm: 'HS256', keyid: jose.decodeProtectedHeader(tb).kid, noTimestamp: true });
      await refused(forgedA, a.project.id, "B's key claiming project A");
      await refused(forgedA, undefined, "B's key claiming project A, no projectId");
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: jose.decodeProtectedHeader(ta).kid })).toString('base64url')}.${ta.split('.')[1]}.`;
      await refused(none, a.project.id, 'alg none');
      await refused(`${ta}x`, a.project.id, 'a bad signature');
      await refused('garbage', a.project.id, 'garbage');
      const expired = jwt.sign({ ...jwt.decode(ta), exp: Math.floor(Date.now() / 1000) - 10 }, (await secretKey(d, a.project)).secret_key, { algorithm: 'HS256', keyid: jose.decodeProtectedHeader(ta).kid, noTimestamp: true });
      await refused(expired, a.project.id, 'expired');
      assert.equal((await me(d, ta, a.project.id)).status, 200);
      // A reset revokes it.
      await sa.api.reset({ username: a.user.email });
      const mail = await h.waitForMail(d.maildir, (m) => !skip.has(m.file) && h.mailTo(a.user.email)(m) && h.extractResetLink(m.text) !== null);
      const link = h.extractResetLink(mail.text);
      secrets.add(link.reset_code);
      await sa.api.set({ newPassword: newPassword(), code: link.reset_code, user_id: link.user_id });
      await refused(ta, a.project.id, 'a token from before the reset');
    } finally {
      sa.close();
      sb.close();
    }
  });
});
