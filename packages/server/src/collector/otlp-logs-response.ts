/**
 * The bodies the collector answers (OTLP/HTTP "OTLP/HTTP Response"), in
 * JSON or protobuf as the request was: on 200 an `ExportLogsServiceResponse`
 * — empty on full success, `partialSuccess { rejectedLogRecords,
 * errorMessage }` when records were refused — and on every 4xx and 5xx a
 * `google.rpc.Status` ("Failures") whose `message` is the explanation and
 * whose `code` is the `google.rpc.Code` nearest the HTTP status (the spec
 * leaves `code` to troubleshooting: clients act on the HTTP status).
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

/**
 * `google.rpc.Code` of each HTTP status the collector fails with, after the
 * HTTP mapping documented in google/rpc/code.proto (405, 413 and 415, which
 * it does not list, take the code of what they mean: not implemented, over a
 * limit, not an accepted argument).
 */
const RPC_CODE_OF_STATUS: Readonly<Record<number, number>> = Object.freeze({
  400: 3, // INVALID_ARGUMENT
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  409: 6, // ALREADY_EXISTS: a record id came back with other content
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
});

/** `UNKNOWN`, for a status without a nearer code. */
const RPC_UNKNOWN = 2;

/**
 * Encode the `google.rpc.Status` of a failed request (`httpStatus` 4xx or
 * 5xx): `{ code, message }` in JSON, fields 1 (int32) and 2 (string) in
 * protobuf. `details` are left out.
 *
 * @example
 * res.writeHead(413, { 'content-type': 'application/json' }).end(encodeFailure(413, 'the request body is larger than 8388608 bytes', false));
 */
export function encodeFailure(httpStatus: number, message: string, protobuf: boolean): Uint8Array | string {
  const code = RPC_CODE_OF_STATUS[httpStatus] ?? RPC_UNKNOWN;
  if (!protobuf) return JSON.stringify({ code, message });
  return Uint8Array.from([...varint(1 << 3 | 0), ...varint(code), ...field(2, Buffer.from(message, 'utf8'))]);
}
