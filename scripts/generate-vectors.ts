/**
 * Generates the language-neutral test vectors of DESIGN §4 into
 * `test/vectors/` (STYLE.md, "Tests"): one JSON file per case, in five
 * folders — `canonical/` (RFC 8785), `record-hash/` (§4.1–4.2),
 * `merkle/` (RFC 9162 §2.1 trees and proofs), `checkpoint/` (§4.3),
 * `streams/` (§4.4, negatives named by their mutation) and `redaction/`
 * (§4.5 `hmac` values, scripts/vectors-redaction.ts) — plus a README that
 * tells implementers of other-language verifiers what each file holds.
 *
 * Deterministic: fixed ids, times and a fixed, obviously labelled test key
 * (Ed25519 signing is deterministic), so two runs write identical bytes and
 * `test/vectors.test.ts` can check that the checked-in files are exactly what
 * this script produces. Every vector is cross-checked while it is made: RFC
 * 8785 and RFC 6962 expected values are the published ones, JCS output is
 * compared with an independent implementation, Merkle roots and proofs with a
 * direct transcription of the RFC 9162 definitions, hashes with node:crypto,
 * and each stream case's findings with the ones declared for it here — so a
 * change of behaviour in @otel-audit/core stops the generator instead of
 * silently rewriting the vectors.
 *
 * Usage: `npm run vectors` (writes test/vectors/), or
 * `tsx scripts/generate-vectors.ts --out <dir>` / `OTEL_AUDIT_VECTORS_DIR=<dir>`.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import canonicalizeModule from 'canonicalize';
import {
  AuditChain,
  canonicalize,
  consistencyProof,
  emptyHash,
  formatVerifierKey,
  genesisPrev,
  HASH_ALGORITHMS,
  inclusionProof,
  leafHash,
  merkleRoot,
  normalizeRecord,
  noteKeyHash,
  parseSignerKey,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  Verifier,
  type AuditEventInput,
  type AuditRecordInput,
  type HashAlgorithm,
  type NoteSigner,
} from '@otel-audit/core';
import { CT_INPUTS, CT_ROOTS, refMth, refPath, refSubproof } from '../packages/core/test/support/rfc9162-reference.js';
import { keyringOf, type KeyringEntryJson } from '../test/support/keyring-json.js';
import { redactionCases } from './vectors-redaction.js';

// An independent RFC 8785 implementation for differential checks. The package
// is CommonJS whose types declare an ES default export; the default import is
// its module.exports, the function itself.
const erdtman = canonicalizeModule as unknown as (value: unknown) => string | undefined;

// ---------------------------------------------------------------------------
// Output

const FOLDERS = ['canonical', 'record-hash', 'merkle', 'checkpoint', 'streams', 'redaction'] as const;
type Folder = (typeof FOLDERS)[number];

/** Relative path → file content, filled by the generators, written at the end. */
const files = new Map<string, string>();

function put(folder: Folder, name: string, value: unknown): void {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`bad vector name ${JSON.stringify(name)}`);
  const rel = `${folder}/${name}.json`;
  if (files.has(rel)) throw new Error(`duplicate vector ${rel}`);
  files.set(rel, `${JSON.stringify(value, null, 2)}\n`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`generate-vectors: ${message}`);
}

