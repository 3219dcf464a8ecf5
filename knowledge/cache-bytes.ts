/**
 * What a cache entry made of these strings keeps alive, at most: two bytes a character (V8 keeps
 * Latin-1 text in one, other text in two) and a fixed cost for the entry and its objects. Caches
 * are bounded by these bytes, not by a count of entries: a count let 1,000 remembered 1 MB queries
 * keep 600 MB.
 */
export function entryBytes(...texts: readonly string[]): number {
  let bytes = entryOverheadBytes;
  for (const text of texts) bytes += 2 * text.length;
  return bytes;
}

/** The map entry, the value's object and its fields, rounded up. */
const entryOverheadBytes = 256;
