import type { Actor, Phase, Role } from '../../shared/domain/index.js';

/** Display names of the users this browser has seen (the seeded development users, and whoever signs in). */
const NAMES = new Map<string, string>([
  ['alice', 'Alice Client'],
  ['dave', 'Dave Interviewer'],
  ['bob', 'Bob Freelancer'],
  ['carol', 'Carol Manager'],
  ['erin', 'Erin Freelancer'],
  ['mallory', 'Mallory Outsider'],
]);

export function rememberName(id: string, name: string | undefined): void {
  if (name) NAMES.set(id, name);
}

export function nameOf(id: string): string {
  if (id === 'system') return 'Workroom';
  return NAMES.get(id) ?? id;
}

export const ROLE_LABEL: Record<Role, string> = {
  client: 'client',
  interviewer: 'interviewer',
  freelancer: 'freelancer',
  agency_manager: 'agency manager',
};

export const PHASE_LABEL: Record<Phase, string> = {
  interview: 'Interview',
  offer: 'Offer',
  active: 'Active contract',
  ended: 'Ended',
};

/** "Carol Manager (agency manager) on behalf of Bob Freelancer" */
export function actorLabel(actor: Actor): string {
  if (actor.side === 'system') return 'Workroom';
  const base = nameOf(actor.id);
  return actor.onBehalfOf ? `${base} on behalf of ${nameOf(actor.onBehalfOf)}` : base;
}

function fractionDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

/** Integer minor units → "$1,500.00". */
export function money(minor: number, currency: string): string {
  const digits = fractionDigits(currency);
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: digits }).format(
      major,
    );
  } catch {
    return `${major.toFixed(digits)} ${currency}`;
  }
}

/** Minor units → the plain decimal string a form field shows ("1500.00"). */
export function minorToInput(minor: number, currency: string): string {
  const digits = fractionDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const s = String(Math.abs(minor)).padStart(digits + 1, '0');
  return digits === 0 ? sign + s : `${sign}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** "1,500.5" → 150050 minor units, exactly (no floating point); null when not a positive amount. */
export function inputToMinor(text: string, currency: string): number | null {
  const digits = fractionDigits(currency);
  const clean = text.trim().replace(/[,\s]/g, '');
  const match = /^(\d+)(?:\.(\d*))?$/.exec(clean);
  if (!match) return null;
  const frac = match[2] ?? '';
  if (frac.length > digits) return null;
  const value = Number(match[1]! + frac.padEnd(digits, '0'));
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

const dateTime = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });

export function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(t);
}

export function day(iso: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    const [y, m, d] = iso.split('-').map(Number);
    return dateOnly.format(new Date(y!, m! - 1, d!));
  }
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateOnly.format(t);
}

/** "3 min ago" for recent times, the date otherwise. */
export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return dateOnly.format(t);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A UUID for a command's clientId (crypto.randomUUID needs a secure context; this does not). */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
