// Per-row scale, in place — wrapper for shaders/rowscale.wgsl.
import source from '../shaders/rowscale.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 256;

/** Every WGSL text a rowscale variant can use. */
export const ROWSCALE_SOURCES: readonly string[] = [source];

const variant = variants('rowscale', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/** y [T, D] f32 (any [..., D]) times s [T] f32, row by row, in place. */
export async function rowscale(rt: Runtime, y: Tensor, s: Tensor): Promise<void> {
  guardDtype('rowscale', y, ['f32']);
  guardDtype('rowscale', s, ['f32']);
  const T = s.numel;
  guard('rowscale', T > 0 ? y.numel % T === 0 : y.numel === 0, `y's size must be a multiple of the ${T} row factors`, y, s);
  if (T === 0 || y.numel === 0) return;
  const D = y.numel / T;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), y, s);
  rt.dispatch(pipeline, packParams(source, { T, D }), [s.buffer, y.buffer], grid1d(Math.ceil((T * D) / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
