// y = x · Wᵀ, with an optional fused epilogue (Hugging Face Linear layout, no bias).
//   x: [M, K] f32 activations, row-major, from element x_offset
//   W: [N, K] weights in their stored dtype (load_w), from element w_offset
//   y: [M, N] f32, from element y_offset
// Params, y and the EPILOGUE (none, ReLU, add into y) come from shaders/matmul_io.wgsl (filled in at the MATMUL_IO placeholder).
//
// Register tiling: each invocation computes a TM×TN block of y in registers. Lines ending in
// `//@for i<TM`, `//@for j<TN` or `//@for i<TM j<TN` are repeated by kernels/template.ts for
// every index (with {i}, {j} substituted), because on some drivers (SwiftShader) only unrolled
// scalar accumulators stay in registers.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;

{{MATMUL_IO}}

{{LOAD_W}}

@compute @workgroup_size({{WG_X}}, {{WG_Y}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  set_batch(gid.z);
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= p.M || n0 >= p.N) {
    return;
  }
  // Clamped row starts keep every load in bounds; store() drops the clamped duplicates.
  let xr{i} = x_base + min(m0 + {i}u, p.M - 1u) * p.K;  //@for i<TM
  let wr{j} = w_base + min(n0 + {j}u, p.N - 1u) * p.K;  //@for j<TN
  var acc{i}_{j} = 0.0;  //@for i<TM j<TN
  for (var k = 0u; k < p.K; k++) {
    let a{i} = x[xr{i} + k];  //@for i<TM
    let b{j} = load_w(wr{j} + k);  //@for j<TN
    acc{i}_{j} = fma(a{i}, b{j}, acc{i}_{j});  //@for i<TM j<TN
  }
  store(m0 + {i}u, n0 + {j}u, acc{i}_{j});  //@for i<TM j<TN
}
