/**
 * The hooks that connect `@opentelemetry/instrumentation-http` to the audit
 * (DESIGN §3, §8): before a server span starts, the policy decides the
 * request's level (written on the span, so the always-record sampler can see
 * it) and the request id is taken from `X-Request-ID` (or the configured
 * header) or generated; the span is linked to the request's audit state for
 * `AuditSpanProcessor`; the request id is echoed on the response. The
 * span's `url.path` and `url.query` get the credentials the audit record
 * would not hold masked (a secret-named path parameter of the policy's
 * rule, a secret-named query parameter), so traces do not carry them
 * either.
 * `createHttpAuditInstrumentation` returns an `HttpInstrumentation` with these
 * hooks composed with the caller's own (`httpAuditInstrumentationConfig`, its
 * configuration, for one that exists).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Span } from '@opentelemetry/api';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { createRecordId, redactUrl } from '@otel-audit/core';
import { HttpAuditPolicy, createHttpAuditPolicy, type HttpAuditPolicyOptions } from './http-audit-policy.js';
import { ensureState, linkSpan, requestDone, stateOf } from './internal/request-state.js';
import { maskPathSegments } from './internal/secret-param.js';
import { header } from './internal/text.js';
import { ATTR_OTEL_AUDIT_LEVEL, ATTR_URL_PATH, ATTR_URL_QUERY, DEFAULT_REQUEST_ID_HEADER } from './semconv.js';

/** Options of {@link createHttpAuditHooks}. */
export interface HttpAuditHooksOptions {
  /** Header carrying the request id. Default `x-request-id`. */
  requestIdHeader?: string;
  /** Echo the request id on the response. Default `true`. */
  echoRequestId?: boolean;
}

/** The hooks to put in an `HttpInstrumentationConfig`. */
export type HttpAuditHooks = Required<Pick<HttpInstrumentationConfig, 'startIncomingSpanHook' | 'requestHook' | 'responseHook'>>;

// Printable ASCII without spaces, bounded: anything else is replaced by a generated id.
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * Span attributes that replace the instrumentation's `url.path` and
 * `url.query` (hook attributes are applied last) where they would carry a
 * credential: the segments holding a secret-named parameter's value, the
 * values of secret-named query parameters (core's `redactUrl`, which also
 * covers the instrumentation's own list: `sig`, `Signature`,
 * `AWSAccessKeyId`). Undefined when there is nothing to mask.
 */
function maskedUrlAttributes(url: string, secrets: readonly string[]): Attributes | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let out: Attributes | undefined;
  const maskedPath = maskPathSegments(path, secrets);
  if (maskedPath !== path) (out ??= {})[ATTR_URL_PATH] = maskedPath;
  if (q !== -1) {
    const query = url.slice(q);
    const masked = redactUrl(query);
    if (masked !== query) (out ??= {})[ATTR_URL_QUERY] = masked.slice(1);
  }
  return out;
}

function toPolicy(policy: HttpAuditPolicy | HttpAuditPolicyOptions | undefined): HttpAuditPolicy {
  return policy instanceof HttpAuditPolicy ? policy : createHttpAuditPolicy(policy);
}

/**
 * The audit hooks for a user's own `HttpInstrumentation`.
 *
 * @example
 * const hooks = createHttpAuditHooks(createHttpAuditPolicy());
 * new HttpInstrumentation({ ...hooks, ignoreIncomingRequestHook: (req) => req.url === '/metrics' });
 */
