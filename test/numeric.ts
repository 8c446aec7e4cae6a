// Seeded random data and error metrics, with no Node imports: shared by the Node tests
// (through helpers.ts) and the in-page browser tests. The generator and the metric are the
// tuner's own (src/gpu/numeric.ts); expectClose adds the failure report.

import { relFrobenius } from '../src/gpu/numeric.js';

export { randomArray, relFrobenius, rng } from '../src/gpu/numeric.js';

/**
 * Throws with the worst index and a few pairs if the relative Frobenius error exceeds `tol`.
 * Returns the error so tests can report the worst seen.
 */
export function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  const err = relFrobenius(got, want);
  if (!(err <= tol)) {
    let worst = 0, wi = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (!(d <= worst)) { worst = d; wi = i; }
    }
    const pairs: string[] = [];
    for (let i = Math.max(0, wi - 2); i < Math.min(want.length, wi + 3); i++) pairs.push(`[${i}] got ${got[i]} want ${want[i]}`);
    throw new Error(`${what}: relative error ${err.toExponential(3)} > ${tol}; worst |diff| ${worst} at ${wi}\n  ${pairs.join('\n  ')}`);
  }
  return err;
}
