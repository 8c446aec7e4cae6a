// The float64 reference for row-wise softmax / sigmoid: plain loops, the WGSL's names.
import type { ProbMode } from './softmax.js';

export function probabilitiesRef(x: ArrayLike<number>, R: number, C: number, mode: ProbMode = 'softmax', scale = 1, y0?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]);
    let total = 0;
    for (let c = 0; c < C; c++) total += Math.exp(x[r * C + c] - m);
    for (let c = 0; c < C; c++) {
      const v = x[r * C + c];
      const q = mode === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : Math.exp(v - m) / total;
      y[r * C + c] = scale * q + (y0 ? y0[r * C + c] : 0);
    }
  }
  return y;
}
