// Seeded random data and error metrics, with no Node imports: shared by the Node tests
// (through helpers.ts) and the in-page browser tests.

/** mulberry32: small, fast, seeded; good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** ||a - b||_F / ||b||_F, computed in float64. */
export function relFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

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
