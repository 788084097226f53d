import { LIMITS } from '../../shared/schemas/common.js';

/** How many leading bytes of an upload the content sniffer looks at. */
export const SNIFF_BYTES = 8 * 1024;

export const OCTET_STREAM = 'application/octet-stream';
export const PLAIN_TEXT = 'text/plain; charset=utf-8';

const ascii = (text: string) => Buffer.from(text, 'latin1');
const startsWith = (head: Buffer, magic: Buffer, at = 0) =>
  head.length >= at + magic.length && head.subarray(at, at + magic.length).equals(magic);

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const GZIP = Buffer.from([0x1f, 0x8b, 0x08]);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const ZIP_LOCAL = ascii('PK\x03\x04');
const ZIP_EMPTY = ascii('PK\x05\x06');
const CONTENT_TYPES = ascii('[Content_Types].xml');

/** Office Open XML packages are zip files whose entries live under one of these folders. */
const OOXML: ReadonlyArray<readonly [Buffer, string]> = [
  [ascii('word/'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  [ascii('xl/'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  [ascii('ppt/'), 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
];

/**
 * The content type of an upload judged from its first bytes (the declared type is never
 * trusted). Markup is deliberately reported as plain text: nothing uploaded is ever labelled
 * as HTML, SVG or script, so no browser can be talked into running it.
 */
export function sniffContentType(head: Buffer): string {
  if (startsWith(head, PNG)) return 'image/png';
  if (startsWith(head, JPEG)) return 'image/jpeg';
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'image/webp';
  if (startsWith(head, ascii('%PDF-'))) return 'application/pdf';
  if (startsWith(head, ZIP_LOCAL) || startsWith(head, ZIP_EMPTY)) return zipKind(head);
  if (startsWith(head, GZIP)) return 'application/gzip';
  if (startsWith(head, ascii('ftyp'), 4)) return 'video/mp4';
  if (head.length > 0 && isUtf8Text(head)) return PLAIN_TEXT;
  return OCTET_STREAM;
}

/** A zip, or the Office document it packages when its first entries say so. */
function zipKind(head: Buffer): string {
  // Each local file header: signature, 22 bytes of fields, name length at 26, extra length at 28, name at 30.
  let at = 0;
  while (at + 30 <= head.length && startsWith(head, ZIP_LOCAL, at)) {
    const nameLength = head.readUInt16LE(at + 26);
    const name = head.subarray(at + 30, at + 30 + nameLength);
    for (const [folder, type] of OOXML) if (startsWith(name, folder)) return type;
    const flags = head.readUInt16LE(at + 6);
    const compressedSize = head.readUInt32LE(at + 18);
    // With a data descriptor the size is only known after the data: stop walking.
    if (flags & 0x08) break;
    at += 30 + nameLength + head.readUInt16LE(at + 28) + compressedSize;
  }
  // The entry names did not decide it within the sniffed bytes: look for the folders anywhere.
  for (const [folder, type] of OOXML) {
    if (head.includes(CONTENT_TYPES) && head.includes(folder)) return type;
  }
  return 'application/zip';
}

/**
 * Valid UTF-8 (a multi-byte sequence cut off by the end of the sniffed bytes is allowed) with
 * no NUL and hardly any other control characters.
 */
function isUtf8Text(head: Buffer): boolean {
  const bytes = startsWith(head, UTF8_BOM) ? head.subarray(3) : head;
  let controls = 0;
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b === 0) return false;
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) controls++;
      if (b === 0x7f) controls++;
      i++;
      continue;
    }
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return false;
    if (i + length > bytes.length) {
      // Cut off by the sniff window: fine if the part we have is well formed.
      if (head.length < SNIFF_BYTES) return false;
    }
    const end = Math.min(i + length, bytes.length);
    for (let j = i + 1; j < end; j++) if ((bytes[j]! & 0xc0) !== 0x80) return false;
    // Overlong or out-of-range forms of 3- and 4-byte sequences.
    const next = bytes[i + 1];
    if (next !== undefined) {
      if (b === 0xe0 && next < 0xa0) return false;
      if (b === 0xed && next > 0x9f) return false;
      if (b === 0xf0 && next < 0x90) return false;
      if (b === 0xf4 && next > 0x8f) return false;
    }
    i += length;
  }
  return controls * 100 <= bytes.length;
}

/** C0 and C1 controls, DEL, and the invisible marks that reorder or hide text (bidi, zero-width). */
function isUnsafeChar(c: number): boolean {
  return (
    c <= 0x1f ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0xfeff
  );
}

/**
 * The name an upload is shown with: the last segment of whatever path the client sent (both
 * `/` and `\`), without control or reordering characters, at most LIMITS.fileName characters
 * (keeping the extension), never empty and never `.` or `..`. It is never used to store the file.
 */
export function displayName(original: string | undefined, fallback = 'file'): string {
  const cleaned = [...(original ?? '').normalize('NFC')]
    .filter((ch) => !isUnsafeChar(ch.codePointAt(0)!))
    .join('');
  const segments = cleaned.split(/[/\\]/).map((s) => s.trim());
  let name = segments.reverse().find((s) => s !== '' && s !== '.' && s !== '..') ?? '';
  // A drive prefix left on its own ("C:") is not a name.
  name = name.replace(/^[A-Za-z]:(?=.)/, '').trim();
  if (name === '' || /^[.\s]+$/.test(name) || /^[A-Za-z]:$/.test(name)) return fallback;
  return capLength(name, LIMITS.fileName);
}

function capLength(name: string, max: number): string {
  const chars = [...name];
  if (chars.length <= max) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? [...name.slice(dot)] : [];
  if (extension.length > 0 && extension.length <= 16) {
    return chars.slice(0, max - extension.length).join('') + extension.join('');
  }
  return chars.slice(0, max).join('');
}
