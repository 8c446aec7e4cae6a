// The float64 reference for TMbed's SeqNorm + ReLU + mask: plain loops, the WGSL's names.

export function seqnormReluRef(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, start: ArrayLike<number>, count: ArrayLike<number>, B: number, L: number, C: number, eps: number): Float64Array {
  const y = new Float64Array(B * L * C);
  for (let b = 0; b < B; b++) {
    const r0 = Math.min(start[b], L), r1 = Math.min(r0 + count[b], L);
    const lo = (b * L + r0) * C, hi = (b * L + r1) * C, n = hi - lo;
    if (n === 0) continue;
    let s = 0;
    for (let j = lo; j < hi; j++) s += x[j];
    const mean = s / n;
    let q = 0;
    for (let j = lo; j < hi; j++) q += (x[j] - mean) ** 2;
    const inv = 1 / Math.sqrt(q / n + eps);
    for (let j = lo; j < hi; j++) y[j] = Math.max((x[j] - mean) * inv * weight[j % C] + bias[j % C], 0);
  }
  return y;
}
