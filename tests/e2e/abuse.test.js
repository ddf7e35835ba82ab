'use strict';
// Black-box tests of abuse resistance (issue 7, docs/abuse.md): per-address
// limits answered 429 in each dialect's shape, X-Forwarded-For believed only
// from trusted proxies, the per-account limit that sends nothing, answers
// that do not tell accounts apart, the password policy, and hostile input
// refused with the database left as it was.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const TEST_TIMEOUT = 60000;
const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = 'AWSCognitoIdentityProviderService.';

const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

async function startDaemon(env = {}) {
  const d = await h.startDaemon({ env });
  daemons.push(d);
  return d;
}

async function setup(d, projectArgs = []) {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', 'http://localhost:3999/cb', ...projectArgs]);
  const client = await d.cli(['client', 'create', '--project', project.id]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  h.registerSecret(key);
  return { project, client, key };
}

async function newUser(d, project, local = 'user') {
  const email = `${uniq(local)}@example.com`;
  const password = newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { ...user, email, password };
}

function xsolla(d, p, pathname, body, { headers = {}, query = {} } = {}) {
  const u = new URL(`/api${pathname}`, d.url);
  u.searchParams.set('projectId', p.id);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return h.request(u.href, { method: 'POST', body, headers });
}

function cognito(d, op, body, headers = {}) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': TARGET + op, ...headers },
  });
}

function velocity(d, t, pathname, body, headers = {}) {
  return h.request(`${d.url}${pathname}`, {
    method: 'POST',
    body,
    headers: { userpoolid: t.project.id, appclientid: t.client.client_id, ...headers },
  });
}

