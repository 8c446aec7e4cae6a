// The gemm attention family's softmax (kernels/attention-gemm.ts), in place and unnormalised:
// each row of the score buffer s, which the first matmul filled with q_i · k_j, becomes
//   E[i, j] = exp(v_j - max_j v_j),  v_j = scale · s[i, j] + bias[h, clamp(j - i, -R, R) + R]
// for keys j < len and 0 for the masked keys len <= j < Lp (len = lengths[b] of the row's
// sequence b, so padding keys and the padded columns weigh nothing), and inv[g·L + i] =
// 1 / Σ_j E[i, j]: P = E · inv, which the merge copy applies to E · V (attention_heads.wgsl).
// SCORE_BIAS_RELATIVE adds T5's table bias; SCORE_BIAS_NONE adds nothing (BERT, ESM); the
// family does not run SCORE_BIAS_XLNET. One invocation per row, no barriers (on CPU drivers a
// workgroup per row costs more in barriers and dispatch than the row's arithmetic): a pass for
// the max, then one writing E (one exp per score; an online max and sum took two, and a third
// pass writing P one more). Each invocation reads and writes its row four scores at a time
// (vec4): at L 512, 32 heads, that took the softmax from 36 to 22 ms on llvmpipe 25.0.7 and
// from 186 to 92 ms on SwiftShader against one score at a time (fewer loop steps, loads and
// lane-mask blends per score). Lp is a multiple of 8, so every row starts on a vec4. T5's bias
// is one table column for every key more than R before or after the query, so only the 2R + 1
// keys between read the table per key (four loads per vec4): at L 512 (R 128) that took the
// softmax from 23-27 to 20 ms on llvmpipe 25.0.7 and from 92-97 to 65-68 ms on SwiftShader,
// and at L 1024, 8 heads, from 22 to 18 ms on llvmpipe (2026-12-03).
//
// s: [pairs of the buffer, rows, Lp] f32, bound as vec4s, over (sequence, head) pairs
// g = b * H + h, row r = (g - g0) * rows + (query - i0), n rows written; bias: [H, 2R+1] f32
// (none: any buffer, never read); inv: [B·H·L] f32.

struct Params {
  H: u32,       // heads per sequence
  L: u32,       // tokens per sequence (rows of inv per pair)
  Lp: u32,      // keys per row (the padded sequence length)
  rows: u32,    // query rows per head in s
  n: u32,       // rows to do: pairs in this chunk × rows
  i0: u32,      // the query row of s's first row
  g0: u32,      // the (sequence, head) pair of s's first rows
  R: u32,       // T5: relative_attention_max_distance (2R+1 bias columns per head)
  scale: f32,   // factor on q · k
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;
@group(0) @binding(4) var<storage, read_write> inv: array<f32>;

{{SCORE_BIASES}}
override SCORE_BIAS: u32;

const NEG: f32 = -3.0e38;

// Scores j4 * 4 .. j4 * 4 + 3 of the row at b4 with the bias `b` added (keys past len: NEG).
fn plain4(b4: u32, j4: u32, len: u32, b: vec4<f32>) -> vec4<f32> {
  let ok = vec4<u32>(j4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(len);
  return select(vec4<f32>(NEG), s[b4 + j4] * p.scale + b, ok);
}

// T5's bias for keys j4 * 4 .. j4 * 4 + 3 of query i: bias[h, clamp(j - i, -R, R) + R].
fn window4(j4: u32, i: u32, bias_row: u32) -> vec4<f32> {
  let d = vec4<i32>(i32(j4 * 4u) - i32(i)) + vec4<i32>(0, 1, 2, 3);
  let rel = vec4<u32>(clamp(d, vec4<i32>(-i32(p.R)), vec4<i32>(i32(p.R))) + vec4<i32>(i32(p.R)));
  return vec4<f32>(bias[bias_row + rel.x], bias[bias_row + rel.y], bias[bias_row + rel.z], bias[bias_row + rel.w]);
}

// The max of m4 and the scores of vec4s [j0, j1) with the bias b.
fn run_max(b4: u32, j0: u32, j1: u32, len: u32, b: vec4<f32>, m4: vec4<f32>) -> vec4<f32> {
  var m = m4;
  for (var j4 = j0; j4 < j1; j4++) {
    m = max(m, plain4(b4, j4, len, b));
  }
  return m;
}

// Writes exp(score + b - m) over vec4s [j0, j1) in place; returns their sum.
fn run_exp(b4: u32, j0: u32, j1: u32, len: u32, b: vec4<f32>, m: vec4<f32>) -> vec4<f32> {
  var l = vec4<f32>(0.0);
  for (var j4 = j0; j4 < j1; j4++) {
    let e = exp(plain4(b4, j4, len, b) - m);
    l += e;
    s[b4 + j4] = e;
  }
  return l;
}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * {{WG}}u;
  if (r >= p.n) {
    return;
  }
  let i = p.i0 + r % p.rows;
  let g = p.g0 + r / p.rows;
  let b4 = r * (p.Lp / 4u);
  let bias_row = (g % p.H) * (2u * p.R + 1u);
  let len = min(lengths[g / p.H], p.Lp);
  let n4 = (len + 3u) / 4u;
  // The row in three runs of vec4s: [0, a) wholly more than R keys before i, whose T5 bias is
  // the table's first column; [a, z) the window, read from the table per key; [z, n4) wholly
  // more than R after, the last column. Without a bias every key is in the first run.
  var a = n4;
  var z = n4;
  var lo = vec4<f32>(0.0);
  var hi = vec4<f32>(0.0);
  if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
    a = min(select(0u, (i - p.R) / 4u, i > p.R), n4);
    z = min(max((i + p.R) / 4u + 1u, a), n4);
    lo = vec4<f32>(bias[bias_row]);
    hi = vec4<f32>(bias[bias_row + 2u * p.R]);
  }
  var m4 = run_max(b4, 0u, a, len, lo, vec4<f32>(NEG));
  for (var j4 = a; j4 < z; j4++) {
    m4 = max(m4, plain4(b4, j4, len, window4(j4, i, bias_row)));
  }
  m4 = run_max(b4, z, n4, len, hi, m4);
  let m = vec4<f32>(max(max(m4.x, m4.y), max(m4.z, m4.w)));
  // exp(NEG - m) is 0: the masked keys weigh nothing.
  var l4 = run_exp(b4, 0u, a, len, lo, m) + run_exp(b4, z, n4, len, hi, m);
  for (var j4 = a; j4 < z; j4++) {
    let e = exp(plain4(b4, j4, len, window4(j4, i, bias_row)) - m);
    l4 += e;
    s[b4 + j4] = e;
  }
  for (var j4 = n4; j4 < p.Lp / 4u; j4++) {
    s[b4 + j4] = vec4<f32>(0.0);
  }
  let l = (l4.x + l4.y) + (l4.z + l4.w);
  // No key (a sequence of length 0): weights and output 0.
  inv[g * p.L + i] = select(0.0, 1.0 / l, l > 0.0);
}
