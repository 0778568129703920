/**
 * The `ExportLogsServiceResponse` the collector answers (OTLP/HTTP): empty
 * on full success, `partialSuccess { rejectedLogRecords, errorMessage }`
 * when records were refused, in JSON or protobuf as the request was.
 */

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function field(tag: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(tag << 3 | 2), ...varint(payload.length), ...payload]);
}

/**
 * Encode the response.
 *
 * @example
 * res.end(encodeLogsResponse(2, '2 records refused', true));
 */
export function encodeLogsResponse(rejected: number, errorMessage: string, protobuf: boolean): Uint8Array | string {
  if (!protobuf) return JSON.stringify(rejected > 0 ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } } : {});
  if (rejected === 0) return new Uint8Array(0);
  const msg = Buffer.from(errorMessage, 'utf8');
  const inner = Uint8Array.from([...varint(1 << 3 | 0), ...varint(rejected), ...field(2, msg)]);
  return field(1, inner);
}
