// Passkeys in Chromium, with the DevTools Protocol's virtual authenticator (a platform
// authenticator with user verification): register by email, enrol a passkey, sign
// out, sign in with it — identifier first, and through autofill — in the embedded
// widget and on the hosted page.
import { test, expect, signInByCode, signOutOfShop, uniqueEmail, virtualAuthenticator, type Page, type Passway } from './passway';

/** Signs up by emailed code on the current page (embedded or hosted), then creates a passkey. */
async function registerAndEnrol(page: Page, passway: Passway, email: string, name: string) {
  await signInByCode(page, passway, email, { name: [name, 'Tester'] });
  await expect(page.getByRole('heading', { name: 'Sign in faster next time' })).toBeVisible();
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Create a passkey' })).toBeVisible();
  await page.getByRole('button', { name: 'Create a passkey' }).click();
}

test('embedded: enrol a passkey, then sign in with it identifier-first and through autofill', async ({ page, passway, problems }) => {
  const email = uniqueEmail('pk');
  await page.goto(`${passway.baseUrl}/demo/website/`);
  const authenticator = await virtualAuthenticator(page);
  await registerAndEnrol(page, passway, email, 'Kim');
  await expect(page.getByRole('heading', { name: 'Welcome, Kim!' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText('"pop"');
  const credentials = await authenticator.credentials();
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // Sign out; identifier first: no autofill answer while presence is off.
  await authenticator.presence(false);
  await signOutOfShop(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in with your passkey' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Email me a link and a code' })).toBeVisible();
  await authenticator.presence(true);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, Kim!' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText('"pop"');

  // Sign out; autofill: the passkey is offered on the identifier field and answered.
  await signOutOfShop(page);
  await expect(page.getByRole('heading', { name: 'Welcome, Kim!' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('hosted page: enrol a passkey, sign out, sign in with it through the button', async ({ page, passway }) => {
  const email = uniqueEmail('pkh');
  await page.goto(`${passway.baseUrl}/demo/app/`);
  await virtualAuthenticator(page);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await registerAndEnrol(page, passway, email, 'Lin');
  await expect(page.getByRole('heading', { name: 'Hello, Lin Tester' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText('"pop"');

  await page.getByRole('button', { name: 'Sign out' }).click();
  // A browser without autofill for passkeys: a pending autofill request could otherwise
  // be the one the virtual authenticator answers, and the button would go untested.
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  // Passkey first, without typing anything: the button runs a modal request.
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Lin Tester' })).toBeVisible();
});

test('hosted page: autofill signs in a returning passkey user', async ({ page, passway }) => {
  const email = uniqueEmail('pka');
  await page.goto(`${passway.baseUrl}/demo/app/`);
  await virtualAuthenticator(page);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await registerAndEnrol(page, passway, email, 'Ana');
  await expect(page.getByRole('heading', { name: 'Hello, Ana Tester' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  // Conditional mediation is answered by the virtual authenticator: no click needed.
  await expect(page.getByRole('heading', { name: 'Hello, Ana Tester' })).toBeVisible();
});

test('a cancelled passkey request says so and leaves another way', async ({ page, passway }) => {
  const email = uniqueEmail('pkc');
  await page.goto(`${passway.baseUrl}/demo/website/`);
  const authenticator = await virtualAuthenticator(page);
  await registerAndEnrol(page, passway, email, 'Mo');
  await expect(page.getByRole('heading', { name: 'Welcome, Mo!' })).toBeVisible();
  await authenticator.presence(false);
  await signOutOfShop(page);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in with your passkey' })).toBeVisible();
  // What the browser answers when the person dismisses its passkey dialog.
  await page.evaluate(() => {
    navigator.credentials.get = () => Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
  });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByText('The passkey request was cancelled or timed out. Try again, or use another way.')).toBeVisible();
  await page.getByRole('button', { name: 'Email me a link and a code' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
});

test('a browser without WebAuthn is told so, and email still works', async ({ page, passway }) => {
  await page.addInitScript(() => {
    // @ts-expect-error: simulating a browser without WebAuthn
    delete window.PublicKeyCredential;
  });
  await page.goto(`${passway.baseUrl}/demo/website/`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByText('This browser cannot use passkeys here. Use another way to sign in.')).toBeVisible();
  await page.getByLabel('Email').fill(uniqueEmail('nowebauthn'));
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
});
