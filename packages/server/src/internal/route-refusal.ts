/**
 * Refusals decided after authentication (DESIGN §5 "reads ... are
 * themselves audit records"): a 400, 404, 409, 422 or 429 answered to a
 * principal says something about the log — a 404 names the streams held,
 * a 400 a stream's last seq, a proof's 404 whether a record exists — so it
 * is sealed as an access record before it is sent, as a successful read
 * is: no record, no answer (503). The record holds the status, the code,
 * the reason and the query, with credential forms and any stream ticket
 * masked; the token never reaches it. Unlike refused credentials
 * (refusal-log.ts), these are not budgeted: only a principal can cause
 * them, and each costs what a successful read costs.
 */
import { redactSecrets } from '@otel-audit/core';
import type { ServerResponse } from 'node:http';
import { errorResponse } from '../errors.js';

/** Longest reason and query kept in the record. */
const MAX_TEXT = 1024;
const TICKET = /(^|&)(ticket=)[^&]*/g;

/**
 * Details of the access record for `error` answered to an authenticated
 * request; undefined when it needs none: a 403 (recorded by the refusal
 * log), a 5xx (nothing about the log in it), or an answer already begun.
 */
export function refusalDetails(error: unknown, res: ServerResponse, url: URL): Record<string, unknown> | undefined {
  if (res.headersSent) return undefined;
  const { status, code, message } = errorResponse(error);
  if (status < 400 || status >= 500 || status === 401 || status === 403) return undefined;
  const query = url.search.slice(1, 1 + MAX_TEXT).replace(TICKET, '$1$2***');
  return { status, code, reason: redactSecrets(message.slice(0, MAX_TEXT)), query: redactSecrets(query) };
}
