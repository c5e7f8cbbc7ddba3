// A real Passway server per test worker: the built `passway` binary, on a free port
// of 127.0.0.1, a fresh SQLite file, the demo site and themes, dev mailbox on. It
// stops when its standard input closes, so it cannot outlive the tests.
import { test as base, expect, type Page, type BrowserContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

/**
 * A confidential app that asks for consent, signs with RS256 and may use
 * client_credentials: the relying party of the openid-client tests. Its callback and
 * signed-out pages are on 127.0.0.1 (the tests intercept them; nothing serves them).
 */
/** A public client (no secret, PKCE) that needs a mailing address before checkout. */
export const CHECKOUT = { clientId: 'globex-checkout' };
/** The account page's app in the tests: passwords and authenticator apps, security notices on. */
export const ACCOUNT = { clientId: 'globex-account' };
/** A public client with passwords and an authenticator app that asks for two factor types. */
export const VAULT = { clientId: 'globex-vault' };
export const PARTNER = { clientId: 'partner-reports', secret: 'e2e-only-partner-reports-secret-not-for-production' };
/** The API Partner Reports' tokens are for: it alone may introspect them. */
export const REPORTS_API = {
  clientId: 'reports-api',
  secret: 'e2e-only-reports-api-secret-not-for-production',
  resource: 'https://reports.example/api',
};

export interface Mail { id: number; to: string; subject: string; text: string; html: string; sent_at: string }

export class Passway {
  /**
   * `baseUrl` is where browsers reach it (a host name); `localUrl` where this process
   * does (127.0.0.1: test host names resolve only inside Chromium).
   */
  constructor(readonly baseUrl: string, readonly localUrl: string, private readonly child: ChildProcess, private readonly dir: string) {}

  /** Emails to `to`, newest first. */
  async mails(to: string): Promise<Mail[]> {
    const response = await fetch(`${this.localUrl}/dev/mailbox/messages?to=${encodeURIComponent(to)}`);
    return response.json();
  }

  /** Waits for the `count`-th email to `to` and returns it. */
  async mail(to: string, count = 1): Promise<Mail> {
    let mails: Mail[] = [];
    await expect.poll(async () => (mails = await this.mails(to)).length, { message: `email #${count} to ${to}` }).toBeGreaterThanOrEqual(count);
    return mails[0];
  }

  stop(): void {
    this.child.stdin?.end();
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const codeOf = (mail: Mail): string => /code: (\d{6})/.exec(mail.text)![1];
export const linkOf = (mail: Mail): string => /(https?:\/\/\S+\/email\/verify\?t=\S+)/.exec(mail.text)![1];
export const uniqueEmail = (who: string): string => `${who}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

export interface StartOptions {
  /** Host name browsers use (default localhost). */
  host?: string;
  /** Passkey RP ID (default localhost). */
  rpId?: string;
  /** More web origins allowed to embed the widget (and use passkeys). */
  extraOrigins?: (port: number) => string[];
  extraRedirects?: (port: number) => string[];
  /** More `[[apps]]` entries and tables (TOML), or a function of the port that makes them. */
  extraApps?: string | ((port: number) => string);
}

export interface ConfigOptions extends StartOptions {
  /** The store (default: a fresh SQLite file in `dir`). */
  storeUrl?: string;
}

/**
 * The test configuration for a server browsers reach on `port` (the issuer's), with its
 * data in `dir`: the demo site and themes, dev mailbox on, and the test apps.
 */
export function passwayConfig(port: number, dir: string, options: ConfigOptions = {}): string {
  // A host name, not an IP: WebAuthn scopes passkeys to a domain (the RP ID).
  const base = `http://${options.host ?? 'localhost'}:${port}`;
  const extraOrigins = options.extraOrigins?.(port) ?? [];
  const list = (xs: string[]) => `[${xs.map((x) => `"${x}"`).join(', ')}]`;
  const origins = list([base, `http://127.0.0.1:${port}`, ...extraOrigins]);
  const extraRedirects = (options.extraRedirects?.(port) ?? []).map((r) => `, "${r}"`).join('');
  return `
listen = "127.0.0.1:${port}"
issuer = "${base}"
dev_mode = true
data_dir = "${dir}"
[store]
url = "${options.storeUrl ?? `sqlite://${dir}/e2e.db`}"
[[profile.attributes]]
name = "given_name"
required = true
[[profile.attributes]]
name = "family_name"
required = true
[[profile.attributes]]
name = "street_address"
label = "Street address"
at_registration = false
[[profile.attributes]]
name = "locality"
label = "City"
at_registration = false
[admin]
console_group = "admins"
[groups.admins]
domains = ["admins.example"]
[passkeys]
rp_id = "${options.rpId ?? 'localhost'}"
origins = ${list(extraOrigins)}
[themes]
dir = "${REPO}/themes"
[widget]
dir = "${REPO}/dist/widget"
[demo]
dir = "${REPO}/examples/demo/site"
[[apps]]
client_id = "acme-shop"
name = "Acme Shop"
brand = "acme"
redirect_uris = ["${base}/demo/website/", "http://127.0.0.1:${port}/demo/website/"${extraRedirects}]
post_logout_redirect_uris = ["${base}/demo/website/", "http://127.0.0.1:${port}/demo/website/"${extraRedirects}]
allowed_origins = ${origins}
[[apps]]
client_id = "globex-portal"
name = "Globex Portal"
brand = "globex"
redirect_uris = ["${base}/demo/app/", "http://127.0.0.1:${port}/demo/app/"]
post_logout_redirect_uris = ["${base}/demo/app/", "http://127.0.0.1:${port}/demo/app/"]
allowed_origins = ${origins}
[[apps]]
client_id = "${PARTNER.clientId}"
name = "Partner Reports"
consent = true
client_secret_hashes = ["sha256:${createHash('sha256').update(PARTNER.secret).digest('base64url')}"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
signing_alg = "RS256"
api_scopes = ["reports:read"]
audience = "${REPORTS_API.resource}"
redirect_uris = ["http://127.0.0.1:${port}/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:${port}/signed-out"]
[[apps]]
client_id = "${REPORTS_API.clientId}"
name = "Reports API"
client_secret_hashes = ["sha256:${createHash('sha256').update(REPORTS_API.secret).digest('base64url')}"]
grant_types = ["client_credentials"]
resource = "${REPORTS_API.resource}"
[[apps]]
client_id = "${CHECKOUT.clientId}"
name = "Globex Checkout"
brand = "globex"
redirect_uris = ["http://127.0.0.1:${port}/checkout/callback"]
[[apps.profile]]
attribute = "street_address"
required = true
[[apps.profile]]
attribute = "locality"
required = true
[[apps]]
client_id = "${VAULT.clientId}"
name = "Globex Vault"
brand = "globex"
redirect_uris = ["http://127.0.0.1:${port}/vault/callback"]
passkeys = "off"
passwords = "optional"
totp = "optional"
[[apps.sign_on]]
name = "Two factor types"
factors = 2
[[apps]]
client_id = "${ACCOUNT.clientId}"
name = "Globex Account"
brand = "globex"
redirect_uris = ["http://127.0.0.1:${port}/account/callback"]
passwords = "optional"
totp = "optional"
emails = ["password_changed", "authenticator_added", "authenticator_removed"]
${typeof options.extraApps === 'function' ? options.extraApps(port) : options.extraApps ?? ''}
`;
}

export async function startPassway(options: StartOptions = {}): Promise<Passway> {
  const port = await freePort();
  const base = `http://${options.host ?? 'localhost'}:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'passway-e2e-'));
  const config = passwayConfig(port, dir, options);
  const configPath = join(dir, 'passway.toml');
  writeFileSync(configPath, config);
  const bin = process.env.PASSWAY_BIN ?? `${REPO}/target/debug/passway`;
  const child = spawn(bin, ['--config', configPath, 'serve', '--stop-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`passway did not start:\n${log}`)), 20_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('listening on')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`passway exited (${code}):\n${log}`)); });
  });
  return new Passway(base, `http://127.0.0.1:${port}`, child, dir);
}

/**
 * Signs in on the current page — embedded widget or hosted page — with the emailed code
 * (the `count`-th email to `email`) and, for a new account, fills in `name`. Stops where
 * the journey goes on: a passkey offer, consent, or back at the app.
 */
export async function signInByCode(page: Page, passway: Passway, email: string, options: { count?: number; name?: [string, string] } = {}) {
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(codeOf(await passway.mail(email, options.count ?? 1)));
  await page.getByRole('button', { name: 'Verify' }).click();
  if (options.name) {
    await page.getByLabel('Given name').fill(options.name[0]);
    await page.getByLabel('Family name').fill(options.name[1]);
    await page.getByRole('button', { name: 'Sign up' }).click();
  }
}

/** The shop's Sign out, which also ends the Passway session (RP-initiated logout). */
/**
 * A CDP virtual authenticator in `page`: a platform authenticator with user
 * verification, answering requests by itself while presence is on.
 */
export async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    /** With presence off, requests (autofill included) wait instead of being answered. */
    presence: (on: boolean) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: on }),
  };
}

export async function signOutOfShop(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Hand-made goods, delivered.' })).toBeVisible();
}

/** Fails the test on any Content-Security-Policy violation or uncaught page error. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

export const test = base.extend<{ problems: string[] }, { passway: Passway }>({
  passway: [async ({}, use) => {
    const passway = await startPassway();
    await use(passway);
    passway.stop();
  }, { scope: 'worker' }],
  problems: async ({ page }, use) => {
    const problems = watchForProblems(page);
    await use(problems);
    expect(problems, 'no CSP violations or page errors').toEqual([]);
  },
});

export { expect };
export type { Page, BrowserContext };
