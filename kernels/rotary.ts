// Rotary position embedding (rotate-half), in place — wrapper for shaders/rotary.wgsl.
import source from '../shaders/rotary.wgsl';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { guard, guardDtype } from './guard.js';
import { fill, grid1d, packParams, pipelineFor, variants } from './template.js';

const WG = 256;

/** Every WGSL text a rotary variant can use. */
export const ROTARY_SOURCES: readonly string[] = [source];

/** One variant: the workgroup size (one invocation per rotated pair). */
const variant = variants('rotary', (v: { wg: number }) => ({ code: fill(source, { WG: v.wg }), requires: { workgroupSize: [v.wg] } }));

/** (cos, sin) of l · invFreq[i] for l < L, i < half: [L, half, 2], float64 math rounded to f32 (the table the kernel reads). */
export function rotaryTable(invFreq: ArrayLike<number>, L: number): Float32Array {
  const half = invFreq.length;
  const cs = new Float32Array(L * half * 2);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < half; i++) {
      const angle = l * invFreq[i];
      cs[(l * half + i) * 2] = Math.cos(angle);
      cs[(l * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return cs;
}

/**
 * Rotates x [B, L, H·DK] f32 in place: token (b, l) by position l, head by head. `table`:
 * f32 [L', DK/2, 2] with L' ≥ L, (cos, sin) of l · inv_freq[i] (rotaryTable below).
 */
export async function rotary(rt: Runtime, x: Tensor, table: Tensor, heads: number): Promise<void> {
  guardDtype('rotary', x, ['f32']);
  guardDtype('rotary', table, ['f32']);
  guard('rotary', x.shape.length === 3, 'x must be [B, L, H*DK]', x);
  const [B, L, HD] = x.shape;
  guard('rotary', HD % heads === 0 && (HD / heads) % 2 === 0, `inner dim ${HD} must be heads ${heads} × an even head size`, x);
  const half = HD / heads / 2;
  guard('rotary', table.shape.length === 3 && table.shape[0] >= L && table.shape[1] === half && table.shape[2] === 2, `table must be [≥${L}, ${half}, 2]`, x, table);
  const n = B * L * heads * half;
  if (n === 0) return;
  const pipeline = await pipelineFor(rt, variant({ wg: WG }), x, table);
  rt.dispatch(pipeline, packParams(source, { T: B * L, L, H: heads, half }), [x.buffer, table.buffer], grid1d(Math.ceil(n / WG), rt.limits.maxComputeWorkgroupsPerDimension));
}
