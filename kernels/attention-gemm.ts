// The gemm attention family: attention as the two matmuls it is, around a softmax, so it runs
// at the speed of the tuned matmul (the fused families are bound by one lane's loads on CPU
// drivers). Every (sequence, head) pair g = b · H + h is copied into contiguous rows (Q, K;
// shaders/attention_heads.wgsl) and columns (Vᵀ; shaders/attention_columns.wgsl); then, for a
// chunk of pairs and query rows at a time,
//   S_g = Q_g · K_gᵀ (one batched matmul for the chunk's pairs), E = exp(scale · S + bias −
//   row max, masked) in place with each row's 1 / sum aside (shaders/attention_softmax.wgsl),
//   O_g = E_g · V_g (a batched matmul with W = V_gᵀ);
// and O, each row times its 1 / sum, is copied back to [B, L, H * DK]. While one chunk holds
// every pair that is seven dispatches, whatever B and H (a matmul per head cost llvmpipe more in
// dispatches than in arithmetic at short L). Keys are padded to Lp (a multiple of 8, which the sg
// and k8dot matmuls need of the second matmul's K) with zeros, and masked. The score chunk is an
// L × L matrix per pair at most, capped at `scratchBytes` (query rows are split past it), so
// memory is O(L · scratch), not O(B · H · L²); the copies take four buffers of q's size.
// Reading Q and K in place and writing O in place (matmul row strides and a two-level batch,
// with 1 / sum as a row-scale epilogue) was measured on 2026-12-03 at L 512, 32 heads: no
// faster on llvmpipe 25.0.7 (245-280 ms either way), 5-15% slower on SwiftShader. In a probe
// the in-place Q·Kᵀ (rows 16 KiB apart in [L, H · DK]) ran up to 7% slower than on the copies,
// about what the copies cost, so the copies stay.
import columnsSource from '../shaders/attention_columns.wgsl';
import headsSource from '../shaders/attention_heads.wgsl';
import softmaxSource from '../shaders/attention_softmax.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { defaultMatmulTileOn, matmul, type MatmulTile } from './matmul.js';
import { fill, grid1d, packParams, pipelineFor, variants, wgslCodes } from './template.js';

/** Values of attention_heads.wgsl's layout parameter (LAYOUT_ROWS, LAYOUT_MERGE in WGSL). */
const HEADS_LAYOUT = { rows: 0, merge: 1 } as const;
const HEADS_WG = 64;

/** Every WGSL text of the family besides the matmul's (the tuner's cache key hashes them). */
export const ATTENTION_GEMM_SOURCES: readonly string[] = [headsSource, columnsSource, softmaxSource];

/** The score buffer's default cap: 32 MiB (an L × L chunk up to L = 2896 in one piece). */
export const GEMM_SCRATCH_BYTES = 32 * 2 ** 20;

/** `vec`: elements per load and store (4 where the head size allows). */
const headsVariant = variants('attention_heads', (v: { wg: number; vec: 1 | 4 }) => ({
  code: fill(headsSource, { WG: v.wg, W: v.vec, T: v.vec === 4 ? 'vec4<f32>' : 'f32', LAYOUTS: wgslCodes('LAYOUT', HEADS_LAYOUT) }),
  requires: { workgroupSize: [v.wg] },
}));

const columnsVariant = variants('attention_columns', (v: { wg: number }) => ({
  code: fill(columnsSource, { WG: v.wg }),
  requires: { workgroupSize: [v.wg] },
}));

const softmaxVariant = variants('attention_softmax', (v: { wg: number; scoreBias: number; biases: string }) => ({
  code: fill(softmaxSource, { WG: v.wg, SCORE_BIASES: v.biases }),
  constants: { SCORE_BIAS: v.scoreBias },
  requires: { workgroupSize: [v.wg] },
}));

export interface GemmAttentionArgs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** [H, 2R+1]: T5's table (scoreBias the RELATIVE code); absent: none. */
  bias?: Tensor;
  lengths: Tensor;
  out: Tensor;
  B: number;
  L: number;
  H: number;
  DK: number;
  R: number;
  scale: number;
  /** The SCORE_BIAS code and the WGSL constants that name the codes (from kernels/attention.ts). */
  scoreBias: number;
  scoreBiases: string;
  /** Invocations per workgroup of the softmax (one per row). */
  wg: number;
  /** The matmul tile for both products (default: the runtime's untuned tile). */
  matmulTile?: MatmulTile;
  scratchBytes?: number;
}

