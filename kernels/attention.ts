// Fused attention with key mask — T5's (relative-position bias, unscaled), BERT/ESM's (scaled
// by 1/sqrt(d_head), no bias) or XLNet's (content and position terms over a projected sinusoid
// table, scaled) — wrapper for shaders/attention.wgsl (loop family), attention_unrolled.wgsl and
// attention_flash.wgsl, and the gemm family (kernels/attention-gemm.ts: two matmuls around a
// softmax); and the op's tuning: its candidates and the problem the tuner checks
// and times them on.
import source from '../shaders/attention.wgsl';
import sourceUnrolled from '../shaders/attention_unrolled.wgsl';
import sourceFlash from '../shaders/attention_flash.wgsl';
import { randomArray } from '../src/gpu/numeric.js';
import { unmet, type Requirements } from '../src/gpu/requires.js';
import type { AdapterKind } from '../src/gpu/env.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import type { Autotuner, TuneProblem, TuneResult } from '../src/gpu/tuner.js';
import { attentionRef } from './attention.ref.js';
import { attentionGemm, ATTENTION_GEMM_SOURCES } from './attention-gemm.js';
import { LLVMPIPE_MATMUL_TILE, LLVMPIPE_SG4_TILE, MATMUL_SOURCES, matmulRequires, matmulVariantName, type MatmulTile } from './matmul.js';
import { guard, guardDtype } from './guard.js';
import { fill, packParams, pipelineFor, unroll, variantName, variants, wgslCodes } from './template.js';

/**
 * Values of the SCORE_BIAS override constant (SCORE_BIAS_NONE, SCORE_BIAS_RELATIVE,
 * SCORE_BIAS_XLNET in WGSL): what enters each score besides scale · q·k. A new score term: a
 * line here, a branch in both shaders. `xlnet`: the score is
 * scale · ((q_i + r_w_bias)·k_j + (q_i + r_r_bias)·k_r[R + i − j]) (XLNet's relative attention).
 */
export const ATTENTION_BIAS_CODE = { none: 0, relative: 1, xlnet: 2 } as const;
export type AttentionBias = keyof typeof ATTENTION_BIAS_CODE;

const SCORE_BIASES = wgslCodes('SCORE_BIAS', ATTENTION_BIAS_CODE);

export interface AttentionTile {
  /**
   * 'loop': any d_kv, loops over private arrays. 'unrolled': d_kv % 4 == 0, named vec4 registers.
   * 'flash': d_kv % 4 == 0, a lane per query row with its tk scores per key tile in named
   * registers, online softmax in registers, K then V staged through one workgroup buffer.
   * Any of these three falls back to 'loop' (same tq, tk) where d_kv % 4 != 0.
   * 'gemm': any d_kv; S = Q·Kᵀ and P·V by the matmul kernels around a softmax, an L × L score
   * chunk per head (memory O(L²) per head, capped; see kernels/attention-gemm.ts). Modes none
   * and relative; XLNet's runs the untuned flash tile instead.
   */
  family: 'loop' | 'unrolled' | 'flash' | 'gemm';
  /** Query rows per workgroup (one invocation each) and keys per staged tile. gemm: tq invocations per softmax row (a power of two), tk 0. */
  tq: number;
  tk: number;
  /**
   * flash only: columns (vec4) that one per-lane load of workgroup memory serves, handed across
   * the subgroup by subgroupBroadcast (needs the 'subgroups' feature and subgroups of at least
   * sg lanes: llvmpipe's are 8 with AVX2, SwiftShader's 4). Absent: no subgroup operations.
   */
  sg?: number;
  /** gemm only: the matmul tile of both products (absent: the runtime's untuned matmul tile). */
  matmul?: MatmulTile;
}

/** One variant: a tile at a head size, with its score bias. Its name and pipeline come from this object. */
export interface AttentionVariant extends Omit<AttentionTile, 'matmul'> {
  dk: number;
  scoreBias: AttentionBias;
}

/**
 * The gemm family with k4dot 16×16 matmuls: on SwiftShader 2.6× the flash family at L = 512,
 * d_kv 128 (3.3 vs 1.3 GFLOP/s, 4 heads, bench/attention-variants.ts) and 1.9× at the tuner's
 * 64 rows with 32 heads (45 vs 87 ms); its one matmul variant compiles in about 2 s.
 */
