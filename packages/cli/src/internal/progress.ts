/**
 * The progress bar of long CLI work (verify, export, archive; DESIGN §7):
 * drawn on stderr with carriage returns when stderr is a terminal and the
 * output is not `--json`, a no-op object otherwise so pipes stay clean.
 */
import type { ProgressReporter, Writer } from '../command.js';

const SILENT: ProgressReporter = { start() {}, update() {}, done() {} };
const REDRAW_MILLIS = 80;

/**
 * Creates the reporter for a run.
 *
 * @example
 * const progress = createProgress(process.stderr, !json);
 * progress.start('verifying', 1000); progress.update(500); progress.done();
 */
export function createProgress(stderr: Writer, enabled: boolean): ProgressReporter {
  if (!enabled || stderr.isTTY !== true) return SILENT;
  let label = '';
  let total: number | undefined;
  let last = 0;
  let drawn = false;
  const draw = (done: number): void => {
    const width = Math.max(10, Math.min(40, (stderr.columns ?? 80) - label.length - 30));
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, done / total);
      const filled = Math.round(ratio * width);
      stderr.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${Math.floor(ratio * 100)}%`);
    } else {
      stderr.write(`\r${label} ${done}`);
    }
    drawn = true;
  };
  return {
    start(nextLabel, nextTotal) { label = nextLabel; total = nextTotal; last = 0; draw(0); },
    update(done, nextTotal) {
      if (nextTotal !== undefined) total = nextTotal;
      const now = Date.now();
      if (now - last < REDRAW_MILLIS && done !== total) return;
      last = now;
      draw(done);
    },
    done() { if (drawn) stderr.write('\r\x1b[K'); drawn = false; },
  };
}
