import {
  DEFAULT_DOMAIN_CONFIG,
  statusReportDueAt,
  type Proposal,
  type RoomState,
  type Terms,
} from '../../../shared/domain/index.js';
import { TermsSchema, type RoomEvent } from '../../../shared/schemas/index.js';
import { field, h, type Child } from '../dom.js';
import { actorLabel, day, inputToMinor, minorToInput, money, nameOf, when } from '../format.js';
import { actorIn, can, type RoomContext } from './context.js';
import { termsSummary } from './describe.js';
import { downloadButton, fileAttacher } from './room.js';

const STATUS_LABEL = {
  pending: 'Pending',
  funded: 'Funded (in escrow)',
  submitted: 'Submitted for review',
  changes_requested: 'Changes requested',
  released: 'Released',
} as const;

function heading(text: string): HTMLElement {
  return h('h2', null, text);
}

// ---------------------------------------------------------------- terms

type Row = { label: string; value: string };

/** The comparable rows of a set of terms (milestones keyed by their stable id). */
function termsRows(t: Terms): Map<string, Row> {
  const rows = new Map<string, Row>();
  const kind = { fixed: 'Fixed price', hourly: 'Hourly', stipend: 'Weekly stipend' }[t.kind];
  rows.set('kind', { label: 'Kind', value: kind });
  rows.set('currency', { label: 'Currency', value: t.currency });
  if (t.kind === 'fixed') {
    for (const m of t.milestones) {
      rows.set(`m:${m.id}`, {
        label: `Milestone “${m.title}”`,
        value: `${money(m.amount, t.currency)}${m.dueDate ? `, due ${day(m.dueDate)}` : ''}`,
      });
    }
    rows.set('total', {
      label: 'Total',
      value: money(
        t.milestones.reduce((s, m) => s + m.amount, 0),
        t.currency,
      ),
    });
  }
  if (t.kind === 'hourly') {
    rows.set('rate', { label: 'Hourly rate', value: money(t.hourlyRate, t.currency) });
    rows.set('limit', { label: 'Weekly limit', value: `${t.weeklyLimitHours} h` });
  }
  if (t.kind === 'stipend')
    rows.set('weekly', { label: 'Weekly amount', value: money(t.weeklyAmount, t.currency) });
  if (t.startDate) rows.set('start', { label: 'Start', value: day(t.startDate) });
  if (t.note) rows.set('note', { label: 'Note', value: t.note });
  return rows;
}

function termsTable(t: Terms, testid: string): HTMLElement {
  return h(
    'table',
    { class: 'terms', testid },
    h(
      'tbody',
      null,
      [...termsRows(t).values()].map((r) =>
        h('tr', null, h('th', { scope: 'row' }, r.label), h('td', null, r.value)),
      ),
    ),
  );
}

/** The open proposal beside what it would replace: changed, added and removed rows marked. */
function diffTable(base: Terms | null, baseLabel: string, next: Terms, nextLabel: string): HTMLElement {
  const a = base ? termsRows(base) : new Map<string, Row>();
  const b = termsRows(next);
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  return h(
    'table',
    { class: 'terms diff', testid: 'terms-diff' },
    h('caption', { class: 'visually-hidden' }, `${nameOfLabel(baseLabel)} compared with ${nextLabel}`),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, ''),
        h('th', { scope: 'col' }, baseLabel),
        h('th', { scope: 'col' }, nextLabel),
      ),
    ),
    h(
      'tbody',
      null,
      keys.map((k) => {
        const left = a.get(k);
        const right = b.get(k);
        const state = !left
          ? 'added'
          : !right
            ? 'removed'
            : left.value !== right.value || left.label !== right.label
              ? 'changed'
              : 'same';
        return h(
          'tr',
          { class: `diff-${state}`, attrs: { 'data-diff': state } },
          h('th', { scope: 'row' }, (right ?? left)!.label),
          h('td', null, left?.value ?? '—'),
          h(
            'td',
            null,
            right?.value ?? '—',
            state !== 'same' ? h('span', { class: 'visually-hidden' }, ` (${state})`) : null,
          ),
        );
      }),
    ),
  );
}

