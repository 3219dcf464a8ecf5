/** A growable byte array: appends amortise to O(1), `bytes()` is a view without copying. */
export class ByteBuffer {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
  }

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends `count` copies of `value`. */
  fill(value: number, count: number): void {
    this.reserve(count);
    this.buf.fill(value, this.length, this.length + count);
    this.length += count;
  }

  /** Direct access for writers that fill reserved space themselves. */
  get raw(): Uint8Array {
    return this.buf;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
