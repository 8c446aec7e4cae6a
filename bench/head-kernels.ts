// The prediction heads' conv1d at their shapes: ProtT5-sec's first conv (1024 → 32, K 7, the
// largest of the CNN heads: secstruct, prott5cons, prostt5-3di have the same; SETH 1024 → 28,
// K 5) and its 32 → 8 output conv, on a padded batch. Floor = the larger of FLOPs / the
// arithmetic ceiling and bytes (input, weights, output once) / the copy ceiling. Correctness is
// test/head-kernels.test.ts's; here only time.
import { conv1d, conv1dWeights } from '../kernels/conv1d.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { medianMs } from './family-layers.js';

export async function benchHeadKernels(rt: Runtime, ceil: { gflops: number; gbps: number }, quick: boolean, log: (s: string) => void): Promise<Record<string, number>> {
  const B = quick ? 1 : 2, L = quick ? 128 : 512, reps = quick ? 1 : 3;
  const out: Record<string, number> = {};
  log(`## prediction heads: conv1d at ProtT5-sec's shapes (batch ${B} × ${L} rows)\n`);
  log('| conv | shape | ms | GFLOP/s | floor ms | % of floor |');
  log('| --- | --- | --- | --- | --- | --- |');
  const fill = (n: number, f: number) => new Float32Array(n).map((_, i) => Math.sin(i * f) * 0.05);
  const x = rt.upload(fill(B * L * 1024, 0.37), [B, L, 1024], 'f32', 'x');
  const start = rt.upload(new Uint32Array(B), [B], 'u32', 'start');
  const count = rt.upload(new Uint32Array(B).fill(L), [B], 'u32', 'count');
  const made = [x, start, count];
  let input = x;
  for (const [key, Cin, Cout, K, act] of [['conv1d_1024_32_k7', 1024, 32, 7, 'relu'], ['conv1d_32_8_k7', 32, 8, 7, 'none']] as const) {
    const w = rt.upload(conv1dWeights(fill(Cout * Cin * K, 0.11), Cout, Cin, K), [K, Cin, Cout], 'f32', `${key}.w`);
    const bias = rt.upload(fill(Cout, 0.3), [Cout], 'f32', `${key}.b`);
    const y = rt.empty([B, L, Cout], 'f32', `${key}.y`);
    made.push(w, bias, y);
    const args = { x: input, w, y, bias, start, inCount: count, outCount: count, padding: (K - 1) / 2, activation: act };
    const ms = await medianMs(rt, reps, () => conv1d(rt, args));
    const flops = 2 * B * L * Cout * Cin * K, bytes = 4 * (B * L * (Cin + Cout) + K * Cin * Cout);
    const floor = Math.max(flops / ceil.gflops / 1e6, bytes / ceil.gbps / 1e6);
    log(`| ${Cin} → ${Cout}, K ${K}${act === 'none' ? '' : ` + ${act}`} | ${B} × ${L} × ${Cin} | ${ms.toFixed(2)} | ${(flops / ms / 1e6).toFixed(2)} | ${floor.toFixed(2)} | ${((100 * floor) / ms).toFixed(0)}% |`);
    out[`${key}_ms`] = ms;
    out[`${key}_floor_ms`] = floor;
    input = y;
  }
  for (const t of made) t.release();
  log('');
  return out;
}
