// Attacks tried in real browsers: a hosted page's URL opened in another browser (login
// CSRF, or a victim lured onto an attacker's flow), and an inbox flooded from many flows.
import { test, expect, signInByCode, uniqueEmail } from './passway';

test("a hosted sign-in's URL moves nothing in another browser, and its own browser finishes", async ({ page, passway, browser, problems }) => {
  const email = uniqueEmail('ida');
  await page.goto(`${passway.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await expect(page).toHaveURL(/\/signin\?flow=/);
  const planted = page.url();

  // Another browser (no cookies of the first) is sent to the same URL.
  const other = await browser.newContext();
  const victim = await other.newPage();
  const response = await victim.goto(planted);
  expect(response!.status()).toBe(403);
  await expect(victim.getByRole('heading', { name: 'This sign-in belongs to another browser' })).toBeVisible();
  await expect(victim.locator('passway-signin')).toHaveCount(0);
  await victim.screenshot({ path: test.info().outputPath('not-bound.png') });
  await other.close();

  // The browser that started it signs in as if nothing happened.
  await signInByCode(page, passway, email, { name: ['Ida', 'Rhodes'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Ida Rhodes' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('an inbox is not flooded: past ten emails an hour to an address, the widget says so', async ({ page, passway }) => {
  const email = uniqueEmail('flood');
  for (let sent = 1; sent <= 10; sent++) {
    await page.goto(`${passway.baseUrl}/demo/website/`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  }
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/Too many emails were sent to this address\. Try again in \d+ minutes\./)).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('email-limit.png') });
  expect((await passway.mails(email)).length).toBe(10);
});
