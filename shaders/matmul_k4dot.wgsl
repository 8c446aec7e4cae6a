// y = x · Wᵀ (+ epilogue), the K-by-4 family with scalar accumulators: x read as vec4, W four
// weights per load (as in matmul_k4.wgsl), but each output keeps one f32 accumulator that takes
// the four products of a step as a chain of fma (a dot product), where matmul_k4 keeps a vec4
// and sums it at the end. A quarter of the accumulator state and of the loop-variable updates
// for the same tile, so much larger tiles pay: on SwiftShader (every vector component is a
// register of its own, and an update of a loop variable costs more than an fma) 32×32 outputs
// per invocation ran f16 ProtT5-XL shapes at 5.6-6.4 GFLOP/s (75-95% of bench/peak.wgsl's
// FMA ceiling), where k4's best tile (16×8) ran 2.2-2.7 in the same runs. Needs K % 4 == 0 and
// offsets that are multiples of 4. Same bindings as matmul_k4.wgsl, Params and epilogues from matmul_io.wgsl;
// lines ending in `//@for` are unrolled by kernels/template.ts (see matmul.wgsl).
//   {{TM}}, {{TN}}: rows and columns of y per invocation.
//   {{WG_X}}, {{WG_Y}}: invocations per workgroup along N (columns) and M (rows).

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
  var acc{i}_{j} = 0.0;  //@for i<TM j<TN
  for (var k = 0u; k < K4; k++) {
    let a{i} = x[xr{i} + k];  //@for i<TM
    let b{j} = load_w4(wr{j} + k * 4u);  //@for j<TN
    acc{i}_{j} = fma(a{i}.w, b{j}.w, fma(a{i}.z, b{j}.z, fma(a{i}.y, b{j}.y, fma(a{i}.x, b{j}.x, acc{i}_{j}))));  //@for i<TM j<TN
  }
  store(m0 + {i}u, n0 + {j}u, acc{i}_{j});  //@for i<TM j<TN
}
