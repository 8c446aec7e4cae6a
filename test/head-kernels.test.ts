// The prediction heads' kernels (conv1d, softmax/sigmoid, length pools, SeqNorm) against their
// float64 references on odd shapes, seeded random data, with padded batches whose sequences
// have different row ranges (rows outside a sequence must neither leak in nor be left stale).
// test-on: every-cpu-adapter
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conv1d, conv1dWeights, type Conv1dActivation } from '../kernels/conv1d.js';
import { conv1dRef } from '../kernels/conv1d.ref.js';
import { lengthpool } from '../kernels/lengthpool.js';
import { lengthpoolRef } from '../kernels/lengthpool.ref.js';
import { seqnormRelu } from '../kernels/seqnorm.js';
import { seqnormReluRef } from '../kernels/seqnorm.ref.js';
import { probabilities, type ProbMode } from '../kernels/softmax.js';
import { probabilitiesRef } from '../kernels/softmax.ref.js';
import { expectClose, randomArray, rng } from './helpers.js';
import { runtime } from './gpu.js';

/** Row ranges of a padded batch: B sequences of random lengths within L, random starts. */
function ranges(B: number, L: number, seed: number) {
  const r = rng(seed);
  const start = new Uint32Array(B), inCount = new Uint32Array(B), outCount = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    start[b] = b === 0 ? 0 : Math.floor(r() * 2);
    inCount[b] = b === 0 ? L - start[b] : 1 + Math.floor(r() * (L - start[b]));
    outCount[b] = Math.min(L - start[b], inCount[b] + (b % 2));
  }
  return { start, inCount, outCount };
}

// conv1d: f32 sums of ≤ Cin/G·K ≤ 2100 products of |v| ≤ 1: ~1e-6 relative; 1e-5 leaves room
// and still catches a wrong tap, group or row.
const CONV_CASES: Array<[B: number, L: number, Cin: number, Cout: number, K: number, pad: number, G: number, act: Conv1dActivation]> = [
  [1, 1, 1, 1, 1, 0, 1, 'none'],
  [3, 17, 5, 7, 3, 1, 1, 'relu'],
  [2, 33, 64, 64, 9, 4, 64, 'none'], // depthwise, TMbed's dwc1
  [2, 40, 12, 12, 21, 10, 12, 'none'], // depthwise, kernel longer than some sequences
  [4, 13, 100, 3, 5, 2, 1, 'elu'],
  [3, 9, 33, 28, 5, 2, 1, 'tanh'],
  [2, 7, 8, 6, 7, 3, 2, 'relu'], // 2 groups
  [2, 11, 6, 4, 4, 1, 1, 'none'], // even kernel, asymmetric reach
];
for (const [B, L, Cin, Cout, K, pad, G, act] of CONV_CASES) {
  test(`conv1d B=${B} L=${L} ${Cin}->${Cout} K=${K} pad=${pad} G=${G} ${act}`, async () => {
    const rt = await runtime();
    const seed = B * 7 + L * 13 + Cin + K;
    const xv = randomArray(B * L * Cin, seed, 1), wv = randomArray(Cout * (Cin / G) * K, seed + 1, 0.5), bv = randomArray(Cout, seed + 2, 0.5);
    const y0 = randomArray(B * L * Cout, seed + 3, 1);
    const rr = ranges(B, L, seed);
    const x = rt.upload(xv, [B, L, Cin], 'f32', 'x'), w = rt.upload(conv1dWeights(wv, Cout, Cin / G, K), [K, Cin / G, Cout], 'f32', 'w'), bias = rt.upload(bv, [Cout], 'f32', 'b');
    const s = rt.upload(rr.start, [B], 'u32', 's'), ic = rt.upload(rr.inCount, [B], 'u32', 'ic'), oc = rt.upload(rr.outCount, [B], 'u32', 'oc');
    for (const accumulate of [false, true]) {
      const y = rt.upload(y0, [B, L, Cout], 'f32', 'y');
      await conv1d(rt, { x, w, bias, y, start: s, inCount: ic, outCount: oc, padding: pad, groups: G, activation: act, accumulate });
      const want = conv1dRef({ B, L, Cin, Cout, K, pad, G, x: xv, w: wv, bias: bv, ...rr, act, y0: accumulate ? y0 : undefined });
      expectClose(`conv1d acc=${accumulate}`, await rt.read(y), want, 1e-5);
      y.release();
    }
    for (const t of [x, w, bias, s, ic, oc]) t.release();
  });
}

