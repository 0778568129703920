/**
 * Sealing streams left by dead processes of this host at start
 * (internal/stream-adopter.ts), against an in-memory sink that claims
 * streams and lists abandoned ones: the own stream's start comes first; one
 * stream that cannot be adopted goes to onError and the next is sealed; an
 * empty one is only released; alerts do not see stream_abandoned; at most
 * 64 per start, the rest said in the warning.
 */
import { AuditChain, createRecordId, generateNoteKey, parseSignerKey, type StreamClaim, type StreamWriter } from '@otel-audit/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryAuditSink, type AuditProcessorWarning } from '../../src/index.js';
import { MAX_ADOPTED_PER_START } from '../../src/internal/stream-adopter.js';
import { KEYS, setup, until, verifySink } from '../helpers.js';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';

type Holder = StreamWriter & { since: string };

/** A sink with claims: `left` are the abandoned streams it reports; `head` of `broken` fails. */
class ClaimingSink extends InMemoryAuditSink {
  readonly claims = new Map<string, string>();
  readonly released: string[] = [];
  left: { stream: string; holder: Holder }[] = [];
  broken = new Set<string>();
  async claimStream(stream: string, writer: StreamWriter): Promise<StreamClaim> {
    const holder = this.claims.get(stream);
    if (holder !== undefined && holder !== writer.id) return { ok: false, holder: { id: holder, pid: 1, host: 'h', since: 's' } };
    this.claims.set(stream, writer.id);
    return { ok: true };
  }
  async releaseStream(stream: string, writer: StreamWriter): Promise<void> {
    if (this.claims.get(stream) !== writer.id) return;
    this.claims.delete(stream);
    this.released.push(stream);
  }
  async abandonedStreams(): Promise<{ stream: string; holder: Holder }[]> {
    return this.left;
  }
  override async head(stream: string) {
    if (this.broken.has(stream)) throw new Error(`head of ${stream} unreadable`);
    return super.head(stream);
  }
}

const dead = (stream: string): { stream: string; holder: Holder } => ({ stream, holder: { id: `w-${stream}`, pid: 4242, host: 'web-1', since: '2026-11-29T21:00:00.000Z' } });

/**
 * A stream of `n` records as the dead process committed them: its first
 * record under a checkpoint signed with `signerKey` (the test key, the
 * adopting pipeline's), the rest under none. Returns its chain.
 */
async function leftStream(sink: InMemoryAuditSink, stream: string, n: number, signerKey = KEYS.signerKey): Promise<AuditChain> {
  const chain = new AuditChain({ stream });
  const records = [chain.append(updated(0))];
  const timeUnixNano = BigInt(Date.now()) * 1_000_000n;
  const checkpoint = { stream, size: 1, rootHash: chain.rootHex(), timeUnixNano, note: chain.checkpoint(timeUnixNano, [parseSignerKey(signerKey)]) };
  for (let i = 1; i < n; i++) records.push(chain.append(updated(i)));
  await sink.append({ records, checkpoints: [checkpoint] });
  return chain;
}

const updated = (i: number) => ({ id: createRecordId(), time: String(BigInt(Date.now()) * 1_000_000n), type: 'crud', action: 'update', outcome: 'success' as const, details: { i } });

const providers: LoggerProvider[] = [];
afterEach(async () => {
  while (providers.length) await providers.pop()!.shutdown();
});

function start(sink: ClaimingSink, spillPath?: string) {
  const warnings: AuditProcessorWarning[] = [];
  const errors: string[] = [];
  const alerted: string[] = [];
  const s = setup({
    stream: 'own/1', sinks: [sink], onWarning: (w) => warnings.push(w), onError: (e) => errors.push(e.message),
    onSealed: (r) => void alerted.push(`${r.stream}:${r.action}`),
    ...(spillPath !== undefined ? { overflow: 'spill' as const, spillPath } : {}),
  });
  providers.push(s.provider);
  return { ...s, warnings, errors, alerted };
}

