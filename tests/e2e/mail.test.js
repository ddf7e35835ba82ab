'use strict';
// Black-box tests of mail delivery: the real daemon sending to a real SMTP
// server on loopback (smtp-server from npm) with STARTTLS and AUTH, the
// messages parsed with mailparser. Also the outbox and mail commands, the
// languages of mail, failures, retries and a crash while delivering.
// Run: node --test tests/e2e/   (the binary: build/resetd, or RESETD_BIN)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { startSmtp } = require('./lib/smtp');

const TEST_TIMEOUT = 90000;
const daemons = [];
const servers = [];
const SMTP_USER = 'resetd';
const SMTP_PASS = `pw-${crypto.randomBytes(12).toString('hex')}`;

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

async function smtpServer(opts = {}) {
  const s = await startSmtp({ tls: true, auth: { user: SMTP_USER, pass: SMTP_PASS }, ...opts });
  servers.push(s);
  return s;
}

// The daemon's mail settings for server s: STARTTLS required, the test CA,
// AUTH; extra overrides on top.
function smtpEnv(s, extra = {}) {
  return {
    RESETD_MAIL: `smtp://127.0.0.1:${s.port}`,
    RESETD_MAIL_STARTTLS: 'required',
    RESETD_MAIL_CA_FILE: s.caFile,
    RESETD_MAIL_USERNAME: SMTP_USER,
    RESETD_MAIL_PASSWORD: SMTP_PASS,
    RESETD_MAIL_POLL_MS: '100',
    ...extra,
  };
}

async function startDaemon(opts) {
  const d = await h.startDaemon(opts);
  daemons.push(d);
  return d;
}

async function newProject(d, extra = []) {
  return d.cli(['project', 'create', '--name', uniq('Acme'), ...extra]);
}

async function newUser(d, project, extra = []) {
  const email = `${uniq('user')}@example.com`;
  const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, ...extra]);
  return { ...user, email };
}

// An Xsolla reset request; resolves with the response and how long it took.
async function requestReset(d, project, username, { locale } = {}) {
  const u = new URL('/api/password/reset/request', d.url);
  u.searchParams.set('projectId', project.id);
  if (locale) u.searchParams.set('locale', locale);
  const t0 = Date.now();
  const res = await h.request(u.href, { method: 'POST', body: { username } });
  return { res, ms: Date.now() - t0 };
}

async function outbox(d, state) {
  return d.cli(['outbox', 'list', ...(state ? ['--state', state] : []), '--limit', '1000']);
}

// Polls `outbox list` until predicate(list) holds.
async function waitOutbox(d, predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let list = [];
  while (Date.now() < deadline) {
    list = await outbox(d);
    if (predicate(list)) return list;
    await h.sleep(100);
  }
  throw new Error(`outbox: ${what} not reached within ${timeoutMs} ms:\n${JSON.stringify(list, null, 1).slice(0, 3000)}`);
}

function hrefOf(html) {
  const m = /<a href="([^"]+)"/.exec(html);
  return m ? m[1] : null;
}

