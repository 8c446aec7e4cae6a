// The T5 encoder forward pass on the GPU: one small function per Hugging Face layer, shapes
// in comments. Weights stay in their stored dtype; activations are f32. A whole batch is
// recorded into one command buffer; nothing is read back until the caller asks.
import { attention, DEFAULT_ATTENTION_TILE, tuneAttention, type AttentionTile } from '../../../kernels/attention.js';
import { embedding } from '../../../kernels/embedding.js';
import { DEFAULT_MATMUL_TILE, matmul, tuneMatmul, type MatmulTile } from '../../../kernels/matmul.js';
import { meanpool } from '../../../kernels/meanpool.js';
import { rmsnorm } from '../../../kernels/rmsnorm.js';
import type { Checkpoint } from '../../../weights/checkpoint.js';
import { type TensorEntry } from '../../../weights/tensor-entry.js';
import { toFloat32, type DType } from '../../gpu/dtype.js';
import { WeightsError } from '../../errors.js';
import type { Autotuner } from '../../gpu/autotune.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor, TensorDType } from '../../gpu/tensor.js';
import type { T5Config } from './config.js';
import { relativeBiasTable } from './relative-bias.js';

const GPU_DTYPE: Record<DType, TensorDType> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

/** The feed-forward intermediate [rows, d_ff] is computed in row chunks of at most this many bytes. */
const FF_CHUNK_BYTES = 64 * 2 ** 20;

interface Block {
  ln0: Tensor; // [d_model]
  q: Tensor; // [inner, d_model]
  k: Tensor; // [inner, d_model]
  v: Tensor; // [inner, d_model]
  o: Tensor; // [d_model, inner]
  ln1: Tensor; // [d_model]
  wi: Tensor; // [d_ff, d_model]
  wo: Tensor; // [d_model, d_ff]
}

export interface LoadProgress {
  tensor: string;
  loaded: number;
  total: number;
  bytes: number;
}

/** A weight tensor holding NaN or ±Inf values: where, and how many of each. */
export interface NonFiniteWeights {
  tensor: string;
  file: string;
  nan: number;
  inf: number;
  /** Elements in the tensor. */
  total: number;
}

/** What load does about weights holding NaN or ±Inf. */
export interface WeightChecks {
  /** Throw a WeightsError naming the first such tensor (default: warn and go on). */
  strict?: boolean;
  onWarning?: (message: string, detail: NonFiniteWeights) => void;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Counts the NaN and ±Inf values in a tensor's little-endian bytes in `dtype`: the values
 * toFloat32 would decode as NaN or ±Inf (all exponent bits set), read from the bits directly
 * because decoding is slow for F16 (a 16 Mi-element tensor: seconds decoded, tens of ms here).
 */
export function countNonFinite(dtype: DType, bytes: Uint8Array): { nan: number; inf: number; total: number } {
  const width = dtype === 'F32' ? 4 : 2;
  const [exp, mant] = dtype === 'F32' ? [0x7f800000, 0x007fffff] : dtype === 'F16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
  const n = Math.floor(bytes.byteLength / width);
  let nan = 0, inf = 0;
  const tally = (bits: number): void => {
    if ((bits & exp) === exp) {
      if (bits & mant) nan++;
      else inf++;
    }
  };
  if (LITTLE_ENDIAN && bytes.byteOffset % width === 0) {
    // One loop per array type keeps each monomorphic (fast).
    if (width === 4) {
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) if ((words[i] & exp) === exp) tally(words[i]);
    } else {
      const words = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      for (let i = 0; i < n; i++) if ((words[i] & exp) === exp) tally(words[i]);
    }
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) tally(width === 4 ? dv.getUint32(i * 4, true) : dv.getUint16(i * 2, true));
  }
  return { nan, inf, total: n };
}

