/**
 * `otel-audit verify` (DESIGN §4.4): verifies a SQLite store, an export
 * bundle or OTLP JSON lines (the Collector file exporter's output) with the
 * packages' verifiers — `SqliteAuditStore.verify`, `verifyBundle`, core's
 * `Verifier` — and prints the report as a table or `--json`. Exit 0 intact
 * (warnings allowed), 1 problems found or nothing verified, 2 could not run.
 * Intact needs more than "no error": at least one record, and with `--key`
 * at least one checkpoint verified with those keys — otherwise deleting the
 * records or the checkpoints would pass as intact.
 */
import * as fs from 'node:fs';
import { unvouchedStreams, type VerificationReport } from '@otel-audit/core';
import { BundleFormatError, storeFileDamage, verifyBundle, type AuditBundle, type PurgedRange } from '@otel-audit/exporter-sqlite';
import { EXIT_OK, EXIT_PROBLEMS, JSON_OPTION, type Command, type CommandContext } from '../command.js';
import { CliError } from '../errors.js';
import { detectInput, inputKindOf, resolvePath, withStore, type InputKind } from '../internal/inputs.js';
import { keyHints, NO_FACTS, recordKeyFacts, storeKeyFacts, type StreamKeyFacts } from '../internal/key-hint.js';
import { isNotesFile, KeptUse, readCheckpoints, type KeptCheckpoints } from '../internal/kept-checkpoints.js';
import { keyringOf } from '../internal/keys.js';
import { verifyJsonLines, type JsonLinesStats } from '../internal/otlp-jsonl.js';
import { purgedVerifyLines } from '../internal/purged-notice.js';
import { lossLines, recordLosses, storeLosses, type RecordedLoss } from '../internal/recorded-losses.js';
import { storeSummaries, summaryLines, type StreamSummary } from '../internal/stream-summary.js';
import { formatReport } from '../internal/report-text.js';
import { escapeControl, toJson } from '../internal/table.js';

const KIND_LABEL: Record<InputKind, string> = { sqlite: 'SQLite store', bundle: 'export bundle', jsonl: 'OTLP JSON lines' };

const STREAMS_LISTED = 20;

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 ? (value as string[]) : undefined;
}

/** Refuses (exit 2) a `--stream` the input does not hold, naming it and the streams it holds. */
function assertKnownStreams(file: string, asked: readonly string[] | undefined, known: readonly string[]): void {
  const unknown = (asked ?? []).filter((s) => !known.includes(s));
  if (unknown.length === 0) return;
  const names = (list: readonly string[]): string => list.map((s) => JSON.stringify(escapeControl(s))).join(', ');
  const holds = known.length === 0
    ? 'it holds no stream'
    : `it holds ${known.length} stream${known.length === 1 ? '' : 's'}: ${names(known.slice(0, STREAMS_LISTED))}${known.length > STREAMS_LISTED ? `, and ${known.length - STREAMS_LISTED} more` : ''}`;
  throw new CliError('AUDIT_CLI_USAGE', `${file} has no stream ${names(unknown)}; ${holds}`, 'pass --stream with one of the streams listed, or leave it out to verify every stream');
}

/**
 * Refuses (exit 2) JSON lines of which not one line is an OTLP logs request:
 * such a file is some other JSON, not audit data with damaged lines, so
 * there is nothing to report findings on. One request among bad lines keeps
 * the bad lines as findings (exit 1).
 */
function assertNotOtherJson(file: string, stats: JsonLinesStats): void {
  const first = stats.badLines[0];
  if (stats.requests > 0 || first === undefined) return;
  throw new CliError(
    'AUDIT_CLI_INPUT',
    `${file} is not an audit database, bundle or OTLP JSON-lines file: line ${first.line} is ${first.message}${stats.badLines.length > 1 ? ', and no other line is an OTLP logs request either' : ''}`,
    'pass the SQLite file of exporters.sqlite, a bundle from `otel-audit export --format bundle`, or the OTLP JSON lines the Collector file exporter writes (one {"resourceLogs":[...]} request per line)',
  );
}

/**
 * Why the command does not call the input intact although the verifier
 * found no error: nothing was verified. Empty when the report stands. With
 * keys, every stream with records needs a checkpoint verified with them
 * (deleting one stream's checkpoints must not pass because another stream
 * is signed), except the streams named unsigned by design. A time range
 * must be covered whole by a checkpoint verified with them (the store
 * reaches the one covering it through the stored checksums after it): a
 * checkpoint before the range, checked against the stored checksums, shows
 * nothing about the records in it. A stream without checkpoints whose
 * records say it was written without a signer key is said to be so, not
 * suspected of deleted checkpoints. Without keys nothing is vouched for:
 * an input stripped of its signatures, or rewritten and hashed again,
 * would read the same, so it must not fare better than the signed original
 * (whose checkpoints are `unknown_key` without keys) — only streams named
 * unsigned by design pass.
 */