export const DEFAULT_ATTENTION_TILE: AttentionTile = { family: 'gemm', tq: 64, tk: 0, matmul: { family: 'k4dot', tm: 16, tn: 16, wgX: 4, wgY: 8 } };

/**
 * llvmpipe (subgroups of 8 or more): the gemm family over the sg matmul tile llvmpipe's matmuls
 * use untuned (16×4, 16 invocations along N), its heads batched into two matmul dispatches. At
 * d_kv 128 over 32 heads it ran 1.2-1.6× the 16×2 tile (64 invocations) it replaced, at 64
 * rows (the tuner's size then: 4.7 and 7.4 vs 7.6 and 9.6 ms) and at L = 512 (263 and 238 vs
 * 297 and 322 ms), interleaved (bench/attention-variants.ts); at 4 heads and L = 1024 the two
 * were even. The gemm family over 16×2 had run 2.4× the flash family at L = 512 (4 heads: 34
 * vs 82 ms) and 1.6× at L = 1024, and 1.4× at 64 rows with 32 heads; one matmul dispatch per
 * head had lost that shape (27.6 vs 17.9 ms). Where the device lacks subgroups of 8 (Chromium's llvmpipe reports 4) the
 * flash tile runs (FLASH_TILE). The unrolled family compiles through LLVM for minutes (143 s at
 * d_kv 128), so it is never tuned there; the flash family compiles in 2–10 s.
 */
export const LLVMPIPE_ATTENTION_TILE: AttentionTile = { family: 'gemm', tq: 64, tk: 0, matmul: LLVMPIPE_MATMUL_TILE };

/** llvmpipe's gemm tile where its subgroups are 4 lanes (see untunedAttentionTile). */
export const LLVMPIPE_SG4_ATTENTION_TILE: AttentionTile = { family: 'gemm', tq: 64, tk: 0, matmul: LLVMPIPE_SG4_TILE };

/** The flash tile that runs where a kind's default cannot (and in XLNet's mode, which the gemm family does not run). */
export const FLASH_TILE: AttentionTile = { family: 'flash', tq: 32, tk: 16 };

/** The variant LLVM and every driver compile fastest (under a second on llvmpipe): the size rule's choice for tiny shapes. */
export const QUICKEST_COMPILE_ATTENTION_TILE: AttentionTile = { family: 'loop', tq: 32, tk: 16 };

/**
 * The tile to run untuned: the kind's default where the device can run it; on an llvmpipe with
 * subgroups of 4 only (Chromium's), the gemm family over LLVMPIPE_SG4_TILE (L = 512, 32 heads of
 * d_kv 128, on Node's llvmpipe: 300 ms against flash with sg 4's 655 and the default's 275);
 * else the flash tile, with its subgroup broadcast over 4 lanes where the device has subgroups
 * of at least 4 (llvmpipe: about twice the flops per CPU-second of the tile without it).
 */
export function untunedAttentionTile(rt: Pick<Runtime, 'adapter' | 'limits'>): AttentionTile {
  const tiles = rt.adapter.kind === 'llvmpipe' ? [LLVMPIPE_ATTENTION_TILE, LLVMPIPE_SG4_ATTENTION_TILE] : [defaultAttentionTile(rt.adapter.kind)];
  return tiles.find((c) => c.family !== 'flash' && unmet(attentionRequires(0, c), rt) === null) ?? flashTile(rt);
}

/** FLASH_TILE, with its subgroup broadcast over 4 lanes where the device has subgroups of at least 4; gemm's stand-in in XLNet's mode. */
function flashTile(rt: Pick<Runtime, 'adapter' | 'limits'>): AttentionTile {
  return unmet({ features: ['subgroups'], subgroupMinSize: 4 }, rt) === null ? { ...FLASH_TILE, sg: 4 } : FLASH_TILE;
}

/** The attention variant to use untuned on a device of this kind. */
export function defaultAttentionTile(kind: AdapterKind | undefined): AttentionTile {
  return kind === 'llvmpipe' ? LLVMPIPE_ATTENTION_TILE : DEFAULT_ATTENTION_TILE;
}

