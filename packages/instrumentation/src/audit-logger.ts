/**
 * The explicit API (DESIGN §1 use 2): `createAuditLogger()` returns an
 * `AuditLogger` whose `log()` emits one audit LogRecord on the `otel-audit`
 * logger (producer convention, §4.6) in the caller's active context — so the
 * record carries the active span's trace and span ids, and inside an audited
 * HTTP request its `request.id`, as the HTTP-level record does — and resolves with the
 * receipt `{ id, stream, seq, hash }` once the primary sink has committed it
 * (core's `requestReceipt`, settled by the processor). The event is validated
 * early with core's `normalizeEvent`, on a copy, so a bad event rejects at
 * the call site with the JSON Pointer of the offending value. Helpers build
 * the seed's event families: login, logout, authorization decisions, changes
 * with before/after values, data access, security events, rate limits.
 */
import { context as otelContext, diag, trace, type Context } from '@opentelemetry/api';
import { logs, type Logger, type LoggerProvider } from '@opentelemetry/api-logs';
import { AuditError, RecordValidationError, createRecordId, isReceiptTaken, normalizeEvent, redactSecrets, requestReceipt, whenAuditCapacity, type AuditEvent, type AuditReceipt, type NormalizeOptions } from '@otel-audit/core';
import { toEventInput, type AuditActorInput, type AuditEventFields, type AuditTargetInput } from './audit-event.js';
import { AuditPipelineMissingError, AuditReceiptTimeoutError } from './errors.js';
import { diffChange } from './internal/change-diff.js';
import { requestIdOfSpan } from './internal/request-state.js';
import { SEVERITY_NUMBERS, nowNanosText } from './internal/severity.js';
import { AUDIT_EVENT_PREFIX, AUDIT_SCOPE_NAME } from './semconv.js';

/** Options of {@link createAuditLogger}. */
export interface AuditLoggerOptions {
  /** Where to emit. Default: the global logger provider (`logs.getLoggerProvider()`). */
  loggerProvider?: LoggerProvider;
  /** Members merged under every event (the event wins; `actor`/`target`/`request` merge member by member). */
  defaults?: AuditEventFields;
  /**
   * How long `log()` waits for the receipt before rejecting with
   * `AuditReceiptTimeoutError`; meanwhile the wait keeps the process alive
   * (a script's last `await audit.log()` outlasts a sink's retries). The
   * wait for queue space under overflow `block` counts against it too: a
   * record still waiting for space when it runs out is not emitted. Default
   * 60,000; 0 waits forever, without keeping the process alive.
   */
  receiptTimeoutMillis?: number;
  /** Limits for the early validation (same meaning as the processor's `limits`). */
  limits?: Omit<NormalizeOptions, 'redact'>;
}

/** `login()`: an authentication attempt. */
export interface LoginEvent extends Omit<AuditEventFields, 'type' | 'action' | 'actor'> {
  actor: AuditActorInput | string;
  /** Default `success`. */
  outcome?: 'success' | 'failure' | 'error';
  /** Why it failed (or how it succeeded: `password`, `sso`, …); goes to `details.reason`. */
  reason?: string;
}

/** `authorize()`: an authorization decision and its reason. */
export interface AuthorizeEvent extends Omit<AuditEventFields, 'type' | 'outcome' | 'actor'> {
  actor: AuditActorInput | string;
  /** The action that was asked for (`delete`, `export`, `grant`, …). */
  action: string;
  target?: AuditTargetInput;
  decision: 'allow' | 'deny';
  /** The policy or rule that decided. */
  policy?: string;
  reason?: string;
}

/** `change()`: a create, update or delete with the values before and after. */
export interface ChangeEvent extends Omit<AuditEventFields, 'action' | 'old' | 'new' | 'actor'> {
  actor?: AuditActorInput | string;
  target: AuditTargetInput;
  /** The value before; absent or `null` for a creation. */
  old?: unknown;
  /** The value after; absent or `null` for a deletion. */
  new?: unknown;
}

/** `access()`: data was read (or exported: give `action`). */
export interface AccessEvent extends Omit<AuditEventFields, 'type' | 'action' | 'actor'> {
  actor?: AuditActorInput | string;
  target: AuditTargetInput;
  /** Default `view`. */
  action?: string;
}

/** `security()`: a security-relevant event (`action` required, severity default `warning`). */
export interface SecurityEvent extends Omit<AuditEventFields, 'type' | 'action' | 'actor'> {
  action: string;
  actor?: AuditActorInput | string;
}

/** `rateLimited()`: a rate-limit violation. */
export interface RateLimitedEvent extends Omit<AuditEventFields, 'type' | 'action' | 'actor'> {
  actor?: AuditActorInput | string;
  /** The limit that was exceeded (requests per window). */
  limit?: number;
  windowMillis?: number;
}

/**
 * The explicit audit API. Every method takes the active span's trace context.
 *
 * @example
 * const audit = createAuditLogger();
 * const { seq, hash } = await audit.login({ actor: 'alice', outcome: 'failure', reason: 'bad password' });
 */
