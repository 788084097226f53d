import jwt from 'jsonwebtoken';

/** The seeded users of development mode (PROTOCOL.md, Identity). */
export const DEV_USERS = [
  { id: 'alice', name: 'Alice Client' },
  { id: 'dave', name: 'Dave Interviewer' },
  { id: 'bob', name: 'Bob Freelancer', agency: { id: 'acme', role: 'member' as const } },
  { id: 'carol', name: 'Carol Manager', agency: { id: 'acme', role: 'manager' as const } },
  { id: 'erin', name: 'Erin Freelancer' },
  { id: 'mallory', name: 'Mallory Outsider' },
] as const;

export type DevUser = (typeof DEV_USERS)[number];

export function findDevUser(id: string): DevUser | undefined {
  return DEV_USERS.find((u) => u.id === id);
}

/** Signs a development token for a seeded user, valid for 12 hours. */
export function signDevToken(
  user: DevUser,
  settings: { key: string; issuer?: string | undefined; audience?: string | undefined },
): string {
  return jwt.sign({ name: user.name, ...('agency' in user ? { agency: user.agency } : {}) }, settings.key, {
    algorithm: 'HS256',
    subject: user.id,
    expiresIn: '12h',
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  });
}