function nameOfLabel(s: string): string {
  return s;
}

export function termsPanel(ctx: RoomContext): Child {
  const state = ctx.model.state!;
  const out: Child[] = [heading('Terms')];
  const open = state.openProposalVersion != null ? state.proposals[state.openProposalVersion - 1] : undefined;
  if (state.termsInForce) {
    out.push(
      h('h3', null, `In force: version ${state.termsInForce.version}`),
      termsTable(state.termsInForce.terms, 'terms-in-force'),
    );
  } else if (!open) {
    out.push(
      h(
        'p',
        { class: 'muted' },
        state.phase === 'interview' ? 'No offer yet: this is an interview.' : 'No terms in force.',
      ),
    );
  }
  if (open) out.push(openProposal(ctx, state, open));
  const sample = open?.terms ?? state.termsInForce?.terms ?? defaultTerms();
  if (!open && can(ctx, { type: 'terms.propose', terms: sample })) {
    const label = state.phase === 'interview' ? 'Make an offer' : 'Propose amended terms';
    out.push(termsFormToggle(ctx, label, state.termsInForce?.terms ?? null, 'terms-propose'));
  }
  const closed = state.proposals.filter((p) => p.status !== 'open');
  if (closed.length > 0) {
    out.push(
      h(
        'details',
        { class: 'history' },
        h('summary', null, `Earlier proposals (${closed.length})`),
        h(
          'ul',
          { class: 'list' },
          closed.map((p) =>
            h('li', null, `v${p.version} by ${actorLabel(p.actor)}: ${p.status} — ${termsSummary(p.terms)}`),
          ),
        ),
      ),
    );
  }
  return out;
}

function openProposal(ctx: RoomContext, state: RoomState, open: Proposal): HTMLElement {
  const previous = state.proposals[open.version - 2];
  const base =
    state.termsInForce?.terms ?? (previous && previous.status === 'countered' ? previous.terms : null);
  const baseLabel = state.termsInForce
    ? `In force (v${state.termsInForce.version})`
    : previous && previous.status === 'countered'
      ? `Countered (v${previous.version})`
      : 'Nothing yet';
  const box = h(
    'div',
    { class: 'proposal', testid: 'open-proposal', attrs: { 'data-version': open.version } },
    h('h3', null, `Open proposal: version ${open.version}`),
    h('p', { class: 'muted' }, `By ${actorLabel(open.actor)}, ${when(open.at)}`),
    diffTable(base, baseLabel, open.terms, `Proposed (v${open.version})`),
  );
  const actions = h('div', { class: 'row wrap' });
  const v = open.version;
  if (can(ctx, { type: 'terms.accept', version: v })) {
    actions.append(
      h(
        'button',
        {
          type: 'button',
          testid: 'terms-accept',
          on: { click: () => ctx.send({ type: 'terms.accept', version: v }) },
        },
        state.phase === 'offer' ? 'Accept (hire)' : 'Accept',
      ),
    );
  }
  if (can(ctx, { type: 'terms.withdraw', version: v })) {
    actions.append(
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          testid: 'terms-withdraw',
          on: { click: () => ctx.send({ type: 'terms.withdraw', version: v }) },
        },
        'Withdraw',
      ),
    );
  }
  box.append(actions);
  if (can(ctx, { type: 'terms.decline', version: v })) {
    const reason = h('input', { type: 'text', maxLength: 2000, testid: 'decline-reason' });
    box.append(
      h(
        'form',
        {
          class: 'inline-form',
          on: {
            submit: (e) => {
              e.preventDefault();
              ctx.send({
                type: 'terms.decline',
                version: v,
                ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
              });
            },
          },
        },
        field('Reason for declining (optional)', reason),
        h('button', { type: 'submit', class: 'danger', testid: 'terms-decline' }, 'Decline'),
      ),
    );
  }
  if (can(ctx, { type: 'terms.propose', terms: open.terms })) {
    box.append(termsFormToggle(ctx, 'Counter…', open.terms, 'terms-counter', 'secondary'));
  }
  return box;
}