function rawHeader(raw, name) {
  // The header as sent, with its folded lines.
  const head = raw.toString('utf8').split('\r\n\r\n')[0];
  const m = new RegExp(`^${name}:(.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(head);
  return m ? m[1].trim() : null;
}

after(async () => {
  for (const d of daemons) {
    if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  }
  for (const s of servers) await s.stop();
  // The SMTP password reaches no log line of any daemon.
  for (const d of daemons) {
    for (const line of d.stderrLines) {
      assert.ok(!line.includes(SMTP_PASS), `the SMTP password was logged: ${line}`);
    }
  }
});

describe('mail over SMTP with STARTTLS and AUTH', () => {
  let smtp;
  let d;

  before(async () => {
    smtp = await smtpServer();
    d = await startDaemon({ env: smtpEnv(smtp) });
  });

  it('a full reset: valid MIME, both parts carry the same link, headers right', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d, ['--mail-from', 'hello@acme.test', '--mail-from-name', 'Acme Support']);
    assert.equal(project.mail_from, 'hello@acme.test');
    assert.equal(project.mail_from_name, 'Acme Support');
    const user = await newUser(d, project);
    const before = Date.now();
    const { res } = await requestReset(d, project, user.email);
    assert.equal(res.status, 204);

    const m = await smtp.waitForMail(user.email);
    // The session was encrypted and authenticated, the envelope the project's.
    assert.equal(m.secure, true, 'STARTTLS was not used');
    assert.equal(m.user, SMTP_USER, 'AUTH was not used');
    assert.equal(m.from, 'hello@acme.test');
    assert.deepEqual(m.to, [user.email.toLowerCase()]);

    const mail = m.mail;
    assert.equal(mail.headers.get('mime-version'), '1.0');
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    assert.equal(mail.headers.get('content-type').value, 'multipart/alternative');
    assert.equal(mail.from.value[0].address, 'hello@acme.test');
    assert.equal(mail.from.value[0].name, 'Acme Support');
    assert.equal(mail.to.value[0].address, user.email);
    assert.match(mail.messageId, /^<[0-9a-f]{24}@acme\.test>$/);
    assert.ok(Math.abs(mail.date.getTime() - before) < 60000, `Date header: ${mail.date}`);
    assert.equal(mail.subject, `Reset your ${project.name} password`);
    assert.ok(mail.text && mail.html, 'both parts must be there');
    assert.match(m.raw.toString(), /Content-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable/);
    assert.match(m.raw.toString(), /Content-Type: text\/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable/);
    for (const line of m.raw.toString().split('\r\n')) assert.ok(line.length <= 78, `line longer than 78: ${line}`);

    const link = h.extractResetLink(mail.text);
    assert.ok(link, `no link in the text part:\n${mail.text}`);
    assert.equal(hrefOf(mail.html).replace(/&amp;/g, '&'), link.url, 'the HTML link differs from the text link');
    assert.ok(mail.html.includes(link.reset_code));
    assert.match(mail.text, /expires in 60 minutes/);

    // Spend it: the "password changed" notice follows, through SMTP too.
    const confirm = await h.request(`${d.url}/api/password/reset/confirm?projectId=${project.id}`, {
      method: 'POST',
      body: { new_password: 'a new long passphrase', reset_code: link.reset_code, user_id: link.user_id },
    });
    assert.equal(confirm.status, 204);
    await smtp.waitFor((ms) => ms.filter((x) => x.to.includes(user.email.toLowerCase())).length === 2, 15000, 'password-changed mail');
    const changed = smtp.to(user.email)[1];
    assert.equal(changed.mail.subject, `Your ${project.name} password was changed`);

    // The relay has the message a moment before the sender marks it sent.
    const list = await waitOutbox(d, (l) => l.filter((x) => x.to === user.email && x.state === 'sent').length === 2, 'both sent');
    const mine = list.filter((x) => x.to === user.email);
    assert.equal(mine.length, 2);
    for (const x of mine) {
      assert.equal(x.state, 'sent');
      assert.equal(x.tries, 1);
      assert.equal('payload' in x, false);
    }
    assert.ok(!JSON.stringify(list).includes(link.reset_code), 'outbox list must not show secrets');
  });

  it('a non-ASCII subject is RFC 2047 encoded', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d);
    const user = await newUser(d, project);
    await requestReset(d, project, user.email, { locale: 'ru_RU' });
    const m = await smtp.waitForMail(user.email);
    assert.match(rawHeader(m.raw, 'Subject'), /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=(\r\n =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)*$/);
    assert.equal(m.mail.subject, `Сброс пароля в ${project.name}`);
    assert.match(m.mail.text, /Здравствуйте!/);
    assert.equal(m.mail.html.includes('lang="ru"'), true);
  });

  it('each language: de_DE, ja, pt_BR, the user\'s, the project\'s, English', { timeout: TEST_TIMEOUT }, async () => {
    const plain = await newProject(d);
    const french = await newProject(d, ['--locale', 'fr']);
    assert.equal(french.locale, 'fr');
    const cases = [
      { project: plain, locale: 'de_DE', subject: 'Passwort für', phrase: 'Ihr Passwort bleibt unverändert' },
      { project: plain, locale: 'ja', subject: 'のパスワード再設定', phrase: 'パスワードは変更されません' },
      { project: plain, locale: 'pt_BR', subject: 'Redefinição da sua senha', phrase: 'sua senha continua a mesma' },
      { project: plain, locale: 'pt', subject: 'Redefinição da sua senha', phrase: 'sua senha continua a mesma' },
      { project: plain, locale: 'zh-CN', subject: '重置您的', phrase: '您的密码不会改变' },
      { project: plain, locale: 'xx_YY', subject: 'Reset your', phrase: 'your password stays as it is' },
      { project: french, locale: 'xx_YY', subject: 'Réinitialisation de votre mot de passe', phrase: 'votre mot de passe reste inchangé' },
      { project: plain, locale: 'xx_YY', userLocale: 'es', subject: 'Restablecimiento de su contraseña', phrase: 'su contraseña no cambiará' },
      { project: french, locale: 'de', userLocale: 'es', subject: 'Passwort für', phrase: 'Ihr Passwort bleibt unverändert' },
    ];
    for (const c of cases) {
      c.user = await newUser(d, c.project, c.userLocale ? ['--locale', c.userLocale] : []);
      const { res } = await requestReset(d, c.project, c.user.email, { locale: c.locale });
      assert.equal(res.status, 204);
    }
    for (const c of cases) {
      const m = await smtp.waitForMail(c.user.email);
      const what = `locale ${c.locale}${c.userLocale ? ` (user ${c.userLocale})` : ''}`;
      const flat = m.mail.text.replace(/\s+/g, ' ');
      assert.ok(m.mail.subject.includes(c.subject), `${what}: subject ${JSON.stringify(m.mail.subject)}`);
      assert.ok(flat.includes(c.phrase), `${what}: text lacks ${JSON.stringify(c.phrase)}:\n${m.mail.text}`);
      assert.ok(h.extractResetLink(m.mail.text), `${what}: no link`);
      assert.ok(m.mail.text.includes('60'), `${what}: the lifetime is not stated`);
    }
  });

  it('a code through Velocity, in the project\'s German, states the code and its lifetime', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d, ['--delivery', 'code', '--locale', 'de', '--token-ttl', '900']);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    const user = await newUser(d, project);
    const res = await h.request(`${d.url}/password/forgot`, {
      method: 'POST',
      headers: { userpoolid: project.id, appclientid: client.client_id },
      body: { userName: user.email },
    });
    assert.equal(res.status, 200, res.text);
    const m = await smtp.waitForMail(user.email);
    const code = h.extractResetCode(m.mail.text);
    assert.match(code || '', /^\d{6}$/);
    assert.ok(m.mail.html.includes(code));
    assert.match(m.mail.text.replace(/\s+/g, ' '), /ist 15 Minuten lang gültig/);
    assert.equal(m.mail.subject, `Ihr Code zum Zurücksetzen des Passworts für ${project.name}`);
  });

  it('mail test sends through the transport and reports the answer', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(d, ['--mail-from', 'ops@acme.test']);
    const to = `${uniq('ops')}@example.com`;
    const out = await d.cli(['mail', 'test', '--to', to, '--project', project.id]);
    assert.equal(out.sent, true);
    assert.equal(out.transport, 'smtp');
    assert.equal(out.from, 'ops@acme.test');
    assert.match(out.reply, /^250 2\.0\.0 Ok: queued as T\d+$/);
    const m = await smtp.waitForMail(to);
    assert.equal(m.mail.subject, 'resetd test message');
    assert.equal(m.secure, true);
    // A header-breaking recipient is refused before anything is sent.
    const bad = await d.cli(['mail', 'test', '--to', 'x@example.com\r\nBcc: y@example.com']).catch((e) => e);
    assert.equal(bad.exitCode, 1);
    assert.equal(JSON.parse(bad.stdout).error, 'malformed sender or recipient address');
    // A project that does not exist is named, and nothing is sent.
    const none = await d.cli(['mail', 'test', '--to', to, '--project', 'no-such-project']).catch((e) => e);
    assert.equal(none.exitCode, 1);
    assert.match(none.stderr, /no project no-such-project/);
  });

  it('smtps:// works, and a certificate is never trusted without its CA', { timeout: TEST_TIMEOUT }, async () => {
    const implicit = await smtpServer({ implicitTls: true });
    const env = { ...d.env, RESETD_MAIL: `smtps://127.0.0.1:${implicit.port}` };
    const to = `${uniq('tls')}@example.com`;
    const ok = await h.runCli(d.bin, env, ['mail', 'test', '--to', to]);
    assert.equal(ok.sent, true);
    assert.equal(ok.transport, 'smtps');
    assert.equal((await implicit.waitForMail(to)).secure, true);

    // The same servers, without mail_ca_file: the self-signed certificate
    // is refused, nothing is sent, and the failure is temporary.
    for (const url of [`smtps://127.0.0.1:${implicit.port}`, `smtp://127.0.0.1:${smtp.port}`]) {
      const noCa = { ...env, RESETD_MAIL: url };
      delete noCa.RESETD_MAIL_CA_FILE;
      const bad = `${uniq('untrusted')}@example.com`;
      const err = await h.runCli(d.bin, noCa, ['mail', 'test', '--to', bad]).catch((e) => e);
      assert.equal(err.exitCode, 1, `${url}: sent without a trusted certificate`);
      const out = JSON.parse(err.stdout);
      assert.equal(out.sent, false);
      assert.equal(out.failure, 'temporary');
      assert.match(out.error, /^smtp: .*(SSL|certificate)/i);
      assert.equal(smtp.to(bad).length + implicit.to(bad).length, 0);
    }
  });

  it('check-config masks the SMTP password', { timeout: TEST_TIMEOUT }, async () => {
    const cfg = await d.cli(['check-config']);
    assert.equal(cfg.mail_password, '(set)');
    assert.equal(cfg.mail_username, SMTP_USER);
    assert.equal(cfg.mail_starttls, 'required');
  });

  it('the unknown-account notice: off by default, only to typed addresses', { timeout: TEST_TIMEOUT }, async () => {
    const quiet = await newProject(d);
    const noisy = await newProject(d, ['--unknown-account-notice', 'on', '--locale', 'ja']);
    assert.equal(quiet.unknown_account_notice, false);
    assert.equal(noisy.unknown_account_notice, true);
    const nobody1 = `${uniq('nobody')}@example.com`;
    const nobody2 = `${uniq('nobody')}@example.com`;
    const notAnAddress = uniq('username-only');
    const a = await requestReset(d, quiet, nobody1);
    const b = await requestReset(d, noisy, nobody2, { locale: 'en' });
    const c = await requestReset(d, noisy, notAnAddress);
    for (const r of [a, b, c]) assert.equal(r.res.status, 204);
    const m = await smtp.waitForMail(nobody2);
    assert.equal(m.mail.subject, `Password reset request for ${noisy.name}`);
    assert.match(m.mail.text, /there is no .* account with this email/);
    assert.equal(h.extractResetLink(m.mail.text), null, 'a notice carries no link');
    await h.waitOutboxSettled(d);
    assert.equal(smtp.to(nobody1).length, 0, 'a project without the notice mailed an unknown address');
    const list = await d.cli(['outbox', 'list', '--state', 'dropped', '--limit', '1000']);
    assert.ok(list.some((x) => x.kind === 'unknown_account' && x.project_id === quiet.id && x.to === ''));
    assert.ok(list.some((x) => x.kind === 'unknown_account' && x.project_id === noisy.id && x.to === ''), 'a login that is no address must stay dropped');
  });

  it('header injection: project create refuses CR or LF in the sender', { timeout: TEST_TIMEOUT }, async () => {
    const attempts = [
      ['--mail-from-name', 'Acme\r\nBcc: victim@example.com'],
      ['--mail-from-name', 'Acme\nBcc: victim@example.com'],
      ['--mail-from', 'hello@acme.test\r\nBcc: victim@example.com'],
      ['--mail-from', 'Acme <hello@acme.test>'],
      ['--locale', 'de\r\nX: y'],
    ];
    for (const extra of attempts) {
      const err = await newProject(d, extra).catch((e) => e);
      assert.equal(err.exitCode, 1, `accepted ${JSON.stringify(extra)}`);
      assert.match(err.stderr, /resetd: project create: (mail-from|mail-from-name|locale): expected/);
    }
  });
});

