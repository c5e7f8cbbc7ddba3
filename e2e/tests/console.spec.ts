// The admin console: an operator (in the console group) signs in to Passway itself,
// finds a user, ends their sessions, and the user is signed out in their own browser.
import AxeBuilder from '@axe-core/playwright';
import { test, expect, signInByCode, uniqueEmail } from './passway';

test('an operator finds a user and ends their sessions; the user is signed out', async ({ page, passway, browser, problems }) => {
  // The user, signed in at the shop in their own browser.
  const email = uniqueEmail('linus');
  const theirs = await browser.newContext();
  const them = await theirs.newPage();
  await them.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(them, passway, email, { name: ['Linus', 'Pauling'] });
  await them.getByRole('button', { name: 'Not now' }).click();
  await expect(them.getByRole('heading', { name: 'Welcome, Linus!' })).toBeVisible();

  // The operator: not signed in, the console sends them to sign in first (the console
  // makes no accounts: theirs exists).
  const operator = `ops.${Date.now()}@admins.example`;
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(page, passway, operator, { name: ['Ada', 'Operator'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto(`${passway.baseUrl}/admin`);
  await expect(page).toHaveURL(/\/signin\?flow=/);
  await signInByCode(page, passway, operator, { count: 2 });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Passway admin', exact: true })).toBeVisible();
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);

  await page.getByLabel('Email starts with').fill(email);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: email }).click();
  await expect(page.getByRole('heading', { name: email })).toBeVisible();
  await expect(page.locator('#user-sessions li')).toHaveCount(1);
  await expect(page.locator('#user-events')).toContainText('user.session.start');
  await page.getByRole('button', { name: 'End all sessions' }).click();
  await expect(page.getByRole('status')).toContainText(`End all sessions: done for ${email}`);
  await expect(page.locator('#user-sessions')).toContainText('No live session');
  await expect(page.locator('#log-events')).toContainText('user.session.clear', { timeout: 10_000 });
  // Again with the lists full: a region that scrolls must be reachable by keyboard.
  expect(await page.locator('#log-events').evaluate((list) => list.scrollHeight > list.clientHeight)).toBe(true);
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);
  await page.screenshot({ path: 'test-results/console.png', fullPage: true });

  // In their browser: signed out (the account page asks who they are).
  await them.goto(`${passway.baseUrl}/account?app=acme-shop`);
  await expect(them.getByLabel('Email')).toBeVisible();
  await theirs.close();

  // Someone outside the group gets no console.
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(strangerPage, passway, uniqueEmail('eve'), { name: ['Eve', 'Outsider'] });
  await strangerPage.getByRole('button', { name: 'Not now' }).click();
  await strangerPage.goto(`${passway.baseUrl}/admin`);
  await expect(strangerPage.getByRole('alert')).toContainText('is not in the group admins');
  const api = await strangerPage.request.get(`${passway.baseUrl}/api/v1/admin/users`, { headers: { 'x-passway-console': '1' } });
  expect(api.status()).toBe(401);
  await stranger.close();
  expect(problems).toEqual([]);
});
