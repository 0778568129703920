/**
 * Verification of OTLP JSON lines as the OpenTelemetry Collector's file
 * exporter writes them (DESIGN §4.4, §4.6): each line an
 * ExportLogsServiceRequest (`resourceLogs[].scopeLogs[].logRecords[]`).
 * Audit records are LogRecords whose body is the canonical record text
 * (event `audit.<type>.<action>`, hash in `audit.record.hash`); checkpoints
 * are `audit.checkpoint` LogRecords whose body is the signed note. Records
 * are de-duplicated by id (retries deliver the same record twice) and fed
 * to core's Verifier in seq order per stream — never in file order.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { checkpointOfNote, Keyring, Verifier, type StreamReport, type VerificationReport } from '@otel-audit/core';
import { ATTR_RECORD_HASH, EVENT_CHECKPOINT, type KeptCheckpoint } from '@otel-audit/exporter-sqlite';
import { recordKeyFacts, type StreamKeyFacts } from './key-hint.js';

/** OTLP JSON AnyValue (the parts we read). */
interface AnyValue { stringValue?: string }
interface KeyValue { key?: string; value?: AnyValue }
interface OtlpLogRecord { eventName?: string; body?: AnyValue; attributes?: KeyValue[] }

interface RecordEntry { stream: string; seq: number; id: string; text: string; hash: string | undefined }

/**
 * What was read from the file besides the records.
 *
 * @example
 * if (stats.badLines.length > 0) console.error(stats.badLines[0].line, stats.badLines[0].message);
 */
export interface JsonLinesStats {
  lines: number;
  /** Lines that are OTLP logs requests, well-formed or not (JSON objects with `resourceLogs`); 0 means the file is some other JSON. */
  requests: number;
  logRecords: number;
  /** Records delivered more than once (same id, same body), dropped before verifying. */
  duplicatesDropped: number;
  /** Lines that are not JSON or not an OTLP logs request, or hold entries of the wrong type (named by their path), or an audit LogRecord that cannot be read. */
  badLines: { line: number; message: string }[];
}

const EVENT_NAME_ATTR = 'event.name';
const MAX_BAD_LINES_LISTED = 100;

function attr(record: OtlpLogRecord, key: string): string | undefined {
  if (!Array.isArray(record.attributes)) return undefined;
  for (const kv of record.attributes) if (kv?.key === key && typeof kv.value?.stringValue === 'string') return kv.value.stringValue;
  return undefined;
}

/** The LogRecords of one line, and the first structural problem met on the way with how many there were. */
interface LineRecords { records: OtlpLogRecord[]; problem: string | undefined; problems: number }

/** How a JSON value is named in a message: `null`, `an array`, `a string`... */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function problem(into: LineRecords, message: string): void {
  if (into.problems++ === 0) into.problem = message;
}

/**
 * The OTLP list `key` of the entry at path `at`. Absent or null is an empty
 * list, as the OTLP JSON mapping reads a repeated field; an entry that is
 * not an object or a list that is not an array is a problem, and reads as empty.
 */
function listIn(entry: unknown, at: string, key: string, into: LineRecords): unknown[] {
  if (!isObject(entry)) {
    problem(into, `${at} is ${kindOf(entry)}, not an object`);
    return [];
  }
  const list = entry[key];
  if (list === undefined || list === null) return [];
  if (Array.isArray(list)) return list;
  problem(into, `${at}.${key} is ${kindOf(list)}, not an array`);
  return [];
}

/**
 * The LogRecords of an ExportLogsServiceRequest, or why `request` is not
 * one. Entries of the wrong type are skipped and reported (the first in
 * line order by its path, the others counted), not silently dropped; the
 * valid entries beside them are still read.
 */
function logRecordsOf(request: unknown): LineRecords | string {
  const resourceLogs = (request as { resourceLogs?: unknown } | null)?.resourceLogs;
  if (resourceLogs === undefined || resourceLogs === null) return 'no resourceLogs';
  if (!Array.isArray(resourceLogs)) return `resourceLogs is ${kindOf(resourceLogs)}, not an array`;
  const out: LineRecords = { records: [], problem: undefined, problems: 0 };
  for (let i = 0; i < resourceLogs.length; i++) {
    const rlAt = `resourceLogs[${i}]`;
    const scopeLogs = listIn(resourceLogs[i], rlAt, 'scopeLogs', out);
    for (let j = 0; j < scopeLogs.length; j++) {
      const slAt = `${rlAt}.scopeLogs[${j}]`;
      const records = listIn(scopeLogs[j], slAt, 'logRecords', out);
      for (let k = 0; k < records.length; k++) {
        const lr = records[k];
        if (isObject(lr)) out.records.push(lr as OtlpLogRecord);
        else problem(out, `${slAt}.logRecords[${k}] is ${kindOf(lr)}, not an object`);
      }
    }
  }
  return out;
}

