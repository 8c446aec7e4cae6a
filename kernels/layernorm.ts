// LayerNorm with mean and bias — wrapper for shaders/layernorm.wgsl.
import source from '../shaders/layernorm.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants, WORKGROUP_SUM_SOURCE, workgroupSumWgsl } from './template.js';

/** Invocations per workgroup (one workgroup per row); a power of two for the tree reduction. */
const WG = 64;

/** Every WGSL text a layernorm variant can use. */
export const LAYERNORM_SOURCES: readonly string[] = [source, WORKGROUP_SUM_SOURCE];

/** One variant: the workgroup size (one workgroup per row, `wg` partial sums in workgroup memory). */
const variant = variants('layernorm', (v: { wg: number }) => ({
  code: fill(source, { WG: v.wg, WORKGROUP_SUM: workgroupSumWgsl(v.wg) }),
  requires: { workgroupSize: [v.wg], workgroupBytes: v.wg * 4 },
}));

/** y = LayerNorm(x) over the last dim: x, y f32 [..., D] (different tensors), weight and bias f32 [D]. */
export async function layernorm(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor, y: Tensor, eps: number): Promise<void> {
  for (const t of [x, weight, bias, y]) guardDtype('layernorm', t, ['f32']);
  const D = weight.numel;
  guard('layernorm', weight.shape.length === 1 && x.shape[x.shape.length - 1] === D, `x's last dim must equal the weight's length ${D}`, x, weight);
  guard('layernorm', bias.shape.length === 1 && bias.numel === D, `the bias must be [${D}]`, weight, bias);
  guard('layernorm', y.numel === x.numel, 'y must have the shape of x', x, y);
  guard('layernorm', x.buffer !== y.buffer, 'x and y must be different tensors', x, y);
  guard('layernorm', eps > 0 && Number.isFinite(eps), `eps must be a positive number, got ${eps}`, x);
  const rows = x.numel / D;
  if (rows === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x, weight);
  rt.dispatch(pipeline, packParams(source, { rows, D, eps }), [x.buffer, weight.buffer, bias.buffer, y.buffer], grid1d(rows, rt.limits.maxComputeWorkgroupsPerDimension));
}
