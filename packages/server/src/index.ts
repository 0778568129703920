/**
 * @otel-audit/server — the otel-audit query API, live event stream and
 * audit dashboard over the SQLite store (DESIGN §1 `otel-audit serve`, §5).
 */
export { createAuditServer } from './audit-server.js';
export type { AuditServer } from './audit-server.js';
export type { AuditServerOptions } from './server-options.js';
export type { VerifierKeyInput } from './internal/verifier-keyring.js';
export { hashToken } from './auth.js';
export type { AuditRole, AuditTokenConfig, Principal } from './auth.js';
export { HttpError, statusOf } from './errors.js';
export type { ServerErrorCode } from './errors.js';
export { CONTENT_SECURITY_POLICY } from './internal/http.js';
export { WITHHELD } from './internal/withhold.js';
export { PURGED_HEADER, PURGED_OMITTED_HEADER } from './internal/purged-header.js';
export { startCollector } from './collector/index.js';
export type { CollectorOptions, RunningCollector, SenderTokenInput } from './collector/index.js';
