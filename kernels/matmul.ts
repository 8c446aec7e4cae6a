// y = x · Wᵀ (+ epilogue) — wrapper for shaders/matmul.wgsl.
import source from '../shaders/matmul.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/tensor.js';
import { guard, guardDtype } from './guard.js';
import { LOAD_W, fill, packParams, unroll, weightDtypeConstant } from './template.js';

export type Epilogue = 'none' | 'relu' | 'add';
const EPILOGUE_CODE: Record<Epilogue, number> = { none: 0, relu: 1, add: 2 };

export interface MatmulTile {
  /** Rows and columns of y per invocation (registers), invocations per workgroup in x (columns) and y (rows). */
  tm: number;
  tn: number;
  wgX: number;
  wgY: number;
}

export const DEFAULT_MATMUL_TILE: MatmulTile = { tm: 4, tn: 4, wgX: 8, wgY: 8 };

export function matmulVariantName(wDtype: string, epilogue: Epilogue, t: MatmulTile): string {
  return `matmul_${wDtype}_${epilogue}_tm${t.tm}_tn${t.tn}_wg${t.wgX}x${t.wgY}`;
}

/** The generated WGSL of a variant (dumpable, and what the pipeline compiles). */
export function matmulWgsl(t: MatmulTile): string {
  return unroll(fill(source, { LOAD_W, TM: t.tm, TN: t.tn, WG_X: t.wgX, WG_Y: t.wgY }), { TM: t.tm, TN: t.tn });
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
  const tile = a.tile ?? DEFAULT_MATMUL_TILE;
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
  const name = matmulVariantName(w.dtype, epilogue, tile);
  const pipeline = await rt.pipeline(name, () => matmulWgsl(tile), {
    EPILOGUE: EPILOGUE_CODE[epilogue],
    W_DTYPE: weightDtypeConstant(w.dtype),
  });
  const params = packParams(source, { M, N, K, x_offset: xr * K, w_offset: 0, y_offset: yr * N });
  rt.dispatch(pipeline, params, [x.buffer, w.buffer, y.buffer], [
    Math.ceil(N / (tile.tn * tile.wgX)),
    Math.ceil(M / (tile.tm * tile.wgY)),
  ]);
}
