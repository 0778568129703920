/**
 * The argv parser of the CLI (src/internal/argv.ts): every verb parses its
 * options the same way, and every refusal names the option and points at
 * the verb's help.
 */
import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/command.js';
import { CliError } from '../../src/errors.js';
import { parseArgs } from '../../src/internal/argv.js';

const demo: Command = {
  name: 'demo',
  summary: 'a verb for the tests',
  positionals: [{ name: 'input', description: 'a file', required: true }],
  options: [
    { name: 'key', alias: 'k', type: 'string[]', description: 'keys' },
    { name: 'limit', alias: 'n', type: 'number', default: 50, description: 'limit' },
    { name: 'follow', alias: 'f', type: 'boolean', description: 'follow' },
    { name: 'format', type: 'string', choices: ['json', 'csv'], description: 'format' },
  ],
  run: () => Promise.resolve(0),
};

describe('parseArgs', () => {
  it('reads --opt value, --opt=value, -a value, repeated options, booleans, defaults and -- ', () => {
    const parsed = parseArgs(demo, ['--key', 'x.vkey', '-k', 'y.vkey', '--format=csv', '-f', '--', '--odd-name.db']);
    expect(parsed.options).toEqual({ key: ['x.vkey', 'y.vkey'], format: 'csv', follow: true, limit: 50 });
    expect(parsed.positionals).toEqual(['--odd-name.db']);
    expect(parseArgs(demo, ['a', '--no-follow', '-n', '-5']).options).toMatchObject({ follow: false, limit: -5 });
  });

  it('--help wins over missing required arguments', () => {
    expect(parseArgs(demo, ['--help']).help).toBe(true);
    expect(parseArgs(demo, ['-h']).help).toBe(true);
  });

  const refusals: [string[], string][] = [
    [['a', '--nope'], 'unknown option --nope'],
    [['a', '-x'], 'unknown option -x'],
    [['a', '--limit'], '--limit needs a value'],
    [['a', '--limit', '--follow'], '--limit needs a value'],
    [['a', '--limit', '1e'], '--limit must be a number, got "1e"'],
    [['a', '--follow=yes'], '--follow takes no value'],
    [[], 'missing argument INPUT'],
    [['a', 'b'], 'unexpected argument "b"'],
  ];
  for (const [argv, message] of refusals) {
    it(`refuses ${JSON.stringify(argv)}: ${message}`, () => {
      let error: unknown;
      try {
        parseArgs(demo, argv);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).message).toContain(message);
      expect((error as CliError).fix).toBe('run `otel-audit demo --help` for the options');
      expect((error as CliError).exitCode).toBe(2);
    });
  }

  it('refuses a value outside a choice with the values allowed, and the closest one when there is one', () => {
    const refusal = (argv: string[]): CliError => {
      try {
        parseArgs(demo, argv);
      } catch (e) {
        return e as CliError;
      }
      throw new Error('not refused');
    };
    const far = refusal(['a', '--format', 'xml']);
    expect(far.message).toContain('--format must be one of json, csv, got "xml"');
    expect(far.fix).toBe('pass one of json, csv (see `otel-audit demo --help`)');
    const near = refusal(['a', '--format', 'jsno']);
    expect(near.fix).toMatch(/json/);
    expect(near.exitCode).toBe(2);
  });
});
