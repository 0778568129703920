/**
 * Record ids: UUIDv7 (RFC 9562 §5.7), time-ordered so that indexes keyed by
 * id stay append-only (DESIGN §6), with 74 random bits so that ids never
 * collide across processes.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let lastMillis = 0;
let counter = 0;

/**
 * A new UUIDv7 string (lowercase). Within one millisecond the 12-bit
 * `rand_a` field is a counter seeded randomly, so ids made by one process
 * sort in creation order.
 *
 * @example
 * createRecordId() // '019378a2-5f3c-7a1b-9c2d-0e4f5a6b7c8d'
 */
export function createRecordId(nowMillis: number = Date.now()): string {
  if (poolOffset + 16 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // Read the pool in place: no Buffer view allocated per id.
  const b = pool;
  const o = poolOffset;
  poolOffset += 16;
  let ms = nowMillis;
  if (ms <= lastMillis) {
    ms = lastMillis;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next one.
      ms = ++lastMillis;
      counter = b[o + 6]! & 0x7f;
    }
  } else {
    lastMillis = ms;
    counter = ((b[o + 6]! & 0x7) << 8) | b[o + 7]!; // random start, top bit clear leaves room
  }
  const hi = Math.floor(ms / 0x100000000);
  const lo = ms >>> 0;
  return (
    HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[(lo >>> 24) & 0xff]! + HEX[(lo >>> 16) & 0xff]! + '-' +
    HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-' +
    HEX[0x70 | ((counter >>> 8) & 0x0f)]! + HEX[counter & 0xff]! + '-' +
    HEX[0x80 | (b[o + 8]! & 0x3f)]! + HEX[b[o + 9]!]! + '-' +
    HEX[b[o + 10]!]! + HEX[b[o + 11]!]! + HEX[b[o + 12]!]! + HEX[b[o + 13]!]! + HEX[b[o + 14]!]! + HEX[b[o + 15]!]!
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * True when `id` is a lowercase UUID string of any version.
 *
 * @example
 * isRecordId(createRecordId()) // true
 */
export function isRecordId(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}
