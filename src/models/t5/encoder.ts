// The T5 encoder forward pass on the GPU: one small function per Hugging Face layer, shapes
// in comments. Weights stay in their stored dtype; activations are f32. A whole batch is
// recorded into one command buffer; nothing is read back until the caller asks.
import { attention, tuneAttention, type AttentionTile } from '../../../kernels/attention.js';
import { embedding } from '../../../kernels/embedding.js';
import { matmul, tuneMatmul, type MatmulTile } from '../../../kernels/matmul.js';
import { rmsnorm } from '../../../kernels/rmsnorm.js';
import { OutOfMemoryError } from '../../errors.js';
import { DTYPE_BYTES } from '../../gpu/dtype.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor, TensorDType } from '../../gpu/tensor.js';
import { safePoint, type Checkpoint, type Encoder, type ForwardSteps, type LoadContext } from '../family.js';
import { WeightUploader } from '../upload.js';
import { isGated, type T5Config } from './config.js';
import { relativeBiasTable } from './relative-bias.js';
import { blockPrefixes, RELATIVE_BIAS } from './schema.js';

/** The feed-forward intermediate [rows, d_ff slice] is computed in row chunks of at most this many bytes. */
const FF_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * Rows of d_ff per slice of the feed-forward weights, so that each slice — wi's [rows, d_model]
 * and wo's [d_model, rows] — fits one buffer of `maxBufferBytes` (the device's
 * maxStorageBufferBindingSize / maxBufferSize, or less). d_ff itself when the whole weight fits
 * (every model up to ProtT5-XXL in f16 on a 128 MiB limit); else a multiple of 8, so wo's slices
 * keep K % 8 == 0 for the vector matmul families.
 */
export function ffSliceRows(dFf: number, dModel: number, elementBytes: number, maxBufferBytes: number): number {
  const fit = Math.floor(maxBufferBytes / (dModel * elementBytes));
  if (fit >= dFf) return dFf;
  if (fit < 1) {
    throw new OutOfMemoryError(`one row of a feed-forward weight (d_model ${dModel}) is over this device's buffer limit of ${maxBufferBytes} bytes`, { bytes: dModel * elementBytes, limit: maxBufferBytes });
  }
  return fit >= 8 ? fit - (fit % 8) : fit;
}

/** Token rows per chunk of the feed-forward intermediate [rows, slice] (f32), within FF_CHUNK_BYTES and the buffer limit. */
export function ffChunkRows(tokens: number, sliceRows: number, maxBufferBytes: number): number {
  return Math.max(1, Math.min(tokens, Math.floor(Math.min(FF_CHUNK_BYTES, maxBufferBytes) / (sliceRows * 4))));
}

/**
 * layer.1's weights, split along d_ff into slices that each fit one buffer (one slice in the
 * common case): FF(x) = Σ_s wo_s(act(wi_s x)), exact since the activation is elementwise.
 */
interface FeedForward {
  wi: Tensor[]; // per slice [slice, d_model]: wi (ReLU), or wi_0 (the gate, through GELU)
  wi1: Tensor[] | null; // gated only: wi_1's slices [slice, d_model]
  wo: Tensor[]; // per slice [d_model, slice]
}

interface Block {
  ln0: Tensor; // [d_model]
  q: Tensor; // [inner, d_model]
  k: Tensor; // [inner, d_model]
  v: Tensor; // [inner, d_model]
  o: Tensor; // [d_model, inner]
  ln1: Tensor; // [d_model]
  ff: FeedForward; // wi [d_ff, d_model] (or wi_0, wi_1), wo [d_model, d_ff], in d_ff slices
}

export class T5Encoder implements Encoder {
  private constructor(
    readonly rt: Runtime,
    readonly config: T5Config,
    private readonly shared: Tensor, // [vocab, d_model]
    private readonly bias: Tensor, // [H, 2R+1] f32, from block 0's relative_attention_bias
    private readonly blocks: Block[],
    private readonly finalNorm: Tensor, // [d_model]
    /** dtype of each weight tensor as stored (for info and tests). */
    readonly weightDtypes: ReadonlySet<TensorDType>,
    /** Kernel variants in use: matmul tile per `${dtype}|${N}|${K}`, and the attention tile. */
    readonly kernels: { matmul: Map<string, MatmulTile>; attention: AttentionTile | undefined },
  ) {}

