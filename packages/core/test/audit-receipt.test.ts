import { describe, expect, it } from 'vitest';
import {
  AUDIT_RECEIPT_KEY,
  isReceiptTaken,
  receiptCallbacksOf,
  requestReceipt,
  setAuditCongestion,
  whenAuditCapacity,
} from '../src/audit-receipt.js';
import { normalizeEvent } from '../src/normalize-record.js';
import { createRecordId } from '../src/record-id.js';

describe('requestReceipt / receiptCallbacksOf', () => {
  it('lets a processor settle the promise the producer awaits', async () => {
    const body = { id: createRecordId(), time: '1', type: 'auth', action: 'login' };
    const promise = requestReceipt(body);
    const cb = receiptCallbacksOf(body);
    expect(cb).toBeDefined();
    cb!.resolve({ id: body.id, stream: 's', seq: 3, hash: 'ab' });
    await expect(promise).resolves.toEqual({ id: body.id, stream: 's', seq: 3, hash: 'ab' });
  });

  it('tells the producer whether a processor took the receipt', () => {
    const body = { id: createRecordId(), time: '1', type: 'auth', action: 'login' };
    void requestReceipt(body, { awaited: true });
    expect(isReceiptTaken(body)).toBe(false);
    receiptCallbacksOf(body);
    expect(isReceiptTaken(body)).toBe(true);
    expect(isReceiptTaken({})).toBe(false);
  });

  it('is invisible to JSON and to normalisation', () => {
    const body = { id: createRecordId(), time: '1', type: 'auth', action: 'login' };
    void requestReceipt(body);
    expect(JSON.stringify(body)).not.toContain('receipt');
    expect(Object.keys(body)).toEqual(['id', 'time', 'type', 'action']);
    expect((body as Record<symbol, unknown>)[AUDIT_RECEIPT_KEY]).toBeDefined();
  });

  it('rejects with the reason given', async () => {
    const body = {};
    const promise = requestReceipt(body);
    receiptCallbacksOf(body)!.reject(new Error('invalid'));
    await expect(promise).rejects.toThrow('invalid');
  });

  it('refuses misuse and ignores bodies without callbacks', () => {
    expect(() => requestReceipt(null as never)).toThrow(TypeError);
    expect(() => requestReceipt(Object.freeze({}))).toThrow(/extensible/);
    expect(receiptCallbacksOf('text')).toBeUndefined();
    expect(receiptCallbacksOf({})).toBeUndefined();
    expect(receiptCallbacksOf({ [AUDIT_RECEIPT_KEY]: { resolve: 1 } })).toBeUndefined();
  });
});

describe('whenAuditCapacity / setAuditCongestion', () => {
  it('is undefined while nothing is congested and resumes waiters when the last owner clears', async () => {
    expect(whenAuditCapacity()).toBeUndefined();
    const a = {};
    const b = {};
    setAuditCongestion(a, true);
    setAuditCongestion(b, true);
    const wait = whenAuditCapacity();
    expect(wait).toBeInstanceOf(Promise);
    let resumed = false;
    void wait!.then(() => (resumed = true));
    setAuditCongestion(a, false);
    await Promise.resolve();
    expect(resumed).toBe(false);
    setAuditCongestion(b, false);
    await wait;
    expect(resumed).toBe(true);
    expect(whenAuditCapacity()).toBeUndefined();
  });

  it('rejects the waiters with the reason when the last congested owner shuts down, and only then', async () => {
    const a = {};
    const b = {};
    setAuditCongestion(a, true);
    setAuditCongestion(b, true);
    const wait = whenAuditCapacity()!;
    let settled = false;
    void wait.then(() => (settled = true), () => (settled = true));
    // Another pipeline still holds the waiters back: they keep waiting for it.
    setAuditCongestion(a, false, new Error('a shut down'));
    await Promise.resolve();
    expect(settled).toBe(false);
    setAuditCongestion(b, false, new Error('the audit pipeline shut down; the record was not written'));
    await expect(wait).rejects.toThrow('the audit pipeline shut down; the record was not written');
    expect(whenAuditCapacity()).toBeUndefined();
  });

  it('leaves no unhandled rejection when a caller only asked whether a pipeline is congested', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const owner = {};
      setAuditCongestion(owner, true);
      // A receipt's timeout message asks this and drops the promise.
      expect(whenAuditCapacity() !== undefined).toBe(true);
      setAuditCongestion(owner, false, new Error('the audit pipeline shut down'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('NormalizeOptions.redact', () => {
  const hook = { matchName: (n: string) => /password|token/i.test(n), replace: () => '[REDACTED]' };

  it('replaces matched members at any depth of details/old/new and lists their pointers', () => {
    const e = normalizeEvent(
      {
        id: createRecordId(), time: '1', type: 'crud', action: 'update',
        details: { user: { Password: 'hunter2', name: 'a', list: [{ apiToken: 'x' }] }, none: null, password: null },
        old: { token: 't' },
        new: { token: { nested: 'y' } },
        redacted: ['/details/other'],
      },
      { redact: hook },
    );
    expect(e.details).toEqual({ user: { Password: '[REDACTED]', name: 'a', list: [{ apiToken: '[REDACTED]' }] }, none: null, password: null });
    expect(e.old).toEqual({ token: '[REDACTED]' });
    expect(e.new).toEqual({ token: '[REDACTED]' });
    expect(e.redacted).toEqual(['/details/other', '/details/user/Password', '/details/user/list/0/apiToken', '/new/token', '/old/token']);
  });

  it('still rejects invalid values under a matched name, and refuses a bad hook', () => {
    expect(() => normalizeEvent({ id: createRecordId(), time: '1', type: 't', action: 'a', details: { password: NaN } }, { redact: hook })).toThrow(/\/details\/password/);
    expect(() => normalizeEvent({ id: createRecordId(), time: '1', type: 't', action: 'a' }, { redact: {} as never })).toThrow(TypeError);
    expect(() =>
      normalizeEvent({ id: createRecordId(), time: '1', type: 't', action: 'a', details: { password: 'x' } }, { redact: { matchName: () => true, replace: () => 1 as never } }),
    ).toThrow(TypeError);
  });
});
