'use strict';
// Webhook user storage (issue 17) for trusted callers: a server holding an
// API key (WorkOS's createPasswordReset) and the operator (`resetd user
// reset`) are told whether an account exists, so resetd asks the app at
// once rather than after the answer: a user the app knows gets a reset at
// once, with its token, and one it does not know is WorkOS's 404, with no
// mail.  An app that is down is an error, never a false success.  The app
// is lib/storage-app.js, which checks every call's JWT with jose.
// Run: RESETD_BIN=build/san/resetd node --test tests/e2e/userstorage-trusted.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { startStorageApp } = require('./lib/storage-app');
const workos = require('workos11');

const TEST_TIMEOUT = 120000;
const secrets = h.secrets;

describe('webhook storage, trusted callers', () => {
  let d;
  let app;
  let project;
  let wos;

  before(async () => {
    d = await h.startDaemon({ env: { RESETD_MAIL_POLL_MS: '100', RESETD_MAIL_BACKOFF_MS: '100' } });
    app = await startStorageApp();
    project = await d.cli(['project', 'create', '--name', 'trusted-storage', ...app.projectArgs(),
      '--allow-private-targets', 'on', '--storage-timeout-ms', '300']);
    const key = await d.cli(['project', 'secret-key', project.id]);
    secrets.add(key.secret_key);
    app.secretKey = key.secret_key;
    app.projectId = project.id;
    const apikey = await d.cli(['apikey', 'create', '--project', project.id]);
    secrets.add(apikey.key);
    const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
    wos = new workos.WorkOS(apikey.key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId });
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
    if (app) await app.close();
  });

  async function appUser() {
    const email = `tr-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const password = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
    secrets.add(password);
    return { ...(await app.addUser({ email, password })), password };
  }

  it('createPasswordReset asks the app at once: a known user gets the token and the mail', { timeout: TEST_TIMEOUT }, async () => {
    const u = await appUser();
    const before = app.callsTo('/lookup').length;
    const reset = await wos.userManagement.createPasswordReset({ email: u.email });
    secrets.add(reset.passwordResetToken);
    assert.equal(reset.email, u.email);
    assert.equal(app.callsTo('/lookup').length, before + 1, 'the lookup was not made during the call');
    assert.deepEqual(app.callsTo('/lookup').at(-1).body, { email: u.email });
    const mail = await h.waitForMail(d.maildir, h.mailTo(u.email));
    assert.ok(mail.text.includes(reset.passwordResetToken), 'the mail carries the token the call returned');

    // The token resets the password in the app, and only there.
    const pw = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
    secrets.add(pw);
    const { user } = await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: pw });
    assert.equal(user.email, u.email);
    assert.equal(user.id, reset.userId);
    const [set] = app.callsTo('/password').slice(-1);
    assert.equal(set.body.user_id, u.id);
    assert.equal(set.body.new_password, pw);
    assert.equal(await app.checkPassword(u.id, pw), true);
    assert.deepEqual(app.failures, []);
  });

  it('an email the app does not know is WorkOS\'s 404, and nothing is mailed', { timeout: TEST_TIMEOUT }, async () => {
    const email = `nobody-${crypto.randomBytes(5).toString('hex')}@example.com`;
    await assert.rejects(wos.userManagement.createPasswordReset({ email }), (err) => {
      assert.equal(err.status, 404, `${err.name}: ${err.message}`);
      return true;
    });
    assert.deepEqual(app.callsTo('/lookup').at(-1).body, { email });
    // The operator's reset of the same kind of request is refused alike.
    const u = await appUser();
    const reset = await wos.userManagement.createPasswordReset({ email: u.email });
    secrets.add(reset.passwordResetToken);
    const mails = await h.waitForMail(d.maildir, h.mailTo(u.email));
    assert.ok(mails);
    const files = require('node:fs').readdirSync(`${d.maildir}/new`);
    for (const f of files) {
      const text = require('node:fs').readFileSync(`${d.maildir}/new/${f}`, 'utf8');
      assert.ok(!text.includes(email), 'a mail went to an address the app does not know');
    }
  });

  it('a user the app says is disabled is answered as unknown, and nothing is mailed', { timeout: TEST_TIMEOUT }, async () => {
    const email = `off-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const password = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
    secrets.add(password);
    await app.addUser({ email, password, status: 'disabled' });
    await assert.rejects(wos.userManagement.createPasswordReset({ email }), (err) => {
      assert.equal(err.status, 404, `${err.name}: ${err.message}`);
      return true;
    });
    assert.equal(app.callsTo('/lookup').at(-1).status, 200);
    // The daemon lives on: the next call is answered.
    const u = await appUser();
    const reset = await wos.userManagement.createPasswordReset({ email: u.email });
    secrets.add(reset.passwordResetToken);
    assert.equal(reset.email, u.email);
  });

  it('the app down: the call fails with WorkOS\'s 5xx, never a false success', { timeout: TEST_TIMEOUT }, async () => {
    const u = await appUser();
    await app.down();
    try {
      await assert.rejects(wos.userManagement.createPasswordReset({ email: u.email }), (err) => {
        assert.ok(err.status >= 500, `${err.name} ${err.status}: ${err.message}`);
        return true;
      });
    } finally {
      await app.up();
    }
    const reset = await wos.userManagement.createPasswordReset({ email: u.email });
    secrets.add(reset.passwordResetToken);
    assert.equal(reset.email, u.email);
  });

  it('an operator\'s set-password goes to the app, which keeps it; no temporary password', { timeout: TEST_TIMEOUT }, async () => {
    const u = await appUser();
    const auth = await wos.userManagement.authenticateWithPassword({ email: u.email, password: u.password, clientId: wos.clientId });
    secrets.add(auth.accessToken);
    secrets.add(auth.refreshToken);
    const pw = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
    secrets.add(pw);
    await d.cli(['user', 'set-password', '--project', project.id, u.email, '--password-stdin'], { input: pw });
    const [set] = app.callsTo('/password').slice(-1);
    assert.equal(set.body.user_id, u.id);
    assert.equal(set.body.new_password, pw);
    assert.equal(await app.checkPassword(u.id, pw), true);
    const n = app.callsTo('/password').length;
    const temp = await d.cli(['user', 'set-password', '--project', project.id, u.email, '--password-stdin', '--must-change-password'], { input: pw })
      .catch((e) => e);
    assert.ok(temp instanceof Error, 'a temporary password was taken for an app that keeps the passwords');
    assert.equal(app.callsTo('/password').length, n);
    const again = await wos.userManagement.authenticateWithPassword({ email: u.email, password: pw, clientId: wos.clientId });
    secrets.add(again.accessToken);
    secrets.add(again.refreshToken);
    assert.equal(again.user.email, u.email);
  });

  it('resetd user reset USER_ID asks the app for the shadow\'s email', { timeout: TEST_TIMEOUT }, async () => {
    const u = await appUser();
    // A sign-in makes the shadow row the operator names by id.
    const auth = await wos.userManagement.authenticateWithPassword({ email: u.email, password: u.password, clientId: wos.clientId });
    secrets.add(auth.accessToken);
    secrets.add(auth.refreshToken);
    const shadow = await d.cli(['user', 'get', '--project', project.id, u.email]);
    assert.equal(shadow.email, u.email);
    const n = app.callsTo('/lookup').length;
    const out = await d.cli(['user', 'reset', shadow.id]);
    assert.equal(out.user_id, shadow.id);
    assert.equal(app.callsTo('/lookup').length, n + 1);
    const mail = await h.waitForMail(d.maildir, h.mailTo(u.email));
    assert.ok(mail);
  });
});

