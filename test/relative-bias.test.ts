// T5's bidirectional relative-position buckets against a line-by-line port of transformers'
// T5Attention._relative_position_bucket, hand-checked values, the saturation the attention
// kernel relies on (bucket constant beyond ±max_distance), and the [H, 2R+1] bias table layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relativeBiasTable, relativePositionBucket } from '../src/models/t5/relative-bias.js';
import { parseT5Config } from '../src/models/t5/config.js';
import { ConfigError } from '../src/errors.js';
import { rng } from './helpers.js';

/**
 * transformers' T5Attention._relative_position_bucket(relative_position, bidirectional=True,
 * num_buckets, max_distance), statement by statement. torch does the large branch on a float32
 * tensor: every intermediate is rounded to float32 (Math.fround); math.log(...) is a Python
 * float used as a float32 scalar; .to(torch.long) truncates toward zero.
 */
function hfBucket(relativePosition: number, numBuckets: number, maxDistance: number): number {
  const f32 = Math.fround;
  let relativeBuckets = 0;
  // if bidirectional:
  numBuckets = Math.floor(numBuckets / 2); //   num_buckets //= 2
  relativeBuckets += (relativePosition > 0 ? 1 : 0) * numBuckets; //   (relative_position > 0).to(long) * num_buckets
  relativePosition = Math.abs(relativePosition); //   torch.abs(relative_position)
  const maxExact = Math.floor(numBuckets / 2); // max_exact = num_buckets // 2
  const isSmall = relativePosition < maxExact;
  const quotient = f32(f32(relativePosition) / maxExact); // relative_position.float() / max_exact
  const logged = f32(Math.log(quotient)); // torch.log
  const scale = f32(Math.log(maxDistance / maxExact)); // math.log(max_distance / max_exact)
  const scaled = f32(f32(logged / scale) * (numBuckets - maxExact)); // ... * (num_buckets - max_exact)
  let relativePositionIfLarge = maxExact + Math.trunc(scaled); // max_exact + (...).to(torch.long)
  relativePositionIfLarge = Math.min(relativePositionIfLarge, numBuckets - 1); // torch.min(..., num_buckets - 1)
  relativeBuckets += isSmall ? relativePosition : relativePositionIfLarge; // torch.where(is_small, ...)
  return relativeBuckets;
}

/** The same formula in float64: agrees with the float32 one wherever no value sits on an integer. */
function float64Bucket(rel: number, numBuckets: number, maxDistance: number): number {
  const half = Math.floor(numBuckets / 2), maxExact = Math.floor(half / 2), n = Math.abs(rel);
  const base = rel > 0 ? half : 0;
  if (n < maxExact) return base + n;
  return base + Math.min(maxExact + Math.trunc((Math.log(n / maxExact) / Math.log(maxDistance / maxExact)) * (half - maxExact)), half - 1);
}

// (num_buckets, max_distance): ProtT5's, others of transformers' models, and odd small ones.
const CONFIGS: Array<[number, number]> = [
  [32, 128], [32, 100], [32, 9], [64, 256], [16, 64], [8, 20], [10, 37], [6, 9], [4, 2], [128, 1000], [48, 500], [34, 131],
];

test('hand-checked values for num_buckets 32, max_distance 128', () => {
  const known: Array<[number, number]> = [
    [0, 0], [-1, 1], [1, 17], [-7, 7], [7, 23], [-8, 8], [8, 24],
    [-127, 15], [-128, 15], [-5000, 15], [127, 31], [128, 31], [5000, 31],
  ];
  for (const [rel, want] of known) assert.is(relativePositionBucket(rel, 32, 128), want, `rel ${rel}`);
  // The log-spaced buckets of |rel| ≥ 8: 8 + trunc(log(n/8) / log(16) * 8), edges at 8·2^(k/2).
  const ranges: Array<[number, number, number]> = [
    [8, 11, 8], [12, 15, 9], [16, 22, 10], [23, 31, 11], [32, 45, 12], [46, 63, 13], [64, 90, 14], [91, 20000, 15],
  ];
  for (const [lo, hi, b] of ranges) {
    for (let n = lo; n <= hi; n++) {
      assert.is(relativePositionBucket(-n, 32, 128), b, `rel -${n}`);
      assert.is(relativePositionBucket(n, 32, 128), b + 16, `rel ${n}`);
    }
  }
  for (let n = 0; n < 8; n++) {
    assert.is(relativePositionBucket(-n, 32, 128), n, `exact rel -${n}`);
    if (n > 0) assert.is(relativePositionBucket(n, 32, 128), 16 + n, `exact rel ${n}`);
  }
});

