// One runtime per test process, created on first use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { TensorDType } from '../src/gpu/tensor.js';
import { fromFloat32, toFloat32, type DType } from '../src/gpu/dtype.js';

// Tests never write into the user's cache (autotune choices, downloads); the one they make is
// removed when the test process exits.
if (!process.env.PROTT5_CACHE) {
  const cache = mkdtempSync(join(tmpdir(), 'prott5-test-cache-'));
  process.env.PROTT5_CACHE = cache;
  process.on('exit', () => rmSync(cache, { recursive: true, force: true }));
}

let rt: Promise<Runtime> | null = null;
export function runtime(): Promise<Runtime> {
  rt ??= createNodeRuntime();
  return rt;
}

export const WEIGHT_DTYPES: TensorDType[] = ['f32', 'f16', 'bf16'];
const FILE_DTYPE: Record<string, DType> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

/** Rounds values to a weight dtype: the bytes to upload and the values they really hold. */
export function asWeights(values: Float32Array, dtype: TensorDType): { bytes: Uint8Array; values: Float32Array } {
  const bytes = fromFloat32(FILE_DTYPE[dtype], values);
  return { bytes, values: toFloat32(FILE_DTYPE[dtype], bytes) };
}
