/**
 * `otel-audit status --config` sends nothing, so a `${env:VAR}` it has no
 * use for — the token of exporters.otlphttp.headers — may be unset: status
 * shows the outbox and a note naming the variable. One it does use (the
 * outbox path) must still be set.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shipOnce } from '../forwarding/support.js';
import { runCli, tempDir } from './helpers.js';

function configFile(dir: string, outbox: string): void {
  fs.writeFileSync(path.join(dir, 'otel-config.yaml'), [
    'exporters:',
    '  otlphttp:',
    '    endpoint: "http://127.0.0.1:4318"',
    '    headers:',
    '      authorization: "Bearer ${env:COLLECT_TOKEN}"',
    `    outbox: { path: "${outbox}" }`,
    'service:',
    '  pipelines:',
    '    audit: { processors: [], exporters: [otlphttp] }',
    '',
  ].join('\n'));
}

describe('otel-audit status --config with an unset variable', () => {
  it('shows the outbox when the header token variable is unset, with a note naming it (exit 0); an unset outbox path is still refused', async () => {
    const dir = tempDir();
    await shipOnce(path.join(dir, 'outbox.db'));
    configFile(dir, './outbox.db');
    const run = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir, env: {} });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`outbox ${path.join(dir, 'outbox.db')}`);
    expect(run.stdout).toContain('dead letters: 0');
    expect(run.stderr).toContain('note: environment variable COLLECT_TOKEN (exporters.otlphttp.headers.authorization, line 5) is not set; status sends nothing, so it does not need it');
    expect(run.stderr).not.toContain('fix:');
    const json = await runCli(['status', '--config', 'otel-config.yaml', '--json'], { cwd: dir, env: {} });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)[0].deadLetters).toBe(0);

    // An unset variable in the outbox path, which status reads, is still refused.
    configFile(dir, '${env:OUTBOX_FILE}');
    const outboxUnset = await runCli(['status', '--config', 'otel-config.yaml'], { cwd: dir, env: {} });
    expect(outboxUnset.code).toBe(2);
    expect(outboxUnset.stderr).toContain('environment variable OUTBOX_FILE is not set');
  });
});
