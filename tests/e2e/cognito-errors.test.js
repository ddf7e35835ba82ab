'use strict';
// Black-box tests of Cognito's errors as the real service gives them,
// through the official AWS SDK v3: HTTP 400 for client errors, the
// x-amzn-ErrorType header with its trailing colon and x-amzn-ErrorMessage,
// LimitExceededException for the 6th wrong code and, for clients that
// reveal user existence only, over the account's request cap, and
// ExpiredCodeException for a spent or replaced code when existence is
// revealed. Clients that prevent existence errors stay silent.
// Run: node --test tests/e2e/cognito-errors.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');

const TEST_TIMEOUT = 120000;
const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = 'AWSCognitoIdentityProviderService.';

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

function wrongCode(code, avoid = []) {
  for (;;) {
    const c = String(crypto.randomInt(0, 1000000)).padStart(6, '0');
    if (c !== code && !avoid.includes(c)) return c;
  }
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('Cognito errors as the real service gives them', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  const sdk = (maxAttempts = 1) => new CognitoIdentityProviderClient({
    region: 'us-east-1', endpoint: d.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts,
  });

  async function setup({ reveal = false, extra = [] } = {}) {
    const project = await d.cli(['project', 'create', '--name', uniq('p'), '--delivery', 'code', ...extra]);
    const args = ['client', 'create', '--project', project.id];
    if (reveal) args.push('--reveal-user-existence');
    const client = (await d.cli(args)).client_id;
    const email = `${uniq('user')}@example.com`;
    await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: newPassword() });
    return { project, client, email };
  }

  const forgot = (t, c = sdk()) => c.send(new ForgotPasswordCommand({ ClientId: t.client, Username: t.email }));
  const confirm = (t, code, c = sdk()) => c.send(new ConfirmForgotPasswordCommand({
    ClientId: t.client, Username: t.email, ConfirmationCode: code, Password: newPassword(),
  }));

  async function mailFiles(email) {
    return (await h.readMaildir(d.maildir)).filter(h.mailTo(email)).map((m) => m.file);
  }

  // Asks for a code and returns it, with the mail files seen before.
  async function newCode(t) {
    const seen = new Set(await mailFiles(t.email));
    await forgot(t);
    const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(t.email)(m)
      && h.extractResetCode(m.text) !== null);
    return h.registerSecret(h.extractResetCode(mail.text));
  }

  async function rejects(promise, name, what) {
    let err;
    try {
      await promise;
    } catch (e) {
      err = e;
    }
    assert.ok(err, `${what}: expected ${name}`);
    assert.equal(err.name, name, `${what}: ${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400, `${what}: status`);
    return err;
  }

  it('every client error is HTTP 400 with x-amzn-ErrorType "Name:" and x-amzn-ErrorMessage', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup({ reveal: true });
    await rejects(forgot({ ...t, email: `${uniq('ghost')}@example.com` }), 'UserNotFoundException', 'unknown user, revealing client');
    await rejects(forgot({ ...t, client: 'nosuchclient' }), 'ResourceNotFoundException', 'unknown client');
    const secret = await d.cli(['client', 'create', '--project', t.project.id, '--secret']);
    h.registerSecret(secret.client_secret);
    await rejects(forgot({ ...t, client: secret.client_id }), 'NotAuthorizedException', 'no SecretHash');

    const raw = await h.request(`${d.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` },
      body: JSON.stringify({ ClientId: 'nosuchclient', Username: t.email }),
    });
    assert.equal(raw.status, 400);
    assert.equal(raw.json.__type, 'ResourceNotFoundException');
    assert.equal(raw.headers['x-amzn-errortype'], 'ResourceNotFoundException:');
    assert.equal(raw.headers['x-amzn-errormessage'], raw.json.message);
  });

  it('the 6th wrong code is LimitExceededException, for revealing and preventing clients alike', { timeout: TEST_TIMEOUT }, async () => {
    for (const reveal of [false, true]) {
      const t = await setup({ reveal });
      const code = await newCode(t);
      const tried = [];
      for (let i = 0; i < 5; i++) {
        const w = wrongCode(code, tried);
        tried.push(w);
        await rejects(confirm(t, w), 'CodeMismatchException', `wrong code ${i + 1}`);
      }
      const err = await rejects(confirm(t, wrongCode(code, tried)), 'LimitExceededException', `6th wrong code, reveal=${reveal}`);
      assert.equal(err.message, 'Attempt limit exceeded, please try after some time.');
      await rejects(confirm(t, code), 'LimitExceededException', 'the right code after 5 wrong');
    }
  });

  it('over the request cap: LimitExceededException for a revealing client only; a preventing client is answered as usual', { timeout: TEST_TIMEOUT }, async () => {
    const revealing = await setup({ reveal: true, extra: ['--reset-limit', '2'] });
    await newCode(revealing);
    await newCode(revealing);
    const before = (await mailFiles(revealing.email)).length;
    assert.equal(before, 2);
    const err = await rejects(forgot(revealing), 'LimitExceededException', 'third request, revealing');
    assert.equal(err.message, 'Attempt limit exceeded, please try after some time.');
    // The SDK retries LimitExceededException: every retry is refused too.
    const retried = await rejects(forgot(revealing, sdk(3)), 'LimitExceededException', 'with retries');
    assert.equal(retried.$metadata.attempts, 3);

    const preventing = await setup({ extra: ['--reset-limit', '2'] });
    await forgot(preventing);
    await forgot(preventing);
    const third = await forgot(preventing);
    assert.equal(third.$metadata.httpStatusCode, 200);
    assert.equal(third.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
    // An unknown login of a preventing client gets the same answer.
    const ghost = { ...preventing, email: `${uniq('ghost')}@example.com` };
    for (let i = 0; i < 3; i++) assert.equal((await forgot(ghost)).$metadata.httpStatusCode, 200);
    // Nothing more went out for the capped revealing account.
    await h.waitForMail(d.maildir, h.mailTo(preventing.email));
    assert.equal((await mailFiles(revealing.email)).length, before);
  });

  it('a spent or replaced code: ExpiredCodeException when existence is revealed, CodeMismatchException otherwise', { timeout: TEST_TIMEOUT }, async () => {
    for (const reveal of [true, false]) {
      const want = reveal ? 'ExpiredCodeException' : 'CodeMismatchException';
      const t = await setup({ reveal });
      // Replaced: a second request kills the first code.
      const first = await newCode(t);
      const second = await newCode(t);
      if (first !== second) await rejects(confirm(t, first), want, `replaced code, reveal=${reveal}`);
      // Spent: the right code, once, then again.
      await confirm(t, second);
      await rejects(confirm(t, second), want, `spent code, reveal=${reveal}`);
    }
  });
});
