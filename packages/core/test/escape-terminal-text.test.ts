/** escapeTerminalText: what an operator's terminal would act on is shown, the rest passes. */
import { describe, expect, it } from 'vitest';
import { escapeTerminalText } from '../src/escape-terminal-text.js';

describe('escapeTerminalText', () => {
  it.each([
    ['newline and tab', 'a\nb\tc', 'a\\nb\\tc'],
    ['carriage return, ESC sequences and BEL (C0)', 'x\r\u001b]0;pwned\u0007\u001b[2J\u0000', 'x\\u000d\\u001b]0;pwned\\u0007\\u001b[2J\\u0000'],
    ['DEL and C1 controls, CSI included', '\u007f\u0080\u009b31m\u009f', '\\u007f\\u0080\\u009b31m\\u009f'],
    ['line and paragraph separators', 'one\u2028two\u2029', 'one\\u2028two\\u2029'],
    ['bidi overrides and embeddings', 'mallory\u202e]gninraw[\u202a\u202b\u202c\u202d', 'mallory\\u202e]gninraw[\\u202a\\u202b\\u202c\\u202d'],
    ['bidi isolates and marks', '\u2066a\u2067b\u2068c\u2069\u200e\u200f\u061c', '\\u2066a\\u2067b\\u2068c\\u2069\\u200e\\u200f\\u061c'],
    ['zero-width characters, BOM and soft hyphen', 'al\u200bi\u200cc\u200de\u2060\ufeff\u00ad', 'al\\u200bi\\u200cc\\u200de\\u2060\\ufeff\\u00ad'],
    ['a tag character, as its two UTF-16 units', 'ok\u{e0041}', 'ok\\udb40\\udc41'],
    ['lone surrogates, high and low', 'a\ud800b\udc00', 'a\\ud800b\\udc00'],
  ])('escapes %s', (_name, input, shown) => {
    expect(escapeTerminalText(input)).toBe(shown);
  });

  it('passes printable text in any script, emoji and a backslash through', () => {
    const text = 'Ünïcødé 日本語 עברית العربية 😀 C:\\path "q" ~';
    expect(escapeTerminalText(text)).toBe(text);
  });

  it('keeps JSON valid and equal in value when applied to JSON.stringify output', () => {
    const value = { name: 'mallory\u202e\u2028\u009b\u{e0041}x', nested: ['\u001b[2J\n', 'a\ud800'] };
    const escaped = escapeTerminalText(JSON.stringify(value));
    expect(escaped).not.toMatch(/[\u2028\u202e\u009b\u{e0041}]/u);
    expect(JSON.parse(escaped)).toEqual(value);
  });

  it('refuses a value that is not a string', () => {
    expect(() => escapeTerminalText(42 as never)).toThrow(/^text must be a string/);
    expect(() => escapeTerminalText(undefined as never)).toThrow(TypeError);
  });
});
