'use strict';
// Black-box tests of one promise (docs/abuse.md, "A copy of the database is
// not a key to the accounts"): the server secret never lives in the
// database, queued mail is sealed, and nothing resetd writes can be read by
// other users.
//
// - After whole flows in three dialects (an Xsolla link, a Cognito code with
//   a client secret, a WorkOS reset made with an Idempotency-Key), the
//   database (SQLite: its file, WAL and shared memory, while the daemon
//   runs and after it stopped; PostgreSQL: every row of every table) and the
//   daemon's logs hold neither the server secret, nor the link token, nor
//   the code, nor the new passwords. The daemon runs with no server_secret
//   set: on SQLite the key file beside the database is what is tested (its
//   secret is read from there for the search); on PostgreSQL, which must be
//   given a secret, a key file named by server_secret_file.
// - Modes: the database, its WAL and shared memory, the key file and every
//   file and folder of the Maildir are for resetd's user alone.
// - Upgrade: a database that holds the secret in its settings table (what
//   older versions wrote) has it moved to the key file, with one log line,
//   and a session, a client secret and a pending code made before still
//   work. On PostgreSQL, a start with no secret configured is refused with
//   a message saying what to do.

const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

const TEST_TIMEOUT = 120000;
const ON_POSTGRES = h.testDb() === 'postgres';
const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = 'AWSCognitoIdentityProviderService.';
const MOVED_RE = /moved the server secret from the database to /;

const secrets = h.secrets;
const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

function show(res) {
  return `status ${res.status}, body ${JSON.stringify(res.text).slice(0, 400)}`;
}

function mode(p) {
  return fs.statSync(p).mode & 0o7777;
}

function octal(m) {
  return `0${m.toString(8)}`;
}

// A key file as an operator would make one: 64 hex characters, mode 0600.
function writeKeyFile(file) {
  const hex = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(file, `${hex}\n`, { mode: 0o600 });
  return h.registerSecret(hex);
}

function readKeyFile(file) {
  const hex = fs.readFileSync(file, 'utf8').trim();
  assert.match(hex, /^[0-9a-f]{64}$/, `${file} holds the secret as 64 hex characters`);
  return h.registerSecret(hex);
}

// A daemon with no server_secret: on SQLite, in a folder of the test's own
// (var/ below it made by the daemon); on PostgreSQL, with a key file.
async function startDaemon() {
  const root = h.makeTempDir('resetd-secrets-');
  const dbPath = path.join(root, 'var', 'resetd.db');
  const env = { RESETD_SERVER_SECRET: undefined };
  let keyFile = path.join(root, 'var', 'resetd.key');
  let opts = { db: dbPath, maildir: path.join(root, 'var', 'mail') };
  if (ON_POSTGRES) {
    keyFile = path.join(root, 'resetd.key');
    writeKeyFile(keyFile);
    env.RESETD_SERVER_SECRET_FILE = keyFile;
    opts = { maildir: path.join(root, 'mail') };
  }
  const d = await h.startDaemon({ ...opts, env });
  daemons.push(d);
  d.keyFile = keyFile;
  d.root = root;
  return d;
}

function cli(d, args, opts) {
  return d.cli(args, opts);
}

async function newProject(d, extra = []) {
  return cli(d, ['project', 'create', '--name', uniq('proj'), '--callback-url', 'http://localhost:3999/cb', ...extra]);
}

async function newUser(d, project) {
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const user = await cli(d, ['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
  return { ...user, email, password };
}

function xsolla(d, method, p, { projectId, body, headers } = {}) {
  const u = new URL(`/api${p}`, d.url);
  if (projectId) u.searchParams.set('projectId', projectId);
  return h.request(u.href, { method, body, headers });
}

function cognito(d, op, body) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': TARGET + op },
    body: JSON.stringify(body),
  });
}

function secretHash(secret, username, clientId) {
  return crypto.createHmac('sha256', secret).update(username + clientId).digest('base64');
}

async function login(d, project, email, password) {
  const res = await xsolla(d, 'POST', '/login', { projectId: project.id, body: { username: email, password } });
  assert.equal(res.status, 200, `login: ${show(res)}`);
  const token = h.registerSecret(new URL(res.json.login_url).searchParams.get('token'));
  return token;
}

