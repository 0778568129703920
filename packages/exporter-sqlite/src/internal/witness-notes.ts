/**
 * Checkpoint notes kept apart from what is verified (a witness's saved copy,
 * the collector's): store and bundle verification take them beside their
 * own, sorted here by the stream each names.
 */
import { checkpointOfNote } from '@otel-audit/core';

/**
 * A checkpoint note kept apart, and where it came from (a file name): the
 * findings about it say so.
 */
export interface KeptCheckpoint {
  note: string;
  source?: string;
}

/**
 * `notes` by the stream each names, each text once (the first source kept);
 * under `undefined` the notes no checkpoint could be read from (the
 * verifier reports them).
 *
 * @example
 * notesByOrigin([savedNote]).get('billing-api/01J9') // [{ note: savedNote }]
 */
export function notesByOrigin(notes: readonly (string | KeptCheckpoint)[] | undefined): Map<string | undefined, KeptCheckpoint[]> {
  if (notes !== undefined && !Array.isArray(notes)) throw new TypeError('options.checkpoints must be an array of checkpoint note texts');
  const byOrigin = new Map<string | undefined, KeptCheckpoint[]>();
  const seen = new Set<string>();
  for (const [i, entry] of (notes ?? []).entries()) {
    const kept = typeof entry === 'string' ? { note: entry } : entry;
    if (typeof kept?.note !== 'string' || (kept.source !== undefined && typeof kept.source !== 'string')) {
      throw new TypeError(`options.checkpoints[${i}] must be a checkpoint note text or { note, source }`);
    }
    if (seen.has(kept.note)) continue;
    seen.add(kept.note);
    const origin = checkpointOfNote(kept.note)?.origin;
    const list = byOrigin.get(origin);
    if (list === undefined) byOrigin.set(origin, [kept]);
    else list.push(kept);
  }
  return byOrigin;
}

/** `Verifier.addCheckpoint`'s options for a kept checkpoint. */
export function sourceOf(kept: KeptCheckpoint): { source?: string } {
  return kept.source === undefined ? {} : { source: kept.source };
}
