/**
 * Compiled redaction (DESIGN §4.5): name matchers (patterns and default
 * words) built once at construction, the hook that core's normalisation
 * calls for every member name of `details`/`old`/`new` (one walk for copy,
 * validation and redaction), credentials written inside any string value
 * (a URL's userinfo, a secret-named `name=value`, a Bearer token: core's
 * `redactSecrets`), pointer redaction applied to the producer's event before
 * normalisation, and name redaction of the LogRecord's other attributes so a
 * secret reaches neither sink, body nor attributes.
 */
import { createHmac } from 'node:crypto';
import { canonicalize, redactSecrets, type JsonValue, type RedactionHook } from '@otel-audit/core';
import { DEFAULT_REDACTION_PATTERNS, DEFAULT_REDACTION_WORD_PAIRS, DEFAULT_REDACTION_WORDS, REDACTION_MASK, type RedactionOptions } from '../redaction.js';
import { WordMatcher } from './word-matcher.js';

const POINTER_ROOTS = new Set(['details', 'old', 'new', 'actor', 'target', 'request', 'error']);
const MIN_HMAC_KEY_BYTES = 16;
/** Beyond ASCII: a name that may need folding before it is matched. */
const NON_ASCII = /[^\u0000-\u007f]/;
/** Characters that show nothing: a soft hyphen, zero-width spaces and joiners, variation selectors. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
/** A mode value short and plain enough to quote in an error: never a key (at least 16 bytes) put there by mistake. */
const QUOTABLE_MODE = /^[A-Za-z][\w-]{0,11}$/;
/** Bounds of the cache of names already matched: at most this many names of at most this many UTF-16 units. */
const MAX_CACHED_NAMES = 1024;
const MAX_CACHED_NAME_LENGTH = 64;

/**
 * `name` as the name patterns see it: compatibility forms folded (NFKC:
 * full-width `ｐａｓｓｗｏｒｄ`, ligatures, superscripts) and invisible
 * characters removed (`pass\u00adword`, `pass\u200bword`), so a name that
 * reads as `password` matches like one. ASCII names, nearly all, are
 * returned as they are. Letters of another script that look alike
 * (Cyrillic `а` in `pаssword`) are not folded: that needs Unicode's
 * confusables table.
 */
function foldName(name: string): string {
  return NON_ASCII.test(name) ? name.replace(INVISIBLE, '').normalize('NFKC').replace(INVISIBLE, '') : name;
}

