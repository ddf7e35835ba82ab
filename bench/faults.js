#!/usr/bin/env node
'use strict';
// Figures for the mail faults of the fault runs, with the default settings
// (mail_backoff_ms 5000, mail_send_timeout_ms 30000, one sender):
//
//	node bench/faults.js relay [--outage SECONDS] [--messages N]
//	node bench/faults.js hung
//
// relay: an SMTP sink on loopback goes away for --outage seconds (60);
// --messages reset requests (200) are spread over the outage, and one a
// second keeps coming after it, as live traffic would.  Prints how long
// after the sink came back the last message queued during the outage was
// delivered.
//
// hung: a relay that greets, answers EHLO and then never says a word; one
// reset request, and SIGTERM 1.5 s into its send.  Prints how long the
// daemon took to exit.
//
// The daemon is build/resetd (RESETD_BIN to change), on a fresh SQLite
// database.  Everything is on loopback, and every wait is bounded.

process.env.RESETD_HARNESS_NO_TEST_HOOK = '1';
const net = require('node:net');
const path = require('node:path');
const h = require('../tests/e2e/lib/harness');
const { startSmtp } = require('../tests/e2e/lib/smtp');

const ROOT = path.resolve(__dirname, '..');
if (!process.env.RESETD_BIN) process.env.RESETD_BIN = path.join(ROOT, 'build', 'resetd');
const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}
const WAIT_MS = 600000;

async function relay() {
  const outageS = Number(opt('--outage', '60'));
  const n = Number(opt('--messages', '200'));
  const smtp = await startSmtp({ tls: false });
  const d = await h.startDaemon({
    env: { RESETD_MAIL: `smtp://127.0.0.1:${smtp.port}`, RESETD_MAIL_STARTTLS: 'off' },
  });
  const project = await d.cli(['project', 'create', '--name', 'relay-bench']);
  const emails = Array.from({ length: n + 600 }, (_, i) => `r${i}@bench.example`);
  await d.cli(['user', 'import', '--project', project.id],
    { input: emails.map((email) => JSON.stringify({ email })).join('\n'), timeoutMs: 60000 });
  const request = (email) => h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
    method: 'POST', body: { username: email },
  });
  await smtp.stop();
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    const due = start + (i * outageS * 1000) / n;
    if (due > Date.now()) await h.sleep(due - Date.now());
    await request(emails[i]);
  }
  if (start + outageS * 1000 > Date.now()) await h.sleep(start + outageS * 1000 - Date.now());
  await smtp.start();
  const back = Date.now();
  const outage = new Set(emails.slice(0, n));
  let live = n;
  let last = 0;
  while (Date.now() - back < WAIT_MS) {
    if (Date.now() - last >= 1000 && live < emails.length) {
      last = Date.now();
      await request(emails[live++]);
    }
    const got = new Set(smtp.messages.flatMap((m) => m.to));
    if ([...outage].every((e) => got.has(e))) break;
    await h.sleep(50);
  }
  const drained = Date.now() - back;
  await d.stop({ timeoutMs: 60000 });
  await smtp.stop();
  console.log(`relay: ${n} messages queued over a ${outageS} s outage; the last delivered ${drained} ms after the relay came back`);
}

async function hung() {
  const sockets = new Set();
  const mute = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.write('220 mute.test ESMTP\r\n');
    sock.once('data', () => sock.write('250 mute.test\r\n'));
  });
  await new Promise((resolve) => mute.listen(0, '127.0.0.1', resolve));
  const d = await h.startDaemon({
    env: { RESETD_MAIL: `smtp://127.0.0.1:${mute.address().port}`, RESETD_MAIL_STARTTLS: 'off' },
  });
  const project = await d.cli(['project', 'create', '--name', 'hung-bench']);
  await d.cli(['user', 'create', '--project', project.id, '--email', 'hung@bench.example']);
  await h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, {
    method: 'POST', body: { username: 'hung@bench.example' },
  });
  const deadline = Date.now() + 10000;
  while (sockets.size === 0 && Date.now() < deadline) await h.sleep(20);
  await h.sleep(1500);
  const t0 = Date.now();
  await d.stop({ timeoutMs: 60000 });
  console.log(`hung relay: SIGTERM to exit ${Date.now() - t0} ms (mail_send_timeout_ms 30000)`);
  for (const s of sockets) s.destroy();
  mute.close();
}

const what = { relay, hung }[args[0]];
if (!what) {
  console.error('usage: node bench/faults.js relay [--outage SECONDS] [--messages N] | hung');
  process.exit(2);
}
what().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
