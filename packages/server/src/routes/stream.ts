/**
 * The live event stream (issue 7 "GET /api/audit/stream (server-sent
 * events: live records and alerts)"). `POST /api/audit/stream-ticket`, made
 * with the bearer token, returns a short-lived single-use ticket; the
 * browser's `EventSource` then opens `GET /api/audit/stream?ticket=...` —
 * so no raw token is ever put in a URL. At most `maxStreamClients` streams
 * are open at once, and at most half of them (at least one) by one token,
 * so one token cannot hold every slot (429 beyond). Issuing a ticket, opening and closing a
 * stream are access records; the heartbeats are not.
 */
import { HttpError } from '../errors.js';
import type { Route } from '../internal/context.js';
import { sendJson } from '../internal/http.js';
import type { LiveClient } from '../internal/live-hub.js';

/** `POST /api/audit/stream-ticket`. */
export const streamTicketRoute: Route = {
  method: 'POST',
  path: '/api/audit/stream-ticket',
  role: 'auditor',
  params: {},
  async handle(ctx) {
    ctx.req.resume();
    const issued = ctx.state.tickets.issue(ctx.principal);
    // Recorded (who, role, expiry; never the ticket, a bearer credential) before it is handed out.
    await ctx.audit('ticket', 'success', { expiresAt: issued.expiresAt });
    // serverStream: the stream this server writes its access records to (the dashboard leaves it out by default).
    sendJson(ctx.res, 200, { ...issued, name: ctx.principal.name, role: ctx.principal.role, serverStream: ctx.state.access.stream });
  },
};

/** `GET /api/audit/stream?ticket=` (authenticated by the ticket, see audit-server.ts). */
export const streamRoute: Route = {
  method: 'GET',
  path: '/api/audit/stream',
  role: 'auditor',
  params: { ticket: { kind: 'string', max: 600 } },
  async handle(ctx) {
    const { state, req, res } = ctx;
    if (state.live.clients.size >= state.limits.maxStreamClients) throw new HttpError('AUDIT_HTTP_BUSY', `${state.limits.maxStreamClients} live streams are open already; close one or retry later`);
    const perToken = Math.max(1, Math.floor(state.limits.maxStreamClients / 2));
    let held = 0;
    for (const c of state.live.clients) if (c.principal === ctx.principal.name) held++;
    if (held >= perToken) throw new HttpError('AUDIT_HTTP_BUSY', `token "${ctx.principal.name}" holds ${held} live stream(s) already, as many as one token may (half of maxStreamClients ${state.limits.maxStreamClients}); close one (another dashboard tab) or retry later`);
    await ctx.audit('subscribe', 'success', { phase: 'opened' });
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n: connected\n\n');
    const client: LiveClient = { res, principal: ctx.principal.name, withhold: state.encrypted && ctx.principal.role !== 'admin', sent: 0 };
    state.live.add(client);
    let closed = false;
    const done = (): void => {
      if (closed) return;
      closed = true;
      state.live.remove(client);
      void ctx.audit('subscribe', 'success', { phase: 'closed', count: client.sent }).catch(() => undefined);
    };
    req.on('close', done);
    res.on('close', done);
  },
};
