/**
 * What `otel-audit verify` says under the report when `--key` was given but
 * checkpoints are signed by other keys (DESIGN §4.3 keyring): the key ids
 * (`<name>+<8 hex key hash>`, never key material) that signed each stream's
 * checkpoints and the ids given, or — when the stream's `system/key_changed`
 * records show a rotation — the old and new key ids and the seq of the
 * change, so the fix is "pass both .vkey files". Also what a store's start
 * records say about a stream written without a signer key (the processor's
 * `stream_started`/`pipeline_started` without `checkpoint_key`), so verify
 * does not call such a stream's checkpoints deleted.
 */
import type { Keyring, StreamReport, VerificationReport } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { escapeControl } from './table.js';

/** A `system/key_changed` record of a stream: old and new key ids, at seq. */
export interface KeyChange {
  readonly seq: number;
  readonly oldKeyIds: readonly string[];
  readonly newKeyId: string | undefined;
}

/**
 * What a store's records say about its streams' keys, beside the report.
 *
 * @example
 * const facts: StreamKeyFacts = { keyChanges: new Map(), unsigned: new Map([['otel-audit-server/host', 'server']]) };
 */
export interface StreamKeyFacts {
  /** `system/key_changed` records per stream, oldest first. */
  readonly keyChanges: ReadonlyMap<string, readonly KeyChange[]>;
  /**
   * Streams whose start records say they were written without a signer key,
   * each with its writer: `serve`'s access stream, or a service's pipeline.
   */
  readonly unsigned: ReadonlyMap<string, 'server' | 'service'>;
  /** Streams whose start records name a checkpoint key: they were signed, with that key id. */
  readonly signed: ReadonlyMap<string, string>;
}

/** What is known of JSON lines: nothing beyond the report. */
export const NO_FACTS: StreamKeyFacts = { keyChanges: new Map(), unsigned: new Map(), signed: new Map() };

/** Records of `stream` of system action `action`, oldest first (at most 1000: enough for the hint). */
function systemRecords(store: SqliteAuditStore, stream: string, action: string): { seq: number; actor: unknown; details: Record<string, unknown> }[] {
  return store.query({ stream, eventType: 'system', eventAction: action, order: 'oldest', limit: 1000 }).records
    .map((r) => ({ seq: r.record.seq, actor: r.record.actor?.id, details: (r.record.details ?? {}) as Record<string, unknown> }));
}

/** The actor of the start records `otel-audit serve` writes into its access stream. */
const SERVER_ACTOR = 'otel-audit-server';

const isKeyId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * The key facts of `streams` in `store`: their key changes and whether a
 * start record was written without a signer key (no `checkpoint_key`).
 *
 * @example
 * const facts = storeKeyFacts(store, report.streams.map((s) => s.stream));
 */
export function storeKeyFacts(store: SqliteAuditStore, streams: readonly string[]): StreamKeyFacts {
  return keyFactsOf(streams, (stream, action) => systemRecords(store, stream, action));
}

/**
 * The key facts of the streams of bundle records (whole records, as a
 * bundle carries them): the same reading as {@link storeKeyFacts}.
 *
 * @example
 * const facts = recordKeyFacts(bundle.streams.flatMap((s) => s.records.map((r) => r.record)));
 */
export function recordKeyFacts(records: Iterable<unknown>): StreamKeyFacts {
  const byStream = new Map<string, Map<string, { seq: number; actor: unknown; details: Record<string, unknown> }[]>>();
  for (const value of records) {
    const r = value as { stream?: unknown; seq?: unknown; type?: unknown; action?: unknown; actor?: { id?: unknown }; details?: unknown } | null;
    if (r?.type !== 'system' || typeof r.stream !== 'string' || typeof r.action !== 'string' || typeof r.seq !== 'number') continue;
    let actions = byStream.get(r.stream);
    if (actions === undefined) byStream.set(r.stream, (actions = new Map()));
    const list = actions.get(r.action) ?? [];
    list.push({ seq: r.seq, actor: r.actor?.id, details: typeof r.details === 'object' && r.details !== null ? r.details as Record<string, unknown> : {} });
    actions.set(r.action, list);
  }
  return keyFactsOf([...byStream.keys()], (stream, action) => (byStream.get(stream)?.get(action) ?? []).sort((a, b) => a.seq - b.seq));
}

