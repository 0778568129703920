/**
 * alerts-overhead: processor throughput with every built-in alert rule on
 * vs off, in the same run (the measure; target >= 0.8). Both sides
 * run logger.emit() → AuditLogRecordProcessor → a sink that counts and keeps
 * nothing, until every record is committed; "on" passes the processor the
 * `onSealed` hook that node's startAudit wires (createAlertHook over an
 * AlertEngine with every built-in, off_hours_admin included), so each alert
 * raised is sealed into the same chain and delivered like any record.
 * The ratio is the median over seven rounds of each round's on ÷ off (the
 * two sides back to back, first in turn): the shared cores drift between
 * rounds by more than the difference measured, so the best of each side,
 * taken from different rounds, is printed but not the ratio.
 * 200,000 realistic records (core's bench fixtures: 500 actors, a failure
 * every 7th record, and one record in eight a rights grant, so the
 * privilege_escalation rule alone raises an alert for 12.5% of records —
 * far more alerts than a real service would raise).
 *
 * Also printed, to say where the time goes: the same comparison with alerts
 * for ~1 % of records (`fewAlerts`), the same comparison on
 * AuditChain.append alone (no processor) with and without sealing the
 * alerts, the engine alone in ns/record, how many alerts the run raised, and
 * the processor run with `config_changes` in digest mode (one alert per 15
 * minutes of record time instead of one per change).
 */
import { AuditChain, type SealedRecord } from '@otel-audit/core';
import { AlertEngine } from '../src/alerts/alert-engine.js';
import { alertRecordEvent } from '../src/alerts/alert-event.js';
import { createAlertHook } from '../src/alerts/alert-hook.js';
import { builtinAlertRules } from '../src/alerts/builtin-rules.js';
import type { AlertRuleConfig } from '../src/alerts/alert-rule.js';
import { realisticEvent } from '../../core/bench/fixtures.js';
import { CountingSink, timeProcessor } from './processor-run.js';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const events = Array.from({ length: N }, (_, i) => realisticEvent(i));
/**
 * The same records with one grant or administrative change in 20 kept (the
 * others become plain updates): alerts for ~1 % of records instead of 19 %,
 * nearer a real service. Reported beside the headline ratio, which stays the
 * busy fixture's.
 */
let alerting = 0;
const quietEvents = events.map((e) => {
  if (e.action !== 'grant' && !(e.type === 'admin' && (e.action === 'create' || e.action === 'update' || e.action === 'delete'))) return e;
  return alerting++ % 20 === 0 ? e : { ...e, type: e.type === 'admin' ? 'crud' : e.type, action: e.action === 'grant' ? 'update' : e.action };
});
const rules = builtinAlertRules({ offHoursAdmin: true });
const digestRules = builtinAlertRules({ offHoursAdmin: true, configChanges: { digest: '15m' } });

/** Processor throughput (records emitted per second, all committed), alerts on when rules are given. */
async function processorRun(withRules?: readonly AlertRuleConfig[], bodies = events): Promise<{ rate: number; alerts: number }> {
  const sink = new CountingSink();
  let alerts = 0;
  const hook = withRules ? createAlertHook({ engine: new AlertEngine({ rules: withRules }) }) : undefined;
  const onSealed: typeof hook = hook && ((record) => {
    const raised = hook(record);
    if (raised !== undefined) alerts += raised.length;
    return raised;
  });
  const rate = await timeProcessor(sink, bodies, onSealed ? { onSealed } : {});
  if (sink.records < N + alerts) throw new Error(`only ${sink.records} of ${N} records and ${alerts} alerts committed`);
  return { rate, alerts };
}

function chainBaseline(): number {
  const chain = new AuditChain({ stream: 'bench/1' });
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) chain.append(events[i]!);
  return N / (Number(process.hrtime.bigint() - start) / 1e9);
}

