/**
 * Typed errors. Every error the engine throws on purpose is a ProtT5Error subclass whose
 * message names what the user can act on: the file, the tensor, the record, the position.
 * `code` is stable (the CLI maps it to an exit code); `context` carries the same facts as data.
 */

/** Every `code` a ProtT5Error can carry: `switch (err.code)` on a ProtT5Error narrows over these. */
export type ErrorCode =
  | 'PROTT5_ERROR'
  | 'BAD_WEIGHTS'
  | 'BAD_CONFIG'
  | 'NON_FINITE_OUTPUT'
  | 'BAD_SEQUENCE'
  | 'DEVICE_ERROR'
  | 'DEVICE_LOST'
  | 'OUT_OF_MEMORY'
  | 'IO_ERROR'
  | 'USAGE_ERROR'
  | 'BAD_TOKENIZER'
  | 'KERNEL_ARGUMENT';

export class ProtT5Error extends Error {
  readonly code: ErrorCode = 'PROTT5_ERROR';
  readonly context: Record<string, unknown>;
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** A weights file is unreadable, malformed, or does not match the config. */
export class WeightsError extends ProtT5Error {
  override readonly code = 'BAD_WEIGHTS';
}

/** config.json is missing, malformed, or describes a model this engine does not run. */
export class ConfigError extends ProtT5Error {
  override readonly code = 'BAD_CONFIG';
}

/** The model computed NaN or Inf (weights holding NaN/Inf, or activations beyond float range). */
export class NumericalError extends ProtT5Error {
  override readonly code = 'NON_FINITE_OUTPUT';
}

/** A protein sequence or FASTA record is not valid input. */
export class SequenceError extends ProtT5Error {
  override readonly code = 'BAD_SEQUENCE';
}

/** No WebGPU adapter/device could be acquired, or a GPU operation failed. */
export class DeviceError extends ProtT5Error {
  override readonly code = 'DEVICE_ERROR';
}

/** The device was lost during work (driver reset, destroy(), out of resources). */
export class DeviceLostError extends ProtT5Error {
  override readonly code = 'DEVICE_LOST';
}

/** A buffer would exceed the device's limits or the allocation failed. */
export class OutOfMemoryError extends ProtT5Error {
  override readonly code = 'OUT_OF_MEMORY';
}

/** Reading or writing a file failed. */
export class IOError extends ProtT5Error {
  override readonly code = 'IO_ERROR';
}

/** A caller passed arguments the API does not accept (bad option, use after dispose). */
export class UsageError extends ProtT5Error {
  override readonly code = 'USAGE_ERROR';
}

/** A tokenizer file (spiece.model, vocab.txt, tokenizer.json, ...) is missing, malformed or lacks a token. */
export class TokenizerError extends ProtT5Error {
  override readonly code = 'BAD_TOKENIZER';
}
