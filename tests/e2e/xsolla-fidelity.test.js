'use strict';
// Black-box tests of Xsolla's own answers where resetd used to answer its
// own: login_url errors 010-012 (not a callback URL) and 010-011 (several
// callback URLs, none given) through the official SDK, and GET /users/me
// with every field Xsolla documents (null where resetd keeps no value).
// Run: node --test tests/e2e/xsolla-fidelity.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { makeXsollaApi } = require('./lib/xsolla-sdk');

const TEST_TIMEOUT = 90000;
const PAGE_ORIGIN = 'http://localhost:3999';
const CB1 = 'http://localhost:3999/cb';
const CB2 = 'http://localhost:3999/other-cb';

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('Xsolla fidelity', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  async function newUser(project) {
    const email = `${uniq('user')}@example.com`;
    const password = h.registerSecret(`Calm ${crypto.randomBytes(9).toString('base64url')} harbour`);
    const u = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    return { ...u, email, password };
  }

  async function throwsCode(sdk, promise, code, what) {
    await assert.rejects(promise, (err) => {
      assert.ok(err instanceof sdk.APIError, `${what}: SDK must throw APIError, got ${err && err.name}: ${err && err.message}`);
      assert.equal(String(err.code), code, what);
      return true;
    });
  }

  it('login_url: 010-012 for one that is not a callback URL, 010-011 for none of several', { timeout: TEST_TIMEOUT }, async () => {
    const one = await d.cli(['project', 'create', '--name', uniq('one'), '--callback-url', CB1]);
    const user = await newUser(one);
    const stranger = makeXsollaApi({ projectId: one.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: 'http://localhost:3999/elsewhere' });
    const plain = makeXsollaApi({ projectId: one.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN });
    const several = await d.cli(['project', 'create', '--name', uniq('two'), '--callback-url', CB1, '--callback-url', CB2]);
    const user2 = await newUser(several);
    const none = makeXsollaApi({ projectId: several.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN });
    const chosen = makeXsollaApi({ projectId: several.id, apiUrl: `${d.url}/api`, pageOrigin: PAGE_ORIGIN, callbackUrl: CB2 });
    try {
      await throwsCode(stranger, stranger.api.login({ credentials: { username: user.email, password: user.password } }), '010-012', 'login, unlisted login_url');
      await throwsCode(stranger, stranger.api.reset({ username: user.email }), '010-012', 'reset, unlisted login_url');
      // One callback URL: none given takes it.
      const res = await plain.api.login({ credentials: { username: user.email, password: user.password } });
      assert.ok(res.login_url.startsWith(`${CB1}?token=`), res.login_url);
      h.registerSecret(new URL(res.login_url).searchParams.get('token'));

      await throwsCode(none, none.api.login({ credentials: { username: user2.email, password: user2.password } }), '010-011', 'login, several and none given');
      await throwsCode(none, none.api.reset({ username: user2.email }), '010-011', 'reset, several and none given');
      // The answer does not depend on the account.
      await throwsCode(none, none.api.reset({ username: `${uniq('ghost')}@example.com` }), '010-011', 'reset, unknown account');
      const ok = await chosen.api.login({ credentials: { username: user2.email, password: user2.password } });
      assert.ok(ok.login_url.startsWith(`${CB2}?token=`), ok.login_url);
      h.registerSecret(new URL(ok.login_url).searchParams.get('token'));
      await chosen.api.reset({ username: user2.email });
    } finally {
      for (const s of [stranger, plain, none, chosen]) s.close();
    }
    // The raw answer: 400 with the code and details naming login_url.
    const raw = await h.request(`${d.url}/login?projectId=${several.id}`, { method: 'POST', body: { username: user2.email, password: 'wrong password here' } });
    assert.equal(raw.status, 400);
    assert.equal(raw.json.error.code, '010-011');
    assert.equal(typeof raw.json.error.details.login_url, 'string');
  });

  it('/users/me carries every field Xsolla documents, null where resetd has no value', { timeout: TEST_TIMEOUT }, async () => {
    const project = await d.cli(['project', 'create', '--name', uniq('me'), '--callback-url', CB1]);
    const user = await newUser(project);
    const login = await h.request(`${d.url}/login?projectId=${project.id}`, { method: 'POST', body: { username: user.email, password: user.password } });
    assert.equal(login.status, 200);
    const token = h.registerSecret(new URL(login.json.login_url).searchParams.get('token'));
    const me = await h.request(`${d.url}/users/me`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200, me.text);
    const documented = ['ban', 'birthday', 'connection_information', 'country', 'devices', 'email', 'external_id',
      'first_name', 'gender', 'groups', 'id', 'is_anonymous', 'last_login', 'last_name', 'name', 'nickname', 'phone',
      'picture', 'registered', 'tag', 'username'];
    for (const f of documented) assert.ok(Object.hasOwn(me.json, f), `users/me lacks ${f}`);
    assert.equal(me.json.id, user.id);
    assert.equal(me.json.email, user.email);
    assert.equal(me.json.is_anonymous, false);
    assert.deepEqual(me.json.groups, [{ id: 1, name: 'default', is_default: true, is_deletable: false }]);
    for (const f of ['ban', 'birthday', 'connection_information', 'country', 'devices', 'external_id', 'gender',
      'nickname', 'phone', 'picture', 'tag']) assert.equal(me.json[f], null, f);
    assert.match(me.json.registered, /^\d{4}-\d\d-\d\dT/);
    assert.match(me.json.last_login, /^\d{4}-\d\d-\d\dT/);
  });
});
