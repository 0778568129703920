/**
 * The registry of `otel-audit` verbs (DESIGN §7): one file per verb under
 * `src/commands/`, each a {@link Command}; `main` dispatches on this list and
 * renders the tool's help from it, in this order.
 */
import type { Command } from '../command.js';
import { keygenCommand } from './keygen.js';
import { verifyCommand } from './verify.js';
import { queryCommand } from './query.js';
import { tailCommand } from './tail.js';
import { exportCommand } from './export.js';
import { retentionCommand } from './retention.js';
import { archivesCommand } from './archives.js';
import { hashValueCommand } from './hash-value.js';
import { proofCommand } from './proof.js';
import { verifyProofCommand } from './verify-proof.js';
import { checkpointsCommand } from './checkpoints.js';
import { serveCommand } from './serve.js';
import { collectCommand } from './collect.js';
import { statusCommand } from './status.js';

/**
 * Every verb, in help order. Add a verb by importing it and listing it here.
 *
 * @example
 * commands.find((c) => c.name === 'verify')
 */
export const commands: readonly Command[] = [
  keygenCommand,
  verifyCommand,
  queryCommand,
  tailCommand,
  exportCommand,
  retentionCommand,
  archivesCommand,
  hashValueCommand,
  proofCommand,
  verifyProofCommand,
  checkpointsCommand,
  serveCommand,
  collectCommand,
  statusCommand,
];
