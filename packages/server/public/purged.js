// The dashboard's notice of purged records (DESIGN §6 retention): the `purged`
// runs of a /api/audit/logs answer as one line of text, so a page that is short
// because retention purged part of its range says so instead of looking like
// "nothing happened". Text only: the caller puts it in with textContent.

const at = (ns) => new Date(Number(BigInt(ns) / 1000000n)).toISOString().slice(0, 16).replace('T', ' ');
const ids = (list) => (list.length > 5 ? `${list.slice(0, 5).join(', ')}, … (${list.length} archives)` : list.join(', '));

/** One line naming each purged run, or '' when there is none. */
export function purgedNotice(purged) {
  return purged.map((p) => `Not listed: ${p.stream} seq ${p.firstSeq}..${p.lastSeq} (${at(p.firstTimeUnixNano)} to ${at(p.lastTimeUnixNano)} UTC) `
    + `was purged by retention on ${at(p.lastPurgedUnixNano)} UTC; it is kept only in the store's archive(s) ${ids(p.archiveIds)}.`).join(' ');
}
