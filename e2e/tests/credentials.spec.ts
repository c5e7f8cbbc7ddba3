// Passwords, an authenticator app and recovery on the hosted page, as a person does
// them: a vault app that asks for two factor types and offers an authenticator app.
import AxeBuilder from '@axe-core/playwright';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { test, expect, codeOf, uniqueEmail, VAULT, type Page, type Passway } from './passway';

const PASSWORD = 'correct horse battery staple';

/** The six-digit code an authenticator app with this base32 secret shows `steps` periods from now. */
function totp(base32: string, steps = 0): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/\s/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + steps));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Opens the vault's hosted sign-in page by a plain authorization request (code + PKCE). */
async function openVault(page: Page, passway: Passway, extra = ''): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirect = encodeURIComponent(`${passway.localUrl}/vault/callback`);
  await page.goto(
    `${passway.baseUrl}/oauth2/v1/authorize?response_type=code&client_id=${VAULT.clientId}&redirect_uri=${redirect}` +
      `&scope=openid%20email&state=st&nonce=no&code_challenge=${challenge}&code_challenge_method=S256${extra}`,
  );
  return verifier;
}

/**
 * Where the browser is sent back to: the vault's callback, with a code — once that page
 * has loaded, so the next navigation does not interrupt it (nothing serves it; fine).
 */
async function backAtVault(page: Page): Promise<URL> {
  const request = await page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === '/vault/callback');
  await page.waitForURL((url) => url.href === request.url());
  return new URL(request.url());
}

test('a password and an authenticator app, then a forgotten password', async ({ page, passway, problems }) => {
  const email = uniqueEmail('grace');

  // Sign up; once the email is proven the vault wants a second factor type: a password.
  await openVault(page, passway);
  await expect(page.getByText('Enter your email to continue.')).toBeVisible();
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Create your Globex Vault account' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Given name').fill('Grace');
  await page.getByLabel('Family name').fill('Hopper');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(codeOf(await passway.mail(email)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Choose a password' })).toBeVisible();
  await page.getByLabel('New password').fill('password1234');
  await page.getByRole('button', { name: 'Save password' }).click();
  await expect(page.getByText('This password is too common')).toBeVisible();
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();

  // Then the optional authenticator app: a QR code, and the key to type instead.
  await expect(page.getByRole('heading', { name: 'Set up an authenticator app' })).toBeVisible();
  await expect(page.locator('.pw-qr svg path')).toHaveCount(1);
  await page.screenshot({ path: test.info().outputPath('totp-setup.png') });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  const secret = (await page.locator('.pw-secret').textContent())!;
  expect(secret.replace(/ /g, '')).toMatch(/^[A-Z2-7]{32}$/);
  let back = backAtVault(page);
  await page.getByLabel('Code from your authenticator app').fill(totp(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  expect((await back).searchParams.get('code')).toBeTruthy();

  // Signing in again: the password, then a code from the app.
  await openVault(page, passway, '&prompt=login');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Enter your password' })).toBeVisible();
  await page.getByLabel('Password').fill('not it');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('That email and password do not match.')).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('password-wrong.png') });
  const wrong = await new AxeBuilder({ page }).analyze();
  expect(wrong.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Enter a code from your authenticator app' })).toBeVisible();
  back = backAtVault(page);
  // The current period's code was spent setting the app up: the next one is accepted.
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  expect((await back).searchParams.get('code')).toBeTruthy();

  // Forgot it: recovery by email, a new password, signed in.
  await openVault(page, passway, '&prompt=login');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Enter your password' })).toBeVisible();
  await page.getByRole('button', { name: 'Forgot password?' }).click();
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await page.getByRole('button', { name: 'Next' }).click();
  const mail = await passway.mail(email, 2);
  expect(mail.subject).toBe('Reset your password for Globex Vault');
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(codeOf(mail));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('reset-password.png') });
  await page.getByLabel('New password').fill('a brand new passphrase');
  back = backAtVault(page);
  // The email and the new password are the two factor types the vault asks for.
  await page.getByRole('button', { name: 'Reset password' }).click();
  expect((await back).searchParams.get('code')).toBeTruthy();
  expect(problems).toEqual([]);
});
