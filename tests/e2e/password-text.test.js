'use strict';
// Black-box tests of the password policy's text rules through every face's
// confirm call: Xsolla, WorkOS, Cognito, Velocity, the hosted reset page
// and the hosted code page. Passwords holding a control (Cc), format (Cf),
// line separator (Zl) or paragraph separator (Zp) character are refused by
// the rule valid_text; a letter followed by combining marks is one
// character, so it is too short. Each face words the refusal its own way,
// and a refusal spends nothing: the same link or code then sets a good
// password.
// Run: node --test tests/e2e/password-text.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const TEST_TIMEOUT = 90000;
const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = 'AWSCognitoIdentityProviderService.';

// [password, rule, what]
const REFUSED = [
  ['password\u200b', 'valid_text', 'zero width space'],
  ['Password1\u200d', 'valid_text', 'zero width joiner'],
  ['\u2060Quiet river stones', 'valid_text', 'word joiner'],
  ['Quiet river\ufeffstones', 'valid_text', 'zero width no-break space'],
  ['Quiet\u00adriver stones', 'valid_text', 'soft hyphen'],
  ['Password1\u0085', 'valid_text', 'next line (C1)'],
  ['Quiet river\u009bstones', 'valid_text', 'control sequence introducer (C1)'],
  ['Quiet river stones\t', 'valid_text', 'tab'],
  ['Quiet river \u202estones', 'valid_text', 'right-to-left override'],
  ['Quiet \u2066river\u2069 stones', 'valid_text', 'directional isolates'],
  ['Quiet river\u2028stones', 'valid_text', 'line separator'],
  ['Quiet river\u2029stones', 'valid_text', 'paragraph separator'],
  ['a' + '\u0301'.repeat(8), 'min_length', 'one letter and 8 combining marks'],
  ['x\u0323y\u0323\u0308z\u0301\u0302\u0303\u0304', 'min_length', 'three letters with marks'],
];

