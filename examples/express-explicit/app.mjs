// The express-explicit example (DESIGN §1 use 2): an Express app that uses
// no HTTP auto-instrumentation at all and records what matters itself with
// the explicit audit API — `startAudit()` from @otel-audit/node builds the
// pipeline from ./otel-config.yaml (chain, signed checkpoints, SQLite store)
// and returns `audit`, whose calls resolve with a receipt once the record is
// durable. Logins (with the reason of a failure, never the password),
// authorization decisions with their policy, and document changes with the
// values before and after. SIGTERM/SIGINT: stop, flush, final checkpoint.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { startAudit } from '@otel-audit/node';

const handle = await startAudit({ path: process.env.OTEL_AUDIT_CONFIG ?? fileURLToPath(new URL('./otel-config.yaml', import.meta.url)) });
const { audit } = handle;

// Demo users: passwords kept only as scrypt hashes.
const users = new Map(
  [['carol', 'editor', 'carol-demo-password'], ['dave', 'reader', 'dave-demo-password']].map(([name, role, password]) => {
    const salt = randomBytes(16);
    return [name, { name, role, salt, hash: scryptSync(password, salt, 32) }];
  }),
);
const sessions = new Map(); // token -> user
const documents = new Map([['doc-1', { title: 'Runbook', body: 'Restart the service.', classification: 'internal' }]]);

const app = express();
app.use(express.json({ limit: '16kb' }));
const who = (req, user) => ({ id: user?.name ?? 'anonymous', type: user ? 'user' : 'anonymous', ip: req.ip, user_agent: req.get('user-agent') });

app.post('/login', async (req, res) => {
  const { username, password } = req.body ?? {};
  const user = typeof username === 'string' ? users.get(username) : undefined;
  const ok = user !== undefined && typeof password === 'string' && timingSafeEqual(scryptSync(password, user.salt, 32), user.hash);
  const receipt = await audit.login({
    actor: { id: String(username ?? ''), type: 'user', ip: req.ip },
    outcome: ok ? 'success' : 'failure',
    reason: ok ? 'password' : user === undefined ? 'unknown user' : 'bad password',
  });
  if (!ok) return res.status(401).json({ error: 'invalid username or password', audit: receipt.id });
  const token = randomBytes(24).toString('base64url');
  sessions.set(token, user);
  res.json({ token, audit: { id: receipt.id, seq: receipt.seq } });
});

// Every route below needs a session; the decision for each write is recorded.
app.use((req, res, next) => {
  const user = sessions.get(req.get('authorization')?.replace(/^Bearer /, '') ?? '');
  if (user === undefined) return res.status(401).json({ error: 'log in first' });
  req.user = user;
  next();
});

async function allowWrite(req, res, action, id) {
  const allowed = req.user.role === 'editor';
  await audit.authorize({
    actor: who(req, req.user), action, target: { type: 'document', id },
    decision: allowed ? 'allow' : 'deny', policy: 'documents.write requires role editor', reason: `role ${req.user.role}`,
  });
  if (!allowed) res.status(403).json({ error: `${action} needs the editor role` });
  return allowed;
}

app.get('/documents/:id', async (req, res) => {
  const doc = documents.get(req.params.id);
  if (doc === undefined) return res.status(404).json({ error: 'not found' });
  await audit.access({ actor: who(req, req.user), target: { type: 'document', id: req.params.id, name: doc.title } });
  res.json(doc);
});

app.put('/documents/:id', async (req, res) => {
  const id = req.params.id;
  if (!(await allowWrite(req, res, documents.has(id) ? 'update' : 'create', id))) return;
  const before = documents.get(id);
  const after = { ...(before ?? {}), ...req.body };
  documents.set(id, after);
  // old/new are trimmed to the members that changed; details.changed lists them.
  const receipt = await audit.change({ actor: who(req, req.user), target: { type: 'document', id, name: after.title }, old: before, new: after });
  res.status(before ? 200 : 201).json({ ...after, audit: { id: receipt.id, seq: receipt.seq } });
});

app.delete('/documents/:id', async (req, res) => {
  const id = req.params.id;
  if (!(await allowWrite(req, res, 'delete', id))) return;
  const before = documents.get(id);
  if (before === undefined) return res.status(404).json({ error: 'not found' });
  documents.delete(id);
  await audit.change({ actor: who(req, req.user), target: { type: 'document', id, name: before.title }, old: before });
  res.status(204).end();
});

// An audit call that failed (pipeline down, invalid event) fails the request: nothing goes unaudited.
app.use((err, _req, res, _next) => {
  console.error(`request failed: ${err.message}`);
  res.status(500).json({ error: 'internal error' });
});

const server = app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
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
    // Stop taking requests and let those in flight finish (cut after 10 s), then flush
    // every record and write the final signed checkpoint.
    const cut = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    server.close(() => {
      clearTimeout(cut);
      handle.shutdown().then(() => process.exit(0), (e) => {
        console.error(`audit shutdown failed: ${e.message}`);
        process.exit(1);
      });
    });
    server.closeIdleConnections();
  });
}