function notVerified(report: VerificationReport, keys: number, filtered: boolean, ranged: boolean, unsignedOk: readonly string[], facts: StreamKeyFacts): string[] {
  if (!report.ok) return [];
  if (report.records === 0) {
    return [`the input holds no audit records${filtered ? ' in the selected streams and time range' : ''}, so nothing was verified`];
  }
  // A stream whose start records name a checkpoint key was signed: "unsigned by design" does not apply to it.
  const unvouched = unvouchedStreams(report, { ranged }).filter((s) => !namedUnsigned(unsignedOk, s.stream) || facts.signed.has(s.stream));
  const signedBy = (stream: string): string => {
    const key = facts.signed.get(stream);
    return key === undefined ? '' : `its start record names checkpoint key ${escapeControl(key)}, so it was signed (--unsigned-ok does not apply to it); `;
  };
  if (keys === 0) {
    if (unvouched.length === 0) return [];
    const names = unvouched.slice(0, 3).map((s) => JSON.stringify(escapeControl(s.stream))).join(', ') + (unvouched.length > 3 ? `, and ${unvouched.length - 3} more` : '');
    const signers = [...new Set(unvouched.map((s) => facts.signed.get(s.stream)).filter((k): k is string => k !== undefined))];
    return [`no --key given: without the signer's verifier key no checkpoint can be trusted, so nothing shows that the records of ${unvouched.length === 1 ? 'stream' : `${unvouched.length} streams`} ${names} `
      + 'were not rewritten (an input stripped of its signatures, or rewritten and hashed again, reads the same); '
      + (signers.length > 0
        ? `${signers.length === 1 ? 'its start record names' : 'their start records name'} checkpoint key ${signers.map(escapeControl).join(', ')}: pass --key with ${signers.length === 1 ? 'its' : 'their'} .vkey (written beside the signer key)`
        : 'pass --key VKEY (the .vkey written beside the signer key), or --unsigned-ok STREAM for a stream unsigned by design (\'*\' for all: then only the records\' consistency is checked)')];
  }
  const with_ = `with the given key${keys === 1 ? '' : 's'}`;
  if (ranged) {
    return unvouched
      .map((s) => {
        const covered = s.checkpoints.lastVerifiedSize;
        const first = s.firstSeq ?? 0;
        const open = covered > first ? `records seq ${covered}..${s.lastSeq!} of the range` : `its records seq ${first}..${s.lastSeq!} in the range`;
        return `stream ${JSON.stringify(escapeControl(s.stream))}: no checkpoint verified ${with_} covers ${open} yet, so nothing shows they were not rewritten; `
          + 'end the range earlier with --until, or verify again after the next checkpoint (every 10 s or 1000 records by default)'
          + (facts.signed.has(s.stream) ? '' : `; if the stream is unsigned by design, pass --unsigned-ok ${JSON.stringify(escapeControl(s.stream))}`);
      });
  }
  return unvouched.map((s) => {
    const name = JSON.stringify(escapeControl(s.stream));
    const writer = s.checkpoints.seen === 0 ? facts.unsigned.get(s.stream) : undefined;
    if (writer !== undefined) {
      return `stream ${name}: written without a signer key (its start records say so): nothing vouches for its ${s.records} records; `
        + `${writer === 'server' ? 'start serve with --signer-key' : 'configure processors.chain.signer_key_file'} to sign it from now on, or pass --unsigned-ok ${name} if it is unsigned by design`;
    }
    return `stream ${name}: no checkpoint verified ${with_}: ${signedBy(s.stream)}${s.checkpoints.seen === 0
      ? 'it holds no checkpoint (were they deleted?)'
      : `none of its ${s.checkpoints.seen} checkpoints covers the records verified`}, so nothing shows its ${s.records} records were not rewritten`
      + (facts.signed.has(s.stream) ? '' : `; if the stream is unsigned by design, pass --unsigned-ok ${name}`);
  });
}

