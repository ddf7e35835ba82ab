'use strict';
// The admin listener and GET /metrics: the listener's token, its wrong-token
// limit, the split between the public and the admin listener, and metrics that
// parse with a Prometheus text parser and move as requests are made.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const parsePrometheus = require('parse-prometheus-text-format');
const { parser: promql } = require('@prometheus-io/lezer-promql');
const h = require('./lib/harness');

const TEST_TIMEOUT = 60000;

// The families of a /metrics text, by name.
function families(text) {
  const out = new Map();
  for (const f of parsePrometheus(text)) out.set(f.name, f);
  return out;
}

async function scrape(d) {
  const res = await d.admin('GET', '/metrics');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const fams = families(res.text);
  fams.text = res.text;
  return fams;
}

// The value of one exact sample line: the npm parser merges the buckets of a
// histogram's labelled series into one, so histogram samples are read here.
function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no sample ${series}`);
  return Number(line.slice(series.length + 1));
}

// The value of the sample of family name whose labels include want.
function value(fams, name, want = {}) {
  const f = fams.get(name);
  assert.ok(f, `no ${name} in /metrics`);
  let sum = 0;
  for (const m of f.metrics) {
    const labels = m.labels || {};
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) sum += Number(m.value);
  }
  return sum;
}

describe('admin listener', { timeout: TEST_TIMEOUT }, () => {
  let d;
  before(async () => {
    d = await h.startDaemon({ admin: true });
  });
  after(async () => {
    if (d) await d.stop();
  });

  it('refuses a missing, malformed or wrong token with 401, and takes the right one', async () => {
    for (const headers of [{}, { Authorization: 'Basic eDp5' }, { Authorization: `Bearer ${d.adminToken}x` },
      { Authorization: `Bearer ${d.adminToken.slice(0, -1)}` }, { Authorization: 'Bearer ' }]) {
      const res = await h.request(`${d.adminUrl}/metrics`, { headers });
      assert.equal(res.status, 401, `${JSON.stringify(headers)}: ${res.text}`);
      assert.equal(res.json.error.code, 'unauthorized');
      assert.match(res.headers['www-authenticate'], /^Bearer/);
    }
    const ok = await d.admin('GET', '/metrics');
    assert.equal(ok.status, 200);
  });

  it('never answers admin paths or /metrics on the public listener', async () => {
    for (const p of ['/metrics', '/admin/projects', '/admin/users/x', '/openapi/admin.json']) {
      const res = await h.request(`${d.url}${p}`, { headers: { Authorization: `Bearer ${d.adminToken}` } });
      assert.equal(res.status, 404, `${p} on the public listener: ${res.status}`);
    }
  });

  it("never answers a dialect's routes on the admin listener", async () => {
    for (const [method, p] of [['GET', '/healthz'], ['POST', '/api/login'], ['POST', '/'],
      ['POST', '/user_management/authenticate'], ['GET', '/forgot'], ['POST', '/password/forgot']]) {
      const res = await d.admin(method, p, method === 'POST' ? {} : undefined);
      assert.equal(res.status, 404, `${method} ${p} on the admin listener: ${res.status} ${res.text}`);
    }
  });

  it('parses with a Prometheus parser, and its counters move as requests are made', async () => {
    const before = await scrape(d);
    const route = { face: 'xsolla', method: 'POST', route: '/api/login', status: '400' };
    const n0 = value(before, 'resetd_http_requests_total', route);
    for (let i = 0; i < 3; i++) {
      const res = await h.request(`${d.url}/api/login`, { method: 'POST', body: '{' });
      assert.equal(res.status, 400);
    }
    const after = await scrape(d);
    assert.equal(value(after, 'resetd_http_requests_total', route), n0 + 3);
    assert.equal(after.get('resetd_http_request_duration_seconds').type, 'HISTOGRAM');
    const count = 'resetd_http_request_duration_seconds_count{face="xsolla"}';
    assert.equal(sample(after.text, count), sample(before.text, count) + 3);
    const inf = 'resetd_http_request_duration_seconds_bucket{face="xsolla",le="+Inf"}';
    assert.equal(sample(after.text, inf), sample(after.text, count));
    // No label value comes from a request: every route label is a pattern of the table.
    for (const m of after.get('resetd_http_requests_total').metrics) {
      assert.ok(!/[?@]/.test(m.labels.route), `route label ${m.labels.route}`);
    }
  });
});

describe('domain counters', { timeout: TEST_TIMEOUT }, () => {
  it('sign-ins, secrets, mail, limits and hashing move as a reset flow runs', async () => {
    const d = await h.startDaemon({ admin: true, env: { RESETD_RATE_IP_LOGIN: '4' } });
    try {
      const project = await d.cli(['project', 'create', '--name', 'metrics', '--callback-url', 'http://localhost:3999/cb']);
      const email = `m-${crypto.randomBytes(4).toString('hex')}@example.com`;
      const pw = h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
      await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: pw });
      const m0 = await scrape(d);
      const api = (p, body) => h.request(`${d.url}/api${p}?projectId=${project.id}`, { method: 'POST', body });

      assert.equal((await api('/login', { username: email, password: pw })).status, 200);
      assert.notEqual((await api('/login', { username: email, password: `${pw}x` })).status, 200);
      assert.equal((await api('/password/reset/request', { username: email })).status, 204);
      const mail = await h.waitForMail(d.maildir, (x) => h.mailTo(email)(x) && h.extractResetLink(x.text) !== null);
      const link = h.extractResetLink(mail.text);
      h.registerSecret(link.reset_code);
      const pw2 = h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}?`);
      const confirm = await api('/password/reset/confirm', { new_password: pw2, reset_code: link.reset_code, user_id: link.user_id });
      assert.equal(confirm.status, 204, confirm.text);
      // The login limit is 4 an address: two more tries pass it.
      let limited = 0;
      for (let i = 0; i < 3; i++) if ((await api('/login', { username: email, password: 'nope-nope' })).status === 429) limited++;
      assert.ok(limited >= 1);
      await h.waitForMail(d.maildir, (x) => h.mailTo(email)(x) && h.extractResetLink(x.text) === null);

      const m1 = await scrape(d);
      const delta = (name, labels) => value(m1, name, labels) - value(m0, name, labels);
      assert.equal(delta('resetd_signins_total', { result: 'succeeded' }), 1);
      assert.ok(delta('resetd_signins_total', { result: 'failed' }) >= 2);
      assert.equal(delta('resetd_secrets_total', { event: 'issued' }), 1);
      assert.equal(delta('resetd_secrets_total', { event: 'consumed' }), 1);
      assert.equal(delta('resetd_rate_limited_total', { class: 'login' }), limited);
      assert.ok(delta('resetd_mail_delivered_total', { transport: 'maildir' }) >= 2, 'the reset and the notice were delivered');
      assert.equal(value(m1, 'resetd_password_hashes_in_flight'), 0);
      const waits = 'resetd_password_hash_wait_seconds_count';
      assert.ok(sample(m1.text, waits) > sample(m0.text, waits), 'hash waits were measured');
      const commits = 'resetd_db_commit_seconds_count';
      assert.ok(sample(m1.text, commits) > sample(m0.text, commits), 'commits were measured');
      assert.ok(sample(m1.text, 'resetd_db_commit_batch_size_count') > 0);
      assert.ok(m1.has('resetd_outbox_messages'));
    } finally {
      await d.stop();
    }
  });
});

