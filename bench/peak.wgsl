// Arithmetic ceiling: 16 independent vec4 FMA chains, no memory traffic in the loop.
// 16 chains × 4 lanes × 2 flops × DEPTH × iters per invocation. DEPTH 1 is one fma per
// variable update; on SwiftShader an update costs more than the fma in it, so DEPTH 4
// (four nested fma per update) comes ~1.7× and DEPTH 16 ~2.1× closer to the arithmetic
// units' real ceiling (its matmuls chain eight); llvmpipe peaks at DEPTH 4. The bench runs
// 1, 4 and 16 and takes the highest.
struct Params {
  iters: u32,  // loop trips
  seed: f32,   // keeps the compiler from folding the chains
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = vec4<f32>(p.seed + f32(gid.x));
  var a0 = s; var a1 = s + 1.0; var a2 = s + 2.0; var a3 = s + 3.0;
  var a4 = s + 4.0; var a5 = s + 5.0; var a6 = s + 6.0; var a7 = s + 7.0;
  var b0 = s - 1.0; var b1 = s - 2.0; var b2 = s - 3.0; var b3 = s - 4.0;
  var b4 = s - 5.0; var b5 = s - 6.0; var b6 = s - 7.0; var b7 = s - 8.0;
  let m = vec4<f32>(0.999);
  let c = vec4<f32>(0.001);
  for (var i = 0u; i < p.iters; i++) {
    // One update per chain: {{DEPTH}} dependent fma (filled by bench.ts).
{{UPDATES}}
  }
  let r = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7;
  out[gid.x] = r.x + r.y + r.z + r.w;
}
