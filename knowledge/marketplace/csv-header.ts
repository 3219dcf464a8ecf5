import { open } from 'node:fs/promises';

/**
 * The column names of a CSV file, from its first line (any of `\n`, `\r\n`, `\r` ends it), split
 * by `delimiter`, without surrounding quotes, blanks or a byte-order mark.
 * @throws the file system's error when the file cannot be read
 */
export async function csvHeader(file: string, delimiter: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const line = buffer.subarray(0, bytesRead).toString('latin1').replace(/^\u00ef\u00bb\u00bf/, '').split(/\r\n|\r|\n/)[0] ?? '';
    return line.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  } finally {
    await handle.close();
  }
}
