'use strict';
// Black-box tests of the promise that no request ends the daemon (issue 13,
// docs/abuse.md "No request ends the process"): bytes that are not UTF-8 in
// bodies, in every header a face reads, in paths and queries; JSON declared
// in another charset.  Each face answers in its own shape with a 4xx, the
// daemon is still alive afterwards (/healthz), and every line it logged
// parses as JSON.  The requests go over a raw socket, so that the bytes on
// the wire are exactly the ones written here.
// Run: node --test tests/e2e/hostile.test.js (RESETD_BIN, RESETD_TEST_DB)

const { describe, it, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const h = require('./lib/harness');

const TEST_TIMEOUT = 120000;
const TARGET = 'AWSCognitoIdentityProviderService.';

// Members of the class: each is not UTF-8 (or, for nul, not text).
const BAD = {
  lone_lead: Buffer.from([0xc3]),
  cut_sequence: Buffer.from([0x61, 0xe2, 0x82]),
  overlong: Buffer.from([0xc0, 0xaf]),
  surrogate: Buffer.from([0xed, 0xa0, 0x80]),
  beyond_unicode: Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  stray_continuation: Buffer.from([0x80]),
  ff: Buffer.from([0xff, 0xfe]),
};
// The 7-byte body that used to end the daemon: {"\é"} with the escape
// cut so that jansson's message ends in a lone lead byte.
const CRASH = Buffer.from([0x7b, 0x22, 0x5c, 0xc3, 0xa9, 0x22, 0x7d]);

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

const b = (s) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

// One request over its own connection, bytes as given.  headers is a list
// of [name, value] pairs, each a string or a Buffer.
function raw(d, method, target, headers = [], body) {
  return new Promise((resolve, reject) => {
    const parts = [b(`${method} `), b(target), b(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n')];
    for (const [k, v] of headers) parts.push(b(k), b(': '), b(v), b('\r\n'));
    if (body !== undefined) parts.push(b(`Content-Length: ${b(body).length}\r\n`));
    parts.push(b('\r\n'));
    if (body !== undefined) parts.push(b(body));
    const sock = net.connect(d.port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => sock.destroy(new Error(`${method} ${target}: no answer`)), 15000);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`${method} ${target}: no answer (${all.length} bytes)`));
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const hdrs = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let bodyBuf = all.subarray(end + 4);
      if (/chunked/i.test(hdrs['transfer-encoding'] || '')) bodyBuf = unchunk(bodyBuf);
      let json;
      try {
        json = JSON.parse(bodyBuf.toString('utf8'));
      } catch {
        json = undefined;
      }
      resolve({ status, headers: hdrs, body: bodyBuf, text: bodyBuf.toString('utf8'), json });
    });
    // Written, not half-closed: the server closes after its answer.
    sock.write(Buffer.concat(parts));
  });
}

