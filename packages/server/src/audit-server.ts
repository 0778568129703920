/**
 * The otel-audit query API and dashboard server (issue 7; DESIGN §1
 * `otel-audit serve`, §5 "reads ... are themselves audit records"): a
 * node:http request handler that users mount in their own server or start
 * with `listen` (127.0.0.1 by default). It refuses a foreign Host on
 * loopback (DNS rebinding, internal/host-check.ts), authenticates every
 * /api/audit route with bearer tokens (or a stream ticket for the event
 * stream), checks the role, validates the parameters, enforces the limits,
 * records the access — and every refusal a principal is answered — in the
 * server's own audit stream, and sets the security headers on every
 * response.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { authenticate, requireRole, StreamTickets, TokenTable, type Principal } from './auth.js';
import { HttpError } from './errors.js';
import { AccessLog } from './internal/access-log.js';
import type { RequestContext, Route, ServerState } from './internal/context.js';
import { assertHost } from './internal/host-check.js';
import { sendError, sendJson, setSecurityHeaders } from './internal/http.js';
import { LiveHub } from './internal/live-hub.js';
import { parseParams } from './internal/params.js';
import { RefusalLog } from './internal/refusal-log.js';
import { SearchPool } from './internal/search-pool.js';
import { refusalDetails } from './internal/route-refusal.js';
import { isStaticPath, serveStatic } from './internal/static-files.js';
import { resolveOptions, type AuditServerOptions } from './server-options.js';
import { checkpointsRoute } from './routes/checkpoints.js';
import { exportRoute } from './routes/export.js';
import { integrityRoute } from './routes/integrity.js';
import { logsRoute } from './routes/logs.js';
import { proofRoute } from './routes/proof.js';
import { statsRoute } from './routes/stats.js';
import { streamRoute, streamTicketRoute } from './routes/stream.js';

/**
 * A running (or mountable) audit server.
 *
 * @example
 * const server: AuditServer = createAuditServer({ store, tokens });
 * http.createServer(server.handler).listen(8080, '127.0.0.1');
 * await server.close();
 */
export interface AuditServer {
  /**
   * The server's own access stream (`options.stream`, default
   * `otel-audit-server/<hostname>`), or, with a signer key, the stream it went
   * on in when that one held records it had not signed: `<stream>/<id>`.
   */
  readonly stream: string;
  /** Whether the access stream's checkpoints are signed (`options.signerKey` given); without, it stays an unsigned tail. */
  readonly signed: boolean;
  /** The node:http request handler: mount it in your own server. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** Listen on `host` (default 127.0.0.1) and `port` (default 4319; 0 for any). */
  listen(port?: number, host?: string): Promise<{ url: string }>;
  /** Stop listening, end live streams and search workers, write the final checkpoint of the access stream, close the read connection. Idempotent; leaves the store open. */
  close(): Promise<void>;
}

const ROUTES: readonly Route[] = [logsRoute, integrityRoute, exportRoute, statsRoute, checkpointsRoute, proofRoute, streamRoute, streamTicketRoute];
const MAX_URL = 4096;
/** Refusals recorded per window (`refusalWindowMillis`): of unknown credentials in all, and per principal (see refusal-log.ts). */
const REFUSALS_PER_WINDOW = 60;

/**
 * Create the server over `options.store`.
 *
 * @example
 * const server = createAuditServer({ store, tokens: [{ name: 'alice', role: 'admin', sha256: hashToken(process.env.AUDIT_TOKEN!) }] });
 * const { url } = await server.listen(4319);  // or: http.createServer(server.handler)
 */