  get hiddenSize(): number {
    return this.config.d_model;
  }

  private tile(w: Tensor): MatmulTile | undefined {
    return this.kernels.matmul.get(`${w.dtype}|${w.shape[0]}|${w.shape[1]}`); // undefined: the kernel's default for the device
  }

  /**
   * Uploads every encoder tensor, one at a time (only one tensor's bytes in JS memory at once),
   * then picks kernel variants with the context's tuner (defaults without one).
   */
  static async load(rt: Runtime, ckpt: Checkpoint<T5Config>, ctx: LoadContext = {}): Promise<T5Encoder> {
    const c = ckpt.config;
    const tuner = ctx.tuner;
    const up = new WeightUploader(rt, ckpt, ctx);
    const get = (name: string) => up.tensor(name);
    try {
      const shared = await get('shared.weight');
      // Block 0's [buckets, H] relative_attention_bias, as the [H, 2R+1] table the attention kernel reads.
      const rel = await up.values(RELATIVE_BIAS);
      const table = relativeBiasTable(rel.values, c.relative_attention_num_buckets, c.num_heads, c.relative_attention_max_distance);
      const bias = up.upload(table, [c.num_heads, 2 * c.relative_attention_max_distance + 1], 'relative_bias_table');
      const blocks: Block[] = [];
      const gated = isGated(c);
      // The widest stored element among the feed-forward weights decides the slices (one for all blocks).
      const ffBytes = Math.max(...[...ckpt.tensors.values()].filter((t) => /DenseReluDense\.w[io]/.test(t.name)).map((t) => DTYPE_BYTES[t.dtype]), 1);
      const slice = ffSliceRows(c.d_ff, c.d_model, ffBytes, rt.maxBufferBytes);
      for (let i = 0; i < c.num_layers; i++) {
        const { attn: a, ff: f } = blockPrefixes(i);
        blocks.push({
          ln0: await get(`${a}layer_norm.weight`),
          q: await get(`${a}SelfAttention.q.weight`),
          k: await get(`${a}SelfAttention.k.weight`),
          v: await get(`${a}SelfAttention.v.weight`),
          o: await get(`${a}SelfAttention.o.weight`),
          ln1: await get(`${f}layer_norm.weight`),
          ff: {
            wi: await up.rowSlices(`${f}DenseReluDense.${gated ? 'wi_0' : 'wi'}.weight`, slice),
            wi1: gated ? await up.rowSlices(`${f}DenseReluDense.wi_1.weight`, slice) : null,
            wo: await up.columnSlices(`${f}DenseReluDense.wo.weight`, slice),
          },
        });
      }
      const finalNorm = await get('encoder.final_layer_norm.weight');
      await rt.sync();
      const kernels = { matmul: new Map<string, MatmulTile>(), attention: undefined as AttentionTile | undefined };
      if (tuner) {
        const shapes = new Map<string, Tensor>();
        for (const w of blocks.flatMap((b) => [b.q, b.o, ...b.ff.wi, ...b.ff.wo])) shapes.set(`${w.dtype}|${w.shape[0]}|${w.shape[1]}`, w);
        tuner.expect(shapes.size + 1); // each matmul shape, and attention
        for (const [key, w] of shapes) kernels.matmul.set(key, (await tuneMatmul(tuner, w.shape[0], w.shape[1], w.dtype)).choice);
        kernels.attention = (await tuneAttention(tuner, c.d_kv, c.num_heads)).choice;
      }
      return new T5Encoder(rt, c, shared, bias, blocks, finalNorm, up.dtypes, kernels);
    } catch (e) {
      up.release();
      throw e;
    }
  }