test('equals transformers’ _relative_position_bucket for every |rel| ≤ 20000 in several configs', () => {
  for (const [nb, md] of CONFIGS) {
    for (let rel = -20000; rel <= 20000; rel++) {
      const got = relativePositionBucket(rel, nb, md), want = hfBucket(rel, nb, md);
      if (got !== want) assert.unreachable(`num_buckets ${nb}, max_distance ${md}, rel ${rel}: got ${got}, transformers ${want}`);
    }
  }
});

test('float32 matters only on exact edges: float64 agrees for ProtT5 and differs where it should', () => {
  for (let rel = -20000; rel <= 20000; rel++) {
    if (float64Bucket(rel, 32, 128) !== relativePositionBucket(rel, 32, 128)) assert.unreachable(`rel ${rel}`);
  }
  // num_buckets 6, max_distance 9: log(3)/log(9)·2 is exactly 1; float64 lands just below.
  assert.is(float64Bucket(3, 6, 9), 4);
  assert.is(hfBucket(3, 6, 9), 5);
  assert.is(relativePositionBucket(3, 6, 9), 5);
  assert.is(relativePositionBucket(-3, 6, 9), 2);
});

test('range and monotonicity: rel ≤ 0 in [0, nb/2), rel > 0 in [nb/2, nb), non-decreasing in |rel|', () => {
  for (const [nb, md] of CONFIGS) {
    const half = nb / 2;
    let prevNeg = -1, prevPos = -1;
    for (let n = 0; n <= 5000; n++) {
      const neg = relativePositionBucket(-n, nb, md);
      assert.ok(Number.isInteger(neg) && neg >= 0 && neg < half, `(${nb}, ${md}) rel -${n} → ${neg}`);
      assert.ok(neg >= prevNeg, `(${nb}, ${md}) decreasing at -${n}`);
      prevNeg = neg;
      if (n === 0) continue;
      const pos = relativePositionBucket(n, nb, md);
      assert.ok(Number.isInteger(pos) && pos >= half && pos < nb, `(${nb}, ${md}) rel ${n} → ${pos}`);
      assert.ok(pos >= prevPos, `(${nb}, ${md}) decreasing at ${n}`);
      assert.is(pos - half, neg, `(${nb}, ${md}) sides differ at ${n}`);
      prevPos = pos;
    }
    // Every bucket is used but nb/2 (rel 0 takes bucket 0, as in transformers): with room
    // enough for the log-spaced ones, a bias row that could never be read is a mapping bug.
    const used = new Set<number>();
    for (let rel = -md - 1; rel <= md + 1; rel++) used.add(relativePositionBucket(rel, nb, md));
    assert.not.ok(used.has(half), `(${nb}, ${md}) bucket nb/2 is used`);
    if (md >= 2 * nb) assert.is(used.size, nb - 1, `(${nb}, ${md}) uses ${used.size} buckets`);
  }
});

test('saturation the attention kernel relies on: for |rel| ≥ max_distance the bucket is that of ±max_distance', () => {
  for (const [nb, md] of CONFIGS) {
    const atNeg = relativePositionBucket(-md, nb, md), atPos = relativePositionBucket(md, nb, md);
    assert.is(atNeg, nb / 2 - 1, `(${nb}, ${md}) -max_distance is the last negative bucket`);
    assert.is(atPos, nb - 1, `(${nb}, ${md}) +max_distance is the last bucket`);
    for (let n = md; n <= 20000; n++) {
      if (relativePositionBucket(-n, nb, md) !== atNeg || hfBucket(-n, nb, md) !== atNeg) assert.unreachable(`(${nb}, ${md}) rel -${n}`);
      if (relativePositionBucket(n, nb, md) !== atPos || hfBucket(n, nb, md) !== atPos) assert.unreachable(`(${nb}, ${md}) rel ${n}`);
    }
  }
});

