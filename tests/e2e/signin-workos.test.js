'use strict';
// The sign-in after a reset, in WorkOS's dialect, through the current SDK
// (11) and the 8.x line: RS256 access tokens checked with jose against
// getJwksUrl(clientId), the refresh grant with rotation and reuse
// detection, sealed sessions (authenticateWithSessionCookie,
// loadSealedSession), sessions list/revoke and the logout redirect.
// Run: RESETD_BIN=build/san/resetd node --test tests/e2e/signin-workos.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const SDKS = [
  { name: 'SDK 8.13', version: 8, mod: require('workos8') },
  { name: 'SDK 11.0', version: 11, mod: require('workos11') },
];
const TEST_TIMEOUT = 120000;
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const APP = 'https://app.example.com/signed-out';
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

async function newTenant(d) {
  const project = await d.cli(['project', 'create', '--name', uniq('workos'), '--callback-url', APP]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
  secrets.add(key);
  return { project, key, clientId };
}

function sdkFor(d, sdk, t) {
  return new sdk.mod.WorkOS(t.key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId: t.clientId });
}

// A user, then a reset through the SDK: the password the user has now.
async function resetUser(wos, user) {
  const reset = await wos.userManagement.createPasswordReset({ email: user.email });
  secrets.add(reset.passwordResetToken);
  const pw = newPassword();
  await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: pw });
  user.password = pw;
  return pw;
}

async function newUser(wos) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await wos.userManagement.createUser({ email, password });
  return { ...user, password };
}

function keep(auth) {
  secrets.add(auth.accessToken);
  secrets.add(auth.refreshToken);
  if (auth.sealedSession) secrets.add(auth.sealedSession);
  return auth;
}

async function refused(promise, what) {
  await assert.rejects(promise, (err) => {
    const raw = err.rawData || {};
    const code = err.error || raw.error || err.code;
    assert.equal(code, 'invalid_grant', `${what}: ${err.name}: ${err.message}`);
    return true;
  });
}

