// Custom domains: the same page, served from two host names Passway maps to two brands
// ([themes.hostnames]), shows the widget in each domain's brand, and the magic link in
// the email leads back to the domain the sign-in started on; a passkey made there is for
// that domain's relying party, and signs in there.
import { chromium } from '@playwright/test';
import { test, expect, startPassway, uniqueEmail, signInByCode, virtualAuthenticator } from './passway';

test('each custom domain shows its brand, its emails link back to it, and its passkeys are its own', async ({}, testInfo) => {
  const hosts = (port: number) => [`http://id.globex.test:${port}`, `http://login.acme.test:${port}`];
  const passway = await startPassway({
    extraRedirects: (port) => hosts(port).map((h) => `${h}/demo/website/`),
    // Globex's domain has its own passkey relying party.
    extraApps: (port) => `[themes.hostnames]\n"id.globex.test" = "globex"\n"login.acme.test" = "acme"\n`
      + `[passkeys.brands.globex]\nrp_id = "id.globex.test"\norigins = ["http://id.globex.test:${port}"]\n`,
  });
  const port = Number(new URL(passway.baseUrl).port);
  const [globex, acme] = hosts(port);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // Resolved to this machine, and secure as TLS would make them (PKCE needs WebCrypto).
    args: [
      ...(testInfo.project.use.launchOptions?.args ?? []),
      '--host-resolver-rules=MAP *.test 127.0.0.1',
      `--unsafely-treat-insecure-origin-as-secure=${globex},${acme}`,
    ],
  });
  try {
    const page = await browser.newPage();
    const primary = () => page.locator('passway-signin .pw-button--primary').first().evaluate((b) => getComputedStyle(b).backgroundColor);

    // Acme Shop's page, on Globex's domain: Globex's brand.
    await page.goto(`${globex}/demo/website/`);
    await expect(page.getByLabel('Email')).toBeVisible();
    expect(await primary()).toBe('rgb(15, 118, 110)');
    const email = uniqueEmail('domains');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    const mail = await passway.mail(email);
    expect(mail.text).toContain(`${globex}/email/verify?t=`);

    // A passkey made on Globex's domain is for Globex's relying party, and signs in there.
    const authenticator = await virtualAuthenticator(page);
    await page.goto(`${globex}/demo/website/`);
    const member = uniqueEmail('member');
    await signInByCode(page, passway, member, { name: ['Gia', 'Globex'] });
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Gia!' })).toBeVisible();
    const [credential] = await authenticator.credentials();
    expect(credential.rpId).toBe('id.globex.test');
    // Signed out and back: the browser's passkey autofill signs in on that domain.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Gia!' })).toBeVisible();
    expect((await authenticator.credentials())[0].signCount).toBeGreaterThan(credential.signCount);

    // The same page on Acme's domain: Acme's brand.
    await page.goto(`${acme}/demo/website/`);
    await expect(page.getByLabel('Email')).toBeVisible();
    expect(await primary()).toBe('rgb(185, 60, 11)');
  } finally {
    await browser.close();
    passway.stop();
  }
});
