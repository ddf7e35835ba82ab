'use strict';
// Black-box tests of Cognito's admin calls: the official
// @aws-sdk/client-cognito-identity-provider, signing every call itself (AWS
// Signature Version 4) with the AWS credentials `resetd apikey create`
// prints, against the real daemon, its CLI and its Maildir.  Calls signed
// otherwise (for another service or region, stale, with a wrong secret or
// an unknown key) are made with the SDK's own signer, @smithy/signature-v4.
// Run: node --test tests/e2e/cognito-admin.test.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminGetUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUserGlobalSignOutCommand,
  AdminResetUserPasswordCommand,
  ListUsersCommand,
  ConfirmForgotPasswordCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
} = require('@aws-sdk/client-cognito-identity-provider');
const { SignatureV4 } = require('@smithy/signature-v4');

const TEST_TIMEOUT = 90000;
const TARGET = 'AWSCognitoIdentityProviderService.';
const AMZ_JSON = 'application/x-amz-json-1.1';

const secrets = h.secrets;
let d; // the daemon
let A; // { project, key, pool, client } of project A
let B; // of project B

function uniq(tag) {
  return `${tag}-${crypto.randomBytes(5).toString('hex')}`;
}

function newPassword() {
  const p = `Pw-${crypto.randomBytes(9).toString('base64url')}!`;
  secrets.add(p);
  return p;
}

function newEmail(tag = 'user') {
  return `${uniq(tag)}@example.com`;
}

async function newTenant() {
  const project = await d.cli(['project', 'create', '--name', uniq('proj'), '--delivery', 'code']);
  const key = await d.cli(['apikey', 'create', '--project', project.id]);
  secrets.add(key.key);
  secrets.add(key.aws_secret_access_key);
  const client = await d.cli(['client', 'create', '--project', project.id]);
  return { project, key, pool: key.cognito_user_pool_id, client };
}

// The SDK, signing with credentials (default: the tenant's key) for region.
// One client per set of settings, as an application keeps one: each holds
// its own keep-alive connections, and the daemon caps them per address.
const clients = new Map();
function sdk(t, { region = 'us-east-1', accessKeyId, secretAccessKey } = {}) {
  const id = accessKeyId || t.key.aws_access_key_id;
  const secret = secretAccessKey || t.key.aws_secret_access_key;
  const k = `${region} ${id} ${secret}`;
  if (!clients.has(k)) {
    clients.set(k, new CognitoIdentityProviderClient({
      region,
      endpoint: d.url,
      credentials: { accessKeyId: id, secretAccessKey: secret },
      maxAttempts: 1,
    }));
  }
  return clients.get(k);
}

// SHA-256 and HMAC-SHA256 over node:crypto, as @smithy/signature-v4 takes them.
class NodeSha256 {
  constructor(secret) {
    this.h = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) {
    this.h.update(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

// A raw call signed by the SDK's signer with any scope, key and time.
async function signedRaw(t, op, body, { service = 'cognito-idp', region = 'us-east-1', accessKeyId, secretAccessKey, signingDate } = {}) {
  const signer = new SignatureV4({
    service,
    region,
    sha256: NodeSha256,
    credentials: {
      accessKeyId: accessKeyId || t.key.aws_access_key_id,
      secretAccessKey: secretAccessKey || t.key.aws_secret_access_key,
    },
  });
  const payload = JSON.stringify(body);
  const req = {
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: d.port,
    path: '/',
    query: {},
    headers: {
      host: `127.0.0.1:${d.port}`,
      'content-type': AMZ_JSON,
      'x-amz-target': TARGET + op,
    },
    body: payload,
  };
  const signed = await signer.sign(req, signingDate ? { signingDate } : {});
  const headers = { ...signed.headers };
  delete headers.host;
  return h.request(`${d.url}/`, { method: 'POST', headers, body: payload });
}

function unsignedRaw(op, body) {
  return h.request(`${d.url}/`, {
    method: 'POST',
    headers: { 'Content-Type': AMZ_JSON, 'X-Amz-Target': TARGET + op },
    body: JSON.stringify(body),
  });
}

async function cliUsers(t, args = []) {
  return d.cli(['user', 'list', '--project', t.project.id, ...args]);
}

async function seed(t, { email = newEmail(), verified = true } = {}) {
  const out = await sdk(t).send(
    new AdminCreateUserCommand({
      UserPoolId: t.pool,
      Username: email,
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: verified ? 'true' : 'false' },
      ],
      MessageAction: 'SUPPRESS',
    })
  );
  return { email, out };
}

async function rejectsWith(promise, name, re) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `${err.name}: ${err.message}`);
    if (re) assert.match(err.message, re);
    return true;
  });
}

