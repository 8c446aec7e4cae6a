// The float64 reference for the embedding gather: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, vocab: number, D: number): Float64Array {
  const y = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] >= vocab) continue;
    for (let d = 0; d < D; d++) y[t * D + d] = table[ids[t] * D + d];
  }
  return y;
}
