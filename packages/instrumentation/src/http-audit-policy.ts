/**
 * The HTTP audit policy of DESIGN §8: ordered rules, first match wins
 * (Kubernetes-audit style), each with a path pattern (`:param`, `*`, `**`),
 * optional methods, a level (`none`, `metadata`, `request`) and what the
 * record says (`type`, `action`, `target`). A catch-all rule (`/**`, every
 * method) is required, so no route falls through unseen; rules after it are
 * unreachable and refused. Patterns are compiled once, at load. A parameter
 * whose name looks secret (`:token`, internal/secret-param.ts) is never a
 * target id; the processor masks its value in the recorded path.
 */
import { AuditPolicyError } from './errors.js';
import { compilePathPattern, matchPath, normalizeRequestPath, type PathPattern } from './internal/path-pattern.js';
import { isSecretParamName, secretParamValues } from './internal/secret-param.js';

/** How much of a request is recorded. */
export type HttpAuditLevel = 'none' | 'metadata' | 'request';

/** The target of a rule: its type, and which path parameter is its id. */
export interface HttpAuditRuleTarget {
  type: string;
  /**
   * Path parameter holding the id. Default: `id` if the pattern has it, else its last parameter
   * whose name does not look secret. A secret-looking name (`:token`, `:resetCode`, `:sessionId`;
   * `:keyId` is an id) is refused here: its value is masked in the record, never a target id.
   */
  idParam?: string;
  name?: string;
}

/** One rule of the policy. */
export interface HttpAuditRule {
  match: { path: string; methods?: readonly string[] };
  level: HttpAuditLevel;
  /** Record `type`. Default `http`. */
  type?: string;
  /** Record `action`. Default from the method: GET/HEAD `view`, POST `create`, PUT/PATCH `update`, DELETE `delete`. */
  action?: string;
  /** Target type (string) or type and id parameter. */
  target?: string | HttpAuditRuleTarget;
}

/** Options of {@link createHttpAuditPolicy}. */
export interface HttpAuditPolicyOptions {
  /** Ordered rules; the default mirrors the seed service (see {@link DEFAULT_HTTP_AUDIT_RULES}). */
  rules?: readonly HttpAuditRule[];
  /** Match paths case-sensitively. Default `false`: Express routes `/ADMIN` like `/admin`, so the policy must too. */
  caseSensitive?: boolean;
}

/** What the policy decided for one request. */
export interface HttpAuditMatch {
  /** Index of the matching rule. */
  readonly index: number;
  readonly rule: HttpAuditRule;
  readonly level: HttpAuditLevel;
  /** The normalised path that was matched. */
  readonly path: string;
  /** Path parameters captured by the rule's pattern. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * The values of the secret-named ones among `params` (`:token`, `:apiKey`):
   * what the span's `url.path` and the record's `request.endpoint` mask.
   */
  readonly secrets: readonly string[];
}

const NO_SECRETS: readonly string[] = Object.freeze([]);

/**
 * The default rules, mirroring the seed service: `/auth/**`, `/admin/**`,
 * `/api/**` and `/rpc` audited at `metadata`, login and logout recognised;
 * OpenTelemetry's own OTLP paths never audited (no loop when a receiver runs
 * in the same process); everything else not audited.
 *
 * @example
 * createHttpAuditPolicy({ rules: [{ match: { path: '/healthz' }, level: 'none' }, ...DEFAULT_HTTP_AUDIT_RULES] });
 */
export const DEFAULT_HTTP_AUDIT_RULES: readonly HttpAuditRule[] = Object.freeze([
  { match: { path: '/v1/logs', methods: ['POST'] }, level: 'none' },
  { match: { path: '/v1/traces', methods: ['POST'] }, level: 'none' },
  { match: { path: '/v1/metrics', methods: ['POST'] }, level: 'none' },
  { match: { path: '/auth/login', methods: ['POST'] }, level: 'metadata', type: 'auth', action: 'login' },
  { match: { path: '/auth/logout', methods: ['POST'] }, level: 'metadata', type: 'auth', action: 'logout' },
  { match: { path: '/auth/**' }, level: 'metadata', type: 'auth' },
  { match: { path: '/admin/**' }, level: 'metadata', type: 'admin' },
  { match: { path: '/api/**' }, level: 'metadata', type: 'api' },
  { match: { path: '/rpc' }, level: 'metadata', type: 'rpc', action: 'call' },
  { match: { path: '/**' }, level: 'none' },
] satisfies HttpAuditRule[]);

