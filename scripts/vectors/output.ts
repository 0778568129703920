/**
 * The output of the vector generator: the folders, the in-memory map of
 * relative path → content that every generator fills through `put`, the
 * `check` that stops the generator when a cross-check fails, and `writeAll`,
 * which writes the map to the output directory.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// ---------------------------------------------------------------------------
// Output

export const FOLDERS = ['canonical', 'record-hash', 'merkle', 'checkpoint', 'streams', 'redaction'] as const;
export type Folder = (typeof FOLDERS)[number];

/** Relative path → file content, filled by the generators, written at the end. */
export const files = new Map<string, string>();

export function put(folder: Folder, name: string, value: unknown): void {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`bad vector name ${JSON.stringify(name)}`);
  const rel = `${folder}/${name}.json`;
  if (files.has(rel)) throw new Error(`duplicate vector ${rel}`);
  files.set(rel, `${JSON.stringify(value, null, 2)}\n`);
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`generate-vectors: ${message}`);
}

/** Deletes `dir` and writes every file; refuses to delete a folder that holds anything else. */
export function writeAll(dir: string): void {
  if (existsSync(dir)) {
    const known = new Set<string>([...FOLDERS, 'README.md']);
    const foreign = readdirSync(dir).filter((entry) => !known.has(entry));
    if (foreign.length > 0) {
      throw new Error(`refusing to delete ${dir}: it holds ${foreign.join(', ')}, which this script did not write`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [rel, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}
