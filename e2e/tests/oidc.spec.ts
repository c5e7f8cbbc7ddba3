// Node's openid-client — a relying party nobody here wrote — signs in through the
// hosted page: discovery, code + PKCE with client_secret_basic, consent, ID token
// checks (RS256 signature, iss, aud, nonce, expiry), userinfo, refresh rotation and
// reuse detection, introspection, revocation, SSO with prompt=none, RP-initiated
// logout, client_credentials.
import * as client from 'openid-client';
import { test, expect, signInByCode, uniqueEmail, virtualAuthenticator, CHECKOUT, PARTNER, REPORTS_API, type Page, type Passway } from './passway';

/** The test process reaches Passway on 127.0.0.1; the issuer names `localhost`. */
function discover(passway: Passway, publicClient?: string, confidential = PARTNER): Promise<client.Configuration> {
  const viaLoopback: client.CustomFetch = (url, options) =>
    fetch(url.replace(passway.baseUrl, passway.localUrl), options as RequestInit);
  const [clientId, auth] = publicClient ? [publicClient, client.None()] : [confidential.clientId, client.ClientSecretBasic(confidential.secret)];
  return client.discovery(new URL(passway.baseUrl), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    [client.customFetch]: viaLoopback,
  });
}

/** The Reports API, the one client that may introspect Partner Reports' tokens. */
const theApi = (passway: Passway) => discover(passway, undefined, REPORTS_API);

const callbackOf = (passway: Passway) => passway.localUrl + '/callback';

/**
 * The URL the browser is next sent to at `path` — by a page or by a server's redirect
 * (which `page.route` would not see) — once that page has loaded, so the next
 * navigation does not interrupt it. Nothing serves the client's pages; that is fine.
 */
async function landing(page: Page, path: string): Promise<URL> {
  const request = await page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === path);
  await page.waitForURL((url) => url.href === request.url());
  return new URL(request.url());
}

interface Attempt { url: URL; verifier: string; nonce: string; state: string }

async function authorization(config: client.Configuration, passway: Passway, extra: Record<string, string> = {}, redirectUri = callbackOf(passway)): Promise<Attempt> {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  return { url, verifier, nonce, state };
}

function redeem(config: client.Configuration, attempt: Attempt, callback: URL) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: attempt.verifier,
    expectedNonce: attempt.nonce,
    expectedState: attempt.state,
    idTokenExpected: true,
  });
}

/** Signs in on the hosted page by emailed code and declines the passkey offer. */
async function signIn(page: Page, passway: Passway, email: string, options: { count?: number; name?: [string, string] }) {
  await signInByCode(page, passway, email, options);
  await page.getByRole('button', { name: 'Not now' }).click();
}

async function expectOAuthError(promise: Promise<unknown>, error: string) {
  await expect(promise).rejects.toMatchObject({ error });
}