async function verifyStoreFile(ctx: CommandContext, file: string, keyring: ReturnType<typeof keyringOf>, kept: KeptUse): Promise<{ report: VerificationReport; facts: StreamKeyFacts; damage: string[]; purged: PurgedRange[]; losses: RecordedLoss[]; summaries: StreamSummary[] }> {
  return withStore(ctx, file, async (store) => {
    const streams = stringList(ctx.options['stream']);
    const held = store.streams().map((s) => s.stream);
    assertKnownStreams(file, streams, [...held, ...kept.origins]);
    const keptNotes = kept.use(held, streams);
    const total = store.streams().filter((s) => streams === undefined || streams.includes(s.stream)).reduce((n, s) => n + s.size, 0);
    ctx.progress.start('verifying', total);
    const since = ctx.options['since'] as string | undefined;
    const until = ctx.options['until'] as string | undefined;
    let report: VerificationReport;
    try {
      report = await store.verify({
        keyring,
        ...(streams ? { streams } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        ...(keptNotes.length > 0 ? { checkpoints: keptNotes } : {}),
        progressEveryRecords: 5_000,
        onProgress: (p) => ctx.progress.update(p.records, total),
      });
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        const aboutTime = /\b(since|until)\b/.test(e.message);
        throw new CliError('AUDIT_CLI_USAGE', e.message, aboutTime ? 'give --since/--until as ISO-8601, e.g. 2026-01-31T12:00:00Z' : 'check the option the message names (otel-audit verify --help lists them)');
      }
      throw e;
    } finally {
      ctx.progress.done();
    }
    // The file around the records, on a whole-store run (it reads the whole file whatever the range).
    const whole = since === undefined && until === undefined;
    const damage = whole ? storeFileDamage(store) : [];
    // Purged records are verified through their archives in a whole-store run only.
    const purged = whole ? store.purgedRanges(streams ? { streams } : {}) : [];
    const verified = report.streams.map((s) => s.stream);
    return { report, facts: storeKeyFacts(store, verified), damage, purged, losses: storeLosses(store, verified), summaries: storeSummaries(store, report, keyring) };
  });
}

