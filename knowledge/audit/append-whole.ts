import { fstatSync, ftruncateSync, writeSync } from 'node:fs';

/** A write that failed half-way and whose half could not be cut off again. */
export class PartLeft extends Error {}

/**
 * Appends a whole line or nothing: a write that fails half-way (a full disk) is cut back off, so
 * the next record does not run into half a line. When even that fails, PartLeft says so.
 * @throws the write's error, or PartLeft
 */
export function appendWhole(fd: number, line: Buffer, write: (fd: number, buffer: Buffer, offset: number) => number = writeSync): void {
  let written = 0;
  try {
    while (written < line.length) written += write(fd, line, written);
  } catch (error) {
    if (written === 0) throw error;
    try {
      ftruncateSync(fd, fstatSync(fd).size - written);
    } catch {
      throw new PartLeft(`a write failed after ${written} of ${line.length} bytes and they could not be removed: ${(error as Error).message}`);
    }
    throw error;
  }
}
