/**
 * `startCollector`: the OTLP/HTTP logs receiver of `otel-audit collect`
 * (DESIGN §1 use 3, §4.4, §4.6, §5). `POST /v1/logs` with
 * `application/json` or `application/x-protobuf`, optionally gzip; records
 * of scope `otel-audit` are verified and stored in the central SQLite store
 * with their checkpoints (see {@link StreamIngest}); other records are
 * accepted and ignored. Answers follow the OTLP retry semantics: 200 (with
 * `partialSuccess` when records were refused — each refused record on its
 * own, so the sender dead-letters exactly those), 400 for a malformed body
 * or one beyond the attribute and nesting limits, 409 when every record of
 * the request was refused and one was a record id that came back with
 * other content, 413 for a body (after gunzip, which stops at the cap) or a
 * record count over the limits, 415 for another content type, 503 with
 * `Retry-After` when the store cannot be written. A failure's body is a
 * `google.rpc.Status` carrying the explanation, in the request's encoding
 * (JSON when that is neither of the two). With sender tokens, a token bound
 * to stream-id prefixes may write only those streams: its records and
 * checkpoints of another are refused on their own (`stream_not_allowed`,
 * naming the token). Refused requests (400, 401, 413, 415) are findings
 * too, at most one per status a minute (see {@link RequestRefusals}).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { createGunzip } from 'node:zlib';
import { parseSignerKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { statusOf } from '../errors.js';
import { verifierKeyringOf, type VerifierKeyInput } from '../internal/verifier-keyring.js';
import { CollectorFindings, type CollectorFinding } from './collector-findings.js';
import { RequestRefusals } from './request-refusals.js';
import { SenderTokens, type Sender, type SenderTokenInput } from './sender-tokens.js';
import { decodeJsonLogs } from './otlp-json-logs.js';
import { DEFAULT_OTLP_LIMITS, decodeProtobufLogs, OtlpDecodeError, OtlpLimitError, type OtlpLimits, type OtlpLog } from './otlp-logs-request.js';
import { encodeLogsResponse } from './otlp-logs-response.js';
import { refuse as refuseRequest } from './refuse-request.js';
import { DEFAULT_INGEST_LIMITS, StreamIngest, type IncomingItem, type IngestResult } from './stream-ingest.js';

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
  /**
   * Verifier keys (`name+hash+base64`) trusted for checkpoints, each
   * optionally with its validity window `{ key, notBefore?, notAfter? }`
   * (Unix nanoseconds, inclusive): a checkpoint whose time lies outside it
   * is a `key_out_of_window` finding.
   */
  verifierKeys?: readonly VerifierKeyInput[];
  /** A missing record is reported as `seq_gap` after later ones waited this long. Default 10,000. */
  gapGraceMillis?: number;
  /** Largest request body accepted, before and after gunzip (decompression stops there: 413). Default 8 MiB. */
  maxBodyBytes?: number;
  /** Log records one request may carry (413 beyond). Default 10,000. */
  maxRecordsPerRequest?: number;
  /** Attributes of one log record or resource, and members of one array or map value (400 beyond). Default 256. */
  maxAttributesPerRecord?: number;
  /** Nesting of array and map values in attributes and bodies (400 beyond). Default 16. */
  maxValueDepth?: number;
  /** Streams whose verification state stays in memory; the least recently used one is reloaded from the store when it comes back. Default 256 (each holds up to 8,192 recent hashes, under 1 MB). */
  maxLiveStreams?: number;
  /**
   * Records waiting for a missing predecessor (in the store's
   * `collector_pending`), all streams together; a further record that would
   * have to wait is refused (in `partialSuccess`, reported once as
   * `parked_limit`), a record that continues its stream is always stored.
   * Default 10,000.
   */
  maxParkedRecords?: number;
  /**
   * Who may send: SHA-256 hex digests (`hashToken(token)`) of the bearer
   * tokens accepted in `Authorization: Bearer <token>`, or `{ digest, name,
   * streams }` to name a token in findings and bind it to stream-id
   * prefixes (`['billing-api/']`): its records and checkpoints of other
   * streams are refused (`stream_not_allowed`). A token without `streams`
   * may write any stream — and so take another service's stream id before
   * that service sends. When given, any other request is refused with 401
   * before its body is read; without, every client that reaches the port
   * can append to any stream (keep it on loopback or behind a proxy that
   * authenticates).
   */
  senderTokens?: readonly (string | SenderTokenInput)[];
  /** Stream id of the collector's own finding records. Default `otel-audit-collector/<hostname>`. */
  stream?: string;
  /**
   * Signer key (`PRIVATE+KEY+name+hash+base64`, from `otel-audit keygen`)
   * for the checkpoints of the collector's own stream; without one it has
   * none (verify with `--unsigned-ok <stream>`).
   */
  signerKey?: string;
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

/** Default of {@link CollectorOptions.maxBodyBytes}. */
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

function positive(options: CollectorOptions, key: keyof CollectorOptions, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`options.${key} must be a positive integer; got ${JSON.stringify(v)}; omit it for the default ${fallback}`);
  return v;
}