describe('webhook storage, what the lookup decides after the answer', () => {
  let d;
  let app;

  before(async () => {
    d = await h.startDaemon({ env: { RESETD_MAIL_POLL_MS: '100', RESETD_MAIL_BACKOFF_MS: '100' } });
    app = await startStorageApp();
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
    if (app) await app.close();
  });

  async function storageProject(extra = []) {
    const project = await d.cli(['project', 'create', '--name', `after-${crypto.randomBytes(4).toString('hex')}`,
      ...app.projectArgs(), '--allow-private-targets', 'on', '--storage-timeout-ms', '300', ...extra]);
    const key = await d.cli(['project', 'secret-key', project.id]);
    secrets.add(key.secret_key);
    app.secretKey = key.secret_key;
    app.projectId = project.id;
    return project;
  }

  it('the unknown-account notice goes out once the app has said 404, and only then', { timeout: TEST_TIMEOUT }, async () => {
    const project = await storageProject(['--unknown-account-notice', 'on']);
    const nobody = `nobody-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const res = await h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`,
      { method: 'POST', body: { username: nobody } });
    assert.equal(res.status, 204);
    const mail = await h.waitForMail(d.maildir, h.mailTo(nobody));
    assert.match(mail.text, /there is no .* account with this email/);
    assert.equal(h.extractResetLink(mail.text), null, 'a notice carries no link');
    const [lookup] = app.callsTo('/lookup', (c) => c.body.email === nobody);
    assert.equal(lookup.status, 404);
    assert.deepEqual(app.failures, []);
  });

  it('a Cognito client that reveals existence is told, after asking the app during the call', { timeout: TEST_TIMEOUT }, async () => {
    const {
      CognitoIdentityProviderClient, ForgotPasswordCommand,
    } = require('@aws-sdk/client-cognito-identity-provider');
    const project = await storageProject(['--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id, '--reveal-user-existence']);
    const c = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: d.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const email = `rv-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const password = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
    secrets.add(password);
    await app.addUser({ email, password });
    const known = await c.send(new ForgotPasswordCommand({ ClientId: client.client_id, Username: email }));
    assert.equal(known.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetCode(m.text) !== null);
    secrets.add(h.extractResetCode(mail.text));
    await assert.rejects(
      c.send(new ForgotPasswordCommand({ ClientId: client.client_id, Username: `nobody-${crypto.randomBytes(4).toString('hex')}@example.com` })),
      (err) => err.name === 'UserNotFoundException');
    // One the app says is disabled: no account to reset, and the daemon lives on.
    const off = `off-${crypto.randomBytes(5).toString('hex')}@example.com`;
    await app.addUser({ email: off, password, status: 'disabled' });
    await assert.rejects(c.send(new ForgotPasswordCommand({ ClientId: client.client_id, Username: off })),
      (err) => err.name === 'UserNotFoundException');
    const again = await c.send(new ForgotPasswordCommand({ ClientId: client.client_id, Username: email }));
    assert.equal(again.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
  });
});
