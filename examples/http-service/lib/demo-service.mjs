// Runs server.mjs the way a user would — `node --import
// @otel-audit/node/register server.mjs` (DESIGN §1 use 1) — as a child
// process for demo.mjs: waits for its `listening on http://…` line, and
// stops it with SIGTERM so the register hook flushes the pipeline and writes
// the final checkpoint before the process exits.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));

/**
 * Start the service; resolves with `{ url, stop }` once it listens.
 * `stop()` sends SIGTERM and resolves with the exit code (rejects after
 * `stopTimeoutMillis` with the child killed).
 *
 * @example
 * const service = await startService({ env: { OTEL_AUDIT_CONFIG: '/repo/otel-config.yaml' } });
 * await fetch(`${service.url}/healthz`);
 * const code = await service.stop();
 */
export function startService({ env, startTimeoutMillis = 20_000, stopTimeoutMillis = 15_000 }) {
  const register = import.meta.resolve('@otel-audit/node/register');
  const child = spawn(process.execPath, ['--import', register, SERVER], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const output = () => [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? 1;
    child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the service did not exit within ${stopTimeoutMillis} ms of SIGTERM\n${output()}`));
      }, stopTimeoutMillis);
    });
    try {
      const { code, signal } = await Promise.race([exited, timeout]);
      return code ?? (signal ? 128 : 1);
    } finally {
      clearTimeout(timer);
    }
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not print "listening on" within ${startTimeoutMillis} ms\n${output()}`));
    }, startTimeoutMillis);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop, output });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the service exited before listening (code ${code}, signal ${signal})\n${output()}`));
    });
  });
}