/**
 * The `verify` verb.
 *
 * @example
 * const code = await main(['verify', 'audit.db', '--key', 'audit.vkey']); // 0 intact, 1 problems, 2 could not run
 */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify a store, an export bundle or OTLP JSON lines (exit 0 intact, 1 problems, 2 could not run)',
  details: [
    'INPUT is detected by content: a SQLite database (exporters.sqlite), a bundle',
    '(`otel-audit export --format bundle`), or JSON lines as the OpenTelemetry',
    'Collector file exporter writes them (records de-duplicated by id, ordered by seq).',
    'Without --key, signed checkpoints cannot be trusted and are reported as unknown_key.',
    '--since/--until verify a time range of a database only. A database is only read:',
    'verify never changes the file or its -wal.',
    '',
    'A whole database is also checked by SQLite (PRAGMA integrity_check): an index that no longer',
    'matches its table makes queries miss rows, so the store is not called intact (exit 1).',
    '',
    'Every stream needs a checkpoint verified with a --key (--unsigned-ok names the streams',
    'unsigned by design; a value ending in * names streams by prefix, \'*\' all of them); a',
    '--since/--until range is checked by its records only. Without --key nothing is vouched for',
    '(a copy stripped of its signatures would read the same): NOT VERIFIED, exit 1, unless',
    '--unsigned-ok names every stream, which then checks only that the records are consistent.',
    '',
    '--checkpoints FILE checks the input also against checkpoints kept elsewhere: a file printed by',
    '`otel-audit checkpoints`, or a store, bundle or JSON lines holding them (the collector\'s copy).',
    'Newest records deleted together with their checkpoints are then `truncated`, a rewritten',
    'history `root_mismatch`, and a stream the input lacks is reported with no records. Of a',
    'store, bundle or JSON lines only the checkpoints of streams the input holds count (a',
    'collector\'s store holds other services\' too); --stream names the streams that count.',
    '',
    'A key may carry a validity window: the words not_before=TIME and/or not_after=TIME (both',
    'inclusive; TIME in Unix nanoseconds or RFC 3339, e.g. 2026-01-01T00:00:00Z) after the key,',
    'in the --key text (--key "NAME+HASH+KEY not_after=...") or on the key\'s line of a .vkey',
    'file. A checkpoint whose time lies outside its key\'s window is key_out_of_window (exit 1):',
    'give a retired key not_after=<retirement time>, the key after it not_before=<that time>.',
    '',
    'Exit codes: 0 intact (warnings such as unsigned_tail allowed), 1 problems found or',
    'nothing verified (no records; or a stream has no checkpoint verified with a --key),',
    '2 could not run (unreadable path, not a database, bad key, unknown --stream).',
    'With --json, "ok" is the verifier\'s (no error found) and "intact" the verdict (exit 0).',
  ].join('\n'),
  positionals: [{ name: 'input', description: 'DB, BUNDLE or FILE.jsonl', required: true }],
  options: [
    { name: 'key', alias: 'k', type: 'string[]', valueName: 'VKEY', description: 'trusted verifier key: a .vkey file or the key text, optionally followed by its window not_before=TIME not_after=TIME' },
    { name: 'stream', type: 'string[]', valueName: 'STREAM', description: 'only this stream' },
    { name: 'since', type: 'string', valueName: 'TIME', description: 'database only: records at or after this ISO-8601 time' },
    { name: 'until', type: 'string', valueName: 'TIME', description: 'database only: records before this ISO-8601 time' },
    { name: 'checkpoints', type: 'string[]', valueName: 'FILE', description: 'checkpoints kept apart (from `otel-audit checkpoints`, or the collector\'s store or file): the input must reach each of them' },
    { name: 'unsigned-ok', type: 'string[]', valueName: 'STREAM', description: 'a stream unsigned by design (e.g. the collector\'s findings; PREFIX* for streams by prefix, \'*\' all): it may lack a verified checkpoint' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const file = resolvePath(ctx, ctx.positionals[0] as string);
    const keyring = keyringOf(ctx, ctx.options['key'] as string[] | undefined);
    if (inputKindOf(file, 'database, bundle or JSON-lines file') === undefined && isNotesFile(file)) {
      throw new CliError('AUDIT_CLI_USAGE', `${file} is a file of checkpoint notes (as \`otel-audit checkpoints\` writes), not a log to verify`,
        `verify the store, bundle or JSON lines and pass this file with --checkpoints: otel-audit verify DB --key VKEY --checkpoints ${file}`);
    }
    const kind = detectInput(file);
    const kept: KeptCheckpoints[] = [];
    for (const f of stringList(ctx.options['checkpoints']) ?? []) kept.push(await readCheckpoints(ctx, f));
    const keptUse = new KeptUse(kept);
    if (kind !== 'sqlite' && (ctx.options['since'] !== undefined || ctx.options['until'] !== undefined)) {
      throw new CliError('AUDIT_CLI_USAGE', `--since/--until apply to a database, and ${file} is ${kind === 'bundle' ? 'an export bundle' : 'OTLP JSON lines'}`, 'verify the whole file, or export a bundle of the range with `otel-audit export --format bundle --since ...`');
    }
    let report: VerificationReport;
    let stats: JsonLinesStats | undefined;
    let facts = NO_FACTS;
    let damage: string[] = [];
    let purged: PurgedRange[] = [];
    let losses: RecordedLoss[] = [];
    let summaries: StreamSummary[] = [];
    if (kind === 'sqlite') {
      ({ report, facts, damage, purged, losses, summaries } = await verifyStoreFile(ctx, file, keyring, keptUse));
    } else if (kind === 'bundle') {
      try {
        const doc = parseBundle(fs.readFileSync(file, 'utf8'));
        const list = (doc as { streams?: unknown } | null)?.streams;
        const held = Array.isArray(list) ? list.map((s) => (s as { stream?: unknown } | null)?.stream).filter((s): s is string => typeof s === 'string') : [];
        report = verifyBundle(doc as AuditBundle, keyring, { checkpoints: keptUse.use(held, stringList(ctx.options['stream'])) });
        const records = Array.isArray(list) ? list.flatMap((s) => { const rs = (s as { records?: unknown } | null)?.records; return Array.isArray(rs) ? rs.map((r) => (r as { record?: unknown } | null)?.record) : []; }) : [];
        facts = recordKeyFacts(records);
        losses = recordLosses(records);
      } catch (e) {
        if (e instanceof BundleFormatError) throw new CliError('AUDIT_CLI_INPUT', `${file}: ${e.message}`, 'pass a bundle written by `otel-audit export --format bundle`');
        throw e;
      }
      const streams = stringList(ctx.options['stream']);
      assertKnownStreams(file, streams, report.streams.map((s) => s.stream));
      if (streams) report = onlyStreams(report, streams);
    } else {
      const size = fs.statSync(file).size;
      const streams = stringList(ctx.options['stream']);
      let seen: string[];
      ctx.progress.start('reading', size);
      try {
        ({ report, stats, streams: seen, facts } = await verifyJsonLines(file, keyring, streams, (bytes) => ctx.progress.update(bytes, size), (held) => keptUse.use(held, streams)));
      } finally {
        ctx.progress.done();
      }
      assertNotOtherJson(file, stats);
      assertKnownStreams(file, streams, [...seen, ...keptUse.origins]);
    }
    const filtered = ['stream', 'since', 'until'].some((o) => ctx.options[o] !== undefined);
    const ranged = ctx.options['since'] !== undefined || ctx.options['until'] !== undefined;
    const signedUnchecked = keyring.size === 0 && report.streams.some((s) => s.findings.some((f) => f.code === 'unknown_key'));
    if (keyring.size === 0) report = keylessView(report);
    const unverified = [...damage, ...notVerified(report, keyring.size, filtered, ranged, stringList(ctx.options['unsigned-ok']) ?? [], facts)];
    const intact = report.ok && unverified.length === 0;
    const hints = [
      ...(signedUnchecked ? ['hint: the checkpoints are signed; pass --key with the verifier key (.vkey) to trust them'] : []),
      ...(keyring.size === 0 && kept.length > 0 ? ['hint: the checkpoints kept apart (--checkpoints) are trusted only with --key too'] : []),
      ...keyHints(report, keyring, facts),
    ];
    if (ctx.json) {
      const keptJson = kept.length > 0 ? { keptCheckpoints: kept.map((k, i) => ({ file: k.file, kind: k.kind, checkpoints: k.notes.length, used: keptUse.used[i] })) } : {};
      const verdict = !report.ok ? 'PROBLEMS_FOUND' : intact ? 'INTACT' : 'NOT_VERIFIED';
      ctx.stdout.write(toJson({ input: file, kind, verdict, intact, ...(unverified.length > 0 ? { notVerified: unverified } : {}), ...(hints.length > 0 ? { hints } : {}), ...keptJson, ...(purged.length > 0 ? { purged } : {}), ...(losses.length > 0 ? { recordedLosses: losses } : {}), ...(summaries.length > 0 ? { summaries } : {}), ...report, ...(stats ? { inputStats: stats } : {}) }));
    } else {
      ctx.stdout.write(formatReport(report, `${file} (${KIND_LABEL[kind]})`, { keys: keyring.size, notVerified: unverified }));
      for (const line of summaryLines(summaries)) ctx.stdout.write(`${line}\n`);
      for (const line of purgedVerifyLines(purged)) ctx.stdout.write(`${line}\n`);
      for (const line of lossLines(losses)) ctx.stdout.write(`${line}\n`);
      for (const [i, k] of kept.entries()) {
        const used = keptUse.used[i]!;
        ctx.stdout.write(`checked also against ${used} checkpoint(s) kept apart in ${k.file}${used < k.notes.length ? ` (${k.notes.length - used} of other streams left aside; name a stream with --stream to require it)` : ''}\n`);
      }
      if (stats && stats.duplicatesDropped > 0) ctx.stdout.write(`${stats.duplicatesDropped} re-delivered record(s) de-duplicated by id\n`);
      for (const line of hints) ctx.stdout.write(`${line}\n`);
    }
    return intact ? EXIT_OK : EXIT_PROBLEMS;
  },
};

