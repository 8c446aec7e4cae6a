import type { DType } from '../src/gpu/dtype.js';

/**
 * One tensor in a weights file, not yet read. Every reader (safetensors, PyTorch .bin) yields
 * these; `read()` returns the tensor's bytes, row-major contiguous, little-endian, in `dtype`.
 */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The file it comes from, for error messages. */
  readonly file: string;
  read(): Promise<Uint8Array>;
  /**
   * Bytes [start, start + length) of what read() returns, without reading the rest: present
   * when the tensor is one contiguous span of its file (safetensors, a contiguous torch
   * storage), so a large tensor can be streamed in pieces.
   */
  readRange?(start: number, length: number): Promise<Uint8Array>;
}
