// T5 RMS layer norm — wrapper for shaders/rmsnorm.wgsl.
import source from '../shaders/rmsnorm.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor, TensorDType } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { LOAD_W, fill, grid1d, packParams, pipelineFor, variants, weightDtypeConstant, WORKGROUP_SUM_SOURCE, workgroupSumWgsl } from './template.js';

/** Invocations per workgroup (one workgroup per row); a power of two for the tree reduction. */
const WG = 64;

/** Every WGSL text an rmsnorm variant can use. */
export const RMSNORM_SOURCES: readonly string[] = [source, LOAD_W, WORKGROUP_SUM_SOURCE];

/** One variant: the weight dtype and workgroup size (one workgroup per row, `wg` partial sums in workgroup memory). */
const variant = variants('rmsnorm', (v: { wDtype: TensorDType; wg: number }) => ({
  code: fill(source, { LOAD_W, WG: v.wg, WORKGROUP_SUM: workgroupSumWgsl(v.wg) }),
  constants: { W_DTYPE: weightDtypeConstant(v.wDtype) },
  requires: { workgroupSize: [v.wg], workgroupBytes: v.wg * 4 },
}));

export async function rmsnorm(rt: Runtime, x: Tensor, w: Tensor, y: Tensor, eps: number): Promise<void> {
  guardDtype('rmsnorm', x, ['f32']);
  guardDtype('rmsnorm', y, ['f32']);
  guardDtype('rmsnorm', w, ['f32', 'f16', 'bf16']);
  const D = w.numel;
  guard('rmsnorm', w.shape.length === 1 && x.shape[x.shape.length - 1] === D, `x's last dim must equal the weight's length ${D}`, x, w);
  guard('rmsnorm', y.numel === x.numel, 'y must have the shape of x', x, y);
  const rows = x.numel / D;
  if (rows === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wDtype: w.dtype, wg: WG }), x, w);
  rt.dispatch(pipeline, packParams(source, { rows, D, eps }), [x.buffer, w.buffer, y.buffer], grid1d(rows, rt.limits.maxComputeWorkgroupsPerDimension));
}