/** Every WGSL text an attention variant can use (the tuner's cache key hashes them). */
export const ATTENTION_SOURCES: readonly string[] = [source, sourceUnrolled, sourceFlash, SCORE_BIASES, ...ATTENTION_GEMM_SOURCES, ...MATMUL_SOURCES];

const SOURCE_OF = { loop: source, unrolled: sourceUnrolled, flash: sourceFlash } as const;

/** The tile to use when the chosen one cannot run this head size (unrolled and flash need d_kv % 4 == 0: the loop family, same tq/tk). */
export function attentionTileFor(dk: number, t: AttentionTile): AttentionTile {
  if (t.family === 'gemm') return t;
  if (t.family !== 'loop' && dk % 4 !== 0) return { family: 'loop', tq: t.tq, tk: t.tk };
  // flash's sg must divide the head's vec4 count (d_kv 16: 4 of them).
  if (t.sg !== undefined && (dk / 4) % t.sg !== 0) return (dk / 4) % 4 === 0 && t.sg > 4 ? { ...t, sg: 4 } : { family: t.family, tq: t.tq, tk: t.tk };
  return t;
}

const variantOf = (dk: number, t: AttentionTile, scoreBias: AttentionBias = 'relative'): AttentionVariant => ({ family: t.family, tq: t.tq, tk: t.tk, sg: t.sg, dk, scoreBias });

export function attentionVariantName(dk: number, t: AttentionTile, scoreBias: AttentionBias = 'relative'): string {
  const name = variantName('attention', variantOf(dk, t, scoreBias));
  return t.family === 'gemm' && t.matmul ? `${name}+${matmulVariantName('f32', 'none', t.matmul)}` : name;
}

/** What a tile needs of the device at head size `dk`: tq invocations, the staged K and V tiles (flash: one buffer for both) and wg_len (flash: and wg_dk4). */
export function attentionRequires(dk: number, t: AttentionTile): Requirements {
  // gemm: its matmul tile's needs (the softmax and layout copies use 64 invocations, within every device's limits).
  if (t.family === 'gemm') return t.matmul ? matmulRequires(t.matmul) : {};
  return { workgroupSize: [t.tq], workgroupBytes: t.family === 'flash' ? t.tk * dk * 4 + 8 : 2 * t.tk * dk * 4 + 4, ...(t.sg ? { features: ['subgroups'], subgroupMinSize: t.sg } : {}) };
}

export function attentionWgsl(dk: number, t: AttentionTile): string {
  if (t.family === 'loop') return fill(source, { DK: dk, TQ: t.tq, TK: t.tk, TK_DK: t.tk * dk, SCORE_BIASES });
  const dk4 = dk / 4;
  if (t.family === 'flash') {
    const sg = t.sg ?? 1;
    const sub = t.sg ? { ENABLE: 'enable subgroups;', SG_PARAM: ', @builtin(subgroup_invocation_id) sg_id: u32', LANE: 'sg_id % SG', BCAST: 'subgroupBroadcast' } : { ENABLE: '', SG_PARAM: '', LANE: '0u', BCAST: 'own' };
    return unroll(fill(sourceFlash, { DK4: dk4, TQ: t.tq, TK: t.tk, TK_DK4: t.tk * dk4, SG: sg, SCORE_BIASES, ...sub }), { TK: t.tk, SG: sg });
  }
  return unroll(fill(sourceUnrolled, { DK4: dk4, TQ: t.tq, TK: t.tk, TK_DK4: t.tk * dk4, SCORE_BIASES }), { DK4: dk4, TK: t.tk });
}

const variant = variants('attention', (v: AttentionVariant) => ({
  code: attentionWgsl(v.dk, v),
  constants: { SCORE_BIAS: ATTENTION_BIAS_CODE[v.scoreBias] },
  requires: attentionRequires(v.dk, v),
}));

/**
 * XLNet's position term (attn_type "bi"): k_r is the sinusoid table of relative positions
 * −R..R projected by the layer's `r` weight, row R + p for relative position p = query − key
 * (R ≥ L − 1); biases holds r_w_bias (added to q for the content term) then r_r_bias (added to q
 * for the position term). Read by row inside the kernel: no L × L matrix.
 */
