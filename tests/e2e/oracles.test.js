'use strict';
// Black-box tests of the promise that typed-code flows do not tell accounts
// apart (docs/abuse.md, "Answers that leak nothing"): a state machine drives
// pairs of logins, one naming a real account and one naming nobody, through
// the same sequence of code requests and wrong confirms, in Cognito, Velocity
// and on the hosted pages (forgot page of a code project, then the code page),
// and asserts the same answer (status, body, headers) at every step. The
// states it must pass through: a fresh code, wrong tries, a locked code, a
// login over its hourly limit, a project whose mail budget is spent.
//
// A fixed sequence per face reaches each state on purpose; a seeded random
// sequence mixes faces and pairs. The seed is printed; set
// RESETD_ORACLE_SEED to replay one.
// Run: node --test tests/e2e/oracles.test.js   (binary: build/resetd or RESETD_BIN)

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const TEST_TIMEOUT = 240000;
const AMZ_JSON = 'application/x-amz-json-1.1';
const TARGET = 'AWSCognitoIdentityProviderService.';
const RESET_LIMIT = 3;
const FACES = ['cognito', 'velocity', 'page'];

const daemons = [];

after(async () => {
  for (const d of daemons) if (d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
});

function hex(n) {
  return crypto.randomBytes(n).toString('hex');
}

function strongPassword() {
  return h.registerSecret(`Pw-${crypto.randomBytes(9).toString('base64url')}!`);
}

// A small seeded generator (mulberry32), so that a failing run can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startDaemon() {
  // Per-address limits out of the way: the per-login ones are under test.
  const d = await h.startDaemon({
    env: { RESETD_RATE_IP_REQUEST: '1000000', RESETD_RATE_IP_CONFIRM: '1000000' },
  });
  daemons.push(d);
  return d;
}

async function setup(d, budget) {
  const project = await d.cli([
    'project', 'create', '--name', `oracle-${hex(4)}`, '--delivery', 'code',
    '--reset-limit', String(RESET_LIMIT), '--mail-budget', String(budget),
  ]);
  const client = await d.cli(['client', 'create', '--project', project.id]);
  return { d, project, client, queued: 0, budget, fillers: 0 };
}

// A pair: a real account and a login that names nobody, of the same shape
// and length, so that their masks and bodies can be compared as they are
// (the login itself is normalised away where an answer echoes it).
async function newPair(t, byUsername, name) {
  const tag = hex(5);
  const email = `u${tag}@example.com`;
  const args = ['user', 'create', '--project', t.project.id, '--email', email, '--password-stdin'];
  let real = email;
  let ghost = `u${hex(5)}@example.com`;
  if (byUsername) {
    real = `n${tag}`;
    ghost = `n${hex(5)}`;
    args.push('--username', real);
  }
  await t.d.cli(args, { input: strongPassword() });
  return { name, real, ghost, sent: 0 };
}

// --- the three faces -------------------------------------------------------

function cognito(t, op, body) {
  return h.request(`${t.d.url}/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': TARGET + op },
  });
}

function velocity(t, path, body) {
  return h.request(`${t.d.url}${path}`, {
    method: 'POST',
    body,
    headers: { userpoolid: t.project.id, appclientid: t.client.client_id },
  });
}

// GET a page, then POST its form with the cookie and CSRF token it gave.
async function pagePost(t, getPath, postPath, fields) {
  const page = await h.request(`${t.d.url}${getPath}`);
  assert.equal(page.status, 200, `GET ${getPath}: ${page.status}`);
  const cookie = [].concat(page.headers['set-cookie'] || []).join(',').match(/__Host-resetd-form=[^;,]*/);
  const csrf = /name="csrf" value="([^"]*)"/.exec(page.text);
  assert.ok(cookie && csrf, `GET ${getPath}: no form cookie or token`);
  return h.request(`${t.d.url}${postPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie[0] },
    body: new URLSearchParams({ project: t.project.id, csrf: csrf[1], ...fields }).toString(),
  });
}

function request(t, face, login) {
  switch (face) {
    case 'cognito':
      return cognito(t, 'ForgotPassword', { ClientId: t.client.client_id, Username: login });
    case 'velocity':
      return velocity(t, '/password/forgot', { userName: login });
    case 'page':
      return pagePost(t, `/forgot?project=${t.project.id}`, '/forgot', { email: login });
    default:
      throw new Error(face);
  }
}

