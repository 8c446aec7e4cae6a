// Fused attention (T5's relative bias, none with a scale, or XLNet's content and position terms), the flash family: the same
// computation, bindings and Params as attention.wgsl (read its header), laid out for devices
// that run invocations as SIMD lanes (llvmpipe: 8 lanes of AVX2; SwiftShader: 4).
//
// A workgroup owns a tile of TQ query rows, one invocation (lane) each, and walks the keys in
// tiles of TK staged in workgroup memory (K, then V, through one buffer). Per key tile each
// invocation computes its row's block of TK scores in TK named registers (lines ending in
// `//@for j<TK` are repeated by kernels/template.ts `unroll`), runs the online softmax on them
// in registers (the lane owns the row: no cross-lane max or sum), then adds P·V into its row of
// the output accumulator. Each vec4 of the query row and of the accumulator (private arrays,
// read at a run-time column index) is read once per key tile and shared by TK keys' fma; the
// loop over columns stays a run-time loop, so LLVM compiles a variant in seconds (d_kv named
// registers, the unrolled family, take minutes on llvmpipe).
// What llvmpipe (Mesa 25.0) does with it, read from its IR (GALLIVM_DEBUG=ir): a load is one
// scalar load and a broadcast only when its address is a compile-time constant
// (nir_src_is_always_uniform); every other load, workgroup memory included, is eight scalar
// loads, one per lane, each behind a branch on that lane's execution bit. So a K/V read costs
// per lane too; with SG > 1 (subgroups) each lane reads a different vec4 of the key's chunk and
// subgroupBroadcast (a register shuffle) hands it to the others, SG columns per per-lane load.
// Those per-lane loads, not the fma, still bound this kernel on llvmpipe (notes/issue-16).
// Needs d_kv % 4 == 0 (q, k, v, o are read as vec4); kernels/attention.ts falls back to the
// loop family otherwise.

{{ENABLE}}

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
// Columns (vec4) per chunk: with subgroups, SG lanes each read one vec4 of a key's chunk from
// workgroup memory and subgroupBroadcast hands it to the rest (a register shuffle), so one
// per-lane load serves SG columns; 1 without (BCAST is then `own`).
const SG: u32 = {{SG}}u;
fn own(x: vec4<f32>, i: u32) -> vec4<f32> { return x; }

// SCORE_BIAS: SCORE_BIAS_RELATIVE adds the T5 table bias[h, clamp(j - i, -R, R) + R] to each
// score; SCORE_BIAS_NONE adds nothing (BERT, ESM); SCORE_BIAS_XLNET adds r_w_bias to q and the
// position term (q + r_r_bias) · k_r[R + i - j] before the scale (k_r read by row: each lane's
// own row, so per-lane loads). Bindings a mode does not read hold q's buffer, never read. The
// codes come from ATTENTION_BIAS_CODE in kernels/attention.ts.
{{SCORE_BIASES}}
override SCORE_BIAS: u32;

// The key tile's K, then (after the scores are taken) its V: one buffer, half the workgroup memory.
var<workgroup> kv_tile: array<vec4<f32>, {{TK_DK4}}>;  // [key][d4]
var<workgroup> wg_len: u32;
// DK4 again, read back from workgroup memory so the compiler cannot see it: Mesa's NIR fully
// unrolls a loop of known trip count (32 at d_kv 128) with its TK-fold unrolled body, and LLVM
// then compiles for a minute (19 s at tq 32 / tk 8, 65 s at tk 16, measured on llvmpipe).
var<workgroup> wg_dk4: u32;

