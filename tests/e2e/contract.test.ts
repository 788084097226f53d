import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countIs,
  HAVE_CHROMIUM,
  startBrowserSession,
  type BrowserSession,
  screenshot,
  seeText,
  textIs,
  type Tab,
} from './support.js';

/** Waits until a milestone shows a status on a page. */
async function milestoneStatus(page: Page, status: string): Promise<void> {
  await page.locator(`[data-testid="milestone"][data-status="${status}"]`).waitFor();
}

describe.skipIf(!HAVE_CHROMIUM)('a contract from interview to feedback, live on both sides', () => {
  let session: BrowserSession;
  let alice: Tab;
  let bob: Tab;

  beforeAll(async () => {
    session = await startBrowserSession(['alice', 'bob']);
    alice = session.tabs.alice!;
    bob = session.tabs.bob!;
  });

  afterAll(async () => {
    await session?.close();
  });

  it('interview → offer → counter → accept → fund → submit with a file → changes → resubmit → release → end → feedback', async () => {
    const a = alice.page;
    const b = bob.page;

    // alice opens an interview with bob; it appears on bob's dashboard live
    await a.getByLabel('Title').fill('Logo design for Acme');
    await a.getByLabel('Freelancer (user id)').fill('bob');
    await a.getByRole('button', { name: 'Start interview' }).click();
    await a.getByTestId('room').waitFor();
    await b.getByTestId('room-item').filter({ hasText: 'Logo design for Acme' }).click();
    await b.getByTestId('room').waitFor();
    await expect.poll(() => a.getByTestId('presence').textContent()).toContain('Bob Freelancer');

    // the interview chat
    await a.getByTestId('composer-input').fill('Hi Bob — could you show me two logo directions?');
    await a.getByTestId('composer-input').press('Enter');
    await b.getByTestId('message-text').filter({ hasText: 'two logo directions' }).waitFor();
    await b.getByTestId('composer-input').fill('Sure, I can do that this week.');
    await b.getByTestId('composer-send').click();
    await a.getByTestId('message-text').filter({ hasText: 'this week' }).waitFor();

    // alice makes an offer
    await a.getByTestId('terms-propose').click();
    await a.getByTestId('ms-title').first().fill('Logo drafts');
    await a.getByTestId('ms-amount').first().fill('500');
    await a.getByTestId('terms-send').click();
    await b.locator('[data-testid="open-proposal"][data-version="1"]').waitFor();
    await textIs(b.getByTestId('room-phase'), 'Offer');

    // bob counters at 650
    await b.getByTestId('terms-counter').click();
    await b.getByTestId('ms-amount').first().fill('650');
    await b.getByTestId('terms-send').click();
    const v2 = a.locator('[data-testid="open-proposal"][data-version="2"]');
    await v2.waitFor();
    await seeText(v2.locator('tr[data-diff="changed"]').first(), '$650.00');
    await seeText(v2.locator('tr[data-diff="changed"]').first(), '$500.00');
    await seeText(a.getByTestId('timeline'), 'Bob Freelancer countered version 1 with version 2');
    await screenshot(a, 'room-desktop');

    // alice accepts: hired
    await a.getByTestId('terms-accept').click();
    await textIs(b.getByTestId('room-phase'), 'Active contract');
    await seeText(a.getByTestId('terms-in-force'), '$650.00');
    // bob cannot fund; alice can
    await countIs(b.getByTestId('milestone-fund'), 0);
    await a.getByTestId('milestone-fund').click();
    await milestoneStatus(b, 'funded');

    // bob files a weekly status report; alice sees it arrive
    await b.getByTestId('report-open').click();
    await b.getByTestId('report-summary').fill('Sketched six concepts, picked two.');
    await b.getByTestId('report-hours').fill('7.5');
    await b.getByTestId('report-submit').click();
    await seeText(a.getByTestId('report-list'), 'Sketched six concepts, picked two.');
    await seeText(a.getByTestId('report-list'), '7.5 h');
    await countIs(a.getByTestId('report-form'), 0);

    // bob submits with a file (upload progress shown)
    const form = b.getByTestId('milestone-submit-form');
    await form.getByTestId('milestone-submit-note').fill('Two directions attached.');
    await form.getByTestId('file-input').setInputFiles({
      name: 'logo-drafts.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('drafts '.repeat(2000)),
    });
    await form.getByTestId('uploaded').waitFor();
    await countIs(form.getByTestId('upload-progress'), 0);
    await form.getByTestId('milestone-submit').click();
    await milestoneStatus(a, 'submitted');
    await seeText(a.getByTestId('milestones-panel'), 'logo-drafts.txt');
    await countIs(a.getByTestId('milestone-fund'), 0);

    // alice asks for changes; bob resubmits
    await a.getByTestId('milestone-request-changes-note').fill('Make the second one bolder.');
    await a.getByTestId('milestone-request-changes').click();
    await milestoneStatus(b, 'changes_requested');
    await seeText(b.getByTestId('timeline'), 'Alice Client requested changes to “Logo drafts”');
    await b.getByTestId('milestone-submit-note').fill('Bolder version done.');
    await b.getByTestId('milestone-submit').click();
    await milestoneStatus(a, 'submitted');

    // alice releases, then ends the contract
    await a.getByTestId('milestone-release').click();
    await milestoneStatus(b, 'released');
    await seeText(b.getByTestId('timeline'), 'Alice Client released “Logo drafts” ($650.00)');
    await screenshot(a, 'room-active-desktop');
    await a.getByTestId('contract-end').click();
    await a.getByTestId('end-reason').fill('Delivered, thanks!');
    await a.getByTestId('contract-end-confirm').click();
    await textIs(b.getByTestId('room-phase'), 'Ended');
    await b.getByTestId('composer').waitFor({ state: 'hidden' });

    // double-blind feedback
    await seeText(a.getByTestId('feedback-notice'), 'Double-blind');
    await a.getByTestId('feedback-rating').selectOption('5');
    await a.getByTestId('feedback-comment').fill('Great work, fast and friendly.');
    await a.getByTestId('feedback-submit').click();
    await a.getByTestId('feedback-waiting').waitFor();
    // bob sees nothing of alice's feedback yet
    expect(await b.getByTestId('feedback-panel').textContent()).not.toContain('Great work');
    await b.getByTestId('feedback-rating').selectOption('4');
    await b.getByTestId('feedback-comment').fill('Clear brief, quick payment.');
    await b.getByTestId('feedback-submit').click();
    for (const page of [a, b]) {
      const revealed = page.getByTestId('feedback-revealed');
      await seeText(revealed, 'Great work, fast and friendly.');
      await seeText(revealed, 'Clear brief, quick payment.');
    }
    await screenshot(b, 'room-feedback-desktop');

    // phone width: the room, then the dashboard
    await a.setViewportSize({ width: 390, height: 844 });
    await screenshot(a, 'room-phone');
    await a.getByRole('link', { name: '← Dashboard' }).click();
    await a.getByTestId('room-item').first().waitFor();
    await screenshot(a, 'dashboard-phone');
    await a.setViewportSize({ width: 1280, height: 800 });
    await screenshot(a, 'dashboard-desktop');

    expect([...alice.dialogs, ...bob.dialogs]).toEqual([]);
    expect([...alice.errors, ...bob.errors]).toEqual([]);
  }, 120_000);
});