export interface XLNetPositions {
  kr: Tensor; // [2R + 1, H * DK] f32
  biases: Tensor; // [2, H * DK] f32: r_w_bias, r_r_bias
}

export interface AttentionArgs {
  q: Tensor; // [B, L, H * DK] f32
  k: Tensor; // [B, L, H * DK] f32
  v: Tensor; // [B, L, H * DK] f32
  /** [H, 2R + 1] f32: T5's bias for relative position rel = key - query at column rel + R; absent: no bias. */
  bias?: Tensor;
  /** XLNet's content and position terms (not with `bias`). */
  xlnet?: XLNetPositions;
  lengths: Tensor; // [B] u32: valid tokens per sequence (keys at or beyond are masked)
  out: Tensor; // [B, L, H * DK] f32
  heads: number;
  /** Factor on the score: 1 (T5, the default), 1/sqrt(d_head) (BERT, ESM, XLNet: on both its terms). */
  scale?: number;
  tile?: AttentionTile;
  /** gemm family: the cap on its score buffer in bytes (default GEMM_SCRATCH_BYTES; tests make it small to split rows and heads). */
  scratchBytes?: number;
}

export async function attention(rt: Runtime, a: AttentionArgs): Promise<void> {
  const { q, k, v, bias, xlnet, lengths, out, heads: H } = a;
  let tile = attentionTileFor(a.q.shape[2] / a.heads, a.tile ?? untunedAttentionTile(rt));
  for (const t of [q, k, v, out, ...(bias ? [bias] : []), ...(xlnet ? [xlnet.kr, xlnet.biases] : [])]) guardDtype('attention', t, ['f32']);
  guardDtype('attention', lengths, ['u32']);
  guard('attention', q.shape.length === 3, 'q must be [B, L, H*DK]', q);
  const [B, L, HD] = q.shape;
  guard('attention', HD % H === 0, `inner dim ${HD} must be a multiple of heads ${H}`, q);
  const DK = HD / H;
  for (const t of [k, v, out]) guard('attention', t.shape.join() === q.shape.join(), 'q, k, v and out must have one shape', q, t);
  if (bias) guard('attention', bias.shape.length === 2 && bias.shape[0] === H && bias.shape[1] % 2 === 1, 'bias must be [H, 2R+1]', bias);
  guard('attention', !(bias && xlnet), 'a T5 bias table and XLNet positions do not go together', bias ?? q);
  let R = bias ? (bias.shape[1] - 1) / 2 : 0;
  if (xlnet) {
    const { kr, biases } = xlnet;
    guard('attention', kr.shape.length === 2 && kr.shape[0] % 2 === 1 && kr.shape[1] === HD, `k_r must be [2R+1, ${HD}]`, kr);
    R = (kr.shape[0] - 1) / 2;
    guard('attention', R >= L - 1, `k_r's ${kr.shape[0]} rows must cover relative positions ±${L - 1} (2L − 1 rows at least)`, kr, q);
    guard('attention', biases.numel === 2 * HD, `the XLNet biases must be [2, ${HD}] (r_w_bias, r_r_bias)`, biases);
  }
  guard('attention', lengths.numel === B, `lengths must be [${B}]`, lengths);
  const scale = a.scale ?? 1;
  guard('attention', Number.isFinite(scale) && scale > 0, `scale must be a positive number, got ${scale}`, q);
  if (B * L === 0) return;
  const mode: AttentionBias = xlnet ? 'xlnet' : bias ? 'relative' : 'none';
  if (tile.family === 'gemm' && mode === 'xlnet') tile = attentionTileFor(DK, flashTile(rt));
  if (tile.family === 'gemm') {
    const scoreBias = ATTENTION_BIAS_CODE[mode];
    return attentionGemm(rt, { q, k, v, bias, lengths, out, B, L, H, DK, R, scale, scoreBias, scoreBiases: SCORE_BIASES, wg: tile.tq, matmulTile: tile.matmul, scratchBytes: a.scratchBytes });
  }
  const pipeline = await pipelineFor(rt, variant(variantOf(DK, tile, mode)), q);
  // Bindings a mode does not read hold q's buffer (read-only, never read): the bias table
  // (binding 4: T5's table, XLNet's two biases) and k_r (binding 7).
  const table = xlnet ? xlnet.biases : bias ?? q;
  rt.dispatch(pipeline, packParams(SOURCE_OF[tile.family], { B, L, H, R, scale }), [q.buffer, k.buffer, v.buffer, table.buffer, lengths.buffer, out.buffer, (xlnet?.kr ?? q).buffer], [
    Math.ceil(L / tile.tq),
    H,
    B,
  ]);
}

