// The BERT-style encoders on the GPU — BERT, ELECTRA, ALBERT, as transformers' modeling_bert,
// modeling_electra and modeling_albert compute them: embeddings (word + position + token type 0,
// LayerNorm), ELECTRA's / ALBERT's projection to hidden_size, then post-LN layers (attention
// scaled by 1/sqrt(d_head) → dense → + residual → LayerNorm; intermediate → erf GELU → output →
// + residual → LayerNorm). ALBERT's shared layers are uploaded once and run as scheduled.
// Weights stay in their stored dtype (vectors widened to f32); activations are f32.
import { attention } from '../../../kernels/attention.js';
import { embedding } from '../../../kernels/embedding.js';
import { layernorm } from '../../../kernels/layernorm.js';
import { matmul } from '../../../kernels/matmul.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor, TensorDType } from '../../gpu/tensor.js';
import { safePoint, type Checkpoint, type Encoder, type ForwardSteps, type LoadContext } from '../family.js';
import { KernelChoice } from '../kernel-choice.js';
import { WeightUploader } from '../upload.js';
import type { BertStyleConfig } from './config.js';
import { embeddingNames, layerSchedule, projectionName, storedLayers } from './schema.js';

/** The feed-forward intermediate [rows, intermediate_size] is computed in row chunks of at most this many bytes. */
const FF_CHUNK_BYTES = 64 * 2 ** 20;

/** A linear layer: weight [out, in] in its stored dtype, bias [out] f32. */
export interface Linear {
  w: Tensor;
  b: Tensor;
}

/** A LayerNorm: weight and bias [n] f32. */
export interface Norm {
  w: Tensor;
  b: Tensor;
}

/**
 * A post-LN feed-forward (BERT's intermediate + output, XLNet's layer_1 + layer_2): h =
 * LayerNorm(x + out(gelu(inter(x)))), the intermediate `ff` in row chunks of `chunk` of the T
 * tokens. x is left changed.
 */
export async function postLnFeedForward(rt: Runtime, kernels: KernelChoice, inter: Linear, out: Linear, ln: Norm, a: { x: Tensor; h: Tensor; ff: Tensor; T: number; chunk: number; eps: number }): Promise<void> {
  const { x, h, ff, T, chunk } = a;
  for (let r = 0; r < T; r += chunk) {
    const rows = Math.min(chunk, T - r);
    await matmul(rt, { x, w: inter.w, bias: inter.b, y: ff, epilogue: 'bias_gelu', rowStart: r, rows, yRowStart: 0, tile: kernels.tile(inter.w) });
    await matmul(rt, { x: ff, w: out.w, bias: out.b, y: x, epilogue: 'bias_add', rowStart: r, rows, xRowStart: 0, tile: kernels.tile(out.w) });
  }
  await layernorm(rt, x, ln.w, ln.b, h, a.eps);
}

interface Layer {
  query: Linear; // [D, D]
  key: Linear; // [D, D]
  value: Linear; // [D, D]
  attnOut: Linear; // [D, D]
  attnNorm: Norm; // [D]
  inter: Linear; // [I, D]
  out: Linear; // [D, I]
  outNorm: Norm; // [D]
}

/** Uploads `name`.weight (stored dtype) and `name`.bias (f32). */
export async function linear(up: WeightUploader, name: string): Promise<Linear> {
  return { w: await up.tensor(`${name}.weight`), b: await up.vector(`${name}.bias`) };
}

/** Uploads a LayerNorm's `name`.weight and `name`.bias (f32). */
export async function norm(up: WeightUploader, name: string): Promise<Norm> {
  return { w: await up.vector(`${name}.weight`), b: await up.vector(`${name}.bias`) };
}

