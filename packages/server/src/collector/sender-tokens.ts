/**
 * Sender authentication of the collector: the bearer tokens a service's
 * OTLP exporter must present (`Authorization: Bearer <token>`), kept as
 * SHA-256 digests and compared in constant time, as the server's own
 * tokens are (auth.ts). A token is never logged or echoed.
 */
import { timingSafeEqual } from 'node:crypto';
import { bearerToken, tokenDigest } from '../auth.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** The accepted sender tokens. */
export class SenderTokens {
  readonly #digests: Buffer[];

  /** `digests`: `hashToken(token)` of each accepted token; `option` names them in errors. */
  constructor(digests: readonly string[], option: string) {
    if (!Array.isArray(digests)) throw new TypeError(`${option} must be an array of SHA-256 hex digests (hashToken(token))`);
    this.#digests = digests.map((d, i) => {
      if (typeof d !== 'string' || !HEX64.test(d)) throw new TypeError(`${option}[${i}] must be the 64 lowercase hex digits of hashToken(token), not the token itself`);
      return Buffer.from(d, 'hex');
    });
  }

  /**
   * Whether an `Authorization` header value carries an accepted token.
   *
   * @example
   * senders.accepts(req.headers.authorization) // false for a missing header, another scheme or an unknown token
   */
  accepts(header: string | undefined): boolean {
    const token = bearerToken(header);
    if (token === undefined) return false;
    const digest = tokenDigest(token);
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(d, digest) || ok;
    return ok;
  }
}
