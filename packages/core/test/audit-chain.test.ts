import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '../src/audit-chain.js';
import { canonicalize } from '../src/canonical.js';
import { RecordValidationError } from '../src/errors.js';
import { genesisPrev, leafHash } from '../src/hash.js';
import { merkleRoot } from '../src/merkle-proof.js';
import { createRecordId } from '../src/record-id.js';

const event = (details?: unknown) => ({ id: createRecordId(), time: '1700000000000000000', type: 'crud', action: 'update', details });

describe('AuditChain', () => {
  it('assigns contiguous seq, links prev and keeps the Merkle root of the records', () => {
    const chain = new AuditChain({ stream: 'svc/1' });
    const sealed = [0, 1, 2, 3, 4].map((i) => chain.append(event({ i })));
    expect(sealed.map((s) => s.record.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(sealed[0]!.record.prev).toBe(genesisPrev('sha256'));
    for (let i = 1; i < 5; i++) expect(sealed[i]!.record.prev).toBe(sealed[i - 1]!.hash);
    const leaves = sealed.map((s) => leafHash('sha256', s.canonical));
    expect(chain.rootHex()).toBe(merkleRoot('sha256', leaves, 5).toString('hex'));
    expect(chain.head()).toMatchObject({ stream: 'svc/1', alg: 'sha256', size: 5, prev: sealed[4]!.hash });
  });

  it('produces exactly the RFC 8785 text and hash of the record it returns (fast path = generic writer)', () => {
    const chain = new AuditChain({ stream: 's', alg: 'sha3-256' });
    fc.assert(
      fc.property(fc.jsonValue(), (d) => {
        const details = JSON.parse(JSON.stringify(d) ?? 'null');
        const sealed = chain.append(event(details));
        const generic = canonicalize(JSON.parse(JSON.stringify(sealed.record)));
        expect(sealed.canonical).toBe(generic);
        expect(sealed.hash).toBe(leafHash('sha3-256', generic).toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  it('orders array-index-like member names canonically', () => {
    const sealed = new AuditChain({ stream: 's' }).append(event({ b: 1, 10: 'x', 9: 'y', a: 2 }));
    expect(sealed.canonical).toContain('"details":{"10":"x","9":"y","a":2,"b":1}');
  });

  it('leaves the chain unchanged when an event is invalid', () => {
    const chain = new AuditChain({ stream: 's' });
    chain.append(event());
    const head = chain.head();
    expect(() => chain.append(event({ n: NaN }))).toThrow(RecordValidationError);
    expect(() => chain.append({ ...event(), seq: 9 } as never)).toThrow(/\/seq: unknown record member/);
    expect(chain.head()).toEqual(head);
  });

  it('resumes from a stored head', () => {
    const a = new AuditChain({ stream: 's' });
    for (let i = 0; i < 7; i++) a.append(event({ i }));
    const b = new AuditChain({ stream: 's', head: JSON.parse(JSON.stringify(a.head())) });
    const x = a.append(event({ n: 1 }));
    const { v: _v, alg: _a, stream: _s, seq: _q, prev: _p, ...rest } = x.record;
    const y = b.append(rest as never);
    expect(y.hash).toBe(x.hash);
    expect(b.rootHex()).toBe(a.rootHex());
  });

  it('refuses a bad stream id or a head of another stream', () => {
    expect(() => new AuditChain({ stream: 'a\nb' })).toThrow(/stream/);
    expect(() => new AuditChain({ stream: '' })).toThrow(TypeError);
    const head = new AuditChain({ stream: 'x' }).head();
    expect(() => new AuditChain({ stream: 'y', head })).toThrow(/stream "x"/);
  });
});
