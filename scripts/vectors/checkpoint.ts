/**
 * Generates `checkpoint/` (DESIGN §4.3): signed checkpoints (C2SP
 * tlog-checkpoint + signed-note) — valid, unsigned, badly signed, signed by
 * unknown or out-of-window keys, and malformed — each with what a verifier
 * must report.
 */
import { createHash } from 'node:crypto';
import {
  leafHash,
  merkleRoot,
  parseSignerKey,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
  type HashAlgorithm,
} from '@otel-audit/core';
import { keyringOf, type KeyringEntryJson } from '../../test/support/keyring-json.js';
import { T0, TRUSTED, UNTRUSTED } from './fixtures.js';
import { check, put } from './output.js';

// ---------------------------------------------------------------------------
// checkpoint/: §4.3

/** Flips the lowest bit of one byte of the Ed25519 signature on signature line `sigIndex` (not the key hash). */
export function flipSignatureByte(note: string, sigIndex = 0): string {
  const lines = note.split('\n');
  const first = lines.indexOf('') + 1;
  const at = first + sigIndex;
  const line = lines[at]!;
  const space = line.lastIndexOf(' ');
  const bytes = Buffer.from(line.slice(space + 1), 'base64');
  bytes.writeUInt8(bytes.readUInt8(4 + 20) ^ 0x01, 4 + 20);
  lines[at] = `${line.slice(0, space + 1)}${bytes.toString('base64')}`;
  return lines.join('\n');
}

interface CheckpointCase {
  description: string;
  note: string;
  keyring: KeyringEntryJson[];
  alg?: HashAlgorithm;
  signerKeys?: string[];
  expected: { status: string; line?: number; keys?: string[]; checkpoint?: Record<string, unknown> };
}

function checkpointCase(name: string, c: CheckpointCase): void {
  const result = verifyCheckpoint(c.note, keyringOf(c.keyring), c.alg === undefined ? {} : { alg: c.alg });
  check(result.status === c.expected.status, `checkpoint/${name}: status ${result.status}, expected ${c.expected.status} (${result.message})`);
  const expected: CheckpointCase['expected'] = { status: result.status };
  if (result.status === 'malformed') {
    check(result.error?.line === c.expected.line, `checkpoint/${name}: line ${result.error?.line}, expected ${c.expected.line} (${result.message})`);
    expected.line = result.error!.line;
  } else {
    const cp = result.checkpoint!;
    expected.keys = [...result.keys];
    expected.checkpoint = {
      origin: cp.origin,
      size: cp.size,
      rootHash: cp.rootHash.toString('hex'),
      time: cp.timeUnixNano.toString(),
      extensions: [...cp.extensions],
    };
  }
  if (c.signerKeys !== undefined) {
    const text = c.note.slice(0, c.note.indexOf('\n\n') + 1);
    check(signNote(text, c.signerKeys.map(parseSignerKey)) === c.note, `checkpoint/${name}: signing again does not give the same note`);
  }
  put('checkpoint', name, { ...c, expected });
}