/** Placement of a record body, or undefined when the body is not an audit record. */
function placement(text: string): Omit<RecordEntry, 'text' | 'hash'> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as { stream?: unknown; seq?: unknown; id?: unknown; alg?: unknown };
  // alg is checked here too: core's Verifier (0.1.0) throws on a stream's first record without one.
  if (typeof r !== 'object' || r === null || typeof r.stream !== 'string' || typeof r.seq !== 'number' || typeof r.id !== 'string' || typeof r.alg !== 'string') return undefined;
  return { stream: r.stream, seq: r.seq, id: r.id };
}

/** The origin of a checkpoint note, or undefined when `text` is not one. */
function checkpointOrigin(text: string): string | undefined {
  if (!/^[^\n]+\n\d+\n/.test(text)) return undefined;
  return checkpointOfNote(text)?.origin;
}

/** What {@link readJsonLines} found in a file. */
interface JsonLinesContent {
  /** Audit records of the streams kept, each text once per id. */
  entries: RecordEntry[];
  /** Checkpoint notes of the streams kept, each text once. */
  notes: Set<string>;
  stats: JsonLinesStats;
  /** Lines found bad, listed in `stats.badLines` up to a cap. */
  badCount: number;
  /** Every stream the file holds records or checkpoints of, kept or not, sorted. */
  streams: string[];
}

/**
 * Reads `file` and verifies the audit records and checkpoints in it, beside
 * the `checkpoints` kept apart that apply to the streams it holds (a tail
 * cut off with its checkpoints is `truncated` against them). `streams` keeps only those
 * streams; `onBytes` hears how far the file was read. Never throws on
 * tampered content. `streams` of the answer lists every stream the file
 * holds records or checkpoints of, kept or not.
 *
 * @example
 * const { report, stats } = await verifyJsonLines('/var/log/otel/audit.jsonl', keyring);
 */
export async function verifyJsonLines(
  file: string,
  keyring: Keyring,
  streams?: readonly string[],
  onBytes?: (bytesRead: number) => void,
  checkpoints: (held: readonly string[]) => readonly KeptCheckpoint[] = () => [],
): Promise<{ report: VerificationReport; stats: JsonLinesStats; streams: string[]; facts: StreamKeyFacts }> {
  const read = await readJsonLines(file, streams, onBytes);
  const keep = streams !== undefined && streams.length > 0 ? new Set(streams) : undefined;
  const verifier = new Verifier({ keyring });
  for (const note of read.notes) verifier.addCheckpoint(note);
  for (const k of checkpoints(read.streams)) {
    const origin = checkpointOfNote(k.note)?.origin;
    // Copies of the file's own checkpoints are not counted twice.
    if (read.notes.has(k.note) || (keep !== undefined && (origin === undefined || !keep.has(origin)))) continue;
    verifier.addCheckpoint(k.note, k.source === undefined ? {} : { source: k.source });
  }
  for (const e of read.entries) verifier.addRecord(e.text, e.hash);
  const report = verifier.finish();
  if (read.badCount > 0) addInputFindings(report, read.stats, read.badCount);
  // What the start and key-change records say about the streams' keys (parsed only for those records).
  const keyRecords = read.entries.filter((e) => /"action":"(?:stream_started|pipeline_started|key_changed)"/.test(e.text)).map((e) => JSON.parse(e.text) as unknown);
  return { report, stats: read.stats, streams: read.streams, facts: recordKeyFacts(keyRecords) };
}

/**
 * The audit records (de-duplicated by id, in stream and seq order) and
 * checkpoint notes of `file`, of `streams` only when given.
 *
 * @example
 * const { notes } = await readJsonLines('/var/log/otel/audit.jsonl'); // the checkpoints the Collector received
 */
