'use strict';
// A real SMTP server on loopback for the black-box tests: smtp-server from
// npm, with STARTTLS (a self-signed certificate made here with Debian's
// openssl) and AUTH. It keeps every message it accepts, parsed with
// mailparser, and can be told to refuse recipients, to delay its answer to
// DATA, or to go away and come back on the same port.
//
//   const smtp = await startSmtp({ tls: true, auth: { user, pass } });
//   smtp.port, smtp.caFile, smtp.messages, smtp.waitFor(pred), smtp.stop()
//
// Every wait has a timeout.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');
const h = require('./harness');

const WAIT_TIMEOUT_MS = 15000;

// A self-signed certificate for localhost and 127.0.0.1, in a fresh folder.
// Returns {key, cert, caFile}: the certificate is its own CA.
function makeCert() {
  const dir = h.makeTempDir('resetd-smtp-cert-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { stdio: 'ignore' });
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), caFile: certFile };
}

let sharedCert = null;

// startSmtp(options) -> server handle.
//   port          listen here (default: a free one)
//   tls           offer STARTTLS (default true)
//   implicitTls   TLS from the first byte instead (smtps://)
//   auth          {user, pass}: require AUTH (after TLS when tls is on)
//   refuse        (address) => null | {code, message}: answer RCPT TO so
//   dataDelayMs   wait this long before answering the end of DATA
//   onDataStart   called when a message's DATA begins
async function startSmtp(options = {}) {
  const opts = { tls: true, ...options };
  if (opts.implicitTls) opts.tls = true;
  if (opts.tls && !sharedCert) sharedCert = makeCert();
  const s = {
    port: opts.port || (await h.freePort()),
    caFile: opts.tls ? sharedCert.caFile : null,
    messages: [], // {from, to[], raw, mail (parsed), secure, user, at}
    sessions: 0,
    refuse: opts.refuse || null,
    dataDelayMs: opts.dataDelayMs || 0,
    onDataStart: opts.onDataStart || null,
    server: null,
    sockets: new Set(),
  };

  function make() {
    const server = new SMTPServer({
      secure: !!opts.implicitTls,
      key: opts.tls ? sharedCert.key : undefined,
      cert: opts.tls ? sharedCert.cert : undefined,
      hideSTARTTLS: !opts.tls || !!opts.implicitTls,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !opts.auth,
      allowInsecureAuth: !opts.tls,
      disabledCommands: opts.auth ? [] : ['AUTH'],
      logger: false,
      banner: 'resetd test server',
      size: 10 * 1024 * 1024,
      onConnect(session, cb) {
        s.sessions++;
        cb();
      },
      onAuth(auth, session, cb) {
        if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
          return cb(null, { user: auth.username });
        }
        const err = new Error('5.7.8 Authentication credentials invalid');
        err.responseCode = 535;
        return cb(err);
      },
      onRcptTo(address, session, cb) {
        const r = s.refuse ? s.refuse(address.address) : null;
        if (r) {
          const err = new Error(r.message);
          err.responseCode = r.code;
          return cb(err);
        }
        return cb();
      },
      onData(stream, session, cb) {
        if (s.onDataStart) s.onDataStart(session);
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks);
          const mail = await simpleParser(raw);
          const finish = () => {
            s.messages.push({
              from: session.envelope.mailFrom && session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              raw,
              mail,
              secure: session.secure,
              user: session.user,
              at: Date.now(),
            });
            cb(null, `2.0.0 Ok: queued as T${s.messages.length}`);
          };
          if (s.dataDelayMs > 0) setTimeout(finish, s.dataDelayMs);
          else finish();
        });
      },
    });
    server.on('error', () => {}); // a client that goes away is no failure here
    server.server.on('connection', (sock) => {
      s.sockets.add(sock);
      sock.on('close', () => s.sockets.delete(sock));
    });
    return server;
  }

  // Listen (again) on s.port.
  s.start = () =>
    new Promise((resolve, reject) => {
      s.server = make();
      s.server.server.once('error', reject);
      s.server.listen(s.port, '127.0.0.1', () => resolve(s));
    });

  // Stop listening and cut every connection at once, as a crash would.
  s.stop = () =>
    new Promise((resolve) => {
      if (!s.server) return resolve();
      for (const sock of s.sockets) sock.destroy();
      s.sockets.clear();
      const srv = s.server;
      s.server = null;
      srv.server.close(() => resolve());
    });

  // Messages to address (lower case compared).
  s.to = (address) => s.messages.filter((m) => m.to.includes(address.toLowerCase()));

  // Wait until predicate(messages) is true; resolves with the messages.
  s.waitFor = async (predicate, timeoutMs = WAIT_TIMEOUT_MS, what = 'messages') => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (predicate(s.messages)) return s.messages;
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    const seen = s.messages.map((m) => `  to=${m.to.join(',')} subject=${JSON.stringify(m.mail.subject)}`).join('\n') || '  (none)';
    throw new Error(`SMTP server: no ${what} within ${timeoutMs} ms; received:\n${seen}`);
  };

  // Wait for a message to address; resolves with it.
  s.waitForMail = async (address, timeoutMs) => {
    await s.waitFor((ms) => ms.some((m) => m.to.includes(address.toLowerCase())), timeoutMs, `message to ${address}`);
    return s.to(address)[0];
  };

  await s.start();
  return s;
}

module.exports = { startSmtp, makeCert };
