// Fused attention against the float64 reference: batches with padding, odd lengths, several
// head sizes and tile shapes, relative positions beyond max_distance, XLNet's position term, and
// 4,096-token sequences (T5's mode, XLNet's) that must not allocate anything of L×L size.
// test-on: every-cpu-adapter
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attention, attentionRequires, attentionTileFor, type AttentionTile } from '../kernels/attention.js';
import { gemmChunks } from '../kernels/attention-gemm.js';
import { matmulRequires, type MatmulTile } from '../kernels/matmul.js';
import { unmet } from '../src/gpu/requires.js';
import { attentionRef, attentionXLNetRef } from '../kernels/attention.ref.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { expectClose, randomArray, rng } from './helpers.js';
import { runtime } from './gpu.js';

// Scores are f32 dot products of DK ≤ 128 terms, softmax in f32 with an online max; against
// float64 the outputs agree to ~1e-6 relative. 2e-5 catches any masking/bias/index error.
const TOL = 2e-5;
let worst = 0;

/** BERT/ESM mode: no relative bias, q·k scaled by `scaled` (T5 mode when undefined). */
async function check(rt: Runtime, B: number, L: number, H: number, DK: number, R: number, lengths: number[], seed: number, tile?: AttentionTile, rows?: number[], scaled?: number, scratchBytes?: number) {
  const n = B * L * H * DK;
  // Scale 0.5 keeps softmax neither uniform nor one-hot (1.5 with the 1/sqrt(DK) factor).
  const amp = scaled ? 1.5 : 0.5;
  const qv = randomArray(n, seed, amp), kv = randomArray(n, seed + 1, amp), vv = randomArray(n, seed + 2);
  const bv = scaled ? null : randomArray(H * (2 * R + 1), seed + 3, 2);
  const shape = [B, L, H * DK];
  const q = rt.upload(qv, shape, 'f32', 'q'), k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v');
  const bias = bv ? rt.upload(bv, [H, 2 * R + 1], 'f32', 'bias') : undefined, len = rt.upload(Uint32Array.from(lengths), [B], 'u32', 'lengths');
  const out = rt.empty(shape, 'f32', 'out');
  await attention(rt, { q, k, v, bias, lengths: len, out, heads: H, tile, scale: scaled, scratchBytes });
  const got = await rt.read(out);
  const rowList = rows ?? Array.from({ length: L }, (_, i) => i);
  const want = attentionRef(qv, kv, vv, bv, lengths, B, L, H, DK, bv ? R : 0, rowList, scaled ?? 1);
  const HD = H * DK;
  const picked = new Float32Array(want.length);
  for (let b = 0; b < B; b++) {
    rowList.forEach((i, ri) => picked.set(got.subarray((b * L + i) * HD, (b * L + i + 1) * HD), (b * rowList.length + ri) * HD));
  }
  worst = Math.max(worst, expectClose(`attention B=${B} L=${L} H=${H} DK=${DK}${scaled ? ' scaled, no bias' : ''}`, picked, want, TOL));
  for (const t of [q, k, v, len, out, ...(bias ? [bias] : [])]) t.release();
}

const CASES: Array<[number, number, number, number, number]> = [
  // B, L, H, DK, R
  [1, 1, 1, 32, 8],
  [1, 3, 2, 32, 8],
  [2, 17, 4, 32, 8],
  [3, 65, 2, 64, 16],
  [2, 200, 3, 32, 128],
  [1, 33, 1, 128, 128],
  [2, 40, 2, 17, 4],
];
let seed = 10;
for (const [B, L, H, DK, R] of CASES) {
  test(`attention B=${B} L=${L} H=${H} DK=${DK} R=${R}, padded batch`, async () => {
    const rt = await runtime();
    const r = rng(seed);
    // The first sequence fills L; the others are shorter (their padded keys must be masked).
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    await check(rt, B, L, H, DK, R, lengths, (seed += 10));
  });
}

for (const tile of [
  { family: 'loop', tq: 1, tk: 1 }, { family: 'loop', tq: 16, tk: 5 }, { family: 'loop', tq: 64, tk: 8 },
  { family: 'unrolled', tq: 1, tk: 1 }, { family: 'unrolled', tq: 16, tk: 5 }, { family: 'unrolled', tq: 64, tk: 16 },
] as AttentionTile[]) {
  test(`attention tile ${JSON.stringify(tile)} on B=2 L=70 H=2 DK=32`, async () => {
    await check(await runtime(), 2, 70, 2, 32, 8, [70, 33], 500 + tile.tq, tile);
  });
}

