/**
 * The audit state of one incoming request: what the policy decided when the
 * server span started, the request id, the socket peer, and what the app or
 * a framework adapter set later (actor, session, target, details, route,
 * params, body). It rides on the `IncomingMessage` under a `Symbol.for` key
 * (so two copies of this package agree) and is linked to the server span in
 * a WeakMap, so the span processor finds it when the span ends and nothing
 * outlives the request; explicit records logged while the request runs take
 * its request id from the active span (`requestIdOfSpan`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAuditMatch } from '../http-audit-policy.js';

/** What a framework adapter can tell about a request, read lazily when the span ends. */
export interface FrameworkView {
  route?: string | undefined;
  params?: unknown;
  user?: unknown;
  body?: unknown;
}

/** The app-set actor (`setAuditActor`). */
export interface AppActor {
  id?: string | undefined;
  type?: string | undefined;
}

export interface RequestAuditState {
  match: HttpAuditMatch | undefined;
  requestId: string | undefined;
  peer: string | undefined;
  actor: AppActor | undefined;
  sessionId: string | undefined;
  target: { type?: string; id?: string; name?: string } | undefined;
  details: Record<string, unknown> | undefined;
  framework: (() => FrameworkView | undefined) | undefined;
  /** The response, once the instrumentation saw it (to tell a finished response from an aborted one). */
  res: ServerResponse | undefined;
  /** Set by the guard when it answered 503. */
  refused: boolean;
  /** `traceId/spanId` of its server span, while the request is open. */
  spanKey?: string | undefined;
  /** Its server span (where a framework adapter records the exception of a failed request). */
  serverSpan?: object | undefined;
  readonly req: IncomingMessage;
}

const STATE_KEY = Symbol.for('@otel-audit/instrumentation.request-state');
const spanStates = new WeakMap<object, RequestAuditState>();

/** The state of `req`, if the hooks or the app created one. */
export function stateOf(req: IncomingMessage): RequestAuditState | undefined {
  return (req as unknown as { [STATE_KEY]?: RequestAuditState })[STATE_KEY];
}

/** The state of `req`, created empty if absent. */
export function ensureState(req: IncomingMessage): RequestAuditState {
  let s = stateOf(req);
  if (s === undefined) {
    s = { match: undefined, requestId: undefined, peer: undefined, actor: undefined, sessionId: undefined, target: undefined, details: undefined, framework: undefined, res: undefined, refused: false, req };
    Object.defineProperty(req, STATE_KEY, { value: s, enumerable: false, configurable: true, writable: false });
  }
  return s;
}

/**
 * Server spans of requests in progress by `traceId/spanId`, for a record
 * logged in a child span (a framework's handler span): the child's parent.
 * Entries leave when the response is done; the cap only guards against
 * responses never reported.
 */
const openRequests = new Map<string, RequestAuditState>();
const MAX_OPEN_REQUESTS = 10_000;

type SpanIds = { spanContext(): { traceId: string; spanId: string }; parentSpanContext?: { spanId: string } };

export function linkSpan(span: object, state: RequestAuditState): void {
  spanStates.set(span, state);
  state.serverSpan = span;
  const ids = (span as Partial<SpanIds>).spanContext?.();
  if (ids === undefined) return;
  if (openRequests.size >= MAX_OPEN_REQUESTS) openRequests.delete(openRequests.keys().next().value!);
  const key = `${ids.traceId}/${ids.spanId}`;
  openRequests.set(key, state);
  state.spanKey = key;
}

/** The request is done: its span is no longer the parent of spans that log for it. */
export function requestDone(state: RequestAuditState): void {
  if (state.spanKey !== undefined) openRequests.delete(state.spanKey);
}

/** The state linked to `span`, unlinked (each span is recorded once). */
export function takeSpanState(span: object): RequestAuditState | undefined {
  const s = spanStates.get(span);
  if (s !== undefined) {
    spanStates.delete(span);
    requestDone(s);
  }
  return s;
}

/** Spans started inside a request (at any depth), to the request's state: weak, so they go with their spans. */
const childStates = new WeakMap<object, RequestAuditState>();

/**
 * `child` started with `parent` as its parent: if the parent serves an
 * audited request, so does the child (AuditSpanProcessor.onStart).
 *
 * @example
 * linkChildSpan(span, trace.getSpan(parentContext));
 */
export function linkChildSpan(child: object, parent: object | undefined): void {
  if (parent === undefined) return;
  const state = spanStates.get(parent) ?? childStates.get(parent);
  if (state !== undefined) childStates.set(child, state);
}

/**
 * The request id of the request `span` serves: `span` is its server span,
 * a span started below it (linked by the span processor), or a direct
 * child of it. Undefined outside a request.
 *
 * @example
 * const id = requestIdOfSpan(trace.getSpan(context.active()));
 */
export function requestIdOfSpan(span: object | undefined): string | undefined {
  if (span === undefined) return undefined;
  const direct = spanStates.get(span) ?? childStates.get(span);
  if (direct !== undefined) return direct.requestId;
  const s = span as Partial<SpanIds>;
  const parent = s.parentSpanContext?.spanId;
  if (parent === undefined || typeof s.spanContext !== 'function') return undefined;
  return openRequests.get(`${s.spanContext().traceId}/${parent}`)?.requestId;
}

/**
 * The Node request behind `req`: the `IncomingMessage` itself (node:http,
 * Express) or Fastify's `request.raw`.
 */
export function rawRequest(req: unknown, name = 'req'): IncomingMessage {
  if (typeof req !== 'object' || req === null) throw new TypeError(`${name} must be an http.IncomingMessage or a framework request; got ${req === null ? 'null' : typeof req}`);
  const raw = (req as { raw?: unknown }).raw;
  const r = (typeof raw === 'object' && raw !== null && 'headers' in raw ? raw : req) as IncomingMessage;
  if (typeof r.headers !== 'object' || r.headers === null) throw new TypeError(`${name} must be an http.IncomingMessage or a framework request (no headers found)`);
  return r;
}