function unchunk(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    const eol = buf.indexOf('\r\n', i);
    const n = parseInt(buf.subarray(i, eol).toString(), 16);
    if (!n) break;
    out.push(buf.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}

// Each face's error shape.
const SHAPES = {
  cognito(res) {
    assert.equal(typeof res.json?.__type, 'string', res.text);
    assert.equal(typeof res.json.message, 'string');
    assert.equal(res.headers['x-amzn-errortype'], `${res.json.__type}:`);
  },
  velocity(res) {
    assert.equal(typeof res.json?.error?.code, 'string', res.text);
    assert.equal(typeof res.json.error.message, 'string');
  },
  workos(res) {
    assert.equal(typeof res.json?.code, 'string', res.text);
    assert.equal(typeof res.json.message, 'string');
  },
  xsolla(res) {
    assert.ok(res.json?.error && 'code' in res.json.error, res.text);
    assert.equal(typeof res.json.error.description, 'string');
  },
  pages(res) {
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.match(res.text, /<!DOCTYPE html>/i);
  },
  http(res) {
    assert.equal(typeof res.json?.error?.code, 'string', res.text);
  },
};

function check(res, shape, { status } = {}) {
  if (status !== undefined) assert.equal(res.status, status, res.text);
  else assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}: ${res.text}`);
  // Whatever came back is valid UTF-8: no client byte echoed raw.
  assert.ok(Buffer.from(res.text, 'utf8').equals(res.body), 'the answer is not UTF-8');
  SHAPES[shape](res);
}

describe('hostile bytes: no request ends the daemon', { timeout: TEST_TIMEOUT * 4 }, () => {
  let d;
  let t;
  // The daemon's stderr as bytes (the harness's lines are decoded, which
  // would hide bytes that are not UTF-8).
  const stderrChunks = [];

  before(async () => {
    d = await h.startDaemon();
    d.proc.stderr.on('data', (c) => stderrChunks.push(c));
    const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--callback-url', 'http://localhost:3999/cb']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
    h.registerSecret(key);
    const email = `${uniq('u')}@example.com`;
    await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], {
      input: h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`),
    });
    t = { project, client, key, email };
  });

  // Each case on a live daemon, so that one that ended it does not hide
  // the others.
  beforeEach(async () => {
    if (d && !d.running()) {
      await d.restart({ migrate: false });
      d.proc.stderr.on('data', (c) => stderrChunks.push(c));
    }
  });

  after(async () => {
    if (d) await d.stop();
  });

  async function alive() {
    assert.ok(d.running(), `the daemon exited (code ${d.exitCode})\n${d.stderrLines.slice(-5).join('\n')}`);
    const res = await raw(d, 'GET', '/healthz');
    assert.equal(res.status, 200);
  }

  const cognito = (op, headers, body) =>
    raw(d, 'POST', '/', [['X-Amz-Target', TARGET + op], ...headers], body);

  it('Cognito: the 7-byte body and its class in bodies, headers and charsets', { timeout: TEST_TIMEOUT }, async () => {
    for (const ct of ['application/json', 'application/x-amz-json-1.1']) {
      check(await cognito('ForgotPassword', [['Content-Type', ct]], CRASH), 'cognito', { status: 400 });
      check(await cognito('ConfirmForgotPassword', [['Content-Type', ct]], CRASH), 'cognito', { status: 400 });
      await alive();
    }
    for (const [name, v] of Object.entries(BAD)) {
      const json = [['Content-Type', 'application/json']];
      check(await cognito('ForgotPassword', json, Buffer.concat([b('{"ClientId":"'), v, b(`","Username":"${t.email}"}`)])), 'cognito', { status: 400 });
      check(await cognito('ForgotPassword', json, Buffer.concat([b('{"'), v])), 'cognito', { status: 400 });
      check(await raw(d, 'POST', '/', [['X-Amz-Target', Buffer.concat([b(TARGET), v])], ...json], b('{}')), 'cognito', { status: 400 });
      check(await cognito('ForgotPassword', [...json, ['Origin', Buffer.concat([b('https://'), v])]], b('{}')), 'cognito', { status: 400 });
      check(await cognito('ForgotPassword', [['Content-Type', Buffer.concat([b('application/json'), v])]], b('{}')), 'cognito', { status: 400 });
      await alive();
      void name;
    }
    const res = await cognito('ForgotPassword', [['Content-Type', 'application/json; charset=utf-16']], b(JSON.stringify({ ClientId: t.client.client_id, Username: t.email })));
    check(res, 'cognito', { status: 400 });
    assert.equal(res.json.__type, 'SerializationException');
    await alive();
  });

  it('Velocity: userpoolid and appclientid, bodies, charsets', { timeout: TEST_TIMEOUT }, async () => {
    const base = [['userpoolid', t.project.id], ['appclientid', t.client.client_id], ['Content-Type', 'application/json']];
    for (const p of ['/password/forgot', '/authapi/password/forgot/confirm']) {
      check(await raw(d, 'POST', p, base, CRASH), 'velocity', { status: 400 });
    }
    for (const v of Object.values(BAD)) {
      const body = b(JSON.stringify({ userName: t.email }));
      check(await raw(d, 'POST', '/password/forgot', [['userpoolid', Buffer.concat([b(t.project.id), v])], base[1], base[2]], body), 'velocity', { status: 400 });
      check(await raw(d, 'POST', '/password/forgot', [base[0], ['appclientid', Buffer.concat([b('client_x'), v])], base[2]], body), 'velocity', { status: 400 });
      check(await raw(d, 'POST', '/password/forgot/confirm', base, Buffer.concat([b('{"userName":"'), v, b('"}')])), 'velocity', { status: 400 });
      await alive();
    }
    const res = await raw(d, 'POST', '/password/forgot', [base[0], base[1], ['Content-Type', 'application/json; charset="UTF-16"']], b(JSON.stringify({ userName: t.email })));
    check(res, 'velocity', { status: 400 });
    await alive();
  });

  it('WorkOS: Authorization, Idempotency-Key, ids in paths, bodies, charsets', { timeout: TEST_TIMEOUT }, async () => {
    const auth = ['Authorization', `Bearer ${t.key}`];
    const json = ['Content-Type', 'application/json'];
    check(await raw(d, 'POST', '/user_management/password_reset', [auth, json], CRASH), 'workos', { status: 400 });
    for (const v of Object.values(BAD)) {
      const body = b(JSON.stringify({ email: t.email }));
      check(await raw(d, 'POST', '/user_management/password_reset', [['Authorization', Buffer.concat([b('Bearer '), v])], json], body), 'workos', { status: 400 });
      check(await raw(d, 'POST', '/user_management/password_reset', [auth, json, ['Idempotency-Key', v]], body), 'workos', { status: 400 });
      check(await raw(d, 'POST', '/user_management/users', [auth, json], Buffer.concat([b('{"email":"'), v, b('"}')])), 'workos', { status: 400 });
      const hex = [...v].map((x) => `%${x.toString(16)}`).join('');
      check(await raw(d, 'GET', `/user_management/users/user_${hex}`, [auth]), 'workos', { status: 404 });
      check(await raw(d, 'GET', `/user_management/password_reset/password_reset_${hex}`, [auth]), 'workos', { status: 404 });
      check(await raw(d, 'GET', Buffer.concat([b('/user_management/users/'), v]), [auth]), 'workos');
      await alive();
    }
    const res = await raw(d, 'POST', '/user_management/password_reset', [auth, ['Content-Type', 'application/json; charset=utf-16']], b(JSON.stringify({ email: t.email })));
    check(res, 'workos', { status: 415 });
    assert.equal(res.json.code, 'unsupported_media_type');
    await alive();
  });

  it('Xsolla: Origin, Authorization, queries, bodies, charsets', { timeout: TEST_TIMEOUT }, async () => {
    const q = `?projectId=${t.project.id}`;
    const json = ['Content-Type', 'application/json'];
    check(await raw(d, 'POST', `/api/password/reset/request${q}`, [json], CRASH), 'xsolla', { status: 400 });
    check(await raw(d, 'POST', `/login${q}`, [json], CRASH), 'xsolla', { status: 400 });
    for (const v of Object.values(BAD)) {
      const body = b(JSON.stringify({ username: t.email }));
      const hex = [...v].map((x) => `%${x.toString(16)}`).join('');
      check(await raw(d, 'POST', `/password/reset/request${q}`, [json, ['Origin', Buffer.concat([b('https://'), v])]], body), 'xsolla', { status: 400 });
      check(await raw(d, 'OPTIONS', `/login${q}`, [['Origin', Buffer.concat([b('https://'), v])]]), 'xsolla', { status: 400 });
      check(await raw(d, 'GET', '/users/me', [['Authorization', Buffer.concat([b('Bearer '), v])]]), 'xsolla', { status: 400 });
      check(await raw(d, 'POST', `/password/reset/request?projectId=${hex}`, [json], body), 'xsolla', { status: 400 });
      check(await raw(d, 'POST', `/login${q}&login_url=${hex}`, [json], b('{"username":"a","password":"b"}')), 'xsolla', { status: 400 });
      check(await raw(d, 'POST', `/login${q}`, [json], Buffer.concat([b('{"username":"'), v, b('","password":"x"}')])), 'xsolla', { status: 400 });
      await alive();
    }
    const res = await raw(d, 'POST', `/password/reset/request${q}`, [['Content-Type', 'application/json; charset=utf-16']], b(JSON.stringify({ username: t.email })));
    check(res, 'xsolla', { status: 400 });
    await alive();
  });

  it('hosted pages: Cookie, Accept-Language, Sec-Fetch-Site, forms, queries', { timeout: TEST_TIMEOUT }, async () => {
    const form = ['Content-Type', 'application/x-www-form-urlencoded'];
    for (const v of Object.values(BAD)) {
      const hex = [...v].map((x) => `%${x.toString(16)}`).join('');
      check(await raw(d, 'GET', `/forgot?project=${t.project.id}`, [['Cookie', Buffer.concat([b('resetd_form='), v])]]), 'pages', { status: 400 });
      check(await raw(d, 'GET', `/forgot?project=${t.project.id}`, [['Accept-Language', v]]), 'pages', { status: 400 });
      check(await raw(d, 'GET', '/reset', [['Sec-Fetch-Site', v]]), 'pages', { status: 400 });
      check(await raw(d, 'POST', '/reset/code', [['Content-Type', Buffer.concat([b('application/x-www-form-urlencoded'), v])]], b(`project=${t.project.id}`)), 'pages', { status: 400 });
      check(await raw(d, 'POST', '/forgot', [form], b(`project=${t.project.id}&email=${hex}&csrf=x`)), 'pages');
      check(await raw(d, 'GET', `/reset/code?project=${t.project.id}&locale=${hex}`), 'pages');
      check(await raw(d, 'GET', `/reset?token=${hex}&user_id=${hex}`), 'pages');
      check(await raw(d, 'GET', `/reset/cancel?id=${hex}&sig=${hex}`), 'pages');
      await alive();
    }
  });

  it('paths that are not UTF-8 are 404, and every log line parses as JSON', { timeout: TEST_TIMEOUT }, async () => {
    check(await raw(d, 'GET', '/%ff%c3%22x'), 'http', { status: 404 });
    check(await raw(d, 'GET', Buffer.from([0x2f, 0xff, 0xc3, 0x22, 0x78])), 'http', { status: 404 });
    for (const v of Object.values(BAD)) check(await raw(d, 'GET', Buffer.concat([b('/'), v, b('?a='), v])), 'http', { status: 404 });
    await alive();
    await h.sleep(200); // let the last log lines arrive
    let requests = 0;
    let escaped = 0;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const all = Buffer.concat(stderrChunks);
    let start = 0;
    while (start < all.length) {
      let end = all.indexOf(0x0a, start);
      if (end < 0) end = all.length;
      const bytes = all.subarray(start, end);
      start = end + 1;
      let line;
      let o;
      assert.doesNotThrow(() => {
        line = utf8.decode(bytes);
      }, `a log line is not UTF-8: ${bytes.toString('latin1')}`);
      assert.doesNotThrow(() => {
        o = JSON.parse(line);
      }, `a log line is not JSON: ${JSON.stringify(line)}`);
      if (o.msg === 'request') requests++;
      if (o.msg === 'request' && typeof o.path === 'string' && o.path.includes('\ufffd')) escaped++;
    }
    assert.ok(requests > 100, `only ${requests} request lines`);
    assert.ok(escaped >= 2, 'the paths that are not UTF-8 are logged with U+FFFD');
  });
});