function outputDir(): string {
  const args = process.argv.slice(2);
  let out: string | undefined = process.env.OTEL_AUDIT_VECTORS_DIR || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--out') out = args[++i];
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}; usage: generate-vectors.ts [--out <dir>]`);
  }
  if (out === '') throw new Error('--out needs a directory');
  const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  return path.resolve(out ?? path.join(repo, 'test', 'vectors'));
}

/** Deletes `dir` and writes every file; refuses to delete a folder that holds anything else. */
function writeAll(dir: string): void {
  if (existsSync(dir)) {
    const known = new Set<string>([...FOLDERS, 'README.md']);
    const foreign = readdirSync(dir).filter((entry) => !known.has(entry));
    if (foreign.length > 0) {
      throw new Error(`refusing to delete ${dir}: it holds ${foreign.join(', ')}, which this script did not write`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [rel, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

// ---------------------------------------------------------------------------
// Fixed test keys (never use them for anything but tests)

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface TestKey {
  name: string;
  signerKey: string;
  verifierKey: string;
  signer: NoteSigner;
}

/** A signed-note key whose 32-byte seed is SHA-256(seedLabel). */
function testKey(name: string, seedLabel: string): TestKey {
  const seed = createHash('sha256').update(seedLabel, 'utf8').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  const hash = noteKeyHash(name, publicKey).toString(16).padStart(8, '0');
  const signerKey = `PRIVATE+KEY+${name}+${hash}+${Buffer.concat([Buffer.from([0x01]), seed]).toString('base64')}`;
  const verifierKey = formatVerifierKey(name, publicKey);
  const signer = parseSignerKey(signerKey);
  check(signer.verifierKey === verifierKey, `test key ${name}: signer and verifier keys disagree`);
  return { name, signerKey, verifierKey, signer };
}

const TRUSTED = testKey('otel-audit-TEST-KEY-do-not-use', 'otel-audit test vectors');
const ROTATED = testKey('otel-audit-TEST-KEY-2-do-not-use', 'otel-audit test vectors: second key');
const UNTRUSTED = testKey('otel-audit-TEST-KEY-untrusted-do-not-use', 'otel-audit test vectors: untrusted key');

// ---------------------------------------------------------------------------
// canonical/: RFC 8785

const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

function canonicalCase(name: string, description: string, input: string, expected?: string): void {
  const value: unknown = JSON.parse(input);
  const actual = canonicalize(value);
  if (expected !== undefined) check(actual === expected, `canonical/${name}: library gives ${actual}, expected ${expected}`);
  // Differential check against an independent JCS implementation.
  check(erdtman(value) === actual, `canonical/${name}: canonicalize and the erdtman implementation disagree`);
  put('canonical', name, { description, input, valid: true, expected: actual, expectedUtf8Hex: hexOf(actual) });
}

function invalidCanonicalCase(name: string, description: string, input: string): void {
  let rejected = false;
  try {
    canonicalize(JSON.parse(input));
  } catch {
    rejected = true;
  }
  check(rejected, `canonical/${name}: expected canonicalize to reject ${input}`);
  put('canonical', name, { description, input, valid: false });
}

function generateCanonical(): void {
  canonicalCase(
    'rfc8785-example-3.2.4',
    'RFC 8785 §3.2.4: the worked example (numbers, string escaping, literals, member order).',
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n' +
      '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  canonicalCase(
    'rfc8785-sorting-3.2.3',
    'RFC 8785 §3.2.3: members sorted by UTF-16 code units — U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code point or UTF-8 order.',
    '{\n  "\\u20ac": "Euro Sign",\n  "\\r": "Carriage Return",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "1": "One",\n' +
      '  "\\ud83d\\ude00": "Emoji: Grinning Face",\n  "\\u0080": "Control",\n  "\\u00f6": "Latin Small Letter O With Diaeresis"\n}',
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",' +
      '"😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );

  // RFC 8785 Appendix B: IEEE 754 doubles and their serialization (NaN and
  // Infinity, the two rows without one, are not JSON numbers).
  const appendixB: [bits: string, expected: string, what: string][] = [
    ['0000000000000000', '0', 'zero'],
    ['8000000000000000', '0', 'minus zero'],
    ['0000000000000001', '5e-324', 'smallest positive (subnormal) number'],
    ['8000000000000001', '-5e-324', 'smallest negative (subnormal) number'],
    ['7fefffffffffffff', '1.7976931348623157e+308', 'largest positive number'],
    ['ffefffffffffffff', '-1.7976931348623157e+308', 'largest negative number'],
    ['4340000000000000', '9007199254740992', '2^53'],
    ['c340000000000000', '-9007199254740992', '-2^53'],
    ['4430000000000000', '295147905179352830000', '~2^68: integer digits, no exponent below 1e21'],
    ['44b52d02c7e14af5', '9.999999999999997e+22', 'just below 1e23'],
    ['44b52d02c7e14af6', '1e+23', '1e23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23', 'just above 1e23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000', 'below 1e21: integer digits'],
    ['444b1ae4d6e2ef4f', '999999999999999900000', 'largest double below 1e21'],
    ['444b1ae4d6e2ef50', '1e+21', '1e21: the first exponent form'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7', 'below 1e-6: exponent form'],
    ['3eb0c6f7a0b5ed8d', '0.000001', '1e-6: the last fixed form'],
    ['41b3de4355555553', '333333333.3333332', 'shortest round-trip digits'],
    ['41b3de4355555554', '333333333.33333325', 'shortest round-trip digits'],
    ['41b3de4355555555', '333333333.3333333', 'shortest round-trip digits'],
    ['41b3de4355555556', '333333333.3333334', 'shortest round-trip digits'],
    ['41b3de4355555557', '333333333.33333343', 'shortest round-trip digits'],
    ['becbf647612f3696', '-0.0000033333333333333333', 'negative fixed form with leading zeros'],
    ['43143ff3c1cb0959', '1424953923781206.2', 'fraction digit of a large number'],
  ];
  for (const [bits, expected, what] of appendixB) {
    const x = Buffer.from(bits, 'hex').readDoubleBE(0);
    // 17 significant digits identify any double; -0 needs its sign written out.
    const input = Object.is(x, -0) ? '-0.0' : x.toExponential(16);
    check(Object.is(JSON.parse(input), x), `number ${bits}: ${input} does not parse back to the same double`);
    canonicalCase(
      `number-ieee-${bits}`,
      `RFC 8785 Appendix B: the double 0x${bits} (${what}), given as ${Object.is(x, -0) ? '-0.0' : 'exponent form with 17 significant digits'}.`,
      input,
      expected,
    );
  }

  canonicalCase('number-integers', 'Integers in the safe range are written without fraction or exponent.',
    '[0, 1, -1, 42, 1000000, 9007199254740991, -9007199254740991]', '[0,1,-1,42,1000000,9007199254740991,-9007199254740991]');
  canonicalCase('number-trailing-zeros-and-exponents', 'Fractions lose trailing zeros; exponent forms become the shortest ECMAScript form.',
    '[4.50, 1.0, 100.000, 1E2, 2e-3, 12.5e1, 0.10, 1E+2]', '[4.5,1,100,100,0.002,125,0.1,100]');
  canonicalCase('number-exponent-boundaries', 'Fixed notation for 1e-6 <= |x| < 1e21, exponent notation (with sign) outside.',
    '[1e20, 1e21, 1.5e21, 1e-6, 1e-7, 1.5e-7, 123e-20, -1e21, -1e-7]',
    '[100000000000000000000,1e+21,1.5e+21,0.000001,1e-7,1.5e-7,1.23e-18,-1e+21,-1e-7]');
  canonicalCase('number-negative-zero', 'Minus zero serializes as 0.', '[-0, -0.0, -0e10]', '[0,0,0]');
  canonicalCase('number-precision', 'Doubles are written with the fewest digits that round-trip.',
    '[0.1, 0.2, 0.30000000000000004, 3.141592653589793, 2.718281828459045e-10, 1.7976931348623157e308]',
    '[0.1,0.2,0.30000000000000004,3.141592653589793,2.718281828459045e-10,1.7976931348623157e+308]');
  canonicalCase('literals', 'true, false and null are written as is.', '[ true , false , null ]', '[true,false,null]');
  canonicalCase('whitespace-removed', 'Insignificant white space between tokens is removed.',
    ' \n\t{ "b" :\r\n [ 1 , 2 ] ,\t"a" : { } } \n', '{"a":{},"b":[1,2]}');
  canonicalCase('empty-containers', 'Empty object, array and string members.', '{"o":{},"a":[],"s":"","n":[[],{}]}', '{"a":[],"n":[[],{}],"o":{},"s":""}');
  canonicalCase('nested-sorting', 'Members are sorted at every depth; array order is kept.',
    '{"z":{"b":1,"a":[{"y":2,"x":1},{"d":null,"c":true}]},"a":{"k":{"j":{"i":"deep"}}}}',
    '{"a":{"k":{"j":{"i":"deep"}}},"z":{"a":[{"x":1,"y":2},{"c":true,"d":null}],"b":1}}');
  canonicalCase('key-ordering-ascii', 'Sorting is by code unit, not locale: upper case first, prefixes first, the empty name first, digits as characters.',
    '{"b":1,"a":2,"B":3,"aa":4,"":5,"A":6,"a0":7,"10":8,"9":9,"_":10,"~":11}',
    '{"":5,"10":8,"9":9,"A":6,"B":3,"_":10,"a":2,"a0":7,"aa":4,"b":1,"~":11}');
  canonicalCase('key-ordering-utf16', 'Names outside the BMP (surrogate pairs D800–DFFF) sort before U+E000–U+FFFF, unlike code point order.',
    '{"\\uffff":1,"\\ud800\\udc00":2,"\\ue000":3,"\\ud83d\\ude00":4,"\\u00e9":5,"e":6,"\\u0080":7,"\\ud7ff":8}',
    '{"e":6,"\u0080":7,"é":5,"\ud7ff":8,"\ud800\udc00":2,"😀":4,"\ue000":3,"\uffff":1}');
  canonicalCase('string-control-characters', 'U+0000–U+001F: \\b \\t \\n \\f \\r as two-character escapes, the rest as \\u00xx in lower-case hex.',
    JSON.stringify(Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')),
    '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
      '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"');
  canonicalCase('string-escapes', 'Only " and \\ are escaped besides controls; "/" is not; DEL, U+2028 and U+2029 are written raw.',
    '"quote\\" backslash\\\\ slash\\/ del\\u007f ls\\u2028 ps\\u2029 tab\\t"', '"quote\\" backslash\\\\ slash/ del\u007f ls\u2028 ps\u2029 tab\\t"');
  canonicalCase('string-non-ascii', 'Non-ASCII characters are written as raw UTF-8, whether escaped or raw in the input (2-, 3- and 4-byte sequences).',
    '["\\u00e9t\\u00e9", "été", "\\u20ac", "€", "\\ud83d\\ude00", "😀", "\\u4e2d\\u6587", "\\ufeff"]',
    '["été","été","€","€","😀","😀","中文","\ufeff"]');
  canonicalCase('top-level-string', 'A JSON text may be a lone string.', '"caf\\u00e9"', '"café"');
  canonicalCase('top-level-number', 'A JSON text may be a lone number.', '1E3', '1000');
  canonicalCase('top-level-null', 'A JSON text may be a lone literal.', ' null ', 'null');
  canonicalCase('audit-record-shape', 'An object shaped like an audit record: fixed member order, nested details keep their nulls.',
    '{"v":1,"type":"auth","time":"1731000000000000000","action":"login","outcome":"failure","severity":"warning",' +
      '"actor":{"type":"user","id":"alice","ip":"203.0.113.7"},"details":{"reason":"bad password","attempt":3,"mfa":null}}',
    '{"action":"login","actor":{"id":"alice","ip":"203.0.113.7","type":"user"},"details":{"attempt":3,"mfa":null,"reason":"bad password"},' +
      '"outcome":"failure","severity":"warning","time":"1731000000000000000","type":"auth","v":1}');

  invalidCanonicalCase('invalid-lone-high-surrogate', 'A lone high surrogate has no UTF-8 encoding: rejected.', '"\\ud800"');
  invalidCanonicalCase('invalid-lone-low-surrogate', 'A lone low surrogate has no UTF-8 encoding: rejected.', '"\\udc00"');
  invalidCanonicalCase('invalid-high-surrogate-at-end', 'A high surrogate at the end of a string, not followed by a low one: rejected.', '"abc\\ud83d"');
  invalidCanonicalCase('invalid-reversed-surrogate-pair', 'Low surrogate before high surrogate is two lone surrogates: rejected.', '"\\ude00\\ud83d"');
  invalidCanonicalCase('invalid-lone-surrogate-in-member-name', 'A lone surrogate in a member name: rejected.', '{"ok":1,"\\udead":2}');
  invalidCanonicalCase('invalid-lone-surrogate-nested', 'A lone surrogate deep inside arrays and objects: rejected.', '{"a":[1,{"b":["x\\udfffy"]}]}');
  invalidCanonicalCase('invalid-number-overflow', 'A number beyond the double range (I-JSON): rejected when parsed or when serialized.', '[1e400]');
}

// ---------------------------------------------------------------------------
// record-hash/: §4.1–4.2

const T0 = 1_731_000_000_000_000_000n;

/** A UUIDv7 for `ms` with rand bits derived from `label`, fixed for the vectors. */
function fixedId(ms: bigint, label: string): string {
  const r = createHash('sha256').update(label, 'utf8').digest('hex');
  const t = ms.toString(16).padStart(12, '0');
  const variant = ((parseInt(r[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}

function independentLeafHash(alg: HashAlgorithm, canonical: string): string {
  return createHash(alg).update(Buffer.from([0x00])).update(canonical, 'utf8').digest('hex');
}

function generateRecordHash(): void {
  for (const alg of HASH_ALGORITHMS) {
    const input: AuditRecordInput = {
      v: 1,
      alg,
      stream: `billing-api/test-vectors-${alg}`,
      seq: 0,
      prev: genesisPrev(alg),
      id: fixedId(T0 / 1_000_000n, `record-hash ${alg}`),
      time: T0.toString(),
      type: 'crud',
      action: 'update',
      outcome: 'success',
      severity: 'info',
      actor: { id: 'u-1001', type: 'user', ip: '2001:db8::7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
      target: { type: 'invoice', id: 'inv-2024-0042', name: 'Rechnung Nr. 42 — Müller & Söhne' },
      request: {
        id: 'req-7f3a', session_id: 'sess-91', endpoint: '/api/invoices/:id', method: 'PATCH',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7',
      },
      details: { reason: 'customer asked', items: [1, 2.5, -3e-7, 1e21], flags: { urgent: true, note: null }, 'ключ': '値', '\ud83d\ude00': 'emoji key' },
      old: { amount: 100, currency: 'EUR', password: '[REDACTED]' },
      new: { amount: 120.75, currency: 'EUR', password: '[REDACTED]' },
      redacted: ['/old/password', '/new/password'],
    };
    const record = normalizeRecord(input);
    const canonical = canonicalize(record);
    const hash = leafHash(alg, canonical).toString('hex');
    check(hash === independentLeafHash(alg, canonical), `record-hash ${alg}: leafHash differs from H(0x00 || canonical)`);
    check(record.alg === alg, `record-hash ${alg}: record.alg is ${record.alg}`);
    const genesis = genesisPrev(alg);
    check(genesis === createHash(alg).digest('hex'), `record-hash ${alg}: genesisPrev is not the hash of the empty string`);
    put('record-hash', `record-${alg}`, {
      description: `A full record of a ${alg} stream at seq 0 (prev = genesis prev), with every member of DESIGN §4.1.`,
      alg,
      record: JSON.parse(canonical),
      canonical,
      hash,
      genesisPrev: genesis,
    });
  }

  // Producer input that normalisation changes (JSON-representable), and the record it becomes.
  const alg: HashAlgorithm = 'sha256';
  const input = {
    alg,
    stream: 'billing-api/test-vectors-sha256',
    seq: 1,
    prev: 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
    id: fixedId(T0 / 1_000_000n + 1n, 'record-hash minimal').toUpperCase(),
    time: (T0 + 1n).toString(),
    type: 'auth',
    action: 'logout',
    outcome: null,
    actor: { id: 42, ip: null },
    target: {},
    details: { kept: null, token: '[REDACTED]', password: '[REDACTED]' },
    redacted: ['/details/token', '/details/password', '/details/token'],
  };
  const record = normalizeRecord(input);
  const canonical = canonicalize(record);
  const hash = leafHash(alg, canonical).toString('hex');
  check(hash === independentLeafHash(alg, canonical), 'record-hash normalised: hash');
  put('record-hash', 'record-sha256-normalised', {
    description:
      'Producer input and the record normalisation makes of it (DESIGN §4.1): v added, outcome "unknown" and severity "info" by default, ' +
      'null members and the empty target omitted, numeric actor.id as a decimal string, id and prev lower-cased, redacted sorted and ' +
      'de-duplicated; nested nulls in details kept.',
    alg,
    input,
    record: JSON.parse(canonical),
    canonical,
    hash,
    genesisPrev: genesisPrev(alg),
  });
}

// ---------------------------------------------------------------------------
// merkle/: RFC 9162 §2.1, cross-checked with a direct transcription of its
// definitions (packages/core/test/support/rfc9162-reference.ts)

const hexList = (list: readonly Uint8Array[]): string[] => list.map((b) => Buffer.from(b).toString('hex'));
const sameBytes = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean =>
  a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0);

interface Tree {
  name: string;
  alg: HashAlgorithm;
  data: Buffer[];
  leaves: Buffer[];
}

function makeTree(name: string, alg: HashAlgorithm, data: Buffer[]): Tree {
  return { name, alg, data, leaves: data.map((d) => leafHash(alg, d)) };
}

/** `published[size]`, when given, is the published root of the first `size` leaves. */
function treeCase(tree: Tree, description: string, published?: readonly string[]): void {
  const roots = [];
  for (let size = 0; size <= tree.leaves.length; size++) {
    const root = merkleRoot(tree.alg, tree.leaves, size);
    check(root.equals(refMth(tree.alg, tree.leaves.slice(0, size))), `merkle ${tree.name}: root at ${size} differs from the RFC definition`);
    if (published !== undefined) {
      check(root.toString('hex') === published[size], `merkle ${tree.name}: root at ${size} differs from the published value`);
    }
    roots.push({ size, root: root.toString('hex') });
  }
  put('merkle', `tree-${tree.name}`, {
    description,
    alg: tree.alg,
    leafData: tree.data.map((d) => d.toString('hex')),
    leaves: hexList(tree.leaves),
    roots,
  });
}

function inclusionCase(tree: Tree, index: number, size: number): void {
  const leaves = tree.leaves.slice(0, size);
  const proof = inclusionProof(tree.alg, index, size, tree.leaves);
  check(sameBytes(proof, refPath(tree.alg, index, leaves)), `merkle ${tree.name}: inclusion ${index}/${size} differs from PATH`);
  const root = merkleRoot(tree.alg, tree.leaves, size);
  check(verifyInclusion(tree.alg, index, size, tree.leaves[index]!, proof, root), `merkle ${tree.name}: inclusion ${index}/${size} does not verify`);
  put('merkle', `inclusion-${tree.name}-i${index}-n${size}`, {
    description: `Inclusion proof of leaf ${index} in the first ${size} leaves of the ${tree.name} tree (RFC 9162 §2.1.3).`,
    alg: tree.alg,
    leaves: hexList(leaves),
    index,
    size,
    leaf: tree.leaves[index]!.toString('hex'),
    proof: hexList(proof),
    root: root.toString('hex'),
    valid: true,
  });
}

function consistencyCase(tree: Tree, oldSize: number, newSize: number): void {
  const leaves = tree.leaves.slice(0, newSize);
  const proof = consistencyProof(tree.alg, oldSize, newSize, tree.leaves);
  check(sameBytes(proof, refSubproof(tree.alg, oldSize, leaves, true)), `merkle ${tree.name}: consistency ${oldSize}/${newSize} differs from PROOF`);
  const oldRoot = merkleRoot(tree.alg, tree.leaves, oldSize);
  const newRoot = merkleRoot(tree.alg, tree.leaves, newSize);
  check(verifyConsistency(tree.alg, oldSize, newSize, oldRoot, newRoot, proof), `merkle ${tree.name}: consistency ${oldSize}/${newSize} does not verify`);
  put('merkle', `consistency-${tree.name}-m${oldSize}-n${newSize}`, {
    description: `Consistency proof between the first ${oldSize} and the first ${newSize} leaves of the ${tree.name} tree (RFC 9162 §2.1.4).`,
    alg: tree.alg,
    leaves: hexList(leaves),
    oldSize,
    newSize,
    oldRoot: oldRoot.toString('hex'),
    newRoot: newRoot.toString('hex'),
    proof: hexList(proof),
    valid: true,
  });
}

function flipFirstByte(hex: string): string {
  return ((parseInt(hex.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, '0')) + hex.slice(2);
}

/** A mutated copy of a generated inclusion or consistency case that must not verify. */
function negativeCase(source: string, mutation: string, description: string, mutate: (c: Record<string, unknown>) => void): void {
  const text = files.get(`merkle/${source}.json`);
  check(text !== undefined, `merkle: no case ${source} to mutate`);
  const c = JSON.parse(text) as Record<string, unknown>;
  mutate(c);
  c.description = description;
  c.valid = false;
  const alg = c.alg as HashAlgorithm;
  const bytes = (h: unknown): Buffer => Buffer.from(h as string, 'hex');
  const proof = (c.proof as string[]).map(bytes);
  const ok = 'index' in c
    ? verifyInclusion(alg, c.index as number, c.size as number, bytes(c.leaf), proof, bytes(c.root))
    : verifyConsistency(alg, c.oldSize as number, c.newSize as number, bytes(c.oldRoot), bytes(c.newRoot), proof);
  check(!ok, `merkle ${source}-${mutation}: the mutated proof still verifies`);
  put('merkle', `${source}-${mutation}`, c);
}

function generateMerkle(): void {
  // The RFC 6962 reference tree (certificate-transparency and
  // transparency-dev/merkle test data) and its published roots, sizes 0..8.
  const rfc = makeTree('rfc6962', 'sha256', CT_INPUTS.map((h) => Buffer.from(h, 'hex')));
  treeCase(rfc, 'The RFC 6962 reference tree: 8 leaves of the data given in leafData; roots for every size, as published.', CT_ROOTS);
  for (let size = 1; size <= rfc.leaves.length; size++) {
    for (let index = 0; index < size; index++) inclusionCase(rfc, index, size);
  }
  for (let newSize = 1; newSize <= rfc.leaves.length; newSize++) {
    for (let oldSize = 1; oldSize <= newSize; oldSize++) consistencyCase(rfc, oldSize, newSize);
  }

  const big = makeTree('sha256-77', 'sha256', Array.from({ length: 77 }, (_, i) => Buffer.from(`leaf ${i}`, 'utf8')));
  treeCase(big, 'A 77-leaf sha256 tree (leaf i is the UTF-8 text "leaf <i>"): roots for every size 0..77.');
  for (const [index, size] of [[0, 1], [0, 77], [76, 77], [38, 77], [64, 77], [63, 64], [31, 45], [12, 13], [44, 45], [5, 33]] as const) {
    inclusionCase(big, index, size);
  }
  for (const [oldSize, newSize] of [[1, 77], [32, 77], [64, 77], [63, 64], [45, 77], [7, 8], [33, 65], [76, 77], [77, 77], [13, 50]] as const) {
    consistencyCase(big, oldSize, newSize);
  }

  const sha3 = makeTree('sha3-512-13', 'sha3-512', Array.from({ length: 13 }, (_, i) => Buffer.from([i, i, i])));
  treeCase(sha3, 'A 13-leaf sha3-512 tree (leaf i is the three bytes i, i, i): 64-byte nodes, roots for every size 0..13.');
  inclusionCase(sha3, 9, 13);
  consistencyCase(sha3, 5, 13);

  negativeCase('inclusion-rfc6962-i5-n8', 'flipped-proof-byte', 'Inclusion proof of leaf 5 of 8 with one bit of its first element flipped: must not verify.',
    (c) => { const p = c.proof as string[]; p[0] = flipFirstByte(p[0]!); });
  negativeCase('inclusion-rfc6962-i5-n8', 'wrong-index', 'The proof of leaf 5 of 8 presented for index 4: must not verify.',
    (c) => { c.index = 4; });
  negativeCase('inclusion-rfc6962-i5-n8', 'wrong-size', 'The proof of leaf 5 of 8 presented for a tree of 6 with the same root: must not verify.',
    (c) => { c.size = 6; });
  negativeCase('inclusion-rfc6962-i5-n8', 'extra-proof-element', 'The proof of leaf 5 of 8 with the root appended as a fourth element: must not verify.',
    (c) => { (c.proof as string[]).push(c.root as string); });
  negativeCase('inclusion-rfc6962-i5-n8', 'missing-proof-element', 'The proof of leaf 5 of 8 without its last element: must not verify.',
    (c) => { (c.proof as string[]).pop(); });
  negativeCase('inclusion-sha256-77-i76-n77', 'wrong-leaf', 'The proof of the last leaf of 77 presented for leaf 75\'s hash: must not verify.',
    (c) => { c.leaf = big.leaves[75]!.toString('hex'); });
  negativeCase('consistency-rfc6962-m3-n7', 'flipped-proof-byte', 'Consistency proof 3 → 7 with one bit of its second element flipped: must not verify.',
    (c) => { const p = c.proof as string[]; p[1] = flipFirstByte(p[1]!); });
  negativeCase('consistency-rfc6962-m3-n7', 'wrong-old-root', 'Consistency proof 3 → 7 checked against the root of 2 leaves as the old root: must not verify.',
    (c) => { c.oldRoot = CT_ROOTS[2]; });
  negativeCase('consistency-rfc6962-m4-n8', 'old-root-prepended', 'Consistency proof 4 → 8 (old size a power of two) with the old root wrongly included as first element: must not verify.',
    (c) => { (c.proof as string[]).unshift(c.oldRoot as string); });
  negativeCase('consistency-sha256-77-m32-n77', 'wrong-new-root', 'Consistency proof 32 → 77 checked against the root of 76 leaves as the new root: must not verify.',
    (c) => { c.newRoot = merkleRoot('sha256', big.leaves, 76).toString('hex'); });
}

// ---------------------------------------------------------------------------
// checkpoint/: §4.3

/** Flips the lowest bit of one byte of the Ed25519 signature on signature line `sigIndex` (not the key hash). */
function flipSignatureByte(note: string, sigIndex = 0): string {
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

function generateCheckpoints(): void {
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

// ---------------------------------------------------------------------------
// streams/: §4.4

interface Row {
  record: Record<string, unknown>;
  checksum: string;
}

interface CheckpointAt {
  size: number;
  rootHex: string;
  time: bigint;
}

interface BuiltStream {
  stream: string;
  alg: HashAlgorithm;
  rows: Row[];
  checkpoints: CheckpointAt[];
}

interface FindingJson {
  code: string;
  seq?: number;
  lastSeq?: number;
  size?: number;
}

const RECORDS = 25;
const recordTime = (i: number): bigint => T0 + BigInt(i) * 1_250_000_000n;
const checkpointTime = (size: number): bigint => recordTime(size - 1) + 500_000_000n;

/** The event of record i: a plausible mix of what a service audits. */
function event(stream: string, i: number): AuditEventInput {
  const id = fixedId(recordTime(i) / 1_000_000n, `${stream} ${i}`);
  const base = { id, time: recordTime(i) };
  const user = `u-${1000 + (i % 4)}`;
  const actor = { id: user, type: 'user', ip: `198.51.100.${10 + (i % 7)}` };
  switch (i % 6) {
    case 0:
      return { ...base, type: 'auth', action: 'login', outcome: 'success', actor, details: { method: 'password', mfa: 'totp', n: i } };
    case 1:
      return {
        ...base, type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', actor: { ...actor, user_agent: 'curl/8.5.0' },
        details: { note: 'bad password', attempt: (i % 3) + 1 }, error: 'invalid credentials',
      };
    case 2:
      return {
        ...base, type: 'crud', action: 'update', outcome: 'success', actor,
        target: { type: 'invoice', id: `inv-${i}`, name: `Invoice ${i} — Müller GmbH` },
        request: { id: `req-${i}`, method: 'PATCH', endpoint: '/api/invoices/:id', trace_id: createHash('md5').update(`t${i}`).digest('hex') },
        old: { amount: 100 + i, status: 'draft' }, new: { amount: 100.5 + i, status: 'sent' }, details: { n: i },
      };
    case 3:
      return {
        ...base, type: 'access', action: 'view', outcome: 'success', actor, target: { type: 'report', id: `r-${i}` },
        details: { note: 'quarterly report', rows: 1200 + i, filters: { region: 'EU', year: 2024 } },
      };
    case 4:
      return {
        ...base, type: 'admin', action: 'grant', outcome: 'success', severity: 'warning', actor: { id: 'admin-1', type: 'user' },
        target: { type: 'user', id: user }, details: { role: 'billing-editor', n: i, api_key: '[REDACTED]' }, redacted: ['/details/api_key'],
      };
    default:
      return {
        ...base, type: 'security', action: 'rate_limit', outcome: 'failure', severity: 'error', actor: { type: 'anonymous', ip: '203.0.113.9' },
        request: { method: 'POST', endpoint: '/auth/login' }, details: { note: 'limit exceeded', limit: 10, window_s: 60, n: i },
      };
  }
}

/** 25 records sealed by AuditChain, with checkpoints (root, time) after 10, 20 and 25. */
function buildStream(stream: string, alg: HashAlgorithm, edit: (i: number, e: AuditEventInput) => AuditEventInput = (_, e) => e): BuiltStream {
  const chain = new AuditChain({ stream, alg });
  const rows: Row[] = [];
  const checkpoints: CheckpointAt[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const sealed = chain.append(edit(i, event(stream, i)));
    check(sealed.hash === independentLeafHash(alg, sealed.canonical), `stream ${stream}: record ${i} hash`);
    rows.push({ record: JSON.parse(sealed.canonical) as Record<string, unknown>, checksum: sealed.hash });
    const size = i + 1;
    if (size % 10 === 0 || size === RECORDS) {
      const at = { size, rootHex: chain.rootHex(), time: checkpointTime(size) };
      check(chain.checkpoint(at.time, [TRUSTED.signer]) === sign(stream, at, [TRUSTED.signer]), `stream ${stream}: checkpoint ${size}`);
      checkpoints.push(at);
    }
  }
  check(
    merkleRoot(alg, rows.map((r) => Buffer.from(r.checksum, 'hex')), RECORDS).toString('hex') === chain.rootHex(),
    `stream ${stream}: chain root differs from merkleRoot over the checksums`,
  );
  return { stream, alg, rows, checkpoints };
}

function sign(stream: string, at: CheckpointAt, signers: readonly NoteSigner[]): string {
  return signCheckpoint({ origin: stream, size: at.size, rootHash: at.rootHex, timeUnixNano: at.time }, signers, { allowUnsigned: signers.length === 0 });
}

const clone = <T>(value: T): T => structuredClone(value);

/** Re-seals an edited record the way an attacker with the code would: normalise, canonicalize, hash. */
function reseal(alg: HashAlgorithm, record: Record<string, unknown>): Row {
  const normalised = normalizeRecord(record as unknown as AuditRecordInput);
  const canonical = canonicalize(normalised);
  return { record: JSON.parse(canonical) as Record<string, unknown>, checksum: leafHash(alg, canonical).toString('hex') };
}

function pick(f: FindingJson): FindingJson {
  return {
    code: f.code,
    ...(f.seq === undefined ? {} : { seq: f.seq }),
    ...(f.lastSeq === undefined ? {} : { lastSeq: f.lastSeq }),
    ...(f.size === undefined ? {} : { size: f.size }),
  };
}

function streamCase(
  name: string,
  description: string,
  input: { keyring: KeyringEntryJson[]; records: Row[]; checkpoints: string[] },
  expected: { ok: boolean; findings: FindingJson[] },
): void {
  const verifier = new Verifier({ keyring: keyringOf(input.keyring) });
  for (const note of input.checkpoints) verifier.addCheckpoint(note);
  for (const row of input.records) verifier.addRecord(clone(row.record), row.checksum);
  const report = verifier.finish();
  const findings = report.streams.flatMap((s) => s.findings.map(pick));
  const actual = { ok: report.ok, findings };
  check(
    isDeepStrictEqual(actual, expected),
    `streams/${name}: the verifier reports ${JSON.stringify(actual)}, the case declares ${JSON.stringify(expected)}`,
  );
  put('streams', name, { description, keyring: input.keyring, records: input.records, checkpoints: input.checkpoints, expected });
}

function generateStreams(): void {
  const stream = 'billing-api/test-vectors-sha256';
  const alg: HashAlgorithm = 'sha256';
  const base = buildStream(stream, alg);
  const keyring: KeyringEntryJson[] = [{ verifierKey: TRUSTED.verifierKey }];
  const notes = (signers: readonly NoteSigner[] = [TRUSTED.signer], b: BuiltStream = base): string[] =>
    b.checkpoints.map((at) => sign(b.stream, at, signers));
  const rows = (): Row[] => clone(base.rows);
  const intact = { keyring, records: base.rows, checkpoints: notes() };

  streamCase('intact',
    `${RECORDS} sha256 records with signed checkpoints at sizes 10, 20 and 25: nothing to report.`,
    intact, { ok: true, findings: [] });

  {
    const records = rows();
    const details = records[7]!.record.details as Record<string, unknown>;
    const note = details.note as string;
    details.note = String.fromCharCode(note.charCodeAt(0) ^ 0x01) + note.slice(1);
    streamCase('flip-bit-in-details',
      `One bit flipped in details.note of seq 7 ("${note}" → "${details.note as string}"), stored checksum kept: the record no longer hashes to its checksum ` +
        '(hash_mismatch at 7); the recomputed tree no longer matches the checkpoints at sizes 10, 20 and 25 (root_mismatch, one per checkpoint); ' +
        'no checkpoint verifies, so every record is an unsigned tail.',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'hash_mismatch', seq: 7 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = rows();
    (records[12]!.record.actor as Record<string, unknown>).id = 'mallory';
    records[12] = reseal(alg, records[12]!.record);
    streamCase('edit-actor-and-rehash',
      'actor.id of seq 12 changed to "mallory" and its checksum recomputed: seq 13 no longer links to it (chain_break at 13) and ' +
        'the checkpoints at sizes 20 and 25 no longer match (root_mismatch for each); records after the last verified checkpoint (10) are an unsigned tail.',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 13 }, { code: 'root_mismatch', seq: 19, size: 20 }, { code: 'root_mismatch', seq: 24, size: 25 },
          { code: 'unsigned_tail', seq: 10, lastSeq: 24 },
        ],
      });
  }
  streamCase('deleted-record',
    'The record at seq 5 removed: seq_gap 5..5. The tree cannot be rebuilt past the gap, so no checkpoint can be checked and all records are an unsigned tail.',
    { ...intact, records: base.rows.filter((_, i) => i !== 5) },
    { ok: false, findings: [{ code: 'seq_gap', seq: 5, lastSeq: 5 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  {
    const records = rows();
    const third = records[3]!.record;
    const fourth = records[4]!.record;
    records[3] = reseal(alg, { ...fourth, seq: 3, prev: records[2]!.checksum });
    records[4] = reseal(alg, { ...third, seq: 4, prev: records[3].checksum });
    streamCase('swapped-3-4',
      'The events at seq 3 and 4 swapped, with seq and prev rewritten and both rehashed so that they chain: seq 5 still links to the old seq 4 ' +
        '(chain_break at 5) and no checkpoint matches any more (root_mismatch at sizes 10, 20 and 25).',
      { ...intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 5 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = rows();
    const forged = reseal(alg, { ...records[3]!.record, id: fixedId(recordTime(3) / 1_000_000n, 'forged'), action: 'delete' });
    records.splice(4, 0, forged);
    streamCase('duplicate-seq',
      'A second, different record claiming seq 3 (new id, action "delete", self-consistent hash) inserted after the genuine one: duplicate at 3.',
      { ...intact, records },
      { ok: false, findings: [{ code: 'duplicate', seq: 3 }] });
  }
  {
    const b = buildStream(stream, alg, (i, e) => (i === 6 ? { ...e, id: event(stream, 5).id } : e));
    streamCase('duplicate-id',
      'The producer sealed the event at seq 6 with the id of seq 5 (a retried event sealed twice); chain and checkpoints are otherwise consistent: duplicate at 6.',
      { keyring, records: b.rows, checkpoints: notes([TRUSTED.signer], b) },
      { ok: false, findings: [{ code: 'duplicate', seq: 6 }] });
  }
  streamCase('truncated-tail',
    'The newest 3 records (seq 22..24) removed: the signed checkpoint at size 25 covers records that are not there (truncated, found at seq 22); ' +
      'records 20..21 after the last verified checkpoint are an unsigned tail.',
    { ...intact, records: base.rows.slice(0, 22) },
    { ok: false, findings: [{ code: 'truncated', seq: 22, size: 25 }, { code: 'unsigned_tail', seq: 20, lastSeq: 21 }] });
  streamCase('unsigned-tail',
    'No checkpoint after size 20: records 20..24 are covered by no signature. A warning only, so the stream is ok.',
    { ...intact, checkpoints: notes().slice(0, 2) },
    { ok: true, findings: [{ code: 'unsigned_tail', seq: 20, lastSeq: 24 }] });
  {
    const checkpoints = notes();
    checkpoints[1] = flipSignatureByte(checkpoints[1]!);
    streamCase('bad-signature',
      'One bit flipped in the signature of the checkpoint at size 20: bad_signature. The checkpoint at size 25 still verifies.',
      { ...intact, checkpoints },
      { ok: false, findings: [{ code: 'bad_signature', size: 20 }] });
  }
  streamCase('stripped-signatures',
    'The signature lines removed from every checkpoint while trusted keys are given: a checkpoint with no valid trusted signature fails (bad_signature), so nothing is covered.',
    { ...intact, checkpoints: notes([]) },
    { ok: false, findings: [{ code: 'bad_signature', size: 10 }, { code: 'bad_signature', size: 20 }, { code: 'bad_signature', size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('keyless-unsigned',
    'A deployment without a signing key writes unsigned checkpoints and is verified without keys: roots are still compared, and the stream is reported as an unsigned tail (a warning).',
    { ...intact, keyring: [], checkpoints: notes([]) },
    { ok: true, findings: [{ code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('unknown-key',
    'Every checkpoint signed by a key that is not in the keyring: unknown_key for each, and no record is covered by a trusted signature.',
    { ...intact, checkpoints: notes([UNTRUSTED.signer]) },
    { ok: false, findings: [{ code: 'unknown_key', size: 10 }, { code: 'unknown_key', size: 20 }, { code: 'unknown_key', size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 }] });
  streamCase('key-out-of-window',
    'The trusted key was retired at the time of the checkpoint at size 10 (notAfter = that time, inclusive): the later checkpoints fall outside its window.',
    { ...intact, keyring: [{ verifierKey: TRUSTED.verifierKey, notAfter: checkpointTime(10).toString() }] },
    { ok: false, findings: [{ code: 'key_out_of_window', size: 20 }, { code: 'key_out_of_window', size: 25 }, { code: 'unsigned_tail', seq: 10, lastSeq: 24 }] });
  {
    const rotatedAt = checkpointTime(10) + 1n;
    const checkpoints = base.checkpoints.map((at) => sign(stream, at, [at.size <= 10 ? TRUSTED.signer : ROTATED.signer]));
    streamCase('key-rotation',
      'The first key signs until the checkpoint at size 10, the second key from one nanosecond later: every checkpoint is in its key\'s window.',
      {
        keyring: [
          { verifierKey: TRUSTED.verifierKey, notAfter: (rotatedAt - 1n).toString() },
          { verifierKey: ROTATED.verifierKey, notBefore: rotatedAt.toString() },
        ],
        records: base.rows,
        checkpoints,
      },
      { ok: true, findings: [] });
  }
  {
    const fork = buildStream(stream, alg, (i, e) => (i === 24 ? { ...e, outcome: 'failure' } : e));
    const forged = sign(stream, { ...fork.checkpoints[2]!, time: checkpointTime(RECORDS) + 1_000_000_000n }, [TRUSTED.signer]);
    check(fork.checkpoints[2]!.rootHex !== base.checkpoints[2]!.rootHex, 'forged-checkpoint: the fork has the same root');
    streamCase('forged-checkpoint',
      'A fourth checkpoint at size 25, correctly signed by the trusted key, commits to the root of a forked history (seq 24 with outcome "failure"): ' +
        'the records do not produce its root (root_mismatch).',
      { ...intact, checkpoints: [...notes(), forged] },
      { ok: false, findings: [{ code: 'root_mismatch', seq: 24, size: 25 }] });
  }
  {
    const empty = { size: 0, rootHex: emptyHash(alg).toString('hex'), time: checkpointTime(0) };
    check(new AuditChain({ stream, alg }).checkpoint(empty.time, [TRUSTED.signer]) === sign(stream, empty, [TRUSTED.signer]), 'empty-tree-checkpoint: AuditChain signs the same note');
    streamCase('empty-tree-checkpoint',
      'A signed checkpoint at size 0, as a producer may write before its first record: its root is the empty tree\'s, H(""), so it verifies ' +
        '(and vouches for no record); nothing to report.',
      { ...intact, checkpoints: [sign(stream, empty, [TRUSTED.signer]), ...notes()] },
      { ok: true, findings: [] });
    const forged = sign(stream, { ...empty, rootHex: base.rows[0]!.checksum }, [TRUSTED.signer]);
    streamCase('forged-empty-tree-checkpoint',
      'A checkpoint at size 0, correctly signed by the trusted key, carrying the root of the tree of size 1 instead of H(""): ' +
        'the empty tree does not produce its root (root_mismatch with size 0 and no seq).',
      { ...intact, checkpoints: [forged, ...notes()] },
      { ok: false, findings: [{ code: 'root_mismatch', size: 0 }] });
  }
  streamCase('reordered-rows',
    'The intact rows given in a shuffled order (position p holds seq 7·p mod 25): order is by seq, never position, so nothing to report.',
    { ...intact, records: base.rows.map((_, p) => base.rows[(7 * p) % RECORDS]!) },
    { ok: true, findings: [] });
  {
    const records = rows();
    records.splice(11, 0, clone(base.rows[3]!));
    records.push(clone(base.rows[17]!), clone(base.rows[24]!));
    records.unshift(clone(base.rows[24]!));
    streamCase('redelivered-duplicates',
      'Exact copies of seq 3, 17 and 24 (twice) delivered again, as a retrying exporter would: ignored, nothing to report.',
      { ...intact, records },
      { ok: true, findings: [] });
  }

  const sha3Stream = 'billing-api/test-vectors-sha3-256';
  const sha3 = buildStream(sha3Stream, 'sha3-256');
  const sha3Intact = { keyring, records: sha3.rows, checkpoints: notes([TRUSTED.signer], sha3) };
  streamCase('sha3-256-intact',
    `${RECORDS} sha3-256 records with signed checkpoints at sizes 10, 20 and 25: nothing to report.`,
    sha3Intact, { ok: true, findings: [] });
  {
    const records = clone(sha3.rows);
    const details = records[7]!.record.details as Record<string, unknown>;
    const note = details.note as string;
    details.note = String.fromCharCode(note.charCodeAt(0) ^ 0x01) + note.slice(1);
    streamCase('sha3-256-flip-bit-in-details',
      'The sha3-256 stream with one bit flipped in details.note of seq 7, stored checksum kept: hash_mismatch at 7 and root_mismatch at sizes 10, 20 and 25.',
      { ...sha3Intact, records },
      {
        ok: false,
        findings: [
          { code: 'hash_mismatch', seq: 7 }, { code: 'root_mismatch', seq: 9, size: 10 }, { code: 'root_mismatch', seq: 19, size: 20 },
          { code: 'root_mismatch', seq: 24, size: 25 }, { code: 'unsigned_tail', seq: 0, lastSeq: 24 },
        ],
      });
  }
  {
    const records = clone(sha3.rows);
    records[18]!.record.severity = 'debug';
    records[18] = reseal('sha3-256', records[18]!.record);
    streamCase('sha3-256-edit-severity-and-rehash',
      'The sha3-256 stream with severity of seq 18 changed and its checksum recomputed: chain_break at 19 and root_mismatch at sizes 20 and 25.',
      { ...sha3Intact, records },
      {
        ok: false,
        findings: [
          { code: 'chain_break', seq: 19 }, { code: 'root_mismatch', seq: 19, size: 20 }, { code: 'root_mismatch', seq: 24, size: 25 },
          { code: 'unsigned_tail', seq: 10, lastSeq: 24 },
        ],
      });
  }
}

// ---------------------------------------------------------------------------
// README

function readme(): string {
  const count = (folder: Folder): number => [...files.keys()].filter((k) => k.startsWith(`${folder}/`)).length;
  return `# otel-audit test vectors

