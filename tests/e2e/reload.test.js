'use strict';
// SIGHUP reads the configuration file again and applies what can change
// while requests run: here the log level, the login rate limit, the body
// size cap, the mail transport and sender, and the mail templates. It says what changed and what waits for a
// restart, keeps the old configuration when the new one is bad, and fails
// no request: a bounded load runs through every reload and each of its
// requests must get its normal answer.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');
const { notifySocket } = require('./lib/notify');

const LOAD_WORKERS = 4;
const LOAD_MAX = 4000; // requests, at most; the load stops earlier when told

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

// The lines of the configuration file the test rewrites; the harness's own
// settings (listen, database, mail, argon2) stay in the environment.
function writeConfig(file, settings) {
  const text = Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}\n`)
    .join('');
  fs.writeFileSync(file, `# written by tests/e2e/reload.test.js\n${text}`);
}

function parsed(d) {
  return d.stderrLines.map((l) => JSON.parse(l));
}

// Waits until the daemon has logged a line satisfying pred after index from.
async function waitForLog(d, pred, from = 0, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const i = d.stderrLines.findIndex((l, j) => j >= from && pred(JSON.parse(l)));
    if (i !== -1) return i;
    if (Date.now() > end) throw new Error(`no such log line within ${timeoutMs} ms:\n${d.stderrLines.slice(-20).join('\n')}`);
    await h.sleep(20);
  }
}

// A bounded load: LOAD_WORKERS loops of cheap and worker-thread requests
// (health, readiness, reset requests for addresses with no account), until
// stop() or LOAD_MAX requests. Resolves with {sent, failures}.
function startLoad(d, project) {
  let stop = false;
  let sent = 0;
  const failures = [];
  const one = async (i) => {
    const kind = i % 3;
    try {
      if (kind === 0) {
        const r = await h.request(`${d.url}/healthz`);
        if (r.status !== 200) failures.push(`healthz ${r.status}`);
      } else if (kind === 1) {
        const r = await h.request(`${d.url}/readyz`);
        if (r.status !== 200) failures.push(`readyz ${r.status}`);
      } else {
        const u = `${d.url}/api/password/reset/request?projectId=${project.id}`;
        const r = await h.request(u, { method: 'POST', body: { username: `${uniq('nobody')}@example.com` } });
        if (r.status !== 204) failures.push(`reset request ${r.status} ${r.text}`);
      }
    } catch (err) {
      failures.push(`${['healthz', 'readyz', 'reset request'][kind]}: ${err.cause ? err.cause.code || err.cause.message : err.message}`);
    }
  };
  const worker = async () => {
    while (!stop && sent < LOAD_MAX) await one(sent++);
  };
  const done = Promise.all(Array.from({ length: LOAD_WORKERS }, worker));
  return {
    async stop() {
      stop = true;
      await done;
      return { sent, failures };
    },
    count: () => sent,
  };
}

async function login(d, project, username, password) {
  const u = `${d.url}/api/login?projectId=${project.id}`;
  return h.request(u, { method: 'POST', body: { username, password } });
}

