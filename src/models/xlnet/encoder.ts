// The XLNet encoder on the GPU (ProtXLNet), as transformers' modeling_xlnet computes it with
// attn_type "bi", no memory, no target_mapping, no perm_mask and no token_type_ids: the word
// embedding, then post-LN layers — relative attention (q, k, v, o, r are [d_model, n_head, d_head]
// Parameters; score = ((q + r_w_bias)·k + (q + r_r_bias)·k_r[i − j]) / sqrt(d_head), k_r the
// layer's r-projection of the sinusoid table [sin | cos] of relative positions) → o → + residual
// → layer_norm; layer_1 → erf GELU → layer_2 → + residual → layer_norm. No final norm.
// Positions enter only as i − j and padded keys are masked, so a sequence's rows do not depend
// on where in its batch row it sits: XLNet's left padding gives the same numbers as the right
// padding this encoder runs (see XLNET's `shiftInvariant` in index.ts and test/families.test.ts).
import { attention } from '../../../kernels/attention.js';
import { embedding } from '../../../kernels/embedding.js';
import { layernorm } from '../../../kernels/layernorm.js';
import { matmul } from '../../../kernels/matmul.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor, TensorDType } from '../../gpu/tensor.js';
import { linear, norm, postLnFeedForward, type Linear, type Norm } from '../bert/encoder.js';
import { safePoint, type Checkpoint, type Encoder, type ForwardSteps, type LoadContext } from '../family.js';
import { KernelChoice } from '../kernel-choice.js';
import { WeightUploader } from '../upload.js';
import type { XLNetConfig } from './config.js';
import { XLNET_WORD_EMBEDDING, xlnetLayerNames } from './schema.js';

const FF_CHUNK_BYTES = 64 * 2 ** 20;

interface Layer {
  q: Tensor; // [H·d_head, D] (stored [D, H, d_head], transposed at upload)
  k: Tensor; // [H·d_head, D]
  v: Tensor; // [H·d_head, D]
  r: Tensor; // [H·d_head, D]
  o: Tensor; // [D, H·d_head] (as stored)
  biases: Tensor; // [2, H·d_head]: r_w_bias, r_r_bias
  attnNorm: Norm; // [D]
  layer1: Linear; // [I, D]
  layer2: Linear; // [D, I]
  ffNorm: Norm; // [D]
}

/**
 * The sinusoid table of relative positions −R..R: row R + p holds [sin(p·f) | cos(p·f)] [D] for
 * inv_freq f = 1 / 10000^(2i / D), p clamped to ±clampLen when clampLen > 0. inv_freq and p·f are
 * rounded to f32 as transformers computes them (in float32 even under model.double()).
 */
export function xlnetSinusoid(R: number, D: number, clampLen = -1): Float32Array {
  const half = D / 2;
  const invFreq = Float32Array.from({ length: half }, (_, i) => Math.fround(1 / Math.fround(10000 ** Math.fround((2 * i) / D))));
  const t = new Float32Array((2 * R + 1) * D);
  for (let r = 0; r <= 2 * R; r++) {
    const p = clampLen > 0 ? Math.max(-clampLen, Math.min(clampLen, r - R)) : r - R;
    for (let i = 0; i < half; i++) {
      const x = Math.fround(p * invFreq[i]);
      t[r * D + i] = Math.sin(x);
      t[r * D + half + i] = Math.cos(x);
    }
  }
  return t;
}

export class XLNetEncoder implements Encoder {
  private constructor(
    readonly rt: Runtime,
    readonly config: XLNetConfig,
    private readonly word: Tensor, // [V, D]
    private readonly layers: Layer[],
    readonly weightDtypes: ReadonlySet<TensorDType>,
    readonly kernels: KernelChoice,
  ) {}

  get hiddenSize(): number {
    return this.config.d_model;
  }

  static async load(rt: Runtime, ckpt: Checkpoint<XLNetConfig>, ctx: LoadContext = {}): Promise<XLNetEncoder> {
    const c = ckpt.config;
    const up = new WeightUploader(rt, ckpt, ctx);
    try {
      const word = await up.tensor(XLNET_WORD_EMBEDDING);
      const layers: Layer[] = [];
      for (let i = 0; i < c.n_layer; i++) {
        const n = xlnetLayerNames(i);
        const [rw, rr] = [(await up.values(n.rwBias)).values, (await up.values(n.rrBias)).values];
        const biases = new Float32Array(2 * rw.length);
        biases.set(rw);
        biases.set(rr, rw.length);
        layers.push({
          q: await up.transposed(n.q),
          k: await up.transposed(n.k),
          v: await up.transposed(n.v),
          r: await up.transposed(n.r),
          o: await up.tensor(n.o, true), // [D, H, d_head] is the [out, in] matrix [D, H·d_head] as it is
          biases: up.upload(biases, [2, rw.length], `${n.rwBias}+r_r_bias`),
          attnNorm: await norm(up, n.attnNorm),
          layer1: await linear(up, n.layer1),
          layer2: await linear(up, n.layer2),
          ffNorm: await norm(up, n.ffNorm),
        });
      }
      await rt.sync();
      const kernels = await KernelChoice.pick(ctx.tuner, layers.flatMap((l) => [l.q, l.o, l.layer1.w, l.layer2.w]), c.d_head, c.n_head);
      return new XLNetEncoder(rt, c, word, layers, up.dtypes, kernels);
    } catch (err) {
      up.release();
      throw err;
    }
  }

