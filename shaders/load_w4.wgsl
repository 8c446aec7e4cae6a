// Four consecutive weights as a vec4, in the stored dtype. For kernels that walk K four at a
// time; the including shader binds its weights as `w: array<vec2<u32>>` (8-byte words).
//   W_F32:  elements i..i+3 are words i..i+3, two vec2 loads.
//   W_F16 / W_BF16: elements i..i+3 are the four halves of one vec2 (little-endian).
// `i` is an element index and must be a multiple of 4. The W_* codes are generated from
// W_DTYPE_CODE in kernels/template.ts at the placeholder below.
{{W_DTYPES}}
override W_DTYPE: u32;

fn load_w4(i: u32) -> vec4<f32> {
  if (W_DTYPE == W_F32) {
    let a = w[i >> 1u];
    let b = w[(i >> 1u) + 1u];
    return bitcast<vec4<f32>>(vec4<u32>(a, b));
  }
  let u = w[i >> 2u];
  if (W_DTYPE == W_F16) {
    return vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y));
  }
  return bitcast<vec4<f32>>(vec4<u32>(u.x << 16u, u.x & 0xffff0000u, u.y << 16u, u.y & 0xffff0000u));
}
