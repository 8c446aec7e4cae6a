// The kernels the BERT-style families and ESM-2 add, at ESM-2-650M shapes; and one BERT-shaped
// (ProtBert: hidden 1024, 16 heads, intermediate 4096), one ESM-2-650M-shaped (hidden 1280,
// 20 heads, intermediate 5120, rotary) and one ProtXLNet-shaped (d_model 1024, 16 heads, d_inner
// 4096, relative attention) encoder layer with random f16 weights, end to end through
// each family's own encoder (embeddings, the layer, the final norm), beside bench.ts's
// ProtT5-XL-shaped layer. Prints time, tokens/s and the napkin floor (the larger of FLOPs / the
// measured arithmetic ceiling and weight bytes / the copy ceiling).
import { layernorm } from '../kernels/layernorm.js';
import { matmul } from '../kernels/matmul.js';
import { rotary, rotaryTable } from '../kernels/rotary.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Autotuner } from '../src/gpu/tuner.js';
import { fromFloat32 } from '../src/gpu/dtype.js';
import type { BertStyleConfig } from '../src/models/bert/config.js';
import { bert } from '../src/models/bert/index.js';
import type { EsmConfig } from '../src/models/esm/config.js';
import { esm } from '../src/models/esm/index.js';
import type { Checkpoint, Family } from '../src/models/family.js';
import type { XLNetConfig } from '../src/models/xlnet/config.js';
import { xlnet } from '../src/models/xlnet/index.js';
import type { TensorEntry } from '../weights/tensor-entry.js';

/** ProtBert's layer (Rostlab/prot_bert config: 30 layers of this). */
export const BERT_LAYER: BertStyleConfig = {
  kind: 'bert', vocab_size: 30, embedding_size: 1024, hidden_size: 1024, num_hidden_layers: 1, num_attention_heads: 16, intermediate_size: 4096,
  max_position_embeddings: 40000, type_vocab_size: 2, layer_norm_eps: 1e-12, num_hidden_groups: 1, inner_group_num: 1,
};

/** ESM-2 650M's layer (facebook/esm2_t33_650M_UR50D: 33 layers of this). */
export const ESM2_650M_LAYER: EsmConfig = {
  vocab_size: 33, hidden_size: 1280, num_hidden_layers: 1, num_attention_heads: 20, intermediate_size: 5120, layer_norm_eps: 1e-5,
  token_dropout: true, mask_token_id: 32, rope_theta: 10000,
};

/** ProtXLNet's layer (Rostlab/prot_xlnet: 30 layers of this, as ProtTrans describes it). */
export const XLNET_LAYER: XLNetConfig = { vocab_size: 37, d_model: 1024, n_layer: 1, n_head: 16, d_head: 64, d_inner: 4096, layer_norm_eps: 1e-12, clamp_len: -1 };

/** Random f16 weights of a family's schema: small values, LayerNorm weights 1, biases and norm biases 0.01-ish. */
function randomCheckpoint<C>(family: Family<C>, config: C): Checkpoint<C> {
  let seed = 11;
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shape] of family.shapes(config)) {
    const s0 = seed++;
    tensors.set(name, {
      name, dtype: 'F16', shape, file: '<random>',
      read: async () => {
        const n = shape.reduce((x, y) => x * y, 1);
        const v = new Float32Array(n);
        const isNormWeight = /(LayerNorm|layer_norm|emb_layer_norm_after)\.weight$/.test(name);
        let s = s0 >>> 0;
        for (let i = 0; i < n; i++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          v[i] = isNormWeight ? 1 : ((s / 2 ** 32) * 2 - 1) * 0.03;
        }
        return fromFloat32('F16', v);
      },
    });
  }
  return { family, config, tensors, files: ['<random>'], close: async () => undefined };
}

export interface FamilyLayerResult {
  ms: number;
  tokens: number;
  floor_ms: number;
  tokens_per_s: number;
}

