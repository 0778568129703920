/**
 * Which settings of otel-config.yaml may hold a secret in the file itself
 * (DESIGN §7; STYLE "Errors"): exporter `headers` (bearer tokens, API keys),
 * the server's `tokens` (a raw token pasted where its hash belongs) and
 * webhook URLs (many embed their token). A problem at such a path names the
 * path and the fix but never the value; `${env:...}` text substituted there
 * stays a string (a header value is text: `0123` must not become 123).
 * Keys themselves are never in the file (`*_file`, `*_env`): internal/secrets.ts.
 */

const SECRET_PATHS: readonly RegExp[] = [
  /^exporters\.otlphttp(\/[^.]+)?\.headers(\.|$)/,
  /^extensions\.audit_server(\/[^.]+)?\.tokens(\[|\.|$)/,
  /^processors\.alerts(\/[^.]+)?\.notifiers\[\d+\]\.(url|allowed_urls)(\[|$)/,
];

/**
 * True when the value at YAML path `path` may be a secret.
 *
 * @example
 * isSecretPath('exporters.otlphttp.headers.authorization') // true
 * isSecretPath('exporters.sqlite.path') // false
 */
export function isSecretPath(path: string): boolean {
  return SECRET_PATHS.some((re) => re.test(path));
}

/** What a problem shows instead of a secret value. */
export const HIDDEN = '(hidden)';
