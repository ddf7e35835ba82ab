'use strict';
// A small app that keeps its own users, for resetd's webhook user storage
// (issue 17; the wire contract is in docs/user-storage.md). It is a node:http
// server on 127.0.0.1 holding users in memory, with passwords hashed
// (scrypt, or the Argon2id hash resetd sends with
// storage_password_format=argon2id, checked with hash-wasm), and serves
// the four calls of Xsolla-style custom storage:
//
//   POST /lookup    {"email"|"username"}                  200 user | 404
//   POST /verify    {"email"|"username", "password"}      200 user | 401/404
//   POST /password  {"user_id","email","new_password"|"password_hash",
//                    "verify_code"?}                      204 | 422
//   POST /register  {"email","username"?,"password"}      200/201 user | 409
//
// Every call must carry resetd's `Authorization: Bearer` JWT, checked with
// jose (HS256, the project's secret key, audience = the URL called, issuer
// 'resetd', type 'custom_storage', the project's id, a jti never seen
// before). A bad token answers 401 and is kept in app.failures, which a
// test asserts stays empty. A request that is not a JSON POST with the
// fields above answers 400. Every call is kept in app.calls.
//
// Faults, switched by the test (app.fault(kind, opts), app.clear()):
//   down      the server stops listening (app.down(), app.up())
//   slow      waits opts.delayMs before the work; a caller gone by then
//             changes nothing
//   hold      keeps the calls until app.release(): for ordering checks
//   types     200 JSON of the wrong types     notjson   200 JSON type, not JSON
//   ctype     200 text/plain                  array     200 JSON array
//   oversize  200 JSON object over 16 KiB     redirect  302 to /followed/...
//   refuse    422                              error     500
// opts.paths limits a fault to some calls ('/password', ...). A faulty
// answer never changes a user.
//
//   const app = await startStorageApp({ secretKey, projectId });
//   app.addUser({ email, password, verifyCode });  app.urls.lookup ...

const http = require('node:http');
const crypto = require('node:crypto');
const { promisify } = require('node:util');

const scrypt = promisify(crypto.scrypt);
const BODY_MAX = 64 * 1024;
const PATHS = ['/lookup', '/verify', '/password', '/register'];

let josePromise = null;
function jose() {
  if (!josePromise) josePromise = import('jose');
  return josePromise;
}

async function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return { kind: 'scrypt', salt, hash };
}

async function passwordMatches(stored, password) {
  if (stored.kind === 'argon2id') {
    const { argon2Verify } = require('hash-wasm');
    return argon2Verify({ password, hash: stored.hash });
  }
  const hash = await scrypt(password, stored.salt, 32);
  return crypto.timingSafeEqual(hash, stored.hash);
}

// The user object of the contract, as the app answers it.
function userObject(u) {
  return { id: u.id, email: u.email, username: u.username, locale: u.locale, status: u.status };
}

// The fault answers: [status, headers, body] of each kind, or null.
function faultAnswer(kind, origin, path) {
  const json = { 'Content-Type': 'application/json' };
  switch (kind) {
    case 'types':
      return [200, json, JSON.stringify({ id: 12345, email: true, username: 7, locale: [], status: 'weird' })];
    case 'notjson':
      return [200, json, '{"id": "u-1", "email": '];
    case 'ctype':
      return [200, { 'Content-Type': 'text/plain' }, JSON.stringify({ id: 'u-1', email: 'x@example.com' })];
    case 'array':
      return [200, json, '[]'];
    case 'oversize':
      return [200, json, JSON.stringify({ id: 'u-1', email: 'x@example.com', padding: 'x'.repeat(20000) })];
    case 'redirect':
      return [302, { Location: `${origin}/followed${path}`, 'Content-Type': 'application/json' }, '{}'];
    case 'refuse':
      return [422, json, JSON.stringify({ error: 'refused' })];
    case 'error':
      return [500, json, JSON.stringify({ error: 'internal' })];
    default:
      return null;
  }
}

