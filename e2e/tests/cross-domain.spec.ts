// A website on another domain embeds the widget and uses passkeys: the same-site RP ID
// approach. The shop is at shop.passway.test, Passway at auth.passway.test, and
// passkeys are scoped to passway.test, a registrable domain both share. Chromium
// resolves both names to this machine and treats them as secure (WebAuthn needs a
// secure context), as real DNS and TLS would.
import { chromium } from '@playwright/test';
import { test, expect, signInByCode, uniqueEmail, startPassway } from './passway';

test('a shop on its own domain embeds the widget and signs in with a passkey', async ({}, testInfo) => {
  const passway = await startPassway({
    host: 'auth.passway.test',
    rpId: 'passway.test',
    extraOrigins: (port) => [`http://shop.passway.test:${port}`],
    extraRedirects: (port) => [`http://shop.passway.test:${port}/demo/partner/`],
  });
  const port = new URL(passway.baseUrl).port;
  const shop = `http://shop.passway.test:${port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      ...(testInfo.project.use.launchOptions?.args ?? []),
      '--host-resolver-rules=MAP *.passway.test 127.0.0.1',
      `--unsafely-treat-insecure-origin-as-secure=${shop},${passway.baseUrl}`,
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${shop}/demo/partner/`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const email = uniqueEmail('partner');
    await signInByCode(page, passway, email, { name: ['Noor', 'Tester'] });
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await expect(page.getByRole('heading', { name: 'Welcome, Noor!' })).toBeVisible();

    // Back later: autofill signs in with the passkey created on the shop's domain.
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Welcome, Noor!' })).toBeVisible();

    // The same passkey works on the hosted page of auth.passway.test.
    await page.goto(`${passway.baseUrl}/oauth2/v1/authorize?response_type=code&client_id=acme-shop&redirect_uri=${encodeURIComponent(`${shop}/demo/partner/`)}&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`);
    await expect(page).toHaveURL(new RegExp(`^${shop}/demo/partner/\\?code=`));
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    passway.stop();
  }
});
