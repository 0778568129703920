/**
 * What the routes of the query API share: the per-server state (store,
 * keyring, the access log, limits, the live hub) and the per-request
 * context (who asked, from where, which request id), plus the shape every
 * route is declared in — method, path, minimum role, parameters as data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Keyring } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import type { AuditRole, Principal, StreamTickets } from '../auth.js';
import type { AccessLog } from './access-log.js';
import type { ParamSpecs, Params } from './params.js';
import type { LiveHub } from './live-hub.js';
import type { SearchPool } from './search-pool.js';

/** The limits of one server. */
export interface ServerLimits {
  maxConcurrentRequests: number;
  maxConcurrentExports: number;
  maxStreamClients: number;
  maxIntegrityRecords: number;
  maxProofLeaves: number;
  /** An export whose client reads nothing for this long is aborted. */
  exportDrainTimeoutMillis: number;
}

/** One server's state. */
export interface ServerState {
  store: SqliteAuditStore;
  keyring: Keyring | undefined;
  access: AccessLog;
  /** The store holds encryption key check values: sealed columns are withheld from auditors. */
  encrypted: boolean;
  limits: ServerLimits;
  tickets: StreamTickets;
  live: LiveHub;
  busy: { requests: number; exports: number; integrity: number; proofs: number };
  /** Worker threads for free-text searches, logs pages no index narrows and stats (search-pool.ts). */
  search: SearchPool;
  /** A long-lived read-only connection for checkpoints and proofs. */
  reader: ReturnType<SqliteAuditStore['openReader']>;
}

/** One authenticated request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  principal: Principal;
  requestId: string;
  state: ServerState;
  /** Commit an access record for this request (route, who, from where). */
  audit(action: string, outcome: 'success' | 'failure' | 'error' | 'unknown', details: Record<string, unknown>, severity?: 'info' | 'warning'): Promise<void>;
}

/** A route of the API, declared as data. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Minimum role; `auditor` lets both roles in. */
  role: AuditRole;
  params: ParamSpecs;
  handle(ctx: RequestContext, params: Params): Promise<void>;
}
