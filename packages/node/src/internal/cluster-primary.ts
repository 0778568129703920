/**
 * A `node:cluster` primary stopped by a signal (register.ts): its workers
 * must stop before it ends. When the primary ends first, Node's cluster code
 * in each worker sees the IPC channel close unasked and calls
 * `process.exit(0)` at once (lib/internal/cluster/child.js) — in the middle
 * of the worker's own shutdown, cutting the requests it was letting finish
 * and losing every record it had not committed yet, its stream left without
 * `pipeline_stopped` and without its final signed checkpoint. That happens
 * when SIGTERM reaches the whole process group (systemd's default
 * KillMode=control-group, Ctrl-C, a container init that signals the group)
 * as well as when only the primary is signalled.
 *
 * So the primary first disconnects every worker (`worker.disconnect()`: the
 * worker stops accepting connections, and a disconnect it was asked for
 * does not end it), then waits for the workers to exit: each ends by its
 * own shutdown (the app's signal handler, or the register hook's) or, with
 * nothing left to do, by its event loop draining (the hook flushes at
 * `beforeExit`). A worker forked meanwhile (an app that replaces every
 * worker that exits without checking `worker.exitedAfterDisconnect`) is
 * disconnected as well but not waited for: the wait ends once the workers
 * there were at the signal have stopped — waiting for the replacements too
 * would go on forking them until the deadline. A worker still running at
 * the deadline is sent the signal the primary got, and the primary ends.
 */
import cluster, { type Worker } from 'node:cluster';

/** Workers forked by this process that have not been asked to disconnect. */
function newWorkers(asked: Set<Worker>): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !asked.has(w));
}

/** Resolves at the next worker exit, or after `millis`. */
function nextExit(millis: number): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      clearTimeout(timer);
      cluster.off('exit', finish);
      done();
    };
    const timer = setTimeout(finish, millis);
    cluster.on('exit', finish);
  });
}

/**
 * In a cluster primary, disconnect the workers and wait until they have all
 * exited, at most `timeoutMillis`; then send `signal` to those still running.
 * Resolves at once in a process that forked no worker.
 *
 * @example
 * await stopClusterWorkers('SIGTERM', 35_000);
 */
export async function stopClusterWorkers(signal: NodeJS.Signals, timeoutMillis: number): Promise<void> {
  if (!cluster.isPrimary) return;
  // Monotonic: a wall-clock step must neither hold shutdown for its length nor kill the workers at once.
  const deadline = performance.now() + timeoutMillis;
  const asked = new Set<Worker>();
  const askAll = (): void => {
    for (const worker of newWorkers(asked)) {
      asked.add(worker);
      // A worker whose channel is already closed (it is exiting) cannot be asked; sending would emit an error.
      if (worker.isConnected()) worker.disconnect();
    }
  };
  askAll();
  const waitedFor = [...asked];
  for (;;) {
    askAll();
    const running = waitedFor.filter((w) => !w.isDead());
    if (running.length === 0) return;
    const left = deadline - performance.now();
    if (left <= 0) {
      for (const worker of running) worker.process.kill(signal);
      return;
    }
    await nextExit(left);
  }
}
