/**
 * Whole-word name matching, the default word list of redaction (beyond
 * DESIGN §4.5; `DEFAULT_REDACTION_WORDS`): a member name is split into words
 * and matches when one word is a listed word, or two adjacent words a listed
 * pair. Short secret names (`pin`, `otp`, `pass`) cannot be substring
 * patterns without masking `spinner`, `topic` or `passport`. Built once at
 * construction; a match reads the name's UTF-16 code units in one pass and
 * allocates nothing for an ASCII name, since it runs for every member name
 * of every record the Redactor has not cached.
 */

/** Classes of a code unit, for splitting a name into words. */
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
/** A letter, mark or digit beyond ASCII: part of a word, without case. */
const CASELESS = 4;

/** The class of each ASCII code unit. */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_CLASS[c] = c >= 97 && c <= 122 ? LOWER : c >= 65 && c <= 90 ? UPPER : c >= 48 && c <= 57 ? DIGIT : OTHER;
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

/** The class of a code unit beyond ASCII (only names that have one, rare): a lone surrogate half is neither letter nor digit. */
function wideClass(c: number): number {
  return WORD_CHAR.test(String.fromCharCode(c)) ? CASELESS : OTHER;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** A listed word: alone a match, or the first or second word of pairs (bit i: pair list i). */
interface Entry {
  readonly word: string;
  readonly alone: boolean;
  first: number;
  second: number;
}

/** The compiled word list. */
export class WordMatcher {
  /** Listed words by length, then by first letter (lower case, its code): few words to compare each. */
  readonly #byLength: (Entry[] | undefined)[][] = [];

  constructor(words: readonly string[], pairs: readonly (readonly [readonly string[], readonly string[]])[]) {
    if (pairs.length > 31) throw new RangeError(`pairs must have at most 31 lists; got ${pairs.length}`);
    const entries = new Map<string, Entry>();
    const entry = (word: string, alone: boolean): Entry => {
      // Lower-case ASCII, so that `| 0x20` in sameWord is the whole case fold.
      if (!/^[a-z0-9]+$/.test(word)) throw new RangeError(`words: "${word}" must be lower-case ASCII letters and digits`);
      let e = entries.get(word);
      if (e === undefined) {
        entries.set(word, (e = { word, alone, first: 0, second: 0 }));
        const byFirst = (this.#byLength[word.length] ??= new Array<Entry[] | undefined>(128).fill(undefined));
        (byFirst[word.charCodeAt(0)] ??= []).push(e);
      }
      return e;
    };
    for (const w of words) entry(w, true);
    pairs.forEach(([firsts, seconds], i) => {
      for (const w of firsts) entry(w, false).first |= 1 << i;
      for (const w of seconds) entry(w, false).second |= 1 << i;
    });
  }

  /**
   * Whether a word of `name`, or two adjacent words, are listed. Words are
   * split at every character that is not a letter or digit, before a capital
   * that follows a small letter (`newPin`), before a capital that follows a
   * capital or digit and precedes a small letter (`PINCode`, `2FACode`,
   * `v2Pin`) and before a digit that follows a letter (`cvv2`, `pin1`); a
   * letter after a digit continues the word (`2fa`). Letters are compared
   * without case.
   */
  matches(name: string): boolean {
    const n = name.length;
    let start = 0;
    let prev = OTHER;
    let firsts = 0;
    for (let i = 0; i < n; i++) {
      const c = name.charCodeAt(i);
      const k = c < 128 ? ASCII_CLASS[c]! : wideClass(c);
      if (prev === OTHER) start = i;
      else if (k === OTHER
        || (k === UPPER && (prev === LOWER || ((prev === UPPER || prev === DIGIT) && i + 1 < n && isLower(name.charCodeAt(i + 1)))))
        || (k === DIGIT && prev !== DIGIT)) {
        const e = this.#lookup(name, start, i);
        if (e !== undefined && (e.alone || (firsts & e.second) !== 0)) return true;
        firsts = e === undefined ? 0 : e.first;
        start = i;
      }
      prev = k;
    }
    if (prev === OTHER) return false;
    const e = this.#lookup(name, start, n);
    return e !== undefined && (e.alone || (firsts & e.second) !== 0);
  }

  /** The listed word that `name` has from `start` to `end`, compared without case. */
  #lookup(name: string, start: number, end: number): Entry | undefined {
    const byFirst = this.#byLength[end - start];
    const bucket = byFirst === undefined ? undefined : byFirst[name.charCodeAt(start) | 0x20];
    if (bucket === undefined) return undefined;
    for (let b = 0; b < bucket.length; b++) if (sameWord(name, start, bucket[b]!.word)) return bucket[b];
    return undefined;
  }
}

/**
 * Whether `name` has `word` at `start`: `| 0x20` lower-cases A–Z and keeps
 * digits, and a unit beyond ASCII stays beyond it, so matches no listed word.
 */
function sameWord(name: string, start: number, word: string): boolean {
  for (let j = 0; j < word.length; j++) if ((name.charCodeAt(start + j) | 0x20) !== word.charCodeAt(j)) return false;
  return true;
}