// ---- tuning ---------------------------------------------------------------------------------

/**
 * Few, and the likely winners first: the tuner compiles every candidate it times (seconds each
 * on CPU drivers) and stops timing one whose first run is far slower than the best so far.
 */
export const ATTENTION_CANDIDATES: readonly AttentionTile[] = [
  LLVMPIPE_ATTENTION_TILE,
  // sg 32×8 (see MATMUL_CANDIDATES): on 2 cores of an AMD EPYC (Zen 3, Mesa 25.0.7,
  // 2026-12-04) L = 512, 32 heads of d_kv 128 ran in 484-563 ms against 16×4's 615-805.
  { family: 'gemm', tq: 64, tk: 0, matmul: { family: 'sg', tm: 32, tn: 8, wgX: 16, wgY: 1 } },
  LLVMPIPE_SG4_ATTENTION_TILE,
  DEFAULT_ATTENTION_TILE,
  // SwiftShader's best: sg4 32×16 (subgroups of 4) ran L = 512, 32 heads of d_kv 128, in
  // 890-930 ms against k8dot 32×16's 970-1060 (Q·Kᵀ 400 against 460 ms, P·V 340 against 420;
  // 8 invocations along N: with 16, P·V's 128 columns would leave half of them idle); k8dot
  // 32×16 is its best where subgroups are missing (290-293 ms at 256 tokens against k4dot
  // 16×16's 330-342). Each compiles in about 8 s there, so neither is the untuned default.
  { family: 'gemm', tq: 64, tk: 0, matmul: { family: 'sg4', tm: 32, tn: 16, wgX: 8, wgY: 1 } },
  { family: 'gemm', tq: 64, tk: 0, matmul: { family: 'k8dot', tm: 32, tn: 16, wgX: 8, wgY: 2 } },
  { family: 'flash', tq: 64, tk: 8, sg: 8 },
  { family: 'flash', tq: 32, tk: 16, sg: 4 },
  { family: 'flash', tq: 32, tk: 8, sg: 4 },
  { family: 'flash', tq: 32, tk: 16 },
  { family: 'flash', tq: 32, tk: 8 },
  { family: 'unrolled', tq: 32, tk: 8 },
  { family: 'unrolled', tq: 16, tk: 4 },
  { family: 'loop', tq: 32, tk: 16 },
];

/**
 * The candidates worth timing on a device of this kind. llvmpipe: no unrolled family and no
 * matmul tile over 16×16 (LLVM compiles them for minutes; see LLVMPIPE_ATTENTION_TILE and
 * LLVMPIPE_FALLBACK_TILE). SwiftShader: the gemm family only. The unrolled family ran at a
 * fifth of its speed at 256 tokens (1599 against 330 ms, 32 heads of d_kv 128) after compiling
 * for about 4 s each; the flash and loop tiles at a half to a sixth (Intel Xeon, 2026-12-03:
 * 660-1727 ms against the best gemm's 267) and a third to a tenth (AMD EPYC, 2026-12-04: 1276-3644
 * against 366), and timing them took the tuner's pass over a minute on the AMD (69-76 s).
 * XLNet's mode, which the gemm family does not run, takes FLASH_TILE untuned. Other devices: all.
 */
export function attentionCandidatesFor(kind: AdapterKind | undefined): readonly AttentionTile[] {
  if (kind === 'llvmpipe') return ATTENTION_CANDIDATES.filter((c) => c.family !== 'unrolled' && (c.matmul ? c.matmul.tm * c.matmul.tn <= 256 : true));
  if (kind === 'swiftshader') return ATTENTION_CANDIDATES.filter((c) => c.family === 'gemm');
  return ATTENTION_CANDIDATES;
}

