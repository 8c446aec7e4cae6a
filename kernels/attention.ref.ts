// The float64 references for the fused attention's modes (T5's relative-position bias, BERT/ESM's
// scaled scores, XLNet's content and position terms), with key mask: plain loops, the same names
// as the WGSL. Tests and benches check the GPU against them.

/**
 * o[b, i, h, :] = softmax_j(score(b, i, h, j)) v_j over keys j < lengths[b], for the query rows
 * `rowList`: the part every mode shares. Returns [B, rowList.length, H*DK] in float64.
 */
function attend(
  v: ArrayLike<number>, lengths: ArrayLike<number>, B: number, L: number, H: number, DK: number, rowList: number[],
  score: (b: number, i: number, h: number, j: number) => number,
): Float64Array {
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
          s[j] = score(b, i, h, j);
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

const allRows = (L: number) => Array.from({ length: L }, (_, i) => i);

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
  const HD = H * DK;
  return attend(v, lengths, B, L, H, DK, rows ?? allRows(L), (b, i, h, j) => {
    let dot = 0;
    for (let d = 0; d < DK; d++) dot += q[(b * L + i) * HD + h * DK + d] * k[(b * L + j) * HD + h * DK + d];
    const rel = Math.max(-R, Math.min(R, j - i)) + R;
    return scale * dot + (bias ? bias[h * (2 * R + 1) + rel] : 0);
  });
}

/**
 * XLNet's relative attention (attn_type "bi", no memory) for the query rows in `rows` (all if omitted):
 * s_ij = scale · ((q_i + rw[h])·k_j + (q_i + rr[h])·kr[R + i − j]) over keys j < lengths[b],
 * o[b, i, h, :] = softmax_j(s_ij) v_j. kr: [2R+1, H*DK] (row R + p: relative position p = i − j);
 * biases: [2, H*DK], r_w_bias (rw) then r_r_bias (rr). Returns [B, rows.length, H*DK] in float64.
 */
export function attentionXLNetRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, kr: ArrayLike<number>, biases: ArrayLike<number>,
  lengths: ArrayLike<number>, B: number, L: number, H: number, DK: number, R: number, scale: number, rows?: number[],
): Float64Array {
  const HD = H * DK;
  return attend(v, lengths, B, L, H, DK, rows ?? allRows(L), (b, i, h, j) => {
    let ac = 0, bd = 0;
    for (let d = 0; d < DK; d++) {
      const qd = q[(b * L + i) * HD + h * DK + d];
      ac += (qd + biases[h * DK + d]) * k[(b * L + j) * HD + h * DK + d];
      bd += (qd + biases[HD + h * DK + d]) * kr[(R + i - j) * HD + h * DK + d];
    }
    return scale * (ac + bd);
  });
}
