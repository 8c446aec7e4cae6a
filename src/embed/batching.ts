// Batching as ProtTrans does it: sort by length (longest first), fill batches up to
// max_batch sequences and max_residues tokens, and run any sequence longer than max_seq_len
// in a batch of its own. The residue budget counts padded tokens (B × longest), which is what
// the GPU actually holds, so a batch never exceeds it unless one sequence alone does.

export interface BatchLimits {
  /** Most tokens (padded) per batch. ProtTrans default 4000. */
  maxResidues: number;
  /** Sequences longer than this run alone. ProtTrans default 1000. */
  maxSeqLen: number;
  /** Most sequences per batch. ProtTrans default 100. */
  maxBatch: number;
}

export const PROTTRANS_LIMITS: BatchLimits = { maxResidues: 4000, maxSeqLen: 1000, maxBatch: 100 };

/** Groups indices of `lengths` into batches; each batch lists input indices, longest first. */
export function planBatches(lengths: readonly number[], limits: BatchLimits = PROTTRANS_LIMITS): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const len = lengths[i];
    if (len > limits.maxSeqLen) {
      batches.push([i]);
      continue;
    }
    // Sorted longest first: the batch's padded length is its first member's.
    const longest = cur.length ? lengths[cur[0]] : len;
    if (cur.length && (cur.length + 1 > limits.maxBatch || (cur.length + 1) * longest > limits.maxResidues)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) batches.push(cur);
  return batches;
}
