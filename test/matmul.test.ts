// Matmul families and epilogues against the float64 reference, every dtype, odd shapes.
// test-on: every-cpu-adapter
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIAS_EPILOGUES, DEFAULT_MATMUL_TILE, EPILOGUE_CODE, LLVMPIPE_FALLBACK_TILE, SWIFTSHADER_MATMUL_TILE, LLVMPIPE_MATMUL_TILE, LLVMPIPE_SG4_TILE, MATMUL_CANDIDATES, defaultMatmulTileOn, matmulCandidatesFor, matmul, matmulRequires, matmulTileFor, matmulVariantName, matmulWgsl, type Epilogue, type MatmulTile } from '../kernels/matmul.js';
import { unmet } from '../src/gpu/requires.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { W_DTYPE_CODE } from '../kernels/template.js';
import { erfRef, matmulRef } from '../kernels/matmul.ref.js';
import { expectClose, randomArray } from './helpers.js';
import { asWeights, runtime, WEIGHT_DTYPES } from './gpu.js';
import { toFloat32 } from '../src/gpu/dtype.js';
import type { TensorDType } from '../src/gpu/tensor.js';

// f32 accumulation over K ≤ 1024 terms of |x·w| ≤ 1 against a float64 sum: ~1e-7 to 1e-6
// relative per output; 1e-5 leaves room for the families' summation orders and still fails on
// any indexing mistake.
const TOL = 1e-5;

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 3, 17], [3, 17, 65], [17, 65, 3], [65, 200, 33], [200, 17, 64], [33, 1, 200], [64, 64, 64],
  // K % 4 == 0 runs the k4 family by default
  [5, 7, 4], [19, 33, 12], [1, 65, 1024],
];

let worst = 0;
let seed = 1;

/**
 * Whether this runtime can run the tile: the sg family needs subgroups of 8 or more lanes
 * (llvmpipe has them; where a driver lacks them, the file's other pass still runs them), sg4
 * of 4 (both CPU drivers). The default (no tile) always runs.
 */
function runs(rt: Runtime, tile?: MatmulTile): boolean {
  return tile === undefined || unmet(matmulRequires(tile), rt) === null;
}

/** One matmul on seeded random data against the float64 reference (y starts random, for 'add'; a random bias for the bias epilogues). */
async function check(what: string, M: number, N: number, K: number, dtype: TensorDType, epilogue: Epilogue, tile?: MatmulTile): Promise<void> {
  const rt = await runtime();
  if (!runs(rt, tile)) return;
  const xv = randomArray(M * K, seed++);
  const w = asWeights(randomArray(N * K, seed++), dtype);
  const y0 = randomArray(M * N, seed++);
  const bv = BIAS_EPILOGUES.has(epilogue) ? randomArray(N, seed++, 2) : undefined;
  const x = rt.upload(xv, [M, K], 'f32', 'x');
  const wt = rt.upload(w.bytes, [N, K], dtype, 'w');
  const y = rt.upload(y0, [M, N], 'f32', 'y');
  const bias = bv && rt.upload(bv, [N], 'f32', 'bias');
  try {
    await matmul(rt, { x, w: wt, y, epilogue, tile, bias });
    worst = Math.max(worst, expectClose(what, await rt.read(y), matmulRef(xv, w.values, M, N, K, epilogue, y0, bv), TOL));
  } finally {
    for (const t of [x, wt, y, ...(bias ? [bias] : [])]) t.release();
  }
}
for (const dtype of WEIGHT_DTYPES) {
  for (const [M, N, K] of SHAPES) {
    for (const epilogue of ['none', 'relu', 'add'] as Epilogue[]) {
      test(`matmul ${dtype} M=${M} N=${N} K=${K} ${epilogue}`, () => check('matmul', M, N, K, dtype, epilogue));
    }
  }
}

