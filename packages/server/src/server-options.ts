/**
 * Options of `createAuditServer` and their validation (issue 7 and the
 * lead's contract): the store, the tokens, verifier and signer keys, the
 * server's own audit stream, and the limits, each with its default. A bad
 * option throws at creation, naming the option, the value and the fix.
 */
import { hostname } from 'node:os';
import type { Keyring } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { AuditTokenConfig } from './auth.js';
import type { ServerLimits } from './internal/context.js';
import { allowedHostSet } from './internal/host-check.js';
import { verifierKeyringOf, type VerifierKeyInput } from './internal/verifier-keyring.js';

/**
 * Options of `createAuditServer`.
 *
 * @example
 * const options: AuditServerOptions = { store, tokens: [{ name: 'ops', role: 'admin', sha256 }], verifierKeys: [verifierKey], signerKey };
 */
export interface AuditServerOptions {
  /** The store to serve; the server never closes it. */
  store: SqliteAuditStore;
  /** Who may use the API: `{ name, role: 'admin' | 'auditor', sha256: hashToken(token) }`. */
  tokens: readonly AuditTokenConfig[];
  /**
   * Trusted checkpoint keys (`name+hash+base64`), each optionally with its
   * validity window `{ key, notBefore?, notAfter? }` (Unix nanoseconds,
   * inclusive): a checkpoint whose time lies outside it is reported
   * `key_out_of_window`. Without keys checkpoints are reported unchecked.
   */
  verifierKeys?: readonly VerifierKeyInput[];
  /** The server's own audit stream for access records. Default `otel-audit-server/<hostname>`. */
  stream?: string;
  /** Signs the checkpoints of the access stream (`PRIVATE+KEY+...`). */
  signerKey?: string;
  /** Requests served at once, default 32 (429 beyond). */
  maxConcurrentRequests?: number;
  /** Exports streamed at once, default 2. */
  maxConcurrentExports?: number;
  /** Live event streams open at once, default 16; one token may hold at most half of them (at least one). */
  maxStreamClients?: number;
  /** Records one integrity request may verify, default 1,000,000 (422 beyond). */
  maxIntegrityRecords?: number;
  /** Largest checkpoint an inclusion proof is computed in, default 1,000,000 records. */
  maxProofLeaves?: number;
  /** How often the live stream polls the store, default 1,000 ms. */
  pollIntervalMillis?: number;
  /** Heartbeat comment interval of the live stream, default 15,000 ms. */
  heartbeatIntervalMillis?: number;
  /** An export whose client reads nothing for this long is aborted (its read transaction ends), default 30,000 ms. */
  exportDrainTimeoutMillis?: number;
  /** A live-stream client with more than this many bytes not yet taken by its connection is disconnected, default 1,048,576. */
  maxStreamBufferBytes?: number;
  /** Lifetime of a stream ticket, default 60,000 ms. */
  ticketTtlMillis?: number;
  /**
   * Refused requests are recorded up to 60 per window of this length — of
   * unknown credentials (401) in all, of each principal (403) on its own —
   * and the window's summary counts the rest; default 60,000 ms.
   */
  refusalWindowMillis?: number;
  /**
   * Host names (or IP addresses, no port) the server answers to besides
   * `localhost`, `127.x.x.x` and `[::1]`, e.g. `['audit.example.com']` behind
   * a proxy that passes the client's Host on. Without it, a request that
   * arrives on a loopback address with another Host is refused (421: DNS
   * rebinding), and one that arrives on another address is not checked; with
   * it, every request's Host must be a loopback name or one of these.
   */
  allowedHosts?: readonly string[];
  /** Called with every unexpected error (answered as a bare 500). Default: one line on stderr. */
  onError?: (error: unknown) => void;
  /**
   * Worker threads that run free-text searches (`q=` of logs and exports),
   * logs pages no index narrows and stats off the event loop, each with its
   * own read-only connection; default 1, started on the first such job.
   */
  searchWorkers?: number;
  /** Jobs of the search workers (free-text searches, logs pages no index narrows, stats) queued or running at once, default 8 (429 beyond). */
  maxQueuedSearches?: number;
  /** Checkpoint the access stream every N records, default 100. */
  checkpointEvery?: number;
  /** ...and every N ms when it grew, default 10,000 (as the processor's streams). */
  checkpointIntervalMillis?: number;
}

