#!/usr/bin/env node
'use strict';
// Mail delivery figures: how many messages per second resetd delivers to a
// local SMTP sink, and how long a message takes from the reset request to
// the sink's acceptance at light load.
//
//	node bench/mail.js [--messages N] [--latency N] [--workers LIST] [--write]
//
// The sink is smtp-server from npm in this process, on 127.0.0.1, accepting
// everything (no TLS, no AUTH: the figures are resetd's, not a handshake's).
// The daemon is build/resetd (RESETD_BIN to change), on a fresh database.
//
// Throughput: N reset requests are queued while the instance has no sender
// (mail_workers = 0); the daemon is restarted with W senders and the rate is
// counted from the first acceptance to the last, so that neither HTTP nor
// the start is in it.  Latency: requests one at a time, 50 ms apart, each
// timed from just before the HTTP request to the end of its DATA at the
// sink.  With --write, the section between "<!-- bench:begin mail -->" and
// "<!-- bench:end mail -->" in bench/RESULTS.md is replaced.  Everything
// goes to loopback, and every wait is bounded.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');
const h = require('../tests/e2e/lib/harness');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}
const N = Number(opt('--messages', '2000'));
const LAT_N = Number(opt('--latency', '200'));
const WORKERS = opt('--workers', '1,4').split(',').map(Number);
const WRITE = args.includes('--write');
const WAIT_MS = 300000;

if (!process.env.RESETD_BIN) process.env.RESETD_BIN = path.join(ROOT, 'build', 'resetd');

// The sink: resolves each recipient's waiter when its DATA ends.
async function startSink() {
  const sink = { port: await h.freePort(), accepted: [], onAccept: null };
  sink.server = new SMTPServer({
    secure: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        const at = performance.now();
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        sink.accepted.push(at);
        if (sink.onAccept) for (const t of to) sink.onAccept(t, at);
        cb(null, 'ok');
      });
    },
  });
  sink.server.on('error', () => {});
  await new Promise((resolve) => sink.server.listen(sink.port, '127.0.0.1', resolve));
  return sink;
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function seed(d, project, count, tag) {
  const lines = [];
  const emails = [];
  for (let i = 0; i < count; i++) {
    const email = `${tag}${i}@bench.test`;
    emails.push(email);
    lines.push(JSON.stringify({ email }));
  }
  await d.cli(['user', 'import', '--project', project.id], { input: lines.join('\n') + '\n', timeoutMs: 120000 });
  return emails;
}

async function resetRequest(d, project, email) {
  const res = await h.request(`${d.url}/api/password/reset/request?projectId=${project.id}`, { method: 'POST', body: { username: email } });
  if (res.status !== 204) throw new Error(`reset request: ${res.status} ${res.text}`);
}

async function waitUntil(pred, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await h.sleep(20);
  }
}

async function throughput(sink, workers) {
  const env = {
    RESETD_MAIL: `smtp://127.0.0.1:${sink.port}`,
    RESETD_MAIL_STARTTLS: 'off',
    RESETD_LOG_LEVEL: 'warn',
    RESETD_MAIL_WORKERS: '0',
  };
  const d = await h.startDaemon({ env });
  try {
    const project = await d.cli(['project', 'create', '--name', 'Bench']);
    const emails = await seed(d, project, N, `t${workers}-`);
    // Queue them all, 16 requests in flight.
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < emails.length) await resetRequest(d, project, emails[next++]);
    }));
    await d.stop();
    sink.accepted = [];
    await d.restart({ env: { RESETD_MAIL_WORKERS: String(workers) }, migrate: false });
    await waitUntil(() => sink.accepted.length >= N, `${N} messages`);
    const first = sink.accepted[0];
    const last = sink.accepted[N - 1];
    return { workers, n: N, seconds: (last - first) / 1000, rate: ((N - 1) * 1000) / (last - first) };
  } finally {
    await d.stop().catch(() => d.kill('SIGKILL'));
  }
}

async function latency(sink) {
  const env = {
    RESETD_MAIL: `smtp://127.0.0.1:${sink.port}`,
    RESETD_MAIL_STARTTLS: 'off',
    RESETD_LOG_LEVEL: 'warn',
    RESETD_MAIL_WORKERS: '1',
  };
  const d = await h.startDaemon({ env });
  const times = [];
  try {
    const project = await d.cli(['project', 'create', '--name', 'Bench']);
    const emails = await seed(d, project, LAT_N + 10, 'l-');
    // A few to warm the connection up, not counted.
    const waiters = new Map();
    sink.onAccept = (to, at) => {
      const w = waiters.get(to);
      if (w) w(at);
    };
    for (let i = 0; i < LAT_N + 10; i++) {
      const email = emails[i];
      const accepted = new Promise((resolve) => waiters.set(email, resolve));
      const t0 = performance.now();
      await resetRequest(d, project, email);
      const at = await Promise.race([accepted, h.sleep(30000).then(() => null)]);
      if (at === null) throw new Error(`no mail for ${email} within 30 s`);
      if (i >= 10) times.push(at - t0);
      await h.sleep(50);
    }
  } finally {
    sink.onAccept = null;
    await d.stop().catch(() => d.kill('SIGKILL'));
  }
  times.sort((a, b) => a - b);
  return { n: times.length, p50: pct(times, 50), p99: pct(times, 99), max: times[times.length - 1] };
}

function machine() {
  const cpus = os.cpus();
  return {
    nproc: cpus.length,
    model: cpus[0] ? cpus[0].model.trim() : 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function main() {
  const sink = await startSink();
  const loadBefore = os.loadavg()[0];
  const rates = [];
  for (const w of WORKERS) rates.push(await throughput(sink, w));
  const lat = await latency(sink);
  const m = machine();
  await new Promise((resolve) => sink.server.close(resolve));

  const date = new Date().toISOString().slice(0, 10);
  const busy = Math.max(loadBefore, os.loadavg()[0]) > m.nproc * 0.75;
  const out = [];
  out.push(`Measured ${date} with \`node bench/mail.js\` on ${m.nproc} cores, ${m.model}, ${m.memGiB} GiB; ${m.kernel}.`);
  out.push(`build/resetd (-O2) on SQLite (WAL, synchronous=FULL), smtp:// to an smtp-server sink in the bench's own node process on 127.0.0.1, no TLS, no AUTH; log_level warn.`);
  out.push(`Load average at the end: ${m.load}${busy ? ' (the machine was busy with other work: figures are noisy, and low rather than high)' : ''}.`);
  out.push('');
  out.push('| what | figure |');
  out.push('|---|---|');
  for (const r of rates) {
    out.push(`| delivered, ${r.workers} sender${r.workers > 1 ? 's' : ''}, ${r.n} queued messages | ${r.rate.toFixed(0)} messages/s (${r.seconds.toFixed(2)} s) |`);
  }
  out.push(`| request to acceptance, 1 sender, ${lat.n} requests 50 ms apart | p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${lat.max.toFixed(1)} ms |`);
  const text = out.join('\n');
  console.log(text);

  if (WRITE) {
    const file = path.join(ROOT, 'bench', 'RESULTS.md');
    let md = fs.readFileSync(file, 'utf8');
    const block = `<!-- bench:begin mail -->\n${text}\n<!-- bench:end mail -->`;
    const re = /<!-- bench:begin mail -->[\s\S]*?<!-- bench:end mail -->/;
    if (re.test(md)) md = md.replace(re, block);
    else md = `${md.trimEnd()}\n\n## Mail delivery\n\n${block}\n`;
    fs.writeFileSync(file, md);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  }
);
