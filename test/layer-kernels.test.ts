// The kernels the BERT-style families and ESM-2 add — layernorm (mean, bias), rotary
// (rotate-half), rowscale, the embedding's accumulate mode — against their float64 references
// on odd shapes and seeded random data.
// test-on: every-cpu-adapter
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { embedding } from '../kernels/embedding.js';
import { embeddingRef } from '../kernels/embedding.ref.js';
import { layernorm } from '../kernels/layernorm.js';
import { layernormRef } from '../kernels/layernorm.ref.js';
import { rotary, rotaryTable } from '../kernels/rotary.js';
import { rotaryRef } from '../kernels/rotary.ref.js';
import { rowscale } from '../kernels/rowscale.js';
import { rowscaleRef } from '../kernels/rowscale.ref.js';
import { expectClose, randomArray, rng } from './helpers.js';
import { asWeights, runtime, WEIGHT_DTYPES } from './gpu.js';

let worst = 0;
const note = (e: number) => (worst = Math.max(worst, e));

// layernorm: f32 sums of D terms for the mean and the variance, then inverseSqrt: ~1e-7
// relative; 1e-5 still fails on a wrong row, a missed element, a misplaced eps or bias.
for (const [rows, D, offset] of [[1, 1, 0], [3, 17, 0], [17, 65, 5], [65, 200, 0], [200, 64, 0], [5, 1024, 100], [2, 1000, 0], [7, 33, 0]]) {
  test(`layernorm rows=${rows} D=${D}${offset ? ` (rows offset by ${offset}: the two-pass variance)` : ''}`, async () => {
    const rt = await runtime();
    const xv = randomArray(rows * D, rows * 31 + D, 3).map((v) => v + offset);
    const wv = randomArray(D, D + 7), bv = randomArray(D, D + 8);
    const x = rt.upload(xv, [rows, D], 'f32', 'x'), w = rt.upload(wv, [D], 'f32', 'w'), b = rt.upload(bv, [D], 'f32', 'b'), y = rt.empty([rows, D], 'f32', 'y');
    await layernorm(rt, x, w, b, y, 1e-5);
    // D = 1: every row normalises to 0, so y is the bias (the reference's relative error is still defined).
    note(expectClose('layernorm', await rt.read(y), layernormRef(xv, wv, bv, rows, D, 1e-5), 1e-5));
    for (const t of [x, w, b, y]) t.release();
  });
}

test('layernorm: eps matters for a near-constant row (1e-12 vs 1e-5); x and y must differ', async () => {
  const rt = await runtime();
  const D = 48, xv = randomArray(D, 9, 1e-4), wv = new Float32Array(D).fill(1), bv = new Float32Array(D);
  const x = rt.upload(xv, [1, D], 'f32', 'x'), w = rt.upload(wv, [D], 'f32', 'w'), b = rt.upload(bv, [D], 'f32', 'b'), y = rt.empty([1, D], 'f32', 'y');
  for (const eps of [1e-12, 1e-5]) {
    await layernorm(rt, x, w, b, y, eps);
    note(expectClose(`layernorm eps ${eps}`, await rt.read(y), layernormRef(xv, wv, bv, 1, D, eps), 1e-5));
  }
  const small = await rt.read(y);
  assert.ok(Math.max(...small.map(Math.abs)) < 0.1, 'with eps 1e-5 a row of std 6e-5 stays small');
  try {
    await layernorm(rt, x, w, b, x, 1e-5);
    assert.unreachable('in place must be refused');
  } catch (e) {
    assert.match((e as Error).message, /layernorm: x and y must be different/);
  }
  for (const t of [x, w, b, y]) t.release();
});

// rotary: a product of f32 inputs with f32 (cos, sin) from a float64 table: ~1e-7 relative.
for (const [B, L, H, DK] of [[1, 1, 1, 2], [2, 17, 3, 16], [3, 65, 4, 8], [1, 300, 2, 64], [2, 9, 5, 34]]) {
  test(`rotary B=${B} L=${L} H=${H} DK=${DK}`, async () => {
    const rt = await runtime();
    const half = DK / 2;
    const inv = Float32Array.from({ length: half }, (_, i) => 1 / 10000 ** ((2 * i) / DK));
    const xv = randomArray(B * L * H * DK, L * 13 + DK);
    const x = rt.upload(xv, [B, L, H * DK], 'f32', 'x');
    // A table longer than L: rows beyond L are never read.
    const table = rt.upload(rotaryTable(inv, L + 3), [L + 3, half, 2], 'f32', 'cs');
    await rotary(rt, x, table, H);
    note(expectClose('rotary', await rt.read(x), rotaryRef(xv, inv, B * L, L, H), 1e-6));
    for (const t of [x, table]) t.release();
  });
}

test('rotary: position 0 is the identity; a table shorter than L is refused', async () => {
  const rt = await runtime();
  const inv = Float32Array.of(1, 0.1, 0.01);
  const xv = randomArray(2 * 1 * 2 * 6, 3);
  const x = rt.upload(xv, [2, 1, 12], 'f32', 'x'), table = rt.upload(rotaryTable(inv, 1), [1, 3, 2], 'f32', 'cs');
  await rotary(rt, x, table, 2);
  assert.equal(Array.from(await rt.read(x)), Array.from(xv));
  const long = rt.empty([1, 4, 12], 'f32', 'long');
  try {
    await rotary(rt, long, table, 2);
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /rotary: table must be \[≥4, 3, 2\]/);
  }
  for (const t of [x, table, long]) t.release();
});

// rowscale: one f32 product per element: exact against the f32-rounded reference to 1 ulp.
for (const [T, D] of [[1, 1], [5, 17], [70, 33], [3, 1000]]) {
  test(`rowscale T=${T} D=${D}`, async () => {
    const rt = await runtime();
    const yv = randomArray(T * D, T + D), sv = randomArray(T, T * 3 + 1, 2);
    if (T > 2) sv[1] = 0;
    const y = rt.upload(yv, [T, D], 'f32', 'y'), s = rt.upload(sv, [T], 'f32', 's');
    await rowscale(rt, y, s);
    note(expectClose('rowscale', await rt.read(y), rowscaleRef(yv, sv, T, D), 1e-7));
    for (const t of [y, s]) t.release();
  });
}

// embedding, accumulate: y += E[ids]: one f32 add per element.
for (const dtype of WEIGHT_DTYPES) {
  test(`embedding accumulate ${dtype} T=37 vocab=29 D=19`, async () => {
    const rt = await runtime();
    const [T, vocab, D] = [37, 29, 19];
    const r = rng(T + vocab);
    const ids = Uint32Array.from({ length: T }, () => Math.floor(r() * vocab));
    const w = asWeights(randomArray(vocab * D, 5), dtype), y0 = randomArray(T * D, 6);
    const idt = rt.upload(ids, [T], 'u32', 'ids'), wt = rt.upload(w.bytes, [vocab, D], dtype, 'table'), y = rt.upload(y0, [T, D], 'f32', 'y');
    await embedding(rt, idt, wt, y, true);
    const want = embeddingRef(ids, w.values, vocab, D).map((v, i) => v + y0[i]);
    note(expectClose('embedding accumulate', await rt.read(y), want, 1e-7));
    for (const t of [idt, wt, y]) t.release();
  });
}

test.after(() => console.log(`layer kernels worst relative error: ${worst.toExponential(2)}`));
test.run();
