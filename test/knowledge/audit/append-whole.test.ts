import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendWhole, PartLeft } from '../../../knowledge/audit/append-whole.js';

describe('appending a whole line to the decision log, or nothing', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-append-'));
    file = path.join(dir, 'log.jsonl');
    fd = openSync(file, 'a');
    appendWhole(fd, Buffer.from('{"seq":1}\n'));
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes `before` bytes of a line, then fails as a full disk does. */
  const diskFullAfter = (before: number) => (f: number, buffer: Buffer, offset: number) => {
    if (offset >= before) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    return writeSync(f, buffer, offset, before - offset);
  };

  it('cuts off the half of a line whose write failed, so the next line starts clean', () => {
    assert.throws(() => appendWhole(fd, Buffer.from('{"seq":2,"long":"xxxxxxxx"}\n'), diskFullAfter(12)), /ENOSPC/);
    assert.equal(readFileSync(file, 'utf8'), '{"seq":1}\n');
    appendWhole(fd, Buffer.from('{"seq":2}\n'));
    assert.equal(readFileSync(file, 'utf8'), '{"seq":1}\n{"seq":2}\n');
  });

  it('leaves the file as it was when nothing was written', () => {
    assert.throws(() => appendWhole(fd, Buffer.from('{"seq":2}\n'), diskFullAfter(0)), /ENOSPC/);
    assert.equal(readFileSync(file, 'utf8'), '{"seq":1}\n');
  });

  it('says so when the half line cannot be cut off', () => {
    const readOnly = openSync(file, 'r');
    try {
      const halfThenFail = (_: number, buffer: Buffer, offset: number) => {
        if (offset > 0) throw new Error('EIO: i/o error');
        return writeSync(fd, buffer, 0, 4);
      };
      assert.throws(() => appendWhole(readOnly, Buffer.from('{"seq":2}\n'), halfThenFail), (e: Error) => e instanceof PartLeft && /after 4 of 10 bytes/.test(e.message));
    } finally {
      closeSync(readOnly);
    }
  });
});
