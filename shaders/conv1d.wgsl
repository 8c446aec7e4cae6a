// Masked 1-D convolution along the rows of a padded batch, torch's Conv1d (zero padding,
// stride 1, groups) per sequence:
//   y[b, r, co] = act(acc·y[b, r, co] + bias[co]
//                     + Σ_{ci < Cin/G, k < K} w[co, ci, k] · x[b, r − pad + k, g·Cin/G + ci])
// with g = co / (Cout/G). Only rows start[b] ≤ r < start[b] + in_count[b] of x are read (any
// other row counts as zero, as the sequence's own zero padding), and only rows
// start[b] ≤ r < start[b] + out_count[b] of y are computed; the others are written 0. So a
// sequence padded in a batch gives the numbers it gives alone.
// x: [B, L, Cin] f32; w: [Cout, Cin/G, K] f32; bias: [Cout] f32 (read when has_bias = 1);
// y: [B, L, Cout] f32; start, in_count, out_count: [B] u32.

struct Params {
  B: u32,          // sequences
  L: u32,          // padded rows per sequence
  Cin: u32,        // input channels
  Cout: u32,       // output channels
  K: u32,          // kernel size (taps)
  pad: u32,        // zero padding on each side (rows)
  G: u32,          // groups (Cin and Cout divisible by G)
  has_bias: u32,   // 1: add bias[co]
  acc: u32,        // 1: add to what y holds
  act: u32,        // 0 none, 1 relu, 2 tanh, 3 elu (alpha 1)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> start: array<u32>;
@group(0) @binding(5) var<storage, read> in_count: array<u32>;
@group(0) @binding(6) var<storage, read> out_count: array<u32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  if (i >= p.B * p.L * p.Cout) {
    return;
  }
  let co = i % p.Cout;
  let r = (i / p.Cout) % p.L;
  let b = i / (p.Cout * p.L);
  let r0 = min(start[b], p.L);
  let out_end = min(r0 + out_count[b], p.L);
  if (r < r0 || r >= out_end) {
    y[i] = 0.0;
    return;
  }
  let in_end = min(r0 + in_count[b], p.L);
  let cin_g = p.Cin / p.G;
  let g = co / (p.Cout / p.G);
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) {
    // input row r - pad + k, in [r0, in_end)
    let ri = i32(r) - i32(p.pad) + i32(k);
    if (ri < i32(r0) || ri >= i32(in_end)) {
      continue;
    }
    let xb = (b * p.L + u32(ri)) * p.Cin + g * cin_g;
    let wb = co * cin_g * p.K + k;
    for (var ci = 0u; ci < cin_g; ci++) {
      s = fma(w[wb + ci * p.K], x[xb + ci], s);
    }
  }
  if (p.has_bias == 1u) {
    s += bias[co];
  }
  if (p.acc == 1u) {
    s += y[i];
  }
  switch p.act {
    case 1u: { s = max(s, 0.0); }
    case 2u: { s = tanh(s); }
    case 3u: { s = select(exp(s) - 1.0, s, s > 0.0); }
    default: {}
  }
  y[i] = s;
}
