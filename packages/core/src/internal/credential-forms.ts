/**
 * Credential forms that `redactSecrets` (redact-url.ts) recognises beyond
 * URLs and `name=value` pairs, wherever they appear in a text (DESIGN §4.5,
 * extended as docs/format.md "Redaction" describes): PEM private-key
 * blocks, tokens with a well-known credential prefix (`ghp_…`, `sk_live_…`,
 * `sess_…`) and JSON Web Tokens.
 */

const MASK = '***';

/**
 * Prefixes of tokens that are credentials whatever surrounds them: session
 * ids (`sess_`), GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
 * `github_pat_`), GitLab (`glpat-`), Stripe-style secret and restricted keys
 * (`sk_live_`, `rk_test_`, ...) and Slack (`xoxb-`, ...). A regular
 * expression source; may-hold-secret.ts must know every prefix it lists.
 */
export const TOKEN_PREFIX = String.raw`sess_|gh[pousr]_|github_pat_|glpat-|[rs]k_(?:live|test)_|xox[abposr]-`;

/**
 * A prefixed token (at least 8 characters after its prefix, one a digit,
 * so `sess_expired` is no token) or a JWT (`eyJ…` header, payload,
 * signature), each starting at a word boundary. Linear: the lookahead runs
 * once per word.
 */
const TOKEN = new RegExp(String.raw`(?<![\w.%-])(?:(${TOKEN_PREFIX})(?=[\w-]*\d)[\w-]{8,}|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*)`, 'gi');

/**
 * `text` with every prefixed token reduced to its prefix and `***`
 * (`ghp_***`, `sess_***`) and every JWT replaced by `***`.
 *
 * @example
 * maskTokens('pushed with ghp_a1B2c3D4e5F6g7H8') // 'pushed with ghp_***'
 */
export function maskTokens(text: string): string {
  return text.replace(TOKEN, (_token, prefix: string | undefined) => (prefix === undefined ? MASK : `${prefix}${MASK}`));
}

/** The header line of a PEM private key: PKCS#8, `RSA`, `EC`, `ENCRYPTED`, `OPENSSH`, a PGP key block. */
const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * `text` with the body of every PEM private key replaced by `***`: the
 * `-----BEGIN … PRIVATE KEY-----` and `-----END …-----` lines and the blanks
 * around the body stay, so the masked text still says what it held. A block
 * without its END line (a cut message) is masked to the end of the text.
 * Masking masked text changes nothing.
 *
 * @example
 * maskPrivateKeys('key: -----BEGIN EC PRIVATE KEY-----\nMHcC…\n-----END EC PRIVATE KEY-----') // 'key: -----BEGIN EC PRIVATE KEY-----\n***\n-----END EC PRIVATE KEY-----'
 */
export function maskPrivateKeys(text: string): string {
  if (text.indexOf('-----BEGIN ') === -1) return text;
  let out = '';
  let copied = 0;
  PEM_BEGIN.lastIndex = 0;
  while (PEM_BEGIN.exec(text) !== null) {
    const found = text.indexOf('-----END ', PEM_BEGIN.lastIndex);
    let start = PEM_BEGIN.lastIndex;
    let end = found === -1 ? text.length : found;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
    if (end > start) {
      out += text.slice(copied, start) + MASK;
      copied = end;
    }
    // Without an END line the rest is masked: no later block can be told apart.
    if (found === -1) break;
    PEM_BEGIN.lastIndex = found;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