function workos(d, t, body, headers = {}) {
  return h.request(`${d.url}/user_management/password_reset`, {
    method: 'POST',
    body,
    headers: { Authorization: `Bearer ${t.key}`, ...headers },
  });
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

function assertRetryAfter(res, what) {
  assert.equal(res.status, 429, `${what}: ${show(res)}`);
  assert.match(res.headers['retry-after'] || '', /^[1-9][0-9]*$/, `${what}: Retry-After`);
}

// Headers that may differ between two answers that must be alike.
function stripIds(hdrs) {
  const c = { ...hdrs };
  delete c['x-request-id'];
  delete c['x-amzn-requestid'];
  delete c.date;
  return c;
}

async function auditCount(d, project) {
  const args = ['audit', 'list', '--limit', '100000'];
  if (project) args.push('--project', project.id);
  return (await d.cli(args)).length;
}

async function mailCount(d) {
  return (await h.readMaildir(d.maildir)).length;
}

after(async () => {
  for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
});

describe('per-address limits', () => {
  const limits = {
    RESETD_RATE_IP_REQUEST: '2',
    RESETD_RATE_IP_CONFIRM: '2',
    RESETD_RATE_IP_LOGIN: '2',
    RESETD_RATE_IP_API: '3',
  };

  it('429 with Retry-After in every dialect; a forged X-Forwarded-For changes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon(limits);
    const t = await setup(d);
    const forged = () => ({ 'X-Forwarded-For': `198.51.100.${crypto.randomInt(1, 250)}` });

    // Two reset requests pass, whatever X-Forwarded-For says; the third is refused.
    for (let i = 0; i < 2; i++) {
      const ok = await xsolla(d, t.project, '/password/reset/request', { username: `${uniq('a')}@example.com` }, { headers: forged() });
      assert.equal(ok.status, 204, `request ${i + 1}: ${show(ok)}`);
    }
    const x = await xsolla(d, t.project, '/password/reset/request', { username: 'someone@example.com' }, { headers: forged() });
    assertRetryAfter(x, 'xsolla');
    assert.equal(x.json.error.code, '002-057');

    // Cognito and Velocity reset requests spend the same bucket.
    const c = await cognito(d, 'ForgotPassword', { ClientId: t.client.client_id, Username: 'someone@example.com' }, forged());
    assertRetryAfter(c, 'cognito');
    assert.equal(c.json.__type, 'TooManyRequestsException');
    assert.equal(c.headers['x-amzn-errortype'], 'TooManyRequestsException:');
    const v = await velocity(d, t, '/password/forgot', { userName: 'someone@example.com' }, forged());
    assertRetryAfter(v, 'velocity');
    assert.equal(v.json.error.code, 'TooManyRequestsException');

    // Confirms have a bucket of their own, and so do logins.
    for (let i = 0; i < 2; i++) {
      const r = await cognito(d, 'ConfirmForgotPassword', {
        ClientId: t.client.client_id, Username: 'someone@example.com', ConfirmationCode: '123456', Password: newPassword(),
      });
      assert.equal(r.status, 400, `confirm ${i + 1}: ${show(r)}`);
    }
    assertRetryAfter(await velocity(d, t, '/password/forgot/confirm', {
      userName: 'someone@example.com', verificationCode: '123456', newPassword: newPassword(),
    }), 'velocity confirm');

    // WorkOS: server-to-server calls, {code, message} and Retry-After.
    for (let i = 0; i < 3; i++) {
      const r = await workos(d, t, { email: `${uniq('w')}@example.com` }, forged());
      assert.equal(r.status, 404, `workos call ${i + 1}: ${show(r)}`);
    }
    const w = await workos(d, t, { email: 'someone@example.com' }, forged());
    assertRetryAfter(w, 'workos');
    assert.equal(w.json.code, 'rate_limit_exceeded');
    assert.equal(typeof w.json.message, 'string');

    // The official WorkOS SDK turns it into RateLimitExceededException.
    const { WorkOS } = require('workos8');
    const wos = new WorkOS(t.key, { apiHostname: '127.0.0.1', port: d.port, https: false });
    await assert.rejects(wos.userManagement.createPasswordReset({ email: 'someone@example.com' }), (err) => {
      assert.equal(err.name, 'RateLimitExceededException', `${err.name}: ${err.message}`);
      return true;
    });

    // Recorded once per run of refusals, not once per refused call.
    const limited = (await d.cli(['audit', 'list'])).filter((e) => e.event === 'rate_limited' && e.project_id === null);
    assert.deepEqual(limited.map((e) => e.detail).sort(), ['api', 'confirm', 'request']);
    assert.ok(limited.every((e) => e.client_ip === '127.0.0.1'), 'the socket peer is the client');
  });

  it('X-Forwarded-For from a trusted proxy names the client', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ ...limits, RESETD_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' });
    const t = await setup(d);
    const send = (xff) => xsolla(d, t.project, '/password/reset/request', { username: `${uniq('p')}@example.com` }, { headers: { 'X-Forwarded-For': xff } });

    assert.equal((await send('203.0.113.5')).status, 204);
    // A client-written left part is ignored: the right-most untrusted hop counts.
    assert.equal((await send('1.2.3.4, 203.0.113.5')).status, 204);
    assertRetryAfter(await send('9.9.9.9, 203.0.113.5, 10.1.2.3'), 'third call of 203.0.113.5');
    // Another client behind the same proxy has its own bucket.
    assert.equal((await send('203.0.113.6')).status, 204);
    // IPv6 clients count by /64.
    assert.equal((await send('2001:db8:1:2::1')).status, 204);
    assert.equal((await send('2001:db8:1:2::ffff')).status, 204);
    assertRetryAfter(await send('2001:db8:1:2:abcd::9'), 'a third address of one /64');

    const events = await d.cli(['audit', 'list', '--project', t.project.id]);
    assert.ok(events.some((e) => e.client_ip === '203.0.113.5'), 'the audit trail records the forwarded client');
  });

  // Routes that once forgot their limit: every route now spends its class
  // before its handler runs (tests/unit/test_faces.c walks the tables).
  it('/users/me, GET /reset and GET /reset/cancel: 429 over their limit, in their shape', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon(limits);
    const t = await setup(d);

    // Xsolla's current user: the API class (3 here); a bad token is a 401 until then.
    const me = () => h.request(`${d.url}/api/users/me?projectId=${t.project.id}`, {
      headers: { Authorization: 'Bearer not-a-token', Origin: 'http://localhost:3999' },
    });
    for (let i = 0; i < 3; i++) {
      const r = await me();
      assert.equal(r.status, 401, `users/me ${i + 1}: ${show(r)}`);
    }
    const x = await me();
    assertRetryAfter(x, 'users/me');
    assert.equal(x.json.error.code, '002-057');
    assert.equal(x.json.error.details.retry_after, Number(x.headers['retry-after']));

    // The pages that look a link up: the confirm class (2 here).
    for (const pathname of ['/reset', `/reset/cancel?id=${crypto.randomUUID()}&sig=${'A'.repeat(43)}`]) {
      const d2 = await startDaemon(limits);
      for (let i = 0; i < 2; i++) {
        const r = await h.request(`${d2.url}${pathname}`);
        assert.ok(r.status >= 400 && r.status < 429, `${pathname} ${i + 1}: ${show(r)}`);
      }
      const p = await h.request(`${d2.url}${pathname}`, { headers: { 'Accept-Language': 'de' } });
      assertRetryAfter(p, pathname);
      assert.match(p.headers['content-type'], /^text\/html/);
      assert.equal(p.headers['cache-control'], 'no-store');
      assert.match(p.headers['content-security-policy'], /default-src 'none'/);
      assert.match(p.text, /<html lang="de"/);
      const limited = (await d2.cli(['audit', 'list'])).filter((e) => e.event === 'rate_limited');
      assert.deepEqual(limited.map((e) => e.detail), ['confirm'], `${pathname}: audited once`);
      await d2.stop();
    }
  });
});