async function me(d, token) {
  return xsolla(d, 'GET', '/users/me', { headers: { Authorization: `Bearer ${token}` } });
}

async function linkMail(d, email) {
  const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetLink(m.text) !== null);
  return h.registerSecret(h.extractResetLink(mail.text).reset_code);
}

async function codeMail(d, email) {
  const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetCode(m.text) !== null);
  return h.extractResetCode(mail.text);
}

// The whole Xsolla flow: request, mail with a link, confirm, login.
async function xsollaFlow(d) {
  const project = await newProject(d);
  const user = await newUser(d, project);
  assert.equal((await xsolla(d, 'POST', '/password/reset/request', { projectId: project.id, body: { username: user.email } })).status, 204);
  const token = await linkMail(d, user.email);
  const pass = newPassword();
  const done = await xsolla(d, 'POST', '/password/reset/confirm', {
    projectId: project.id, body: { new_password: pass, reset_code: token, user_id: user.id },
  });
  assert.equal(done.status, 204, `confirm: ${show(done)}`);
  const session = await login(d, project, user.email, pass);
  assert.equal((await me(d, session)).status, 200);
  return { needles: [token, pass], session };
}

// The whole Cognito flow with a client secret: a code, confirm, login.
async function cognitoFlow(d) {
  const project = await newProject(d, ['--delivery', 'code']);
  const user = await newUser(d, project);
  const client = await cli(d, ['client', 'create', '--project', project.id, '--secret']);
  h.registerSecret(client.client_secret);
  const hash = secretHash(client.client_secret, user.email, client.client_id);
  const forgot = await cognito(d, 'ForgotPassword', { ClientId: client.client_id, Username: user.email, SecretHash: hash });
  assert.equal(forgot.status, 200, `ForgotPassword: ${show(forgot)}`);
  const code = await codeMail(d, user.email);
  const pass = newPassword();
  const done = await cognito(d, 'ConfirmForgotPassword', {
    ClientId: client.client_id, Username: user.email, SecretHash: hash, ConfirmationCode: code, Password: pass,
  });
  assert.equal(done.status, 200, `ConfirmForgotPassword: ${show(done)}`);
  await login(d, project, user.email, pass);
  // Six digits alone could occur by chance in binary data; quoted, as a
  // payload or any JSON would hold it, they cannot.
  return { needles: [`"${code}"`, pass, client.client_secret] };
}

// A WorkOS reset made with an Idempotency-Key: its answer, token included,
// is recorded for replays; then the token is spent with a new password.
async function workosFlow(d) {
  const project = await newProject(d);
  const { key } = await cli(d, ['apikey', 'create', '--project', project.id]);
  h.registerSecret(key);
  const auth = { Authorization: `Bearer ${key}` };
  const email = `${uniq('wos')}@example.com`;
  const made = await h.request(`${d.url}/user_management/users`, { method: 'POST', headers: auth, body: { email } });
  assert.equal(made.status, 201, show(made));
  const reset = await h.request(`${d.url}/user_management/password_reset`, {
    method: 'POST', headers: { ...auth, 'Idempotency-Key': `e2e-${crypto.randomUUID()}` }, body: { email },
  });
  assert.equal(reset.status, 201, show(reset));
  const token = h.registerSecret(reset.json.password_reset_token);
  const pass = newPassword();
  const done = await h.request(`${d.url}/user_management/password_reset/confirm`, {
    method: 'POST', headers: auth, body: { token, new_password: pass },
  });
  assert.equal(done.status, 200, show(done));
  await login(d, project, email, pass);
  return { needles: [token, pass] };
}

