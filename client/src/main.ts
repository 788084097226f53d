import './styles.css';
import { setToken } from './api.js';
import { h, replace } from './dom.js';
import { Realtime } from './realtime.js';
import { clearSession, loadSession, type Session } from './session.js';
import { renderDashboard } from './views/dashboard.js';
import { renderRoom } from './views/room.js';
import { renderSignIn } from './views/signin.js';
import { connectionBadge, toastArea } from './views/chrome.js';

/** What a view returns: a function that releases its subscriptions. */
export type Cleanup = () => void;

export interface App {
  session: Session;
  realtime: Realtime;
  navigate(hash: string): void;
  signOut(): void;
  toast(message: string): void;
}

const root = document.getElementById('app')!;
let current: { session: Session; realtime: Realtime } | null = null;
let cleanup: Cleanup | null = null;
const toasts = toastArea();

function start(session: Session): void {
  setToken(session.token);
  const realtime = new Realtime(session, () => signOut('Your session has expired: sign in again.'));
  current = { session, realtime };
  realtime.on((signal) => {
    if (signal.kind === 'error') toasts.show(signal.message);
  });
  route();
}

function signOut(message?: string): void {
  cleanup?.();
  cleanup = null;
  current?.realtime.close();
  current = null;
  clearSession();
  setToken(null);
  location.hash = '#/';
  route(message);
}

function route(message?: string): void {
  cleanup?.();
  cleanup = null;
  if (!current) {
    const session = loadSession();
    if (session) return start(session);
    replace(
      root,
      renderSignIn((s) => start(s), message),
      toasts.element,
    );
    return;
  }
  const app: App = {
    ...current,
    navigate: (hash) => {
      location.hash = hash;
    },
    signOut: () => signOut(),
    toast: (m) => toasts.show(m),
  };
  const match = /^#\/room\/([^/?#]+)/.exec(location.hash);
  const page = h('div', { class: 'page' });
  const header = h(
    'header',
    { class: 'topbar', attrs: { role: 'banner' } },
    h('a', { class: 'brand', href: '#/' }, 'Workroom'),
    connectionBadge(app.realtime),
    h(
      'div',
      { class: 'me' },
      h('span', { testid: 'me', class: 'me-name' }, app.session.user.name ?? app.session.user.id),
      h(
        'button',
        { type: 'button', class: 'link', testid: 'sign-out', on: { click: () => app.signOut() } },
        'Sign out',
      ),
    ),
  );
  const main = h('main', { id: 'main', tabIndex: -1 });
  page.append(header, main);
  replace(root, page, toasts.element);
  cleanup = match ? renderRoom(app, main, decodeURIComponent(match[1]!)) : renderDashboard(app, main);
}

window.addEventListener('hashchange', () => route());
route();

// The app shell works offline (a reload while offline keeps queued commands and the room's cache).
if ('serviceWorker' in navigator && !import.meta.hot) {
  navigator.serviceWorker.register('/sw.js').catch((err: unknown) => console.warn('no offline shell', err));
}
