/**
 * Checkpoint notes kept apart from what is verified (a witness's saved copy,
 * the collector's): store and bundle verification take them beside their
 * own, sorted here by the stream each names.
 */
import { checkpointOfNote } from '@otel-audit/core';

/**
 * `notes` by the stream each names, each text once; under `undefined` the
 * notes no checkpoint could be read from (the verifier reports them).
 *
 * @example
 * notesByOrigin([savedNote]).get('billing-api/01J9') // [savedNote]
 */
export function notesByOrigin(notes: readonly string[] | undefined): Map<string | undefined, string[]> {
  if (notes !== undefined && (!Array.isArray(notes) || notes.some((n) => typeof n !== 'string'))) {
    throw new TypeError('options.checkpoints must be an array of checkpoint note texts');
  }
  const byOrigin = new Map<string | undefined, string[]>();
  for (const note of new Set(notes)) {
    const origin = checkpointOfNote(note)?.origin;
    const list = byOrigin.get(origin);
    if (list === undefined) byOrigin.set(origin, [note]);
    else list.push(note);
  }
  return byOrigin;
}
