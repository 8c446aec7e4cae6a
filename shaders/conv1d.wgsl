// Masked 1-D convolution along the rows of a padded batch, torch's Conv1d (zero padding,
// stride 1, groups) per sequence:
//   y[b, r, co] = act(acc·y[b, r, co] + bias[co]
//                     + Σ_{ci < Cin/G, k < K} w[k, ci, co] · x[b, r − pad + k, g·Cin/G + ci])
// with g = co / (Cout/G). Only rows start[b] ≤ r < start[b] + in_count[b] of x are read (any
// other row counts as zero, as the sequence's own zero padding), and only rows
// start[b] ≤ r < start[b] + out_count[b] of y are computed; the others are written 0. So a
// sequence padded in a batch gives the numbers it gives alone.
// x: [B, L, Cin] f32; w: [K, Cin/G, Cout] f32 (torch's [Cout, Cin/G, K] transposed: conv1dWeights); bias: [Cout] f32 (read when has_bias = 1);
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

// Each invocation computes 4 consecutive rows of one output channel (a vec4 of sums);
// neighbouring invocations take neighbouring channels, so their weight reads (w stored
// [K, Cin/G, Cout]) are contiguous, and each weight is loaded once for the 4 rows.
@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  let blocks = (p.L + 3u) / 4u;
  if (i >= p.B * blocks * p.Cout) {
    return;
  }
  let co = i % p.Cout;
  let rb = (i / p.Cout) % blocks;
  let b = i / (p.Cout * blocks);
  let r0 = min(start[b], p.L);
  let out_end = min(r0 + out_count[b], p.L);
  let in_end = min(r0 + in_count[b], p.L);
  let cin_g = p.Cin / p.G;
  let g = co / (p.Cout / p.G);
  let first = vec4<i32>(i32(rb * 4u)) + vec4<i32>(0, 1, 2, 3) - vec4<i32>(i32(p.pad));
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k++) {
    // Input rows of the 4 output rows for this tap, and whether each is inside the sequence.
    let ri = first + vec4<i32>(i32(k));
    let ok = (ri >= vec4<i32>(i32(r0))) & (ri < vec4<i32>(i32(in_end)));
    let xb = (vec4<u32>(b * p.L) + vec4<u32>(select(vec4<i32>(i32(r0)), ri, ok))) * p.Cin + vec4<u32>(g * cin_g);
    if (!any(ok)) {
      continue;
    }
    let wb = k * cin_g * p.Cout + co;
    var t = vec4<f32>(0.0);
    for (var ci = 0u; ci < cin_g; ci++) {
      let xv = vec4<f32>(x[xb.x + ci], x[xb.y + ci], x[xb.z + ci], x[xb.w + ci]);
      t = fma(vec4<f32>(w[wb + ci * p.Cout]), xv, t);
    }
    // Rows outside the sequence read row r0 (finite, any value) and are dropped here.
    s += select(vec4<f32>(0.0), t, ok);
  }
  for (var j = 0u; j < 4u; j++) {
    let r = rb * 4u + j;
    if (r >= p.L) {
      return;
    }
    let o = (b * p.L + r) * p.Cout + co;
    if (r < r0 || r >= out_end) {
      y[o] = 0.0;
      continue;
    }
    var v = s[j];
    if (p.has_bias == 1u) {
      v += bias[co];
    }
    if (p.acc == 1u) {
      v += y[o];
    }
    switch p.act {
      case 1u: { v = max(v, 0.0); }
      case 2u: { v = tanh(v); }
      case 3u: { v = select(exp(v) - 1.0, v, v > 0.0); }
      default: {}
    }
    y[o] = v;
  }
}