// The flash family: odd L (not a multiple of tq or tk), padded batches, both score modes, every
// head size it runs (16…128) and one it hands to the loop family (d_kv 18, not a multiple of 4).
// One tile per case, so each case compiles one variant (LLVM compiles a flash variant in seconds).
// sg: the subgroup-broadcast width, where the device's subgroups are that wide (llvmpipe 8,
// SwiftShader 4); the case runs without it elsewhere.
for (const [B, L, H, DK, tq, tk, sg, scaled] of [
  [3, 37, 2, 16, 16, 16, 4, false], [2, 70, 2, 32, 32, 8, 8, true], [2, 45, 1, 64, 16, 16, 0, false],
  [2, 51, 2, 128, 32, 16, 4, true], [1, 1, 1, 128, 64, 8, 8, false], [2, 33, 2, 18, 32, 16, 4, false],
] as Array<[number, number, number, number, number, number, number, boolean]>) {
  test(`attention flash tq ${tq} tk ${tk}${sg ? ` sg ${sg}` : ''}, B=${B} L=${L} H=${H} DK=${DK}, ${scaled ? 'scaled, no bias' : 'relative bias'}, padded batch`, async () => {
    const rt = await runtime();
    const tile: AttentionTile = { family: 'flash', tq, tk, ...(sg && unmet({ features: ['subgroups'], subgroupMinSize: sg }, rt) === null ? { sg } : {}) };
    const r = rng(L * 13 + DK);
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    await check(rt, B, L, H, DK, 16, lengths, (seed += 10), tile, undefined, scaled ? 1 / Math.sqrt(DK) : undefined);
  });
}

// The gemm family (S = Q·Kᵀ, softmax, P·V by the matmul kernels): odd L (keys padded to a
// multiple of 8), padded batches, both score modes, head sizes the matmul runs in its vector and
// scalar families (d_kv 18), the device's default matmul tile, k4 4×4 and sg4 (subgroups of 4:
// both CPU drivers), and score buffers capped so small that the query rows split into chunks
// (10 rows) or the (sequence, head) pairs do (2 of the 6 at a time, so one chunk spans both
// sequences).
const bytesPerRow = (L: number) => Math.ceil(L / 8) * 8 * 4;
for (const [B, L, H, DK, scaled, scratch, matmul] of [
  [3, 37, 2, 16, false, 0, undefined], [2, 70, 2, 32, true, 10 * bytesPerRow(70), undefined], [2, 45, 3, 64, false, 2 * 45 * bytesPerRow(45), undefined],
  [1, 1, 1, 128, false, 0, undefined], [2, 33, 2, 18, true, 0, undefined], [2, 51, 2, 128, true, 7 * bytesPerRow(51), { family: 'k4', tm: 4, tn: 4, wgX: 8, wgY: 8 }],
  [2, 45, 2, 64, false, 0, { family: 'sg4', tm: 4, tn: 3, wgX: 4, wgY: 1 }],
  // The tuner's sg 32×8 (llvmpipe on AVX2): more rows per invocation than any query block here.
  [2, 45, 2, 128, false, 0, { family: 'sg', tm: 32, tn: 8, wgX: 16, wgY: 1 }],
] as Array<[number, number, number, number, boolean, number, MatmulTile | undefined]>) {
  test(`attention gemm${matmul ? ` (${matmul.family} ${matmul.tm}×${matmul.tn})` : ''}, B=${B} L=${L} H=${H} DK=${DK}, ${scaled ? 'scaled, no bias' : 'relative bias'}${scratch ? `, scores capped at ${scratch} bytes` : ''}, padded batch`, async () => {
    const rt = await runtime();
    // sg needs subgroups of 8 (SwiftShader's are 4): there the requirement must say so.
    const why = matmul ? unmet(matmulRequires(matmul), rt) : null;
    if (why !== null) return assert.match(why, /subgroups of at least 8/);
    const r = rng(L * 17 + DK);
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    const tile: AttentionTile = { family: 'gemm', tq: 64, tk: 0, ...(matmul ? { matmul } : {}) };
    await check(rt, B, L, H, DK, 16, lengths, (seed += 10), tile, undefined, scaled ? 1 / Math.sqrt(DK) : undefined, scratch || undefined);
  });
}

test('attention gemm: a sequence with no keys (length 0) gives zeros, as the reference does, and leaves the others alone', async () => {
  const rt = await runtime();
  await check(rt, 3, 21, 2, 16, 16, [21, 0, 9], (seed += 10), { family: 'gemm', tq: 64, tk: 0 });
});

