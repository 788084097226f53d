import { messageAt, messageList, type RoomState } from '../../../shared/domain/index.js';
import type { RoomEvent } from '../../../shared/schemas/index.js';
import { downloadFile, uploadFile, type UploadResult } from '../api.js';
import { h, keyed, type Child } from '../dom.js';
import { actorLabel, bytes, nameOf, PHASE_LABEL, ROLE_LABEL, when } from '../format.js';
import type { App, Cleanup } from '../main.js';
import type { Queued } from '../realtime.js';
import { actorIn, can, type RoomContext } from './context.js';
import { describeEvent } from './describe.js';
import { contractPanel, feedbackPanel, milestonesPanel, reportsPanel, termsPanel } from './panels.js';

interface ViewState {
  editing: number | null;
  /** The edit in progress (kept across re-renders of its message). */
  editDraft: string | null;
  replyTo: number | null;
}

export function renderRoom(app: App, main: HTMLElement, roomId: string): Cleanup {
  const model = app.realtime.follow(roomId);
  const view: ViewState = { editing: null, editDraft: null, replyTo: null };
  const ctx: RoomContext = {
    app,
    model,
    refresh: () => render(),
    send: (command) => {
      app.realtime.send(roomId, command);
      render();
    },
  };

  const title = h('h1', { class: 'room-title', testid: 'room-title' });
  const phase = h('span', { class: 'badge', testid: 'room-phase' });
  const who = h('p', { class: 'muted room-who', testid: 'room-who' });
  const presence = h('p', { class: 'presence', testid: 'presence', attrs: { 'aria-live': 'polite' } });
  const notice = h('p', { class: 'notice', testid: 'room-notice', hidden: true });
  const list = h('ol', { class: 'timeline', testid: 'timeline', attrs: { 'aria-label': 'Room timeline' } });
  const scroller = h(
    'div',
    {
      class: 'timeline-scroll',
      tabIndex: 0,
      attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages and contract events' },
    },
    list,
  );
  const typing = h('p', { class: 'typing', testid: 'typing', attrs: { 'aria-live': 'polite' } });
  const composer = makeComposer(ctx, view);
  const terms = h('section', { class: 'card', testid: 'terms-panel', attrs: { 'aria-label': 'Terms' } });
  const milestones = h('section', {
    class: 'card',
    testid: 'milestones-panel',
    attrs: { 'aria-label': 'Milestones' },
  });
  const reports = h('section', {
    class: 'card',
    testid: 'reports-panel',
    attrs: { 'aria-label': 'Status reports' },
  });
  const contract = h('section', {
    class: 'card',
    testid: 'contract-panel',
    attrs: { 'aria-label': 'Contract' },
  });
  const feedback = h('section', {
    class: 'card',
    testid: 'feedback-panel',
    attrs: { 'aria-label': 'Feedback' },
  });

  main.replaceChildren(
    h(
      'div',
      { class: 'room', testid: 'room', attrs: { 'data-room-id': roomId } },
      h(
        'div',
        { class: 'room-head' },
        h('a', { href: '#/', class: 'back' }, '← Dashboard'),
        h('div', { class: 'room-heading' }, title, phase),
        who,
        presence,
        notice,
      ),
      h('div', { class: 'room-chat' }, scroller, typing, composer.element),
      h(
        'aside',
        { class: 'room-side', attrs: { 'aria-label': 'Contract' } },
        terms,
        milestones,
        reports,
        contract,
        feedback,
      ),
    ),
  );

  const items = new Map<string, { sig: string; el: HTMLElement }>();

  function render(): void {
    const state = model.state;
    if (model.error) {
      notice.hidden = false;
      notice.textContent = model.error;
    } else if (model.fromCache && !model.joined) {
      notice.hidden = false;
      notice.textContent = 'Showing what this browser saved; it catches up when the connection is back.';
    } else notice.hidden = true;
    if (!state) {
      title.textContent = model.error ? 'Room unavailable' : 'Loading…';
      return;
    }
    title.textContent = state.title;
    document.title = `${state.title} · Workroom`;
    phase.textContent = PHASE_LABEL[state.phase];
    phase.className = `badge phase-${state.phase}`;
    const me = actorIn(ctx, state);
    who.textContent =
      `${nameOf(state.clientId)} (client) with ${nameOf(state.freelancerId)} (freelancer)` +
      (me ? ` · you are the ${ROLE_LABEL[me.role]}` : '');
    const online = model.joined ? model.online : [];
    presence.textContent = online.length > 0 ? `Online: ${online.map(nameOf).join(', ')}` : '';
    const typers = model.typingNow();
    typing.textContent =
      typers.length > 0 ? `${typers.map(nameOf).join(', ')} ${typers.length > 1 ? 'are' : 'is'} typing…` : '';
    renderTimeline(state);
    composer.update(state);
    const sideSig = (...parts: unknown[]) => JSON.stringify([state.phase, me, ...parts]);
    keyed(
      terms,
      sideSig(
        state.proposals,
        state.openProposalVersion,
        state.termsInForce,
        state.milestones.map((m) => m.status),
      ),
      () => termsPanel(ctx),
    );
    keyed(milestones, sideSig(state.milestones), () => milestonesPanel(ctx));
    keyed(
      reports,
      sideSig(
        state.statusReports,
        state.milestones.map((m) => m.id),
        lastReminder(model.events),
      ),
      () => reportsPanel(ctx, lastReminder(model.events)),
    );
    keyed(contract, sideSig(state.endedAt, state.endReason), () => contractPanel(ctx));
    keyed(feedback, sideSig(state.feedback, state.revealed, state.endedAt), () => feedbackPanel(ctx));
  }

  function renderTimeline(state: RoomState): void {
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const wanted: HTMLElement[] = [];
    const seen = new Set<string>();
    const lastReadBy = receipts(state);
    for (const e of model.events) {
      if (e.type === 'message.edited' || e.type === 'message.deleted') continue;
      const key = `e${e.seq}`;
      const sig = e.type === 'message.posted' ? messageSig(state, e, lastReadBy.get(e.seq)) : 'x';
      wanted.push(
        item(key, sig, () =>
          e.type === 'message.posted'
            ? messageItem(state, e, lastReadBy.get(e.seq) ?? [])
            : eventItem(state, e),
        ),
      );
      seen.add(key);
    }
    for (const q of app.realtime.queued(roomId)) {
      const key = `q${q.clientId}`;
      wanted.push(item(key, 'q', () => queuedItem(q)));
      seen.add(key);
    }
    for (const key of [...items.keys()]) if (!seen.has(key)) items.delete(key);
    wanted.forEach((el, i) => {
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] ?? null);
    });
    while (list.children.length > wanted.length) list.lastElementChild!.remove();
    if (nearBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  function item(key: string, sig: string, build: () => HTMLElement): HTMLElement {
    const existing = items.get(key);
    if (existing && existing.sig === sig) return existing.el;
    const hadFocus = existing?.el.contains(document.activeElement) ?? false;
    const el = build();
    if (existing) existing.el.replaceWith(el);
    if (hadFocus) el.querySelector<HTMLElement>('textarea, button')?.focus();
    items.set(key, { sig, el });
    return el;
  }

  /** For each message seq: the others whose read position reached it (shown on the latest message of someone else they read). */
  function receipts(state: RoomState): Map<number, string[]> {
    const metas = messageList(state.messages);
    const out = new Map<number, string[]>();
    for (const [userId, read] of model.reads) {
      let last: number | undefined;
      for (const m of metas) if (m.seq <= read && m.authorId !== userId) last = m.seq;
      if (last !== undefined) out.set(last, [...(out.get(last) ?? []), userId]);
    }
    return out;
  }

  function messageSig(
    state: RoomState,
    e: Extract<RoomEvent, { type: 'message.posted' }>,
    readers: string[] | undefined,
  ): string {
    const meta = messageAt(state.messages, e.seq);
    return JSON.stringify([
      model.texts.get(e.seq),
      meta?.edited,
      meta?.deleted,
      view.editing === e.seq,
      readers,
      state.phase,
      Object.keys(state.files).length,
    ]);
  }

  function messageItem(
    state: RoomState,
    e: Extract<RoomEvent, { type: 'message.posted' }>,
    readers: string[],
  ): HTMLElement {
    const meta = messageAt(state.messages, e.seq);
    const mine = e.actor.id === app.session.user.id;
    const deleted = meta?.deleted ?? false;
    const text = model.texts.get(e.seq) ?? e.data.text;
    const li = h('li', {
      class: `msg${mine ? ' mine' : ''}${deleted ? ' deleted' : ''}`,
      testid: 'message',
      attrs: { 'data-seq': e.seq, 'data-author': e.actor.id },
    });
    const head = h(
      'div',
      { class: 'msg-head' },
      h('strong', null, actorLabel(e.actor)),
      e.actor.side !== 'system' ? h('span', { class: 'muted' }, ROLE_LABEL[e.actor.role]) : null,
      h('time', { class: 'muted', dateTime: e.at }, when(e.at)),
      meta?.edited && !deleted
        ? h(
            'span',
            {
              class: 'edited',
              testid: 'edited',
              title: meta.editedAt ? `Edited ${when(meta.editedAt)}` : 'Edited',
            },
            '(edited)',
          )
        : null,
    );
    const reply = e.data.replyTo != null ? replyQuote(state, e.data.replyTo) : null;
    let body: Child;
    if (deleted)
      body = h('p', { class: 'msg-text muted', testid: 'message-text' }, 'This message was deleted.');
    else if (view.editing === e.seq) body = editForm(e.seq, text);
    else body = h('p', { class: 'msg-text', testid: 'message-text' }, text);
    const files = deleted ? null : fileLinks(state, e.data.fileIds);
    const actions: HTMLElement[] = [];
    if (!deleted && state.phase !== 'ended' && view.editing !== e.seq) {
      actions.push(
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            testid: 'reply',
            on: { click: () => composer.replyTo(e.seq) },
            attrs: { 'aria-label': `Reply to ${nameOf(e.actor.id)}` },
          },
          'Reply',
        ),
      );
      if (mine && can(ctx, { type: 'message.edit', seq: e.seq, text: 'x' })) {
        actions.push(
          h(
            'button',
            { type: 'button', class: 'link', testid: 'edit', on: { click: () => startEdit(e.seq) } },
            'Edit',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              testid: 'delete',
              on: { click: () => ctx.send({ type: 'message.delete', seq: e.seq }) },
            },
            'Delete',
          ),
        );
      }
    }
    li.append(
      head,
      ...(reply ? [reply] : []),
      body,
      ...(files ? [files] : []),
      h('div', { class: 'msg-actions' }, actions),
      ...(readers.length > 0
        ? [h('p', { class: 'receipt muted', testid: 'receipt' }, `Seen by ${readers.map(nameOf).join(', ')}`)]
        : []),
    );
    return li;
  }

  function replyQuote(state: RoomState, seq: number): HTMLElement {
    const meta = messageAt(state.messages, seq);
    const text = meta?.deleted ? 'a deleted message' : (model.texts.get(seq) ?? '…');
    return h(
      'blockquote',
      { class: 'reply-quote', testid: 'reply-quote' },
      `↪ ${meta ? nameOf(meta.authorId) : ''}: ${text.slice(0, 140)}`,
    );
  }

  function startEdit(seq: number): void {
    view.editing = seq;
    view.editDraft = null;
    render();
    list.querySelector<HTMLTextAreaElement>(`[data-seq="${seq}"] textarea`)?.focus();
  }

  function editForm(seq: number, text: string): HTMLElement {
    const input = h('textarea', {
      value: view.editDraft ?? text,
      rows: 2,
      testid: 'edit-input',
      attrs: { 'aria-label': 'Edit message' },
    });
    input.addEventListener('input', () => {
      view.editDraft = input.value;
    });
    const stop = () => {
      view.editing = null;
      view.editDraft = null;
      render();
    };
    return h(
      'form',
      {
        class: 'edit-form',
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const value = input.value.trim();
            if (value && value !== text) ctx.send({ type: 'message.edit', seq, text: input.value });
            stop();
          },
          keydown: (ev) => {
            if (ev.key === 'Escape') stop();
          },
        },
      },
      input,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit', testid: 'edit-save' }, 'Save'),
        h('button', { type: 'button', class: 'secondary', on: { click: stop } }, 'Cancel'),
      ),
    );
  }

  function eventItem(state: RoomState, e: RoomEvent): HTMLElement {
    const d = describeEvent(state, e, app.session.user.id);
    return h(
      'li',
      {
        class: `evt evt-${e.type.replace('.', '-')}`,
        testid: 'event',
        attrs: { 'data-seq': e.seq, 'data-type': e.type },
      },
      h(
        'p',
        null,
        h('span', { class: 'evt-text' }, d.text),
        ' ',
        h('time', { class: 'muted', dateTime: e.at }, when(e.at)),
      ),
      d.detail ? h('p', { class: 'evt-detail' }, d.detail) : null,
      e.type === 'file.shared' ? fileLinks(state, [e.data.fileId]) : null,
      e.type === 'milestone.submitted' && e.data.files.length > 0 ? frozenLinks(e.data.files) : null,
    );
  }

  function queuedItem(q: Queued): HTMLElement {
    const text =
      q.command.type === 'message.post' ? q.command.text : `${q.command.type} (waiting to be sent)`;
    return h(
      'li',
      { class: 'msg mine queued', testid: 'queued', attrs: { 'data-client-id': q.clientId } },
      h(
        'div',
        { class: 'msg-head' },
        h('strong', null, nameOf(app.session.user.id)),
        h('span', { class: 'badge' }, app.realtime.status === 'online' ? 'Sending…' : 'Queued'),
      ),
      h('p', { class: 'msg-text', testid: 'queued-text' }, text),
    );
  }

  const unsubscribe = model.subscribe(() => {
    render();
    app.realtime.markRead(model);
  });
  const offSignal = app.realtime.on((s) => {
    if (s.kind === 'outbox' || s.kind === 'status') render();
  });
  const typingTimer = setInterval(() => {
    if (model.typing.size > 0) render();
  }, 2000);
  render();
  return () => {
    unsubscribe();
    offSignal();
    clearInterval(typingTimer);
    composer.dispose();
    app.realtime.unfollow(roomId);
  };
}

