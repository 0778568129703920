/**
 * `startCollector`: the OTLP/HTTP logs receiver of `otel-audit collect`
 * (DESIGN §1 use 3, §4.4, §4.6, §5). `POST /v1/logs` with
 * `application/json` or `application/x-protobuf`, optionally gzip; records
 * of scope `otel-audit` are verified and stored in the central SQLite store
 * with their checkpoints (see {@link StreamIngest}); other records are
 * accepted and ignored. Answers follow the OTLP retry semantics: 200 (with
 * `partialSuccess` when records were refused), 400 for a malformed body, 409
 * when a record id came back with other content, 415 for another content
 * type, 503 with `Retry-After` when the store cannot be written.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { Keyring } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { CollectorFindings, type CollectorFinding } from './collector-findings.js';
import { decodeJsonLogs } from './otlp-json-logs.js';
import { decodeProtobufLogs, OtlpDecodeError, type OtlpLog } from './otlp-logs-request.js';
import { encodeLogsResponse } from './otlp-logs-response.js';
import { StreamIngest, type IncomingItem, type IngestResult } from './stream-ingest.js';

/**
 * Options of {@link startCollector}.
 *
 * @example
 * const options: CollectorOptions = { host: '127.0.0.1', port: 4318, dbPath: 'central.db' };
 */
export interface CollectorOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 4318. */
  port?: number;
  /** SQLite file of the central store (opened and closed by the collector). */
  dbPath?: string;
  /** An open store instead of `dbPath` (left open on close). */
  store?: SqliteAuditStore;
  /** Verifier keys (`name+hash+base64`) trusted for checkpoints. */
  verifierKeys?: readonly string[];
  /** A missing record is reported as `seq_gap` after later ones waited this long. Default 10,000. */
  gapGraceMillis?: number;
  /** Largest request body accepted (after gunzip). Default 32 MiB. */
  maxBodyBytes?: number;
  /** Stream id of the collector's own finding records. Default `otel-audit-collector/<hostname>`. */
  stream?: string;
}

/**
 * A running collector.
 *
 * @example
 * const { url, close } = await startCollector({ port: 0, dbPath: 'central.db' });
 */
export interface RunningCollector {
  /** Base URL, e.g. `http://127.0.0.1:4318`; logs go to `${url}/v1/logs`. */
  url: string;
  /** The central store. */
  store: SqliteAuditStore;
  /** Findings raised so far, oldest first. */
  findings(): (CollectorFinding & { at: number })[];
  /** Records waiting for a missing predecessor. */
  pending(): number;
  close(): Promise<void>;
}

const ATTR_HASH = 'audit.record.hash';
const EVENT_CHECKPOINT = 'audit.checkpoint';

function itemsOf(logs: readonly OtlpLog[]): IncomingItem[] {
  const items: IncomingItem[] = [];
  for (const log of logs) {
    if (log.scope !== 'otel-audit' || typeof log.body !== 'string') continue;
    if (log.eventName === EVENT_CHECKPOINT) items.push({ kind: 'checkpoint', note: log.body });
    else {
      const claimed = log.attributes[ATTR_HASH];
      items.push({ kind: 'record', body: log.body, claimedHash: typeof claimed === 'string' ? claimed : undefined });
    }
  }
  return items;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new RangeError(`request body larger than ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Start the receiver.
 *
 * @example
 * const collector = await startCollector({ port: 0, dbPath: 'central.db', verifierKeys: [vkey] });
 * // exporter url: `${collector.url}/v1/logs`
 * await collector.close();
 */
export async function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  if (options.store === undefined && (typeof options.dbPath !== 'string' || options.dbPath === '')) throw new TypeError('options.dbPath (or options.store) is required');
  const store = options.store ?? new SqliteAuditStore(options.dbPath!);
  const stream = options.stream ?? `otel-audit-collector/${hostname()}`;
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const findings = new CollectorFindings(store, stream, await store.head(stream));
  const ingest = new StreamIngest(store, findings, Keyring.from([...(options.verifierKeys ?? [])]), options.gapGraceMillis ?? 10_000);
  const timer = setInterval(() => {
    try {
      ingest.tick();
    } catch {
      // The next request reports a store that cannot be written.
    }
  }, Math.max(250, Math.min(5_000, Math.floor((options.gapGraceMillis ?? 10_000) / 2))));
  timer.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/logs') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('only POST /v1/logs is served\n');
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const proto = type === 'application/x-protobuf';
    if (!proto && type !== 'application/json') return void res.writeHead(415, { 'content-type': 'text/plain' }).end('content-type must be application/json or application/x-protobuf\n');
    let logs: OtlpLog[];
    try {
      let body = await readBody(req, maxBody);
      if (String(req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') body = gunzipSync(body, { maxOutputLength: maxBody });
      logs = proto ? decodeProtobufLogs(body) : decodeJsonLogs(JSON.parse(body.toString('utf8')));
    } catch (e) {
      const status = e instanceof RangeError ? 413 : 400;
      return void res.writeHead(status, { 'content-type': 'text/plain' }).end(`${e instanceof OtlpDecodeError || e instanceof SyntaxError || e instanceof RangeError ? e.message : 'unreadable request body'}\n`);
    }
    let result: IngestResult;
    try {
      result = ingest.ingest(itemsOf(logs));
    } catch (e) {
      return void res.writeHead(503, { 'retry-after': '5', 'content-type': 'text/plain' }).end(`the audit store cannot be written now: ${(e as Error).message}\n`);
    }
    const refused = result.rejected + result.conflicts;
    const message = refused > 0 ? `${refused} audit record(s) refused: ${result.messages.join('; ')}` : '';
    const body = encodeLogsResponse(refused, message, proto);
    res.writeHead(result.conflicts > 0 ? 409 : 200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' }).end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const host = options.host ?? '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    store,
    findings: () => findings.list(),
    pending: () => ingest.pendingCount(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => {
          if (options.store === undefined) store.close();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