/** Times `family`'s encoder (one layer) on a right-padded batch of `lengths` tokens; the first run compiles. */
async function timeLayer<C>(rt: Runtime, family: Family<C>, config: C, lengths: number[], tuner: Autotuner | undefined): Promise<{ ms: number; tokens: number }> {
  const enc = await family.load(rt, randomCheckpoint(family, config), { tuner });
  try {
    const B = lengths.length, L = Math.max(...lengths);
    const ids = new Uint32Array(B * L).fill(1);
    for (let b = 0; b < B; b++) for (let l = 0; l < lengths[b]; l++) ids[b * L + l] = 5 + ((b * 7 + l) % 20);
    const lens = Uint32Array.from(lengths);
    const run = async () => {
      const out = await enc.forward(ids, lens, B, L);
      await rt.read(out);
      out.release();
    };
    await run(); // warm-up: compiles pipelines
    const t0 = performance.now();
    await run();
    return { ms: performance.now() - t0, tokens: lengths.reduce((x, y) => x + y, 0) };
  } finally {
    enc.dispose();
  }
}

/**
 * The three layers. `tuner`: kernel variants by measurement (the bench's store); undefined:
 * the kernels' defaults (--quick: tuning new shapes on a CPU driver takes minutes).
 */
export async function benchFamilyLayers(
  rt: Runtime, ceil: { gflops: number; gbps: number }, quick: boolean, tuner: Autotuner | undefined, log: (s: string) => void,
): Promise<Record<string, FamilyLayerResult>> {
  const lengths = quick ? [42, 25] : [102, 62]; // residues + 2 specials each
  const out: Record<string, FamilyLayerResult> = {};
  const L = Math.max(...lengths);
  const shapes: Array<[string, string, Family<any>, any, { D: number; I: number; layers: number; extraFlops?: number }]> = [
    ['bert', 'BERT-shaped (ProtBert: hidden 1024, 16 heads, intermediate 4096)', bert, BERT_LAYER, { D: 1024, I: 4096, layers: 30 }],
    ['esm2_650m', 'ESM-2-650M-shaped (hidden 1280, 20 heads, intermediate 5120, rotary)', esm, ESM2_650M_LAYER, { D: 1280, I: 5120, layers: 33 }],
    // XLNet adds the r projection of 2L − 1 sinusoid rows and the position term (q + r_r_bias)·k_r (2·L²·D per sequence).
    ['xlnet', 'ProtXLNet-shaped (d_model 1024, 16 heads, d_inner 4096, relative attention)', xlnet, XLNET_LAYER,
      { D: 1024, I: 4096, layers: 30, extraFlops: 2 * (2 * L - 1) * 1024 * 1024 + lengths.reduce((x, n) => x + 2 * n * n * 1024, 0) }],
  ];
  log(`## BERT-shaped, ESM-2-650M-shaped and ProtXLNet-shaped encoder layers (1 layer, random f16 weights, ${tuner ? 'tuned' : 'default'} kernel variants), batch of ${lengths.join(' + ')} tokens\n`);
  log('| layer | ms | tokens/s per layer | residues/s, whole model | floor ms | % of floor |');
  log('| --- | --- | --- | --- | --- | --- |');
  for (const [key, title, family, config, d] of shapes) {
    const { ms, tokens } = await timeLayer(rt, family, config, lengths, tuner);
    // Per token: q, k, v, dense (4·D²), intermediate and output (2·D·I), two FLOPs each; attention 4·L·D.
    const flops = tokens * 2 * (4 * d.D * d.D + 2 * d.D * d.I) + lengths.reduce((x, n) => x + 4 * n * n * d.D, 0) + (d.extraFlops ?? 0);
    const weightBytes = 2 * ((d.extraFlops ? 5 : 4) * d.D * d.D + 2 * d.D * d.I);
    const floor = Math.max(flops / ceil.gflops / 1e6, weightBytes / ceil.gbps / 1e6);
    const tps = (tokens / ms) * 1000;
    log(`| ${title} | ${ms.toFixed(0)} | ${tps.toFixed(1)} | ${(tps / d.layers).toFixed(2)} (${d.layers} layers) | ${floor.toFixed(0)} | ${((100 * floor) / ms).toFixed(0)}% |`);
    out[key] = { ms, tokens, floor_ms: floor, tokens_per_s: tps };
  }
  log('');
  return out;
}

