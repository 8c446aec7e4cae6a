// TMbed's SeqNorm + ReLU + mask, in place — wrapper for shaders/seqnorm.wgsl.
import source from '../shaders/seqnorm.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, packParams, pipelineFor, variants, WORKGROUP_SUM_SOURCE, workgroupSumWgsl } from './template.js';

const WG = 64;

/** Every WGSL text a seqnorm variant can use. */
export const SEQNORM_SOURCES: readonly string[] = [source, WORKGROUP_SUM_SOURCE];

const variant = variants('seqnorm', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg, WORKGROUP_SUM: workgroupSumWgsl(v.wg) }), requires: { workgroupSize: [v.wg] } }));

/**
 * x = relu(seqnorm(x) · weight + bias) on each sequence's rows start[b] .. start[b] + count[b]
 * (one mean and variance over those rows and all channels), 0 on its other rows; x f32
 * [B, L, C] (in place), weight and bias f32 [C], start and count u32 [B].
 */
export async function seqnormRelu(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor, start: Tensor, count: Tensor, eps: number): Promise<void> {
  for (const t of [x, weight, bias]) guardDtype('seqnorm', t, ['f32']);
  guardDtype('seqnorm', start, ['u32']);
  guardDtype('seqnorm', count, ['u32']);
  guard('seqnorm', x.shape.length === 3, 'x must be [B, L, C]', x);
  const [B, L, C] = x.shape;
  guard('seqnorm', weight.numel === C && bias.numel === C && start.numel === B && count.numel === B, `weight and bias must be [${C}], start and count [${B}]`, weight, bias, start, count);
  guard('seqnorm', B <= rt.limits.maxComputeWorkgroupsPerDimension, 'too many sequences for one dispatch', x);
  if (B * L * C === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x);
  rt.dispatch(pipeline, packParams(source, { B, L, C, eps }), [x.buffer, weight.buffer, bias.buffer, start.buffer, count.buffer], [B]);
}
