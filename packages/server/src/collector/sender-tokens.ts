/**
 * Sender authentication of the collector: the bearer tokens a service's
 * OTLP exporter must present (`Authorization: Bearer <token>`), kept as
 * SHA-256 digests and compared in constant time, as the server's own
 * tokens are (auth.ts). A token is never logged or echoed; it is known by
 * its name (`collect --token-env`: the variable's name). A token may be
 * bound to the streams it may write, by stream-id prefix (a service's
 * stream ids are `service.name/instance` by default, so `billing-api/`
 * binds a token to that service): without a binding, a token holder could
 * write, and so take first, any other service's stream.
 */
import { timingSafeEqual } from 'node:crypto';
import { bearerToken, tokenDigest } from '../auth.js';

const HEX64 = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * One accepted sender token.
 *
 * @example
 * const billing: SenderTokenInput = { digest: hashToken(process.env.BILLING_TOKEN!), name: 'BILLING_TOKEN', streams: ['billing-api/'] };
 */
export interface SenderTokenInput {
  /** `hashToken(token)`: 64 lowercase hex digits, never the token itself. */
  digest: string;
  /** How findings name the token (never the token). Default `senderTokens[<index>]`. */
  name?: string;
  /**
   * Stream-id prefixes the token may write (`billing-api/`; end one with
   * `/`, or `billing` also covers `billing-api/...`). A record or
   * checkpoint of another stream is refused on its own. Omitted: any stream.
   */
  streams?: readonly string[];
}

/** The sender a request authenticated as. */
export interface Sender {
  readonly name: string;
  /** The prefixes it may write; undefined: any stream. */
  readonly streams: readonly string[] | undefined;
  mayWrite(stream: string): boolean;
}

const ANY_STREAM = (): boolean => true;

/** The accepted sender tokens. */
export class SenderTokens {
  readonly #digests: Buffer[];
  readonly #senders: Sender[];

  /** `tokens`: `hashToken(token)` of each accepted token, or a {@link SenderTokenInput}; `option` names them in errors. */
  constructor(tokens: readonly (string | SenderTokenInput)[], option: string) {
    if (!Array.isArray(tokens)) throw new TypeError(`${option} must be an array of SHA-256 hex digests (hashToken(token)) or { digest, name, streams }`);
    const seen = new Map<string, number>();
    this.#digests = [];
    this.#senders = tokens.map((t: string | SenderTokenInput, i) => {
      const entry = typeof t === 'string' ? { digest: t } : t;
      const d = typeof entry === 'object' && entry !== null ? entry.digest : undefined;
      if (typeof d !== 'string' || !HEX64.test(d)) throw new TypeError(`${option}[${i}] must be the 64 lowercase hex digits of hashToken(token), not the token itself`);
      const twin = seen.get(d);
      if (twin !== undefined) throw new RangeError(`${option}[${i}] is the same token as ${option}[${twin}]; give each sender its own token`);
      seen.set(d, i);
      this.#digests.push(Buffer.from(d, 'hex'));
      const name = entry.name ?? `${option}[${i}]`;
      if (typeof name !== 'string' || name === '' || CONTROL.test(name)) throw new TypeError(`${option}[${i}].name must be a non-empty string without control characters`);
      return senderOf(name, entry.streams, `${option}[${i}].streams`);
    });
  }

  /**
   * The sender whose token an `Authorization` header value carries, or
   * undefined for a missing header, another scheme or an unknown token.
   *
   * @example
   * const sender = senders.senderOf(req.headers.authorization); // undefined → 401
   */
  senderOf(header: string | undefined): Sender | undefined {
    const token = bearerToken(header);
    if (token === undefined) return undefined;
    const digest = tokenDigest(token);
    let found = -1;
    // Every digest is compared, so the time taken does not tell which one matched.
    for (let i = 0; i < this.#digests.length; i++) if (timingSafeEqual(this.#digests[i]!, digest)) found = i;
    return found < 0 ? undefined : this.#senders[found];
  }

  /** The senders that may write any stream (no `streams` given). */
  unbound(): string[] {
    return this.#senders.filter((s) => s.streams === undefined).map((s) => s.name);
  }
}

function senderOf(name: string, streams: readonly string[] | undefined, option: string): Sender {
  if (streams === undefined) return { name, streams: undefined, mayWrite: ANY_STREAM };
  if (!Array.isArray(streams) || streams.length === 0) throw new TypeError(`${option} must be a non-empty array of stream-id prefixes (e.g. ['billing-api/']); omit it to let the token write any stream`);
  const prefixes = streams.map((p: unknown, i) => {
    if (typeof p !== 'string' || p === '' || CONTROL.test(p)) throw new TypeError(`${option}[${i}] must be a non-empty stream-id prefix without control characters (e.g. 'billing-api/')`);
    return p;
  });
  return { name, streams: Object.freeze(prefixes), mayWrite: (stream) => prefixes.some((p) => stream.startsWith(p)) };
}
