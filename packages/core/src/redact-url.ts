/**
 * URLs and free text with their secrets masked, for anything a person or a
 * log reads (never log secrets). A configured endpoint may carry
 * credentials in its userinfo (`https://user:secret@collector:4318`) or a
 * token in its query (`?api_key=...`); error messages, diagnostics, status
 * output and audit records quote `redactUrl(url)`, never the URL itself.
 * What a receiver or a transport says (a response body echoing the request,
 * an error message quoting the URL or a header) is free text: it enters
 * stored state, records and logs only as `redactSecrets(text)`.
 * Text that is not a URL is masked too, more broadly rather than less.
 * The same masking keeps credentials out of audit records (DESIGN §4.5 as
 * docs/format.md extends it): PEM private keys, well-known token prefixes,
 * keys of a published shape (AWS, npm, Google, SendGrid, Hugging Face,
 * OpenAI, Anthropic), Slack webhook URLs and JWTs are masked wherever they
 * appear, also after a percent-escape (internal/credential-forms.ts).
 */
import { maskPrivateKeys, maskTokens } from './internal/credential-forms.js';
import { mayHoldSecret } from './internal/may-hold-secret.js';

const MASK = '***';

/**
 * Parameter names whose values are secrets: api_key, access_token,
 * X-Amz-Signature, sig, password, client_secret, Authorization, ..., and the
 * short names pass, pw, pin, otp, totp, hotp, cvv, cvc as whole names — but
 * not tokenizer, keyboard, keyword, author, authority or authentication.
 */
const SECRET_NAME = /token(?!i[sz])|key(?!board|word)|secret|passw|pwd|signature|^sig$|auth(?!or(?!i[sz]ation)|entic)|credential|session|^(?:pass|pw|pin|otp|totp|hotp|cvv|cvc)$/i;

/**
 * `?` `#` `&` `;` then `name=value`: one query (or fragment) parameter; a
 * `?`, `&` or `=` may be percent-encoded (`%3F`, `%26`, `%3D`), as in a
 * query that was escaped into a path.
 */
