import type { Document } from 'bson';
import { keyString, pathValues } from './values.js';

/**
 * The key tuples documents have in one index: a value per indexed field, an array value giving
 * one tuple per element (multikey), a missing field indexed as null; none when the document is
 * outside a partial index's filter, or has none of a sparse index's fields.
 */
export class IndexKeys {
  /** Set once a document gave an array value: one document may then hold several entries. */
  multikey = false;
  private readonly paths: string[][];
  /** Every indexed field is a top-level one (no dotted path): see flat. */
  private readonly topLevel: boolean;

  constructor(
    private readonly fields: string[],
    private readonly sparse: boolean,
    private readonly partial: ((doc: unknown) => boolean) | undefined,
  ) {
    this.paths = fields.map((f) => f.split('.'));
    this.topLevel = this.paths.every((p) => p.length === 1);
  }

  of(doc: Document): unknown[][] {
    if (this.partial && !this.partial(doc)) return [];
    const flat = this.flat(doc);
    if (flat) return [flat];
    const perField = this.paths.map((p) => {
      const vals = pathValues(doc, p);
      const out: unknown[] = [];
      let present = false;
      for (const v of vals) {
        if (v !== undefined) present = true;
        if (Array.isArray(v)) {
          if (v.length === 0) out.push(undefined);
          else out.push(...v);
        } else out.push(v === undefined ? null : v);
      }
      if (out.length === 0) out.push(null);
      return { out, present, array: vals.some((v) => Array.isArray(v)) || vals.length > 1 };
    });
    if (this.sparse && !perField.some((f) => f.present)) return [];
    // Key tuples are kept for as long as their documents, so they are built at their exact
    // length: a tuple grown by spreading keeps spare room (a two-field tuple took 234 bytes
    // instead of 98, in every index entry of every document).
    if (perField.every((f) => !f.array && f.out.length === 1)) return [perField.map((f) => f.out[0] ?? null)];
    let keys: unknown[][] = [[]];
    for (const f of perField) {
      if (f.array) this.multikey = true;
      const uniq = f.out.length > 1 ? dedupe(f.out) : f.out;
      const next: unknown[][] = [];
      for (const k of keys) for (const v of uniq) next.push(k.concat([v ?? null]));
      keys = next;
    }
    return keys;
  }

  /**
   * The one key tuple of a document whose indexed fields are all top-level scalars (the common
   * case: ids, seqs, dates), read without the path walk and its arrays; undefined otherwise, or
   * when a sparse index must look closer. Every insert reads every index's keys, and the walk's
   * arrays were a fifth of what the store allocated per insert.
   */
  private flat(doc: Document): unknown[] | undefined {
    if (!this.topLevel) return undefined;
    const key = this.fields.map((field): unknown => (Object.hasOwn(doc, field) ? doc[field] : undefined));
    if (key.some((v) => Array.isArray(v)) || (this.sparse && key.every((v) => v === undefined)))
      return undefined;
    for (let i = 0; i < key.length; i++) key[i] ??= null;
    return key;
  }
}

function dedupe(vals: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const v of vals) {
    const k = keyString(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}
