// Custom domains: the same page, served from two host names Passway maps to two brands
// ([themes.hostnames]), shows the widget in each domain's brand, and the magic link in
// the email leads back to the domain the sign-in started on.
import { chromium } from '@playwright/test';
import { test, expect, startPassway, uniqueEmail } from './passway';

test('each custom domain shows its brand, and its emails link back to it', async ({}, testInfo) => {
  const hosts = (port: number) => [`http://id.globex.test:${port}`, `http://login.acme.test:${port}`];
  const passway = await startPassway({
    extraRedirects: (port) => hosts(port).map((h) => `${h}/demo/website/`),
    extraApps: '[themes.hostnames]\n"id.globex.test" = "globex"\n"login.acme.test" = "acme"\n',
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

    // The same page on Acme's domain: Acme's brand.
    await page.goto(`${acme}/demo/website/`);
    await expect(page.getByLabel('Email')).toBeVisible();
    expect(await primary()).toBe('rgb(185, 60, 11)');
  } finally {
    await browser.close();
    passway.stop();
  }
});
