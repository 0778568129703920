/**
 * What `npm publish` would ship, as a service team that installs the packages
 * outside this workspace would notice it: every `exports`/`bin`/`types` path
 * is in the tarball, no test files or build caches are shipped, the
 * dashboard's assets are, source maps point at shipped files, and every bare
 * import in the shipped JavaScript and public declarations is a dependency
 * or peer dependency of the package (declarations: one that has types).
 *
 * Runs `npm pack --dry-run --json --ignore-scripts` in each package (no
 * network, no build): it lists what the current dist/ would ship. A real
 * `npm pack`/`npm publish` runs the packages' `prepack`, which deletes dist/
 * and builds it again, so the outputs of sources deleted since the last clean
 * build (which `tsc -b` leaves behind) are left out here, with a warning.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packagesDir = join(root, 'packages');
const packageDirs = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
  .map((entry) => entry.name)
  .sort();

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  license?: string;
  engines?: Record<string, string>;
  main?: string;
  types?: string;
  typings?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Packed {
  dir: string;
  manifest: PackageJson;
  /** Shipped paths, relative to the package root, '/'-separated. */
  files: Set<string>;
  modes: Map<string, number>;
}

const packed = new Map<string, Packed>();

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function normalize(path: string): string {
  return posix.normalize(path.replace(/^\.\//, ''));
}

function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value as Record<string, unknown>).flatMap(exportTargets);
}

function binTargets(manifest: PackageJson): string[] {
  if (manifest.bin === undefined) return [];
  return typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin);
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(packageNameOf(specifier));
}

/** Module specifiers of static imports/re-exports, `import 'x'`, `import('x')` and `import("x").T` types. */
function moduleSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bcreateRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

const isBare = (specifier: string) => !specifier.startsWith('.') && !specifier.startsWith('/');

/** Declaration files reachable from the `types` entries of `exports` (what a TypeScript consumer's program loads). */
function reachableDeclarations(pkg: Packed): string[] {
  const entries = exportTargets(pkg.manifest.exports).filter((target) => target.endsWith('.d.ts'));
  if (pkg.manifest.types !== undefined) entries.push(pkg.manifest.types);
  const seen = new Set<string>();
  const queue = entries.map(normalize);
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(join(pkg.dir, file))) continue;
    seen.add(file);
    for (const specifier of moduleSpecifiers(readFileSync(join(pkg.dir, file), 'utf8'))) {
      if (isBare(specifier)) continue;
      const target = normalize(posix.join(posix.dirname(file), specifier));
      queue.push(target.replace(/\.js$/, '.d.ts'));
    }
  }
  return [...seen];
}

/** Does the installed package `name` bring its own type declarations? */
function shipsOwnTypes(name: string): boolean {
  const manifestFile = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(manifestFile)) return false;
  const manifest = readJson<PackageJson>(manifestFile);
  if (manifest.types !== undefined || manifest.typings !== undefined) return true;
  if (exportTargets(manifest.exports).some((target) => target.endsWith('.d.ts') || target.endsWith('.d.mts'))) return true;
  return existsSync(join(root, 'node_modules', name, 'index.d.ts'));
}

