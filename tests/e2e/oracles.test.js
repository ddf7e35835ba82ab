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
        const expect = async (tt, pair, action, want) => {
          const got = await step(tt, pair, action, face, log);
          if (want) assert.equal(got, want, `step ${log[log.length - 1]}\n${log.join('\n')}`);
        };
        // Pair a: three codes, five wrong tries lock the last one.
        for (let i = 0; i < RESET_LIMIT; i++) await expect(t, a, 'request', 'ok');
        for (let i = 0; i < 5; i++) await expect(t, a, 'wrong', 'CodeMismatchException');
        // Over the limit: no new current code for either; the lock stays.
        await expect(t, a, 'request', 'ok');
        await expect(t, a, 'wrong', 'TooManyFailedAttemptsException');
        await expect(t, a, 'request', 'ok');
        await expect(t, a, 'wrong', 'TooManyFailedAttemptsException');

        // Pair b, in a project with a budget of 3: a code, locked, then the
        // budget runs out, and the lock stays for both.
        const u = await setup(d, 3);
        const b = await newPair(u, byUsername, 'b');
        await expect(u, b, 'request', 'ok');
        for (let i = 0; i < 5; i++) await expect(u, b, 'wrong', 'CodeMismatchException');
        await expect(u, b, 'wrong', 'TooManyFailedAttemptsException');
        await spendBudget(u);
        await expect(u, b, 'request', 'ok');
        await expect(u, b, 'wrong', 'TooManyFailedAttemptsException');
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