function lastReminder(events: RoomEvent[]): Extract<RoomEvent, { type: 'reminder.statusReport' }> | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'statusReport.submitted') return null;
    if (e.type === 'reminder.statusReport') return e;
  }
  return null;
}

export function fileLinks(state: RoomState, fileIds: readonly string[]): HTMLElement | null {
  if (fileIds.length === 0) return null;
  return h(
    'ul',
    { class: 'files' },
    fileIds.map((id) => {
      const f = state.files[id];
      return h('li', null, downloadButton(id, f?.name ?? id, f ? ` (${bytes(f.size)})` : ''));
    }),
  );
}

function frozenLinks(files: ReadonlyArray<{ id: string; name: string }>): HTMLElement {
  return h(
    'ul',
    { class: 'files' },
    files.map((f) => h('li', null, downloadButton(f.id, f.name, ''))),
  );
}

export function downloadButton(id: string, name: string, suffix: string): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'file-link',
      testid: 'file-link',
      on: {
        click: () => {
          downloadFile(id, name).catch((err: unknown) => alertLater(err));
        },
      },
    },
    `⬇ ${name}${suffix}`,
  );
}

function alertLater(err: unknown): void {
  console.warn('download failed', err);
}

/** Uploads chosen files with a progress bar each; resolves to the ids of those that arrived. */
export function fileAttacher(
  ctx: RoomContext,
  label: string,
): { element: HTMLElement; fileIds(): string[]; busy(): boolean; clear(): void } {
  const uploaded: UploadResult['file'][] = [];
  let pending = 0;
  const input = h('input', {
    type: 'file',
    multiple: true,
    class: 'visually-hidden-file',
    testid: 'file-input',
  });
  const id = `file-${Math.random().toString(36).slice(2, 8)}`;
  input.id = id;
  const progress = h('div', { class: 'uploads', testid: 'uploads', attrs: { 'aria-live': 'polite' } });
  input.addEventListener('change', () => {
    for (const file of [...(input.files ?? [])]) {
      const bar = h('progress', {
        max: 1,
        value: 0,
        testid: 'upload-progress',
        attrs: { 'aria-label': `Uploading ${file.name}` },
      });
      const row = h('div', { class: 'upload' }, h('span', null, file.name), bar);
      progress.append(row);
      pending += 1;
      uploadFile(ctx.model.roomId, file, (f) => {
        bar.value = f;
      })
        .then((res) => {
          uploaded.push(res.file);
          ctx.model.ingest([res.event]);
          row.replaceChildren(
            h('span', { testid: 'uploaded' }, `✓ ${res.file.name} (${bytes(res.file.size)})`),
            removeButton(res.file.id, row),
          );
        })
        .catch((err: unknown) => {
          row.replaceChildren(
            h(
              'span',
              { class: 'form-error' },
              `${file.name}: ${err instanceof Error ? err.message : 'upload failed'}`,
            ),
          );
        })
        .finally(() => {
          pending -= 1;
        });
    }
    input.value = '';
  });
  const removeButton = (fileId: string, row: HTMLElement) =>
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        attrs: { 'aria-label': 'Remove attachment' },
        on: {
          click: () => {
            const i = uploaded.findIndex((f) => f.id === fileId);
            if (i >= 0) uploaded.splice(i, 1);
            row.remove();
          },
        },
      },
      '✕',
    );
  const element = h(
    'div',
    { class: 'attacher' },
    h(
      'label',
      {
        htmlFor: id,
        class: 'button secondary',
        tabIndex: 0,
        attrs: { role: 'button' },
        on: {
          keydown: (e) => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              input.click();
            }
          },
        },
      },
      label,
    ),
    input,
    progress,
  );
  return {
    element,
    fileIds: () => uploaded.map((f) => f.id),
    busy: () => pending > 0,
    clear: () => {
      uploaded.length = 0;
      progress.replaceChildren();
    },
  };
}

