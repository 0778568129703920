/**
 * Test support: read the `google.rpc.Status` body of a failed OTLP/HTTP
 * answer (OTLP/HTTP "Failures") as a client would — JSON by the proto3 JSON
 * mapping, protobuf by the wire format (field 1 `code` int32 varint, field 2
 * `message` string, field 3 `details` skipped) — written apart from the
 * collector's encoder so that each checks the other.
 */

/** A decoded `google.rpc.Status`. */
export interface RpcStatus {
  code: number;
  message: string;
}

function readVarint(buf: Buffer, at: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at.pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[at.pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
}

/** Decode a protobuf-encoded `google.rpc.Status`; throws on anything else. */
export function decodeProtobufStatus(buf: Buffer): RpcStatus {
  const out: RpcStatus = { code: 0, message: '' };
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = readVarint(buf, at);
    const fieldNo = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = readVarint(buf, at);
      if (fieldNo === 1) out.code = v > 0x7fffffff ? v - 2 ** 32 : v;
    } else if (wire === 2) {
      const len = readVarint(buf, at);
      if (at.pos + len > buf.length) throw new Error('truncated field');
      if (fieldNo === 2) out.message = buf.toString('utf8', at.pos, at.pos + len);
      else if (fieldNo !== 3) throw new Error(`unexpected field ${fieldNo}`);
      at.pos += len;
    } else {
      throw new Error(`unexpected wire type ${wire} of field ${fieldNo}`);
    }
  }
  return out;
}

/** Decode a JSON-encoded `google.rpc.Status`; throws unless `code` is an integer and `message` a string. */
export function decodeJsonStatus(buf: Buffer): RpcStatus {
  const parsed = JSON.parse(buf.toString('utf8')) as { code?: unknown; message?: unknown };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  const code = parsed.code ?? 0;
  if (!Number.isInteger(code) || typeof (parsed.message ?? '') !== 'string') throw new Error(`not a google.rpc.Status: ${buf.toString('utf8').slice(0, 200)}`);
  return { code: code as number, message: (parsed.message ?? '') as string };
}

/** Decode the Status of an answer by its `content-type` (only the two OTLP ones are a Status). */
export function decodeStatus(contentType: string | undefined, body: Buffer): RpcStatus {
  if (contentType === 'application/x-protobuf') return decodeProtobufStatus(body);
  if (contentType === 'application/json') return decodeJsonStatus(body);
  throw new Error(`an OTLP failure must be answered in application/json or application/x-protobuf, not ${String(contentType)}`);
}
