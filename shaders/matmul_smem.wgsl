// y = x · Wᵀ (+ epilogue), the shared-memory family, for GPUs with fast workgroup memory. Each
// workgroup computes a BM×BN block of y, walking K in steps of KT: its invocations stage a
// BM×KT tile of x and a BN×KT tile of W (unpacked to f32) in workgroup memory, wait at a
// barrier, and each accumulates TM×TN outputs from the tiles. Any M, N, K: tile elements
// past an edge are staged as 0 (their loads clamped in bounds) and store() drops outputs past
// M or N. An invocation's outputs are strided (rows lid.y + i·WG_Y, columns lid.x + j·WG_X), so
// neighbouring invocations read neighbouring words of the tiles and write neighbouring
// columns of y. Same bindings as matmul.wgsl, Params and epilogues from matmul_io.wgsl; lines ending in `//@for`
// are unrolled by kernels/template.ts.
//   {{TM}}, {{TN}}: rows and columns of y per invocation.
//   {{WG_X}}, {{WG_Y}}: invocations per workgroup along N (columns) and M (rows).
//   {{KT}}: K per staged tile (elements). Workgroup memory: (BM + BN) · KT · 4 bytes.
// On SwiftShader this family loses to the register-only ones (every workgroup-memory access
// with a per-invocation index is a gather there, and barriers switch coroutines); the
// autotuner decides per device.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;

{{MATMUL_IO}}

{{LOAD_W}}

const BM = {{WG_Y}}u * {{TM}}u;    // rows of y per workgroup
const BN = {{WG_X}}u * {{TN}}u;    // columns of y per workgroup
const KT = {{KT}}u;                // K per staged tile (elements)
const WG = {{WG_X}}u * {{WG_Y}}u;  // invocations per workgroup

var<workgroup> xs: array<f32, BM * KT>;  // x[bm + r, k0 + c] at r · KT + c
var<workgroup> ws: array<f32, KT * BN>;  // W[bn + r, k0 + c] at c · BN + r (k-major)

@compute @workgroup_size({{WG_X}}, {{WG_Y}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  set_batch(wid.z);
  let bm = wid.y * BM;
  let bn = wid.x * BN;
  var acc{i}_{j} = 0.0;  //@for i<TM j<TN
  for (var k0 = 0u; k0 < p.K; k0 += KT) {
    // Consecutive invocations stage consecutive k of one row (coalesced global reads).
    for (var e = li; e < BM * KT; e += WG) {
      let m = bm + e / KT;
      let k = k0 + e % KT;
      let v = x[x_base + min(m, p.M - 1u) * p.K + min(k, p.K - 1u)];
      xs[e] = select(0.0, v, m < p.M && k < p.K);
    }
    for (var e = li; e < BN * KT; e += WG) {
      let r = e / KT;
      let c = e % KT;
      let n = bn + r;
      let k = k0 + c;
      let v = load_w(w_base + min(n, p.N - 1u) * p.K + min(k, p.K - 1u));
      ws[c * BN + r] = select(0.0, v, n < p.N && k < p.K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      let a{i} = xs[(lid.y + {i}u * {{WG_Y}}u) * KT + kk];  //@for i<TM
      let b{j} = ws[kk * BN + lid.x + {j}u * {{WG_X}}u];  //@for j<TN
      acc{i}_{j} = fma(a{i}, b{j}, acc{i}_{j});  //@for i<TM j<TN
    }
    // Every invocation is done with the tiles before the next step restages them.
    workgroupBarrier();
  }
  store(bm + lid.y + {i}u * {{WG_Y}}u, bn + lid.x + {j}u * {{WG_X}}u, acc{i}_{j});  //@for i<TM j<TN
}
