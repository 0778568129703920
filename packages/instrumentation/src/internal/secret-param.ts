/**
 * Path parameters that carry a credential (DESIGN §8; never log secrets): a
 * reset or invitation token in a link (`/reset/:token`), a signed URL's
 * `:signature`, a session id. Judged by the words of the parameter's name
 * (`resetToken`, `reset_token`, `RESET-TOKEN`, `resettoken`), since the
 * value of a token looks like any other id. Such a parameter is never a
 * target id, and its value is masked wherever the path is recorded.
 */

/** What replaces a secret path segment, as core's `redactSecrets` masks. */
export const SECRET_SEGMENT_MASK = '***';

/** The words of a name: `apiKeyId` → api, Key, Id; `APIKey` → API, Key; `reset_token` → reset, token. */
const WORD = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;
/** Stems that make any word secret, inside compounds too (`resettoken`, `clientSecret`, `accessToken`). */
const SECRET_STEM = /token|secret|passw|passphrase|passcode|pwd|signature|credential|cookie|jwt|apikey|privatekey|accesskey|authorization/;
/** Short words that are secret only as whole words (`sig`, not `signup`; `auth`, not `author`). */
const SECRET_WORDS = new Set(['sig', 'otp', 'totp', 'hotp', 'auth', 'hmac', 'cred', 'creds', 'mfa']);
/**
 * `key` and `code` name credentials alone (`/unsubscribe/:key`, `/verify/:code`) or after one of
 * these words (`:apiKey`, `:resetCode`), and ids otherwise (`:objectKey`, `:countryCode`).
 */
const QUALIFIED_WORDS = new Set(['key', 'code']);
const CREDENTIAL_QUALIFIERS = new Set([
  'api', 'access', 'private', 'secret', 'signing', 'client', 'master', 'encryption', 'license', 'licence', 'auth',
  'reset', 'verify', 'verification', 'confirm', 'confirmation', 'activation', 'activate', 'invite', 'invitation',
  'magic', 'login', 'mfa', 'otp', 'recovery', 'security', 'unlock', 'unsubscribe', 'share', 'refresh', 'sms',
]);
/** A last word that makes the name an identifier of a credential, not the credential: `:keyId`, `:tokenName`, `:secretType`. */
const ID_WORDS = new Set(['id', 'ids', 'uuid', 'guid', 'name', 'type', 'kind', 'index', 'idx', 'no', 'num', 'number', 'ref', 'label', 'alias', 'hint', 'fingerprint', 'version', 'alg']);

/**
 * Whether the path parameter `name` holds a credential. A session id is one
 * whatever it is called (`:sessionId`, `:sid`): it is the value of the
 * session cookie in most frameworks. Otherwise a name ending in an id word
 * (`:keyId`, `:apiKeyId`, `:tokenId`, `:secretName`) names a credential and
 * is not one; a name with a secret word (`token`, `secret`, `password`,
 * `passwd`, `pwd`, `signature`, `sig`, `credential`, `cookie`, `jwt`, `otp`,
 * `auth`, `hmac`, …) is one, and so are `key` and `code` alone or after a
 * credential word (`:apiKey`, `:resetCode`, not `:countryCode`).
 *
 * @example
 * isSecretParamName('token') // true
 * isSecretParamName('apiKeyId') // false
 */
export function isSecretParamName(name: string): boolean {
  // Asked for every parameter of every request (the endpoint mask and the default target id):
  // a route has few parameter names, so each is judged once.
  let secret = judged.get(name);
  if (secret === undefined) {
    secret = judge(name);
    if (judged.size >= MAX_JUDGED) judged.clear();
    judged.set(name, secret);
  }
  return secret;
}

/** Parameter names already judged (bounded: a framework may pass names the client chose). */
const judged = new Map<string, boolean>();
const MAX_JUDGED = 512;

function judge(name: string): boolean {
  const words = (name.match(WORD) ?? []).map((w) => w.toLowerCase());
  if (words.length === 0) return false;
  if (words.some((w) => w.includes('session') || w === 'sid' || w === 'jsessionid')) return true;
  const last = words[words.length - 1]!;
  // `keyid`, `tokenid` written as one word are ids too.
  if (ID_WORDS.has(last) || (words.length === 1 && /(?:ids?|name|type)$/.test(last) && last !== 'sid')) return false;
  if (words.some((w) => SECRET_STEM.test(w) || SECRET_WORDS.has(w))) return true;
  return words.some((w) => QUALIFIED_WORDS.has(w)) && (words.length === 1 || words.some((w) => CREDENTIAL_QUALIFIERS.has(w)));
}

/**
 * The values of the secret-named parameters among `params` (the policy's and
 * a framework's, which may hold a decoded `/`: its `%2F` form too).
 */
export function secretParamValues(params: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(params)) {
    const v = params[name];
    if (typeof v !== 'string' || v === '' || !isSecretParamName(name)) continue;
    out.push(v);
    if (v.includes('/')) out.push(v.replaceAll('/', '%2F'));
  }
  return out;
}

/**
 * `path` with every segment that holds one of `values` replaced by `***`
 * (the whole segment: a framework route may capture part of one, as in
 * `/reset-:token`). Masking more than the parameter errs on the side of
 * never recording the credential.
 *
 * @example
 * maskPathSegments('/invites/abc123', ['abc123']) // '/invites/***'
 */
export function maskPathSegments(path: string, values: readonly string[]): string {
  if (values.length === 0) return path;
  const segments = path.split('/');
  let changed = false;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '' || s === SECRET_SEGMENT_MASK || !values.some((v) => s.includes(v))) continue;
    segments[i] = SECRET_SEGMENT_MASK;
    changed = true;
  }
  return changed ? segments.join('/') : path;
}
