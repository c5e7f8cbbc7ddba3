// axe-core on the widget's steps (it looks inside the shadow root).
import AxeBuilder from '@axe-core/playwright';
import { test, expect, uniqueEmail } from './passway';

test('identify and email challenge steps have no accessibility violations', async ({ page, passway }) => {
  await page.goto(`${passway.baseUrl}/demo/app/`);
  await page.getByRole('button', { name: 'Sign in with Globex ID' }).click();
  await expect(page.getByLabel('Email')).toBeVisible();
  const identify = await new AxeBuilder({ page }).analyze();
  expect(identify.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  await page.getByLabel('Email').fill(uniqueEmail('axe'));
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Enter a code instead' }).click();
  await page.getByLabel('Code').fill('12');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Enter the 6-digit code from the email.')).toBeVisible();
  const challenge = await new AxeBuilder({ page }).analyze();
  expect(challenge.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});
