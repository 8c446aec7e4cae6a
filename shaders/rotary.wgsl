// Rotary position embedding, rotate-half convention (ESM-2, GPT-NeoX), in place on q or k:
// for each token t at position l = t % L (positions 0..L-1 of its padded row, counting <cls>),
// each head h and i < DK/2, with x1 = x[t, h, i] and x2 = x[t, h, i + DK/2]:
//   x[t, h, i]        = x1 · cos[l, i] − x2 · sin[l, i]
//   x[t, h, i + DK/2] = x2 · cos[l, i] + x1 · sin[l, i]
// which is x · cat(cos, cos) + cat(−x2, x1) · cat(sin, sin), transformers' apply_rotary_pos_emb.
// cs: [L, DK/2, 2] f32, (cos, sin) of l · inv_freq[i], computed on the host.

struct Params {
  T: u32,     // tokens (B · L)
  L: u32,     // padded sequence length (tokens); the table has L rows
  H: u32,     // heads
  half: u32,  // DK / 2 (elements)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> cs: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * {{WG}}u;
  if (n >= p.T * p.H * p.half) {
    return;
  }
  let i = n % p.half;
  let th = n / p.half;  // t · H + h
  let l = (th / p.H) % p.L;
  let a = th * 2u * p.half + i;
  let x1 = x[a];
  let x2 = x[a + p.half];
  let c = cs[(l * p.half + i) * 2u];
  let s = cs[(l * p.half + i) * 2u + 1u];
  x[a] = x1 * c - x2 * s;
  x[a + p.half] = x2 * c + x1 * s;
}