/** Options with every default applied. */
export interface ResolvedServerOptions {
  store: SqliteAuditStore;
  tokens: readonly AuditTokenConfig[];
  /** The keyring of `verifierKeys`; undefined when none was given. */
  keyring: Keyring | undefined;
  stream: string;
  signerKey: string | undefined;
  limits: ServerLimits;
  pollIntervalMillis: number;
  heartbeatIntervalMillis: number;
  maxStreamBufferBytes: number;
  ticketTtlMillis: number;
  checkpointEvery: number;
  checkpointIntervalMillis: number;
  refusalWindowMillis: number;
  searchWorkers: number;
  maxQueuedSearches: number;
  /** `allowedHosts` normalised (lowercase, no brackets); undefined when not given. */
  allowedHosts: ReadonlySet<string> | undefined;
  onError: (error: unknown) => void;
}

function positive(options: AuditServerOptions, key: keyof AuditServerOptions, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`options.${key} must be a positive integer; got ${JSON.stringify(v)}; omit it for the default ${fallback}`);
  return v;
}

/** Validate `options` and apply the defaults. */
export function resolveOptions(options: AuditServerOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be { store, tokens, ... }');
  if (!(options.store instanceof SqliteAuditStore)) throw new TypeError('options.store must be a SqliteAuditStore (new SqliteAuditStore(path))');
  const keyring = verifierKeyringOf(options.verifierKeys ?? [], 'options.verifierKeys');
  if (options.signerKey !== undefined && typeof options.signerKey !== 'string') throw new TypeError('options.signerKey must be a PRIVATE+KEY+... string');
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('options.onError must be a function');
  const stream = options.stream ?? `otel-audit-server/${hostname()}`;
  if (typeof stream !== 'string' || stream.length === 0) throw new RangeError(`options.stream must be a non-empty string; got ${JSON.stringify(stream)}`);
  return {
    store: options.store, tokens: options.tokens, keyring: keyring.size > 0 ? keyring : undefined, stream, signerKey: options.signerKey,
    limits: {
      maxConcurrentRequests: positive(options, 'maxConcurrentRequests', 32),
      maxConcurrentExports: positive(options, 'maxConcurrentExports', 2),
      maxStreamClients: positive(options, 'maxStreamClients', 16),
      maxIntegrityRecords: positive(options, 'maxIntegrityRecords', 1_000_000),
      maxProofLeaves: positive(options, 'maxProofLeaves', 1_000_000),
      exportDrainTimeoutMillis: positive(options, 'exportDrainTimeoutMillis', 30_000),
    },
    pollIntervalMillis: positive(options, 'pollIntervalMillis', 1_000),
    heartbeatIntervalMillis: positive(options, 'heartbeatIntervalMillis', 15_000),
    maxStreamBufferBytes: positive(options, 'maxStreamBufferBytes', 1024 * 1024),
    ticketTtlMillis: positive(options, 'ticketTtlMillis', 60_000),
    checkpointEvery: positive(options, 'checkpointEvery', 100),
    checkpointIntervalMillis: positive(options, 'checkpointIntervalMillis', 10_000),
    refusalWindowMillis: positive(options, 'refusalWindowMillis', 60_000),
    searchWorkers: positive(options, 'searchWorkers', 1),
    maxQueuedSearches: positive(options, 'maxQueuedSearches', 8),
    allowedHosts: allowedHostSet(options.allowedHosts),
    onError: options.onError ?? ((e) => process.stderr.write(`otel-audit server: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)),
  };
}
