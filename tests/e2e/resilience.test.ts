import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, request } from '../support/http.js';
import type { TestServer } from '../support/server.js';
import {
  countIs,
  createRoom,
  HAVE_CHROMIUM,
  startBrowserSession,
  withBrowserSession,
  type BrowserSession,
  openRoom,
  seeText,
  type Tab,
} from './support.js';

/** How many timeline messages have exactly this text. */
function messages(page: Page, text: string) {
  return page
    .locator('[data-testid="message"] [data-testid="message-text"]')
    .getByText(text, { exact: true });
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

describe.skipIf(!HAVE_CHROMIUM)(
  'the room in a real browser: offline queue, catch-up, chat details, hostile text',
  () => {
    let server: TestServer;
    let session: BrowserSession;
    let alice: Tab;
    let bob: Tab;
    let roomId: string;

    beforeAll(async () => {
      session = await startBrowserSession(['alice', 'bob']);
      server = session.server;
      alice = session.tabs.alice!;
      bob = session.tabs.bob!;
      roomId = await createRoom(server.url, 'alice', { title: 'Brand guidelines', freelancerId: 'bob' });
      await Promise.all([openRoom(alice.page, roomId), openRoom(bob.page, roomId)]);
    });

    afterAll(async () => {
      await session?.close();
    });

    it('bob offline: his message is queued, survives a reload, and every message arrives exactly once on both sides', async () => {
      const a = alice.page;
      const b = bob.page;
      await say(a, 'Welcome to the room');
      await messages(b, 'Welcome to the room').waitFor();
      // the offline shell is in place before the network goes
      await b.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });

      await bob.context.setOffline(true);
      await b.locator('[data-testid="connection"][data-state="offline"]').waitFor();
      for (const n of [1, 2, 3]) await say(a, `While you were away ${n}`);
      await say(b, 'Written on the train');
      await seeText(b.getByTestId('queued'), 'Written on the train');
      await seeText(b.getByTestId('connection'), '1 queued');

      // a reload while offline keeps the queued message (and the room as this browser saved it)
      await b.reload();
      await b.getByTestId('room').waitFor();
      try {
        await seeText(b.getByTestId('queued'), 'Written on the train');
      } catch (err) {
        console.log(
          'DIAG',
          await b.evaluate(() => [
            document.body.innerText.slice(0, 1500),
            JSON.stringify(Object.keys(localStorage)),
            localStorage.getItem('workroom.outbox.bob'),
          ]),
        );
        throw err;
      }
      await messages(b, 'Welcome to the room').waitFor();
      expect(await b.locator('[data-testid="connection"]').getAttribute('data-state')).toBe('offline');
      expect(await messages(a, 'Written on the train').count()).toBe(0);

      await bob.context.setOffline(false);
      await b.locator('[data-testid="connection"][data-state="online"]').waitFor();
      for (const page of [a, b]) {
        await countIs(messages(page, 'Written on the train'), 1);
        for (const n of [1, 2, 3]) await countIs(messages(page, `While you were away ${n}`), 1);
        await countIs(messages(page, 'Welcome to the room'), 1);
      }
      await countIs(b.getByTestId('queued'), 0);
      // and it stays that way (no late duplicate from a resend)
      await new Promise((r) => setTimeout(r, 500));
      expect(await messages(a, 'Written on the train').count()).toBe(1);
      expect(await a.getByTestId('message').count()).toBe(5);
      expect(await b.getByTestId('message').count()).toBe(5);
    }, 60_000);

    it('renders hostile text as text: no dialog, no element', async () => {
      const a = alice.page;
      const b = bob.page;
      const hostile = '<img src=x onerror=alert(1)>';
      await say(a, hostile);
      await messages(b, hostile).waitFor();
      await messages(a, hostile).waitFor();
      expect(await b.locator('[data-testid="timeline"] img').count()).toBe(0);
      expect(await a.locator('[data-testid="timeline"] img').count()).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect([...alice.dialogs, ...bob.dialogs]).toEqual([]);
    });

    it('typing, read receipts, replies, edits with a marker, and deletes — live', async () => {
      const a = alice.page;
      const b = bob.page;
      await b.getByTestId('composer-input').pressSequentially('Let me th');
      await seeText(a.getByTestId('typing'), 'Bob Freelancer is typing');
      await b.getByTestId('composer-input').fill('');

      await say(a, 'Can you share the colour palette?');
      await seeText(a.getByTestId('timeline'), 'Seen by Bob Freelancer');

      const question = b
        .locator('[data-testid="message"]')
        .filter({ hasText: 'Can you share the colour palette?' });
      await question.getByTestId('reply').click();
      await say(b, 'Attached by Friday.');
      const answer = a.locator('[data-testid="message"]').filter({ hasText: 'Attached by Friday.' });
      await seeText(answer.getByTestId('reply-quote'), 'Can you share the colour palette?');

      // only the author may edit or delete
      await countIs(answer.getByTestId('edit'), 0);
      const seq = await b
        .locator('[data-testid="message"]')
        .filter({ hasText: 'Attached by Friday.' })
        .getAttribute('data-seq');
      const mine = b.locator(`[data-testid="message"][data-seq="${seq}"]`);
      await mine.getByTestId('edit').click();
      await mine.getByTestId('edit-input').fill('Attached by Thursday.');
      await mine.getByTestId('edit-save').click();
      const edited = a.locator('[data-testid="message"]').filter({ hasText: 'Attached by Thursday.' });
      await edited.getByTestId('edited').waitFor();
      await mine.getByTestId('delete').click();
      await countIs(a.getByText('Attached by Thursday.'), 0);
      await seeText(a.getByTestId('timeline'), 'This message was deleted.');
      expect([...alice.errors, ...bob.errors]).toEqual([]);
    });

    it('sends a message with an attachment after its upload completes', async () => {
      const a = alice.page;
      const b = bob.page;
      const composer = a.getByTestId('composer');
      await composer.getByTestId('file-input').setInputFiles({
        name: 'palette.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('#112233\n#445566\n'),
      });
      await seeText(composer.getByTestId('uploaded'), 'palette.txt');
      await say(a, 'Here is the palette.');
      const message = b.locator('[data-testid="message"]').filter({ hasText: 'Here is the palette.' });
      await seeText(message.getByTestId('file-link'), 'palette.txt');
      await countIs(composer.getByTestId('uploaded'), 0);
    });
  },
);