// WorkOS's password sign-in, the one sign-in in every build: proves a
// password was really set (Cognito's InitiateAuth is the sign-in issue's).
function workosSignIn(t, email, password) {
  return h.request(`${d.url}/user_management/authenticate`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${t.key.key}` },
    body: { client_id: t.client.client_id, client_secret: t.key.key, grant_type: 'password', email, password },
  });
}

before(async () => {
  d = await h.startDaemon();
  A = await newTenant();
  B = await newTenant();
});

after(async () => {
  for (const c of clients.values()) c.destroy();
  if (d) await d.stop();
});

describe('apikey create', () => {
  it('prints AWS credentials, the region and the project pool with every key', { timeout: TEST_TIMEOUT }, async () => {
    assert.match(A.key.aws_access_key_id, /^AKIA[A-Z2-7]{16}$/);
    assert.match(A.key.aws_secret_access_key, /^[A-Za-z0-9+/]{40}$/);
    assert.equal(A.key.aws_region, 'us-east-1');
    assert.match(A.pool, /^us-east-1_[0-9A-Z]{26}$/);
    assert.notEqual(A.key.aws_access_key_id, B.key.aws_access_key_id);
    assert.equal(A.project.cognito_user_pool_id, A.pool);
    const keys = await d.cli(['apikey', 'list', '--project', A.project.id]);
    assert.equal(keys[0].aws_access_key_id, A.key.aws_access_key_id);
    assert.ok(!JSON.stringify(keys).includes(A.key.aws_secret_access_key));
  });

  it('keeps the secret access key sealed, never in clear', { timeout: TEST_TIMEOUT }, async () => {
    if (h.testDb() === 'postgres') return; // the SQLite file is read here
    const fs = require('node:fs');
    // The database and its write-ahead log, where fresh rows are.
    const wal = `${d.dbPath}-wal`;
    const bytes = Buffer.concat([fs.readFileSync(d.dbPath), fs.existsSync(wal) ? fs.readFileSync(wal) : Buffer.alloc(0)]);
    assert.equal(bytes.includes(Buffer.from(A.key.aws_secret_access_key)), false);
    assert.equal(bytes.includes(Buffer.from(A.key.aws_access_key_id)), true);
  });
});

describe('seeding a user', () => {
  it('AdminCreateUser SUPPRESS, then AdminSetUserPassword Permanent: confirmed, and the password signs in', { timeout: TEST_TIMEOUT }, async () => {
    const { email, out } = await seed(A);
    assert.equal(out.User.UserStatus, 'FORCE_CHANGE_PASSWORD');
    assert.equal(out.User.Enabled, true);
    assert.ok(out.User.UserCreateDate instanceof Date);
    const attrs = Object.fromEntries(out.User.Attributes.map((a) => [a.Name, a.Value]));
    assert.equal(attrs.email, email);
    assert.equal(attrs.email_verified, 'true');
    assert.match(attrs.sub, /^[0-9a-f-]{36}$/);
    assert.equal(out.User.Username, attrs.sub); // email pools name users by sub
    const password = newPassword();
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: password, Permanent: true }));
    const got = await sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal(got.UserStatus, 'CONFIRMED');
    assert.equal(got.Username, attrs.sub);
    // The same user by its sub.
    const bySub = await sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: attrs.sub }));
    assert.equal(bySub.UserAttributes.find((a) => a.Name === 'email').Value, email);
    const signIn = await workosSignIn(A, email, password);
    assert.equal(signIn.status, 200, signIn.text);
    const wrong = await workosSignIn(A, email, newPassword());
    assert.notEqual(wrong.status, 200);
  });

  it('a temporary password leaves the user in FORCE_CHANGE_PASSWORD; one the policy refuses writes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const email = newEmail();
    const out = await sdk(A).send(
      new AdminCreateUserCommand({
        UserPoolId: A.pool,
        Username: uniq('name'),
        UserAttributes: [{ Name: 'email', Value: email }, { Name: 'given_name', Value: 'Ada' }],
        TemporaryPassword: newPassword(),
        MessageAction: 'SUPPRESS',
      })
    );
    assert.equal(out.User.UserStatus, 'FORCE_CHANGE_PASSWORD');
    assert.equal(out.User.Attributes.find((a) => a.Name === 'given_name').Value, 'Ada');
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: newPassword(), Permanent: false }));
    const got = await sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: out.User.Username }));
    assert.equal(got.UserStatus, 'FORCE_CHANGE_PASSWORD');

    const weak = newEmail('weak');
    await rejectsWith(
      sdk(A).send(new AdminCreateUserCommand({ UserPoolId: A.pool, Username: weak, TemporaryPassword: 'password', MessageAction: 'SUPPRESS' })),
      'InvalidPasswordException'
    );
    assert.equal((await cliUsers(A, ['--email', weak])).length, 0);
  });

  it('a second user with the same email is UsernameExistsException', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    await rejectsWith(seed(A, { email }), 'UsernameExistsException');
  });

  it('without SUPPRESS nothing is created: resetd mails no invitations and says so', { timeout: TEST_TIMEOUT }, async () => {
    const email = newEmail();
    await rejectsWith(
      sdk(A).send(new AdminCreateUserCommand({ UserPoolId: A.pool, Username: email, TemporaryPassword: newPassword() })),
      'InvalidParameterException',
      /MessageAction/
    );
    assert.equal((await cliUsers(A, ['--email', email])).length, 0);
  });
});

// Cognito's own sign-in, unsigned, through the tenant's public app client.
function initiateAuth(t, username, password) {
  return sdk(t).send(
    new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: t.client.client_id, AuthParameters: { USERNAME: username, PASSWORD: password } })
  );
}

describe('sign-in after the admin calls (InitiateAuth)', () => {
  it('AdminCreateUser SUPPRESS, AdminSetUserPassword Permanent, then InitiateAuth signs in', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    const password = newPassword();
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: password, Permanent: true }));
    const out = await initiateAuth(A, email, password);
    assert.equal(out.ChallengeName, undefined);
    assert.match(out.AuthenticationResult.AccessToken, /^eyJ/);
    assert.match(out.AuthenticationResult.RefreshToken, /\S/);
    secrets.add(out.AuthenticationResult.RefreshToken);
    await rejectsWith(initiateAuth(A, email, newPassword()), 'NotAuthorizedException');
  });

  it('a temporary password answers NEW_PASSWORD_REQUIRED, and RespondToAuthChallenge sets the password', { timeout: TEST_TIMEOUT }, async () => {
    const email = newEmail();
    const temporary = newPassword();
    await sdk(A).send(
      new AdminCreateUserCommand({ UserPoolId: A.pool, Username: email, TemporaryPassword: temporary, MessageAction: 'SUPPRESS' })
    );
    const ch = await initiateAuth(A, email, temporary);
    assert.equal(ch.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    assert.equal(ch.AuthenticationResult, undefined);
    const chosen = newPassword();
    const done = await sdk(A).send(
      new RespondToAuthChallengeCommand({
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        ClientId: A.client.client_id,
        Session: ch.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: chosen },
      })
    );
    assert.match(done.AuthenticationResult.AccessToken, /^eyJ/);
    secrets.add(done.AuthenticationResult.RefreshToken);
    const got = await sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal(got.UserStatus, 'CONFIRMED');
    assert.ok((await initiateAuth(A, email, chosen)).AuthenticationResult);
    await rejectsWith(initiateAuth(A, email, temporary), 'NotAuthorizedException');
  });

  it('after AdminResetUserPassword: PasswordResetRequiredException for the old password, the mailed code confirms, sign-in works', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    const old = newPassword();
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: old, Permanent: true }));
    const before = await initiateAuth(A, email, old);
    secrets.add(before.AuthenticationResult.RefreshToken);
    await sdk(A).send(new AdminResetUserPasswordCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(initiateAuth(A, email, old), 'PasswordResetRequiredException');
    // Only the holder of the right password is told: a wrong one is just wrong.
    await rejectsWith(initiateAuth(A, email, newPassword()), 'NotAuthorizedException', /Incorrect username or password/);
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);
    const fresh = newPassword();
    await sdk(A).send(new ConfirmForgotPasswordCommand({ ClientId: A.client.client_id, Username: email, ConfirmationCode: code, Password: fresh }));
    assert.ok((await initiateAuth(A, email, fresh)).AuthenticationResult);
    await rejectsWith(initiateAuth(A, email, old), 'NotAuthorizedException');
  });

  it('AdminUserGlobalSignOut and AdminDisableUser end what sign-in gave', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    const password = newPassword();
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: password, Permanent: true }));
    const first = (await initiateAuth(A, email, password)).AuthenticationResult;
    secrets.add(first.RefreshToken);
    const refresh = (token) =>
      sdk(A).send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: A.client.client_id, AuthParameters: { REFRESH_TOKEN: token } }));
    assert.ok((await refresh(first.RefreshToken)).AuthenticationResult.AccessToken);
    await sdk(A).send(new AdminUserGlobalSignOutCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(refresh(first.RefreshToken), 'NotAuthorizedException');
    const second = (await initiateAuth(A, email, password)).AuthenticationResult;
    secrets.add(second.RefreshToken);
    await sdk(A).send(new AdminDisableUserCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(refresh(second.RefreshToken), 'NotAuthorizedException');
    await rejectsWith(initiateAuth(A, email, password), 'NotAuthorizedException', /disabled/);
    // AdminDeleteUser takes the user's refresh tokens with it.
    await sdk(A).send(new AdminEnableUserCommand({ UserPoolId: A.pool, Username: email }));
    const third = (await initiateAuth(A, email, password)).AuthenticationResult;
    secrets.add(third.RefreshToken);
    await sdk(A).send(new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(refresh(third.RefreshToken), 'NotAuthorizedException');
  });
});

describe('AdminGetUser', () => {
  it('shows CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED and Enabled as they change', { timeout: TEST_TIMEOUT }, async () => {
    const email = newEmail();
    await d.cli(['user', 'create', '--project', A.project.id, '--email', email, '--password-stdin'], { input: newPassword() });
    const get = () => sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal((await get()).UserStatus, 'CONFIRMED');
    assert.equal((await get()).Enabled, true);
    await sdk(A).send(new AdminDisableUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal((await get()).Enabled, false);
    await sdk(A).send(new AdminEnableUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal((await get()).Enabled, true);
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: newPassword() }));
    assert.equal((await get()).UserStatus, 'FORCE_CHANGE_PASSWORD');
    await sdk(A).send(new AdminResetUserPasswordCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal((await get()).UserStatus, 'RESET_REQUIRED');
    await sdk(A).send(new AdminUserGlobalSignOutCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: newEmail() })), 'UserNotFoundException');
  });
});

describe('AdminResetUserPassword', () => {
  it('mails a code, deactivates the password, and ConfirmForgotPassword with the code confirms the user', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    const old = newPassword();
    await sdk(A).send(new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: email, Password: old, Permanent: true }));
    assert.equal((await workosSignIn(A, email, old)).status, 200);
    await sdk(A).send(new AdminResetUserPasswordCommand({ UserPoolId: A.pool, Username: email }));
    const mail = await h.waitForMail(d.maildir, (m) => h.mailTo(email)(m) && h.extractResetCode(m.text) !== null);
    const code = h.extractResetCode(mail.text);
    secrets.add(code);
    assert.notEqual((await workosSignIn(A, email, old)).status, 200, 'the old password is deactivated');
    const fresh = newPassword();
    await sdk(A).send(new ConfirmForgotPasswordCommand({ ClientId: A.client.client_id, Username: email, ConfirmationCode: code, Password: fresh }));
    const got = await sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: email }));
    assert.equal(got.UserStatus, 'CONFIRMED');
    assert.equal((await workosSignIn(A, email, fresh)).status, 200);
  });
});

describe('ListUsers', () => {
  it('filters by email = and ^=, and pages with Limit and PaginationToken', { timeout: TEST_TIMEOUT }, async () => {
    const tag = uniq('list');
    const emails = [];
    for (let i = 0; i < 5; i++) emails.push((await seed(A, { email: `${tag}-${i}@example.com` })).email);
    await seed(B, { email: `${tag}-b@example.com` }); // another project's: never listed here

    const exact = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email = "${emails[2]}"` }));
    assert.deepEqual(exact.Users.map((u) => u.Attributes.find((a) => a.Name === 'email').Value), [emails[2]]);
    assert.equal(exact.PaginationToken, undefined);

    const seen = [];
    let token;
    let pages = 0;
    do {
      const page = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag}"`, Limit: 2, PaginationToken: token }));
      assert.ok(page.Users.length <= 2);
      for (const u of page.Users) seen.push(u.Attributes.find((a) => a.Name === 'email').Value);
      token = page.PaginationToken;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual(seen, emails);
    assert.equal(pages, 3);

    // The token is core's one paging cursor: bound to its pool and filter,
    // so it cannot be made up, nor carried to another filter or pool.
    const first = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag}"`, Limit: 2 }));
    const carried = first.PaginationToken;
    assert.ok(carried);
    await rejectsWith(sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag}-"`, Limit: 2, PaginationToken: carried })), 'InvalidParameterException');
    await rejectsWith(sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Limit: 2, PaginationToken: carried })), 'InvalidParameterException');
    await rejectsWith(sdk(B).send(new ListUsersCommand({ UserPoolId: B.pool, Filter: `email ^= "${tag}"`, Limit: 2, PaginationToken: carried })), 'InvalidParameterException');
    await rejectsWith(sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Limit: 2, PaginationToken: crypto.randomUUID() })), 'InvalidParameterException');
    // A value longer than any stored name (400 bytes of UTF-8) matches nobody.
    const long = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${'\u00e9'.repeat(200)}"` }));
    assert.deepEqual(long.Users, []);

    const only = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag}"`, AttributesToGet: ['email'] }));
    assert.equal(only.Users.length, 5);
    assert.deepEqual(only.Users[0].Attributes.map((a) => a.Name), ['email']);
  });

  it('filters by cognito:user_status and status', { timeout: TEST_TIMEOUT }, async () => {
    const C = await newTenant();
    const force = (await seed(C)).email;
    const confirmed = (await seed(C)).email;
    const reset = (await seed(C)).email;
    await sdk(C).send(new AdminSetUserPasswordCommand({ UserPoolId: C.pool, Username: confirmed, Password: newPassword(), Permanent: true }));
    await sdk(C).send(new AdminResetUserPasswordCommand({ UserPoolId: C.pool, Username: reset }));
    await sdk(C).send(new AdminDisableUserCommand({ UserPoolId: C.pool, Username: reset }));
    const emails = async (Filter) =>
      (await sdk(C).send(new ListUsersCommand({ UserPoolId: C.pool, Filter }))).Users.map((u) => u.Attributes.find((x) => x.Name === 'email').Value);
    assert.deepEqual(await emails('cognito:user_status = "FORCE_CHANGE_PASSWORD"'), [force]);
    assert.deepEqual(await emails('cognito:user_status = "CONFIRMED"'), [confirmed]);
    assert.deepEqual(await emails('cognito:user_status = "RESET_REQUIRED"'), [reset]);
    assert.deepEqual(await emails('cognito:user_status = "UNCONFIRMED"'), []);
    assert.deepEqual(await emails('status = "Disabled"'), [reset]);
    assert.deepEqual(await emails('status = "Enabled"'), [force, confirmed]);
    await rejectsWith(sdk(C).send(new ListUsersCommand({ UserPoolId: C.pool, Filter: 'status = "Asleep"' })), 'InvalidParameterException');
    await rejectsWith(sdk(C).send(new ListUsersCommand({ UserPoolId: C.pool, Filter: 'phone_number = "+1"' })), 'InvalidParameterException');
  });

  it('a prefix is text, not a pattern: _ and % match only themselves, and case does not count', { timeout: TEST_TIMEOUT }, async () => {
    const tag = uniq('pfx');
    const under = (await seed(A, { email: `${tag}_u@example.com` })).email;
    await seed(A, { email: `${tag}xu@example.com` });
    const page = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag.toUpperCase()}_"` }));
    assert.deepEqual(page.Users.map((u) => u.Attributes.find((a) => a.Name === 'email').Value), [under]);
    const pct = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email ^= "${tag}%"` }));
    assert.equal(pct.Users.length, 0);
  });
});

describe('AdminDeleteUser', () => {
  it('deletes the user: gone from get and list, the email free again', { timeout: TEST_TIMEOUT }, async () => {
    const { email } = await seed(A);
    await sdk(A).send(new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: email }));
    await rejectsWith(sdk(A).send(new AdminGetUserCommand({ UserPoolId: A.pool, Username: email })), 'UserNotFoundException', /User does not exist/);
    const list = await sdk(A).send(new ListUsersCommand({ UserPoolId: A.pool, Filter: `email = "${email}"` }));
    assert.equal(list.Users.length, 0);
    await rejectsWith(sdk(A).send(new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: email })), 'UserNotFoundException');
    await seed(A, { email });
  });
});

describe('calls that are refused change nothing', () => {
  let victim;

  before(async () => {
    victim = (await seed(A)).email;
  });

  async function stillThere() {
    const users = await cliUsers(A, ['--email', victim]);
    assert.equal(users.length, 1, 'the user is untouched');
    assert.equal(users[0].disabled, false);
  }

  it('unsigned: MissingAuthenticationTokenException', { timeout: TEST_TIMEOUT }, async () => {
    const res = await unsignedRaw('AdminDeleteUser', { UserPoolId: A.pool, Username: victim });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.__type, 'MissingAuthenticationTokenException');
    assert.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException:');
    await stillThere();
  });

  it('a wrong secret: InvalidSignatureException', { timeout: TEST_TIMEOUT }, async () => {
    await rejectsWith(
      sdk(A, { secretAccessKey: crypto.randomBytes(30).toString('base64') }).send(new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: victim })),
      'InvalidSignatureException',
      /does not match/
    );
    await stillThere();
  });

  it('an unknown or revoked access key: UnrecognizedClientException', { timeout: TEST_TIMEOUT }, async () => {
    await rejectsWith(
      sdk(A, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' }).send(new AdminDisableUserCommand({ UserPoolId: A.pool, Username: victim })),
      'UnrecognizedClientException'
    );
    const gone = await d.cli(['apikey', 'create', '--project', A.project.id]);
    secrets.add(gone.key);
    secrets.add(gone.aws_secret_access_key);
    await d.cli(['apikey', 'revoke', gone.id]);
    await rejectsWith(
      sdk(A, { accessKeyId: gone.aws_access_key_id, secretAccessKey: gone.aws_secret_access_key }).send(
        new AdminDisableUserCommand({ UserPoolId: A.pool, Username: victim })
      ),
      'UnrecognizedClientException'
    );
    await stillThere();
  });

  it('signed for another region or service: InvalidSignatureException, never the action', { timeout: TEST_TIMEOUT }, async () => {
    await rejectsWith(
      sdk(A, { region: 'eu-west-1' }).send(new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: victim })),
      'InvalidSignatureException',
      /region/
    );
    const other = await signedRaw(A, 'AdminDeleteUser', { UserPoolId: A.pool, Username: victim }, { service: 'cognito-identity' });
    assert.equal(other.status, 400, other.text);
    assert.equal(other.json.__type, 'InvalidSignatureException');
    assert.match(other.json.message, /service/);
    // The same signer with the right scope is taken: the control.
    const right = await signedRaw(A, 'AdminGetUser', { UserPoolId: A.pool, Username: victim });
    assert.equal(right.status, 200, right.text);
    await stillThere();
  });

  it('a stale or future signature: InvalidSignatureException', { timeout: TEST_TIMEOUT }, async () => {
    const body = { UserPoolId: A.pool, Username: victim };
    const stale = await signedRaw(A, 'AdminDisableUser', body, { signingDate: new Date(Date.now() - 6 * 60 * 1000) });
    assert.equal(stale.json.__type, 'InvalidSignatureException', stale.text);
    assert.match(stale.json.message, /^Signature expired: /);
    const future = await signedRaw(A, 'AdminDisableUser', body, { signingDate: new Date(Date.now() + 6 * 60 * 1000) });
    assert.equal(future.json.__type, 'InvalidSignatureException', future.text);
    assert.match(future.json.message, /^Signature not yet current: /);
    await stillThere();
  });

  it('a body changed after signing: InvalidSignatureException', { timeout: TEST_TIMEOUT }, async () => {
    const signer = new SignatureV4({
      service: 'cognito-idp',
      region: 'us-east-1',
      sha256: NodeSha256,
      credentials: { accessKeyId: A.key.aws_access_key_id, secretAccessKey: A.key.aws_secret_access_key },
    });
    const body = JSON.stringify({ UserPoolId: A.pool, Username: newEmail() });
    const signed = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: d.port, path: '/', query: {},
      headers: { host: `127.0.0.1:${d.port}`, 'content-type': AMZ_JSON, 'x-amz-target': `${TARGET}AdminDeleteUser` },
      body,
    });
    const headers = { ...signed.headers };
    delete headers.host;
    const res = await h.request(`${d.url}/`, { method: 'POST', headers, body: JSON.stringify({ UserPoolId: A.pool, Username: victim }) });
    assert.equal(res.json.__type, 'InvalidSignatureException', res.text);
    await stillThere();
  });

  it("another project's key reaches nothing of this one: ResourceNotFoundException", { timeout: TEST_TIMEOUT }, async () => {
    for (const cmd of [
      new AdminDeleteUserCommand({ UserPoolId: A.pool, Username: victim }),
      new AdminGetUserCommand({ UserPoolId: A.pool, Username: victim }),
      new ListUsersCommand({ UserPoolId: A.pool }),
      new AdminSetUserPasswordCommand({ UserPoolId: A.pool, Username: victim, Password: newPassword(), Permanent: true }),
    ]) {
      await rejectsWith(sdk(B).send(cmd), 'ResourceNotFoundException', /does not exist/);
    }
    // B's own pool holds no user of A's.
    await rejectsWith(sdk(B).send(new AdminGetUserCommand({ UserPoolId: B.pool, Username: victim })), 'UserNotFoundException');
    await stillThere();
  });

  it("members are checked as botocore's model says, naming the member, before anything is written", { timeout: TEST_TIMEOUT }, async () => {
    const fresh = newEmail();
    const cases = [
      [{ UserPoolId: A.pool }, /'username'.*not be null/],
      [{ Username: fresh }, /'userPoolId'.*not be null/],
      [{ UserPoolId: 'no-underscore', Username: fresh }, /'userPoolId'.*pattern/],
      [{ UserPoolId: `${A.pool}${'x'.repeat(30)}`, Username: fresh }, /'userPoolId'.*length less than or equal to 55/],
      [{ UserPoolId: A.pool, Username: 'has space' }, /'username'.*pattern/],
      [{ UserPoolId: A.pool, Username: 'x'.repeat(129) }, /'username'.*128/],
      [{ UserPoolId: A.pool, Username: fresh, TemporaryPassword: 'two words', MessageAction: 'SUPPRESS' }, /'temporaryPassword'.*pattern/],
      [{ UserPoolId: A.pool, Username: fresh, MessageAction: 'LOUD' }, /'messageAction'.*enum/],
      [{ UserPoolId: A.pool, Username: fresh, UserAttributes: [{ Value: 'x' }], MessageAction: 'SUPPRESS' }, /'userAttributes.1.member.name'/],
      [{ UserPoolId: A.pool, Username: fresh, UserAttributes: [{ Name: 'x'.repeat(33), Value: 'x' }], MessageAction: 'SUPPRESS' }, /'userAttributes.1.member.name'.*32/],
      [{ UserPoolId: A.pool, Username: fresh, UserAttributes: [{ Name: 'custom:team', Value: 'x' }], MessageAction: 'SUPPRESS' }, /custom:team/],
      // Users are named by id too: a username may not look like one.
      [{ UserPoolId: A.pool, Username: crypto.randomUUID(), UserAttributes: [{ Name: 'email', Value: fresh }], MessageAction: 'SUPPRESS' }, /username/],
      [{ UserPoolId: A.pool, Username: 'nomail', MessageAction: 'SUPPRESS' }, /email/],
    ];
    for (const [body, re] of cases) {
      const res = await signedRaw(A, 'AdminCreateUser', body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.__type, 'InvalidParameterException', res.text);
      assert.match(res.json.message, re);
    }
    const limit = await signedRaw(A, 'ListUsers', { UserPoolId: A.pool, Limit: 61 });
    assert.equal(limit.json.__type, 'InvalidParameterException');
    assert.match(limit.json.message, /'limit'.*60/);
    const filter = await signedRaw(A, 'ListUsers', { UserPoolId: A.pool, Filter: 'email = unquoted' });
    assert.equal(filter.json.__type, 'InvalidParameterException');
    const type = await signedRaw(A, 'AdminSetUserPassword', { UserPoolId: A.pool, Username: victim, Password: newPassword(), Permanent: 'yes' });
    assert.equal(type.json.__type, 'SerializationException', type.text);
    assert.equal((await cliUsers(A, ['--email', fresh])).length, 0);
    await stillThere();
  });
});