export class T5Encoder {
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
    readonly kernels: { matmul: Map<string, MatmulTile>; attention: AttentionTile },
  ) {}

  private tile(w: Tensor): MatmulTile {
    return this.kernels.matmul.get(`${w.dtype}|${w.shape[0]}|${w.shape[1]}`) ?? DEFAULT_MATMUL_TILE;
  }

  /**
   * Uploads every encoder tensor, one at a time (only one tensor's bytes in JS memory at once),
   * then picks kernel variants with `tuner` (defaults without one).
   */
  static async load(rt: Runtime, ckpt: Checkpoint, onProgress?: (p: LoadProgress) => void, tuner?: Autotuner, checks: WeightChecks = {}): Promise<T5Encoder> {
    const c = ckpt.config;
    const loaded: Tensor[] = [];
    const dtypes = new Set<TensorDType>();
    let count = 0, bytes = 0;
    // NaN or ±Inf in a weight can make the embeddings NaN: name the tensor before it is uploaded.
    const check = (entry: TensorEntry, data: Uint8Array): void => {
      const counts = countNonFinite(entry.dtype, data);
      if (counts.nan === 0 && counts.inf === 0) return;
      const d: NonFiniteWeights = { tensor: entry.name, file: entry.file, ...counts };
      const what = [d.nan ? `${d.nan} NaN` : '', d.inf ? `${d.inf} infinite` : ''].filter(Boolean).join(' and ');
      const message = `${d.file}: tensor "${d.tensor}" holds ${what} value${d.nan + d.inf > 1 ? 's' : ''} (of ${d.total}): embeddings computed with it may be NaN or infinite`;
      if (checks.strict) throw new WeightsError(message, { ...d });
      checks.onWarning?.(message, d);
    };
    const get = async (name: string): Promise<Tensor> => {
      const entry = ckpt.tensors.get(name)!;
      const data = await entry.read();
      check(entry, data);
      const t = rt.upload(data, entry.shape, GPU_DTYPE[entry.dtype], name);
      loaded.push(t);
      dtypes.add(t.dtype);
      bytes += data.byteLength;
      onProgress?.({ tensor: name, loaded: ++count, total: ckpt.tensors.size, bytes });
      return t;
    };
    try {
      const shared = await get('shared.weight');
      const relName = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';
      const rel = ckpt.tensors.get(relName)!;
      const relBytes = await rel.read();
      check(rel, relBytes);
      const table = relativeBiasTable(toFloat32(rel.dtype, relBytes), c.relative_attention_num_buckets, c.num_heads, c.relative_attention_max_distance);
      const bias = rt.upload(table, [c.num_heads, 2 * c.relative_attention_max_distance + 1], 'f32', 'relative_bias_table');
      loaded.push(bias);
      onProgress?.({ tensor: relName, loaded: ++count, total: ckpt.tensors.size, bytes });
      const blocks: Block[] = [];
      for (let i = 0; i < c.num_layers; i++) {
        const a = `encoder.block.${i}.layer.0.`, f = `encoder.block.${i}.layer.1.`;
        blocks.push({
          ln0: await get(`${a}layer_norm.weight`),
          q: await get(`${a}SelfAttention.q.weight`),
          k: await get(`${a}SelfAttention.k.weight`),
          v: await get(`${a}SelfAttention.v.weight`),
          o: await get(`${a}SelfAttention.o.weight`),
          ln1: await get(`${f}layer_norm.weight`),
          wi: await get(`${f}DenseReluDense.wi.weight`),
          wo: await get(`${f}DenseReluDense.wo.weight`),
        });
      }
      const finalNorm = await get('encoder.final_layer_norm.weight');
      await rt.sync();
      const kernels = { matmul: new Map<string, MatmulTile>(), attention: DEFAULT_ATTENTION_TILE };
      if (tuner) {
        for (const w of [blocks[0].q, blocks[0].o, blocks[0].wi, blocks[0].wo, ...blocks.flatMap((b) => [b.q, b.o, b.wi, b.wo])]) {
          const key = `${w.dtype}|${w.shape[0]}|${w.shape[1]}`;
          if (!kernels.matmul.has(key)) kernels.matmul.set(key, (await tuneMatmul(tuner, w.shape[0], w.shape[1], w.dtype)).choice);
        }
        kernels.attention = (await tuneAttention(tuner, c.d_kv, c.num_heads)).choice;
      }
      return new T5Encoder(rt, c, shared, bias, blocks, finalNorm, dtypes, kernels);
    } catch (e) {
      for (const t of loaded) t.release();
      throw e;
    }
  }

  /**
   * Records the encoder over a padded batch and returns last_hidden_state [B, L, d_model]
   * (the caller releases it). ids: [B·L] token ids, padded with 0; lengths: [B] tokens per
   * sequence including </s>.
   */
  async forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number): Promise<Tensor> {
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
      const ffRows = Math.max(1, Math.min(T, Math.floor(FF_CHUNK_BYTES / (c.d_ff * 4))));
      const ff = rt.empty([ffRows, c.d_ff], 'f32', 'ff'); // [chunk, d_ff]
      tmp.push(x, q, k, v, a, ff);
      for (const blk of this.blocks) {
        await this.selfAttention(blk, h, x, q, k, v, a, lensT);
        await this.feedForward(blk, h, x, ff, T, ffRows);
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

  /** layer.1: h += wo(relu(wi(x))) with x = layer_norm(h), in row chunks of the d_ff intermediate. */
  private async feedForward(blk: Block, h: Tensor, x: Tensor, ff: Tensor, T: number, chunk: number): Promise<void> {
    const rt = this.rt;
    await rmsnorm(rt, h, blk.ln1, x, this.config.layer_norm_epsilon);
    for (let r = 0; r < T; r += chunk) {
      const rows = Math.min(chunk, T - r);
      await matmul(rt, { x, w: blk.wi, y: ff, epilogue: 'relu', rowStart: r, rows, yRowStart: 0, tile: this.tile(blk.wi) });
      await matmul(rt, { x: ff, w: blk.wo, y: h, epilogue: 'add', rowStart: r, rows, xRowStart: 0, tile: this.tile(blk.wo) });
    }
  }

  /** Per-protein means [B, d_model] of the first counts[b] rows of hidden [B, L, d_model]. */
  async meanPool(hidden: Tensor, counts: Uint32Array): Promise<Tensor> {
    const [B, , D] = hidden.shape;
    const c = this.rt.upload(counts, [B], 'u32', 'counts');
    const out = this.rt.empty([B, D], 'f32', 'per_protein');
    try {
      await meanpool(this.rt, hidden, c, out);
    } finally {
      c.release();
    }
    return out;
  }

  dispose(): void {
    for (const t of [this.shared, this.bias, this.finalNorm, ...this.blocks.flatMap((b) => Object.values(b) as Tensor[])]) t.release();
    this.rt.pool.trim();
  }
}
