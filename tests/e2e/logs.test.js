'use strict';
// The log: levels set by log_level, one JSON object per line on standard
// error, every line valid JSON whatever a client sends, and no secret of
// the run in any line (passwords, reset codes, session tokens, API keys,
// the SMTP password, the server secret, query strings).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./lib/harness');
const { startSmtp } = require('./lib/smtp');

const LEVELS = ['debug', 'info', 'warn', 'error'];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

// Every stderr line of d, parsed; fails on the first that is not a JSON
// object with a time, a known level and a message.
function logLines(d) {
  return d.stderrLines.map((line, i) => {
    let v;
    try {
      v = JSON.parse(line);
    } catch (err) {
      assert.fail(`stderr line ${i + 1} is not JSON (${err.message}): ${line}`);
    }
    assert.ok(v && typeof v === 'object' && !Array.isArray(v), `line ${i + 1} is not an object: ${line}`);
    assert.match(v.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `line ${i + 1}: ts`);
    assert.ok(LEVELS.includes(v.level), `line ${i + 1}: level ${v.level}`);
    assert.equal(typeof v.msg, 'string', `line ${i + 1}: msg`);
    return v;
  });
}

// Bytes no client library would send: a request line with a path of
// quotes, a backslash, bytes that are not UTF-8 and a query with a secret,
// and headers with quotes and controls. Resolves with the answer's text.
function rawBytes(port, secret) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', reject);
    sock.setTimeout(10000, () => sock.destroy(new Error('no answer')));
    sock.write(
      Buffer.concat([
        Buffer.from('GET /api/login/"\\'),
        Buffer.from([0xff, 0xc3, 0x28, 0x01, 0x7f]),
        Buffer.from(`?token=${secret}&x="} HTTP/1.1\r\nHost: 127.0.0.1\r\n`),
        Buffer.from('User-Agent: "}{\\\x01 \xff\r\nX-Forwarded-For: "1.2.3.4\r\nConnection: close\r\n\r\n', 'latin1'),
      ])
    );
  });
}

