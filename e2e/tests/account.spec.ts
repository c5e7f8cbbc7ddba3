// The hosted account page: a signed-in person changes their profile, adds a passkey
// and renames it, signs out their other browser, and deletes their account.
import AxeBuilder from '@axe-core/playwright';
import { ACCOUNT, test, expect, signInByCode, uniqueEmail, virtualAuthenticator } from './passway';

test('the account page: profile, a passkey, other sessions, deletion', async ({ page, passway, browser, problems }) => {
  const email = uniqueEmail('grace');
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(page, passway, email, { name: ['Grace', 'Hopper'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();
  // The shop links to the account page, in its brand.
  await page.getByRole('link', { name: 'Your account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await expect(page.locator('head link[rel=stylesheet]')).toHaveAttribute('href', '/themes/acme/theme.css');

  // Another browser signed in to the same account.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(otherPage, passway, email, { count: 2 });
  await otherPage.getByRole('button', { name: 'Not now' }).click();
  await expect(otherPage.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();

  await page.goto(`${passway.baseUrl}/account?app=${ACCOUNT.clientId}`);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);

  await page.getByLabel('Given name').fill('Amazing Grace');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();

  // A passkey: added (the sign-up a moment ago is proof enough), then renamed.
  await virtualAuthenticator(page);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Remove Headless Chrome on Linux · .* · never used$/ })).toBeVisible();
  await page.getByRole('combobox', { name: 'Sign-in method' }).selectOption({ index: 1 });
  await page.getByLabel('New name').fill('Work laptop');
  await page.getByRole('button', { name: 'Rename', exact: true }).click();
  await expect(page.getByRole('button', { name: /^Remove Work laptop · / })).toBeVisible();
  await expect.poll(async () => (await passway.mails(email)).map((m) => m.subject))
    .toContain('A new way to sign in was added to your Globex Account account');
  await page.screenshot({ path: 'test-results/account-home.png', fullPage: true });
  await expect(page.locator('head link[rel=stylesheet]')).toHaveAttribute('href', '/themes/globex/theme.css');

  // Signed out everywhere else: the other browser is asked to sign in again.
  // Removing it: the proof is still fresh; the owner hears of it.
  await page.getByRole('button', { name: /^Remove Work laptop · / }).click();
  await expect(page.getByText('Removed.')).toBeVisible();
  await expect.poll(async () => (await passway.mails(email)).map((m) => m.subject))
    .toContain('A way to sign in was removed from your Globex Account account');

  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await expect(page.getByText('Every other session is signed out.')).toBeVisible();
  await otherPage.goto(`${passway.baseUrl}/account?app=${ACCOUNT.clientId}`);
  await expect(otherPage.getByLabel('Email')).toBeVisible();
  await other.close();

  await page.getByRole('button', { name: 'Delete my account' }).click();
  await expect(page.getByText('Tick this box to continue.')).toBeVisible();
  await page.getByLabel('I understand that my account and everything in it will be deleted for good').check();
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account is deleted' })).toBeVisible();
  await page.goto(`${passway.baseUrl}/account?app=${ACCOUNT.clientId}`);
  await expect(page.getByLabel('Email')).toBeVisible();
  expect(problems).toEqual([]);
});
