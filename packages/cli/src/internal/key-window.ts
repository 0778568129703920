/**
 * The validity window written after a verifier key (DESIGN §4.3,
 * "Keyring"; format §8): `not_before=TIME` and/or `not_after=TIME`, both
 * ends inclusive, TIME in Unix nanoseconds or an RFC 3339 date-time. Core's
 * `Keyring` fails a checkpoint whose `time` lies outside its key's window
 * (`key_out_of_window`), so a retired or leaked key stops counting. Core's
 * key-line reader parses the words (the same for `--key`, the server and
 * otel-config.yaml's `verifier_keys_file`); here its errors become the
 * CLI's (exit 2).
 */
import { KEY_WINDOW_FIX, parseKeyTime, parseKeyValidityWindow, VerifierKeyLineError, type KeyValidityWindow } from '@otel-audit/core';
import { CliError } from '../errors.js';

/** The fix printed with every window error. */
export const WINDOW_FIX = KEY_WINDOW_FIX;

/**
 * Unix nanoseconds of `value` (decimal nanoseconds, or an RFC 3339
 * date-time with seconds and an offset), or `undefined` when it is neither
 * or lies outside 1970..2262 (0..2^63-1).
 *
 * @example
 * parseWindowTime('2026-01-01T00:00:00Z') // 1767225600000000000n
 */
export const parseWindowTime = parseKeyTime;

/**
 * A key-line error of core as the CLI's {@link CliError} (exit 2), message and fix unchanged.
 *
 * @example
 * try { parseVerifierKeyLine(text, '--key value') } catch (e) { throw asCliError(e) }
 */
export function asCliError(e: unknown): unknown {
  return e instanceof VerifierKeyLineError ? new CliError('AUDIT_CLI_KEY', e.message, e.fix) : e;
}

/**
 * The window of the words after a key on one line (`where` names the line
 * in errors). Throws {@link CliError} (exit 2) for an unknown word, a
 * repeated bound, a bad time or a window that ends before it begins.
 *
 * @example
 * parseKeyWindow(['not_after=2026-01-01T00:00:00Z'], 'key file audit.vkey line 2') // { notAfter: 1767225600000000000n }
 */
export function parseKeyWindow(words: readonly string[], where: string): KeyValidityWindow {
  try {
    return parseKeyValidityWindow(words, where);
  } catch (e) {
    throw asCliError(e);
  }
}