  /**
   * Records the encoder over a batch whose sequences start their rows (padding after them: the
   * same numbers as XLNet's left padding, see the header) and returns last_hidden_state
   * [B, L, d_model] (the caller releases it). ids: [B·L]; lengths: [B] tokens per sequence
   * (<sep> and <cls> included).
   */
  async forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, steps?: ForwardSteps): Promise<Tensor> {
    const c = this.config, rt = this.rt;
    const T = B * L, D = c.d_model, HD = c.n_head * c.d_head, R = Math.max(0, L - 1);
    const tmp: Tensor[] = [];
    const keep = <X extends Tensor>(t: X) => (tmp.push(t), t);
    const h = rt.empty([B, L, D], 'f32', 'hidden'); // [B, L, D]: the layers' output; returned
    try {
      const idsT = keep(rt.upload(ids, [T], 'u32', 'input_ids')); // [B·L]
      const lensT = keep(rt.upload(lengths, [B], 'u32', 'lengths')); // [B]
      const pos = keep(rt.upload(xlnetSinusoid(R, D, c.clamp_len), [2 * R + 1, D], 'f32', 'pos_emb')); // [2R+1, D]
      await embedding(rt, idsT, this.word, h);
      const x = keep(rt.empty([B, L, D], 'f32', 'attention_output')); // [B, L, D]
      const q = keep(rt.empty([B, L, HD], 'f32', 'q')); // [B, L, H·d_head]
      const k = keep(rt.empty([B, L, HD], 'f32', 'k'));
      const v = keep(rt.empty([B, L, HD], 'f32', 'v'));
      const kr = keep(rt.empty([2 * R + 1, HD], 'f32', 'k_r')); // [2R+1, H·d_head]
      const a = keep(rt.empty([B, L, HD], 'f32', 'attn_vec')); // [B, L, H·d_head]
      const ffRows = Math.max(1, Math.min(T, Math.floor(FF_CHUNK_BYTES / (c.d_inner * 4))));
      const ff = keep(rt.empty([ffRows, c.d_inner], 'f32', 'ff_inner')); // [chunk, d_inner]
      for (const [i, layer] of this.layers.entries()) {
        await this.relAttn(layer, h, x, q, k, v, kr, a, pos, lensT);
        await this.feedForward(layer, x, h, ff, T, ffRows);
        await safePoint(rt, steps, i + 1, this.layers.length);
      }
      return h;
    } catch (err) {
      h.release();
      throw err;
    } finally {
      for (const t of tmp) t.release();
    }
  }

  /** rel_attn: x = layer_norm(h + o(attention)), q k v from h, k_r from the sinusoid table. h is left changed. */
  private async relAttn(l: Layer, h: Tensor, x: Tensor, q: Tensor, k: Tensor, v: Tensor, kr: Tensor, a: Tensor, pos: Tensor, lengths: Tensor): Promise<void> {
    const rt = this.rt, c = this.config;
    for (const [w, y] of [[l.q, q], [l.k, k], [l.v, v]] as const) await matmul(rt, { x: h, w, y, tile: this.kernels.tile(w) });
    await matmul(rt, { x: pos, w: l.r, y: kr, tile: this.kernels.tile(l.r) }); // k_head_r [2R+1, H·d_head]
    await attention(rt, { q, k, v, xlnet: { kr, biases: l.biases }, lengths, out: a, heads: c.n_head, scale: 1 / Math.sqrt(c.d_head), tile: this.kernels.attention });
    await matmul(rt, { x: a, w: l.o, y: h, epilogue: 'add', tile: this.kernels.tile(l.o) }); // h += o(attn_vec)
    await layernorm(rt, h, l.attnNorm.w, l.attnNorm.b, x, c.layer_norm_eps);
  }

  /** ff: h = layer_norm(x + layer_2(gelu(layer_1(x)))), in row chunks of the inner activation. x is left changed. */
  private feedForward(l: Layer, x: Tensor, h: Tensor, ff: Tensor, T: number, chunk: number): Promise<void> {
    return postLnFeedForward(this.rt, this.kernels, l.layer1, l.layer2, l.ffNorm, { x, h, ff, T, chunk, eps: this.config.layer_norm_eps });
  }

  dispose(): void {
    const all: Tensor[] = [this.word];
    for (const l of this.layers) all.push(l.q, l.k, l.v, l.r, l.o, l.biases, l.attnNorm.w, l.attnNorm.b, l.layer1.w, l.layer1.b, l.layer2.w, l.layer2.b, l.ffNorm.w, l.ffNorm.b);
    for (const t of all) t.release();
    this.rt.pool.trim();
  }
}