export async function readJsonLines(file: string, streams?: readonly string[], onBytes?: (bytesRead: number) => void): Promise<JsonLinesContent> {
  const stats: JsonLinesStats = { lines: 0, requests: 0, logRecords: 0, duplicatesDropped: 0, badLines: [] };
  const byId = new Map<string, RecordEntry[]>();
  /** Texts of the ids met more than once (an exact re-delivery is dropped, other texts kept). */
  const textsById = new Map<string, Set<string>>();
  const notes = new Set<string>();
  const seen = new Set<string>();
  const keep = streams !== undefined && streams.length > 0 ? new Set(streams) : undefined;
  const source = fs.createReadStream(file, { encoding: 'utf8' });
  const input = readline.createInterface({ input: source, crlfDelay: Infinity });
  let badCount = 0;
  const bad = (message: string): void => {
    badCount++;
    if (stats.badLines.length < MAX_BAD_LINES_LISTED) stats.badLines.push({ line: stats.lines, message });
  };
  for await (const line of input) {
    stats.lines++;
    if (onBytes !== undefined && stats.lines % 1_000 === 0) onBytes(source.bytesRead);
    if (line.trim() === '') continue;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      bad('not JSON');
      continue;
    }
    if (isObject(request) && request['resourceLogs'] !== undefined && request['resourceLogs'] !== null) stats.requests++;
    const read = logRecordsOf(request);
    if (typeof read === 'string') {
      bad(`not an OTLP logs request (${read})`);
      continue;
    }
    // One entry per line, however many entries are malformed; the valid ones are read below.
    if (read.problem !== undefined) bad(read.problems === 1 ? read.problem : `${read.problem}, and ${read.problems - 1} more malformed entr${read.problems === 2 ? 'y' : 'ies'}`);
    for (const lr of read.records) {
      stats.logRecords++;
      const body = lr.body?.stringValue;
      const eventName = typeof lr.eventName === 'string' && lr.eventName !== '' ? lr.eventName : attr(lr, EVENT_NAME_ATTR);
      if (typeof body !== 'string') {
        if (eventName?.startsWith('audit.')) bad(`${eventName} LogRecord without a string body`);
        continue;
      }
      if (eventName === EVENT_CHECKPOINT) {
        const origin = body.slice(0, Math.max(0, body.indexOf('\n')));
        seen.add(origin);
        if (keep === undefined || keep.has(origin)) notes.add(body);
        continue;
      }
      if (eventName !== undefined && !eventName.startsWith('audit.')) continue;
      const place = placement(body);
      if (place === undefined) {
        // Collectors older than the OTLP eventName field drop it: recognise a checkpoint by its note.
        const origin = eventName === undefined ? checkpointOrigin(body) : undefined;
        if (origin !== undefined) {
          seen.add(origin);
          if (keep === undefined || keep.has(origin)) notes.add(body);
        } else if (eventName !== undefined) {
          bad(`${eventName} LogRecord whose body is not an audit record`);
        }
        continue;
      }
      seen.add(place.stream);
      if (keep !== undefined && !keep.has(place.stream)) continue;
      const entry: RecordEntry = { ...place, text: body, hash: attr(lr, ATTR_RECORD_HASH) };
      const same = byId.get(place.id);
      if (same === undefined) byId.set(place.id, [entry]);
      else {
        // A Set per id seen twice: a hostile file with many texts under one id stays linear.
        let texts = textsById.get(place.id);
        if (texts === undefined) textsById.set(place.id, (texts = new Set(same.map((e) => e.text))));
        if (texts.has(body)) stats.duplicatesDropped++;
        else {
          texts.add(body);
          same.push(entry);
        }
      }
    }
  }
  const entries = [...byId.values()].flat().sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.seq - b.seq));
  return { entries, notes, stats, badCount, streams: [...seen].sort() };
}

/** Lines that could not be read are errors of a pseudo-stream `(input)`. */
function addInputFindings(report: VerificationReport, stats: JsonLinesStats, badCount: number): void {
  const stream: StreamReport = {
    stream: '(input)', alg: undefined, records: 0, firstSeq: undefined, lastSeq: undefined, duplicatesIgnored: 0,
    checkpoints: { seen: 0, verified: 0, lastVerifiedSize: 0, mismatched: 0, unchecked: 0 },
    findings: stats.badLines.map((b) => ({ code: 'malformed', severity: 'error', stream: '(input)', message: `line ${b.line}: ${b.message}` })),
    findingsOmitted: badCount - stats.badLines.length,
    errors: badCount,
    warnings: 0,
  };
  report.streams.push(stream);
  report.errors += badCount;
  report.ok = false;
}
