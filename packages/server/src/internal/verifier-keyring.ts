/**
 * The `verifierKeys` option of the server and the collector as a keyring
 * (DESIGN §4.3, "Keyring"): each entry a verifier key line — the key,
 * optionally followed by `not_before=TIME` / `not_after=TIME`, read by
 * core's key-line reader as the CLI's `--key` and otel-config.yaml's
 * `verifier_keys_file` are — or a key with its validity window as bigints,
 * so a checkpoint signed outside the window is reported `key_out_of_window`
 * — by the integrity and checkpoint routes as by the collector — instead of
 * trusted forever. Built at creation: a bad entry throws there, named by
 * its index, never by its text.
 */
import { AuditError, Keyring, parseVerifierKeyLine, type KeyValidityWindow } from '@otel-audit/core';

/**
 * A trusted verifier key line (`name+hash+base64`, valid at every time
 * unless followed by `not_before=TIME` / `not_after=TIME`), or a key with
 * the window of checkpoint times in which its signatures count (Unix
 * nanoseconds, both ends inclusive).
 *
 * @example
 * const keys: VerifierKeyInput[] = [`${newKey} not_before=2026-01-01T00:00:00Z`, { key: oldKey, notAfter: 1767225599999999999n }];
 */
export type VerifierKeyInput = string | ({ readonly key: string } & KeyValidityWindow);

function prefixed(e: unknown, where: string): unknown {
  if (e instanceof AuditError) return new AuditError(e.code, `${where}: ${e.message}`, { cause: e });
  if (e instanceof RangeError) return new RangeError(`${where}: ${e.message}`, { cause: e });
  if (e instanceof TypeError) return new TypeError(`${where}: ${e.message}`, { cause: e });
  return e;
}

/**
 * The keyring of `keys` (the option named `option`); the same key given
 * with several windows is trusted in their union. Throws `TypeError` for an
 * entry of the wrong shape, `RangeError` for a window that ends before it
 * begins, `AuditError` `AUDIT_KEY_INVALID` for a malformed key line (a
 * signer key among them, unshown).
 *
 * @example
 * const keyring = verifierKeyringOf(options.verifierKeys ?? [], 'options.verifierKeys');
 */
export function verifierKeyringOf(keys: unknown, option: string): Keyring {
  if (!Array.isArray(keys)) throw new TypeError(`${option} must be an array of verifier keys or { key, notBefore?, notAfter? }`);
  const keyring = Keyring.from([]);
  keys.forEach((entry: unknown, i) => {
    const where = `${option}[${i}]`;
    const isWindowed = entry !== null && typeof entry === 'object' && typeof (entry as { key?: unknown }).key === 'string';
    if (typeof entry !== 'string' && !isWindowed) {
      throw new TypeError(`${where} must be a verifier key string (name+hash+base64, optionally followed by not_before=TIME not_after=TIME) or { key, notBefore?, notAfter? } with bigint Unix nanoseconds`);
    }
    try {
      if (typeof entry === 'string') {
        const { key, ...window } = parseVerifierKeyLine(entry);
        keyring.add(key, window);
      } else {
        const { key, notBefore, notAfter } = entry as { key: string } & KeyValidityWindow;
        keyring.add(key, { notBefore, notAfter });
      }
    } catch (e) {
      throw prefixed(e, where);
    }
  });
  return keyring;
}