// startStorageApp({secretKey, projectId, verifyAnswer}) -> app
//   secretKey    the project's secret key (resetd project secret-key ID);
//                app.secretKey can be set later, before the first call, or
//                be a list of keys while a rotation goes on
//   projectId    the xsolla_login_project_id every token must carry
//                (optional; app.projectId can be set later)
//   verifyAnswer 'user' (200 + user object, the default) or 'empty' (204)
async function startStorageApp({ secretKey = null, projectId = null, verifyAnswer = 'user' } = {}) {
  const { jwtVerify } = await jose();
  const users = new Map(); // id -> user record
  const seenJti = new Set();
  const dummy = await hashPassword(crypto.randomBytes(16).toString('hex'));
  const held = [];
  const sockets = new Set();
  let port = 0;

  const app = {
    secretKey,
    projectId,
    verifyAnswer,
    registerStatus: 200, // or 201: both say "created"
    calls: [], // {path, method, headers, body, claims, status, fault, at}
    failures: [], // {path, reason}: tokens the app refused
    faultState: null, // {kind, paths, delayMs}
    origin: null,
    urls: null,
  };

  function answer(res, status, headers, body) {
    if (res.writableEnded || res.destroyed) return;
    const h = { ...headers };
    if (body !== undefined && body !== '') h['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(status, h);
    res.end(body);
  }

  function json(res, status, value) {
    answer(res, status, { 'Content-Type': 'application/json' }, value === undefined ? '' : JSON.stringify(value));
  }

  function findUser(body) {
    for (const u of users.values()) {
      if (typeof body.email === 'string' && u.email.toLowerCase() === body.email.toLowerCase()) return u;
      if (typeof body.username === 'string' && u.username !== null && u.username === body.username) return u;
    }
    return null;
  }

  // The login of a body: exactly one of email and username, a non-empty string.
  function loginOk(body) {
    const given = ['email', 'username'].filter((k) => body[k] !== undefined);
    return given.length === 1 && typeof body[given[0]] === 'string' && body[given[0]].length > 0;
  }

  async function checkToken(req, path) {
    const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(req.headers.authorization || '');
    if (!m) return { error: 'no Bearer token' };
    // One key, or several while a rotation goes on (the first that verifies).
    const keys = [].concat(app.secretKey).filter((k) => typeof k === 'string');
    if (keys.length === 0) return { error: 'the app has no secret key' };
    let payload;
    let key;
    let error;
    for (key = 0; key < keys.length; key++) {
      try {
        ({ payload } = await jwtVerify(m[1], new TextEncoder().encode(keys[key]), {
          algorithms: ['HS256'],
          audience: `${app.origin}${path}`,
          issuer: 'resetd',
          requiredClaims: ['iat', 'exp', 'jti'],
        }));
        break;
      } catch (err) {
        error = `jwtVerify: ${err.code || err.name}: ${err.message}`;
      }
    }
    if (!payload) return { error };
    if (payload.type !== 'custom_storage') return { error: `type ${JSON.stringify(payload.type)}` };
    if (app.projectId !== null && payload.xsolla_login_project_id !== app.projectId) {
      return { error: `xsolla_login_project_id ${JSON.stringify(payload.xsolla_login_project_id)}` };
    }
    if (payload.exp - payload.iat > 300) return { error: `a lifetime of ${payload.exp - payload.iat} s` };
    if (seenJti.has(payload.jti)) return { error: `jti ${payload.jti} replayed` };
    seenJti.add(payload.jti);
    return { claims: payload, key };
  }

  // The work of each call on a well-formed body: [status, value].
  async function work(path, body) {
    switch (path) {
      case '/lookup': {
        if (!loginOk(body)) return [400, { error: 'email or username' }];
        const u = findUser(body);
        return u ? [200, userObject(u)] : [404, { error: 'not found' }];
      }
      case '/verify': {
        if (!loginOk(body) || typeof body.password !== 'string') return [400, { error: 'login and password' }];
        const u = findUser(body);
        if (!u) {
          await passwordMatches(dummy, body.password); // the same work as for a user: no timing tell
          return [404, { error: 'not found' }];
        }
        // A disabled user with the right password is answered as it is: the
        // status is resetd's to act on.
        if (!(await passwordMatches(u.password, body.password))) return [401, { error: 'wrong password' }];
        return app.verifyAnswer === 'empty' ? [204] : [200, userObject(u)];
      }
      case '/password': {
        const plain = typeof body.new_password === 'string';
        const hashed = typeof body.password_hash === 'string';
        if (typeof body.user_id !== 'string' || typeof body.email !== 'string' || plain === hashed) {
          return [400, { error: 'user_id, email and one of new_password, password_hash' }];
        }
        if (body.verify_code !== undefined && typeof body.verify_code !== 'string') return [400, { error: 'verify_code' }];
        if (hashed && !body.password_hash.startsWith('$argon2id$')) return [400, { error: 'password_hash' }];
        const u = users.get(body.user_id);
        if (!u || u.email.toLowerCase() !== body.email.toLowerCase()) return [422, { error: 'no such user' }];
        if (u.verifyCode !== null && body.verify_code !== u.verifyCode) return [422, { error: 'wrong verify_code' }];
        u.password = hashed ? { kind: 'argon2id', hash: body.password_hash } : await hashPassword(body.new_password);
        u.passwordSets += 1;
        return [204];
      }
      case '/register': {
        if (typeof body.email !== 'string' || typeof body.password !== 'string' ||
            (body.username !== undefined && body.username !== null && typeof body.username !== 'string')) {
          return [400, { error: 'email and password' }];
        }
        if (findUser({ email: body.email }) || (typeof body.username === 'string' && findUser({ username: body.username }))) {
          return [409, { error: 'exists' }];
        }
        const u = await app.addUser({ email: body.email, username: body.username ?? null, password: body.password });
        return [app.registerStatus, userObject(u)];
      }
      default:
        return [404, { error: 'no such call' }];
    }
  }

  async function handle(req, res, raw) {
    const path = req.url;
    const call = { path, method: req.method, headers: req.headers, body: undefined, claims: null, status: null, fault: null, at: process.hrtime.bigint() };
    app.calls.push(call);
    const done = (status, headers, body) => {
      call.status = status;
      answer(res, status, headers, body);
    };
    if (path.startsWith('/followed/')) return done(204, {}, ''); // a followed redirect: recorded, and a test fails on it
    if (!PATHS.includes(path)) return done(404, { 'Content-Type': 'application/json' }, '{"error":"no such call"}');
    if (req.method !== 'POST') return done(400, { 'Content-Type': 'application/json' }, '{"error":"POST only"}');
    if (raw === null) return done(400, { 'Content-Type': 'application/json' }, '{"error":"body over 64 KiB"}');
    if (!/^application\/json(\s*;.*)?$/i.test(req.headers['content-type'] || '')) {
      return done(400, { 'Content-Type': 'application/json' }, '{"error":"Content-Type: application/json"}');
    }
    try {
      call.body = JSON.parse(raw);
    } catch {
      call.body = raw;
      return done(400, { 'Content-Type': 'application/json' }, '{"error":"not JSON"}');
    }
    if (call.body === null || typeof call.body !== 'object' || Array.isArray(call.body)) {
      return done(400, { 'Content-Type': 'application/json' }, '{"error":"not a JSON object"}');
    }
    const tok = await checkToken(req, path);
    if (tok.error) {
      app.failures.push({ path, reason: tok.error });
      return done(401, { 'Content-Type': 'application/json' }, '{"error":"bad token"}');
    }
    call.claims = tok.claims;
    call.key = tok.key; // which of app.secretKey, when it is a list

    const f = app.faultState;
    if (f && (!f.paths || f.paths.includes(path))) {
      call.fault = f.kind;
      if (f.kind === 'hold') {
        await new Promise((resolve) => held.push(resolve));
        call.fault = 'held';
      } else if (f.kind === 'slow') {
        await new Promise((resolve) => setTimeout(resolve, f.delayMs));
        if (req.socket.destroyed) {
          call.status = 'abandoned'; // the caller gave up: nothing is done
          return undefined;
        }
      } else {
        const a = faultAnswer(f.kind, app.origin, path);
        if (a) return done(...a);
      }
    }
    if (req.socket.destroyed) {
      call.status = 'abandoned';
      return undefined;
    }
    const [status, value] = await work(path, call.body);
    return done(status, value === undefined ? {} : { 'Content-Type': 'application/json' }, value === undefined ? '' : JSON.stringify(value));
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > BODY_MAX) over = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      handle(req, res, over ? null : Buffer.concat(chunks).toString('utf8')).catch((err) => {
        app.failures.push({ path: req.url, reason: `the app failed: ${err.stack}` });
        answer(res, 500, { 'Content-Type': 'application/json' }, '{"error":"app failure"}');
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function listen() {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        port = server.address().port;
        resolve();
      });
    });
  }

  await listen();
  app.port = port;
  app.origin = `http://127.0.0.1:${port}`;
  app.urls = {
    lookup: `${app.origin}/lookup`,
    verify: `${app.origin}/verify`,
    password: `${app.origin}/password`,
    register: `${app.origin}/register`,
  };

  // `project create|update` options naming this app's URLs; register: false
  // leaves out the create call.
  app.projectArgs = ({ register = true } = {}) => [
    '--user-storage', 'webhook',
    '--storage-lookup-url', app.urls.lookup,
    '--storage-verify-url', app.urls.verify,
    '--storage-password-url', app.urls.password,
    ...(register ? ['--storage-new-user-url', app.urls.register] : []),
  ];

  // Adds a user; id defaults to one of the app's own ("app-..."), not a UUID.
  app.addUser = async ({ id, email, username = null, password, locale = null, status = 'active', verifyCode = null }) => {
    const u = {
      id: id || `app-${crypto.randomBytes(8).toString('hex')}`,
      email,
      username,
      locale,
      status,
      verifyCode,
      password: await hashPassword(password),
      passwordSets: 0,
    };
    users.set(u.id, u);
    return { ...userObject(u) };
  };

  // The verify_code password set must carry for this user (null: none).
  app.setVerifyCode = (id, code) => {
    users.get(id).verifyCode = code;
  };

  // What the app holds of a user, for assertions: the user object, how
  // many password sets it took, and a fingerprint of its password hash.
  app.user = (id) => {
    const u = users.get(id);
    if (!u) return null;
    const fp = crypto.createHash('sha256').update(u.password.kind === 'scrypt' ? Buffer.concat([u.password.salt, u.password.hash]) : u.password.hash).digest('hex');
    return { ...userObject(u), passwordSets: u.passwordSets, passwordKind: u.password.kind, passwordFingerprint: fp };
  };

  app.userByEmail = (email) => {
    const u = findUser({ email });
    return u ? app.user(u.id) : null;
  };

  app.setStatus = (id, status) => {
    users.get(id).status = status;
  };

  app.checkPassword = async (id, password) => passwordMatches(users.get(id).password, password);

  app.fault = (kind, { paths = null, delayMs = 0 } = {}) => {
    app.faultState = { kind, paths, delayMs };
  };

  app.clear = () => {
    app.faultState = null;
    app.release();
  };

  // Lets every held call go on to its normal answer.
  app.release = () => {
    for (const r of held.splice(0)) r();
  };

  app.heldCount = () => held.length;

  app.down = async () => {
    await new Promise((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };

  app.up = () => listen();

  // The calls to path matching pred (default: all).
  app.callsTo = (path, pred = () => true) => app.calls.filter((c) => c.path === path && pred(c));

  // Waits until a call to path matches pred (and, with answered, has been
  // answered); resolves with the matching calls.
  app.waitForCall = async (path, pred = () => true, { timeoutMs = 20000, answered = false, what = path } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = app.callsTo(path, (c) => pred(c) && (!answered || typeof c.status === 'number'));
      if (hit.length > 0) return hit;
      if (Date.now() > deadline) {
        throw new Error(`storage app: no ${what} call within ${timeoutMs} ms; calls: ${JSON.stringify(app.calls.map((c) => [c.path, c.status, c.fault]))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  app.close = async () => {
    app.release();
    if (server.listening) await app.down();
  };

  return app;
}

module.exports = { startStorageApp };