function defaultTerms(): Terms {
  return { kind: 'fixed', currency: 'USD', milestones: [{ id: 'm1', title: 'Milestone 1', amount: 10_000 }] };
}

function termsFormToggle(
  ctx: RoomContext,
  label: string,
  prefill: Terms | null,
  testid: string,
  variant = '',
): HTMLElement {
  const wrap = h('div', { class: 'terms-form-wrap' });
  const button = h(
    'button',
    {
      type: 'button',
      testid,
      class: variant,
      attrs: { 'aria-expanded': 'false' },
      on: {
        click: () => {
          button.hidden = true;
          const form = termsForm(ctx, prefill, () => {
            form.remove();
            button.hidden = false;
            button.focus();
          });
          wrap.append(form);
          form.querySelector<HTMLElement>('select, input')?.focus();
        },
      },
    },
    label,
  );
  wrap.append(button);
  return wrap;
}

let milestoneCounter = 0;
function newMilestoneId(): string {
  milestoneCounter += 1;
  return `m-${Date.now().toString(36)}-${milestoneCounter}`;
}

/** The whole terms (never a patch): kind, money in the currency's units, milestones with stable ids. */
function termsForm(ctx: RoomContext, prefill: Terms | null, close: () => void): HTMLFormElement {
  const start = prefill ?? defaultTerms();
  const kind = h(
    'select',
    { testid: 'terms-kind' },
    h('option', { value: 'fixed' }, 'Fixed price (milestones)'),
    h('option', { value: 'hourly' }, 'Hourly'),
    h('option', { value: 'stipend' }, 'Weekly stipend'),
  );
  kind.value = start.kind;
  const currency = h('input', {
    type: 'text',
    value: start.currency,
    maxLength: 3,
    testid: 'terms-currency',
    attrs: { pattern: '[A-Z]{3}', autocomplete: 'off' },
  });
  const rows = h('div', { class: 'ms-rows' });
  const addRow = (m?: { id: string; title: string; amount: number; dueDate?: string | undefined }) => {
    const index = rows.children.length + 1;
    const title = h('input', { type: 'text', value: m?.title ?? '', testid: 'ms-title', maxLength: 200 });
    const amount = h('input', {
      type: 'text',
      value: m ? minorToInput(m.amount, start.currency) : '',
      testid: 'ms-amount',
      attrs: { inputmode: 'decimal' },
    });
    const due = h('input', { type: 'date', value: m?.dueDate?.slice(0, 10) ?? '', testid: 'ms-due' });
    const row: HTMLFieldSetElement = h(
      'fieldset',
      { class: 'ms-row', attrs: { 'data-id': m?.id ?? newMilestoneId() } },
      h('legend', null, `Milestone ${index}`),
      field('Title', title),
      field(`Amount (${currency.value || 'currency'})`, amount),
      field('Due date (optional)', due),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          attrs: { 'aria-label': `Remove milestone ${index}` },
          on: { click: () => row.remove() },
        },
        'Remove',
      ),
    );
    rows.append(row);
  };
  if (start.kind === 'fixed') start.milestones.forEach((m) => addRow(m));
  else addRow();
  const rate = h('input', {
    type: 'text',
    value: start.kind === 'hourly' ? minorToInput(start.hourlyRate, start.currency) : '',
    testid: 'terms-rate',
    attrs: { inputmode: 'decimal' },
  });
  const limit = h('input', {
    type: 'number',
    min: 1,
    max: 168,
    value: start.kind === 'hourly' ? String(start.weeklyLimitHours) : '40',
    testid: 'terms-limit',
  });
  const weekly = h('input', {
    type: 'text',
    value: start.kind === 'stipend' ? minorToInput(start.weeklyAmount, start.currency) : '',
    testid: 'terms-weekly',
    attrs: { inputmode: 'decimal' },
  });
  const startDate = h('input', { type: 'date', value: start.startDate?.slice(0, 10) ?? '' });
  const note = h('textarea', { rows: 2, maxLength: 5000, value: '', testid: 'terms-note' });
  const fixedBox = h(
    'div',
    null,
    rows,
    h(
      'button',
      { type: 'button', class: 'secondary', testid: 'ms-add', on: { click: () => addRow() } },
      'Add milestone',
    ),
  );
  const hourlyBox = h('div', null, field('Hourly rate', rate), field('Weekly limit (hours)', limit));
  const stipendBox = h('div', null, field('Weekly amount', weekly));
  const showKind = () => {
    fixedBox.hidden = kind.value !== 'fixed';
    hourlyBox.hidden = kind.value !== 'hourly';
    stipendBox.hidden = kind.value !== 'stipend';
  };
  kind.addEventListener('change', showKind);
  showKind();
  const error = h('p', { class: 'form-error', testid: 'terms-error', attrs: { role: 'alert' } });

  const build = (): Terms | string => {
    const cur = currency.value.trim().toUpperCase();
    const common = {
      currency: cur,
      ...(startDate.value ? { startDate: startDate.value } : {}),
      ...(note.value.trim() ? { note: note.value.trim() } : {}),
    };
    let candidate: unknown;
    if (kind.value === 'fixed') {
      const milestones = [];
      for (const row of [...rows.children] as HTMLElement[]) {
        const [title, amount, due] = [...row.querySelectorAll('input')].map((i) => i.value.trim());
        const minor = inputToMinor(amount ?? '', cur);
        if (minor == null) return `Milestone “${title || '?'}”: enter a positive amount`;
        milestones.push({
          id: row.dataset.id!,
          title: title ?? '',
          amount: minor,
          ...(due ? { dueDate: due } : {}),
        });
      }
      candidate = { kind: 'fixed', ...common, milestones };
    } else if (kind.value === 'hourly') {
      const minor = inputToMinor(rate.value, cur);
      if (minor == null) return 'Enter a positive hourly rate';
      candidate = { kind: 'hourly', ...common, hourlyRate: minor, weeklyLimitHours: Number(limit.value) };
    } else {
      const minor = inputToMinor(weekly.value, cur);
      if (minor == null) return 'Enter a positive weekly amount';
      candidate = { kind: 'stipend', ...common, weeklyAmount: minor };
    }
    const parsed = TermsSchema.safeParse(candidate);
    if (!parsed.success)
      return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return parsed.data;
  };

  const form = h(
    'form',
    {
      class: 'terms-form',
      testid: 'terms-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          const terms = build();
          if (typeof terms === 'string') {
            error.textContent = terms;
            return;
          }
          if (!can(ctx, { type: 'terms.propose', terms })) {
            error.textContent =
              'These terms cannot be proposed now (a released, submitted or funded milestone cannot change that way).';
            return;
          }
          ctx.send({ type: 'terms.propose', terms });
          close();
        },
      },
    },
    field('Kind', kind),
    field('Currency (ISO code)', currency),
    fixedBox,
    hourlyBox,
    stipendBox,
    field('Start date (optional)', startDate),
    field('Note (optional)', note),
    error,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', testid: 'terms-send' }, 'Send proposal'),
      h('button', { type: 'button', class: 'secondary', on: { click: close } }, 'Cancel'),
    ),
  );
  return form;
}

