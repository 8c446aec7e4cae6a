// y = x · Wᵀ (+ epilogue) — wrapper for the matmul families: shaders/matmul.wgsl (k1),
// matmul_k4.wgsl (k4), matmul_k4dot.wgsl (k4dot), matmul_k8dot.wgsl (k8dot), matmul_smem.wgsl (smem), matmul_sg.wgsl (sg),
// each with shaders/matmul_io.wgsl (Params, y, the epilogues) filled in at its MATMUL_IO placeholder;
// and the op's tuning: its candidates and the problem the tuner checks and times them on.
import matmulIo from '../shaders/matmul_io.wgsl';
import source from '../shaders/matmul.wgsl';
import sourceK4 from '../shaders/matmul_k4.wgsl';
import sourceK4dot from '../shaders/matmul_k4dot.wgsl';
import sourceK8dot from '../shaders/matmul_k8dot.wgsl';
import sourceSmem from '../shaders/matmul_smem.wgsl';
import sourceSg from '../shaders/matmul_sg.wgsl';
import { fromFloat32, toFloat32, type DType } from '../src/gpu/dtype.js';
import { randomArray } from '../src/gpu/numeric.js';
import { unmet, type Requirements } from '../src/gpu/requires.js';
import type { AdapterKind } from '../src/gpu/env.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor, TensorDType } from '../src/gpu/tensor.js';
import type { Autotuner, TuneProblem, TuneResult } from '../src/gpu/tuner.js';
import { guard, guardDtype, KernelArgumentError } from './guard.js';
import { matmulRef } from './matmul.ref.js';
import { LOAD_W, LOAD_W4, W_DTYPE_CODE, fill, packParams, pipelineFor, unroll, variantName, variants, weightDtypeConstant, wgslCodes } from './template.js';

/**
 * Values of the EPILOGUE override constant; matmul_io.wgsl compares with EPILOGUE_NONE,
 * EPILOGUE_RELU, ... generated from this table. A new epilogue: a line here, a branch in store().
 */
export const EPILOGUE_CODE = { none: 0, relu: 1, add: 2, gate_gelu: 3, bias: 4, bias_gelu: 5, bias_add: 6 } as const;
export type Epilogue = keyof typeof EPILOGUE_CODE;

/** The epilogues that read a bias [N] (binding 4). */
export const BIAS_EPILOGUES: ReadonlySet<Epilogue> = new Set<Epilogue>(['bias', 'bias_gelu', 'bias_add']);

const MATMUL_IO = fill(matmulIo, { EPILOGUES: wgslCodes('EPILOGUE', EPILOGUE_CODE) });
const W_DTYPES = wgslCodes('W', W_DTYPE_CODE);

export interface MatmulTile {
  /**
   * 'k1': any shape, one k per step. 'k4': K % 4 == 0, four k per step with vector loads and
   * vec4 accumulators. 'k4dot': as k4 with one scalar accumulator per output (a dot product per
   * step). 'k8dot': K % 8 == 0, as k4dot with two steps chained per accumulator update.
   * 'smem': any shape, x and W tiles staged in workgroup memory (for real GPUs).
   * 'sg': K % 8 == 0, subgroups of 8 or more lanes; one row of invocations (wgY 1) along N
   * shares tm rows of x, each x value loaded by one lane and passed to the others by
   * subgroupBroadcast (for SIMD-lane devices: llvmpipe). 'sg4': sg for subgroups of 4 lanes
   * (SwiftShader's): a step's 8 values of a row in two loads by 4 lanes. Both need wgX a
   * multiple of their lanes.
   */
  family: 'k1' | 'k4' | 'k4dot' | 'k8dot' | 'smem' | 'sg' | 'sg4';
  /** Rows and columns of y per invocation (registers), invocations per workgroup in x (columns) and y (rows). */
  tm: number;
  tn: number;
  wgX: number;
  wgY: number;
  /** smem only: K per staged tile (elements). */
  kt?: number;
}

