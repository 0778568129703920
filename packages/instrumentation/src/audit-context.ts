/**
 * What the application tells the audit about a request (DESIGN §8): the
 * authenticated actor (`setAuditActor`, the first actor resolver), the
 * session, a more precise target, and extra details — all recorded when the
 * request's server span ends. Works with node:http and Express requests and
 * Fastify requests (through `request.raw`).
 */
import { ensureState, rawRequest } from './internal/request-state.js';
import { cleanText } from './internal/text.js';

/** An authenticated user: an id, or an object with `id` (and optionally `type`: `user`, `service`, …). */
export type AuditActorValue = string | number | { id: string | number; type?: string };

/**
 * Set the actor of `req` (the first resolver: wins over JWT and API key).
 *
 * @example
 * app.use((req, _res, next) => { if (req.session?.user) setAuditActor(req, req.session.user.id); next(); });
 */
export function setAuditActor(req: object, user: AuditActorValue): void {
  guarded(() => setActor(req, user));
}

function guarded(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    throw new TypeError(`argument could not be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function setActor(req: object, user: AuditActorValue): void {
  const state = ensureState(rawRequest(req));
  if (typeof user === 'string' || typeof user === 'number') {
    state.actor = { id: cleanText(String(user), 256), type: 'user' };
    return;
  }
  if (typeof user !== 'object' || user === null || (typeof user.id !== 'string' && typeof user.id !== 'number')) {
    throw new TypeError('user must be an id (string or number) or an object with an id');
  }
  state.actor = { id: cleanText(String(user.id), 256), type: cleanText(user.type, 64) ?? 'user' };
}

/** What {@link setAuditContext} accepts. */
export interface AuditRequestContext {
  actor?: AuditActorValue;
  /** A session identifier that is not a credential (never the session cookie itself). */
  sessionId?: string;
  target?: { type?: string; id?: string | number; name?: string };
  /** Merged into the record's `details`. */
  details?: Record<string, unknown>;
}

/**
 * Set several parts of the audit record of `req` at once.
 *
 * @example
 * setAuditContext(req, { target: { type: 'invoice', id: invoice.id }, details: { amount: invoice.amount } });
 */
export function setAuditContext(req: object, ctx: AuditRequestContext): void {
  guarded(() => setContext(req, ctx));
}

function setContext(req: object, ctx: AuditRequestContext): void {
  if (typeof ctx !== 'object' || ctx === null) throw new TypeError('ctx must be an object');
  const state = ensureState(rawRequest(req));
  if (ctx.actor !== undefined) setActor(req, ctx.actor);
  if (ctx.sessionId !== undefined) state.sessionId = cleanText(ctx.sessionId, 256);
  if (ctx.target !== undefined) {
    const t = ctx.target;
    state.target = {
      ...(t.type !== undefined ? { type: cleanText(t.type, 128)! } : {}),
      ...(t.id !== undefined ? { id: cleanText(String(t.id), 256)! } : {}),
      ...(t.name !== undefined ? { name: cleanText(t.name, 256)! } : {}),
    };
  }
  if (ctx.details !== undefined) {
    if (typeof ctx.details !== 'object' || ctx.details === null || Array.isArray(ctx.details)) throw new TypeError('ctx.details must be an object');
    // Spread defines members (a client's "__proto__" stays data); Object.assign would set the prototype.
    state.details = { ...(state.details ?? {}), ...ctx.details };
  }
}
