// Documented exit codes of the prott5 command (README "Exit codes").
import { ProtT5Error } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** A bug or an error we did not classify. */
  INTERNAL: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Bad input sequences or FASTA. */
  BAD_INPUT: 3,
  /** Bad model: weights or config.json, or a model whose outputs are NaN/Inf. */
  BAD_MODEL: 4,
  /** No usable GPU, or the device failed or was lost. */
  DEVICE: 5,
  /** A buffer would exceed the device's limits. */
  OUT_OF_MEMORY: 6,
  /** Reading or writing a file failed, or a download from the hub did. */
  IO: 7,
  /** Interrupted (Ctrl-C); the partial output is kept for --resume. */
  INTERRUPTED: 130,
} as const;

const BY_CODE: Record<string, number> = {
  USAGE_ERROR: EXIT.USAGE,
  BAD_SEQUENCE: EXIT.BAD_INPUT,
  BAD_WEIGHTS: EXIT.BAD_MODEL,
  BAD_CONFIG: EXIT.BAD_MODEL,
  BAD_TOKENIZER: EXIT.BAD_MODEL,
  NON_FINITE_OUTPUT: EXIT.BAD_MODEL,
  DEVICE_ERROR: EXIT.DEVICE,
  DEVICE_LOST: EXIT.DEVICE,
  OUT_OF_MEMORY: EXIT.OUT_OF_MEMORY,
  IO_ERROR: EXIT.IO,
};

export function exitCodeFor(e: unknown): number {
  return e instanceof ProtT5Error ? (BY_CODE[e.code] ?? EXIT.INTERNAL) : EXIT.INTERNAL;
}
