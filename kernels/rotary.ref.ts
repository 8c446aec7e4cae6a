// The float64 reference for rotary position embedding (rotate-half): plain loops, the same
// names as the WGSL (cos and sin in float64 here; the GPU reads kernels/rotary.ts rotaryTable's f32 table).

/** x [B·L, H·DK] rotated (a copy): token t at position t % L, x1 = x[.., i], x2 = x[.., i + DK/2]. */
export function rotaryRef(x: ArrayLike<number>, invFreq: ArrayLike<number>, T: number, L: number, H: number): Float64Array {
  const half = invFreq.length, DK = 2 * half;
  const y = Float64Array.from(x);
  for (let t = 0; t < T; t++) {
    const l = t % L;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < half; i++) {
        const a = (t * H + h) * DK + i;
        const c = Math.cos(l * invFreq[i]), s = Math.sin(l * invFreq[i]);
        const x1 = x[a], x2 = x[a + half];
        y[a] = x1 * c - x2 * s;
        y[a + half] = x2 * c + x1 * s;
      }
    }
  }
  return y;
}