describe('answers that leak nothing', () => {
  let d;
  before(async () => {
    d = await startDaemon();
  });

  it('an account over its hourly limit gets the normal answer and no extra mail', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d, ['--reset-limit', '2']);
    const user = await newUser(d, t.project);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await xsolla(d, t.project, '/password/reset/request', { username: user.email }));
    for (const a of answers) {
      assert.equal(a.status, 204, show(a));
      assert.equal(a.text, '');
      assert.deepEqual(stripIds(a.headers), stripIds(answers[0].headers));
    }
    await h.waitForMail(d.maildir, (m) => h.mailTo(user.email)(m));
    await h.waitOutboxSettled(d);
    const mails = (await h.readMaildir(d.maildir)).filter(h.mailTo(user.email));
    assert.equal(mails.length, 2, 'two reset mails, then nothing');
    for (const m of mails) {
      const link = h.extractResetLink(m.text);
      if (link) h.registerSecret(link.reset_code);
    }
    // The newest mailed link still works: the silent requests revoked nothing.
    const link = h.extractResetLink(mails[mails.length - 1].text);
    const ok = await xsolla(d, t.project, '/password/reset/confirm', { reset_code: link.reset_code, user_id: link.user_id, new_password: newPassword() });
    assert.equal(ok.status, 204, show(ok));
    const events = await d.cli(['audit', 'list', '--project', t.project.id]);
    assert.equal(events.filter((e) => e.event === 'rate_limited' && e.detail === 'account').length, 2);
  });

  it('existing and unknown accounts: byte-identical answers (Xsolla, Velocity, Cognito)', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const user = await newUser(d, t.project, 'alice');
    const ghost = `${uniq('abbey')}@example.com`; // as long as alice's, masks alike
    const pairs = [
      ['xsolla', (who) => xsolla(d, t.project, '/password/reset/request', { username: who })],
      ['velocity', (who) => velocity(d, t, '/password/forgot', { userName: who })],
      ['cognito', (who) => cognito(d, 'ForgotPassword', { ClientId: t.client.client_id, Username: who })],
    ];
    for (const [name, send] of pairs) {
      const known = await send(user.email);
      const unknown = await send(ghost);
      assert.ok(known.status < 300, `${name}: ${show(known)}`);
      assert.equal(unknown.status, known.status, name);
      const norm = (txt) => txt.split(user.email).join('USER').split(ghost).join('USER');
      assert.equal(norm(unknown.text), norm(known.text), `${name}: bodies differ`);
      assert.deepEqual(stripIds(unknown.headers), stripIds(known.headers), `${name}: headers differ`);
    }
    // Each code mail sets the password through its own dialect only; drain them.
    await h.waitForMail(d.maildir, h.mailTo(user.email));
  });
});