/** One variant: a tile with the weight dtype and epilogue it runs with. Its name and pipeline come from this object. */
export interface MatmulVariant extends MatmulTile {
  wDtype: TensorDType;
  epilogue: Epilogue;
}

const SOURCES: Record<MatmulTile['family'], string> = { k1: source, k4: sourceK4, k4dot: sourceK4dot, k8dot: sourceK8dot, smem: sourceSmem, sg: sourceSg, sg4: sourceSg };

/** Lanes that share a K step's x in the subgroup families (shaders/matmul_sg.wgsl's LANES). */
const SUBGROUP_LANES: Partial<Record<MatmulTile['family'], 4 | 8>> = { sg: 8, sg4: 4 };

/** Every WGSL text a matmul variant can use, each once (the tuner's cache key hashes them). */
export const MATMUL_SOURCES: readonly string[] = [MATMUL_IO, W_DTYPES, LOAD_W, LOAD_W4, ...new Set(Object.values(SOURCES))];

/** Bytes of workgroup memory a tile needs (the smem family's two staged tiles; 0 for the others). */
export function matmulWorkgroupBytes(t: MatmulTile): number {
  return t.family === 'smem' ? (t.wgY * t.tm + t.wgX * t.tn) * (t.kt ?? 0) * 4 : 0;
}

/** What a tile needs of the device: its workgroup geometry and memory; sg and sg4 also subgroups of at least 8 and 4 lanes. */
export function matmulRequires(t: MatmulTile): Requirements {
  const base = { workgroupSize: [t.wgX, t.wgY], workgroupBytes: matmulWorkgroupBytes(t) };
  const lanes = SUBGROUP_LANES[t.family];
  return lanes ? { ...base, features: ['subgroups'], subgroupMinSize: lanes } : base;
}

/**
 * Used without an autotuner where nothing better is known to run (GPUs, and SwiftShader
 * without subgroups): quick to compile. The tuned tiles run large shapes ~2.5× faster on
 * SwiftShader but take 5-25 s each to compile, which small models and the tests would pay on
 * every dtype × epilogue.
 */
export const DEFAULT_MATMUL_TILE: MatmulTile = { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 };

/**
 * SwiftShader's untuned tile where it has subgroups of 4 (Node's and Chromium's do): sg4 16×8
 * compiled in 0.9 s there and ran f16 128×4096×1024 at 3.5 GFLOP/s against k4 8×8's 1.95
 * (0.3 s); sg4 32×8 and 16×16 ran at 3.8-4.4 but took 2.5 s (2026-12-03).
 */
export const SWIFTSHADER_MATMUL_TILE: MatmulTile = { family: 'sg4', tm: 16, tn: 8, wgX: 8, wgY: 1 };

/**
 * llvmpipe compiles large unrolled tiles through LLVM slowly (measured at 64×1024×1024 f16, fresh
 * shader cache: k8dot/k4dot 32×16 66–75 s, k4dot 16×16 24 s, k4 8×8 4 s, k4 4×4 0.9 s), and
 * k4 4×4 runs as fast as any but the 32×16 ones: its tile where the sg family cannot run
 * (no subgroups of 8, or K % 8 != 0).
 */
export const LLVMPIPE_FALLBACK_TILE: MatmulTile = { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 };

/**
 * llvmpipe's default: the sg family with 16 rows × 4 columns per invocation and 16 invocations
 * along N compiles in about 0.8 s (no shader cache) and ran the f16 ProtT5-XL shapes 1.1-1.5×
 * as fast as the 8×3 tile it replaced, at M = 64, 162 and 256 in interleaved runs (bench/matmul-lab.ts;
 * 20-30 GFLOP/s against a 60-72 ceiling, Intel Xeon, 2 cores). Why sg, in shaders/matmul_sg.wgsl;
 * why the larger tile: each W value a lane loads (a bounds-checked scalar load per lane and
 * 32-bit word in llvmpipe, the dearest thing in the loop) serves tm rows.
 */
