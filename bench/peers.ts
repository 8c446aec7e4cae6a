// Peers for the bench, on the same adapter in the same process: tfjs-backend-webgpu doing
// the same matmul and the same T5 encoder layer written in tfjs ops (a dev dependency used
// only here). tfjs reads `navigator.gpu`; in Node we hand it one whose requestAdapter gives a
// Dawn adapter chosen as ours is (PROTT5_ADAPTER and the driver plan), so both run on one driver.
type Tf = typeof import('@tensorflow/tfjs-core');
type T2 = import('@tensorflow/tfjs-core').Tensor2D;
type T1 = import('@tensorflow/tfjs-core').Tensor;
let tfPromise: Promise<Tf | null> | null = null;

/** tfjs-core with the webgpu backend ready, or null (with the reason printed) if it cannot run here. */
export function loadTfjs(log: (s: string) => void): Promise<Tf | null> {
  tfPromise ??= (async () => {
    try {
      const g = globalThis as { navigator?: { gpu?: unknown } };
      if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
      const { requestNodeAdapter } = await import('../src/gpu/node-gpu.js');
      (g.navigator as { gpu?: unknown }).gpu ??= { requestAdapter: () => requestNodeAdapter(), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set() };
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend(webgpu) returned false');
      await tf.ready();
      return tf;
    } catch (e) {
      log(`tfjs-backend-webgpu unavailable: ${(e as Error).message}`);
      return null;
    }
  })();
  return tfPromise;
}

/** Median ms of `fn` (which must finish its GPU work, e.g. by reading a scalar back). */
export async function medianMs(reps: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

/** tfjs y = x · Wᵀ with the result read back, f32. */
export async function tfjsMatmulMs(tf: Tf, M: number, N: number, K: number, reps: number): Promise<number> {
  const x = tf.randomUniform([M, K], -1, 1);
  const w = tf.randomUniform([N, K], -1, 1);
  const ms = await medianMs(reps, async () => {
    const y = tf.matMul(x, w, false, true);
    await y.data();
    y.dispose();
  });
  x.dispose();
  w.dispose();
  return ms;
}

export interface LayerWeights {
  d_model: number;
  d_ff: number;
  heads: number;
  d_kv: number;
  /** f32 values, Hugging Face layouts ([out, in]). */
  ln0: Float32Array; q: Float32Array; k: Float32Array; v: Float32Array; o: Float32Array;
  ln1: Float32Array; wi: Float32Array; wo: Float32Array;
  /** [H, 2R+1] bias table. */
  biasTable: Float32Array;
  R: number;
}

/**
 * One T5 encoder layer in tfjs ops over one sequence of h [L, d_model]: the textbook version
 * (an L×L score matrix per head), as an app would write it. Returns the new hidden state values.
 */
export async function tfjsLayer(tf: Tf, w: LayerWeights, h0: Float32Array, L: number): Promise<{ out: Float32Array<ArrayBufferLike>; ms: number; reps: number }> {
  const { d_model: D, d_ff: F, heads: H, d_kv: DK, R } = w;
  const T = (a: Float32Array, s: number[]) => tf.tensor(a, s);
  const W = {
    ln0: T(w.ln0, [D]), q: T(w.q, [H * DK, D]), k: T(w.k, [H * DK, D]), v: T(w.v, [H * DK, D]), o: T(w.o, [D, H * DK]),
    ln1: T(w.ln1, [D]), wi: T(w.wi, [F, D]), wo: T(w.wo, [D, F]),
  };
  // Bias [H, L, L] gathered once from the table by relative position (as HF does per call).
  const idx = new Int32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) idx[i * L + j] = Math.max(-R, Math.min(R, j - i)) + R;
  const table = T(w.biasTable, [H, 2 * R + 1]);
  const bias = tf.tidy(() => tf.reshape(tf.gather(table, tf.tensor1d(idx, 'int32'), 1), [H, L, L]));
  const h = T(h0, [L, D]);
  const norm = (x: T2, g: T1) =>
    tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), g) as T2;
  const layer = () =>
    tf.tidy(() => {
      const x = norm(h as T2, W.ln0);
      const heads = (m: T2) => tf.transpose(tf.reshape(tf.matMul(x, m, false, true), [L, H, DK]), [1, 0, 2]);
      const q = heads(W.q as T2), k = heads(W.k as T2), v = heads(W.v as T2);
      const scores = tf.add(tf.matMul(q, k, false, true), bias);
      const a = tf.matMul(tf.softmax(scores), v); // [H, L, DK]
      const merged = tf.reshape(tf.transpose(a, [1, 0, 2]), [L, H * DK]) as T2;
      const h1 = tf.add(h, tf.matMul(merged, W.o as T2, false, true)) as T2;
      const x1 = norm(h1, W.ln1);
      const ff = tf.relu(tf.matMul(x1, W.wi as T2, false, true)) as T2;
      return tf.add(h1, tf.matMul(ff, W.wo as T2, false, true));
    });
  let out: Float32Array<ArrayBufferLike> = new Float32Array(0);
  const reps = 1;
  const ms = await medianMs(reps, async () => {
    const y = layer();
    out = (await y.data()) as Float32Array;
    y.dispose();
  });
  for (const t of [...Object.values(W), table, bias, h]) t.dispose();
  return { out, ms, reps };
}
