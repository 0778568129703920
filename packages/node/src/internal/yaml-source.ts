/**
 * Reading otel-config.yaml (DESIGN §7): YAML parsed with line information,
 * `${env:VAR}` and `${env:VAR:-default}` substituted inside values (never in
 * keys, never re-parsed as YAML structure: a variable cannot inject keys), and
 * a lookup from a YAML path to its line for error messages. A plain scalar
 * that is exactly one substitution takes the type its value reads as
 * (`${env:N}` with N=5 is the number 5), as the OpenTelemetry Collector does
 * — except where the value may be a secret (internal/secret-paths.ts).
 */
import { LineCounter, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Scalar } from 'yaml';
import type { ConfigProblem } from '../errors.js';
import { HIDDEN, isSecretPath } from './secret-paths.js';

const REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$|\$\{([^}]*)\}/g;
const WHOLE = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
/** The yaml library's guard against alias bombs: the most values one alias may expand to. */
const MAX_ALIAS_COUNT = 100;

/**
 * A parsed document: its value and where each path is.
 *
 * @example
 * readYaml('a:\n  b: 1\n', {}, []).lineOf(['a', 'b']) // 2
 */
export interface YamlSource {
  value: unknown;
  /** 1-based line of the node at `path` (or its nearest parent), if known. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/**
 * Substitute `${env:...}` references in one string. Problems name `path`.
 *
 * @example
 * substituteEnv('${env:DB:-./audit.db}', {}, 'exporters.sqlite.path', []) // './audit.db'
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv, path: string, problems: ConfigProblem[]): string {
  return text.replace(REF, (match, name: string | undefined, fallback: string | undefined, bad: string | undefined) => {
    if (match === '$$') return '$';
    if (bad !== undefined) {
      const secret = isSecretPath(path);
      problems.push({ path, value: secret ? HIDDEN : match, message: `${secret ? 'a ${...}' : match} is not a valid reference`, fix: 'write ${env:NAME} or ${env:NAME:-default} (write $$ for a literal $)' });
      return match;
    }
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    problems.push({ path, value: match, message: `environment variable ${name} is not set`, fix: `set ${name}, or give a default: \${env:${name}:-VALUE}`, unsetVariable: name! });
    return '';
  });
}

/**
 * Parse YAML text, substitute env references; syntax and reference problems go to `problems`.
 *
 * @example
 * const { value, lineOf } = readYaml(text, process.env, problems);
 */
export function readYaml(text: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // The first syntax error, and only the lines of the others: the parser's later
  // errors usually follow from its first one (43 of them for one unquoted `${env:X}`).
  const later = new Set<number>();
  const textLines = text.split('\n');
  for (const [i, e] of doc.errors.entries()) {
    const line = e.linePos?.[0]?.line ?? (e.pos ? lines.linePos(e.pos[0]).line : undefined);
    if (i > 0) {
      if (line !== undefined && line !== problems.at(-1)?.line) later.add(line);
      continue;
    }
    const source = line !== undefined ? textLines[line - 1] ?? '' : '';
    // `{ key: ${env:X} }`: in a flow map `{` and `}` are syntax, so a reference there must be quoted.
    const fix = /\{.*\$\{env:/.test(source)
      ? 'quote each ${env:...} reference inside { }, e.g. { stream: "${env:MY_STREAM}" }, or write the map in block style (one key per line)'
      : 'fix the YAML syntax at that line (indentation, quoting, a missing colon)';
    problems.push({ path: '(file)', value: undefined, message: `YAML syntax error: ${e.message.split('\n')[0]}`, fix, ...(line !== undefined ? { line } : {}) });
  }
  if (later.size > 0) {
    const shown = [...later].slice(0, 8).join(', ');
    problems.push({
      path: '(file)', value: undefined,
      message: `more YAML syntax errors after it, on line${later.size === 1 ? '' : 's'} ${shown}${later.size > 8 ? ` and ${later.size - 8} more` : ''}, often caused by the first one`,
      fix: 'fix the first error, then load the file again',
    });
  }
  if (doc.errors.length > 0) return { value: undefined, lineOf: () => undefined };
  substituteDocument(doc, env, problems, lines);
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), lineOf };
  } catch (e) {
    // Aliases of aliases (a "billion laughs" document) expand exponentially: refused, as one problem.
    problems.push({
      path: '(file)', value: undefined,
      message: `YAML aliases (*name) expand to too many values (${e instanceof Error ? e.message : String(e)}); the file is refused to keep startup bounded`,
      fix: `write the values out, or use fewer aliases that repeat other aliases (at most ${MAX_ALIAS_COUNT} values per alias)`,
    });
    return { value: undefined, lineOf };
  }
}

function substituteDocument(doc: Document, env: NodeJS.ProcessEnv, problems: ConfigProblem[], lines: LineCounter): void {
  visit(doc, {
    Scalar(key, node: Scalar, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const path = pathOf(ancestors, node);
      const before = problems.length;
      const raw = node.value;
      const text = substituteEnv(raw, env, path, problems);
      for (let i = before; i < problems.length; i++) if (node.range) problems[i]!.line = lines.linePos(node.range[0]).line;
      // A value that may be a secret (a header, a token) is text: typing it would mangle it ("0123" → 123) and get it refused.
      node.value = node.type === 'PLAIN' && WHOLE.test(raw) && !isSecretPath(path) ? typed(text) : text;
    },
  });
}

function typed(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

function pathOf(ancestors: readonly unknown[], node: unknown): string {
  let path = '';
  let child: unknown = node;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i];
    if (isPair(a)) path = `${isScalar(a.key) ? String(a.key.value) : String(a.key)}${path.startsWith('[') || path === '' ? '' : '.'}${path}`;
    else if (isSeq(a)) path = `[${a.items.indexOf(child as never)}]${path.startsWith('[') || path === '' ? '' : '.'}${path}`;
    child = a;
  }
  return path;
}
