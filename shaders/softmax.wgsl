// Row-wise probabilities over the last axis (the classes), for every row of x [R, C]:
//   mode 0: softmax (max subtracted first);  mode 1: sigmoid, each element alone.
//   y[r, c] = acc·y[r, c] + scale · f(x[r, :])[c]
// (acc = 1 with scale 1/n averages n models' probabilities into one y.)
// x, y: [R, C] f32.

struct Params {
  R: u32,      // rows
  C: u32,      // classes per row
  mode: u32,   // 0 softmax, 1 sigmoid
  acc: u32,    // 1: add to what y holds
  scale: f32,  // factor on the probabilities
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * {{WG}}u;
  if (r >= p.R) {
    return;
  }
  let base = r * p.C;
  var m = x[base];
  for (var c = 1u; c < p.C; c++) {
    m = max(m, x[base + c]);
  }
  var total = 0.0;
  for (var c = 0u; c < p.C; c++) {
    total += exp(x[base + c] - m);
  }
  for (var c = 0u; c < p.C; c++) {
    let v = x[base + c];
    var q = exp(v - m) / total;
    if (p.mode == 1u) {
      q = 1.0 / (1.0 + exp(-v));
    }
    var o = p.scale * q;
    if (p.acc == 1u) {
      o += y[base + c];
    }
    y[base + c] = o;
  }
}