describe('the mail of a request held by the time floor', () => {
  // A reset request held 400 ms; resolves with when its answer came and
  // when its mail was accepted.
  async function heldRequest(pollMs) {
    const smtp = await smtpServer();
    const d = await startDaemon({
      env: smtpEnv(smtp, {
        RESETD_RESET_FLOOR_MS: '400',
        RESETD_RESET_JITTER_MS: '0',
        RESETD_MAIL_POLL_MS: String(pollMs),
      }),
    });
    const project = await newProject(d);
    const user = await newUser(d, project);
    const { res, ms } = await requestReset(d, project, user.email);
    const answeredAt = Date.now();
    assert.equal(res.status, 204);
    assert.ok(ms >= 400, `the answer came after ${ms} ms, before the floor`);
    const m = await smtp.waitForMail(user.email);
    assert.equal(await d.stop(), 0, `resetd exited badly:\n${d.stderrLines.slice(-20).join('\n')}`);
    return { answeredAt, acceptedAt: m.at };
  }

  it('is sent when the answer goes out: nothing else wakes the senders here', { timeout: TEST_TIMEOUT }, async () => {
    // No polling: without the answer's wake-up, the mail would wait 10 minutes.
    const { answeredAt, acceptedAt } = await heldRequest(600000);
    // Sent at commit, it would have been accepted some 390 ms earlier.
    assert.ok(acceptedAt >= answeredAt - 50, `the mail was accepted ${answeredAt - acceptedAt} ms before the answer`);
  });

  it('is not due before the answer, so a sender polling meanwhile leaves it', { timeout: TEST_TIMEOUT }, async () => {
    // Polls every 100 ms: four of them come during the hold.
    const { answeredAt, acceptedAt } = await heldRequest(100);
    assert.ok(acceptedAt >= answeredAt - 50, `the mail was accepted ${answeredAt - acceptedAt} ms before the answer`);
  });
});

