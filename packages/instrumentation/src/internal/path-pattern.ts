/**
 * Path patterns of the HTTP audit policy (DESIGN §8), compiled once into a
 * RegExp: literal segments, `:name` (one non-empty segment, captured as a
 * parameter), `*` (one segment) and `**` (any number of segments, zero
 * included). Request paths are normalised before matching so that an
 * attacker cannot slip past a rule with `//admin`, `/./admin`,
 * `/x/../admin` or `/%61dmin`: the query is dropped, segments are
 * percent-decoded, empty and `.` segments removed, `..` resolved.
 */

/** A compiled path pattern. */
export interface PathPattern {
  readonly source: string;
  readonly regexp: RegExp;
  readonly params: readonly string[];
  /** `/**`: matches every path. */
  readonly matchesAll: boolean;
}

const CLEAN_PATH = /^(?:\/(?!\.)[^/%?#]+)+$|^\/$/;
const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=@%]+$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compile `source`. Throws a plain `Error` naming the problem (the policy
 * loader wraps it with the rule's key).
 */
export function compilePathPattern(source: string, caseSensitive: boolean): PathPattern {
  if (typeof source !== 'string' || !source.startsWith('/')) throw new Error(`must be a string starting with "/"; got ${JSON.stringify(source)}`);
  if (source.length > 1024) throw new Error('is longer than 1024 characters');
  const segments = source === '/' ? [] : source.slice(1).split('/');
  const params: string[] = [];
  let re = '^';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === '**') {
      re += '(?:/.*)?';
      continue;
    }
    if (seg === '') throw new Error(`has an empty segment at position ${i + 1} (write "/a/b", not "/a//b" or a trailing "/")`);
    if (seg === '*') {
      re += '/[^/]+';
      continue;
    }
    const p = PARAM.exec(seg);
    if (p !== null) {
      if (params.includes(p[1]!)) throw new Error(`repeats the parameter ":${p[1]}"`);
      params.push(p[1]!);
      re += '/([^/]+)';
      continue;
    }
    if (!LITERAL.test(seg) || seg.includes('*') || seg.startsWith(':')) throw new Error(`has an invalid segment ${JSON.stringify(seg)} (literal, ":name", "*" or "**")`);
    re += '/' + escapeRegExp(seg);
  }
  if (segments.length === 0) re += '/';
  re += '$';
  return { source, regexp: new RegExp(re, caseSensitive ? '' : 'i'), params, matchesAll: source === '/**' };
}

/**
 * The normalised path of a request target (`/a/b?q` → `/a/b`; see file
 * comment). Always starts with `/`; `/` for an empty path.
 */
export function normalizeRequestPath(target: string): string {
  // Fast path: an origin-form path without query, escapes, empty or dot segments is already normal.
  if (CLEAN_PATH.test(target)) return target;
  let path = target;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  // An absolute-form target ("http://host/path") keeps only its path.
  if (!path.startsWith('/')) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*(\/.*)?$/.exec(path);
    path = m?.[1] ?? '/';
  }
  const out: string[] = [];
  for (const raw of path.split('/')) {
    let seg = raw;
    if (seg.includes('%')) {
      try {
        seg = decodeURIComponent(seg);
      } catch {
        // Malformed escapes are matched as written.
      }
    }
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    // A decoded "/" stays inside its segment, as routers treat it.
    out.push(seg.replaceAll('/', '%2F'));
  }
  return '/' + out.join('/');
}

/** Match `path` (already normalised); the captured parameters, or `undefined`. */
export function matchPath(pattern: PathPattern, path: string): Record<string, string> | undefined {
  if (pattern.matchesAll) return {};
  const m = pattern.regexp.exec(path);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.params.length; i++) params[pattern.params[i]!] = m[i + 1]!;
  return params;
}
