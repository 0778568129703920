/**
 * Checkpoints kept apart from the log they cover (DESIGN §4.3, §4.4; threat
 * model: "delete the newest records and their checkpoints"). Whoever can
 * write a store can delete its newest records together with the checkpoints
 * covering them, and what is left verifies. A checkpoint saved elsewhere —
 * by `otel-audit checkpoints`, or the collector's copy of a forwarded
 * stream — shows the cut (`truncated`) or a rewrite (`root_mismatch`) when
 * `verify --checkpoints` checks the store against it.
 *
 * Here: reading such checkpoints from a notes file (signed notes one after
 * another, blank lines between them allowed), a store, an export bundle or
 * OTLP JSON lines; and choosing the newest of each stream.
 */
import * as fs from 'node:fs';
import { checkpointOfNote, type Checkpoint } from '@otel-audit/core';
import type { KeptCheckpoint } from '@otel-audit/exporter-sqlite';
import type { CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { inputKindOf, resolvePath, withStore, type InputKind } from './inputs.js';
import { readJsonLines } from './otlp-jsonl.js';
import type { Interruptible } from './temp-dir.js';

/** The first character of a signature line of a signed note (C2SP signed-note): an em dash and a space. */
const SIGNATURE_LINE = '\u2014 ';

const NOTES_FIX = 'pass a file printed by `otel-audit checkpoints` (signed checkpoint notes, one after another), '
  + 'or a store, an export bundle or OTLP JSON lines holding checkpoints';

/**
 * The checkpoint notes of a text of notes one after another (what
 * `otel-audit checkpoints` prints): each note's text lines, a blank line,
 * its signature lines; blank lines and `#` comment lines between notes are
 * allowed, CRLF line ends are read as LF. Refuses (exit 2) a note that is no checkpoint, or a
 * text with none, naming the line.
 *
 * @example
 * splitNotes(fs.readFileSync('kept.txt', 'utf8'), 'kept.txt') // ['billing/1\n1000\n…\n\n— key …\n', …]
 */
export function splitNotes(text: string, file: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const notes: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i] === '' || lines[i]!.startsWith('#')) {
      i++;
      continue;
    }
    const first = i + 1;
    const body: string[] = [];
    while (i < lines.length && lines[i] !== '') body.push(lines[i++]!);
    if (i >= lines.length) {
      throw new CliError('AUDIT_CLI_INPUT', `${file}: the note starting at line ${first} ends without the blank line that comes before its signatures`, NOTES_FIX);
    }
    i++;
    const signatures: string[] = [];
    while (i < lines.length && lines[i]!.startsWith(SIGNATURE_LINE)) signatures.push(lines[i++]!);
    const note = `${body.join('\n')}\n\n${signatures.map((l) => `${l}\n`).join('')}`;
    if (checkpointOfNote(note) === undefined) {
      throw new CliError('AUDIT_CLI_INPUT', `${file}: the note starting at line ${first} is not a checkpoint (origin, tree size, root hash and time lines, a blank line, then signature lines)`, NOTES_FIX);
    }
    notes.push(note);
  }
  if (notes.length === 0) throw new CliError('AUDIT_CLI_INPUT', `${file} holds no checkpoint note`, NOTES_FIX);
  return notes;
}

/**
 * Whether `file` (readable, of no other input kind) holds checkpoint notes
 * as {@link splitNotes} reads them; read at most 1 MiB of it.
 *
 * @example
 * isNotesFile('kept/audit-checkpoints.txt') // true
 */
export function isNotesFile(file: string): boolean {
  if (fs.statSync(file).size > 1 << 20) return false;
  try {
    splitNotes(fs.readFileSync(file, 'utf8'), file);
    return true;
  } catch {
    return false;
  }
}

/** Checkpoints read from one file, and what the file was. */
export interface KeptCheckpoints {
  file: string;
  kind: InputKind | 'notes';
  notes: string[];
}

/**
 * Every checkpoint note `file` holds: a notes file, or the checkpoints of a
 * store, an export bundle or OTLP JSON lines (their records are not read
 * for this).
 *
 * @example
 * const { notes } = await readCheckpoints(ctx, 'collector.db');
 */