function wrongConfirm(t, face, login, code, password) {
  switch (face) {
    case 'cognito':
      return cognito(t, 'ConfirmForgotPassword', { ClientId: t.client.client_id, Username: login, ConfirmationCode: code, Password: password });
    case 'velocity':
      return velocity(t, '/password/forgot/confirm', { userName: login, verificationCode: code, newPassword: password });
    case 'page':
      return pagePost(t, `/reset/code?project=${t.project.id}`, '/reset/code', { email: login, code, password, confirm: password });
    default:
      throw new Error(face);
  }
}

// What an answer says, in a word, for the fixed sequence's expectations.
const PAGE_ERRORS = [
  ['CodeMismatchException', 'This code is not correct.'],
  ['TooManyFailedAttemptsException', 'too many wrong tries and no longer works'],
  ['LimitExceededException', 'Too many wrong tries. Wait an hour'],
];

function verdict(face, res) {
  if (face === 'cognito') return res.status === 200 ? 'ok' : res.json && res.json.__type;
  if (face === 'velocity') return res.status === 200 ? 'ok' : res.json && res.json.error && res.json.error.code;
  for (const [name, text] of PAGE_ERRORS) if (res.text.includes(text)) return name;
  return res.status === 200 ? 'ok' : `status ${res.status}`;
}

// An answer with what must differ taken out: the login it echoes, request
// ids and dates, the pages' per-visit CSRF token and cookie value.
function normal(res, login) {
  const strip = (s) =>
    String(s)
      .split(login)
      .join('LOGIN')
      .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="CSRF"')
      .replace(/__Host-resetd-form=[^;,]*/g, '__Host-resetd-form=COOKIE');
  const headers = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (['x-request-id', 'x-amzn-requestid', 'date'].includes(k)) continue;
    headers[k] = strip(v);
  }
  return { status: res.status, headers, body: strip(res.text) };
}

// --- the state machine -----------------------------------------------------

// One step for both logins of a pair; the login that names nobody goes first,
// so that both see the project's mail budget as it was before the step (a
// real account's request spends it, an unknown login's does not).
async function step(t, pair, action, face, log) {
  let ghost;
  let real;
  if (action === 'request') {
    ghost = await request(t, face, pair.ghost);
    real = await request(t, face, pair.real);
    // The mail the real request queues, as the limits decide it.
    if (pair.sent < RESET_LIMIT) {
      pair.sent++;
      if (t.queued < t.budget) t.queued++;
    }
  } else {
    const code = String(crypto.randomInt(0, 1000000)).padStart(6, '0');
    const password = strongPassword();
    ghost = await wrongConfirm(t, face, pair.ghost, code, password);
    real = await wrongConfirm(t, face, pair.real, code, password);
  }
  const what = `${log.length}: ${action} via ${face}, pair ${pair.name}`;
  log.push(`${what} -> ${verdict(face, real)}`);
  assert.deepEqual(normal(ghost, pair.ghost), normal(real, pair.real), `answers differ at step ${what}\n${log.join('\n')}`);
  return verdict(face, real);
}

