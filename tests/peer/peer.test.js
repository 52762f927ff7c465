// Self-test of the peer fixture, without sipgate-oauth: the whole authorization-code flow
// with PKCE done by hand against server.js, driven by browser-login.js, including the
// refresh and the protected resource. Run: `node --test` in tests/peer (see .ci/peer-setup).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'peer-selftest-'));
const tokenLog = join(dir, 'tokens.log');
let server;
let env;

before(async () => {
  server = spawn(process.execPath, [join(here, 'server.js'), '0'], {
    env: { ...process.env, PEER_TOKEN_LOG: tokenLog },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  env = {};
  for await (const line of createInterface({ input: server.stdout })) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    if (line.startsWith('# peer ready')) break;
  }
  assert.ok(env.AUTH_URL, 'server.js printed its .env lines');
});

after(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const b64url = (buf) => buf.toString('base64url');

// A one-shot loopback callback server like the CLI's; resolves with the callback's query.
async function callbackServer() {
  let resolveQuery;
  const query = new Promise((resolve) => { resolveQuery = resolve; });
  const srv = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    res.setHeader('content-type', 'text/html');
    res.end('<title>Signed in</title><p>Sign-in completed.</p>');
    if (u.pathname === '/oauth') resolveQuery(u.searchParams);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, port: srv.address().port, query };
}

function runBrowser(url) {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(here, 'browser-login.js'), url], (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

async function tokenRequest(form) {
  const res = await fetch(env.TOKEN_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
}

async function account(accessToken) {
  const res = await fetch(env.TEST_API_ENDPOINT, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, body: await res.json() };
}

function authorizationUrl(redirectUri, challenge, state, extra = {}) {
  const u = new URL(env.AUTH_URL);
  const params = {
    response_type: 'code',
    client_id: env.CLIENT_ID,
    redirect_uri: redirectUri,
    scope: env.OAUTH_SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

test('full code flow with PKCE, API call, refresh, API call', async () => {
  const cb = await callbackServer();
  try {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const state = b64url(randomBytes(16));
    const redirectUri = `http://127.0.0.1:${cb.port}/oauth`; // any port: native loopback client
    const browser = await runBrowser(authorizationUrl(redirectUri, challenge, state));
    assert.equal(browser.code, 0, browser.stderr);
    const q = await cb.query;
    assert.equal(q.get('state'), state);
    assert.equal(q.get('iss'), new URL(env.AUTH_URL).origin); // RFC 9207: the CLI must tolerate it
    const code = q.get('code');
    assert.ok(code);

    const exchanged = await tokenRequest({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri,
      client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET, code_verifier: verifier,
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(exchanged.body.token_type, 'Bearer');
    assert.ok(exchanged.body.refresh_token, 'a refresh token is issued');
    assert.match(exchanged.body.scope, /account:read/);

    const first = await account(exchanged.body.access_token);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { company: 'Peer', mainProductType: 'BASIC', logoUrl: '', verified: true });

    const refreshed = await tokenRequest({
      grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token,
      client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.ok(refreshed.body.access_token);
    const second = await account(refreshed.body.access_token);
    assert.equal(second.status, 200);
    assert.equal(second.body.company, 'Peer');

    // The code is single-use; replaying it revokes what it granted (as Keycloak does too).
    const again = await tokenRequest({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri,
      client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET, code_verifier: verifier,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.equal((await account(refreshed.body.access_token)).status, 401);

    const logged = readFileSync(tokenLog, 'utf8');
    for (const v of [exchanged.body.access_token, refreshed.body.access_token, code, verifier]) assert.ok(logged.includes(v));
    assert.ok(!browser.stderr.includes(code), 'browser-login.js does not print the code');
  } finally {
    cb.srv.close();
  }
});

test('wrong PKCE verifier is rejected with invalid_grant', async () => {
  const cb = await callbackServer();
  try {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const redirectUri = `http://127.0.0.1:${cb.port}/oauth`;
    assert.equal((await runBrowser(authorizationUrl(redirectUri, challenge, 's'))).code, 0);
    const q = await cb.query;
    const res = await tokenRequest({
      grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri,
      client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET, code_verifier: b64url(randomBytes(32)),
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
  } finally {
    cb.srv.close();
  }
});

test('authorization request without PKCE is refused (error redirect to the callback)', async () => {
  const cb = await callbackServer();
  try {
    const redirectUri = `http://127.0.0.1:${cb.port}/oauth`;
    const url = authorizationUrl(redirectUri, undefined, 's', { code_challenge_method: undefined });
    const browser = await runBrowser(url);
    assert.equal(browser.code, 1);
    const q = await cb.query;
    assert.equal(q.get('error'), 'invalid_request');
  } finally {
    cb.srv.close();
  }
});

test('wrong client secret: invalid_client', async () => {
  const res = await tokenRequest({
    grant_type: 'refresh_token', refresh_token: 'x', client_id: env.CLIENT_ID, client_secret: 'wrong',
  });
  assert.equal(res.status, 401);
  assert.equal(res.body.error, 'invalid_client');
});

test('redirect_uri on a non-loopback host is not redirected to', async () => {
  const res = await fetch(authorizationUrl('http://example.invalid/oauth', 'x'.repeat(43), 's'), { redirect: 'manual' });
  assert.equal(res.status, 400);
});

test('resource: no token or a bad token is 401', async () => {
  assert.equal((await fetch(env.TEST_API_ENDPOINT)).status, 401);
  assert.equal((await account('not-a-token')).status, 401);
});

test('Cancel at the sign-in page: access_denied at the callback', async () => {
  const cb = await callbackServer();
  try {
    const redirectUri = `http://127.0.0.1:${cb.port}/oauth`;
    const browser = await new Promise((resolve) => {
      execFile(process.execPath, [join(here, 'browser-login.js'), '--cancel', authorizationUrl(redirectUri, 'x'.repeat(43), 's')],
        (err, _o, stderr) => resolve({ code: err ? err.code : 0, stderr }));
    });
    assert.equal(browser.code, 0, browser.stderr);
    const q = await cb.query;
    assert.equal(q.get('error'), 'access_denied');
  } finally {
    cb.srv.close();
  }
});

test('refresh tokens rotate; revocation at /revoke kills the grant', async () => {
  const cb = await callbackServer();
  try {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const redirectUri = `http://127.0.0.1:${cb.port}/oauth`;
    assert.equal((await runBrowser(authorizationUrl(redirectUri, challenge, 's'))).code, 0);
    const code = (await cb.query).get('code');
    const creds = { client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET };
    const t1 = (await tokenRequest({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, ...creds,
    })).body;
    const t2 = (await tokenRequest({ grant_type: 'refresh_token', refresh_token: t1.refresh_token, ...creds })).body;
    assert.ok(t2.refresh_token && t2.refresh_token !== t1.refresh_token, 'rotated');
    const t3 = (await tokenRequest({ grant_type: 'refresh_token', refresh_token: t2.refresh_token, ...creds })).body;
    assert.equal((await account(t3.access_token)).status, 200);
    const revoke = await fetch(new URL('/revoke', env.TOKEN_URL), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t3.refresh_token, token_type_hint: 'refresh_token', ...creds }),
    });
    assert.equal(revoke.status, 200);
    assert.equal((await account(t3.access_token)).status, 401, 'revoking the refresh token revokes the grant');
    const after = await tokenRequest({ grant_type: 'refresh_token', refresh_token: t3.refresh_token, ...creds });
    assert.equal(after.body.error, 'invalid_grant');
  } finally {
    cb.srv.close();
  }
});
