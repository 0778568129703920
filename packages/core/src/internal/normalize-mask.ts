/**
 * Text masking during the normalisation walk (DESIGN §4.5, extended as
 * docs/format.md "Redaction" describes): the redaction hook's `maskText` is
 * applied to every string of `details`/`old`/`new`, to `error`, to the
 * free-text members `actor.user_agent`, `target.name`, `request.endpoint`,
 * and to the member names of `details`/`old`/`new` — to each one that
 * could hold a credential. The ids `actor.id` and `target.id` get only the
 * credential forms masked (a token prefix, a JWT, a PEM private key:
 * internal/credential-forms.ts), not `name=value` text, so an id that is no
 * credential stays exact for queries. Every change is listed in `redacted`.
 *
 * Measured with callgrind, instructions per `AuditChain.append` of
 * bench/fixtures.ts's `realisticEvent` with the processor's hook: 98.7k
 * before this masking, 106.2k with it scanning every string, 102.1k
 * with the two memories below (names, user agents); 94.7k without a hook,
 * unchanged. Every free-text value new in each record: 111.2k → 122.4k.
 */
import { pointerOf } from '../canonical.js';
import { maskCredentialForms } from './credential-forms.js';
import { mayHoldSecret } from './may-hold-secret.js';
import type { Walk } from './normalize-walk.js';

/**
 * Member names once found unable to hold a credential. Names come from a
 * few schemas and are internalized strings (their hash is kept with them),
 * so a Set lookup replaces a scan. Bounded, emptied when full; it holds
 * only names that could not hold a credential, and only short ones: a
 * client can send member names of any length (a JSON body passed to
 * `audit.change`), and 4096 names of 30,000 characters kept 117 MB alive
 * after the records were gone — or refused.
 */
const cleanNames = new Set<string>();
const CLEAN_NAMES_MAX = 4096;
/** Longest name kept in {@link cleanNames}; schema names are far shorter. */
const CLEAN_NAME_MAX_LENGTH = 64;

function nameMayHold(name: string): boolean {
  if (cleanNames.has(name)) return false;
  if (mayHoldSecret(name)) return true;
  if (name.length > CLEAN_NAME_MAX_LENGTH) return false;
  if (cleanNames.size >= CLEAN_NAMES_MAX) cleanNames.clear();
  cleanNames.add(name);
  return false;
}

/**
 * The last few user agents found clean: a client sends the same one with
 * every request. Compared, not hashed or kept in bulk: a new string in a
 * Set costs its hashing and, kept, garbage-collector work, more than the
 * scan when every agent differs.
 */
const recentAgents: string[] = ['', '', '', ''];
let nextAgent = 0;

function agentMayHold(agent: string): boolean {
  for (let i = 0; i < recentAgents.length; i++) if (recentAgents[i] === agent) return false;
  if (mayHoldSecret(agent)) return true;
  recentAgents[nextAgent] = agent;
  nextAgent = (nextAgent + 1) % recentAgents.length;
  return false;
}

/** How a string is looked at: 0 a scan, 1 a member name, 2 a user agent. */
type Kind = 0 | 1 | 2;

function mayHold(text: string, kind: Kind): boolean {
  return kind === 0 ? mayHoldSecret(text) : kind === 1 ? nameMayHold(text) : agentMayHold(text);
}

function masked(value: string, kind: Kind, walk: Walk): string {
  const mask = walk.redact?.maskText;
  if (mask === undefined || walk.maskOff > 0 || !mayHold(value, kind)) return value;
  const out: unknown = mask(value);
  if (out === value) return value;
  if (typeof out !== 'string' || !out.isWellFormed()) throw new TypeError('options.redact.maskText must return a well-formed string');
  return out;
}

/**
 * `value` through the redaction hook's `maskText`, listed in `redacted` at
 * the walk's path when it changed. `agent`: the value is a user agent,
 * which recurs across records.
 */
export function maskedText(value: string, walk: Walk, agent = false): string {
  const out = masked(value, agent ? 2 : 0, walk);
  if (out !== value) (walk.redacted ??= []).push(pointerOf(walk.path));
  return out;
}

/**
 * `id` (`actor.id`, `target.id`) with its credential forms masked when the
 * hook masks text, listed in `redacted` at the walk's path when it changed.
 * An unverified JWT's subject or a caller's id can be a token; a credential
 * is no key to query by. Core masks, not the hook's `maskText`, whose
 * `name=value` masking would change ids that hold no credential.
 */
export function maskedId(id: string, walk: Walk): string {
  if (walk.redact?.maskText === undefined || walk.maskOff > 0 || !mayHoldSecret(id)) return id;
  const out = maskCredentialForms(id);
  if (out !== id) (walk.redacted ??= []).push(pointerOf(walk.path));
  return out;
}

/**
 * The name under which member `key` of `source` is copied into `copy`:
 * `key` itself, or its masked form when `maskText` changes it. A masked
 * name that another member of the object has, or will have, gets ` (2)`,
 * ` (3)`, ... appended, so no value is lost and members stay distinguishable.
 * On a rename the last slot of the walk's path becomes the new name (so
 * pointers and errors below it never show the old one) and the member's
 * pointer is listed in `redacted`.
 *
 * A name another member keeps is one `source` has: `maskText` leaves masked
 * text as it is, so a name equal to a masked form is not renamed itself.
 */
export function maskedName(key: string, source: Record<string, unknown>, copy: Record<string, unknown>, walk: Walk): string {
  const base = masked(key, 1, walk);
  if (base === key) return key;
  let name = base;
  // After a blank: no credential form reaches past one, so masking the name again keeps it.
  for (let n = 2; Object.hasOwn(copy, name) || Object.hasOwn(source, name); n++) name = `${base} (${n})`;
  walk.path[walk.path.length - 1] = name;
  (walk.redacted ??= []).push(pointerOf(walk.path));
  return name;
}
