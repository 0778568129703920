/**
 * Errors of @otel-audit/node (DESIGN §7): a configuration refused before
 * anything starts. One `ConfigError` lists every problem found, each with
 * the YAML path (or the environment variable), the bad value and the fix.
 */
import { AuditError, redactUrl } from '@otel-audit/core';

/**
 * One thing wrong with a configuration.
 *
 * @example
 * const p: ConfigProblem = { path: 'exporters.sqlite.path', value: undefined, message: 'required key "path" is missing', fix: 'add path' };
 */
export interface ConfigProblem {
  /** YAML path like `processors.chain.signer_key_file`, or an environment variable name. */
  path: string;
  /** The offending value as given (secrets are never echoed). */
  value: unknown;
  /** What is wrong, e.g. `file "./keys/x.key" does not exist`. */
  message: string;
  /** What to do instead. */
  fix: string;
  /** 1-based line in the YAML file, when known. */
  line?: number;
  /** For a `${env:NAME}` reference whose variable is not set (and has no default): NAME. */
  unsetVariable?: string;
}

/**
 * One human-readable line for a problem: `path (line N): message — fix`.
 *
 * @example
 * formatProblem({ path: 'a.b', value: 1, message: 'must be a string', fix: 'quote it', line: 3 }) // 'a.b (line 3): must be a string — quote it'
 */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line !== undefined ? `${problem.path} (line ${problem.line})` : problem.path;
  return `${where}: ${problem.message} — ${problem.fix}`;
}

/**
 * The configuration was refused; `problems` lists every problem found.
 *
 * @example
 * try { loadConfig() } catch (e) {
 *   if (e instanceof ConfigError) for (const p of e.problems) console.error(p.path, p.message, p.fix);
 * }
 */
export class ConfigError extends AuditError {
  readonly problems: readonly ConfigProblem[];
  /** The file the problems were found in, when there was one. */
  readonly source: string | undefined;

  constructor(problems: readonly ConfigProblem[], source?: string) {
    const head = `otel-audit configuration${source !== undefined ? ` ${source}` : ''} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
    super('AUDIT_CONFIG_INVALID', [head, ...problems.map((p) => `  - ${formatProblem(p)}`)].join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
    this.source = source;
  }
}

/**
 * A short description of a value for a message (long strings cut). A
 * string is shown through `redactUrl`: a URL keeps its credentials and
 * tokens to itself (masked before the cut, which could split them).
 *
 * @example
 * describeValue('abc') // '"abc"'
 * describeValue('ftp://user:secret@collector') // '"ftp://***@collector"'
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const text = redactUrl(value);
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
  }
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a map';
  return String(value);
}