export class BertStyleEncoder implements Encoder {
  private constructor(
    readonly rt: Runtime,
    readonly config: BertStyleConfig,
    private readonly emb: { word: Tensor; position: Tensor; tokenType: Tensor; norm: Norm }, // [V, E], [P, E], [TV, E]
    private readonly projection: Linear | undefined, // [D, E]
    private readonly layers: Layer[],
    /** Index into `layers` of each step of the forward pass (ALBERT repeats its shared layer). */
    private readonly schedule: number[],
    readonly weightDtypes: ReadonlySet<TensorDType>,
    readonly kernels: KernelChoice,
  ) {}

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  static async load(rt: Runtime, ckpt: Checkpoint<BertStyleConfig>, ctx: LoadContext = {}): Promise<BertStyleEncoder> {
    const c = ckpt.config;
    const up = new WeightUploader(rt, ckpt, ctx);
    try {
      const e = embeddingNames(c.kind);
      const emb = { word: await up.tensor(e.word), position: await up.tensor(e.position), tokenType: await up.tensor(e.tokenType), norm: await norm(up, e.norm) };
      const projName = projectionName(c);
      const projection = projName ? await linear(up, projName) : undefined;
      const layers: Layer[] = [];
      for (const n of storedLayers(c)) {
        layers.push({
          query: await linear(up, n.query),
          key: await linear(up, n.key),
          value: await linear(up, n.value),
          attnOut: await linear(up, n.attnOut),
          attnNorm: await norm(up, n.attnNorm),
          inter: await linear(up, n.inter),
          out: await linear(up, n.out),
          outNorm: await norm(up, n.outNorm),
        });
      }
      await rt.sync();
      const weights = [...(projection ? [projection.w] : []), ...layers.flatMap((l) => [l.query.w, l.attnOut.w, l.inter.w, l.out.w])];
      const kernels = await KernelChoice.pick(ctx.tuner, weights, c.hidden_size / c.num_attention_heads, c.num_attention_heads);
      return new BertStyleEncoder(rt, c, emb, projection, layers, layerSchedule(c), up.dtypes, kernels);
    } catch (err) {
      up.release();
      throw err;
    }
  }

  /**
   * Records the encoder over a right-padded batch and returns last_hidden_state [B, L, hidden]
   * (the caller releases it). ids: [B·L]; lengths: [B] tokens per sequence ([CLS] and [SEP] included).
   */
  async forward(ids: Uint32Array, lengths: Uint32Array, B: number, L: number, steps?: ForwardSteps): Promise<Tensor> {
    const c = this.config, rt = this.rt;
    const T = B * L, D = c.hidden_size;
    const positions = new Uint32Array(T);
    for (let t = 0; t < T; t++) positions[t] = t % L; // positions 0..L-1 in each row, as BertEmbeddings' position_ids
    const tmp: Tensor[] = [];
    const keep = <X extends Tensor>(t: X) => (tmp.push(t), t);
    const h = rt.empty([B, L, D], 'f32', 'hidden'); // [B, L, hidden]: the layers' output; returned
    try {
      const idsT = keep(rt.upload(ids, [T], 'u32', 'input_ids')); // [B·L]
      const posT = keep(rt.upload(positions, [T], 'u32', 'position_ids')); // [B·L]
      const typeT = keep(rt.upload(new Uint32Array(T), [T], 'u32', 'token_type_ids')); // [B·L], all 0
      const lensT = keep(rt.upload(lengths, [B], 'u32', 'lengths')); // [B]
      await this.embeddings(idsT, posT, typeT, h, B, L, keep);
      const x = keep(rt.empty([B, L, D], 'f32', 'attention_output')); // [B, L, hidden]
      const q = keep(rt.empty([B, L, D], 'f32', 'q')); // [B, L, H·d_head]
      const k = keep(rt.empty([B, L, D], 'f32', 'k'));
      const v = keep(rt.empty([B, L, D], 'f32', 'v'));
      const a = keep(rt.empty([B, L, D], 'f32', 'context')); // [B, L, H·d_head]
      const ffRows = Math.max(1, Math.min(T, Math.floor(FF_CHUNK_BYTES / (c.intermediate_size * 4))));
      const ff = keep(rt.empty([ffRows, c.intermediate_size], 'f32', 'intermediate')); // [chunk, intermediate]
      for (const [i, li] of this.schedule.entries()) {
        const layer = this.layers[li];
        await this.attention(layer, h, x, q, k, v, a, lensT);
        await this.feedForward(layer, x, h, ff, T, ffRows);
        await safePoint(rt, steps, i + 1, this.schedule.length);
      }
      return h;
    } catch (err) {
      h.release();
      throw err;
    } finally {
      for (const t of tmp) t.release();
    }
  }