const LEVELS = new Set<string>(['none', 'metadata', 'request']);
const RANK: Readonly<Record<HttpAuditLevel, number>> = { none: 0, metadata: 1, request: 2 };
const METHOD = /^[A-Z][A-Z0-9_-]{0,31}$/;
const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const METHOD_ACTIONS: Readonly<Record<string, string>> = { GET: 'view', HEAD: 'view', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

/** The record action for an HTTP method when the rule names none. */
export function actionForMethod(method: string): string {
  return METHOD_ACTIONS[method] ?? (METHOD.test(method) ? method.toLowerCase() : 'unknown');
}

interface CompiledRule {
  readonly rule: HttpAuditRule;
  readonly pattern: PathPattern;
  readonly methods: ReadonlySet<string> | undefined;
}

/**
 * A loaded, compiled policy.
 *
 * @example
 * const policy = createHttpAuditPolicy();
 * policy.match('DELETE', '/admin/users/7?x=1') // { level: 'metadata', rule: { type: 'admin', ... }, path: '/admin/users/7', ... }
 */
export class HttpAuditPolicy {
  readonly #rules: readonly CompiledRule[];
  /** The rules as given. */
  readonly rules: readonly HttpAuditRule[];

  constructor(options: HttpAuditPolicyOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const rules = options.rules ?? DEFAULT_HTTP_AUDIT_RULES;
    if (!Array.isArray(rules)) throw new AuditPolicyError('rules', `must be an array of rules; got ${typeof rules}`);
    const caseSensitive = options.caseSensitive ?? false;
    if (typeof caseSensitive !== 'boolean') throw new AuditPolicyError('caseSensitive', `must be a boolean; got ${typeof caseSensitive}`);
    const compiled: CompiledRule[] = [];
    let catchAll = -1;
    rules.forEach((rule: HttpAuditRule, i: number) => {
      const key = `rules[${i}]`;
      if (catchAll >= 0) {
        throw new AuditPolicyError(key, `is unreachable: rules[${catchAll}] (path "/**", every method) already matches every request; move it before the catch-all or remove it`);
      }
      compiled.push(compileRule(rule, key, caseSensitive));
      const c = compiled[compiled.length - 1]!;
      if (c.pattern.matchesAll && c.methods === undefined) catchAll = i;
    });
    if (catchAll < 0) {
      throw new AuditPolicyError(
        'rules',
        'has no catch-all rule: add { match: { path: "/**" }, level: "none" } (or "metadata") as the last rule, so that no route falls through unseen',
      );
    }
    this.#rules = compiled;
    this.rules = Object.freeze([...rules]);
  }

  /** The first rule matching `method` and the request target `url` (path and query). Always defined (catch-all). */
  match(method: string, url: string): HttpAuditMatch {
    const m = method.toUpperCase();
    const path = normalizeRequestPath(url);
    const found = this.#first(m, path);
    // Routers disagree on dot segments and encoded characters (Express routes "/admin/../x" under
    // "/admin"; a proxy may resolve it to "/x"): when the path as sent differs from its normalised
    // form, both are matched and the more thorough level wins, so neither reading escapes the audit.
    const q = url.search(/[?#]/);
    const asSent = q >= 0 ? url.slice(0, q) : url;
    if (asSent === path || !asSent.startsWith('/')) return found;
    const other = this.#first(m, asSent);
    return RANK[other.level] > RANK[found.level] ? other : found;
  }

  #first(m: string, path: string): HttpAuditMatch {
    for (let i = 0; i < this.#rules.length; i++) {
      const c = this.#rules[i]!;
      if (c.methods !== undefined && !c.methods.has(m)) continue;
      const params = matchPath(c.pattern, path);
      if (params === undefined) continue;
      return { index: i, rule: c.rule, level: c.rule.level, path, params, secrets: c.pattern.params.length === 0 ? NO_SECRETS : secretParamValues(params) };
    }
    // Unreachable: the constructor guarantees a catch-all.
    const last = this.#rules[this.#rules.length - 1]!;
    return { index: this.#rules.length - 1, rule: last.rule, level: last.rule.level, path, params: {}, secrets: NO_SECRETS };
  }
}

function compileRule(rule: HttpAuditRule, key: string, caseSensitive: boolean): CompiledRule {
  if (typeof rule !== 'object' || rule === null) throw new AuditPolicyError(key, `must be an object; got ${rule === null ? 'null' : typeof rule}`);
  if (typeof rule.match !== 'object' || rule.match === null) throw new AuditPolicyError(`${key}.match`, 'is required: { path: "/admin/**", methods?: ["POST"] }');
  let pattern: PathPattern;
  try {
    pattern = compilePathPattern(rule.match.path, caseSensitive);
  } catch (e) {
    throw new AuditPolicyError(`${key}.match.path`, (e as Error).message);
  }
  let methods: Set<string> | undefined;
  if (rule.match.methods !== undefined) {
    if (!Array.isArray(rule.match.methods) || rule.match.methods.length === 0) {
      throw new AuditPolicyError(`${key}.match.methods`, 'must be a non-empty array of HTTP methods, e.g. ["GET", "HEAD"]; omit it to match every method');
    }
    methods = new Set();
    for (const m of rule.match.methods) {
      if (typeof m !== 'string' || !METHOD.test(m.toUpperCase())) throw new AuditPolicyError(`${key}.match.methods`, `has an invalid method ${JSON.stringify(m)}`);
      methods.add(m.toUpperCase());
    }
  }
  if (!LEVELS.has(rule.level)) throw new AuditPolicyError(`${key}.level`, `must be "none", "metadata" or "request"; got ${JSON.stringify(rule.level)}`);
  for (const k of ['type', 'action'] as const) {
    const v = rule[k];
    if (v !== undefined && (typeof v !== 'string' || !NAME.test(v))) throw new AuditPolicyError(`${key}.${k}`, `must be a lowercase name like "admin" or "login"; got ${JSON.stringify(v)}`);
  }
  const t = rule.target;
  if (t !== undefined) {
    const type = typeof t === 'string' ? t : t?.type;
    if (typeof type !== 'string' || !NAME.test(type)) throw new AuditPolicyError(`${key}.target`, `must be a target type like "tool" or { type, idParam }; got ${JSON.stringify(t)}`);
    const idParam = typeof t === 'object' ? t.idParam : undefined;
    if (idParam !== undefined && !pattern.params.includes(idParam)) {
      throw new AuditPolicyError(`${key}.target.idParam`, `names ":${idParam}", which the path "${rule.match.path}" does not have (it has ${pattern.params.map((p) => ':' + p).join(', ') || 'no parameters'})`);
    }
    // Refused rather than masked: a target id of "***" would read as an id while identifying nothing.
    if (idParam !== undefined && isSecretParamName(idParam)) {
      throw new AuditPolicyError(
        `${key}.target.idParam`,
        `names ":${idParam}", whose name looks like a credential (token, key, secret, password, signature, session, code, …): its value is masked in the record and cannot be the target id; give the id its own parameter (":id", ":tokenId") or omit idParam`,
      );
    }
  }
  return { rule, pattern, methods };
}

/**
 * The target type and id of a match, from the rule's target and the captured
 * parameters; a parameter whose name looks secret is never the id.
 */
export function targetOf(match: HttpAuditMatch, params: Readonly<Record<string, string>> = match.params): { type: string; id?: string; name?: string } | undefined {
  const t = match.rule.target;
  if (t === undefined) return undefined;
  const type = typeof t === 'string' ? t : t.type;
  const names = Object.keys(params).filter((n) => !isSecretParamName(n));
  const idParam = (typeof t === 'object' ? t.idParam : undefined) ?? (names.includes('id') ? 'id' : names[names.length - 1]);
  const id = idParam === undefined ? undefined : params[idParam];
  return { type, ...(id !== undefined ? { id } : {}), ...(typeof t === 'object' && t.name !== undefined ? { name: t.name } : {}) };
}

/**
 * Load and compile a policy (the default one without rules).
 *
 * @example
 * const policy = createHttpAuditPolicy({ rules: [
 *   { match: { path: '/healthz' }, level: 'none' },
 *   { match: { path: '/admin/tools/:id' }, level: 'request', type: 'admin', target: 'tool' },
 *   { match: { path: '/**' }, level: 'metadata' },
 * ] });
 */
export function createHttpAuditPolicy(options: HttpAuditPolicyOptions = {}): HttpAuditPolicy {
  return new HttpAuditPolicy(options);
}
