// Layout copies for the gemm attention family (kernels/attention-gemm.ts), one sequence b at a
// time. The projections write a token's heads side by side, [B, L, H * DK]; the family's two
// matmuls want each head's rows contiguous:
//   LAYOUT_ROWS:    dst [H, Lp, DK]  = src[b, i, h * DK + d]; rows i in [L, Lp) are 0 (Q and K)
//   LAYOUT_COLUMNS: dst [H, DK, Lp]  = src[b, j, h * DK + d]; columns j in [L, Lp) are 0 (V
//                   transposed, the W of P · V = x · Wᵀ; the zeros keep 0-weighted keys finite)
//   LAYOUT_MERGE:   dst[b, i, h * DK + d] = src [H, L, DK] (the heads' outputs back side by side)
// One invocation per line of dst: a row of DK (ROWS, MERGE) or a column of Lp (COLUMNS), n of
// them, so a dispatch has few workgroups (on CPU drivers each one costs more than its copying).

struct Params {
  form: u32,    // LAYOUT_ROWS, LAYOUT_COLUMNS or LAYOUT_MERGE
  b: u32,       // the sequence
  L: u32,       // tokens per sequence
  Lp: u32,      // rows (LAYOUT_ROWS) or columns (LAYOUT_COLUMNS) per head in dst, >= L
  H: u32,       // heads
  DK: u32,      // head size
  n: u32,       // lines written
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

{{LAYOUTS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * {{WG}}u;
  if (e >= p.n) {
    return;
  }
  let hd = p.H * p.DK;
  let seq = p.b * p.L;
  if (p.form == LAYOUT_MERGE) {
    // e = h * L + i: the row of head h for token i.
    let src_at = e * p.DK;
    let dst_at = (seq + e % p.L) * hd + (e / p.L) * p.DK;
    for (var d = 0u; d < p.DK; d++) {
      dst[dst_at + d] = src[src_at + d];
    }
  } else if (p.form == LAYOUT_ROWS) {
    // e = h * Lp + i.
    let i = e % p.Lp;
    let dst_at = e * p.DK;
    let src_at = (seq + min(i, p.L - 1u)) * hd + (e / p.Lp) * p.DK;
    let keep = select(0.0, 1.0, i < p.L);
    for (var d = 0u; d < p.DK; d++) {
      dst[dst_at + d] = keep * src[src_at + d];
    }
  } else {
    // e = h * DK + d: column d of head h, over the keys j.
    let dst_at = e * p.Lp;
    let src_at = seq * hd + e;
    for (var j = 0u; j < p.Lp; j++) {
      var value = 0.0;
      if (j < p.L) {
        value = src[src_at + j * hd];
      }
      dst[dst_at + j] = value;
    }
  }
}
