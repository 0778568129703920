/**
 * The tracing half of HTTP auditing (DESIGN §3, §8): a NodeTracerProvider
 * whose sampler always records server spans of audited routes (so a client
 * cannot opt out with `traceparent`), the AuditSpanProcessor that turns them
 * into records on the pipeline's LoggerProvider, and the audit
 * HttpInstrumentation with the configured policy, enabled at once. One
 * HttpInstrumentation serves every start of the process: OpenTelemetry
 * patches `node:http` once, for the first instrumentation, so one created
 * for a second start (after a shutdown) would audit nothing.
 */
import type { LoggerProvider } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createRequire } from 'node:module';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { AlwaysRecordSampler, AuditSpanProcessor, createHttpAuditInstrumentation, httpAuditInstrumentationConfig } from '@otel-audit/instrumentation';
import type { HttpReceiverConfig } from '../config-types.js';
import { httpRules } from './options-mapping.js';

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
  options: { loggerProvider: LoggerProvider; resource: Resource; register: boolean; apiKeyHmacKey?: string },
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
  if (options.register) tracerProvider.register();
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
  createRequire(import.meta.url)('node:http');
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