// Every family that is not the default, on odd shapes (1, 3, 17, 65, 200: none a tile multiple)
// with every dtype and epilogue. k4dot needs K % 4 == 0 and k8dot K % 8 == 0, so their shapes
// keep K a multiple of 4 or 8 (otherwise they would silently run as another family).
const FAMILY_TILES: Array<{ tile: MatmulTile; shapes: Array<[number, number, number]> }> = [
  {
    tile: { family: 'smem', tm: 4, tn: 4, wgX: 16, wgY: 16, kt: 16 },
    shapes: [[1, 1, 1], [1, 3, 17], [3, 17, 65], [17, 65, 3], [65, 200, 33], [200, 17, 64], [33, 1, 200], [70, 67, 40]],
  },
  {
    tile: { family: 'smem', tm: 2, tn: 4, wgX: 8, wgY: 4, kt: 8 },
    shapes: [[1, 3, 17], [17, 65, 3], [65, 200, 33], [9, 33, 8], [33, 1, 200]],
  },
  {
    tile: { family: 'k4dot', tm: 8, tn: 16, wgX: 8, wgY: 8 },
    shapes: [[1, 1, 4], [1, 3, 16], [3, 17, 64], [17, 65, 12], [65, 200, 36], [200, 17, 64], [33, 1, 200], [129, 131, 20]],
  },
  {
    tile: { family: 'k8dot', tm: 8, tn: 16, wgX: 8, wgY: 8 },
    shapes: [[1, 1, 8], [1, 3, 16], [3, 17, 64], [17, 65, 24], [65, 200, 40], [200, 17, 64], [33, 1, 200], [129, 131, 24]],
  },
  // sg (K % 8 == 0): rows past a tm block, columns past a workgroup's 8·3 and one lane's 3.
  {
    tile: { family: 'sg', tm: 4, tn: 3, wgX: 8, wgY: 1 },
    shapes: [[1, 1, 8], [3, 17, 64], [65, 200, 40], [9, 131, 24]],
  },
  // sg4 (4 lanes, two loads per row and step; runs on both CPU drivers): past a workgroup's 4·3 columns.
  {
    tile: { family: 'sg4', tm: 4, tn: 3, wgX: 4, wgY: 1 },
    shapes: [[1, 1, 8], [3, 17, 64], [65, 200, 40], [9, 131, 24]],
  },
];
for (const { tile, shapes } of FAMILY_TILES) {
  for (const dtype of WEIGHT_DTYPES) {
    for (const [M, N, K] of shapes) {
      for (const epilogue of ['none', 'relu', 'add'] as Epilogue[]) {
        test(`${matmulVariantName(dtype, epilogue, tile)} M=${M} N=${N} K=${K}`, () => check(matmulVariantName(dtype, epilogue, tile), M, N, K, dtype, epilogue, tile));
      }
    }
  }
}

// The gated feed-forward's epilogue (T5 v1.1 / Ankh): y = gelu_tanh(y) · x·Wᵀ, y holding the
// gate. The default family with every dtype on a small and an odd shape, each other family once
// (f16; the epilogue is one store() branch every family shares, and each variant costs a
// compile); gates spread over ±24 reach the clamped tanh tails.
const GATE_RUNS: Array<[MatmulTile | undefined, TensorDType, [number, number, number]]> = [
  ...WEIGHT_DTYPES.flatMap((d) => [[undefined, d, [3, 17, 64]], [undefined, d, [65, 33, 40]]] as Array<[undefined, TensorDType, [number, number, number]]>),
  ...FAMILY_TILES.map((f) => [f.tile, 'f16', [33, 65, 40]] as [MatmulTile, TensorDType, [number, number, number]]),
  [{ family: 'k1', tm: 4, tn: 4, wgX: 8, wgY: 8 }, 'bf16', [17, 9, 33]],
];
for (const [tile, dtype, [M, N, K]] of GATE_RUNS) {
  const name = tile ? matmulVariantName(dtype, 'gate_gelu', tile) : `matmul ${dtype} gate_gelu`;
  test(`${name} M=${M} N=${N} K=${K}`, async () => {
    const rt = await runtime();
    if (!runs(rt, tile)) return;
    const xv = randomArray(M * K, seed++);
    const w = asWeights(randomArray(N * K, seed++), dtype);
    const g = randomArray(M * N, seed++).map((v) => v * 24);
    const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], dtype, 'w'), y = rt.upload(g, [M, N], 'f32', 'y');
    try {
      await matmul(rt, { x, w: wt, y, epilogue: 'gate_gelu', tile });
      worst = Math.max(worst, expectClose(name, await rt.read(y), matmulRef(xv, w.values, M, N, K, 'gate_gelu', g), TOL));
    } finally {
      for (const t of [x, wt, y]) t.release();
    }
  });
}

