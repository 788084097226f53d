import { UserIdentitySchema, type UserIdentity } from '../../shared/schemas/index.js';
import { rememberName } from './format.js';

export interface Session {
  token: string;
  user: UserIdentity;
}

const KEY = 'workroom.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as { token?: unknown; user?: unknown };
    const user = UserIdentitySchema.safeParse(parsed.user);
    if (typeof parsed.token !== 'string' || !user.success) return null;
    if (tokenExpired(parsed.token)) return null;
    rememberName(user.data.id, user.data.name);
    return { token: parsed.token, user: user.data };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  rememberName(session.user.id, session.user.name);
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

function payloadOf(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function tokenExpired(token: string): boolean {
  const exp = payloadOf(token)?.exp;
  return typeof exp === 'number' && exp * 1000 < Date.now();
}

/** The identity a pasted token claims (the server verifies it; this only labels the UI). */
export function identityFromToken(token: string): UserIdentity | null {
  const claims = payloadOf(token);
  if (!claims || tokenExpired(token)) return null;
  const user = UserIdentitySchema.safeParse({ id: claims.sub, name: claims.name, agency: claims.agency });
  return user.success ? user.data : null;
}
