// The ESM-2 encoder on the GPU, as transformers' modeling_esm computes it: word embeddings with
// token dropout (inference too: <mask> rows zeroed, every row × 0.88 / (1 − masked fraction)),
// then pre-LN layers — LayerNorm → q, k, v (rotary on q and k, rotate-half, positions 0..L-1
// counting <cls>) → attention scaled by 1/sqrt(d_head) → dense → + residual; LayerNorm →
// intermediate → erf GELU → output → + residual — and emb_layer_norm_after at the end.
// transformers scales q by 1/sqrt(d_head) before the rotation; the rotation is linear, so the
// attention kernel's scale on q·k is the same number (up to f32 rounding).
import { attention } from '../../../kernels/attention.js';
import { embedding } from '../../../kernels/embedding.js';
import { layernorm } from '../../../kernels/layernorm.js';
import { matmul } from '../../../kernels/matmul.js';
import { rotary, rotaryTable } from '../../../kernels/rotary.js';
import { rowscale } from '../../../kernels/rowscale.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor, TensorDType } from '../../gpu/tensor.js';
import { linear, norm, type Linear, type Norm } from '../bert/encoder.js';
import { safePoint, type Checkpoint, type Encoder, type ForwardSteps, type LoadContext } from '../family.js';
import { KernelChoice } from '../kernel-choice.js';
import { WeightUploader } from '../upload.js';
import type { EsmConfig } from './config.js';
import { ESM_FINAL_NORM, ESM_WORD_EMBEDDINGS, esmLayerNames } from './schema.js';

const FF_CHUNK_BYTES = 64 * 2 ** 20;

/** ESM-2's training mask rate (15%) times the share of masked tokens replaced by <mask> (80%). */
const MASK_RATIO_TRAIN = 0.15 * 0.8;

interface Layer {
  attnNorm: Norm; // [D]
  query: Linear; // [D, D]
  key: Linear; // [D, D]
  value: Linear; // [D, D]
  attnOut: Linear; // [D, D]
  ffNorm: Norm; // [D]
  inter: Linear; // [I, D]
  out: Linear; // [D, I]
}

/** inv_freq[i] = 1 / θ^(2i / d_head), rounded to f32 as transformers' buffer holds it. */
export function rotaryInvFreq(headDim: number, theta: number): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / headDim));
}

/**
 * Token dropout's factor per row of a right-padded batch [B·L]: 0 for <mask> and padding,
 * (1 − 0.12) / (1 − masked / tokens) for the others (EsmEmbeddings, attention_mask given).
 */
export function tokenDropoutScale(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, maskId: number): Float32Array {
  const s = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    let masked = 0;
    for (let l = 0; l < n; l++) if (ids[b * L + l] === maskId) masked++;
    const f = (1 - MASK_RATIO_TRAIN) / (1 - masked / n);
    for (let l = 0; l < n; l++) s[b * L + l] = ids[b * L + l] === maskId ? 0 : f;
  }
  return s;
}

export class EsmEncoder implements Encoder {
  private constructor(
    readonly rt: Runtime,
    readonly config: EsmConfig,
    private readonly word: Tensor, // [V, D]
    private readonly layers: Layer[],
    private readonly finalNorm: Norm, // [D]
    private readonly invFreq: Float32Array, // [d_head / 2]
    readonly weightDtypes: ReadonlySet<TensorDType>,
    readonly kernels: KernelChoice,
  ) {}

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  static async load(rt: Runtime, ckpt: Checkpoint<EsmConfig>, ctx: LoadContext = {}): Promise<EsmEncoder> {
    const c = ckpt.config;
    const up = new WeightUploader(rt, ckpt, ctx);
    try {
      const word = await up.tensor(ESM_WORD_EMBEDDINGS);
      const layers: Layer[] = [];
      for (let i = 0; i < c.num_hidden_layers; i++) {
        const n = esmLayerNames(i);
        layers.push({
          attnNorm: await norm(up, n.attnNorm),
          query: await linear(up, n.query),
          key: await linear(up, n.key),
          value: await linear(up, n.value),
          attnOut: await linear(up, n.attnOut),
          ffNorm: await norm(up, n.ffNorm),
          inter: await linear(up, n.inter),
          out: await linear(up, n.out),
        });
      }
      const finalNorm = await norm(up, ESM_FINAL_NORM);
      await rt.sync();
      const dk = c.hidden_size / c.num_attention_heads;
      const kernels = await KernelChoice.pick(ctx.tuner, layers.flatMap((l) => [l.query.w, l.attnOut.w, l.inter.w, l.out.w]), dk, c.num_attention_heads);
      return new EsmEncoder(rt, c, word, layers, finalNorm, rotaryInvFreq(dk, c.rope_theta), up.dtypes, kernels);
    } catch (err) {
      up.release();
      throw err;
    }
  }

