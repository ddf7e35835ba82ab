'use strict';
// Black-box tests of resetd's WorkOS dialect: the real binary, its CLI, its
// Maildir output, plain HTTP, and WorkOS's official Node SDK in two major
// versions (8.x, what npm picks on Node 20, and 11.x, which sends an
// Idempotency-Key on every POST and retries with it). The SDK tests run the
// same bodies for both versions.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)
//
// The 429 answer through the SDK (RateLimitExceededException) is tested with
// the other per-address limits, in abuse.test.js.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const SDKS = [
  { name: 'SDK 8.13', version: 8, mod: require('workos8') },
  { name: 'SDK 11.0', version: 11, mod: require('workos11') },
];

const TEST_TIMEOUT = 60000;
const APP_RESET_URL = 'https://app.example.com/reset-password';
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const USER_ID_RE = new RegExp(`^user_${ULID}$`);
const RESET_ID_RE = new RegExp(`^password_reset_${ULID}$`);
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const ISO_MS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const daemons = [];
const secrets = h.secrets; // checked against every daemon's log by the harness too // keys, passwords, tokens: never to be logged

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

function newEmail(tag = 'user') {
  return `${uniq(tag)}@example.com`;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

async function startDaemon(opts) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

// A project with an API key and an app client. extra: more `project create` args.
async function newTenant(d, extra = []) {
  const project = await d.cli(['project', 'create', '--name', uniq('workos'), ...extra]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
  secrets.add(key);
  return { project, key, clientId };
}

// The official SDK pointed at the daemon: the three lines the README shows.
function sdkFor(d, sdk, tenant, opts = {}) {
  return new sdk.mod.WorkOS(tenant.key, {
    apiHostname: '127.0.0.1',
    port: d.port,
    https: false,
    clientId: tenant.clientId,
    ...opts,
  });
}

// A raw WorkOS call; every answer must be JSON with an X-Request-ID.
async function call(d, method, path, { key, body, headers = {} } = {}) {
  const hdrs = { ...headers };
  if (key !== undefined) hdrs.Authorization = `Bearer ${key}`;
  const res = await h.request(`${d.url}${path}`, { method, headers: hdrs, body });
  assert.ok(res.headers['x-request-id'], `${method} ${path}: no X-Request-ID`);
  assert.match(res.headers['content-type'] || '', /^application\/json/, `${method} ${path}: not JSON: ${show(res)}`);
  assert.ok(res.json !== undefined, `${method} ${path}: body is not JSON: ${show(res)}`);
  return res;
}

// The body fields of a WorkOS SDK exception, whichever class and version.
function errCode(err) {
  if (err.code) return err.code;
  let raw = err.rawData;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      raw = undefined;
    }
  }
  return raw && (raw.code || raw.error);
}

// Asserts that promise rejects with the SDK's class `cls` and, when given, body code.
async function rejectsWith(promise, sdk, cls, code, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof sdk.mod[cls], `${what}: expected ${cls}, got ${err && err.name}: ${err && err.message}`);
    if (code !== undefined) assert.equal(errCode(err), code, `${what}: code`);
    return true;
  });
}

function tokenOf(text) {
  const m = /https?:\/\/\S+?[?&]token=([A-Za-z0-9_-]{43})/.exec(text || '');
  return m ? m[1] : null;
}

// Reset mails to email that carry a token, in arrival order.
async function resetMails(d, email) {
  return (await h.readMaildir(d.maildir)).filter((m) => h.mailTo(email)(m) && tokenOf(m.text) !== null);
}

async function waitResetMail(d, email) {
  const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && tokenOf(m.text) !== null);
  const token = tokenOf(mail.text);
  secrets.add(token);
  return { mail, token };
}

// A user made through the SDK, with its password.
async function sdkUser(wos, extra = {}) {
  const email = newEmail();
  const password = newPassword();
  const user = await wos.userManagement.createUser({ email, password, firstName: 'Marcelina', lastName: 'Davis', ...extra });
  return { ...user, password };
}