test('attention gemm: score chunks hold whole (sequence, head) pairs while they fit, else split query rows; never under one row', () => {
  assert.equal(gemmChunks(45, 3, 2 * 45 * 48 * 4), { rows: 45, pairs: 2 });
  assert.equal(gemmChunks(45, 3, 100 * 45 * 48 * 4), { rows: 45, pairs: 3 });
  assert.equal(gemmChunks(70, 2, 10 * 72 * 4), { rows: 10, pairs: 1 });
  assert.equal(gemmChunks(4096, 32, 32 * 2 ** 20), { rows: 2048, pairs: 1 });
  assert.equal(gemmChunks(100, 2, 1), { rows: 1, pairs: 1 });
  assert.equal(gemmChunks(100000, 1, 2 ** 40, 65535), { rows: 65535, pairs: 1 });
  // Pairs run at workgroup z of the batched matmul: no more per chunk than a dispatch dimension allows.
  assert.equal(gemmChunks(8, 100000, 2 ** 40, 65535), { rows: 8, pairs: 65535 });
});

test('attention flash: d_kv not a multiple of 4 runs as the loop family with the same tq and tk; sg shrinks to what divides d_kv/4', () => {
  assert.equal(attentionTileFor(18, { family: 'flash', tq: 32, tk: 16, sg: 4 }), { family: 'loop', tq: 32, tk: 16 });
  assert.equal(attentionTileFor(64, { family: 'flash', tq: 32, tk: 16 }), { family: 'flash', tq: 32, tk: 16 });
  assert.equal(attentionTileFor(16, { family: 'flash', tq: 32, tk: 16, sg: 8 }), { family: 'flash', tq: 32, tk: 16, sg: 4 });
  assert.equal(attentionTileFor(20, { family: 'flash', tq: 32, tk: 16, sg: 4 }), { family: 'flash', tq: 32, tk: 16 });
});

test('attention flash: a subgroup width the device lacks is refused with the reason', async () => {
  const rt = await runtime();
  const why = unmet(attentionRequires(64, { family: 'flash', tq: 32, tk: 8, sg: 64 }), rt);
  assert.ok(why !== null && /subgroups of at least 64 lanes|subgroups/.test(why), String(why));
});

// BERT / ESM mode: 1/sqrt(d_head) on the scores, no relative bias, padded keys masked; every
// family, odd head sizes (the loop family) and tile shapes.
for (const [B, L, H, DK, tile] of [
  [1, 1, 1, 16, undefined], [3, 37, 4, 16, undefined], [2, 65, 2, 64, { family: 'loop', tq: 16, tk: 5 }],
  [2, 30, 3, 17, undefined], [2, 70, 2, 32, { family: 'unrolled', tq: 16, tk: 5 }], [1, 129, 1, 8, { family: 'loop', tq: 64, tk: 8 }],
] as Array<[number, number, number, number, AttentionTile | undefined]>) {
  test(`attention scaled 1/sqrt(${DK}), no bias, B=${B} L=${L} H=${H} ${tile ? JSON.stringify(tile) : 'default tile'}`, async () => {
    const r = rng(L * 7 + DK);
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    await check(await runtime(), B, L, H, DK, 0, lengths, (seed += 10), tile, undefined, 1 / Math.sqrt(DK));
  });
}

test('attention: the no-bias mode with scale 1/4 equals q/4 unscaled with an all-zero bias table', async () => {
  const rt = await runtime();
  const [L, H, DK] = [23, 2, 16];
  const n = L * H * DK, shape = [1, L, H * DK];
  const qv = randomArray(n, 71, 2), kv = randomArray(n, 72, 2), vv = randomArray(n, 73);
  const q = rt.upload(qv, shape, 'f32', 'q'), q4 = rt.upload(qv.map((x) => x / 4), shape, 'f32', 'q4');
  const k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v'), lens = rt.upload(Uint32Array.of(L), [1], 'u32', 'len');
  const zeros = rt.upload(new Float32Array(H * 3), [H, 3], 'f32', 'zeros');
  const o1 = rt.empty(shape, 'f32', 'o1'), o2 = rt.empty(shape, 'f32', 'o2');
  await attention(rt, { q, k, v, lengths: lens, out: o1, heads: H, scale: 0.25 });
  await attention(rt, { q: q4, k, v, bias: zeros, lengths: lens, out: o2, heads: H });
  worst = Math.max(worst, expectClose('scale 1/4 vs q/4', await rt.read(o1), await rt.read(o2), 1e-6));
  for (const t of [q, q4, k, v, lens, zeros, o1, o2]) t.release();
});

