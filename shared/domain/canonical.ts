/**
 * A deterministic JSON encoding: object keys sorted, no whitespace, `undefined` object members
 * dropped (as JSON.stringify does). The evidence chain hashes this text, so the same value always
 * yields the same bytes on every platform. Throws on what JSON cannot represent faithfully
 * (non-finite numbers, bigints, functions, symbols, cycles).
 *
 * Every event is hashed on the command path, so this builds one string by appending, without a
 * parts array or a set per object: the objects on the path to the current value (a handful) are
 * the cycle check, keys are sorted in place, and quoted keys are remembered.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, []);
}

function encode(value: unknown, path: object[]): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${String(value)}`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return encode((obj as { toJSON: () => unknown }).toJSON(), path);
  }
  if (path.includes(obj)) throw new TypeError('canonicalJson: cyclic value');
  path.push(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      const item: unknown = obj[i];
      if (i > 0) out += ',';
      out += item === undefined ? 'null' : encode(item, path);
    }
    out += ']';
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record);
    sortKeysInPlace(keys);
    out = '{';
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += `${quoted(key)}:${encode(member, path)}`;
    }
    out += '}';
  }
  path.pop();
  return out;
}

/**
 * Insertion sort: objects have a few keys, often in order already; the order of Array#sort (UTF-16
 * code units), without allocating.
 */
export function sortKeysInPlace(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

/** Schema keys repeat in every event; the cache is capped so arbitrary keys cannot grow it. */
const QUOTED_CACHE_LIMIT = 1024;
const quotedKeys = new Map<string, string>();

function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_CACHE_LIMIT) quotedKeys.set(key, q);
  }
  return q;
}