  /**
   * Records the encoder over a padded batch and returns last_hidden_state [B, L, d_model]
   * (the caller releases it). ids: [B·L] token ids, padded with 0; lengths: [B] tokens per
   * sequence including </s>.
   */
  async forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, steps?: ForwardSteps): Promise<Tensor> {
    const c = this.config, rt = this.rt;
    const T = B * L, D = c.d_model, inner = c.num_heads * c.d_kv;
    const idsT = rt.upload(ids, [T], 'u32', 'input_ids'); // [B·L]
    const lensT = rt.upload(lengths, [B], 'u32', 'lengths'); // [B]
    const h = rt.empty([B, L, D], 'f32', 'hidden'); // [B, L, d_model]
    const tmp: Tensor[] = [idsT, lensT];
    try {
      await embedding(rt, idsT, this.shared, h);
      const x = rt.empty([T, D], 'f32', 'normed'); // [B·L, d_model]
      const q = rt.empty([B, L, inner], 'f32', 'q'); // [B, L, H·d_kv]
      const k = rt.empty([B, L, inner], 'f32', 'k');
      const v = rt.empty([B, L, inner], 'f32', 'v');
      const a = rt.empty([B, L, inner], 'f32', 'attn'); // [B, L, H·d_kv]
      const slice = this.blocks[0]?.ff.wi[0].shape[0] ?? c.d_ff;
      const ffRows = ffChunkRows(T, slice, rt.maxBufferBytes);
      const ff = rt.empty([ffRows, slice], 'f32', 'ff'); // [chunk, d_ff slice]
      tmp.push(x, q, k, v, a, ff);
      for (const [i, blk] of this.blocks.entries()) {
        await this.selfAttention(blk, h, x, q, k, v, a, lensT);
        await this.feedForward(blk, h, x, ff, T, ffRows);
        await safePoint(rt, steps, i + 1, this.blocks.length);
      }
      const out = rt.empty([B, L, D], 'f32', 'last_hidden_state');
      await rmsnorm(rt, h, this.finalNorm, out, c.layer_norm_epsilon);
      return out;
    } finally {
      h.release();
      for (const t of tmp) t.release();
    }
  }

  /** layer.0: h += o(attention(q(x), k(x), v(x))) with x = layer_norm(h). */
  private async selfAttention(blk: Block, h: Tensor, x: Tensor, q: Tensor, k: Tensor, v: Tensor, a: Tensor, lengths: Tensor): Promise<void> {
    const rt = this.rt;
    await rmsnorm(rt, h, blk.ln0, x, this.config.layer_norm_epsilon);
    await matmul(rt, { x, w: blk.q, y: q, tile: this.tile(blk.q) });
    await matmul(rt, { x, w: blk.k, y: k, tile: this.tile(blk.k) });
    await matmul(rt, { x, w: blk.v, y: v, tile: this.tile(blk.v) });
    await attention(rt, { q, k, v, bias: this.bias, lengths, out: a, heads: this.config.num_heads, tile: this.kernels.attention });
    await matmul(rt, { x: a, w: blk.o, y: h, epilogue: 'add', tile: this.tile(blk.o) });
  }

  /**
   * layer.1: h += wo(relu(wi(x))) — or, gated (T5 v1.1, Ankh), h += wo(gelu_new(wi_0 x) · wi_1 x) —
   * with x = layer_norm(h), in row chunks of tokens and slices of d_ff (see FeedForward). The
   * gated product is fused: wi_0's matmul stores the gate in ff, wi_1's multiplies into it.
   */
  private async feedForward(blk: Block, h: Tensor, x: Tensor, ff: Tensor, T: number, chunk: number): Promise<void> {
    const rt = this.rt;
    const { wi, wi1, wo } = blk.ff;
    await rmsnorm(rt, h, blk.ln1, x, this.config.layer_norm_epsilon);
    for (let r = 0; r < T; r += chunk) {
      const rows = Math.min(chunk, T - r);
      for (let s = 0; s < wi.length; s++) {
        const into = { x, y: ff, rowStart: r, rows, yRowStart: 0 };
        if (wi1) {
          await matmul(rt, { ...into, w: wi[s], tile: this.tile(wi[s]) }); // [rows, slice] gate
          await matmul(rt, { ...into, w: wi1[s], epilogue: 'gate_gelu', tile: this.tile(wi1[s]) });
        } else {
          await matmul(rt, { ...into, w: wi[s], epilogue: 'relu', tile: this.tile(wi[s]) });
        }
        await matmul(rt, { x: ff, w: wo[s], y: h, epilogue: 'add', rowStart: r, rows, xRowStart: 0, tile: this.tile(wo[s]) });
      }
    }
  }

  dispose(): void {
    const ff = (f: FeedForward) => [...f.wi, ...(f.wi1 ?? []), ...f.wo];
    for (const t of [this.shared, this.bias, this.finalNorm, ...this.blocks.flatMap((b) => [b.ln0, b.q, b.k, b.v, b.o, b.ln1, ...ff(b.ff)])]) t.release();
    this.rt.pool.trim();
  }
}