for (const tile of [undefined, { family: 'flash', tq: 32, tk: 8 }, { family: 'gemm', tq: 64, tk: 0 }] as Array<AttentionTile | undefined>) test(`attention: padding does not change a sequence (padded batch equals alone), ${tile ? JSON.stringify(tile) : 'default tile'}`, async () => {
  const rt = await runtime();
  const [L, H, DK, R] = [37, 2, 32, 16];
  const seq = 20;
  const n = L * H * DK;
  const qv = randomArray(n, 1), kv = randomArray(n, 2), vv = randomArray(n, 3), bv = randomArray(H * (2 * R + 1), 4);
  // Garbage in the padded rows (20..36) must not leak into rows < 20.
  const run = async (len: number, Lrun: number) => {
    const sl = (a: Float32Array) => a.slice(0, Lrun * H * DK);
    const shape = [1, Lrun, H * DK];
    const t = [rt.upload(sl(qv), shape, 'f32', 'q'), rt.upload(sl(kv), shape, 'f32', 'k'), rt.upload(sl(vv), shape, 'f32', 'v')];
    const bias = rt.upload(bv, [H, 2 * R + 1], 'f32', 'bias'), lens = rt.upload(Uint32Array.of(len), [1], 'u32', 'len');
    const out = rt.empty(shape, 'f32', 'out');
    await attention(rt, { q: t[0], k: t[1], v: t[2], bias, lengths: lens, out, heads: H, tile });
    const res = (await rt.read(out)).slice(0, seq * H * DK);
    for (const x of [...t, bias, lens, out]) x.release();
    return res;
  };
  const alone = await run(seq, seq), padded = await run(seq, L);
  worst = Math.max(worst, expectClose('padded vs alone', padded, alone, 1e-6));
});

// The fused families hold no L×L matrix; the gemm family's score chunk is capped (a quarter of
// L×L here: 1,024 query rows of one head at a time), and its outputs are the same.
for (const [tile, cap] of [[{ family: 'flash', tq: 32, tk: 16 }, 0], [{ family: 'gemm', tq: 64, tk: 0 }, 4096 * 4096]] as Array<[AttentionTile, number]>) test(`attention on one 4,096-token sequence (2 heads, d_kv 128), ${tile.family}: matches, ${cap ? `scores within ${cap / 2 ** 20} MiB` : 'allocates nothing L×L'}`, async () => {
  const rt = await runtime();
  const L = 4096, H = 2, DK = 128, R = 128;
  const before = rt.pool.allocations.length;
  const r = rng(4096);
  const rows = [0, 1, 2, 127, 128, 129, 1023, 1024, 2047, 2048, 4094, 4095];
  while (rows.length < 40) rows.push(Math.floor(r() * L));
  await check(rt, 1, L, H, DK, R, [L], 4096, tile, rows, undefined, cap || undefined);
  const made = rt.pool.allocations.slice(before);
  assert.ok(made.length > 0, 'the allocation record saw the test buffers');
  const largest = Math.max(...made.map((a) => a.bytes));
  console.log(`  L=${L}: ${made.length} buffers, largest ${(largest / 2 ** 20).toFixed(1)} MiB; an L×L f32 matrix would be ${(L * L * 4) / 2 ** 20} MiB`);
  for (const a of made) assert.ok(a.bytes <= (cap || L * L - 1), `buffer "${a.label}" of ${a.bytes} bytes is over ${cap ? 'the cap' : 'L×L-sized'}`);
  if (cap) assert.ok(made.some((a) => a.label === 'attn_scores' && a.bytes > cap / 2), 'the score chunk was used at the cap');
});

/**
 * XLNet mode: score = scale · ((q + r_w_bias)·k + (q + r_r_bias)·k_r[R + i − j]), k_r with 2R+1
 * rows (R ≥ L − 1), padded keys masked; the rows of `rows` (all if omitted) against the reference.
 */