describe('password policy', () => {
  let d;
  let dir;
  before(async () => {
    dir = h.makeTempDir('resetd-breached-');
    // A tiny file in the format of the public downloads: sorted HEX40:COUNT.
    const breached = ['violet harbour lantern 77', 'some other leaked pass', 'zz top leaked 123'];
    const lines = breached.map((p) => `${crypto.createHash('sha1').update(p).digest('hex').toUpperCase()}:${p.length}`).sort();
    fs.writeFileSync(path.join(dir, 'breached.txt'), `${lines.join('\r\n')}\r\n`);
    d = await startDaemon({ RESETD_BREACHED_PASSWORDS_FILE: path.join(dir, 'breached.txt') });
  });

  it('refuses common, own-email, breached and over-long passwords; takes a long Unicode passphrase', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const user = await newUser(d, t.project);
    assert.equal((await xsolla(d, t.project, '/password/reset/request', { username: user.email })).status, 204);
    const mail = await h.waitForMail(d.maildir, h.mailTo(user.email));
    const link = h.extractResetLink(mail.text);
    h.registerSecret(link.reset_code);
    const confirm = (pw) => xsolla(d, t.project, '/password/reset/confirm', { reset_code: link.reset_code, user_id: link.user_id, new_password: pw });

    const cases = [
      ['password', '900-004', 'common'],
      ['12345678', '900-004', 'common'],
      [user.email, '900-006', 'context'],
      [user.email.toUpperCase(), '900-006', 'context'],
      ['violet harbour lantern 77', '900-005', 'breached'],
      ['x'.repeat(1000), 0, 'max_length'],
      ['Sh0rt!', 0, 'min_length'],
      ['aaaaaaaaaaaaaaaa', '900-007', 'strength'],
    ];
    for (const [pw, code, rule] of cases) {
      const res = await confirm(pw);
      // Out of new_password's bounds is Xsolla's own "invalid parameters".
      assert.equal(res.status, code === 0 ? 400 : 422, `${rule}: ${show(res)}`);
      assert.equal(res.json.error.code, code, `${rule}: ${show(res)}`);
      assert.equal(res.json.error.details.rule, rule, `${rule}: ${show(res)}`);
    }
    // Not truncated: the first 256 characters of the refused password are not it either.
    const long = 'x'.repeat(1000);
    const login = await xsolla(d, t.project, '/login', { username: user.email, password: long.slice(0, 256) });
    assert.equal(login.status, 401);

    // Refusals spent nothing: the same code takes a good passphrase.
    const pass = h.registerSecret('Шёл снег над 東京, and the kettle sang 4 times');
    assert.equal((await confirm(pass)).status, 204);
    const ok = await xsolla(d, t.project, '/login', { username: user.email, password: pass });
    assert.equal(ok.status, 200, show(ok));
    h.registerSecret(new URL(ok.json.login_url).searchParams.get('token'));
  });

  it('each dialect names the rule in its own shape', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const user = await newUser(d, t.project);
    const r = await workos(d, t, { email: user.email });
    assert.equal(r.status, 201, show(r));
    h.registerSecret(r.json.password_reset_token);
    const weak = await h.request(`${d.url}/user_management/password_reset/confirm`, {
      method: 'POST', body: { token: r.json.password_reset_token, new_password: 'password' }, headers: { Authorization: `Bearer ${t.key}` },
    });
    assert.equal(weak.status, 400, show(weak));
    assert.equal(weak.json.code, 'password_reset_error');
    assert.equal(weak.json.errors[0].code, 'password_too_weak');
    assert.equal(typeof weak.json.errors[0].warning, 'string');
    assert.ok(Array.isArray(weak.json.errors[0].suggestions));

    const c = await cognito(d, 'ConfirmForgotPassword', { ClientId: t.client.client_id, Username: user.email, ConfirmationCode: '123456', Password: '12345678' });
    assert.equal(c.json.__type, 'InvalidPasswordException', show(c));
    const v = await velocity(d, t, '/password/forgot/confirm', { userName: user.email, verificationCode: '123456', newPassword: 'x'.repeat(1000) });
    assert.equal(v.json.error.code, 'InvalidPasswordException', show(v));
  });
});

