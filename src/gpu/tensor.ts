import { UsageError } from '../errors.js';

/**
 * Element types of GPU tensors. f32 activations; f16/bf16 weights packed two per u32 word
 * (element i is half i&1 of word i>>1, little-endian, as in the file); u32 token ids and lengths.
 */
export type TensorDType = 'f32' | 'f16' | 'bf16' | 'u32';

export const ELEMENT_BYTES: Record<TensorDType, number> = { f32: 4, f16: 2, bf16: 2, u32: 4 };

/** What a tensor returns its buffer to (the Runtime, which pools it after the next flush). */
export interface BufferOwner {
  releaseBuffer(buffer: GPUBuffer): void;
}

/** A GPU buffer with a shape and dtype. Explicit lifetime: call release() when done. */
export class Tensor {
  private released = false;
  constructor(
    private readonly rt: BufferOwner,
    private readonly buf: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: TensorDType,
    readonly label: string,
  ) {}

  get buffer(): GPUBuffer {
    if (this.released) throw new UsageError(`tensor "${this.label}" was used after release()`);
    return this.buf;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes of the data (the buffer may be larger: pool size classes, 4-byte padding). */
  get byteLength(): number {
    return this.numel * ELEMENT_BYTES[this.dtype];
  }

  /** Returns the buffer to the pool. Safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.rt.releaseBuffer(this.buf);
  }
}