async function checkXLNet(rt: Runtime, B: number, L: number, H: number, DK: number, R: number, lengths: number[], seed: number, tile?: AttentionTile, rows?: number[]) {
  const HD = H * DK, n = B * L * HD, scale = 1 / Math.sqrt(DK);
  // Amplitudes keep each term O(1) after the scale: the softmax neither uniform nor one-hot.
  const qv = randomArray(n, seed, 1), kv = randomArray(n, seed + 1, 1), vv = randomArray(n, seed + 2);
  const krv = randomArray((2 * R + 1) * HD, seed + 3, 1), bv = randomArray(2 * HD, seed + 4, 0.5);
  const shape = [B, L, HD];
  const q = rt.upload(qv, shape, 'f32', 'q'), k = rt.upload(kv, shape, 'f32', 'k'), v = rt.upload(vv, shape, 'f32', 'v');
  const kr = rt.upload(krv, [2 * R + 1, HD], 'f32', 'k_r'), biases = rt.upload(bv, [2, HD], 'f32', 'r_biases');
  const len = rt.upload(Uint32Array.from(lengths), [B], 'u32', 'lengths');
  const out = rt.empty(shape, 'f32', 'out');
  await attention(rt, { q, k, v, xlnet: { kr, biases }, lengths: len, out, heads: H, scale, tile });
  const got = await rt.read(out);
  const rowList = rows ?? Array.from({ length: L }, (_, i) => i);
  const want = attentionXLNetRef(qv, kv, vv, krv, bv, lengths, B, L, H, DK, R, scale, rowList);
  const picked = new Float32Array(want.length);
  for (let b = 0; b < B; b++) {
    rowList.forEach((i, ri) => picked.set(got.subarray((b * L + i) * HD, (b * L + i + 1) * HD), (b * rowList.length + ri) * HD));
  }
  worst = Math.max(worst, expectClose(`xlnet attention B=${B} L=${L} H=${H} DK=${DK} R=${R}${tile ? ` ${JSON.stringify(tile)}` : ''}`, picked, want, TOL));
  for (const t of [q, k, v, kr, biases, len, out]) t.release();
}

// XLNet mode on every family (the default tile is flash), odd head sizes (the loop family),
// tiles that do not divide L, padded batches and a k_r table wider than 2L − 1.
for (const [B, L, H, DK, extra, tile] of [
  [1, 1, 1, 16, 0, undefined], [3, 37, 2, 16, 0, undefined], [2, 65, 2, 17, 0, undefined],
  [2, 70, 2, 32, 0, { family: 'unrolled', tq: 16, tk: 5 }], [2, 70, 3, 8, 0, { family: 'loop', tq: 16, tk: 5 }], [1, 50, 1, 8, 7, undefined],
  [2, 70, 2, 32, 0, { family: 'flash', tq: 16, tk: 5 }], [2, 45, 2, 64, 3, { family: 'flash', tq: 32, tk: 8, sg: 4 }],
] as Array<[number, number, number, number, number, AttentionTile | undefined]>) {
  test(`attention, XLNet position term, B=${B} L=${L} H=${H} DK=${DK} R=${L - 1 + extra} ${tile ? JSON.stringify(tile) : 'default tile'}`, async () => {
    const r = rng(L * 13 + DK);
    const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? L : 1 + Math.floor(r() * L)));
    await checkXLNet(await runtime(), B, L, H, DK, Math.max(0, L - 1 + extra), lengths, (seed += 10), tile);
  });
}

test('attention, XLNet mode: a k_r table too short for L is refused naming it', async () => {
  const rt = await runtime();
  const shape = [1, 9, 16];
  const t = rt.empty(shape, 'f32', 'q'), kr = rt.empty([15, 16], 'f32', 'k_r'), biases = rt.empty([2, 16], 'f32', 'b'), len = rt.upload(Uint32Array.of(9), [1], 'u32', 'len');
  try {
    await attention(rt, { q: t, k: t, v: t, xlnet: { kr, biases }, lengths: len, out: t, heads: 1 });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /k_r's 15 rows must cover relative positions ±8/);
  } finally {
    for (const x of [t, kr, biases, len]) x.release();
  }
});

test('attention on one 4,096-token sequence with the XLNet position term (2 heads, d_kv 16) matches and allocates nothing L×L', async () => {
  const rt = await runtime();
  const L = 4096, H = 2, DK = 16;
  rt.pool.trim(); // no free buffer left to reuse: every buffer the test uses is allocated, and recorded
  const before = rt.pool.allocations.length;
  const r = rng(4097);
  const rows = [0, 1, 2, 15, 16, 17, 2047, 2048, 4094, 4095];
  while (rows.length < 24) rows.push(Math.floor(r() * L));
  await checkXLNet(rt, 1, L, H, DK, L - 1, [L], 8192, undefined, rows);
  const made = rt.pool.allocations.slice(before);
  assert.ok(made.some((a) => a.label === 'k_r'), 'the allocation record saw k_r');
  const largest = Math.max(...made.map((a) => a.bytes));
  console.log(`  XLNet L=${L}: ${made.length} buffers, largest ${(largest / 2 ** 20).toFixed(1)} MiB; an L×L f32 matrix would be ${(L * L * 4) / 2 ** 20} MiB`);
  for (const a of made) assert.ok(a.bytes < L * L, `buffer "${a.label}" of ${a.bytes} bytes is L×L-sized`);
});

test.after(() => console.log(`attention worst relative error: ${worst.toExponential(2)}`));
test.run();
