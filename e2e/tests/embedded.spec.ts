// The Acme Shop page embeds the widget with one script tag and one element, under a
// strict CSP. Sign-up and sign-in by magic link and by code, in that embedded widget.
import { test, expect, codeOf, linkOf, signOutOfShop, uniqueEmail, type Page } from './passway';

async function openShop(page: Page, base: string) {
  await page.goto(`${base}/demo/website/`);
  await expect(page.getByRole('heading', { name: 'Welcome to Acme Shop' })).toBeVisible();
}

async function identify(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
}

/** After an email sign-in, a passkey is offered (optional): decline it. */
async function declinePasskey(page: Page) {
  await expect(page.getByRole('heading', { name: 'Sign in faster next time' })).toBeVisible();
  await page.getByRole('button', { name: 'Not now' }).click();
}

test('sign up by magic link: the waiting tab continues by itself', async ({ page, passway, problems }) => {
  const email = uniqueEmail('ada');
  await openShop(page, passway.baseUrl);
  await expect(page.getByLabel('Email')).toBeFocused();
  await identify(page, email);
  await expect(page.getByText('Waiting for you to open the link')).toBeVisible();

  const mail = await passway.mail(email);
  expect(mail.subject).toBe('Confirm your email for Acme Shop');
  const linkTab = await page.context().newPage();
  await linkTab.goto(linkOf(mail));
  await expect(linkTab.getByRole('heading', { name: 'You are verified' })).toBeVisible();

  // No click in the waiting tab: server-sent events move it on.
  await expect(page.getByRole('heading', { name: 'Create your Acme Shop account' })).toBeVisible();
  await expect(page.getByText('Your email is confirmed')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expect(page.getByLabel('Email')).toHaveAttribute('readonly', '');
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Family name').fill('Lovelace');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await declinePasskey(page);
  await expect(page.getByRole('heading', { name: 'Welcome, Ada!' })).toBeVisible();
  await expect(page.locator('#claims')).toContainText(email);
  expect(problems).toEqual([]);
});

test('sign up first, then sign in again with the emailed code', async ({ page, passway }) => {
  const email = uniqueEmail('grace');
  await openShop(page, passway.baseUrl);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Create your Acme Shop account' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Given name').fill('Grace');
  await page.getByLabel('Family name').fill('Hopper');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await expect(page.getByLabel('Code')).toBeFocused();
  await page.getByLabel('Code').fill(codeOf(await passway.mail(email)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await declinePasskey(page);
  await expect(page.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();

  // The Passway session signs a returning visitor in without a step (SSO)...
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();
  // ...until the shop signs out, which ends that session too (RP-initiated logout).
  await signOutOfShop(page);
  await expect(page.getByRole('heading', { name: 'Welcome to Acme Shop' })).toBeVisible();
  await expect(page.getByLabel('Email')).toBeVisible();
  await identify(page, email);
  const mail = await passway.mail(email, 2);
  expect(mail.subject).toBe('Sign in to Acme Shop');
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(codeOf(mail));
  await page.getByRole('button', { name: 'Verify' }).click();
  await declinePasskey(page);
  await expect(page.getByRole('heading', { name: 'Welcome, Grace!' })).toBeVisible();
});

test('a wrong code is refused with a clear message bound to the field', async ({ page, passway }) => {
  const email = uniqueEmail('wrong');
  await openShop(page, passway.baseUrl);
  await identify(page, email);
  const code = codeOf(await passway.mail(email));
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill(code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  const field = page.getByLabel('Code');
  await expect(page.getByText('That code is not right. 4 attempts left.')).toBeVisible();
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toBeFocused();
  await expect(field).toHaveAccessibleDescription('That code is not right. 4 attempts left.');
  await field.fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Create your Acme Shop account' })).toBeVisible();
});

test('a replayed link is refused, and a link in another browser shows the code instead', async ({ page, browser, passway }) => {
  const email = uniqueEmail('linus');
  await openShop(page, passway.baseUrl);
  await identify(page, email);
  const mail = await passway.mail(email);

  const elsewhere = await (await browser.newContext()).newPage();
  await elsewhere.goto(linkOf(mail));
  await expect(elsewhere.getByRole('heading', { name: 'Enter this code where you started' })).toBeVisible();
  await expect(elsewhere.getByText(/requested from .*Chrome on Linux/)).toBeVisible();
  await expect(elsewhere.getByText('Acme Shop', { exact: false }).first()).toBeVisible();
  await expect(elsewhere.locator('.pw-code')).toHaveText(codeOf(mail));
  // The waiting tab was not signed in by the other browser.
  await page.waitForTimeout(2500);
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();

  const sameBrowser = await page.context().newPage();
  await sameBrowser.goto(linkOf(mail));
  await expect(sameBrowser.getByRole('heading', { name: 'You are verified' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Create your Acme Shop account' })).toBeVisible();

  await sameBrowser.goto(linkOf(mail));
  await expect(sameBrowser.getByRole('heading', { name: 'This link was already used' })).toBeVisible();
});

test('resend waits for its cooldown', async ({ page, passway }) => {
  const email = uniqueEmail('resend');
  await openShop(page, passway.baseUrl);
  await identify(page, email);
  const resend = page.getByRole('button', { name: /Resend in \d+s/ });
  await expect(resend).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Start over' })).toBeEnabled();
  await page.getByRole('button', { name: 'Start over' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome to Acme Shop' })).toBeVisible();
});

test('the widget speaks the language it is given, else the browser\'s, right to left for Arabic', async ({ page, passway, browser }) => {
  await page.goto(`${passway.baseUrl}/demo/website/?lang=ar`);
  const title = page.locator('passway-signin .pw-title');
  // The app's name, written left to right, is isolated in the right-to-left title.
  await expect(title).toHaveText('تسجيل الدخول إلى \u2068Acme Shop\u2069');
  await expect(page.getByRole('button', { name: 'التالي' })).toBeVisible();
  const root = page.locator('passway-signin .pw-root');
  await expect(root).toHaveAttribute('lang', 'ar');
  expect(await root.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');

  // No language given: the browser's (German here), left to right.
  const german = await browser.newContext({ locale: 'de-DE' });
  const p = await german.newPage();
  await p.goto(`${passway.baseUrl}/demo/website/`);
  await expect(p.getByRole('button', { name: 'Weiter' })).toBeVisible();
  expect(await p.locator('passway-signin .pw-root').evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
  await german.close();
});
