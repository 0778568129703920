/**
 * The live event stream behind `GET /api/audit/stream` (issue 7, DESIGN §9
 * "to the dashboard's live stream"): one poller per server reads the
 * store's stream heads every `pollIntervalMillis` while at least one client
 * listens, and fetches the records appended since the last poll — by any
 * process, since it reads the shared SQLite file — with the store's
 * `readStream` (decrypted, with checksums and timestamps, at most
 * `maxRecordsPerPoll` per stream): an index range read whose cost is the
 * new records alone. Not a bundle export, which first builds a verifiable
 * start by reading every checksum before the range — on a long stream, a
 * second of blocked event loop at every poll. Each record goes to every client as
 * a server-sent event `record`, or `alert` when its type is `alert`;
 * comment-line heartbeats keep proxies from closing idle connections. A
 * client that does not keep up — more than `maxBufferedBytes` waiting in
 * its response — is disconnected rather than buffered for without bound
 * (it reconnects and reloads, as after any disconnect).
 */
import type { ServerResponse } from 'node:http';
import type { SqliteAuditStore, StoredRecord } from '@otel-audit/exporter-sqlite';
import { toJson } from './http.js';
import { withholdSealed, type ApiRecord } from './withhold.js';

/** One connected client. */
export interface LiveClient {
  res: ServerResponse;
  /** The name of the token that opened it (a token may hold only so many). */
  principal: string;
  /** Withhold sealed members (auditor on an encrypted store). */
  withhold: boolean;
  /** Records sent so far. */
  sent: number;
}

/** Options of {@link LiveHub}. */
export interface LiveHubOptions {
  pollIntervalMillis: number;
  heartbeatIntervalMillis: number;
  /** Records fetched per stream per poll; the rest follow on the next poll. */
  maxRecordsPerPoll?: number;
  /** Bytes a client may have waiting in its response before it is disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** Polls the store and fans new records out to the connected clients. */
export class LiveHub {
  readonly clients = new Set<LiveClient>();
  readonly #store: SqliteAuditStore;
  readonly #options: LiveHubOptions;
  #sizes: Map<string, number> | undefined;
  #poll: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(store: SqliteAuditStore, options: LiveHubOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Register `client`; starts the poller with the first one. */
  add(client: LiveClient): void {
    if (this.clients.size === 0) {
      this.#sizes = new Map(this.#store.streams().map((s) => [s.stream, s.size]));
      this.#poll = setInterval(() => void this.pollOnce(), this.#options.pollIntervalMillis);
      this.#heartbeat = setInterval(() => this.#broadcastRaw(': heartbeat\n\n'), this.#options.heartbeatIntervalMillis);
      this.#poll.unref();
      this.#heartbeat.unref();
    }
    this.clients.add(client);
  }

  /** Unregister `client`; stops the poller with the last one. */
  remove(client: LiveClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.#stop();
  }

  /** One poll: send every record appended since the previous one. */
  async pollOnce(): Promise<void> {
    const sizes = this.#sizes;
    if (this.#polling || sizes === undefined) return;
    this.#polling = true;
    try {
      const max = this.#options.maxRecordsPerPoll ?? 500;
      for (const { stream, size } of this.#store.streams()) {
        // The last client went away (or was let go) during this poll; a new one has its own positions.
        if (this.#sizes !== sizes) break;
        const known = sizes.get(stream) ?? 0;
        if (size <= known) continue;
        const toSeq = Math.min(size, known + max) - 1;
        for (const item of this.#store.readStream(stream, { fromSeq: known, toSeq, limit: max })) this.#broadcast(item);
        sizes.set(stream, toSeq + 1);
      }
    } catch {
      // A failed poll (store busy, being closed) is retried by the next tick.
    } finally {
      this.#polling = false;
    }
  }

  #broadcast(item: StoredRecord): void {
    const event = item.record.type === 'alert' ? 'alert' : 'record';
    const plain = `event: ${event}\ndata: ${toJson(item)}\n\n`;
    let hidden: string | undefined;
    for (const c of this.clients) {
      if (c.withhold) hidden ??= `event: ${event}\ndata: ${toJson(withholdSealed(item as unknown as ApiRecord))}\n\n`;
      this.#send(c, c.withhold ? hidden! : plain);
      c.sent++;
    }
  }

  #broadcastRaw(text: string): void {
    for (const c of this.clients) this.#send(c, text);
  }

  /** Write to one client, or let go of it when it stopped taking what it is sent. */
  #send(c: LiveClient, text: string): void {
    if (c.res.destroyed) {
      this.remove(c);
      return;
    }
    c.res.write(text);
    if (c.res.writableLength > (this.#options.maxBufferedBytes ?? 1024 * 1024)) {
      this.remove(c);
      c.res.destroy();
    }
  }

  #stop(): void {
    clearInterval(this.#poll);
    clearInterval(this.#heartbeat);
    this.#poll = undefined;
    this.#heartbeat = undefined;
    this.#sizes = undefined;
  }

  /** End every client connection and stop polling. */
  close(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.#stop();
  }
}
