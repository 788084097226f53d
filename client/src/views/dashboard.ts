import type { Candidacy, Notification, RoomListItem } from '../../../shared/schemas/index.js';
import { api } from '../api.js';
import { field, h, keyed } from '../dom.js';
import { ago, nameOf, PHASE_LABEL, ROLE_LABEL, when } from '../format.js';
import type { App, Cleanup } from '../main.js';

const CACHE = (user: string) => `workroom.dashboard.${user}`;

interface DashboardData {
  rooms: RoomListItem[];
  candidacies: Candidacy[];
  notifications: Notification[];
}

/** My rooms, my candidacies per role, the agency's team, notifications — all kept live. */
export function renderDashboard(app: App, main: HTMLElement): Cleanup {
  const me = app.session.user;
  let data: DashboardData = restore(me.id);
  const roomsEl = h('div', { testid: 'rooms' });
  const candEl = h('div', { testid: 'candidacies' });
  const notesEl = h('div', { testid: 'notifications' });

  main.replaceChildren(
    h(
      'div',
      { class: 'dashboard', testid: 'dashboard' },
      h('h1', { class: 'visually-hidden' }, 'Dashboard'),
      h(
        'div',
        { class: 'col' },
        h(
          'section',
          { class: 'card', attrs: { 'aria-labelledby': 'rooms-h' } },
          h('h2', { id: 'rooms-h' }, 'My rooms'),
          roomsEl,
        ),
        h(
          'section',
          { class: 'card', attrs: { 'aria-labelledby': 'cand-h' } },
          h('h2', { id: 'cand-h' }, 'Candidacies'),
          candEl,
        ),
      ),
      h(
        'div',
        { class: 'col' },
        h(
          'section',
          { class: 'card', attrs: { 'aria-labelledby': 'notes-h' } },
          h('h2', { id: 'notes-h' }, 'Notifications'),
          notesEl,
        ),
        newRoomForm(app),
      ),
    ),
  );

  const render = () => {
    keyed(roomsEl, JSON.stringify(data.rooms) + minute(), () => roomList(data.rooms));
    keyed(candEl, JSON.stringify(data.candidacies), () => candidacyLists(data.candidacies, me.id));
    keyed(notesEl, JSON.stringify(data.notifications), () => notificationList(data.notifications));
  };
  render();

  let refreshing: Promise<void> | null = null;
  let again = false;
  const refresh = async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = (async () => {
      try {
        const [rooms, candidacies, notifications] = await Promise.all([
          api.rooms(),
          api.candidacies(),
          api.notifications(),
        ]);
        data = {
          rooms: rooms.rooms,
          candidacies: candidacies.candidacies,
          notifications: notifications.notifications,
        };
        localStorage.setItem(CACHE(me.id), JSON.stringify(data));
        render();
      } catch {
        // offline: keep what is shown; the next signal or tick refreshes
      }
    })();
    await refreshing;
    refreshing = null;
    if (again) {
      again = false;
      void refresh();
    }
  };
  void refresh();

  const off = app.realtime.on((signal) => {
    switch (signal.kind) {
      case 'notification':
        if (!data.notifications.some((n) => n.id === signal.notification.id)) {
          data = { ...data, notifications: [signal.notification, ...data.notifications] };
          render();
        }
        void refresh();
        break;
      case 'candidacy': {
        const c = signal.candidacy;
        const others = data.candidacies.filter((x) => x.roomId !== c.roomId);
        data = { ...data, candidacies: [c, ...others] };
        render();
        void refresh();
        break;
      }
      case 'status':
        if (app.realtime.status === 'online') void refresh();
        break;
      default:
        break;
    }
  });
  // Unread counts change with every message in any room: refresh now and then while shown.
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, 5000);
  return () => {
    off();
    clearInterval(timer);
  };
}

function minute(): string {
  return String(Math.floor(Date.now() / 60_000));
}

function restore(userId: string): DashboardData {
  try {
    const raw = localStorage.getItem(CACHE(userId));
    if (raw) return JSON.parse(raw) as DashboardData;
  } catch {
    // ignore a broken cache
  }
  return { rooms: [], candidacies: [], notifications: [] };
}

function phaseBadge(phase: RoomListItem['phase']): HTMLElement {
  return h('span', { class: `badge phase-${phase}`, testid: 'phase' }, PHASE_LABEL[phase]);
}

