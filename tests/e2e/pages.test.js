'use strict';
// Black-box tests of the hosted pages in a real browser: Debian's headless
// Chromium (/usr/bin/chromium) driven by playwright-core, against the real
// daemon, reading links and codes from its Maildir.
//
// Besides resetd, a small "app" server plays the application (its login_url,
// its logo) on http://127.0.0.1:APP, and a "webmail" page on
// http://localhost:APP, another site, from which links are clicked the way
// people click them.
//
// One test starts a second daemon with small per-address limits, as
// tests/e2e/abuse.test.js does, for the pages' 429; it talks over plain
// HTTP, so its cookies do not mix with the browser's.
//
// Screenshots go to tests/artifacts/ (ignored by git).
// Run: RESETD_BIN=$PWD/build/san/resetd node --test tests/e2e/pages.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const h = require('./lib/harness');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = path.join(h.REPO_ROOT, 'tests', 'artifacts');
const TEST_TIMEOUT = 90000;
// The machine has no network: without these, Chromium keeps trying to reach
// Google's services and floods the log with refused connections.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// The app's logo, an SVG image (no script runs in an <img>).
const LOGO = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="184" height="40" viewBox="0 0 184 40">'
  + '<rect width="40" height="40" rx="8" fill="#7a1fa2"/><path d="M12 26l8-12 8 12z" fill="#fff"/>'
  + '<text x="50" y="28" font-family="sans-serif" font-size="22" font-weight="700" fill="#222">Acme Shop</text></svg>');

