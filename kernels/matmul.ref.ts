// The float64 reference for y = x · Wᵀ with its epilogues: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/** transformers' gelu_new (tanh approximation), in float64. */
export function geluTanhRef(g: number): number {
  return 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));
}

/**
 * y[M, N] = x[M, K] · W[N, K]ᵀ, then the epilogue: 'add' adds into a copy of yIn, 'gate_gelu'
 * multiplies by gelu_tanh(yIn) (yIn holds the gate's matmul).
 */
export function matmulRef(
  x: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number,
  epilogue: 'none' | 'relu' | 'add' | 'gate_gelu' = 'none', yIn?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      if (epilogue === 'relu') acc = Math.max(acc, 0);
      if (epilogue === 'add') acc += yIn![m * N + n];
      if (epilogue === 'gate_gelu') acc *= geluTanhRef(yIn![m * N + n]);
      y[m * N + n] = acc;
    }
  }
  return y;
}
