/**
 * Authentication of the query API (issue 7 "Authentication"): bearer tokens
 * configured as SHA-256 hashes, looked up in constant time, with two roles
 * — `admin` (everything) and `auditor` (read) — and short-lived, single-use
 * signed tickets for the event stream, because `EventSource` cannot send an
 * `Authorization` header and a raw token must never appear in a URL (URLs
 * end up in logs and browser history).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * A role of the API: `admin` may do everything, `auditor` may read.
 *
 * @example
 * const role: AuditRole = 'auditor';
 */
export type AuditRole = 'admin' | 'auditor';

/**
 * A configured token: who it is, its role, and the SHA-256 of the token.
 *
 * @example
 * const t: AuditTokenConfig = { name: 'ops', role: 'admin', sha256: hashToken(process.env.AUDIT_TOKEN!) };
 */
export interface AuditTokenConfig {
  name: string;
  role: AuditRole;
  /** Lowercase hex SHA-256 of the token text ({@link hashToken}). */
  sha256: string;
}

/**
 * Who made an authenticated request (recorded as the actor of access records).
 *
 * @example
 * const who: Principal = { name: 'ops', role: 'admin' };
 */
export interface Principal {
  name: string;
  role: AuditRole;
}

/**
 * Lowercase hex SHA-256 of a token: what the configuration holds.
 *
 * @example
 * hashToken('s3cr3t-token') // '8f1a...' (64 hex digits), put into tokens[].sha256
 */
export function hashToken(token: string): string {
  if (typeof token !== 'string') throw new TypeError(`token must be a string; got ${typeof token}`);
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;
const NAME = /^[\w.@:-]{1,128}$/;
// The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/i;

/**
 * The token of an `Authorization: Bearer <token>` header value, or
 * undefined for a missing header, another scheme or a malformed token.
 *
 * @example
 * bearerToken(req.headers.authorization) // 's3cr3t-token' for 'Bearer s3cr3t-token'
 */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/** SHA-256 of a token as bytes, for constant-time comparison with configured digests. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The configured tokens, validated, with a constant-time lookup. */
export class TokenTable {
  readonly #entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly AuditTokenConfig[]) {
    if (!Array.isArray(tokens)) throw new TypeError('options.tokens must be an array of { name, role, sha256 }');
    this.#entries = tokens.map((t, i) => {
      const at = `options.tokens[${i}]`;
      if (typeof t !== 'object' || t === null) throw new TypeError(`${at} must be { name, role, sha256 }`);
      if (typeof t.name !== 'string' || !NAME.test(t.name)) throw new RangeError(`${at}.name must be 1-128 characters of [A-Za-z0-9_.@:-]; got ${JSON.stringify(t.name)}`);
      if (t.role !== 'admin' && t.role !== 'auditor') throw new RangeError(`${at}.role must be 'admin' or 'auditor'; got ${JSON.stringify(t.role)}`);
      if (typeof t.sha256 !== 'string' || !HEX64.test(t.sha256.toLowerCase())) {
        throw new RangeError(`${at}.sha256 must be the 64 hex digits of SHA-256(token) (hashToken(token)); never the token itself`);
      }
      return { digest: Buffer.from(t.sha256.toLowerCase(), 'hex'), principal: { name: t.name, role: t.role } };
    });
    // One token under two names would act as whichever comes first: its role (and the name in the access records) would be a guess.
    for (let i = 0; i < this.#entries.length; i++) {
      for (let j = 0; j < i; j++) {
        if (this.#entries[i]!.digest.equals(this.#entries[j]!.digest)) {
          throw new RangeError(`options.tokens[${i}] (${this.#entries[i]!.principal.name}) has the same sha256 as options.tokens[${j}] (${this.#entries[j]!.principal.name}): one token cannot be two principals; give each its own token`);
        }
      }
    }
  }

  /** The principal of `token`, or undefined. Compares with every entry, in constant time each. */
  lookup(token: string): Principal | undefined {
    const digest = tokenDigest(token);
    let found: Principal | undefined;
    for (const e of this.#entries) {
      if (timingSafeEqual(e.digest, digest) && found === undefined) found = e.principal;
    }
    return found;
  }
}

/**
 * The principal of a request's `Authorization: Bearer` header. Throws
 * `AUDIT_HTTP_UNAUTHENTICATED` when it is missing, malformed or unknown.
 */
export function authenticate(req: IncomingMessage, tokens: TokenTable): Principal {
  const header = req.headers.authorization;
  if (header === undefined) throw new HttpError('AUDIT_HTTP_UNAUTHENTICATED', 'missing Authorization: Bearer <token>');
  const token = bearerToken(header);
  const principal = token === undefined ? undefined : tokens.lookup(token);
  if (principal === undefined) throw new HttpError('AUDIT_HTTP_UNAUTHENTICATED', 'invalid bearer token');
  return principal;
}

/** Throws `AUDIT_HTTP_FORBIDDEN` unless `principal` has `role` (admin has every role). */
export function requireRole(principal: Principal, role: AuditRole, what: string): void {
  if (role === 'admin' && principal.role !== 'admin') throw new HttpError('AUDIT_HTTP_FORBIDDEN', `${what} needs the admin role; token "${principal.name}" is ${principal.role}`);
}

const TICKET = /^([A-Za-z0-9_-]{10,400})\.([A-Za-z0-9_-]{43})$/;

/**
 * Single-use tickets for `GET /api/audit/stream`, HMAC-signed with a key
 * that lives only in this process's memory. A ticket is only ever redeemed
 * by the process that issued it, so its expiry is on this process's
 * monotonic clock (`performance.now()`): a wall-clock step neither expires
 * the tickets just issued nor keeps old ones valid. `expiresAt` is the wall
 * time, for people.
 */
export class StreamTickets {
  readonly #key = randomBytes(32);
  readonly #used = new Map<string, number>();
  readonly #ttlMillis: number;

  constructor(ttlMillis: number) {
    this.#ttlMillis = ttlMillis;
  }

  /** A ticket for `principal`, valid for the TTL, usable once; `now` is monotonic milliseconds. */
  issue(principal: Principal, now = performance.now()): { ticket: string; expiresAt: string } {
    const expires = now + this.#ttlMillis;
    const payload = Buffer.from(JSON.stringify({ n: principal.name, r: principal.role, e: expires, x: randomBytes(12).toString('base64url') })).toString('base64url');
    return { ticket: `${payload}.${this.#sign(payload)}`, expiresAt: new Date(Date.now() + this.#ttlMillis).toISOString() };
  }

  /** The principal of a valid, unexpired, unused ticket (`now` monotonic milliseconds); throws `AUDIT_HTTP_UNAUTHENTICATED` otherwise. */
  redeem(ticket: string, now = performance.now()): Principal {
    const m = TICKET.exec(ticket);
    const bad = (why: string): HttpError => new HttpError('AUDIT_HTTP_UNAUTHENTICATED', `stream ticket ${why}; get a new one with POST /api/audit/stream-ticket`);
    if (m === null) throw bad('is malformed');
    const expected = Buffer.from(this.#sign(m[1]!));
    if (!timingSafeEqual(expected, Buffer.from(m[2]!))) throw bad('has a bad signature');
    const body = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { n: string; r: AuditRole; e: number; x: string };
    if (typeof body.e !== 'number' || body.e < now) throw bad('has expired');
    for (const [x, e] of this.#used) if (e < now) this.#used.delete(x);
    if (this.#used.has(body.x)) throw bad('was already used');
    this.#used.set(body.x, body.e);
    return { name: body.n, role: body.r };
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
