// V's copy for the gemm attention family (kernels/attention-gemm.ts), every sequence in one
// dispatch: each (sequence, head) pair g = b * H + h as columns, the W of P · V = x · Wᵀ,
//   dst [B·H, DK, Lp] = src[b, j, h * DK + d]; columns j in [L, Lp) are 0 (the zeros keep
//   0-weighted keys finite).
// One invocation per line of dst (a column of Lp keys), n of them, so a dispatch has few
// workgroups. It reads four keys (one element each, H · DK apart in src) and writes them as one
// vec4 (Lp is a multiple of 8), for any DK: at L 512, 32 heads of d_kv 128, 3.5-7 ms against
// 10-12 for one key at a time on llvmpipe 25.0.7, 18-19 against 20-28 on SwiftShader
// (2026-12-03).

struct Params {
  L: u32,       // tokens per sequence
  Lp: u32,      // columns per head in dst (a multiple of 4), >= L
  H: u32,       // heads
  DK: u32,      // head size
  n: u32,       // lines written (B · H · DK)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * {{WG}}u;
  if (e >= p.n) {
    return;
  }
  // e = g * DK + d: column d of pair g, over the keys j.
  let g = e / p.DK;
  let hd = p.H * p.DK;
  let lp4 = p.Lp / 4u;
  let dst_at = e * lp4;
  let src_at = (g / p.H) * p.L * hd + (g % p.H) * p.DK + e % p.DK;
  let last = p.L - 1u;
  for (var j4 = 0u; j4 < lp4; j4++) {
    let j = vec4<u32>(j4 * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let r = min(j, vec4<u32>(last));
    let v = vec4<f32>(src[src_at + r.x * hd], src[src_at + r.y * hd], src[src_at + r.z * hd], src[src_at + r.w * hd]);
    dst[dst_at + j4] = select(vec4<f32>(0.0), v, j < vec4<u32>(p.L));
  }
}