// ---------------------------------------------------------------- milestones

export function milestonesPanel(ctx: RoomContext): Child {
  const state = ctx.model.state!;
  if (state.termsInForce?.terms.kind !== 'fixed' || state.milestones.length === 0) {
    return [
      heading('Milestones'),
      h(
        'p',
        { class: 'muted' },
        state.termsInForce ? 'These terms have no milestones.' : 'Milestones appear when terms are accepted.',
      ),
    ];
  }
  const currency = state.currency ?? 'USD';
  return [
    heading('Milestones'),
    h(
      'ol',
      { class: 'milestones' },
      state.milestones.map((m) => {
        const li = h(
          'li',
          {
            class: `milestone ms-${m.status}`,
            testid: 'milestone',
            attrs: { 'data-milestone-id': m.id, 'data-status': m.status },
          },
          h(
            'div',
            { class: 'ms-head' },
            h('strong', null, m.title),
            h('span', null, money(m.amount, currency)),
            h('span', { class: `badge st-${m.status}`, testid: 'milestone-status' }, STATUS_LABEL[m.status]),
          ),
          m.dueDate ? h('p', { class: 'muted' }, `Due ${day(m.dueDate)}`) : null,
          m.autoReleased
            ? h('p', { class: 'muted' }, 'Released automatically when the review window closed.')
            : null,
        );
        const history: HTMLElement[] = [];
        for (const s of m.submissions) {
          history.push(
            h(
              'li',
              null,
              `Submitted by ${nameOf(s.by)}, ${when(s.at)}: `,
              h('span', { class: 'quote' }, s.note),
              s.files.length > 0
                ? h(
                    'ul',
                    { class: 'files' },
                    s.files.map((f) => h('li', null, downloadButton(f.id, f.name, ''))),
                  )
                : null,
            ),
          );
        }
        for (const c of m.changeRequests)
          history.push(
            h(
              'li',
              null,
              `Changes requested by ${nameOf(c.by)}, ${when(c.at)}: `,
              h('span', { class: 'quote' }, c.note),
            ),
          );
        if (history.length > 0)
          li.append(
            h(
              'details',
              { class: 'ms-history' },
              h('summary', null, `History (${history.length})`),
              h('ul', null, history),
            ),
          );
        const actions = h('div', { class: 'row wrap' });
        if (can(ctx, { type: 'milestone.fund', milestoneId: m.id })) {
          actions.append(
            h(
              'button',
              {
                type: 'button',
                testid: 'milestone-fund',
                on: { click: () => ctx.send({ type: 'milestone.fund', milestoneId: m.id }) },
              },
              `Fund ${money(m.amount, currency)}`,
            ),
          );
        }
        if (can(ctx, { type: 'milestone.release', milestoneId: m.id })) {
          actions.append(
            h(
              'button',
              {
                type: 'button',
                testid: 'milestone-release',
                on: { click: () => ctx.send({ type: 'milestone.release', milestoneId: m.id }) },
              },
              'Approve and release',
            ),
          );
        }
        li.append(actions);
        if (can(ctx, { type: 'milestone.requestChanges', milestoneId: m.id, note: 'x' }))
          li.append(
            noteForm(ctx, 'What should change?', 'Request changes', 'milestone-request-changes', (note) => ({
              type: 'milestone.requestChanges',
              milestoneId: m.id,
              note,
            })),
          );
        if (can(ctx, { type: 'milestone.submit', milestoneId: m.id, note: 'x' }))
          li.append(submitForm(ctx, m.id));
        return li;
      }),
    ),
  ];
}

