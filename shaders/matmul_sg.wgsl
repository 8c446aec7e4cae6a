// y = x · Wᵀ (+ epilogue), the subgroup-broadcast family for devices that run a workgroup's
// invocations as SIMD lanes (llvmpipe). Lanes run along N: each owns TN columns of y, and all
// lanes of a workgroup share the same TM rows. What llvmpipe (Mesa 25.0, read from its
// GALLIVM_DEBUG=asm output) does with the older families: every load whose address depends on
// a loop variable, storage or workgroup memory alike, is one bounds-checked scalar load per
// lane (a branch each), even where every lane reads the same word; and every variable update
// in a loop is blended with the lane mask. So a row of x read by every lane costs eight loads
// per element; here lane l loads x[m, k0 + l] once and the eight values of a K step of 8 reach
// every lane through subgroupBroadcast (a register shuffle), and each accumulator takes the
// step's eight products in one fma chain (one blend per eight). The weights stay per-lane loads,
// one 16-byte load per lane and step (f16, bf16; two for f32), used by TM rows each.
// Measured on Mesa 25.0 (2 cores of an Intel Xeon, f16 W, 128×4096×1024, 8×4 tile): the loop
// runs at 18 GFLOP/s; without W's loads 31, without x's 24, with neither 43 (the broadcasts,
// blends and spills), against a 60-70 ceiling. A 16-byte load is four 32-bit loads there, each
// with its own bounds check, so W's words cost most, and tm 16 (each word used by 16 rows) is
// the default. What did not pay: x read by every lane at a lane-independent address (llvmpipe
// takes its broadcast path only for addresses built from constants and push constants, never
// from a loop variable or workgroup_id: 2.5× slower); x as vec4 per lane with a K step of 32
// (registers); W from an rgba32uint texture (its fetch is a call per load: no faster); W staged
// in workgroup memory for several subgroup rows (reads there are 4× cheaper, but the barriers and
// staging made it 1.7-2.3× slower); two K steps per iteration; workgroups ordered along M first.
// llvmpipe also lowers fma to a multiply and an add (gallivm's nir options, lower_ffma32) in
// 8-lane vectors, so its arithmetic peak is at most half of an AVX-512 FMA core's (a quarter
// where the core has two FMA units).
// The sg4 family is this shader with LANES 4, for SwiftShader, whose subgroups are 4 lanes: it
// runs a workgroup as 4-lane SIMD too, and the dot families' x loads, at one address for the 4
// lanes, are a 4-lane gather each. Here each row's 8 values of a step take two loads (k0 + l and
// k0 + 4 + l), a fourth of those gathers. Measured on SwiftShader (2 cores of an Intel Xeon,
// 2026-12-03): 128×4096×1024 f16 at 5.8 GFLOP/s with 32×16 per invocation against k8dot 32×16's
// 4.4 (ceiling 12.6 at four nested fma); attention's Q·Kᵀ and P·V at L 512, 32 heads of 128, 400 and 340 ms
// against 460 and 420.
// Needs K % 8 == 0 (the wrapper falls back otherwise), subgroups of LANES lanes or more (lanes
// 0..LANES-1 hold a step's x; checked against the adapter's subgroupMinSize) and WG_X a multiple
// of LANES (so every subgroup has LANES lanes). x binds as f32 elements and W as 16-byte words;
// Params and epilogues from matmul_io.wgsl; lines ending in `//@for` are unrolled by
// kernels/template.ts.
//   {{TM}}, {{TN}}: rows and columns of y per invocation.
//   {{WG_X}}: invocations per workgroup (along N); {{WG_Y}} must be 1.
//   {{LANES}}: lanes that share a step's x, 8 (sg) or 4 (sg4). {{X_HIGH}}: where a row's values
//   k0 + 4..7 are, xv{i} itself (8 lanes) or a second load (4); {{HIGH_LANE}} the lane that holds
//   k0 + 4 there (LANES - 4).
enable subgroups;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;

{{MATMUL_IO}}

{{W_DTYPES}}
override W_DTYPE: u32;

// Weights i..i+7 (i a multiple of 8) in the stored dtype: one 16-byte load for f16 and bf16, two for f32.
fn load_w8(i: u32, lo: ptr<function, vec4<f32>>, hi: ptr<function, vec4<f32>>) {
  if (W_DTYPE == W_F32) {
    *lo = bitcast<vec4<f32>>(w[i >> 2u]);
    *hi = bitcast<vec4<f32>>(w[(i >> 2u) + 1u]);
    return;
  }
  let u = w[i >> 3u];
  if (W_DTYPE == W_F16) {
    *lo = vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y));
    *hi = vec4<f32>(unpack2x16float(u.z), unpack2x16float(u.w));
    return;
  }
  *lo = bitcast<vec4<f32>>(vec4<u32>(u.x << 16u, u.x & 0xffff0000u, u.y << 16u, u.y & 0xffff0000u));
  *hi = bitcast<vec4<f32>>(vec4<u32>(u.z << 16u, u.z & 0xffff0000u, u.w << 16u, u.w & 0xffff0000u));
}

@compute @workgroup_size({{WG_X}}, {{WG_Y}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  set_batch(wid.z);
  let m0 = wid.y * {{TM}}u;
  let n0 = (wid.x * {{WG_X}}u + lid.x) * {{TN}}u;
  let lane = sl % {{LANES}}u;
  // Row starts in elements, clamped so loads stay in bounds; store() drops the clamped duplicates.
  let xr{i} = x_base + min(m0 + {i}u, p.M - 1u) * p.K + lane;  //@for i<TM
  let wr{j} = w_base + min(n0 + {j}u, p.N - 1u) * p.K;  //@for j<TN
  var acc{i}_{j} = 0.0;  //@for i<TM j<TN
  for (var k = 0u; k < p.K; k += 8u) {
    let xv{i} = x[xr{i} + k];  //@for i<TM
    let xh{i} = {{X_HIGH}};  //@for i<TM
    var b{j}: vec4<f32>;  //@for j<TN
    var d{j}: vec4<f32>;  //@for j<TN
    load_w8(wr{j} + k, &b{j}, &d{j});  //@for j<TN
    let a{i}_0 = subgroupBroadcast(xv{i}, 0u);  //@for i<TM
    let a{i}_1 = subgroupBroadcast(xv{i}, 1u);  //@for i<TM
    let a{i}_2 = subgroupBroadcast(xv{i}, 2u);  //@for i<TM
    let a{i}_3 = subgroupBroadcast(xv{i}, 3u);  //@for i<TM
    let a{i}_4 = subgroupBroadcast(xh{i}, {{HIGH_LANE}}u + 0u);  //@for i<TM
    let a{i}_5 = subgroupBroadcast(xh{i}, {{HIGH_LANE}}u + 1u);  //@for i<TM
    let a{i}_6 = subgroupBroadcast(xh{i}, {{HIGH_LANE}}u + 2u);  //@for i<TM
    let a{i}_7 = subgroupBroadcast(xh{i}, {{HIGH_LANE}}u + 3u);  //@for i<TM
    acc{i}_{j} = fma(a{i}_7, d{j}.w, fma(a{i}_6, d{j}.z, fma(a{i}_5, d{j}.y, fma(a{i}_4, d{j}.x, fma(a{i}_3, b{j}.w, fma(a{i}_2, b{j}.z, fma(a{i}_1, b{j}.y, fma(a{i}_0, b{j}.x, acc{i}_{j}))))))));  //@for i<TM j<TN
  }
  store(m0 + {i}u, n0 + {j}u, acc{i}_{j});  //@for i<TM j<TN
}
