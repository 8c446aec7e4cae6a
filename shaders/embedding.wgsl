// Embedding gather: y[t, :] = E[ids[t], :], E: [vocab, D] in its stored dtype; with ACCUMULATE,
// y[t, :] += E[ids[t], :] (BERT's position and token-type embeddings added to the word's).
// An id outside the vocabulary gives a zero row (the tokenizer never produces one).

struct Params {
  T: u32,      // tokens
  D: u32,      // d_model (elements)
  vocab: u32,  // rows of E
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

{{LOAD_W}}

override ACCUMULATE: bool;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * {{WG}}u;
  if (i >= p.T * p.D) {
    return;
  }
  let t = i / p.D;
  let d = i % p.D;
  let id = ids[t];
  var v = 0.0;
  if (id < p.vocab) {
    v = load_w(id * p.D + d);
  }
  if (ACCUMULATE) {
    y[i] = y[i] + v;
  } else {
    y[i] = v;
  }
}
