/**
 * `otel-audit VERB --help`: a repeatable option (type string[]) is marked
 * "(repeatable)" by the help formatter, once — not again by its description.
 */
import { describe, expect, it } from 'vitest';
import { commands } from '@otel-audit/cli';
import { runCli } from './helpers.js';

describe('otel-audit VERB --help', () => {
  it('says "repeatable" once per option: collect --token-env, serve --allowed-host and every other verb', async () => {
    const collect = await runCli(['collect', '--help']);
    expect(collect.code).toBe(0);
    expect(collect.stdout).toMatch(/stream-id prefixes it may write \(repeatable\)\n/);
    const serve = await runCli(['serve', '--help']);
    expect(serve.stdout).toMatch(/without a port \(repeatable\)\n/);
    for (const command of commands) {
      const help = (await runCli([command.name, '--help'])).stdout;
      // An option's text may wrap onto the next line: check each option's row with its continuation.
      for (const row of help.split(/\n(?=\s{2}(?:-\w, )?\s*--)/)) {
        expect(row.match(/repeatable/g)?.length ?? 0, `${command.name}: ${row}`).toBeLessThanOrEqual(1);
      }
    }
  });
});
