// The float64 reference for attention and max pooling over rows: plain loops, the WGSL's names.

export function lengthpoolRef(x: ArrayLike<number>, a: ArrayLike<number>, start: ArrayLike<number>, count: ArrayLike<number>, B: number, L: number, C: number): Float64Array {
  const y = new Float64Array(B * 2 * C);
  for (let b = 0; b < B; b++) {
    const r0 = Math.min(start[b], L), r1 = Math.min(r0 + count[b], L);
    if (r1 <= r0) continue;
    for (let c = 0; c < C; c++) {
      let am = -Infinity, xm = -Infinity;
      for (let r = r0; r < r1; r++) {
        am = Math.max(am, a[(b * L + r) * C + c]);
        xm = Math.max(xm, x[(b * L + r) * C + c]);
      }
      let total = 0, s = 0;
      for (let r = r0; r < r1; r++) {
        const e = Math.exp(a[(b * L + r) * C + c] - am);
        total += e;
        s += e * x[(b * L + r) * C + c];
      }
      y[b * 2 * C + c] = s / total;
      y[b * 2 * C + C + c] = xm;
    }
  }
  return y;
}