Language-neutral vectors for the integrity format v1 (DESIGN.md §4): one JSON
file per case. An implementation of the format in another language can walk
these folders and check itself against every file. They are generated by
\`scripts/generate-vectors.ts\` (\`npm run vectors\`) — **do not edit them by
hand**; \`test/vectors.test.ts\` fails if they differ from what the script
produces, and checks every case against \`@otel-audit/core\`.

| folder | cases | what |
|---|---|---|
| \`canonical/\` | ${count('canonical')} | RFC 8785 (JCS) serialization |
| \`record-hash/\` | ${count('record-hash')} | record → canonical text → hash, per algorithm |
| \`merkle/\` | ${count('merkle')} | RFC 9162 §2.1 roots, inclusion and consistency proofs |
| \`checkpoint/\` | ${count('checkpoint')} | signed checkpoints (C2SP tlog-checkpoint + signed-note) |
| \`streams/\` | ${count('streams')} | whole streams and what a verifier must report |
| \`redaction/\` | ${count('redaction')} | \`hmac\` redaction: key, value → the \`hmac-sha256:\` text that replaces it |

Conventions: hashes, leaves and roots are lowercase hex; Unix nanoseconds
(record \`time\`, checkpoint \`time\`, key windows) are decimal strings,
since they exceed 2^53; every file is UTF-8 JSON with no lone surrogates (the
invalid inputs of \`canonical/\` are written with \`\\u\` escapes inside the
input *text*). Every file has a \`description\` for people.

## Test keys

The signatures are made with fixed Ed25519 keys whose 32-byte seed is the
SHA-256 of a label. Ed25519 is deterministic, so signing a checkpoint text
with them gives exactly the notes in these files. **They are public test keys:
never trust them for anything else.**

| key name | seed | verifier key |
|---|---|---|
${[TRUSTED, ROTATED, UNTRUSTED].map((k, i) => `| \`${k.name}\` | SHA-256("${['otel-audit test vectors', 'otel-audit test vectors: second key', 'otel-audit test vectors: untrusted key'][i]}") | \`${k.verifierKey}\` |`).join('\n')}

