// The float64 reference for LayerNorm with mean and bias: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/** y = (x - mean) / sqrt(var + eps) * weight + bias, per row of length D (biased variance, as torch). */
export function layernormRef(
  x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, rows: number, D: number, eps: number,
): Float64Array {
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[r * D + d];
    const mean = s / D;
    let s2 = 0;
    for (let d = 0; d < D; d++) s2 += (x[r * D + d] - mean) ** 2;
    const inv = 1 / Math.sqrt(s2 / D + eps);
    for (let d = 0; d < D; d++) y[r * D + d] = (x[r * D + d] - mean) * inv * weight[d] + bias[d];
  }
  return y;
}
