// The float64 reference for the masked 1-D convolution: plain loops, the WGSL's names.
import type { Conv1dActivation } from './conv1d.js';

export interface Conv1dRefArgs {
  B: number; L: number; Cin: number; Cout: number; K: number; pad: number; G: number;
  x: ArrayLike<number>; w: ArrayLike<number>; bias?: ArrayLike<number>;
  start: ArrayLike<number>; inCount: ArrayLike<number>; outCount: ArrayLike<number>;
  /** What y holds before (accumulate). */
  y0?: ArrayLike<number>;
  act?: Conv1dActivation;
}

export function actRef(s: number, act: Conv1dActivation = 'none'): number {
  if (act === 'relu') return Math.max(s, 0);
  if (act === 'tanh') return Math.tanh(s);
  if (act === 'elu') return s > 0 ? s : Math.expm1(s);
  return s;
}

export function conv1dRef(a: Conv1dRefArgs): Float64Array {
  const { B, L, Cin, Cout, K, pad, G } = a;
  const y = new Float64Array(B * L * Cout);
  const cinG = Cin / G, coutG = Cout / G;
  for (let b = 0; b < B; b++) {
    const r0 = Math.min(a.start[b], L), inEnd = Math.min(r0 + a.inCount[b], L), outEnd = Math.min(r0 + a.outCount[b], L);
    for (let r = r0; r < outEnd; r++) {
      for (let co = 0; co < Cout; co++) {
        const g = Math.floor(co / coutG);
        let s = 0;
        for (let k = 0; k < K; k++) {
          const ri = r - pad + k;
          if (ri < r0 || ri >= inEnd) continue;
          for (let ci = 0; ci < cinG; ci++) s += a.w[(co * cinG + ci) * K + k] * a.x[(b * L + ri) * Cin + g * cinG + ci];
        }
        if (a.bias) s += a.bias[co];
        const i = (b * L + r) * Cout + co;
        if (a.y0) s += a.y0[i];
        y[i] = actRef(s, a.act);
      }
    }
  }
  return y;
}