Signer key of the first (the trusted key of most cases):
\`${TRUSTED.signerKey}\`

## canonical/

\`\`\`
{ "description": string,
  "input": string,            // JSON text: parse it with your JSON parser
  "valid": true,
  "expected": string,         // the RFC 8785 serialization of the parsed value
  "expectedUtf8Hex": string } // the same, as the hex of its UTF-8 bytes
{ "description": string, "input": string, "valid": false }
\`\`\`

Parse \`input\`, canonicalize the value, compare with \`expected\` (and its
bytes with \`expectedUtf8Hex\`). \`valid: false\` cases (\`invalid-*\`) hold
strings with lone surrogates, which have no UTF-8 form, or a number beyond the
double range: they must be rejected, by the parser or by the canonicalizer —
never serialized. \`number-ieee-<bits>\` are the doubles of RFC 8785
Appendix B (bits = IEEE 754 big-endian hex), written in the input with 17
significant digits; \`rfc8785-*\` are the RFC's worked examples.

## record-hash/

\`\`\`
{ "description": string,
  "alg": "sha256" | "sha384" | "sha512" | "sha3-256" | "sha3-512",
  "input"?: object,           // record-sha256-normalised only: what a producer gave
  "record": object,           // a normalised record (DESIGN §4.1); record.alg === alg
  "canonical": string,        // RFC 8785 text of record
  "hash": hex,                // H(0x00 || UTF-8(canonical)): the record's checksum
  "genesisPrev": hex }        // H(""), the prev of seq 0 in a stream of this alg
\`\`\`

One file per algorithm (\`record-<alg>\`), plus \`record-sha256-normalised\`,
which also has \`"input"\`: producer input that normalisation turns into
\`record\` (defaults filled in, null and empty members omitted, hex
lower-cased, \`redacted\` sorted). A normalised record is unchanged by
normalisation.

## merkle/

\`\`\`
tree-<name>:                  { "description", "alg", "leafData": [hex], "leaves": [hex],
                                "roots": [{ "size": n, "root": hex }] }   // sizes 0..N
inclusion-<name>-i<index>-n<size>:
                              { "description", "alg", "leaves": [hex],   // the first <size> leaves
                                "index", "size", "leaf": hex, "proof": [hex], "root": hex,
                                "valid": true }
consistency-<name>-m<old>-n<new>:
                              { "description", "alg", "leaves": [hex],   // the first <new> leaves
                                "oldSize", "newSize", "oldRoot": hex, "newRoot": hex,
                                "proof": [hex], "valid": true }
\`\`\`

\`leaves\` are leaf hashes \`H(0x00 || data)\`; interior nodes are
\`H(0x01 || left || right)\`; the root of the empty tree is \`H("")\`.
Proofs are RFC 9162 §2.1.3 \`PATH(index, D[size])\` and §2.1.4
\`PROOF(old, D[new])\`, listed leaf side first; a consistency proof is empty
when \`oldSize == newSize\`. For \`valid: true\` cases, generating the proof
from \`leaves\` must give \`proof\` exactly and verifying it must succeed.
Files whose name ends in a mutation (\`-flipped-proof-byte\`, \`-wrong-index\`,
\`-wrong-size\`, \`-extra-proof-element\`, \`-missing-proof-element\`,
\`-wrong-leaf\`, \`-wrong-old-root\`, \`-old-root-prepended\`,
\`-wrong-new-root\`) have \`valid: false\`: verifying them must fail (not
crash). Trees: \`rfc6962\` is the RFC 6962 reference tree (leaf data "",
00, 10, 2021, 3031, 40414243, 5051525354555657,
606162636465666768696a6b6c6d6e6f; its roots are the published ones),
\`sha256-77\` a 77-leaf tree, \`sha3-512-13\` a 13-leaf tree of 64-byte
hashes.

## checkpoint/

\`\`\`
{ "description": string,
  "note": string,             // the whole signed note text
  "keyring": [{ "verifierKey": string, "notBefore"?: ns, "notAfter"?: ns }],
  "alg"?: string,             // when given: the root must have this algorithm's length
  "signerKeys"?: [string],    // when given: signing the note text with these keys, in order,
                              // reproduces "note" byte for byte
  "expected": {
    "status": "valid" | "unsigned" | "bad_signature" | "unknown_key" | "key_out_of_window" | "malformed",
    "keys"?: [string],        // "<name>+<8 hex>" of the keys behind the status
    "checkpoint"?: { "origin", "size", "rootHash": hex, "time": ns, "extensions": [string] },
    "line"?: number } }       // malformed only: 1-based line of the defect
\`\`\`

A key's window bounds the checkpoint's own \`time\`, both ends inclusive;
an absent end is unbounded. Status precedence: \`valid\` if any trusted key's
signature verifies with the time in its window; else \`bad_signature\` if a
trusted key's signature does not verify; else \`key_out_of_window\`; else
\`unknown_key\` (signatures of unknown keys are ignored); \`unsigned\` for a
note with a blank line and no signature lines (what a producer without a key
writes: never valid). \`checkpoint\` is given whenever the text parses,
whatever the status — trust it only when the status is \`valid\`.

## streams/

\`\`\`
{ "description": string,
  "keyring": [{ "verifierKey": string, "notBefore"?: ns, "notAfter"?: ns }],
  "records": [{ "record": object, "checksum": hex }],  // rows as stored, in delivery order
  "checkpoints": [string],                             // signed notes
  "expected": { "ok": boolean,
                "findings": [{ "code": string, "seq"?: number, "lastSeq"?: number, "size"?: number }] } }
\`\`\`

Feed every checkpoint, then every record in the order given, with
\`checksum\` as the hash stored beside it; compare the findings, in order,
field by field (only \`code\`, \`seq\`, \`lastSeq\`, \`size\`). \`ok\` is
false when any finding other than the warning \`unsigned_tail\` is present.
Records are ordered by \`seq\`, never by position; exact re-deliveries (same
seq, same content) are ignored.

Where findings are placed (DESIGN §4.4), as this verifier reports them:

| code | fields | where |
|---|---|---|
| \`hash_mismatch\` | seq | the record whose recomputed hash differs from its checksum |
| \`chain_break\` | seq | the record whose \`prev\` differs from the previous record's checksum |
| \`seq_gap\` | seq, lastSeq | the missing range (after a gap the chain and tree restart unchecked) |
| \`duplicate\` | seq | the second record with that seq (different content) or that id |
| \`bad_signature\`, \`unknown_key\`, \`key_out_of_window\` | size | the checkpoint's tree size |
| \`root_mismatch\` | seq = size − 1, size | every checkpoint whose root the records do not produce, one per size (this verifier lists the first 100 sizes and counts the rest); at size 0, no seq: the root must be H("") |
| \`truncated\` | seq = records present, size | a checkpoint covering more records than are present |
| \`unsigned_tail\` (warning) | seq, lastSeq | records after the last checkpoint that is signed by a trusted key in its window and whose root matched |

Cases: \`intact\` and \`sha3-256-intact\` report nothing; the others are
named by their mutation (\`flip-bit-in-details\`, \`edit-actor-and-rehash\`,
\`deleted-record\`, \`swapped-3-4\`, \`duplicate-seq\`, \`duplicate-id\`,
\`truncated-tail\`, \`unsigned-tail\`, \`bad-signature\`, \`unknown-key\`,
\`key-out-of-window\`, \`forged-checkpoint\`, \`forged-empty-tree-checkpoint\`, …) or by
what they show (\`key-rotation\`, \`reordered-rows\`, \`redelivered-duplicates\`,
\`empty-tree-checkpoint\`: all ok).

## redaction/

\`\`\`
{ "description": string,
  "key": string,              // the key text; its UTF-8 bytes are the HMAC key
  "value": any JSON value,    // the value a matching member held
  "message": string,          // what is HMAC'd: the string itself, else the RFC 8785 text of the value
  "messageUtf8Hex": string,   // the same, as the hex of its UTF-8 bytes
  "expected": string }        // "hmac-sha256:" + lowercase hex of HMAC-SHA256(key, message)
\`\`\`

What \`hmac\` redaction writes in place of a value (DESIGN §4.5;
docs/format.md §2.2), and what \`otel-audit hash-value --as json\` prints
for the value's JSON text. The key is a public test key.
`;
}

// ---------------------------------------------------------------------------

const out = outputDir();
generateCanonical();
generateRecordHash();
generateMerkle();
generateCheckpoints();
generateStreams();
for (const [name, value] of redactionCases()) put('redaction', name, value);
files.set('README.md', readme());
writeAll(out);
const counts = FOLDERS.map((f) => `${f} ${[...files.keys()].filter((k) => k.startsWith(`${f}/`)).length}`).join(', ');
console.log(`wrote ${files.size} files to ${path.relative(process.cwd(), out) || '.'} (${counts})`);
