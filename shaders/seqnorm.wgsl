// TMbed's SeqNorm, then ReLU and the mask, in place, one workgroup per sequence: over all C
// channels and the rows start[b] ≤ r < start[b] + count[b] together,
//   mean = Σ x / (n·C);  var = Σ (x − mean)² / (n·C)
//   x[b, r, c] = relu((x − mean) · inverseSqrt(var + eps) · weight[c] + bias[c])
// and every other row of the sequence is set to 0. Sums are reduced in f32 through workgroup
// memory (two passes: mean first, then the centred squares).
// x: [B, L, C] f32; weight, bias: [C] f32; start, count: [B] u32.

struct Params {
  B: u32,    // sequences
  L: u32,    // padded rows per sequence
  C: u32,    // channels
  eps: f32,  // added to the variance
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> start: array<u32>;
@group(0) @binding(5) var<storage, read> count: array<u32>;

{{WORKGROUP_SUM}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x;
  let r0 = min(start[b], p.L);
  let r1 = min(r0 + count[b], p.L);
  let base = b * p.L * p.C;
  let lo = r0 * p.C;
  let hi = r1 * p.C;
  let n = f32(hi - lo);
  var s = 0.0;
  for (var j = lo + lid; j < hi; j += {{WG}}u) {
    s += x[base + j];
  }
  let mean = workgroup_sum(lid, s) / n;
  var q = 0.0;
  for (var j = lo + lid; j < hi; j += {{WG}}u) {
    let d = x[base + j] - mean;
    q = fma(d, d, q);
  }
  let inv = inverseSqrt(workgroup_sum(lid, q) / n + p.eps);
  for (var j = lid; j < p.L * p.C; j += {{WG}}u) {
    var v = 0.0;
    if (j >= lo && j < hi) {
      let c = j % p.C;
      v = max((x[base + j] - mean) * inv * weight[c] + bias[c], 0.0);
    }
    x[base + j] = v;
  }
}
