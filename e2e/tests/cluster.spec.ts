// The hosted flow through a load balancer in strict round-robin, in front of three
// instances sharing one PostgreSQL database (see cluster.ts): every request lands on
// another instance, so nothing a step needs may live in one instance's memory. Where a
// test says "on another instance", the request is sent there on purpose (the
// X-Cluster-Instance header); everything else goes round the instances in turn.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { test, expect, Cluster, INSTANCES, PIN, type Instance } from './cluster';
import { codeOf, linkOf, signInByCode, uniqueEmail, virtualAuthenticator, ACCOUNT, PARTNER, REPORTS_API, VAULT, type Page } from './passway';

test.skip(!process.env.PASSWAY_TEST_POSTGRES_URL, 'PASSWAY_TEST_POSTGRES_URL is not set: the cluster runs on PostgreSQL');

const PASSWORD = 'correct horse battery staple';

/** The instance that served the next flow step (a POST to the flow API) `act` causes. */
async function step(page: Page, act: () => Promise<void>, on?: Instance): Promise<Instance> {
  if (on) await page.setExtraHTTPHeaders({ [PIN]: on });
  const response = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/v1/flows/'));
  await act();
  const servedBy = Cluster.servedBy(await response);
  if (on) await page.setExtraHTTPHeaders({});
  return servedBy;
}

// ---- Tokens and keys, without a browser -------------------------------------------

const basic = (c: { clientId: string; secret: string }) => `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`;

/** An access token for Partner Reports (RS256), signed by the instance at `url`. */
async function partnerToken(url: string): Promise<string> {
  const response = await fetch(`${url}/oauth2/v1/token`, {
    method: 'POST',
    headers: { authorization: basic(PARTNER), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'reports:read' }),
  });
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.access_token;
}

