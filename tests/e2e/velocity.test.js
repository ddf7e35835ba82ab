'use strict';
// Black-box tests of resetd's Velocity dialect (Nelnet's REST face over
// Cognito's reset calls): POST /password/forgot and /password/forgot/confirm,
// at the root and under /authapi, with the userpoolid and appclientid headers.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
} = require('@aws-sdk/client-cognito-identity-provider');

const TEST_TIMEOUT = 90000;
const DESTINATION_RE = /^\S\*\*\*@\S\*\*\*$/u;

const daemons = [];
const secrets = h.secrets; // checked against every daemon's log by the harness too // passwords, codes and tokens used here: never to be logged

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

async function newProject(d, extraArgs = []) {
  return d.cli(['project', 'create', '--name', uniq('proj'), '--delivery', 'code', ...extraArgs]);
}

async function newUser(d, project) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
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

// A Velocity call; base is '' (root) or '/authapi'.
function call(d, path, body, { pool, client, base = '', headers = {} } = {}) {
  const hd = { ...headers };
  if (pool !== undefined) hd.userpoolid = pool;
  if (client !== undefined) hd.appclientid = client;
  return h.request(`${d.url}${base}${path}`, { method: 'POST', headers: hd, body });
}

function forgot(d, project, client, userName, opts = {}) {
  return call(d, '/password/forgot', { userName, ...(opts.extra || {}) }, { pool: project.id, client: client.client_id, ...opts });
}

function confirm(d, project, client, userName, verificationCode, newPassword_, opts = {}) {
  return call(
    d,
    '/password/forgot/confirm',
    { userName, verificationCode, newPassword: newPassword_, ...(opts.extra || {}) },
    { pool: project.id, client: client.client_id, ...opts }
  );
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

// The error envelope resetd chose: {"error": {"code": <Cognito exception>, "message"}}.
function assertVelocityError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${show(res)}`);
  assert.ok(res.json && res.json.error && typeof res.json.error === 'object', `${what}: no error envelope: ${show(res)}`);
  assert.equal(res.json.error.code, code, `${what}: ${show(res)}`);
  assert.equal(typeof res.json.error.message, 'string', `${what}: message must be a string`);
  assert.ok(res.headers['x-request-id'], `${what}: X-Request-ID`);
}

function assertForgotOk(res, userName, what) {
  assert.equal(res.status, 200, `${what}: ${show(res)}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/);
  assert.deepEqual(Object.keys(res.json), ['data'], `${what}: ${show(res)}`);
  assert.equal(res.json.data.userName, userName);
  const cd = res.json.data.codeDeliveryDetails;
  assert.ok(cd, `${what}: codeDeliveryDetails: ${show(res)}`);
  assert.deepEqual(Object.keys(cd), ['destination', 'deliveryMedium', 'attributeName']);
  assert.match(cd.destination, DESTINATION_RE);
  assert.equal(cd.deliveryMedium, 'EMAIL');
  assert.equal(cd.attributeName, 'email');
}

async function codeMail(d, email, { skip = new Set() } = {}) {
  const mail = await h.waitForMail(
    d.maildir,
    (m) => !skip.has(m.file) && h.mailTo(email)(m) && h.extractResetCode(m.text) !== null
  );
  const code = h.extractResetCode(mail.text);
  secrets.add(code);
  return { mail, code };
}

function wrongCode(code, avoid = []) {
  for (;;) {
    const c = String(crypto.randomInt(0, 1000000)).padStart(6, '0');
    if (c !== code && !avoid.includes(c)) return c;
  }
}

function xsollaLogin(d, project, username, password) {
  return h.request(`${d.url}/login?projectId=${project.id}`, { method: 'POST', body: { username, password } });
}

