// The float64 reference for masked mean pooling: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

export function meanpoolRef(x: ArrayLike<number>, counts: ArrayLike<number>, B: number, L: number, D: number): Float64Array {
  const y = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    const n = Math.min(counts[b], L);
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += x[(b * L + r) * D + d];
      y[b * D + d] = n > 0 ? s / n : 0;
    }
  }
  return y;
}
