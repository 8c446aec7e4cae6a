// The float64 reference for y = x · Wᵀ with its epilogues: plain loops, the same names as the WGSL.
// Tests and benches check the GPU against it.

/** transformers' gelu_new (tanh approximation), in float64. */
export function geluTanhRef(g: number): number {
  return 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));
}

/** erf(x) in float64: its Maclaurin series for |x| < 3, the continued fraction of erfc beyond (both to ~1e-14). */
export function erfRef(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = a, sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from the tail.
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

/** transformers' "gelu": x · Φ(x) = 0.5 · x · (1 + erf(x / √2)). */
export function geluRef(x: number): number {
  return 0.5 * x * (1 + erfRef(x / Math.SQRT2));
}

export type MatmulRefEpilogue = 'none' | 'relu' | 'add' | 'bias' | 'bias_gelu' | 'bias_add' | 'gate_gelu';

/** y[M, N] = x[M, K] · W[N, K]ᵀ, then the epilogue ('add' and 'bias_add' add into a copy of yIn; the bias ones add bias[N]; 'gate_gelu' multiplies by gelu_tanh(yIn), yIn holding the gate's matmul). */
export function matmulRef(
  x: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number,
  epilogue: MatmulRefEpilogue = 'none', yIn?: ArrayLike<number>, bias?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      if (epilogue === 'bias' || epilogue === 'bias_gelu' || epilogue === 'bias_add') acc += bias![n];
      if (epilogue === 'relu') acc = Math.max(acc, 0);
      if (epilogue === 'bias_gelu') acc = geluRef(acc);
      if (epilogue === 'add' || epilogue === 'bias_add') acc += yIn![m * N + n];
      if (epilogue === 'gate_gelu') acc *= geluTanhRef(yIn![m * N + n]);
      y[m * N + n] = acc;
    }
  }
  return y;
}
