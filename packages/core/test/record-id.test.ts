import { describe, expect, it } from 'vitest';
import { createRecordId, isRecordId } from '../src/record-id.js';

describe('createRecordId', () => {
  it('makes RFC 9562 version 7 UUIDs carrying the millisecond time', () => {
    const id = createRecordId(0x0190a1b2c3d4);
    expect(id).toMatch(/^0190a1b2-c3d4-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isRecordId(id)).toBe(true);
  });

  it('sorts in creation order within a process, even within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => createRecordId(1_750_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not go backwards when the clock does', () => {
    const a = createRecordId(1_800_000_000_000);
    const b = createRecordId(1_700_000_000_000);
    expect(b > a).toBe(true);
  });

  it('tells ids from other strings', () => {
    expect(isRecordId('0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B')).toBe(false);
    expect(isRecordId('not-an-id')).toBe(false);
    expect(isRecordId(42)).toBe(false);
  });
});
