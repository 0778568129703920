/**
 * The exception of a failed request, recorded on its server span by the
 * framework adapters (Express catches what a handler throws, Fastify too, so
 * instrumentation-http never sees it). Only the exception's type goes on the
 * span — `exception.type`, which the span processor turns into the record's
 * `error: 'HTTP 500 (TypeError)'` — never its message or stack: those may
 * carry a credential (a connection string...), and the span is exported as
 * a trace while the record keeps only the type.
 */
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { stateOf } from './request-state.js';

/** A name as a type name may be spelled: no spaces, no quotes, at most 128 characters. */
const TYPE_NAME = /^[A-Za-z_$][\w$.:-]{0,127}$/;

/**
 * The type name of `error`: its `name` when it says more than `Error`, else its class, else `typeof`.
 *
 * @example
 * exceptionType(new TypeError('x')) // 'TypeError'
 * exceptionType('oops') // 'string'
 */
export function exceptionType(error: unknown): string {
  if (typeof error !== 'object' || error === null) return typeof error;
  let name: unknown;
  let ctor: unknown;
  try {
    name = (error as { name?: unknown }).name;
    ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    return 'object';
  }
  if (typeof name === 'string' && name !== 'Error' && TYPE_NAME.test(name)) return name;
  if (typeof ctor === 'string' && TYPE_NAME.test(ctor)) return ctor;
  return typeof name === 'string' && TYPE_NAME.test(name) ? name : 'object';
}

/**
 * Add an `exception` event (type only) to the server span of `req` (the one
 * the HTTP hooks linked to it) while it still records; no span, nothing.
 *
 * @example
 * recordRequestException(req, err); // the record says error: 'HTTP 500 (TypeError)'
 */
export function recordRequestException(req: IncomingMessage, error: unknown): void {
  const span = stateOf(req)?.serverSpan as Span | undefined;
  if (span === undefined || typeof span.addEvent !== 'function' || (typeof span.isRecording === 'function' && !span.isRecording())) return;
  span.addEvent('exception', { 'exception.type': exceptionType(error) });
}
