'use strict';
// The sign-in after a reset, in Cognito's dialect: AWS SDK v3 as the client
// (InitiateAuth, RespondToAuthChallenge, GetUser, ChangePassword,
// GlobalSignOut, RevokeToken, no AWS credentials), tokens checked with
// aws-jwt-verify's JwtRsaVerifier against the pool's key set.
// Run: RESETD_BIN=build/san/resetd node --test tests/e2e/signin-cognito.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient,
  ForgotPasswordCommand,
  ConfirmForgotPasswordCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  GetUserCommand,
  ChangePasswordCommand,
  GlobalSignOutCommand,
  RevokeTokenCommand,
} = require('@aws-sdk/client-cognito-identity-provider');
const { JwtRsaVerifier } = require('aws-jwt-verify');

const TEST_TIMEOUT = 120000;
const secrets = h.secrets;
const daemons = [];

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

function sdk(d) {
  return new CognitoIdentityProviderClient({
    region: 'us-east-1',
    endpoint: d.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

function secretHash(secret, name, clientId) {
  return crypto.createHmac('sha256', secret).update(name + clientId).digest('base64');
}

async function setup(d, { secret = false, reveal = false, mustChange = false } = {}) {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--delivery', 'code']);
  const email = `${uniq('user')}@example.com`;
  const password = newPassword();
  const args = ['user', 'create', '--project', project.id, '--email', email, '--password-stdin'];
  if (mustChange) args.push('--must-change-password');
  const user = await d.cli(args, { input: password });
  const cargs = ['client', 'create', '--project', project.id];
  if (secret) cargs.push('--secret');
  if (reveal) cargs.push('--reveal-user-existence');
  const client = await d.cli(cargs);
  if (client.client_secret) secrets.add(client.client_secret);
  return { project, user: { ...user, email, password }, client };
}

// ForgotPassword, the mailed code, ConfirmForgotPassword: the new password.
async function reset(d, c, t, skip = new Set()) {
  const extra = (name) => (t.client.client_secret ? { SecretHash: secretHash(t.client.client_secret, name, t.client.client_id) } : {});
  await c.send(new ForgotPasswordCommand({ ClientId: t.client.client_id, Username: t.user.email, ...extra(t.user.email) }));
  const mail = await h.waitForMail(d.maildir, (m) => !skip.has(m.file) && h.mailTo(t.user.email)(m) && h.extractResetCode(m.text) !== null);
  skip.add(mail.file);
  const code = h.extractResetCode(mail.text);
  secrets.add(code);
  const pw = newPassword();
  await c.send(new ConfirmForgotPasswordCommand({
    ClientId: t.client.client_id, Username: t.user.email, ConfirmationCode: code, Password: pw, ...extra(t.user.email),
  }));
  t.user.password = pw;
  return pw;
}

function signIn(c, t, { username = t.user.email, password = t.user.password } = {}) {
  const params = { USERNAME: username, PASSWORD: password };
  if (t.client.client_secret) params.SECRET_HASH = secretHash(t.client.client_secret, username, t.client.client_id);
  return c.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: t.client.client_id, AuthParameters: params }));
}

function refresh(c, t, token, { flow = 'REFRESH_TOKEN_AUTH', clientId = t.client.client_id, hashName } = {}) {
  const params = { REFRESH_TOKEN: token };
  if (t.client.client_secret) params.SECRET_HASH = secretHash(t.client.client_secret, hashName || t.user.id, t.client.client_id);
  return c.send(new InitiateAuthCommand({ AuthFlow: flow, ClientId: clientId, AuthParameters: params }));
}

