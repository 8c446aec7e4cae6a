// y = x · Wᵀ (+ epilogue), the K-by-4 family: x read as vec4, W four weights per load, vec4
// accumulators summed at the end. Needs K % 4 == 0 and offsets that are multiples of 4
// (true for every ProtT5 projection). Params, y and the epilogues are shaders/matmul_io.wgsl;
// lines ending in `//@for` are unrolled by kernels/template.ts (see matmul.wgsl).

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>;

{{MATMUL_IO}}

{{LOAD_W4}}

@compute @workgroup_size({{WG_X}}, {{WG_Y}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  set_batch(gid.z);
  let m0 = gid.y * {{TM}}u;
  let n0 = gid.x * {{TN}}u;
  if (m0 >= p.M || n0 >= p.N) {
    return;
  }
  let K4 = p.K / 4u;
  // Row starts in vec4 units (x) and elements (W), clamped so loads stay in bounds.
  let xr{i} = x_base / 4u + min(m0 + {i}u, p.M - 1u) * K4;  //@for i<TM
  let wr{j} = w_base + min(n0 + {j}u, p.N - 1u) * p.K;  //@for j<TN
  var acc{i}_{j} = vec4<f32>(0.0);  //@for i<TM j<TN
  for (var k = 0u; k < K4; k++) {
    let a{i} = x[xr{i} + k];  //@for i<TM
    let b{j} = load_w4(wr{j} + k * 4u);  //@for j<TN
    acc{i}_{j} = fma(a{i}, b{j}, acc{i}_{j});  //@for i<TM j<TN
  }
  store(m0 + {i}u, n0 + {j}u, acc{i}_{j}.x + acc{i}_{j}.y + acc{i}_{j}.z + acc{i}_{j}.w);  //@for i<TM j<TN
}
