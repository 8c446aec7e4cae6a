// A toy model family, registered from the test folder through the registry alone: a one-layer
// encoder with its own config.json model_type ("toy"), its own schema of three tensors and its
// own tokenizer recipe (vocab.txt, a [CLS] before the residues: residue rows start at 1).
//   h = embed[ids]; y = relu(h · denseᵀ); out = rms_norm(y) · norm    (toyRef below, in float64)
import { embedding } from '../../../kernels/embedding.js';
import { matmul } from '../../../kernels/matmul.js';
import { rmsnorm } from '../../../kernels/rmsnorm.js';
import { ConfigError } from '../../../src/errors.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import type { Tensor } from '../../../src/gpu/tensor.js';
import type { Encoder, Family } from '../../../src/models/family.js';
import { WeightUploader } from '../../../src/models/upload.js';
import type { Recipe } from '../../../src/tokenizers/recipe.js';
import { Tokenizer } from '../../../src/tokenizers/tokenizer.js';

export interface ToyConfig {
  hidden_size: number;
  vocab_size: number;
  eps: number;
}

export const TOY_RECIPE: Recipe = {
  family: 'toy',
  vocabulary: ['vocab.txt'],
  modes: { aa: { case: 'upper', letters: 'ACDEFGHIKLMNPQRSTVWY', describe: 'one of the 20 amino acids', piece: 'letter', before: ['[CLS]'], after: ['[SEP]'] } },
  pad: '[PAD]',
  padSide: 'right',
};

/** The vocabulary a toy folder's vocab.txt holds, one token per line. */
export const TOY_VOCAB = ['[PAD]', '[CLS]', '[SEP]', ...'ACDEFGHIKLMNPQRSTVWY'];

class ToyEncoder implements Encoder {
  constructor(readonly rt: Runtime, readonly config: ToyConfig, private readonly w: Record<'embed' | 'dense' | 'norm', Tensor>, readonly weightDtypes: ReadonlySet<'f32' | 'f16' | 'bf16' | 'u32'>) {}
  get hiddenSize(): number {
    return this.config.hidden_size;
  }
  async forward(ids: Uint32Array, _lengths: Uint32Array, B: number, L: number): Promise<Tensor> {
    const rt = this.rt, D = this.config.hidden_size;
    const idsT = rt.upload(ids, [B * L], 'u32', 'toy_ids');
    const h = rt.empty([B, L, D], 'f32', 'toy_h');
    const y = rt.empty([B, L, D], 'f32', 'toy_y');
    const out = rt.empty([B, L, D], 'f32', 'toy_out');
    try {
      await embedding(rt, idsT, this.w.embed, h); // [B, L, D]
      await matmul(rt, { x: h, w: this.w.dense, y, epilogue: 'relu' }); // [B, L, D]
      await rmsnorm(rt, y, this.w.norm, out, this.config.eps); // [B, L, D]
      return out;
    } catch (e) {
      out.release();
      throw e;
    } finally {
      idsT.release();
      h.release();
      y.release();
    }
  }
  dispose(): void {
    for (const t of Object.values(this.w)) t.release();
  }
}

export const toy: Family<ToyConfig> = {
  name: 'toy',
  modelTypes: ['toy'],
  parseConfig(raw, file) {
    const c = raw as Record<string, unknown>;
    for (const k of ['hidden_size', 'vocab_size']) {
      if (!Number.isInteger(c[k]) || (c[k] as number) < 1) throw new ConfigError(`${file}: "${k}" must be a positive integer`, { file, key: k });
    }
    return { hidden_size: c.hidden_size as number, vocab_size: c.vocab_size as number, eps: typeof c.eps === 'number' ? c.eps : 1e-6 };
  },
  names: { ignore: /^head\./, aliases: {}, keep: /^(embed|layer)\./ },
  shapes: (c) => new Map([
    ['embed.weight', [c.vocab_size, c.hidden_size]],
    ['layer.dense.weight', [c.hidden_size, c.hidden_size]],
    ['layer.norm.weight', [c.hidden_size]],
  ]),
  describe: () => 'a one-layer toy encoder',
  summary: (c) => `1 layer, hidden ${c.hidden_size}`,
  hiddenSize: (c) => c.hidden_size,
  tokenizer: (files) => Tokenizer.fromFolder(files, TOY_RECIPE),
  async load(rt, ckpt, ctx) {
    const up = new WeightUploader(rt, ckpt, ctx);
    try {
      const w = {
        embed: await up.tensor('embed.weight'),
        dense: await up.tensor('layer.dense.weight'),
        norm: await up.tensor('layer.norm.weight'),
      };
      return new ToyEncoder(rt, ckpt.config, w, up.dtypes);
    } catch (e) {
      up.release();
      throw e;
    }
  },
};

/** The toy encoder in float64 on the CPU: [tokens, D] for one sequence's ids. */
export function toyRef(ids: ArrayLike<number>, w: { embed: Float32Array; dense: Float32Array; norm: Float32Array }, D: number, eps: number): Float64Array {
  const T = ids.length;
  const out = new Float64Array(T * D);
  const y = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    const h = w.embed.subarray(ids[t] * D, (ids[t] + 1) * D);
    let ss = 0;
    for (let n = 0; n < D; n++) {
      let acc = 0;
      for (let k = 0; k < D; k++) acc += h[k] * w.dense[n * D + k];
      y[n] = Math.max(acc, 0);
      ss += y[n] * y[n];
    }
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let n = 0; n < D; n++) out[t * D + n] = y[n] * inv * w.norm[n];
  }
  return out;
}