// Spend what is left of the project's mail budget with other accounts.
async function spendBudget(t) {
  while (t.queued < t.budget) {
    const email = `f${hex(5)}@example.com`;
    await t.d.cli(['user', 'create', '--project', t.project.id, '--email', email, '--password-stdin'], { input: strongPassword() });
    for (let i = 0; i < RESET_LIMIT && t.queued < t.budget; i++) {
      const res = await cognito(t, 'ForgotPassword', { ClientId: t.client.client_id, Username: email });
      assert.equal(res.status, 200, res.text);
      t.queued++;
    }
  }
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('typed-code confirms tell no account apart', () => {
  let d;
  before(async () => {
    d = await startDaemon();
  });

  for (const face of FACES) {
    for (const byUsername of [false, true]) {
      const kind = byUsername ? 'usernames' : 'addresses';
      it(`fixed sequence via ${face}, ${kind}: fresh, wrong tries, locked, over the limit, budget spent`, { timeout: TEST_TIMEOUT }, async () => {
        // Two projects, so that each state is reached on its own.
        const t = await setup(d, 1000);
        const a = await newPair(t, byUsername, 'a');
        const log = [];
        // A code out of wrong tries: Cognito's LimitExceededException; the
        // page says the code no longer works.
        const locked = face === 'page' ? 'TooManyFailedAttemptsException' : 'LimitExceededException';
        const expect = async (tt, pair, action, want) => {
          const got = await step(tt, pair, action, face, log);
          if (want) assert.equal(got, want, `step ${log[log.length - 1]}\n${log.join('\n')}`);
        };
        // Pair a: three codes, five wrong tries lock the last one.
        for (let i = 0; i < RESET_LIMIT; i++) await expect(t, a, 'request', 'ok');
        for (let i = 0; i < 5; i++) await expect(t, a, 'wrong', 'CodeMismatchException');
        // Over the limit: no new current code for either; the lock stays.
        await expect(t, a, 'request', 'ok');
        await expect(t, a, 'wrong', locked);
        await expect(t, a, 'request', 'ok');
        await expect(t, a, 'wrong', locked);

        // Pair b, in a project with a budget of 3: a code, locked, then the
        // budget runs out, and the lock stays for both.
        const u = await setup(d, 3);
        const b = await newPair(u, byUsername, 'b');
        await expect(u, b, 'request', 'ok');
        for (let i = 0; i < 5; i++) await expect(u, b, 'wrong', 'CodeMismatchException');
        await expect(u, b, 'wrong', locked);
        await spendBudget(u);
        await expect(u, b, 'request', 'ok');
        await expect(u, b, 'wrong', locked);
        // Pair c never had a code: with the budget spent, none to find.
        const c = await newPair(u, byUsername, 'c');
        await expect(u, c, 'request', 'ok');
        await expect(u, c, 'wrong', 'CodeMismatchException');
      });
    }
  }

  it('seeded random sequences over every face', { timeout: TEST_TIMEOUT }, async (tc) => {
    const seed = process.env.RESETD_ORACLE_SEED ? Number(process.env.RESETD_ORACLE_SEED) : crypto.randomInt(0, 2 ** 31);
    tc.diagnostic(`seed ${seed} (replay with RESETD_ORACLE_SEED=${seed})`);
    process.stdout.write(`# oracle seed ${seed}\n`);
    const rand = rng(seed);
    const pick = (xs) => xs[Math.floor(rand() * xs.length)];
    const t = await setup(d, 10);
    const pairs = [await newPair(t, false, 'a'), await newPair(t, true, 'b'), await newPair(t, false, 'c')];
    const log = [`seed ${seed}`];
    const seen = new Set();
    for (let i = 0; i < 70; i++) {
      const r = rand();
      if (r < 0.04) {
        // Someone else's mail: one unit of the budget.
        if (t.queued < t.budget) {
          const email = `f${hex(5)}@example.com`;
          await d.cli(['user', 'create', '--project', t.project.id, '--email', email, '--password-stdin'], { input: strongPassword() });
          await cognito(t, 'ForgotPassword', { ClientId: t.client.client_id, Username: email });
          t.queued++;
          log.push(`${log.length}: one mail of another account`);
        }
        continue;
      }
      const action = r < 0.3 ? 'request' : 'wrong';
      seen.add(await step(t, pick(pairs), action, pick(FACES), log));
    }
    tc.diagnostic(`answers seen: ${[...seen].sort().join(', ')}`);
  });
});

// --- unknown-account notices ------------------------------------------------

describe('unknown-account notices stay within their limits', () => {
  let d;
  before(async () => {
    d = await startDaemon();
  });

  async function noticeProject(args) {
    const project = await d.cli(['project', 'create', '--name', `notice-${hex(4)}`, '--unknown-account-notice', 'on', ...args]);
    const client = await d.cli(['client', 'create', '--project', project.id]);
    return { d, project, client };
  }

  function xsollaRequest(t, login) {
    return h.request(`${d.url}/api/password/reset/request?projectId=${t.project.id}`, { method: 'POST', body: { username: login } });
  }

  // The mail delivered to each of addresses, once nothing is left to send.
  async function delivered(addresses) {
    const deadline = Date.now() + 10000;
    for (;;) {
      const pending = await d.cli(['outbox', 'list', '--state', 'pending', '--limit', '1000']);
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`mail still pending: ${pending.length}`);
      await h.sleep(100);
    }
    const mails = await h.readMaildir(d.maildir);
    return addresses.map((a) => mails.filter(h.mailTo(a)).length);
  }

  // Requests for every login, each answer compared with the first one.
  async function requestAll(t, logins) {
    let first;
    for (const login of logins) {
      const res = await xsollaRequest(t, login);
      const n = normal(res, login);
      assert.equal(res.status, 204, `${login}: ${res.status} ${res.text}`);
      if (first) assert.deepEqual(n, first, `the answer for ${login} differs`);
      else first = n;
    }
  }

  async function realUser(t) {
    const email = `r${hex(5)}@example.com`;
    await d.cli(['user', 'create', '--project', t.project.id, '--email', email, '--password-stdin'], { input: strongPassword() });
    return email;
  }

  it('past the mail budget, notices stop', { timeout: TEST_TIMEOUT }, async () => {
    const t = await noticeProject(['--mail-budget', '5', '--notice-share', '100']);
    const ghosts = Array.from({ length: 8 }, () => `g${hex(5)}@example.com`);
    await requestAll(t, ghosts);
    const counts = await delivered(ghosts);
    assert.equal(counts.reduce((a, b) => a + b, 0), 5, `notices: ${counts}`);
    assert.deepEqual(counts, [1, 1, 1, 1, 1, 0, 0, 0], 'the first five, then none');
  });

  it('notices use only their share: an account still gets its mail', { timeout: TEST_TIMEOUT }, async () => {
    // A budget of 5 and a notice share of 40%: two notices at most, three
    // messages kept for accounts.
    const t = await noticeProject(['--mail-budget', '5', '--notice-share', '40']);
    const ghosts = Array.from({ length: 8 }, () => `g${hex(5)}@example.com`);
    await requestAll(t, ghosts);
    const reals = [await realUser(t), await realUser(t), await realUser(t), await realUser(t)];
    await requestAll(t, reals);
    const counts = await delivered([...ghosts, ...reals]);
    assert.deepEqual(counts.slice(0, 8), [1, 1, 0, 0, 0, 0, 0, 0], 'two notices, then none');
    assert.deepEqual(counts.slice(8), [1, 1, 1, 0], 'the accounts get the three kept for them, then the budget is spent');
  });

  it('the default share keeps most of the budget for accounts', { timeout: TEST_TIMEOUT }, async () => {
    const t = await noticeProject(['--mail-budget', '10']);
    assert.equal(t.project.notice_share_percent, 20);
    assert.equal(t.project.notice_limit_per_hour, 1);
    const ghosts = Array.from({ length: 6 }, () => `g${hex(5)}@example.com`);
    await requestAll(t, ghosts);
    const real = await realUser(t);
    await requestAll(t, [real]);
    const counts = await delivered([...ghosts, real]);
    assert.equal(counts.slice(0, 6).reduce((a, b) => a + b, 0), 2, `20% of 10: ${counts}`);
    assert.equal(counts[6], 1, 'the account gets its mail');
  });

  it('one address gets at most notice-limit notices an hour, whatever the case typed', { timeout: TEST_TIMEOUT }, async () => {
    for (const [limit, args] of [[1, []], [2, ['--notice-limit', '2']]]) {
      const t = await noticeProject(['--reset-limit', '5', ...args]);
      const ghost = `g${hex(5)}@example.com`;
      const other = `o${hex(5)}@example.com`;
      await requestAll(t, [ghost, ghost.toUpperCase(), ghost, `G${ghost.slice(1)}`, ghost]);
      await requestAll(t, [other]);
      const counts = await delivered([ghost, other]);
      assert.deepEqual(counts, [limit, 1], `notice-limit ${limit}`);
    }
  });

  it('refuses limits out of range', { timeout: TEST_TIMEOUT }, async () => {
    for (const args of [['--notice-limit', '0'], ['--notice-share', '101'], ['--notice-limit', 'x']]) {
      await assert.rejects(d.cli(['project', 'create', '--name', `bad-${hex(3)}`, ...args]), /notice-(limit|share)/, args.join(' '));
    }
  });
});