// The bias epilogues (BERT, ESM: bias; bias + erf GELU; bias + residual) on every family, odd
// shapes, the weight dtypes in turn (the bias is f32 whatever the weights). The erf in WGSL is
// Abramowitz-Stegun 7.1.26 (|error| ≤ 1.5e-7): far inside TOL.
{
  const tiles: Array<MatmulTile | undefined> = [undefined, ...FAMILY_TILES.map((f) => f.tile)];
  const shapes: Array<[number, number, number]> = [[1, 1, 8], [3, 17, 64], [17, 65, 40], [65, 33, 24]];
  let i = 0;
  for (const tile of tiles) {
    for (const [M, N, K] of shapes) {
      for (const epilogue of ['bias', 'bias_gelu', 'bias_add'] as Epilogue[]) {
        const dtype = WEIGHT_DTYPES[i++ % WEIGHT_DTYPES.length];
        test(`bias epilogue ${tile?.family ?? 'default'} ${dtype} M=${M} N=${N} K=${K} ${epilogue}`, () => check(`matmul ${epilogue}`, M, N, K, dtype, epilogue, tile));
      }
    }
  }
}

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, re, `"${(e as Error).message}" should match ${re}`);
    return;
  }
  assert.unreachable(`should throw ${re}`);
}

test('a bias epilogue without a bias, or a bias given to another epilogue, is refused', async () => {
  const rt = await runtime();
  const x = rt.empty([4, 8], 'f32', 'x'), w = rt.empty([3, 8], 'f16', 'w'), y = rt.empty([4, 3], 'f32', 'y'), b = rt.empty([3], 'f32', 'b'), b4 = rt.empty([4], 'f32', 'b4');
  await rejects(() => matmul(rt, { x, w, y, epilogue: 'bias_gelu' }), /bias_gelu needs a bias \[3\]/);
  await rejects(() => matmul(rt, { x, w, y, epilogue: 'relu', bias: b }), /relu takes no bias/);
  await rejects(() => matmul(rt, { x, w, y, epilogue: 'bias', bias: b4 }), /bias must be \[3\]/);
  for (const t of [x, w, y, b, b4]) t.release();
});

test('erf reference: known values to 1e-13', () => {
  const known: Array<[number, number]> = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [2.9, 0.9999589021219005], [3.5, 0.9999992569016276], [-1.3, -0.9340079449406524], [6, 1]];
  for (const [x, want] of known) assert.ok(Math.abs(erfRef(x) - want) < 1e-13, `erf(${x}) = ${erfRef(x)}, want ${want}`);
});

