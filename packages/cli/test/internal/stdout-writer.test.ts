/**
 * The stdout writer used when stdout is a file: every byte is written or
 * the command hears why not (a short write is finished, a failed or empty
 * write is an AUDIT_CLI_OUTPUT error, and nothing is appended after it).
 * The write call is injected to produce the short and empty writes a
 * nearly full disk gives; /dev/full gives the real ENOSPC.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FdWriter, outputFailureOf, type WriteSync } from '../../src/internal/stdout-writer.js';

const errno = (code: string): Error => Object.assign(new Error(`${code}: failed, write`), { code, syscall: 'write' });

/** A file that takes at most `step` bytes a call, `capacity` in all, then fails with `then`. */
function device(step: number, capacity: number, then: Error | 0): { writeSync: WriteSync; taken: () => string } {
  const parts: Buffer[] = [];
  let size = 0;
  const writeSync: WriteSync = (_fd, buffer, offset, length) => {
    if (size >= capacity) { if (then === 0) return 0; throw then; }
    const n = Math.min(step, length, capacity - size);
    parts.push(Buffer.from(buffer.subarray(offset, offset + n)));
    size += n;
    return n;
  };
  return { writeSync, taken: () => Buffer.concat(parts).toString('utf8') };
}

describe('FdWriter', () => {
  it('finishes short writes, so every byte lands', () => {
    const dev = device(3, Infinity, 0);
    const out = new FdWriter(9, dev.writeSync);
    const text = '{"records":[{"seq":1,"note":"é ✓"}]}\n'.repeat(20);
    expect(out.write(text)).toBe(true);
    expect(dev.taken()).toBe(text);
    expect(outputFailureOf(out)).toBeUndefined();
  });

  it('a write that fails after a short one throws the reason; later writes throw the same and write nothing', () => {
    const dev = device(100, 250, errno('ENOSPC'));
    const out = new FdWriter(9, dev.writeSync);
    expect(() => out.write('x'.repeat(1000))).toThrow('writing standard output failed: no space left on device; the output is incomplete');
    expect(dev.taken()).toHaveLength(250);
    const failure = outputFailureOf(out);
    expect(failure).toMatchObject({ code: 'AUDIT_CLI_OUTPUT', exitCode: 2, fix: 'free space on the filesystem standard output is redirected to, or redirect it elsewhere, then run the command again' });
    expect(() => out.write('more')).toThrow(failure!);
    expect(dev.taken()).toHaveLength(250);
  });

  it('a write that takes no bytes is a failure, not an endless loop; EDQUOT and EIO name themselves', () => {
    expect(() => new FdWriter(9, device(10, 10, 0).writeSync).write('x'.repeat(20))).toThrow('writing standard output failed: the file took no more bytes; the output is incomplete');
    expect(() => new FdWriter(9, device(10, 0, errno('EDQUOT')).writeSync).write('x')).toThrow('disk quota exceeded');
    expect(() => new FdWriter(9, device(10, 0, errno('EIO')).writeSync).write('x')).toThrow('input/output error');
  });

  it('retries a device that says EAGAIN', () => {
    let calls = 0;
    const out = new FdWriter(9, (_fd, _b, _o, length) => (++calls < 3 ? (() => { throw errno('EAGAIN'); })() : length));
    expect(out.write('abc')).toBe(true);
    expect(calls).toBe(3);
  });

  it.skipIf(!fs.existsSync('/dev/full'))('on /dev/full fails with ENOSPC', () => {
    const fd = fs.openSync('/dev/full', 'w');
    try {
      expect(() => new FdWriter(fd).write('record\n')).toThrow('no space left on device');
    } finally {
      fs.closeSync(fd);
    }
  });
});