export const LLVMPIPE_MATMUL_TILE: MatmulTile = { family: 'sg', tm: 16, tn: 4, wgX: 16, wgY: 1 };

/**
 * llvmpipe's tile where its subgroups are 4 lanes (Chromium's llvmpipe; the sg family needs 8):
 * sg4 with sg's default geometry. On Node's llvmpipe 25.0.7 (subgroups of 8, 2026-12-03) it
 * ran f16 128×4096×1024 and 128×1024×4096 at 16-21 GFLOP/s against k4 4×4's 7.6-8.7 and sg
 * 16×4's 22-26, and compiles in about a second.
 */
export const LLVMPIPE_SG4_TILE: MatmulTile = { family: 'sg4', tm: 16, tn: 4, wgX: 16, wgY: 1 };

/** The matmul variant to use untuned on a device of this kind (where the device has what it needs). */
export function defaultMatmulTile(kind: AdapterKind | undefined): MatmulTile {
  return untunedMatmulTiles(kind)[0];
}

/** A kind's untuned tiles, best first; the last needs nothing of the device. */
function untunedMatmulTiles(kind: AdapterKind | undefined): readonly MatmulTile[] {
  if (kind === 'llvmpipe') return [LLVMPIPE_MATMUL_TILE, LLVMPIPE_SG4_TILE, LLVMPIPE_FALLBACK_TILE];
  if (kind === 'swiftshader') return [SWIFTSHADER_MATMUL_TILE, DEFAULT_MATMUL_TILE];
  return [DEFAULT_MATMUL_TILE];
}

/**
 * The untuned tile for this runtime: the first of its kind's untuned tiles the device runs.
 * llvmpipe: sg 16×4 with subgroups of 8, LLVMPIPE_SG4_TILE with 4 (Chromium's), k4 4×4
 * without; SwiftShader: sg4 16×8 with subgroups of 4, k4 8×8 without; others k4 8×8.
 */
export function defaultMatmulTileOn(rt: Pick<Runtime, 'adapter' | 'limits'>): MatmulTile {
  const tiles = untunedMatmulTiles(rt.adapter.kind);
  return tiles.find((t) => unmet(matmulRequires(t), rt) === null) ?? tiles[tiles.length - 1];
}

/**
 * The tile to use when the chosen one cannot run this shape: k8dot and sg4 need K % 8 == 0 and
 * fall back to k4dot with the same geometry, sg to LLVMPIPE_FALLBACK_TILE; k4 and k4dot need
 * K % 4 == 0 and fall back to k1 with the same geometry, capped at 8×8 per invocation for the
 * dot families (whose large tiles would make k1 variants that take many seconds to compile and
 * spill on every k).
 */
export function matmulTileFor(K: number, tile: MatmulTile): MatmulTile {
  if (tile.family === 'sg' && K % 8 !== 0) tile = LLVMPIPE_FALLBACK_TILE;
  if ((tile.family === 'k8dot' || tile.family === 'sg4') && K % 8 !== 0) tile = { ...tile, family: 'k4dot' };
  if (K % 4 === 0) return tile;
  if (tile.family === 'k4') return { ...tile, family: 'k1' };
  if (tile.family === 'k4dot') return { ...tile, family: 'k1', tm: Math.min(tile.tm, 8), tn: Math.min(tile.tn, 8) };
  return tile;
}

/** The variant object of a tile run with `wDtype` weights and `epilogue` (kt only where the family reads it). */
export function matmulVariantOf(wDtype: TensorDType, epilogue: Epilogue, t: MatmulTile): MatmulVariant {
  const { family, tm, tn, wgX, wgY } = t;
  return family === 'smem' ? { family, tm, tn, wgX, wgY, kt: t.kt, wDtype, epilogue } : { family, tm, tn, wgX, wgY, wDtype, epilogue };
}

