// Runs a head's run() on fixture inputs as one padded batch and cuts each sequence's outputs;
// no Node imports, so the in-page browser tests use it too.
import type { Runtime } from '../src/gpu/runtime.js';
import type { BatchRows, Head } from '../src/heads/head.js';

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
