// Convolution and linear layers of the heads, loaded from a checkpoint with their shapes
// checked: torch Conv1d weights [Cout, Cin/G, K], Conv2d (K, 1) weights [Cout, Cin/G, K, 1] (a
// Conv1d along the residues), Linear weights [Cout, Cin] (a Conv1d with K = 1 on one row).
import { WeightsError } from '../errors.js';
import { conv1d, conv1dWeights, type Conv1dActivation } from '../../kernels/conv1d.js';
import { probabilities } from '../../kernels/softmax.js';
import type { Tensor } from '../gpu/tensor.js';
import type { DimSpec, HeadCheckpoint, HeadTensors } from './checkpoint.js';
import type { RunScope } from './prediction.js';

export interface Conv {
  readonly w: Tensor;
  readonly bias?: Tensor;
  readonly cin: number;
  readonly cout: number;
  readonly K: number;
  readonly pad: number;
  readonly groups: number;
}

export interface ConvSpec {
  /** Dim names (or sizes) of the weight's output and input channels (input: per group). */
  cout: DimSpec;
  cin: DimSpec;
  /** Name of the kernel-size dim ('K1', ...), or 1 for a 1×1 / Linear. */
  k: DimSpec;
  /** 'conv2d': [Cout, Cin, K, 1]; 'conv1d': [Cout, Cin, K]; 'linear': [Cout, Cin]. */
  layout: 'conv2d' | 'conv1d' | 'linear';
  bias: boolean;
  groups?: number;
}

/**
 * Loads `<name>.weight` (and `.bias`), checking shapes (or takes `raw`: a slice of them, with its
 * own shape); padding is (K − 1) / 2 (the heads' "same" convolutions). */
export function loadConv(ck: HeadCheckpoint, t: HeadTensors, name: string, spec: ConvSpec, raw?: { w: Float32Array; b?: Float32Array; shape: readonly number[] }): Conv {
  const shape: DimSpec[] = spec.layout === 'linear' ? [spec.cout, spec.cin] : spec.layout === 'conv1d' ? [spec.cout, spec.cin, spec.k] : [spec.cout, spec.cin, spec.k, 1];
  const w = raw?.w ?? ck.take(`${name}.weight`, shape);
  const s = raw?.shape ?? ck.shape(`${name}.weight`);
  const cout = s[0], cinG = s[1], K = spec.layout === 'linear' ? 1 : s[2];
  if (K % 2 !== 1) throw new WeightsError(`${ck.file}: tensor "${name}.weight" has kernel size ${K}; the ${ck.head} head needs an odd one (same padding)`, { file: ck.file, tensor: `${name}.weight` });
  const b = spec.bias ? raw?.b ?? ck.take(`${name}.bias`, [spec.cout]) : undefined;
  const groups = spec.groups ?? 1;
  return {
    w: t.f32(conv1dWeights(w, cout, cinG, K), [K, cinG, cout], `${name}.weight`),
    bias: b && t.f32(b, [cout], `${name}.bias`),
    cin: cinG * groups, cout, K, pad: (K - 1) / 2, groups,
  };
}

/** y [B, L, cout] = act(conv(x)) on rows start .. start + inCount read, start .. start + outCount written. */
export async function applyConv(s: RunScope, c: Conv, x: Tensor, rows: { start: Tensor; inCount: Tensor; outCount: Tensor }, label: string, act: Conv1dActivation = 'none', y?: Tensor, accumulate = false): Promise<Tensor> {
  const [B, L] = x.shape;
  const out = y ?? s.empty([B, L, c.cout], label);
  await conv1d(s.rt, { x, w: c.w, bias: c.bias, y: out, start: rows.start, inCount: rows.inCount, outCount: rows.outCount, padding: c.pad, groups: c.groups, activation: act, accumulate });
  return out;
}

/** Sets `key` (the softmax of `logits` over its classes) and `key.logits` in `out`; returns `out`. */
export async function classOutputs(s: RunScope, out: Map<string, Tensor>, key: string, logits: Tensor): Promise<Map<string, Tensor>> {
  const probs = s.empty(logits.shape, key);
  await probabilities(s.rt, logits, probs);
  return out.set(key, probs).set(`${key}.logits`, logits);
}