export function matmulVariantName(wDtype: TensorDType, epilogue: Epilogue, t: MatmulTile): string {
  return variantName('matmul', matmulVariantOf(wDtype, epilogue, t));
}

/** The generated WGSL of a tile (dumpable, and what the pipeline compiles; dtype and epilogue are override constants). */
export function matmulWgsl(t: MatmulTile): string {
  const dims = { MATMUL_IO, TM: t.tm, TN: t.tn, WG_X: t.wgX, WG_Y: t.wgY };
  let filled: string;
  switch (t.family) {
    case 'k1':
      filled = fill(source, { LOAD_W, ...dims });
      break;
    case 'k4':
    case 'k4dot':
    case 'k8dot':
      filled = fill(SOURCES[t.family], { LOAD_W4, ...dims });
      break;
    case 'smem':
      if (!(Number.isInteger(t.kt) && t.kt! > 0)) throw new KernelArgumentError(`matmul: the smem family needs a tile K (kt), got ${t.kt}`, { op: 'matmul' });
      filled = fill(sourceSmem, { LOAD_W, ...dims, KT: t.kt! });
      break;
    case 'sg':
    case 'sg4': {
      const lanes = SUBGROUP_LANES[t.family]!;
      if (t.wgY !== 1) throw new KernelArgumentError(`matmul: the ${t.family} family runs one row of invocations (wgY 1), got wgY ${t.wgY}`, { op: 'matmul' });
      if (t.wgX % lanes !== 0) throw new KernelArgumentError(`matmul: the ${t.family} family needs wgX a multiple of its ${lanes} lanes, got wgX ${t.wgX}`, { op: 'matmul' });
      filled = fill(sourceSg, { W_DTYPES, ...dims, LANES: lanes, HIGH_LANE: lanes - 4, X_HIGH: lanes === 8 ? 'xv{i}' : 'x[xr{i} + k + 4u]' });
      break;
    }
  }
  return unroll(filled, { TM: t.tm, TN: t.tn });
}

const variant = variants('matmul', (v: MatmulVariant) => ({
  code: matmulWgsl(v),
  constants: { EPILOGUE: EPILOGUE_CODE[v.epilogue], W_DTYPE: weightDtypeConstant(v.wDtype) },
  requires: matmulRequires(v),
}));

export interface MatmulArgs {
  x: Tensor; // [M, K] f32 (or any [..., K] viewed as rows)
  w: Tensor; // [N, K] f32 | f16 | bf16
  y: Tensor; // [M, N] f32; read too when epilogue is 'add', 'bias_add' or 'gate_gelu' (y = gelu_tanh(y) · x·Wᵀ: T5 v1.1's gated pair)
  epilogue?: Epilogue;
  /** [N] f32: for the bias epilogues (and only for them). */
  bias?: Tensor;
  /** Compute rows [rowStart, rowStart + rows) of x and y only (row chunking). */
  rowStart?: number;
  rows?: number;
  /** Row offset into y if it differs from rowStart (y holds only a chunk). */
  yRowStart?: number;
  /** Row offset into x if it differs from rowStart (x holds only a chunk). */
  xRowStart?: number;
  /** Use rows [wRowStart, wRowStart + wRows) of w as W (N = wRows; default all of w's rows). */
  wRowStart?: number;
  wRows?: number;
  /**
   * `count` problems of the same shape in one dispatch (workgroup z): problem z reads x from row
   * xRowStart + z · xRows, W from row wRowStart + z · wRows and writes y from row
   * yRowStart + z · yRows (the heads of attention's gemm family). The problems' rows of y must
   * not overlap (they run concurrently). Default: one problem.
   */
  batch?: MatmulBatch;
  tile?: MatmulTile;
}

/** Strides, in rows of x, W and y, between the problems of a batched matmul. */
export interface MatmulBatch {
  count: number;
  xRows: number;
  wRows: number;
  yRows: number;
}

