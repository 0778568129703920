/**
 * Realistic audit events for the core benchmarks: about 20 fields with a
 * nested `details`, ~600 bytes of canonical JSON each, deterministic.
 */
import type { AuditEventInput } from '../src/normalize-record.js';

const ACTIONS = ['login', 'logout', 'view', 'create', 'update', 'delete', 'grant', 'export'];
const TYPES = ['auth', 'crud', 'access', 'admin', 'api'];

/** The i-th realistic event of a deterministic sequence. */
export function realisticEvent(i: number): AuditEventInput {
  const hex = (i * 2654435761 >>> 0).toString(16).padStart(8, '0');
  return {
    id: `0190a1b2-${hex.slice(0, 4)}-7${hex.slice(4, 7)}-8${hex.slice(0, 3)}-${hex}${hex.slice(0, 4)}`,
    time: (1_750_000_000_000_000_000n + BigInt(i) * 1_000_000n).toString(),
    type: TYPES[i % TYPES.length]!,
    action: ACTIONS[i % ACTIONS.length]!,
    outcome: i % 7 === 0 ? 'failure' : 'success',
    severity: i % 7 === 0 ? 'warning' : 'info',
    actor: { id: `user-${i % 500}`, type: 'user', ip: `10.0.${i % 256}.${(i * 7) % 256}`, user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0' },
    target: { type: 'tool', id: `tool-${i % 1000}`, name: `Tool number ${i % 1000}` },
    request: {
      id: `req-${hex}`,
      session_id: `sess-${i % 300}`,
      endpoint: `/admin/tools/${i % 1000}`,
      method: 'PUT',
      trace_id: `${hex}${hex}${hex}${hex}`,
      span_id: `${hex}${hex}`,
    },
    details: { reason: 'maintenance', ticket: `OPS-${i}`, tags: ['prod'], attempt: i % 3, quota: { used: i % 100 } },
  };
}
