// rmsnorm, embedding and meanpool against their float64 references on odd shapes and every weight dtype.
// test-on: every-cpu-adapter
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { embedding } from '../kernels/embedding.js';
import { meanpool } from '../kernels/meanpool.js';
import { embeddingRef } from '../kernels/embedding.ref.js';
import { meanpoolRef } from '../kernels/meanpool.ref.js';
import { rmsnormRef } from '../kernels/rmsnorm.ref.js';
import { rmsnorm } from '../kernels/rmsnorm.js';
import { variantName, variants, wgslCodes } from '../kernels/template.js';
import { expectClose, randomArray, rng } from './helpers.js';
import { asWeights, runtime, WEIGHT_DTYPES } from './gpu.js';

let worst = 0;
const note = (e: number) => (worst = Math.max(worst, e));

// rmsnorm: an f32 sum of D squares plus one inverseSqrt: ~1e-7 relative; 1e-5 is ample and
// still far below any real bug (a wrong row, a missed element, eps misplaced).
for (const dtype of WEIGHT_DTYPES) {
  for (const [rows, D] of [[1, 1], [3, 17], [17, 65], [65, 200], [200, 64], [5, 1024], [2, 1000]]) {
    test(`rmsnorm ${dtype} rows=${rows} D=${D}`, async () => {
      const rt = await runtime();
      const xv = randomArray(rows * D, rows * 31 + D, 3);
      const w = asWeights(randomArray(D, D + 7), dtype);
      const x = rt.upload(xv, [rows, D], 'f32', 'x'), wt = rt.upload(w.bytes, [D], dtype, 'w'), y = rt.empty([rows, D], 'f32', 'y');
      await rmsnorm(rt, x, wt, y, 1e-6);
      note(expectClose('rmsnorm', await rt.read(y), rmsnormRef(xv, w.values, rows, D, 1e-6), 1e-5));
      for (const t of [x, wt, y]) t.release();
    });
  }
}

test('rmsnorm eps matters for tiny rows', async () => {
  const rt = await runtime();
  const D = 33, xv = randomArray(D, 5, 1e-4), wv = new Float32Array(D).fill(1);
  const x = rt.upload(xv, [1, D], 'f32', 'x'), wt = rt.upload(wv, [D], 'f32', 'w'), y = rt.empty([1, D], 'f32', 'y');
  await rmsnorm(rt, x, wt, y, 1e-6);
  note(expectClose('rmsnorm eps', await rt.read(y), rmsnormRef(xv, wv, 1, D, 1e-6), 1e-5));
  for (const t of [x, wt, y]) t.release();
});

// embedding: a pure copy (f16/bf16 unpacked exactly), so the tolerance is 0.
for (const dtype of WEIGHT_DTYPES) {
  for (const [T, vocab, D] of [[1, 1, 1], [3, 5, 17], [17, 128, 65], [200, 128, 64], [65, 29, 3]]) {
    test(`embedding ${dtype} T=${T} vocab=${vocab} D=${D}`, async () => {
      const rt = await runtime();
      const r = rng(T * 1000 + D);
      const ids = Uint32Array.from({ length: T }, () => Math.floor(r() * vocab));
      if (T > 2) ids[T - 1] = vocab + 3; // out of range: a zero row
      const w = asWeights(randomArray(vocab * D, vocab + D), dtype);
      const idt = rt.upload(ids, [T], 'u32', 'ids'), wt = rt.upload(w.bytes, [vocab, D], dtype, 'table'), y = rt.empty([T, D], 'f32', 'y');
      await embedding(rt, idt, wt, y);
      const got = await rt.read(y), want = embeddingRef(ids, w.values, vocab, D);
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.unreachable(`embedding[${i}] = ${got[i]}, want ${want[i]}`);
      for (const t of [idt, wt, y]) t.release();
    });
  }
}

// meanpool: an f32 sum of ≤ 200 values of |v| ≤ 1, then a divide: 1e-6 relative suffices.
// Rows start at 0 (ProtT5: </s> after the residues) or later (BERT, ESM: a special token first);
// a start or count past L is clamped, an empty range gives 0.
for (const [B, L, D] of [[1, 1, 1], [3, 17, 5], [2, 65, 33], [4, 200, 64], [1, 3, 1024]]) {
  test(`meanpool B=${B} L=${L} D=${D}`, async () => {
    const rt = await runtime();
    const r = rng(B * 77 + L);
    const starts = Uint32Array.from({ length: B }, (_, b) => (b === 0 ? 0 : b === 3 ? L + 2 : Math.floor(r() * 3)));
    const counts = Uint32Array.from({ length: B }, (_, b) => (b === 0 ? L : Math.floor(r() * (L + 1))));
    const xv = randomArray(B * L * D, L + D);
    const x = rt.upload(xv, [B, L, D], 'f32', 'x'), s0 = rt.upload(starts, [B], 'u32', 'starts'), c = rt.upload(counts, [B], 'u32', 'counts');
    const y = rt.empty([B, D], 'f32', 'y');
    await meanpool(rt, x, s0, c, y);
    const want = meanpoolRef(xv, starts, counts, B, L, D);
    if (B > 1 && starts[1] > 0 && counts[1] > 0) assert.not.equal(Array.from(want.subarray(D, 2 * D)), Array.from(meanpoolRef(xv, new Uint32Array(B), counts, B, L, D).subarray(D, 2 * D)), 'the start moves the rows');
    note(expectClose('meanpool', await rt.read(y), want, 1e-6));
    for (const t of [x, s0, c, y]) t.release();
  });
}

// The variant machinery every kernel uses: one object gives the name, text, constants and needs.
test('variantName: the op and every defined field, sorted by key; objects refused', () => {
  assert.is(variantName('rmsnorm', { wg: 64, wDtype: 'f16' }), 'rmsnorm(wDtype=f16,wg=64)');
  assert.is(variantName('x', { b: 1, a: 'q', c: undefined }), 'x(a=q,b=1)');
  assert.is(variantName('x', {}), 'x()');
  assert.throws(() => variantName('x', { tile: { tm: 1 } }), /x: variant field tile must be a number or string/);
});

test('variants() builds each distinct variant once, whatever the field order', () => {
  let builds = 0;
  const v = variants('probe', (x: { a: number; b: string }) => (builds++, { code: `// ${x.a} ${x.b}`, requires: {} }));
  const one = v({ a: 1, b: 'z' });
  assert.is(v({ b: 'z', a: 1 }), one);
  assert.is(one.name, 'probe(a=1,b=z)');
  assert.is(one.code, '// 1 z');
  assert.is.not(v({ a: 2, b: 'z' }), one);
  assert.is(builds, 2);
});

test('wgslCodes declares a TS code table as WGSL constants', () => {
  assert.is(wgslCodes('EPILOGUE', { none: 0, bias_gelu: 3 }), 'const EPILOGUE_NONE = 0u;\nconst EPILOGUE_BIAS_GELU = 3u;');
});

test.after(() => console.log(`rmsnorm/meanpool worst relative error: ${worst.toExponential(2)}`));
test.run();
