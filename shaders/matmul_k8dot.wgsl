// y = x · Wᵀ (+ epilogue), the K-by-8 family: matmul_k4dot.wgsl with two vec4 steps per loop
// trip, their eight products chained into one update of each accumulator. On SwiftShader an
// update of a loop variable costs more than the fma in it (a loop of 16 independent vec4 FMA
// chains runs 1.5× faster with four fma per update than with one); eight per update instead
// of four was another 0-10% (32×16 tiles: 5.9-6.1 GFLOP/s at the f16 ProtT5-XL shapes). Needs
// K % 8 == 0 (the wrapper falls back to k4dot otherwise) and offsets that are multiples of 4.
// Same bindings as matmul_k4.wgsl, Params and epilogues from matmul_io.wgsl; lines ending in `//@for` are
// unrolled by kernels/template.ts (see matmul.wgsl).
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
  for (var k = 0u; k < K4; k += 2u) {
    let a{i} = x[xr{i} + k];  //@for i<TM
    let c{i} = x[xr{i} + k + 1u];  //@for i<TM
    let b{j} = load_w4(wr{j} + k * 4u);  //@for j<TN
    let d{j} = load_w4(wr{j} + k * 4u + 4u);  //@for j<TN
    acc{i}_{j} = fma(c{i}.w, d{j}.w, fma(c{i}.z, d{j}.z, fma(c{i}.y, d{j}.y, fma(c{i}.x, d{j}.x, fma(a{i}.w, b{j}.w, fma(a{i}.z, b{j}.z, fma(a{i}.y, b{j}.y, fma(a{i}.x, b{j}.x, acc{i}_{j}))))))));  //@for i<TM j<TN
  }
  store(m0 + {i}u, n0 + {j}u, acc{i}_{j});  //@for i<TM j<TN
}