test('saturation holds for every bucket configuration parseT5Config accepts (num_buckets ≤ 64, max_distance ≤ 300)', () => {
  let checked = 0;
  for (let nb = 2; nb <= 64; nb += 2) {
    for (let md = 2; md <= 300; md++) {
      let accepted = true;
      try {
        parseT5Config({ d_model: 8, d_ff: 8, d_kv: 4, num_heads: 2, num_layers: 1, vocab_size: 128, relative_attention_num_buckets: nb, relative_attention_max_distance: md });
      } catch (e) {
        assert.instance(e, ConfigError);
        accepted = false;
      }
      if (!accepted) continue;
      checked++;
      for (const sign of [-1, 1]) {
        const at = relativePositionBucket(sign * md, nb, md);
        assert.ok(Number.isInteger(at), `(${nb}, ${md}) bucket at ${sign * md} is ${at}`);
        for (const n of [md + 1, md + 2, md + 3, 2 * md, 3 * md + 1, 1000, 4097, 20000]) {
          if (n < md) continue;
          const b = relativePositionBucket(sign * n, nb, md);
          if (b !== at) assert.unreachable(`(${nb}, ${md}) rel ${sign * n}: bucket ${b}, at ±max_distance ${at}`);
        }
      }
    }
  }
  assert.ok(checked > 8000, `${checked} configurations checked`);
});

/** Reads the table as the kernel does: rel clamped into [−R, R]. */
function kernelBias(table: Float32Array, h: number, rel: number, R: number): number {
  return table[h * (2 * R + 1) + Math.min(Math.max(rel, -R), R) + R];
}

test('relativeBiasTable: [H, 2R+1] layout, table[h·(2R+1) + rel + R] = weight[bucket·H + h]', () => {
  for (const [nb, H, md] of [[32, 4, 128], [8, 3, 10], [32, 32, 128], [6, 1, 9]] as Array<[number, number, number]>) {
    // weight [num_buckets, H] with values that encode (bucket, head), so a swap shows.
    const weight = new Float32Array(nb * H);
    for (let b = 0; b < nb; b++) for (let h = 0; h < H; h++) weight[b * H + h] = b * 1000 + h + 0.5;
    const R = md;
    const table = relativeBiasTable(weight, nb, H, md);
    assert.instance(table, Float32Array);
    assert.is(table.length, H * (2 * R + 1), `(${nb}, ${H}, ${md}) length`);
    for (let h = 0; h < H; h++) {
      for (let rel = -R; rel <= R; rel++) {
        const want = weight[hfBucket(rel, nb, md) * H + h];
        assert.is(table[h * (2 * R + 1) + rel + R], want, `(${nb}, ${H}, ${md}) h ${h} rel ${rel}`);
      }
      // The kernel's clamped read gives transformers' bias for any distance.
      for (let rel = -20000; rel <= 20000; rel += rel > -3 * R && rel < 3 * R ? 1 : 97) {
        const got = kernelBias(table, h, rel, R), want = weight[hfBucket(rel, nb, md) * H + h];
        if (got !== want) assert.unreachable(`(${nb}, ${H}, ${md}) h ${h} rel ${rel}: table ${got}, transformers ${want}`);
      }
    }
  }
});

test('relativeBiasTable with random weights: values copied exactly (no rounding, no mixing heads)', () => {
  const nb = 32, H = 4, md = 128, R = md;
  const r = rng(11);
  const weight = new Float32Array(nb * H).map(() => r() * 2 - 1);
  const table = relativeBiasTable(weight, nb, H, md);
  assert.is(table[0 * (2 * R + 1) + 0 + R], weight[0 * H + 0], 'rel 0 head 0 is bucket 0');
  assert.is(table[3 * (2 * R + 1) + 0 + R], weight[0 * H + 3], 'rel 0 head 3 is bucket 0');
  assert.is(table[2 * (2 * R + 1) + 1 + R], weight[17 * H + 2], 'rel 1 head 2 is bucket 17');
  assert.is(table[1 * (2 * R + 1) - 1 + R], weight[1 * H + 1], 'rel -1 head 1 is bucket 1');
  assert.is(table[1 * (2 * R + 1) + 0], weight[15 * H + 1], 'rel -R head 1 is bucket 15');
  assert.is(table[0 * (2 * R + 1) + 2 * R], weight[31 * H + 0], 'rel R head 0 is bucket 31');
  for (let i = 0; i < table.length; i++) assert.ok(weight.includes(table[i]), `table[${i}] is not a weight`);
});

test.run();