export async function readCheckpoints(ctx: Pick<CommandContext, 'cwd' | 'env'> & Interruptible, file: string): Promise<KeptCheckpoints> {
  const path = resolvePath(ctx, file);
  const kind = inputKindOf(path, 'checkpoints file');
  if (kind === 'sqlite') {
    const notes = await withStore(ctx, path, (store) => store.database.prepare('SELECT note FROM audit_checkpoints ORDER BY stream, size').pluck().all() as string[]);
    return { file: path, kind, notes };
  }
  if (kind === 'jsonl') return { file: path, kind, notes: [...(await readJsonLines(path)).notes] };
  const text = fs.readFileSync(path, 'utf8');
  if (kind === 'bundle') return { file: path, kind, notes: bundleNotes(text, path) };
  return { file: path, kind: 'notes', notes: splitNotes(text, path) };
}

function bundleNotes(text: string, file: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError('AUDIT_CLI_INPUT', `${file} starts as an export bundle but is not JSON (${(e as Error).message})`, NOTES_FIX);
  }
  const streams = (doc as { streams?: unknown }).streams;
  if (!Array.isArray(streams)) throw new CliError('AUDIT_CLI_INPUT', `${file} is no export bundle: it has no "streams" array`, NOTES_FIX);
  return streams.flatMap((s) => {
    const cps = (s as { checkpoints?: unknown } | null)?.checkpoints;
    return Array.isArray(cps) ? cps.filter((n): n is string => typeof n === 'string') : [];
  });
}

/** A note with the checkpoint it carries. */
export interface NoteCheckpoint {
  note: string;
  checkpoint: Checkpoint;
}

/**
 * The newest checkpoint of each stream among `notes` (the largest tree, the
 * latest time among equal sizes), in stream order; notes that carry no
 * checkpoint are left out.
 *
 * @example
 * newestPerStream(notes).map((n) => n.checkpoint.origin) // ['billing/1', 'users/7']
 */
export function newestPerStream(notes: readonly string[]): NoteCheckpoint[] {
  const newest = new Map<string, NoteCheckpoint>();
  for (const note of notes) {
    const checkpoint = checkpointOfNote(note);
    if (checkpoint === undefined) continue;
    const held = newest.get(checkpoint.origin)?.checkpoint;
    if (held === undefined || checkpoint.size > held.size || (checkpoint.size === held.size && checkpoint.timeUnixNano > held.timeUnixNano)) {
      newest.set(checkpoint.origin, { note, checkpoint });
    }
  }
  return [...newest.values()].sort((a, b) => (a.checkpoint.origin < b.checkpoint.origin ? -1 : a.checkpoint.origin > b.checkpoint.origin ? 1 : 0));
}

/**
 * Which kept checkpoints apply to the input: with `--stream`, those of the
 * streams named; else every one of a notes file (the operator kept them for
 * this log: a stream the input lacks was deleted), and of a store, bundle
 * or JSON lines — the collector's copy holds other services' streams too —
 * those of the streams the input holds. `used` counts them per source once
 * known.
 *
 * @example
 * const use = new KeptUse([await readCheckpoints(ctx, 'kept.txt')]);
 * store.verify({ checkpoints: use.use(heldStreams, undefined) });
 */
export class KeptUse {
  readonly used: number[];
  /** Every stream the kept checkpoints name. */
  readonly origins: string[];
  readonly #kept: readonly KeptCheckpoints[];
  readonly #originOf = new Map<string, string | undefined>();

  constructor(kept: readonly KeptCheckpoints[]) {
    this.#kept = kept;
    this.used = kept.map(() => 0);
    for (const k of kept) for (const n of k.notes) this.#originOf.set(n, checkpointOfNote(n)?.origin);
    this.origins = [...new Set([...this.#originOf.values()].filter((o): o is string => o !== undefined))];
  }

  /** The notes that apply, each with its file as `source` (their findings name it). */
  use(held: readonly string[], asked: readonly string[] | undefined): KeptCheckpoint[] {
    const scope = asked !== undefined && asked.length > 0 ? new Set(asked) : undefined;
    const inInput = new Set(held);
    return this.#kept.flatMap((k, i) => {
      const notes = k.notes.filter((n) => {
        const origin = this.#originOf.get(n);
        if (origin === undefined) return false;
        return scope !== undefined ? scope.has(origin) : k.kind === 'notes' || inInput.has(origin);
      });
      this.used[i] = notes.length;
      return notes.map((note) => ({ note, source: k.file }));
    });
  }
}
