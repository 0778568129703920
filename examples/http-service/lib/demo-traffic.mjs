// The scripted traffic of the demo (issue 6, "the demo"): good and failed
// logins, tools CRUD with before/after values, forbidden and unauthenticated
// calls, a login burst that trips the rate limiter, and a few reads. Each
// step states the status it expects; the run reports every step that got
// something else, so demo.mjs can fail loudly instead of printing a summary
// of the wrong thing.
import { DEMO_USERS } from './accounts.mjs';

const [ALICE, BOB] = DEMO_USERS;

/**
 * Drive the service at `baseUrl`; `print(line)` gets one line per step.
 * Resolves with `{ requests, unexpected: string[] }`.
 *
 * @example
 * const { unexpected } = await driveTraffic('http://127.0.0.1:3000', console.log);
 */
export async function driveTraffic(baseUrl, print) {
  const unexpected = [];
  let requests = 0;
  const call = async (method, path, { token, body, agent = 'otel-audit-demo/1.0' } = {}) => {
    requests++;
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        'user-agent': agent,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const step = async (expected, label, method, path, options) => {
    const r = await call(method, path, options);
    const mark = r.status === expected ? ' ' : '!';
    print(`${mark} ${String(r.status).padEnd(4)}${method.padEnd(7)}${path.padEnd(18)}${label}`);
    if (r.status !== expected) unexpected.push(`${method} ${path} (${label}): expected ${expected}, got ${r.status}`);
    return r;
  };
  const login = (expected, label, username, password) => step(expected, label, 'POST', '/auth/login', { body: { username, password } });

  await step(200, 'health check (not audited)', 'GET', '/healthz');
  const alice = (await login(200, 'alice (admin), right password', ALICE.username, ALICE.password)).json?.token;
  const bob = (await login(200, 'bob (viewer), right password', BOB.username, BOB.password)).json?.token;
  await login(401, 'alice, wrong password', ALICE.username, 'password123');
  await login(401, 'mallory, no such user', 'mallory', 'letmein');

  await step(200, 'alice lists the tools', 'GET', '/admin/tools', { token: alice });
  const created = await step(201, 'alice creates "grafana"', 'POST', '/admin/tools', { token: alice, body: { name: 'grafana', url: 'https://grafana.example.test', enabled: true } });
  const id = created.json?.id ?? '3';
  await step(200, 'alice disables it (before/after recorded)', 'PUT', `/admin/tools/${id}`, { token: alice, body: { enabled: false, description: 'dashboards' } });
  await step(200, 'bob reads it', 'GET', `/admin/tools/${id}`, { token: bob });
  await step(403, 'bob tries to enable jenkins: forbidden', 'PUT', '/admin/tools/1', { token: bob, body: { enabled: true } });
  await step(403, 'bob tries to delete pgadmin: forbidden', 'DELETE', '/admin/tools/2', { token: bob });
  await step(204, 'alice deletes pgadmin', 'DELETE', '/admin/tools/2', { token: alice });
  await step(404, 'alice reads the deleted tool', 'GET', '/admin/tools/2', { token: alice });
  await step(401, 'no session token', 'GET', '/admin/tools');
  await step(401, 'a forged session token', 'DELETE', '/admin/tools/1', { token: 'forged-token-0000' });

  // A password-guessing burst from one IP: the limiter allows 5 attempts per 10 s.
  const burst = [];
  for (let i = 0; i < 8; i++) {
    requests++;
    burst.push((await call('POST', '/auth/login', { body: { username: 'alice', password: `guess-${i}` }, agent: 'credential-stuffer/0.1' })).status);
  }
  const refused = burst.filter((s) => s === 429).length;
  const mark = burst[0] === 401 && refused >= 5 ? ' ' : '!';
  print(`${mark} ${'429'.padEnd(4)}${'POST'.padEnd(7)}${'/auth/login'.padEnd(18)}a burst of 8 guesses: ${burst.length - refused} × 401, then ${refused} × 429 (rate limited)`);
  if (mark === '!') unexpected.push(`login burst: expected a 401 then at least five 429s, got ${burst.join(', ')}`);

  await step(200, 'bob lists the tools', 'GET', '/admin/tools', { token: bob });
  return { requests, unexpected };
}
