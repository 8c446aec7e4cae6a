// Pooling over the rows (residues) of each sequence of a padded batch, per channel, masked to
// rows start[b] ≤ r < start[b] + count[b]:
//   attention pool: y[b, c]     = Σ_r softmax_r(a[b, :, c])[r] · x[b, r, c]   (softmax over rows)
//   max pool:       y[b, C + c] = max_r x[b, r, c]
// (light attention's o1 and o2, concatenated). A sequence with no rows gets 0.
// x, a: [B, L, C] f32; start, count: [B] u32; y: [B, 2C] f32.

struct Params {
  B: u32,  // sequences
  L: u32,  // padded rows per sequence
  C: u32,  // channels
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> start: array<u32>;
@group(0) @binding(4) var<storage, read> count: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  if (i >= p.B * p.C) {
    return;
  }
  let b = i / p.C;
  let c = i % p.C;
  let r0 = min(start[b], p.L);
  let r1 = min(r0 + count[b], p.L);
  let o = b * 2u * p.C + c;
  if (r1 <= r0) {
    y[o] = 0.0;
    y[o + p.C] = 0.0;
    return;
  }
  var am = a[(b * p.L + r0) * p.C + c];
  var xm = x[(b * p.L + r0) * p.C + c];
  for (var r = r0 + 1u; r < r1; r++) {
    am = max(am, a[(b * p.L + r) * p.C + c]);
    xm = max(xm, x[(b * p.L + r) * p.C + c]);
  }
  var total = 0.0;
  var s = 0.0;
  for (var r = r0; r < r1; r++) {
    let j = (b * p.L + r) * p.C + c;
    let e = exp(a[j] - am);
    total += e;
    s = fma(e, x[j], s);
  }
  y[o] = s / total;
  y[o + p.C] = xm;
}
