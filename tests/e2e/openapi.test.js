'use strict';
// The OpenAPI documents (docs/openapi/): each validates as OpenAPI 3.1 with
// a validator from npm, the admin listener serves them as they are in the
// repository, and the response checker catches a response a document does
// not describe. Every test file's real responses are checked against them
// by the harness when the file ends (lib/openapi.js).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Validator } = require('@seriousme/openapi-schema-validator');
const h = require('./lib/harness');
const openapi = require('./lib/openapi');

const NAMES = ['xsolla', 'workos', 'cognito', 'velocity', 'admin'];
const DIR = path.join(h.REPO_ROOT, 'docs', 'openapi');

describe('OpenAPI documents', { timeout: 60000 }, () => {
  let d;
  before(async () => {
    d = await h.startDaemon({ admin: true });
  });
  after(async () => {
    if (d) await d.stop();
  });

  for (const name of NAMES) {
    it(`${name}.json is a valid OpenAPI 3.1 document`, async () => {
      const doc = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
      assert.equal(doc.openapi, '3.1.0');
      const result = await new Validator().validate(doc);
      assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
    });
  }

  it('are served on the admin listener with the token, as they are in the repository', async () => {
    for (const name of NAMES) {
      const res = await d.admin('GET', `/openapi/${name}.json`);
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(res.json, JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')));
    }
    const none = await h.request(`${d.adminUrl}/openapi/admin.json`);
    assert.equal(none.status, 401);
    assert.equal((await d.admin('GET', '/openapi/../../etc/passwd')).status, 404);
    assert.equal((await d.admin('GET', '/openapi/secrets.json')).status, 404);
    assert.equal((await h.request(`${d.url}/openapi/xsolla.json`)).status, 404, 'never on the public listener');
  });

  it('describe every route of every face, and the checker refuses what they do not describe', () => {
    const { docs } = openapi.load();
    // Every admin route of the table is in admin.json.
    const src = fs.readFileSync(path.join(h.REPO_ROOT, 'src', 'api', 'admin.c'), 'utf8');
    const routes = [...src.matchAll(/ADMIN\("([A-Z]+)", "([^"]+)"/g)].filter((m) => m[1] !== '*');
    assert.ok(routes.length >= 20);
    for (const [, method, p] of routes) {
      const template = p.replace('{}', p.startsWith('/openapi') ? '{name}' : '{id}');
      const item = docs.admin.doc.paths[template];
      assert.ok(item && item[method.toLowerCase()], `admin.json lacks ${method} ${template}`);
    }
    // A wrong body, an undocumented status and a wrong media type are caught.
    const bad = [
      { listener: 'admin', method: 'GET', url: 'http://x/admin/projects', status: 200, contentType: 'application/json', text: '{"data":[{"id":"x"}]}' },
      { listener: 'admin', method: 'POST', url: 'http://x/admin/projects', status: 418, contentType: 'application/json', text: '{}' },
      { listener: 'public', method: 'POST', url: 'http://x/api/login', status: 200, contentType: 'text/html', text: '<p>' },
      { listener: 'public', method: 'POST', url: 'http://x/user_management/users', status: 201, contentType: 'application/json', text: '{"object":"user"}' },
    ];
    for (const r of bad) assert.ok(openapi.check(r).length > 0, `not caught: ${JSON.stringify(r)}`);
    // What the HTTP layer answers on any path is accepted in its own shape.
    assert.deepEqual(openapi.check({ listener: 'public', method: 'POST', url: 'http://x/api/login', status: 431, contentType: 'application/json', text: '{"error":{"code":"header_fields_too_large","description":"x"}}' }), []);
  });
});
