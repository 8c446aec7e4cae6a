// Embedding gather — wrapper for shaders/embedding.wgsl.
import source from '../shaders/embedding.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor, TensorDType } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { LOAD_W, fill, grid1d, packParams, pipelineFor, variants, weightDtypeConstant } from './template.js';

const WG = 256;

/** Every WGSL text an embedding variant can use. */
export const EMBEDDING_SOURCES: readonly string[] = [source, LOAD_W];

/** One variant: the table's dtype, the workgroup size (one invocation per output element), add into y or not. */
const variant = variants('embedding', (v: { wDtype: TensorDType; wg: number; accumulate: number }) => ({
  code: fill(source, { LOAD_W, WG: v.wg }),
  constants: { W_DTYPE: weightDtypeConstant(v.wDtype), ACCUMULATE: v.accumulate },
  requires: { workgroupSize: [v.wg] },
}));

/** y[t, :] = table[ids[t], :] (or += with `accumulate`); ids u32 [T], table [vocab, D], y f32 [T, D]. */
export async function embedding(rt: Runtime, ids: Tensor, table: Tensor, y: Tensor, accumulate = false): Promise<void> {
  guardDtype('embedding', ids, ['u32']);
  guardDtype('embedding', table, ['f32', 'f16', 'bf16']);
  guardDtype('embedding', y, ['f32']);
  guard('embedding', table.shape.length === 2, 'table must be [vocab, D]', table);
  const [vocab, D] = table.shape;
  const T = ids.numel;
  guard('embedding', y.numel === T * D, `y must be [${T}, ${D}]`, ids, table, y);
  if (T === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wDtype: table.dtype, wg: WG, accumulate: accumulate ? 1 : 0 }), ids, table);
  rt.dispatch(pipeline, packParams(source, { T, D, vocab }), [ids.buffer, table.buffer, y.buffer], grid1d(Math.ceil((T * D) / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