// The metric names and label matchers of a PromQL expression, from the
// Prometheus project's own grammar; throws on a syntax error.
function selectors(expr) {
  const tree = promql.parse(expr);
  const out = [];
  const c = tree.cursor();
  do {
    if (c.type.isError) throw new Error(`PromQL syntax error at ${c.from} in ${expr}`);
    if (c.name === 'VectorSelector') {
      const text = expr.slice(c.from, c.to);
      const name = text.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*/)[0];
      const labels = [...text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((m) => m[1]);
      out.push({ name, labels });
    }
  } while (c.next());
  return out;
}

describe('Grafana dashboard', { timeout: TEST_TIMEOUT }, () => {
  it('queries only metrics and labels that /metrics has', async () => {
    const dash = JSON.parse(fs.readFileSync(path.join(h.REPO_ROOT, 'contrib', 'grafana-resetd.json'), 'utf8'));
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 12, 'the dashboard has its panels');
    const d = await h.startDaemon({ admin: true });
    try {
      // Traffic on every face the dashboard breaks down, so the sparse series exist.
      await h.request(`${d.url}/healthz`);
      await h.request(`${d.url}/api/login`, { method: 'POST', body: '{' });
      const m = await scrape(d);
      // Every sample line's series name, and the labels each carries.
      const series = new Map();
      for (const line of m.text.split('\n')) {
        const hit = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /);
        if (!hit) continue;
        const labels = series.get(hit[1]) || new Set();
        for (const l of (hit[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]);
        series.set(hit[1], labels);
      }
      const names = new Set();
      for (const expr of exprs) {
        for (const sel of selectors(expr)) {
          names.add(sel.name);
          assert.ok(series.has(sel.name), `the dashboard queries ${sel.name}, which /metrics lacks (${expr})`);
          for (const l of sel.labels) assert.ok(series.get(sel.name).has(l), `${sel.name} has no label ${l} (${expr})`);
        }
      }
      // And every family /metrics exposes is on the dashboard.
      for (const f of m.keys()) {
        const used = [...names].some((n) => n === f || n.startsWith(`${f}_`));
        assert.ok(used, `the dashboard shows nothing of ${f}`);
      }
    } finally {
      await d.stop();
    }
  });
});

describe('admin listener off', { timeout: TEST_TIMEOUT }, () => {
  it('is off when admin_listen is empty, and off without a token', async () => {
    const port = await h.freePort();
    const d = await h.startDaemon({ env: { RESETD_ADMIN_LISTEN: `127.0.0.1:${port}` } });
    try {
      await assert.rejects(h.request(`http://127.0.0.1:${port}/metrics`, { timeoutMs: 2000 }));
      assert.ok(d.stderrLines.some((l) => l.includes('no admin listener')), 'a line says why');
    } finally {
      await d.stop();
    }
  });
});

describe('wrong tokens', { timeout: TEST_TIMEOUT }, () => {
  it('are limited per address: past the limit even the right token gets 429', async () => {
    const d = await h.startDaemon({ admin: true, env: { RESETD_RATE_ADMIN_AUTH: '3' } });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await h.request(`${d.adminUrl}/metrics`, { headers: { Authorization: 'Bearer nope' } });
        assert.equal(res.status, 401);
      }
      const held = await h.request(`${d.adminUrl}/metrics`, { headers: { Authorization: 'Bearer nope' } });
      assert.equal(held.status, 429);
      assert.ok(Number(held.headers['retry-after']) >= 1);
      const right = await d.admin('GET', '/metrics');
      assert.equal(right.status, 429, 'a right guess while held tells nothing');
    } finally {
      await d.stop();
    }
  });
});