/** Whether the instance at `url` says `token` is active (it checks the signature). */
async function active(url: string, token: string): Promise<boolean> {
  const response = await fetch(`${url}/oauth2/v1/introspect`, {
    method: 'POST',
    headers: { authorization: basic(REPORTS_API), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  expect(response.status).toBe(200);
  return (await response.json()).active === true;
}

const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid;

async function publishedKids(url: string): Promise<string[]> {
  const jwks = await (await fetch(`${url}/oauth2/v1/keys`)).json();
  return jwks.keys.map((k: { kid: string }) => k.kid);
}

/**
 * A token from each instance, checked by every instance: any instance's key must verify
 * everywhere. Returns the tokens and the kids that signed them.
 */
async function tokensVerifyEverywhere(cluster: Cluster): Promise<{ tokens: string[]; kids: string[] }> {
  const tokens = await Promise.all(cluster.instances.map((i) => partnerToken(i.url)));
  for (const [n, token] of tokens.entries()) {
    for (const checker of cluster.instances) {
      expect(await active(checker.url, token), `a token signed by ${cluster.instances[n].name} (kid ${kidOf(token)}) verifies on ${checker.name}`).toBe(true);
    }
  }
  return { tokens, kids: tokens.map(kidOf) };
}

test('signing keys: instances started at once on a fresh database verify each other\'s tokens', async ({ cluster }) => {
  // The fixture started the three instances at once, as an orchestrator starts replicas:
  // whichever made the first signing key, what each signs verifies on every one, and
  // each publishes it.
  const { kids } = await tokensVerifyEverywhere(cluster);
  for (const i of cluster.instances) expect(await publishedKids(i.url), `${i.name}'s JWKS`).toEqual(expect.arrayContaining(kids));
  expect(new Set(kids).size, `every instance signs with the same key (${kids.join(', ')})`).toBe(1);
  // A first key signs from the instant it is made; a successor is published ahead.
  expect(cluster.sql(`SELECT alg || ': ' || count(*) FROM signing_keys WHERE activates_at <= created_at GROUP BY alg ORDER BY alg`).split('\n'), 'one first key per algorithm was made')
    .toEqual(['ES256: 1', 'RS256: 1']);
});

test('key rotation: every instance publishes a new key before it signs, then what each signs verifies on the others', async ({ cluster }) => {
  test.setTimeout(120_000);
  const before = await Promise.all(cluster.instances.map((i) => partnerToken(i.url)));

  // An operator rotates (`passway keys rotate`, as the README says). A new key is
  // published at once and signs after [keys] publish_ahead_hours (at least an hour). The
  // test cannot wait an hour: it brings the new keys' start forward to 66 s from now —
  // still more than the minute within which instances pick up new keys.
  const stored = () => cluster.sql('SELECT kid FROM signing_keys').split('\n');
  const old = stored();
  const rotated = cluster.passway('keys', 'rotate');
  const fresh = stored().filter((k) => !old.includes(k));
  expect(fresh.length, `passway keys rotate made keys:\n${rotated}`).toBeGreaterThan(0);
  const signsAt = Date.now() + 66_000;
  cluster.sql(`UPDATE signing_keys SET activates_at = ${signsAt} WHERE kid IN (${fresh.map((k) => `'${k}'`).join(', ')})`);
  cluster.sql(`UPDATE signing_keys SET retires_at = ${signsAt} WHERE retires_at IS NOT NULL AND retires_at > ${signsAt}`);

  // Every instance publishes the new keys before they sign.
  const rotatedAt = Date.now();
  for (const i of cluster.instances) {
    await expect.poll(() => publishedKids(i.url), {
      message: `${i.name} publishes the new keys before they sign`,
      timeout: Math.max(signsAt - Date.now() - 2000, 1000),
      intervals: [1000],
    }).toEqual(expect.arrayContaining(fresh));
    test.info().annotations.push({ type: 'key published', description: `${i.name}: within ${Math.round((Date.now() - rotatedAt) / 1000)} s` });
  }

  // Once they sign, what each instance signs with its new key verifies on the others,
  // and the tokens of the old keys still do.
  await new Promise((r) => setTimeout(r, Math.max(signsAt - Date.now() + 1500, 0)));
  const after = await tokensVerifyEverywhere(cluster);
  for (const kid of after.kids) expect(fresh, 'tokens are signed with the new key').toContain(kid);
  for (const [n, token] of before.entries()) {
    for (const i of cluster.instances) {
      expect(await active(i.url, token), `a token signed by ${cluster.instances[n].name} before the rotation still verifies on ${i.name}`).toBe(true);
    }
  }
});

// ---- The hosted flow, in a browser -------------------------------------------------

test('email link: the tab waiting on one instance sees the link opened on another', async ({ page, cluster, problems }) => {
  const email = uniqueEmail('hedy');
  await page.goto(`${cluster.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await page.getByLabel('Email').fill(email);
  const stream = page.waitForResponse((r) => r.url().includes('/events'));
  await page.getByRole('button', { name: 'Next' }).click();
  const waitingOn = Cluster.servedBy(await stream);
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  // The link, opened in another tab of the same browser, on another instance.
  const linkTab = await page.context().newPage();
  const openedOn = Cluster.other(waitingOn);
  await linkTab.setExtraHTTPHeaders({ [PIN]: openedOn });
  const opened = await linkTab.goto(linkOf(await cluster.mail(email)));
  expect(Cluster.servedBy(opened!)).toBe(openedOn);
  const seenAfter = Date.now();
  await expect(page.getByRole('heading', { name: 'Create your Globex Portal account' }), `the tab waiting on ${waitingOn} learns of the link opened on ${openedOn}`).toBeVisible();
  test.info().annotations.push({ type: 'event stream', description: `${waitingOn} saw the link opened on ${openedOn} after ${Date.now() - seenAfter} ms` });

  await page.getByLabel('Given name').fill('Hedy');
  await page.getByLabel('Family name').fill('Lamarr');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page).toHaveURL(`${cluster.baseUrl}/demo/app/`);
  await expect(page.getByText('ID token verified: ES256 signature, issuer, audience, nonce and expiry.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Hello, Hedy Lamarr' })).toBeVisible();
  expect(problems).toEqual([]);
});

/**
 * Other people signing in meanwhile, through the load balancer, from addresses of their
 * own: a flow started and an email asked for, every quarter of a second. Returns a
 * function that stops them and says how many steps they made, and what went wrong.
 */
function otherSignIns(cluster: Cluster): () => Promise<{ steps: number; errors: string[] }> {
  let running = true;
  let steps = 0;
  const errors: string[] = [];
  const one = async () => {
    const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': ip };
    const started = await fetch(`${cluster.localUrl}/api/v1/flows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        client_id: 'acme-shop', redirect_uri: `${cluster.baseUrl}/demo/website/`,
        code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'), code_challenge_method: 'S256',
      }),
    });
    const flow = await started.json();
    if (!started.ok) throw new Error(`starting a flow: ${started.status} ${JSON.stringify(flow)}`);
    const identify = flow.remediations.find((r: { name: string }) => r.name === 'identify');
    const field = identify.fields[0].name;
    const answered = await fetch(identify.href.replace(cluster.baseUrl, cluster.localUrl), {
      method: 'POST',
      headers: { ...headers, 'passway-binding': flow.binding },
      body: JSON.stringify({ [field]: uniqueEmail('someone') }),
    });
    if (!answered.ok) throw new Error(`identifying: ${answered.status} ${await answered.text()}`);
    steps++;
  };
  const loop = (async () => {
    while (running) await Promise.all([one().catch((e) => errors.push(String(e))), new Promise((r) => setTimeout(r, 250))]);
  })();
  return async () => {
    running = false;
    await loop;
    return { steps, errors };
  };
}

