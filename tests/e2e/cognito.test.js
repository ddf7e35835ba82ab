'use strict';
// Black-box tests of resetd's Cognito dialect: the real binary, its CLI, its
// Maildir output, raw AWS JSON 1.1 over HTTP, and the official
// @aws-sdk/client-cognito-identity-provider pointed at resetd.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)
//
// The SDK retries LimitExceededException, TooManyRequestsException and 5xx
// (3 attempts in all): every client here has maxAttempts: 1, so counts of
// wrong tries are exact, except where a test asks for the retries.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');

const TEST_TIMEOUT = 90000;
const TARGET = 'AWSCognitoIdentityProviderService.';
const AMZ_JSON = 'application/x-amz-json-1.1';
const DESTINATION_RE = /^\S\*\*\*@\S\*\*\*$/u;

const daemons = []; // every daemon this file starts, for the log check at the end
const secrets = h.secrets; // checked against every daemon's log by the harness too // passwords and codes used here: never to be logged

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

async function newProject(d, extraArgs = []) {
  return d.cli(['project', 'create', '--name', uniq('proj'), '--delivery', 'code', ...extraArgs]);
}

async function newUser(d, project, { username } = {}) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const args = ['user', 'create', '--project', project.id, '--email', email, '--password-stdin'];
  if (username) args.push('--username', username);
  const user = await d.cli(args, { input: password });
  return { ...user, email, password };
}

async function newClient(d, project, { secret = false, reveal = false } = {}) {
  const args = ['client', 'create', '--project', project.id];
  if (secret) args.push('--secret');
  if (reveal) args.push('--reveal-user-existence');
  const c = await d.cli(args);
  if (c.client_secret) secrets.add(c.client_secret);
  return c;
}

function sdk(d, { maxAttempts = 1 } = {}) {
  return new CognitoIdentityProviderClient({
    region: 'us-east-1',
    endpoint: d.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts,
  });
}

function secretHash(secret, username, clientId) {
  return crypto.createHmac('sha256', secret).update(username + clientId).digest('base64');
}

// Waits for a code mail to email (skipping files in `skip`); returns {mail, code}.
async function codeMail(d, email, { skip = new Set() } = {}) {
  const mail = await h.waitForMail(
    d.maildir,
    (m) => !skip.has(m.file) && h.mailTo(email)(m) && h.extractResetCode(m.text) !== null
  );
  const code = h.extractResetCode(mail.text);
  secrets.add(code);
  return { mail, code };
}

async function mailsTo(d, email) {
  return (await h.readMaildir(d.maildir)).filter(h.mailTo(email));
}

// A code that is not `code` (and, when given, none of `avoid`).
function wrongCode(code, avoid = []) {
  for (;;) {
    const c = String(crypto.randomInt(0, 1000000)).padStart(6, '0');
    if (c !== code && !avoid.includes(c)) return c;
  }
}

// Raw AWS JSON 1.1 call; body is an object (JSON-encoded) or a string.
function raw(d, op, body, { headers = {}, target } = {}) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    headers: {
      'Content-Type': AMZ_JSON,
      'X-Amz-Target': target === undefined ? TARGET + op : target,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

// Cognito's error: {"__type": name, "message"}, the name also in x-amzn-ErrorType.
function assertCognitoError(res, status, type, what) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(res.json, `${what}: not JSON: ${show(res)}`);
  assert.equal(res.json.__type, type, `${what}: ${show(res)}`);
  assert.equal(typeof res.json.message, 'string', `${what}: message must be a string`);
  assert.equal(res.headers['x-amzn-errortype'], `${type}:`, `${what}: x-amzn-ErrorType`);
  assert.equal(res.headers['x-amzn-errormessage'], res.json.message, `${what}: x-amzn-ErrorMessage`);
  assert.match(res.headers['content-type'] || '', /^application\/x-amz-json-1\.1/, `${what}: content type`);
}

