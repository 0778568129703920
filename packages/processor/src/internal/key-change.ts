/**
 * Key changes are audit records (DESIGN §5 "key changes ... are themselves
 * audit records", §4.3 keyring): when a stream resumes under a checkpoint
 * signer other than the one that signed its last stored checkpoint, or the
 * signer is rotated at runtime, a `system/key_changed` record naming the old
 * and the new key ids (`<name>+<8 hex key hash>`, never key material) is
 * sealed before the next checkpoint. The last stored checkpoint is read
 * through the optional {@link CheckpointSource} side of the primary sink.
 */
import { noteKeyId, parseNote, type AuditEventInput, type AuditSink, type SealedCheckpoint } from '@otel-audit/core';
import { ACTION_KEY_CHANGED } from '../semconv.js';
import { systemEvent } from './system-events.js';

/**
 * What a sink may offer besides core's `AuditSink`: the last checkpoint it
 * stored for a stream, so a resumed processor can tell whether the signer
 * key changed. Sinks without it simply get no startup key-change check.
 *
 * @example
 * class MySink implements AuditSink, CheckpointSource {
 *   async lastCheckpoint(stream: string) { return this.checkpoints.findLast((c) => c.stream === stream); }
 *   // append, head ...
 * }
 */
export interface CheckpointSource {
  lastCheckpoint(stream: string): Promise<SealedCheckpoint | undefined>;
}

/** What the sink's last stored checkpoint of a stream says: the key ids that signed it and how many records it covers. */
export interface StoredCheckpoint {
  keyIds: string[];
  size: number;
}

/**
 * The sink's last stored checkpoint of `stream`, read once for both uses:
 * which keys signed it (a key change, an adoption under another service's
 * key) and how many records it covers (records from there on were never
 * vouched for by the process that wrote them). `null` when the sink stored
 * none; undefined when it cannot say.
 */
export async function storedCheckpoint(sink: AuditSink, stream: string): Promise<StoredCheckpoint | null | undefined> {
  const source = sink as Partial<CheckpointSource>;
  if (typeof source.lastCheckpoint !== 'function') return undefined;
  const cp = await source.lastCheckpoint(stream);
  if (cp === undefined) return null;
  return { keyIds: parseNote(cp.note, { allowUnsigned: true }).signatures.map((s) => noteKeyId(s.name, s.keyHash)), size: cp.size };
}

/** True when `current` (undefined: unsigned) is not among the ids that signed the stored checkpoint. */
export function keyDiffers(stored: readonly string[], current: string | undefined): boolean {
  return current === undefined ? stored.length > 0 : !stored.includes(current);
}

/** The `system/key_changed` event: old and new key ids only. */
export function keyChangedEvent(oldKeyIds: readonly string[], newKeyId: string | undefined, reason: 'resumed_with_other_key' | 'rotated'): AuditEventInput {
  return systemEvent(ACTION_KEY_CHANGED, 'success', reason === 'rotated' ? 'info' : 'warning', {
    old_key_ids: [...oldKeyIds],
    new_key_id: newKeyId ?? null,
    reason,
  });
}
