'use strict';
// Black-box tests of the limits that must not rotate away (issue 13, item 5;
// docs/abuse.md): per-address buckets for the IPv6 /56 and /48, the
// per-account sign-in back-off in every dialect that signs in, answered
// alike for real and unknown logins, and per-address limits shared through
// the database by several instances.
// Run: node --test tests/e2e/limits.test.js   (binary: build/resetd or RESETD_BIN)

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const TEST_TIMEOUT = 90000;
const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

async function startDaemon(opts = {}) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

async function setup(d) {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', 'http://localhost:3999/cb']);
  const client = await d.cli(['client', 'create', '--project', project.id]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  h.registerSecret(key);
  return { project, client, key };
}

async function newUser(d, project) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { ...user, email, password };
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 300)}`;
}

function xsolla(d, p, pathname, body, headers = {}) {
  const u = new URL(`/api${pathname}`, d.url);
  u.searchParams.set('projectId', p.id);
  return h.request(u.href, { method: 'POST', body, headers });
}

function cognito(d, t, op, body, headers = {}) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}`, ...headers },
  });
}

function workosAuth(d, t, email, password, headers = {}) {
  return h.request(`${d.url}/user_management/authenticate`, {
    method: 'POST',
    body: { grant_type: 'password', client_id: t.client.client_id, client_secret: t.key, email, password },
    headers: { Authorization: `Bearer ${t.key}`, ...headers },
  });
}

function from(addr) {
  return { 'X-Forwarded-For': addr };
}

after(async () => {
  for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
});

describe('IPv6 /56 and /48 buckets', () => {
  it('rotating /64s within a /56, and /56s within a /48, is limited', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({
      env: {
        RESETD_TRUSTED_PROXIES: '127.0.0.1',
        RESETD_RATE_IP_REQUEST: '2',
        RESETD_RATE_IP6_56_REQUEST: '3',
        RESETD_RATE_IP6_48_REQUEST: '5',
        RESETD_RATE_IP_LOGIN: '2',
        RESETD_RATE_IP6_56_LOGIN: '3',
        RESETD_RATE_IP6_48_LOGIN: '0',
        RESETD_RATE_IP_API: '2',
        RESETD_RATE_IP6_56_API: '3',
        RESETD_RATE_IP6_48_API: '0',
      },
    });
    const t = await setup(d);
    const forgot = (addr) => xsolla(d, t.project, '/password/reset/request', { username: `${uniq('r')}@example.com` }, from(addr));

    // Every call from a fresh /64 of 2001:db8:a:100::/56: three pass.
    const seen = [];
    for (let i = 0; i < 8; i++) seen.push((await forgot(`2001:db8:a:1${i.toString(16).padStart(2, '0')}::${i + 1}`)).status);
    assert.deepEqual(seen, [204, 204, 204, 429, 429, 429, 429, 429]);
    // Cognito and Velocity spend the same /56 bucket, in their own shapes.
    const c = await cognito(d, t, 'ForgotPassword', { ClientId: t.client.client_id, Username: 'x@example.com' }, from('2001:db8:a:1ff::1'));
    assert.equal(c.status, 429, show(c));
    assert.equal(c.json.__type, 'TooManyRequestsException');
    assert.match(c.headers['retry-after'] || '', /^[1-9][0-9]*$/);
    const v = await h.request(`${d.url}/authapi/password/forgot`, {
      method: 'POST',
      body: { userName: 'x@example.com' },
      headers: { userpoolid: t.project.id, appclientid: t.client.client_id, ...from('2001:db8:a:1fe::1') },
    });
    assert.equal(v.status, 429, show(v));
    // The hosted forgot page too.
    const page = await h.request(`${d.url}/forgot?project=${t.project.id}`, {
      method: 'POST',
      body: `email=${encodeURIComponent('x@example.com')}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...from('2001:db8:a:1fd::1') },
    });
    assert.equal(page.status, 429, show(page));

    // Other /56s of the same /48 share the /48's five: two more in all.
    const more = [];
    for (let i = 0; i < 6; i++) more.push((await forgot(`2001:db8:a:${(0x200 + i * 0x100).toString(16)}::1`)).status);
    assert.deepEqual(more, [204, 204, 429, 429, 429, 429]);
    // Another /48, and IPv4 (one scope: the address), are not touched.
    assert.equal((await forgot('2001:db8:b::1')).status, 204);
    for (let i = 1; i <= 6; i++) assert.equal((await forgot(`203.0.113.${i}`)).status, 204);

    // Logins: Xsolla's login, rotating /64s of one /56 (no /48 limit here).
    const login = (addr) => xsolla(d, t.project, '/login', { username: `${uniq('l')}@example.com`, password: 'wrong-password-1' }, from(addr));
    const logins = [];
    for (let i = 0; i < 5; i++) logins.push((await login(`2001:db8:c:${i}::1`)).status);
    assert.deepEqual(logins, [401, 401, 401, 429, 429]);
    const lx = await login('2001:db8:c:ff::1');
    assert.equal(lx.json.error.code, '002-057', show(lx));
    assert.equal((await login('2001:db8:c:100::1')).status, 401, 'the next /56 has its own bucket');

    // WorkOS server-to-server calls: the api class, by /56 too.
    const api = [];
    for (let i = 0; i < 5; i++) api.push((await workosAuth(d, t, `${uniq('w')}@example.com`, 'wrong-password-1', from(`2001:db8:d:${i}::1`))).status);
    assert.deepEqual(api, [400, 400, 400, 429, 429]);

    // A run of refusals by the /56 is recorded once, not once per /64.
    const limited = (await d.cli(['audit', 'list', '--limit', '10000'])).filter((e) => e.event === 'rate_limited' && e.detail === 'request');
    assert.ok(limited.length <= 3, `rate_limited rows for requests: ${limited.length}`);
  });
});
