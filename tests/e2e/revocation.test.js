'use strict';
// Black-box tests of the CLI's revocation commands, each against the faces
// that use what it revokes:
//   resetd apikey list / revoke      the WorkOS SDKs (8 and 11) get 401 at
//                                    once, with no wait for any cache;
//   resetd client rotate-secret      the AWS SDK's SecretHash with the old
//                                    secret is refused at once, Velocity too;
//   resetd user disable / enable     sign-in refused, sessions and links
//                                    dead, reset requests answered as for
//                                    an unknown account and never mailed.
// Every change is one audit event; no secret appears in any output.
// Run: node --test tests/e2e/revocation.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient, ForgotPasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');

const SDKS = [
  { name: 'SDK 8.13', mod: require('workos8') },
  { name: 'SDK 11.0', mod: require('workos11') },
];
const TEST_TIMEOUT = 90000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CALLBACK = 'http://localhost:3999/cb';

const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Calm ${crypto.randomBytes(9).toString('base64url')} harbour`;
  h.registerSecret(p);
  return p;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

function secretHash(secret, username, clientId) {
  return crypto.createHmac('sha256', secret).update(username + clientId).digest('base64');
}

async function cliFails(d, args, re, what, opts) {
  await assert.rejects(d.cli(args, opts), (err) => {
    assert.match(String(err && err.message), re, `${what}: ${err && err.message}`);
    return true;
  });
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('CLI revocation', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  async function newUser(project) {
    const email = `${uniq('user')}@example.com`;
    const password = newPassword();
    const u = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    return { ...u, email, password };
  }

  async function events(project, kind) {
    return (await d.cli(['audit', 'list', '--project', project.id])).filter((e) => e.event === kind);
  }

  for (const sdk of SDKS) {
    it(`apikey revoke: the WorkOS ${sdk.name} gets 401 at once`, { timeout: TEST_TIMEOUT }, async () => {
      const project = await d.cli(['project', 'create', '--name', uniq('wos')]);
      const k1 = await d.cli(['apikey', 'create', '--project', project.id]);
      const k2 = await d.cli(['apikey', 'create', '--project', project.id]);
      h.registerSecret(k1.key);
      h.registerSecret(k2.key);
      assert.match(k1.id, UUID_RE, 'create names the key by id');
      const clientId = (await d.cli(['client', 'create', '--project', project.id])).client_id;
      const wos = (key) => new sdk.mod.WorkOS(key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId });
      const w1 = wos(k1.key);
      const w2 = wos(k2.key);
      const user = await newUser(project);

      // Both keys work, and every cache the calls go through is warm.
      const made = await w1.userManagement.createUser({ email: `${uniq('made')}@example.com`, password: newPassword() });
      assert.ok(made.id.startsWith('user_'));
      await w1.userManagement.createPasswordReset({ email: user.email });
      await w1.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId });
      const idem = uniq('idem');
      const first = await h.request(`${d.url}/user_management/password_reset`, {
        method: 'POST', headers: { Authorization: `Bearer ${k1.key}`, 'Idempotency-Key': idem }, body: { email: user.email },
      });
      assert.equal(first.status, 201, show(first));
      h.registerSecret(first.json.password_reset_token);

      const listed = await d.cli(['apikey', 'list', '--project', project.id]);
      assert.deepEqual(listed.map((k) => k.id).sort(), [k1.id, k2.id].sort());
      assert.ok(listed.every((k) => k.revoked_at === null && k.project_id === project.id));
      assert.ok(!JSON.stringify(listed).includes(k1.key) && !/hash/.test(JSON.stringify(listed)), 'list shows no key and no hash');

      // Revoked by id: refused from the very next call.
      const revoked = await d.cli(['apikey', 'revoke', k1.id]);
      assert.equal(revoked.id, k1.id);
      assert.equal(typeof revoked.revoked_at, 'string');
      for (const call of [
        () => w1.userManagement.getUser(made.id),
        () => w1.userManagement.createPasswordReset({ email: user.email }),
        () => w1.userManagement.createUser({ email: `${uniq('late')}@example.com`, password: newPassword() }),
        () => w1.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId }),
      ]) {
        await assert.rejects(call(), (err) => {
          assert.ok(err instanceof sdk.mod.UnauthorizedException, `expected UnauthorizedException, got ${err && err.name}: ${err && err.message}`);
          return true;
        });
      }
      const replay = await h.request(`${d.url}/user_management/password_reset`, {
        method: 'POST', headers: { Authorization: `Bearer ${k1.key}`, 'Idempotency-Key': idem }, body: { email: user.email },
      });
      assert.equal(replay.status, 401, `a retry with the revoked key is not replayed: ${show(replay)}`);
      // The other key is untouched.
      assert.equal((await w2.userManagement.getUser(made.id)).id, made.id);

      // Revoked by the key itself, read from standard input.
      const byKey = await d.cli(['apikey', 'revoke', '--key-stdin'], { input: `${k2.key}\n` });
      assert.equal(byKey.id, k2.id);
      await assert.rejects(w2.userManagement.getUser(made.id), (err) => err instanceof sdk.mod.UnauthorizedException);

      // Again: nothing changes, and nothing more is recorded.
      const again = await d.cli(['apikey', 'revoke', k1.id]);
      assert.equal(again.revoked_at, revoked.revoked_at);
      const audited = await events(project, 'api_key_revoked');
      assert.deepEqual(audited.map((e) => e.detail).sort(), [k1.id, k2.id].sort(), 'one event per key');
      assert.ok((await d.cli(['apikey', 'list', '--project', project.id])).every((k) => k.revoked_at !== null));

      await cliFails(d, ['apikey', 'revoke', crypto.randomUUID()], /exit/, 'an unknown id');
      await cliFails(d, ['apikey', 'revoke', 'not-a-key'], /exit/, 'neither id nor key');
      await cliFails(d, ['apikey', 'revoke', '--key-stdin'], /exit/, 'an unknown key', { input: `sk_${crypto.randomBytes(32).toString('base64url')}` });
      await cliFails(d, ['apikey', 'revoke'], /exit/, 'nothing named');
    });
  }

  it('client rotate-secret: the old secret is refused at once, the new one works', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('cog'), '--delivery', 'code']);
    const client = await d.cli(['client', 'create', '--project', project.id, '--secret']);
    h.registerSecret(client.client_secret);
    const pub = await d.cli(['client', 'create', '--project', project.id]);
    const user = await newUser(project);
    const cognito = new CognitoIdentityProviderClient({
      region: 'us-east-1', endpoint: d.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1,
    });
    const forgot = (secret) => cognito.send(new ForgotPasswordCommand({
      ClientId: client.client_id, Username: user.email, SecretHash: secretHash(secret, user.email, client.client_id),
    }));
    const velocity = (secret) => h.request(`${d.url}/password/forgot`, {
      method: 'POST',
      headers: { userpoolid: project.id, appclientid: client.client_id },
      body: { userName: user.email, secretHash: secretHash(secret, user.email, client.client_id) },
    });
    try {
      const ok = await forgot(client.client_secret);
      assert.ok(ok.CodeDeliveryDetails, 'the first secret works');
      assert.equal((await velocity(client.client_secret)).status, 200);

      const rotated = await d.cli(['client', 'rotate-secret', client.client_id]);
      h.registerSecret(rotated.client_secret);
      assert.equal(rotated.client_id, client.client_id);
      assert.equal(rotated.project_id, project.id);
      assert.match(rotated.client_secret, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(rotated.client_secret, client.client_secret);

      await assert.rejects(forgot(client.client_secret), (err) => {
        assert.equal(err.name, 'NotAuthorizedException', `the old secret: ${err && err.name}`);
        return true;
      });
      const old = await velocity(client.client_secret);
      assert.equal(old.status, 400, show(old));
      assert.equal(old.json.error.code, 'NotAuthorizedException');
      assert.ok((await forgot(rotated.client_secret)).CodeDeliveryDetails, 'the new secret works');
      assert.equal((await velocity(rotated.client_secret)).status, 200);

      const audited = await events(project, 'client_secret_rotated');
      assert.deepEqual(audited.map((e) => e.detail), [client.client_id]);
      const trail = JSON.stringify(await d.cli(['audit', 'list']));
      assert.ok(!trail.includes(rotated.client_secret) && !trail.includes(client.client_secret), 'no secret in the trail');

      await cliFails(d, ['client', 'rotate-secret', pub.client_id], /exit/, 'a public client');
      await cliFails(d, ['client', 'rotate-secret', 'client_nope'], /exit/, 'an unknown client');
      await cliFails(d, ['client', 'rotate-secret'], /exit/, 'no client named');
    } finally {
      cognito.destroy();
    }
  });

  it('user disable and enable: sign-in, sessions, links and mail', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('xs'), '--callback-url', CALLBACK]);
    const key = (await d.cli(['apikey', 'create', '--project', project.id])).key;
    h.registerSecret(key);
    const clientId = (await d.cli(['client', 'create', '--project', project.id])).client_id;
    const wos = new SDKS[1].mod.WorkOS(key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId });
    const user = await newUser(project);
    const control = await newUser(project);
    const q = `projectId=${project.id}`;
    const login = (u, password = u.password) => h.request(`${d.url}/login?${q}`, { method: 'POST', body: { username: u.email, password } });
    const me = (token) => h.request(`${d.url}/users/me?${q}`, { headers: { Authorization: `Bearer ${token}` } });
    const requestReset = (username) => h.request(`${d.url}/password/reset/request?${q}`, { method: 'POST', body: { username } });
    const tokenOf = (res) => {
      const t = new URL(res.json.login_url).searchParams.get('token');
      h.registerSecret(t);
      return t;
    };

    // Before: a session, and a live reset link.
    const session = tokenOf(await login(user));
    assert.equal((await me(session)).status, 200);
    assert.equal((await requestReset(user.email)).status, 204);
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && h.extractResetLink(m.text) !== null);
    const link = h.extractResetLink(mail.text);
    h.registerSecret(link.reset_code);

    const disabled = await d.cli(['user', 'disable', '--project', project.id, user.email]);
    assert.equal(disabled.id, user.id);
    assert.equal(disabled.disabled, true);

    // The session and the link die at once.
    const dead = await me(session);
    assert.equal(dead.status, 401, show(dead));
    assert.equal(dead.json.error.code, '002-016');
    const confirm = await h.request(`${d.url}/password/reset/confirm?${q}`, {
      method: 'POST', body: { reset_code: link.reset_code, user_id: user.id, new_password: newPassword() },
    });
    assert.equal(confirm.status, 404, show(confirm));
    // Sign-in is refused; a wrong password answers as for anyone.
    const banned = await login(user);
    assert.equal(banned.status, 401);
    assert.equal(banned.json.error.code, '002-040');
    const wrong = await login(user, 'not the password at all');
    const nobody = await login({ email: `${uniq('nobody')}@example.com` }, 'not the password at all');
    assert.deepEqual([wrong.status, wrong.json], [nobody.status, nobody.json], 'a wrong password tells nothing');
    await assert.rejects(
      wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId }),
      (err) => {
        assert.equal(err.status, 400, `${err && err.name}: ${err && err.message}`);
        return true;
      }
    );
    // A reset request answers as for an unknown account, and mails nothing.
    const asked = await requestReset(user.email);
    const unknown = await requestReset(`${uniq('nobody')}@example.com`);
    assert.equal(asked.status, 204);
    assert.deepEqual([asked.status, asked.text], [unknown.status, unknown.text]);
    const before = (await h.readMaildir(d.maildir)).filter(h.mailTo(user.email)).length;
    assert.equal((await requestReset(control.email)).status, 204);
    await h.waitForMail(d.maildir, (m) => h.mailTo(control.email)(m) && h.extractResetLink(m.text) !== null);
    await h.waitOutboxSettled(d);
    assert.equal((await h.readMaildir(d.maildir)).filter(h.mailTo(user.email)).length, before, 'no mail to a disabled user');

    // Disabling again changes nothing and records nothing.
    await d.cli(['user', 'disable', '--project', project.id, user.id]);
    assert.equal((await events(project, 'user_disabled')).length, 1);

    // Enabled by id: sign-in works again; what was revoked stays revoked.
    const enabled = await d.cli(['user', 'enable', '--project', project.id, user.id]);
    assert.equal(enabled.disabled, false);
    const fresh = tokenOf(await login(user));
    assert.equal((await me(fresh)).status, 200);
    assert.equal((await me(session)).status, 401, 'the old session stays dead');
    const stale = await h.request(`${d.url}/password/reset/confirm?${q}`, {
      method: 'POST', body: { reset_code: link.reset_code, user_id: user.id, new_password: newPassword() },
    });
    assert.equal(stale.status, 404, `the old link stays dead: ${show(stale)}`);
    const auth = await wos.userManagement.authenticateWithPassword({ email: user.email, password: user.password, clientId });
    h.registerSecret(auth.accessToken);
    h.registerSecret(auth.refreshToken);
    assert.equal(auth.user.email, user.email);

    const disabledEvents = await events(project, 'user_disabled');
    const enabledEvents = await events(project, 'user_enabled');
    assert.equal(enabledEvents.length, 1);
    assert.equal(disabledEvents[0].subject, enabledEvents[0].subject, 'both name the same account');
    assert.match(disabledEvents[0].subject, /^[0-9a-f]{32}$/);

    // Users are looked up in the named project only.
    const other = await d.cli(['project', 'create', '--name', uniq('other')]);
    await cliFails(d, ['user', 'disable', '--project', other.id, user.email], /exit/, 'another project');
    await cliFails(d, ['user', 'disable', '--project', project.id, `${uniq('nobody')}@example.com`], /exit/, 'an unknown user');
    await cliFails(d, ['user', 'enable', '--project', crypto.randomUUID(), user.id], /exit/, 'an unknown project');
    await cliFails(d, ['user', 'disable', '--project', project.id], /exit/, 'no user named');
  });
});
