import { createHash } from 'node:crypto';

/** Deeper than this, a subtree is written by the loop instead of recursion. */
const recursionDepth = 200;

/**
 * JSON with object keys sorted and undefined properties left out, so equal values serialise,
 * and hash, equally whatever their key order. Every decision record is hashed with it, so it is on
 * the path of each request: ordinary values are written by recursion, one loop per level (twice
 * as fast as the explicit stack); a subtree deeper than {@link recursionDepth} by a loop over an
 * explicit stack, so a value nested thousands deep (request metadata) gets its record, not a
 * stack overflow.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (depth >= recursionDepth) return canonicalJsonByLoop(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalJson(item, depth + 1));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item, depth + 1)}`;
  }
  return `${out}}`;
}

/** {@link canonicalJson} by a loop over an explicit stack, for values of any depth. */
function canonicalJsonByLoop(value: object): string {
  let out = '';
  const open: Container[] = [];
  // Recursion met a value that contains itself with a stack overflow; the loop would grow forever.
  const openValues = new Set<object>();
  let next: unknown = value;
  for (;;) {
    if (next === null || typeof next !== 'object') out += JSON.stringify(next);
    else {
      if (openValues.has(next)) throw new TypeError('canonicalJson: the value contains itself, so it has no JSON');
      openValues.add(next);
      const keys = Array.isArray(next) ? undefined : Object.keys(next).sort();
      out += keys === undefined ? '[' : '{';
      open.push({ items: next as Container['items'], keys, at: 0, wrote: false });
    }
    // The next value to write, closing every container that has none left.
    let top = open.at(-1);
    for (; top !== undefined; top = open.at(-1)) {
      const item = nextItem(top);
      if (item !== undefined) {
        out += item.prefix;
        next = item.value;
        break;
      }
      out += top.keys === undefined ? ']' : '}';
      openValues.delete(top.items);
      open.pop();
    }
    if (top === undefined) return out;
  }
}

/** An array or object being written: its items, its sorted keys (objects only), and where it is. */
interface Container {
  readonly items: readonly unknown[] | Record<string, unknown>;
  readonly keys: readonly string[] | undefined;
  at: number;
  wrote: boolean;
}

/** The container's next item and what goes before it (a comma, a key); undefined when it has none left. */
function nextItem(c: Container): { prefix: string; value: unknown } | undefined {
  if (c.keys === undefined) {
    const items = c.items as readonly unknown[];
    if (c.at >= items.length) return undefined;
    const value = items[c.at++];
    const prefix = c.wrote ? ',' : '';
    c.wrote = true;
    return { prefix, value: value === undefined ? null : value };
  }
  const record = c.items as Record<string, unknown>;
  for (; c.at < c.keys.length; c.at++) {
    const key = c.keys[c.at] as string;
    const value = record[key];
    // Undefined properties are left out, as JSON does.
    if (value === undefined) continue;
    c.at++;
    const prefix = `${c.wrote ? ',' : ''}${JSON.stringify(key)}:`;
    c.wrote = true;
    return { prefix, value };
  }
  return undefined;
}

/** sha256 of the canonical JSON of `value`, as hex. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

const digests = new WeakMap<object, string>();

/**
 * {@link digestOf} for a value that is never changed once made (a knowledge snapshot's parts),
 * computed once per object.
 */
export function digestOfImmutable(value: object): string {
  let digest = digests.get(value);
  if (digest === undefined) {
    digest = digestOf(value);
    digests.set(value, digest);
  }
  return digest;
}
