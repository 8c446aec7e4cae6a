// The ProtT5-XL-shaped layer every peer runs: random T5-like weights (seeded, so every process
// makes the same ones), the token sequence and its embedded hidden state, in the plain f32
// layouts the peers take (bench/peers.ts for tfjs, bench/torch-peer.ts for PyTorch).
import type { T5Config } from '../src/models/t5/config.js';
import type { Checkpoint } from '../src/models/family.js';
import { t5 } from '../src/models/t5/index.js';
import { encoderTensorShapes } from '../src/models/t5/schema.js';
import { relativeBiasTable } from '../src/models/t5/relative-bias.js';
import { tokenize } from '../src/tokenizers/prott5.js';
import { fromFloat32, toFloat32 } from '../src/gpu/dtype.js';
import type { TensorEntry } from '../weights/tensor-entry.js';
import type { LayerWeights } from './peers.js';
import { attentionRef } from '../kernels/attention.ref.js';
import { matmulRef } from '../kernels/matmul.ref.js';
import { rmsnormRef } from '../kernels/rmsnorm.ref.js';

function randomEntry(name: string, shape: number[], seed: number, dtype: 'F16' | 'F32'): TensorEntry {
  return {
    name,
    dtype,
    shape,
    file: '<random>',
    read: async () => {
      const n = shape.reduce((x, y) => x * y, 1);
      const out = new Uint16Array(n);
      let s = seed >>> 0;
      const norm = name.endsWith('layer_norm.weight');
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        // f16 in ±[2^-8, 2^-6) (or 1.0 for norms): small, T5-like magnitudes.
        out[i] = norm ? 0x3c00 : ((s >>> 31) << 15) | (0x1c00 + ((s >>> 12) & 0x7ff));
      }
      const bytes = new Uint8Array(out.buffer);
      return dtype === 'F16' ? bytes : fromFloat32('F32', toFloat32('F16', bytes));
    },
  };
}

/** Random weights for a T5 encoder of `config` (the same in every process: seeded per tensor). */
export function randomCheckpoint(config: T5Config, dtype: 'F16' | 'F32' = 'F16'): Checkpoint<T5Config> {
  let seed = 7;
  const tensors = new Map([...encoderTensorShapes(config)].map(([n, s]) => [n, randomEntry(n, s, seed++, dtype)]));
  return { family: t5, config, tensors, files: ['<random>'], close: async () => undefined };
}

export const XL_LAYER: T5Config = { d_model: 1024, d_ff: 16384, d_kv: 128, num_heads: 32, num_layers: 1, vocab_size: 128, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6 };

/** ProtT5-XL's encoder has 24 of these layers. */
export const XL_LAYERS = 24;

/** FLOPs of one XL layer over `tokens` tokens of one sequence: the six weight matmuls and attention (q·k and p·v). */
export function xlLayerFlops(tokens: number): number {
  const c = XL_LAYER, inner = c.num_heads * c.d_kv;
  return 2 * tokens * (4 * c.d_model * inner + 2 * c.d_model * c.d_ff) + 4 * tokens * tokens * inner;
}

export interface PeerLayer {
  /** The f32 checkpoint ours loads. */
  ckpt: Checkpoint<T5Config>;
  /** The residues (tokens = residues + </s>). */
  seq: string;
  tokens: number;
  /** Peers' inputs: the weights in HF layouts and the embedded hidden state [tokens, d_model]. */
  weights: LayerWeights;
  h0: Float32Array;
  /** encoder.final_layer_norm.weight: peers' outputs go through it to compare with ours. */
  finalNorm: Float32Array;
}

/** The XL-shaped layer over one sequence of `tokens` tokens, f32 weights. */
export async function peerLayer(tokens: number): Promise<PeerLayer> {
  const ckpt = randomCheckpoint(XL_LAYER, 'F32');
  const get = async (n: string) => toFloat32('F32', await ckpt.tensors.get(n)!.read());
  const p = 'encoder.block.0.layer.';
  const seq = 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ'.repeat(Math.ceil(tokens / 33) + 1).slice(0, tokens - 1);
  const ids = tokenize(seq);
  const shared = await get('shared.weight');
  const D = XL_LAYER.d_model, R = XL_LAYER.relative_attention_max_distance;
  const h0 = new Float32Array(tokens * D);
  ids.forEach((id, t) => h0.set(shared.subarray(id * D, (id + 1) * D), t * D));
  const weights: LayerWeights = {
    d_model: D, d_ff: XL_LAYER.d_ff, heads: XL_LAYER.num_heads, d_kv: XL_LAYER.d_kv, R,
    ln0: await get(`${p}0.layer_norm.weight`), q: await get(`${p}0.SelfAttention.q.weight`), k: await get(`${p}0.SelfAttention.k.weight`),
    v: await get(`${p}0.SelfAttention.v.weight`), o: await get(`${p}0.SelfAttention.o.weight`), ln1: await get(`${p}1.layer_norm.weight`),
    wi: await get(`${p}1.DenseReluDense.wi.weight`), wo: await get(`${p}1.DenseReluDense.wo.weight`),
    biasTable: relativeBiasTable(await get(`${p}0.SelfAttention.relative_attention_bias.weight`), XL_LAYER.relative_attention_num_buckets, XL_LAYER.num_heads, R),
  };
  return { ckpt, seq, tokens, weights, h0, finalNorm: await get('encoder.final_layer_norm.weight') };
}

/**
 * The layer (and the encoder's final norm) in float64 from the kernels' references, over one
 * sequence h0 [L, d_model]: what ours must agree with (bench:gpu checks a short sequence).
 */
export function t5LayerRef(w: LayerWeights, h0: Float32Array, L: number, finalNorm: Float32Array, eps = 1e-6): Float64Array {
  const D = w.d_model, F = w.d_ff, inner = w.heads * w.d_kv;
  const x = rmsnormRef(h0, w.ln0, L, D, eps);
  const q = matmulRef(x, w.q, L, inner, D), k = matmulRef(x, w.k, L, inner, D), v = matmulRef(x, w.v, L, inner, D);
  const a = attentionRef(q, k, v, w.biasTable, [L], 1, L, w.heads, w.d_kv, w.R);
  const h1 = matmulRef(a, w.o, L, D, inner, 'add', h0);
  const f = matmulRef(rmsnormRef(h1, w.ln1, L, D, eps), w.wi, L, F, D, 'relu');
  return rmsnormRef(matmulRef(f, w.wo, L, D, F, 'add', h1), finalNorm, L, D, eps);
}
