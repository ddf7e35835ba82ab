'use strict';
// Black-box tests of the per-project password profiles (nist, cognito,
// xsolla) and their switches, through the vendors' official SDKs: each
// profile takes the vendor's documented examples and refuses what the
// vendor refuses, in the dialect's own words.
// Run: node --test tests/e2e/policy.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { makeXsollaApi } = require('./lib/xsolla-sdk');
const {
  CognitoIdentityProviderClient,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');
const { WorkOS } = require('workos8');

const TEST_TIMEOUT = 120000;
const PAGE_ORIGIN = 'http://localhost:3999';
const CALLBACK_URL = 'http://localhost:3999/cb';

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('password profiles', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  async function newUser(project, password = `Calm ${crypto.randomBytes(9).toString('base64url')} Harbour 9!`) {
    const email = `${uniq('user')}@example.com`;
    h.registerSecret(password);
    const u = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    return { ...u, email, password };
  }

  function cognito() {
    return new CognitoIdentityProviderClient({
      region: 'us-east-1',
      endpoint: d.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  }

  // Asks a code for user through the AWS SDK; returns it.
  async function cognitoCode(client, user) {
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
    await cognito().send(new ForgotPasswordCommand({ ClientId: client, Username: user.email }));
    const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(user.email)(m)
      && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    h.registerSecret(code);
    return code;
  }

  it('cognito: Cognito\'s default policy takes Passw0rd!, Summer2024!, Password1! and refuses in Cognito\'s words', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('cognito'), '--delivery', 'code', '--password-policy', 'cognito']);
    assert.equal(project.password_policy.profile, 'cognito');
    assert.deepEqual(project.password_policy.require, ['uppercase', 'lowercase', 'numbers', 'symbols']);
    assert.equal(project.password_policy.min_length, 8);
    assert.equal(project.password_policy.lists, false);
    assert.equal(project.password_policy.score, false);
    const client = (await d.cli(['client', 'create', '--project', project.id])).client_id;
    const refusals = [
      ['passw0rd!', 'Password must have uppercase characters'],
      ['PASSW0RD!', 'Password must have lowercase characters'],
      ['Password!', 'Password must have numeric characters'],
      ['Password1', 'Password must have symbol characters'],
      ['Pw0rd!', 'Password not long enough'],
    ];
    for (const pw of ['Passw0rd!', 'Summer2024!', 'Password1!']) {
      h.registerSecret(pw);
      const user = await newUser(project);
      const code = await cognitoCode(client, user);
      for (const [bad, words] of refusals) {
        await assert.rejects(
          cognito().send(new ConfirmForgotPasswordCommand({ ClientId: client, Username: user.email, ConfirmationCode: code, Password: bad })),
          (err) => {
            assert.equal(err.name, 'InvalidPasswordException', `${bad}: ${err.name}: ${err.message}`);
            assert.equal(err.message, `Password did not conform with policy: ${words}`);
            assert.equal(err.$metadata.httpStatusCode, 400);
            return true;
          }
        );
      }
      await cognito().send(new ConfirmForgotPasswordCommand({ ClientId: client, Username: user.email, ConfirmationCode: code, Password: pw }));
    }
    // The control and format characters stay refused under every profile.
    const user = await newUser(project);
    const code = await cognitoCode(client, user);
    await assert.rejects(
      cognito().send(new ConfirmForgotPasswordCommand({ ClientId: client, Username: user.email, ConfirmationCode: code, Password: 'Passw0rd!\u200b' })),
      (err) => err.name === 'InvalidPasswordException' && /characters that are not allowed/.test(err.message)
    );
    // A space inside counts as a symbol, as Cognito counts it.
    h.registerSecret('Pass w0rdx');
    await cognito().send(new ConfirmForgotPasswordCommand({ ClientId: client, Username: user.email, ConfirmationCode: code, Password: 'Pass w0rdx' }));
  });

  it('xsolla: 6 to 100 characters, password1230 taken, refusals in Xsolla\'s codes, through the SDK', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('xsolla'), '--callback-url', CALLBACK_URL,
      '--allowed-origin', PAGE_ORIGIN, '--password-policy', 'xsolla']);
    assert.equal(project.password_policy.profile, 'xsolla');
    assert.equal(project.password_policy.min_length, 6);
    assert.equal(project.password_policy.max_length, 100);
    const sdk = makeXsollaApi({ projectId: project.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN });
    try {
      const takes = async (pw, refusals) => {
        h.registerSecret(pw);
        const user = await newUser(project);
        const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
        await sdk.api.reset({ username: user.email });
        const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(user.email)(m)
          && h.extractResetLink(m.text) !== null);
        const link = h.extractResetLink(mail.text);
        h.registerSecret(link.reset_code);
        for (const [bad, code] of refusals) {
          await assert.rejects(
            sdk.api.set({ newPassword: bad, code: link.reset_code, user_id: link.user_id }),
            (err) => {
              assert.ok(err instanceof sdk.APIError, `SDK must throw APIError, got ${err && err.name}: ${err && err.message}`);
              assert.equal(String(err.code), code, `${bad.slice(0, 20)}...`);
              return true;
            }
          );
        }
        await sdk.api.set({ newPassword: pw, code: link.reset_code, user_id: link.user_id });
        const res = await sdk.api.login({ credentials: { username: user.email, password: pw } });
        assert.ok(res.login_url.startsWith(`${CALLBACK_URL}?token=`));
        h.registerSecret(new URL(res.login_url).searchParams.get('token'));
      };
      // Xsolla's own documented sample, then 6 characters and exactly 100.
      await takes('password1230', [['x'.repeat(101), '0'], ['abcde', '0'], ['abc\u200bdef', '900-003']]);
      await takes('qwerty', []);
      await takes('y'.repeat(100), []);
    } finally {
      sdk.close();
    }
    // The raw answer: 400, code 0, details naming new_password.
    const user = await newUser(project);
    await h.request(`${d.url}/password/reset/request?projectId=${project.id}`, { method: 'POST', body: { username: user.email } });
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && h.extractResetLink(m.text) !== null);
    const link = h.extractResetLink(mail.text);
    h.registerSecret(link.reset_code);
    const res = await h.request(`${d.url}/password/reset/confirm?projectId=${project.id}`, {
      method: 'POST', body: { reset_code: link.reset_code, user_id: link.user_id, new_password: 'z'.repeat(101) },
    });
    assert.equal(res.status, 400, show(res));
    assert.equal(res.json.error.code, 0);
    assert.equal(res.json.error.details.rule, 'max_length');
    assert.equal(res.json.error.details.max_length, 100);
    assert.equal(res.json.error.details.new_password, 'too long');
  });

  it('nist stays the default; project update switches rules one by one', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('nist')]);
    assert.deepEqual(project.password_policy, {
      profile: 'nist', min_length: 8, max_length: 256, lists: true, score: true, min_score: 2, require: [],
    });
    const create = (pw) => d.cli(['user', 'create', '--project', project.id, '--email', `${uniq('u')}@example.com`, '--password-stdin'], { input: pw });
    await assert.rejects(create('password1230'), /common|guess/);
    await assert.rejects(create('Passw0rd!'), /common|guess/);

    // Lists and score off, minimum down to 6: what Xsolla takes, nist bounds.
    const off = await d.cli(['project', 'update', project.id, '--password-lists', 'off', '--password-score', 'off', '--password-min-length', '6']);
    assert.equal(off.password_policy.profile, 'nist');
    assert.equal(off.password_policy.lists, false);
    assert.equal(off.password_policy.score, false);
    assert.equal(off.password_policy.min_length, 6);
    await create('password1230');
    await create('qwerty');
    await assert.rejects(create('qwert'), /too short/);
    await assert.rejects(create('qwerty\u202e'), /not allowed/);

    // Cognito's classes, switched on alone.
    const req = await d.cli(['project', 'update', project.id, '--password-require', 'uppercase,symbols']);
    assert.deepEqual(req.password_policy.require, ['uppercase', 'symbols']);
    await assert.rejects(create('qwerty!'), /uppercase/);
    await create('Qwerty!');

    // A profile starts over from its defaults.
    const back = await d.cli(['project', 'update', project.id, '--password-policy', 'cognito', '--password-min-length', '12']);
    assert.equal(back.password_policy.min_length, 12);
    assert.deepEqual(back.password_policy.require, ['uppercase', 'lowercase', 'numbers', 'symbols']);
    const shown = await d.cli(['project', 'show', project.id]);
    assert.deepEqual(shown.password_policy, back.password_policy);

    // Out of range or unknown: refused, nothing changed.
    await assert.rejects(d.cli(['project', 'update', project.id, '--password-min-length', '5']), /6 to 99/);
    await assert.rejects(d.cli(['project', 'update', project.id, '--password-min-length', '100']), /6 to 99/);
    await assert.rejects(d.cli(['project', 'update', project.id, '--password-policy', 'fort-knox']), /nist, cognito or xsolla/);
    await assert.rejects(d.cli(['project', 'update', project.id, '--password-require', 'emoji']), /uppercase/);
    await assert.rejects(d.cli(['project', 'create', '--name', uniq('x'), '--password-policy', 'xsolla', '--password-min-length', '101']), /6 to 100/);
    assert.deepEqual((await d.cli(['project', 'show', project.id])).password_policy, back.password_policy);
  });

  it('workos: a class refusal is password_too_weak saying which class', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('wos'), '--password-policy', 'cognito']);
    const key = (await d.cli(['apikey', 'create', '--project', project.id])).key;
    h.registerSecret(key);
    const user = await newUser(project, 'Start1ng!point');
    const wos = new WorkOS(key, { apiHostname: '127.0.0.1', port: d.port, https: false });
    const reset = await wos.userManagement.createPasswordReset({ email: user.email });
    h.registerSecret(reset.passwordResetToken);
    await assert.rejects(
      wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: 'nouppercase1!' }),
      (err) => {
        assert.equal(err.status, 400, `${err.name}: ${err.message}`);
        assert.equal(err.errors[0].code, 'password_too_weak');
        assert.equal(err.errors[0].message, 'Password must have uppercase characters.');
        return true;
      }
    );
    h.registerSecret('Passw0rd!');
    const done = await wos.userManagement.resetPassword({ token: reset.passwordResetToken, newPassword: 'Passw0rd!' });
    assert.equal(done.user.email, user.email);
  });
});
