'use strict';
// Black-box test: a path no face serves, asked with a WorkOS API key,
// answers in WorkOS's error shape (JSON {"code","message"}, 404), so the
// SDK reports NotFoundException rather than a parse error; without a key
// the plain answer stays, and paths other faces serve are theirs.
// Run: node --test tests/e2e/workos-unknown.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('unknown paths with a WorkOS key', () => {
  let d;
  let key;
  let project;

  before(async () => {
    d = await h.startDaemon();
    project = await d.cli(['project', 'create', '--name', `wos-${crypto.randomBytes(4).toString('hex')}`]);
    key = h.registerSecret((await d.cli(['apikey', 'create', '--project', project.id])).key);
  });

  after(async () => {
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  it('answers 404 in WorkOS shape for any method', { timeout: 60000 }, async () => {
    for (const [method, path] of [['GET', '/organizations'], ['POST', '/directory_sync/x'], ['DELETE', '/nosuch/path'], ['GET', '/']]) {
      const res = await h.request(`${d.url}${path}`, { method, headers: { Authorization: `Bearer ${key}` }, body: method === 'POST' ? {} : undefined });
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.match(res.headers['content-type'] || '', /^application\/json/);
      assert.equal(res.json.code, 'not_found');
      assert.equal(typeof res.json.message, 'string');
    }
    // A key-shaped but unknown key gets the shape too: it says nothing of keys.
    const other = await h.request(`${d.url}/organizations`, { headers: { Authorization: 'Bearer sk_test_unknown' } });
    assert.equal(other.status, 404);
    assert.equal(other.json.code, 'not_found');
  });

  it('leaves other answers alone', { timeout: 60000 }, async () => {
    const plain = await h.request(`${d.url}/organizations`);
    assert.equal(plain.status, 404);
    // Another face's path is still that face's, key or not.
    const xs = await h.request(`${d.url}/password/reset/request?projectId=${project.id}`, {
      method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: { username: 'nobody@example.com' },
    });
    assert.equal(xs.status, 204, xs.text);
    const health = await h.request(`${d.url}/healthz`, { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(health.status, 200);
  });
});
