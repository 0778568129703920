/**
 * The Express adapter (DESIGN §8): a middleware that tells the audit what
 * Express knows and node:http does not — the route template, the path
 * parameters, the authenticated user (`req.user`) and the parsed body (for
 * `request` level) — read lazily when the server span ends, so it may be
 * mounted first, before routers and body parsers. With `health` it is also
 * the `fail_closed` guard. Express is not imported: any Express 4/5 app works.
 *
 * Express catches what a handler throws, so the HTTP instrumentation never
 * sees the exception: mount {@link auditExpressErrors} after the routes
 * (before the app's own error handlers) and a 5xx record says
 * `error: 'HTTP 500 (TypeError)'` instead of `'HTTP 500'`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuditGuard, type AuditGuardOptions } from './audit-guard.js';
import { recordRequestException } from './internal/record-exception.js';
import { ensureState } from './internal/request-state.js';

/** Options of {@link auditExpress}. */
export interface AuditExpressOptions extends Partial<AuditGuardOptions> {
  /** Where the authenticated user is. Default `req.user`. */
  user?: (req: ExpressLikeRequest) => unknown;
}

/** The parts of an Express request the adapter reads. */
export interface ExpressLikeRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
  params?: unknown;
  body?: unknown;
  user?: unknown;
}

/**
 * The Express middleware. Mount it first: `app.use(auditExpress())`; and
 * {@link auditExpressErrors} after the routes, so a thrown error's type is recorded.
 *
 * @example
 * const app = express();
 * app.use(auditExpress({ health: () => auditHealthy() }));
 * app.use(express.json({ limit: '100kb' }));
 * app.use(router);
 * app.use(auditExpressErrors());
 */
export function auditExpress(options: AuditExpressOptions = {}): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const userOf = options.user ?? ((req: ExpressLikeRequest) => req.user);
  if (typeof userOf !== 'function') throw new TypeError('options.user must be a function');
  const guard = options.health === undefined ? undefined : createAuditGuard(options as AuditGuardOptions);
  return (req, res, next) => {
    const r = req as ExpressLikeRequest;
    const state = ensureState(req);
    state.framework = () => {
      const path = r.route?.path;
      return {
        route: typeof path === 'string' ? (r.baseUrl ?? '') + path : undefined,
        params: r.params,
        user: userOf(r),
        body: r.body,
      };
    };
    if (guard !== undefined && guard(req, res)) return;
    next();
  };
}

/**
 * The Express error middleware of the audit: records the type of the error
 * a handler threw (or passed to `next(err)`) on the request's server span —
 * never its message, which may hold a secret — so the record says
 * `error: 'HTTP 500 (TypeError)'`, then passes the error on unchanged: the
 * response is what the app's error handlers (or Express's default) make of
 * it. Mount it after the routes and before the app's own error handlers.
 *
 * @example
 * app.use(auditExpress({ health: auditHealthy }));
 * app.get('/items/:id', getItem);
 * app.use(auditExpressErrors());
 * app.use((err, req, res, next) => res.status(500).json({ error: 'internal' }));
 */
export function auditExpressErrors(): (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  // Four parameters: Express calls it only for errors.
  return (err, req, _res, next) => {
    try {
      recordRequestException(req, err);
    } finally {
      next(err);
    }
  };
}
