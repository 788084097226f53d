import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { build } from 'vite';
import { devToken, request } from '../support/http.js';
import { ROOT, startTestServer, type TestServer } from '../support/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! ${CHROMIUM} is missing: the browser end-to-end tests are SKIPPED.\n!!! Install Debian's chromium (apt-get install chromium) to run them.\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
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
    await build({
      configFile: join(ROOT, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { sourcemap: false },
    });
    writeFileSync(stamp, String(Date.now()));
  } finally {
    rmdirSync(lock);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
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

/** A room created over HTTP by a client (tests that are not about creating rooms start here). */
export async function createRoom(
  baseUrl: string,
  clientId: string,
  body: { title: string; freelancerId: string; jobId?: string },
): Promise<string> {
  const token = await devToken(baseUrl, clientId);
  const reply = await request<{ room: { id: string } }>(baseUrl, 'POST', '/api/rooms', { token, body });
  if (reply.status !== 201) throw new Error(`room not created: ${JSON.stringify(reply.body)}`);
  return reply.body.room.id;
}

/** Opens a room in a signed-in page and waits until it is joined. */
export async function openRoom(page: Page, roomId: string): Promise<void> {
  await page.goto(`/#/room/${encodeURIComponent(roomId)}`);
  await page.locator('[data-testid="room"]').waitFor();
  await page.locator('[data-testid="event"][data-type="room.created"]').waitFor();
}

/** A fresh browser context signed in as a seeded user through the dev picker. */
export async function signedIn(
  browser: Browser,
  baseUrl: string,
  userId: string,
  viewport = { width: 1280, height: 800 },
): Promise<Tab> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const tab: Tab = { context, page, dialogs: [], errors: [] };
  page.on('dialog', (d) => {
    tab.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => tab.errors.push(String(e)));
  page.setDefaultTimeout(30_000);
  await page.goto('/');
  await page.getByTestId(`sign-in-${userId}`).click();
  await page.getByTestId('dashboard').waitFor();
  await page.locator('[data-testid="connection"][data-state="online"]').waitFor();
  return tab;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Waits until the element's text contains `text`. */
export async function seeText(locator: Locator, text: string, timeout = 15_000): Promise<void> {
  await expect.poll(async () => (await locator.first().textContent()) ?? '', { timeout }).toContain(text);
}

/** Waits until the element's whole text is `text`. */
export async function textIs(locator: Locator, text: string, timeout = 15_000): Promise<void> {
  await expect.poll(async () => ((await locator.first().textContent()) ?? '').trim(), { timeout }).toBe(text);
}

/** Waits until the locator matches exactly `n` elements. */
export async function countIs(locator: Locator, n: number, timeout = 15_000): Promise<void> {
  await expect.poll(() => locator.count(), { timeout }).toBe(n);
}

export interface BrowserSession {
  server: TestServer;
  browser: Browser;
  /** One signed-in tab per user, by user id. */
  tabs: Record<string, Tab>;
  close(): Promise<void>;
}

/**
 * A server serving the built app (configured with `env`), one browser, and a signed-in tab for
 * each user. Everyone signs in before the test starts, so the server already knows each user's
 * agency and role.
 */
export async function startBrowserSession(
  users: string[],
  env: Record<string, string> = {},
): Promise<BrowserSession> {
  const [server] = await Promise.all([startTestServer(env), ensureClientBuilt()]);
  const browser = await launchBrowser();
  const tabs = await Promise.all(users.map((user) => signedIn(browser, server.url, user)));
  return {
    server,
    browser,
    tabs: Object.fromEntries(users.map((user, i) => [user, tabs[i]!])),
    async close() {
      await browser.close();
      await server.stop();
    },
  };
}

/** Runs `test` with a browser session of its own (its server configured with `env`), closed however the test ends. */
export async function withBrowserSession(
  users: string[],
  env: Record<string, string>,
  test: (session: BrowserSession) => Promise<void>,
): Promise<void> {
  const session = await startBrowserSession(users, env);
  try {
    await test(session);
  } finally {
    await session.close();
  }
}