describe('SMTP down, then back', () => {
  it('requests are answered at once, and every message arrives once', { timeout: TEST_TIMEOUT }, async () => {
    const smtp = await smtpServer();
    await smtp.stop(); // nothing listens on its port now: connection refused
    const d = await startDaemon({ env: smtpEnv(smtp, { RESETD_MAIL_BACKOFF_MS: '200' }) });
    const project = await newProject(d);
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await newUser(d, project));
    for (const u of users) {
      const { res, ms } = await requestReset(d, project, u.email);
      assert.equal(res.status, 204);
      assert.ok(ms < 1000, `a reset request took ${ms} ms while SMTP was down`);
    }
    const failing = await waitOutbox(d, (l) => l.filter((x) => x.state === 'pending' && x.last_error).length === 5, 'five failed tries');
    for (const x of failing) assert.match(x.last_error, /^smtp: (Couldn't connect|Failed to connect)/);

    await smtp.start();
    await smtp.waitFor((ms) => users.every((u) => smtp.to(u.email).length >= 1), 20000, 'all five messages');
    await waitOutbox(d, (l) => l.filter((x) => x.state === 'sent').length === 5, 'five sent');
    await h.sleep(1000); // room for a duplicate to show up
    for (const u of users) assert.equal(smtp.to(u.email).length, 1, `${u.email} got ${smtp.to(u.email).length} messages`);
    assert.equal(smtp.messages.length, 5);
    assert.equal(await d.stop(), 0, `resetd exited badly:\n${d.stderrLines.slice(-20).join('\n')}`);
  });
});

describe('a permanent failure', () => {
  it('an SMTP 550 makes the message dead with the reply; outbox retry sends it', { timeout: TEST_TIMEOUT }, async () => {
    const smtp = await smtpServer();
    const d = await startDaemon({ env: smtpEnv(smtp, { RESETD_MAIL_BACKOFF_MS: '200' }) });
    const project = await newProject(d);
    const user = await newUser(d, project);
    smtp.refuse = (addr) =>
      addr.toLowerCase() === user.email.toLowerCase() ? { code: 550, message: '5.1.1 <' + addr + '>: Recipient address rejected: User unknown' } : null;
    await requestReset(d, project, user.email);

    const dead = (await waitOutbox(d, (l) => l.some((x) => x.to === user.email && x.state === 'dead'), 'a dead message'))
      .find((x) => x.to === user.email);
    assert.equal(dead.tries, 1, 'a permanent failure must not be retried');
    assert.equal(dead.last_error, `550 5.1.1 <${user.email}>: Recipient address rejected: User unknown`);
    const deadList = await outbox(d, 'dead');
    assert.deepEqual(deadList.map((x) => x.id), [dead.id]);
    assert.equal(smtp.to(user.email).length, 0);

    // The server takes it now: the retry delivers it, once.
    smtp.refuse = null;
    const retried = await d.cli(['outbox', 'retry', dead.id]);
    assert.deepEqual(retried, { id: dead.id, state: 'pending' });
    const m = await smtp.waitForMail(user.email);
    assert.ok(h.extractResetLink(m.mail.text), 'the retried message carries its link');
    await waitOutbox(d, (l) => l.some((x) => x.id === dead.id && x.state === 'sent'), 'the retried message sent');
    await h.sleep(500);
    assert.equal(smtp.to(user.email).length, 1);

    // Nothing dead is left; retrying what is not dead fails.
    assert.deepEqual(await d.cli(['outbox', 'retry', '--all-dead']), { retried: 0 });
    const notDead = await d.cli(['outbox', 'retry', dead.id]).catch((e) => e);
    assert.equal(notDead.exitCode, 1);
    assert.match(notDead.stderr, /is sent, not dead/);
    assert.equal(await d.stop(), 0, `resetd exited badly:\n${d.stderrLines.slice(-20).join('\n')}`);
  });
});

describe('a crash during delivery', () => {
  it('after SIGKILL and a restart, every message is delivered at least once', { timeout: TEST_TIMEOUT }, async () => {
    let dataStarted = 0;
    const smtp = await smtpServer({ dataDelayMs: 1500, onDataStart: () => dataStarted++ });
    const env = smtpEnv(smtp, { RESETD_MAIL_LEASE_SECONDS: '2', RESETD_MAIL_BACKOFF_MS: '200' });
    const d = await startDaemon({ env });
    const project = await newProject(d);
    const users = [];
    for (let i = 0; i < 4; i++) users.push(await newUser(d, project));
    for (const u of users) assert.equal((await requestReset(d, project, u.email)).res.status, 204);

    // Kill the daemon while the server holds a message's DATA.
    const deadline = Date.now() + 15000;
    while (dataStarted === 0 && Date.now() < deadline) await h.sleep(20);
    assert.ok(dataStarted > 0, 'no delivery started');
    const killed = await d.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const sentBefore = (await outbox(d)).filter((x) => x.state === 'sent').length;
    assert.ok(sentBefore < 4, 'everything was delivered before the kill; the test proves nothing');

    smtp.dataDelayMs = 0;
    await d.restart();
    await smtp.waitFor((ms) => users.every((u) => smtp.to(u.email).length >= 1), 30000, 'a message to every user');
    await waitOutbox(d, (l) => l.filter((x) => x.state === 'sent').length === 4, 'four sent', 30000);
    assert.equal(await d.stop(), 0, `resetd exited badly:\n${d.stderrLines.slice(-20).join('\n')}`);
  });
});

describe('the log transport', () => {
  it('writes headers and text to standard output, never into the JSON log', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon({ env: { RESETD_MAIL: 'log:' } });
    const project = await newProject(d);
    const user = await newUser(d, project);
    await requestReset(d, project, user.email);
    const deadline = Date.now() + 10000;
    let link = null;
    while (!link && Date.now() < deadline) {
      link = h.extractResetLink(d.stdoutLines.join('\n'));
      if (!link) await h.sleep(50);
    }
    assert.ok(link, `no link on standard output:\n${d.stdoutLines.join('\n')}`);
    const out = d.stdoutLines.join('\n');
    assert.match(out, new RegExp(`^To: ${user.email.replace(/[.+]/g, '\\$&')}$`, 'm'));
    assert.match(out, /^Subject: Reset your /m);
    assert.equal(await d.stop(), 0, `resetd exited badly:\n${d.stderrLines.slice(-20).join('\n')}`);
    for (const line of d.stderrLines) {
      assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
      assert.ok(!line.includes(link.reset_code), `the reset code reached the log: ${line}`);
    }
    assert.ok(d.stderrLines.some((l) => l.includes('for development only')), 'no warning that log: is for development');
  });
});
