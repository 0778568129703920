/**
 * Who made an HTTP request (DESIGN §8), resolved in order: the actor the app
 * set (`setAuditActor`), the authenticated user a framework adapter found,
 * the `sub` of a JWT in `Authorization: Bearer` (marked unverified unless a
 * verify function accepted the token), the fingerprint of an API key (a keyed
 * HMAC — never the key or a prefix of it), else `anonymous`. No credential
 * ever leaves this file: only the subject (with any credential written in
 * it masked), or the HMAC, does.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { redactSecrets } from '@otel-audit/core';
import type { AppActor } from './request-state.js';
import { cleanText, header } from './text.js';

/** Verifies a bearer token synchronously; returns its claims (with `sub`) or `undefined`/throws when invalid. */
export type JwtVerifier = (token: string) => { sub?: unknown } | undefined | null;

export interface ActorResolverOptions {
  verifyJwt?: JwtVerifier | undefined;
  /** Header names carrying an API key. Default `['x-api-key']`. */
  apiKeyHeaders?: readonly string[] | undefined;
  /** HMAC key for API-key fingerprints; without it, an API-key caller is recorded as type `api_key` without id. */
  apiKeyHmacKey?: string | Uint8Array | undefined;
}

/** The resolved actor and how it was found (for `details.actor_source`). */
export interface ResolvedActor {
  id?: string;
  type: string;
  source: 'app' | 'framework' | 'jwt' | 'jwt_unverified' | 'api_key' | 'anonymous';
  /** The id is a JWT `sub` with a credential inside it masked (listed in `redacted` as `/actor/id`). */
  masked?: true;
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/i;
const MAX_TOKEN = 16_384;

/** Longest `sub` recorded, in UTF-16 units; an unverified one is whatever the client wrote. */
const MAX_SUBJECT = 256;

/**
 * The `sub` claim as an actor: masked with core's `redactSecrets` (a client
 * can put `ghp_…` or `password=…` in an unverified token, an issuer anything
 * in a verified one) before it is cut to {@link MAX_SUBJECT}, since a cut
 * credential is no longer recognised.
 */
function subjectOf(claims: unknown, source: 'jwt' | 'jwt_unverified'): ResolvedActor | undefined {
  if (typeof claims !== 'object' || claims === null) return undefined;
  const sub = (claims as { sub?: unknown }).sub;
  if (typeof sub === 'number' && Number.isSafeInteger(sub)) return { id: String(sub), type: 'user', source };
  if (typeof sub !== 'string' || sub.length > MAX_TOKEN) return undefined;
  const masked = redactSecrets(sub);
  const id = cleanText(masked, MAX_SUBJECT);
  if (id === undefined) return undefined;
  return { id, type: 'user', source, ...(masked !== sub ? { masked: true as const } : {}) };
}

/** The actor of a framework's user object (`req.user`): its `id`, `sub`, `username` or `email`. */
export function actorOfUser(user: unknown): AppActor | undefined {
  if (typeof user === 'string' || typeof user === 'number') return { id: cleanText(String(user), 256), type: 'user' };
  if (typeof user !== 'object' || user === null) return undefined;
  const u = user as Record<string, unknown>;
  for (const k of ['id', 'sub', 'username', 'email']) {
    const v = u[k];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) {
      return { id: cleanText(String(v), 256), type: typeof u.type === 'string' ? cleanText(u.type, 64) : 'user' };
    }
  }
  return undefined;
}

/** Build the resolver once (header names lowered, HMAC key copied). */
export function createActorResolver(options: ActorResolverOptions = {}): (req: IncomingMessage, app: AppActor | undefined, frameworkUser: unknown) => ResolvedActor {
  const verify = options.verifyJwt;
  if (verify !== undefined && typeof verify !== 'function') throw new TypeError(`verifyJwt must be a function; got ${typeof verify}`);
  const apiKeyHeaders = (options.apiKeyHeaders ?? ['x-api-key']).map((h, i) => {
    if (typeof h !== 'string' || h === '') throw new TypeError(`apiKeyHeaders[${i}] must be a non-empty header name`);
    return h.toLowerCase();
  });
  const key = options.apiKeyHmacKey;
  if (key !== undefined && typeof key !== 'string' && !(key instanceof Uint8Array)) throw new TypeError('apiKeyHmacKey must be a string or bytes');
  if (key !== undefined && key.length < 16) throw new RangeError('apiKeyHmacKey must be at least 16 bytes long');
  const hmacKey = key === undefined ? undefined : typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);

  return (req, app, frameworkUser) => {
    if (app !== undefined && (app.id !== undefined || app.type !== undefined)) {
      return { ...(app.id !== undefined ? { id: app.id } : {}), type: app.type ?? 'user', source: 'app' };
    }
    const fu = actorOfUser(frameworkUser);
    if (fu?.id !== undefined) return { id: fu.id, type: fu.type ?? 'user', source: 'framework' };
    const auth = header(req.headers.authorization);
    if (auth !== undefined && auth.length <= MAX_TOKEN) {
      const m = BEARER.exec(auth);
      if (m !== null) {
        const token = `${m[1]}.${m[2]}.${m[3]}`;
        if (verify !== undefined) {
          let claims: unknown;
          try {
            claims = verify(token);
          } catch {
            claims = undefined;
          }
          const actor = subjectOf(claims, 'jwt');
          if (actor !== undefined) return actor;
        } else {
          let claims: unknown;
          try {
            claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8'));
          } catch {
            claims = undefined;
          }
          const actor = subjectOf(claims, 'jwt_unverified');
          if (actor !== undefined) return actor;
        }
      }
    }
    for (const h of apiKeyHeaders) {
      const v = header(req.headers[h]);
      if (v === undefined || v === '') continue;
      if (hmacKey === undefined) return { type: 'api_key', source: 'api_key' };
      const fp = createHmac('sha256', hmacKey).update(v, 'utf8').digest('hex');
      return { id: `hmac-sha256:${fp}`, type: 'api_key', source: 'api_key' };
    }
    return { type: 'anonymous', source: 'anonymous' };
  };
}
