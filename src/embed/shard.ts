// Deterministic shards of one input, balanced by residues: `prott5 embed --shard I/N` embeds only
// shard I, and N jobs reading the same FASTA cover every record exactly once. No I/O here.
//
// The plan: records stay in input order and each goes to the shard its residue midpoint falls in,
// shard = floor(N · (residues before it + its length / 2) / all residues). Shards are contiguous
// runs of the input, each within about one record's length of total/N residues, and the plan
// depends only on the records' lengths and N (the same on every machine and in every job).
import { UsageError } from '../errors.js';

/** Shard `index` (1-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses `I/N` (1 ≤ I ≤ N); a UsageError naming the option otherwise. */
export function parseShard(text: string, option = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`${option} must be I/N with 1 <= I <= N (e.g. 2/8), got "${text}"`, { option, value: text });
  }
  return { index, count };
}

/** "I/N", as stored in the prott5_shard attribute. */
export const formatShard = (s: ShardSpec): string => `${s.index}/${s.count}`;

/** The shard (1-based) of every record, from the records' residue counts, in input order. */
export function planShards(lengths: readonly number[], count: number): Int32Array {
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`shard count must be a positive integer, got ${count}`);
  const total = lengths.reduce((a, n) => a + n, 0);
  const out = new Int32Array(lengths.length);
  let before = 0;
  for (let i = 0; i < lengths.length; i++) {
    // Integer arithmetic (2·N·before + N·len) / (2·total): no rounding differences between machines.
    const s = total === 0 ? Math.floor((i * count) / lengths.length) : Math.floor((2 * count * before + count * lengths[i]) / (2 * total));
    out[i] = Math.min(count, s + 1);
    before += lengths[i];
  }
  return out;
}

/** Indices (into `records`) of the records shard `spec` holds, in input order. */
export function shardIndices(records: ReadonlyArray<{ sequence: string }>, spec: ShardSpec): number[] {
  const plan = planShards(records.map((r) => r.sequence.length), spec.count);
  const out: number[] = [];
  for (let i = 0; i < plan.length; i++) if (plan[i] === spec.index) out.push(i);
  return out;
}
