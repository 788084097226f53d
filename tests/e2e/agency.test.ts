import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import {
  createRoom,
  HAVE_CHROMIUM,
  startBrowserSession,
  type BrowserSession,
  openRoom,
  screenshot,
  seeText,
  textIs,
  type Tab,
} from './support.js';

describe.skipIf(!HAVE_CHROMIUM)('an agency manager follows the team live and answers for a member', () => {
  let server: TestServer;
  let session: BrowserSession;
  let carol: Tab;
  let alice: Tab;
  let bob: Tab;

  beforeAll(async () => {
    // Everyone signs in first: the server learns bob's agency and carol's role from their tokens.
    session = await startBrowserSession(['carol', 'bob', 'alice']);
    server = session.server;
    carol = session.tabs.carol!;
    bob = session.tabs.bob!;
    alice = session.tabs.alice!;
  });

  afterAll(async () => {
    await session?.close();
  });

  it('carol sees offers to bob arrive live (pending offers first) and declines one on his behalf', async () => {
    const website = await createRoom(server.url, 'alice', {
      title: 'Website redesign',
      freelancerId: 'bob',
      jobId: 'job-web',
    });
    const app = await createRoom(server.url, 'alice', {
      title: 'Mobile app prototype',
      freelancerId: 'bob',
      jobId: 'job-app',
    });
    const c = carol.page;
    const team = c.getByTestId('team');
    // both candidacies show up in carol's team list (live or by the dashboard's refresh)
    await seeText(team, 'Website redesign');
    await seeText(team, 'Mobile app prototype');

    // alice makes an offer in the app room: it arrives on carol's dashboard live, on top
    await openRoom(alice.page, app);
    await alice.page.getByTestId('terms-propose').click();
    await alice.page.getByTestId('ms-title').first().fill('Clickable prototype');
    await alice.page.getByTestId('ms-amount').first().fill('1200');
    await alice.page.getByTestId('terms-send').click();
    await c
      .locator(
        `[data-testid="team"] [data-testid="candidacy"][data-room-id="${app}"] [data-testid="pending-offer"]`,
      )
      .waitFor();
    await c.locator('[data-testid="notification"][data-kind="offer"]').first().waitFor();
    await seeText(c.locator('[data-testid="notification"][data-kind="offer"]'), 'Mobile app prototype');
    await expect.poll(() => team.getByTestId('candidacy').first().getAttribute('data-room-id')).toBe(app);
    expect(await team.getByTestId('candidacy').nth(1).getAttribute('data-room-id')).toBe(website);
    await screenshot(c, 'dashboard-manager-desktop');

    // carol opens the room and declines for bob
    await c.locator(`[data-testid="team"] [data-testid="candidacy"][data-room-id="${app}"] a`).click();
    await c.locator('[data-testid="open-proposal"][data-version="1"]').waitFor();
    await seeText(c.getByTestId('room-who'), 'you are the agency manager');
    await c.getByTestId('decline-reason').fill('Bob is fully booked this month.');
    await c.getByTestId('terms-decline').click();

    // alice sees who did it, on whose behalf, live; the room is back to the interview
    await seeText(
      alice.page.getByTestId('timeline'),
      'Carol Manager on behalf of Bob Freelancer declined version 1',
    );
    await seeText(alice.page.getByTestId('timeline'), 'Bob is fully booked this month.');
    await textIs(alice.page.getByTestId('room-phase'), 'Interview');
    // bob sees it too when he opens the room
    await openRoom(bob.page, app);
    await seeText(
      bob.page.getByTestId('timeline'),
      'Carol Manager on behalf of Bob Freelancer declined version 1',
    );

    // carol's team list no longer shows a pending offer for that room
    await c.getByRole('link', { name: '← Dashboard' }).click();
    await c.locator(`[data-testid="candidacy"][data-room-id="${app}"][data-phase="interview"]`).waitFor();
    expect(await c.locator('[data-testid="pending-offer"]').count()).toBe(0);
    expect([
      ...carol.dialogs,
      ...alice.dialogs,
      ...bob.dialogs,
      ...carol.errors,
      ...alice.errors,
      ...bob.errors,
    ]).toEqual([]);
  }, 90_000);
});
