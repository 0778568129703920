/**
 * URLs with their secrets masked, for anything a person or a log reads
 * (never log secrets). A configured endpoint may carry
 * credentials in its userinfo (`https://user:secret@collector:4318`) or a
 * token in its query (`?api_key=...`); error messages, diagnostics, status
 * output and audit records quote `redactUrl(url)`, never the URL itself.
 * Text that is not a URL is masked too, more broadly rather than less.
 */

const MASK = '***';

/** Parameter names whose values are secrets: api_key, access_token, X-Amz-Signature, sig, password, client_secret, ... */
const SECRET_NAME = /token|key|secret|passw|pwd|signature|^sig$|auth|credential|session/i;

/** `?` `#` `&` `;` then `name=value`: one query (or fragment) parameter. */
const PARAM = /([?#&;])([^=&;#]*)=([^&;#]*)/g;

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
 * `***`, and the value of every query or fragment parameter whose name
 * looks secret (token, key, secret, password, signature, auth, credential,
 * session) replaced by `***`. Everything else stays as written, so a URL
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
  const query = text.search(/[?#]/);
  if (query === -1) return text;
  return text.slice(0, query) + text.slice(query).replace(PARAM, (param, sep: string, name: string) => (isSecretName(name) ? `${sep}${name}=${MASK}` : param));
}