function noteForm(
  ctx: RoomContext,
  label: string,
  button: string,
  testid: string,
  command: (note: string) => Parameters<RoomContext['send']>[0],
): HTMLElement {
  const note = h('textarea', { rows: 2, maxLength: 5000, required: true, testid: `${testid}-note` });
  return h(
    'form',
    {
      class: 'inline-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          if (!note.value.trim()) return;
          ctx.send(command(note.value.trim()));
        },
      },
    },
    field(label, note),
    h('button', { type: 'submit', class: 'secondary', testid }, button),
  );
}

function submitForm(ctx: RoomContext, milestoneId: string): HTMLElement {
  const note = h('textarea', { rows: 2, maxLength: 5000, required: true, testid: 'milestone-submit-note' });
  const files = fileAttacher(ctx, 'Attach deliverables');
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  return h(
    'form',
    {
      class: 'inline-form',
      testid: 'milestone-submit-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          if (!note.value.trim()) {
            error.textContent = 'Describe what you deliver.';
            return;
          }
          if (files.busy()) {
            error.textContent = 'Wait for the uploads to finish.';
            return;
          }
          const fileIds = files.fileIds();
          ctx.send({
            type: 'milestone.submit',
            milestoneId,
            note: note.value.trim(),
            ...(fileIds.length ? { fileIds } : {}),
          });
        },
      },
    },
    field('Submission note', note),
    files.element,
    error,
    h('button', { type: 'submit', testid: 'milestone-submit' }, 'Submit for review'),
  );
}

