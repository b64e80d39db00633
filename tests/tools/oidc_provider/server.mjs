// A real OpenID Connect provider (panva/oidc-provider, certified by the OpenID Foundation) for
// the tests of Conforme's OIDC login. Loopback only, plain http (allowed outside production).
//
//   node server.mjs [PORT]        PORT 0 or absent: any free port
//
// It prints `PORT n` on stdout once it listens; its issuer is then `http://127.0.0.1:n`.
// It stops when its standard input closes (the test that started it ended).
//
// Environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the one static client (client_secret_basic)
//   OIDC_REDIRECT_URIS                  its redirect URIs, separated by spaces
//   OIDC_TEST_SUB, OIDC_TEST_EMAIL, OIDC_TEST_EMAIL_VERIFIED (true|false), OIDC_TEST_NAME
//                                       the account signed in automatically (changeable, below)
//
// There is no login form: the interaction signs in the current test account at once (or
// refuses, with `access_denied`, when told to) and grants the requested scopes. A test changes
// the current account with `POST /_test/account` and a JSON body
// `{ "sub", "email", "email_verified", "name", "deny" }`.
//
// PKCE is required of the client, the ID token is signed with a fresh RS256 key, and the
// email and profile claims are served by the userinfo endpoint (the provider's default for
// the code flow), as most providers do.

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 0);
const env = (name, fallback) => process.env[name] ?? fallback;

let current = {
  sub: env('OIDC_TEST_SUB', 'test-account'),
  email: env('OIDC_TEST_EMAIL', 'test@example.org'),
  email_verified: env('OIDC_TEST_EMAIL_VERIFIED', 'true') === 'true',
  name: env('OIDC_TEST_NAME', 'Compte de test'),
  deny: false,
};
// Every account ever signed in, by subject: tokens issued earlier keep their claims.
const accounts = new Map();

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

let provider;

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (current.deny) {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The test account refused to sign in.' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    accounts.set(current.sub, { ...current });
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: current.sub } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (prompt.name === 'consent') {
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unexpected prompt ${prompt.name}`);
}

const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (req.method === 'POST' && path === '/_test/account') {
      const body = await readJson(req);
      current = {
        sub: String(body.sub),
        email: body.email ?? null,
        email_verified: Boolean(body.email_verified),
        name: body.name ?? null,
        deny: Boolean(body.deny),
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(current));
      return;
    }
    if (path.startsWith('/interaction/')) {
      await interaction(req, res);
      return;
    }
    provider.callback()(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) res.statusCode = 500;
    res.end(String(err));
  }
});

server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  const issuer = `http://127.0.0.1:${actual}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: env('OIDC_CLIENT_ID', 'conforme'),
        client_secret: env('OIDC_CLIENT_SECRET', 'conforme-secret'),
        redirect_uris: env('OIDC_REDIRECT_URIS', 'http://127.0.0.1:8080/connexion/oidc/retour')
          .split(' ')
          .filter(Boolean),
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          const claims = { sub: id, name: account.name };
          if (account.email) {
            claims.email = account.email;
            claims.email_verified = account.email_verified;
          }
          return claims;
        },
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [signingKey] },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  process.stdout.write(`PORT ${actual}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
