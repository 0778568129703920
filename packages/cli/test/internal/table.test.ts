/** Tables and escaped text for people: what a hostile value could make the terminal do is shown, not done. */
import { describe, expect, it } from 'vitest';
import { cell, escapeControl, renderTable } from '../../src/internal/table.js';

describe('escapeControl', () => {
  it('shows bidi overrides and isolates, so a stream id cannot reorder the line it is printed in, beside C0, C1 and separators', () => {
    expect(escapeControl('billing\u202e]verified[')).toBe('billing\\u202e]verified[');
    expect(escapeControl('\u2066x\u2069\u200f')).toBe('\\u2066x\\u2069\\u200f');
    expect(escapeControl('a\nb\tc\u001b[2J\r\u009b\u2028\u202d')).toBe('a\\nb\\tc\\u001b[2J\\u000d\\u009b\\u2028\\u202d');
    expect([escapeControl(undefined), escapeControl(null), escapeControl(42)]).toEqual(['', '', '42']);
  });

  it('shows zero-width characters and lone surrogates, so two streams that print alike are told apart', () => {
    expect(escapeControl('billing\u200b-api')).toBe('billing\\u200b-api');
    expect(escapeControl('billing\ud800')).toBe('billing\\ud800');
  });
});

describe('renderTable', () => {
  it('escapes a hostile cell before sizing and cutting it', () => {
    const rows = [{ stream: 'a\u202eb\ncd' }];
    expect(renderTable([{ header: 'STREAM', value: (r: { stream: string }) => r.stream }], rows)).toBe('STREAM\na\\u202eb\\ncd\n');
    expect(cell('a\u202ebcdef', 6)).toBe('a\\u20…');
  });
});