// ---------------------------------------------------------------------------

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('velocity dialect', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
  });

  after(async () => {
    for (const x of daemons) {
      if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
    }
  });

  for (const base of ['', '/authapi']) {
    it(`request, code mail, confirm with passwordChanged: true, login (${base || 'root'})`, { timeout: TEST_TIMEOUT }, async () => {
      const project = await newProject(d);
      const user = await newUser(d, project);
      const client = await newClient(d, project);

      const req = await forgot(d, project, client, user.email, { base });
      assertForgotOk(req, user.email, 'forgot');
      assert.equal(req.json.data.codeDeliveryDetails.destination, 'u***@e***');
      const { mail, code } = await codeMail(d, user.email);
      assert.match(mail.text, /expires in 60 minutes/);

      const pass = newPassword();
      const res = await confirm(d, project, client, user.email, code, pass, { base });
      assert.equal(res.status, 200, show(res));
      assert.deepEqual(res.json, { data: { userName: user.email, passwordChanged: true } });

      const ok = await xsollaLogin(d, project, user.email, pass);
      assert.equal(ok.status, 200, `login with the new password: ${show(ok)}`);
      secrets.add(ok.json.token);
      assertVelocityError(await confirm(d, project, client, user.email, code, newPassword(), { base }), 400, 'CodeMismatchException', 'a spent code');
    });
  }

  it('wrong codes are CodeMismatchException; after 5 the right code is LimitExceededException', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);

    assertForgotOk(await forgot(d, project, client, user.email), user.email, 'forgot');
    const { code } = await codeMail(d, user.email);
    const tried = [];
    for (let i = 0; i < 5; i++) {
      const w = wrongCode(code, tried);
      tried.push(w);
      assertVelocityError(await confirm(d, project, client, user.email, w, newPassword()), 400, 'CodeMismatchException', `wrong code ${i + 1}`);
    }
    assertVelocityError(await confirm(d, project, client, user.email, code, newPassword()), 400, 'LimitExceededException', 'the right code after 5');
    const still = await xsollaLogin(d, project, user.email, user.password);
    assert.equal(still.status, 200, show(still));
    secrets.add(still.json.token);
  });

  it('an expired code is ExpiredCodeException; a weak password is InvalidPasswordException', { timeout: TEST_TIMEOUT }, async () => {
    // A code that lives 1 s, on a daemon whose clock then moves 2 s on.
    const c = await h.startDaemon({ fakeClock: true });
    try {
      const short = await newProject(c, ['--token-ttl', '1']);
      const user = await newUser(c, short);
      const client = await newClient(c, short);
      assertForgotOk(await forgot(c, short, client, user.email), user.email, 'forgot');
      const { code } = await codeMail(c, user.email);
      c.advanceClock(2);
      assertVelocityError(await confirm(c, short, client, user.email, code, newPassword()), 400, 'ExpiredCodeException', 'too late');
    } finally {
      await c.stop();
    }

    const project = await newProject(d);
    const other = await newUser(d, project);
    const client2 = await newClient(d, project);
    assertForgotOk(await forgot(d, project, client2, other.email), other.email, 'forgot');
    const { code: code2 } = await codeMail(d, other.email);
    const weak = await confirm(d, project, client2, other.email, code2, 'short');
    assertVelocityError(weak, 400, 'InvalidPasswordException', 'weak password');
    assert.match(weak.json.error.message, /not long enough/);
  });

  it('headers and credentials: missing headers, unknown pool or client, a client of another pool, SecretHash', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const other = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const foreign = await newClient(d, other);
    const body = { userName: user.email };

    assertVelocityError(await call(d, '/password/forgot', body, { client: client.client_id }), 400, 'InvalidParameterException', 'no userpoolid');
    assertVelocityError(await call(d, '/password/forgot', body, { pool: project.id }), 400, 'InvalidParameterException', 'no appclientid');
    assertVelocityError(
      await call(d, '/password/forgot', body, { pool: crypto.randomUUID(), client: client.client_id }),
      400, 'ResourceNotFoundException', 'unknown pool'
    );
    assertVelocityError(
      await call(d, '/password/forgot', body, { pool: project.id, client: 'client_01NOSUCHCLIENT0000000000000' }),
      400, 'ResourceNotFoundException', 'unknown client'
    );
    assertVelocityError(await forgot(d, project, foreign, user.email), 400, 'ResourceNotFoundException', 'a client of another pool');
    assertVelocityError(await call(d, '/password/forgot', {}, { pool: project.id, client: client.client_id }), 400, 'InvalidParameterException', 'no userName');
    assertVelocityError(
      await call(d, '/password/forgot', '{"userName": ', { pool: project.id, client: client.client_id }),
      400, 'InvalidParameterException', 'malformed JSON'
    );
    assertVelocityError(
      await call(d, '/password/forgot/confirm', { userName: user.email, newPassword: newPassword() }, { pool: project.id, client: client.client_id }),
      400, 'InvalidParameterException', 'no verificationCode'
    );

    const secretClient = await newClient(d, project, { secret: true });
    assertVelocityError(await forgot(d, project, secretClient, user.email), 400, 'NotAuthorizedException', 'no secretHash');
    const hash = crypto.createHmac('sha256', secretClient.client_secret).update(user.email + secretClient.client_id).digest('base64');
    assertForgotOk(await forgot(d, project, secretClient, user.email, { extra: { secretHash: hash } }), user.email, 'with secretHash');
    const { code } = await codeMail(d, user.email);
    const res = await confirm(d, project, secretClient, user.email, code, newPassword(), { extra: { secretHash: hash } });
    assert.equal(res.status, 200, show(res));
  });

  it('unknown users answer like known ones; a revealing client says UserNotFoundException', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const ghost = `${uniq('ghost')}@example.com`;

    const a = await forgot(d, project, client, user.email);
    const b = await forgot(d, project, client, ghost);
    assertForgotOk(a, user.email, 'known');
    assertForgotOk(b, ghost, 'unknown');
    assert.equal(b.status, a.status);
    assert.deepEqual(Object.keys(b.headers).sort(), Object.keys(a.headers).sort(), 'same header names');
    assertVelocityError(await confirm(d, project, client, ghost, '123456', newPassword()), 400, 'CodeMismatchException', 'ghost confirm');

    const reveal = await newClient(d, project, { reveal: true });
    assertVelocityError(await forgot(d, project, reveal, ghost), 400, 'UserNotFoundException', 'forgot, revealing client');
    assertVelocityError(await confirm(d, project, reveal, ghost, '123456', newPassword()), 400, 'UserNotFoundException', 'confirm, revealing client');
    await codeMail(d, user.email);
  });

  it('shared rules: sessions revoked, email verified, caps counted across Velocity and Cognito', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    const listed = await d.cli(['user', 'list', '--project', project.id]);
    assert.equal(listed.find((u) => u.id === user.id).email_verified, false);

    const before = await xsollaLogin(d, project, user.email, user.password);
    assert.equal(before.status, 200, show(before));
    const token = before.json.token;
    secrets.add(token);
    const me = () => h.request(`${d.url}/users/me`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal((await me()).status, 200);

    // 3 wrong tries through Velocity and 2 through Cognito kill the code
    assertForgotOk(await forgot(d, project, client, user.email), user.email, 'forgot');
    const { mail, code } = await codeMail(d, user.email);
    for (let i = 0; i < 3; i++) {
      assertVelocityError(await confirm(d, project, client, user.email, wrongCode(code), newPassword()), 400, 'CodeMismatchException', `velocity try ${i}`);
    }
    const sdk = new CognitoIdentityProviderClient({
      region: 'us-east-1',
      endpoint: d.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const cognitoConfirm = (c) =>
      sdk.send(new ConfirmForgotPasswordCommand({ ClientId: client.client_id, Username: user.email, ConfirmationCode: c, Password: newPassword() }));
    for (let i = 0; i < 2; i++) {
      await assert.rejects(cognitoConfirm(wrongCode(code)), { name: 'CodeMismatchException' });
    }
    await assert.rejects(cognitoConfirm(code), { name: 'LimitExceededException' });
    assertVelocityError(await confirm(d, project, client, user.email, code, newPassword()), 400, 'LimitExceededException', 'velocity, after the cap');

    // a new code through Velocity, spent: sessions revoked, email verified, mail sent
    assertForgotOk(await forgot(d, project, client, user.email), user.email, 'forgot again');
    const { code: fresh } = await codeMail(d, user.email, { skip: new Set([mail.file]) });
    const pass = newPassword();
    const res = await confirm(d, project, client, user.email, fresh, pass);
    assert.equal(res.status, 200, show(res));
    assert.equal((await me()).status, 401, 'the old session is revoked');
    const after = await d.cli(['user', 'list', '--project', project.id]);
    assert.equal(after.find((u) => u.id === user.id).email_verified, true, 'the email is verified');
    await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m) && /password was changed/i.test(m.subject));
  });

  it('20 concurrent confirms of one code: exactly one succeeds', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    const client = await newClient(d, project);
    assertForgotOk(await forgot(d, project, client, user.email), user.email, 'forgot');
    const { code } = await codeMail(d, user.email);

    const passwords = Array.from({ length: 20 }, () => newPassword());
    const results = await Promise.all(passwords.map((p, i) => confirm(d, project, client, user.email, code, p, { base: i % 2 ? '/authapi' : '' })));
    const winners = results.map((r, i) => (r.status === 200 ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one 200 expected, got ${results.map((r) => r.status).join(',')}`);
    for (const r of results) if (r.status !== 200) assertVelocityError(r, 400, 'CodeMismatchException', 'a losing confirm');
    const ok = await xsollaLogin(d, project, user.email, passwords[winners[0]]);
    assert.equal(ok.status, 200, show(ok));
    secrets.add(ok.json.token);
  });

  it('log hygiene: no password, code or token in the logs', { timeout: TEST_TIMEOUT }, async () => {
    for (const x of daemons) await x.stop();
    for (const x of daemons) {
      for (const line of [...x.stderrLines, ...x.stdoutLines]) {
        if (line.trim() === '') continue;
        const { ts, request_id, duration_ms, ...rest } = JSON.parse(line); // eslint-disable-line no-unused-vars
        const text = JSON.stringify(rest);
        for (const s of secrets) {
          const found = /^\d{6}$/.test(s) ? new RegExp(`\\b${s}\\b`).test(text) : text.includes(s);
          assert.ok(!found, `a secret appears in the daemon log: ${line.slice(0, 300)}`);
        }
      }
    }
  });
});