/**
 * Tokens of the sequence the attention tuner times on (at least the tuner's rows): about a
 * typical protein (UniProt's median length is near 300). At the tuner's 64 rows launches and
 * the machine's noise ranked the candidates, not their arithmetic: on llvmpipe 25.0.7, d_kv 128
 * over 32 heads, two tuner runs timed the sg 16×4 tile at 8.5 and 13.9 ms and k4dot 16×16 at
 * 12.5 and 12.5, and sg 16×8 once ahead of 16×4 (12.2 against 13.9), where at L = 512 k4dot
 * takes 508 ms to sg 16×4's 254 and 16×8 319 (2026-12-03).
 */
export const ATTENTION_TUNE_TOKENS = 256;

/**
 * The tuning problem for `heads` heads of size `dk`: each candidate (as it runs at this dk, see
 * attentionTileFor) is checked on one sequence of `rows` tokens, 5 of them padding, against
 * attentionRef, and timed on one of ATTENTION_TUNE_TOKENS tokens (or `rows`, if more), 5 of
 * them padding. The size rule reads the FLOPs at `rows` tokens, as the matmul's does.
 */
export function attentionProblem(rt: Runtime, dk: number, heads: number, rows = 64, candidates: readonly AttentionTile[] = attentionCandidatesFor(rt.adapter.kind)): TuneProblem<AttentionTile> {
  const tokens = Math.max(rows, ATTENTION_TUNE_TOKENS);
  return {
    op: 'attention',
    shape: `${dk}|${heads}`,
    sources: ATTENTION_SOURCES,
    candidates: candidates.map((c) => attentionTileFor(dk, c)),
    name: (t) => attentionVariantName(dk, t),
    requires: (t) => attentionRequires(dk, t),
    flops: 4 * rows * rows * dk * heads,
    // Under the tuner's size rule: the variant that compiles fastest on every device (compiles dominate tiny models).
    fallback: QUICKEST_COMPILE_ATTENTION_TILE,
    // f32 dot products of dk terms and an online softmax in f32 against float64: ~1e-6
    // relative; a masking, bias or index error is O(1).
    tolerance: { max: 1e-4, reason: 'f32 scores and online softmax vs float64; a masking or index error is O(1)' },
    prepare: () => {
      const H = heads, R = 8;
      // One sequence of L tokens, 5 of them padding. Scale 0.3 on q and k keeps the softmax
      // neither uniform nor one-hot.
      const sequence = (L: number, seed: number, name: string) => {
        const n = L * H * dk, shape = [1, L, H * dk];
        const values = { q: randomArray(n, seed, 0.3), k: randomArray(n, seed + 1, 0.3), v: randomArray(n, seed + 2), bias: randomArray(H * (2 * R + 1), seed + 3), lens: [Math.max(1, L - 5)] };
        const tensors = {
          q: rt.upload(values.q, shape, 'f32', `${name}_q`),
          k: rt.upload(values.k, shape, 'f32', `${name}_k`),
          v: rt.upload(values.v, shape, 'f32', `${name}_v`),
          bias: rt.upload(values.bias, [H, 2 * R + 1], 'f32', `${name}_bias`),
          lengths: rt.upload(Uint32Array.from(values.lens), [1], 'u32', `${name}_len`),
          out: rt.empty(shape, 'f32', `${name}_out`),
        };
        return { values, tensors, run: (tile: AttentionTile) => attention(rt, { ...tensors, heads: H, tile }) };
      };
      const checked = sequence(rows, 3, 'tune_check');
      const timed = tokens === rows ? checked : sequence(tokens, 13, 'tune_time');
      const c = checked.values;
      return {
        want: attentionRef(c.q, c.k, c.v, c.bias, c.lens, 1, rows, H, dk, R),
        check: async (tile) => {
          await checked.run(tile);
          return rt.read(checked.tensors.out);
        },
        run: timed.run,
        release: () => {
          for (const s of new Set([checked, timed])) for (const t of Object.values(s.tensors)) t.release();
        },
      };
    },
  };
}

/** The fastest correct tile on the tuner's device for `heads` heads of size `dk` (cached). */
export function tuneAttention(tuner: Autotuner, dk: number, heads: number, candidates?: readonly AttentionTile[]): Promise<TuneResult<AttentionTile>> {
  return tuner.tune(attentionProblem(tuner.device, dk, heads, tuner.options.rows, candidates));
}