/** Keys per score row: L rounded up to a multiple of 8. */
export function paddedKeys(L: number): number {
  return Math.ceil(L / 8) * 8;
}

/**
 * Query rows and (sequence, head) pairs per score chunk within `bytes` (at least one row of one
 * pair), for `pairs` pairs; at most `maxPerDim` rows and pairs (a dispatch's workgroups per dimension).
 */
export function gemmChunks(L: number, pairs: number, bytes: number, maxPerDim = 65535): { rows: number; pairs: number } {
  const row = paddedKeys(L) * 4;
  const rows = Math.max(1, Math.min(L, maxPerDim, Math.floor(bytes / row)));
  const perChunk = rows < L ? 1 : Math.max(1, Math.min(pairs, maxPerDim, Math.floor(bytes / (row * L))));
  return { rows, pairs: perChunk };
}

export async function attentionGemm(rt: Runtime, a: GemmAttentionArgs): Promise<void> {
  const { B, L, H, DK } = a;
  const Lp = paddedKeys(L);
  const G = B * H;
  const tile = a.matmulTile ?? defaultMatmulTileOn(rt);
  const budget = Math.min(a.scratchBytes ?? GEMM_SCRATCH_BYTES, rt.maxBufferBytes);
  const maxDim = rt.limits.maxComputeWorkgroupsPerDimension;
  const chunk = gemmChunks(L, G, budget, maxDim);
  const layout = await pipelineFor(rt, headsVariant({ wg: HEADS_WG, vec: DK % 4 === 0 ? 4 : 1 }), a.q);
  const columns = await pipelineFor(rt, columnsVariant({ wg: HEADS_WG }), a.v);
  const softmax = await pipelineFor(rt, softmaxVariant({ wg: a.wg, scoreBias: a.scoreBias, biases: a.scoreBiases }), a.q);
  const qh = rt.empty([G * L, DK], 'f32', 'attn_q_heads');
  const kh = rt.empty([G * Lp, DK], 'f32', 'attn_k_heads');
  const vt = rt.empty([G * DK, Lp], 'f32', 'attn_v_columns');
  const oh = rt.empty([G * L, DK], 'f32', 'attn_o_heads');
  const s = rt.empty([chunk.pairs * chunk.rows, Lp], 'f32', 'attn_scores');
  const inv = rt.empty([G * L], 'f32', 'attn_row_scale');
  const copy = (form: keyof typeof HEADS_LAYOUT, lp: number, n: number, src: Tensor, dst: Tensor) =>
    rt.dispatch(layout, packParams(headsSource, { form: HEADS_LAYOUT[form], L, Lp: lp, H, DK, n }), [src.buffer, dst.buffer, inv.buffer], grid1d(Math.ceil(n / HEADS_WG), maxDim));
  try {
    copy('rows', L, G * L, a.q, qh);
    copy('rows', Lp, G * Lp, a.k, kh);
    rt.dispatch(columns, packParams(columnsSource, { L, Lp, H, DK, n: G * DK }), [a.v.buffer, vt.buffer], grid1d(Math.ceil((G * DK) / HEADS_WG), maxDim));
    for (let g0 = 0; g0 < G; g0 += chunk.pairs) {
      const count = Math.min(chunk.pairs, G - g0);
      for (let i0 = 0; i0 < L; i0 += chunk.rows) {
        const rows = Math.min(chunk.rows, L - i0);
        await matmul(rt, { x: qh, xRowStart: g0 * L + i0, rows, w: kh, wRowStart: g0 * Lp, wRows: Lp, y: s, yRowStart: 0, batch: { count, xRows: L, wRows: Lp, yRows: chunk.rows }, tile });
        const n = (count - 1) * chunk.rows + rows;
        rt.dispatch(softmax, packParams(softmaxSource, { H, L, Lp, rows: chunk.rows, n, i0, g0, R: a.R, scale: a.scale }), [s.buffer, (a.bias ?? a.q).buffer, a.lengths.buffer, inv.buffer], grid1d(Math.ceil(n / a.wg), maxDim));
        await matmul(rt, { x: s, xRowStart: 0, rows, w: vt, wRowStart: g0 * DK, wRows: DK, y: oh, yRowStart: g0 * L + i0, batch: { count, xRows: chunk.rows, wRows: DK, yRows: L }, tile });
      }
    }
    copy('merge', L, G * L, oh, a.out);
  } finally {
    for (const t of [qh, kh, vt, oh, s, inv]) t.release();
  }
}
