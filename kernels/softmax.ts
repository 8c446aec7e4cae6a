// Row-wise softmax or sigmoid over the classes — wrapper for shaders/softmax.wgsl.
import source from '../shaders/softmax.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 64;

/** Every WGSL text a softmax variant can use. */
export const SOFTMAX_SOURCES: readonly string[] = [source];

export const PROB_MODE = { softmax: 0, sigmoid: 1 } as const;
export type ProbMode = keyof typeof PROB_MODE;

const variant = variants('softmax', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/**
 * y = acc·y + scale · f(x) over the last axis, f softmax or sigmoid; x and y f32 of one shape
 * [..., C]. `accumulate` with `scale` 1/n averages n models' probabilities.
 */
export async function probabilities(rt: Runtime, x: Tensor, y: Tensor, options: { mode?: ProbMode; accumulate?: boolean; scale?: number } = {}): Promise<void> {
  guardDtype('softmax', x, ['f32']);
  guardDtype('softmax', y, ['f32']);
  guard('softmax', x.shape.length >= 1 && x.shape.join() === y.shape.join(), 'x and y must have one shape [..., C]', x, y);
  const C = x.shape[x.shape.length - 1];
  const R = C === 0 ? 0 : x.numel / C;
  if (R === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x);
  const params = packParams(source, { R, C, mode: PROB_MODE[options.mode ?? 'softmax'], acc: options.accumulate ? 1 : 0, scale: options.scale ?? 1 });
  rt.dispatch(pipeline, params, [x.buffer, y.buffer], grid1d(Math.ceil(R / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
