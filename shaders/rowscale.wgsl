// Scales each row by its own factor, in place: y[t, :] *= s[t] (ESM-2's token dropout at
// inference: 0 for <mask> rows, (1 − 0.15·0.8) / (1 − masked fraction) for the others).

struct Params {
  T: u32,  // rows (tokens)
  D: u32,  // row length (elements)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  if (i >= p.T * p.D) {
    return;
  }
  y[i] = y[i] * s[i / p.D];
}
