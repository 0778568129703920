/**
 * The tracing half of HTTP auditing (DESIGN §3, §8): a NodeTracerProvider
 * whose sampler always records server spans of audited routes (so a client
 * cannot opt out with `traceparent`), the AuditSpanProcessor that turns them
 * into records on the pipeline's LoggerProvider, and the audit
 * HttpInstrumentation with the configured policy, enabled at once. One
 * HttpInstrumentation serves every start of the process, reconfigured and
 * enabled again by a second start (after a shutdown): two cannot share
 * `node:http` — enabling one unwraps what is there — so a second one would
 * leave the first's owner auditing nothing.
 */
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createRequire } from 'node:module';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { AlwaysRecordSampler, AuditSpanProcessor, createHttpAuditInstrumentation, httpAuditInstrumentationConfig } from '@otel-audit/instrumentation';
import type { HttpReceiverConfig } from '../config-types.js';
import { httpRules } from './options-mapping.js';

/**
 * Two HTTP instrumentations cannot share `node:http`: OpenTelemetry's
 * `_wrap` unwraps what is there first, so the one enabled last owns it. Next
 * to a team's own SDK (a preload, auto-instrumentations) the register hook
 * therefore either takes HTTP spans away from that SDK or audits no
 * request — both silently, until these lines.
 */
const FIX = 'fix: do not combine --import @otel-audit/node/register with another OpenTelemetry SDK; wire otel-audit into that SDK instead, '
  + 'with its own instrumentation-http disabled (examples/own-sdk; docs/operations.md §10)';
const ANOTHER_SDK_FIRST = 'otel-audit: warning: another OpenTelemetry SDK registered its tracer provider before otel-audit started: '
  + "otel-audit's HTTP instrumentation now handles node:http, so that SDK records no HTTP spans of its own (its exporter gets none); " + FIX;
const PATCHED_AFTER = 'otel-audit: warning: HTTP requests are NOT audited: another instrumentation patched node:http after otel-audit started '
  + '(a second OpenTelemetry SDK or agent loaded after --import @otel-audit/node/register) and took it over; ' + FIX;

/** How long after start node:http is checked for a later patch (the app's other preloads and its start have run by then). */
const PATCH_CHECK_MILLIS = 2_000;

/** `http.Server.prototype.emit` as the latest start's enable() left it. */
let ourEmit: unknown;

/** Say once if something re-patches `http.Server.prototype.emit` after ours (see {@link PATCHED_AFTER}); a later start of our own is no such thing. */
function watchPatch(nodeHttp: typeof import('node:http'), warn: ((line: string) => void) | undefined): void {
  ourEmit = nodeHttp.Server.prototype.emit;
  if (warn === undefined) return;
  setTimeout(() => {
    if (sharedOwner !== undefined && nodeHttp.Server.prototype.emit !== ourEmit) warn(PATCHED_AFTER);
  }, PATCH_CHECK_MILLIS).unref();
}

/** What {@link startHttpTracing} started. */
export interface HttpTracing {
  tracerProvider: NodeTracerProvider;
  instrumentation: HttpInstrumentation;
  /** Stop auditing HTTP: disables the instrumentation unless a later start has taken it over. */
  stop(): void;
}

/** The process's audit HttpInstrumentation, made by the first start and reconfigured by the next ones. */
let shared: HttpInstrumentation | undefined;
/** The start that configured it last: the latest start audits HTTP, and only it disables the instrumentation. */
let sharedOwner: object | undefined;

/**
 * Start HTTP auditing for `receivers.http`.
 *
 * @example
 * const { tracerProvider, instrumentation } = startHttpTracing(http, { loggerProvider, resource, register: true });
 */
export function startHttpTracing(
  http: HttpReceiverConfig,
  options: { loggerProvider: LoggerProvider; resource: Resource; register: boolean; apiKeyHmacKey?: string; warn?: (line: string) => void },
): HttpTracing {
  const spanProcessor = new AuditSpanProcessor({
    loggerProvider: options.loggerProvider,
    ...(http.trusted_proxies !== undefined ? { trustedProxies: http.trusted_proxies } : {}),
    ...(http.actor?.api_key_headers !== undefined ? { apiKeyHeaders: http.actor.api_key_headers } : {}),
    ...(options.apiKeyHmacKey !== undefined ? { apiKeyHmacKey: options.apiKeyHmacKey } : {}),
    ...(http.max_body_length !== undefined ? { maxBodyLength: http.max_body_length } : {}),
  });
  const tracerProvider = new NodeTracerProvider({
    resource: options.resource,
    sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
    spanProcessors: [spanProcessor],
  });
  if (options.register) {
    tracerProvider.register();
    // Refused (silently, to OpenTelemetry's diag) when another SDK registered first: see ANOTHER_SDK_FIRST above.
    if ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate?.() !== tracerProvider) options.warn?.(ANOTHER_SDK_FIRST);
  }
  const policy = { ...(http.rules !== undefined ? { rules: httpRules(http.rules) } : {}), ...(http.case_sensitive !== undefined ? { caseSensitive: http.case_sensitive } : {}) };
  const hookOptions = { ...(http.request_id_header !== undefined ? { requestIdHeader: http.request_id_header } : {}), ...(http.echo_request_id !== undefined ? { echoRequestId: http.echo_request_id } : {}) };
  let instrumentation = shared;
  if (instrumentation === undefined) shared = instrumentation = createHttpAuditInstrumentation(policy, hookOptions);
  else {
    // The previous start disabled it; enable() below patches node:http again.
    instrumentation.disable();
    instrumentation.setConfig(httpAuditInstrumentationConfig(policy, hookOptions));
  }
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.enable();
  // require-in-the-middle patches node:http when it is required; the module is shared with ESM imports.
  const nodeHttp = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  watchPatch(nodeHttp, options.warn);
  const owner = {};
  sharedOwner = owner;
  return {
    tracerProvider,
    instrumentation,
    stop() {
      if (sharedOwner !== owner) return;
      sharedOwner = undefined;
      instrumentation.disable();
    },
  };
}
