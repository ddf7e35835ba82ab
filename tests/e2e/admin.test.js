'use strict';
// The admin API on the admin listener: CRUD of projects, users, API keys and
// clients with and without the token; field-level validation; paging with
// opaque checked cursors; user import with Argon2id and bcrypt hashes
// (made here by hash-wasm and bcryptjs, which resetd did not write), rehashed
// to Argon2id at the next sign-in; operators' resets that mail the user a
// link and are audited with who asked; the outbox and the audit trail.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const bcrypt = require('bcryptjs');
const { argon2id } = require('hash-wasm');
const h = require('./lib/harness');

const TEST_TIMEOUT = 90000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

function show(res) {
  return `status ${res.status}, body ${res.text.slice(0, 400)}`;
}

function assertError(res, status, code, field) {
  assert.equal(res.status, status, show(res));
  assert.equal(res.json.error.code, code, show(res));
  assert.equal(typeof res.json.error.message, 'string');
  if (field !== undefined) assert.equal(res.json.error.field, field, show(res));
}

// The stored hash of a user, read from the database itself.
async function dbText(d, sql) {
  if (h.testDb() === 'postgres') return (await h.pgQuery(d.database, sql)).trim();
  return execFileSync('sqlite3', [d.dbPath, sql], { encoding: 'utf8' }).trim();
}

async function storedHash(d, userId) {
  return dbText(d, `SELECT password_hash FROM users WHERE id = '${userId}'`);
}

