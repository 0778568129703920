// The own-sdk example's app: an Express 5 service started under the team's own
// OpenTelemetry SDK (`node --import ./instrumentation.mjs app.mjs`). What is
// audited, and by what:
//   POST /auth/login            audit.login (actor, outcome, reason; never the password)
//                               + the HTTP record of the policy (auth/login)
//   PUT  /admin/settings/:name  audit.change with the old and new value
//                               + the HTTP record (admin/update, target setting)
//   GET  /api/reports           the HTTP record only (api/view): no audit code in the handler
//   GET  /healthz               not audited (policy level none)
// SIGTERM/SIGINT: the server stops, then the SDK shuts down, writing the final checkpoint.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import express from 'express';
import { auditExpress, auditExpressErrors, setAuditActor } from '@otel-audit/instrumentation';
import { audit, auditHealthy, shutdown } from './instrumentation.mjs';

// Demo users: passwords kept only as scrypt hashes.
const users = new Map(
  [['alice', 'admin', 'alice-demo-password'], ['bob', 'viewer', 'bob-demo-password']].map(([id, role, password]) => {
    const salt = randomBytes(16);
    return [id, { id, role, salt, hash: scryptSync(password, salt, 32) }];
  }),
);
const sessions = new Map(); // token -> user
const settings = new Map([['retention_days', 30], ['max_upload_mb', 10]]);

const app = express();
// Tells the HTTP audit the route template and the user (`req.user.id`), and answers 503 on
// audited routes while the audit store fails (fail closed). Mounted first.
app.use(auditExpress({ health: auditHealthy }));
app.use(express.json({ limit: '16kb' }));

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.post('/auth/login', async (req, res) => {
  const { username, password } = req.body ?? {};
  const user = typeof username === 'string' ? users.get(username) : undefined;
  const ok = user !== undefined && typeof password === 'string' && timingSafeEqual(scryptSync(password, user.salt, 32), user.hash);
  // Awaited: the login answers only once its record is durable.
  const receipt = await audit.login({
    actor: { id: String(username ?? ''), type: 'user', ip: req.ip },
    outcome: ok ? 'success' : 'failure',
    reason: ok ? 'password' : user === undefined ? 'unknown user' : 'bad password',
  });
  if (!ok) return res.status(401).json({ error: 'invalid username or password', audit: { id: receipt.id, seq: receipt.seq } });
  // The HTTP record of this request names the user who just logged in (else it is anonymous).
  setAuditActor(req, user.id);
  const token = randomBytes(24).toString('base64url');
  sessions.set(token, user);
  res.json({ token, audit: { id: receipt.id, seq: receipt.seq } });
});

// Every route below needs a session; req.user is the actor of their HTTP records.
app.use((req, res, next) => {
  const user = sessions.get(req.get('authorization')?.replace(/^Bearer /, '') ?? '');
  if (user === undefined) return res.status(401).json({ error: 'log in first' });
  req.user = user;
  next();
});

// Audited by the HTTP policy only (/api/** at metadata level).
app.get('/api/reports', (req, res) => {
  res.json({ reports: [{ id: 'weekly-logins', owner: req.user.id }] });
});

app.put('/admin/settings/:name', async (req, res) => {
  if (req.user.role !== 'admin') return res.status(403).json({ error: 'admins only' }); // the HTTP record says deny
  const name = req.params.name;
  if (!settings.has(name)) return res.status(404).json({ error: 'no such setting' });
  const value = req.body?.value;
  if (typeof value !== 'number') return res.status(400).json({ error: 'value must be a number' });
  const before = settings.get(name);
  settings.set(name, value);
  const receipt = await audit.change({
    actor: { id: req.user.id, type: 'user', ip: req.ip },
    target: { type: 'setting', id: name },
    old: { value: before },
    new: { value },
  });
  res.json({ name, value, audit: { id: receipt.id, seq: receipt.seq } });
});

// Records the type of a thrown error on the request's HTTP record (`HTTP 500 (TypeError)`), never its message.
app.use(auditExpressErrors());
// An audit call that failed (pipeline down, invalid event) fails the request: nothing goes unaudited.
app.use((err, _req, res, _next) => {
  console.error(`request failed: ${err.message}`);
  res.status(500).json({ error: 'internal error' });
});

const server = app.listen(Number(process.env.PORT ?? 3002), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});

// Once stopping, a keep-alive connection is closed as soon as its request is answered.
let closing = false;
server.on('request', (_req, res) => {
  if (closing && !res.headersSent) res.setHeader('connection', 'close');
  res.on('finish', () => {
    if (closing) setImmediate(() => server.closeIdleConnections());
  });
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    // Stop taking requests, let those in flight finish (each is recorded when its span ends),
    // then stop the pipeline: it flushes every record and writes the final signed checkpoint.
    // Requests still running after 10 s are cut.
    const cut = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    server.close(() => {
      clearTimeout(cut);
      shutdown().then(() => process.exit(0), (e) => {
        console.error(`shutdown failed: ${e.message}`);
        process.exit(1);
      });
    });
    server.closeIdleConnections();
  });
}