  /** embeddings: LayerNorm(word[ids] + position[l] + token_type[0]) [B, L, E], then the projection to hidden (ELECTRA, ALBERT) into h. */
  private async embeddings(ids: Tensor, pos: Tensor, types: Tensor, h: Tensor, B: number, L: number, keep: (t: Tensor) => Tensor): Promise<void> {
    const rt = this.rt, c = this.config, E = c.embedding_size;
    const e = keep(rt.empty([B, L, E], 'f32', 'embeddings')); // [B, L, E]
    await embedding(rt, ids, this.emb.word, e);
    await embedding(rt, pos, this.emb.position, e, true);
    await embedding(rt, types, this.emb.tokenType, e, true);
    if (!this.projection) {
      await layernorm(rt, e, this.emb.norm.w, this.emb.norm.b, h, c.layer_norm_eps); // E = hidden
      return;
    }
    const en = keep(rt.empty([B, L, E], 'f32', 'embeddings_normed')); // [B, L, E]
    await layernorm(rt, e, this.emb.norm.w, this.emb.norm.b, en, c.layer_norm_eps);
    await matmul(rt, { x: en, w: this.projection.w, bias: this.projection.b, y: h, epilogue: 'bias', tile: this.kernels.tile(this.projection.w) }); // [B, L, hidden]
  }

  /** attention: x = LayerNorm(h + dense(softmax(q kᵀ / sqrt(d_head)) v)), q, k, v = query(h), key(h), value(h). h is left changed. */
  private async attention(l: Layer, h: Tensor, x: Tensor, q: Tensor, k: Tensor, v: Tensor, a: Tensor, lengths: Tensor): Promise<void> {
    const rt = this.rt, c = this.config, H = c.num_attention_heads;
    for (const [lin, y] of [[l.query, q], [l.key, k], [l.value, v]] as const) {
      await matmul(rt, { x: h, w: lin.w, bias: lin.b, y, epilogue: 'bias', tile: this.kernels.tile(lin.w) });
    }
    await attention(rt, { q, k, v, lengths, out: a, heads: H, scale: 1 / Math.sqrt(c.hidden_size / H), tile: this.kernels.attention });
    await matmul(rt, { x: a, w: l.attnOut.w, bias: l.attnOut.b, y: h, epilogue: 'bias_add', tile: this.kernels.tile(l.attnOut.w) }); // h += dense(a)
    await layernorm(rt, h, l.attnNorm.w, l.attnNorm.b, x, c.layer_norm_eps);
  }

  /** intermediate + output: h = LayerNorm(x + out(gelu(inter(x)))), in row chunks of the intermediate. x is left changed. */
  private feedForward(l: Layer, x: Tensor, h: Tensor, ff: Tensor, T: number, chunk: number): Promise<void> {
    return postLnFeedForward(this.rt, this.kernels, l.inter, l.out, l.outNorm, { x, h, ff, T, chunk, eps: this.config.layer_norm_eps });
  }

  dispose(): void {
    const all: Tensor[] = [this.emb.word, this.emb.position, this.emb.tokenType, this.emb.norm.w, this.emb.norm.b];
    if (this.projection) all.push(this.projection.w, this.projection.b);
    for (const l of this.layers) for (const p of Object.values(l) as Array<Linear | Norm>) all.push(p.w, p.b);
    for (const t of all) t.release();
    this.rt.pool.trim();
  }
}
