/**
 * Response helpers of the server (issue 7 "security headers"): every
 * response carries a Content-Security-Policy without inline script or style,
 * `X-Content-Type-Options: nosniff`, frame denial (`X-Frame-Options: DENY`
 * and `frame-ancestors 'none'`), `Referrer-Policy: no-referrer` and
 * `Cache-Control: no-store`; no CORS header is ever sent, so browsers keep
 * other origins out. JSON bodies and errors go through one function each.
 */
import type { ServerResponse } from 'node:http';
import { errorResponse } from '../errors.js';

/**
 * The Content-Security-Policy of every response: same-origin only, no inline script or style, no framing.
 *
 * @example
 * res.headers.get('content-security-policy') === CONTENT_SECURITY_POLICY
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Set the security headers on `res`. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

/** JSON text of `value`, with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Answer `status` with `body` as JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = toJson(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Answer a thrown value as `{ error: { code, message } }` with the status
 * of its code; a 401 also carries `WWW-Authenticate`. If headers were sent
 * already (a stream broke), the connection is ended instead.
 */
export function sendError(res: ServerResponse, error: unknown): { status: number; code: string } {
  const { status, code, message } = errorResponse(error);
  if (res.headersSent) {
    res.destroy();
    return { status, code };
  }
  const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer realm="otel-audit"' } : {};
  if (status === 429) headers['Retry-After'] = '1';
  sendJson(res, status, { error: { code, message } }, headers);
  return { status, code };
}
