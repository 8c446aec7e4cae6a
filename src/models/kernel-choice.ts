// Which kernel variants a loaded encoder runs: the tuner's choice per matmul weight shape and
// dtype and for the attention head size, or the kernels' defaults without a tuner. Shared by
// the BERT-style and ESM encoders.
import { tuneAttention, type AttentionTile } from '../../kernels/attention.js';
import { tuneMatmul, type MatmulTile } from '../../kernels/matmul.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Autotuner } from '../gpu/tuner.js';

const key = (w: Tensor) => `${w.dtype}|${w.shape[0]}|${w.shape[1]}`;

export class KernelChoice {
  private constructor(
    /** Matmul tile per `${dtype}|${N}|${K}`. */
    readonly matmul: ReadonlyMap<string, MatmulTile>,
    /** undefined: the kernel's default for the device (defaultAttentionTile). */
    readonly attention: AttentionTile | undefined,
  ) {}

  /** Tunes each distinct weight shape once, and attention at (dk, heads); the defaults without a tuner. */
  static async pick(tuner: Autotuner | undefined, weights: readonly Tensor[], dk: number, heads: number): Promise<KernelChoice> {
    const matmul = new Map<string, MatmulTile>();
    if (!tuner) return new KernelChoice(matmul, undefined);
    for (const w of weights) if (!matmul.has(key(w))) matmul.set(key(w), (await tuneMatmul(tuner, w.shape[0], w.shape[1], w.dtype)).choice);
    return new KernelChoice(matmul, (await tuneAttention(tuner, dk, heads)).choice);
  }

  tile(w: Tensor): MatmulTile | undefined {
    return this.matmul.get(key(w)); // undefined: the kernel's default for the device
  }
}
