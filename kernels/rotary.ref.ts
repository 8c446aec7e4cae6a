// The float64 reference for rotary position embedding (rotate-half): plain loops, the same
// names as the WGSL. Tests check the GPU against it; the encoder builds its table with rotaryTable.

/** (cos, sin) of l · invFreq[i] for l < L, i < half: [L, half, 2], float64 math rounded to f32. */
export function rotaryTable(invFreq: ArrayLike<number>, L: number): Float32Array {
  const half = invFreq.length;
  const cs = new Float32Array(L * half * 2);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < half; i++) {
      const angle = l * invFreq[i];
      cs[(l * half + i) * 2] = Math.cos(angle);
      cs[(l * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return cs;
}

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
