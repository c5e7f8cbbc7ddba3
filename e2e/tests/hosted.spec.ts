// The Globex Portal signs in through the hosted page with standard OIDC (code + PKCE)
// and verifies the ID token itself (signature, issuer, audience, nonce, expiry).
import { test, expect, linkOf, signInByCode, uniqueEmail } from './passway';

test('the sample app signs up through the hosted page and receives valid tokens', async ({ page, passway, problems }) => {
  const email = uniqueEmail('hedy');
  await page.goto(`${passway.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await expect(page).toHaveURL(/\/signin\?flow=/);
  await expect(page.locator('head link[rel=stylesheet]')).toHaveAttribute('href', '/themes/globex/theme.css');
  await expect(page.getByRole('heading', { name: 'Sign in to Globex Portal' })).toBeVisible();
  await expect(page.locator('passway-signin .pw-logo')).toHaveAttribute('src', /\/themes\/globex\/logo\.svg$/);

  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  const mail = await passway.mail(email);
  const linkTab = await page.context().newPage();
  await linkTab.goto(linkOf(mail));
  await expect(page.getByRole('heading', { name: 'Create your Globex Portal account' })).toBeVisible();
  await page.getByLabel('Given name').fill('Hedy');
  await page.getByLabel('Family name').fill('Lamarr');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Not now' }).click();

  await expect(page).toHaveURL(`${passway.baseUrl}/demo/app/`);
  await expect(page.getByText('ID token verified: ES256 signature, issuer, audience, nonce and expiry.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Hello, Hedy Lamarr' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText(email);
  await expect(page.locator('#claims')).toContainText('email_verified');
  expect(problems).toEqual([]);
});

test('signing in again on the hosted page with the code', async ({ page, passway }) => {
  const email = uniqueEmail('alan');
  for (const round of [1, 2]) {
    await page.goto(`${passway.baseUrl}/demo/app/`);
    if (round === 2) await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
    await signInByCode(page, passway, email, { count: round, name: round === 1 ? ['Alan', 'Turing'] : undefined });
    await page.getByRole('button', { name: 'Not now' }).click();
    await expect(page.getByRole('heading', { name: 'Hello, Alan Turing' })).toBeVisible();
  }
});

test('an expired or unknown hosted page says so', async ({ page, passway }) => {
  await page.goto(`${passway.baseUrl}/signin?flow=unknown`);
  await expect(page.getByRole('heading', { name: 'This sign-in page has expired' })).toBeVisible();
});

test('signed in at the shop, the portal signs in without a step (SSO across apps)', async ({ page, passway }) => {
  const email = uniqueEmail('katherine');
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await signInByCode(page, passway, email, { name: ['Katherine', 'Johnson'] });
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Katherine!' })).toBeVisible();

  await page.goto(`${passway.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Katherine Johnson' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText(email);
  // One email only: the portal did not ask the person to prove anything again.
  expect(await passway.mails(email)).toHaveLength(1);
});
