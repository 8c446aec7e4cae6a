// Shared test utilities: seeded random data, error metrics with a readable failure report.
import { existsSync } from 'node:fs';
import { FileSource } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import { toFloat32 } from '../src/gpu/dtype.js';
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

export { expectClose, randomArray, relFrobenius, rng } from './numeric.js';

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