const PARAM = /([?#&;]|%3[fF]|%26)((?:[^=&;#%]|%(?!3[dDfF]|26))*)(=|%3[dD])((?:[^&;#%]|%(?!26))*)/g;
/** Where the query starts: `?`, `#` or an encoded `?`. */
const QUERY_START = /[?#]|%3[fF]/;
/** `;name=value` in a path segment: a matrix parameter (`/m;jsessionid=...`), its value ending with the segment. */
const MATRIX_PARAM = /;([^=;/?#]*)=([^;/?#]*)/g;

function isSecretName(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // Not valid percent-encoding: judge the name as written.
  }
  return SECRET_NAME.test(decoded);
}

/**
 * The whole userinfo replaced (a username alone is often the token:
 * `https://ghp_xxx@host`). For a URL that parses, the userinfo ends at the
 * last `@` of its authority, as the WHATWG URL parser reads it; for
 * anything else, at the last `@` after the `//`, so a broken URL leaks
 * nothing either. Without `//`, only a `user:password@` form is credentials
 * (`alice@example.com` stays as it is).
 */
function maskUserinfo(text: string): string {
  const found = text.indexOf('//');
  const slashes = found !== -1 && found < text.lastIndexOf('@') ? found : -1; // a `//` after every `@` is in the path
  const from = slashes === -1 ? 0 : slashes + 2;
  const rest = text.slice(from);
  const end = URL.canParse(text) ? rest.search(/[/\\?#]/) : -1;
  const at = (end === -1 ? rest : rest.slice(0, end)).lastIndexOf('@');
  if (at <= 0) return text;
  if (slashes === -1 && !rest.slice(0, at).includes(':')) return text;
  return `${text.slice(0, from)}${MASK}${rest.slice(at)}`;
}

/**
 * `url` as it may be shown: the userinfo (user and password) replaced by
 * `***`, and the value of every query, fragment or `;matrix` parameter
 * whose name looks secret (token, key, secret, password, signature, auth,
 * credential, session) replaced by `***`; a query escaped as
 * `%3Fname%3Dvalue` counts. Everything else stays as written, so a URL
 * without secrets comes back unchanged; masking a masked URL changes
 * nothing. Text that does not parse as a URL is masked the same way, and
 * anything between `//` and its last `@` counts as userinfo.
 *
 * @example
 * redactUrl('https://user:secret@collector:4318/v1/logs?api_key=k1&tenant=a') // 'https://***@collector:4318/v1/logs?api_key=***&tenant=a'
 * redactUrl('http://collector:4318') // 'http://collector:4318'
 */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') throw new TypeError(`url must be a string, got ${typeof url}`);
  const text = maskUserinfo(url);
  const query = text.search(QUERY_START);
  let path = query === -1 ? text : text.slice(0, query);
  if (path.indexOf(';') !== -1) path = path.replace(MATRIX_PARAM, (param, name: string) => (isSecretName(name) ? `;${name}=${MASK}` : param));
  if (query === -1) return path;
  return path + text.slice(query).replace(PARAM, (param, sep: string, name: string, eq: string) => (isSecretName(name) ? `${sep}${name}${eq}${MASK}` : param));
}

/**
 * One scan of free text: a URL (with a scheme, or from `//`), a standalone
 * `Bearer`/`Basic` credential (in any case, after any blank), or a `name=` /
 * `name:` / `"name":` pair. The lookbehind starts each at a word boundary
 * only, which keeps the scan linear (a long run of name characters is read
 * once, not once per offset).
 */
const SCAN = /(?<![\w.%-])(?:((?:[a-z][a-z0-9+.-]*:)?\/\/[^\s"<>`]*)|(bearer|basic)[^\S\r\n]+|([\w.%-]+)(["']?)[ \t]*([=:])[ \t]*)/gi;
/**
 * `name%3Dvalue` at the start, after a blank or punctuation, or after an
 * encoded `?` or `&` (`%3F`, `%26`): a query escaped into a path or a
 * message. The name and the value end at the next encoded separator.
 */
const ENCODED_PAIR = /(^|[^\w.%-]|%3[fF]|%26)((?:[\w.-]|%(?!3[dDfF]|26))+)(%3[dD])((?:[^\s&;#%"'<>`]|%(?!26|3[fF]))*)/g;
/** An authorization scheme before its credential, in `Authorization: Basic ...` or `Authorization: token ghp_...`. */
const AUTH_SCHEME = /(?:bearer|basic|digest|token|negotiate|ntlm|apikey|dpop|aws4-hmac-sha256)[^\S\r\n]+/iy;
/** A credential after its scheme (token68, a JWT, ...), up to a list or parameter separator. */
const CREDENTIAL = /[^\s"'<>`,;]+/y;
/** The rest of a `user:password@host` without scheme. */
const AUTHORITY = /[^\s"<>`]*/y;
/** A bare value: in a URL query it ends at the next parameter, in JSON at the next member, elsewhere at white space. */
const QUERY_VALUE = /[^\s&;#"'<>`]+/y;
/** A `;matrix` parameter of a path (no `?` before it) ends with its segment. */
const PATH_VALUE = /[^\s&;#"'<>`/?]+/y;
const JSON_VALUE = /[^\s,}\]"'<>`]+/y;
/** In prose a value may hold `&`, `;` and `,`; one of them followed by another `name=` ends it (`session=a; path=/`). */
const TEXT_VALUE = /(?:[^\s"'<>`&;,]|[&;,](?![ \t]*[\w.%-]+[ \t]*[=:]))+/y;
/** Words SECRET_NAME matches that name no secret in prose: `HTTP 401 Unauthorized: ...`. */
const PROSE_WORD = /^(?:un)?(?:authori[sz]ed|authenticated)$/i;

/** `=`/`:` doubled and the blanks after them. */
const SEPARATORS = /(?:[=:][ \t]*)+/y;

/** `realm=` before `"x"`: an auth parameter, not a credential. */
function isAuthParam(value: string, next: string | undefined): boolean {
  return /^[\w-]+=$/.test(value) && (next === '"' || next === "'");
}

function match(re: RegExp, text: string, at: number): string {
  re.lastIndex = at;
  return re.exec(text)?.[0] ?? '';
}

/**
 * Whether what follows a standalone `Bearer`/`Basic` is a credential: an
 * auth parameter (`Bearer realm="x"`) is not; a `Basic` word is only when it
 * looks encoded (a digit, `+`, `/`, `=`) or decodes to `user:password`, so
 * "Basic auth failed" stays readable.
 */
function isCredential(scheme: string, value: string, next: string | undefined): boolean {
  if (value === '' || value.startsWith('=') || isAuthParam(value, next)) return false;
  if (scheme.toLowerCase() === 'bearer') return true;
  return /[\d+/=]/.test(value) || Buffer.from(value, 'base64').toString('latin1').includes(':');
}

/**
 * The end of the secret value at `at` and what replaces `text[at..end)`:
 * a quoted string keeps its quotes, an `Authorization` value its scheme;
 * an object or array is left to the pairs inside it.
 */
function maskValue(text: string, at: number, context: 'query' | 'path' | 'json' | 'text'): { end: number; shown: string } | undefined {
  const c = text[at];
  if (c === undefined || c === '\n' || c === '\r' || c === '{' || c === '[') return undefined;
  if (c === '"' || c === "'") {
    let i = at + 1;
    while (i < text.length && text[i] !== c && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    const closed = text[i] === c;
    if (Math.min(i, text.length) === at + 1) return undefined; // "" hides nothing
    return { end: closed ? i + 1 : Math.min(i, text.length), shown: closed ? `${c}${MASK}${c}` : `${c}${MASK}` };
  }
  if (c === '=' || c === ':') {
    // `key == value`: the value after the doubled separator.
    const skip = match(SEPARATORS, text, at);
    const masked = maskValue(text, at + skip.length, context);
    return masked && { end: masked.end, shown: `${skip}${masked.shown}` };
  }
  const scheme = match(AUTH_SCHEME, text, at);
  if (scheme !== '') {
    const credential = match(CREDENTIAL, text, at + scheme.length);
    if (isAuthParam(credential, text[at + scheme.length + credential.length])) return undefined; // WWW-Authenticate: Bearer realm="x"
    if (credential !== '') return { end: at + scheme.length + credential.length, shown: `${scheme}${MASK}` };
  }
  const value = match(context === 'query' ? QUERY_VALUE : context === 'path' ? PATH_VALUE : context === 'json' ? JSON_VALUE : TEXT_VALUE, text, at);
  return value === '' ? undefined : { end: at + value.length, shown: MASK };
}

/**
 * `text` — an error message, a response body, a log line — as it may be
 * stored, sealed into a record or shown: every URL in it masked as
 * {@link redactUrl} masks it (userinfo, secret-named query values), a
 * `user:password@host` without scheme reduced to `***@host`, the value of
 * every `name=value`, `name: value`, `"name": "value"` whose name looks
 * secret (token, key, secret, password, signature, auth, credential,
 * session) replaced by `***` as a whole (an `Authorization` value keeps its
 * scheme: `Bearer ***`, `token ***`), a standalone `Bearer xyz` or encoded
 * `Basic abc==` credential masked (scheme in any case), the body of a PEM
 * private key, a token with a well-known prefix (`ghp_***`, `sk_live_***`,
 * `sess_***`) or of a published shape (`AKIA***`, `sk-proj-***`), the path
 * of a Slack webhook URL and a JWT masked. Everything else stays as written, so text
 * without secrets comes back unchanged, and masking masked text changes
 * nothing. Mask before truncating: a cut secret is not recognised.
 *
 * @example
 * redactSecrets('HTTP 401: denied for /v1/logs?api_key=sk_live_1 (Authorization: Bearer eyJ0)') // 'HTTP 401: denied for /v1/logs?api_key=*** (Authorization: Bearer ***)'
 * redactSecrets('{"user":"alice","password":"hunter2"}') // '{"user":"alice","password":"***"}'
 * redactSecrets('connect ECONNREFUSED 127.0.0.1:4318') // 'connect ECONNREFUSED 127.0.0.1:4318'
 */
export function redactSecrets(text: string): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`);
  // Most text holds no credential form: one pass over its characters says so (a superset of what
  // the regular expressions below change), for every caller — normalisation, attribute redaction, receivers' answers.
  if (!mayHoldSecret(text)) return text;
  // The forms found wherever they are come first; the scan reads the rest.
  text = maskTokens(maskPrivateKeys(text));
  if (text.indexOf('%3') !== -1) {
    text = text.replace(ENCODED_PAIR, (pair, before: string, name: string, eq: string, value: string) => (value !== '' && isSecretName(name) ? `${before}${name}${eq}${MASK}` : pair));
  }
  let out = '';
  let copied = 0;
  let queryAt: number | undefined;
  SCAN.lastIndex = 0;
  for (let m = SCAN.exec(text); m !== null; m = SCAN.exec(text)) {
    const start = m.index;
    let end = SCAN.lastIndex;
    let shown: string | undefined;
    if (m[1] !== undefined) {
      shown = redactUrl(m[1]);
    } else if (m[2] !== undefined) {
      const credential = match(CREDENTIAL, text, end);
      if (isCredential(m[2], credential, text[end + credential.length])) {
        shown = `${text.slice(start, end)}${MASK}`;
        end += credential.length;
      }
    } else if (isSecretName(m[3]!) && !PROSE_WORD.test(m[3]!)) {
      const before = text[start - 1];
      // `;name=` before any `?` is a path's matrix parameter: its value ends with the segment.
      if (before === ';' && queryAt === undefined) queryAt = text.search(/[?#]/);
      const context = before === ';' && (queryAt === -1 || queryAt! > start) ? 'path' : before === '?' || before === '&' || before === ';' || before === '#' ? 'query' : m[4] !== '' ? 'json' : 'text';
      const masked = maskValue(text, end, context);
      if (masked !== undefined) {
        shown = `${text.slice(start, end)}${masked.shown}`;
        end = masked.end;
      }
    } else if (m[5] === ':' && m[0] === `${m[3]}:` && m[3]!.toLowerCase() !== 'mailto') {
      // `user:password@host`: a URL without its scheme.
      const rest = match(AUTHORITY, text, end);
      if (rest.includes('@')) {
        shown = redactUrl(`${m[3]}:${rest}`);
        end += rest.length;
      }
    }
    if (shown !== undefined) {
      out += text.slice(copied, start) + shown;
      copied = end;
    }
    SCAN.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