const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function goodPassword() {
  const p = `Calm ${crypto.randomBytes(9).toString('base64url')} harbour`;
  h.registerSecret(p);
  return p;
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

function formBody(fields) {
  return new URLSearchParams(fields).toString();
}

function cookieFrom(res, name) {
  const all = [].concat(res.headers['set-cookie'] || []);
  for (const line of all.flatMap((l) => l.split(/,(?=\s*__Host-)/))) {
    const m = new RegExp(`^\\s*${name}=([^;]*)`).exec(line);
    if (m) return m[1];
  }
  return null;
}

function inputValue(html, name) {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1] : null;
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('password text rules in every face', () => {
  let d;
  let linkProject, codeProject, client, key;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
    linkProject = await d.cli(['project', 'create', '--name', uniq('link'), '--callback-url', 'http://localhost:3999/cb']);
    codeProject = await d.cli(['project', 'create', '--name', uniq('code'), '--delivery', 'code']);
    key = (await d.cli(['apikey', 'create', '--project', linkProject.id])).key;
    h.registerSecret(key);
    client = (await d.cli(['client', 'create', '--project', codeProject.id])).client_id;
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  async function newUser(project) {
    const email = `${uniq('user')}@example.com`;
    const password = goodPassword();
    const u = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    return { ...u, email, password };
  }

  async function mailFor(email, seen = new Set()) {
    return h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(email)(m)
      && (h.extractResetLink(m.text) !== null || h.extractResetCode(m.text) !== null));
  }

  async function codeFor(user, ask) {
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
    await ask();
    const code = h.extractResetCode((await mailFor(user.email, seen)).text);
    assert.ok(code, 'a code was mailed');
    h.registerSecret(code);
    return code;
  }

  it('Xsolla: 422 900-003 (400 0, too short) with details.rule', { timeout: TEST_TIMEOUT }, async () => {
    const user = await newUser(linkProject);
    const q = `projectId=${linkProject.id}`;
    assert.equal((await h.request(`${d.url}/password/reset/request?${q}`, { method: 'POST', body: { username: user.email } })).status, 204);
    const link = h.extractResetLink((await mailFor(user.email)).text);
    h.registerSecret(link.reset_code);
    for (const [pw, rule, what] of REFUSED) {
      const res = await h.request(`${d.url}/password/reset/confirm?${q}`, {
        method: 'POST', body: { reset_code: link.reset_code, user_id: user.id, new_password: pw },
      });
      assert.equal(res.status, rule === 'valid_text' ? 422 : 400, `${what}: ${show(res)}`);
      assert.equal(res.json.error.code, rule === 'valid_text' ? '900-003' : 0, `${what}: ${show(res)}`);
      assert.equal(res.json.error.details.rule, rule, what);
    }
    const ok = await h.request(`${d.url}/password/reset/confirm?${q}`, {
      method: 'POST', body: { reset_code: link.reset_code, user_id: user.id, new_password: goodPassword() },
    });
    assert.equal(ok.status, 204, `the link still works: ${show(ok)}`);
  });

  it('WorkOS: password_too_weak naming the rule', { timeout: TEST_TIMEOUT }, async () => {
    const user = await newUser(linkProject);
    const auth = { Authorization: `Bearer ${key}` };
    const created = await h.request(`${d.url}/user_management/password_reset`, { method: 'POST', headers: auth, body: { email: user.email } });
    assert.equal(created.status, 201, show(created));
    const token = created.json.password_reset_token;
    h.registerSecret(token);
    for (const [pw, rule, what] of REFUSED) {
      const res = await h.request(`${d.url}/user_management/password_reset/confirm`, { method: 'POST', headers: auth, body: { token, new_password: pw } });
      assert.equal(res.status, 400, `${what}: ${show(res)}`);
      assert.equal(res.json.errors[0].code, 'password_too_weak', what);
      assert.equal(res.json.errors[0].rule, rule, what);
    }
    const ok = await h.request(`${d.url}/user_management/password_reset/confirm`, { method: 'POST', headers: auth, body: { token, new_password: goodPassword() } });
    assert.equal(ok.status, 200, `the token still works: ${show(ok)}`);
  });

  it('Cognito and Velocity: InvalidPasswordException saying why', { timeout: TEST_TIMEOUT }, async () => {
    const words = { valid_text: /characters that are not allowed/, min_length: /not long enough/ };
    const cognitoUser = await newUser(codeProject);
    const cognito = (op, body) => h.request(`${d.url}/`, {
      method: 'POST', headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': TARGET + op }, body: JSON.stringify(body),
    });
    const code = await codeFor(cognitoUser, async () => {
      assert.equal((await cognito('ForgotPassword', { ClientId: client, Username: cognitoUser.email })).status, 200);
    });
    for (const [pw, rule, what] of REFUSED) {
      const res = await cognito('ConfirmForgotPassword', { ClientId: client, Username: cognitoUser.email, ConfirmationCode: code, Password: pw });
      assert.equal(res.status, 400, `cognito, ${what}: ${show(res)}`);
      assert.equal(res.json.__type, 'InvalidPasswordException', `cognito, ${what}`);
      assert.match(res.json.message, words[rule], `cognito, ${what}`);
    }
    const ok = await cognito('ConfirmForgotPassword', { ClientId: client, Username: cognitoUser.email, ConfirmationCode: code, Password: goodPassword() });
    assert.equal(ok.status, 200, `cognito: the code still works: ${show(ok)}`);

    const velocityUser = await newUser(codeProject);
    const velocity = (path, body) => h.request(`${d.url}${path}`, {
      method: 'POST', headers: { userpoolid: codeProject.id, appclientid: client }, body,
    });
    const vcode = await codeFor(velocityUser, async () => {
      assert.equal((await velocity('/password/forgot', { userName: velocityUser.email })).status, 200);
    });
    for (const [pw, rule, what] of REFUSED) {
      const res = await velocity('/password/forgot/confirm', { userName: velocityUser.email, verificationCode: vcode, newPassword: pw });
      assert.equal(res.status, 400, `velocity, ${what}: ${show(res)}`);
      assert.equal(res.json.error.code, 'InvalidPasswordException', `velocity, ${what}`);
      assert.match(res.json.error.message, words[rule], `velocity, ${what}`);
    }
    const ok2 = await velocity('/password/forgot/confirm', { userName: velocityUser.email, verificationCode: vcode, newPassword: goodPassword() });
    assert.equal(ok2.status, 200, `velocity: the code still works: ${show(ok2)}`);
  });

  it('hosted pages: the reset and code forms explain the rule', { timeout: TEST_TIMEOUT }, async () => {
    const words = { valid_text: /characters that cannot be used/, min_length: /too short/ };
    // The reset form, reached through an emailed link.
    const user = await newUser(linkProject);
    assert.equal((await h.request(`${d.url}/password/reset/request?projectId=${linkProject.id}`, { method: 'POST', body: { username: user.email } })).status, 204);
    const link = h.extractResetLink((await mailFor(user.email)).text);
    h.registerSecret(link.reset_code);
    const parked = cookieFrom(await h.request(link.url), '__Host-resetd-reset');
    assert.ok(parked, 'the link sets its cookie');
    const form = await h.request(`${d.url}/reset`, { headers: { Cookie: `__Host-resetd-reset=${parked}` } });
    const csrf = inputValue(form.text, 'csrf');
    assert.ok(csrf, 'the form has its CSRF token');
    const post = (pw) => h.request(`${d.url}/reset`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `__Host-resetd-reset=${parked}` },
      body: formBody({ csrf, password: pw, confirm: pw }),
    });
    for (const [pw, rule, what] of REFUSED) {
      const res = await post(pw);
      assert.equal(res.status, 422, `reset page, ${what}: ${show(res)}`);
      assert.match(res.text, words[rule], `reset page, ${what}`);
    }
    const done = await post(goodPassword());
    assert.ok(done.status === 200 || done.status === 303, `reset page: the link still works: ${show(done)}`);

    // The code form.
    const codeUser = await newUser(codeProject);
    const page = await h.request(`${d.url}/reset/code?project=${codeProject.id}`);
    const formCookie = cookieFrom(page, '__Host-resetd-form');
    const codeCsrf = inputValue(page.text, 'csrf');
    assert.ok(formCookie && codeCsrf, 'the code form has its cookie and CSRF token');
    const code = await codeFor(codeUser, async () => {
      const res = await h.request(`${d.url}/password/forgot`, {
        method: 'POST', headers: { userpoolid: codeProject.id, appclientid: client }, body: { userName: codeUser.email },
      });
      assert.equal(res.status, 200);
    });
    const postCode = (pw) => h.request(`${d.url}/reset/code`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `__Host-resetd-form=${formCookie}` },
      body: formBody({ project: codeProject.id, csrf: codeCsrf, email: codeUser.email, code, password: pw, confirm: pw }),
    });
    for (const [pw, rule, what] of REFUSED) {
      const res = await postCode(pw);
      assert.equal(res.status, 422, `code page, ${what}: ${show(res)}`);
      assert.match(res.text, words[rule], `code page, ${what}`);
    }
    const ok = await postCode(goodPassword());
    assert.equal(ok.status, 200, `code page: the code still works: ${show(ok)}`);
  });
});
