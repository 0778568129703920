// `npm start` (issue 6, "the demo"): runs the http-service example under
// `node --import @otel-audit/node/register` with the repository's
// otel-config.yaml, drives a scripted mix of traffic, stops it (the final
// checkpoint is written on SIGTERM), prints what was recorded, verifies the
// database with the `otel-audit` command, tampers with three copies and shows
// verify catching each, and prints the commands to explore further. Writes
// OUT/audit.db, OUT/audit.vkey (and the signer key OUT/audit.key, mode 0600)
// — OUT is ./demo-output or `--out DIR`. Exits 0 only if everything behaved.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateNoteKey } from '@otel-audit/core';
import { startService } from './lib/demo-service.mjs';
import { driveTraffic } from './lib/demo-traffic.mjs';
import { summarize } from './lib/demo-summary.mjs';
import { TAMPERINGS, tamperCopy } from './lib/demo-tamper.mjs';
import { runCli } from './lib/run-cli.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const KEY_NAME = 'http-service.demo.otel-audit/checkpoints';

const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('usage: npm start [-- --out DIR]   (node examples/http-service/demo.mjs [--out DIR])\n' +
    'Runs the audited example service, verifies its audit log and tampers with copies. Default DIR: ./demo-output');
  process.exit(0);
}
const out = resolve(values.out ?? 'demo-output');
const shown = (p) => {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : p;
};
const db = join(out, 'audit.db');
const signerFile = join(out, 'audit.key');
const verifierFile = join(out, 'audit.vkey');
const failures = [];
const started = Date.now();
const say = (line = '') => console.log(line);
const indent = (text) => text.trimEnd().split('\n').map((l) => (l.trim() === '' ? '' : `    ${l}`)).join('\n');

say(`1. A fresh signing key and database in ${shown(out)}/`);
mkdirSync(out, { recursive: true });
for (const f of ['audit.db', 'audit.db-wal', 'audit.db-shm', 'tampered']) rmSync(join(out, f), { recursive: true, force: true });
const { signerKey, verifierKey } = generateNoteKey(KEY_NAME);
writeFileSync(signerFile, `${signerKey}\n`, { mode: 0o600 });
chmodSync(signerFile, 0o600);
writeFileSync(verifierFile, `${verifierKey}\n`);
say(`   signer ${shown(signerFile)} (mode 0600), verifier ${shown(verifierFile)}: ${verifierKey.split('+').slice(0, 2).join('+')}`);

say('\n2. The service: node --import @otel-audit/node/register examples/http-service/server.mjs');
const env = {
  OTEL_AUDIT_CONFIG: join(REPO, 'otel-config.yaml'),
  OTEL_AUDIT_DB: db,
  OTEL_AUDIT_SIGNER_KEY_FILE: signerFile,
  OTEL_AUDIT_STREAM: 'http-service/demo',
  OTEL_SERVICE_NAME: 'http-service-demo',
  // Awaited audit calls wait for the next group commit: keep it short so logins are not slowed by it.
  AUDIT_LOG_FLUSH_INTERVAL: '20ms',
};
let service;
try {
  service = await startService({ env });
} catch (e) {
  console.error(`   could not start the service: ${e.message}`);
  process.exit(1);
}
say(`   listening on ${service.url}; OTEL_AUDIT_CONFIG=${shown(env.OTEL_AUDIT_CONFIG)}`);

say('\n3. Traffic');
let traffic;
try {
  traffic = await driveTraffic(service.url, (line) => say(`   ${line}`));
  failures.push(...traffic.unexpected);
} catch (e) {
  failures.push(`traffic: ${e.message}`);
}
const code = await service.stop().catch((e) => {
  failures.push(e.message);
  return -1;
});
say(`   ${traffic?.requests ?? 0} requests; SIGTERM → the service flushed, wrote its final checkpoint and exited with code ${code}`);
if (code !== 0) failures.push(`the service exited with code ${code}:\n${service.output()}`);

say(`\n4. What was recorded (${shown(db)})`);
try {
  const summary = summarize(db, (line) => say(` ${line}`));
  failures.push(...summary.problems);
} catch (e) {
  failures.push(`reading ${shown(db)}: ${e.message}`);
}

say(`\n5. otel-audit verify ${shown(db)} --key ${shown(verifierFile)}`);
const intact = await runCli(['verify', shown(db), '--key', shown(verifierFile)]);
say(indent(intact.stdout + intact.stderr));
say(`   exit code ${intact.code}${intact.code === 0 ? ' (intact)' : ''}`);
if (intact.code !== 0) failures.push(`verify of the untouched database exited ${intact.code}`);

say('\n6. Tampering with copies (the append-only triggers dropped first, as an attacker with file access would)');
const tamperDir = join(out, 'tampered');
for (const [i, t] of TAMPERINGS.entries()) {
  say(`\n   6.${i + 1} ${t.title}`);
  try {
    const { path, sql } = tamperCopy(db, tamperDir, t);
    say(`        ${sql}`);
    say(`        otel-audit verify ${shown(path)} --key ${shown(verifierFile)}`);
    const r = await runCli(['verify', shown(path), '--key', shown(verifierFile)]);
    say(indent(indent(r.stdout + r.stderr)));
    const caught = r.code === 1 && r.stdout.includes(t.finding);
    say(`        exit code ${r.code}: ${caught ? `caught (${t.finding})` : `NOT CAUGHT as ${t.finding}`}`);
    if (!caught) failures.push(`tampering "${t.title}": expected exit 1 with ${t.finding}, got exit ${r.code}`);
  } catch (e) {
    failures.push(`tampering "${t.title}": ${e.message}`);
  }
}

say('\n7. Explore');
say(`   npx otel-audit verify ${shown(db)} --key ${shown(verifierFile)}`);
say(`   npx otel-audit query --db ${shown(db)} --type auth --outcome failure`);
say(`   AUDIT_TOKEN=$(openssl rand -hex 32) npx otel-audit serve --db ${shown(db)} --key ${shown(verifierFile)} --signer-key ${shown(signerFile)} --token-env AUDIT_TOKEN`);
say('        # query API and dashboard on http://127.0.0.1:4319 (sign in with $AUDIT_TOKEN)');
say(`   npx otel-audit verify ${shown(join(tamperDir, 'edited.db'))} --key ${shown(verifierFile)} --json`);

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length === 0) {
  say(`\nDone in ${seconds} s: the log verified intact and every tampering was caught.`);
} else {
  say(`\nUNEXPECTED (${seconds} s):`);
  for (const f of failures) say(`  - ${f}`);
  process.exitCode = 1;
}
