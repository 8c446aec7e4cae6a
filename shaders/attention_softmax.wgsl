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
// pass writing P one more).
//
// s: [pairs of the buffer, rows, Lp] f32 over (sequence, head) pairs g = b * H + h, row
// r = (g - g0) * rows + (query - i0), n rows written; bias: [H, 2R+1] f32 (none: any buffer,
// never read); inv: [B·H·L] f32.

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
@group(0) @binding(1) var<storage, read_write> s: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;
@group(0) @binding(4) var<storage, read_write> inv: array<f32>;

{{SCORE_BIASES}}
override SCORE_BIAS: u32;

const NEG: f32 = -3.0e38;

fn score(base: u32, j: u32, i: u32, bias_row: u32) -> f32 {
  var v = s[base + j] * p.scale;
  if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
    let rel = clamp(i32(j) - i32(i), -i32(p.R), i32(p.R)) + i32(p.R);
    v += bias[bias_row + u32(rel)];
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
  let base = r * p.Lp;
  let bias_row = (g % p.H) * (2u * p.R + 1u);
  let len = min(lengths[g / p.H], p.Lp);
  // The row's max, then its unnormalised weights e_j = exp(v_j - max) written in place and
  // summed: one exp per score. 1 / sum goes to inv[g * L + i]; the merge copy applies it to the
  // row of P · V (so no third pass over the row here).
  var m = NEG;
  for (var j = 0u; j < len; j++) {
    m = max(m, score(base, j, i, bias_row));
  }
  var l = 0.0;
  for (var j = 0u; j < p.Lp; j++) {
    var e = 0.0;
    if (j < len) {
      e = exp(score(base, j, i, bias_row) - m);
    }
    l += e;
    s[base + j] = e;
  }
  // No key (a sequence of length 0): weights and output 0.
  inv[g * p.L + i] = select(0.0, 1.0 / l, l > 0.0);
}
