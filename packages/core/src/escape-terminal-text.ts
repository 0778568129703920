/**
 * Text that someone else chose — a stream id, an account name in an alert, a
 * receiver's error message — made safe to print to an operator's terminal or
 * log (DESIGN §7, §9): every character a terminal or log viewer would act on
 * instead of showing is written as a visible escape. The CLI and the
 * console notifier print through it, so both escape the same characters the
 * same way.
 */

/**
 * What a terminal or viewer acts on:
 * - C0 controls U+0000–U+001F and DEL: a newline fakes a line, ESC starts a
 *   sequence that moves the cursor, clears the screen or retitles the window;
 * - C1 controls U+0080–U+009F: U+009B (CSI) starts such a sequence by itself
 *   in some terminals;
 * - the line and paragraph separators U+2028 and U+2029, which some viewers
 *   break lines at;
 * - format characters (`\p{Cf}`): the bidi embeddings, overrides and isolates
 *   U+202A–U+202E and U+2066–U+2069 and the marks U+200E, U+200F, U+061C,
 *   which reorder how the rest of the line reads (`mallory\u202e]gninraw[`
 *   shows as `mallory[warning]`); the zero-width space, joiners and BOM
 *   (U+200B–U+200D, U+2060, U+FEFF) and the soft hyphen, which make two
 *   different names look the same; the tag characters U+E0000–U+E007F, which
 *   are invisible;
 * - lone surrogates (`\p{Cs}` matches only unpaired ones with the `u` flag),
 *   which UTF-8 output would turn into U+FFFD, hiding what was there.
 * Printable text in any script passes as is, but where a script or an emoji
 * sequence needs a joiner (U+200C/U+200D in Persian words, family emoji) or
 * tag characters (flag emoji of regions), those show as escapes: they are
 * format characters too, and a name cannot be told from one without them.
 * Invisible characters outside these classes still pass (U+3164 Hangul
 * filler, U+034F combining grapheme joiner, variation selectors).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Cs}]/gu;

function escapeOne(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  // Per UTF-16 unit, so a format character beyond U+FFFF (a tag character) is a pair of escapes.
  return c.length === 1 ? unit(c, 0) : unit(c, 0) + unit(c, 1);
}

function unit(c: string, i: number): string {
  return `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every character a terminal or log viewer would act on written
 * as an escape: `\n` and `\t` for newline and tab, `\uXXXX` (lower-case hex,
 * one per UTF-16 unit) for the rest. The escapes are valid inside a JSON
 * string, so the function can be applied to the output of `JSON.stringify`
 * and the result still parses to the same value. A backslash is left as is:
 * the output is for reading, not for decoding back.
 *
 * @example
 * escapeTerminalText('alice\u001b[2J\n') // 'alice\\u001b[2J\\n'
 * escapeTerminalText('mallory\u202e]gninraw[') // 'mallory\\u202e]gninraw['
 */
export function escapeTerminalText(text: string): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`);
  return text.replace(UNSAFE, escapeOne);
}