function keyFactsOf(streams: readonly string[], recordsOf: (stream: string, action: string) => { seq: number; actor: unknown; details: Record<string, unknown> }[]): StreamKeyFacts {
  const keyChanges = new Map<string, KeyChange[]>();
  const unsigned = new Map<string, 'server' | 'service'>();
  const signed = new Map<string, string>();
  for (const stream of streams) {
    const changes = recordsOf(stream, 'key_changed').map((r) => ({
      seq: r.seq,
      oldKeyIds: Array.isArray(r.details['old_key_ids']) ? (r.details['old_key_ids'] as unknown[]).filter(isKeyId) : [],
      newKeyId: isKeyId(r.details['new_key_id']) ? r.details['new_key_id'] : undefined,
    }));
    if (changes.length > 0) keyChanges.set(stream, changes);
    const starts = [...recordsOf(stream, 'stream_started'), ...recordsOf(stream, 'pipeline_started')];
    const keyless = starts.find((r) => !isKeyId(r.details['checkpoint_key']));
    if (keyless !== undefined) unsigned.set(stream, keyless.actor === SERVER_ACTOR ? 'server' : 'service');
    const keyed = starts.find((r) => isKeyId(r.details['checkpoint_key']));
    if (keyed !== undefined) signed.set(stream, keyed.details['checkpoint_key'] as string);
  }
  return { keyChanges, unsigned, signed };
}

/** Key ids an `unknown_key` finding names (its `keys`). */
function signersOf(s: StreamReport): string[] {
  const ids = new Set<string>();
  for (const f of s.findings) {
    // A checkpoint kept apart (--checkpoints) says nothing about the input's own signer.
    if (f.code !== 'unknown_key' || f.source !== undefined) continue;
    for (const id of f.keys ?? []) ids.add(id);
  }
  return [...ids];
}

const list = (ids: readonly string[]): string => ids.map((id) => escapeControl(id)).join(', ');

/**
 * One hint line per stream whose checkpoints `--key` did not trust
 * (`unknown_key`): which keys signed them and which were given, and the
 * fix. Empty without keys (verify prints its own hint then).
 *
 * @example
 * for (const line of keyHints(report, keyring, facts)) ctx.stdout.write(`${line}\n`);
 */
export function keyHints(report: VerificationReport, keyring: Keyring, facts: StreamKeyFacts): string[] {
  if (keyring.size === 0) return [];
  const given = [...keyring].map((e) => e.keyId);
  const out: string[] = [];
  for (const s of report.streams) {
    const signers = signersOf(s);
    if (signers.length === 0) continue;
    const stream = escapeControl(s.stream);
    const change = facts.keyChanges.get(s.stream)?.find((c) => signers.some((id) => c.oldKeyIds.includes(id) || c.newKeyId === id));
    if (change !== undefined) {
      const to = change.newKeyId === undefined ? 'no key' : escapeControl(change.newKeyId);
      out.push(`hint: the stream ${stream} changed its signer key from ${list(change.oldKeyIds) || 'no key'} to ${to} at seq ${change.seq}; `
        + `--key gave ${list(given)}: pass both .vkey files (otel-audit keygen wrote each beside its signer key)`);
      continue;
    }
    const names = [...new Set(signers.map((id) => escapeControl(id.slice(0, id.lastIndexOf('+')))))];
    out.push(`hint: the checkpoints of ${stream} are signed by ${list(signers)}; --key gave ${list(given)}: `
      + `pass the .vkey of ${names.join(', ')} (otel-audit keygen wrote it beside the signer key)`);
  }
  return out;
}