describe('admin API', { timeout: TEST_TIMEOUT }, () => {
  let d;
  let project;
  before(async () => {
    // Wrong tokens are what the first test sends: its limit out of the way.
    d = await h.startDaemon({ admin: true, env: { RESETD_RATE_ADMIN_AUTH: '1000' } });
  });
  after(async () => {
    if (d) await d.stop();
  });

  it('refuses every call without the right token, and answers none on the public listener', async () => {
    const calls = [
      ['GET', '/admin/projects'], ['POST', '/admin/projects'], ['GET', `/admin/projects/${crypto.randomUUID()}`],
      ['GET', `/admin/users/${crypto.randomUUID()}`], ['DELETE', `/admin/users/${crypto.randomUUID()}`],
      ['POST', `/admin/projects/${crypto.randomUUID()}/api-keys`], ['GET', '/admin/outbox'], ['GET', '/admin/audit'],
    ];
    for (const [method, p] of calls) {
      const none = await h.request(`${d.adminUrl}${p}`, { method, body: method === 'POST' ? { name: 'x' } : undefined });
      assertError(none, 401, 'unauthorized');
      const wrong = await h.request(`${d.adminUrl}${p}`, { method, headers: { Authorization: 'Bearer wrong-wrong-wrong' } });
      assertError(wrong, 401, 'unauthorized');
      const pub = await h.request(`${d.url}${p}`, { method, headers: { Authorization: `Bearer ${d.adminToken}` } });
      assert.equal(pub.status, 404, `${method} ${p} on the public listener: ${show(pub)}`);
    }
    // Nothing was created by the refused calls.
    const list = await d.admin('GET', '/admin/projects');
    assert.deepEqual(list.json.data, []);
  });

  it('creates, shows and lists projects with all their settings', async () => {
    const body = {
      name: uniq('proj'),
      callback_urls: ['http://localhost:3999/cb'],
      allowed_origins: ['http://localhost:3999'],
      token_ttl: 1800,
      delivery: 'link',
      locale: 'de',
      accent_color: '#336699',
      reset_limit_per_hour: 5,
      mail_budget_per_hour: 500,
      password_min_length: 10,
      password_min_score: 2,
      unknown_account_notice: false,
      send_reset_emails: true,
    };
    const res = await d.admin('POST', '/admin/projects', body);
    assert.equal(res.status, 201, show(res));
    project = res.json;
    assert.match(project.id, UUID_RE);
    for (const [k, v] of Object.entries(body)) assert.deepEqual(project[k], v, k);
    const got = await d.admin('GET', `/admin/projects/${project.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, project);
    const list = await d.admin('GET', '/admin/projects');
    assert.ok(list.json.data.some((p) => p.id === project.id));
    // The CLI sees what the API made: one store, one operation.
    const cli = await d.cli(['project', 'show', project.id]);
    assert.deepEqual(cli, project);
    assertError(await d.admin('GET', `/admin/projects/${crypto.randomUUID()}`), 404, 'project_not_found');

    // Settings change with PATCH: named fields change, the others stay.
    const patched = await d.admin('PATCH', `/admin/projects/${project.id}`, {
      callback_urls: ['http://localhost:3999/cb', 'http://localhost:3999/other'],
      allowed_origins: ['http://localhost:3999', 'http://localhost:4999'],
      reset_limit_per_hour: 7,
      accent_color: null,
    });
    assert.equal(patched.status, 200, show(patched));
    assert.deepEqual(patched.json.callback_urls, ['http://localhost:3999/cb', 'http://localhost:3999/other']);
    assert.deepEqual(patched.json.allowed_origins, ['http://localhost:3999', 'http://localhost:4999']);
    assert.equal(patched.json.reset_limit_per_hour, 7);
    assert.equal(patched.json.accent_color, null);
    for (const k of ['name', 'token_ttl', 'locale', 'mail_budget_per_hour', 'password_min_length', 'created_at']) {
      assert.deepEqual(patched.json[k], project[k], k);
    }
    assert.deepEqual(await d.cli(['project', 'show', project.id]), patched.json);
    // The new origin is allowed by the dialect at once (CORS preflight).
    const pre = await h.request(`${d.url}/api/login?projectId=${project.id}`, {
      method: 'OPTIONS', headers: { Origin: 'http://localhost:4999', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:4999', show(pre));
    assertError(await d.admin('PATCH', `/admin/projects/${project.id}`, { allowed_origins: ['http://x/p'] }), 400, 'invalid_field', 'allowed_origins');
    assertError(await d.admin('PATCH', `/admin/projects/${project.id}`, { colour: 'x' }), 400, 'unknown_field', 'colour');
    assertError(await d.admin('PATCH', `/admin/projects/${crypto.randomUUID()}`, { name: 'x' }), 404, 'project_not_found');
    // The CLI's update is the same operation, with the same rules.
    const viaCli = await d.cli(['project', 'update', project.id, '--reset-limit', '6']);
    assert.equal(viaCli.reset_limit_per_hour, 6);
    assert.deepEqual(viaCli.allowed_origins, patched.json.allowed_origins);
    await assert.rejects(d.cli(['project', 'update', project.id, '--delivery', 'pigeon']), /delivery: expected link or code/);
    patched.json.reset_limit_per_hour = 6;
    const unchanged = await d.admin('GET', `/admin/projects/${project.id}`);
    assert.deepEqual(unchanged.json, patched.json, 'a refused change changes nothing');
    project = patched.json;
  });

  it('validates every field as the CLI does: 400 naming the field; unknown fields refused', async () => {
    const cases = [
      [{ name: 'x', colour: 'red' }, 'unknown_field', 'colour'],
      [{ name: 7 }, 'invalid_type', 'name'],
      [{ name: '' }, 'invalid_field', 'name'],
      [{ name: 'x', callback_urls: ['ftp://x'] }, 'invalid_field', 'callback_urls'],
      [{ name: 'x', callback_urls: 'http://x' }, 'invalid_type', 'callback_urls'],
      [{ name: 'x', allowed_origins: ['http://x/path'] }, 'invalid_field', 'allowed_origins'],
      [{ name: 'x', delivery: 'pigeon' }, 'invalid_field', 'delivery'],
      [{ name: 'x', accent_color: 'red' }, 'invalid_field', 'accent_color'],
      [{ name: 'x', reset_limit_per_hour: 0 }, 'invalid_field', 'reset_limit_per_hour'],
      [{ name: 'x', password_min_score: 9 }, 'invalid_field', 'password_min_score'],
      [{ name: 'x', token_ttl: -5 }, 'invalid_field', 'token_ttl'],
      [{ name: 'x', send_reset_emails: 'yes' }, 'invalid_type', 'send_reset_emails'],
      [{ name: 'x', locale: 'not a locale' }, 'invalid_field', 'locale'],
      [{ name: 'x', mail_from: 'a@b.c\r\nBcc: x@y.z' }, 'invalid_field', 'mail_from'],
    ];
    for (const [body, code, field] of cases) {
      assertError(await d.admin('POST', '/admin/projects', body), 400, code, field);
    }
    assertError(await d.admin('POST', '/admin/projects', '{"name":'), 400, 'malformed_body');
    assertError(await d.admin('POST', '/admin/projects', 'name=x', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    // The CLI refuses the same value with the same words.
    await assert.rejects(d.cli(['project', 'create', '--name', 'x', '--delivery', 'pigeon']), /delivery: expected link or code/);
    const users = `/admin/projects/${project.id}/users`;
    assertError(await d.admin('POST', users, { email: 'not-an-email' }), 400, 'invalid_field', 'email');
    assertError(await d.admin('POST', users, { email: 'a@example.com', role: 'admin' }), 400, 'unknown_field', 'role');
    assertError(await d.admin('POST', users, { email: 'a@example.com', password: 'short' }), 400, 'invalid_field', 'password');
    assertError(await d.admin('GET', `${users}?limit=0`), 400, 'invalid_field', 'limit');
    assertError(await d.admin('GET', `${users}?sort=email`), 400, 'unknown_field', 'sort');
    assertError(await d.admin('GET', '/admin/audit?since=yesterday'), 400, 'invalid_field', 'since');
  });

  it('creates, gets, pages, filters, disables, enables and deletes users', async () => {
    const users = `/admin/projects/${project.id}/users`;
    const made = [];
    for (let i = 0; i < 5; i++) {
      const res = await d.admin('POST', users, { email: `${uniq('u')}@example.com`, first_name: `N${i}`, email_verified: true });
      assert.equal(res.status, 201, show(res));
      assert.equal(res.json.project_id, project.id);
      assert.ok(!('password_hash' in res.json));
      made.push(res.json);
    }
    assertError(await d.admin('POST', users, { email: made[0].email.toUpperCase() }), 409, 'conflict');
    const got = await d.admin('GET', `/admin/users/${made[2].id}`);
    assert.deepEqual(got.json, made[2]);

    // Pages of two, in creation order, with opaque cursors.
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await d.admin('GET', `${users}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, show(res));
      seen.push(...res.json.data.map((u) => u.id));
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(seen, made.map((u) => u.id));
    assert.equal(pages, 3);

    // A cursor is checked: tampered, made up, or carried to another list.
    const first = await d.admin('GET', `${users}?limit=2`);
    const c = first.json.next_cursor;
    const flipped = c.slice(0, 5) + (c[5] === 'A' ? 'B' : 'A') + c.slice(6);
    assertError(await d.admin('GET', `${users}?limit=2&cursor=${flipped}`), 400, 'invalid_field', 'cursor');
    assertError(await d.admin('GET', `${users}?cursor=${Buffer.from(made[1].id).toString('base64url')}`), 400, 'invalid_field', 'cursor');
    assertError(await d.admin('GET', `${users}?limit=2&email=${encodeURIComponent(made[0].email)}&cursor=${c}`), 400, 'invalid_field', 'cursor');
    const other = await d.admin('POST', '/admin/projects', { name: uniq('other') });
    assertError(await d.admin('GET', `/admin/projects/${other.json.id}/users?cursor=${c}`), 400, 'invalid_field', 'cursor');

    // The email filter matches as logins do, whatever the case.
    const byEmail = await d.admin('GET', `${users}?email=${encodeURIComponent(made[3].email.toUpperCase())}`);
    assert.deepEqual(byEmail.json.data.map((u) => u.id), [made[3].id]);
    assert.equal(byEmail.json.next_cursor, null);

    const dis = await d.admin('POST', `/admin/users/${made[1].id}/disable`);
    assert.equal(dis.status, 200, show(dis));
    assert.equal(dis.json.disabled, true);
    const en = await d.admin('POST', `/admin/users/${made[1].id}/enable`);
    assert.equal(en.json.disabled, false);

    // PATCH changes names and email_verified, keeps what it is not given,
    // and writes user.updated with the change.
    const patched = await d.admin('PATCH', `/admin/users/${made[2].id}`, { last_name: 'Lovelace', email_verified: false });
    assert.equal(patched.status, 200, show(patched));
    assert.equal(patched.json.first_name, 'N2');
    assert.equal(patched.json.last_name, 'Lovelace');
    assert.equal(patched.json.email_verified, false);
    assert.deepEqual((await d.admin('GET', `/admin/users/${made[2].id}`)).json, patched.json);
    const upd = await dbText(d, `SELECT data FROM events WHERE event = 'user.updated' AND project_id = '${project.id}' ORDER BY id DESC LIMIT 1`);
    assert.equal(JSON.parse(upd).last_name, 'Lovelace');
    assertError(await d.admin('PATCH', `/admin/users/${made[2].id}`, { password: 'short' }), 400, 'invalid_field', 'password');
    assertError(await d.admin('PATCH', `/admin/users/${made[2].id}`, { email: 'x@example.com' }), 400, 'unknown_field', 'email');
    assertError(await d.admin('PATCH', `/admin/users/${crypto.randomUUID()}`, { first_name: 'X' }), 404, 'not_found');

    const del = await d.admin('DELETE', `/admin/users/${made[4].id}`, { requested_by: 'alice' });
    assert.equal(del.status, 204, show(del));
    assertError(await d.admin('GET', `/admin/users/${made[4].id}`), 404, 'not_found');
    assertError(await d.admin('DELETE', `/admin/users/${made[4].id}`), 404, 'not_found');
    // The deletion is in the event log once, written with it.
    const deleted = await dbText(d, `SELECT data FROM events WHERE event = 'user.deleted' AND project_id = '${project.id}'`);
    assert.equal(deleted.split('\n').length, 1, deleted);
    assert.equal(JSON.parse(deleted).email, made[4].email);
    const audit = await d.admin('GET', `/admin/audit?project_id=${project.id}`);
    const events = audit.json.data.map((e) => `${e.event}:${e.detail}`);
    assert.ok(events.includes('user_deleted:admin_api:alice'), events.join(' '));
    assert.ok(audit.json.data.some((e) => e.event === 'user_disabled' && e.client_ip === '127.0.0.1'), events.join(' '));
  });

  it('makes API keys shown once, lists them without the key, and revokes them', async () => {
    const made = await d.admin('POST', `/admin/projects/${project.id}/api-keys`);
    assert.equal(made.status, 201, show(made));
    h.registerSecret(made.json.key);
    assert.match(made.json.key, /^sk_/);
    const list = await d.admin('GET', `/admin/projects/${project.id}/api-keys`);
    assert.equal(list.status, 200);
    assert.ok(list.json.data.some((k) => k.id === made.json.id && k.revoked_at === null));
    assert.ok(!list.text.includes(made.json.key), 'a listed key never shows the key');
    // The key works for the WorkOS dialect until it is revoked.
    const call = () => h.request(`${d.url}/user_management/users/user_01ARZ3NDEKTSV4RRFFQ69G5FAV`, { headers: { Authorization: `Bearer ${made.json.key}` } });
    assert.equal((await call()).status, 404);
    const rev = await d.admin('POST', `/admin/api-keys/${made.json.id}/revoke`);
    assert.equal(rev.status, 200, show(rev));
    assert.notEqual(rev.json.revoked_at, null);
    assert.equal((await call()).status, 401);
    assertError(await d.admin('POST', `/admin/api-keys/${crypto.randomUUID()}/revoke`), 404, 'not_found');
    assertError(await d.admin('POST', `/admin/projects/${crypto.randomUUID()}/api-keys`), 404, 'project_not_found');
  });

  it('makes app clients and rotates their secrets', async () => {
    const pub = await d.admin('POST', `/admin/projects/${project.id}/clients`, {});
    assert.equal(pub.status, 201, show(pub));
    assert.match(pub.json.client_id, /^client_/);
    assert.ok(!('client_secret' in pub.json));
    const sec = await d.admin('POST', `/admin/projects/${project.id}/clients`, { secret: true, reveal_user_existence: true });
    assert.equal(sec.status, 201);
    h.registerSecret(sec.json.client_secret);
    assert.equal(sec.json.prevent_user_existence_errors, false);
    const rot = await d.admin('POST', `/admin/clients/${sec.json.client_id}/rotate-secret`);
    assert.equal(rot.status, 200, show(rot));
    h.registerSecret(rot.json.client_secret);
    assert.notEqual(rot.json.client_secret, sec.json.client_secret);
    assertError(await d.admin('POST', `/admin/clients/${pub.json.client_id}/rotate-secret`), 409, 'conflict');
    assertError(await d.admin('POST', `/admin/projects/${project.id}/clients`, { secret: 'yes' }), 400, 'invalid_type', 'secret');
  });

  it('imports bcrypt and Argon2id hashes; a sign-in works and leaves an Argon2id hash', async () => {
    const pwB = newPassword();
    const pwA = newPassword();
    const bHash = bcrypt.hashSync(pwB, 4);
    const aHash = await argon2id({ password: pwA, salt: crypto.randomBytes(16), parallelism: 1, iterations: 3, memorySize: 4096, hashLength: 32, outputType: 'encoded' });
    const emails = [`${uniq('bc')}@example.com`, `${uniq('ar')}@example.com`];
    const imp = await d.admin('POST', `/admin/projects/${project.id}/users/import`, {
      users: [{ email: emails[0], password_hash: bHash }, { email: emails[1], password_hash: aHash, first_name: 'Ada' }],
    });
    assert.equal(imp.status, 201, show(imp));
    assert.equal(imp.json.imported, 2);
    // A hash of no known kind, or a hash beside a password, is refused, and nothing is stored.
    assertError(await d.admin('POST', `/admin/projects/${project.id}/users/import`, { users: [{ email: `${uniq('x')}@example.com` }, { email: `${uniq('y')}@example.com`, password_hash: '$1$abc$def' }] }), 400, 'invalid_field', 'users[1].password_hash');
    assertError(await d.admin('POST', `/admin/projects/${project.id}/users/import`, { users: [{ email: `${uniq('x')}@example.com`, pw: 'x' }] }), 400, 'unknown_field', 'users[0].pw');

    const list = await d.admin('GET', `/admin/projects/${project.id}/users?email=${encodeURIComponent(emails[0])}`);
    const bUser = list.json.data[0];
    assert.equal(await storedHash(d, bUser.id), bHash);
    // The project has two callback URLs by now (the PATCH above): name one.
    const login = (email, password) => h.request(`${d.url}/api/login?projectId=${project.id}&login_url=${encodeURIComponent('http://localhost:3999/cb')}`, { method: 'POST', body: { username: email, password } });
    assert.notEqual((await login(emails[0], `${pwB}x`)).status, 200, 'a wrong password fails against a bcrypt hash');
    assert.equal(await storedHash(d, bUser.id), bHash, 'a failed sign-in changes nothing');
    const ok = await login(emails[0], pwB);
    assert.equal(ok.status, 200, show(ok));
    assert.match(await storedHash(d, bUser.id), /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    assert.equal((await login(emails[0], pwB)).status, 200, 'and signs in with the new hash');

    const aList = await d.admin('GET', `/admin/projects/${project.id}/users?email=${encodeURIComponent(emails[1])}`);
    assert.equal((await login(emails[1], pwA)).status, 200);
    assert.match(await storedHash(d, aList.json.data[0].id), /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/, 'made again at the configured cost');
  });

  it('mails the user a reset link on an operator reset, and audits who asked', async () => {
    const email = `${uniq('r')}@example.com`;
    const u = await d.admin('POST', `/admin/projects/${project.id}/users`, { email });
    const res = await d.admin('POST', `/admin/users/${u.json.id}/reset`, { requested_by: 'ops-bob' });
    assert.equal(res.status, 202, show(res));
    assert.deepEqual(res.json, { user_id: u.json.id, status: 'mailed' });
    assert.ok(!/reset_code|token|http/.test(res.text), 'the operator never sees the link');
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetLink(m.text) !== null);
    const link = h.extractResetLink(mail.text);
    h.registerSecret(link.reset_code);
    // The link works: the user sets a password with it.
    const pw = newPassword();
    const confirm = await h.request(`${d.url}/api/password/reset/confirm?projectId=${project.id}`, { method: 'POST', body: { new_password: pw, reset_code: link.reset_code, user_id: link.user_id } });
    assert.equal(confirm.status, 204, show(confirm));

    const audit = await d.admin('GET', `/admin/audit?user_id=${u.json.id}`);
    assert.equal(audit.status, 200, show(audit));
    const asked = audit.json.data.find((e) => e.event === 'reset_requested');
    assert.ok(asked, JSON.stringify(audit.json.data));
    assert.equal(asked.detail, 'admin_api:ops-bob');
    assert.equal(asked.client_ip, '127.0.0.1');
    assert.ok(audit.json.data.every((e) => e.project_id === project.id));
    // The time filter: nothing before the epoch's first second, all before the far future.
    const none = await d.admin('GET', `/admin/audit?user_id=${u.json.id}&until=1970-01-01T00:00:01Z`);
    assert.deepEqual(none.json.data, []);
    const later = await d.admin('GET', `/admin/audit?user_id=${u.json.id}&since=2000-01-01T00:00:00.000Z&until=2999-01-01T00:00:00Z`);
    assert.equal(later.json.data.length, audit.json.data.length);

    // The CLI's reset is the same operation, audited as the CLI's.
    const before = (await h.readMaildir(d.maildir)).filter(h.mailTo(email)).length;
    assert.deepEqual(await d.cli(['user', 'reset', u.json.id]), { user_id: u.json.id, status: 'mailed' });
    const cliAudit = await d.admin('GET', `/admin/audit?user_id=${u.json.id}`);
    assert.match(cliAudit.json.data.find((e) => e.event === 'reset_requested').detail, /^cli:/);
    const deadline = Date.now() + 10000;
    while ((await h.readMaildir(d.maildir)).filter(h.mailTo(email)).length <= before && Date.now() < deadline) await h.sleep(50);
    assert.ok((await h.readMaildir(d.maildir)).filter(h.mailTo(email)).length > before, 'the CLI reset mailed a link too');
    for (const m of (await h.readMaildir(d.maildir)).filter(h.mailTo(email))) {
      const l = h.extractResetLink(m.text);
      if (l) h.registerSecret(l.reset_code);
    }

    assertError(await d.admin('POST', `/admin/users/${u.json.id}/reset`, { requested_by: 'bob smith' }), 400, 'invalid_field', 'requested_by');
    assertError(await d.admin('POST', `/admin/users/${crypto.randomUUID()}/reset`), 404, 'not_found');
  });

  it('lists the outbox without payloads, and retries only dead messages', async () => {
    const list = await d.admin('GET', '/admin/outbox?state=sent&limit=50');
    assert.equal(list.status, 200, show(list));
    assert.ok(list.json.data.length >= 1);
    assert.ok(list.json.data.every((m) => m.state === 'sent' && !('payload' in m)));
    assert.ok(!list.text.includes('reset_code'), 'no link in the listing');
    assertError(await d.admin('GET', '/admin/outbox?state=lost'), 400, 'invalid_field', 'state');
    assertError(await d.admin('POST', `/admin/outbox/${list.json.data[0].id}/retry`), 409, 'conflict');
    assertError(await d.admin('POST', `/admin/outbox/${crypto.randomUUID()}/retry`), 404, 'not_found');
    const all = await d.admin('POST', '/admin/outbox/retry-dead');
    assert.equal(all.status, 200);
    assert.equal(all.json.retried, 0);
  });
});
