import { api, ApiFailure } from '../api.js';
import { field, h } from '../dom.js';
import { identityFromToken, saveSession, type Session } from '../session.js';

/** The seeded users of development mode (PROTOCOL.md), for the picker. */
const SEEDED = [
  { id: 'alice', name: 'Alice Client', who: 'client' },
  { id: 'dave', name: 'Dave Interviewer', who: 'interviewer on the client side' },
  { id: 'bob', name: 'Bob Freelancer', who: 'freelancer, agency acme' },
  { id: 'carol', name: 'Carol Manager', who: 'manager of agency acme' },
  { id: 'erin', name: 'Erin Freelancer', who: 'freelancer' },
  { id: 'mallory', name: 'Mallory Outsider', who: 'nobody’s party' },
] as const;

export function renderSignIn(onSignedIn: (session: Session) => void, message?: string): HTMLElement {
  const status = h('p', { class: 'form-error', attrs: { role: 'alert' } }, message ?? '');
  const picker = h('div', { class: 'picker', testid: 'dev-picker', hidden: true });
  const pick = async (userId: string) => {
    try {
      const { token, user } = await api.devToken(userId);
      const session = { token, user };
      saveSession(session);
      onSignedIn(session);
    } catch (err) {
      status.textContent = err instanceof Error ? err.message : 'Sign-in failed';
    }
  };
  picker.append(
    h('h2', null, 'Development sign-in'),
    h('p', { class: 'muted' }, 'Pick one of the seeded users.'),
    h(
      'ul',
      { class: 'user-list' },
      SEEDED.map((u) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'user-pick',
              testid: `sign-in-${u.id}`,
              on: { click: () => void pick(u.id) },
            },
            h('strong', null, u.name),
            h('span', { class: 'muted' }, u.who),
          ),
        ),
      ),
    ),
  );
  // The picker shows only where the server mints development tokens.
  void api
    .devToken('alice')
    .then(() => {
      picker.hidden = false;
    })
    .catch((err: unknown) => {
      if (!(err instanceof ApiFailure)) console.warn(err);
    });

  const tokenInput = h('textarea', {
    rows: 3,
    required: true,
    spellcheck: false,
    attrs: { autocomplete: 'off' },
  });
  const form = h(
    'form',
    {
      class: 'token-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          const token = tokenInput.value.trim();
          const user = identityFromToken(token);
          if (!user) {
            status.textContent = 'That is not a valid, unexpired token.';
            return;
          }
          const session = { token, user };
          saveSession(session);
          onSignedIn(session);
        },
      },
    },
    h('h2', null, 'Sign in with a token'),
    field('Access token (JWT)', tokenInput, 'Paste the token your platform issued.'),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  return h(
    'main',
    { id: 'main', class: 'signin', testid: 'sign-in' },
    h('h1', null, 'Workroom'),
    h('p', { class: 'lead' }, 'Interviews, offers, contracts and feedback — one live room per candidacy.'),
    status,
    picker,
    form,
  );
}