// Runs an SDK command that must throw the named exception; returns the error.
async function expectException(promise, name, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected ${name}, but the call succeeded`);
  assert.equal(err.name, name, `${what}: expected ${name}, got ${err.name}: ${err.message}`);
  return err;
}

function forgot(client, clientId, username, extra = {}) {
  return client.send(new ForgotPasswordCommand({ ClientId: clientId, Username: username, ...extra }));
}

function confirm(client, clientId, username, code, password, extra = {}) {
  return client.send(
    new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: username, ConfirmationCode: code, Password: password, ...extra })
  );
}

// Login through a dialect that has one: Xsolla's POST /login.
function xsollaLogin(d, project, username, password) {
  return h.request(`${d.url}/login?projectId=${project.id}`, { method: 'POST', body: { username, password } });
}

// ---------------------------------------------------------------------------

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('cognito dialect', () => {
  let d; // one daemon shared by the tests below; they keep apart through their own projects

  before(async () => {
    d = await startDaemon();
  });

  after(async () => {
    for (const x of daemons) {
      if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
    }
  });

  it('the official SDK: ForgotPassword mails a code, ConfirmForgotPassword spends it, login works', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project, { username: uniq('name') });
    const client = await newClient(d, project);
    const c = sdk(d);

    const out = await forgot(c, client.client_id, user.email);
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.$metadata.requestId || '', /^[0-9A-Z]{26}$/, 'requestId comes from x-amzn-RequestId');
    assert.deepEqual(out.CodeDeliveryDetails, { Destination: 'u***@e***', DeliveryMedium: 'EMAIL', AttributeName: 'email' });

    const { mail, code } = await codeMail(d, user.email);
    assert.match(code, /^\d{6}$/);
    assert.match(mail.subject, /code/i);
    assert.match(mail.text, /expires in 60 minutes/, 'the mail states the lifetime');
    // The only link in a code mail is its "this wasn't me" cancel link.
    const links = mail.text.match(/https?:\/\/\S+/g) || [];
    assert.ok(links.every((l) => /\/reset\/cancel\?id=/.test(l)), `a code mail carries no reset link: ${links}`);
    assert.equal(links.length, 1, 'a code mail carries its cancel link');

    // typed by username, the answer shows the one fixed mask, as for nobody
    const byName = await forgot(c, client.client_id, user.username);
    assert.equal(byName.CodeDeliveryDetails.Destination, '****@****');
    const { code: code2 } = await codeMail(d, user.email, { skip: new Set([mail.file]) });

    // the newer request killed the older code
    await expectException(confirm(c, client.client_id, user.email, code, newPassword()), 'CodeMismatchException', 'the older code');

    const pass = newPassword();
    const done = await confirm(c, client.client_id, user.email, code2, pass);
    assert.equal(done.$metadata.httpStatusCode, 200);

    const ok = await xsollaLogin(d, project, user.email, pass);
    assert.equal(ok.status, 200, `login with the new password: ${show(ok)}`);
    secrets.add(ok.json.token);
    const old = await xsollaLogin(d, project, user.email, user.password);
    assert.equal(old.status, 401, `the old password no longer works: ${show(old)}`);

    await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && /password was changed/i.test(m.subject));

    // spent once, ever
    await expectException(confirm(c, client.client_id, user.email, code2, newPassword()), 'CodeMismatchException', 'a spent code');
  });

  it('a wrong code is CodeMismatchException; after 5 the right code is LimitExceededException', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const c = sdk(d);

    await forgot(c, client.client_id, user.email);
    const { mail, code } = await codeMail(d, user.email);
    const tried = [];
    for (let i = 0; i < 5; i++) {
      const w = wrongCode(code, tried);
      tried.push(w);
      const err = await expectException(confirm(c, client.client_id, user.email, w, newPassword()), 'CodeMismatchException', `wrong code ${i + 1}`);
      assert.equal(err.$metadata.httpStatusCode, 400);
      assert.equal(err.$metadata.attempts, 1);
    }
    const err = await expectException(
      confirm(c, client.client_id, user.email, code, newPassword()),
      'LimitExceededException',
      'the right code after 5 wrong ones'
    );
    assert.equal(err.$metadata.httpStatusCode, 400);
    await expectException(confirm(c, client.client_id, user.email, wrongCode(code), newPassword()), 'LimitExceededException', 'a wrong code after 5');
    const still = await xsollaLogin(d, project, user.email, user.password);
    assert.equal(still.status, 200, `nothing changed: ${show(still)}`);
    secrets.add(still.json.token);

    // a new code works again (5 wrong tries this hour is under the account cap)
    await forgot(c, client.client_id, user.email);
    const { code: fresh } = await codeMail(d, user.email, { skip: new Set([mail.file]) });
    const pass = newPassword();
    await confirm(c, client.client_id, user.email, fresh, pass);
    const ok = await xsollaLogin(d, project, user.email, pass);
    assert.equal(ok.status, 200, `login after a fresh code: ${show(ok)}`);
    secrets.add(ok.json.token);
  });

  it('10 wrong tries per account per hour: the next code is LimitExceededException, even with SDK retries', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const c = sdk(d);
    const seen = new Set();

    for (let round = 0; round < 2; round++) {
      await forgot(c, client.client_id, user.email);
      const { mail, code } = await codeMail(d, user.email, { skip: seen });
      seen.add(mail.file);
      for (let i = 0; i < 5; i++) {
        await expectException(confirm(c, client.client_id, user.email, wrongCode(code), newPassword()), 'CodeMismatchException', `round ${round}, try ${i}`);
      }
    }
    await forgot(c, client.client_id, user.email);
    const { code } = await codeMail(d, user.email, { skip: seen });
    const err = await expectException(
      confirm(c, client.client_id, user.email, code, newPassword()),
      'LimitExceededException',
      'the right code of a third request'
    );
    assert.equal(err.$metadata.httpStatusCode, 400);

    // The SDK retries LimitExceededException; the retries are refused too and
    // count nothing.
    const retrying = sdk(d, { maxAttempts: 3 });
    const err3 = await expectException(confirm(retrying, client.client_id, user.email, code, newPassword()), 'LimitExceededException', 'with retries');
    assert.equal(err3.$metadata.attempts, 3);
    const still = await xsollaLogin(d, project, user.email, user.password);
    assert.equal(still.status, 200, `nothing changed: ${show(still)}`);
    secrets.add(still.json.token);
  });

  it('an expired code is ExpiredCodeException; a weak password is InvalidPasswordException', { timeout: TEST_TIMEOUT }, async () => {
    // A code that lives 1 s, on a daemon whose clock then moves 2 s on.
    const fd = await h.startDaemon({ fakeClock: true });
    try {
      const short = await newProject(fd, ['--token-ttl', '1']);
      const user = await newUser(fd, short);
      const client = await newClient(fd, short);
      const fc = sdk(fd);

      await forgot(fc, client.client_id, user.email);
      const { code } = await codeMail(fd, user.email);
      fd.advanceClock(2);
      await expectException(confirm(fc, client.client_id, user.email, code, newPassword()), 'ExpiredCodeException', 'the right code, too late');
      // a wrong code after expiry says only that it is wrong
      await expectException(confirm(fc, client.client_id, user.email, wrongCode(code), newPassword()), 'CodeMismatchException', 'a wrong code, too late');
    } finally {
      await fd.stop();
    }

    const c = sdk(d);
    const project = await newProject(d);
    const other = await newUser(d, project);
    const client2 = await newClient(d, project);
    await forgot(c, client2.client_id, other.email);
    const { code: code2 } = await codeMail(d, other.email);
    const err = await expectException(confirm(c, client2.client_id, other.email, code2, 'short'), 'InvalidPasswordException', 'a 5-character password');
    assert.match(err.message, /not long enough/);
    // the policy is checked first: the code was not spent, nor counted
    const pass = newPassword();
    await confirm(c, client2.client_id, other.email, code2, pass);
    const ok = await xsollaLogin(d, project, other.email, pass);
    assert.equal(ok.status, 200, show(ok));
    secrets.add(ok.json.token);
  });

  it('SecretHash: required and checked for a client with a secret; an unknown ClientId is ResourceNotFoundException', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project, { secret: true });
    assert.ok(client.client_secret, 'client create --secret prints the secret');
    const c = sdk(d);
    const id = client.client_id;

    const missing = await expectException(forgot(c, id, user.email), 'NotAuthorizedException', 'no SecretHash');
    assert.equal(missing.$metadata.httpStatusCode, 400);
    await expectException(forgot(c, id, user.email, { SecretHash: secretHash('not-the-secret', user.email, id) }), 'NotAuthorizedException', 'wrong SecretHash');
    // the hash binds the username
    await expectException(
      forgot(c, id, user.email, { SecretHash: secretHash(client.client_secret, 'someone-else@example.com', id) }),
      'NotAuthorizedException',
      'SecretHash of another username'
    );
    await h.waitOutboxSettled(d);
    assert.deepEqual(await mailsTo(d, user.email), [], 'refused requests send no mail');

    const good = secretHash(client.client_secret, user.email, id);
    await forgot(c, id, user.email, { SecretHash: good, ClientMetadata: { source: 'test' }, UserContextData: { IpAddress: '192.0.2.1' } });
    const { code } = await codeMail(d, user.email);
    await expectException(confirm(c, id, user.email, code, newPassword()), 'NotAuthorizedException', 'confirm without SecretHash');
    const pass = newPassword();
    await confirm(c, id, user.email, code, pass, { SecretHash: good });
    const ok = await xsollaLogin(d, project, user.email, pass);
    assert.equal(ok.status, 200, show(ok));
    secrets.add(ok.json.token);

    const unknown = await expectException(forgot(c, 'client_01NOSUCHCLIENT0000000000000', user.email), 'ResourceNotFoundException', 'unknown ClientId');
    assert.equal(unknown.$metadata.httpStatusCode, 400);
    await expectException(confirm(c, 'nope', user.email, '123456', newPassword()), 'ResourceNotFoundException', 'unknown ClientId on confirm');
  });

  it('existence errors prevented: an unknown user answers exactly like a known one', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const known = await newUser(d, project);
    const client = await newClient(d, project);
    const c = sdk(d);
    const ghost = `${uniq('ghost')}@example.com`;

    // raw HTTP: same status, same body shape, same header names
    const a = await h.rawRequest(`${d.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` },
      body: JSON.stringify({ ClientId: client.client_id, Username: known.email }),
    });
    const b = await h.rawRequest(`${d.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` },
      body: JSON.stringify({ ClientId: client.client_id, Username: ghost }),
    });
    assert.equal(a.status, 200, show(a));
    assert.equal(b.status, a.status);
    assert.deepEqual(Object.keys(b.headers).sort(), Object.keys(a.headers).sort(), 'same header names');
    for (const name of ['content-type', 'content-length', 'x-content-type-options', 'connection']) {
      assert.equal(b.headers[name], a.headers[name], `same ${name}`);
    }
    assert.equal(a.headers['x-amzn-requestid'], a.headers['x-request-id'], 'x-amzn-RequestId is the request id');
    assert.equal(b.headers['x-amzn-requestid'], b.headers['x-request-id']);
    assert.deepEqual(Object.keys(b.json), ['CodeDeliveryDetails']);
    assert.deepEqual(Object.keys(b.json.CodeDeliveryDetails), Object.keys(a.json.CodeDeliveryDetails));
    assert.equal(b.json.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
    assert.equal(b.json.CodeDeliveryDetails.AttributeName, 'email');
    assert.match(a.json.CodeDeliveryDetails.Destination, DESTINATION_RE);
    assert.match(b.json.CodeDeliveryDetails.Destination, DESTINATION_RE);
    assert.equal(b.text.length, a.text.length, 'same body length');

    // a username, real or not: one fixed mask (docs/dialects/velocity-cognito.md)
    const named = await newUser(d, project, { username: uniq('jroe') });
    for (const who of ['Nobody-Here', 'nobody-here', named.username, named.username.toUpperCase(), 'x@', '@example.org']) {
      const s = await forgot(c, client.client_id, who);
      assert.equal(s.CodeDeliveryDetails.Destination, '****@****', who);
    }
    await codeMail(d, named.email);

    // the ghost's confirm behaves like a real account's: mismatches, then the cap
    for (let i = 0; i < 5; i++) {
      await expectException(confirm(c, client.client_id, ghost, wrongCode(''), newPassword()), 'CodeMismatchException', `ghost try ${i}`);
    }
    await expectException(confirm(c, client.client_id, ghost, wrongCode(''), newPassword()), 'LimitExceededException', 'ghost after 5');
    // and an account with no code at all looks like one with a wrong code
    const idle = await newUser(d, project);
    await expectException(confirm(c, client.client_id, idle.email, '123456', newPassword()), 'CodeMismatchException', 'known user, no code');
    await expectException(confirm(c, client.client_id, `${uniq('nobody')}@example.com`, '123456', newPassword()), 'CodeMismatchException', 'unknown user, no code');

    await codeMail(d, known.email);
    await h.waitOutboxSettled(d);
    assert.deepEqual(await mailsTo(d, ghost), [], 'nothing is mailed to an unknown address');
  });

  it('a client that reveals existence: UserNotFoundException, and ExpiredCodeException without a code', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project, { reveal: true });
    assert.equal(client.prevent_user_existence_errors, false);
    const c = sdk(d);

    const e1 = await expectException(forgot(c, client.client_id, `${uniq('ghost')}@example.com`), 'UserNotFoundException', 'forgot, unknown');
    assert.equal(e1.$metadata.httpStatusCode, 400);
    await expectException(confirm(c, client.client_id, `${uniq('ghost')}@example.com`, '123456', newPassword()), 'UserNotFoundException', 'confirm, unknown');
    await expectException(confirm(c, client.client_id, user.email, '123456', newPassword()), 'ExpiredCodeException', 'known user, no code requested');
    await forgot(c, client.client_id, user.email);
    const { code } = await codeMail(d, user.email);
    await expectException(confirm(c, client.client_id, user.email, wrongCode(code), newPassword()), 'CodeMismatchException', 'known user, wrong code');
    await confirm(c, client.client_id, user.email, code, newPassword());
  });

  it('20 concurrent confirms of one code: exactly one succeeds', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const c = sdk(d);

    await forgot(c, client.client_id, user.email);
    const { code } = await codeMail(d, user.email);
    const passwords = Array.from({ length: 20 }, () => newPassword());
    const results = await Promise.allSettled(passwords.map((p) => confirm(c, client.client_id, user.email, code, p)));
    const winners = results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one success expected: ${results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.name)).join(',')}`);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal(r.reason.name, 'CodeMismatchException', `a losing confirm: ${r.reason.message}`);
    }
    const ok = await xsollaLogin(d, project, user.email, passwords[winners[0]]);
    assert.equal(ok.status, 200, `the winning password logs in: ${show(ok)}`);
    secrets.add(ok.json.token);
  });

  it('wire protocol: unknown targets, malformed bodies, validation, request ids, CORS', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const client = await newClient(d, project);

    for (const target of [`${TARGET}AdminNoSuchThing`, `${TARGET}NoSuchThing`, 'SomethingElse.ForgotPassword']) {
      assertCognitoError(await raw(d, null, {}, { target }), 400, 'UnknownOperationException', target);
    }
    const none = await h.request(`${d.url}/`, { method: 'POST', headers: { 'Content-Type': AMZ_JSON }, body: '{}' });
    assertCognitoError(none, 400, 'UnknownOperationException', 'no X-Amz-Target');

    assertCognitoError(await raw(d, 'ForgotPassword', '{"ClientId": "x",'), 400, 'SerializationException', 'malformed JSON');
    assertCognitoError(await raw(d, 'ForgotPassword', '[1, 2]'), 400, 'SerializationException', 'not an object');
    assertCognitoError(await raw(d, 'ForgotPassword', { ClientId: client.client_id, Username: 42 }), 400, 'SerializationException', 'a number for Username');
    const missing = await raw(d, 'ForgotPassword', { ClientId: client.client_id });
    assertCognitoError(missing, 400, 'InvalidParameterException', 'no Username');
    assert.match(missing.json.message, /'username'.*must not be null/);
    assertCognitoError(await raw(d, 'ForgotPassword', ''), 400, 'InvalidParameterException', 'empty body');
    assertCognitoError(await raw(d, 'ForgotPassword', { ClientId: client.client_id, Username: '' }), 400, 'InvalidParameterException', 'empty Username');
    assertCognitoError(
      await raw(d, 'ConfirmForgotPassword', { ClientId: client.client_id, Username: 'a@example.com', ConfirmationCode: '123456' }),
      400, 'InvalidParameterException', 'no Password'
    );
    assertCognitoError(await raw(d, 'ForgotPassword', { ClientId: 'c'.repeat(129), Username: 'a' }), 400, 'InvalidParameterException', 'ClientId too long');

    // the SDKs send application/x-amz-json-1.1; application/json is taken too
    const asJson = await raw(d, 'ForgotPassword', { ClientId: client.client_id, Username: 'x@example.com' }, { headers: { 'Content-Type': 'application/json' } });
    assert.equal(asJson.status, 200, show(asJson));
    assert.equal(asJson.headers['content-type'], AMZ_JSON);
    assert.equal(asJson.headers['x-amzn-requestid'], asJson.headers['x-request-id']);

    // an oversized body is a parameter error, and the daemon lives on
    const big = JSON.stringify({ ClientId: client.client_id, Username: 'x'.repeat(200 * 1024) });
    const res = await h.rawRequest(`${d.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` },
      body: big,
    });
    assertCognitoError(res, 400, 'InvalidParameterException', 'oversized body');
    assert.ok(d.running(), 'the daemon must still run');

    // browser clients: preflight, and CORS on answers
    const pre = await h.request(`${d.url}/`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:3999',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-amz-target,x-amz-user-agent,cache-control',
      },
    });
    assert.equal(pre.status, 204, show(pre));
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    const allowed = (pre.headers['access-control-allow-headers'] || '').toLowerCase();
    for (const name of ['content-type', 'x-amz-target', 'x-amz-user-agent', 'cache-control']) {
      assert.ok(allowed.includes(name), `preflight allows ${name}: "${allowed}"`);
    }
    const cors = await raw(d, 'ForgotPassword', { ClientId: client.client_id, Username: 'x@example.com' }, { headers: { Origin: 'http://localhost:3999' } });
    assert.equal(cors.headers['access-control-allow-origin'], '*');
    assert.match(cors.headers['access-control-expose-headers'] || '', /x-amzn-RequestId/i);
  });

  it('log hygiene: logs are JSON lines and hold no password or code', { timeout: TEST_TIMEOUT }, async () => {
    for (const x of daemons) await x.stop();
    assert.ok(secrets.size > 0);
    for (const x of daemons) {
      for (const line of [...x.stderrLines, ...x.stdoutLines]) {
        if (line.trim() === '') continue;
        let entry;
        assert.doesNotThrow(() => (entry = JSON.parse(line)), `log line is not JSON: ${line.slice(0, 300)}`);
        // Times, request ids and durations may hold six digits by chance.
        const { ts, request_id, duration_ms, ...rest } = entry; // eslint-disable-line no-unused-vars
        const text = JSON.stringify(rest);
        for (const s of secrets) {
          const found = /^\d{6}$/.test(s) ? new RegExp(`\\b${s}\\b`).test(text) : text.includes(s);
          assert.ok(!found, `a secret appears in the daemon log: ${line.slice(0, 300)}`);
        }
      }
    }
  });
});
