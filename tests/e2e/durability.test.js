'use strict';
// Group commit keeps every answer durable: requests answered while many are
// in flight are on disk when the daemon is killed without warning, and the
// mail of each is delivered after a restart.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
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
});
