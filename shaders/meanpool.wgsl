// Masked mean pooling: y[b, d] = mean over starts[b] <= i < starts[b] + counts[b] of x[b, i, d].
// x: [B, L, D] f32 (padded batch); starts, counts: [B] the rows to average (a sequence's residues,
// special tokens excluded: ProtT5's </s> after them, BERT's [CLS] before).

struct Params {
  B: u32,  // sequences
  L: u32,  // padded length (rows per sequence)
  D: u32,  // row length (elements)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> starts: array<u32>;
@group(0) @binding(3) var<storage, read> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  if (i >= p.B * p.D) {
    return;
  }
  let b = i / p.D;
  let d = i % p.D;
  let r0 = min(starts[b], p.L);
  let n = min(counts[b], p.L - r0);
  var s = 0.0;
  for (var r = r0; r < r0 + n; r++) {
    s += x[(b * p.L + r) * p.D + d];
  }
  y[i] = select(0.0, s / f32(n), n > 0u);
}
