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
// lane-mask blends per score). Lp is a multiple of 8, so every row starts on a vec4.
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

fn score4(b4: u32, j4: u32, i: u32, bias_row: u32) -> vec4<f32> {
  var v = s[b4 + j4] * p.scale;
  if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
    let d = vec4<i32>(i32(j4 * 4u) - i32(i)) + vec4<i32>(0, 1, 2, 3);
    let rel = vec4<u32>(clamp(d, vec4<i32>(-i32(p.R)), vec4<i32>(i32(p.R))) + vec4<i32>(i32(p.R)));
    v += vec4<f32>(bias[bias_row + rel.x], bias[bias_row + rel.y], bias[bias_row + rel.z], bias[bias_row + rel.w]);
  }
  return v;
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
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  var m4 = vec4<f32>(NEG);
  for (var j4 = 0u; j4 < n4; j4++) {
    let ok = lane + vec4<u32>(j4 * 4u) < vec4<u32>(len);
    m4 = max(m4, select(vec4<f32>(NEG), score4(b4, j4, i, bias_row), ok));
  }
  let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var l4 = vec4<f32>(0.0);
  for (var j4 = 0u; j4 < p.Lp / 4u; j4++) {
    var e = vec4<f32>(0.0);
    if (j4 < n4) {
      let ok = lane + vec4<u32>(j4 * 4u) < vec4<u32>(len);
      e = select(vec4<f32>(0.0), exp(score4(b4, j4, i, bias_row) - vec4<f32>(m)), ok);
    }
    l4 += e;
    s[b4 + j4] = e;
  }
  let l = (l4.x + l4.y) + (l4.z + l4.w);
  inv[g * p.L + i] = select(0.0, 1.0 / l, l > 0.0);
}
