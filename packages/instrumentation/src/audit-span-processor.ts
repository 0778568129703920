/**
 * The span processor that turns each finished SERVER span of an audited route
 * into one audit record (DESIGN §3, §8), at the level the policy decided when
 * the span started: `metadata` (who, what, when, where, outcome) or
 * `request` (plus the body a framework adapter parsed, size-capped; the
 * processor redacts it). The record is emitted on the `otel-audit` logger in
 * the span's context, so it carries the span's trace and span ids. The value
 * of a secret-named path parameter (`/reset/:token`) is masked in
 * `request.endpoint` (so in `url.path`) and listed in `redacted`. Nothing
 * here throws into the application: a failure is reported to the
 * OpenTelemetry global error handler.
 */
import { ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api';
import { logs, type Logger, type LoggerProvider } from '@opentelemetry/api-logs';
import { globalErrorHandler } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { RecordValidationError, createRecordId, normalizeEvent, redactSecrets, setOwnMember } from '@otel-audit/core';
import { actionForMethod, targetOf } from './http-audit-policy.js';
import { createActorResolver, type JwtVerifier } from './internal/actor-resolver.js';
import { createClientIpResolver } from './internal/client-ip.js';
import { httpOutcome } from './internal/http-outcome.js';
import { assignOwnMembers } from './internal/own-member.js';
import { linkChildSpan, takeSpanState, type FrameworkView, type RequestAuditState } from './internal/request-state.js';
import { maskPathSegments, secretParamValues } from './internal/secret-param.js';
import { SEVERITY_NUMBERS, hrTimeToNanosText } from './internal/severity.js';
import { cleanText, header } from './internal/text.js';
import { ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, AUDIT_EVENT_PREFIX, AUDIT_SCOPE_NAME } from './semconv.js';

/** Options of {@link AuditSpanProcessor}. */
export interface AuditSpanProcessorOptions {
  /** Where records are emitted. Default: the global logger provider. */
  loggerProvider?: LoggerProvider;
  /** Proxies (addresses or CIDR ranges) whose `X-Forwarded-For`/`Forwarded` is believed. Default none. */
  trustedProxies?: readonly string[];
  /** Verifies a bearer token (synchronously) and returns its claims; without it, a JWT `sub` is recorded as unverified. */
  verifyJwt?: JwtVerifier;
  /** Headers carrying an API key. Default `['x-api-key']`. */
  apiKeyHeaders?: readonly string[];
  /** Key of the API-key fingerprint HMAC (≥ 16 bytes). Without it an API-key caller has no id. */
  apiKeyHmacKey?: string | Uint8Array;
  /** Largest request body recorded at `request` level, in UTF-16 units of its JSON. Default 16,384. */
  maxBodyLength?: number;
}

const DEFAULT_MAX_BODY = 16_384;

/**
 * Each finished SERVER span of an audited route → one audit record.
 *
 * @example
 * const provider = new NodeTracerProvider({
 *   sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
 *   spanProcessors: [new AuditSpanProcessor({ trustedProxies: ['10.0.0.0/8'] })],
 * });
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly #logger: () => Logger;
  readonly #resolveActor: ReturnType<typeof createActorResolver>;
  readonly #resolveIp: ReturnType<typeof createClientIpResolver>;
  readonly #maxBody: number;
  #stopped = false;

  constructor(options: AuditSpanProcessorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const provider = options.loggerProvider;
    if (provider !== undefined && typeof provider?.getLogger !== 'function') throw new TypeError('options.loggerProvider must be an OpenTelemetry LoggerProvider');
    const own = provider?.getLogger(AUDIT_SCOPE_NAME);
    this.#logger = own !== undefined ? () => own : () => logs.getLogger(AUDIT_SCOPE_NAME);
    this.#resolveActor = createActorResolver({ verifyJwt: options.verifyJwt, apiKeyHeaders: options.apiKeyHeaders, apiKeyHmacKey: options.apiKeyHmacKey });
    this.#resolveIp = createClientIpResolver(options.trustedProxies ?? []);
    const max = options.maxBodyLength ?? DEFAULT_MAX_BODY;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) throw new RangeError(`options.maxBodyLength must be a non-negative integer; got ${String(max)}`);
    this.#maxBody = max;
  }

  /** A span started inside an audited request (a framework's handler span, a database span) serves that request too. */
  onStart(span: Span, parentContext: Context): void {
    linkChildSpan(span, trace.getSpan(parentContext));
  }

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.SERVER) return;
    const state = takeSpanState(span);
    if (state === undefined || this.#stopped) return;
    const level = state.match?.level;
    if (level === undefined || level === 'none') return;
    try {
      this.#record(span, state, level);
    } catch (e) {
      globalErrorHandler(e instanceof Error ? e : new Error(String(e)));
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.#stopped = true;
    return Promise.resolve();
  }

  #record(span: ReadableSpan, state: RequestAuditState, level: 'metadata' | 'request'): void {
    const match = state.match!;
    const req = state.req;
    const method = cleanText(req.method, 32)?.toUpperCase() ?? 'GET';
    const statusAttr = span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
    // A response that never finished (connection closed first) has no real status, whatever Node's default statusCode says.
    const finished = state.res === undefined || state.res.writableFinished;
    const status = typeof statusAttr === 'number' && finished ? statusAttr : undefined;
    const o = httpOutcome(state.refused ? 503 : status);
    let fw: FrameworkView | undefined;
    try {
      fw = state.framework?.();
    } catch {
      fw = undefined;
    }
    const actor = this.#resolveActor(req, state.actor, fw?.user);
    const ip = this.#resolveIp(state.peer, req.headers);
    const route = cleanText(fw?.route, 512) ?? cleanText(span.attributes[ATTR_HTTP_ROUTE], 512);
    const params: Record<string, string> = { ...match.params };
    let secrets = match.secrets;
    if (typeof fw?.params === 'object' && fw.params !== null) {
      const fwParams = Object.entries(fw.params as Record<string, unknown>);
      // The raw values (not cut at 256): a framework route may name a secret the policy's pattern does not.
      const fwSecrets = secretParamValues(fw.params as Record<string, unknown>);
      if (fwSecrets.length > 0) secrets = [...secrets, ...fwSecrets];
      for (const [k, v] of fwParams) {
        const t = cleanText(v, 256);
        if (t !== undefined && !Object.hasOwn(params, k)) setOwnMember(params, k, t);
      }
    }
    const endpoint = maskPathSegments(match.path, secrets);
    const redacted: string[] = [];
    if (endpoint !== match.path) redacted.push('/request/endpoint');
    if (actor.masked === true) redacted.push('/actor/id');
    const ruleTarget = targetOf(match, params);
    const target = state.target ?? (ruleTarget === undefined ? undefined : { ...ruleTarget, id: cleanText(ruleTarget.id, 256) });

    const details: Record<string, unknown> = { status_code: status ?? null };
    if (o.reason !== undefined) details.reason = o.reason;
    // The app's details (often the client's body) as data: a "__proto__" member stays a member.
    // They may refine the reason; what was observed (status, the decision it implies, route when
    // known, actor source, a fail_closed refusal) they cannot change.
    if (state.details !== undefined) assignOwnMembers(details, state.details);
    details.status_code = status ?? null;
    if (o.decision !== undefined) details.decision = o.decision;
    if (route !== undefined) details.route = route;
    details.actor_source = actor.source;
    if (state.refused) details.refused = 'audit pipeline unhealthy (fail_closed)';
    else delete details.refused;

    let type = match.rule.type ?? 'http';
    let action = match.rule.action ?? actionForMethod(method);
    if (o.rateLimited) {
      details.requested = { type, action };
      type = 'security';
      action = 'rate_limit';
    }
    let error: string | undefined;
    if (o.outcome === 'error') {
      const ex = span.events.find((e) => e.name === 'exception');
      const exType = cleanText(ex?.attributes?.['exception.type'], 128);
      // The exception message may carry secrets (a connection string...): only its type is recorded.
      error = status !== undefined ? `HTTP ${status}${exType !== undefined ? ` (${exType})` : ''}` : exType;
    }
    const event: Record<string, unknown> = {
      id: createRecordId(),
      time: hrTimeToNanosText(span.endTime),
      type,
      action,
      outcome: o.outcome,
      severity: o.severity,
      actor: {
        ...(actor.id !== undefined ? { id: actor.id } : {}),
        type: actor.type,
        ...(ip !== undefined ? { ip } : {}),
        ...(req.headers['user-agent'] !== undefined ? { user_agent: cleanText(header(req.headers['user-agent']), 512) } : {}),
      },
      target,
      request: {
        id: state.requestId,
        session_id: state.sessionId,
        endpoint: cleanText(endpoint, 2048),
        method,
      },
      details,
      error,
      ...(redacted.length > 0 ? { redacted } : {}),
    };
    if (level === 'request' && fw?.body !== undefined) this.#attachBody(event, details, fw.body);
    const sc = span.spanContext();
    const body = event as never;
    this.#logger().emit({
      eventName: `${AUDIT_EVENT_PREFIX}${type}.${action}`,
      severityNumber: SEVERITY_NUMBERS[o.severity],
      severityText: o.severity,
      body,
      context: trace.setSpanContext(ROOT_CONTEXT, sc),
    });
  }

  #attachBody(event: Record<string, unknown>, details: Record<string, unknown>, body: unknown): void {
    if (body === null || (typeof body === 'object' && Object.keys(body as object).length === 0 && !Array.isArray(body))) return;
    if (typeof body === 'object' && (body instanceof Uint8Array || ArrayBuffer.isView(body))) {
      details.body_omitted = `binary (${(body as Uint8Array).byteLength} bytes)`;
      return;
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(body);
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      details.body_omitted = 'not representable as JSON';
      return;
    }
    if (text.length > this.#maxBody) {
      details.body_omitted = `larger than ${this.#maxBody} (${text.length})`;
      return;
    }
    details.body = body;
    try {
      normalizeEvent(event as never);
    } catch (e) {
      delete details.body;
      details.body_omitted = `invalid: ${invalidBodyReason(e)}`;
    }
  }
}

const BODY_POINTER = '/details/body';

/**
 * Why core refused a body, without the client's member names: a name core
 * refuses (a lone surrogate) is stored nowhere else, and may be anything the
 * client sent. Below `/details/body` the pointer keeps its depth and array
 * indices, each name becoming `*`; the rest is masked like any text.
 */
function invalidBodyReason(e: unknown): string {
  if (!(e instanceof RecordValidationError)) return cleanText(redactSecrets(e instanceof Error ? e.message : String(e)), 256) ?? 'unknown';
  const prefix = `${e.pointer === '' ? '(record)' : e.pointer}: `;
  const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  const inBody = e.pointer === BODY_POINTER || e.pointer.startsWith(`${BODY_POINTER}/`);
  const where = inBody ? BODY_POINTER + e.pointer.slice(BODY_POINTER.length).replace(/\/(?!\d+(?:\/|$))[^/]*/g, '/*') : e.pointer;
  return cleanText(`${redactSecrets(where)}: ${redactSecrets(reason)}`, 256) ?? 'unknown';
}