describe.skipIf(!HAVE_CHROMIUM)('the room in a real browser, past its limits', { timeout: 60_000 }, () => {
  const pastTheHistoryBudget = { RATE_LIMIT_HISTORY_EVENTS: '3' };

  /**
   * alice's page open on a new room of hers with bob; `send` runs a command over HTTP as either
   * of them, and `spendBudget` reads the room's history, which spends alice's budget of 3 for
   * this window.
   */
  async function roomOfAlice(session: BrowserSession, title: string) {
    const { server } = session;
    const page = session.tabs.alice!.page;
    const roomId = await createRoom(server.url, 'alice', { title, freelancerId: 'bob' });
    const tokens = { alice: await devToken(server.url, 'alice'), bob: await devToken(server.url, 'bob') };
    const send = (user: 'alice' | 'bob', command: object) =>
      request(server.url, 'POST', `/api/rooms/${roomId}/commands`, {
        token: tokens[user],
        body: { clientId: randomUUID(), command },
      });
    const spendBudget = async () => {
      const history = await request(server.url, 'GET', `/api/rooms/${roomId}/events?after=0`, {
        token: tokens.alice,
      });
      expect(history.status).toBe(200);
    };
    await openRoom(page, roomId);
    return { page, send, spendBudget };
  }

  it('joins again once the budget allows, and shows what was missed meanwhile', () =>
    withBrowserSession(['alice'], pastTheHistoryBudget, async (session) => {
      const { page, send, spendBudget } = await roomOfAlice(session, 'Busy reader');
      const post = (text: string) => send('bob', { type: 'message.post', text });
      for (const text of ['one', 'two', 'three']) await post(text);
      await countIs(messages(page, 'three'), 1);
      await spendBudget();
      await page.reload();
      await page.locator('[data-testid="connection"][data-state="online"]').waitFor();
      // Refused at first: not joined, so this only reaches alice once a later join catches up.
      await post('while you were refused');
      await countIs(messages(page, 'while you were refused'), 1, 20_000);
      await countIs(messages(page, 'three'), 1);
      expect(session.tabs.alice!.errors).toEqual([]);
    }));

  it('fills a gap once the budget allows, though the room stays quiet', () =>
    withBrowserSession(['alice'], pastTheHistoryBudget, async (session) => {
      const { page, send, spendBudget } = await roomOfAlice(session, 'Quiet ending');
      const run = async (user: 'alice' | 'bob', command: object) =>
        expect((await send(user, command)).status).toBe(201);
      const terms = {
        kind: 'fixed',
        currency: 'USD',
        milestones: [{ id: 'm1', title: 'All', amount: 10_000 }],
      };
      await run('alice', { type: 'terms.propose', terms });
      await run('bob', { type: 'terms.accept', version: 1 });
      await run('bob', { type: 'contract.end' });
      await page.getByTestId('feedback-form').waitFor();
      await spendBudget();
      // bob's feedback is his alone: alice's page sees a hole before her own two events, and its
      // gap fill is refused while her budget is spent. Nothing else happens in the room after them.
      const feedback = {
        type: 'feedback.submit',
        public: { rating: 5, comment: 'ok' },
        private: { score: 9 },
      };
      await run('bob', feedback);
      await run('alice', feedback);
      await page.getByTestId('feedback-revealed').waitFor({ timeout: 20_000 });
      expect(session.tabs.alice!.errors).toEqual([]);
    }));

  it('connects a tab refused for too many connections once another one closes', () =>
    withBrowserSession(['alice'], { MAX_CONNECTIONS_PER_USER: '1' }, async (session) => {
      const first = session.tabs.alice!;
      const second = await first.context.newPage();
      await second.goto('/');
      await second.getByTestId('dashboard').waitFor();
      // Refused while the first tab holds alice's one connection.
      await second.locator('[data-testid="connection"][data-state="connecting"]').waitFor();
      await first.page.close();
      await second.locator('[data-testid="connection"][data-state="online"]').waitFor({ timeout: 20_000 });
    }));
});
