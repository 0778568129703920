/**
 * @otel-audit/instrumentation — how audit records are born (DESIGN §1, §3,
 * §8): the explicit API (`createAuditLogger`), the HTTP audit policy and the
 * hooks for `@opentelemetry/instrumentation-http`, the span processor that
 * turns server spans into records, the always-record sampler, the Express
 * and Fastify adapters and the `fail_closed` guard.
 */
export { createAuditLogger } from './audit-logger.js';
export type {
  AuditLogger,
  AuditLoggerOptions,
  LoginEvent,
  AuthorizeEvent,
  ChangeEvent,
  AccessEvent,
  SecurityEvent,
  RateLimitedEvent,
} from './audit-logger.js';
export type { AuditEventFields, SeedAuditFields, AuditActorInput, AuditTargetInput, AuditRequestInput } from './audit-event.js';
export { HttpAuditPolicy, createHttpAuditPolicy, DEFAULT_HTTP_AUDIT_RULES, actionForMethod } from './http-audit-policy.js';
export type { HttpAuditRule, HttpAuditRuleTarget, HttpAuditLevel, HttpAuditPolicyOptions, HttpAuditMatch } from './http-audit-policy.js';
export { createHttpAuditHooks, createHttpAuditInstrumentation, httpAuditInstrumentationConfig } from './http-audit-hooks.js';
export type { HttpAuditHooks, HttpAuditHooksOptions, HttpAuditInstrumentationOptions } from './http-audit-hooks.js';
export { AuditSpanProcessor } from './audit-span-processor.js';
export type { AuditSpanProcessorOptions } from './audit-span-processor.js';
export { AlwaysRecordSampler } from './always-record-sampler.js';
export { setAuditActor, setAuditContext } from './audit-context.js';
export type { AuditActorValue, AuditRequestContext } from './audit-context.js';
export { createAuditGuard, FAIL_CLOSED_BODY } from './audit-guard.js';
export type { AuditGuard, AuditGuardOptions } from './audit-guard.js';
export { setAuditPipelineMissing } from './internal/pipeline-missing.js';
export { auditExpress, auditExpressErrors } from './express-adapter.js';
export type { AuditExpressOptions, ExpressLikeRequest } from './express-adapter.js';
export { registerFastifyAudit } from './fastify-adapter.js';
export type { FastifyAuditOptions, FastifyLikeInstance, FastifyLikeRequest, FastifyLikeReply } from './fastify-adapter.js';
export type { JwtVerifier } from './internal/actor-resolver.js';
export { AuditPipelineMissingError, AuditPolicyError, AuditReceiptTimeoutError } from './errors.js';
export {
  AUDIT_SCOPE_NAME,
  AUDIT_EVENT_PREFIX,
  ATTR_OTEL_AUDIT_LEVEL,
  DEFAULT_REQUEST_ID_HEADER,
} from './semconv.js';
