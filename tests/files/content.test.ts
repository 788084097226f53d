/** The pure parts of file sharing: type sniffing, display names, Range parsing, Content-Disposition. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdSchema } from '../../shared/schemas/common.js';
import {
  displayName,
  OCTET_STREAM,
  PLAIN_TEXT,
  SNIFF_BYTES,
  sniffContentType,
} from '../../server/application/files-content.js';
import { attachment, parseRange } from '../../server/transport/http/files.js';

const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

/** A zip whose first local file header names `entry` (stored, no data descriptor). */
function zipWith(entry: string, body = 'x'): Buffer {
  const name = Buffer.from(entry);
  const header = Buffer.alloc(30);
  header.write('PK\x03\x04', 0, 'latin1');
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(body.length, 18);
  header.writeUInt32LE(body.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, Buffer.from(body)]);
}

describe('sniffContentType', () => {
  it.each([
    ['png', hex('89504e470d0a1a0a 0000000d49484452'), 'image/png'],
    ['jpeg', hex('ffd8ffe000104a464946'), 'image/jpeg'],
    ['gif', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'image/gif'],
    ['webp', Buffer.concat([Buffer.from('RIFF'), hex('24000000'), Buffer.from('WEBPVP8 ')]), 'image/webp'],
    ['pdf', Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3', 'latin1'), 'application/pdf'],
    ['gzip', hex('1f8b0800000000000003'), 'application/gzip'],
    ['mp4', Buffer.concat([hex('00000020'), Buffer.from('ftypisom')]), 'video/mp4'],
    ['zip', zipWith('readme.txt'), 'application/zip'],
    ['empty zip', hex('504b0506 00000000000000000000000000000000 0000'), 'application/zip'],
    [
      'docx',
      Buffer.concat([zipWith('[Content_Types].xml', '<Types/>'), zipWith('word/document.xml')]),
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    [
      'xlsx',
      Buffer.concat([zipWith('[Content_Types].xml'), zipWith('xl/workbook.xml')]),
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    ['ascii text', Buffer.from('Hello,\tworld\r\n'), PLAIN_TEXT],
    ['utf-8 text', Buffer.from('Grüße, 你好, 🎉\n'), PLAIN_TEXT],
    ['utf-8 with BOM', Buffer.concat([hex('efbbbf'), Buffer.from('a,b\n1,2\n')]), PLAIN_TEXT],
    ['html is plain text', Buffer.from('<!DOCTYPE html><script>alert(1)</script>'), PLAIN_TEXT],
    [
      'svg is plain text',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
      PLAIN_TEXT,
    ],
    ['a NUL byte', Buffer.from('text\x00more'), OCTET_STREAM],
    ['latin-1 bytes', Buffer.from('caf\xe9 cr\xe8me', 'latin1'), OCTET_STREAM],
    ['overlong utf-8', hex('c0af'), OCTET_STREAM],
    ['utf-16 surrogate in utf-8', hex('eda080'), OCTET_STREAM],
    ['random bytes', randomBytes(4096), OCTET_STREAM],
    ['nothing', Buffer.alloc(0), OCTET_STREAM],
  ])('%s', (_label, bytes, type) => {
    expect(sniffContentType(bytes)).toBe(type);
  });

  it('accepts a multi-byte character cut off by the sniff window, but not at the true end of a file', () => {
    // 'a' then 2-byte characters: the window ends on the first byte of one.
    const window = Buffer.from(`a${'é'.repeat(SNIFF_BYTES)}`).subarray(0, SNIFF_BYTES);
    expect(window.at(-1)).toBe(0xc3);
    expect(window.length).toBe(SNIFF_BYTES);
    expect(sniffContentType(window)).toBe(PLAIN_TEXT);
    expect(sniffContentType(Buffer.from('short é').subarray(0, 7))).toBe(OCTET_STREAM);
  });

  it('does not call binary text because of a few control characters in a long file, but does for many', () => {
    expect(sniffContentType(Buffer.from(`${'log line\n'.repeat(100)}\x07`))).toBe(PLAIN_TEXT);
    expect(sniffContentType(Buffer.from('\x01\x02\x03\x04abc'))).toBe(OCTET_STREAM);
  });
});

describe('displayName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\x\\y.txt', 'y.txt'],
    ['C:evil.txt', 'evil.txt'],
    ['\\\\server\\share\\report.pdf', 'report.pdf'],
    ['dir/sub/', 'sub'],
    ['..', 'file'],
    ['../..', 'file'],
    ['...', 'file'],
    ['', 'file'],
    [undefined, 'file'],
    ['   ', 'file'],
    ['a\u0000b\u001fc\u007fd\u0085e.txt', 'abcde.txt'],
    ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
    ['zero\u200Bwidth.md', 'zerowidth.md'],
    ['  spaced name.txt  ', 'spaced name.txt'],
    ['Cafe\u0301.txt', 'Café.txt'],
    ['日本語のファイル.pdf', '日本語のファイル.pdf'],
  ])('%j → %j', (sent, shown) => {
    expect(displayName(sent)).toBe(shown);
  });

  it('caps the length at 255 characters and keeps a short extension', () => {
    const name = displayName(`${'x'.repeat(300)}.tar.gz`);
    expect([...name]).toHaveLength(255);
    expect(name.endsWith('.gz')).toBe(true);
    expect([...displayName('😀'.repeat(300))]).toHaveLength(255);
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, 100, null],
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-1000', 100, { start: 0, end: 99 }],
    ['bytes=50-5000', 100, { start: 50, end: 99 }],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=100-200', 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=9-3', 100, null],
    ['bytes=0-1,3-4', 100, null],
    ['bytes=-', 100, null],
    ['items=0-1', 100, null],
    ['bytes=a-b', 100, null],
  ] as const)('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('attachment', () => {
  it('gives an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)', () => {
    expect(attachment('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(attachment('Grüße "final".txt')).toBe(
      `attachment; filename="Gr__e _final_.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22final%22.txt`,
    );
    expect(attachment("it's (1)*.txt")).toBe(
      `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`,
    );
    expect(attachment('50%\\off.txt')).toContain('filename="50__off.txt"');
  });
});

describe('file ids', () => {
  it('are valid shared ids (24 hex digits)', () => {
    expect(IdSchema.safeParse('6b02683a70c3665a0690d4e7').success).toBe(true);
  });
});