// ---------------------------------------------------------------- status reports

export function reportsPanel(
  ctx: RoomContext,
  reminder: Extract<RoomEvent, { type: 'reminder.statusReport' }> | null,
): Child {
  const state = ctx.model.state!;
  const out: Child[] = [heading('Status reports')];
  if (state.phase === 'active') {
    if (reminder)
      out.push(
        h(
          'p',
          { class: 'due', testid: 'report-due', attrs: { role: 'status' } },
          `A status report is due (since ${when(reminder.data.dueAt)}).`,
        ),
      );
    else {
      const due = statusReportDueAt(state, DEFAULT_DOMAIN_CONFIG);
      if (due)
        out.push(
          h(
            'p',
            { class: 'muted', testid: 'report-next' },
            `Next weekly report due around ${when(due.toISOString())}.`,
          ),
        );
    }
  }
  if (state.statusReports.length === 0) out.push(h('p', { class: 'muted' }, 'No status reports yet.'));
  else {
    out.push(
      h(
        'ol',
        { class: 'reports', testid: 'report-list' },
        [...state.statusReports].reverse().map((r) =>
          h(
            'li',
            { testid: 'report' },
            h('strong', null, `${day(r.periodStart)} – ${day(r.periodEnd)}`),
            h('span', { class: 'muted' }, ` · ${r.hours} h · by ${nameOf(r.by)}`),
            h('p', { class: 'quote' }, r.summary),
            r.progress.length > 0
              ? h(
                  'ul',
                  { class: 'progress-list' },
                  r.progress.map((p) =>
                    h(
                      'li',
                      null,
                      `${state.milestones.find((m) => m.id === p.milestoneId)?.title ?? p.milestoneId}: ${p.percent}%`,
                    ),
                  ),
                )
              : null,
            r.nextSteps ? h('p', null, h('em', null, 'Next: '), r.nextSteps) : null,
            r.blockers ? h('p', null, h('em', null, 'Blockers: '), r.blockers) : null,
          ),
        ),
      ),
    );
  }
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  const sample = {
    type: 'statusReport.submit' as const,
    periodStart: weekAgo,
    periodEnd: today,
    summary: 'x',
    hours: 0,
    progress: [],
  };
  if (can(ctx, sample)) out.push(reportForm(ctx, state, weekAgo, today));
  return out;
}

