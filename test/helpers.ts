// Shared test utilities: seeded random data, error metrics with a readable failure report.
import { existsSync } from 'node:fs';
import { FileSource } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import { toFloat32 } from '../weights/tensor-entry.js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Repository root: the nearest folder above this file (built or source) holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dir === dirname(dir)) throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
    dir = dirname(dir);
  }
  return dir;
}

export const fixturesDir = (): string => join(repoRoot(), 'test', 'fixtures');

/** mulberry32: small, fast, seeded; good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** ||a - b||_F / ||b||_F, computed in float64. */
export function relFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/**
 * Throws with the worst index and a few pairs if the relative Frobenius error exceeds `tol`.
 * Returns the error so tests can report the worst seen.
 */
export function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  const err = relFrobenius(got, want);
  if (!(err <= tol)) {
    let worst = 0, wi = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (!(d <= worst)) { worst = d; wi = i; }
    }
    const pairs: string[] = [];
    for (let i = Math.max(0, wi - 2); i < Math.min(want.length, wi + 3); i++) pairs.push(`[${i}] got ${got[i]} want ${want[i]}`);
    throw new Error(`${what}: relative error ${err.toExponential(3)} > ${tol}; worst |diff| ${worst} at ${wi}\n  ${pairs.join('\n  ')}`);
  }
  return err;
}

let expectedCache: Map<string, Float32Array> | null = null;
/**
 * A tensor of test/fixtures/t5-tiny/expected.safetensors as float32 ('F32.residue.3', ...),
 * the fixtures' float64 reference outputs. The file is read once per process.
 */
export async function expected(key: string): Promise<Float32Array> {
  if (!expectedCache) {
    const src = await FileSource.open(join(fixturesDir(), 't5-tiny', 'expected.safetensors'));
    const st = await readSafetensors(src);
    expectedCache = new Map();
    for (const t of st.tensors) expectedCache.set(t.name, toFloat32(t.dtype, await t.read()));
    await src.close();
  }
  const v = expectedCache.get(key);
  if (!v) throw new Error(`expected.safetensors has no ${key}`);
  return v;
}
