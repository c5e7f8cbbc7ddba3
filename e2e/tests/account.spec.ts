// The hosted account page: a signed-in person changes their profile, adds a passkey
// and renames it, signs out their other browser, and deletes their account.
import AxeBuilder from '@axe-core/playwright';
import { test, expect, signInByCode, uniqueEmail, virtualAuthenticator } from './passway';

test('the account page: profile, a passkey, other sessions, deletion', async ({ page, passway, browser }) => {
  const email = uniqueEmail('grace');
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(page, passway, email, { name: ['Grace', 'Hopper'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();

  await page.goto(`${passway.baseUrl}/account?app=acme-shop`);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await page.screenshot({ path: 'test-results/account-home.png', fullPage: true });
});
