import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { ROOT } from '../support/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! ${CHROMIUM} is missing: the browser end-to-end tests are SKIPPED.\n!!! Install Debian's chromium (apt-get install chromium) to run them.\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`);
}

export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** The newest modification time under a directory. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds the browser app into dist/client (the server serves it) unless the build is newer than
 * client/ and shared/. A lock directory keeps parallel test files from building at once.
 */
export async function ensureClientBuilt(): Promise<void> {
  const lock = join(ROOT, 'dist', '.client-build.lock');
  const stamp = join(ROOT, 'dist', 'client', '.built-at');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`stale lock ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const sources = Math.max(newest(join(ROOT, 'client')), newest(join(ROOT, 'shared')));
    const built = existsSync(stamp) ? Number(readFileSync(stamp, 'utf8')) : 0;
    if (built > sources) return;
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { sourcemap: false } });
    writeFileSync(stamp, String(Date.now()));
  } finally {
    rmdirSync(lock);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Messages of dialogs that opened (none should). */
  dialogs: string[];
  /** Uncaught page errors. */
  errors: string[];
}

/** A fresh browser context signed in as a seeded user through the dev picker. */
export async function signedIn(browser: Browser, baseUrl: string, userId: string, viewport = { width: 1280, height: 800 }): Promise<Tab> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const tab: Tab = { context, page, dialogs: [], errors: [] };
  page.on('dialog', (d) => {
    tab.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => tab.errors.push(String(e)));
  page.setDefaultTimeout(10_000);
  await page.goto('/');
  await page.getByTestId(`sign-in-${userId}`).click();
  await page.getByTestId('dashboard').waitFor();
  await page.locator('[data-testid="connection"][data-state="online"]').waitFor();
  return tab;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}