function raw(d, method, path, { key, body } = {}) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  return h.request(`${d.url}${path}`, { method, headers, body });
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('workos sign-in after a reset', () => {
  let d;

  before(async () => {
    jose = await import('jose');
    d = await h.startDaemon();
    daemons.push(d);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  for (const sdk of SDKS) {
    describe(`through the official ${sdk.name}`, () => {
      it('reset, authenticateWithPassword, an access token jose verifies against getJwksUrl', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await newUser(wos);
        await resetUser(wos, user);
        const auth = keep(await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }));
        const url = wos.userManagement.getJwksUrl(t.clientId);
        assert.equal(url, `${d.url}/sso/jwks/${t.clientId}`);
        const jwks = jose.createRemoteJWKSet(new URL(url));
        const { payload, protectedHeader } = await jose.jwtVerify(auth.accessToken, jwks, { issuer: d.url, algorithms: ['RS256'] });
        assert.equal(protectedHeader.alg, 'RS256');
        assert.equal(typeof protectedHeader.kid, 'string');
        assert.equal(payload.sub, user.id);
        assert.match(payload.sid, new RegExp(`^session_${ULID}$`));
        assert.equal(typeof payload.jti, 'string');
        assert.ok(payload.exp - payload.iat <= 300);
        assert.ok(/^[A-Za-z0-9_-]{43}$/.test(auth.refreshToken), 'the refresh token is opaque');
        // Another project's key set does not verify it.
        const other = await newTenant(d);
        await assert.rejects(jose.jwtVerify(auth.accessToken, jose.createRemoteJWKSet(new URL(`${d.url}/sso/jwks/${other.clientId}`))));
        const none = await raw(d, 'GET', '/sso/jwks/client_NOPE');
        assert.equal(none.status, 404);
        assert.equal(none.json.code, 'not_found');
      });

      it('authenticateWithRefreshToken rotates; reusing the old one fails and revokes the family', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await newUser(wos);
        await resetUser(wos, user);
        const auth = keep(await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }));
        const r1 = keep(await wos.userManagement.authenticateWithRefreshToken({ refreshToken: auth.refreshToken, clientId: t.clientId }));
        assert.notEqual(r1.refreshToken, auth.refreshToken);
        assert.equal(r1.user.id, user.id);
        const c0 = jose.decodeJwt(auth.accessToken);
        const c1 = jose.decodeJwt(r1.accessToken);
        assert.equal(c1.sid, c0.sid, 'a refresh keeps the session');
        await jose.jwtVerify(r1.accessToken, jose.createRemoteJWKSet(new URL(wos.userManagement.getJwksUrl(t.clientId))));
        // A refresh token for another client of the project is refused.
        const { client_id: otherClient } = await d.cli(['client', 'create', '--project', t.project.id]);
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: r1.refreshToken, clientId: otherClient }), 'another client');
        // Reuse of the spent token: refused, and the whole family dies.
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: auth.refreshToken, clientId: t.clientId }), 'reuse');
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: r1.refreshToken, clientId: t.clientId }), 'the family after reuse');
        const sessions = await wos.userManagement.listSessions(user.id);
        assert.ok(!sessions.data.some((s) => s.id === c0.sid), 'the session is gone');
      });

      it('sealed sessions: authenticateWithSessionCookie and loadSealedSession round-trip', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await newUser(wos);
        await resetUser(wos, user);
        const cookiePassword = crypto.randomBytes(24).toString('base64url');
        secrets.add(cookiePassword);
        const auth = keep(await wos.userManagement.authenticateWithPassword({
          email: user.email, password: user.password, clientId: t.clientId, session: { sealSession: true, cookiePassword },
        }));
        assert.equal(typeof auth.sealedSession, 'string');
        const res = await wos.userManagement.authenticateWithSessionCookie({ sessionData: auth.sealedSession, cookiePassword });
        assert.equal(res.authenticated, true, JSON.stringify(res));
        assert.equal(res.user.id, user.id);
        assert.equal(res.sessionId, jose.decodeJwt(auth.accessToken).sid);
        const session = wos.userManagement.loadSealedSession({ sessionData: auth.sealedSession, cookiePassword });
        const a = await session.authenticate();
        assert.equal(a.authenticated, true, JSON.stringify(a));
        const r = await session.refresh();
        assert.equal(r.authenticated, true, JSON.stringify(r));
        secrets.add(r.sealedSession);
        const again = await wos.userManagement.authenticateWithSessionCookie({ sessionData: r.sealedSession, cookiePassword });
        assert.equal(again.authenticated, true);
        // A cookie whose token was signed by another key is not authenticated.
        const { privateKey } = await jose.generateKeyPair('RS256');
        const forged = await new jose.SignJWT(jose.decodeJwt(auth.accessToken)).setProtectedHeader({ alg: 'RS256', kid: jose.decodeProtectedHeader(auth.accessToken).kid }).sign(privateKey);
        const sealed = await wos.userManagement.sealSessionDataFromAuthenticationResponse({ authenticationResponse: { ...auth, accessToken: forged }, cookiePassword });
        const bad = await wos.userManagement.authenticateWithSessionCookie({ sessionData: sealed, cookiePassword });
        assert.equal(bad.authenticated, false);
      });

      it('a second reset refuses every earlier refresh token and ends every session; logout redirects only to allowed URLs', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await newUser(wos);
        await resetUser(wos, user);
        const a1 = keep(await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }));
        const a2 = keep(await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }));
        const r2 = keep(await wos.userManagement.authenticateWithRefreshToken({ refreshToken: a2.refreshToken, clientId: t.clientId }));
        let list = await wos.userManagement.listSessions(user.id);
        assert.equal(list.data.length, 2);
        assert.ok(list.data.every((s) => s.userId === user.id && s.status === 'active'));

        // Logout: a return_to the project does not list is refused, and nothing changes.
        const sid1 = jose.decodeJwt(a1.accessToken).sid;
        const evil = await raw(d, 'GET', `/user_management/sessions/logout?session_id=${sid1}&return_to=${encodeURIComponent('https://evil.example.com/')}`);
        assert.equal(evil.status, 422);
        assert.equal(evil.headers.location, undefined);
        list = await wos.userManagement.listSessions(user.id);
        assert.equal(list.data.length, 2, 'a refused logout revokes nothing');
        const url = wos.userManagement.getLogoutUrl({ sessionId: sid1, returnTo: APP });
        const out = await h.request(url, { method: 'GET' });
        assert.equal(out.status, 302);
        assert.equal(out.headers.location, APP);
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: a1.refreshToken, clientId: t.clientId }), 'after logout');
        list = await wos.userManagement.listSessions(user.id);
        assert.deepEqual(list.data.map((s) => s.id), [jose.decodeJwt(a2.accessToken).sid]);

        // revokeSession, then a reset ends the rest.
        const a3 = keep(await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }));
        await wos.userManagement.revokeSession({ sessionId: jose.decodeJwt(a3.accessToken).sid });
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: a3.refreshToken, clientId: t.clientId }), 'after revokeSession');
        await resetUser(wos, user);
        await refused(wos.userManagement.authenticateWithRefreshToken({ refreshToken: r2.refreshToken, clientId: t.clientId }), 'after the second reset');
        list = await wos.userManagement.listSessions(user.id);
        assert.equal(list.data.length, 0, 'a reset ends every session');
        const again = await raw(d, 'POST', '/user_management/sessions/revoke', { key: t.key, body: { session_id: 'session_NOPE' } });
        assert.equal(again.status, 404);
      });
    });
  }
});
