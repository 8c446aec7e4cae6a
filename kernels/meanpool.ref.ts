// The float64 reference for masked mean pooling: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/** y[b, d] = mean of x[b, r, d] over rows starts[b] <= r < starts[b] + counts[b] (clamped to L). */
export function meanpoolRef(x: ArrayLike<number>, starts: ArrayLike<number>, counts: ArrayLike<number>, B: number, L: number, D: number): Float64Array {
  const y = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    const r0 = Math.min(starts[b], L);
    const n = Math.min(counts[b], L - r0);
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let r = r0; r < r0 + n; r++) s += x[(b * L + r) * D + d];
      y[b * D + d] = n > 0 ? s / n : 0;
    }
  }
  return y;
}
