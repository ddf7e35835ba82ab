'use strict';
// WorkOS user management through the official Node SDK (8.x and 11.x):
// listUsers with the email filter and cursor paging, updateUser and
// deleteUser, each confined to the API key's project. Core's list, update
// and delete do the work; these tests see them only through the SDK and
// plain HTTP.
// Run: node --test tests/e2e/workos-users.test.js   (RESETD_BIN: the binary)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const SDKS = [
  { name: 'SDK 8.13', mod: require('workos8') },
  { name: 'SDK 11.0', mod: require('workos11') },
];
const TEST_TIMEOUT = 60000;
const secrets = h.secrets;

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

async function newTenant(d) {
  const project = await d.cli(['project', 'create', '--name', uniq('wusers')]);
  const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
  const { client_id: clientId } = await d.cli(['client', 'create', '--project', project.id]);
  secrets.add(key);
  return { project, key, clientId };
}

function sdkFor(d, sdk, t) {
  return new sdk.mod.WorkOS(t.key, { apiHostname: '127.0.0.1', port: d.port, https: false, clientId: t.clientId });
}

async function raw(d, method, path, key, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return h.request(`${d.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

function codeOf(err) {
  if (err.code) return err.code;
  let r = err.rawData;
  if (typeof r === 'string') {
    try { r = JSON.parse(r); } catch { r = undefined; }
  }
  return r && (r.code || r.error);
}

async function rejectsWith(promise, sdk, cls, code, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof sdk.mod[cls], `${what}: expected ${cls}, got ${err && err.name}: ${err && err.message}`);
    if (code !== undefined) assert.equal(codeOf(err), code, `${what}: code`);
    return true;
  });
}

describe('workos user management', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  for (const sdk of SDKS) {
    describe(`through the official ${sdk.name}`, () => {
      it('listUsers({email}) finds the user, and only in its project', { timeout: TEST_TIMEOUT }, async () => {
        const a = await newTenant(d);
        const b = await newTenant(d);
        const wa = sdkFor(d, sdk, a);
        const wb = sdkFor(d, sdk, b);
        const email = `${uniq('find')}@example.com`;
        const user = await wa.userManagement.createUser({ email, password: newPassword(), firstName: 'Ada' });
        await wa.userManagement.createUser({ email: `${uniq('other')}@example.com` });

        const page = await wa.userManagement.listUsers({ email: email.toUpperCase() });
        assert.equal(page.data.length, 1);
        assert.equal(page.data[0].id, user.id);
        assert.equal(page.data[0].email, email);
        assert.equal(page.data[0].firstName, 'Ada');
        assert.equal(page.listMetadata.after, null);

        const none = await wa.userManagement.listUsers({ email: `${uniq('nobody')}@example.com` });
        assert.deepEqual(none.data, []);

        // B's key sees none of A's users, by filter or by listing.
        assert.deepEqual((await wb.userManagement.listUsers({ email })).data, []);
        assert.deepEqual((await wb.userManagement.listUsers()).data, []);
      });

      it('paging walks every user once, newest first or oldest first', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const ids = [];
        for (let i = 0; i < 7; i++) {
          ids.push((await wos.userManagement.createUser({ email: `${uniq(`p${i}`)}@example.com` })).id);
        }
        // By hand, three at a time, following list_metadata.after.
        for (const order of ['desc', 'asc']) {
          const seen = [];
          let after;
          for (let pages = 0; pages < 10; pages++) {
            const page = await wos.userManagement.listUsers({ limit: 3, after, order });
            assert.ok(page.data.length <= 3);
            seen.push(...page.data.map((u) => u.id));
            after = page.listMetadata.after;
            if (!after) break;
          }
          assert.deepEqual(seen, order === 'asc' ? ids : [...ids].reverse(), `order ${order}`);
        }
        // The SDK's own auto-paging reaches the same set.
        const all = await (await wos.userManagement.listUsers()).autoPagination();
        assert.deepEqual(all.map((u) => u.id).sort(), [...ids].sort());
      });

      it('a cursor that is not this list\'s is a 422', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const o = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const wo = sdkFor(d, sdk, o);
        for (let i = 0; i < 3; i++) {
          await wos.userManagement.createUser({ email: `${uniq('c')}@example.com` });
          await wo.userManagement.createUser({ email: `${uniq('c')}@example.com` });
        }
        const other = (await wo.userManagement.listUsers({ limit: 1 })).listMetadata.after;
        assert.ok(other);
        await rejectsWith(wos.userManagement.listUsers({ after: other }), sdk, 'UnprocessableEntityException', undefined, 'another project\'s cursor');
        await rejectsWith(wos.userManagement.listUsers({ after: 'user_01HZZZZZZZZZZZZZZZZZZZZZZZ' }), sdk, 'UnprocessableEntityException', undefined, 'a made-up cursor');
        const asc = (await wos.userManagement.listUsers({ limit: 1, order: 'asc' })).listMetadata.after;
        await rejectsWith(wos.userManagement.listUsers({ after: asc, order: 'desc' }), sdk, 'UnprocessableEntityException', undefined, 'a cursor of the other order');
        const res = await raw(d, 'GET', `/user_management/users?after=${encodeURIComponent(other)}`, t.key);
        assert.equal(res.status, 422);
        assert.equal(res.json.code, 'invalid_request_parameters');
        assert.equal(res.json.errors[0].field, 'after');
        for (const q of ['limit=0', 'limit=101', 'limit=x', 'order=up', 'before=abc']) {
          const r = await raw(d, 'GET', `/user_management/users?${q}`, t.key);
          assert.equal(r.status, 422, q);
          assert.equal(r.json.code, 'invalid_request_parameters', q);
        }
      });

      it('updateUser changes names and emailVerified, and a password by the policy', { timeout: TEST_TIMEOUT }, async () => {
        const t = await newTenant(d);
        const wos = sdkFor(d, sdk, t);
        const email = `${uniq('upd')}@example.com`;
        const user = await wos.userManagement.createUser({ email, password: newPassword(), firstName: 'Old', lastName: 'Name' });
        assert.equal(user.emailVerified, false);

        const got = await wos.userManagement.updateUser({ userId: user.id, firstName: 'New', emailVerified: true });
        assert.equal(got.id, user.id);
        assert.equal(got.firstName, 'New');
        assert.equal(got.lastName, 'Name');
        assert.equal(got.emailVerified, true);
        const again = await wos.userManagement.getUser(user.id);
        assert.equal(again.firstName, 'New');
        assert.equal(again.lastName, 'Name');
        assert.equal(again.emailVerified, true);
        assert.ok(Date.parse(again.updatedAt) >= Date.parse(user.updatedAt));

        // The change is in the event log, as the user it left.
        const updated = (await wos.events.listEvents({ events: ['user.updated'] })).data;
        assert.equal(updated.length, 1);
        assert.equal(updated[0].data.id, user.id);
        assert.equal(updated[0].data.firstName, 'New');
        assert.equal(updated[0].data.emailVerified, true);

        const back = await wos.userManagement.updateUser({ userId: user.id, lastName: 'Other', emailVerified: false });
        assert.equal(back.firstName, 'New');
        assert.equal(back.lastName, 'Other');
        assert.equal(back.emailVerified, false);

        // A weak password is refused as createUser refuses one; a good one signs in.
        await rejectsWith(wos.userManagement.updateUser({ userId: user.id, password: 'password' }), sdk, 'BadRequestException', 'user_update_error', 'weak password');
        const password = newPassword();
        await wos.userManagement.updateUser({ userId: user.id, password });
        const session = await wos.userManagement.authenticateWithPassword({ clientId: t.clientId, email, password });
        assert.equal(session.user.id, user.id);

        await rejectsWith(wos.userManagement.updateUser({ userId: `user_${'0'.repeat(26)}`, firstName: 'X' }), sdk, 'NotFoundException', 'entity_not_found', 'unknown user');
        await rejectsWith(wos.userManagement.updateUser({ userId: user.id, email: 'x@example.com' }), sdk, 'UnprocessableEntityException', undefined, 'email change');
      });

      it('deleteUser removes the user; getUser is then 404; another project cannot', { timeout: TEST_TIMEOUT }, async () => {
        const a = await newTenant(d);
        const b = await newTenant(d);
        const wa = sdkFor(d, sdk, a);
        const wb = sdkFor(d, sdk, b);
        const user = await wa.userManagement.createUser({ email: `${uniq('del')}@example.com` });

        await rejectsWith(wb.userManagement.getUser(user.id), sdk, 'NotFoundException', 'entity_not_found', "A's user with B's key");
        await rejectsWith(wb.userManagement.updateUser({ userId: user.id, firstName: 'X' }), sdk, 'NotFoundException', 'entity_not_found', "update A's user with B's key");
        await rejectsWith(wb.userManagement.deleteUser(user.id), sdk, 'NotFoundException', 'entity_not_found', "delete A's user with B's key");
        assert.equal((await wa.userManagement.getUser(user.id)).id, user.id);

        await wa.userManagement.deleteUser(user.id);
        const deleted = (await wa.events.listEvents({ events: ['user.deleted'] })).data;
        assert.deepEqual(deleted.map((e) => e.data.id), [user.id]);
        assert.deepEqual((await wb.events.listEvents({ events: ['user.deleted'] })).data, []);
        await rejectsWith(wa.userManagement.getUser(user.id), sdk, 'NotFoundException', 'entity_not_found', 'deleted user');
        await rejectsWith(wa.userManagement.deleteUser(user.id), sdk, 'NotFoundException', 'entity_not_found', 'deleted twice');
        assert.deepEqual((await wa.userManagement.listUsers({ email: user.email })).data, []);

        const res = await raw(d, 'DELETE', `/user_management/users/${user.id}`, a.key);
        assert.equal(res.status, 404);
        assert.equal(res.json.code, 'entity_not_found');
      });
    });
  }
});