export function createHttpAuditHooks(policy?: HttpAuditPolicy | HttpAuditPolicyOptions, options: HttpAuditHooksOptions = {}): HttpAuditHooks {
  const p = toPolicy(policy);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const name = (options.requestIdHeader ?? DEFAULT_REQUEST_ID_HEADER).toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new RangeError(`options.requestIdHeader must be a header name; got ${JSON.stringify(options.requestIdHeader)}`);
  const echo = options.echoRequestId ?? true;
  return {
    startIncomingSpanHook(req: IncomingMessage): Attributes {
      const state = ensureState(req);
      state.match = p.match(req.method ?? 'GET', req.url ?? '/');
      const given = header(req.headers[name]);
      state.requestId = given !== undefined && REQUEST_ID.test(given) ? given : createRecordId();
      state.peer = req.socket?.remoteAddress;
      const masked = maskedUrlAttributes(req.url ?? '/', state.match.secrets);
      return masked === undefined ? { [ATTR_OTEL_AUDIT_LEVEL]: state.match.level } : { [ATTR_OTEL_AUDIT_LEVEL]: state.match.level, ...masked };
    },
    requestHook(span: Span, req: IncomingMessage | import('node:http').ClientRequest): void {
      if (!(req instanceof IncomingMessage)) return;
      const state = stateOf(req);
      if (state !== undefined) linkSpan(span, state);
    },
    responseHook(_span: Span, res: IncomingMessage | ServerResponse): void {
      if (!(res instanceof ServerResponse)) return;
      const state = stateOf(res.req);
      if (state === undefined) return;
      state.res = res;
      if (echo && state.requestId !== undefined && !res.headersSent) res.setHeader(name, state.requestId);
      res.once('close', () => requestDone(state));
    },
  };
}

/** Options of {@link createHttpAuditInstrumentation}. */
export interface HttpAuditInstrumentationOptions extends HttpAuditHooksOptions {
  /** The rest of the `HttpInstrumentation` configuration; its own hooks run after the audit's. */
  config?: HttpInstrumentationConfig;
}

/**
 * The `HttpInstrumentation` configuration with the audit hooks composed with
 * `options.config`'s own (theirs run after the audit's): for
 * `setConfig` on an instrumentation that already exists.
 *
 * @example
 * instrumentation.setConfig(httpAuditInstrumentationConfig({ rules }));
 */
export function httpAuditInstrumentationConfig(policy?: HttpAuditPolicy | HttpAuditPolicyOptions, options: HttpAuditInstrumentationOptions = {}): HttpInstrumentationConfig {
  const hooks = createHttpAuditHooks(policy, options);
  const config = options.config ?? {};
  const user = { start: config.startIncomingSpanHook, request: config.requestHook, response: config.responseHook };
  return {
    ...config,
    startIncomingSpanHook: user.start === undefined ? hooks.startIncomingSpanHook : (req) => ({ ...safe(() => user.start!(req)), ...hooks.startIncomingSpanHook(req) }),
    requestHook: user.request === undefined ? hooks.requestHook : (span, req) => {
      hooks.requestHook(span, req);
      user.request!(span, req);
    },
    responseHook: user.response === undefined ? hooks.responseHook : (span, res) => {
      hooks.responseHook(span, res);
      user.response!(span, res);
    },
  };
}

/**
 * An `HttpInstrumentation` whose server spans carry what the audit needs.
 * Pair it with `AuditSpanProcessor` and an `AlwaysRecordSampler`.
 * Create one per process: OpenTelemetry patches `node:http` once, for the
 * first instrumentation enabled, and a second one created after that
 * patches nothing. To change the policy later (or start again after
 * `disable()`), give the one you have a new configuration with
 * {@link httpAuditInstrumentationConfig} and `enable()` it.
 *
 * @example
 * const sdk = new NodeSDK({
 *   instrumentations: [createHttpAuditInstrumentation(createHttpAuditPolicy())],
 *   sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })),
 *   spanProcessors: [new AuditSpanProcessor()],
 * });
 */
export function createHttpAuditInstrumentation(policy?: HttpAuditPolicy | HttpAuditPolicyOptions, options: HttpAuditInstrumentationOptions = {}): HttpInstrumentation {
  return new HttpInstrumentation(httpAuditInstrumentationConfig(policy, options));
}

function safe(f: () => Attributes): Attributes {
  try {
    return f() ?? {};
  } catch {
    return {};
  }
}