test('email link: the waiting tab learns of the link opened on another instance while others sign in', async ({ page, cluster }) => {
  const email = uniqueEmail('ada');
  await page.goto(`${cluster.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await page.getByLabel('Email').fill(email);
  const stream = page.waitForResponse((r) => r.url().includes('/events'));
  await page.getByRole('button', { name: 'Next' }).click();
  const waitingOn = Cluster.servedBy(await stream);
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  const stopOthers = otherSignIns(cluster);
  try {
    const linkTab = await page.context().newPage();
    const openedOn = Cluster.other(waitingOn);
    await linkTab.setExtraHTTPHeaders({ [PIN]: openedOn });
    await new Promise((r) => setTimeout(r, 1000)); // the others are under way
    expect(Cluster.servedBy((await linkTab.goto(linkOf(await cluster.mail(email))))!)).toBe(openedOn);
    // The stream's own poll of the flow's version is every 2 s; allow a few.
    await expect(page.getByRole('heading', { name: 'Create your Globex Portal account' }), `the tab waiting on ${waitingOn} learns of the link opened on ${openedOn} while other sign-ins go on`).toBeVisible({ timeout: 10_000 });
  } finally {
    const { steps, errors } = await stopOthers();
    test.info().annotations.push({ type: 'other sign-ins', description: `${steps} identify steps meanwhile` });
    expect(errors, 'the other sign-ins went through').toEqual([]);
  }
});

test('passkeys: enrolled across instances, then signed in with', async ({ page, cluster }) => {
  const email = uniqueEmail('lin');
  await page.goto(`${cluster.baseUrl}/demo/app/`);
  await virtualAuthenticator(page);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await signInByCode(page, cluster, email, { name: ['Lin', 'Tester'] });
  await expect(page.getByRole('heading', { name: 'Sign in faster next time' })).toBeVisible();
  // The ceremony starts on one instance and is answered on another.
  const begun = await step(page, () => page.getByRole('button', { name: 'Use a passkey' }).click());
  await expect(page.getByRole('heading', { name: 'Create a passkey' })).toBeVisible();
  const finished = await step(page, () => page.getByRole('button', { name: 'Create a passkey' }).click(), Cluster.other(begun));
  expect(finished).not.toBe(begun);
  await expect(page.getByRole('heading', { name: 'Hello, Lin Tester' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText('"pop"');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Lin Tester' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText('"pop"');
});

// ---- Passwords and an authenticator app (the vault asks for two factor types) -------

/** The code an authenticator app with this base32 secret shows in the 30-s period `period`. */
function totpAt(base32: string, period: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/\s/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(period));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const periodNow = () => Math.floor(Date.now() / 30_000);

async function openVault(page: Page, cluster: Cluster, extra = '') {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const redirect = encodeURIComponent(`${cluster.localUrl}/vault/callback`);
  await page.goto(
    `${cluster.baseUrl}/oauth2/v1/authorize?response_type=code&client_id=${VAULT.clientId}&redirect_uri=${redirect}` +
      `&scope=openid%20email&state=st&nonce=no&code_challenge=${challenge}&code_challenge_method=S256${extra}`,
  );
}

/** Where the browser is sent back to at `path`, once that page has loaded. */
async function landing(page: Page, path: string): Promise<URL> {
  const request = await page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === path);
  await page.waitForURL((url) => url.href === request.url());
  return new URL(request.url());
}

/** Signs up at the vault with a password and, if asked, an authenticator app: its secret and the period of the code spent. */
async function vaultAccount(page: Page, cluster: Cluster, email: string, withApp: boolean): Promise<{ secret: string; period: number } | undefined> {
  await openVault(page, cluster);
  await expect(page.getByText('Enter your email to continue.')).toBeVisible();
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Create your Globex Vault account' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Given name').fill('Grace');
  await page.getByLabel('Family name').fill('Hopper');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(codeOf(await cluster.mail(email)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Choose a password' })).toBeVisible();
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();
  await expect(page.getByRole('heading', { name: 'Set up an authenticator app' })).toBeVisible();
  const back = landing(page, '/vault/callback');
  if (!withApp) {
    await page.getByRole('button', { name: 'Not now' }).click();
    expect((await back).searchParams.get('code')).toBeTruthy();
    return undefined;
  }
  const secret = (await page.locator('.pw-secret').textContent())!;
  const period = periodNow();
  await page.getByLabel('Code from your authenticator app').fill(totpAt(secret, period));
  await page.getByRole('button', { name: 'Verify' }).click();
  expect((await back).searchParams.get('code')).toBeTruthy();
  return { secret, period };
}

async function toPassword(page: Page, cluster: Cluster, email: string) {
  await openVault(page, cluster, '&prompt=login');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Enter your password' })).toBeVisible();
}

test('password lockout: wrong answers on every instance add up', async ({ page, cluster }) => {
  const email = uniqueEmail('lock');
  await vaultAccount(page, cluster, email, false);
  await toPassword(page, cluster, email);
  // [lockout] attempts is 10: ten wrong answers, going round the three instances.
  const servedBy = new Set<Instance>();
  for (let n = 1; n <= 10; n++) {
    await page.getByLabel('Password').fill(`not it ${n}`);
    servedBy.add(await step(page, () => page.getByRole('button', { name: 'Sign in' }).click()));
  }
  expect([...servedBy].sort(), 'the wrong answers were checked by every instance').toEqual([...INSTANCES]);
  // Now even the right password is refused, whichever instance checks it.
  await page.getByLabel('Password').fill(PASSWORD);
  await step(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  await expect(page.getByText(/Too many wrong attempts\. Try again in \d+ minutes?, or use another way\./)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Enter your password' })).toBeVisible();
});

test('TOTP: a code accepted on one instance is refused on another', async ({ page, cluster }) => {
  const email = uniqueEmail('totp');
  const app = (await vaultAccount(page, cluster, email, true))!;
  const wrong = 'That code is not right, or was already used. Wait for the next one and try again.';

  // The code spent setting the app up: refused, though it is still current.
  await toPassword(page, cluster, email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Enter a code from your authenticator app' })).toBeVisible();
  await page.getByLabel('Code from your authenticator app').fill(totpAt(app.secret, app.period));
  await step(page, () => page.getByRole('button', { name: 'Verify' }).click());
  await expect(page.getByText(wrong)).toBeVisible();

  // A later code: accepted by one instance.
  const later = Math.max(app.period, periodNow()) + 1;
  const back = landing(page, '/vault/callback');
  await page.getByLabel('Code from your authenticator app').fill(totpAt(app.secret, later));
  const acceptedBy = await step(page, () => page.getByRole('button', { name: 'Verify' }).click());
  expect((await back).searchParams.get('code')).toBeTruthy();

  // The same code again, on another instance: refused.
  await toPassword(page, cluster, email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Enter a code from your authenticator app' })).toBeVisible();
  await page.getByLabel('Code from your authenticator app').fill(totpAt(app.secret, later));
  const replayedOn = await step(page, () => page.getByRole('button', { name: 'Verify' }).click(), Cluster.other(acceptedBy));
  expect(replayedOn).not.toBe(acceptedBy);
  await expect(page.getByText(wrong), `a code accepted by ${acceptedBy} is refused by ${replayedOn}`).toBeVisible();
});

test('rate limits: counted in the store, so every instance refuses past the limit', async ({ browser, cluster }) => {
  // One made-up client (HAProxy passes on what it is told, after it, to a trusted hop).
  const client = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
  // [rate_limits] link_opens_per_minute is 60, per client address.
  const answers: { status: number; by: Instance; retryAfter: string | null }[] = [];
  for (let n = 0; n < 66; n++) {
    const response = await fetch(`${cluster.localUrl}/email/verify?t=not-a-link-${n}`, { headers: { 'x-forwarded-for': client } });
    answers.push({ status: response.status, by: Cluster.servedBy(response), retryAfter: response.headers.get('retry-after') });
    await response.arrayBuffer();
  }
  const allowed = answers.findIndex((a) => a.status === 429);
  expect(allowed, 'some opens were refused').toBeGreaterThan(0);
  expect(allowed, 'no more than 60 opens were let through by the three instances together').toBeLessThanOrEqual(60);
  const refused = answers.slice(allowed);
  expect(refused.map((a) => a.status), 'once refused, refused everywhere').toEqual(refused.map(() => 429));
  expect(new Set(refused.map((a) => a.by)).size, 'every instance refused').toBe(3);
  expect(Number(refused[0].retryAfter)).toBeGreaterThan(0);

  // That client's browser gets the branded page; another client is not refused.
  const limited = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': client } });
  const page = await limited.newPage();
  expect((await page.goto(`${cluster.baseUrl}/email/verify?t=x`))!.status()).toBe(429);
  await expect(page.getByRole('heading', { name: 'Too many attempts' })).toBeVisible();
  await limited.close();
  const other = await fetch(`${cluster.localUrl}/email/verify?t=x`, { headers: { 'x-forwarded-for': '198.51.100.251' } });
  expect(other.status).not.toBe(429);
});

// ---- Sessions ----------------------------------------------------------------------

/**
 * A silent authorization request (prompt=none) for the account app, sent to `instance`:
 * the code if the browser's session is live there, else the error.
 */
async function silently(page: Page, cluster: Cluster, instance: Instance): Promise<URLSearchParams> {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const redirect = `${cluster.localUrl}/account/callback`;
  await page.setExtraHTTPHeaders({ [PIN]: instance });
  const back = landing(page, '/account/callback');
  await page.goto(
    `${cluster.baseUrl}/oauth2/v1/authorize?response_type=code&client_id=${ACCOUNT.clientId}&redirect_uri=${encodeURIComponent(redirect)}` +
      `&scope=openid&state=st&nonce=no&code_challenge=${challenge}&code_challenge_method=S256&prompt=none`,
  );
  const params = (await back).searchParams;
  await page.setExtraHTTPHeaders({});
  return params;
}

test('SSO across apps on every instance, and logout ends it on every instance', async ({ page, cluster, problems }) => {
  const email = uniqueEmail('katherine');
  await page.goto(`${cluster.baseUrl}/demo/website/`);
  await signInByCode(page, cluster, email, { name: ['Katherine', 'Johnson'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Katherine!' })).toBeVisible();

  // The portal signs in without a step.
  await page.goto(`${cluster.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Katherine Johnson' })).toBeVisible();
  await expect(page.getByText('ID token verified: ES256 signature, issuer, audience, nonce and expiry.')).toBeVisible();
  expect(await cluster.mails(email)).toHaveLength(1);
  // So does a third app, silently, on each instance.
  for (const instance of INSTANCES) {
    expect((await silently(page, cluster, instance)).get('code'), `the session is live on ${instance}`).toBeTruthy();
  }

  // The portal signs out (RP-initiated logout): the session ends on every instance.
  await page.goto(`${cluster.baseUrl}/demo/app/`);
  const logout = page.waitForResponse((r) => new URL(r.url()).pathname === '/oauth2/v1/logout');
  await page.getByRole('button', { name: 'Sign out' }).click();
  const loggedOutOn = Cluster.servedBy(await logout);
  await expect(page.getByRole('button', { name: 'Sign in with Globex ID' })).toBeVisible();
  for (const instance of INSTANCES) {
    expect((await silently(page, cluster, instance)).get('error'), `after logout on ${loggedOutOn}, no session on ${instance}`).toBe('login_required');
  }
  await page.goto(`${cluster.baseUrl}/demo/website/`);
  await expect(page.getByLabel('Email')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Welcome, Katherine!' })).toHaveCount(0);
  expect(problems).toEqual([]);
});
