/**
 * Credential forms that `redactSecrets` (redact-url.ts) recognises beyond
 * URLs and `name=value` pairs, wherever they appear in a text (DESIGN §4.5,
 * extended as docs/format.md "Redaction" describes): PEM private-key
 * blocks, tokens with a well-known credential prefix (`ghp_…`, `sk_live_…`,
 * `sess_…`), keys of a published fixed shape (`AKIA…`, `AIza…`, `npm_…`),
 * Slack webhook URLs and JSON Web Tokens. Normalisation also masks these
 * forms, and only these, in `actor.id` and `target.id` (normalize-mask.ts).
 */

const MASK = '***';

/**
 * Prefixes of tokens that are credentials whatever surrounds them: session
 * ids (`sess_`), GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
 * `github_pat_`), GitLab (`glpat-`), Stripe-style secret and restricted keys
 * (`sk_live_`, `rk_test_`, ...) and Slack (`xoxb-`, ..., and app-level
 * `xapp-`). A regular expression source, matched in any case;
 * may-hold-secret.ts must know every prefix it lists.
 */
export const TOKEN_PREFIX = String.raw`sess_|gh[pousr]_|github_pat_|glpat-|[rs]k_(?:live|test)_|xox[abposr]-|xapp-`;

/**
 * The prefixes of {@link SHAPED} that end with `_` or `-`, for
 * may-hold-secret.ts (which looks at those characters); the others —
 * `AKIA`, `ASIA`, `AIza`, `SG.`, `hooks.slack.com/` — it looks for itself.
 */
export const SHAPED_PREFIX = String.raw`npm_|hf_|sk-`;

/**
 * Where a token may start: not after a letter, digit, `_`, `.` or `%` —
 * but after a percent-escape (`%22ghp_…` in an encoded JSON query, `%20`,
 * `%3A`) and after `-` (`key-ghp_…`): a prefix glued to a word by `-` still
 * starts a token, while one inside an identifier (`task_live_…`,
 * `my_sess_…`) does not. The lookbehinds read at most three characters.
 */
const START = String.raw`(?:(?<![\w.%])|(?<=%[\dA-Fa-f]{2}))`;

/**
 * A prefixed token (at least 8 characters after its prefix, one a digit,
 * so `sess_expired` is no token) or a JWT (`eyJ…` header, payload,
 * signature), each starting at a word boundary. Linear: the lookahead runs
 * once per word.
 */
const TOKEN = new RegExp(String.raw`${START}(?:(${TOKEN_PREFIX})(?=[\w-]*\d)[\w-]{8,}|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*)`, 'gi');

/**
 * Keys with a published shape, in the case they are issued in. Fixed-length
 * forms behind a short prefix must have exactly their length and end a
 * word, so `AKIA` or `hf_` starting an ordinary word is kept: AWS access
 * key ids (`AKIA`/`ASIA` and 16 upper-case letters or digits), npm tokens
 * (`npm_` and 36 letters or digits), Hugging Face tokens (`hf_` and 34
 * letters), Google API keys (`AIza` and 35 of `[A-Za-z0-9_-]`), SendGrid
 * keys (`SG.`, 22, `.`, 43 of `[A-Za-z0-9_-]`) and legacy OpenAI keys (`sk-`
 * and 48 letters or digits). Forms whose length varies have a distinctive
 * prefix and need 20 more of `[A-Za-z0-9_-]`: OpenAI project, service-account
 * and admin keys (`sk-proj-`, `sk-svcacct-`, `sk-admin-`), Anthropic keys
 * (`sk-ant-`). A Slack webhook URL keeps its host and kind
 * (`hooks.slack.com/services/`, `workflows/`, `triggers/`); the ids and the
 * secret of its path (8 or more of `[A-Za-z0-9_+/-]`) are masked.
 */
const SHAPED = new RegExp(
  START +
    String.raw`(?:(AKIA|ASIA)[A-Z\d]{16}(?!\w)|(npm_)[A-Za-z\d]{36}(?!\w)|(hf_)[A-Za-z]{34}(?!\w)|(AIza)[\w-]{35}(?![\w-])|(SG\.)[\w-]{22}\.[\w-]{43}(?![\w-])` +
    String.raw`|(sk-)[A-Za-z\d]{48}(?!\w)|(sk-(?:proj|svcacct|admin|ant)-)[\w-]{20,}|(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[\w+/-]{8,})`,
  'g',
);

/**
 * `text` with every prefixed or shaped token reduced to its prefix and
 * `***` (`ghp_***`, `sess_***`, `AKIA***`, `sk-proj-***`,
 * `hooks.slack.com/services/***`) and every JWT replaced by `***`.
 *
 * @example
 * maskTokens('pushed with ghp_a1B2c3D4e5F6g7H8') // 'pushed with ghp_***'
 * maskTokens('aws AKIAIOSFODNN7EXAMPLE') // 'aws AKIA***'
 */
export function maskTokens(text: string): string {
  return text
    .replace(TOKEN, (_token, prefix: string | undefined) => (prefix === undefined ? MASK : `${prefix}${MASK}`))
    .replace(SHAPED, (...groups: (string | number | undefined)[]) => {
      // The one prefix group that took part: every alternative has exactly one.
      for (let i = 1; i <= 8; i++) if (typeof groups[i] === 'string') return `${groups[i] as string}${MASK}`;
      return MASK;
    });
}

/**
 * The header line of a PEM private key: PKCS#8, `RSA`, `EC`, `ENCRYPTED`,
 * `OPENSSH`, a PGP key block. The label in any case and with blanks doubled
 * (`-----BEGIN  EC private KEY-----`): no parser reads those, but what
 * follows is still the key.
 */
const PEM_BEGIN = /-----BEGIN +(?:[A-Z0-9]+ +){0,4}PRIVATE +KEY(?: +BLOCK)?-----/gi;

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

/**
 * `text` with every form of this file masked — and nothing else: no
 * `name=value` or URL masking, so an id that is no credential stays exact
 * (normalisation applies it to `actor.id` and `target.id`).
 *
 * @example
 * maskCredentialForms('ghp_a1B2c3D4e5F6g7H8') // 'ghp_***'
 * maskCredentialForms('user=alice') // 'user=alice'
 */
export function maskCredentialForms(text: string): string {
  return maskTokens(maskPrivateKeys(text));
}