export async function matmul(rt: Runtime, a: MatmulArgs): Promise<void> {
  const { x, w, y } = a;
  const epilogue = a.epilogue ?? 'none';
  const tile = matmulTileFor(a.w.shape[1], a.tile ?? defaultMatmulTileOn(rt));
  guardDtype('matmul', x, ['f32']);
  guardDtype('matmul', y, ['f32']);
  guardDtype('matmul', w, ['f32', 'f16', 'bf16']);
  guard('matmul', w.shape.length === 2, 'W must be 2-D [N, K]', w);
  const K = w.shape[1];
  const wr = a.wRowStart ?? 0;
  const N = a.wRows ?? w.shape[0] - wr;
  const batch = a.batch ?? { count: 1, xRows: 0, wRows: 0, yRows: 0 };
  const { count } = batch;
  guard('matmul', Number.isInteger(count) && count >= 1 && count <= rt.limits.maxComputeWorkgroupsPerDimension, `a batch of ${count} problems (1 to ${rt.limits.maxComputeWorkgroupsPerDimension})`, x);
  for (const stride of [batch.xRows, batch.wRows, batch.yRows]) guard('matmul', Number.isInteger(stride) && stride >= 0, `batch strides must be whole rows >= 0, got ${stride}`, x);
  const lastW = wr + (count - 1) * batch.wRows;
  guard('matmul', Number.isInteger(wr) && Number.isInteger(N) && wr >= 0 && N >= 0 && lastW + N <= w.shape[0], `W rows [${lastW}, +${N}) out of range`, w);
  guard('matmul', x.shape[x.shape.length - 1] === K, `x's last dim must equal W's K=${K}`, x, w);
  const xRows = x.numel / K;
  const yRows = y.numel / N;
  guard('matmul', Number.isInteger(yRows) && y.shape[y.shape.length - 1] === N, `y's last dim must equal W's N=${N}`, y, w);
  const rowStart = a.rowStart ?? 0;
  const M = a.rows ?? xRows - rowStart;
  const xr = a.xRowStart ?? rowStart;
  const yr = a.yRowStart ?? rowStart;
  const lastX = xr + (count - 1) * batch.xRows, lastY = yr + (count - 1) * batch.yRows;
  guard('matmul', M >= 0 && lastX + M <= xRows && lastY + M <= yRows, `rows [${rowStart}, +${M}) out of range${count > 1 ? ` in problem ${count - 1} of the batch (x row ${lastX}, y row ${lastY})` : ''}`, x, y);
  const bias = a.bias;
  if (BIAS_EPILOGUES.has(epilogue)) {
    guard('matmul', bias !== undefined, `epilogue ${epilogue} needs a bias [${N}]`, w);
    guardDtype('matmul', bias!, ['f32']);
    guard('matmul', bias!.numel === N, `the bias must be [${N}]`, w, bias!);
  } else guard('matmul', bias === undefined, `epilogue ${epilogue} takes no bias`, w, ...(bias ? [bias] : []));
  if (M === 0 || N === 0) return;
  const pipeline = await pipelineFor(rt, variant(matmulVariantOf(w.dtype, epilogue, tile)), x, w);
  const params = packParams(MATMUL_IO, { M, N, K, x_offset: xr * K, w_offset: wr * K, y_offset: yr * N, x_batch: batch.xRows * K, w_batch: batch.wRows * K, y_batch: batch.yRows * N });
  // Every family covers a (tm·wgY) × (tn·wgX) block of y per workgroup.
  // Without a bias epilogue the bias binding holds W's buffer (read-only, never read).
  rt.dispatch(pipeline, params, [x.buffer, w.buffer, y.buffer, (bias ?? w).buffer], [
    Math.ceil(N / (tile.tn * tile.wgX)),
    Math.ceil(M / (tile.tm * tile.wgY)),
    count,
  ]);
}

