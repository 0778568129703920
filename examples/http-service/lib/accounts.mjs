// Demo accounts and sessions of the http-service example. Passwords are
// stored only as scrypt hashes computed at start (each with its own random
// salt) and compared in constant time; a session is a random bearer token
// kept in memory. What the audit sees of a session is `sessionId`, a short
// digest of the token that identifies the session without being a credential
// (DESIGN §8: never a credential in a record).
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt);
const KEY_BYTES = 32;
const SESSION_MILLIS = 15 * 60 * 1000;

/**
 * The demo users. The passwords are public on purpose: demo.mjs logs in with
 * them. `role` decides what a user may do with /admin/tools.
 *
 * @example
 * const admin = DEMO_USERS.find((u) => u.role === 'admin'); // alice
 */
export const DEMO_USERS = Object.freeze([
  Object.freeze({ username: 'alice', password: 'correct-horse-battery-staple', role: 'admin' }),
  Object.freeze({ username: 'bob', password: 'tr0ub4dor&3', role: 'viewer' }),
]);

async function hashPassword(password, salt) {
  return /** @type {Buffer} */ (await scryptAsync(password, salt, KEY_BYTES));
}

/**
 * Create the account registry: hashes every demo password once.
 *
 * @example
 * const accounts = await createAccounts();
 * const result = await accounts.login('alice', 'correct-horse-battery-staple');
 * if (result.ok) console.log(result.session.token);
 */
export async function createAccounts(users = DEMO_USERS) {
  const byName = new Map();
  for (const u of users) {
    const salt = randomBytes(16);
    byName.set(u.username, { username: u.username, role: u.role, salt, hash: await hashPassword(u.password, salt) });
  }
  // Compared against when the user does not exist, so both failures cost the same.
  const decoy = { salt: randomBytes(16), hash: randomBytes(KEY_BYTES) };
  const sessions = new Map();

  return {
    /** `{ ok: true, session }` or `{ ok: false, reason }` (`unknown user` / `bad password`). */
    async login(username, password) {
      const account = byName.get(username);
      const candidate = await hashPassword(password, (account ?? decoy).salt);
      const match = timingSafeEqual(candidate, (account ?? decoy).hash);
      if (account === undefined) return { ok: false, reason: 'unknown user' };
      if (!match) return { ok: false, reason: 'bad password' };
      const token = randomBytes(32).toString('base64url');
      const session = {
        token,
        sessionId: createHash('sha256').update(token).digest('hex').slice(0, 16),
        username: account.username,
        role: account.role,
        expiresAt: Date.now() + SESSION_MILLIS,
      };
      sessions.set(token, session);
      return { ok: true, session };
    },
    /** The live session of an `Authorization: Bearer <token>` header, or undefined. */
    sessionOf(authorization) {
      const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? '');
      const session = m ? sessions.get(m[1]) : undefined;
      if (session === undefined) return undefined;
      if (session.expiresAt <= Date.now()) {
        sessions.delete(session.token);
        return undefined;
      }
      return session;
    },
  };
}
