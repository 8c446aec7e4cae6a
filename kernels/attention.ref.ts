// The float64 reference for T5 attention with relative-position bias and key mask: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/**
 * Attention for the query rows listed in `rows` (all rows if omitted):
 * o[b, i, h, :] = softmax_j(scale · q_i·k_j + bias[h, clamp(j-i, -R, R) + R]) v_j over j < lengths[b],
 * T5's with `bias` and scale 1, BERT's and ESM's with bias null and scale 1/sqrt(DK).
 * Returns [B, rows.length, H*DK] in float64.
 */
export function attentionRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, bias: ArrayLike<number> | null,
  lengths: ArrayLike<number>, B: number, L: number, H: number, DK: number, R: number, rows?: number[], scale = 1,
): Float64Array {
  const rowList = rows ?? Array.from({ length: L }, (_, i) => i);
  const HD = H * DK;
  const o = new Float64Array(B * rowList.length * HD);
  const s = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    const len = Math.min(lengths[b], L);
    for (let ri = 0; ri < rowList.length; ri++) {
      const i = rowList[ri];
      for (let h = 0; h < H; h++) {
        let max = -Infinity;
        for (let j = 0; j < len; j++) {
          let dot = 0;
          for (let d = 0; d < DK; d++) dot += q[(b * L + i) * HD + h * DK + d] * k[(b * L + j) * HD + h * DK + d];
          const rel = Math.max(-R, Math.min(R, j - i)) + R;
          s[j] = scale * dot + (bias ? bias[h * (2 * R + 1) + rel] : 0);
          max = Math.max(max, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < len; j++) sum += (s[j] = Math.exp(s[j] - max));
        const out = (b * rowList.length + ri) * HD + h * DK;
        for (let j = 0; j < len; j++) {
          const pj = s[j] / sum;
          for (let d = 0; d < DK; d++) o[out + d] += pj * v[(b * L + j) * HD + h * DK + d];
        }
      }
    }
  }
  return o;
}
