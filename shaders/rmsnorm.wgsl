// T5 layer norm (RMS norm: no mean subtraction, no bias), one workgroup per row:
//   y[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) * weight
// The sum of squares is reduced in f32 through workgroup memory.

struct Params {
  rows: u32,  // number of rows (tokens)
  D: u32,     // row length (elements)
  eps: f32,   // layer_norm_epsilon
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

{{LOAD_W}}

{{WORKGROUP_SUM}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // Rows beyond 65535 spill into the grid's y dimension.
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.D;
  var s = 0.0;
  for (var d = lid; d < p.D; d += {{WG}}u) {
    let v = x[base + d];
    s = fma(v, v, s);
  }
  let inv = inverseSqrt(workgroup_sum(lid, s) / f32(p.D) + p.eps);
  for (var d = lid; d < p.D; d += {{WG}}u) {
    y[base + d] = x[base + d] * inv * load_w(d);
  }
}
