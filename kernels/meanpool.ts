// Masked mean pooling — wrapper for shaders/meanpool.wgsl.
import source from '../shaders/meanpool.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 64;

/** Every WGSL text a meanpool variant can use. */
export const MEANPOOL_SOURCES: readonly string[] = [source];

/** One variant: the workgroup size (one invocation per output element). */
const variant = variants('meanpool', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/** y[b, :] = mean of x[b, starts[b] .. starts[b] + counts[b], :]; x f32 [B, L, D], starts and counts u32 [B], y f32 [B, D]. */
export async function meanpool(rt: Runtime, x: Tensor, starts: Tensor, counts: Tensor, y: Tensor): Promise<void> {
  guardDtype('meanpool', x, ['f32']);
  guardDtype('meanpool', starts, ['u32']);
  guardDtype('meanpool', counts, ['u32']);
  guardDtype('meanpool', y, ['f32']);
  guard('meanpool', x.shape.length === 3, 'x must be [B, L, D]', x);
  const [B, L, D] = x.shape;
  guard('meanpool', starts.numel === B && counts.numel === B && y.numel === B * D, `starts and counts must be [${B}] and y [${B}, ${D}]`, x, starts, counts, y);
  if (B * D === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x);
  rt.dispatch(pipeline, packParams(source, { B, L, D }), [x.buffer, starts.buffer, counts.buffer, y.buffer], grid1d(Math.ceil((B * D) / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