export interface AuditLogger {
  /** Emit `event`; resolves with the receipt once durable; rejects if invalid or not stored. */
  log(event: AuditEventFields): Promise<AuditReceipt>;
  /** Emit `event` without waiting; returns the record id. Throws (synchronously) if the event is invalid. */
  logNowait(event: AuditEventFields): string;
  login(event: LoginEvent): Promise<AuditReceipt>;
  logout(event: Omit<LoginEvent, 'outcome' | 'reason'> & { outcome?: 'success' | 'failure' | 'error' }): Promise<AuditReceipt>;
  authorize(event: AuthorizeEvent): Promise<AuditReceipt>;
  change(event: ChangeEvent): Promise<AuditReceipt>;
  access(event: AccessEvent): Promise<AuditReceipt>;
  security(event: SecurityEvent): Promise<AuditReceipt>;
  rateLimited(event: RateLimitedEvent): Promise<AuditReceipt>;
}

function actorOf(a: AuditActorInput | string | undefined): AuditActorInput | undefined {
  return typeof a === 'string' ? { id: a, type: 'user' } : a;
}

function mergeDetails(details: unknown, extra: Record<string, unknown>): unknown {
  const clean: Record<string, unknown> = {};
  for (const k of Object.keys(extra)) if (extra[k] !== undefined) clean[k] = extra[k];
  if (Object.keys(clean).length === 0) return details;
  if (details === undefined || details === null) return clean;
  if (typeof details === 'object' && !Array.isArray(details)) return { ...(details as object), ...clean };
  return { ...clean, value: details };
}

/**
 * Create the explicit audit API over an OpenTelemetry logger provider (the
 * global one by default). Install an `AuditLogRecordProcessor` on that
 * provider, or `log()` rejects after `receiptTimeoutMillis`.
 *
 * @example
 * const audit = createAuditLogger({ loggerProvider, defaults: { actor: { type: 'service', id: 'billing' } } });
 * await audit.change({ actor: 'alice', target: { type: 'invoice', id: '42' }, old: { amount: 10 }, new: { amount: 12 } });
 */
