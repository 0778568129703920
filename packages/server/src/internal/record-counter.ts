/**
 * Counts the records of an export as its chunks go by, for the access
 * record written when the export ends ("result count"), without parsing
 * the export: JSON strings never hold a raw newline or an unescaped quote,
 * so a record starts at a fixed marker in every format; CSV counts line
 * ends outside quoted fields (a doubled quote toggles twice).
 */

/** A counter for one export format. */
export interface RecordCounter {
  add(chunk: string): void;
  readonly records: number;
}

const MARKER = { json: '\n{', ndjson: '\n', bundle: '{"record":' } as const;

/** A counter for `format`. */
export function recordCounter(format: 'json' | 'ndjson' | 'csv' | 'bundle'): RecordCounter {
  if (format === 'csv') {
    let quoted = false;
    let lines = 0;
    return {
      add(chunk) {
        for (let i = 0; i < chunk.length; i++) {
          const c = chunk.charCodeAt(i);
          if (c === 34) quoted = !quoted;
          else if (c === 10 && !quoted) lines++;
        }
      },
      get records() {
        return Math.max(0, lines - 1);
      },
    };
  }
  const marker = MARKER[format];
  let carry = '';
  let n = 0;
  return {
    add(chunk) {
      const text = carry + chunk;
      for (let i = text.indexOf(marker); i !== -1; i = text.indexOf(marker, i + marker.length)) n++;
      carry = text.slice(Math.max(0, text.length - marker.length + 1));
    },
    get records() {
      return n;
    },
  };
}
