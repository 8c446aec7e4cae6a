// y = x · Wᵀ (+ epilogue) — wrapper for the matmul families: shaders/matmul.wgsl (k1),
// matmul_k4.wgsl (k4), matmul_k4dot.wgsl (k4dot), matmul_k8dot.wgsl (k8dot), matmul_smem.wgsl (smem),
// each with shaders/matmul_io.wgsl (Params, y, the epilogues) filled in at its MATMUL_IO placeholder.
import MATMUL_IO from '../shaders/matmul_io.wgsl';
import source from '../shaders/matmul.wgsl';
import sourceK4 from '../shaders/matmul_k4.wgsl';
import sourceK4dot from '../shaders/matmul_k4dot.wgsl';
import sourceK8dot from '../shaders/matmul_k8dot.wgsl';
import sourceSmem from '../shaders/matmul_smem.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { LOAD_W, LOAD_W4, fill, packParams, unroll, weightDtypeConstant } from './template.js';

export type Epilogue = 'none' | 'relu' | 'add';
const EPILOGUE_CODE: Record<Epilogue, number> = { none: 0, relu: 1, add: 2 };

export interface MatmulTile {
  /**
   * 'k1': any shape, one k per step. 'k4': K % 4 == 0, four k per step with vector loads and
   * vec4 accumulators. 'k4dot': as k4 with one scalar accumulator per output (a dot product per
   * step). 'k8dot': K % 8 == 0, as k4dot with two steps chained per accumulator update.
   * 'smem': any shape, x and W tiles staged in workgroup memory (for real GPUs).
   */
  family: 'k1' | 'k4' | 'k4dot' | 'k8dot' | 'smem';
  /** Rows and columns of y per invocation (registers), invocations per workgroup in x (columns) and y (rows). */
  tm: number;
  tn: number;
  wgX: number;
  wgY: number;
  /** smem only: K per staged tile (elements). */
  kt?: number;
}

const SOURCES: Record<MatmulTile['family'], string> = { k1: source, k4: sourceK4, k4dot: sourceK4dot, k8dot: sourceK8dot, smem: sourceSmem };

/** Bytes of workgroup memory a tile needs (the smem family's two staged tiles; 0 for the others). */
export function matmulWorkgroupBytes(t: MatmulTile): number {
  return t.family === 'smem' ? (t.wgY * t.tm + t.wgX * t.tn) * (t.kt ?? 0) * 4 : 0;
}

/**
 * Used without an autotuner: quick to compile and good on SwiftShader. The tuned k8dot tiles
 * run large shapes ~2.5× faster there but take 5-25 s each to compile, which small models and
 * the tests would pay on every dtype × epilogue.
 */
export const DEFAULT_MATMUL_TILE: MatmulTile = { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 };

/**
 * The tile to use when the chosen one cannot run this shape: k8dot needs K % 8 == 0 and falls
 * back to k4dot; k4 and k4dot need K % 4 == 0 and fall back to k1 with the same geometry,
 * capped at 8×8 per invocation for the dot families (whose large tiles would make k1 variants
 * that take many seconds to compile and spill on every k).
 */
export function matmulTileFor(K: number, tile: MatmulTile): MatmulTile {
  if (tile.family === 'k8dot' && K % 8 !== 0) tile = { ...tile, family: 'k4dot' };
  if (K % 4 === 0) return tile;
  if (tile.family === 'k4') return { ...tile, family: 'k1' };
  if (tile.family === 'k4dot') return { ...tile, family: 'k1', tm: Math.min(tile.tm, 8), tn: Math.min(tile.tn, 8) };
  return tile;
}

export function matmulVariantName(wDtype: string, epilogue: Epilogue, t: MatmulTile): string {
  const kt = t.family === 'smem' ? `_kt${t.kt}` : '';
  return `matmul_${t.family}_${wDtype}_${epilogue}_tm${t.tm}_tn${t.tn}_wg${t.wgX}x${t.wgY}${kt}`;
}

/** The generated WGSL of a variant (dumpable, and what the pipeline compiles). */
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
      if (!(Number.isInteger(t.kt) && t.kt! > 0)) throw new Error(`matmul: the smem family needs a tile K (kt), got ${t.kt}`);
      filled = fill(sourceSmem, { LOAD_W, ...dims, KT: t.kt! });
      break;
  }
  return unroll(filled, { TM: t.tm, TN: t.tn });
}

export interface MatmulArgs {
  x: Tensor; // [M, K] f32 (or any [..., K] viewed as rows)
  w: Tensor; // [N, K] f32 | f16 | bf16
  y: Tensor; // [M, N] f32; read too when epilogue is 'add'
  epilogue?: Epilogue;
  /** Compute rows [rowStart, rowStart + rows) of x and y only (row chunking). */
  rowStart?: number;
  rows?: number;
  /** Row offset into y if it differs from rowStart (y holds only a chunk). */
  yRowStart?: number;
  /** Row offset into x if it differs from rowStart (x holds only a chunk). */
  xRowStart?: number;
  tile?: MatmulTile;
}

export async function matmul(rt: Runtime, a: MatmulArgs): Promise<void> {
  const { x, w, y } = a;
  const epilogue = a.epilogue ?? 'none';
  const tile = matmulTileFor(a.w.shape[1], a.tile ?? DEFAULT_MATMUL_TILE);
  guardDtype('matmul', x, ['f32']);
  guardDtype('matmul', y, ['f32']);
  guardDtype('matmul', w, ['f32', 'f16', 'bf16']);
  guard('matmul', w.shape.length === 2, 'W must be 2-D [N, K]', w);
  const [N, K] = w.shape;
  guard('matmul', x.shape[x.shape.length - 1] === K, `x's last dim must equal W's K=${K}`, x, w);
  const xRows = x.numel / K;
  const yRows = y.numel / N;
  guard('matmul', Number.isInteger(yRows) && y.shape[y.shape.length - 1] === N, `y's last dim must equal W's N=${N}`, y, w);
  const rowStart = a.rowStart ?? 0;
  const M = a.rows ?? xRows - rowStart;
  const xr = a.xRowStart ?? rowStart;
  const yr = a.yRowStart ?? rowStart;
  guard('matmul', M >= 0 && xr + M <= xRows && yr + M <= yRows, `rows [${rowStart}, +${M}) out of range`, x, y);
  if (M === 0 || N === 0) return;
  const wgBytes = matmulWorkgroupBytes(tile);
  guard('matmul', wgBytes <= rt.limits.maxComputeWorkgroupStorageSize,
    `tile ${JSON.stringify(tile)} needs ${wgBytes} bytes of workgroup memory; the device has ${rt.limits.maxComputeWorkgroupStorageSize}`, x, w);
  const name = matmulVariantName(w.dtype, epilogue, tile);
  const pipeline = await rt.pipeline(name, () => matmulWgsl(tile), {
    EPILOGUE: EPILOGUE_CODE[epilogue],
    W_DTYPE: weightDtypeConstant(w.dtype),
  });
  const params = packParams(MATMUL_IO, { M, N, K, x_offset: xr * K, w_offset: 0, y_offset: yr * N });
  // Every family covers a (tm·wgY) × (tn·wgX) block of y per workgroup.
  rt.dispatch(pipeline, params, [x.buffer, w.buffer, y.buffer], [
    Math.ceil(N / (tile.tn * tile.wgX)),
    Math.ceil(M / (tile.tm * tile.wgY)),
  ]);
}