// ---- tuning ---------------------------------------------------------------------------------

/**
 * Timed in this order; a candidate whose first run is 3× the best so far is not timed
 * further, so each device's likely winners come early:
 * - sg (subgroups of 8 or more: llvmpipe, GPUs; elsewhere the tuner skips them as unmet):
 *   llvmpipe's fastest. The tiles with 16 rows per invocation ran the f16 ProtT5-XL shapes
 *   1.1-1.6× as fast as 8×3 there (16×6 and 16×8 a little ahead of 16×4 on the wide shapes;
 *   32×4, 16×2 and 8×4 no better than those, so left out); 8×3 stays for short batches, where
 *   it wastes fewer rows. 32×8 (each W word serves twice the rows of the 16-row tiles) is for
 *   AVX2 cores, where Mesa 25.0's per-lane loads cost most: on 2 cores of an AMD EPYC (Zen 3,
 *   2026-12-04) it ran the f32 XL shapes at M 162 at medians of 4.4-7.1 GFLOP/s against the
 *   16-row tiles' best 3.9-6.4 (level to 18% ahead), and f16 at M 128 level to 45% ahead; it
 *   takes 12-16 s to compile there with Mesa's shader cache cold (about 1 s warm).
 * - sg4 16×4 (LLVMPIPE_SG4_TILE): for an llvmpipe with subgroups of 4 (Chromium's), where sg
 *   cannot run.
 * - sg4 32×16: SwiftShader's (subgroups of 4). It ran the f16 ProtT5-XL shapes at 5.4-6.2
 *   GFLOP/s against k8dot 32×16's 4.4-4.9 in the same runs, f32 weights at 4.7-5.9 against
 *   5.1-5.6 (2026-12-03, Intel Xeon; 32×32 was faster still at f32, 6.1-6.4, but took 33 s to
 *   compile); it compiles in about 7.5 s there.
 * - The dot families with 32×16 outputs per invocation: SwiftShader's best without subgroups
 *   (f16 ProtT5-XL shapes at 5.7-6.1 GFLOP/s on an AMD EPYC; k8dot runs as k4dot when
 *   K % 8 != 0). 32×32 tiles were no faster in the same runs but take 20-30 s each to compile
 *   (per dtype × epilogue, in every process), so they are left out. The tuner runs 64 rows: a
 *   32-row tile in 2 rows of invocations keeps them all busy there (in 4, half would idle).
 * - smem and the small k4 tiles are for real GPUs; k1 is what runs when K % 4 != 0.
 */
export const MATMUL_CANDIDATES: readonly MatmulTile[] = [
  { family: 'sg', tm: 16, tn: 4, wgX: 16, wgY: 1 },
  { family: 'sg', tm: 16, tn: 6, wgX: 16, wgY: 1 },
  { family: 'sg', tm: 16, tn: 8, wgX: 16, wgY: 1 },
  { family: 'sg', tm: 32, tn: 8, wgX: 16, wgY: 1 },
  { family: 'sg', tm: 8, tn: 3, wgX: 32, wgY: 1 },
  LLVMPIPE_SG4_TILE,
  { family: 'sg4', tm: 32, tn: 16, wgX: 8, wgY: 1 },
  { family: 'k8dot', tm: 32, tn: 16, wgX: 8, wgY: 2 },
  { family: 'k4dot', tm: 32, tn: 16, wgX: 8, wgY: 2 },
  { family: 'k4dot', tm: 16, tn: 16, wgX: 4, wgY: 8 },
  { family: 'k4', tm: 16, tn: 8, wgX: 4, wgY: 8 },
  { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'smem', tm: 4, tn: 4, wgX: 16, wgY: 16, kt: 16 },
  { family: 'k1', tm: 4, tn: 4, wgX: 8, wgY: 8 },
];

const FILE_DTYPE: Partial<Record<TensorDType, DType>> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