describe('sealing streams left by dead processes', () => {
  it('seals each after the own start; an unreadable one goes to onError and the next is sealed; an empty one is only released; alerts do not see it', async () => {
    const sink = new ClaimingSink();
    await leftStream(sink, 'dead/1', 3);
    sink.left = [dead('dead/bad'), dead('dead/1'), dead('dead/empty')];
    sink.broken.add('dead/bad');
    const p = start(sink);
    await until(() => p.warnings.some((w) => w.code === 'streams_abandoned'));
    await p.processor.forceFlush();

    expect(p.errors).toEqual([expect.stringMatching(/^otel-audit: could not seal stream "dead\/bad" left by pid 4242 on web-1: head of dead\/bad unreadable/)]);
    expect(p.warnings.find((w) => w.code === 'streams_abandoned')!.message).toBe(
      'otel-audit: sealed 1 stream(s) left by processes that ended without stopping: "dead/1" (pid 4242 on host web-1, since 2026-11-29T21:00:00.000Z, last seq 2)'
      + ' — each got a system/stream_abandoned record and a checkpoint over its last records',
    );
    const sealed = sink.records.filter((r) => r.record.stream === 'dead/1');
    expect(sealed.map((r) => r.record.action)).toEqual(['update', 'update', 'update', 'stream_abandoned']);
    expect(sealed[3]!.record).toMatchObject({
      type: 'system', outcome: 'failure', severity: 'warning',
      details: { pid: 4242, host: 'web-1', since: '2026-11-29T21:00:00.000Z', last_seq: 2, unsigned_from_seq: 1, adopted_by: { stream: 'own/1', pid: process.pid } },
    });
    // The own stream's start record and first checkpoint come first.
    expect(sink.records[3]!.record).toMatchObject({ stream: 'own/1', seq: 0, action: 'stream_started' });
    // The dead writer's own checkpoint (over its first record), then the own stream's, then the seal's.
    expect(sink.checkpoints.map((c) => `${c.stream}@${c.size}`)).toEqual(['dead/1@1', 'own/1@1', 'dead/1@4']);
    expect(p.alerted).not.toContain('dead/1:stream_abandoned');
    expect(p.alerted).toContain('own/1:stream_started');
    // Released at once when nothing was sealed; once the seal is committed when something was. The
    // unreadable one was never claimed: left for a later start.
    await vi.waitFor(() => expect(sink.released.sort()).toEqual(['dead/1', 'dead/empty']));
    expect([...sink.claims.keys()]).toEqual(['own/1']);

    await p.provider.shutdown();
    expect([...sink.claims.keys()]).toEqual([]);
    const report = verifySink(sink);
    expect(report.ok).toBe(true);
    expect(report.streams.find((s) => s.stream === 'dead/1')!.findings).toEqual([]);
  });

  it('skips a stream another pipeline claimed meanwhile, and seals at most 64 per start, saying how many remain', async () => {
    const sink = new ClaimingSink();
    for (let i = 0; i < MAX_ADOPTED_PER_START + 2; i++) await leftStream(sink, `dead/${String(i).padStart(2, '0')}`, 1);
    sink.left = Array.from({ length: MAX_ADOPTED_PER_START + 2 }, (_, i) => dead(`dead/${String(i).padStart(2, '0')}`));
    sink.claims.set('dead/00', 'someone-else');
    const p = start(sink);
    await until(() => p.warnings.some((w) => w.code === 'streams_abandoned'));
    await p.processor.forceFlush();
    expect(p.warnings.find((w) => w.code === 'streams_abandoned')!.message).toMatch(
      new RegExp(`^otel-audit: sealed ${MAX_ADOPTED_PER_START - 1} stream\\(s\\) .*; 2 more remain, sealed at the next starts \\(64 per start\\)$`),
    );
    const adopted = new Set(sink.records.filter((r) => r.record.action === 'stream_abandoned').map((r) => r.record.stream));
    expect(adopted.size).toBe(MAX_ADOPTED_PER_START - 1);
    expect(adopted.has('dead/00')).toBe(false);
    expect(adopted.has('dead/64')).toBe(false);
    expect(p.errors).toEqual([]);
  });

  it('leaves alone a stream whose last checkpoint another service\'s key signed: its claim is kept for that service', async () => {
    const sink = new ClaimingSink();
    await leftStream(sink, 'dead/ours', 2);
    await leftStream(sink, 'dead/theirs', 2, generateNoteKey('other-service.example/audit').signerKey);
    sink.left = [dead('dead/theirs'), dead('dead/ours')];
    const p = start(sink);
    await until(() => p.warnings.some((w) => w.code === 'streams_abandoned'));
    await p.provider.shutdown();
    expect(p.warnings.find((w) => w.code === 'streams_abandoned')!.message).toMatch(/^otel-audit: sealed 1 stream\(s\) .*"dead\/ours"/);
    expect(sink.records.filter((r) => r.record.stream === 'dead/theirs').map((r) => r.record.action)).toEqual(['update', 'update']);
    expect(sink.checkpoints.filter((c) => c.stream === 'dead/theirs')).toHaveLength(1);
    // Never claimed, so never released: the claim row stays for that service's own next start.
    expect(sink.released).not.toContain('dead/theirs');
    expect(p.errors).toEqual([]);
  });

  it('leaves a stream alone while a spill file replays its records (sealing after the stored head would fork them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-adopter-'));
    try {
      const sink = new ClaimingSink();
      const chain = await leftStream(sink, 'dead/1', 3);
      // The dead writer's spill file: records 3 and 4, never committed by the sink.
      const spillPath = join(dir, 'audit.spill');
      writeFileSync(spillPath, [3, 4].map((i) => { const r = chain.append(updated(i)); return `${JSON.stringify({ c: r.canonical, h: r.hash })}\n`; }).join(''));
      sink.left = [dead('dead/1')];
      const p = start(sink, spillPath);
      await p.processor.ready();
      await until(() => sink.records.filter((r) => r.record.stream === 'dead/1').length === 5);
      await p.provider.shutdown();
      expect(p.errors).toEqual([]);
      expect(p.warnings.filter((w) => w.code === 'streams_abandoned')).toEqual([]);
      expect(sink.records.filter((r) => r.record.stream === 'dead/1').map((r) => r.record.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(verifySink(sink).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
