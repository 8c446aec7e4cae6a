// Weight loads in the stored dtype. Included by every shader that reads weights; the
// including shader binds its weights as `w: array<u32>` (raw 32-bit words, whatever the dtype).
//   W_F32:  one element per word.
//   W_F16:  two elements per word; element i is half (i & 1) of word (i >> 1),
//           little-endian, exactly as in the weights file.
//   W_BF16: the same packing; a bf16 is the high half of an f32, so a shift unpacks it.
// The W_* codes are generated from W_DTYPE_CODE in kernels/template.ts at the placeholder below.
{{W_DTYPES}}
override W_DTYPE: u32;

fn load_w(i: u32) -> f32 {
  if (W_DTYPE == W_F32) {
    return bitcast<f32>(w[i]);
  }
  let word = w[i >> 1u];
  if (W_DTYPE == W_F16) {
    return unpack2x16float(word)[i & 1u];
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u));
}
