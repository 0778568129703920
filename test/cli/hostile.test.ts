/**
 * Hostile input against the CLI's parsers and printers (STYLE "one table of
 * hostile inputs"): terminal escapes in stored values, in what a client
 * sends the collector and in what a receiver answers the outbox never reach
 * the terminal raw; odd OTLP JSON lines and forged proof documents are
 * reported (exit 1) or refused (exit 2), never crash the command.
 */
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startService } from '../forwarding/support.js';
import { chainStore, event, pipelineStore, runBin, runCli, startBin, tempDir, until, writeKeys } from './helpers.js';

const ESC = '\u001b';

describe('hostile input', () => {
  it('terminal escapes and newlines in stored values are shown escaped in tables', async () => {
    const { db } = chainStore(3, { make: (i) => ({ ...event(i), actor: { id: `${ESC}[2J${ESC}]0;pwned\u0007\nroot` } }) });
    const run = await runCli(['query', '--db', db]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(ESC);
    expect(run.stdout).toContain('\\u001b[2J');
    expect(run.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('a file whose first line is not a JSON object is refused (exit 2), not crashed on', async () => {
    const dir = tempDir();
    for (const line of ['[]', 'null', '"text"']) {
      const file = path.join(dir, 'in.jsonl');
      fs.writeFileSync(file, `${line}\n`);
      const run = await runCli(['verify', file]);
      expect(run.code, line).toBe(2);
      expect(run.stderr).toContain('fix:');
    }
  });

  // [name, line, the one error a user is shown]: a line that cannot be read
  // is a finding of the pseudo-stream (input) naming the line, and is listed
  // in inputStats.badLines; a forged checkpoint is a finding of the stream it names.
  const lines: [string, string, { stream: string; message: string }][] = [
    ['resourceLogs of the wrong type', '{"resourceLogs":"x"}', { stream: '(input)', message: 'line 1: not an OTLP logs request (resourceLogs is a string, not an array)' }],
    ['null entries', '{"resourceLogs":[null,{"scopeLogs":[null,{"logRecords":[null,1,"x"]}]}]}', { stream: '(input)', message: 'line 1: resourceLogs[0] is null, not an object, and 4 more malformed entries' }],
    ['a record body that is not JSON', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.crud.update","body":{"stringValue":"{oops"}}]}]}]}', { stream: '(input)', message: 'line 1: audit.crud.update LogRecord whose body is not an audit record' }],
    ['a body that is a number', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.crud.update","body":{"intValue":"5"}}]}]}]}', { stream: '(input)', message: 'line 1: audit.crud.update LogRecord without a string body' }],
    ['a __proto__ record', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.x.y","body":{"stringValue":"{\\"__proto__\\":{\\"polluted\\":1},\\"stream\\":\\"s\\",\\"seq\\":0,\\"id\\":\\"i\\",\\"prev\\":\\"p\\"}"}}]}]}]}', { stream: '(input)', message: 'line 1: audit.x.y LogRecord whose body is not an audit record' }],
    ['a forged checkpoint', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.checkpoint","body":{"stringValue":"s\\n99999999999999999999\\n!!!\\n"}}]}]}]}', { stream: 's', message: 'malformed checkpoint note: line 4: missing the blank line and signature lines after the note text' }],
    ['deep nesting', `{"resourceLogs":${'['.repeat(5000)}${']'.repeat(5000)}}`, { stream: '(input)', message: 'line 1: resourceLogs[0] is an array, not an object' }],
  ];
  for (const [name, line, shown] of lines) {
    it(`JSON lines with ${name} are reported, not crashed on`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'in.jsonl');
      fs.writeFileSync(file, `${line}\n`);
      const run = await runCli(['verify', file, '--json']);
      expect(run.code, run.stderr + run.stdout).toBe(1);
      const report = JSON.parse(run.stdout);
      expect(report).toMatchObject({ kind: 'jsonl', intact: false, ok: false, records: 0, errors: 1 });
      expect(report.streams.flatMap((s: { findings: unknown[] }) => s.findings)).toEqual([{ code: 'malformed', severity: 'error', ...shown }]);
      expect(report.inputStats.badLines).toEqual(shown.stream === '(input)' ? [{ line: 1, message: shown.message.replace(/^line 1: /, '') }] : []);
      const text = await runCli(['verify', file]);
      expect(text.code).toBe(1);
      const row = text.stdout.split('\n').find((l) => l.startsWith('error '));
      expect(row?.split(/\s{2,}/)).toEqual(['error', shown.stream, 'malformed', '-', shown.message]);
      expect(text.stdout).toMatch(/^PROBLEMS FOUND: 0 records in 1 stream, 0 signed checkpoints verified, 1 error, 0 warnings$/m);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  }

  it('a __proto__ record that reads as a record reaches the verifier: an error in its stream, nothing polluted', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.jsonl');
    const body = JSON.stringify('{"__proto__":{"polluted":1},"alg":"sha256","stream":"s","seq":0,"id":"i","prev":"p"}');
    fs.writeFileSync(file, `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.x.y","body":{"stringValue":${body}}}]}]}]}\n`);
    const run = await runCli(['verify', file, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: false, intact: false, records: 1, errors: 2 });
    expect(report.streams.map((st: { stream: string }) => st.stream)).toEqual(['s']);
    // Its text is not canonical (members unsorted), and its prev is not the genesis hash.
    expect(report.streams[0].findings.filter((f: { severity: string }) => f.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'hash_mismatch', seq: 0, message: 'the text of record seq 0 is not its canonical form (the bytes hashed differ from the bytes given)' }),
      expect.objectContaining({ code: 'chain_break', seq: 0 }),
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('malformed entries beside real audit records are listed once for their line, and the records are still verified', async () => {
    const { dir, jsonl } = await pipelineStore({ n: 12 });
    const { vkey } = writeKeys(dir);
    const intact = JSON.parse((await runCli(['verify', jsonl, '--key', vkey, '--json'])).stdout);
    expect(intact).toMatchObject({ intact: true, errors: 0 });
    const [first, ...rest] = fs.readFileSync(jsonl, 'utf8').trimEnd().split('\n');
    const request = JSON.parse(first!);
    expect(request.resourceLogs[0].scopeLogs[0].logRecords.length).toBeGreaterThan(0);
    request.resourceLogs[0].scopeLogs[0].logRecords.push(null);
    request.resourceLogs[0].scopeLogs.unshift('x');
    request.resourceLogs.push(7);
    fs.writeFileSync(jsonl, [JSON.stringify(request), ...rest].map((l) => `${l}\n`).join(''));
    const run = await runCli(['verify', jsonl, '--key', vkey, '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.inputStats.badLines).toEqual([{ line: 1, message: 'resourceLogs[0].scopeLogs[0] is a string, not an object, and 2 more malformed entries' }]);
    expect(report.errors).toBe(1);
    const audited = report.streams.find((s: { stream: string }) => s.stream === 'pipeline/1');
    expect(audited).toEqual(intact.streams[0]);
  });

  const proofs: [string, unknown][] = [
    ['a negative leaf', { leafIndex: -1 }],
    ['a leaf past the tree', { leafIndex: 30, treeSize: 30 }],
    ['a huge tree', { treeSize: Number.MAX_SAFE_INTEGER }],
    ['non-hex hashes', { recordHash: 'zz' }],
    ['odd-length hex', { rootHash: 'abc' }],
    ['a long path', { proof: Array.from({ length: 500 }, () => '00'.repeat(32)) }],
    ['a foreign algorithm', { alg: 'md5' }],
    ['a record that is not a record', { record: { seq: 'x' } }],
    ['a checkpoint that is not a note', { checkpoint: 'hello' }],
  ];
  it('many texts under one record id are each reported as duplicates, and re-delivered copies dropped, in linear time', async () => {
    // 20,000 log records sharing an id, each text with a 2 KB common prefix: the
    // de-duplication compared every text with every other before (~95 s here).
    const dir = tempDir();
    const file = path.join(dir, 'one-id.jsonl');
    const pad = 'x'.repeat(2000);
    const body = (seq: number) => `{"action":"a","alg":"sha256","details":"${pad}","id":"0190a1b2-0000-7000-8000-000000000001","prev":"00","seq":${seq},"stream":"s","time":"1","type":"t","v":1}`;
    const lines: string[] = [];
    for (let from = 0; from < 20_000; from += 500) {
      const logRecords = Array.from({ length: 500 }, (_, j) => ({ eventName: 'audit.t.a', body: { stringValue: body(from + j) } }));
      lines.push(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }));
    }
    lines.push(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ eventName: 'audit.t.a', body: { stringValue: body(7) } }] }] }] }));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const run = await runCli(['verify', file, '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { streams: { stream: string; records: number; findings: { code: string }[] }[]; inputStats: { logRecords: number; duplicatesDropped: number } };
    expect(report.inputStats).toMatchObject({ logRecords: 20_001, duplicatesDropped: 1 });
    const s = report.streams.find((x) => x.stream === 's')!;
    expect(s.findings.some((f) => f.code === 'duplicate')).toBe(true);
  }, 30_000);

  it('forged proof documents are invalid (exit 1) or refused (exit 2), never a crash', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const good = JSON.parse((await runCli(['proof', '--db', db, '--seq', '3'])).stdout);
    for (const [name, patch] of proofs) {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...good, ...(patch as object) }));
      const run = await runCli(['verify-proof', file, '--key', vkey, '--json']);
      expect(run.code, name).toBe(1);
      expect(JSON.parse(run.stdout).ok, name).toBe(false);
    }
    const notJson = path.join(dir, 'not.json');
    fs.writeFileSync(notJson, '{');
    expect((await runCli(['verify-proof', notJson])).code).toBe(2);
  });

  const EVIL = `evil${ESC}]0;pwned\u0007${ESC}[2J\rfinding ok`;

  it('error messages and proof problems quoting the input show its escapes (C0 and C1), not run them', async () => {
    const { dir, db } = chainStore(30);
    const missing = runBin(['verify', path.join(dir, `${EVIL}.db`)]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J\\u000dfinding ok.db (ENOENT)');
    expect(missing.stderr).not.toMatch(/[\u0007\u001b\r]/);
    const good = JSON.parse((await runCli(['proof', '--db', db, '--seq', '3'])).stdout);
    const forged = path.join(dir, 'forged.json');
    fs.writeFileSync(forged, JSON.stringify({ ...good, stream: 'svc/1\u009b2J\u009d0;pwned\u0007' }));
    const run = runBin(['verify-proof', forged]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('\\u009b2J');
    expect(run.stdout).not.toMatch(/[\u0007\u001b\u009b\u009d]/);
  });

  it('collect prints a finding that quotes a client\'s stream id with its escapes shown, not run', async () => {
    const dir = tempDir();
    const collect = startBin(['collect', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'central.db')]);
    await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr() !== '', 'collect listening');
    const endpoint = /logs: (\S+)/.exec(collect.stdout())![1]!;
    const body = JSON.stringify({ stream: EVIL, seq: 0, id: 'x', prev: '00', alg: 'sha256' });
    const request = { resourceLogs: [{ scopeLogs: [{ scope: { name: 'otel-audit' }, logRecords: [{ eventName: 'audit.crud.update', body: { stringValue: body } }] }] }] };
    const answer = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    expect(answer.status).toBeLessThan(500);
    await until(() => collect.stdout().includes('finding '), 'the finding');
    const run = await collect.stop();
    expect(run.code, run.stderr).toBe(1);
    const line = run.stdout.split('\n').find((l) => l.startsWith('finding '))!;
    expect(line).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J\\u000dfinding ok');
    expect(run.stdout).not.toMatch(/[\u0007\u001b\r]/);
  });

  it('status prints the receiver\'s error message with its escapes shown, not run', async () => {
    const dir = tempDir();
    const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(401).end(`denied${ESC}]0;pwned\u0007${ESC}[2K`)); });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const outbox = path.join(dir, 'outbox.db');
      const svc = startService({ endpoint: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, protocol: 'http/json', outboxPath: outbox, onDeadLetter: () => undefined });
      svc.emit();
      await svc.shutdown();
      const run = runBin(['status', '--outbox', outbox]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toMatch(/last error: .*HTTP 401 .*denied\\u001b]0;pwned\\u0007\\u001b\[2K/);
      expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