// What a copy of the database holds, as byte buffers with their names.
async function databaseCopy(d) {
  if (ON_POSTGRES) {
    const tables = (await h.pgQuery(d.database,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"))
      .split('\n').map((s) => s.trim()).filter(Boolean);
    assert.ok(tables.includes('settings') && tables.includes('outbox'), `tables: ${tables}`);
    const out = [];
    for (const t of tables) {
      out.push({ name: `table ${t}`, bytes: Buffer.from(await h.pgQuery(d.database, `SELECT t::text FROM "${t}" t`)) });
    }
    return out;
  }
  return ['', '-wal', '-shm']
    .filter((s) => fs.existsSync(d.dbPath + s))
    .map((s) => ({ name: path.basename(d.dbPath + s), bytes: fs.readFileSync(d.dbPath + s) }));
}

function assertNoneIn(copies, needles, what) {
  for (const { name, bytes } of copies) {
    for (const n of needles) {
      const b = Buffer.isBuffer(n) ? n : Buffer.from(n);
      assert.equal(bytes.indexOf(b), -1, `${what}: ${name} holds ${b.toString('utf8', 0, 8)}...`);
    }
  }
}

function assertLogsHoldNone(d, needles) {
  for (const line of [...d.stderrLines, ...d.stdoutLines]) {
    for (const n of needles) {
      if (typeof n === 'string') assert.ok(!line.includes(n), `the log holds ${n.slice(0, 8)}...: ${line.slice(0, 200)}`);
    }
  }
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('a copy of the database is not a key to the accounts', () => {
  after(async () => {
    for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  it('after whole flows in three dialects, the database and logs hold no secret', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const secret = readKeyFile(d.keyFile);
    const check = await cli(d, ['check-config']);
    assert.equal(check.server_secret, null, 'no server_secret is configured');
    const flows = [await xsollaFlow(d), await cognitoFlow(d), await workosFlow(d)];
    const needles = [secret, secret.toUpperCase(), Buffer.from(secret, 'hex'), ...flows.flatMap((f) => f.needles)];
    assert.ok(needles.every((n) => n.length >= 6), 'every needle is specific');

    assertNoneIn(await databaseCopy(d), needles, 'while serving');
    await d.stop();
    assertNoneIn(await databaseCopy(d), needles, 'after a stop');
    assertLogsHoldNone(d, needles);

    // The search can find what is there: the user list names the users.
    const copies = await databaseCopy(d);
    assert.ok(copies.some(({ bytes }) => bytes.indexOf('@example.com') !== -1), 'the search reads the database');
    // The secret is where it was, and the session made with it still works.
    await d.restart();
    assert.equal(readKeyFile(d.keyFile), secret);
    assert.equal((await me(d, flows[0].session)).status, 200);
  });

  it('the database, its WAL, the key file and the Maildir are for resetd alone', { timeout: TEST_TIMEOUT, skip: ON_POSTGRES && 'SQLite files' }, async () => {
    const d = await startDaemon();
    await xsollaFlow(d);
    const files = [d.dbPath, `${d.dbPath}-wal`, `${d.dbPath}-shm`, d.keyFile];
    for (const f of files) assert.equal(octal(mode(f)), '0600', `mode of ${path.basename(f)}`);
    assert.equal(octal(mode(path.dirname(d.dbPath))), '0700', 'mode of var/, made by the daemon');
    const mails = await h.readMaildir(d.maildir);
    assert.ok(mails.length >= 2, 'the flow mailed a link and a notice');
    for (const sub of ['', 'new', 'cur', 'tmp']) {
      assert.equal(octal(mode(path.join(d.maildir, sub))), '0700', `mode of the Maildir's ${sub || 'folder'}`);
    }
    for (const f of fs.readdirSync(path.join(d.maildir, 'new'))) {
      assert.equal(octal(mode(path.join(d.maildir, 'new', f))), '0600', `mode of mail ${f}`);
    }
    // check-config says where the secret is, never what it is.
    const secret = readKeyFile(d.keyFile);
    const r = execFileSync(d.bin, ['check-config'], { env: d.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(!r.includes(secret));
    const err = spawnStderr(d, ['check-config']);
    assert.match(err, new RegExp(`server secret: key file ${escapeRe(d.keyFile)}`));
    assert.ok(!err.includes(secret));
  });

  it('an older database: the secret moves to the key file once, and nothing is lost', { timeout: TEST_TIMEOUT }, async () => {
    const d = await startDaemon();
    const secret = readKeyFile(d.keyFile);
    // What exists before the upgrade: a session, a client secret, a code.
    const project = await newProject(d, ['--delivery', 'code']);
    const user = await newUser(d, project);
    const client = await cli(d, ['client', 'create', '--project', project.id, '--secret']);
    h.registerSecret(client.client_secret);
    const hash = secretHash(client.client_secret, user.email, client.client_id);
    const session = await login(d, project, user.email, user.password);
    const forgot = await cognito(d, 'ForgotPassword', { ClientId: client.client_id, Username: user.email, SecretHash: hash });
    assert.equal(forgot.status, 200, show(forgot));
    const code = await codeMail(d, user.email);
    await d.stop();

    // The layout an older version left: the secret in settings, no key file.
    if (ON_POSTGRES) {
      await h.pgQuery(d.database, `INSERT INTO settings (key, value) VALUES ('server_secret', '${secret}')`);
    } else {
      execFileSync('sqlite3', [d.dbPath, `INSERT INTO settings (key, value) VALUES ('server_secret', '${secret}')`]);
    }
    fs.unlinkSync(d.keyFile);

    if (ON_POSTGRES) {
      // With no secret configured, PostgreSQL refuses, saying what to do.
      await assert.rejects(d.restart({ env: { RESETD_SERVER_SECRET_FILE: undefined } }), /exited before it was ready/);
      assert.ok(d.stderrLines.some((l) => /holds the server secret.*set server_secret_file/.test(l)),
        `the refusal says what to do:\n${d.stderrLines.slice(-5).join('\n')}`);
      await d.restart({ env: { RESETD_SERVER_SECRET_FILE: d.keyFile } });
    } else {
      await d.restart();
    }
    const moved = d.stderrLines.filter((l) => MOVED_RE.test(l));
    assert.equal(moved.length, 1, `one log line:\n${moved.join('\n')}`);
    assert.equal(JSON.parse(moved[0]).level, 'info');
    assert.ok(moved[0].includes(d.keyFile));
    assert.equal(readKeyFile(d.keyFile), secret, 'the key file holds the database\'s secret');
    assert.equal(octal(mode(d.keyFile)), '0600');
    assertNoneIn(await databaseCopy(d), [secret, Buffer.from(secret, 'hex')], 'after the move');

    // Nothing is lost: the session, the client secret and the code work.
    const meRes = await me(d, session);
    assert.equal(meRes.status, 200, `a session from before: ${show(meRes)}`);
    const bad = await cognito(d, 'ForgotPassword', { ClientId: client.client_id, Username: user.email, SecretHash: 'AAAA' });
    assert.equal(bad.json && bad.json.__type, 'NotAuthorizedException', `a wrong SecretHash is still refused: ${show(bad)}`);
    const pass = newPassword();
    const done = await cognito(d, 'ConfirmForgotPassword', {
      ClientId: client.client_id, Username: user.email, SecretHash: hash, ConfirmationCode: code, Password: pass,
    });
    assert.equal(done.status, 200, `the code mailed before the upgrade: ${show(done)}`);
    await login(d, project, user.email, pass);

    // Once: the next start finds it in the file alone and says nothing.
    await d.restart();
    assert.equal(d.stderrLines.filter((l) => MOVED_RE.test(l)).length, 1);
    assert.equal((await me(d, await login(d, project, user.email, pass))).status, 200);
  });

  it('PostgreSQL refuses to start with no secret configured', { timeout: TEST_TIMEOUT, skip: !ON_POSTGRES && 'PostgreSQL only' }, async () => {
    const d = await startDaemon();
    await d.stop();
    await assert.rejects(d.restart({ env: { RESETD_SERVER_SECRET_FILE: undefined } }), /exited before it was ready/);
    assert.ok(d.stderrLines.some((l) => /on PostgreSQL, set server_secret or server_secret_file/.test(l)));
    const err = spawnStderr(d, ['check-config']);
    assert.match(err, /server_secret_file/);
    // A key file named but absent, and nothing to move: no secret is made up.
    const missing = path.join(d.root, 'missing.key');
    await assert.rejects(d.restart({ env: { RESETD_SERVER_SECRET_FILE: missing } }), /exited before it was ready/);
    assert.equal(fs.existsSync(missing), false);
  });
});

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The standard error of a CLI command, whatever its exit status.
function spawnStderr(d, args) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(d.bin, args, { env: d.env, encoding: 'utf8' });
  return r.stderr;
}
