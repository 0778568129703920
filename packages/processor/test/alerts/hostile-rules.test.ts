import { describe, expect, it } from 'vitest';
import { compileRules } from '../../src/alerts/alert-rule.js';
import { AlertConfigError } from '../../src/alerts/errors.js';
import { HOSTILE_VALUES } from '../../../core/test/hostile-inputs.js';

// The project's table of hostile values, placed at every key of a rule:
// compileRules either compiles or throws AlertConfigError naming a path —
// never another error, never a hang.
const placements: { at: string; rule: (v: unknown) => unknown }[] = [
  { at: 'rule', rule: (v) => v },
  { at: 'name', rule: (v) => ({ name: v, condition: 'count >= 1' }) },
  { at: 'match', rule: (v) => ({ name: 'x', condition: 'count >= 1', match: v }) },
  { at: 'match field', rule: (v) => ({ name: 'x', condition: 'count >= 1', match: { 'details.k': v } }) },
  { at: 'match regex', rule: (v) => ({ name: 'x', condition: 'count >= 1', match: { 'details.k': { regex: v } } }) },
  { at: 'match glob', rule: (v) => ({ name: 'x', condition: 'count >= 1', match: { 'details.k': { glob: v } } }) },
  { at: 'group_by', rule: (v) => ({ name: 'x', condition: 'count >= 1', group_by: v }) },
  { at: 'window', rule: (v) => ({ name: 'x', condition: 'count >= 1', window: v }) },
  { at: 'condition', rule: (v) => ({ name: 'x', condition: v }) },
  { at: 'sequence', rule: (v) => ({ name: 'x', condition: { sequence: [{ match: { outcome: v } }, { count: v }] } }) },
];

describe('compileRules with hostile values', () => {
  for (const c of HOSTILE_VALUES) {
    it(c.name, () => {
      for (const p of placements) {
        try {
          compileRules([p.rule(c.value())]);
        } catch (e) {
          if (!(e instanceof AlertConfigError)) throw new Error(`${c.name} at ${p.at}: ${String(e)}`);
          expect(e.message.length).toBeLessThan(2000);
        }
      }
    });
  }
});
