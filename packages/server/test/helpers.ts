/**
 * Shared fixtures of the server tests: a real SQLite store in a temp dir
 * holding a signed stream of varied records (built with core's AuditChain,
 * as the processor would), a server listening on 127.0.0.1:0, and tokens
 * for both roles.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { connect, type Socket } from 'node:net';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { AuditChain, createRecordId, generateNoteKey, Keyring, parseSignerKey, type AuditEventInput, type SealedCheckpoint } from '@otel-audit/core';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from '@otel-audit/exporter-sqlite';
import { createAuditServer, hashToken, type AuditServer, type AuditServerOptions } from '../src/index.js';

export const keys = generateNoteKey('test.example/audit');
export const signer = parseSignerKey(keys.signerKey);
export const keyring = Keyring.from([keys.verifierKey]);
export const ADMIN_TOKEN = 'admin-token-0123456789';
export const AUDITOR_TOKEN = 'auditor-token-0123456789';
export const TOKENS = [
  { name: 'alice', role: 'admin' as const, sha256: hashToken(ADMIN_TOKEN) },
  { name: 'bob', role: 'auditor' as const, sha256: hashToken(AUDITOR_TOKEN) },
];
export const STREAM = 'svc/1';
const MINUTE_MS = 60_000;

/** The i-th seeded event, `minutesAgo` minutes in the past: types, outcomes and actors vary with i. */
export function seededEvent(i: number, minutesAgo: number): AuditEventInput {
  const kinds = [
    { type: 'auth', action: 'login', outcome: 'failure', severity: 'warning' },
    { type: 'auth', action: 'login', outcome: 'success', severity: 'info' },
    { type: 'crud', action: 'update', outcome: 'success', severity: 'info' },
    { type: 'admin', action: 'config_change', outcome: 'success', severity: 'warning' },
    { type: 'crud', action: 'delete', outcome: 'error', severity: 'error' },
  ] as const;
  const k = kinds[i % kinds.length]!;
  return {
    id: createRecordId(), time: new Date(Date.now() - minutesAgo * MINUTE_MS), ...k,
    actor: { id: `user-${i % 3}`, type: 'user', ip: `10.0.0.${i % 250}`, user_agent: 'Mozilla/5.0 test' },
    target: { type: 'tool', id: String(i % 4), name: `tool ${i % 4}` },
    request: { id: `req-${i}`, endpoint: '/admin/tools/:id', method: 'PUT' },
    details: { i, note: i % 7 === 0 ? 'needle in details' : 'plain' },
    old: { name: `before-${i}` }, new: { name: `after-${i}` },
  };
}

/** Append `events` to `chain` in `store`, with a signed checkpoint at the end. */
export function appendEvents(store: SqliteAuditStore, chain: AuditChain, events: readonly AuditEventInput[], checkpoint = true): void {
  const records = events.map((e) => chain.append(e));
  const checkpoints: SealedCheckpoint[] = [];
  if (checkpoint) {
    const time = BigInt(Date.now()) * 1_000_000n;
    checkpoints.push({ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, [signer]) });
  }
  store.appendSync({ records, checkpoints });
}

/** A running fixture: store, chain, server, url. */
export interface Fixture {
  dir: string;
  store: SqliteAuditStore;
  chain: AuditChain;
  server: AuditServer;
  url: string;
  close(): Promise<void>;
}

/** A store with `n` seeded records (one per 10 minutes, newest 1 minute ago) and a listening server. */
export async function startFixture(n = 40, serverOptions: Partial<AuditServerOptions> = {}, storeOptions: SqliteAuditStoreOptions = {}): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-server-'));
  const store = new SqliteAuditStore(path.join(dir, 'audit.db'), storeOptions);
  const chain = new AuditChain({ stream: STREAM });
  appendEvents(store, chain, Array.from({ length: n }, (_, i) => seededEvent(i, 1 + (n - 1 - i) * 10)));
  const server = createAuditServer({ store, tokens: TOKENS, verifierKeys: [keys.verifierKey], signerKey: keys.signerKey, stream: 'otel-audit-server/test', ...serverOptions });
  const { url } = await server.listen(0);
  return {
    dir, store, chain, server, url,
    async close() {
      await server.close();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fetch Response whose JSON body is untyped, as tests read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiResponse = Omit<Response, 'json' | 'clone'> & { json(): Promise<any>; clone(): ApiResponse };

/**
 * Registers closing after each test of the calling file and returns a
 * `startFixture` whose fixtures it closes.
 */
export function fixturesPerTest(): (...args: Parameters<typeof startFixture>) => Promise<Fixture> {
  const open: Fixture[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  return async (...args) => {
    const fx = await startFixture(...args);
    open.push(fx);
    return fx;
  };
}

/**
 * GET (or another method) with a bearer token, on a connection of its own
 * (`Connection: close`). The server runs in the test's own process: test
 * code that blocks the event loop past the server's 5 s keep-alive timeout
 * (a synchronous scan on a loaded machine) lets the client pick a pooled
 * socket that the server's overdue timer then closes under the request —
 * `ECONNRESET`, a failure of the test's setup, not of the server.
 */
export function call(fx: { url: string }, pathAndQuery: string, token?: string, init: RequestInit = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { connection: 'close', ...(init.headers as Record<string, string> | undefined) };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${fx.url}${pathAndQuery}`, { ...init, headers }) as Promise<ApiResponse>;
}

/** Records of the server's own access stream, oldest first. */
export function accessRecords(store: SqliteAuditStore, stream = 'otel-audit-server/test') {
  return store.query({ stream, order: 'oldest', limit: 1000, since: '2000-01-01T00:00:00Z' }).records.map((r) => r.record);
}

/** `n` records of about `bytes` each (in details), stamped a few seconds ago: megabytes for an export or a live stream. */
export function appendBulky(fx: Fixture, n: number, bytes = 16 * 1024): void {
  const blob = 'x'.repeat(bytes);
  appendEvents(fx.store, fx.chain, Array.from({ length: n }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() - 5_000 + i), type: 'api', action: 'bulky', details: { i, blob } })), false);
}

/**
 * A client that sends `GET pathAndQuery` and then never reads: its socket
 * is paused, so the kernel buffers fill and the server's writes back up.
 */
export function stalledClient(fx: { url: string }, pathAndQuery: string, token: string): Socket {
  const url = new URL(fx.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.pause();
  socket.on('error', () => undefined);
  socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  return socket;
}

/** Poll until `cond()` holds. */
export async function until(cond: () => boolean, timeoutMillis = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMillis;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMillis} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
