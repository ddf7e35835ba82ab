'use strict';
// Group commit keeps every answer durable: requests answered while many are
// in flight are on disk when the daemon is killed without warning, and the
// mail of each is delivered after a restart; confirms answered while many
// are in flight have their new passwords in force after the restart. On
// whichever database the run uses (tests/run: SQLite, then PostgreSQL).
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const USERS = 300;

describe('durability under concurrent load', () => {
  let d;
  after(async () => { if (d && d.running()) await d.kill('SIGKILL'); });

  it('every answered reset request survives SIGKILL and is mailed after restart', { timeout: 120000 }, async () => {
    // 300 clients at once, all from 127.0.0.1: no per-address connection cap.
    d = await h.startDaemon({ env: { RESETD_MAIL_WORKERS: '0', RESETD_MAX_CONNECTIONS_PER_IP: '0' } });
    const project = await d.cli(['project', 'create', '--name', 'durability']);
    const emails = Array.from({ length: USERS }, (_, i) => `load${i}@durability.example`);
    const imported = await d.cli(['user', 'import', '--project', project.id],
      { input: emails.map((email) => JSON.stringify({ email })).join('\n') });
    assert.equal(imported.imported, USERS);

    // Fire them all at once; kill the daemon once half have been answered.
    const answered = [];
    let killing = null;
    const requests = emails.map((email) =>
      fetch(`${d.url}/password/reset/request?projectId=${project.id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: email }),
      }).then((res) => {
        if (res.status === 204) answered.push(email);
        if (answered.length >= USERS / 2 && !killing) killing = d.kill('SIGKILL');
      }, () => { /* cut off by the kill: no answer, no promise */ }));
    await Promise.all(requests);
    await (killing || d.kill('SIGKILL'));
    assert.ok(answered.length >= USERS / 2, `only ${answered.length} answers before the kill`);

    await d.restart({ env: { RESETD_MAIL_WORKERS: '1', RESETD_MAIL_POLL_MS: '100' } });
    const want = new Set(answered);
    const deadline = Date.now() + 60000;
    let got = new Set();
    while (Date.now() < deadline) {
      const mails = await h.readMaildir(d.maildir);
      got = new Set(mails.flatMap((m) => m.toAddresses));
      if ([...want].every((e) => got.has(e))) break;
      await h.sleep(250);
    }
    const missing = [...want].filter((e) => !got.has(e));
    assert.deepEqual(missing, [], `${missing.length} answered requests lost their mail`);
  });

  it('every answered confirm survives SIGKILL: its new password is in force after restart', { timeout: 180000 }, async () => {
    const CONFIRMS = 150;
    if (d && d.running()) await d.kill('SIGKILL');
    d = await h.startDaemon({ env: { RESETD_MAIL_POLL_MS: '100', RESETD_MAX_CONNECTIONS_PER_IP: '0' } });
    const project = await d.cli(['project', 'create', '--name', 'durability-confirm']);
    const emails = Array.from({ length: CONFIRMS }, (_, i) => `confirm${i}@durability.example`);
    await d.cli(['user', 'import', '--project', project.id],
      { input: emails.map((email) => JSON.stringify({ email })).join('\n') });
    const api = (p, body) => fetch(`${d.url}/api${p}?projectId=${project.id}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    for (const email of emails) assert.equal((await api('/password/reset/request', { username: email })).status, 204);

    // Every user's link, from the Maildir.
    const links = new Map();
    const deadline = Date.now() + 60000;
    while (links.size < CONFIRMS && Date.now() < deadline) {
      for (const m of await h.readMaildir(d.maildir)) {
        const link = h.extractResetLink(m.text);
        if (link && m.toAddresses.length === 1) links.set(m.toAddresses[0], link);
      }
      if (links.size < CONFIRMS) await h.sleep(250);
    }
    assert.equal(links.size, CONFIRMS, 'every reset mail arrived');
    for (const link of links.values()) h.registerSecret(link.reset_code);

    // All confirms at once; kill the daemon once half have been answered.
    const answered = [];
    let killing = null;
    const confirms = emails.map((email) => {
      const link = links.get(email);
      const password = h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
      return api('/password/reset/confirm', { new_password: password, reset_code: link.reset_code, user_id: link.user_id })
        .then((res) => {
          if (res.status === 204) answered.push({ email, password });
          if (answered.length >= CONFIRMS / 2 && !killing) killing = d.kill('SIGKILL');
        }, () => { /* cut off by the kill */ });
    });
    await Promise.all(confirms);
    await (killing || d.kill('SIGKILL'));
    assert.ok(answered.length >= CONFIRMS / 2, `only ${answered.length} answers before the kill`);

    await d.restart();
    const lost = [];
    for (const { email, password } of answered) {
      const res = await api('/login', { username: email, password });
      if (res.status !== 200) lost.push(`${email}: ${res.status}`);
    }
    assert.deepEqual(lost, [], `${lost.length} of ${answered.length} answered confirms lost their password`);
  });
});