test('openid-client: code + PKCE through the hosted page with consent, then tokens, SSO and logout', async ({ page, passway, problems }) => {
  const config = await discover(passway);
  expect(config.serverMetadata().issuer).toBe(passway.baseUrl);
  const email = uniqueEmail('rosalind');

  // Sign up on the hosted page; the app asks for consent, which lists the scopes.
  const first = await authorization(config, passway);
  let callback = landing(page, '/callback');
  await page.goto(first.url.href);
  await signIn(page, passway, email, { name: ['Rosalind', 'Franklin'] });
  await expect(page.getByRole('heading', { name: 'Partner Reports would like to' })).toBeVisible();
  await expect(page.locator('.pw-scopes li')).toHaveText([
    'Know who you are when you sign in',
    'See your name',
    'See your email address',
    'Keep access while you are away',
  ]);
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  const tokens = await redeem(config, first, await callback);

  // openid-client verified the RS256 signature, iss, aud, nonce and expiry.
  const claims = tokens.claims()!;
  expect(claims.iss).toBe(passway.baseUrl);
  expect(claims.aud).toBe(PARTNER.clientId);
  expect(claims.email).toBe(email);
  expect(typeof claims.auth_time).toBe('number');
  expect(tokens.refresh_token).toBeTruthy();
  expect(tokens.scope).toBe('openid profile email offline_access');

  const profile = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  expect(profile).toMatchObject({ sub: claims.sub, email, email_verified: true, given_name: 'Rosalind', family_name: 'Franklin' });
  expect(await client.tokenIntrospection(await theApi(passway), tokens.access_token)).toMatchObject({ active: true, client_id: PARTNER.clientId, sub: claims.sub });

  // Refresh rotates; revoking an access token ends it at userinfo and introspection.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  expect(refreshed.refresh_token).toBeTruthy();
  expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  await client.tokenRevocation(config, refreshed.access_token);
  expect(await client.tokenIntrospection(await theApi(passway), refreshed.access_token)).toEqual({ active: false });
  await expect(client.fetchUserInfo(config, refreshed.access_token, claims.sub)).rejects.toBeInstanceOf(client.WWWAuthenticateChallengeError);

  // Spending the old refresh token again is reuse: the whole family is revoked.
  await expectOAuthError(client.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_grant');
  await expectOAuthError(client.refreshTokenGrant(config, refreshed.refresh_token!), 'invalid_grant');
  expect(await client.tokenIntrospection(await theApi(passway), tokens.access_token)).toEqual({ active: false });

  // The SSO session and the remembered consent: prompt=none gets a code without UI.
  const silent = await authorization(config, passway, { prompt: 'none' });
  callback = landing(page, '/callback');
  await page.goto(silent.url.href);
  const again = await redeem(config, silent, await callback);
  expect(again.claims()!.sub).toBe(claims.sub);
  expect(again.claims()!.auth_time).toBe(claims.auth_time);

  // RP-initiated logout with id_token_hint ends the session and comes back.
  const signedOut = landing(page, '/signed-out');
  const state = client.randomState();
  await page.goto(client.buildEndSessionUrl(config, {
    id_token_hint: again.id_token!,
    post_logout_redirect_uri: `${passway.localUrl}/signed-out`,
    state,
  }).href);
  expect((await signedOut).searchParams.get('state')).toBe(state);

  // Now prompt=none cannot sign in silently.
  const afterLogout = await authorization(config, passway, { prompt: 'none' });
  callback = landing(page, '/callback');
  await page.goto(afterLogout.url.href);
  await expectOAuthError(redeem(config, afterLogout, await callback), 'login_required');

  // Asked again with prompt=consent, the person can refuse: the app gets access_denied.
  const refused = await authorization(config, passway, { prompt: 'consent' });
  callback = landing(page, '/callback');
  await page.goto(refused.url.href);
  await signIn(page, passway, email, { count: 2 });
  await expect(page.getByRole('heading', { name: 'Partner Reports would like to' })).toBeVisible();
  await page.getByRole('button', { name: "Don't allow" }).click();
  await expectOAuthError(redeem(config, refused, await callback), 'access_denied');
  expect(problems).toEqual([]);
});

test('openid-client: a wrong verifier, a replayed code and an unregistered redirect_uri are refused', async ({ page, passway }) => {
  const config = await discover(passway);
  const attempt = await authorization(config, passway);
  const callback = landing(page, '/callback');
  await page.goto(attempt.url.href);
  await signIn(page, passway, uniqueEmail('barbara'), { name: ['Barbara', 'Liskov'] });
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  const landed = await callback;

  // A wrong verifier is refused before the code is spent: whoever stole the code but not
  // its verifier cannot burn it for its owner, who then redeems it.
  await expectOAuthError(redeem(config, { ...attempt, verifier: client.randomPKCECodeVerifier() }, landed), 'invalid_grant');
  await redeem(config, attempt, landed);
  await expectOAuthError(redeem(config, attempt, landed), 'invalid_grant');

  // A code used twice: refused, and what its first use issued is revoked.
  const silent = await authorization(config, passway, { prompt: 'none' });
  const next = landing(page, '/callback');
  await page.goto(silent.url.href);
  const silentCallback = await next;
  const tokens = await redeem(config, silent, silentCallback);
  expect(await client.tokenIntrospection(await theApi(passway), tokens.access_token)).toMatchObject({ active: true });
  await expectOAuthError(redeem(config, silent, silentCallback), 'invalid_grant');
  expect(await client.tokenIntrospection(await theApi(passway), tokens.access_token)).toEqual({ active: false });
  await expectOAuthError(client.refreshTokenGrant(config, tokens.refresh_token!), 'invalid_grant');

  // A redirect_uri that is not registered is never redirected to: a branded error page.
  const foreign = await authorization(config, passway, { redirect_uri: 'https://attacker.example/callback' });
  const response = await page.goto(foreign.url.href);
  expect(response!.status()).toBe(400);
  await expect(page.getByRole('heading', { name: 'Sign-in could not start' })).toBeVisible();
});

test('openid-client: client_credentials gets a JWT access token for the app itself', async ({ passway }) => {
  const config = await discover(passway);
  const grant = await client.clientCredentialsGrant(config, { scope: 'reports:read' });
  expect(grant.token_type.toLowerCase()).toBe('bearer');
  expect(grant.scope).toBe('reports:read');
  const [header, payload] = grant.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
  expect(payload).toMatchObject({ iss: passway.baseUrl, aud: REPORTS_API.resource, sub: PARTNER.clientId, client_id: PARTNER.clientId, scope: 'reports:read' });
  expect(await client.tokenIntrospection(await theApi(passway), grant.access_token)).toMatchObject({ active: true, client_id: PARTNER.clientId });
  await expectOAuthError(client.clientCredentialsGrant(config, { scope: 'reports:write' }), 'invalid_scope');
});

test('step-up: acr_values=phr asks an email-only session for a passkey, and nothing else', async ({ page, passway, problems }) => {
  const config = await discover(passway);
  const email = uniqueEmail('grace');
  await virtualAuthenticator(page);

  // Signed in by email: one factor.
  const first = await authorization(config, passway);
  let callback = landing(page, '/callback');
  await page.goto(first.url.href);
  await signIn(page, passway, email, { name: ['Grace', 'Hopper'] });
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  const emailOnly = (await redeem(config, first, await callback)).claims()!;
  expect(emailOnly.amr).toEqual(['email']);
  expect(emailOnly.acr).toBe('urn:passway:loa:1fa');

  // The app asks for phishing resistance: the session counts, only a passkey is missing,
  // and she has none, so she creates one; nothing can be skipped, no email is sent.
  const mailsBefore = (await passway.mails(email)).length;
  const second = await authorization(config, passway, { acr_values: 'phr' });
  callback = landing(page, '/callback');
  await page.goto(second.url.href);
  await expect(page.getByRole('heading', { name: 'Create a passkey to continue' })).toBeVisible();
  await expect(page.getByText('Partner Reports asks for a passkey: it proves it is you in a way that cannot be phished.', { exact: false })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Not now' })).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath('step-up.png') });
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  const stepped = (await redeem(config, second, await callback)).claims()!;
  expect(stepped.acr).toBe('phr');
  expect(stepped.amr).toEqual(['email', 'pop']);
  // The stronger session is a new one (a new cookie, a new sid): whoever knew the old
  // cookie does not inherit it.
  expect(stepped.sid).not.toBe(emailOnly.sid);
  expect((await passway.mails(email)).length).toBe(mailsBefore);

  // The session now carries the passkey: asking again needs nothing more.
  const third = await authorization(config, passway, { acr_values: 'phr', prompt: 'none' });
  callback = landing(page, '/callback');
  await page.goto(third.url.href);
  expect((await redeem(config, third, await callback)).claims()!.acr).toBe('phr');
  expect(problems).toEqual([]);
});

test('progressive profiling: the checkout asks for a mailing address once, before success', async ({ page, passway, problems }) => {
  const config = await discover(passway, CHECKOUT.clientId);
  const redirect = passway.localUrl + '/checkout/callback';
  const email = uniqueEmail('ada');

  // Registration asks only for the name; the checkout then needs an address.
  const first = await authorization(config, passway, { scope: 'openid profile email' }, redirect);
  let callback = landing(page, '/checkout/callback');
  await page.goto(first.url.href);
  await signInByCode(page, passway, email, { name: ['Ada', 'Lovelace'] });
  await expect(page.getByRole('heading', { name: 'A little more about you' })).toBeVisible();
  await expect(page.getByText('Globex Checkout needs this to continue.', { exact: false })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Not now' })).toHaveCount(0);
  await page.getByLabel('Street address').fill('12 St James\'s Square');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByText('This field is required.')).toBeVisible();
  await expect(page.getByLabel('Street address')).toHaveValue('12 St James\'s Square');
  await page.getByLabel('City').fill('London');
  await page.screenshot({ path: test.info().outputPath('profile-update.png') });
  await page.getByRole('button', { name: 'Continue' }).click();
  // Then the usual passkey offer, declined.
  await page.getByRole('button', { name: 'Not now' }).click();
  const claims = (await redeem(config, first, await callback)).claims()!;
  expect(claims).toMatchObject({ given_name: 'Ada', street_address: '12 St James\'s Square', locality: 'London' });

  // Signing in again (prompt=login): the address is on the account, nothing is asked.
  const second = await authorization(config, passway, { scope: 'openid profile', prompt: 'login' }, redirect);
  callback = landing(page, '/checkout/callback');
  await page.goto(second.url.href);
  await signIn(page, passway, email, { count: 2 });
  expect((await redeem(config, second, await callback)).claims()!.locality).toBe('London');
  expect(problems).toEqual([]);
});

