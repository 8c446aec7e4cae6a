// The float64 reference for T5's RMS layer norm: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/** T5 layer norm: y = x / sqrt(mean(x²) + eps) * w, per row of length D. */
export function rmsnormRef(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, D: number, eps: number): Float64Array {
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[r * D + d] * x[r * D + d];
    const inv = 1 / Math.sqrt(s / D + eps);
    for (let d = 0; d < D; d++) y[r * D + d] = x[r * D + d] * inv * w[d];
  }
  return y;
}