@compute @workgroup_size({{TQ}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32{{SG_PARAM}}) {
  let lane = {{LANE}};  // this invocation's lane in its subgroup, below SG (0 without subgroups)
  let h = wid.y;
  let b = wid.z;
  let i = wid.x * TQ + lid;  // this invocation's query row
  if (lid == 0u) {
    wg_len = min(lengths[b], p.L);
    wg_dk4 = DK4;
  }
  let len = workgroupUniformLoad(&wg_len);
  let dk4 = workgroupUniformLoad(&wg_dk4);
  let stride4 = p.H * DK4;  // a token's row, in vec4
  let head4 = h * DK4;
  let q_row = (b * p.L + min(i, p.L - 1u)) * stride4 + head4;
  // This row's query and output accumulator: private arrays read at a run-time index, which
  // SIMD drivers gather lane by lane, once per four columns per key tile (TK keys' fma).
  var qv: array<vec4<f32>, {{DK4}}>;
  var acc: array<vec4<f32>, {{DK4}}>;
  var qr: array<vec4<f32>, {{DK4}}>;  // XLNet: q + r_r_bias, the position term's query
  for (var d4 = 0u; d4 < dk4; d4++) {
    qv[d4] = q[q_row + d4];
    acc[d4] = vec4<f32>(0.0);
  }
  let i_row = min(i, p.L - 1u);  // rows past L compute a clamped row's scores, never stored
  if (SCORE_BIAS == SCORE_BIAS_XLNET) {
    let stride = stride4 * 4u;
    for (var d4 = 0u; d4 < dk4; d4++) {
      let c = (head4 + d4) * 4u;
      qr[d4] = qv[d4] + vec4<f32>(bias[stride + c], bias[stride + c + 1u], bias[stride + c + 2u], bias[stride + c + 3u]);
      qv[d4] += vec4<f32>(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]);
    }
  }
  let bias_row = i32(h * (2u * p.R + 1u) + p.R);
  let r = i32(p.R);
  var m = NEG;  // running max of scores
  var l = 0.0;  // running sum of exp(score - m)
  for (var k0 = 0u; k0 < len; k0 += TK) {
    workgroupBarrier();
    for (var e = lid; e < TK * DK4; e += TQ) {
      kv_tile[e] = k[(b * p.L + min(k0 + e / DK4, p.L - 1u)) * stride4 + head4 + e % DK4];
    }
    workgroupBarrier();
    // S block: this row's scores against the TK keys of the tile.
    var s{j} = 0.0;  //@for j<TK
    for (var c = 0u; c < dk4; c += SG) {
      let qd{i} = qv[c + {i}u];  //@for i<SG
      let kc{j} = kv_tile[{j}u * DK4 + c + lane];  //@for j<TK
      { let kk = {{BCAST}}(kc{j}, {i}u); s{j} = fma(qd{i}.w, kk.w, fma(qd{i}.z, kk.z, fma(qd{i}.y, kk.y, fma(qd{i}.x, kk.x, s{j})))); }  //@for i<SG j<TK
    }
    if (SCORE_BIAS == SCORE_BIAS_XLNET) {
      // k_r's row R + i - key (relative position i - key); keys past L clamped (masked below), R >= L - 1.
      let kr{j} = (p.R + i_row - min(k0 + {j}u, p.L - 1u)) * stride4 + head4;  //@for j<TK
      for (var c = 0u; c < dk4; c++) {
        let qc = qr[c];
        s{j} += dot(qc, pos_k[kr{j} + c]);  //@for j<TK
      }
    }
    s{j} *= p.scale;  //@for j<TK
    if (SCORE_BIAS == SCORE_BIAS_RELATIVE) {
      let rel0 = i32(k0) - i32(i);
      s{j} += bias[u32(bias_row + clamp(rel0 + {j}, -r, r))];  //@for j<TK
    }
    s{j} = select(NEG, s{j}, k0 + {j}u < len);  //@for j<TK
    // Online softmax, in registers: this lane owns the row.
    var m_new = m;
    m_new = max(m_new, s{j});  //@for j<TK
    let alpha = exp(m - m_new);
    l = l * alpha;
    s{j} = exp(s{j} - m_new);  //@for j<TK
    l += s{j};  //@for j<TK
    m = m_new;
    workgroupBarrier();
    for (var e = lid; e < TK * DK4; e += TQ) {
      kv_tile[e] = v[(b * p.L + min(k0 + e / DK4, p.L - 1u)) * stride4 + head4 + e % DK4];
    }
    workgroupBarrier();
    // O block: acc[row, :] = alpha · acc[row, :] + Σ_j p_j v_j.
    for (var c = 0u; c < dk4; c += SG) {
      let vc{j} = kv_tile[{j}u * DK4 + c + lane];  //@for j<TK
      var a{i} = acc[c + {i}u] * alpha;  //@for i<SG
      a{i} = fma(vec4<f32>(s{j}), {{BCAST}}(vc{j}, {i}u), a{i});  //@for i<SG j<TK
      acc[c + {i}u] = a{i};  //@for i<SG
    }
  }
  if (i < p.L) {
    let out = (b * p.L + i) * stride4 + head4;
    let inv = 1.0 / l;
    for (var d4 = 0u; d4 < dk4; d4++) {
      o[out + d4] = acc[d4] * inv;
    }
  }
}
