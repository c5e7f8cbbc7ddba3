// A peer for `cargo xtask bench`: node's oidc-provider running its own
// authorization-code flow, set up as its documentation asks of a deployment (its
// development-only interactions off, interactions of our own, signed cookies, our own
// account lookup), but with the default in-memory adapter.
//
//   node server.mjs [--port N]     (or PORT=N; 0, the default, takes a free port)
//
// The first line on stdout is {"url": "http://127.0.0.1:PORT"}. Closing stdin stops
// the server. Nothing is logged per request.
//
// One public client `bench` (PKCE S256, id_token signed ES256 with a P-256 key made at
// start: the cheapest key to make and the algorithm Passway signs with by default) and
// one account, bench@example.com, whose login form takes a fixed password. The login
// and the consent are two interactions, as in the provider's own example: a form to
// GET, then a POST that ends the interaction (`provider.interactionFinished`).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';

import Provider from 'oidc-provider';

const CLIENT_ID = 'bench';
const LOGIN = 'bench@example.com';
const PASSWORD = 'bench: correct horse battery staple';

function portArgument() {
  const at = process.argv.indexOf('--port');
  const value = at >= 0 ? process.argv[at + 1] : process.env.PORT;
  return Number.parseInt(value ?? '0', 10) || 0;
}

/** A P-256 signing key, private JWK, made fresh at every start. */
function signingKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
}

/** The one account; its claims for the id_token and userinfo. */
async function findAccount(_ctx, sub) {
  if (sub !== LOGIN) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, email: sub, email_verified: true };
    },
  };
}

function configuration(issuer) {
  return {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${issuer}/cb`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    // The provider's own defaults, said out loud (it asks a deployment to choose).
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
  };
}

/** The body of an application/x-www-form-urlencoded POST. */
async function formBody(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 16 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(text);
}

function sameSecret(given, expected) {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;
}

/** GET /interaction/:uid: the login form or the consent form, as the prompt asks. */
async function showInteraction(provider, ctx, uid) {
  const { prompt, params } = await provider.interactionDetails(ctx.req, ctx.res);
  ctx.set('cache-control', 'no-store');
  ctx.type = 'html';
  if (prompt.name === 'login') {
    ctx.body = page(
      'Sign in',
      `<form method="post" action="/interaction/${escape(uid)}/login">
<input name="login" autocomplete="username"><input name="password" type="password" autocomplete="current-password">
<button>Sign in</button></form>`,
    );
  } else if (prompt.name === 'consent') {
    ctx.body = page(
      'Authorize',
      `<p>${escape(params.client_id)} asks for ${escape(params.scope)}</p>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button>Continue</button></form>`,
    );
  } else {
    ctx.throw(501, `prompt ${prompt.name} not implemented`);
  }
}

/** POST /interaction/:uid/login: the fixed account's password, then back to /auth. */
async function submitLogin(provider, ctx) {
  const { prompt } = await provider.interactionDetails(ctx.req, ctx.res);
  if (prompt.name !== 'login') ctx.throw(400, 'not a login prompt');
  const form = await formBody(ctx.req);
  if (form.get('login') !== LOGIN || !sameSecret(form.get('password'), PASSWORD)) {
    ctx.throw(401, 'wrong login or password');
  }
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: LOGIN } }, { mergeWithLastSubmission: false });
}

/** POST /interaction/:uid/confirm: a grant of what the consent prompt says is missing. */
async function submitConsent(provider, ctx) {
  const { prompt: { name, details }, grantId, session, params } = await provider.interactionDetails(ctx.req, ctx.res);
  if (name !== 'consent') ctx.throw(400, 'not a consent prompt');
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const result = { consent: { grantId: await grant.save() } };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
}

/** Koa middleware in front of the provider's own routes: our interactions. */
function interactions(provider) {
  return async (ctx, next) => {
    const m = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(ctx.path);
    if (!m) return next();
    const [, uid, action] = m;
    if (ctx.method === 'GET' && !action) return showInteraction(provider, ctx, uid);
    if (ctx.method === 'POST' && action === 'login') return submitLogin(provider, ctx);
    if (ctx.method === 'POST' && action === 'confirm') return submitConsent(provider, ctx);
    return next();
  };
}

async function main() {
  // Listen first: with port 0 the issuer is known only once the port is.
  const server = createServer();
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(portArgument(), '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration(issuer));
  provider.use(interactions(provider));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ url: issuer })}\n`);

  // The parent stops us by closing our stdin.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
