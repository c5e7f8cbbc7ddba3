// The theme studio: every gallery entry renders, in both demo brands, light and dark,
// English and Arabic, with no accessibility violation (axe), a screenshot of each kept
// in test-results/; and saving a theme updates the gallery in place.
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

interface Entry { name: string; title: string; group: string; kind: 'step' | 'page' | 'email' }

class Studio {
  constructor(readonly url: string, readonly themes: string, private readonly child: ChildProcess) {}

  async entries(): Promise<Entry[]> {
    return (await (await fetch(`${this.url}/studio/gallery.json`)).json()).entries;
  }

  stop(): void {
    this.child.stdin?.end();
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
    rmSync(this.themes, { recursive: true, force: true });
  }
}

/** `passway studio` over a copy of the shipped themes (tests may edit it). */
async function startStudio(): Promise<Studio> {
  const themes = mkdtempSync(join(tmpdir(), 'passway-studio-'));
  cpSync(join(REPO, 'themes'), themes, { recursive: true });
  const bin = process.env.PASSWAY_BIN ?? `${REPO}/target/debug/passway`;
  const child = spawn(
    bin,
    ['--config', join(themes, 'no-config.toml'), 'studio', '--themes', themes, '--listen', '127.0.0.1:0', '--stop-on-stdin-eof'],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/studio/.exec(out);
      if (m) ok(m[1]);
    });
    child.stderr!.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code) => fail(new Error(`passway studio exited with ${code}: ${out}`)));
  });
  return new Studio(url, themes, child);
}

const test = base.extend<{ studio: Studio }>({
  studio: async ({}, use) => {
    const studio = await startStudio();
    await use(studio);
    studio.stop();
  },
});

for (const brand of ['acme', 'globex']) {
  for (const scheme of ['light', 'dark']) {
    for (const locale of ['en', 'ar']) {
      test(`gallery: every entry in ${brand}, ${scheme}, ${locale}`, async ({ page, studio }, testInfo) => {
        test.setTimeout(180_000);
        const entries = await studio.entries();
        expect(entries.length).toBeGreaterThan(40);
        const problems: string[] = [];
        for (const entry of entries) {
          const url = entry.kind === 'email'
            ? `${studio.url}/studio/email/${brand}/${locale}/Acme%20Shop/${entry.name}/html`
            : `${studio.url}/studio/frame/${brand}/${locale}/${scheme}/Acme%20Shop/${entry.name}`;
          await page.goto(url);
          if (entry.kind !== 'email') {
            // The widget (or the page) has drawn its card, with a heading or a message.
            await expect(page.locator('.pw-card .pw-title, .pw-card .pw-message').first(), entry.name).toBeVisible();
            await expect(page.locator('html')).toHaveAttribute('dir', locale === 'ar' ? 'rtl' : 'ltr');
          }
          if (entry.kind === 'step') {
            const direction = await page.locator('.pw-root').first().evaluate((el) => getComputedStyle(el).direction);
            expect(direction, entry.name).toBe(locale === 'ar' ? 'rtl' : 'ltr');
          }
          await page.screenshot({ path: testInfo.outputPath(`${entry.name}.png`), fullPage: true });
          // An email is checked against WCAG; landmarks and headings are web-page
          // best practices that mail clients do not keep.
          const axe = entry.kind === 'email'
            ? await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
            : await new AxeBuilder({ page }).analyze();
          problems.push(...axe.violations.map((v) => `${entry.name}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`));
        }
        expect(problems).toEqual([]);
      });
    }
  }
}

test('saving a theme updates the gallery in place; a broken one keeps its last good version', async ({ page, studio }) => {
  await page.goto(`${studio.url}/studio?group=Sign%20in&brand=acme&scheme=light`);
  const frame = page.frameLocator('#entry-identify iframe[data-brand="acme"]');
  const button = frame.locator('.pw-button--primary');
  await expect(button).toBeVisible();
  const colour = () => button.evaluate((b) => getComputedStyle(b).backgroundColor);
  expect(await colour()).toBe('rgb(185, 60, 11)');
  await page.evaluate(() => { (window as unknown as { kept: boolean }).kept = true; });

  const file = join(studio.themes, 'acme', 'theme.toml');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace('primary = "#b93c0b"', 'primary = "#1d4ed8"'));
  await expect.poll(colour, { timeout: 5000 }).toBe('rgb(29, 78, 216)');
  expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept), 'no page reload').toBe(true);

  // Text too light to read on the surface: refused, located, and the last good colours stay.
  writeFileSync(file, good.replace('text = "#1c1917"', 'text = "#fefefe"'));
  await expect(page.locator('#problems')).toContainText(/acme\/theme\.toml:\d+:\d+/);
  await expect(page.locator('#problems')).toContainText('contrast');
  expect(await colour()).toBe('rgb(29, 78, 216)');

  writeFileSync(file, good);
  await expect(page.locator('#problems')).toBeHidden();
  await expect.poll(colour, { timeout: 5000 }).toBe('rgb(185, 60, 11)');
});
