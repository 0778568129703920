/**
 * How the collector answers a request it fails (OTLP/HTTP "Failures"): the
 * HTTP status with a `google.rpc.Status` body whose message explains it, in
 * the request's encoding (JSON when the request's content type is neither
 * of the two OTLP ones), keeping the caller's headers (`Retry-After`,
 * `Allow`). A request refused before its body was read gets `Connection:
 * close`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeFailure } from './otlp-logs-response.js';

/** The request's OTLP encoding, as its answer must be: protobuf, or JSON (also when the content type is missing or another). */
function answersInProtobuf(req: IncomingMessage): boolean {
  return String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-protobuf';
}

/**
 * Answer `status` with a `google.rpc.Status` whose message is `text`, in
 * the request's encoding (OTLP/HTTP "Failures"). A request whose body was
 * not read to its end (refused while it was still coming) gets
 * `Connection: close`; the rest of it is read and discarded for a moment so
 * that the client, still sending, reads the answer instead of a reset
 * connection.
 *
 * @example
 * refuse(req, res, 503, 'the audit store cannot be written now: SQLITE_BUSY', { 'retry-after': '5' });
 */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const unread = !req.complete;
  const proto = answersInProtobuf(req);
  const type = proto ? 'application/x-protobuf' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers, ...(unread ? { connection: 'close' } : {}) }).end(encodeFailure(status, text, proto));
  if (!unread) return;
  req.resume();
  const timer = setTimeout(() => req.destroy(), 2_000);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}