/** Median of `reps` timed runs after one warm-up (which compiles). */
export async function medianMs(rt: Runtime, reps: number, record: () => Promise<void>): Promise<number> {
  await rt.time(record);
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = await rt.time(record);
    ms.push(t.gpuMs ?? t.wallMs);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

/**
 * The kernels these families add, at ESM-2-650M shapes: layernorm and rotary (memory-bound:
 * floor = bytes / copy ceiling) and the bias + erf GELU matmul epilogue (floor = FLOPs /
 * arithmetic ceiling), default variants. Correctness is the tests' (test/layer-kernels.test.ts,
 * test/matmul.test.ts); here only time.
 */
export async function benchFamilyKernels(rt: Runtime, ceil: { gflops: number; gbps: number }, quick: boolean, log: (s: string) => void): Promise<Record<string, number>> {
  const rows = quick ? 256 : 1024, D = 1280, H = 20, I = 5120, M = quick ? 64 : 128, reps = quick ? 1 : 3;
  const out: Record<string, number> = {};
  log(`## the BERT/ESM kernels at ESM-2-650M shapes (default variants)\n`);
  log('| kernel | shape | ms | GB/s or GFLOP/s | floor ms |');
  log('| --- | --- | --- | --- | --- |');
  const fill = (n: number, f: number) => new Float32Array(n).map((_, i) => Math.sin(i * f));
  const x = rt.upload(fill(rows * D, 0.37), [rows, D], 'f32', 'x'), y = rt.empty([rows, D], 'f32', 'y');
  const g = rt.upload(fill(D, 0.11), [D], 'f32', 'g'), b = rt.upload(fill(D, 0.13), [D], 'f32', 'b');
  let ms = await medianMs(rt, reps, () => layernorm(rt, x, g, b, y, 1e-5));
  let bytes = 2 * rows * D * 4;
  log(`| layernorm | ${rows} × ${D} | ${ms.toFixed(2)} | ${(bytes / ms / 1e6).toFixed(2)} GB/s | ${(bytes / ceil.gbps / 1e6).toFixed(2)} |`);
  out.layernorm_ms = ms;
  const q = rt.upload(fill(rows * D, 0.5), [1, rows, D], 'f32', 'q');
  const inv = Float32Array.from({ length: D / H / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / (D / H)));
  const table = rt.upload(rotaryTable(inv, rows), [rows, inv.length, 2], 'f32', 'cs');
  ms = await medianMs(rt, reps, () => rotary(rt, q, table, H));
  bytes = 2 * rows * D * 4 + rows * inv.length * 8;
  log(`| rotary | ${rows} tokens × ${H} heads × 64 | ${ms.toFixed(2)} | ${(bytes / ms / 1e6).toFixed(2)} GB/s | ${(bytes / ceil.gbps / 1e6).toFixed(2)} |`);
  out.rotary_ms = ms;
  const mx = rt.upload(fill(M * D, 0.7), [M, D], 'f32', 'mx'), w = rt.upload(fromFloat32('F16', fill(I * D, 0.01).map((v) => v * 0.03)), [I, D], 'f16', 'w');
  const mb = rt.upload(fill(I, 0.3), [I], 'f32', 'mb'), my = rt.empty([M, I], 'f32', 'my');
  ms = await medianMs(rt, reps, () => matmul(rt, { x: mx, w, y: my, bias: mb, epilogue: 'bias_gelu' }));
  const flops = 2 * M * I * D;
  log(`| matmul bias + GELU (f16) | ${M} × ${I} × ${D} | ${ms.toFixed(1)} | ${(flops / ms / 1e6).toFixed(2)} GFLOP/s | ${Math.max(flops / ceil.gflops / 1e6, (I * D * 2) / ceil.gbps / 1e6).toFixed(1)} |`);
  out.matmul_bias_gelu_ms = ms;
  for (const t of [x, y, g, b, q, table, mx, w, mb, my]) t.release();
  log('');
  return out;
}