function chainWithAlerts(sealAlerts: boolean): number {
  const chain = new AuditChain({ stream: 'bench/1' });
  const engine = new AlertEngine({ rules });
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const sealed = chain.append(events[i]!);
    const raised = engine.evaluate(sealed.record);
    if (sealAlerts) for (let j = 0; j < raised.length; j++) chain.append(alertRecordEvent(raised[j]!));
  }
  return N / (Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * The engine alone over records sealed beforehand (sealed here and let go
 * afterwards: 200,000 record trees kept through the whole run made every
 * other measurement pay for marking them).
 */
function engineOnly(): number {
  const chain = new AuditChain({ stream: 'bench/sealed' });
  const records: SealedRecord[] = events.map((e) => chain.append(e));
  const engine = new AlertEngine({ rules });
  const start = process.hrtime.bigint();
  for (let i = 0; i < records.length; i++) engine.evaluate(records[i]!.record);
  return Number(process.hrtime.bigint() - start) / records.length;
}

// Warm up every path, then alternate: the headline ratio is the median of
// each round's on ÷ off (the cores are shared and their speed drifts between
// rounds by more than the effect measured); the best of each side is printed too.
const ROUNDS = 7;
await processorRun();
await processorRun(rules);
chainBaseline();
chainWithAlerts(true);
engineOnly();
let off = 0;
let on = { rate: 0, alerts: 0 };
let digest = { rate: 0, alerts: 0 };
let quietOff = 0;
let quietOn = { rate: 0, alerts: 0 };
let chainOff = 0;
let chainOn = 0;
let chainOnUnsealed = 0;
let engineNs = Infinity;
/** On ÷ off of each round: the two sides ran back to back, so a slower or faster spell of the shared machine touches both. */
const paired: number[] = [];
const pairedFew: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Which side runs first alternates, so neither always finds the heap the other left.
  const offFirst = r % 2 === 0;
  const a = offFirst ? await processorRun() : await processorRun(rules);
  const b = offFirst ? await processorRun(rules) : await processorRun();
  const [offR, x] = offFirst ? [a.rate, b] : [b.rate, a];
  off = Math.max(off, offR);
  if (x.rate > on.rate) on = x;
  paired.push(x.rate / offR);
  const y = await processorRun(digestRules);
  if (y.rate > digest.rate) digest = y;
  const qOff = (await processorRun(undefined, quietEvents)).rate;
  quietOff = Math.max(quietOff, qOff);
  const q = await processorRun(rules, quietEvents);
  if (q.rate > quietOn.rate) quietOn = q;
  pairedFew.push(q.rate / qOff);
  chainOff = Math.max(chainOff, chainBaseline());
  chainOn = Math.max(chainOn, chainWithAlerts(true));
  chainOnUnsealed = Math.max(chainOnUnsealed, chainWithAlerts(false));
  engineNs = Math.min(engineNs, engineOnly());
  if (global.gc) global.gc();
}
const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
const round3 = (x: number) => Number(x.toFixed(3));
const headline = round3(median(paired));
const spread = (xs: number[]) => `${round3(Math.min(...xs))}–${round3(Math.max(...xs))}`;
console.log(`alerts-overhead: processor with ${rules.length} built-in rules ${Math.round(on.rate)} records/s (${on.alerts} alerts sealed), without ${Math.round(off)} records/s (best of ${ROUNDS} each: ratio ${ratio(on.rate, off)}); on ÷ off per round: median ${headline}, ${spread(paired)}; config_changes as a 15m digest ${Math.round(digest.rate)} records/s (${digest.alerts} alerts), ratio ${ratio(digest.rate, off)}`);
console.log(`  alerts for ~1 % of records (one grant or admin change in 20 kept): ${Math.round(quietOn.rate)} vs ${Math.round(quietOff)} records/s (${quietOn.alerts} alerts), per round median ${round3(median(pairedFew))}, ${spread(pairedFew)}`);
console.log(`  AuditChain.append alone: with rules and sealing alerts ${Math.round(chainOn)}, without sealing ${Math.round(chainOnUnsealed)}, no rules ${Math.round(chainOff)} records/s (ratios ${ratio(chainOn, chainOff)} / ${ratio(chainOnUnsealed, chainOff)}); engine alone ${Math.round(engineNs)} ns/record`);
console.log(JSON.stringify({
  name: 'alerts-overhead', unit: 'records/s', ours: Math.round(on.rate), baseline: Math.round(off), ratio: headline,
  ratioMethod: `median of ${ROUNDS} rounds' on ÷ off (ours and baseline: the best of each)`, ratioPerRound: paired.map(round3), ratioBestOf: ratio(on.rate, off),
  records: N, rules: rules.length, alerts: on.alerts,
  oursConfigDigest: Math.round(digest.rate), ratioConfigDigest: ratio(digest.rate, off), alertsConfigDigest: digest.alerts,
  fewAlerts: { ours: Math.round(quietOn.rate), baseline: Math.round(quietOff), ratio: round3(median(pairedFew)), ratioPerRound: pairedFew.map(round3), alerts: quietOn.alerts },
  chainOnly: { withAlerts: Math.round(chainOn), withoutSealingAlerts: Math.round(chainOnUnsealed), baseline: Math.round(chainOff), ratio: ratio(chainOn, chainOff), ratioWithoutSealingAlerts: ratio(chainOnUnsealed, chainOff) },
  engineNanosPerRecord: Math.round(engineNs),
}));
