// Runs one `otel-audit` command in-process through the CLI's programmatic
// entry (`main(argv, io)` of @otel-audit/cli) and captures what it printed —
// exactly what `npx otel-audit …` would print in a pipe — so the demo can
// show it and check the exit code and the findings.
import { main } from '@otel-audit/cli';

function capture() {
  let text = '';
  return { writer: { isTTY: false, columns: 100, write: (chunk) => { text += String(chunk); return true; } }, text: () => text };
}

/**
 * Run `otel-audit ...argv`; resolves with `{ code, stdout, stderr }`.
 *
 * @example
 * const { code, stdout } = await runCli(['verify', 'demo-output/audit.db', '--key', 'demo-output/audit.vkey']);
 */
export async function runCli(argv, { cwd = process.cwd(), env = process.env } = {}) {
  const out = capture();
  const err = capture();
  const code = await main(argv, { stdout: out.writer, stderr: err.writer, env, cwd });
  return { code, stdout: out.text(), stderr: err.text() };
}
