// The workgroup's sum of one f32 per invocation, by a tree through workgroup memory. Included
// (at the WORKGROUP_SUM placeholder) by the row-reducing shaders: layernorm, rmsnorm, seqnorm. WG, the
// workgroup size, must be a power of two; every invocation calls it, in uniform control flow.
var<workgroup> partial: array<f32, {{WG}}>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = {{WG}}u / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
