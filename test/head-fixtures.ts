// The head fixtures (test/fixtures/heads/<head>/: checkpoints, expected.safetensors, cases.json)
// and a runner that feeds a head's run() the fixture inputs alone or as one padded batch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../src/gpu/runtime.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import type { BatchRows, Head } from '../src/heads/head.js';
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

/** One sequence of a batch: rows [L, D] of the hidden state, the first `residues` of them residues. */
export interface HeadInput { rows: Float32Array; residues: number }

/**
 * Runs a head on these sequences as one padded batch (rows at offset `shift` in each padded
 * sequence, `extra` padding rows of junk after the longest), reads back every output the head
 * returns and cuts each sequence's rows: per residue [residues, w], per protein [w].
 */
export async function runHead(rt: Runtime, head: Head, inputs: HeadInput[], D: number, opts: { shift?: number; extra?: number; junk?: number } = {}): Promise<Array<Map<string, Float32Array>>> {
  const shift = opts.shift ?? 0;
  const B = inputs.length;
  const L = Math.max(...inputs.map((x) => x.rows.length / D)) + shift + (opts.extra ?? 0);
  const flat = new Float32Array(B * L * D).fill(opts.junk ?? 0);
  const rows: BatchRows = { B, L, tokens: new Uint32Array(B), residueStart: new Uint32Array(B), residueCount: new Uint32Array(B) };
  inputs.forEach((x, b) => {
    flat.set(x.rows, (b * L + shift) * D);
    rows.tokens[b] = shift + x.rows.length / D;
    rows.residueStart[b] = shift;
    rows.residueCount[b] = x.residues;
  });
  const hidden = rt.upload(flat, [B, L, D], 'f32', 'hidden');
  const out = await head.run(hidden, rows);
  const res = inputs.map(() => new Map<string, Float32Array>());
  try {
    for (const [key, t] of out) {
      const data = await rt.read(t);
      if (t.shape.length === 3 && t.shape[1] === L) {
        const w = t.shape[2];
        inputs.forEach((x, b) => res[b].set(key, data.slice((b * L + shift) * w, (b * L + shift + x.residues) * w)));
      } else {
        const w = t.numel / B;
        inputs.forEach((_, b) => res[b].set(key, data.slice(b * w, (b + 1) * w)));
      }
    }
  } finally {
    hidden.release();
    for (const t of out.values()) t.release();
  }
  return res;
}
