// Fused attention (T5's relative bias, none with a scale, or XLNet's position term), the unrolled family: the same computation, bindings and Params as
// attention.wgsl (read its header), with the query row, the output accumulator and a key
// tile's scores held in named vec4/scalar registers. Lines ending in `//@for` are repeated by
// kernels/template.ts `unroll` (i < DK4 = d_kv / 4 vec4 lanes of a head, j < TK keys per
// tile), because drivers such as SwiftShader keep only named scalars in registers.
// Needs d_kv % 4 == 0 (q, k, v, o are read as vec4).

struct Params {
  B: u32,  // sequences in the batch
  L: u32,  // padded sequence length (tokens)
  H: u32,  // heads
  R: u32,  // T5: relative_attention_max_distance (the bias table has 2R+1 columns per head); XLNet: k_r's row of relative position 0 (2R+1 rows, R >= L-1)
  scale: f32,  // factor on the score (T5: 1; BERT, ESM, XLNet: 1/sqrt(d_head))
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;  // T5: [H, 2R+1]; XLNet: [2, H * DK] r_w_bias, r_r_bias
@group(0) @binding(5) var<storage, read> lengths: array<u32>;
@group(0) @binding(6) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> pos_k: array<vec4<f32>>;  // XLNet: k_r [2R+1, H * DK]

const DK4: u32 = {{DK4}}u;
const TQ: u32 = {{TQ}}u;
const TK: u32 = {{TK}}u;
const NEG: f32 = -3.0e38;

// SCORE_BIAS: SCORE_BIAS_RELATIVE adds the T5 table bias[h, clamp(j - i, -R, R) + R] to each
// score; SCORE_BIAS_NONE adds nothing (BERT, ESM); SCORE_BIAS_XLNET adds r_w_bias to q and the
// position term (q + r_r_bias) · k_r[R + i - j] before the scale. Bindings a mode does not read
// hold q's buffer, never read. The codes come from ATTENTION_BIAS_CODE in kernels/attention.ts.
{{SCORE_BIASES}}
override SCORE_BIAS: u32;

var<workgroup> k_tile: array<vec4<f32>, {{TK_DK4}}>;
var<workgroup> v_tile: array<vec4<f32>, {{TK_DK4}}>;
var<workgroup> wg_len: u32;

/** Four consecutive floats of the bias binding at vec4 index `at` (XLNet's r_w_bias, r_r_bias). */
fn bias4(at: u32) -> vec4<f32> {
  return vec4<f32>(bias[4u * at], bias[4u * at + 1u], bias[4u * at + 2u], bias[4u * at + 3u]);
}

@compute @workgroup_size({{TQ}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let b = wid.z;
  let i = wid.x * TQ + lid;  // this invocation's query row
  if (lid == 0u) {
    wg_len = min(lengths[b], p.L);
  }
  let len = workgroupUniformLoad(&wg_len);
  let stride4 = p.H * DK4;  // a token's row, in vec4
  let head4 = h * DK4;
  let q_row = (b * p.L + min(i, p.L - 1u)) * stride4 + head4;
  var q{i} = q[q_row + {i}u];  //@for i<DK4
  var qr{i} = vec4<f32>(0.0);  //@for i<DK4
  if (SCORE_BIAS == SCORE_BIAS_XLNET) {
    qr{i} = q{i} + bias4(stride4 + head4 + {i}u);  //@for i<DK4
    q{i} += bias4(head4 + {i}u);  //@for i<DK4
  }
  // XLNet: k_r's row of the first key of a tile is kr_base - k0 (relative position i - k0).
  let kr_base = i32(p.R + min(i, p.L - 1u));
  var acc{i} = vec4<f32>(0.0);  //@for i<DK4
  let bias_row = i32(h * (2u * p.R + 1u) + p.R);
  let r = i32(p.R);
  var m = NEG;  // running max of scores
  var l = 0.0;  // running sum of exp(score - m)
  for (var k0 = 0u; k0 < len; k0 += TK) {
    workgroupBarrier();
    for (var e = lid; e < TK * DK4; e += TQ) {
      let src = (b * p.L + min(k0 + e / DK4, p.L - 1u)) * stride4 + head4 + e % DK4;
      k_tile[e] = k[src];
      v_tile[e] = v[src];
    }
    workgroupBarrier();
    let rel0 = i32(k0) - i32(i);
    var s{j} = vec4<f32>(0.0);  //@for j<TK
    s{j} = fma(q{i}, k_tile[{j}u * DK4 + {i}u], s{j});  //@for j<TK i<DK4
    if (SCORE_BIAS == SCORE_BIAS_XLNET) {
      // Keys past the end (selected away below) may give a row below 0: clamped.
      let kr{j} = u32(max(kr_base - i32(k0) - {j}, 0)) * stride4 + head4;  //@for j<TK
      s{j} = fma(qr{i}, pos_k[kr{j} + {i}u], s{j});  //@for j<TK i<DK4
    }
    var u{j} = (s{j}.x + s{j}.y + s{j}.z + s{j}.w) * p.scale;  //@for j<TK
    if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
      u{j} += bias[u32(bias_row + clamp(rel0 + {j}, -r, r))];  //@for j<TK
    }
    let t{j} = select(NEG, u{j}, k0 + {j}u < len);  //@for j<TK
    var tile_max = m;
    tile_max = max(tile_max, t{j});  //@for j<TK
    let scale = exp(m - tile_max);
    l = l * scale;
    acc{i} = acc{i} * scale;  //@for i<DK4
    let p{j} = exp(t{j} - tile_max);  //@for j<TK
    l += p{j};  //@for j<TK
    acc{i} = fma(vec4<f32>(p{j}), v_tile[{j}u * DK4 + {i}u], acc{i});  //@for j<TK i<DK4
    m = tile_max;
  }
  if (i < p.L) {
    let out = (b * p.L + i) * stride4 + head4;
    let inv = 1.0 / l;
    o[out + {i}u] = acc{i} * inv;  //@for i<DK4
  }
}