function typesPackageOf(name: string): string {
  return name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`;
}

/** A tsc output in dist/ whose source in src/ no longer exists. */
function isStaleOutput(dir: string, path: string): boolean {
  const match = /^dist\/(.+?)\.(?:js|d\.ts)(?:\.map)?$/.exec(path);
  return match !== null && !existsSync(join(dir, 'src', `${match[1]}.ts`));
}

beforeAll(async () => {
  const run = promisify(execFile);
  await Promise.all(
    packageDirs.map(async (name) => {
      const dir = join(packagesDir, name);
      const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
      });
      const [result] = JSON.parse(stdout) as [{ files: { path: string; mode: number }[] }];
      const stale = result.files.filter((file) => isStaleOutput(dir, file.path)).map((file) => file.path);
      if (stale.length > 0) {
        console.warn(`packages/${name}: dist/ has outputs of deleted sources (prepack drops them; rebuild dist/ from scratch):\n  ${stale.join('\n  ')}`);
      }
      const files = result.files.filter((file) => !stale.includes(file.path));
      packed.set(name, {
        dir,
        manifest: readJson<PackageJson>(join(dir, 'package.json')),
        files: new Set(files.map((file) => file.path)),
        modes: new Map(files.map((file) => [file.path, file.mode])),
      });
    }),
  );
}, 60_000);

describe.each(packageDirs)('npm pack packages/%s', (name) => {
  const pkg = () => packed.get(name)!;
  const shipped = (predicate: (path: string) => boolean) => [...pkg().files].filter(predicate);

  it('ships README.md, package.json and the built entry points', () => {
    expect(pkg().files).toContain('README.md');
    expect(pkg().files).toContain('package.json');
    expect(shipped((path) => path.startsWith('dist/') && path.endsWith('.js')).length).toBeGreaterThan(0);
  });

  it('declares ESM, its license and the Node.js versions it needs', () => {
    const { manifest } = pkg();
    expect(manifest.type).toBe('module');
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.engines?.node).toBe('>=20.6');
    // Apache-2.0 §4(a): recipients get a copy of the license with the package.
    expect(pkg().files).toContain('LICENSE');
  });

  it('ships every path named by exports, types, main and bin', () => {
    const { manifest, files } = pkg();
    const named = [
      ...exportTargets(manifest.exports),
      ...binTargets(manifest),
      ...[manifest.types, manifest.main].filter((path): path is string => path !== undefined),
    ].map(normalize);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((path) => !files.has(path))).toEqual([]);
  });

  it('ships bin scripts with a node shebang and the executable bit', () => {
    for (const bin of binTargets(pkg().manifest).map(normalize)) {
      expect(readFileSync(join(pkg().dir, bin), 'utf8').startsWith('#!/usr/bin/env node\n'), bin).toBe(true);
      expect((pkg().modes.get(bin) ?? 0) & 0o111, `${bin} mode`).not.toBe(0);
    }
  });

  it('ships no tests, benchmarks, build caches or scratch files', () => {
    const junk = shipped(
      (path) =>
        /(^|\/)(test|tests|__tests__|bench|\.scratch)\//.test(path) ||
        /\.(test|spec|bench)\.[cm]?[jt]s$/.test(path) ||
        /tsbuildinfo$/.test(path) ||
        /\.(tmp|orig|bak)(\.|$)/.test(path) ||
        /(^|\/)\.DS_Store$/.test(path),
    );
    expect(junk).toEqual([]);
  });

  it('ships the sources its source maps name', () => {
    const missing: string[] = [];
    for (const map of shipped((path) => path.endsWith('.map'))) {
      const { sources = [], sourceRoot = '' } = readJson<{ sources?: string[]; sourceRoot?: string }>(join(pkg().dir, map));
      for (const source of sources) {
        const target = normalize(posix.join(posix.dirname(map), sourceRoot, source));
        if (!pkg().files.has(target)) missing.push(`${map} -> ${target}`);
      }
    }
    expect(missing.slice(0, 5), `${missing.length} source map sources are not shipped`).toEqual([]);
  });

  it('does not prepare a tarball from a stale dist/ (prepack rebuilds from scratch)', () => {
    // `tsc -b` never deletes the outputs of removed sources, and a fresh
    // checkout has no dist/ at all: the tarball must be built at pack time.
    const prepack = pkg().manifest.scripts?.prepack ?? '';
    expect(prepack).toMatch(/rmSync\('dist'/);
    expect(prepack).toMatch(/tsc -b/);
  });

  it('imports at run time only node: builtins, its dependencies and its peer dependencies', () => {
    const { manifest } = pkg();
    const allowed = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), manifest.name]);
    const undeclared = new Set<string>();
    for (const file of shipped((path) => /\.[cm]?js$/.test(path))) {
      for (const specifier of moduleSpecifiers(readFileSync(join(pkg().dir, file), 'utf8'))) {
        if (!isBare(specifier) || isBuiltin(specifier)) continue;
        if (!allowed.has(packageNameOf(specifier))) undeclared.add(`${file}: ${specifier}`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it('public declarations import only declared packages that come with types', () => {
    const { manifest } = pkg();
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), manifest.name]);
    const problems = new Set<string>();
    const declarations = reachableDeclarations(pkg());
    expect(declarations.length).toBeGreaterThan(0);
    for (const file of declarations) {
      expect(pkg().files, `${file} is reachable from exports`).toContain(file);
      for (const specifier of moduleSpecifiers(readFileSync(join(pkg().dir, file), 'utf8'))) {
        if (!isBare(specifier) || isBuiltin(specifier)) continue; // node builtins: @types/node, the consumer's
        const dependency = packageNameOf(specifier);
        if (!declared.has(dependency)) problems.add(`${file}: ${specifier} is not a dependency`);
        else if (dependency !== manifest.name && !dependency.startsWith('@otel-audit/') && !shipsOwnTypes(dependency) && !declared.has(typesPackageOf(dependency))) {
          problems.add(`${file}: ${specifier} has no types; ${typesPackageOf(dependency)} is not a dependency`);
        }
      }
    }
    expect([...problems]).toEqual([]);
  });

  it('depends on the sibling @otel-audit packages at their current version', () => {
    const { manifest } = pkg();
    for (const [dependency, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (!dependency.startsWith('@otel-audit/')) continue;
      const sibling = [...packed.values()].find((other) => other.manifest.name === dependency);
      expect(sibling, `${dependency} is a package of this repository`).toBeDefined();
      expect(range, dependency).toBe(sibling!.manifest.version);
    }
  });
});

describe('npm pack packages/server: the dashboard', () => {
  it('ships index.html and every asset it and its modules load', () => {
    const server = packed.get('server')!;
    const publicDir = join(server.dir, 'public');
    const onDisk = readdirSync(publicDir).map((file) => `public/${file}`);
    expect(onDisk).toContain('public/index.html');
    expect(onDisk.filter((file) => !server.files.has(file))).toEqual([]);
    const html = readFileSync(join(publicDir, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/\b(?:href|src)="\/([^"?#]+)"/g)].map((match) => `public/${match[1]}`);
    for (const file of onDisk.filter((path) => path.endsWith('.js'))) {
      for (const specifier of moduleSpecifiers(readFileSync(join(server.dir, file), 'utf8'))) {
        referenced.push(normalize(posix.join('public', specifier)));
      }
    }
    expect(referenced.length).toBeGreaterThan(2);
    expect(referenced.filter((file) => !server.files.has(file))).toEqual([]);
  });
});
