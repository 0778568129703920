// The core demo (`npm start` until the full service demo exists): build a
// stream of audit records with a signed checkpoint every 50 records, verify
// it, then tamper with copies in four ways and show what verification finds.
// Uses only the public API of @otel-audit/core; no I/O beyond the console.
import {
  AuditChain,
  Keyring,
  Verifier,
  createRecordId,
  generateNoteKey,
  parseSignerKey,
  recordHash,
} from '@otel-audit/core';

const RECORDS = 200;
const EVERY = 50;
const start = BigInt(Date.now()) * 1_000_000n;

const { signerKey, verifierKey } = generateNoteKey('demo.otel-audit.example/checkpoints');
const signer = parseSignerKey(signerKey);
const keyring = Keyring.from([verifierKey]);

const actions = [
  { type: 'auth', action: 'login', outcome: 'success' },
  { type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', error: 'bad password' },
  { type: 'crud', action: 'update', outcome: 'success', target: { type: 'tool', id: '42' } },
  { type: 'access', action: 'view', outcome: 'success', target: { type: 'report', id: 'q3' } },
  { type: 'admin', action: 'grant', outcome: 'success', severity: 'warning', target: { type: 'role', id: 'admin' } },
];

const chain = new AuditChain({ stream: `demo-service/${createRecordId()}` });
const rows = [];
const checkpoints = [];
for (let i = 0; i < RECORDS; i++) {
  const a = actions[i % actions.length];
  const time = start + BigInt(i) * 1_000_000n;
  const sealed = chain.append({
    id: createRecordId(),
    time,
    ...a,
    actor: { id: `user-${i % 7}`, type: 'user', ip: `192.0.2.${i % 250}` },
    request: { method: 'POST', endpoint: '/admin/tools/42' },
    ...(a.action === 'update' ? { old: { enabled: false }, new: { enabled: true } } : {}),
  });
  // What a store keeps: the record's members and its checksum.
  rows.push({ record: structuredClone(sealed.record), checksum: sealed.hash });
  if ((i + 1) % EVERY === 0) checkpoints.push(chain.checkpoint(time, [signer]));
}

function verify(label, input, notes = checkpoints) {
  const verifier = new Verifier({ keyring });
  for (const note of notes) verifier.addCheckpoint(note);
  for (const row of input) verifier.addRecord(row.record, row.checksum);
  const report = verifier.finish();
  const stream = report.streams[0];
  console.log(`\n${label}`);
  console.log(`  ${report.ok ? 'INTACT' : 'PROBLEMS FOUND'}: ${stream.records} records, seq ${stream.firstSeq}..${stream.lastSeq}, ` +
    `${stream.checkpoints.verified}/${stream.checkpoints.seen} checkpoints verified`);
  for (const f of stream.findings) {
    const where = f.seq !== undefined ? `seq ${f.seq}` : `size ${f.size}`;
    console.log(`  ${f.severity === 'error' ? 'ERROR  ' : 'WARNING'} ${f.code.padEnd(14)} ${where.padEnd(9)} ${f.message}`);
  }
  return report;
}

const copy = () => structuredClone(rows);
const results = [];

console.log(`Sealed ${RECORDS} records into stream ${chain.stream}`);
console.log(`Merkle root ${chain.rootHex()}; ${checkpoints.length} checkpoints signed by ${verifierKey.split('+')[0]}`);
console.log('\nThe last checkpoint, as a C2SP signed note:\n' + checkpoints.at(-1).replace(/^/gm, '  '));

results.push(['intact', verify('1. The stream as written', rows).ok === true]);

{
  const t = copy();
  t[17].record.actor.id = 'mallory';
  const r = verify('2. The actor of seq 17 edited in place', t);
  results.push(['edit', r.streams[0].findings[0]?.code === 'hash_mismatch']);
}
{
  const t = copy();
  t[60].record.actor.ip = '203.0.113.66';
  t[60].checksum = recordHash(t[60].record);
  const r = verify('3. the client IP of seq 60 rewritten and its checksum recomputed', t);
  results.push(['rewrite', r.streams[0].findings.some((f) => f.code === 'chain_break')]);
}
{
  const t = copy().filter((_, i) => i !== 120);
  const r = verify('4. seq 120 deleted', t);
  results.push(['delete', r.streams[0].findings[0]?.code === 'seq_gap']);
}
{
  const t = copy().slice(0, 180);
  const r = verify('5. the newest 20 records cut off', t);
  results.push(['truncate', r.streams[0].findings[0]?.code === 'truncated']);
}

const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
console.log(failed.length === 0 ? '\nEvery tampering was caught; the untouched stream verified.' : `\nUNEXPECTED: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
