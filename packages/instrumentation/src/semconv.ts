/**
 * Every attribute key, event name and scope name this package reads or
 * writes (DESIGN §4.6), in one place as OpenTelemetry does. The audit scope
 * and event-name convention are the processor's producer convention; they are
 * repeated here because this package must not import the processor (§2).
 */

/** Instrumentation scope of audit LogRecords. */
export const AUDIT_SCOPE_NAME = 'otel-audit';
/** Event name prefix: `audit.<type>.<action>`. */
export const AUDIT_EVENT_PREFIX = 'audit.';

/**
 * Span attribute set by the HTTP audit hooks before a server span starts:
 * the policy level of the request (`none`, `metadata`, `request`). The
 * always-record sampler reads it; a span without it is treated as audited.
 */
export const ATTR_OTEL_AUDIT_LEVEL = 'otel_audit.http.level';

/** HTTP semantic-convention names read from server spans. */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_QUERY = 'url.query';
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address';

/** Default request-id header (lowercase, as Node exposes incoming headers). */
export const DEFAULT_REQUEST_ID_HEADER = 'x-request-id';