const TILES: MatmulTile[] = [
  { family: 'k1', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k1', tm: 2, tn: 8, wgX: 4, wgY: 8 },
  { family: 'k1', tm: 8, tn: 4, wgX: 8, wgY: 2 },
  { family: 'k4', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k4', tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { family: 'k4', tm: 4, tn: 16, wgX: 4, wgY: 4 },
  { family: 'k4dot', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k4dot', tm: 16, tn: 8, wgX: 4, wgY: 8 },
  { family: 'k8dot', tm: 1, tn: 1, wgX: 16, wgY: 4 },
  { family: 'k8dot', tm: 3, tn: 5, wgX: 4, wgY: 8 },
  { family: 'smem', tm: 1, tn: 1, wgX: 8, wgY: 8, kt: 4 },
  { family: 'smem', tm: 8, tn: 4, wgX: 4, wgY: 8, kt: 32 },
  { family: 'sg', tm: 3, tn: 5, wgX: 16, wgY: 1 },
  { family: 'sg4', tm: 3, tn: 5, wgX: 8, wgY: 1 },
];
for (const tile of TILES) {
  // K = 40 so that the k4 and k8 families run (41 would fall back to k1, 36 k8dot to k4dot).
  test(`matmul tile ${JSON.stringify(tile)} on 37×53×40 bf16`, async () => {
    const rt = await runtime();
    if (!runs(rt, tile)) return;
    const [M, N, K] = [37, 53, 40];
    const xv = randomArray(M * K, 900), w = asWeights(randomArray(N * K, 901), 'bf16');
    const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(w.bytes, [N, K], 'bf16', 'w'), y = rt.empty([M, N], 'f32', 'y');
    await matmul(rt, { x, w: wt, y, epilogue: 'relu', tile });
    worst = Math.max(worst, expectClose('matmul tile', await rt.read(y), matmulRef(xv, w.values, M, N, K, 'relu'), TOL));
    for (const t of [x, wt, y]) t.release();
  });
}

// What the autotuner may pick, in the dtype the model runs (f16) on a shape no tile divides
// (K % 8 == 0 so that k8dot runs as itself), on each adapter the candidates its tuner times
// (llvmpipe leaves out the 32×16 dot tiles, which take over a minute each to compile there;
// their families run above in small tiles, and the tiles themselves on SwiftShader).
for (const tile of MATMUL_CANDIDATES) {
  test(`autotune candidate ${matmulVariantName('f16', 'add', tile)} on 45×70×136 where this adapter tunes it`, async () => {
    const rt = await runtime();
    if (!matmulCandidatesFor(rt.adapter.kind).includes(tile)) return;
    await check('candidate', 45, 70, 136, 'f16', 'add', tile);
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

// A batch (workgroup z): problem z reads x rows from xRowStart + z·xRows, W rows from
// wRowStart + z·wRows, and writes y rows from yRowStart + z·yRows; the strides leave gaps that
// must stay untouched. A small tile of each family (LLVM compiles the large dot tiles for a
// minute each), f32 W (attention's gemm family) and f16.
const BATCH_TILES: MatmulTile[] = [
  { family: 'k1', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  LLVMPIPE_FALLBACK_TILE,
  { family: 'k4dot', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'k8dot', tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { family: 'smem', tm: 4, tn: 4, wgX: 16, wgY: 16, kt: 16 },
  LLVMPIPE_MATMUL_TILE,
  LLVMPIPE_SG4_TILE,
];
for (const tile of BATCH_TILES) {
  for (const dtype of ['f32', 'f16'] as TensorDType[]) {
    test(`batched ${matmulVariantName(dtype, 'add', tile)}: 3 problems of 13×11×24 at strides with gaps`, async () => {
      const rt = await runtime();
      if (!runs(rt, tile)) return;
      const [M, N, K, count] = [13, 11, 24, 3];
      const xs = { start: 2, stride: 15 }, ws = { start: 1, stride: 12 }, ys = { start: 3, stride: 14 };
      const xRows = xs.start + count * xs.stride, wRows = ws.start + count * ws.stride, yRows = ys.start + count * ys.stride;
      const xv = randomArray(xRows * K, seed++), w = asWeights(randomArray(wRows * K, seed++), dtype), y0 = randomArray(yRows * N, seed++);
      const x = rt.upload(xv, [xRows, K], 'f32', 'x'), wt = rt.upload(w.bytes, [wRows, K], dtype, 'w'), y = rt.upload(y0, [yRows, N], 'f32', 'y');
      try {
        await matmul(rt, { x, xRowStart: xs.start, rows: M, w: wt, wRowStart: ws.start, wRows: N, y, yRowStart: ys.start, epilogue: 'add', batch: { count, xRows: xs.stride, wRows: ws.stride, yRows: ys.stride }, tile });
        const got = await rt.read(y);
        const want = Float64Array.from(y0);
        for (let z = 0; z < count; z++) {
          const xz = xv.subarray((xs.start + z * xs.stride) * K, (xs.start + z * xs.stride + M) * K);
          const wz = w.values.subarray((ws.start + z * ws.stride) * K, (ws.start + z * ws.stride + N) * K);
          const at = (ys.start + z * ys.stride) * N;
          want.set(matmulRef(xz, wz, M, N, K, 'add', y0.subarray(at, at + M * N)), at);
        }
        // Every row of y, the gaps included (they must keep y0 exactly; the reference copies it).
        worst = Math.max(worst, expectClose('batched', got, want, TOL));
        for (let r = 0; r < yRows; r++) {
          const inProblem = r >= ys.start && (r - ys.start) % ys.stride < M && r < ys.start + count * ys.stride;
          if (!inProblem) for (let n = 0; n < N; n++) assert.is(got[r * N + n], y0[r * N + n], `y row ${r} is between problems and must be untouched`);
        }
      } finally {
        for (const t of [x, wt, y]) t.release();
      }
    });
  }
}

test('a batch whose last problem runs past x, W or y is refused, naming it', async () => {
  const rt = await runtime();
  const x = rt.empty([20, 8], 'f32', 'x'), w = rt.empty([10, 8], 'f32', 'w'), y = rt.empty([20, 4], 'f32', 'y');
  try {
    await matmul(rt, { x, rows: 5, w, wRows: 4, y, batch: { count: 4, xRows: 5, wRows: 2, yRows: 5 } });
    for (const [batch, what] of [
      [{ count: 5, xRows: 5, wRows: 1, yRows: 1 }, /problem 4 of the batch \(x row 20/],
      [{ count: 2, xRows: 1, wRows: 7, yRows: 1 }, /W rows \[7, \+4\) out of range/],
      [{ count: 3, xRows: 1, wRows: 1, yRows: 8 }, /y row 16/],
      [{ count: 0, xRows: 1, wRows: 1, yRows: 1 }, /a batch of 0 problems/],
      [{ count: 2, xRows: -1, wRows: 1, yRows: 1 }, /whole rows >= 0, got -1/],
    ] as const) {
      try {
        await matmul(rt, { x, rows: 5, w, wRows: 4, y, batch });
        assert.unreachable(`batch ${JSON.stringify(batch)} should be refused`);
      } catch (e) {
        assert.match((e as Error).message, what);
      }
    }
  } finally {
    for (const t of [x, w, y]) t.release();
  }
});

// The vector families unpack f16 four at a time (load_w4): ±0, subnormals (|w| < 2^-14, normal
// numbers once in f32), the largest finite value, Inf and NaN must come through in every lane.
test('f16 specials through the vector families: ±0, subnormals, max, Inf, NaN', async () => {
  const rt = await runtime();
  const halves = [0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x3555, 0x7c00, 0xfc00, 0x7e00];
  // K = 8 so that k8dot runs as itself.
  const [M, K] = [3, 8];
  const xv = Float32Array.from([1, -2, 0.5, 3, 0.25, 1, -1, 2, 1e-3, 7, -5, 0.125, 2, -0.5, 1, 1, 3, -3, 0.75, 4, -1, 0.5, 6, -2]);
  const want = (n: number, wv: Float32Array) => Array.from({ length: M }, (_, m) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += xv[m * K + k] * wv[n * K + k];
    return s;
  });
  for (const family of ['k4', 'k4dot', 'k8dot'] as const) {
    // Row n of W holds halves[n .. n+7] (wrapping): every special value in every lane.
    const N = halves.length;
    const bits = new Uint16Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) bits[n * K + k] = halves[(n + k) % N];
    const bytes = new Uint8Array(bits.buffer);
    const wv = toFloat32('F16', bytes);
    const x = rt.upload(xv, [M, K], 'f32', 'x'), wt = rt.upload(bytes, [N, K], 'f16', 'w'), y = rt.empty([M, N], 'f32', 'y');
    await matmul(rt, { x, w: wt, y, tile: { family, tm: 2, tn: 4, wgX: 4, wgY: 4 } });
    const got = await rt.read(y);
    for (let n = 0; n < N; n++) {
      const exp = want(n, wv);
      for (let m = 0; m < M; m++) {
        const g = got[m * N + n], e = exp[m];
        const where = `${family} y[${m}, ${n}] (W row ${Array.from(bits.subarray(n * K, n * K + K), (b) => b.toString(16)).join(' ')})`;
        if (Number.isNaN(e)) assert.ok(Number.isNaN(g), `${where}: got ${g}, want NaN`);
        else if (!Number.isFinite(e)) assert.is(g, e, where);
        else {
          // f32 rounding of the K products and their sum only: ~2^-24 of Σ|x·w| each.
          let mag = 0;
          for (let k = 0; k < K; k++) mag += Math.abs(xv[m * K + k] * wv[n * K + k]);
          assert.ok(Math.abs(g - e) <= 1e-6 * mag, `${where}: got ${g}, want ${e}`);
        }
      }
    }
    for (const t of [x, wt, y]) t.release();
  }
});

test('matmul refuses an smem tile larger than the device\'s workgroup memory, naming it', async () => {
  const rt = await runtime();
  const x = rt.empty([4, 8], 'f32', 'x'), w = rt.empty([3, 8], 'f16', 'w'), y = rt.empty([4, 3], 'f32', 'y');
  const tile: MatmulTile = { family: 'smem', tm: 8, tn: 8, wgX: 16, wgY: 16, kt: 64 };
  try {
    await matmul(rt, { x, w, y, tile });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /matmul: variant matmul\(.*family=smem.*kt=64.*\) needs 65536 bytes of workgroup memory; the device has \d+/);
  }
  for (const t of [x, w, y]) t.release();
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

test('K % 8 != 0 sends k8dot to k4dot; an odd K sends k4 and k4dot tiles to k1 (k4dot capped at 8×8), smem and k1 stay', () => {
  const wg = { wgX: 4, wgY: 4 };
  assert.equal(matmulTileFor(36, { family: 'k8dot', tm: 32, tn: 16, ...wg }), { family: 'k4dot', tm: 32, tn: 16, ...wg });
  assert.equal(matmulTileFor(30, { family: 'k8dot', tm: 32, tn: 16, ...wg }), { family: 'k1', tm: 8, tn: 8, ...wg });
  assert.equal(matmulTileFor(40, { family: 'k8dot', tm: 32, tn: 16, ...wg }), { family: 'k8dot', tm: 32, tn: 16, ...wg });
  assert.equal(matmulTileFor(30, { family: 'k4dot', tm: 32, tn: 16, ...wg }), { family: 'k1', tm: 8, tn: 8, ...wg });
  assert.equal(matmulTileFor(30, { family: 'k4', tm: 16, tn: 8, ...wg }), { family: 'k1', tm: 16, tn: 8, ...wg });
  assert.equal(matmulTileFor(28, { family: 'k4dot', tm: 32, tn: 16, ...wg }), { family: 'k4dot', tm: 32, tn: 16, ...wg });
  const smem: MatmulTile = { family: 'smem', tm: 4, tn: 4, ...wg, kt: 8 };
  assert.is(matmulTileFor(29, smem), smem);
});

test('sg: K % 8 != 0 runs k4 4×4 (k1 for an odd K); it needs subgroups of 8, and the untuned llvmpipe tile falls back to sg4 with 4, k4 4×4 without', () => {
  const sg: MatmulTile = { family: 'sg', tm: 8, tn: 2, wgX: 64, wgY: 1 };
  assert.is(matmulTileFor(40, sg), sg);
  assert.equal(matmulTileFor(36, sg), LLVMPIPE_FALLBACK_TILE);
  assert.equal(matmulTileFor(35, sg), { ...LLVMPIPE_FALLBACK_TILE, family: 'k1' });
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64 };
  const caps = (features: string[], subgroupMinSize?: number) => ({ limits, adapter: { kind: 'llvmpipe' as const, features, subgroupMinSize } });
  assert.is(unmet(matmulRequires(sg), caps(['subgroups'], 8)), null);
  assert.match(unmet(matmulRequires(sg), caps(['subgroups'], 4)) ?? '', /subgroups of at least 8 lanes; the device's smallest is 4/);
  assert.match(unmet(matmulRequires(sg), caps([], 8)) ?? '', /subgroups/);
  assert.equal(defaultMatmulTileOn(caps(['subgroups'], 8) as unknown as Runtime), LLVMPIPE_MATMUL_TILE);
  assert.equal(defaultMatmulTileOn(caps(['subgroups'], 4) as unknown as Runtime), LLVMPIPE_SG4_TILE);
  assert.equal(defaultMatmulTileOn(caps(['subgroups'], 2) as unknown as Runtime), LLVMPIPE_FALLBACK_TILE);
  assert.equal(defaultMatmulTileOn(caps([], 8) as unknown as Runtime), LLVMPIPE_FALLBACK_TILE);
  // SwiftShader: sg4 16×8 with subgroups of 4, k4 8×8 without; a GPU: k4 8×8.
  const on = (kind: string, features: string[], subgroupMinSize?: number) => defaultMatmulTileOn({ limits, adapter: { kind, features, subgroupMinSize } } as unknown as Runtime);
  assert.equal(on('swiftshader', ['subgroups'], 4), SWIFTSHADER_MATMUL_TILE);
  assert.equal(on('swiftshader', []), DEFAULT_MATMUL_TILE);
  assert.equal(on('hardware', ['subgroups'], 32), DEFAULT_MATMUL_TILE);
  assert.throws(() => matmulWgsl({ ...sg, wgY: 2 }), /wgY 1/);
  assert.throws(() => matmulWgsl({ ...sg, wgX: 12 }), /wgX a multiple of its 8 lanes, got wgX 12/);
});

test('sg4: K % 8 != 0 runs k4dot with its geometry (k1 for an odd K); it needs subgroups of 4 and wgX a multiple of 4', () => {
  const sg4: MatmulTile = { family: 'sg4', tm: 32, tn: 16, wgX: 8, wgY: 1 };
  assert.is(matmulTileFor(40, sg4), sg4);
  assert.equal(matmulTileFor(36, sg4), { ...sg4, family: 'k4dot' });
  assert.equal(matmulTileFor(35, sg4), { ...sg4, family: 'k1', tm: 8, tn: 8 });
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64 };
  const caps = (features: string[], subgroupMinSize?: number) => ({ limits, adapter: { kind: 'swiftshader' as const, features, subgroupMinSize } });
  assert.is(unmet(matmulRequires(sg4), caps(['subgroups'], 4)), null);
  assert.match(unmet(matmulRequires(sg4), caps(['subgroups'], 2)) ?? '', /subgroups of at least 4 lanes; the device's smallest is 2/);
  assert.match(unmet(matmulRequires(sg4), caps([], 4)) ?? '', /subgroups/);
  assert.throws(() => matmulWgsl({ ...sg4, wgX: 6 }), /wgX a multiple of its 4 lanes, got wgX 6/);
  assert.throws(() => matmulWgsl({ ...sg4, wgY: 2 }), /sg4 family runs one row of invocations/);
  // The two forms differ only in where a row's k0 + 4..7 come from: the same load (8 lanes) or a second one (4).
  const body = (t: MatmulTile) => matmulWgsl(t).replace(/\/\/.*$/gm, '');
  assert.match(body(sg4), /let xh0 = x\[xr0 \+ k \+ 4u\];/);
  assert.match(body(sg4), /subgroupBroadcast\(xh0, 0u \+ 3u\)/);
  assert.match(body({ ...sg4, family: 'sg' }), /let xh0 = xv0;/);
  assert.match(body({ ...sg4, family: 'sg' }), /subgroupBroadcast\(xh0, 4u \+ 3u\)/);
});

test('generated smem WGSL: tile sizes filled in, name built from them', () => {
  const tile: MatmulTile = { family: 'smem', tm: 2, tn: 3, wgX: 8, wgY: 4, kt: 16 };
  const src = matmulWgsl(tile).replace(/\/\/.*$/gm, '');
  assert.not.match(src, /\{\{|\{i\}|\{j\}|\/\/@for/);
  assert.ok(src.includes('const KT = 16u;'));
  assert.ok(src.includes('acc1_2 = fma(a1, b2, acc1_2)'));
  assert.is(matmulVariantName('bf16', 'relu', tile), 'matmul(epilogue=relu,family=smem,kt=16,tm=2,tn=3,wDtype=bf16,wgX=8,wgY=4)');
  assert.throws(() => matmulWgsl({ ...tile, kt: undefined }), /kt/);
});

test('variant names: every field of the variant, kt only where the family reads it', () => {
  const base: MatmulTile = { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 };
  assert.is(matmulVariantName('f16', 'none', base), 'matmul(epilogue=none,family=k4,tm=4,tn=4,wDtype=f16,wgX=8,wgY=8)');
  // kt means nothing to k4: the same variant, the same name.
  assert.is(matmulVariantName('f16', 'none', { ...base, kt: 32 }), matmulVariantName('f16', 'none', base));
  const names = new Set([
    matmulVariantName('f16', 'none', base), matmulVariantName('f32', 'none', base), matmulVariantName('f16', 'add', base),
    matmulVariantName('f16', 'none', { ...base, family: 'k4dot' }), matmulVariantName('f16', 'none', { ...base, tm: 8 }),
    matmulVariantName('f16', 'none', { ...base, tn: 8 }), matmulVariantName('f16', 'none', { ...base, wgX: 4 }),
    matmulVariantName('f16', 'none', { ...base, wgY: 4 }),
  ]);
  assert.is(names.size, 8, 'a change in any field changes the name');
});

test('epilogue and weight dtype codes are declared in the WGSL from the TS tables, and compared by name', () => {
  for (const family of ['k1', 'k4', 'k4dot', 'k8dot', 'smem', 'sg', 'sg4'] as const) {
    const src = matmulWgsl({ family, tm: 2, tn: 2, wgX: 8, wgY: family.startsWith('sg') ? 1 : 8, kt: 8 });
    for (const [e, code] of Object.entries(EPILOGUE_CODE)) assert.ok(src.includes(`const EPILOGUE_${e.toUpperCase()} = ${code}u;`), `${family}: EPILOGUE_${e}`);
    for (const [d, code] of Object.entries(W_DTYPE_CODE)) assert.ok(src.includes(`const W_${d.toUpperCase()} = ${code}u;`), `${family}: W_${d}`);
    const body = src.replace(/\/\/.*$/gm, '');
    assert.not.match(body, /(EPILOGUE|W_DTYPE)\s*==\s*\d/, `${family} compares a code literal`);
    assert.match(body, /EPILOGUE == EPILOGUE_RELU/);
    assert.match(body, /W_DTYPE == W_F16/);
  }
});

test.after(() => console.log(`matmul worst relative error: ${worst.toExponential(2)}`));
test.run();
