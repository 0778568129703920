/**
 * The rule for auditors on an encrypted store (issue 7 "auditor: no export
 * of unredacted data if encryption keys are held by admin"): when the
 * store encrypts columns at rest, the members it seals — `details`, `old`,
 * `new` and `actor.user_agent` — are replaced by a marker in everything an
 * auditor reads, and the pointers replaced are listed in `withheld`. The
 * record's checksum is still the checksum of the full record, so an
 * auditor can see that something was withheld but not what.
 */

/**
 * The value put in place of a withheld member.
 *
 * @example
 * if (item.record.details === WITHHELD) showSealedNotice();
 */
export const WITHHELD = '[withheld: encrypted at rest]';

/** A record as the API returns it. */
export interface ApiRecord {
  record: Record<string, unknown>;
  checksum: string;
  timestamp?: string;
  /** JSON Pointers of members replaced by {@link WITHHELD}. */
  withheld?: string[];
}

/** `item` with its sealed members withheld. */
export function withholdSealed(item: ApiRecord): ApiRecord {
  const record: Record<string, unknown> = { ...item.record };
  const withheld: string[] = [];
  for (const member of ['details', 'old', 'new'] as const) {
    if (record[member] !== undefined) {
      record[member] = WITHHELD;
      withheld.push(`/${member}`);
    }
  }
  const actor = record.actor as Record<string, unknown> | undefined;
  if (actor?.user_agent !== undefined) {
    record.actor = { ...actor, user_agent: WITHHELD };
    withheld.push('/actor/user_agent');
  }
  return { ...item, record, withheld };
}
