// A real, independent OAuth 2.0 authorization server for sipgate-oauth's peer tests:
// panva's oidc-provider (certified OpenID Provider), configured like sipgate's Keycloak
// as far as the CLI can tell, plus a tiny protected resource standing in for the sipgate API.
//
// Usage: node server.js [PORT]        (PORT may be 0: a free port is chosen; default 0)
// Environment (all optional):
//   PEER_CLIENT_ID, PEER_CLIENT_SECRET  the one registered client (defaults below)
//   PEER_SCOPE                          the OAUTH_SCOPE it suggests (default below)
//   PEER_ACCESS_TTL                     access token lifetime in seconds (default 3600)
//   PEER_TOKEN_TYPE                     rewrite token_type in token responses (e.g. "bearer"; RFC 6749
//                                       §5.1 makes it case-insensitive)
//   PEER_AUTH_METHOD                    the client's token_endpoint_auth_method (default client_secret_post)
//   PEER_NO_REFRESH_TOKEN               if set, no refresh token is issued
//   PEER_NO_DEVICE_GRANT                if set, the client may not use the device flow (RFC 8628)
//   PEER_TOKEN_LOG                      file to append every issued token value, authorization code
//                                       and PKCE code_verifier to, one a line, so a test can check none of them leaks
//
// Once listening it prints .env lines on stdout (AUTH_URL=…, TOKEN_URL=…, …) and then
// the line `# peer ready on http://127.0.0.1:PORT`. Everything else goes to stderr.
//
// What the CLI meets here:
// - authorization code flow only, PKCE required (S256; oidc-provider accepts no other method);
// - one confidential client, `application_type: 'native'`, token_endpoint_auth_method
//   client_secret_post, registered redirect URI http://127.0.0.1/oauth. For native clients
//   oidc-provider ignores the port of a loopback redirect URI (RFC 8252 §7.3), so the CLI's
//   REDIRECT_URI=http://127.0.0.1:0/oauth with a port picked at run time is accepted;
// - a refresh token with every code exchange (issueRefreshToken below), so the CLI's refresh works;
//   refresh tokens rotate on every use and a used one is dead: presenting it again revokes the
//   whole grant (stricter than Keycloak's default, like its "Revoke Refresh Token" setting);
// - RFC 7009 revocation at /revoke (where the CLI looks for it next to /token);
// - the device authorization grant (RFC 8628, features.deviceFlow): device endpoint /device/auth
//   (named in discovery), the user enters the code at /device; the client has the grant unless
//   PEER_NO_DEVICE_GRANT is set;
// - the development login and consent pages (any login and password sign in);
// - GET /v2/account with `Authorization: Bearer <access token>` answers the sipgate-like JSON,
//   401 with a WWW-Authenticate challenge otherwise.
//
// Suggested OAUTH_SCOPE: "openid offline_access account:read". Without a `prompt` parameter
// oidc-provider keeps offline_access for a code flow; the consent page grants it.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const CLIENT_ID = process.env.PEER_CLIENT_ID || 'sipgate-oauth-peer';
const CLIENT_SECRET = process.env.PEER_CLIENT_SECRET || 'peer-secret-7f3c9a1e5b2d4c68';
const SCOPE = process.env.PEER_SCOPE || 'openid offline_access account:read';
const TOKEN_LOG = process.env.PEER_TOKEN_LOG;
const ACCESS_TTL = Number(process.env.PEER_ACCESS_TTL || 3600);
const TOKEN_TYPE = process.env.PEER_TOKEN_TYPE;
const requestedPort = Number(process.argv[2] ?? process.env.PORT ?? 0);

const log = (...args) => console.error('[peer]', ...args);

// Listen first, so that port 0 can be resolved before the issuer (which contains the port) is fixed.
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(requestedPort, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/oauth'],
    grant_types: [
      'authorization_code',
      'refresh_token',
      ...(process.env.PEER_NO_DEVICE_GRANT ? [] : ['urn:ietf:params:oauth:grant-type:device_code']),
    ],
    response_types: ['code'],
    token_endpoint_auth_method: process.env.PEER_AUTH_METHOD || 'client_secret_post',
  }],
  scopes: ['openid', 'offline_access', 'account:read'],
  // With PEER_AUTH_METHOD, the server accepts that client authentication method and no other.
  ...(process.env.PEER_AUTH_METHOD ? { clientAuthMethods: [process.env.PEER_AUTH_METHOD] } : {}),
  pkce: { required: () => true },
  // Keycloak issues a refresh token with every code exchange; so does this peer.
  // PEER_NO_REFRESH_TOKEN=1: none at all, as some servers do without offline_access.
  issueRefreshToken: async (_ctx, client) =>
    !process.env.PEER_NO_REFRESH_TOKEN && client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: { AccessToken: ACCESS_TTL },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: { enabled: true },
  },
  routes: { revocation: '/revoke' },
  // Throw-away keys for signing cookies; nothing here outlives the process.
  cookies: { keys: [randomBytes(32).toString('hex')] },
});

