// The http-service example: a small admin API on node:http (no framework)
// audited with no setup code of its own — run it as
//   node --import @otel-audit/node/register server.mjs
// and the register hook (DESIGN §1 use 1) starts the OpenTelemetry SDK, the
// HTTP audit policy and the audit pipeline from otel-config.yaml before this
// file loads. Every audited request becomes a record by itself; the code
// below adds what HTTP cannot see (DESIGN §1 use 2): who logged in and why a
// login failed, authorization decisions with their policy, and the values
// before and after each change, awaited until durable.
import { createServer } from 'node:http';
import { audit, shutdownAudit } from '@otel-audit/node';
import { setAuditActor, setAuditContext } from '@otel-audit/instrumentation';
import { createAccounts } from './lib/accounts.mjs';
import { createRateLimiter } from './lib/rate-limiter.mjs';
import { createToolRegistry, validateToolFields } from './lib/tools.mjs';

const MAX_BODY_BYTES = 16 * 1024;
const accounts = await createAccounts();
const tools = createToolRegistry();
const loginLimiter = createRateLimiter({
  limit: Number(process.env.LOGIN_RATE_LIMIT ?? 5),
  windowMillis: Number(process.env.LOGIN_RATE_WINDOW_MS ?? 10_000),
});

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readJson(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

/** What the explicit records say about the request: the same request id, IP and user agent the HTTP record has. */
function requestFields(req, res, path) {
  const requestId = res.getHeader('x-request-id');
  return {
    request: { ...(typeof requestId === 'string' ? { id: requestId } : {}), method: req.method, endpoint: path },
    ip: req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
  };
}

function actorOf(session, f) {
  return { id: session.username, type: 'user', ip: f.ip, user_agent: f.userAgent };
}

async function login(req, res, path) {
  const f = requestFields(req, res, path);
  const gate = loginLimiter.hit(f.ip ?? 'unknown');
  if (!gate.allowed) {
    if (gate.firstRefusal) {
      await audit.rateLimited({ actor: { type: 'anonymous', ip: f.ip }, request: f.request, limit: loginLimiter.limit, windowMillis: loginLimiter.windowMillis });
    }
    throw new HttpError(429, 'too many login attempts; try again later', { 'retry-after': String(gate.retryAfterSeconds) });
  }
  const body = await readJson(req);
  const username = typeof body?.username === 'string' ? body.username.slice(0, 64) : '';
  const password = typeof body?.password === 'string' ? body.password : '';
  if (username === '' || password === '') throw new HttpError(400, 'username and password are required');
  const result = await accounts.login(username, password);
  // The attempted username is recorded, the password never is.
  await audit.login({
    actor: { id: username, type: 'user', ip: f.ip, user_agent: f.userAgent },
    outcome: result.ok ? 'success' : 'failure',
    reason: result.ok ? 'password' : result.reason,
    request: { ...f.request, ...(result.ok ? { session_id: result.session.sessionId } : {}) },
  });
  // The HTTP record of this request names the same (attempted) user.
  setAuditContext(req, { actor: username, ...(result.ok ? { sessionId: result.session.sessionId } : {}) });
  if (!result.ok) throw new HttpError(401, 'invalid username or password');
  send(res, 200, { token: result.session.token, role: result.session.role });
}

function authenticate(req) {
  const session = accounts.sessionOf(req.headers.authorization);
  if (session === undefined) throw new HttpError(401, 'a valid Bearer session token is required', { 'www-authenticate': 'Bearer' });
  setAuditContext(req, { actor: session.username, sessionId: session.sessionId });
  return session;
}

async function requireAdmin(req, res, path, session, action, target) {
  if (session.role === 'admin') return;
  const f = requestFields(req, res, path);
  await audit.authorize({
    actor: actorOf(session, f), action, target, decision: 'deny',
    policy: 'tools.write requires role admin', reason: `role ${session.role}`,
    request: { ...f.request, session_id: session.sessionId },
  });
  throw new HttpError(403, `${action} on tools requires the admin role`);
}

async function toolsRoute(req, res, path, id) {
  const session = authenticate(req);
  const f = requestFields(req, res, path);
  const target = id === undefined ? { type: 'tool' } : { type: 'tool', id };
  if (id !== undefined) setAuditContext(req, { target });
  const change = (old, after, targetOf) =>
    audit.change({ actor: actorOf(session, f), type: 'admin', target: targetOf, old, new: after, request: { ...f.request, session_id: session.sessionId } });

  if (req.method === 'GET') {
    if (id === undefined) return send(res, 200, tools.list());
    const tool = tools.get(id);
    if (tool === undefined) throw new HttpError(404, `no tool ${id}`);
    return send(res, 200, tool);
  }
  if (req.method === 'POST' && id === undefined) {
    await requireAdmin(req, res, path, session, 'create', target);
    const { fields, error } = validateToolFields(await readJson(req), { create: true });
    if (error) throw new HttpError(400, error);
    const tool = tools.create(fields, session.username);
    setAuditContext(req, { target: { type: 'tool', id: tool.id, name: tool.name } });
    await change(undefined, tool, { type: 'tool', id: tool.id, name: tool.name });
    return send(res, 201, tool);
  }
  if (req.method === 'PUT' && id !== undefined) {
    await requireAdmin(req, res, path, session, 'update', target);
    const { fields, error } = validateToolFields(await readJson(req), { create: false });
    if (error) throw new HttpError(400, error);
    const old = tools.get(id);
    if (old === undefined) throw new HttpError(404, `no tool ${id}`);
    const updated = tools.update(id, fields);
    await change(old, updated, { type: 'tool', id, name: updated.name });
    return send(res, 200, updated);
  }
  if (req.method === 'DELETE' && id !== undefined) {
    await requireAdmin(req, res, path, session, 'delete', target);
    const old = tools.remove(id);
    if (old === undefined) throw new HttpError(404, `no tool ${id}`);
    await change(old, undefined, { type: 'tool', id, name: old.name });
    return send(res, 204);
  }
  throw new HttpError(405, `${req.method} is not allowed on ${path}`);
}

async function route(req, res) {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (path === '/auth/login') {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    return login(req, res, path);
  }
  const m = /^\/admin\/tools(?:\/([A-Za-z0-9_-]{1,64}))?\/?$/.exec(path);
  if (m) return toolsRoute(req, res, path, m[1]);
  throw new HttpError(404, `no route ${path}`);
}

const server = createServer((req, res) => {
  route(req, res).catch((e) => {
    if (res.headersSent) return res.destroy();
    if (e instanceof HttpError) return send(res, e.status, { error: e.message }, e.headers);
    // An audit that could not be recorded fails the request rather than letting it pass unaudited.
    console.error(`request ${req.method} ${req.url} failed: ${e instanceof Error ? e.message : String(e)}`);
    send(res, 500, { error: 'internal error' });
  });
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  const address = server.address();
  console.log(`listening on http://${host}:${address.port}`);
});
// Shutdown (docs/operations.md §7): with a signal handler of its own the app owns shutdown, so
// the register hook does not stop the pipeline by itself. Stop taking requests, let those in
// flight finish (for a bounded time: an awaited audit call can wait long while the store
// fails), then stop the audit pipeline — flush, final signed checkpoint, within
// delivery.shutdown_timeout; calls still waiting for the store are rejected — and exit.
const SHUTDOWN_GRACE_MS = Number(process.env.SHUTDOWN_GRACE_MS ?? 5_000);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    let grace;
    await Promise.race([closed, new Promise((resolve) => (grace = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(grace);
    await shutdownAudit();
    server.closeAllConnections();
    process.exit(0);
  });
}