export function createAuditLogger(options: AuditLoggerOptions = {}): AuditLogger {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object; got ${options === null ? 'null' : typeof options}`);
  const timeout = options.receiptTimeoutMillis ?? 60_000;
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 0) {
    throw new RangeError(`options.receiptTimeoutMillis must be a non-negative integer; got ${String(timeout)}`);
  }
  const provider = options.loggerProvider;
  if (provider !== undefined && (typeof provider !== 'object' || provider === null || typeof provider.getLogger !== 'function')) {
    throw new TypeError('options.loggerProvider must be an OpenTelemetry LoggerProvider (with getLogger)');
  }
  const defaults = options.defaults;
  if (defaults !== undefined && (typeof defaults !== 'object' || defaults === null)) throw new TypeError('options.defaults must be an object');
  const limits = options.limits;
  // Resolved lazily so that a global provider registered after this call is used.
  const logger: Logger | undefined = provider?.getLogger(AUDIT_SCOPE_NAME);
  const getLogger = (): Logger => logger ?? logs.getLogger(AUDIT_SCOPE_NAME);

  const prepare = (event: AuditEventFields): AuditEvent => {
    try {
      const input = toEventInput(event, defaults, createRecordId, nowNanosText);
      return normalizeEvent(input, limits);
    } catch (e) {
      // Validation here runs before the processor's redaction: what the error quotes (a member
      // name, a bad value) is masked as the processor would mask it, and the original (with its
      // stack, which repeats the message) is not kept as the cause.
      if (e instanceof RecordValidationError) {
        const prefix = `${e.pointer === '' ? '(record)' : e.pointer}: `;
        const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
        throw new RecordValidationError(redactSecrets(e.pointer), redactSecrets(reason), e.code);
      }
      if (e instanceof TypeError || e instanceof RangeError || e instanceof AuditError) throw e;
      // A hostile getter or proxy throws its own error: report it as what it is, a bad argument.
      throw new TypeError(`event could not be read: ${redactSecrets(e instanceof Error ? e.message : String(e))}`);
    }
  };

  const emit = (normalized: AuditEvent, ctx: Context, awaited: boolean): Promise<AuditReceipt> | undefined => {
    // A fresh, extensible top-level object: the normalised event may be frozen.
    const body: Record<string, unknown> = { ...normalized };
    // Inside an HTTP request, the record names it (request.id) like the HTTP-level
    // record of the same request does, unless the caller gave an id itself.
    if (normalized.request?.id === undefined) {
      const requestId = requestIdOfSpan(trace.getSpan(ctx));
      if (requestId !== undefined) body.request = { ...normalized.request, id: requestId };
    }
    const receipt = requestReceipt(body, { awaited });
    getLogger().emit({
      eventName: `${AUDIT_EVENT_PREFIX}${normalized.type}.${normalized.action}`,
      severityNumber: SEVERITY_NUMBERS[normalized.severity],
      severityText: normalized.severity,
      body: body as never,
      context: ctx,
    });
    // Processors take the receipt inside emit(): untaken, no audit processor got the record
    // (none installed, or on another provider), and no receipt will ever come.
    if (!isReceiptTaken(body)) return Promise.reject(new AuditPipelineMissingError(normalized.id));
    return receipt;
  };

  let warnedMissing = false;

  /**
   * `start()`'s receipt within `timeout`, counted from the call: the wait for queue space
   * (`capacity`, overflow `block`) and the wait for the receipt share one timer, so a full
   * queue neither outlasts `receiptTimeoutMillis` nor lets the process end under the caller.
   * A record whose capacity wait timed out is not emitted any more: the caller was told.
   */
  const withTimeout = (capacity: Promise<void> | undefined, start: () => Promise<AuditReceipt>, id: string): Promise<AuditReceipt> => {
    if (timeout === 0) return capacity === undefined ? start() : capacity.then(start);
    return new Promise<AuditReceipt>((resolve, reject) => {
      let timedOut = false;
      let emitted = false;
      // Ref'd, unlike the pipeline's timers: while a record waits for queue space or for a retry
      // of a failing sink, this is what keeps a script's last `await audit.log()` from ending
      // under it (exit 13, the record never written) — for at most `timeout`, after which the
      // caller is told where the record is: an emitted one was taken by a processor (else it
      // was rejected at once), so it waits for the store and may still be committed.
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new AuditReceiptTimeoutError(id, timeout, emitted ? 'queued' : 'capacity', whenAuditCapacity() !== undefined));
      }, timeout);
      const settle = (begin: () => Promise<AuditReceipt>): void => {
        emitted = true;
        let p: Promise<AuditReceipt>;
        try {
          p = begin();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          (e: unknown) => {
            clearTimeout(timer);
            reject(e);
          },
        );
      };
      if (capacity === undefined) settle(start);
      else capacity.then(() => {
        if (!timedOut) settle(start);
      }, (e: unknown) => {
        // The pipeline shut down while the record waited for space: it was never emitted.
        clearTimeout(timer);
        reject(e);
      });
    });
  };

  const log = async (event: AuditEventFields): Promise<AuditReceipt> => {
    const ctx = otelContext.active();
    const normalized = prepare(event);
    return withTimeout(whenAuditCapacity(), () => emit(normalized, ctx, true)!, normalized.id);
  };

  const logNowait = (event: AuditEventFields): string => {
    const normalized = prepare(event);
    const p = emit(normalized, otelContext.active(), false);
    // Fire-and-forget: a rejection is the processor's to report (it writes a record_rejected / records_dropped
    // record) — except that no processor got the record at all, which is said once on the OpenTelemetry diag.
    p?.catch((e: unknown) => {
      if (e instanceof AuditPipelineMissingError && !warnedMissing) {
        warnedMissing = true;
        diag.warn(`${e.message} (logNowait; said once)`);
      }
    });
    return normalized.id;
  };

  return {
    log,
    logNowait,
    login: ({ actor, outcome = 'success', reason, ...rest }) =>
      log({
        severity: outcome === 'success' ? 'info' : 'warning',
        ...rest,
        type: 'auth',
        action: 'login',
        outcome,
        actor: actorOf(actor),
        details: mergeDetails(rest.details, { reason }),
      }),
    logout: ({ actor, outcome = 'success', ...rest }) => log({ ...rest, type: 'auth', action: 'logout', outcome, actor: actorOf(actor) }),
    authorize: ({ actor, action, target, decision, policy, reason, ...rest }) => {
      if (decision !== 'allow' && decision !== 'deny') return Promise.reject(new RangeError(`event.decision must be "allow" or "deny"; got ${String(decision)}`));
      return log({
        severity: decision === 'allow' ? 'info' : 'warning',
        ...rest,
        type: 'access',
        action,
        outcome: decision === 'allow' ? 'success' : 'failure',
        actor: actorOf(actor),
        target,
        details: mergeDetails(rest.details, { decision, policy, reason }),
      });
    },
    change: ({ actor, target, old, new: after, old_values, new_values, ...rest }) => {
      let d;
      try {
        d = diffChange(old ?? old_values, after ?? new_values);
      } catch (e) {
        return Promise.reject(e);
      }
      return log({
        ...rest,
        type: rest.type ?? rest.event_type ?? 'crud',
        event_type: undefined,
        action: d.action,
        outcome: rest.outcome ?? rest.event_result ?? 'success',
        event_result: undefined,
        actor: actorOf(actor),
        target,
        old: d.old,
        new: d.new,
        details: d.changed === undefined ? rest.details : mergeDetails(rest.details, { changed: d.changed }),
      });
    },
    access: ({ actor, target, action = 'view', ...rest }) => log({ outcome: 'success', ...rest, type: 'access', action, actor: actorOf(actor), target }),
    security: ({ actor, action, ...rest }) => log({ severity: 'warning', ...rest, type: 'security', action, actor: actorOf(actor) }),
    rateLimited: ({ actor, limit, windowMillis, ...rest }) =>
      log({
        severity: 'warning',
        outcome: 'failure',
        ...rest,
        type: 'security',
        action: 'rate_limit',
        actor: actorOf(actor),
        details: mergeDetails(rest.details, { limit, window_ms: windowMillis }),
      }),
  };
}