// Log what happens (never token or secret values) so a failing test can show why.
for (const event of ['authorization.error', 'grant.error', 'server_error', 'userinfo.error', 'revocation.error']) {
  provider.on(event, (_ctx, err) => log(event, err.error || err.name, '-', err.error_description || err.message));
}
provider.on('grant.success', (ctx) => log('grant.success', ctx.oidc.params.grant_type));
provider.on('grant.revoked', () => log('grant.revoked'));

// Optionally answer token_type in another spelling, as some servers do.
provider.use(async (ctx, next) => {
  await next();
  if (TOKEN_TYPE && ctx.path === '/token' && ctx.body?.token_type) ctx.body = { ...ctx.body, token_type: TOKEN_TYPE };
});

// Note every issued token and authorization code (when asked to) by reading the responses of the
// token endpoint and the redirects of the authorization endpoint.
provider.use(async (ctx, next) => {
  await next();
  if (!TOKEN_LOG) return;
  const values = [];
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    values.push(...['access_token', 'refresh_token', 'id_token'].map((k) => ctx.body[k]));
  }
  if (ctx.path === '/token') values.push(ctx.oidc?.params?.code_verifier);
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    values.push(ctx.body.device_code);
  }
  const location = ctx.response.get('location');
  if (location && ctx.path.startsWith('/auth')) {
    try { values.push(new URL(location).searchParams.get('code')); } catch { /* relative: not a callback */ }
  }
  const issued = values.filter(Boolean);
  if (issued.length) appendFileSync(TOKEN_LOG, `${issued.join('\n')}\n`);
});

// The protected resource: a sipgate-like GET /v2/account, checked against the provider's own token store.
provider.use(async (ctx, next) => {
  if (ctx.path !== '/v2/account') return next();
  const deny = (status, error, description) => {
    ctx.status = status;
    ctx.set('WWW-Authenticate', `Bearer realm="peer", error="${error}", error_description="${description}"`);
    ctx.body = { error, error_description: description };
    log('GET /v2/account ->', status, error);
  };
  if (ctx.method !== 'GET') return deny(405, 'invalid_request', 'GET only');
  const match = /^bearer ([^\s]+)$/i.exec(ctx.get('authorization'));
  if (!match) return deny(401, 'invalid_request', 'no bearer token');
  let token;
  try {
    token = await provider.AccessToken.find(match[1]);
  } catch {
    token = undefined;
  }
  if (!token || token.isExpired) return deny(401, 'invalid_token', 'unknown or expired access token');
  if (token.clientId !== CLIENT_ID) return deny(401, 'invalid_token', 'token of another client');
  if (!String(token.scope ?? '').split(' ').includes('account:read')) {
    return deny(403, 'insufficient_scope', 'account:read needed');
  }
  ctx.body = {
    company: 'Peer', mainProductType: 'BASIC', logoUrl: '', verified: true,
  };
  log('GET /v2/account -> 200');
  return undefined;
});

// One line per request on stderr: method, path (no query: it carries codes) and status.
provider.use(async (ctx, next) => {
  await next();
  log(ctx.method, ctx.path, '->', ctx.status);
});

handler = provider.callback();

const env = [
  `AUTH_URL=${issuer}/auth`,
  `TOKEN_URL=${issuer}/token`,
  `TEST_API_ENDPOINT=${issuer}/v2/account`,
  `CLIENT_ID=${CLIENT_ID}`,
  `CLIENT_SECRET=${CLIENT_SECRET}`,
  `OAUTH_SCOPE="${SCOPE}"`,
  'REDIRECT_URI=http://127.0.0.1:0/oauth',
  `# peer ready on ${issuer}`,
];
process.stdout.write(`${env.join('\n')}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