function makeComposer(ctx: RoomContext, view: ViewState) {
  const textarea = h('textarea', {
    rows: 2,
    testid: 'composer-input',
    id: 'composer-text',
    maxLength: 10_000,
    attrs: { placeholder: 'Write a message…' },
  });
  const attacher = fileAttacher(ctx, 'Attach files');
  const replyBox = h('div', { class: 'replying', testid: 'replying', hidden: true });
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  const send = h('button', { type: 'submit', testid: 'composer-send' }, 'Send');
  let typingSent = false;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  const stopTyping = () => {
    clearTimeout(typingTimer);
    if (typingSent) ctx.app.realtime.typing(ctx.model.roomId, false);
    typingSent = false;
  };
  textarea.addEventListener('input', () => {
    if (!typingSent && textarea.value.trim()) {
      typingSent = true;
      ctx.app.realtime.typing(ctx.model.roomId, true);
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  });
  const submit = () => {
    error.textContent = '';
    const text = textarea.value;
    if (!text.trim()) {
      error.textContent = 'Write something first.';
      return;
    }
    if (attacher.busy()) {
      error.textContent = 'Wait for the uploads to finish.';
      return;
    }
    const fileIds = attacher.fileIds();
    ctx.send({
      type: 'message.post',
      text,
      ...(fileIds.length ? { fileIds } : {}),
      ...(view.replyTo != null ? { replyTo: view.replyTo } : {}),
    });
    textarea.value = '';
    attacher.clear();
    setReply(null);
    stopTyping();
    textarea.focus();
  };
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  const setReply = (seq: number | null) => {
    view.replyTo = seq;
    if (seq == null) {
      replyBox.hidden = true;
      replyBox.replaceChildren();
      return;
    }
    const meta = ctx.model.state && messageAt(ctx.model.state.messages, seq);
    replyBox.hidden = false;
    replyBox.replaceChildren(
      h(
        'span',
        null,
        `Replying to ${meta ? nameOf(meta.authorId) : ''}: ${(ctx.model.texts.get(seq) ?? '').slice(0, 80)}`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          on: { click: () => setReply(null) },
          attrs: { 'aria-label': 'Cancel reply' },
        },
        'Cancel',
      ),
    );
  };
  const form = h(
    'form',
    {
      class: 'composer',
      testid: 'composer',
      on: {
        submit: (e) => {
          e.preventDefault();
          submit();
        },
      },
    },
    replyBox,
    h('label', { htmlFor: 'composer-text', class: 'visually-hidden' }, 'Message'),
    textarea,
    h('div', { class: 'composer-row' }, attacher.element, send),
    error,
    h(
      'p',
      { class: 'hint' },
      'Enter sends, Shift+Enter adds a line. Offline, messages are queued and sent when you are back.',
    ),
  );
  return {
    element: form,
    update(state: RoomState) {
      const open = state.phase !== 'ended';
      form.hidden = !open;
    },
    replyTo(seq: number) {
      setReply(seq);
      textarea.focus();
    },
    dispose: stopTyping,
  };
}