describe('hostile input', () => {
  let d;
  before(async () => {
    d = await startDaemon();
  });

  it('malformed, invalid, nested, huge and mistyped bodies: a clear error and nothing written', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    await newUser(d, t.project);
    await h.waitOutboxSettled(d); // what earlier tests queued is out
    const auditBefore = await auditCount(d);
    const mailBefore = await mailCount(d);
    const url = `${d.url}/api/password/reset/request?projectId=${t.project.id}`;
    const deep = `${'['.repeat(10000)}${']'.repeat(10000)}`;
    const deepObj = `{"username":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`;
    const cases = [
      ['malformed JSON', '{"username": "a@example.com",', 'application/json', 400],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"username": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('@example.com"}')]), 'application/json', 400],
      ['escaped NUL', '{"username": "a\\u0000@example.com"}', 'application/json', 400],
      ['raw NUL', Buffer.concat([Buffer.from('{"username": "a'), Buffer.from([0]), Buffer.from('@example.com"}')]), 'application/json', 400],
      ['nested 10,000 deep (array)', deep, 'application/json', 400],
      ['nested 10,000 deep (object)', deepObj, 'application/json', 400],
      ['wrong content type', '{"username": "a@example.com"}', 'text/plain', 400],
      ['10 MB body', Buffer.alloc(10 * 1024 * 1024, 0x61), 'application/json', 413],
    ];
    for (const [what, body, type, status] of cases) {
      const res = await h.rawRequest(url, { method: 'POST', body: Buffer.isBuffer(body) ? body : Buffer.from(body), headers: { 'Content-Type': type } });
      assert.equal(res.status, status, `${what}: ${show(res)}`);
      assert.ok(res.json && res.json.error && 'code' in res.json.error, `${what}: the Xsolla error envelope: ${show(res)}`);
    }
    // The same through the other dialects' shapes.
    const c = await h.rawRequest(`${d.url}/`, { method: 'POST', body: Buffer.from(deep), headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': `${TARGET}ForgotPassword` } });
    assert.equal(c.status, 400, show(c));
    assert.equal(c.json.__type, 'SerializationException');
    const v = await h.rawRequest(`${d.url}/password/forgot`, { method: 'POST', body: Buffer.from('{"userName": "a\\u0000b"}'), headers: { userpoolid: t.project.id, appclientid: t.client.client_id } });
    assert.equal(v.status, 400, show(v));
    assert.equal(v.json.error.code, 'InvalidParameterException');
    const w = await h.rawRequest(`${d.url}/user_management/password_reset`, { method: 'POST', body: Buffer.from('{"email": "\\u0000"}'), headers: { Authorization: `Bearer ${t.key}` } });
    assert.equal(w.status, 400, show(w));
    assert.equal(w.json.code, 'invalid_json');
    // A NUL or bad UTF-8 in the query.
    const q = await h.rawRequest(`${d.url}/api/password/reset/request?projectId=${t.project.id}&login_url=http%3A%2F%2Flocalhost%3A3999%2Fcb%00x`, { method: 'POST', body: { username: 'a@example.com' } });
    assert.equal(q.status, 400, show(q));
    // Too many header fields, too long a target: refused before routing.
    const many = {};
    for (let i = 0; i < 80; i++) many[`X-Filler-${i}`] = 'x';
    assert.equal((await h.rawRequest(url, { method: 'POST', body: { username: 'a@example.com' }, headers: many })).status, 431);
    assert.equal((await h.rawRequest(`${url}&pad=${'x'.repeat(9000)}`, { method: 'POST', body: { username: 'a@example.com' } })).status, 414);

    assert.ok(d.running(), 'the daemon lives on');
    assert.equal(await auditCount(d), auditBefore, 'no audit row was written');
    await h.waitOutboxSettled(d);
    assert.equal(await mailCount(d), mailBefore, 'no mail was sent');
  });
});
