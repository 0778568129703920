#!/usr/bin/env node
// Benchmark runner: `npm run bench` runs every packages/*/bench/*.bench.ts,
// `npm run bench -- NAME [NAME...]` runs the named ones. Each benchmark runs
// in its own process (tsx), measures ours and its baseline in the same run,
// and prints one JSON object {name, unit, ours, baseline, ratio, ...} as its
// last line. This runner repeats those lines at the end as a summary.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const benches = new Map();
// Package benches, and the end-to-end ones across packages in ./bench.
const benchDirs = [...readdirSync(packagesDir).map((pkg) => join(packagesDir, pkg, 'bench')), join(root, 'bench')];
for (const dir of benchDirs) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.bench.ts')) benches.set(file.slice(0, -'.bench.ts'.length), join(dir, file));
  }
}
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!benches.has(name)) {
    console.error(`unknown benchmark "${name}"; available: ${[...benches.keys()].sort().join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : [...benches.keys()].sort();
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const results = [];
let failed = 0;
for (const name of names) {
  console.log(`\n== ${name}`);
  const run = spawnSync(tsx, [benches.get(name)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  process.stdout.write(run.stdout ?? '');
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  if (run.status !== 0) {
    failed++;
    console.error(`benchmark ${name} failed with exit code ${run.status}`);
    continue;
  }
  try {
    results.push(JSON.parse(last));
  } catch {
    failed++;
    console.error(`benchmark ${name} did not end with a JSON line`);
  }
}
if (names.length > 1) {
  console.log('\n== summary');
  for (const r of results) console.log(`${r.name.padEnd(22)} ours ${String(r.ours).padStart(10)} ${r.unit}  baseline ${String(r.baseline).padStart(10)}  ratio ${r.ratio}`);
}
if (names.length === 1 && results.length === 1) {
  // The last line of `npm run bench -- NAME` is the benchmark's JSON object.
  console.log(JSON.stringify(results[0]));
}
process.exit(failed > 0 ? 1 : 0);
