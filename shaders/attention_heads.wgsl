// Row copies for the gemm attention family (kernels/attention-gemm.ts), every sequence in one
// dispatch. The projections write a token's heads side by side, [B, L, H * DK]; the family's two
// matmuls want each (sequence, head) pair's rows contiguous, g = b * H + h:
//   LAYOUT_ROWS:  dst [B·H, Lp, DK] = src[b, i, h * DK + d]; rows i in [L, Lp) are 0 (Q and K)
//   LAYOUT_MERGE: dst[b, i, h * DK + d] = src [B·H, L, DK] · scale[g·L + i] (the heads' outputs
//                 back side by side, each row times the softmax's 1 / sum)
// (V's transposed copy is shaders/attention_columns.wgsl.) One invocation per row of DK, n of
// them, so a dispatch has few workgroups (on CPU drivers each one costs more than its copying).
// src and dst bind as {{T}}, {{W}} elements each: vec4s where DK % 4 == 0 (every head size of
// our models). At L 512, 32 heads of d_kv 128, that took the three copies (Q, K, the merge)
// from 15-17 to 7-8 ms on Mesa 26.1.6's llvmpipe and from 56 to 27 ms on SwiftShader against
// one element at a time; on llvmpipe 25.0.7 they took 8 ms either way (2026-12-03).

struct Params {
  form: u32,    // LAYOUT_ROWS or LAYOUT_MERGE
  L: u32,       // tokens per sequence
  Lp: u32,      // LAYOUT_ROWS: rows per head in dst, >= L
  H: u32,       // heads
  DK: u32,      // head size (a multiple of the elements per item)
  n: u32,       // rows written
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{T}}>;
// [B·H·L] f32, read by LAYOUT_MERGE only (LAYOUT_ROWS binds any buffer, never read).
@group(0) @binding(3) var<storage, read> scale: array<f32>;

{{LAYOUTS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * {{WG}}u;
  if (e >= p.n) {
    return;
  }
  // Offsets in items of {{W}} elements.
  let dk = p.DK / {{W}}u;
  let hd = p.H * dk;
  if (p.form == LAYOUT_MERGE) {
    // e = g * L + i: the row of pair g for token i.
    let g = e / p.L;
    let src_at = e * dk;
    let dst_at = ((g / p.H) * p.L + e % p.L) * hd + (g % p.H) * dk;
    let f = scale[e];
    for (var d = 0u; d < dk; d++) {
      dst[dst_at + d] = f * src[src_at + d];
    }
  } else {
    // e = g * Lp + i.
    let g = e / p.Lp;
    let i = e % p.Lp;
    let dst_at = e * dk;
    let src_at = ((g / p.H) * p.L + min(i, p.L - 1u)) * hd + (g % p.H) * dk;
    let keep = select(0.0, 1.0, i < p.L);
    for (var d = 0u; d < dk; d++) {
      dst[dst_at + d] = keep * src[src_at + d];
    }
  }
}
