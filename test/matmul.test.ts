import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matmul, matmulWgsl, type Epilogue, type MatmulTile } from '../kernels/matmul.js';
import { matmulRef } from '../kernels/reference.js';
import { expectClose, randomArray } from './helpers.js';
import { asWeights, runtime, WEIGHT_DTYPES } from './gpu.js';

// f32 accumulation over K ≤ ~300 terms of |x·w| ≤ 1 against a float64 sum: ~1e-7 relative
// per output; 1e-5 leaves room for fma ordering and still fails on any indexing mistake.
const TOL = 1e-5;

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 3, 17], [3, 17, 65], [17, 65, 3], [65, 200, 33], [200, 17, 64], [33, 1, 200], [64, 64, 64],
  // K % 4 == 0 runs the k4 family by default
  [5, 7, 4], [19, 33, 12], [1, 65, 1024],
];

let worst = 0;
let seed = 1;
for (const dtype of WEIGHT_DTYPES) {
  for (const [M, N, K] of SHAPES) {
    for (const epilogue of ['none', 'relu', 'add'] as Epilogue[]) {
      test(`matmul ${dtype} M=${M} N=${N} K=${K} ${epilogue}`, async () => {
        const rt = await runtime();
        const xv = randomArray(M * K, seed++);
        const w = asWeights(randomArray(N * K, seed++), dtype);
        const y0 = randomArray(M * N, seed++);
        const x = rt.upload(xv, [M, K], 'f32', 'x');
        const wt = rt.upload(w.bytes, [N, K], dtype, 'w');
        const y = rt.upload(y0, [M, N], 'f32', 'y');
        await matmul(rt, { x, w: wt, y, epilogue });
        const got = await rt.read(y);
        const want = matmulRef(xv, w.values, M, N, K, epilogue, y0);
        worst = Math.max(worst, expectClose('matmul', got, want, TOL));
        for (const t of [x, wt, y]) t.release();
      });
    }
  }
}

const TILES: MatmulTile[] = [
  { family: 'k1', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k1', tm: 2, tn: 8, wgX: 4, wgY: 8 },
  { family: 'k1', tm: 8, tn: 4, wgX: 8, wgY: 2 },
  { family: 'k4', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 16, wgX: 4, wgY: 4 },
];
for (const tile of TILES) {
  // K = 28 so that the k4 family runs (29 would fall back to k1).
  test(`matmul tile ${JSON.stringify(tile)} on 37×53×28 bf16`, async () => {
    const rt = await runtime();
    const [M, N, K] = [37, 53, 28];
    const xv = randomArray(M * K, 900), w = asWeights(randomArray(N * K, 901), 'bf16');
    const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], 'bf16', 'w'), y = rt.empty([M, N], 'f32', 'y');
    await matmul(rt, { x, w: wt, y, epilogue: 'relu', tile });
    worst = Math.max(worst, expectClose('matmul tile', await rt.read(y), matmulRef(xv, w.values, M, N, K, 'relu'), TOL));
    for (const t of [x, wt, y]) t.release();
  });
}

test('matmul row chunks write only their rows and match the whole', async () => {
  const rt = await runtime();
  const [M, N, K] = [23, 19, 11];
  const xv = randomArray(M * K, 77), w = asWeights(randomArray(N * K, 78), 'f16');
  const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], 'f16', 'w');
  const y = rt.upload(new Float32Array(M * N).fill(7), [M, N], 'f32', 'y');
  // Rows 5..14 computed into a chunk buffer, then rows 15..22 directly.
  const chunk = rt.empty([10, N], 'f32', 'chunk');
  await matmul(rt, { x, w: wt, y: chunk, rowStart: 5, rows: 10, yRowStart: 0 });
  await matmul(rt, { x, w: wt, y, rowStart: 15, rows: 8 });
  const want = matmulRef(xv, w.values, M, N, K);
  const got = await rt.read(y), gotChunk = await rt.read(chunk);
  for (let i = 0; i < 15 * N; i++) assert.is(got[i], 7, `row ${Math.floor(i / N)} must be untouched`);
  worst = Math.max(worst, expectClose('rows 15..22', got.subarray(15 * N), want.subarray(15 * N), TOL));
  worst = Math.max(worst, expectClose('chunk rows 5..14', gotChunk, want.subarray(5 * N, 15 * N), TOL));
  for (const t of [x, wt, y, chunk]) t.release();
});

test('matmul rejects mismatched shapes with both shapes in the message', async () => {
  const rt = await runtime();
  const x = rt.empty([4, 8], 'f32', 'x'), w = rt.empty([3, 9], 'f16', 'w'), y = rt.empty([4, 3], 'f32', 'y');
  try {
    await matmul(rt, { x, w, y });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /matmul: .*K=9.*x: f32\[4, 8\].*w: f16\[3, 9\]/);
  }
  for (const t of [x, w, y]) t.release();
});

test('generated matmul WGSL is fully unrolled', () => {
  const src = matmulWgsl({ family: 'k1', tm: 2, tn: 3, wgX: 8, wgY: 8 }).replace(/\/\/.*$/gm, '');
  assert.not.match(src, /\{\{|\{i\}|\{j\}|\/\/@for/);
  assert.ok(src.includes('acc1_2 = fma(a1, b2, acc1_2)'));
  assert.not.ok(src.includes('acc2_0'));
});

test.after(() => console.log(`matmul worst relative error: ${worst.toExponential(2)}`));
test.run();
