// Masked 1-D convolution along a padded batch's rows — wrapper for shaders/conv1d.wgsl.
import source from '../shaders/conv1d.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 64;

/** Every WGSL text a conv1d variant can use. */
export const CONV1D_SOURCES: readonly string[] = [source];

/** Codes shared with the WGSL's `act` parameter. */
export const CONV1D_ACT = { none: 0, relu: 1, tanh: 2, elu: 3 } as const;
export type Conv1dActivation = keyof typeof CONV1D_ACT;

/** Output rows per invocation (the shader's vec4). */
const RB = 4;

const variant = variants('conv1d', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/** torch's Conv1d weight [Cout, Cin/G, K] in the kernel's layout [K, Cin/G, Cout]. */
export function conv1dWeights(w: ArrayLike<number>, Cout: number, cinG: number, K: number): Float32Array {
  const out = new Float32Array(Cout * cinG * K);
  for (let co = 0; co < Cout; co++) for (let ci = 0; ci < cinG; ci++) for (let k = 0; k < K; k++) out[(k * cinG + ci) * Cout + co] = w[(co * cinG + ci) * K + k];
  return out;
}

export interface Conv1dArgs {
  /** [B, L, Cin] f32. */
  x: Tensor;
  /** [K, Cin / groups, Cout] f32: torch's Conv1d weight [Cout, Cin / groups, K] through conv1dWeights. */
  w: Tensor;
  /** [Cout] f32, or none. */
  bias?: Tensor;
  /** [B, L, Cout] f32; read too with `accumulate`. */
  y: Tensor;
  /** [B] u32: each sequence's first row. */
  start: Tensor;
  /** [B] u32: rows of x read from `start` (others are zero). */
  inCount: Tensor;
  /** [B] u32: rows of y computed from `start` (others are written 0). */
  outCount: Tensor;
  /** Zero rows on each side (torch's padding). */
  padding: number;
  groups?: number;
  accumulate?: boolean;
  activation?: Conv1dActivation;
}

/** y = act(acc·y + bias + conv(x, w)) per sequence (see shaders/conv1d.wgsl). */
export async function conv1d(rt: Runtime, a: Conv1dArgs): Promise<void> {
  const { x, w, y } = a;
  for (const t of [x, w, y, ...(a.bias ? [a.bias] : [])]) guardDtype('conv1d', t, ['f32']);
  for (const t of [a.start, a.inCount, a.outCount]) guardDtype('conv1d', t, ['u32']);
  guard('conv1d', x.shape.length === 3 && w.shape.length === 3 && y.shape.length === 3, 'x, y must be [B, L, C] and w [K, Cin/G, Cout]', x, w, y);
  const [B, L, Cin] = x.shape;
  const [K, cinG, Cout] = w.shape;
  const G = a.groups ?? 1;
  guard('conv1d', Number.isInteger(G) && G >= 1 && Cin % G === 0 && Cout % G === 0 && cinG * G === Cin, `groups ${G} must divide Cin=${Cin} and Cout=${Cout}, with w's second dim Cin/G`, x, w);
  guard('conv1d', y.shape[0] === B && y.shape[1] === L && y.shape[2] === Cout, `y must be [${B}, ${L}, ${Cout}]`, x, w, y);
  guard('conv1d', !a.bias || a.bias.numel === Cout, `bias must be [${Cout}]`, w, ...(a.bias ? [a.bias] : []));
  guard('conv1d', a.start.numel === B && a.inCount.numel === B && a.outCount.numel === B, `start, inCount, outCount must be [${B}]`, a.start, a.inCount, a.outCount);
  guard('conv1d', Number.isInteger(a.padding) && a.padding >= 0 && K >= 1, 'padding must be a non-negative integer and K >= 1', w);
  const n = B * Math.ceil(L / RB) * Cout;
  if (n === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x, w);
  const params = packParams(source, {
    B, L, Cin, Cout, K, pad: a.padding, G, has_bias: a.bias ? 1 : 0, acc: a.accumulate ? 1 : 0, act: CONV1D_ACT[a.activation ?? 'none'],
  });
  // Without a bias, any f32 buffer fills the binding (it is not read).
  const bias = a.bias ?? w;
  rt.dispatch(pipeline, params, [x.buffer, w.buffer, bias.buffer, a.start.buffer, a.inCount.buffer, a.outCount.buffer, y.buffer], grid1d(Math.ceil(n / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