const secrets = new Set(); // links' secrets, cancel MACs, codes, passwords: never to be logged

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw ${crypto.randomBytes(9).toString('base64url')} long`;
  secrets.add(p);
  return p;
}

// The application: /cb is its sign-in page (a login_url), /logo.svg its logo;
// /mail?to=URL is a webmail showing a link (served on localhost, another
// site than 127.0.0.1).
async function startApp() {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/cb') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!DOCTYPE html><title>App sign-in</title><h1 id="app">Sign in to the app</h1>');
    }
    if (u.pathname === '/logo.svg') {
      server.logoRequests.push({ referer: req.headers.referer || null });
      res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-store' });
      return res.end(LOGO);
    }
    if (u.pathname === '/mail') {
      const to = u.searchParams.get('to').replace(/&/g, '&amp;').replace(/"/g, '&quot;');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(`<!DOCTYPE html><title>Webmail</title><a id="link" href="${to}">Choose a new password</a>`);
    }
    res.writeHead(404);
    res.end();
  });
  server.logoRequests = [];
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.port = server.address().port;
  return server;
}

function formBody(fields) {
  return new URLSearchParams(fields).toString();
}

function cookieFrom(res, name) {
  const all = [].concat(res.headers['set-cookie'] || []);
  for (const line of all.flatMap((l) => l.split(/,(?=\s*__Host-)/))) {
    const m = new RegExp(`^\\s*${name}=([^;]*)`).exec(line);
    if (m) return { value: m[1], line };
  }
  return null;
}

function inputValue(html, name) {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1] : null;
}

// The cancel link of a reset mail's text part.
function extractCancelLink(text) {
  const m = /https?:\/\/[^\s<>"']+\/reset\/cancel\?id=[^\s<>"']+/.exec(text || '');
  return m ? m[0] : null;
}

describe('hosted pages in Chromium', () => {
  let d; // the daemon
  let app; // the application's server
  let context; // one browser profile (a fresh --user-data-dir)
  let userDataDir;
  let callback; // the project's callback URL, on the app
  const consoleProblems = [];

  async function newProject(extra = []) {
    return d.cli(['project', 'create', '--name', uniq('Shop'), '--callback-url', callback, ...extra]);
  }

  async function newUser(project) {
    const email = `${uniq('user')}@example.com`;
    const password = newPassword();
    const user = await d.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
    return { ...user, email, password };
  }

  // A reset through the Xsolla dialect; resolves with the mail's link and cancel link.
  async function requestLink(project, user, { query = {} } = {}) {
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
    const u = new URL('/password/reset/request', d.url);
    u.searchParams.set('projectId', project.id);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const res = await h.request(u.href, { method: 'POST', body: { username: user.email } });
    assert.equal(res.status, 204, `reset request: ${res.status} ${res.text}`);
    return linkFromMail(user, seen);
  }

  async function linkFromMail(user, seen) {
    const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(user.email)(m) && h.extractResetLink(m.text) !== null);
    const link = h.extractResetLink(mail.text);
    const cancel = extractCancelLink(mail.text);
    secrets.add(link.reset_code);
    if (cancel) secrets.add(new URL(cancel).searchParams.get('sig'));
    return { link, cancel, mail };
  }

  function login(project, username, password) {
    return h.request(`${d.url}/login?projectId=${project.id}`, { method: 'POST', body: { username, password } });
  }

  async function newPage() {
    const page = await context.newPage();
    // Pages answered 4xx on purpose are reported as "Failed to load
    // resource"; anything else (a CSP refusal above all) is a problem.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) {
        consoleProblems.push(msg.text());
      }
    });
    page.on('pageerror', (err) => consoleProblems.push(String(err)));
    return page;
  }

  async function heading(page) {
    return (await page.textContent('h1')).trim();
  }

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install chromium (scripts/deps.sh test does)`);
    app = await startApp();
    callback = `http://127.0.0.1:${app.port}/cb`;
    d = await h.startDaemon();
    userDataDir = h.makeTempDir('resetd-chromium-');
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    if (app) await new Promise((resolve) => app.close(resolve));
    if (d && d.running()) await d.stop().catch(() => d.kill('SIGKILL'));
  });

  it('the whole flow: forgot page, mail, link, new password twice, login_url, login', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(['--logo-url', `http://127.0.0.1:${app.port}/logo.svg`, '--accent-color', '#0a7c4e']);
    const user = await newUser(project);
    const page = await newPage();
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));

    await page.goto(`${d.url}/forgot?project=${project.id}&login_url=${encodeURIComponent(callback)}`);
    assert.equal(await heading(page), 'Forgot your password?');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.fill('#email', user.email);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Check your email');
    assert.match(await page.textContent('main'), new RegExp(user.email.replace(/\./g, '\\.')));

    const { link, cancel } = await linkFromMail(user, seen);
    assert.ok(link.url.startsWith(`${d.url}/reset?`), link.url);
    assert.equal(link.params.login_url, callback, 'the link carries the login_url');
    assert.ok(cancel && cancel.startsWith(`${d.url}/reset/cancel?id=`), 'every reset mail has a cancel link');
    assert.ok(!cancel.includes(link.reset_code), 'the cancel link does not carry the reset secret');

    await page.goto(link.url);
    assert.equal(page.url(), `${d.url}/reset`, 'the secret left the address bar');
    assert.equal(await heading(page), 'Choose a new password');
    assert.equal(await page.inputValue('input[autocomplete=username]'), user.email);
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    await Promise.all([page.waitForURL(`${callback}`), page.click('button[type=submit]')]);
    assert.equal(await page.textContent('#app'), 'Sign in to the app', 'landed on login_url');

    const ok = await login(project, user.email, newPass);
    assert.equal(ok.status, 200, `login with the new password: ${ok.text}`);
    const old = await login(project, user.email, user.password);
    assert.equal(old.status, 401, 'the old password no longer works');
    await page.close();
  });

  it('a done page when the request had no login_url', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    await page.goto(link.url);
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Your password has been changed');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.close();
  });

  it('scanners: GET and HEAD of the link, many times, leave it working', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);

    for (let i = 0; i < 3; i++) {
      for (const method of ['HEAD', 'GET']) {
        const res = await fetch(link.url, { method, redirect: 'manual', headers: { 'User-Agent': 'Go-http-client/1.1' } });
        await res.arrayBuffer();
        assert.equal(res.status, 303, `${method} of the link`);
        assert.equal(res.headers.get('location'), '/reset');
      }
      // A scanner that follows the redirect with the cookie it was given.
      const first = await h.request(link.url);
      const c = cookieFrom(first, '__Host-resetd-reset');
      const page = await h.request(`${d.url}/reset`, { headers: { Cookie: `__Host-resetd-reset=${c.value}` } });
      assert.equal(page.status, 200);
      assert.match(page.text, /Choose a new password/);
    }

    const page = await newPage();
    await page.goto(link.url);
    assert.equal(await heading(page), 'Choose a new password');
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Your password has been changed');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.close();
  });

  it('token hygiene: no secret in the address bar, in any Referer, or in the page', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(['--logo-url', `http://127.0.0.1:${app.port}/logo.svg`, '--accent-color', '#ffcc00']);
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    const requests = [];
    page.on('request', (req) => requests.push(req));
    app.logoRequests.length = 0;

    const response = await page.goto(link.url);
    assert.equal(page.url(), `${d.url}/reset`);
    assert.equal(await page.evaluate(() => location.href), `${d.url}/reset`);
    assert.equal(await heading(page), 'Choose a new password');
    await page.waitForLoadState('load');

    // Every sub-request of the page: no secret in its URL or its Referer.
    const subs = requests.filter((r) => r.resourceType() !== 'document');
    assert.ok(subs.some((r) => r.url().includes('/assets/resetd.css')), 'the stylesheet was loaded');
    assert.ok(subs.some((r) => r.url().includes('/assets/project/')), 'the project stylesheet was loaded');
    assert.ok(subs.some((r) => r.url().includes('/logo.svg')), 'the logo was loaded');
    for (const r of requests) {
      const headers = await r.allHeaders();
      assert.ok(!(headers.referer || '').includes(link.reset_code), `${r.url()}: Referer carries the secret`);
      if (r.resourceType() !== 'document') {
        assert.ok(!headers.referer, `${r.url()}: sends a Referer: ${headers.referer}`);
        assert.ok(!r.url().includes(link.reset_code), `${r.url()}: carries the secret`);
      }
    }
    assert.ok(app.logoRequests.length >= 1 && app.logoRequests.every((x) => x.referer === null), 'the logo request had a Referer');
    assert.ok(!(await page.content()).includes(link.reset_code), 'the secret is not in the page');

    // The headers of the page.
    const hd = response.headers();
    assert.equal(hd['referrer-policy'], 'no-referrer');
    assert.equal(hd['cache-control'], 'no-store');
    assert.equal(hd['x-content-type-options'], 'nosniff');
    const csp = hd['content-security-policy'];
    for (const part of ["default-src 'none'", "style-src 'self'", `img-src 'self' http://127.0.0.1:${app.port}`,
      "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) {
      assert.ok(csp.includes(part), `CSP lacks ${part}: ${csp}`);
    }

    // The cookie that holds the secret.
    const cookie = (await context.cookies(d.url)).find((c) => c.name === '__Host-resetd-reset');
    assert.ok(cookie, 'the secret is in its cookie');
    assert.equal(cookie.value, link.reset_code);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.ok(cookie.expires > 0 && cookie.expires - Date.now() / 1000 <= 1800 + 5, 'a short Max-Age');
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read it');

    // The accent colour arrived by stylesheet, not by an inline style.
    const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
    assert.equal(accent, '#ffcc00');
    assert.equal(await page.$$eval('[style]', (els) => els.length), 0, 'no inline styles');
    await page.close();
  });

  it('a link clicked in a webmail on another site works (SameSite=Strict and the redirect)', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    await context.clearCookies();
    const page = await newPage();
    const refs = [];
    // Each GET /reset: whether it carried the reset cookie, and its status.
    // (Not the page's body: the continue page refreshes at once, and
    // Chromium may drop its body before a handler can read it.)
    const resetPages = [];
    page.on('request', async (r) => {
      const isReset = r.url() === `${d.url}/reset`;
      const i = isReset ? resetPages.push({ cookie: null, status: null }) - 1 : -1;
      const hd = await r.allHeaders();
      refs.push({ url: r.url(), referer: hd.referer });
      if (isReset) resetPages[i].cookie = (hd.cookie || '').includes('__Host-resetd-reset=');
    });
    page.on('response', (r) => {
      const hit = resetPages.find((x) => x.status === null);
      if (r.url() === `${d.url}/reset` && hit) hit.status = r.status();
    });

    await page.goto(`http://localhost:${app.port}/mail?to=${encodeURIComponent(link.url)}`);
    await page.click('#link');
    await page.waitForSelector('#password', { timeout: 10000 });
    assert.equal(page.url(), `${d.url}/reset`);
    // Chromium held the Strict cookie back after the cross-site start; the
    // page (200, the continue page, not the 400 of a missing cookie)
    // reloaded itself once, from this site, and then had it.
    assert.deepEqual(resetPages, [{ cookie: false, status: 200 }, { cookie: true, status: 200 }]);
    assert.equal(await heading(page), 'Choose a new password');
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Your password has been changed');
    for (const r of refs) {
      if (r.url.startsWith(d.url)) assert.ok(!(r.referer || '').includes(link.reset_code), `${r.url}: Referer carries the secret`);
    }
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.close();
  });

  it('a second tab after success sees "link already used"', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const first = await newPage();
    const second = await newPage();
    await first.goto(link.url);
    await second.goto(link.url); // the form open in both tabs
    const newPass = newPassword();
    await first.fill('#password', newPass);
    await first.fill('#confirm', newPass);
    await Promise.all([first.waitForNavigation(), first.click('button[type=submit]')]);
    assert.equal(await heading(first), 'Your password has been changed');

    // The second tab's form, sent after the first: refused, says why.
    const other = newPassword();
    await second.fill('#password', other);
    await second.fill('#confirm', other);
    const [resp] = await Promise.all([second.waitForNavigation(), second.click('button[type=submit]')]);
    assert.equal(resp.status(), 410);
    assert.equal(await heading(second), 'This link has already been used');
    // Opening the link again says the same, with a way to ask anew.
    await second.goto(link.url);
    assert.equal(await heading(second), 'This link has already been used');
    const again = await second.getAttribute('a.button', 'href');
    assert.equal(again, `/forgot?project=${project.id}`);
    assert.equal((await login(project, user.email, other)).status, 401, 'the second password was not set');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await first.close();
    await second.close();
  });

  it('cancel: "this wasn\'t me" and its button kill the link', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link, cancel } = await requestLink(project, user);

    // Scanners fetch the cancel link too: that cancels nothing.
    for (const method of ['HEAD', 'GET', 'GET']) {
      const res = await fetch(cancel, { method, redirect: 'manual' });
      await res.arrayBuffer();
      assert.equal(res.status, 200, `${method} of the cancel link`);
    }
    const probe = await h.request(link.url);
    assert.equal(probe.status, 303, 'the reset link still works after the cancel link was fetched');
    const parked = cookieFrom(probe, '__Host-resetd-reset');
    const still = await h.request(`${d.url}/reset`, { headers: { Cookie: `__Host-resetd-reset=${parked.value}` } });
    assert.match(still.text, /Choose a new password/);

    const page = await newPage();
    await page.goto(cancel);
    assert.equal(await heading(page), 'Cancel this password reset?');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'The password reset has been cancelled');

    await page.goto(link.url);
    assert.equal(await heading(page), 'This link is not valid');
    // The API refuses the secret too.
    const res = await h.request(`${d.url}/password/reset/confirm?projectId=${project.id}`, {
      method: 'POST', body: { reset_code: link.reset_code, user_id: link.user_id, new_password: newPassword() },
    });
    assert.equal(res.status, 404);
    await page.goto(cancel);
    assert.equal(await heading(page), 'There is nothing to cancel');
    // A tampered cancel link is nobody's.
    await page.goto(cancel.replace(/sig=./, 'sig=A'));
    assert.equal(await heading(page), 'This link is not valid');
    assert.equal((await login(project, user.email, user.password)).status, 200, 'the password is unchanged');
    await page.close();
  });

  it('forged posts: no CSRF token, or another session\'s, are refused and spend nothing', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    await page.goto(link.url);
    const newPass = newPassword();

    // Without the token.
    await page.evaluate(() => document.querySelector('input[name=csrf]').remove());
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    let [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 403);
    assert.match(await page.textContent('[role=alert]'), /This form has expired/);

    // With another session's token: an attacker's own link gives a valid
    // token for the attacker's cookie, not for this one.
    const attacker = await newUser(project);
    const { link: theirs } = await requestLink(project, attacker);
    const parked = await h.request(theirs.url);
    const theirCookie = cookieFrom(parked, '__Host-resetd-reset').value;
    const theirPage = await h.request(`${d.url}/reset`, { headers: { Cookie: `__Host-resetd-reset=${theirCookie}` } });
    const theirToken = inputValue(theirPage.text, 'csrf');
    assert.ok(theirToken);
    assert.notEqual(await page.inputValue('input[name=csrf]'), theirToken);
    await page.evaluate((t) => { document.querySelector('input[name=csrf]').value = t; }, theirToken);
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 403, 'a token of another cookie is refused');
    assert.match(await page.textContent('[role=alert]'), /This form has expired/);

    // A cross-site post carries no cookie at all.
    const forged = await h.request(`${d.url}/reset`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: formBody({ csrf: theirToken, password: newPass, confirm: newPass }),
    });
    assert.equal(forged.status, 400);
    assert.equal((await login(project, user.email, user.password)).status, 200, 'nothing was spent');
    assert.equal((await login(project, attacker.email, attacker.password)).status, 200);

    // And the genuine form still works.
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 200);
    assert.equal(await heading(page), 'Your password has been changed');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.close();
  });

  it('form errors: messages next to the fields, announced, nothing spent', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    await page.goto(link.url);

    await page.fill('#password', 'short');
    await page.fill('#confirm', 'short');
    let [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#password', 'aria-describedby'), 'password-hint password-error');
    assert.match(await page.textContent('#password-error'), /too short/);
    assert.match(await page.textContent('[role=alert]'), /too short/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password', 'the field in error has the focus');
    assert.match(await page.title(), /^Error: /);

    await page.fill('#password', 'a long enough password');
    await page.fill('#confirm', 'a long enough passw0rd');
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.match(await page.textContent('#confirm-error'), /not the same/);
    assert.equal(await page.getAttribute('#confirm', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), null);
    assert.equal((await login(project, user.email, user.password)).status, 200, 'nothing was spent');
    await page.close();
  });

  it('a refused password: the rule next to the field, nothing spent, the link still works', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    await page.goto(link.url);

    // One of the most common passwords, long enough to pass the length check.
    secrets.add('password1234');
    await page.fill('#password', 'password1234');
    await page.fill('#confirm', 'password1234');
    let [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.equal(await heading(page), 'Choose a new password');
    assert.match(await page.textContent('#password-error'), /one of the most common passwords/);
    assert.equal(await page.getAttribute('#password', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#password', 'aria-describedby'), 'password-hint password-error');
    assert.match(await page.textContent('[role=alert]'), /most common passwords/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');

    // The account's own address.
    await page.fill('#password', user.email);
    await page.fill('#confirm', user.email);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.match(await page.textContent('#password-error'), /cannot be your email address/);
    assert.equal((await login(project, user.email, user.password)).status, 200, 'nothing was spent');

    // The same link, the same form: a good password now goes through.
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 200);
    assert.equal(await heading(page), 'Your password has been changed');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.close();
  });

  it('a refused password on the code page: said next to the field, the code kept and not spent', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(['--delivery', 'code', '--password-min-length', '12']);
    const user = await newUser(project);
    const page = await newPage();
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'de' });
    await page.goto(`${d.url}/forgot?project=${project.id}`);
    await page.fill('#email', user.email);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await page.textContent('#password-hint'), /^Mindestens 12 Zeichen/, "the project's minimum");
    assert.equal(await page.getAttribute('#password', 'minlength'), '12');
    const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(user.email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);

    secrets.add('password1234');
    await page.fill('#code', code);
    await page.fill('#password', 'password1234');
    await page.fill('#confirm', 'password1234');
    let [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.match(await page.textContent('#password-error'), /am häufigsten verwendeten/);
    assert.equal(await page.getAttribute('#code', 'aria-invalid'), null, 'the code is not in error');
    assert.equal(await page.inputValue('#code'), code, 'the code stays in the form');

    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 200, 'the refusal spent neither the code nor a try');
    assert.equal(await heading(page), 'Ihr Passwort wurde geändert');
    assert.equal((await login(project, user.email, newPass)).status, 200);
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en' });
    await page.close();
  });

  it('the audit trail records the pages\' requests with the client address', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const page = await newPage();
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));
    await page.goto(`${d.url}/forgot?project=${project.id}`);
    await page.fill('#email', user.email);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    const { link } = await linkFromMail(user, seen);
    await page.goto(link.url);
    const newPass = newPassword();
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Your password has been changed');

    const events = await d.cli(['audit', 'list', '--project', project.id]);
    for (const name of ['reset_requested', 'secret_used', 'password_changed']) {
      const e = events.find((x) => x.event === name);
      assert.ok(e, `no ${name} row: ${JSON.stringify(events)}`);
      assert.equal(e.client_ip, '127.0.0.1', `${name}: the client address`);
      assert.match(e.user_agent || '', /Chrome/, `${name}: the browser's user agent`);
    }
    await page.close();
  });

  it('form fields that are not UTF-8 are refused at the edge, on every database', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const form = await h.request(`${d.url}/forgot?project=${project.id}`);
    const cookie = cookieFrom(form, '__Host-resetd-form').value;
    const csrf = inputValue(form.text, 'csrf');
    const errorsBefore = d.stderrLines.filter((l) => l.includes('"level":"error"')).length;
    const res = await h.request(`${d.url}/forgot`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `__Host-resetd-form=${cookie}` },
      body: `project=${project.id}&csrf=${csrf}&email=a%FF%FEb%40example.com`,
    });
    assert.equal(res.status, 422, 'refused like an empty field, not a database failure');
    assert.match(res.text, /Enter your email address/);
    assert.equal(d.stderrLines.filter((l) => l.includes('"level":"error"')).length, errorsBefore, 'nothing logged as an error');
  });

  it('language: Accept-Language ja gives Japanese pages; an explicit locale wins', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const page = await newPage();
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'ja-JP,ja;q=0.9,en;q=0.5' });
    await page.goto(`${d.url}/forgot?project=${project.id}`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.equal(await heading(page), 'パスワードをお忘れですか？');
    assert.equal(await page.textContent('label[for=email]'), 'メールアドレス');

    // The link of a request made without a locale: Japanese too.
    const { link } = await requestLink(project, user);
    await page.goto(link.url);
    assert.equal(await heading(page), '新しいパスワードの設定');
    await page.fill('#password', 'short');
    await page.fill('#confirm', 'short');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await page.textContent('#password-error'), /短すぎます/);

    // An explicit locale beats the header.
    await page.goto(`${d.url}/forgot?project=${project.id}&locale=de`);
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await heading(page), 'Passwort vergessen?');
    // Each written language, by Accept-Language alone.
    const want = { 'fr-FR': 'Mot de passe oublié', 'es-ES': '¿Olvidaste tu contraseña?', 'pt-BR': 'Esqueceu sua senha?',
      ru: 'Забыли пароль?', 'zh-CN': '忘记密码了？', en: 'Forgot your password?' };
    for (const [lang, title] of Object.entries(want)) {
      await page.setExtraHTTPHeaders({ 'Accept-Language': lang });
      await page.goto(`${d.url}/forgot?project=${project.id}`);
      assert.ok((await heading(page)).startsWith(title), `${lang}: ${await heading(page)}`);
    }
    await page.close();
  });

  it('a code-delivery project: the forgot page, then the code page, through the browser', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(['--delivery', 'code']);
    const user = await newUser(project);
    const page = await newPage();
    const seen = new Set((await h.readMaildir(d.maildir)).map((m) => m.file));

    await page.goto(`${d.url}/forgot?project=${project.id}`);
    assert.equal(await page.textContent('button[type=submit]'), 'Send me a code');
    await page.fill('#email', user.email);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await heading(page), 'Enter your reset code');
    assert.match(await page.textContent('[role=status]'), /6-digit code/);
    assert.equal(await page.inputValue('#email'), user.email);

    const mail = await h.waitForMail(d.maildir, (m) => !seen.has(m.file) && h.mailTo(user.email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);
    assert.ok(extractCancelLink(mail.text), 'code mails carry a cancel link too');

    // A wrong code first: said next to the code field.
    const wrong = code === '000000' ? '000001' : '000000';
    const newPass = newPassword();
    await page.fill('#code', wrong);
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    let [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 422);
    assert.match(await page.textContent('#code-error'), /not correct/);
    assert.equal(await page.getAttribute('#code', 'aria-invalid'), 'true');

    // The right one, typed the way people copy it.
    await page.fill('#code', `${code.slice(0, 3)} ${code.slice(3)}`);
    await page.fill('#password', newPass);
    await page.fill('#confirm', newPass);
    [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 200);
    assert.equal(await heading(page), 'Your password has been changed');
    assert.equal((await login(project, user.email, newPass)).status, 200);

    // The same page straight from its address, for a code from the API.
    await page.goto(`${d.url}/reset/code?project=${project.id}`);
    assert.equal(await heading(page), 'Enter your reset code');
    await page.close();
  });

  it('the forgot page answers alike for unknown addresses', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject();
    const user = await newUser(project);
    const page = await newPage();
    const texts = [];
    for (const email of [user.email, `${uniq('nobody')}@example.com`]) {
      await page.goto(`${d.url}/forgot?project=${project.id}`);
      await page.fill('#email', email);
      const [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(resp.status(), 200);
      const hd = resp.headers();
      texts.push({ text: (await page.textContent('main')).replace(email, 'EMAIL'), names: Object.keys(hd).filter((k) => !/^(date|x-request-id|content-length)$/.test(k)).sort() });
    }
    assert.deepEqual(texts[0], texts[1]);
    await page.close();
  });

  it('layout: usable at 320 px, labels tied to inputs, visible focus; screenshots at 375 and 1280 px', { timeout: TEST_TIMEOUT }, async () => {
    const project = await newProject(['--logo-url', `http://127.0.0.1:${app.port}/logo.svg`, '--accent-color', '#7a1fa2']);
    const plain = await newProject(['--delivery', 'code']);
    const user = await newUser(project);
    const { link } = await requestLink(project, user);
    const page = await newPage();
    const shots = [];

    const pages = [
      ['forgot', `${d.url}/forgot?project=${project.id}`],
      ['reset', link.url],
      ['code', `${d.url}/reset/code?project=${plain.id}`],
    ];
    for (const [name, url] of pages) {
      for (const width of [320, 375, 1280]) {
        await page.setViewportSize({ width, height: width < 400 ? 740 : 800 });
        await page.goto(url);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${name} at ${width}px scrolls sideways by ${overflow}px`);
        // Every visible input has a label tied to it.
        const unlabelled = await page.$$eval('input:not([type=hidden]):not([hidden])', (els) =>
          els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name));
        assert.deepEqual(unlabelled, [], `${name}: inputs without a label`);
        if (width !== 320) {
          const file = path.join(ARTIFACTS, `pages-${name}-${width}.png`);
          await page.screenshot({ path: file, fullPage: true });
          shots.push(file);
        }
      }
    }
    // An error state, small and large.
    await page.goto(link.url);
    await page.fill('#password', 'short');
    await page.fill('#confirm', 'other');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      const file = path.join(ARTIFACTS, `pages-reset-errors-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
    }
    // Japanese, small.
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'ja' });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${d.url}/forgot?project=${plain.id}`);
    shots.push(path.join(ARTIFACTS, 'pages-forgot-ja-375.png'));
    await page.screenshot({ path: shots[shots.length - 1], fullPage: true });
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en' });
    await page.setViewportSize({ width: 1280, height: 800 });
    // Focus shows: a ring on inputs, buttons and links reached by keyboard.
    await page.goto(`${d.url}/forgot?project=${plain.id}`);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { id: el.id, outline: s.outlineStyle, width: s.outlineWidth };
    });
    assert.equal(focused.id, 'email');
    assert.equal(focused.outline, 'solid');
    assert.equal(focused.width, '3px');
    await page.keyboard.press('Tab');
    const button = await page.evaluate(() => ({ tag: document.activeElement.tagName, outline: getComputedStyle(document.activeElement).outlineStyle }));
    assert.deepEqual(button, { tag: 'BUTTON', outline: 'solid' });
    const file = path.join(ARTIFACTS, 'pages-forgot-focus-1280.png');
    await page.screenshot({ path: file });
    shots.push(file);

    for (const f of shots) {
      const st = fs.statSync(f);
      assert.ok(st.size > 5000, `${f} looks empty (${st.size} bytes)`);
    }
    await page.close();
  });

  it('stylesheets: served by resetd, cacheable, project colours checked', { timeout: TEST_TIMEOUT }, async () => {
    const css = await h.request(`${d.url}/assets/resetd.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'], /^text\/css/);
    assert.match(css.headers['cache-control'], /public, max-age=\d+/);
    assert.ok(css.headers.etag);
    const again = await h.request(`${d.url}/assets/resetd.css`, { headers: { 'If-None-Match': css.headers.etag } });
    assert.equal(again.status, 304);
    const project = await newProject(['--accent-color', '#123abc']);
    const pcss = await h.request(`${d.url}/assets/project/${project.id}.css`);
    assert.equal(pcss.status, 200);
    assert.match(pcss.text, /--accent: #123abc;/);
    assert.match(pcss.text, /--accent-text: #ffffff;/);
    assert.equal((await h.request(`${d.url}/assets/project/${crypto.randomUUID()}.css`)).status, 404);
    const none = await newProject();
    assert.equal((await h.request(`${d.url}/assets/project/${none.id}.css`)).status, 404);
    await assert.rejects(newProject(['--accent-color', 'red;}body{display:none']), /accent-color/);
    await assert.rejects(newProject(['--logo-url', 'http://cdn.example.com/logo.png']), /logo-url/);
    await assert.rejects(newProject(['--logo-url', 'javascript:alert(1)']), /logo-url/);
  });

  it('pages without a project or a cookie say so plainly', { timeout: TEST_TIMEOUT }, async () => {
    const page = await newPage();
    await context.clearCookies();
    let resp = await page.goto(`${d.url}/forgot?project=${crypto.randomUUID()}`);
    assert.equal(resp.status(), 404);
    assert.equal(await heading(page), 'Page not found');
    resp = await page.goto(`${d.url}/reset`);
    assert.equal(resp.status(), 400);
    assert.equal(await heading(page), 'We could not find your reset link');
    resp = await page.goto(`${d.url}/reset?reset_code=${crypto.randomBytes(32).toString('base64url')}&user_id=${crypto.randomUUID()}`);
    assert.equal(resp.status(), 404);
    assert.equal(await heading(page), 'This link is not valid');
    assert.equal((await context.cookies(d.url)).filter((c) => c.name === '__Host-resetd-reset').length, 0, 'no cookie for an unknown link');
    await page.close();
  });

  it('per-address limits: the 429 page with Retry-After, alike for every address, and audited', { timeout: TEST_TIMEOUT }, async () => {
    // A daemon of its own, with small limits, as tests/e2e/abuse.test.js does.
    // Confirm 4: the link's two GETs (park, form) spend two, the posts the rest.
    const ld = await h.startDaemon({ env: { RESETD_RATE_IP_REQUEST: '2', RESETD_RATE_IP_CONFIRM: '4' } });
    try {
      const project = await ld.cli(['project', 'create', '--name', uniq('Shop'), '--callback-url', callback]);
      const email = `${uniq('user')}@example.com`;
      const password = newPassword();
      await ld.cli(['user', 'create', '--project', project.id, '--email', email, '--password-stdin'], { input: password });
      const form = await h.request(`${ld.url}/forgot?project=${project.id}`);
      const formCookie = cookieFrom(form, '__Host-resetd-form').value;
      const csrf = inputValue(form.text, 'csrf');
      const forgot = (address) => h.request(`${ld.url}/forgot`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `__Host-resetd-form=${formCookie}`,
          'User-Agent': 'pages-e2e',
          // Not a trusted proxy: the header changes nothing.
          'X-Forwarded-For': `198.51.100.${crypto.randomInt(1, 250)}`,
        },
        body: formBody({ project: project.id, csrf, email: address }),
      });
      const nobody = `${uniq('nobody')}@example.com`;
      assert.equal((await forgot(email)).status, 200);
      assert.equal((await forgot(nobody)).status, 200);

      // The third and fourth: refused before any lookup, alike.
      const answers = [];
      for (const address of [email, nobody]) {
        const res = await forgot(address);
        assert.equal(res.status, 429, `forgot past the limit: ${res.status}`);
        assert.match(res.headers['retry-after'] || '', /^[1-9][0-9]*$/);
        assert.match(res.headers['content-type'], /^text\/html/);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.match(res.headers['content-security-policy'], /default-src 'none'/);
        assert.match(res.text, /<h1>Too many attempts<\/h1>/);
        const minutes = Math.ceil(Number(res.headers['retry-after']) / 60);
        assert.match(res.text, minutes > 1 ? new RegExp(`wait ${minutes} minutes`) : /wait a minute/);
        const hd = { ...res.headers };
        delete hd['x-request-id'];
        delete hd.date;
        delete hd['retry-after'];
        answers.push({ hd, text: res.text.replace(/wait (\d+ minutes|a minute)/, 'wait N') });
      }
      assert.deepEqual(answers[0], answers[1], 'the 429 page tells nothing about the address');

      // In the browser's language.
      const ru = await h.request(`${ld.url}/forgot`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept-Language': 'ru' },
        body: formBody({ project: project.id, email }),
      });
      assert.equal(ru.status, 429);
      assert.equal(ru.headers['content-language'], 'ru');
      assert.match(ru.text, /Слишком много попыток/);

      // The confirm class: the link's pages (GET /reset, twice) and the form's posts.
      const mail = await h.waitForMail(ld.maildir, (m) => h.mailTo(email)(m) && h.extractResetLink(m.text) !== null);
      const link = h.extractResetLink(mail.text);
      secrets.add(link.reset_code);
      const parked = cookieFrom(await h.request(link.url), '__Host-resetd-reset').value;
      const shown = await h.request(`${ld.url}/reset`, { headers: { Cookie: `__Host-resetd-reset=${parked}` } });
      const token = inputValue(shown.text, 'csrf');
      const post = (pw) => h.request(`${ld.url}/reset`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `__Host-resetd-reset=${parked}` },
        body: formBody({ csrf: token, password: pw, confirm: pw }),
      });
      secrets.add('password1234');
      assert.equal((await post('password1234')).status, 422);
      assert.equal((await post('password1234')).status, 422);
      const third = await post(newPassword());
      assert.equal(third.status, 429, 'the third confirm is refused');
      assert.match(third.headers['retry-after'] || '', /^[1-9][0-9]*$/);
      const still = await h.request(`${ld.url}/login?projectId=${project.id}`, { method: 'POST', body: { username: email, password } });
      assert.equal(still.status, 200, 'nothing was spent');

      // The audit trail: the page's request with its client, and the refusals.
      const events = await ld.cli(['audit', 'list']);
      const requested = events.filter((e) => e.event === 'reset_requested' && e.project_id === project.id);
      assert.equal(requested.length, 2, 'two requests went through');
      for (const e of requested) {
        assert.equal(e.client_ip, '127.0.0.1');
        assert.equal(e.user_agent, 'pages-e2e');
      }
      const limited = events.filter((e) => e.event === 'rate_limited');
      assert.deepEqual(limited.map((e) => e.detail).sort(), ['confirm', 'request'], 'each run of refusals is recorded once');
      assert.ok(limited.every((e) => e.client_ip === '127.0.0.1'));
    } finally {
      await ld.stop().catch(() => ld.kill('SIGKILL'));
    }
  });

  it('no CSP violations or script errors in any page, and no secret in the logs', async () => {
    assert.deepEqual(consoleProblems, []);
    const log = d.stderrLines.join('\n');
    for (const s of secrets) assert.ok(!log.includes(s), 'a secret was logged');
  });
});