/** The mode as an error may show it: quoted if it is a short identifier, else only its type and length. */
function describeMode(mode: unknown): string {
  if (typeof mode !== 'string') return typeof mode;
  return QUOTABLE_MODE.test(mode) ? JSON.stringify(mode) : `a string of ${mode.length} characters (not shown: it may be a secret)`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parsePointer(pointer: unknown, index: number): string[] {
  const name = `options.redaction.pointers[${index}]`;
  if (typeof pointer !== 'string') throw new TypeError(`${name} must be a string; got ${typeof pointer}`);
  if (!pointer.startsWith('/')) throw new RangeError(`${name} must be a JSON Pointer starting with "/"; got "${pointer}"`);
  const tokens = pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (!POINTER_ROOTS.has(tokens[0]!)) {
    throw new RangeError(`${name} "${pointer}" must start with one of /${[...POINTER_ROOTS].join(', /')}; identity and chain members cannot be redacted`);
  }
  if (tokens[0] === 'error' && tokens.length > 1) throw new RangeError(`${name} "${pointer}": /error is a string and has no members`);
  return tokens;
}

/** The compiled redactor. */
export class Redactor {
  /** The hook given to core's normalisation. */
  readonly hook: RedactionHook;
  readonly #nameRegex: RegExp | undefined;
  readonly #words: WordMatcher | undefined;
  readonly #regexps: RegExp[];
  readonly #pointers: { text: string; tokens: string[] }[];
  /**
   * Names already matched, and whether they matched: records of one
   * application repeat the same few names. Per name of the
   * processor-throughput bench's records, a lookup costs 14–18 ns where the
   * patterns, the words and the fold check cost 110–150 ns (45 ns before the
   * words). Emptied when full, so hostile names cost at most the bound.
   */
  readonly #seen = new Map<string, boolean>();
  readonly #replace: (value: unknown) => string;
  /** Set while re-normalising an already redacted event, so nothing is replaced twice. */
  bypass = false;

  constructor(options: RedactionOptions | undefined) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError('options.redaction must be an object');
    const mode = options?.mode ?? 'mask';
    if (mode !== 'mask' && mode !== 'hmac') throw new RangeError(`options.redaction.mode must be "mask" or "hmac"; got ${describeMode(mode)}`);
    const defaults = options?.defaultPatterns !== false;
    const strings: string[] = defaults ? [...DEFAULT_REDACTION_PATTERNS] : [];
    this.#words = defaults ? new WordMatcher(DEFAULT_REDACTION_WORDS, DEFAULT_REDACTION_WORD_PAIRS) : undefined;
    this.#regexps = [];
    const patterns = options?.patterns ?? [];
    if (!Array.isArray(patterns)) throw new TypeError('options.redaction.patterns must be an array of strings or RegExps');
    patterns.forEach((p: unknown, i) => {
      if (typeof p === 'string' && p !== '') strings.push(p);
      // Without g/y a RegExp keeps no lastIndex state between tests.
      else if (p instanceof RegExp) this.#regexps.push(new RegExp(p.source, p.flags.replace(/[gy]/g, '')));
      else throw new TypeError(`options.redaction.patterns[${i}] must be a non-empty string or a RegExp`);
    });
    // `_` in a string pattern stands for any separator or none: `api_key` also
    // matches `X-Api-Key`, `apiKey` and `api.key`; `private_key`, `privateKey`.
    this.#nameRegex = strings.length > 0 ? new RegExp(strings.map((p) => escapeRegExp(p).replace(/_/g, '[-_. ]?')).join('|'), 'i') : undefined;
    const pointers = options?.pointers ?? [];
    if (!Array.isArray(pointers)) throw new TypeError('options.redaction.pointers must be an array of JSON Pointers');
    this.#pointers = pointers.map((p: unknown, i) => ({ text: p as string, tokens: parsePointer(p, i) }));

    if (mode === 'hmac') {
      const key = options?.hmacKey;
      if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
        throw new TypeError('options.redaction.hmacKey must be a string or Uint8Array in hmac mode (set it from a secret, e.g. AUDIT_REDACT_KEY)');
      }
      const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
      if (bytes.length < MIN_HMAC_KEY_BYTES) throw new RangeError(`options.redaction.hmacKey must be at least ${MIN_HMAC_KEY_BYTES} bytes; use a random secret`);
      // The key lives only in this closure: never on an enumerable property, never logged.
      this.#replace = (value) => `hmac-sha256:${createHmac('sha256', bytes).update(typeof value === 'string' ? value : canonicalize(value)).digest('hex')}`;
    } else {
      this.#replace = () => REDACTION_MASK;
    }
    const self = this;
    this.hook = {
      matchName: (name) => !self.bypass && self.matchName(name),
      replace: (value: JsonValue) => self.#replace(value),
      // Whatever its name, a string never keeps a credential written inside it:
      // a URL's user:password, a secret-named `name=value`, a Bearer token.
      maskText: (value: string) => (self.bypass ? value : redactSecrets(value)),
    };
  }

  /**
   * Whether a member or attribute called `name` is redacted: a pattern, or
   * a default word (see WordMatcher), matches the name as given or as folded
   * (see foldName). The member keeps its name; only the match reads the
   * folded one.
   */
  matchName(name: string): boolean {
    const seen = this.#seen.get(name);
    if (seen !== undefined) return seen;
    let matched = this.#matches(name);
    if (!matched) {
      const folded = foldName(name);
      matched = folded !== name && this.#matches(folded);
    }
    if (name.length <= MAX_CACHED_NAME_LENGTH) {
      if (this.#seen.size >= MAX_CACHED_NAMES) this.#seen.clear();
      this.#seen.set(name, matched);
    }
    return matched;
  }

  #matches(name: string): boolean {
    if (this.#nameRegex !== undefined && this.#nameRegex.test(name)) return true;
    if (this.#words !== undefined && this.#words.matches(name)) return true;
    for (let i = 0; i < this.#regexps.length; i++) if (this.#regexps[i]!.test(name)) return true;
    return false;
  }

  /** True when pointers are configured (so the per-record pass is skipped otherwise). */
  get hasPointers(): boolean {
    return this.#pointers.length > 0;
  }

  /**
   * Replace the values at the configured pointers in `event` (a fresh
   * top-level object owned by the processor), copying the producer's
   * containers on the way instead of writing into them. Adds what it replaced
   * to `event.redacted`.
   */
  applyPointers(event: Record<string, unknown>): void {
    let replaced: string[] | undefined;
    for (const { text, tokens } of this.#pointers) {
      let parent: Record<string, unknown> | unknown[] = event;
      let ok = true;
      for (let i = 0; i < tokens.length - 1; i++) {
        const token = tokens[i]!;
        const child: unknown = (parent as Record<string, unknown>)[token];
        if (typeof child !== 'object' || child === null || !Object.hasOwn(parent, token)) {
          ok = false;
          break;
        }
        const copy: Record<string, unknown> | unknown[] = Array.isArray(child) ? child.slice() : { ...(child as Record<string, unknown>) };
        (parent as Record<string, unknown>)[token] = copy;
        parent = copy;
      }
      const last = tokens[tokens.length - 1]!;
      if (!ok || !Object.hasOwn(parent, last)) continue;
      const value: unknown = (parent as Record<string, unknown>)[last];
      if (value === null || value === undefined) continue;
      let replacement: string;
      try {
        replacement = this.#replace(value);
      } catch {
        continue; // not JSON: normalisation will reject the record and say why
      }
      (parent as Record<string, unknown>)[last] = replacement;
      (replaced ??= []).push(text);
    }
    if (replaced !== undefined) {
      const given = event.redacted;
      event.redacted = Array.isArray(given) ? [...given, ...replaced] : replaced;
    }
  }

  /** The replacement of an attribute value whose key matched. */
  replaceValue(value: unknown): string {
    try {
      return this.#replace(value);
    } catch {
      return REDACTION_MASK;
    }
  }
}