export function createAuditServer(options: AuditServerOptions): AuditServer {
  const o = resolveOptions(options);
  const tokens = new TokenTable(o.tokens);
  const store: SqliteAuditStore = o.store;
  const reader = store.openReader();
  const encrypted = (reader.prepare("SELECT count(*) FROM audit_meta WHERE key LIKE 'kcv:%'").pluck().get() as number) > 0;
  const state: ServerState = {
    store, reader, encrypted, limits: o.limits,
    keyring: o.keyring,
    access: new AccessLog(store, { stream: o.stream, ...(o.signerKey === undefined ? {} : { signerKey: o.signerKey }), checkpointEvery: o.checkpointEvery, checkpointIntervalMillis: o.checkpointIntervalMillis }),
    tickets: new StreamTickets(o.ticketTtlMillis),
    live: new LiveHub(store, { pollIntervalMillis: o.pollIntervalMillis, heartbeatIntervalMillis: o.heartbeatIntervalMillis, maxBufferedBytes: o.maxStreamBufferBytes }),
    busy: { requests: 0, exports: 0, integrity: 0, proofs: 0 },
    search: new SearchPool({ path: store.path, size: o.searchWorkers, maxQueued: o.maxQueuedSearches }),
  };
  const refusals = new RefusalLog(state.access, { maxPerWindow: REFUSALS_PER_WINDOW, windowMillis: o.refusalWindowMillis });
  let server: Server | undefined;
  let closed = false;

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    res.setHeader('X-Request-Id', requestId);
    assertHost(req, o.allowedHosts);
    if ((req.url ?? '').length > MAX_URL) throw new HttpError('AUDIT_HTTP_URI_TOO_LONG', `the request URL is longer than ${MAX_URL} characters; narrow the query`);
    const url = new URL(req.url ?? '/', 'http://audit.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: closed ? 'closing' : 'ok' });
      return;
    }
    if (isStaticPath(url.pathname)) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError('AUDIT_HTTP_METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}; use GET`);
      serveStatic(res, url.pathname, method === 'HEAD');
      return;
    }
    const candidates = ROUTES.filter((r) => r.path === url.pathname);
    if (candidates.length === 0) throw new HttpError('AUDIT_HTTP_NOT_FOUND', `no route ${url.pathname}`);
    const route = candidates.find((r) => r.method === method);
    if (route === undefined) {
      res.setHeader('Allow', candidates.map((r) => r.method).join(', '));
      throw new HttpError('AUDIT_HTTP_METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(' or ')}`);
    }
    let principal: Principal | undefined;
    try {
      if (route === streamRoute && req.headers.authorization === undefined) {
        const ticket = url.searchParams.get('ticket');
        if (ticket === null) throw new HttpError('AUDIT_HTTP_UNAUTHENTICATED', 'the event stream needs ?ticket= from POST /api/audit/stream-ticket (or an Authorization header)');
        principal = state.tickets.redeem(ticket);
      } else {
        principal = authenticate(req, tokens);
      }
      requireRole(principal, route.role, `${method} ${route.path}`);
    } catch (e) {
      const presented = req.headers.authorization !== undefined || url.searchParams.has('ticket');
      if (e instanceof HttpError && (presented || principal !== undefined)) {
        refusals.refuse({ req, route: url.pathname, requestId, ...(principal === undefined ? { status: 401 } : { status: 403, principal }) });
      }
      throw e;
    }
    const who = principal;
    const audit: RequestContext['audit'] = (action, outcome, details, severity) => state.access.record({
      action, outcome, actor: who.name, role: who.role, route: route.path, method, requestId, details, ...(severity === undefined ? {} : { severity }),
      ...(req.socket.remoteAddress === undefined ? {} : { ip: req.socket.remoteAddress }),
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'].slice(0, 512) } : {}),
    });
    try {
      await answer(req, res, url, route, who, requestId, audit);
    } catch (e) {
      // A refusal decided by the route (e.g. a decrypted export asked for by an auditor) is recorded like one at the door.
      if (e instanceof HttpError && e.code === 'AUDIT_HTTP_FORBIDDEN') refusals.refuse({ req, route: url.pathname, requestId, status: 403, principal: who });
      // Any other refusal tells a principal something about the log: sealed before it is sent (route-refusal.ts).
      const details = refusalDetails(e, res, url);
      if (details !== undefined) await audit('request', 'failure', details, 'warning');
      throw e;
    }
  };

  /** Validate the query, then let `route` answer within the limits. */
  const answer = async (req: IncomingMessage, res: ServerResponse, url: URL, route: Route, principal: Principal, requestId: string, audit: RequestContext['audit']): Promise<void> => {
    // URLSearchParams turns a broken %-escape into U+FFFD silently: a query that is not what was sent.
    const query = url.search.slice(1);
    for (const part of query === '' ? [] : query.split('&')) {
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        throw new HttpError('AUDIT_HTTP_BAD_REQUEST', `the query parameter ${JSON.stringify(part.split('=')[0]!.slice(0, 60))} holds a malformed %-escape; encode each value with encodeURIComponent`);
      }
    }
    const params = parseParams(url.searchParams, route.params);
    if (route !== streamRoute && state.busy.requests >= o.limits.maxConcurrentRequests) {
      throw new HttpError('AUDIT_HTTP_BUSY', `${o.limits.maxConcurrentRequests} requests are in progress; retry shortly`);
    }
    state.busy.requests += route === streamRoute ? 0 : 1;
    try {
      await route.handle({ req, res, url, principal, requestId, state, audit }, params);
    } finally {
      state.busy.requests -= route === streamRoute ? 0 : 1;
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    setSecurityHeaders(res);
    dispatch(req, res).catch((e: unknown) => {
      if (sendError(res, e).status === 500) o.onError(e);
    });
  };

  return {
    get stream() {
      return state.access.stream;
    },
    signed: o.signerKey !== undefined,
    handler,
    listen(port = 4319, host = '127.0.0.1') {
      if (server !== undefined) return Promise.reject(new Error('the audit server is already listening'));
      if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`port must be an integer in 0..65535; got ${String(port)}`));
      const s = createServer(handler);
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          const address = s.address();
          const actual = typeof address === 'object' && address !== null ? address.port : port;
          resolve({ url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}` });
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      state.live.close();
      if (server !== undefined) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await state.search.close();
      await refusals.close();
      state.access.close();
      reader.close();
    },
  };
}