function reportForm(ctx: RoomContext, state: RoomState, from: string, to: string): HTMLElement {
  const start = h('input', { type: 'date', value: from, required: true, testid: 'report-start' });
  const end = h('input', { type: 'date', value: to, required: true, testid: 'report-end' });
  const summary = h('textarea', { rows: 3, required: true, maxLength: 10_000, testid: 'report-summary' });
  const hours = h('input', {
    type: 'number',
    min: 0,
    max: 1000,
    step: '0.25',
    value: '0',
    required: true,
    testid: 'report-hours',
  });
  const fixed = state.termsInForce?.terms.kind === 'fixed';
  const progress = fixed
    ? state.milestones.map((m) => ({
        id: m.id,
        input: h('input', {
          type: 'number',
          min: 0,
          max: 100,
          step: 1,
          value: '0',
          attrs: { 'data-milestone-id': m.id },
        }),
        title: m.title,
      }))
    : [];
  const next = h('textarea', { rows: 2, maxLength: 5000 });
  const blockers = h('textarea', { rows: 2, maxLength: 5000 });
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  return h(
    'details',
    { class: 'report-form-wrap' },
    h('summary', { testid: 'report-open' }, 'File a status report'),
    h(
      'form',
      {
        class: 'report-form',
        testid: 'report-form',
        on: {
          submit: (e) => {
            e.preventDefault();
            const command = {
              type: 'statusReport.submit' as const,
              periodStart: start.value,
              periodEnd: end.value,
              summary: summary.value.trim(),
              hours: Number(hours.value),
              progress: progress.map((p) => ({
                milestoneId: p.id,
                percent: Math.max(0, Math.min(100, Math.round(Number(p.input.value) || 0))),
              })),
              ...(next.value.trim() ? { nextSteps: next.value.trim() } : {}),
              ...(blockers.value.trim() ? { blockers: blockers.value.trim() } : {}),
            };
            if (!command.summary) {
              error.textContent = 'Summarise the work done.';
              return;
            }
            if (!can(ctx, command)) {
              error.textContent = 'Check the period (start before end) and the hours.';
              return;
            }
            ctx.send(command);
          },
        },
      },
      h('div', { class: 'row' }, field('Period start', start), field('Period end', end)),
      field('Work done', summary),
      field('Hours spent', hours),
      progress.length > 0
        ? h(
            'fieldset',
            null,
            h('legend', null, 'Progress per milestone (%)'),
            progress.map((p) => field(p.title, p.input)),
          )
        : null,
      field('Next steps (optional)', next),
      field('Blockers (optional)', blockers),
      error,
      h('button', { type: 'submit', testid: 'report-submit' }, 'File report'),
    ),
  );
}

// ---------------------------------------------------------------- contract end

export function contractPanel(ctx: RoomContext): Child {
  const state = ctx.model.state!;
  if (state.phase === 'ended') {
    const by = state.endedBy === 'system' ? 'closed for inactivity' : `ended by the ${state.endedBy}`;
    return [
      heading('Contract'),
      h(
        'p',
        { testid: 'contract-ended' },
        `The contract ${by}${state.endedAt ? ` on ${when(state.endedAt)}` : ''}.`,
      ),
      state.endReason ? h('p', { class: 'quote' }, state.endReason) : null,
    ];
  }
  if (state.phase !== 'active')
    return [
      heading('Contract'),
      h('p', { class: 'muted' }, 'No contract yet: it starts when the offer is accepted.'),
    ];
  const out: Child[] = [
    heading('Contract'),
    h('p', { class: 'muted' }, `Active since ${state.startedAt ? when(state.startedAt) : '—'}.`),
  ];
  if (!can(ctx, { type: 'contract.end' })) return out;
  const reason = h('input', { type: 'text', maxLength: 2000, testid: 'end-reason' });
  const confirm = h(
    'form',
    {
      class: 'inline-form',
      hidden: true,
      on: {
        submit: (e) => {
          e.preventDefault();
          ctx.send({ type: 'contract.end', ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) });
        },
      },
    },
    field('Reason (optional)', reason),
    h('p', { class: 'muted' }, 'Ending is final: no new work, messages stay readable, feedback opens.'),
    h('button', { type: 'submit', class: 'danger', testid: 'contract-end-confirm' }, 'End the contract now'),
  );
  const open = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      testid: 'contract-end',
      attrs: { 'aria-expanded': 'false' },
      on: {
        click: () => {
          confirm.hidden = !confirm.hidden;
          open.setAttribute('aria-expanded', String(!confirm.hidden));
          if (!confirm.hidden) reason.focus();
        },
      },
    },
    'End contract…',
  );
  out.push(open, confirm);
  return out;
}