function roomList(rooms: RoomListItem[]): HTMLElement {
  if (rooms.length === 0) return h('p', { class: 'muted' }, 'No rooms yet.');
  return h(
    'ul',
    { class: 'list', testid: 'room-list' },
    rooms.map((r) =>
      h(
        'li',
        { testid: 'room-item', attrs: { 'data-room-id': r.id } },
        h(
          'a',
          { href: `#/room/${encodeURIComponent(r.id)}`, class: 'row-link' },
          h('span', { class: 'row-title' }, r.title),
          h(
            'span',
            { class: 'row-meta' },
            phaseBadge(r.phase),
            h('span', { class: 'muted' }, `as ${ROLE_LABEL[r.myRole]}`),
            h(
              'time',
              { class: 'muted', dateTime: r.lastActivityAt, title: when(r.lastActivityAt) },
              ago(r.lastActivityAt),
            ),
            r.unread > 0
              ? h(
                  'span',
                  { class: 'badge unread', testid: 'unread', attrs: { 'aria-label': `${r.unread} unread` } },
                  String(r.unread),
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

function candidacyItem(c: Candidacy): HTMLElement {
  const pending = c.phase === 'offer' && c.openProposal != null;
  return h(
    'li',
    { testid: 'candidacy', attrs: { 'data-room-id': c.roomId, 'data-phase': c.phase } },
    h(
      'a',
      { href: `#/room/${encodeURIComponent(c.roomId)}`, class: 'row-link' },
      h('span', { class: 'row-title' }, c.title),
      h(
        'span',
        { class: 'row-meta' },
        phaseBadge(c.phase),
        pending ? h('span', { class: 'badge offer', testid: 'pending-offer' }, 'Offer pending') : null,
        h('span', { class: 'muted' }, `${nameOf(c.clientId)} → ${nameOf(c.freelancerId)}`),
        h('time', { class: 'muted', dateTime: c.lastActivityAt }, ago(c.lastActivityAt)),
      ),
    ),
  );
}

function candidacyLists(all: Candidacy[], _me: string): HTMLElement {
  const mine = all.filter((c) => c.myRole === 'freelancer');
  const asClient = all.filter((c) => c.myRole === 'client' || c.myRole === 'interviewer');
  // The server orders the team with pending offers first; keep that, and make sure of it.
  const team = all
    .filter((c) => c.myRole === 'agency_manager')
    .sort(
      (a, b) =>
        Number(b.phase === 'offer') - Number(a.phase === 'offer') ||
        b.lastActivityAt.localeCompare(a.lastActivityAt),
    );
  const byJob = new Map<string, Candidacy[]>();
  for (const c of asClient) {
    const key = c.jobId ?? '';
    byJob.set(key, [...(byJob.get(key) ?? []), c]);
  }
  const sections: HTMLElement[] = [];
  if (team.length > 0) {
    sections.push(
      h(
        'div',
        { testid: 'team' },
        h('h3', null, 'My agency’s team'),
        h('ul', { class: 'list' }, team.map(candidacyItem)),
      ),
    );
  }
  if (mine.length > 0) {
    sections.push(
      h(
        'div',
        { testid: 'my-candidacies' },
        h('h3', null, 'My candidacies'),
        h('ul', { class: 'list' }, mine.map(candidacyItem)),
      ),
    );
  }
  for (const [job, list] of byJob) {
    sections.push(
      h(
        'div',
        { testid: 'candidates' },
        h('h3', null, job ? `Candidates for job ${job}` : 'Candidates'),
        h('ul', { class: 'list' }, list.map(candidacyItem)),
      ),
    );
  }
  return sections.length > 0 ? h('div', null, sections) : h('p', { class: 'muted' }, 'No candidacies yet.');
}

function notificationList(list: Notification[]): HTMLElement {
  if (list.length === 0) return h('p', { class: 'muted' }, 'Nothing new.');
  return h(
    'ul',
    { class: 'list notes' },
    list.slice(0, 30).map((n) =>
      h(
        'li',
        {
          testid: 'notification',
          class: n.read === false || n.read === undefined ? 'new' : '',
          attrs: { 'data-kind': n.kind },
        },
        h(
          'a',
          { href: `#/room/${encodeURIComponent(n.roomId)}`, class: 'row-link' },
          h('span', null, n.text),
          h('time', { class: 'muted', dateTime: n.at }, ago(n.at)),
        ),
      ),
    ),
  );
}

function newRoomForm(app: App): HTMLElement {
  const title = h('input', { type: 'text', required: true, maxLength: 200, name: 'title' });
  const freelancer = h('input', {
    type: 'text',
    required: true,
    name: 'freelancer',
    attrs: { list: 'known-freelancers', autocomplete: 'off' },
  });
  const job = h('input', { type: 'text', name: 'job' });
  const interviewers = h('input', { type: 'text', name: 'interviewers' });
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  const button = h('button', { type: 'submit' }, 'Start interview');
  const form = h(
    'form',
    {
      class: 'card',
      testid: 'new-room',
      attrs: { 'aria-labelledby': 'new-room-h' },
      on: {
        submit: (e) => {
          e.preventDefault();
          error.textContent = '';
          button.disabled = true;
          const ids = interviewers.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          api
            .createRoom({
              title: title.value.trim(),
              freelancerId: freelancer.value.trim(),
              ...(job.value.trim() ? { jobId: job.value.trim() } : {}),
              ...(ids.length > 0 ? { interviewerIds: ids } : {}),
            })
            .then(({ room }) => app.navigate(`#/room/${encodeURIComponent(room.id)}`))
            .catch((err: unknown) => {
              error.textContent = err instanceof Error ? err.message : 'The room was not created';
            })
            .finally(() => {
              button.disabled = false;
            });
        },
      },
    },
    h('h2', { id: 'new-room-h' }, 'Start an interview'),
    h('p', { class: 'muted' }, 'Open a room with a freelancer; you are its client.'),
    field('Title', title),
    field('Freelancer (user id)', freelancer),
    h(
      'datalist',
      { id: 'known-freelancers' },
      h('option', { value: 'bob' }, 'Bob Freelancer'),
      h('option', { value: 'erin' }, 'Erin Freelancer'),
    ),
    field('Job id (optional)', job),
    field('Interviewers (user ids, comma-separated, optional)', interviewers),
    error,
    button,
  );
  return form;
}
