// The dashboard's integrity verdict (DESIGN §4.4, §9): what the badge says and
// the lines of the integrity panel, from an /api/audit/integrity answer and the
// checkpoint rows of /api/audit/checkpoints. The verdict is the server's
// `intact` — as `otel-audit verify` gives it — not the report's `ok`: a window
// whose records all hash correctly but that no trusted signed checkpoint vouches
// for (an unsigned stream, a copy stripped of its signatures) is "not verified",
// never "intact". Text only: the caller puts it in with textContent via `text`.

const MAX_LINES = 50;

/** Every finding of the report, errors first, as `{ severity, line }`. */
function findingLines(report) {
  const all = (report.streams || []).flatMap((s) => s.findings || []);
  all.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return all.map((f) => {
    const seq = f.seq === undefined ? '' : f.lastSeq !== undefined && f.lastSeq !== f.seq ? ` seq ${f.seq}..${f.lastSeq}` : ` seq ${f.seq}`;
    return { severity: f.severity === 'error' ? 'error' : 'warning', line: `${f.severity} · ${f.code} · ${f.stream}${seq}: ${f.message}` };
  });
}

/**
 * The badge and panel for one check.
 * `answer`: the integrity route's JSON; `disagreeing`: checkpoint rows whose
 * columns disagree with their note; `checkpointText`: e.g. "signed checkpoint 5 s ago".
 * Returns `{ state: 'ok' | 'warn' | 'bad', badge, summary, lines: [{ severity, line }] }`.
 */
export function integrityView(answer, disagreeing, checkpointText) {
  const { report, notVerified = [], intact } = answer;
  const edited = disagreeing.length > 0 ? ` · ${disagreeing.length} checkpoint row(s) disagree with their signed note` : '';
  const lines = [
    ...disagreeing.map((c) => ({ severity: 'error', line: `error · checkpoint row · ${c.stream}: ${c.problem}` })),
    ...findingLines(report),
    ...notVerified.map((r) => ({ severity: 'warning', line: `not verified: ${r}` })),
  ];
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push({ severity: 'warning', line: `… and ${lines.length - MAX_LINES} more: run otel-audit verify on the database file for the full report` });
  let state, verdict, summary;
  if (!report.ok || edited !== '') {
    state = 'bad';
    verdict = report.ok ? `records verify (${report.records})` : `${report.errors} problem(s) found`;
    summary = `Tampering or damage was found in this window (${report.records} records checked). Each problem is listed below with its stream and seq.`;
  } else if (intact !== true) {
    state = 'warn';
    verdict = `not verified (${report.records} records)`;
    summary = `No error was found, but nothing vouches for part of this window: the records could have been rewritten without a trace. Why:`;
  } else {
    state = 'ok';
    verdict = `intact (${report.records} records)`;
    summary = `Every record in this window hashes correctly and is covered by a checkpoint signed with a trusted key.`;
  }
  return { state, badge: `integrity: ${verdict}${edited} · ${checkpointText}`, summary, lines: shown };
}
