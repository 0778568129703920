/**
 * Member names a client chose do not stay in memory after their records:
 * normalisation caches the names it found unable to hold a credential, and
 * a JSON body passed to `audit.change` can carry names of any length. The
 * heap is measured in a child process started with --expose-gc (the built
 * package, as a service loads it): a test worker's own allocations blur it.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const SCRIPT = `
import { createRecordId, normalizeEvent } from '@otel-audit/core';
// What the processor's default redact: mode: mask passes: the name cache is in play.
const redact = { maskText: (v) => v, matchName: () => false, replace: () => '***' };
const filler = 'lorem ipsum dolor sit amet consectetur '.repeat(800).slice(0, 30000);
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
function retained(n, maxLength, tag) {
  const before = heap();
  for (let i = 0; i < n; i++) {
    const event = { id: createRecordId(), time: new Date(), type: 'api', action: 'create', actor: { id: 'u' }, new: { [filler + ' ' + tag + i]: 1 } };
    try { normalizeEvent(event, { redact, maxLength }); } catch (e) { if (e.name !== 'RecordValidationError') throw e; }
  }
  return heap() - before;
}
retained(300, 1 << 20, 'w');
console.log(JSON.stringify({ accepted: retained(1000, 1 << 20, 'a'), refused: retained(1000, 1000, 'r') }));
`;

describe('member names of 30,000 characters', () => {
  it('are not kept once their records are gone, accepted or refused', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], { cwd: root, encoding: 'utf8' });
    const { accepted, refused } = JSON.parse(out.trim().split('\n').pop()!) as { accepted: number; refused: number };
    // 1,000 distinct names of 30,000 characters are 30 MB: kept, they would show.
    expect(accepted).toBeLessThan(8 * 1024 * 1024);
    expect(refused).toBeLessThan(8 * 1024 * 1024);
  });
});
