// Attention pool and max pool over each sequence's rows — wrapper for shaders/lengthpool.wgsl.
import source from '../shaders/lengthpool.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 64;

/** Every WGSL text a lengthpool variant can use. */
export const LENGTHPOOL_SOURCES: readonly string[] = [source];

const variant = variants('lengthpool', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/**
 * y[b] = [Σ_r softmax_r(a[b, :, c]) · x[b, r, c] | max_r x[b, r, c]] over rows
 * start[b] .. start[b] + count[b]; x, a f32 [B, L, C], start, count u32 [B], y f32 [B, 2C].
 */
export async function lengthpool(rt: Runtime, x: Tensor, a: Tensor, start: Tensor, count: Tensor, y: Tensor): Promise<void> {
  for (const t of [x, a, y]) guardDtype('lengthpool', t, ['f32']);
  guardDtype('lengthpool', start, ['u32']);
  guardDtype('lengthpool', count, ['u32']);
  guard('lengthpool', x.shape.length === 3 && x.shape.join() === a.shape.join(), 'x and a must be [B, L, C]', x, a);
  const [B, L, C] = x.shape;
  guard('lengthpool', start.numel === B && count.numel === B && y.numel === B * 2 * C, `start and count must be [${B}] and y [${B}, ${2 * C}]`, start, count, y);
  if (B * C === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x);
  rt.dispatch(pipeline, packParams(source, { B, L, C }), [x.buffer, a.buffer, start.buffer, count.buffer, y.buffer], grid1d(Math.ceil((B * C) / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