/** A bundle's JSON, refused as verifyBundle refuses text that is not JSON. */
function parseBundle(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BundleFormatError(`bundle is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Whether `--unsigned-ok` names `stream`: its id, or a prefix ending in `*` (`billing-api/*`; `*` for every stream). */
function namedUnsigned(patterns: readonly string[], stream: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? stream.startsWith(p.slice(0, -1)) : p === stream));
}

/**
 * The report as verify gives it without keys: a checkpoint signed by a key
 * not given was not checked, which is no error of the input — else a copy
 * stripped of its signatures (NOT VERIFIED) would read better than the
 * signed original (PROBLEMS FOUND). `unknown_key` becomes a warning; the
 * verdict is NOT VERIFIED either way (nothing vouched for the records).
 */
function keylessView(report: VerificationReport): VerificationReport {
  let moved = 0;
  const streams = report.streams.map((s) => {
    const n = s.findings.filter((f) => f.code === 'unknown_key').length;
    if (n === 0) return s;
    moved += n;
    return {
      ...s,
      errors: s.errors - n,
      warnings: s.warnings + n,
      findings: s.findings.map((f) => (f.code === 'unknown_key' ? { ...f, severity: 'warning' as const, message: `${f.message} (not checked: no --key given)` } : f)),
    };
  });
  if (moved === 0) return report;
  const errors = report.errors - moved;
  return { ...report, streams, errors, warnings: report.warnings + moved, ok: errors === 0 };
}

function onlyStreams(report: VerificationReport, streams: readonly string[]): VerificationReport {
  const kept = report.streams.filter((s) => streams.includes(s.stream));
  return {
    ok: kept.every((s) => s.errors === 0),
    records: kept.reduce((n, s) => n + s.records, 0),
    errors: kept.reduce((n, s) => n + s.errors, 0),
    warnings: kept.reduce((n, s) => n + s.warnings, 0),
    streams: kept,
  };
}
