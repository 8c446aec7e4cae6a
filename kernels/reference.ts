// Plain float64 references for every kernel, written like the WGSL (same names, plain loops).
// Tests and benches check the GPU against these.

/** y[M, N] = x[M, K] · W[N, K]ᵀ, then the epilogue ('add' adds into a copy of yIn). */
export function matmulRef(
  x: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number,
  epilogue: 'none' | 'relu' | 'add' = 'none', yIn?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      if (epilogue === 'relu') acc = Math.max(acc, 0);
      if (epilogue === 'add') acc += yIn![m * N + n];
      y[m * N + n] = acc;
    }
  }
  return y;
}

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

export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, vocab: number, D: number): Float64Array {
  const y = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] >= vocab) continue;
    for (let d = 0; d < D; d++) y[t * D + d] = table[ids[t] * D + d];
  }
  return y;
}

export function meanpoolRef(x: ArrayLike<number>, counts: ArrayLike<number>, B: number, L: number, D: number): Float64Array {
  const y = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    const n = Math.min(counts[b], L);
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += x[(b * L + r) * D + d];
      y[b * D + d] = n > 0 ? s / n : 0;
    }
  }
  return y;
}

/**
 * T5 attention for the query rows listed in `rows` (all rows if omitted):
 * o[b, i, h, :] = softmax_j(q_i·k_j + bias[h, clamp(j-i, -R, R) + R]) v_j over j < lengths[b].
 * Returns [B, rows.length, H*DK] in float64.
 */
export function attentionRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, bias: ArrayLike<number>,
  lengths: ArrayLike<number>, B: number, L: number, H: number, DK: number, R: number, rows?: number[],
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
          s[j] = dot + bias[h * (2 * R + 1) + rel];
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