export function generateCheckpoints(): void {
  const origin = 'billing-api/test-vectors-sha256';
  const root = merkleRoot('sha256', Array.from({ length: 5 }, (_, i) => leafHash('sha256', `record ${i}`)), 5);
  const time = T0 + 5_000_000_000n;
  const cp = { origin, size: 5, rootHash: root, timeUnixNano: time };
  const trusted: KeyringEntryJson[] = [{ verifierKey: TRUSTED.verifierKey }];
  const signed = signCheckpoint(cp, [TRUSTED.signer]);
  const text = signed.slice(0, signed.indexOf('\n\n') + 1);
  const sigLine = signed.slice(signed.indexOf('\n\n') + 2);
  const withSig = (body: string): string => signNote(body, [TRUSTED.signer]);

  checkpointCase('valid', {
    description: 'A checkpoint of 5 records signed by the trusted test key: valid, with its parsed fields.',
    note: signed, keyring: trusted, alg: 'sha256', signerKeys: [TRUSTED.signerKey], expected: { status: 'valid' },
  });
  checkpointCase('valid-cosigned-by-unknown-key', {
    description: 'Signed by the trusted key and by a key the verifier does not know: the unknown signature is ignored, valid.',
    note: signCheckpoint(cp, [UNTRUSTED.signer, TRUSTED.signer]), keyring: trusted, signerKeys: [UNTRUSTED.signerKey, TRUSTED.signerKey],
    expected: { status: 'valid' },
  });
  checkpointCase('valid-window-boundaries', {
    description: 'The key\'s validity window is [time, time]: both ends are inclusive, so the checkpoint is valid.',
    note: signed, keyring: [{ verifierKey: TRUSTED.verifierKey, notBefore: time.toString(), notAfter: time.toString() }],
    signerKeys: [TRUSTED.signerKey], expected: { status: 'valid' },
  });
  checkpointCase('valid-sha3-512-root', {
    description: 'A checkpoint of a sha3-512 stream: the root is 64 bytes.',
    note: signCheckpoint({ ...cp, origin: 'billing-api/test-vectors-sha3-512', rootHash: createHash('sha3-512').update('root').digest() }, [TRUSTED.signer]),
    keyring: trusted, alg: 'sha3-512', signerKeys: [TRUSTED.signerKey], expected: { status: 'valid' },
  });
  checkpointCase('valid-extension-line', {
    description: 'A further extension line after the time line is kept and signed.',
    note: signCheckpoint({ ...cp, extensions: ['previous billing-api/test-vectors-0'] }, [TRUSTED.signer]),
    keyring: trusted, signerKeys: [TRUSTED.signerKey], expected: { status: 'valid' },
  });
  checkpointCase('unsigned', {
    description: 'The unsigned form written without a signing key (text, blank line, no signature): reported as unsigned, never valid.',
    note: signCheckpoint(cp, [], { allowUnsigned: true }), keyring: trusted, expected: { status: 'unsigned' },
  });
  checkpointCase('bad-signature-flipped-byte', {
    description: 'One bit of the Ed25519 signature flipped (the key hash is intact): bad_signature.',
    note: flipSignatureByte(signed), keyring: trusted, expected: { status: 'bad_signature' },
  });
  checkpointCase('bad-signature-size-changed', {
    description: 'The tree size in the text changed from 5 to 6 after signing: bad_signature.',
    note: signed.replace('\n5\n', '\n6\n'), keyring: trusted, expected: { status: 'bad_signature' },
  });
  checkpointCase('unknown-key', {
    description: 'Signed only by a key that is not in the keyring: unknown_key.',
    note: signCheckpoint(cp, [UNTRUSTED.signer]), keyring: trusted, signerKeys: [UNTRUSTED.signerKey], expected: { status: 'unknown_key' },
  });
  checkpointCase('key-out-of-window', {
    description: 'The trusted key is valid only until one nanosecond before the checkpoint\'s time: key_out_of_window.',
    note: signed, keyring: [{ verifierKey: TRUSTED.verifierKey, notAfter: (time - 1n).toString() }],
    signerKeys: [TRUSTED.signerKey], expected: { status: 'key_out_of_window' },
  });
  checkpointCase('key-not-yet-valid', {
    description: 'The trusted key becomes valid one nanosecond after the checkpoint\'s time: key_out_of_window.',
    note: signed, keyring: [{ verifierKey: TRUSTED.verifierKey, notBefore: (time + 1n).toString() }],
    signerKeys: [TRUSTED.signerKey], expected: { status: 'key_out_of_window' },
  });

  const [, sizeLine, rootLine, timeLine] = text.split('\n');
  const malformed = (name: string, line: number, description: string, note: string, alg?: HashAlgorithm): void =>
    checkpointCase(`malformed-${name}`, { description, note, keyring: trusted, ...(alg === undefined ? {} : { alg }), expected: { status: 'malformed', line } });
  malformed('empty-origin', 1, 'The origin line is empty.', withSig(`\n${sizeLine}\n${rootLine}\n${timeLine}\n`));
  malformed('size-leading-zero', 2, 'The tree size has a leading zero.', withSig(`${origin}\n05\n${rootLine}\n${timeLine}\n`));
  malformed('size-not-decimal', 2, 'The tree size is not decimal digits.', withSig(`${origin}\n0x5\n${rootLine}\n${timeLine}\n`));
  malformed('root-hex-in-sha256-stream', 3,
    'The sha256 root written in hex: 64 hex digits are also canonical base64 of 48 bytes (a sha384 length), so only the stream\'s algorithm, ' +
      'given as alg, shows that the root is not 32 bytes.',
    withSig(`${origin}\n${sizeLine}\n${root.toString('hex')}\n${timeLine}\n`), 'sha256');
  malformed('root-not-base64', 3, 'The root hash contains characters outside standard base64.',
    withSig(`${origin}\n${sizeLine}\n${rootLine!.slice(0, 4)}-${rootLine!.slice(5)}\n${timeLine}\n`));
  malformed('root-base64url', 3, 'The root hash is written in base64url without padding.',
    withSig(`${origin}\n${sizeLine}\n${root.toString('base64url')}\n${timeLine}\n`));
  malformed('root-wrong-length', 3, 'The root hash is 20 bytes, the length of no supported algorithm.',
    withSig(`${origin}\n${sizeLine}\n${root.subarray(0, 20).toString('base64')}\n${timeLine}\n`));
  malformed('missing-time-line', 4, 'The "time <ns>" extension line is missing.', withSig(`${origin}\n${sizeLine}\n${rootLine}\n`));
  malformed('time-leading-zero', 4, 'The time has a leading zero.', withSig(`${origin}\n${sizeLine}\n${rootLine}\ntime 0${time}\n`));
  malformed('duplicate-time-line', 5, 'Two time lines.', withSig(`${origin}\n${sizeLine}\n${rootLine}\n${timeLine}\n${timeLine}\n`));
  malformed('crlf-line-endings', 1, 'CRLF line endings.', signed.replace(/\n/g, '\r\n'));
  malformed('missing-final-newline', 6, 'The last signature line lacks its newline.', signed.slice(0, -1));
  malformed('missing-blank-line', 5, 'No blank line between the text and the signature line.', text + sigLine);
  malformed('signature-without-em-dash', 6, 'The signature line starts with "-" instead of "— " (U+2014).', `${text}\n-${sigLine.slice(1)}`);
  malformed('signature-not-base64', 6, 'The signature is not canonical standard base64.', `${text}\n${sigLine.slice(0, -2)}!\n`);
}
