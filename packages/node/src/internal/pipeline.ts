/**
 * The audit pipeline named in `service.pipelines` (DESIGN §7), resolved to
 * its components (`type[/name]` keys of receivers, processors, exporters).
 * A name that is not defined is a problem naming both the pipeline entry and
 * the section, with the names that are defined; so is a second receiver or
 * processor of one type, which could only be ignored.
 */
import type { AuditConfig, PipelineConfig } from '../config-types.js';
import type { ConfigProblem } from '../errors.js';

/**
 * One component used by the pipeline.
 *
 * @example
 * const c: UsedComponent = { key: 'sqlite/backup', type: 'sqlite', config: { path: './b.db' } };
 */
export interface UsedComponent<T = unknown> {
  /** The key, e.g. `sqlite/backup`. */
  key: string;
  /** The type, e.g. `sqlite`. */
  type: string;
  config: T;
}

/**
 * The used components of each section, in pipeline order.
 *
 * @example
 * resolvePipeline(config, problems).processors.map((c) => c.key) // ['redact', 'chain']
 */
export interface ResolvedPipeline {
  name: string;
  receivers: UsedComponent[];
  processors: UsedComponent[];
  exporters: UsedComponent[];
}

const SECTIONS = ['receivers', 'processors', 'exporters'] as const;

/**
 * The type of a `type[/name]` key.
 *
 * @example
 * typeOf('otlphttp/backup') // 'otlphttp'
 */
export const typeOf = (key: string): string => key.split('/')[0]!;

/**
 * Resolve the (single) audit pipeline; problems go to `problems`.
 *
 * @example
 * resolvePipeline(config, []).exporters[0] // { key: 'sqlite', type: 'sqlite', config: { path: './audit.db' } }
 */
export function resolvePipeline(config: AuditConfig, problems: ConfigProblem[]): ResolvedPipeline {
  const pipelines = config.service?.pipelines ?? {};
  const names = Object.keys(pipelines);
  const empty: ResolvedPipeline = { name: 'audit', receivers: [], processors: [], exporters: [] };
  if (names.length === 0) {
    problems.push({ path: 'service.pipelines', value: pipelines, message: 'no audit pipeline is defined', fix: 'add service.pipelines.audit: { receivers: [http, api], processors: [redact, chain], exporters: [sqlite] }' });
    return empty;
  }
  if (names.length > 1) {
    problems.push({ path: 'service.pipelines', value: names, message: `${names.length} pipelines are defined (${names.join(', ')}); one is supported`, fix: 'keep one audit pipeline and list every exporter in it' });
  }
  const name = names[0]!;
  const p = pipelines[name] as PipelineConfig;
  const out: ResolvedPipeline = { name, receivers: [], processors: [], exporters: [] };
  for (const section of SECTIONS) {
    const defined = (config[section] ?? {}) as Record<string, unknown>;
    const seenTypes = new Map<string, string>();
    (p[section] ?? []).forEach((key, i) => {
      const path = `service.pipelines.${name}.${section}[${i}]`;
      if (!(key in defined)) {
        const have = Object.keys(defined);
        problems.push({ path, value: key, message: `"${key}" is not defined under ${section}`, fix: `define ${section}.${key}, or remove it from the pipeline (defined: ${have.length > 0 ? have.join(', ') : 'none'})` });
        return;
      }
      const type = typeOf(key);
      // One processor and one receiver of each type: a second would be ignored (one HTTP policy, one chain). Exporters may repeat.
      if (section !== 'exporters' && seenTypes.has(type)) {
        const kind = section === 'processors' ? 'processor' : 'receiver';
        problems.push({ path, value: key, message: `a second ${type} ${kind} ("${seenTypes.get(type)}" is already used)`, fix: `use one ${type} ${kind} in the pipeline${type === 'http' ? ' and put all its rules in it' : ''}` });
        return;
      }
      seenTypes.set(type, key);
      out[section].push({ key, type, config: defined[key] ?? {} });
    });
  }
  const ext = config.extensions ?? {};
  (config.service?.extensions ?? []).forEach((key, i) => {
    if (!(key in ext)) problems.push({ path: `service.extensions[${i}]`, value: key, message: `"${key}" is not defined under extensions`, fix: `define extensions.${key}, or remove it (defined: ${Object.keys(ext).join(', ') || 'none'})` });
  });
  return out;
}

/**
 * The first used component of `type` in `section`, if any.
 *
 * @example
 * usedOf<SqliteExporterConfig>(pipeline, 'exporters', 'sqlite')?.config.path
 */
export function usedOf<T>(pipeline: ResolvedPipeline, section: (typeof SECTIONS)[number], type: string): UsedComponent<T> | undefined {
  return pipeline[section].find((c) => c.type === type) as UsedComponent<T> | undefined;
}