/**
 * The request body, gunzipped as it streams in when `Content-Encoding:
 * gzip`; more than `max` bytes on the wire or out of gunzip rejects with a
 * 413 `OtlpLimitError` at once (a small gzip bomb never inflates past the
 * cap), a corrupt gzip stream with `OtlpDecodeError`.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'identity' && encoding !== '') {
    return Promise.reject(new OtlpDecodeError(`content-encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; use gzip or none`));
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge(max, 'on the wire'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let wire = 0;
    let size = 0;
    let done = false;
    const gunzip = encoding === 'gzip' ? createGunzip() : undefined;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      chunks.length = 0;
      if (gunzip !== undefined) {
        req.unpipe(gunzip);
        gunzip.destroy();
      }
      reject(e);
    };
    const out = (c: Buffer): void => {
      if (done) return;
      size += c.length;
      if (size > max) fail(tooLarge(max, gunzip === undefined ? 'on the wire' : 'after gunzip'));
      else chunks.push(c);
    };
    const end = (): void => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    };
    // Counted on the wire as well, so a gzip body cannot be larger than the cap either.
    req.on('data', (c: Buffer) => {
      wire += c.length;
      if (wire > max) fail(tooLarge(max, 'on the wire'));
      else if (gunzip === undefined) out(c);
    });
    req.on('error', fail);
    if (gunzip === undefined) {
      req.on('end', end);
      return;
    }
    gunzip.on('data', out);
    gunzip.on('end', end);
    gunzip.on('error', (e) => fail(new OtlpDecodeError(`the gzip body cannot be decompressed: ${e.message}`)));
    req.pipe(gunzip);
  });
}

function tooLarge(max: number, where: string): OtlpLimitError {
  return new OtlpLimitError('AUDIT_OTLP_TOO_LARGE', `the request body is larger than ${max} bytes ${where}; send smaller batches (the exporter's batch size) or raise the collector's maxBodyBytes (otel-audit collect --max-body-mib)`);
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
  const maxBody = positive(options, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES);
  const limits: OtlpLimits = {
    maxRecords: positive(options, 'maxRecordsPerRequest', DEFAULT_OTLP_LIMITS.maxRecords),
    maxAttributes: positive(options, 'maxAttributesPerRecord', DEFAULT_OTLP_LIMITS.maxAttributes),
    maxDepth: positive(options, 'maxValueDepth', DEFAULT_OTLP_LIMITS.maxDepth),
  };
  const memory = {
    ...DEFAULT_INGEST_LIMITS,
    maxLiveStreams: positive(options, 'maxLiveStreams', DEFAULT_INGEST_LIMITS.maxLiveStreams),
    maxParkedRecords: positive(options, 'maxParkedRecords', DEFAULT_INGEST_LIMITS.maxParkedRecords),
  };
  // The keys first: a bad one must not leave the store open.
  const signers = options.signerKey === undefined ? [] : [parseSignerKey(options.signerKey)];
  const keyring = verifierKeyringOf(options.verifierKeys ?? [], 'options.verifierKeys');
  const senders = options.senderTokens === undefined || options.senderTokens.length === 0 ? undefined : new SenderTokens(options.senderTokens, 'options.senderTokens');
  const store = options.store ?? new SqliteAuditStore(options.dbPath!);
  const stream = options.stream ?? `otel-audit-collector/${hostname()}`;
  const findings = new CollectorFindings(store, stream, await store.head(stream), signers);
  const ingest = new StreamIngest(store, findings, keyring, options.gapGraceMillis ?? 10_000, memory);
  const refusals = new RequestRefusals((found) => findings.raiseAll(found));
  const timer = setInterval(() => {
    refusals.tick();
    try {
      ingest.tick();
    } catch {
      // The next request reports a store that cannot be written.
    }
  }, Math.max(250, Math.min(5_000, Math.floor((options.gapGraceMillis ?? 10_000) / 2))));
  timer.unref();
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, message: string, headers?: Record<string, string>): void => {
    refusals.refused(status, message, req.socket.remoteAddress);
    refuseRequest(req, res, status, message, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/logs') return refuse(req, res, 404, 'only POST /v1/logs is served');
    if (req.method !== 'POST') return refuse(req, res, 405, 'only POST /v1/logs is served', { allow: 'POST' });
    const sender: Sender | undefined = senders?.senderOf(req.headers.authorization);
    if (senders !== undefined && sender === undefined) {
      return refuse(req, res, 401, 'a sender token is required: send Authorization: Bearer <token> (exporters.otlphttp.headers)', { 'www-authenticate': 'Bearer' });
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const proto = type === 'application/x-protobuf';
    if (!proto && type !== 'application/json') return refuse(req, res, 415, 'content-type must be application/json or application/x-protobuf');
    let logs: OtlpLog[];
    try {
      const body = await readBody(req, maxBody);
      logs = proto ? decodeProtobufLogs(body, limits) : decodeJsonLogs(JSON.parse(body.toString('utf8')), limits);
    } catch (e) {
      if (e instanceof OtlpLimitError || e instanceof OtlpDecodeError) return refuse(req, res, statusOf(e.code), e.message);
      return refuse(req, res, 400, e instanceof SyntaxError ? e.message : 'unreadable request body');
    }
    let result: IngestResult;
    try {
      result = ingest.ingest(itemsOf(logs), sender);
    } catch (e) {
      return refuse(req, res, 503, `the audit store cannot be written now: ${(e as Error).message}`, { 'retry-after': '5' });
    }
    const refused = result.rejected + result.conflicts;
    const message = refused > 0 ? `${refused} audit record(s) refused: ${result.messages.join('; ')}` : '';
    // 409 only when nothing of the request was taken: a sender gives a 409
    // up as a whole, so a request that also carried accepted records answers
    // 200 with partialSuccess and the sender narrows it down to the conflict.
    if (result.conflicts > 0 && result.accepted === 0) return refuse(req, res, 409, message);
    res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' }).end(encodeLogsResponse(refused, message, proto));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) refuse(req, res, 500, 'the collector failed on this request (an internal error)');
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
          // What was counted but not reported yet is reported before the store closes.
          refusals.tick(true);
          if (options.store === undefined) store.close();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