async function expectException(promise, name, what, message) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected ${name}, but the call succeeded`);
  assert.equal(err.name, name, `${what}: expected ${name}, got ${err.name}: ${err.message}`);
  assert.ok(err.$metadata.httpStatusCode < 500, `${what}: never a 5xx`);
  if (message !== undefined) assert.equal(err.message, message, what);
  return err;
}

// The pool's key set, fetched as a client finds it: discovery, then jwks_uri.
// The pool id is the one `project create` prints, and the admin calls take.
async function keySet(d, project) {
  const pool = project.cognito_user_pool_id;
  assert.match(pool, /^us-east-1_[0-9A-Z]{26}$/);
  const conf = await h.request(`${d.url}/${pool}/.well-known/openid-configuration`);
  assert.equal(conf.status, 200);
  assert.equal(conf.json.issuer, `${d.url}/${pool}`);
  assert.equal(conf.json.jwks_uri, `${d.url}/${pool}/.well-known/jwks.json`);
  // The project's id names the pool too.
  const byId = await h.request(`${d.url}/${project.id}/.well-known/jwks.json`);
  assert.equal(byId.status, 200);
  const jwks = await h.request(conf.json.jwks_uri);
  assert.equal(jwks.status, 200);
  return jwks.json;
}

// JwtRsaVerifier for the pool (aws-jwt-verify fetches over https only, so
// the key set fetched above is handed to its cache).
async function verifiers(d, t) {
  const jwks = await keySet(d, t.project);
  const pool = t.project.cognito_user_pool_id;
  const common = { issuer: `${d.url}/${pool}`, jwksUri: `${d.url}/${pool}/.well-known/jwks.json` };
  const id = JwtRsaVerifier.create({ ...common, audience: t.client.client_id, customJwtCheck: ({ payload }) => assert.equal(payload.token_use, 'id') });
  const access = JwtRsaVerifier.create({
    ...common,
    audience: null,
    customJwtCheck: ({ payload }) => {
      assert.equal(payload.token_use, 'access');
      assert.equal(payload.client_id, t.client.client_id);
    },
  });
  id.cacheJwks(jwks);
  access.cacheJwks(jwks);
  return { id, access, jwks };
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

function header(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
}

it('resetd binary is present', () => {
  h.assertBinary();
});

describe('cognito sign-in after a reset', () => {
  let d;

  before(async () => {
    d = await h.startDaemon();
    daemons.push(d);
  });

  after(async () => {
    for (const x of daemons) if (x.running()) await x.stop().catch(() => x.kill('SIGKILL'));
  });

  for (const secret of [false, true]) {
    it(`reset, USER_PASSWORD_AUTH, tokens that verify, GetUser, refresh, GlobalSignOut (${secret ? 'with' : 'without'} a client secret)`, { timeout: TEST_TIMEOUT }, async () => {
      const t = await setup(d, { secret });
      const c = sdk(d);
      await reset(d, c, t);

      const out = await signIn(c, t);
      const ar = out.AuthenticationResult;
      assert.equal(ar.ExpiresIn, 3600);
      assert.equal(ar.TokenType, 'Bearer');
      assert.deepEqual(out.ChallengeParameters, {});
      for (const tok of [ar.AccessToken, ar.IdToken, ar.RefreshToken]) secrets.add(tok);

      const v = await verifiers(d, t);
      const idc = await v.id.verify(ar.IdToken);
      assert.equal(idc.sub, t.user.id);
      assert.equal(idc.email, t.user.email);
      assert.equal(idc.email_verified, true, 'a reset by mailed code verifies the address');
      assert.equal(idc['cognito:username'], t.user.email);
      assert.equal(idc.aud, t.client.client_id);
      assert.equal(typeof idc.origin_jti, 'string');
      assert.equal(typeof idc.jti, 'string');
      assert.equal(typeof idc.auth_time, 'number');
      const ac = await v.access.verify(ar.AccessToken);
      assert.equal(ac.sub, t.user.id);
      assert.equal(ac.scope, 'aws.cognito.signin.user.admin');
      assert.equal(ac.username, t.user.email);
      assert.equal(ac.origin_jti, idc.origin_jti, 'one sign-in, one origin');
      assert.notEqual(ac.jti, idc.jti);
      assert.ok(ac.exp - ac.iat <= 3600);
      assert.equal(header(ar.AccessToken).alg, 'RS256');
      assert.ok(v.jwks.keys.some((k) => k.kid === header(ar.AccessToken).kid));

      // An access token where an ID token is expected, and the other way.
      await assert.rejects(v.id.verify(ar.AccessToken));
      await assert.rejects(v.access.verify(ar.IdToken));
      await expectException(c.send(new GetUserCommand({ AccessToken: ar.IdToken })), 'NotAuthorizedException', 'an ID token to GetUser', 'Invalid Access Token');

      const me = await c.send(new GetUserCommand({ AccessToken: ar.AccessToken }));
      assert.equal(me.Username, t.user.email);
      const attrs = Object.fromEntries(me.UserAttributes.map((a) => [a.Name, a.Value]));
      assert.deepEqual(attrs, { sub: t.user.id, email: t.user.email, email_verified: 'true' });

      // Refresh: by sub, and (with a secret) a hash by the username works too.
      const r1 = await refresh(c, t, ar.RefreshToken);
      assert.equal(r1.AuthenticationResult.RefreshToken, undefined, 'a refresh returns no new refresh token');
      secrets.add(r1.AuthenticationResult.AccessToken);
      secrets.add(r1.AuthenticationResult.IdToken);
      await v.access.verify(r1.AuthenticationResult.AccessToken);
      assert.equal(claims(r1.AuthenticationResult.AccessToken).origin_jti, ac.origin_jti);
      const r2 = await refresh(c, t, ar.RefreshToken, { flow: 'REFRESH_TOKEN', hashName: t.user.email });
      secrets.add(r2.AuthenticationResult.AccessToken);
      secrets.add(r2.AuthenticationResult.IdToken);
      if (secret) {
        await expectException(refresh(c, t, ar.RefreshToken, { hashName: 'someone-else' }), 'NotAuthorizedException', 'a refresh with a wrong SECRET_HASH');
      }

      await c.send(new GlobalSignOutCommand({ AccessToken: ar.AccessToken }));
      await expectException(c.send(new GetUserCommand({ AccessToken: ar.AccessToken })), 'NotAuthorizedException', 'GetUser after GlobalSignOut', 'Access Token has been revoked');
      await expectException(c.send(new GetUserCommand({ AccessToken: r1.AuthenticationResult.AccessToken })), 'NotAuthorizedException', 'a refreshed token after GlobalSignOut');
      await expectException(refresh(c, t, ar.RefreshToken), 'NotAuthorizedException', 'the refresh token after GlobalSignOut', 'Invalid Refresh Token');
    });
  }

  it('a second reset kills every earlier token and refresh token; ChangePassword proves the old password', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const c = sdk(d);
    const skip = new Set();
    await reset(d, c, t, skip);
    const ar = (await signIn(c, t)).AuthenticationResult;
    for (const tok of [ar.AccessToken, ar.IdToken, ar.RefreshToken]) secrets.add(tok);

    await expectException(
      c.send(new ChangePasswordCommand({ AccessToken: ar.AccessToken, PreviousPassword: 'not-the-password-1', ProposedPassword: newPassword() })),
      'NotAuthorizedException', 'ChangePassword with a wrong previous password', 'Incorrect username or password.'
    );
    const changed = newPassword();
    await c.send(new ChangePasswordCommand({ AccessToken: ar.AccessToken, PreviousPassword: t.user.password, ProposedPassword: changed }));
    await expectException(signIn(c, t), 'NotAuthorizedException', 'the password before the change');
    t.user.password = changed;
    const again = (await signIn(c, t)).AuthenticationResult;
    secrets.add(again.AccessToken);
    secrets.add(again.IdToken);
    secrets.add(again.RefreshToken);

    await reset(d, c, t, skip);
    for (const tok of [ar.AccessToken, again.AccessToken]) {
      await expectException(c.send(new GetUserCommand({ AccessToken: tok })), 'NotAuthorizedException', 'an access token from before the reset');
    }
    for (const tok of [ar.RefreshToken, again.RefreshToken]) {
      await expectException(refresh(c, t, tok), 'NotAuthorizedException', 'a refresh token from before the reset');
    }
  });

  it('unknown user and wrong password answer alike under prevention; a revealing client says UserNotFoundException', { timeout: TEST_TIMEOUT }, async () => {
    const t = await setup(d);
    const rawCall = (username, password, clientId = t.client.client_id) =>
      h.request(`${d.url}/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
        body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }),
      });
    const shape = (res) => {
      const hd = { ...res.headers };
      for (const k of ['x-amzn-requestid', 'x-request-id', 'date', 'content-length']) delete hd[k];
      return { status: res.status, body: res.json, headers: hd };
    };
    const wrong = await rawCall(t.user.email, 'wrong-password-1');
    const unknown = await rawCall(`${uniq('nobody')}@example.com`, 'wrong-password-1');
    assert.ok(wrong.status >= 400 && wrong.status < 500, `status ${wrong.status}`);
    assert.deepEqual(wrong.json, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    assert.deepEqual(shape(unknown), shape(wrong), 'an unknown user answers as a wrong password');

    const rev = await d.cli(['client', 'create', '--project', t.project.id, '--reveal-user-existence']);
    const unknown2 = await rawCall(`${uniq('nobody')}@example.com`, 'wrong-password-1', rev.client_id);
    assert.deepEqual(unknown2.json, { __type: 'UserNotFoundException', message: 'User does not exist.' });
    const wrong2 = await rawCall(t.user.email, 'wrong-password-2', rev.client_id);
    assert.equal(wrong2.json.__type, 'NotAuthorizedException');
  });

  it('USER_SRP_AUTH is a clear error; NEW_PASSWORD_REQUIRED for a temporary password', { timeout: TEST_TIMEOUT }, async () => {
    const c = sdk(d);
    const t = await setup(d, { mustChange: true, secret: true });
    const srp = await expectException(
      c.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: t.client.client_id, AuthParameters: { USERNAME: t.user.email, SRP_A: 'ab' } })),
      'InvalidParameterException', 'USER_SRP_AUTH'
    );
    assert.match(srp.message, /USER_PASSWORD_AUTH/);

    const ch = await signIn(c, t);
    assert.equal(ch.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    assert.equal(ch.AuthenticationResult, undefined);
    assert.equal(typeof ch.Session, 'string');
    secrets.add(ch.Session);
    const chosen = newPassword();
    const answer = (session, username = t.user.email) =>
      c.send(new RespondToAuthChallengeCommand({
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        ClientId: t.client.client_id,
        Session: session,
        ChallengeResponses: { USERNAME: username, NEW_PASSWORD: chosen, SECRET_HASH: secretHash(t.client.client_secret, username, t.client.client_id) },
      }));
    await expectException(answer(`${ch.Session}x`), 'NotAuthorizedException', 'a forged Session');
    const other = await d.cli(['user', 'create', '--project', t.project.id, '--email', `${uniq('other')}@example.com`, '--must-change-password', '--password-stdin'], { input: newPassword() });
    await expectException(answer(ch.Session, other.email), 'NotAuthorizedException', "another user's name with this Session");
    const done = await answer(ch.Session);
    const ar = done.AuthenticationResult;
    for (const tok of [ar.AccessToken, ar.IdToken, ar.RefreshToken]) secrets.add(tok);
    const v = await verifiers(d, t);
    await v.access.verify(ar.AccessToken);
    await expectException(answer(ch.Session), 'NotAuthorizedException', 'the Session again, once the password is set');
    // The temporary password is gone; the chosen one signs in plainly.
    await expectException(signIn(c, t), 'NotAuthorizedException', 'the temporary password');
    t.user.password = chosen;
    const plain = await signIn(c, t);
    assert.ok(plain.AuthenticationResult.AccessToken);
    secrets.add(plain.AuthenticationResult.AccessToken);
    secrets.add(plain.AuthenticationResult.IdToken);
    secrets.add(plain.AuthenticationResult.RefreshToken);
  });

  it('bad tokens get the dialect\'s error, never a 500: malformed, forged, foreign, wrong client, revoked by RevokeToken', { timeout: TEST_TIMEOUT }, async () => {
    const c = sdk(d);
    const a = await setup(d, { secret: true });
    const b = await setup(d);
    await reset(d, c, a);
    await reset(d, c, b);
    const ta = (await signIn(c, a)).AuthenticationResult;
    const tb = (await signIn(c, b)).AuthenticationResult;
    for (const x of [ta, tb]) for (const tok of [x.AccessToken, x.IdToken, x.RefreshToken]) secrets.add(tok);

    const [h64, p64, s64] = ta.AccessToken.split('.');
    const forged = [
      'x', 'a.b.c', `${h64}.${p64}`, `${h64}.${p64}.`, `${h64}.${p64}.${s64.slice(0, -2)}AA`,
      `${Buffer.from(JSON.stringify({ alg: 'none', kid: header(ta.AccessToken).kid })).toString('base64url')}.${p64}.`,
      `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: header(ta.AccessToken).kid })).toString('base64url')}.${p64}.${s64}`,
      `${h64}.${Buffer.from(JSON.stringify({ ...claims(ta.AccessToken), exp: 4102444800 })).toString('base64url')}.${s64}`,
      'é'.repeat(50),
    ];
    for (const tok of forged) {
      await expectException(c.send(new GetUserCommand({ AccessToken: tok })), 'NotAuthorizedException', `GetUser with ${tok.slice(0, 20)}`);
    }
    // A refresh token of pool A presented to pool B's client, and garbage.
    await expectException(refresh(c, b, ta.RefreshToken), 'NotAuthorizedException', 'a refresh token at the wrong client', 'Invalid Refresh Token');
    await expectException(refresh(c, b, 'not-a-refresh-token'), 'NotAuthorizedException', 'a refresh token that is none');

    // RevokeToken: the wrong client is refused and revokes nothing; the right one revokes.
    await expectException(c.send(new RevokeTokenCommand({ Token: ta.RefreshToken, ClientId: b.client.client_id })), 'NotAuthorizedException', 'RevokeToken by another client');
    await expectException(c.send(new RevokeTokenCommand({ Token: ta.RefreshToken, ClientId: a.client.client_id, ClientSecret: 'wrong' })), 'NotAuthorizedException', 'RevokeToken with a wrong client secret');
    const still = await refresh(c, a, ta.RefreshToken);
    secrets.add(still.AuthenticationResult.AccessToken);
    secrets.add(still.AuthenticationResult.IdToken);
    await c.send(new RevokeTokenCommand({ Token: ta.RefreshToken, ClientId: a.client.client_id, ClientSecret: a.client.client_secret }));
    await expectException(refresh(c, a, ta.RefreshToken), 'NotAuthorizedException', 'a revoked refresh token');
    await expectException(c.send(new GetUserCommand({ AccessToken: ta.AccessToken })), 'NotAuthorizedException', 'an access token of the revoked session');
    // Pool B's session is untouched.
    await c.send(new GetUserCommand({ AccessToken: tb.AccessToken }));
    // Unknown pools and the key sets of other pools.
    const none = await h.request(`${d.url}/00000000-0000-7000-8000-000000000000/.well-known/jwks.json`);
    assert.equal(none.status, 404);
    assert.equal(none.json.__type, 'ResourceNotFoundException');
    const jb = await keySet(d, b.project);
    assert.ok(!jb.keys.some((k) => k.kid === header(ta.AccessToken).kid), "pool B's key set lacks pool A's key");
  });

  it('rotate-keys: old tokens verify until they expire, new ones carry the new kid', { timeout: TEST_TIMEOUT }, async () => {
    const c = sdk(d);
    const t = await setup(d);
    await reset(d, c, t);
    const before = (await signIn(c, t)).AuthenticationResult;
    for (const tok of [before.AccessToken, before.IdToken, before.RefreshToken]) secrets.add(tok);
    const oldKid = header(before.AccessToken).kid;
    const rot = await d.cli(['project', 'rotate-keys', t.project.id]);
    assert.notEqual(rot.kid, oldKid);
    const v = await verifiers(d, t);
    assert.deepEqual(new Set(v.jwks.keys.map((k) => k.kid)), new Set([oldKid, rot.kid]), 'both keys are in the set');
    await v.access.verify(before.AccessToken);
    await c.send(new GetUserCommand({ AccessToken: before.AccessToken }));
    // The daemon's key cache sees the rotation within 10 s.
    let after;
    for (let i = 0; i < 30; i++) {
      after = (await signIn(c, t)).AuthenticationResult;
      secrets.add(after.AccessToken);
      secrets.add(after.IdToken);
      secrets.add(after.RefreshToken);
      if (header(after.AccessToken).kid === rot.kid) break;
      await h.sleep(500);
    }
    assert.equal(header(after.AccessToken).kid, rot.kid, 'new tokens carry the new kid');
    await v.access.verify(after.AccessToken);
    await c.send(new GetUserCommand({ AccessToken: after.AccessToken }));
    await c.send(new GetUserCommand({ AccessToken: before.AccessToken }));
  });
});
