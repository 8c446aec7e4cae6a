// Weight loads in the stored dtype. Included by every shader that reads weights; the
// including shader binds its weights as `w: array<u32>` (raw 32-bit words, whatever the dtype).
//   W_DTYPE 0 f32:  one element per word.
//   W_DTYPE 1 f16:  two elements per word; element i is half (i & 1) of word (i >> 1),
//                   little-endian, exactly as in the weights file.
//   W_DTYPE 2 bf16: the same packing; a bf16 is the high half of an f32, so a shift unpacks it.
override W_DTYPE: u32 = 0u;

fn load_w(i: u32) -> f32 {
  if (W_DTYPE == 0u) {
    return bitcast<f32>(w[i]);
  }
  let word = w[i >> 1u];
  if (W_DTYPE == 1u) {
    return unpack2x16float(word)[i & 1u];
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u));
}