test('SIGHUP changes the log level, a rate limit, the sender and templates, under load, failing no request', async () => {
  const dir = h.makeTempDir();
  const file = path.join(dir, 'resetd.conf');
  const templates = path.join(dir, 'templates');
  fs.mkdirSync(path.join(templates, 'en'), { recursive: true });
  fs.writeFileSync(path.join(templates, 'en', 'reset_link.subject'), 'Reloaded: reset your {{project_name}} password\n');
  const mailBefore = path.join(dir, 'mail-before');
  const mailAfter = path.join(dir, 'mail-after');
  const before = {
    mail: `maildir:${mailBefore}`,
    log_level: 'info',
    rate_ip_login: 1000,
    rate_ip_login_window: 60,
    mail_from: 'before@example.test',
    mail_from_name: 'Before',
  };
  writeConfig(file, before);
  const ns = await notifySocket(dir);
  // The file, not the harness's environment, sets what is reloaded.
  const d = await h.startDaemon({
    env: {
      RESETD_CONFIG: file,
      RESETD_RATE_IP_LOGIN: null,
      RESETD_MAIL: null,
      NOTIFY_SOCKET: ns.path,
    },
  });
  let load = null;
  try {
    await ns.waitFor((m) => m.startsWith('READY=1'));
    const project = await d.cli(['project', 'create', '--name', uniq('reload')]);
    const password = h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
    const email = `${uniq('user')}@example.com`;
    await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    const reset = (who) =>
      h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, { method: 'POST', body: { username: who } });

    load = startLoad(d, project);
    while (load.count() < 50) await h.sleep(10);

    // Before: logins go through, requests are logged, mail comes from Before.
    for (let i = 0; i < 5; i++) assert.equal((await login(d, project, email, password)).status, 200);
    const seen = await h.request(`${d.url}/healthz`);
    await waitForLog(d, (l) => l.msg === 'request' && l.request_id === seen.headers['x-request-id']);
    assert.equal((await reset(email)).status, 204);
    const first = await h.waitForMail(mailBefore, h.mailTo(email));
    assert.match(first.from, /^"?Before"? <before@example\.test>$/);
    assert.match(first.subject, /^Reset your /);
    const big = { new_password: 'x'.repeat(4000), reset_code: 'c', user_id: 'u' };
    assert.notEqual((await h.request(`${d.url}/api/password/reset/confirm?projectId=${project.id}`, { method: 'POST', body: big })).status, 413);

    // Reload: warn, three logins a minute, another sender, the templates.
    writeConfig(file, {
      ...before,
      mail: `maildir:${mailAfter}`,
      log_level: 'warn',
      rate_ip_login: 3,
      mail_from: 'after@example.test',
      mail_from_name: 'After',
      templates_dir: templates,
      max_body_bytes: 2048,
      http_threads: 3, // no reload: waits for a restart
    });
    const mark = d.stderrLines.length;
    const readyBefore = ns.messages.length;
    d.proc.kill('SIGHUP');
    await ns.waitFor((m) => m.startsWith('RELOADING=1'), { from: readyBefore });
    await ns.waitFor((m) => m.startsWith('READY=1'), { from: readyBefore });
    // The log comes through another pipe than the notification.
    await waitForLog(d, (l) => l.msg.startsWith('reload: done'), mark);
    const lines = parsed(d).slice(mark);
    const msgs = lines.map((l) => l.msg);
    assert.ok(msgs.includes('reload: log_level: info -> warn'), msgs.join('\n'));
    assert.ok(msgs.includes('reload: rate_ip_login: 1000 -> 3'), msgs.join('\n'));
    assert.ok(msgs.includes('reload: mail_from: before@example.test -> after@example.test'), msgs.join('\n'));
    assert.ok(msgs.includes(`reload: templates_dir: (unset) -> ${templates}`), msgs.join('\n'));
    assert.ok(msgs.includes('reload: max_body_bytes: 65536 -> 2048'), msgs.join('\n'));
    const restart = lines.find((l) => l.msg.startsWith('reload: http_threads:'));
    assert.ok(restart && restart.level === 'warn' && /next restart/.test(restart.msg), msgs.join('\n'));
    assert.ok(msgs.includes(`reload: mail: maildir:${mailBefore} -> maildir:${mailAfter}`), msgs.join('\n'));
    assert.ok(msgs.includes('reload: done, 7 settings changed, 1 wait for a restart; 1 mail template overrides'), msgs.join('\n'));


    // The login limit is three now: the bucket, full at 1000 before, is cut
    // down to it.
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(d, project, email, password)).status);
    const firstRefusal = statuses.indexOf(429);
    assert.ok(firstRefusal >= 3 && firstRefusal <= 4, `logins after the reload: ${statuses}`);
    assert.ok(statuses.slice(0, firstRefusal).every((s) => s === 200), `logins after the reload: ${statuses}`);

    // Bodies over the new cap are refused. (A confirm's: every call of a
    // limited class takes its token first, body or not.)
    assert.equal((await h.request(`${d.url}/api/password/reset/confirm?projectId=${project.id}`, { method: 'POST', body: big })).status, 413);

    // Requests are no longer logged at warn.
    const quiet = await h.request(`${d.url}/healthz`);
    await h.sleep(200);
    assert.ok(!d.stderrLines.some((l) => l.includes(quiet.headers['x-request-id'])), 'a request was logged at log_level warn');

    // Mail now comes from After, with the new subject.
    const other = `${uniq('other')}@example.com`;
    await d.cli(['user', 'create', '--project', project.id, '--email', other, '--password-stdin'], { input: password });
    assert.equal((await reset(other)).status, 204);
    // Through the transport the reload opened: into the other Maildir.
    const second = await h.waitForMail(mailAfter, h.mailTo(other));
    assert.ok(!(await h.readMaildir(mailBefore)).some(h.mailTo(other)), 'mail went to the old Maildir');
    assert.match(second.from, /^"?After"? <after@example\.test>$/);
    assert.match(second.subject, /^Reloaded: reset your /);

    // A bad file changes nothing.
    const mark2 = d.stderrLines.length;
    const ready2 = ns.messages.length;
    fs.writeFileSync(file, 'log_level = loud\n');
    d.proc.kill('SIGHUP');
    await ns.waitFor((m) => m.startsWith('READY=1'), { from: ready2 });
    await waitForLog(d, (l) => l.level === 'error', mark2);
    const bad = parsed(d).slice(mark2);
    assert.ok(bad.some((l) => l.level === 'error' && /log_level.*configuration in force is kept/.test(l.msg)), bad.map((l) => l.msg).join('\n'));
    assert.equal((await login(d, project, email, password)).status, 429);

    // Back to info: requests are logged again.
    writeConfig(file, before);
    const ready3 = ns.messages.length;
    d.proc.kill('SIGHUP');
    await ns.waitFor((m) => m.startsWith('READY=1'), { from: ready3 });
    const loud = await h.request(`${d.url}/healthz`);
    await waitForLog(d, (l) => l.msg === 'request' && l.request_id === loud.headers['x-request-id']);

    const { sent, failures } = await load.stop();
    load = null;
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    assert.ok(sent >= 50, `only ${sent} requests of load`);
    assert.equal(await d.stop(), 0);
  } finally {
    if (load) await load.stop();
    await d.stop();
    ns.close();
  }
});
