// T5's bidirectional relative-position buckets, exactly as transformers computes them
// (T5Attention._relative_position_bucket, which runs in float32 on the torch side), and the
// per-head bias table the attention kernel reads.

/** Bucket of relative position rel = key − query (bidirectional encoder). */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance: number): number {
  const half = numBuckets / 2;
  let bucket = rel > 0 ? half : 0;
  const n = Math.abs(rel);
  const maxExact = Math.floor(half / 2);
  if (n < maxExact) return bucket + n;
  // torch: log(n.float() / max_exact) / math.log(max_distance / max_exact) * (half - max_exact),
  // in float32, truncated toward zero. fround reproduces the float32 rounding at each step.
  const f = Math.fround;
  const ratio = f(Math.log(f(n / maxExact)));
  const scaled = f(f(ratio / f(Math.log(maxDistance / maxExact))) * (half - maxExact));
  const large = Math.min(maxExact + Math.trunc(scaled), half - 1);
  return bucket + large;
}

/**
 * Bias table [H, 2R+1] for rel in [−R, R] (R = max_distance): table[h][rel + R] =
 * weight[bucket(rel), h], with weight the [num_buckets, H] relative_attention_bias. Beyond ±R
 * the bucket no longer changes, so the kernel clamps rel into the table.
 */
export function relativeBiasTable(weight: Float32Array, numBuckets: number, heads: number, maxDistance: number): Float32Array {
  const R = maxDistance;
  const table = new Float32Array(heads * (2 * R + 1));
  for (let rel = -R; rel <= R; rel++) {
    const b = relativePositionBucket(rel, numBuckets, maxDistance);
    for (let h = 0; h < heads; h++) table[h * (2 * R + 1) + rel + R] = weight[b * heads + h];
  }
  return table;
}