// A fetch that delivers each POST to the daemon but loses the first answer
// to every path, as a dropped connection would. log records each attempt.
function losingFetch(log) {
  const lost = new Set();
  return async (url, init = {}) => {
    const key = new Headers(init.headers || {}).get('idempotency-key');
    log.push({ url: String(url), method: init.method, key });
    const res = await fetch(url, init);
    if (init.method === 'POST' && !lost.has(String(url))) {
      lost.add(String(url));
      await res.arrayBuffer();
      throw new TypeError('fetch failed (test: the answer was lost)');
    }
    return res;
  };
}

// ---------------------------------------------------------------------------

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('workos dialect', () => {
  let d;

  before(async () => {
    d = await startDaemon();
  });

  after(async () => {
    for (const x of daemons) {
      if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
    }
  });

  for (const sdk of SDKS) {
    describe(`through the official ${sdk.name}`, () => {
      it('createUser, then createPasswordReset: the mailed token is passwordResetToken', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await sdkUser(wos);
        assert.match(user.id, USER_ID_RE);
        assert.equal(user.object, 'user');
        assert.equal(user.emailVerified, false);
        assert.equal(user.firstName, 'Marcelina');
        assert.equal(user.lastName, 'Davis');
        assert.match(user.createdAt, ISO_MS_RE);
        assert.match(user.updatedAt, ISO_MS_RE);
        assert.equal(user.lastSignInAt, null);
        assert.deepEqual(user.metadata, {});
        assert.equal(user.externalId, null);

        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        assert.equal(reset.object, 'password_reset');
        assert.match(reset.id, RESET_ID_RE);
        assert.equal(reset.userId, user.id);
        assert.equal(reset.email, user.email);
        assert.match(reset.passwordResetToken, TOKEN_RE);
        secrets.add(reset.passwordResetToken);
        // No reset URL on the project: the link points at resetd's own page.
        assert.equal(reset.passwordResetUrl, `${d.url}/reset?token=${reset.passwordResetToken}`);
        assert.match(reset.createdAt, ISO_MS_RE);
        assert.equal(Date.parse(reset.expiresAt) - Date.parse(reset.createdAt), 3600 * 1000);

        const { mail, token } = await waitResetMail(d, user.email);
        assert.equal(token, reset.passwordResetToken, 'the mailed token must be the one createPasswordReset returned');
        assert.ok(mail.text.includes(reset.passwordResetUrl), 'the mail carries passwordResetUrl');
      });

      it('the project reset URL is used, and resetPassword verifies the email', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d, ['--reset-url', APP_RESET_URL]);
        const wos = sdkFor(d, sdk, t);
        const user = await sdkUser(wos);
        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        secrets.add(reset.passwordResetToken);
        assert.equal(reset.passwordResetUrl, `${APP_RESET_URL}?token=${reset.passwordResetToken}`);

        const newPass = newPassword();
        const { user: after } = await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPass });
        assert.equal(after.id, user.id);
        assert.equal(after.email, user.email);
        assert.equal(after.emailVerified, true, 'resetPassword marks the email verified');
        assert.ok(Date.parse(after.updatedAt) >= Date.parse(user.updatedAt));

        await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && /changed/i.test(m.subject));
      });

      it('authenticateWithPassword: the new password works, the old one is refused', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await sdkUser(wos);
        const before = await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId });
        secrets.add(before.accessToken);
        secrets.add(before.refreshToken);

        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        secrets.add(reset.passwordResetToken);
        const newPass = newPassword();
        await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPass });

        const auth = await wos.userManagement.authenticateWithPassword({
          email: user.email,
          password: newPass,
          clientId: t.clientId,
          ipAddress: '192.0.2.1',
          userAgent: 'resetd-e2e',
        });
        secrets.add(auth.accessToken);
        secrets.add(auth.refreshToken);
        assert.equal(auth.user.id, user.id);
        assert.equal(auth.user.emailVerified, true);
        assert.match(auth.user.lastSignInAt, ISO_MS_RE);
        assert.match(auth.accessToken, JWT_RE);
        assert.ok(typeof auth.refreshToken === 'string' && auth.refreshToken.length > 20);
        assert.equal(auth.authenticationMethod, 'Password');
        assert.equal(auth.organizationId, null);
        const claims = JSON.parse(Buffer.from(auth.accessToken.split('.')[1], 'base64url').toString());
        assert.equal(claims.sub, user.id, 'the access token names the user by its WorkOS id');
        assert.match(claims.sid, new RegExp(`^session_${ULID}$`));
        assert.ok(claims.exp - claims.iat <= 300, 'access tokens live at most 5 minutes');

        await rejectsWith(
          wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: t.clientId }),
          sdk, 'GenericServerException', 'invalid_credentials', 'the old password'
        );
        await rejectsWith(
          wos.userManagement.authenticateWithPassword({ email: newEmail('nobody'), password: newPass, clientId: t.clientId }),
          sdk, 'GenericServerException', 'invalid_credentials', 'an unknown email'
        );
      });

      it('getPasswordReset and getUser', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await sdkUser(wos);
        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        secrets.add(reset.passwordResetToken);

        const got = await wos.userManagement.getPasswordReset(reset.id);
        // The token is stored only as a hash: GET cannot show it again.
        assert.deepEqual(got, { ...reset, passwordResetToken: '', passwordResetUrl: '' });

        const gotUser = await wos.userManagement.getUser(user.id);
        const { password, ...created } = user;
        assert.ok(password);
        assert.deepEqual(gotUser, created);

        await rejectsWith(wos.userManagement.getUser(`user_${'0'.repeat(26)}`), sdk, 'NotFoundException', 'entity_not_found', 'unknown user');
        await rejectsWith(wos.userManagement.getUser('user_not-a-ulid'), sdk, 'NotFoundException', 'entity_not_found', 'malformed user id');
        await rejectsWith(
          wos.userManagement.getPasswordReset(`password_reset_${'0'.repeat(26)}`),
          sdk, 'NotFoundException', 'entity_not_found', 'unknown reset'
        );
        // A user id is not a reset id, even for the same bits.
        await rejectsWith(
          wos.userManagement.getPasswordReset(reset.userId),
          sdk, 'NotFoundException', 'entity_not_found', 'a user id as a reset id'
        );
      });

      it('errors: expired, used and unknown tokens, weak password, unknown email, bad key', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const user = await sdkUser(wos);

        // unknown email: 404 entity_not_found (this call is server to server)
        await rejectsWith(
          wos.userManagement.createPasswordReset({ email: newEmail('nobody') }),
          sdk, 'NotFoundException', 'entity_not_found', 'unknown email'
        );

        // unknown token
        await rejectsWith(
          wos.userManagement.resetPassword({ token: crypto.randomBytes(32).toString('base64url'), newPassword: newPassword() }),
          sdk, 'GenericServerException', 'password_reset_token_not_found', 'unknown token'
        );
        await rejectsWith(
          wos.userManagement.resetPassword({ token: 'short', newPassword: newPassword() }),
          sdk, 'GenericServerException', 'password_reset_token_not_found', 'malformed token'
        );

        // weak password: the token survives it
        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        secrets.add(reset.passwordResetToken);
        await assert.rejects(wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: 'short' }), (err) => {
          assert.ok(err instanceof sdk.mod.BadRequestException, `weak password: got ${err.name}: ${err.message}`);
          assert.equal(err.code, 'password_reset_error');
          assert.equal(err.errors.length, 1);
          assert.equal(err.errors[0].code, 'password_too_weak');
          assert.equal(typeof err.errors[0].message, 'string');
          assert.ok(Array.isArray(err.errors[0].suggestions) && err.errors[0].suggestions.length > 0);
          assert.equal(typeof err.errors[0].warning, 'string');
          return true;
        });
        await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPassword() });

        // used token
        await rejectsWith(
          wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPassword() }),
          sdk, 'GenericServerException', 'password_reset_token_not_found', 'used token'
        );

        // expired token: a project whose tokens live one second, on a
        // daemon whose clock then moves 2 s on
        const c = await h.startDaemon({ fakeClock: true });
        try {
          const short = await newTenant(c, ['--token-ttl', '1']);
          const swos = sdkFor(c, sdk, short);
          const suser = await sdkUser(swos);
          const sreset = await swos.userManagement.createPasswordReset({ email: suser.email });
          secrets.add(sreset.passwordResetToken);
          c.advanceClock(2);
          await assert.rejects(swos.userManagement.resetPassword({ token: sreset.passwordResetToken, newPassword: newPassword() }), (err) => {
            assert.ok(err instanceof sdk.mod.BadRequestException, `expired: got ${err.name}: ${err.message}`);
            assert.equal(err.code, 'password_reset_error');
            assert.equal(err.errors[0].code, 'password_reset_token_expired');
            return true;
          });
          const still = await swos.userManagement.authenticateWithPassword({ email: suser.email, password: suser.password, clientId: short.clientId });
          secrets.add(still.accessToken);
          secrets.add(still.refreshToken);
        } finally {
          await c.stop();
        }

        // bad, unknown and missing API keys
        for (const key of [`sk_${crypto.randomBytes(32).toString('base64url')}`, 'sk_test_a1b2c3d4e5f6', 'not-a-key']) {
          const bad = sdkFor(d, sdk, { key, clientId: t.clientId });
          await rejectsWith(bad.userManagement.createPasswordReset({ email: user.email }), sdk, 'UnauthorizedException', undefined, `key ${key}`);
          await rejectsWith(bad.userManagement.getUser(user.id), sdk, 'UnauthorizedException', undefined, `key ${key}`);
        }

        // a client of the project is required, and the secret must be the key
        await assert.rejects(
          wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId: `client_${'0'.repeat(26)}` }),
          (err) => {
            assert.ok(err instanceof sdk.mod.OauthException, `unknown client: got ${err.name}: ${err.message}`);
            assert.equal(err.error, 'invalid_client');
            return true;
          }
        );

        // createUser: weak password and a taken email, 400 as the spec has
        // them (the SDK throws BadRequestException)
        await rejectsWith(
          wos.userManagement.createUser({ email: newEmail(), password: 'short' }),
          sdk, 'BadRequestException', 'user_creation_error', 'weak password on createUser'
        );
        await rejectsWith(
          wos.userManagement.createUser({ email: user.email.toUpperCase(), password: newPassword() }),
          sdk, 'BadRequestException', 'user_creation_error', 'taken email'
        );
      });

      it('idempotency through the SDK: a lost answer is retried with the same key', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const plain = sdkFor(d, sdk, t);
        const user = await sdkUser(plain);
        const log = [];
        const wos = sdkFor(d, sdk, t, { fetchFn: losingFetch(log) });

        if (sdk.version < 11) {
          // 8.x sends no key and never retries user-management calls: the
          // caller sees the failure, though the reset was made.
          await assert.rejects(wos.userManagement.createPasswordReset({ email: user.email }));
          assert.equal(log.length, 1);
          assert.equal(log[0].key, null, '8.x sends no Idempotency-Key');
          await waitResetMail(d, user.email);
          return;
        }

        const reset = await wos.userManagement.createPasswordReset({ email: user.email });
        secrets.add(reset.passwordResetToken);
        assert.equal(log.length, 2, 'the SDK retried once');
        assert.match(log[0].key || '', /^retry-/);
        assert.equal(log[1].key, log[0].key, 'the retry carries the same Idempotency-Key');

        const { token } = await waitResetMail(d, user.email);
        assert.equal(token, reset.passwordResetToken, 'the retry answered the first reset');
        await h.waitOutboxSettled(d);
        assert.equal((await resetMails(d, user.email)).length, 1, 'one reset, one email');
        const got = await plain.userManagement.getPasswordReset(reset.id);
        assert.equal(got.id, reset.id);

        // The first confirm consumes the token and its answer is lost; the
        // retry must not fail on the consumed token.
        const newPass = newPassword();
        const { user: after } = await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: newPass });
        assert.equal(log.length, 4);
        assert.equal(log[3].key, log[2].key);
        assert.equal(after.id, user.id);
        assert.equal(after.emailVerified, true);
        const auth = await plain.userManagement.authenticateWithPassword({ email: user.email, password: newPass, clientId: t.clientId });
        secrets.add(auth.accessToken);
        secrets.add(auth.refreshToken);
      });

      it('a key of project A cannot read or act on project B', { timeout: TEST_TIMEOUT }, async () => {
        const a = await newTenant(d);
        const b = await newTenant(d);
        const wa = sdkFor(d, sdk, a);
        const wb = sdkFor(d, sdk, b);
        const bUser = await sdkUser(wb);
        const bReset = await wb.userManagement.createPasswordReset({ email: bUser.email });
        secrets.add(bReset.passwordResetToken);

        await rejectsWith(wa.userManagement.getUser(bUser.id), sdk, 'NotFoundException', 'entity_not_found', "B's user with A's key");
        await rejectsWith(wa.userManagement.getPasswordReset(bReset.id), sdk, 'NotFoundException', 'entity_not_found', "B's reset with A's key");
        await rejectsWith(
          wa.userManagement.createPasswordReset({ email: bUser.email }),
          sdk, 'NotFoundException', 'entity_not_found', "a reset for B's user with A's key"
        );
        await rejectsWith(
          wa.userManagement.resetPassword({ token: bReset.passwordResetToken, newPassword: newPassword() }),
          sdk, 'GenericServerException', 'password_reset_token_not_found', "B's token with A's key"
        );
        await rejectsWith(
          wa.userManagement.authenticateWithPassword({ email: bUser.email, password: bUser.password, clientId: a.clientId }),
          sdk, 'GenericServerException', 'invalid_credentials', "B's user signing in through A"
        );
        await assert.rejects(
          wa.userManagement.authenticateWithPassword({ email: bUser.email, password: bUser.password, clientId: b.clientId }),
          (err) => err instanceof sdk.mod.OauthException && err.error === 'invalid_client'
        );
        // A's attempt did not spend B's token.
        const { user } = await wb.userManagement.resetPassword({ token: bReset.passwordResetToken, newPassword: newPassword() });
        assert.equal(user.id, bUser.id);
      });
    });
  }

  describe('over plain HTTP', () => {
    it('a replayed Idempotency-Key makes one reset and sends one email', { timeout: TEST_TIMEOUT }, async () => {
      const t = await newTenant(d);
      const email = newEmail();
      assert.equal((await call(d, 'POST', '/user_management/users', { key: t.key, body: { email } })).status, 201);
      const idem = { 'Idempotency-Key': `e2e-${crypto.randomUUID()}` };
      const first = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email }, headers: idem });
      assert.equal(first.status, 201, show(first));
      secrets.add(first.json.password_reset_token);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const again = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email }, headers: idem });
      assert.equal(again.status, 201, show(again));
      assert.equal(again.text, first.text, 'the replay is the first answer, byte for byte');
      assert.equal(again.headers['idempotent-replayed'], 'true');

      await waitResetMail(d, email);
      await h.waitOutboxSettled(d);
      assert.equal((await resetMails(d, email)).length, 1, 'one email');

      // The same key with another body is refused; another key is new work.
      const other = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email: email.toUpperCase() }, headers: idem });
      assert.equal(other.status, 422, show(other));
      assert.equal(other.json.code, 'idempotency_key_reused');
      const bad = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email }, headers: { 'Idempotency-Key': 'x'.repeat(256) } });
      assert.equal(bad.status, 400, show(bad));
      assert.equal(bad.json.code, 'idempotency_key_invalid');

      // The token of the replayed answer is live: no second reset revoked it.
      const confirmKey = { 'Idempotency-Key': `e2e-${crypto.randomUUID()}` };
      const body = { token: first.json.password_reset_token, new_password: newPassword() };
      const c1 = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body, headers: confirmKey });
      assert.equal(c1.status, 200, show(c1));
      assert.equal(c1.json.user.email_verified, true);
      // A retried confirm returns the first answer, though the token is spent.
      const c2 = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body, headers: confirmKey });
      assert.equal(c2.status, 200, show(c2));
      assert.equal(c2.text, c1.text);
      assert.equal(c2.headers['idempotent-replayed'], 'true');
      // Without the key, the spent token is refused.
      const c3 = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body });
      assert.equal(c3.status, 400, show(c3));
      assert.equal(c3.json.code, 'password_reset_token_not_found');

      // Keys are per project: B's use of the same key is its own.
      const b = await newTenant(d);
      const bEmail = newEmail();
      await call(d, 'POST', '/user_management/users', { key: b.key, body: { email: bEmail } });
      const bRes = await call(d, 'POST', '/user_management/password_reset', { key: b.key, body: { email: bEmail }, headers: idem });
      assert.equal(bRes.status, 201, show(bRes));
      secrets.add(bRes.json.password_reset_token);
      assert.notEqual(bRes.json.id, first.json.id);
    });

    it('racing retries with one key: one reset, one email, one confirm', { timeout: TEST_TIMEOUT }, async () => {
      const t = await newTenant(d);
      const email = newEmail();
      await call(d, 'POST', '/user_management/users', { key: t.key, body: { email } });
      const idem = { 'Idempotency-Key': `race-${crypto.randomUUID()}` };
      const creates = await Promise.all(
        Array.from({ length: 12 }, () => call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email }, headers: idem }))
      );
      for (const r of creates) assert.equal(r.status, 201, show(r));
      assert.equal(new Set(creates.map((r) => r.text)).size, 1, 'every racer got the same answer');
      const token = creates[0].json.password_reset_token;
      secrets.add(token);
      await waitResetMail(d, email);
      await h.waitOutboxSettled(d);
      assert.equal((await resetMails(d, email)).length, 1, 'one email');

      const ckey = { 'Idempotency-Key': `race-${crypto.randomUUID()}` };
      const body = { token, new_password: newPassword() };
      const confirms = await Promise.all(
        Array.from({ length: 12 }, () => call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body, headers: ckey }))
      );
      for (const r of confirms) assert.equal(r.status, 200, show(r));
      assert.equal(new Set(confirms.map((r) => r.text)).size, 1);
    });

    it('--send-reset-emails off: create sends no email; the deprecated send does', { timeout: TEST_TIMEOUT }, async () => {
      const t = await newTenant(d, ['--send-reset-emails', 'off', '--reset-url', APP_RESET_URL]);
      assert.equal(t.project.send_reset_emails, false);
      const email = newEmail();
      await call(d, 'POST', '/user_management/users', { key: t.key, body: { email, password: newPassword() } });
      const res = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: { email } });
      assert.equal(res.status, 201, show(res));
      secrets.add(res.json.password_reset_token);
      await h.waitOutboxSettled(d);
      assert.deepEqual(await resetMails(d, email), [], 'no reset email when the project turns them off');

      // The token works: the app delivered it itself.
      const c = await call(d, 'POST', '/user_management/password_reset/confirm', {
        key: t.key, body: { token: res.json.password_reset_token, new_password: newPassword() },
      });
      assert.equal(c.status, 200, show(c));

      // SDK 7.x's sendPasswordResetEmail: the email goes to the given URL.
      const sent = await call(d, 'POST', '/user_management/password_reset/send', {
        key: t.key, body: { email, password_reset_url: 'https://other.example.com/pw' },
      });
      assert.equal(sent.status, 200, show(sent));
      assert.deepEqual(sent.json, {});
      const { mail, token } = await waitResetMail(d, email);
      assert.ok(mail.text.includes(`https://other.example.com/pw?token=${token}`), 'the link uses password_reset_url');
      const bad = await call(d, 'POST', '/user_management/password_reset/send', {
        key: t.key, body: { email, password_reset_url: 'javascript:alert(1)' },
      });
      assert.equal(bad.status, 422, show(bad));
      const nobody = await call(d, 'POST', '/user_management/password_reset/send', {
        key: t.key, body: { email: newEmail('nobody'), password_reset_url: APP_RESET_URL },
      });
      assert.equal(nobody.status, 404, show(nobody));
      assert.equal(nobody.json.code, 'entity_not_found');
    });

    it('every answer is JSON: unknown paths, methods, bodies and keys', { timeout: TEST_TIMEOUT }, async () => {
      const t = await newTenant(d);
      let res = await call(d, 'GET', '/user_management/nothing', { key: t.key });
      assert.equal(res.status, 404, show(res));
      assert.equal(res.json.code, 'not_found');
      res = await call(d, 'GET', '/user_management', { key: t.key });
      assert.equal(res.status, 404, show(res));
      res = await call(d, 'DELETE', '/user_management/users', { key: t.key });
      assert.equal(res.status, 405, show(res));
      assert.equal(res.json.code, 'method_not_allowed');
      res = await call(d, 'PUT', `/user_management/password_reset/password_reset_${'0'.repeat(26)}`, { key: t.key, body: {} });
      assert.equal(res.status, 405, show(res));
      res = await call(d, 'GET', '/user_management/password_reset', { key: t.key });
      assert.equal(res.status, 405, show(res));

      res = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: '{"email": ' });
      assert.equal(res.status, 400, show(res));
      assert.equal(res.json.code, 'invalid_json');
      res = await call(d, 'POST', '/user_management/password_reset', { key: t.key, body: {} });
      assert.equal(res.status, 422, show(res));
      assert.equal(res.json.code, 'invalid_request_parameters');
      assert.equal(res.json.errors[0].code, 'email_required');
      res = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body: { token: 'x' } });
      assert.equal(res.status, 422, show(res));
      assert.equal(res.json.errors[0].code, 'new_password_required');
      res = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body: { token: 'x'.repeat(2000), new_password: 'y' } });
      assert.equal(res.status, 422, show(res));
      assert.equal(res.json.errors[0].code, 'token_invalid');
      res = await call(d, 'POST', '/user_management/password_reset/confirm', { key: t.key, body: { token: 42, new_password: 'y' } });
      assert.equal(res.json.errors[0].code, 'token_invalid');
      res = await call(d, 'POST', '/user_management/users', { key: t.key, body: { email: newEmail(), password_hash: 'x' } });
      assert.equal(res.status, 422, show(res));
      assert.equal(res.json.errors[0].code, 'password_hash_unsupported');
      res = await call(d, 'POST', '/user_management/authenticate', {
        key: t.key, body: { grant_type: 'refresh_token', client_id: t.clientId, client_secret: t.key, refresh_token: 'x' },
      });
      assert.equal(res.status, 400, show(res));
      assert.equal(res.json.error, 'invalid_grant', 'a refresh token that is no token');
      res = await call(d, 'POST', '/user_management/authenticate', {
        key: t.key, body: { grant_type: 'authorization_code', client_id: t.clientId, client_secret: t.key, code: 'x' },
      });
      assert.equal(res.status, 400, show(res));
      assert.equal(res.json.error, 'unsupported_grant_type');

      res = await call(d, 'GET', `/user_management/users/user_${'0'.repeat(26)}`);
      assert.equal(res.status, 401, show(res));
      res = await call(d, 'GET', `/user_management/users/user_${'0'.repeat(26)}`, { key: `${t.key}x` });
      assert.equal(res.status, 401, show(res));

      const big = JSON.stringify({ email: 'x'.repeat(200 * 1024) });
      res = await h.rawRequest(`${d.url}/user_management/password_reset`, {
        method: 'POST', body: big, headers: { Authorization: `Bearer ${t.key}` },
      });
      assert.equal(res.status, 413, show(res));
      assert.equal(res.json.code, 'request_too_large');
      assert.ok(d.running());

      // SDK 11 reports the X-Request-ID of an error.
      const wos = sdkFor(d, SDKS[1], t);
      await assert.rejects(wos.userManagement.getUser(`user_${'0'.repeat(26)}`), (err) => {
        assert.match(err.requestID, new RegExp(`^${ULID}$`));
        return true;
      });
    });

    it('log hygiene: no key, token or password in the daemon log', { timeout: TEST_TIMEOUT }, async () => {
      await d.stop();
      assert.ok(secrets.size > 0);
      for (const x of daemons) {
        for (const line of [...x.stderrLines, ...x.stdoutLines]) {
          for (const s of secrets) assert.ok(!line.includes(s), `a secret appears in the daemon log: ${line.slice(0, 300)}`);
        }
      }
    });
  });
});
