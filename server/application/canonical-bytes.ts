/**
 * canonicalJson (shared/domain/canonical.ts) written as UTF-8 straight into a reused buffer, for
 * hashing: the same bytes as Buffer.from(canonicalJson(value)), without building the text (every
 * event is hashed on the command path, and its text was a few KB of short-lived strings). Plain
 * ASCII strings, the common case, are copied as they are; any other string goes through
 * JSON.stringify, exactly as canonicalJson writes it.
 */
import { sortKeysInPlace } from '../../shared/domain/canonical.js';

let buffer = Buffer.allocUnsafe(64 * 1024);
let length = 0;

/** Printable ASCII without `"` or `\`: JSON.stringify only adds the quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The canonical UTF-8 bytes of `value`; valid until the next call. */
export function canonicalBytes(value: unknown): Buffer {
  length = 0;
  write(value, []);
  return buffer.subarray(0, length);
}

function reserve(bytes: number): void {
  if (length + bytes <= buffer.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + bytes));
  buffer.copy(bigger, 0, 0, length);
  buffer = bigger;
}

/** ASCII text, byte by byte: cheaper than a call into the buffer for the short pieces of JSON. */
function ascii(text: string): void {
  reserve(text.length);
  for (let i = 0; i < text.length; i++) buffer[length++] = text.charCodeAt(i);
}

function byte(b: number): void {
  reserve(1);
  buffer[length++] = b;
}

function string(text: string): void {
  if (PLAIN.test(text)) {
    reserve(text.length + 2);
    buffer[length++] = 0x22;
    if (text.length <= 64) for (let i = 0; i < text.length; i++) buffer[length++] = text.charCodeAt(i);
    else length += buffer.write(text, length, 'latin1');
    buffer[length++] = 0x22;
    return;
  }
  const json = JSON.stringify(text);
  reserve(Buffer.byteLength(json));
  length += buffer.write(json, length, 'utf8');
}

function write(value: unknown, path: object[]): void {
  if (value === null) return ascii('null');
  switch (typeof value) {
    case 'string':
      return string(value);
    case 'boolean':
      return ascii(value ? 'true' : 'false');
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${String(value)}`);
      return ascii(JSON.stringify(value));
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function')
    return write((obj as { toJSON: () => unknown }).toJSON(), path);
  if (path.includes(obj)) throw new TypeError('canonicalJson: cyclic value');
  path.push(obj);
  if (Array.isArray(obj)) {
    byte(0x5b);
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) byte(0x2c);
      const item: unknown = obj[i];
      if (item === undefined) ascii('null');
      else write(item, path);
    }
    byte(0x5d);
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record);
    sortKeysInPlace(keys);
    byte(0x7b);
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      if (!first) byte(0x2c);
      first = false;
      string(key);
      byte(0x3a);
      write(member, path);
    }
    byte(0x7d);
  }
  path.pop();
}