test('conv1d without bias; a padded sequence gives its numbers alone', async () => {
  const rt = await runtime();
  const Cin = 10, Cout = 4, K = 7, pad = 3, L = 12, n = 5;
  const xv = randomArray(2 * L * Cin, 3, 1), wv = randomArray(Cout * Cin * K, 4, 0.5);
  // Sequence 1 occupies rows 1..1+n of a padded batch whose padding holds junk.
  const x = rt.upload(xv, [2, L, Cin], 'f32', 'x'), w = rt.upload(conv1dWeights(wv, Cout, Cin, K), [K, Cin, Cout], 'f32', 'w');
  const u = (a: number[]) => rt.upload(Uint32Array.from(a), [a.length], 'u32', 'r');
  const y = rt.empty([2, L, Cout], 'f32', 'y');
  const s = u([0, 1]), c = u([L, n]);
  await conv1d(rt, { x, w, y, start: s, inCount: c, outCount: c, padding: pad });
  const batched = (await rt.read(y)).slice((L + 1) * Cout, (L + 1 + n) * Cout);
  const alone = rt.upload(xv.slice((L + 1) * Cin, (L + 1 + n) * Cin), [1, n, Cin], 'f32', 'alone'), ya = rt.empty([1, n, Cout], 'f32', 'ya');
  const s1 = u([0]), c1 = u([n]);
  await conv1d(rt, { x: alone, w, y: ya, start: s1, inCount: c1, outCount: c1, padding: pad });
  const single = await rt.read(ya);
  for (let i = 0; i < single.length; i++) if (single[i] !== batched[i]) assert.unreachable(`row value ${i}: alone ${single[i]}, batched ${batched[i]}`);
  const all = await rt.read(y);
  for (let i = 0; i < L * Cout; i++) if (i < Cout || i >= (1 + n) * Cout) assert.is(all[L * Cout + i], 0, `padded row value ${i} is 0`);
  for (const t of [x, w, y, s, c, alone, ya, s1, c1]) t.release();
});

// softmax/sigmoid: a handful of exps per row; 1e-6 relative.
for (const [R, C] of [[1, 1], [1, 2], [7, 3], [65, 8], [300, 20], [3, 10]]) {
  for (const mode of ['softmax', 'sigmoid'] as ProbMode[]) {
    test(`${mode} R=${R} C=${C}`, async () => {
      const rt = await runtime();
      const xv = randomArray(R * C, R + C, 8), y0 = randomArray(R * C, R * C, 1);
      const x = rt.upload(xv, [R, C], 'f32', 'x');
      const y = rt.upload(y0, [R, C], 'f32', 'y');
      await probabilities(rt, x, y, { mode, accumulate: true, scale: 0.2 });
      expectClose(`${mode} acc`, await rt.read(y), probabilitiesRef(xv, R, C, mode, 0.2, y0), 1e-6);
      await probabilities(rt, x, y, { mode });
      expectClose(mode, await rt.read(y), probabilitiesRef(xv, R, C, mode), 1e-6);
      x.release();
      y.release();
    });
  }
}

// lengthpool: exps and sums over ≤ 300 rows; 1e-6 relative.
for (const [B, L, C] of [[1, 1, 1], [3, 7, 5], [2, 65, 64], [4, 300, 3]]) {
  test(`lengthpool B=${B} L=${L} C=${C}`, async () => {
    const rt = await runtime();
    const xv = randomArray(B * L * C, L + C, 2), av = randomArray(B * L * C, L * C, 4);
    const rr = ranges(B, L, B + L);
    const x = rt.upload(xv, [B, L, C], 'f32', 'x'), a = rt.upload(av, [B, L, C], 'f32', 'a');
    const s = rt.upload(rr.start, [B], 'u32', 's'), c = rt.upload(rr.inCount, [B], 'u32', 'c'), y = rt.empty([B, 2 * C], 'f32', 'y');
    await lengthpool(rt, x, a, s, c, y);
    expectClose('lengthpool', await rt.read(y), lengthpoolRef(xv, av, rr.start, rr.inCount, B, L, C), 1e-6);
    for (const t of [x, a, s, c, y]) t.release();
  });
}

// seqnorm: two f32 sums over ≤ 300·64 values, an inverseSqrt: 1e-5 relative.
for (const [B, L, C] of [[1, 1, 1], [2, 7, 5], [3, 65, 64], [2, 300, 3]]) {
  test(`seqnorm+relu B=${B} L=${L} C=${C}`, async () => {
    const rt = await runtime();
    const xv = randomArray(B * L * C, L + 3 * C, 2), wv = randomArray(C, C, 1), bv = randomArray(C, C + 1, 0.5);
    const rr = ranges(B, L, B * L);
    const x = rt.upload(xv, [B, L, C], 'f32', 'x'), w = rt.upload(wv, [C], 'f32', 'w'), b = rt.upload(bv, [C], 'f32', 'b');
    const s = rt.upload(rr.start, [B], 'u32', 's'), c = rt.upload(rr.inCount, [B], 'u32', 'c');
    await seqnormRelu(rt, x, w, b, s, c, 1e-6);
    expectClose('seqnorm', await rt.read(x), seqnormReluRef(xv, wv, bv, rr.start, rr.inCount, B, L, C, 1e-6), 1e-5);
    for (const t of [x, w, b, s, c]) t.release();
  });
}

test.run();
