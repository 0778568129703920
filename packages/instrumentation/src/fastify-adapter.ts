/**
 * The Fastify adapter (DESIGN §8): an `onRequest` hook that tells the audit
 * the route template (`routeOptions.url`), the path parameters, the
 * authenticated user (`request.user`) and the parsed body — read lazily when
 * the server span ends — and, with `health`, answers 503 on audited routes
 * while the audit pipeline is unhealthy (`fail_closed`). Added with
 * `addHook` on the instance given, so it is not encapsulated in a plugin
 * scope. It also adds an `onError` hook that records the type of an error a
 * handler threw on the request's server span (never its message), so a 5xx
 * record says `error: 'HTTP 500 (TypeError)'`; Fastify's answer is unchanged.
 * Fastify is not imported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuditGuard, FAIL_CLOSED_BODY, type AuditGuardOptions } from './audit-guard.js';
import { recordRequestException } from './internal/record-exception.js';
import { ensureState } from './internal/request-state.js';

/** The parts of a Fastify request the adapter reads. */
export interface FastifyLikeRequest {
  raw: IncomingMessage;
  routeOptions?: { url?: unknown };
  params?: unknown;
  body?: unknown;
  user?: unknown;
}

/** The parts of a Fastify reply the adapter uses. */
export interface FastifyLikeReply {
  raw: ServerResponse;
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(payload?: unknown): FastifyLikeReply;
}

/** The parts of a Fastify instance the adapter uses. */
export interface FastifyLikeInstance {
  addHook(name: 'onRequest', hook: (request: FastifyLikeRequest, reply: FastifyLikeReply, done: (err?: Error) => void) => void): unknown;
}

/** Options of {@link registerFastifyAudit}. */
export interface FastifyAuditOptions extends Partial<AuditGuardOptions> {
  /** Where the authenticated user is. Default `request.user`. */
  user?: (request: FastifyLikeRequest) => unknown;
}

/**
 * Register the adapter on a Fastify instance (before routes are added).
 *
 * @example
 * const app = Fastify();
 * registerFastifyAudit(app, { health: () => auditHealthy() });
 */
export function registerFastifyAudit(fastify: FastifyLikeInstance, options: FastifyAuditOptions = {}): void {
  if (typeof fastify !== 'object' || fastify === null || typeof fastify.addHook !== 'function') throw new TypeError('fastify must be a Fastify instance (with addHook)');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const userOf = options.user ?? ((request: FastifyLikeRequest) => request.user);
  const guard = options.health === undefined ? undefined : createAuditGuard(options as AuditGuardOptions);
  fastify.addHook('onRequest', (request, reply, done) => {
    const state = ensureState(request.raw);
    state.framework = () => {
      const url = request.routeOptions?.url;
      return { route: typeof url === 'string' ? url : undefined, params: request.params, user: userOf(request), body: request.body };
    };
    if (guard !== undefined && guard.shouldRefuse(request.raw)) {
      reply.code(503).header('retry-after', String(guard.retryAfterSeconds)).header('content-type', 'application/json').send(FAIL_CLOSED_BODY);
      return;
    }
    done();
  });
  // Fastify catches what a handler throws, so instrumentation-http never sees it.
  const addHook = fastify.addHook as unknown as (name: 'onError', hook: (request: FastifyLikeRequest, reply: FastifyLikeReply, error: unknown, done: () => void) => void) => unknown;
  addHook.call(fastify, 'onError', (request, _reply, error, done) => {
    try {
      recordRequestException(request.raw, error);
    } finally {
      done();
    }
  });
}
