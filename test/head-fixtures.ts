// The head fixtures (test/fixtures/heads/<head>/: checkpoints, expected.safetensors, cases.json)
// and a runner that feeds a head's run() the fixture inputs alone or as one padded batch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32 } from '../src/gpu/dtype.js';
import { FileSource, DirectoryFiles } from '../weights/node-files.js';
import { readSafetensors } from '../weights/safetensors.js';
import { fixturesDir } from './helpers.js';

export const headDir = (head: string, ...p: string[]): string => join(fixturesDir(), 'heads', head, ...p);
export const headFiles = (head: string, ...p: string[]): DirectoryFiles => new DirectoryFiles(headDir(head, ...p));

export interface HeadFixture {
  cases: Array<Record<string, unknown> & { index: number; length: number }>;
  has(key: string): boolean;
  get(key: string): { data: Float32Array; shape: number[] };
}

const cache = new Map<string, HeadFixture>();
export async function headFixture(head: string): Promise<HeadFixture> {
  let f = cache.get(head);
  if (f) return f;
  const cases = JSON.parse(readFileSync(headDir(head, 'cases.json'), 'utf8')).cases;
  const src = await FileSource.open(headDir(head, 'expected.safetensors'));
  const st = await readSafetensors(src);
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const t of st.tensors) tensors.set(t.name, { data: toFloat32(t.dtype, await t.read()), shape: [...t.shape] });
  await src.close();
  f = {
    cases,
    has: (k) => tensors.has(k),
    get(k) {
      const t = tensors.get(k);
      if (!t) throw new Error(`${head}/expected.safetensors has no ${k}`);
      return t;
    },
  };
  cache.set(head, f);
  return f;
}

export { runHead, type HeadInput } from './head-run.js';
