import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { canonicalize } from '../src/canonical.js';
import { genesisPrev } from '../src/hash.js';
import { normalizeRecord } from '../src/normalize-record.js';
import { encodeRecord, recordHash } from '../src/record-hash.js';

const record = normalizeRecord({
  alg: 'sha384', stream: 's', seq: 0, prev: genesisPrev('sha384'),
  id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b', time: '1', type: 'auth', action: 'login', details: { é: 'ü' },
});

describe('record hash', () => {
  it('is H(0x00 || UTF-8 canonical bytes) with the record\'s own algorithm', () => {
    const expected = createHash('sha384').update(Buffer.concat([Buffer.from([0]), Buffer.from(canonicalize(record), 'utf8')])).digest('hex');
    expect(recordHash(record)).toBe(expected);
    const { canonical, hash } = encodeRecord(record);
    expect(canonical).toBe(canonicalize(record));
    expect(hash.toString('hex')).toBe(expected);
  });
});
