/**
 * The refusals of a range (integrity) or a bundle (export) that starts too
 * deep in a stream say where its start is built from; since checkpoints
 * keep their compact range, that may be a checkpoint, not only seq 0 or an
 * archive's end (export said "the end of an archive" for a checkpoint).
 */
import { describe, expect, it } from 'vitest';
import { rangeStartText } from '../../src/internal/range-start-text.js';

describe('rangeStartText', () => {
  it('names seq 0, the end of an archive, or the checkpoint whose compact range is stored', () => {
    expect(rangeStartText({ from: 0, base: 'start' })).toBe('seq 0');
    expect(rangeStartText({ from: 500, base: 'archive' })).toBe('the end of an archive (seq 499)');
    expect(rangeStartText({ from: 4200, base: 'checkpoint' })).toBe('the checkpoint at size 4200 (whose compact range is stored)');
  });
});
