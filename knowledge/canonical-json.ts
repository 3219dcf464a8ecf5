import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted and undefined properties left out, so equal values serialise,
 * and hash, equally whatever their key order. Written as one loop per level: every decision
 * record is hashed with it, so it is on the path of each request.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : canonicalJson(item));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
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
