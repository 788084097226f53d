import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../server/application/canonical-bytes.js';
import { canonicalJson } from '../../shared/domain/index.js';
import { canonicalValueArb } from '../domain/arbitraries.js';

/** The bytes the server hashes must be canonicalJson's text as UTF-8, or no one else can check a hash. */
describe('canonicalBytes', () => {
  it('writes the UTF-8 of canonicalJson for arbitrary values: unicode, lone surrogates, escapes, integer-like keys, dates', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('', '"', '\\', '\u0000', '\u007f', '\ud800', 'é', 'x'.repeat(200)),
    );
    const key = fc.oneof(text, fc.constantFrom('0', '1', '10', '9', '01', 'a', 'B'));
    fc.assert(
      fc.property(canonicalValueArb(text, key), (v) => {
        expect(Buffer.from(canonicalBytes(v)).equals(Buffer.from(canonicalJson(v), 'utf8'))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('grows past its buffer for large values and refuses what JSON cannot carry', () => {
    const big = { text: 'é'.repeat(100_000), list: Array.from({ length: 5_000 }, (_, i) => ({ i })) };
    expect(Buffer.from(canonicalBytes(big)).equals(Buffer.from(canonicalJson(big), 'utf8'))).toBe(true);
    expect(() => canonicalBytes({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalBytes({ a: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalBytes(cyclic)).toThrow(TypeError);
  });
});