/**
 * The tuning problem for y[M, N] = x[M, K] · W[N, K]ᵀ with W in `dtype`: each candidate (as it
 * runs at this K, see matmulTileFor) is checked on an odd 7×13 slice with the real K against
 * matmulRef, then timed on `rows` × N × K.
 */
/**
 * The candidates worth timing on a device of this kind. llvmpipe: those that compile within
 * seconds, tiles of up to 128 outputs per invocation and the sg family's up to 256 (sg 32×8:
 * 12-16 s cold; the dot families' 16×16 and 32×16 take 24-75 s, see LLVMPIPE_FALLBACK_TILE;
 * sg4 32×16 is SwiftShader's). Other devices: all.
 */
export function matmulCandidatesFor(kind: AdapterKind | undefined): readonly MatmulTile[] {
  return kind === 'llvmpipe' ? MATMUL_CANDIDATES.filter((c) => c.tm * c.tn <= (c.family === 'sg' ? 256 : 128)) : MATMUL_CANDIDATES;
}

export function matmulProblem(rt: Runtime, N: number, K: number, dtype: TensorDType, rows = 64, candidates: readonly MatmulTile[] = matmulCandidatesFor(rt.adapter.kind)): TuneProblem<MatmulTile> {
  const fileDtype = FILE_DTYPE[dtype];
  if (!fileDtype) throw new KernelArgumentError(`matmul: weights cannot be ${dtype}`, { op: 'matmul' });
  return {
    op: 'matmul',
    shape: `${dtype}|${N}|${K}`,
    sources: MATMUL_SOURCES,
    candidates: candidates.map((c) => matmulTileFor(K, c)),
    name: (t) => matmulVariantName(dtype, 'none', t),
    requires: matmulRequires,
    launches: (t) => Math.ceil(rows / (t.tm * t.wgY)) * Math.ceil(N / (t.tn * t.wgX)),
    flops: 2 * rows * N * K,
    // Under the tuner's size rule: the variant that compiles fastest on every device (compiles dominate tiny models).
    fallback: LLVMPIPE_FALLBACK_TILE,
    // f32 sums of K products of |x·w| < 1 against float64: ~sqrt(K)·2^-24 relative (under 1e-5 at
    // K = 16384); 1e-4 leaves room for each family's summation order, and any indexing or
    // unpacking mistake is O(1).
    tolerance: { max: 1e-4, reason: 'f32 accumulation over K terms vs float64; a wrong index is O(1)' },
    prepare: () => {
      const cm = 7, cn = Math.min(N, 13);
      const xs = randomArray(cm * K, 1), wBytes = fromFloat32(fileDtype, randomArray(cn * K, 2));
      const want = matmulRef(xs, toFloat32(fileDtype, wBytes), cm, cn, K);
      const x = rt.upload(xs, [cm, K], 'f32', 'tune_x'), w = rt.upload(wBytes, [cn, K], dtype, 'tune_w'), y = rt.empty([cm, cn], 'f32', 'tune_y');
      const bx = rt.empty([rows, K], 'f32', 'tune_bx'), bw = rt.empty([N, K], dtype, 'tune_bw'), by = rt.empty([rows, N], 'f32', 'tune_by');
      return {
        want,
        check: async (tile) => {
          await matmul(rt, { x, w, y, tile });
          return rt.read(y);
        },
        run: (tile) => matmul(rt, { x: bx, w: bw, y: by, tile }),
        release: () => {
          for (const t of [x, w, y, bx, bw, by]) t.release();
        },
      };
    },
  };
}

/** The fastest correct tile on the tuner's device for N × K weights in `dtype` (cached). */
export function tuneMatmul(tuner: Autotuner, N: number, K: number, dtype: TensorDType, candidates?: readonly MatmulTile[]): Promise<TuneResult<MatmulTile>> {
  return tuner.tune(matmulProblem(tuner.device, N, K, dtype, tuner.options.rows, candidates));
}
