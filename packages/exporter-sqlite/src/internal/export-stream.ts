/**
 * The entry of every export (DESIGN §1 `otel-audit export`): validates the
 * options up front — so a bad filter throws at the call, not at the first
 * chunk — then streams records (JSON, NDJSON, CSV) or a bundle from a
 * dedicated read-only connection that is closed when the iteration ends,
 * however it ends.
 */
import type Database from 'better-sqlite3';
import { bundleBounds, exportBundle, type BundleExportOptions } from '../bundle.js';
import { exportRecords, prepareExport, type ExportOptions } from './export-records.js';
import type { RowCipher } from './row-cipher.js';
import { describe } from './describe.js';

/** Chunks of the export `options` asks for; `counter.records` counts the records written. */
export function startExport(
  openReader: () => Database.Database,
  cipher: RowCipher | undefined,
  options: ExportOptions | BundleExportOptions,
  counter: { records: number },
): AsyncGenerator<string> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be { format, ...filters }');
  const format = options.format;
  if (format !== 'json' && format !== 'ndjson' && format !== 'csv' && format !== 'bundle') {
    throw new RangeError(`options.format must be 'json', 'ndjson', 'csv' or 'bundle'; got ${describe(format)}`);
  }
  const bounds = format === 'bundle' ? bundleBounds(options as BundleExportOptions) : undefined;
  const prepared = format === 'bundle' ? undefined : prepareExport(options as ExportOptions, cipher !== undefined);
  const reader = openReader();
  return (async function* () {
    try {
      if (prepared !== undefined) yield* exportRecords(reader, cipher, prepared, counter);
      else yield* exportBundle(reader, cipher, (options as BundleExportOptions).streams, bounds!, counter);
    } finally {
      reader.close();
    }
  })();
}
