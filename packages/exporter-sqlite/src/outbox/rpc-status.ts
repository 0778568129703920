/**
 * The `message` of a failed OTLP/HTTP answer (OTLP/HTTP "Failures"): the
 * body of a 4xx or 5xx is a `google.rpc.Status` encoded like the request —
 * protobuf (field 1 `code`, varint; field 2 `message`, string) or JSON
 * `{ "code", "message" }`. The outbox quotes the message rather than the
 * raw bytes, which for protobuf would put binary bytes into the error text.
 * A body that is neither is left to the caller, which quotes it as text.
 */

/** Reads a varint at `at`; `[value, next]`, or undefined past the end or beyond 2^53. */
function varint(data: Uint8Array, at: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < data.length && i < at + 8; i++) {
    const b = data[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}

/** The `message` of a protobuf Status; undefined if `data` does not parse as one. */
function protobufMessage(data: Uint8Array): string | undefined {
  let at = 0;
  let message = '';
  while (at < data.length) {
    const tag = varint(data, at);
    if (tag === undefined) return undefined;
    const [key, next] = tag;
    const wire = key & 7;
    at = next;
    if (wire === 0) {
      const v = varint(data, at);
      if (v === undefined) return undefined;
      at = v[1];
    } else if (wire === 2) {
      const len = varint(data, at);
      if (len === undefined || len[1] + len[0] > data.length) return undefined;
      if (key >>> 3 === 2) message = Buffer.from(data.subarray(len[1], len[1] + len[0])).toString('utf8');
      at = len[1] + len[0];
    } else {
      return undefined; // Status has only varint and length-delimited fields
    }
  }
  return message;
}

/**
 * The Status message of a failed answer's body, by its content type; undefined
 * when the body is not a Status (plain text, HTML from a proxy, …).
 *
 * @example
 * statusMessage(Buffer.from('{"code":8,"message":"too large"}'), 'application/json') // 'too large'
 */
export function statusMessage(data: Uint8Array, contentType: string | undefined): string | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf') return protobufMessage(data);
  if (type !== 'application/json') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { message?: unknown };
    return typeof parsed === 'object' && parsed !== null && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
