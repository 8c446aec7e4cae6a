// LayerNorm with mean and bias (BERT, ELECTRA, ALBERT, ESM), one workgroup per row:
//   y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * weight + bias,  var = mean((x - mean)²)
// Two passes over the row (the mean, then the squared deviations), each reduced in f32 through
// workgroup memory: the two-pass variance does not cancel catastrophically when |mean| ≫ std.
// weight and bias are f32 [D] (norm vectors are widened to f32 on upload). x and y are
// different buffers.

struct Params {
  rows: u32,  // number of rows (tokens)
  D: u32,     // row length (elements)
  eps: f32,   // layer_norm_eps
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

{{WORKGROUP_SUM}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // Rows beyond 65535 spill into the grid's y dimension (a whole workgroup leaves together).
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.D;
  var s = 0.0;
  for (var d = lid; d < p.D; d += {{WG}}u) {
    s += x[base + d];
  }
  let mean = workgroup_sum(lid, s) / f32(p.D);
  var s2 = 0.0;
  for (var d = lid; d < p.D; d += {{WG}}u) {
    let c = x[base + d] - mean;
    s2 = fma(c, c, s2);
  }
  let inv = inverseSqrt(workgroup_sum(lid, s2) / f32(p.D) + p.eps);
  for (var d = lid; d < p.D; d += {{WG}}u) {
    y[base + d] = fma((x[base + d] - mean) * inv, weight[d], bias[d]);
  }
}
