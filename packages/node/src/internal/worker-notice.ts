/**
 * The notice that auditing is not started in worker threads (DESIGN §1.1):
 * the register hook runs `--import` again in each file-based Worker and says
 * it there; a Worker started with `eval: true` does not run `--import` at
 * all, so the `audit` object says it on first use instead. Either way once
 * per process: the main thread's hook shares one flag (a SharedArrayBuffer
 * in the environment data every Worker inherits).
 */
import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import { AuditError } from '@otel-audit/core';

const WORKER_NOTICE_KEY = '@otel-audit/node.worker-notice';

/**
 * The notice itself.
 *
 * @example
 * process.stderr.write(`${WORKER_MESSAGE}\n`);
 */
export const WORKER_MESSAGE = 'otel-audit: auditing is not started in worker threads (the register hook runs in each Worker too, '
  + 'and a second pipeline there would compete with the main thread\'s for the same stream and store); '
  + 'log audit records from the main thread, e.g. post the event to it';

/**
 * In the main thread, under the register hook: let every Worker started from now on share the notice flag.
 *
 * @example
 * if (isMainThread) markRegisterHook();
 */
export function markRegisterHook(): void {
  setEnvironmentData(WORKER_NOTICE_KEY, new SharedArrayBuffer(4));
}

/**
 * `true` in a worker thread of a process whose main thread runs the register hook.
 *
 * @example
 * if (inWorkerUnderRegisterHook()) sayWorkerNotice();
 */
export function inWorkerUnderRegisterHook(): boolean {
  return !isMainThread && getEnvironmentData(WORKER_NOTICE_KEY) instanceof SharedArrayBuffer;
}

/**
 * Print the notice on stderr unless a thread of this process already did.
 *
 * @example
 * sayWorkerNotice(); // once per process, whichever thread comes first
 */
export function sayWorkerNotice(): void {
  const flag = getEnvironmentData(WORKER_NOTICE_KEY);
  const first = flag instanceof SharedArrayBuffer ? Atomics.compareExchange(new Int32Array(flag), 0, 0, 1) === 0 : true;
  if (first) process.stderr.write(`${WORKER_MESSAGE}\n`);
}

/**
 * What a worker's `audit` calls reject with.
 *
 * @example
 * createRefusingAuditLogger(workerRefusal)
 */
export function workerRefusal(): AuditError {
  return new AuditError('AUDIT_NO_PIPELINE', `${WORKER_MESSAGE}; the event was not recorded`);
}