  /**
   * Records the encoder over a right-padded batch and returns last_hidden_state [B, L, hidden]
   * (the caller releases it). ids: [B·L]; lengths: [B] tokens per sequence (<cls> and <eos> included).
   */
  async forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, steps?: ForwardSteps): Promise<Tensor> {
    const c = this.config, rt = this.rt;
    const T = B * L, D = c.hidden_size, H = c.num_attention_heads;
    const tmp: Tensor[] = [];
    const keep = <X extends Tensor>(t: X) => (tmp.push(t), t);
    const out = rt.empty([B, L, D], 'f32', 'last_hidden_state'); // [B, L, hidden]
    try {
      const idsT = keep(rt.upload(ids, [T], 'u32', 'input_ids')); // [B·L]
      const lensT = keep(rt.upload(lengths, [B], 'u32', 'lengths')); // [B]
      const table = keep(rt.upload(rotaryTable(this.invFreq, L), [L, this.invFreq.length, 2], 'f32', 'rotary_cos_sin')); // [L, d_head/2, 2]
      const h = keep(rt.empty([B, L, D], 'f32', 'hidden')); // [B, L, hidden]: the residual stream
      await embedding(rt, idsT, this.word, h);
      if (c.token_dropout) await rowscale(rt, h, keep(rt.upload(tokenDropoutScale(ids, lengths, B, L, c.mask_token_id), [T], 'f32', 'token_dropout')));
      const x = keep(rt.empty([B, L, D], 'f32', 'normed')); // [B, L, hidden]
      const q = keep(rt.empty([B, L, D], 'f32', 'q')); // [B, L, H·d_head]
      const k = keep(rt.empty([B, L, D], 'f32', 'k'));
      const v = keep(rt.empty([B, L, D], 'f32', 'v'));
      const a = keep(rt.empty([B, L, D], 'f32', 'context'));
      const ffRows = Math.max(1, Math.min(T, Math.floor(FF_CHUNK_BYTES / (c.intermediate_size * 4))));
      const ff = keep(rt.empty([ffRows, c.intermediate_size], 'f32', 'intermediate')); // [chunk, intermediate]
      for (const [i, layer] of this.layers.entries()) {
        await this.attention(layer, h, x, q, k, v, a, lensT, table, H);
        await this.feedForward(layer, h, x, ff, T, ffRows);
        await safePoint(rt, steps, i + 1, this.layers.length);
      }
      await layernorm(rt, h, this.finalNorm.w, this.finalNorm.b, out, c.layer_norm_eps); // emb_layer_norm_after
      return out;
    } catch (err) {
      out.release();
      throw err;
    } finally {
      for (const t of tmp) t.release();
    }
  }

  /** attention: h += dense(softmax(rot(q) rot(k)ᵀ / sqrt(d_head)) v), q, k, v from x = LayerNorm(h). */
  private async attention(l: Layer, h: Tensor, x: Tensor, q: Tensor, k: Tensor, v: Tensor, a: Tensor, lengths: Tensor, table: Tensor, H: number): Promise<void> {
    const rt = this.rt, c = this.config;
    await layernorm(rt, h, l.attnNorm.w, l.attnNorm.b, x, c.layer_norm_eps);
    for (const [lin, y] of [[l.query, q], [l.key, k], [l.value, v]] as const) {
      await matmul(rt, { x, w: lin.w, bias: lin.b, y, epilogue: 'bias', tile: this.kernels.tile(lin.w) });
    }
    await rotary(rt, q, table, H);
    await rotary(rt, k, table, H);
    await attention(rt, { q, k, v, lengths, out: a, heads: H, scale: 1 / Math.sqrt(c.hidden_size / H), tile: this.kernels.attention });
    await matmul(rt, { x: a, w: l.attnOut.w, bias: l.attnOut.b, y: h, epilogue: 'bias_add', tile: this.kernels.tile(l.attnOut.w) });
  }

  /** intermediate + output: h += out(gelu(inter(LayerNorm(h)))), in row chunks of the intermediate. */
  private async feedForward(l: Layer, h: Tensor, x: Tensor, ff: Tensor, T: number, chunk: number): Promise<void> {
    const rt = this.rt, c = this.config;
    await layernorm(rt, h, l.ffNorm.w, l.ffNorm.b, x, c.layer_norm_eps);
    for (let r = 0; r < T; r += chunk) {
      const rows = Math.min(chunk, T - r);
      await matmul(rt, { x, w: l.inter.w, bias: l.inter.b, y: ff, epilogue: 'bias_gelu', rowStart: r, rows, yRowStart: 0, tile: this.kernels.tile(l.inter.w) });
      await matmul(rt, { x: ff, w: l.out.w, bias: l.out.b, y: h, epilogue: 'bias_add', rowStart: r, rows, xRowStart: 0, tile: this.kernels.tile(l.out.w) });
    }
  }

  dispose(): void {
    const all: Tensor[] = [this.word, this.finalNorm.w, this.finalNorm.b];
    for (const l of this.layers) for (const p of Object.values(l) as Array<Linear | Norm>) all.push(p.w, p.b);
    for (const t of all) t.release();
    this.rt.pool.trim();
  }
}
