// Layout copies for the gemm attention family (kernels/attention-gemm.ts), every sequence in one
// dispatch. The projections write a token's heads side by side, [B, L, H * DK]; the family's two
// matmuls want each (sequence, head) pair's rows contiguous, g = b * H + h:
//   LAYOUT_ROWS:    dst [B·H, Lp, DK] = src[b, i, h * DK + d]; rows i in [L, Lp) are 0 (Q and K)
//   LAYOUT_COLUMNS: dst [B·H, DK, Lp] = src[b, j, h * DK + d]; columns j in [L, Lp) are 0 (V
//                   transposed, the W of P · V = x · Wᵀ; the zeros keep 0-weighted keys finite)
//   LAYOUT_MERGE:   dst[b, i, h * DK + d] = src [B·H, L, DK] · scale[g·L + i] (the heads' outputs
//                   back side by side, each row times the softmax's 1 / sum)
// One invocation per line of dst: a row of DK (ROWS, MERGE) or a column of Lp (COLUMNS), n of
// them, so a dispatch has few workgroups (on CPU drivers each one costs more than its copying).

struct Params {
  form: u32,    // LAYOUT_ROWS, LAYOUT_COLUMNS or LAYOUT_MERGE
  L: u32,       // tokens per sequence
  Lp: u32,      // rows (LAYOUT_ROWS) or columns (LAYOUT_COLUMNS) per head in dst, >= L
  H: u32,       // heads
  DK: u32,      // head size
  n: u32,       // lines written
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
// [B·H·L] f32, read by LAYOUT_MERGE only (the others bind any buffer, never read).
@group(0) @binding(3) var<storage, read> scale: array<f32>;

{{LAYOUTS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * {{WG}}u;
  if (e >= p.n) {
    return;
  }
  let hd = p.H * p.DK;
  if (p.form == LAYOUT_MERGE) {
    // e = g * L + i: the row of pair g for token i.
    let g = e / p.L;
    let src_at = e * p.DK;
    let dst_at = ((g / p.H) * p.L + e % p.L) * hd + (g % p.H) * p.DK;
    let f = scale[e];
    for (var d = 0u; d < p.DK; d++) {
      dst[dst_at + d] = f * src[src_at + d];
    }
  } else if (p.form == LAYOUT_ROWS) {
    // e = g * Lp + i.
    let g = e / p.Lp;
    let i = e % p.Lp;
    let dst_at = e * p.DK;
    let src_at = ((g / p.H) * p.L + min(i, p.L - 1u)) * hd + (g % p.H) * p.DK;
    let keep = select(0.0, 1.0, i < p.L);
    for (var d = 0u; d < p.DK; d++) {
      dst[dst_at + d] = keep * src[src_at + d];
    }
  } else {
    // e = g * DK + d: column d of pair g, over the keys j.
    let g = e / p.DK;
    let dst_at = e * p.Lp;
    let src_at = (g / p.H) * p.L * hd + (g % p.H) * p.DK + e % p.DK;
    for (var j = 0u; j < p.Lp; j++) {
      var value = 0.0;
      if (j < p.L) {
        value = src[src_at + j * hd];
      }
      dst[dst_at + j] = value;
    }
  }
}