test('at log_level debug, every line is a JSON object and no secret of the run is in any', async () => {
  const smtpUser = 'resetd-logs';
  const smtpPass = h.registerSecret(`smtp-${crypto.randomBytes(12).toString('hex')}`);
  const smtp = await startSmtp({ tls: true, auth: { user: smtpUser, pass: smtpPass } });
  const serverSecret = h.registerSecret(crypto.randomBytes(32).toString('hex'));
  const secrets = [smtpPass, serverSecret];
  const keep = (s) => {
    h.registerSecret(s);
    secrets.push(s);
    return s;
  };
  let d = null;
  try {
    d = await h.startDaemon({
      env: {
        RESETD_LOG_LEVEL: 'debug',
        RESETD_SERVER_SECRET: serverSecret,
        RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}`,
        RESETD_MAIL_STARTTLS: 'required',
        RESETD_MAIL_CA_FILE: smtp.caFile,
        RESETD_MAIL_USERNAME: smtpUser,
        RESETD_MAIL_PASSWORD: smtpPass,
        RESETD_MAIL_POLL_MS: '100',
      },
    });
    const project = await d.cli(['project', 'create', '--name', uniq('logs'), '--callback-url', 'https://app.example.com/signed-in']);
    const email = `${uniq('user')}@example.com`;
    const password = keep(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
    await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    const api = (p) => `${d.url}/api${p}?projectId=${project.id}`;

    // A whole reset, by mail over SMTP with AUTH, and a login.
    assert.equal((await h.request(api('/password/reset/request'), { method: 'POST', body: { username: email } })).status, 204);
    const mail = await smtp.waitForMail(email);
    const link = h.extractResetLink(mail.mail.text);
    assert.ok(link, mail.mail.text);
    keep(link.reset_code);
    const newPassword = keep(`Np-${crypto.randomBytes(9).toString('base64url')}!`);
    const confirm = await h.request(api('/password/reset/confirm'), {
      method: 'POST',
      body: { new_password: newPassword, reset_code: link.reset_code, user_id: link.user_id },
    });
    assert.equal(confirm.status, 204, confirm.text);
    const ok = await h.request(api('/login'), { method: 'POST', body: { username: email, password: newPassword } });
    assert.equal(ok.status, 200, ok.text);
    const token = new URL(ok.json.login_url).searchParams.get('token');
    keep(token);
    // A wrong password, an old code, a session token in a query string.
    const wrong = keep(`Wr-${crypto.randomBytes(9).toString('base64url')}!`);
    assert.notEqual((await h.request(api('/login'), { method: 'POST', body: { username: email, password: wrong } })).status, 200);
    assert.notEqual((await h.request(api('/password/reset/confirm'), {
      method: 'POST',
      body: { new_password: wrong, reset_code: link.reset_code, user_id: link.user_id },
    })).status, 204);
    await h.request(`${d.url}/api/users/me?token=${token}`);

    // An API key used with the WorkOS face, once right and once mangled.
    const { key } = await d.cli(['apikey', 'create', '--project', project.id]);
    keep(key);
    await h.request(`${d.url}/user_management/users?email=${encodeURIComponent(email)}`, { headers: { Authorization: `Bearer ${key}` } });
    await h.request(`${d.url}/user_management/users`, { headers: { Authorization: `Bearer ${key}x` } });

    // Hostile bytes.
    const querySecret = keep(`q-${crypto.randomBytes(12).toString('hex')}`);
    assert.match(await rawBytes(d.port, querySecret), /^HTTP\/1\.1 \d{3} /);
    await h.request(api('/login'), { method: 'POST', body: '{"username": "\u0000\\ud800", "password": ' });

    // The mail sender's debug line came with the mail.
    await d.stop();
    const lines = logLines(d);
    assert.ok(lines.some((l) => l.level === 'debug' && /^mail: claimed \d+ due messages$/.test(l.msg)), 'no debug line at log_level debug');
    assert.ok(lines.some((l) => l.msg === 'request'), 'no request line at log_level debug');
    assert.ok(lines.length >= 10, `only ${lines.length} lines`);

    // The raw request is there, its query gone, its bytes escaped.
    const raw = lines.find((l) => l.msg === 'request' && typeof l.path === 'string' && l.path.startsWith('/api/login/"\\'));
    assert.ok(raw, 'no log line for the raw request');
    assert.ok(!raw.path.includes('?'), raw.path);

    for (const line of d.stderrLines) {
      for (const s of secrets) assert.ok(!line.includes(s), `a secret (${s.slice(0, 6)}...) is in: ${line.slice(0, 300)}`);
    }
  } finally {
    if (d) await d.stop();
    await smtp.stop();
  }
});

test('log_level warn writes no info or debug line, and error writes only errors', async () => {
  for (const level of ['warn', 'error']) {
    // A lease no longer than the send timeout is a warning at start.
    const d = await h.startDaemon({
      env: { RESETD_LOG_LEVEL: level, RESETD_MAIL_LEASE_SECONDS: '5', RESETD_MAIL_SEND_TIMEOUT_MS: '10000' },
    });
    const project = await d.cli(['project', 'create', '--name', uniq('quiet')]);
    for (let i = 0; i < 3; i++) {
      await h.request(`${d.url}/healthz`);
      await h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, { method: 'POST', body: { username: 'nobody@example.com' } });
    }
    await d.stop();
    const lines = logLines(d);
    const allowed = LEVELS.slice(LEVELS.indexOf(level));
    for (const l of lines) assert.ok(allowed.includes(l.level), `${l.level} line at log_level ${level}: ${l.msg}`);
    const leaseWarning = lines.some((l) => /mail_lease_seconds/.test(l.msg));
    assert.equal(leaseWarning, level === 'warn', `the lease warning at log_level ${level}`);
  }
});

test('a config file with a bad log_level is refused, naming the key', async () => {
  const dir = h.makeTempDir();
  const file = path.join(dir, 'resetd.conf');
  fs.writeFileSync(file, 'log_level = chatty\n');
  const r = require('node:child_process').spawnSync(h.binPath(), ['--config', file, 'check-config'], {
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /log_level: expected debug, info, warn or error/);
});
