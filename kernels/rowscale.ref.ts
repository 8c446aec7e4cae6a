// The float64 reference for the per-row scale: plain loops, the same names as the WGSL.

/** y[t, :] = y[t, :] · s[t] (a copy), rows of length D. */
export function rowscaleRef(y: ArrayLike<number>, s: ArrayLike<number>, T: number, D: number): Float64Array {
  const out = new Float64Array(T * D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out[t * D + d] = y[t * D + d] * s[t];
  return out;
}