// ---------------------------------------------------------------- feedback

export function feedbackPanel(ctx: RoomContext): Child {
  const state = ctx.model.state!;
  if (state.phase !== 'ended')
    return [heading('Feedback'), h('p', { class: 'muted' }, 'Feedback opens when the contract ends.')];
  const me = actorIn(ctx, state);
  const out: Child[] = [
    heading('Feedback'),
    h(
      'p',
      { class: 'notice', testid: 'feedback-notice' },
      'Double-blind: your rating and comment stay hidden from the other side until both of you have submitted, or until the feedback window closes — then both are revealed together. The private score is never shown to the other side.',
    ),
  ];
  if (state.revealed) {
    const side = (label: string, f: { rating: number; comment: string } | null) =>
      h(
        'div',
        { class: 'revealed-side' },
        h('h3', null, label),
        f
          ? [
              h(
                'p',
                { class: 'stars', attrs: { 'aria-label': `${f.rating} out of 5` } },
                `${'★'.repeat(f.rating)}${'☆'.repeat(5 - f.rating)}`,
              ),
              h('p', { class: 'quote' }, f.comment || '(no comment)'),
            ]
          : h('p', { class: 'muted' }, 'No feedback given.'),
      );
    out.push(
      h(
        'div',
        { class: 'revealed', testid: 'feedback-revealed' },
        side(`From the client (${nameOf(state.clientId)})`, state.revealed.client),
        side(`From the freelancer (${nameOf(state.freelancerId)})`, state.revealed.freelancer),
      ),
    );
    return out;
  }
  const mine = me && (me.role === 'client' || me.role === 'freelancer') ? state.feedback[me.side] : null;
  if (mine) {
    out.push(
      h(
        'p',
        { testid: 'feedback-waiting' },
        `You rated ${mine.public.rating}/5. Waiting for the other side (or the window to close) before anything is revealed.`,
      ),
    );
    return out;
  }
  const sample = {
    type: 'feedback.submit' as const,
    public: { rating: 5, comment: '' },
    private: { score: 10 },
  };
  if (!can(ctx, sample)) {
    out.push(h('p', { class: 'muted' }, 'The client and the freelancer leave feedback here.'));
    return out;
  }
  const rating = h(
    'select',
    { testid: 'feedback-rating' },
    [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, `${n} — ${'★'.repeat(n)}`)),
  );
  const comment = h('textarea', { rows: 3, maxLength: 5000, testid: 'feedback-comment' });
  const score = h('input', {
    type: 'number',
    min: 0,
    max: 10,
    value: '8',
    required: true,
    testid: 'feedback-score',
  });
  const note = h('textarea', { rows: 2, maxLength: 5000 });
  out.push(
    h(
      'form',
      {
        class: 'feedback-form',
        testid: 'feedback-form',
        on: {
          submit: (e) => {
            e.preventDefault();
            const s = Math.max(0, Math.min(10, Math.round(Number(score.value))));
            ctx.send({
              type: 'feedback.submit',
              public: { rating: Number(rating.value), comment: comment.value.trim() },
              private: { score: s, ...(note.value.trim() ? { note: note.value.trim() } : {}) },
            });
          },
        },
      },
      h(
        'fieldset',
        null,
        h('legend', null, 'Public (revealed to both sides)'),
        field('Rating', rating),
        field('Comment', comment),
      ),
      h(
        'fieldset',
        null,
        h('legend', null, 'Private (only you ever see this)'),
        field('Would you recommend them? (0–10)', score),
        field('Private note (optional)', note),
      ),
      h('button', { type: 'submit', testid: 'feedback-submit' }, 'Submit feedback'),
    ),
  );
  return out;
}
