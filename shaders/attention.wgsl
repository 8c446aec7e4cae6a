// Fused self-attention for one (query tile, head, sequence) per workgroup:
//   o[b, i, h, :] = Σ_j softmax_j(scale · q_i · k_j + bias[h, j - i]) v_j   over keys j < lengths[b]
// T5 does not scale q·k (scale 1) and adds its relative bias; BERT and ESM scale by
// 1/sqrt(d_head) and add no bias; XLNet's score is
//   scale · ((q_i + r_w_bias) · k_j + (q_i + r_r_bias) · k_r[R + i - j])
// with k_r the layer's projection of the sinusoid table of relative positions -R..R, read by
// row (SCORE_BIAS below). The relative-position bias comes from a table
// [H, 2R+1] indexed by clamp(j - i, -R, R) + R (T5's buckets are constant beyond
// max_distance R, so the table is exact). Padded keys (j ≥ lengths[b]) are skipped, which
// equals HF's additive mask. Keys are walked in tiles of TK with an online softmax, so
// memory is O(L): no L×L score matrix ever exists.
//
// q, k, v, o: [B, L, H * DK] f32 (a token's heads side by side, as the projections write them).
// One invocation per query row; the workgroup stages each K/V tile in workgroup memory.

struct Params {
  B: u32,  // sequences in the batch
  L: u32,  // padded sequence length (tokens)
  H: u32,  // heads
  R: u32,  // T5: relative_attention_max_distance (the bias table has 2R+1 columns per head); XLNet: k_r's row of relative position 0 (2R+1 rows, R >= L-1)
  scale: f32,  // factor on the score (T5: 1; BERT, ESM, XLNet: 1/sqrt(d_head))
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;  // T5: [H, 2R+1]; XLNet: [2, H * DK] r_w_bias, r_r_bias
@group(0) @binding(5) var<storage, read> lengths: array<u32>;
@group(0) @binding(6) var<storage, read_write> o: array<f32>;
@group(0) @binding(7) var<storage, read> pos_k: array<f32>;  // XLNet: k_r [2R+1, H * DK]

const DK: u32 = {{DK}}u;
const TQ: u32 = {{TQ}}u;
const TK: u32 = {{TK}}u;
const NEG: f32 = -3.0e38;

// SCORE_BIAS: SCORE_BIAS_RELATIVE adds the T5 table bias[h, clamp(j - i, -R, R) + R] to each
// score; SCORE_BIAS_NONE adds nothing (BERT, ESM); SCORE_BIAS_XLNET adds r_w_bias to q and the
// position term (q + r_r_bias) · k_r[R + i - j] before the scale. Bindings a mode does not read
// hold q's buffer, never read. The codes come from ATTENTION_BIAS_CODE in kernels/attention.ts.
{{SCORE_BIASES}}
override SCORE_BIAS: u32;

var<workgroup> k_tile: array<f32, {{TK_DK}}>;
var<workgroup> v_tile: array<f32, {{TK_DK}}>;
var<workgroup> wg_len: u32;

@compute @workgroup_size({{TQ}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let b = wid.z;
  let i = wid.x * TQ + lid;  // this invocation's query row
  if (lid == 0u) {
    wg_len = min(lengths[b], p.L);
  }
  let len = workgroupUniformLoad(&wg_len);
  let stride = p.H * DK;
  let head = h * DK;
  let q_row = (b * p.L + min(i, p.L - 1u)) * stride + head;
  var qv: array<f32, {{DK}}>;
  var qr: array<f32, {{DK}}>;  // XLNet: q + r_r_bias, the position term's query
  var acc: array<f32, {{DK}}>;
  for (var d = 0u; d < DK; d++) {
    qv[d] = q[q_row + d];
    acc[d] = 0.0;
  }
  if (SCORE_BIAS == SCORE_BIAS_XLNET) {
    for (var d = 0u; d < DK; d++) {
      qr[d] = qv[d] + bias[stride + head + d];
      qv[d] += bias[head + d];
    }
  }
  let i_row = min(i, p.L - 1u);  // rows past L compute a clamped row's scores, never stored
  let bias_row = h * (2u * p.R + 1u);
  var m = NEG;  // running max of scores
  var l = 0.0;  // running sum of exp(score - m)
  var s: array<f32, {{TK}}>;
  for (var k0 = 0u; k0 < len; k0 += TK) {
    workgroupBarrier();
    for (var e = lid; e < TK * DK; e += TQ) {
      let key = k0 + e / DK;
      let src = (b * p.L + min(key, p.L - 1u)) * stride + head + e % DK;
      k_tile[e] = k[src];
      v_tile[e] = v[src];
    }
    workgroupBarrier();
    var tile_max = NEG;
    for (var j = 0u; j < TK; j++) {
      let key = k0 + j;
      var sj = NEG;
      if (key < len) {
        var dot = 0.0;
        for (var d = 0u; d < DK; d++) {
          dot = fma(qv[d], k_tile[j * DK + d], dot);
        }
        if (SCORE_BIAS == SCORE_BIAS_XLNET) {
          // k_r's row R + i - key (relative position i - key); key < len <= L <= R + 1.
          let kr_row = (p.R + i_row - key) * stride + head;
          for (var d = 0u; d < DK; d++) {
            dot = fma(qr[d], pos_k[kr_row + d], dot);
          }
        }
        sj = dot * p.scale;
        if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
          let rel = clamp(i32(key) - i32(i), -i32(p.R), i32(p.R)) + i32(p.R);
          sj += bias[bias_row + u32(rel)];
        }
      }
      s[j] = sj;
      tile_max = max(tile_max, sj);
    }
    let m_new = max(m, tile_max);
    let scale = exp(m - m_new);
    l = l * scale;
    for (var d = 0u; d < DK; d++) {
      acc[d] = acc[d] * scale;
    }
    for (var j = 0u; j < TK; j++) {
      if (k0 + j < len) {
        let pj = exp(s[j] - m_new);
        l += pj;
        for (var d = 0u; d < DK; d++) {
          acc[d] = fma(pj, v_tile[j * DK + d], acc[d]);
        }
      }
    }
    m = m_new;
  }
  if (i < p.L) {
    let out = (b * p.L + i) * stride + head;
    let inv = 1.0 / l;
    for (var d = 0u; d < DK; d++) {
      o[out + d] = acc[d] * inv;
    }
  }
}
