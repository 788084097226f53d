import { h } from '../dom.js';
import type { Realtime } from '../realtime.js';

const LABEL = { online: 'Online', connecting: 'Connecting…', offline: 'Offline' } as const;

/** The connection state, always visible; announces changes to screen readers. */
export function connectionBadge(realtime: Realtime): HTMLElement {
  const el = h('div', {
    class: 'conn',
    testid: 'connection',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });
  const render = () => {
    const queued = realtime.queued().length;
    el.dataset.state = realtime.status;
    el.textContent = LABEL[realtime.status] + (queued > 0 ? ` · ${queued} queued` : '');
    el.title =
      realtime.status === 'online'
        ? 'Connected: changes are live'
        : 'Not connected: what you do is queued and sent when the connection is back';
  };
  render();
  const off = realtime.on((s) => {
    if (s.kind === 'status' || s.kind === 'outbox') render();
  });
  // Detached with its page: stop listening.
  const observer = new MutationObserver(() => {
    if (!el.isConnected) {
      off();
      observer.disconnect();
    }
  });
  queueMicrotask(() => observer.observe(document.body, { childList: true, subtree: true }));
  return el;
}

export function toastArea(): { element: HTMLElement; show(message: string): void } {
  const element = h('div', {
    class: 'toasts',
    testid: 'toasts',
    attrs: { role: 'alert', 'aria-live': 'assertive' },
  });
  return {
    element,
    show(message: string) {
      const t = h('div', { class: 'toast' }, message);
      element.append(t);
      setTimeout(() => t.remove(), 6000);
    },
  };
}
