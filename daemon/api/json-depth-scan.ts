/**
 * The path of the first array or object nested deeper than `maxDepth` in a JSON text (the text's
 * value is level 1), found by one pass over the characters without parsing; undefined when there
 * is none. Text that is not JSON gets an answer of no use, so JSON.parse still judges it.
 *
 * Why not parse first: V8 parses deep nesting without a stack overflow but slowly, about 1.1 s for
 * a 1 MiB body of brackets (half a million levels), all of it on the event loop every request
 * shares. This pass takes a few milliseconds for the same text.
 */
export function pathPastDepth(text: string, maxDepth: number): (string | number)[] | undefined {
  // One entry per open container: the index or key of the item being read in it.
  const path: (string | number)[] = [];
  const isArray: boolean[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      const end = endOfString(text, i);
      if (expectKey) {
        path[path.length - 1] = keyOf(text.slice(i, end + 1));
        expectKey = false;
      }
      i = end;
    } else if (c === openBracket || c === openBrace) {
      if (path.length + 1 > maxDepth) return path;
      isArray.push(c === openBracket);
      path.push(0);
      expectKey = c === openBrace;
    } else if (c === closeBracket || c === closeBrace) {
      isArray.pop();
      path.pop();
      expectKey = false;
    } else if (c === comma && path.length > 0) {
      if (isArray[isArray.length - 1] === true) path[path.length - 1] = (path[path.length - 1] as number) + 1;
      else expectKey = true;
    }
  }
  return undefined;
}

const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const comma = 0x2c;

/** The index of the quote that ends the string starting at `start`, or the text's end. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === quote) return i;
    i += c === backslash ? 2 : 1;
  }
  return text.length;
}

/** A key as JSON.parse would read it (escapes decoded); its raw text when it is not valid. */
function keyOf(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal;
  }
}
